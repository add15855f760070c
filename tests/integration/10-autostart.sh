#!/bin/bash
# Boot-time start and stop for real: the shipped init script runs
# vs-start --autostart and vs-stop --all over guests with orders, depends and
# timeouts; readiness through the notify socket of a systemd guest; the
# systemd units pass systemd-analyze verify, and start and stop guests under
# a real systemd; bash completion. Privileged and unprivileged guests side by
# side: A, C and the failing ones privileged; B (which depends on A), D (killed
# after its stop_timeout) and the systemd guest unprivileged.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

initd=$VS_TOP_BUILDDIR/etc/init.d/vservers
export VS_SBINDIR=$VS_TOP_BUILDDIR/sbin # where the init script finds vs-*
test_subids # the unprivileged guests' ranges: this test's own subuid and subgid

# Not in $(...): guest() must record the names in this shell for the cleanup.
a=v2as-a b=v2as-b c=v2as-c d=v2as-d e=v2as-e f=v2as-f s=v2as-sd
for g in $a $b $c $d $e $f $s; do guest $g >/dev/null; done
# Whatever a failure leaves running goes the way the host's shutdown would.
on_exit "$VS_SBINDIR/vs-stop --all"

state() { sed -n "s/^$2=//p" "$VS_RUNDIR/$1/state"; }
mtime() { stat -c %.9Y "$1"; }
halted_at() { sed -n 's/.*halting on signal [0-9]* at \([0-9.]*\).*/\1/p' "$VS_LOGDIR/$1.console" | tail -n 1; }
before() { awk -v x="$1" -v y="$2" 'BEGIN { exit !(x < y) }'; } # before X Y: X < Y, as numbers
not_after() { awk -v x="$1" -v y="$2" 'BEGIN { exit !(x <= y) }'; }
running() { vs-status -q "$1"; }
conf_set() { # conf_set GUEST KEY VALUE: a [guest] key, replaced or added
        sed -i "/^$2 *=/d" "$VS_CONFDIR/$1.conf"
        sed -i "s/^\[guest\]\$/[guest]\n$2 = $3/" "$VS_CONFDIR/$1.conf"
}

check "A: autostart, order 10" -- build_minimal $a --privileged --set guest.autostart=yes --set guest.order=10 \
        --set guest.stop_timeout=10s
check "B: unprivileged, autostart, order 20, depends on A" -- build_minimal $b --unprivileged --set guest.autostart=yes --set guest.order=20 \
        --set guest.depends=$a --set guest.stop_timeout=10s
check "C: not autostart, order 5" -- build_minimal $c --privileged --set guest.order=5
like "$(vs-list)" "^$b +stopped .* yes +20 +auto$" "vs-list shows AUTOSTART, ORDER and USERNS"
like "$(vs-list)" "^$c +stopped .* no +5 +no$" "and for a guest without autostart"
like "$(vs-list --json)" "\"name\":\"$a\".*\"autostart\":true,\"order\":10" "vs-list --json too"

out=$("$initd" status 2>&1)
is $? 3 "init script status: 3 while autostart guests are down"
like "$out" "^$a +stopped" "status lists the guests"

# ---- start: A, then B; C stays down -----------------------------------------
out=$("$initd" start 2>&1)
is $? 0 "init script start succeeds"
printf '%s\n' "$out" | sed 's/^/#   /;$a\'
running $a && running $b
ok $? "A and B run"
running $c
ok $((!$?)) "C, not autostart, stays stopped"
[ ! -e "$VS_RUNDIR/$c" ]
ok $? "C has no run state"
up_a=$(printf '%s\n' "$out" | grep -n "^$a is up" | cut -d: -f1)
start_b=$(printf '%s\n' "$out" | grep -n "^Starting $b " | cut -d: -f1)
[ -n "$up_a" ] && [ -n "$start_b" ] && [ "$up_a" -lt "$start_b" ]
ok $? "A was reported up before B's start began (lines $up_a, $start_b)"
# B's run state is written while B's root is being set up, after B's start
# began; file times come from the kernel's coarse clock (one scheduler
# tick), so the two may share a tick: not later is what they can show.
not_after "$(mtime "$VS_RUNDIR/$a/ready")" "$(mtime "$VS_RUNDIR/$b/state")"
ok $? "A was ready no later than B's start wrote its state (ready and state file times)"
[ "$(state $a init_starttime)" -le "$(state $b init_starttime)" ] && [ "$(state $a started)" -le "$(state $b started)" ]
ok $? "A's init started no later than B's (started=, /proc start times)"
is "$(sed -n 's/^how=//p' "$VS_RUNDIR/$a/ready")" exec "the test init counts as up when it runs (it cannot notify)"
like "$out" "Started 2 of 2 guests" "the summary counts both"

out=$("$initd" status 2>&1)
is $? 0 "status: 0 when every autostart guest runs"
like "$out" "^$a +running +[0-9]+ .* yes +10 +no$" "status reports A running"
like "$out" "^$b +running +[0-9]+ .* yes +20 +[0-9]+:65536$" "status reports B running, with its range"
like "$out" "^$c +stopped .* no +5 +no$" "status reports C stopped"

out=$("$initd" start 2>&1)
is $? 0 "a second start succeeds"
like "$out" "$a was already running" "and leaves the running guests alone"

# ---- stop: B, then A, both halted by their init -----------------------------
ainit=$(state $a init_pid) binit=$(state $b init_pid)
t0=$(date +%s.%N)
out=$("$initd" stop 2>&1)
rc=$?
took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
is $rc 0 "init script stop succeeds"
printf '%s\n' "$out" | sed 's/^/#   /;$a\'
before "$took" 10
ok $? "both stopped within their stop_timeout of 10 s ($took s)"
grep -q "halting on signal" "$VS_LOGDIR/$a.console" && grep -q "halting on signal" "$VS_LOGDIR/$b.console"
ok $? "both inits received their halt signal (console logs)"
unlike "$out" "killed" "nothing had to be killed"
gone $ainit && gone $binit
ok $? "their inits are gone"
# The inits' own monotonic stamps: file times are too coarse for stops this quick.
before "$(halted_at $b)" "$(halted_at $a)"
ok $? "B halted before A (reverse order: $(halted_at $b) < $(halted_at $a))"
for g in $a $b $c; do check_no_leftovers $g; done

# ---- an init that ignores its halt signal -----------------------------------
check "D: unprivileged, autostart, order 10, ignores its halt signal, stop_timeout 2s" -- \
        build_minimal $d --unprivileged --set guest.init=/sbin/init-ignore-halt --set guest.autostart=yes --set guest.order=10 \
        --set guest.stop_timeout=2s
check "start A, B and D" -- "$initd" start
running $d
ok $? "D runs"
dinit=$(state $d init_pid)
t0=$(date +%s.%N)
out=$("$initd" stop 2>&1)
rc=$?
took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
printf '%s\n' "$out" | sed 's/^/#   /;$a\'
is $rc 0 "stop succeeds: every guest is down"
like "$out" "$d: did not halt within 2 s \(stop_timeout\); killed" "D is killed after its stop_timeout"
like "$out" "killed after their stop_timeout: $d$" "the summary names it"
awk -v t="$took" 'BEGIN { exit !(t >= 2 && t < 10) }'
ok $? "the stop waited D's 2 s, not A's or B's 10 s ($took s)"
gone $dinit
ok $? "D's init is gone"
grep -q "halting on signal" "$VS_LOGDIR/$a.console" && grep -q "halting on signal" "$VS_LOGDIR/$b.console"
ok $? "A and B still halted cleanly"
for g in $a $b $d; do check_no_leftovers $g; done
conf_set $d autostart no

# ---- failures: the others go on, the summary names them ---------------------
check "E: autostart, an init that does not exist" -- build_minimal $e --privileged --set guest.autostart=yes \
        --set guest.order=10 --set guest.init=/sbin/nosuch
check "F: autostart, depends on E" -- build_minimal $f --privileged --set guest.autostart=yes --set guest.order=10 --set guest.depends=$e
out=$("$initd" start 2>&1)
is $? 1 "start exits 1 when a guest failed"
printf '%s\n' "$out" | sed 's/^/#   /;$a\'
running $a && running $b
ok $? "A and B started anyway"
like "$out" "failed: .*$e \(.*nosuch" "the summary names E and why"
like "$out" "$f \(not started: \"$e\" failed\)" "F, which needs E, is skipped and named"
running $f
ok $((!$?)) "F did not start"
check "stop" -- "$initd" stop
check "E without autostart" -- vs-destroy $e
check "F without autostart" -- vs-destroy $f

# A guest whose init is systemd by name but never reports READY=1.
check "G: init named systemd that never notifies, start_timeout 2s" -- build_minimal $e --privileged \
        --set guest.autostart=yes --set guest.order=10 --set guest.init=/lib/systemd/systemd --set guest.start_timeout=2s
mkdir -p "$VS_GUESTDIR/$e/rootfs/lib/systemd" && cp "$VS_TEST_INIT" "$VS_GUESTDIR/$e/rootfs/lib/systemd/systemd"
t0=$(date +%s)
out=$(vs-start --autostart 2>&1)
rc=$?
took=$(($(date +%s) - t0))
is $rc 1 "vs-start --autostart fails when a guest is not ready in time"
like "$out" "$e: not ready after 2 s \(start_timeout\); left running" "it names the guest and the timeout"
[ $took -ge 2 ] && [ $took -lt 10 ]
ok $? "it waited the start_timeout ($took s)"
running $e && [ ! -e "$VS_RUNDIR/$e/ready" ]
ok $? "the late guest runs, without a ready marker"
running $b
ok $? "the others are up"
check "vs-stop --all" -- vs-stop --all
check_no_leftovers $e
check "G goes" -- vs-destroy $e

# ---- refused before anything starts -----------------------------------------
conf_set $a depends $b
out=$("$initd" start 2>&1)
is $? 1 "a dependency cycle: start fails"
like "$out" "Dependency cycle: \"($a|$b)\" -> \"($a|$b)\" -> \"($a|$b)\"" "and names both guests"
is "$(ls "$VS_RUNDIR" | grep -c '^v2as-')" 0 "nothing was started"
conf_set $a depends v2as-nosuch
out=$(vs-start --autostart 2>&1)
is $? 1 "a dependency on a missing guest: start fails"
like "$out" "Guest \"$a\" depends on \"v2as-nosuch\", which does not exist" "and names both"
running $a || running $b
ok $((! $?)) "nothing was started"
sed -i '/^depends *=/d' "$VS_CONFDIR/$a.conf"
out=$(vs-start --autostart $a 2>&1)
is $? 2 "vs-start --autostart takes no guest name"
out=$(vs-stop --all --timeout 3 2>&1)
is $? 2 "vs-stop --all takes no --timeout: each guest has its stop_timeout"
like "$(vs-start --autostart --dry-run | tr '\n' ' ')" "^level 0 +$a +order 10 +level 1 +$b +order 20 $" \
        "--dry-run prints the levels"

# ---- the shipped units ----------------------------------------------------------
# As installed, with the binaries of this build: where the units look for them.
sbindir=$(sed -n 's|^ExecStart=\(.*\)/vs-start .*|\1|p' "$VS_TOP_BUILDDIR/etc/systemd/vservers.service")
like "$sbindir" "^/" "vservers.service runs vs-start by an absolute path"
if command -v systemd-analyze >/dev/null; then
        mkdir -p "$VST_ROOT/units"
        for u in vservers.service vserver@.service; do
                sed "s|$sbindir/|$VS_SBINDIR/|g" "$VS_TOP_BUILDDIR/etc/systemd/$u" >"$VST_ROOT/units/$u"
        done
        cp "$VST_ROOT/units/vserver@.service" "$VST_ROOT/units/vserver@web1.service"
        for u in vservers.service vserver@.service vserver@web1.service; do
                # verify loads the host's units too: what it says of those
                # (the v2 lane VM's own unit, say) is not about ours.
                out=$(systemd-analyze verify --man=no "$VST_ROOT/units/$u" 2>&1)
                rc=$?
                out=$(echo "$out" | grep -v -E "^/(etc|run|lib|usr/lib)/systemd/")
                is "$rc:$out" "0:" "systemd-analyze verify accepts $u"
        done
        grep -q "After=network-online.target" "$VS_TOP_BUILDDIR/etc/systemd/vservers.service" &&
                grep -q "Wants=network-online.target" "$VS_TOP_BUILDDIR/etc/systemd/vserver@.service"
        ok $? "both units come after network-online.target"
else
        skip "systemd-analyze verify accepts the units" "systemd-analyze is not installed"
fi
unlike "$(cat "$VS_TOP_BUILDDIR"/etc/systemd/*.service "$initd" "$VS_TOP_BUILDDIR"/etc/bash-completion/vs-start)" \
        "@[a-z]+@" "no placeholder is left in the generated files"
like "$(sed -n '/BEGIN INIT INFO/,/END INIT INFO/p' "$initd")" "Required-Start: +\\\$network \\\$remote_fs" \
        "the init script starts after the network and remote file systems"

# ---- bash completion ------------------------------------------------------------
complete_words() { # complete_words WORD...: what TAB offers for the last word
        (
                . "$VS_TOP_BUILDDIR/etc/bash-completion/${1##*/}"
                COMP_WORDS=("$@")
                COMP_CWORD=$(($# - 1))
                _vserver
                [ ${#COMPREPLY[@]} = 0 ] || printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '
        )
}
is "$(complete_words vs-start v2as-)" "$a $b $c $d " "vs-start NAME completes guest names"
is "$(complete_words vs-stop --a)" "--all " "vs-stop --a completes --all"
like "$(complete_words vs-start --)" "--autostart .*--dry-run .*--foreground" "vs-start options come from its --help"
is "$(complete_words vs-build x --template min)" "minimal " "vs-build --template completes template names"
is "$(complete_words vs-build x --init s)" "systemd sysvinit " "vs-build --init offers the inits"
is "$(complete_words vs-stop --all "")" "" "no guest name after --all"
is "$(complete_words vs-enter $a "")" "" "one guest name only"
like "$(complete_words vs-limit $a me)" "memory.rss=" "vs-limit completes its keys"
is "$(ls "$VS_SBINDIR" | grep -E '^vs-[a-z]+$' | sort | tr '\n' ' ')" \
        "$(sed -n 's/^complete -F _vserver //p' "$VS_TOP_BUILDDIR/etc/bash-completion/vs-start" | tr ' ' '\n' | sort | tr '\n' ' ')" \
        "completion covers every vs-* command"

# ---- a systemd guest reports READY=1 through the notify socket --------------------
for g in $a $b $c $d; do vs-destroy --force $g >/dev/null 2>&1; done
check "an unprivileged bookworm systemd guest with autostart" -- build_debian $s --unprivileged \
        --set guest.autostart=yes
t0=$(date +%s.%N)
out=$(vs-start --autostart 2>&1)
is $? 0 "vs-start --autostart brings it up"
printf '%s\n' "$out" | sed 's/^/#   /;$a\'
is "$(vs-enter $s -- systemctl is-system-running)" running "when vs-start --autostart returns, systemd has finished booting"
is "$(sed -n 's/^how=//p' "$VS_RUNDIR/$s/ready")" notify "the ready marker says READY=1 came through the notify socket"
sinit=$(state $s init_pid)
like "$(tr '\0' '\n' <"/proc/$sinit/environ")" "^NOTIFY_SOCKET=/run/host/notify$" "init's environment names the socket"
like "$(vs-enter $s -- findmnt -n -o TARGET /run/host/notify)" "^/run/host/notify$" "the socket is bound at /run/host/notify"
check "stop it" -- vs-stop $s
check_no_leftovers $s

# vserver@.service: vs-start --foreground as a Type=notify service passes
# READY=1 on to its manager only once the guest has booted.
"$VS_TOP_BUILDDIR/tests/helpers/vs-notify-recv" "$VST_ROOT/manager.sock" 120 >"$VST_ROOT/manager.out" 2>&1 &
recv=$!
on_exit "kill $recv"
wait_for 5 test -S "$VST_ROOT/manager.sock"
NOTIFY_SOCKET=$VST_ROOT/manager.sock vs-start --foreground $s </dev/null >/dev/null 2>&1 &
fg=$!
on_exit "kill $fg"
wait $recv
is $? 0 "the manager gets READY=1 from vs-start --foreground"
is "$(vs-enter $s -- systemctl is-system-running)" running "after the guest's boot finished"
check "vs-stop (ExecStop)" -- vs-stop $s
wait $fg
is $? 0 "the supervisor (the unit's main process) exits 0 after the clean halt"
check_no_leftovers $s

# ---- the units under a real systemd -----------------------------------------------
# A systemd manager runs the shipped units: a user manager of root's (no need
# for systemd as PID 1 or a reboot), in cgroups and a mount namespace of its
# own, with the units as installed but pointing at this build.
sdu=$VST_ROOT/sdu
sdu_cg=()
mark_delegated() { # mark_delegated DIR: trusted.delegate=1 (setfattr, or perl's setxattr(2) without it)
        # 188: setxattr(2) on x86_64, the v2 lane VM's machine, which has perl-base but no setfattr.
        if command -v setfattr >/dev/null; then
                setfattr -n trusted.delegate -v 1 "$1"
        else
                perl -e 'my ($p, $n, $v) = ($ARGV[0], "trusted.delegate", "1"); syscall(188, $p, $n, $v, 1, 0) == 0 or die "setxattr: $!\n"' "$1"
        fi
}
start_manager() {
        local top
        mkdir -p "$sdu/run" "$sdu/conf/systemd/user/vserver@.service.d" "$sdu/conf/systemd/user/vservers.service.d"
        chmod 700 "$sdu/run"
        for u in vservers.service vserver@.service; do
                sed "s|$sbindir/|$VS_SBINDIR/|g" "$VS_TOP_BUILDDIR/etc/systemd/$u" >"$sdu/conf/systemd/user/$u"
                printf '[Service]\nEnvironment=VS_CONFDIR=%s VS_GUESTDIR=%s VS_LOGDIR=%s VS_RUNDIR=%s VS_SUBUID=%s VS_SUBGID=%s\n' \
                        "$VS_CONFDIR" "$VS_GUESTDIR" "$VS_LOGDIR" "$VS_RUNDIR" "$VS_SUBUID" "$VS_SUBGID" >"$sdu/conf/systemd/user/$u.d/env.conf"
        done
        # Its own group in the hierarchies systemd tracks units in.
        for top in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified /sys/fs/cgroup; do
                [ -e "$top/cgroup.procs" ] || continue
                [ "$top" = /sys/fs/cgroup ] && [ ${#sdu_cg[@]} -gt 0 ] && break
                mkdir -p "$top/vst-sdu-$$" && sdu_cg+=("$top/vst-sdu-$$") || return 1
                # A real user manager runs in user@UID.service, which has
                # Delegate=yes: its group carries systemd's delegation mark,
                # and vs-start under it finds the mark above its unit's
                # group (systemd's user manager marks none of its own units).
                # Ours stands in for that group, so it carries the mark too,
                # as the system manager would set it.
                if [ "$(stat -f -c %T "$top")" = cgroup2fs ]; then
                        mark_delegated "$top/vst-sdu-$$" || return 1
                fi
        done
        # A user manager refuses to run unless /run/systemd/system says the
        # host booted with systemd: in its mount namespace, it does.
        unshare -m --propagation private bash -c '
                for cg in '"${sdu_cg[*]}"'; do echo $$ >"$cg/cgroup.procs" || exit 1; done
                if [ ! -d /run/systemd/system ]; then
                        mkdir -p /run/systemd && mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/system || exit 1
                fi
                exec env XDG_RUNTIME_DIR='"$sdu/run"' XDG_CONFIG_HOME='"$sdu/conf"' /lib/systemd/systemd --user' \
                >"$sdu/manager.log" 2>&1 &
        sdu_pid=$!
        on_exit "stop_manager"
        wait_for 10 test -S "$sdu/run/systemd/private" && wait_for 10 sc is-system-running
}
unit_log() { sc status --no-pager -n 20 "$1" 2>&1 | sed 's/^/#   /;$a\'; } # why a unit failed
sc() { nsenter -t "$sdu_pid" -m env XDG_RUNTIME_DIR="$sdu/run" systemctl --user "$@"; }
stop_manager() { # stops its units (vs-stop), then removes its groups
        kill -TERM "$sdu_pid"
        wait "$sdu_pid"
        for cg in "${sdu_cg[@]}"; do find "$cg" -depth -type d -exec rmdir {} \; ; done
}
# Only a missing tool is a reason to skip; a manager that is there but does
# not come up is a failure.
sdu_missing=""
[ -x /lib/systemd/systemd ] || sdu_missing+=" /lib/systemd/systemd"
for t in systemctl nsenter unshare; do command -v $t >/dev/null || sdu_missing+=" $t"; done
if [ -n "$sdu_missing" ]; then
        skip "the units under a real systemd" "no systemd user manager to run the units with (missing:$sdu_missing)"
elif ! start_manager; then
        ok 1 "a systemd user manager runs the units"
        tail -20 "$sdu/manager.log" 2>/dev/null | sed 's/^/#   manager: /;$a\'
else
        ok 0 "a systemd user manager runs the units"
        sc daemon-reload
        check "systemctl start vserver@$s" -- sc start "vserver@$s.service" || unit_log "vserver@$s.service"
        is "$(vs-enter $s -- systemctl is-system-running)" running "it returns once the guest's systemd has booted (Type=notify)"
        is "$(sc show -p MainPID --value "vserver@$s.service")" "$(state $s supervisor_pid)" \
                "the unit's main process is the guest's supervisor"
        like "$(sc show -p ControlGroup --value "vserver@$s.service")" "/vserver@$s.service$" "the unit has its cgroup"
        check "systemctl stop vserver@$s" -- sc stop "vserver@$s.service"
        like "$(tail -5 "$VS_LOGDIR/$s.console")" "Halting system|Powering off|Reached target.*(Halt|Power)" \
                "ExecStop halted the guest cleanly"
        is "$(sc is-active "vserver@$s.service")" inactive "the unit is inactive, not failed"
        check_no_leftovers $s

        check "C: autostart again, order 5" -- build_minimal $c --privileged --set guest.autostart=yes --set guest.order=5
        check "systemctl start vservers.service" -- sc start vservers.service || unit_log vservers.service
        running $c && running $s
        ok $? "both autostart guests run"
        is "$(vs-enter $s -- systemctl is-system-running)" running "and the systemd guest has booted"
        is "$(sc is-active vservers.service)" active "vservers.service stays active once started"
        check "systemctl stop vservers.service" -- sc stop vservers.service
        running $c || running $s
        ok $((!$?)) "vs-stop --all stopped both"
        grep -q "halting on signal" "$VS_LOGDIR/$c.console"
        ok $? "C halted on its signal, not killed"
        is "$(sc is-active vservers.service)" inactive "vservers.service is inactive"
        check_no_leftovers $c
        check_no_leftovers $s
fi
done_testing
