#!/bin/bash
# vs-migrate between two real hosts with their own kernels and vserver
# state: this one and the cgroup v2 lane's VM in its host mode
# (tests/vm/vm-host: pure cgroup v2, reached by ssh on a loopback port).
# A booted Debian guest on a bridge, with limits and a service appending a
# counter every 0.2 s, moves to the VM while files are written into it
# during the copy: there it runs with every file written before the freeze,
# its service, host name, address, MAC and limits, answers ping over the
# VM's bridge, and nothing of it is left here. Then back, from the VM to an
# sshd of this test on 127.0.0.1 (10.0.2.2 seen from the VM). A minimal
# guest's migration killed (its process group, SIGKILL) at each step leaves
# it running here (startable after "stopping here"), and the next attempt
# succeeds. Refusals (name taken, address in use, no vserver there) exit 1
# with the reason and change nothing. SKIPs when the VM cannot boot here.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

vmh=$VS_TOP_SRCDIR/tests/vm/vm-host
vmdir=$VST_ROOT/vm
R=$vmdir/ssh
br=vmh68
net=10.234.68
t_start=$SECONDS

command -v vs-migrate >/dev/null
ok $? "vs-migrate is built in this tree"
[ $tap_failed = 0 ] || done_testing
for t in rsync ssh ssh-keygen python3; do
        command -v $t >/dev/null || { echo "1..0 # SKIP no $t on the host (tests/install-deps installs it)"; exit 77; }
done
[ -x /usr/sbin/sshd ] || { echo "1..0 # SKIP no OpenSSH server on the host (tests/install-deps installs openssh-server)"; exit 77; }

# rvm COMMAND: a shell command line, as root in the VM.
rvm() { timeout 600 "$R" vm "$@"; }
jget() { # jget KEY: a field of the JSON object on stdin (JSON for non-strings)
        python3 -c '
import json, sys
v = json.load(sys.stdin).get(sys.argv[1])
print(v if isinstance(v, str) else json.dumps(v))' "$1"
}
# The limits of a config on stdin: its [cpu] and [memory] keys.
limits() { awk '/^\[/ {s = $0; next} (s == "[cpu]" || s == "[memory]") && NF {print s, $0}'; }
mig_json() { tail -n 1 "$1"; } # vs-migrate --json: one object, at the end

# A vs-migrate this test kills leaves its empty ssh control directory in
# /tmp (the next run removes it): the ones this test made go at its end.
ls -d /tmp/vs-migrate.?????? 2>/dev/null | sort >"$VST_ROOT/ctl-before"
on_exit "ls -d /tmp/vs-migrate.?????? 2>/dev/null | sort | comm -13 '$VST_ROOT/ctl-before' - | xargs -r rmdir"

# ---- the second host -------------------------------------------------------
on_exit "ip link del $br"
cat >"$VS_CONFDIR/defaults.conf" <<EOC
[net]
bridge = $br
address = $net.1/24
pool = $net.0/24
EOC
# vm-host down first: the VM's guests go with its throwaway disk.
on_exit "'$vmh' down '$vmdir'"
t=$SECONDS
"$vmh" up "$vmdir" --bridge $br --bridge-addr $net.1/24 >"$VST_ROOT/vm-up.log" 2>&1
rc=$?
if [ $rc = 77 ]; then
        echo "1..0 # SKIP the VM (tests/vm/vm-host) cannot boot here: $(tail -n 1 "$VST_ROOT/vm-up.log")"
        exit 77
fi
ok $rc "vm-host up: the VM boots and root logs in by ssh"
[ $rc = 0 ] || { sed 's/^/#   /;$a\' "$VST_ROOT/vm-up.log" | tail -30; done_testing; }
diag "VM up in $((SECONDS - t)) s ($(cat "$vmdir/accel"), boot to ssh $(cat "$vmdir/boot_s") s)"
is "$(rvm 'stat -f -c %T /sys/fs/cgroup')" cgroup2fs "the VM is a pure cgroup v2 host"
check "the VM runs vserver's commands by their names (vs-list)" -- rvm vs-list
# The VM's guests take the same bridge and pool as here.
check "rsync -e works with the VM's remote shell" -- rsync -e "$R" "$VS_CONFDIR/defaults.conf" vm:/etc/vservers/defaults.conf
like "$(rvm "ip -4 -o addr show $br")" "inet $net\.1/24" "the VM has the bridge $br with $net.1/24"

# The way back: an sshd of this test on 127.0.0.1, which the VM reaches as
# 10.0.2.2; its commands run this tree's vs-migrate with this test's
# directories (the wrapper below).
k=$VST_ROOT/back
test_sshd "$k"
ok $? "the test's sshd on 127.0.0.1 starts"
port=$test_sshd_port
here=$VST_ROOT/vs-migrate-here
{
        echo '#!/bin/sh'
        for v in ${!VS_@}; do printf 'export %s=%q\n' "$v" "${!v}"; done
        printf 'export PATH=%q\n' "$VS_TOP_BUILDDIR/sbin:$PATH"
        printf 'exec %q "$@"\n' "$VS_TOP_BUILDDIR/sbin/vs-migrate"
} >"$here"
chmod 755 "$here"
rvm "mkdir -p -m 700 /root/back && cat >/root/back/id && chmod 600 /root/back/id" <"$k/id"
rvm "cat >/root/back/config" <<EOC
Host 10.0.2.2
        Port $port
        User root
        IdentityFile /root/back/id
        IdentitiesOnly yes
        StrictHostKeyChecking no
        UserKnownHostsFile /dev/null
        BatchMode yes
        LogLevel ERROR
EOC
check "the VM logs in here by ssh (10.0.2.2:$port)" -- rvm "ssh -F /root/back/config 10.0.2.2 true"
back_ssh="ssh -F /root/back/config"
# back NAME [OPTIONS]: vs-migrate NAME from the VM to this host.
back() {
        local g=$1
        shift
        rvm "vs-migrate --ssh '$back_ssh' --remote-command '$here' $* $g 10.0.2.2"
}

# ---- a booted Debian guest, there and back ---------------------------------
g=$(guest vmhost-mig)
check "build a Debian guest on $br with limits" -- build_debian $g --ip $net.10/24 --cpu-weight 300 --rss 256M
check "start it" -- vs-start $g
is "$(wait_systemd $g)" running "its systemd is running"
vs-enter $g -- sh -c 'cat >/etc/systemd/system/vmh-counter.service' <<'EOU'
[Unit]
Description=a counter, one line each 0.2 s
[Service]
ExecStart=/bin/sh -c 'i=$(wc -l </var/lib/counter 2>/dev/null || echo 0); while :; do i=$((i + 1)); echo $i >>/var/lib/counter; sleep 0.2; done'
[Install]
WantedBy=multi-user.target
EOU
check "its service runs" -- vs-enter $g -- systemctl enable --now vmh-counter.service
mac=$(vs-enter $g -- cat /sys/class/net/eth0/address)
hn=$(vs-enter $g -- hostname)
addr=$(vs-enter $g -- ip -4 -o addr show dev eth0 | awk '{print $4}')
lim=$(limits <"$VS_CONFDIR/$g.conf")
names=$(net_names $g)
like "$lim" "weight = 300" "the limits are in its config"
diag "identity: $hn $addr $mac; limits: $(echo $lim)"
vs-enter $g -- sh -c 'mkdir -p /root/w && echo x >/root/w/gone && sync && rm /root/w/gone'

mlog=$VST_ROOT/mig.err
: >"$mlog"
# Files written into the guest from here during the migration, until the
# freeze: those vs-enter wrote (exit 0) must all be there.
writer() {
        local i=0
        while ! grep -q "vs-migrate: freezing" "$mlog"; do
                i=$((i + 1))
                if vs-enter $g -- sh -c "echo $i >/root/w/f$i" 2>/dev/null; then
                        echo "f$i $(grep -c . "$mlog")" >>"$VST_ROOT/written"
                else
                        break
                fi
        done
}
t=$SECONDS
timeout 600 vs-migrate --ssh "$R" --json $g vm >"$VST_ROOT/mig.json" 2>"$mlog" &
mpid=$!
writer &
wpid=$!
wait $mpid
rc=$?
wait $wpid
is $rc 0 "vs-migrate --ssh DIR/ssh --json $g vm (in $((SECONDS - t)) s)"
[ $rc = 0 ] || sed 's/^/#   /;$a\' "$mlog" | tail -20
j=$(mig_json "$VST_ROOT/mig.json")
diag "to the VM: $j"
is "$(printf '%s' "$j" | jget mode)" live "a live migration"
is "$(printf '%s' "$j" | jget started)" true "started there"
down1=$(printf '%s' "$j" | jget downtime_ms)
like "$down1" '^[0-9]+(\.[0-9]+)?$' "it reports the downtime ($down1 ms)"
steps=$(sed -n 's/^vs-migrate: \([a-z]*\).*/\1/p' "$mlog" | uniq | tr '\n' ' ')
is "$steps" "checking copying freezing installing stopping starting removing downtime " "progress lines, one per step, in order"
like "$(grep 'downtime' "$mlog")" '^vs-migrate: downtime [0-9]+\.[0-9]{3} s$' "the downtime line"
during=$(awk '$2 > 1' "$VST_ROOT/written" 2>/dev/null | wc -l)
nw=$(grep -c . "$VST_ROOT/written" 2>/dev/null)
diag "files written before the freeze: ${nw:-0}, after the copy began: $during"
[ "${during:-0}" -gt 0 ]
ok $? "files were written into the guest during the copy"

# missing NAMES...: of /root/w/NAME in the guest on the VM, those missing.
missing() { rvm "vs-enter $g -- sh -c 'cd /root/w && for f in $*; do [ -e \$f ] || echo \$f; done'"; }
st=$(rvm "vs-status --json $g")
is "$(printf '%s' "$st" | jget state)" running "$g is running on the VM"
is "$(missing $(cut -d' ' -f1 "$VST_ROOT/written"))" "" "every file written before the freeze is there"
is "$(missing gone $(cut -d' ' -f1 "$VST_ROOT/written" | head -n 1))" gone \
        "control: the probe sees a file missing (removed before the migration)"
ok_active=""
for i in $(seq 1 120); do
        ok_active=$(rvm "vs-enter $g -- systemctl is-active vmh-counter.service" 2>/dev/null)
        [ "$ok_active" = active ] && break
        sleep 1
done
is "$ok_active" active "its service is active there"
c1=$(rvm "vs-enter $g -- wc -l /var/lib/counter" | awk '{print $1}')
sleep 2
c2=$(rvm "vs-enter $g -- wc -l /var/lib/counter" | awk '{print $1}')
# Whole: each line is its own number (none lost, doubled or torn), seen in
# one read of the file. (A line count taken first and the file read after
# it race the counter's next line: the TCG VM is slow enough to lose.)
probe='NR != $0 + 0 || !/^[0-9]+$/ {print NR ": " $0; exit}'
is "$(printf '1\n2\n4\n' | awk "$probe")" "3: 4" "control: the probe finds a lost line"
bad=$(rvm "vs-enter $g -- awk '$probe' /var/lib/counter")
rc=$?
[ "${c2:-0}" -gt "${c1:-0}" ] && [ $rc = 0 ] && [ -z "$bad" ]
ok $? "the counter goes on from where it was, whole ($c1 -> $c2 lines${bad:+; line $bad})"
is "$(rvm "vs-enter $g -- hostname")" "$hn" "same host name"
is "$(rvm "vs-enter $g -- ip -4 -o addr show dev eth0" | awk '{print $4}')" "$addr" "same address"
is "$(rvm "vs-enter $g -- cat /sys/class/net/eth0/address")" "$mac" "same MAC"
is "$(rvm "cat /etc/vservers/$g.conf" | limits)" "$lim" "same limits in its config"
live=$(rvm "for d in \$(find /sys/fs/cgroup -type d -name $g); do cat \$d/cpu.weight \$d/memory.max 2>/dev/null; done" | sort -u | tr '\n' ' ')
like "$live" "(^| )300( |$)" "cpu.weight 300 is live in the VM's cgroups"
like "$live" "(^| )268435456( |$)" "memory.max 256M is live in the VM's cgroups"
check "it answers ping over the VM's bridge, from the VM" -- rvm "ping -c 3 -W 10 $net.10"
ok $([ ! -e "$VS_CONFDIR/$g.conf" ] && [ ! -e "$VS_GUESTDIR/$g" ] && echo 0 || echo 1) "gone here: no config, no tree"
# shellcheck disable=SC2086
check_net_gone "gone here: no veth, no tables" $names
vs-status $g >/dev/null 2>&1
is $? 1 "vs-status here no longer knows it"

# Back again, the VM's vs-migrate to this host's sshd.
t=$SECONDS
back $g --json >"$VST_ROOT/back.json" 2>"$VST_ROOT/back.err"
rc=$?
is $rc 0 "back: the VM's vs-migrate $g 10.0.2.2 (in $((SECONDS - t)) s)"
[ $rc = 0 ] || sed 's/^/#   /;$a\' "$VST_ROOT/back.err" | tail -20
j=$(mig_json "$VST_ROOT/back.json")
diag "back: $j"
down2=$(printf '%s' "$j" | jget downtime_ms)
like "$down2" '^[0-9]+(\.[0-9]+)?$' "it reports the downtime ($down2 ms)"
is "$(vs-status --json $g | jget state)" running "$g runs here again"
is "$(wait_systemd $g)" running "its systemd is running"
check "its service is active" -- vs-enter $g -- systemctl is-active vmh-counter.service
check "every file is there" -- vs-enter $g -- sh -c "cd /root/w && ls $(cut -d' ' -f1 "$VST_ROOT/written" | tr '\n' ' ')"
is "$(vs-enter $g -- hostname)" "$hn" "same host name"
is "$(vs-enter $g -- ip -4 -o addr show dev eth0 | awk '{print $4}')" "$addr" "same address"
is "$(vs-enter $g -- cat /sys/class/net/eth0/address)" "$mac" "same MAC"
is "$(limits <"$VS_CONFDIR/$g.conf")" "$lim" "same limits in its config"
check "it answers ping here" -- ping -c 3 -W 5 $net.10
is "$(rvm "ls /etc/vservers/$g.conf /var/lib/vservers/$g 2>/dev/null | wc -l")" 0 "gone from the VM"
diag "downtime: to the VM $down1 ms, back $down2 ms"

# ---- killed at each step ---------------------------------------------------
m=$(guest vmhost-kill)
ip_m=$net.20/24
fresh_m() { build_minimal $m --ip $ip_m && vs-start $m; }
running_here() { [ "$(vs-status --json $m 2>/dev/null | jget state)" = running ]; }
# A frozen guest is "running" too: its groups must be thawed (read from the
# freezer: a command entering a frozen guest would freeze with it), then it
# runs a command.
thawed() {
        local p f
        for p in $(cgroup_paths $m); do
                f=$p/freezer.state
                [ -f "$f" ] && { [ "$(cat "$f")" = THAWED ] || return 1; }
                f=$p/cgroup.events
                [ -f "$f" ] && { grep -q '^frozen 1' "$f" && return 1; }
        done
        return 0
}
answers() { thawed && timeout -s KILL 20 vs-enter $m -- /sbin/init --exit 0 >/dev/null 2>&1; }
# A vs-migrate --receive still at work on the VM ([e]: not the shell
# running pgrep). A guest it started keeps a supervisor (and its
# undertaker) forked from it, with the same command line: those are the
# guest's, not the move's.
receiving() {
        rvm 'sup=" $(sed -n "s/^supervisor_pid=//p" /run/vservers/*/state 2>/dev/null | tr "\n" " ") "
for p in $(pgrep -f "vs-migrat[e] --receive"); do
        case "$sup" in *" $p "*) continue ;; esac
        [ "$(cat /proc/$p/comm 2>/dev/null)" = vs-undertaker ] || exit 0
done
exit 1'
}
check "build and start a minimal guest" -- fresh_m
for step in copying freezing installing "stopping here" "starting on"; do
        klog=$VST_ROOT/kill.err
        : >"$klog"
        setsid timeout 600 vs-migrate --ssh "$R" $m vm >/dev/null 2>"$klog" &
        kpid=$!
        for i in $(seq 1 3000); do
                grep -q "^vs-migrate: $step" "$klog" && break
                gone $kpid && break
                sleep 0.02
        done
        kill -KILL -- -$kpid 2>/dev/null
        wait $kpid 2>/dev/null
        grep -q "^vs-migrate: $step" "$klog"
        ok $? "killed at \"$step\""
        # What the killed run started on the VM ends on its own (its ssh is gone).
        for i in $(seq 1 60); do receiving || break; sleep 1; done
        there=$(rvm "vs-status --json $m 2>/dev/null" | jget state 2>/dev/null)
        case $step in
        stopping* | starting*) if [ "$there" = running ]; then
                # The kill came once "start" was sent (the step after
                # "stopping here" takes milliseconds for this guest): the
                # VM has it; the copy here stays stopped, a new move is
                # refused.
                running_here
                is $? 1 "after \"$step\": $m runs on the VM (its start there was done), stopped here"
                out=$(timeout 600 vs-migrate --ssh "$R" $m vm 2>&1)
                is $? 1 "a new move is refused"
                like "$out" "(runs|exists) here already" "with the reason"
        else
                running_here || vs-start $m >/dev/null 2>&1
                running_here && answers
                ok $? "after \"$step\": $m is startable here (not started there), and answers"
        fi ;;
        *)
                [ "$there" != running ]
                ok $? "after \"$step\": $m does not run on the VM (${there:-unknown there})"
                running_here && answers
                ok $? "after \"$step\": $m still runs here, and answers (not left frozen)" ;;
        esac
        if running_here; then
                timeout 600 vs-migrate --ssh "$R" $m vm >/dev/null 2>"$VST_ROOT/retry.err"
                rc=$?
                is $rc 0 "after \"$step\": the next vs-migrate succeeds"
                [ $rc = 0 ] || sed 's/^/#   /;$a\' "$VST_ROOT/retry.err" | tail -10
                is "$(rvm "vs-status --json $m" | jget state)" running "and $m runs on the VM"
        fi
        rvm "vs-stop --timeout 5 $m >/dev/null 2>&1; vs-destroy --force $m >/dev/null 2>&1"
        vs-stop --timeout 5 $m >/dev/null 2>&1
        vs-destroy --force $m >/dev/null 2>&1
        fresh_m >/dev/null 2>&1 || { ok 1 "rebuild $m here"; break; }
done

# ---- refusals: exit 1 with the reason, nothing changed ---------------------
sum_here() { cat "$VS_CONFDIR/$m.conf" | cksum; }
on_vm() { rvm "ls -d /etc/vservers/$m.conf /var/lib/vservers/$m /run/vservers/$m 2>/dev/null" | tr '\n' ' '; }
refused() { # refused DESCRIPTION PATTERN [vs-migrate options]
        local d=$1 pat=$2 s0 out rc
        shift 2
        s0=$(sum_here)
        out=$(timeout 600 vs-migrate --ssh "$R" "$@" $m vm 2>&1)
        rc=$?
        is $rc 1 "$d: refused (exit 1)"
        like "$out" "$pat" "$d: the reason"
        running_here && [ "$(sum_here)" = "$s0" ]
        ok $? "$d: $m runs here unchanged"
}
out=$(vs-migrate 2>&1)
is $? 2 "vs-migrate without arguments is a usage error"
check "--check: the VM can take $m" -- vs-migrate --ssh "$R" --check $m vm
rvm "vs-build $m --template minimal >/dev/null 2>&1"
taken=$(rvm "cksum </etc/vservers/$m.conf")
like "$(on_vm)" "/etc/vservers/$m.conf" "control: the probe sees a guest $m on the VM"
refused "the name is taken on the VM" "$m.*(exist|taken|already)|(exist|taken|already).*$m"
is "$(rvm "cksum </etc/vservers/$m.conf")" "$taken" "the VM's own $m is untouched"
rvm "vs-destroy --force $m >/dev/null 2>&1"
o=vmhost-other
rvm "vs-build $o --template minimal --ip $ip_m >/dev/null 2>&1 && vs-start $o"
refused "its address is in use on the VM" "${net//./\\.}\.20"
is "$(on_vm)" "" "nothing of $m on the VM"
rvm "vs-stop --timeout 5 $o >/dev/null 2>&1; vs-destroy --force $o >/dev/null 2>&1"
refused "no vserver on the VM (--remote-command /nonexistent)" "nonexistent|vserver|not found" --remote-command /nonexistent
is "$(on_vm)" "" "nothing of $m on the VM"
# The install session's ssh ends before its "ready" (the network gone
# between the check and the copy): vs-migrate fails at once. It used to
# wait for ever, reading a pipe whose other end it held itself.
cat >"$VST_ROOT/ssh-noinstall" <<EOF
#!/bin/sh
case "\$*" in *"--receive install"*) echo "ssh: connection closed" >&2; exit 255 ;; esac
exec "$R" "\$@"
EOF
chmod +x "$VST_ROOT/ssh-noinstall"
out=$(timeout 120 vs-migrate --ssh "$VST_ROOT/ssh-noinstall" $m vm 2>&1)
rc=$?
is $rc 1 "an install session gone before \"ready\": vs-migrate fails (1; the timeout's 124 if it waited)"
[ $rc = 1 ] || diag "$out"
running_here && answers
ok $? "and $m still runs here, and answers"
is "$(on_vm)" "" "nothing of $m on the VM"

diag "test took $((SECONDS - t_start)) s; VM boot to ssh $(cat "$vmdir/boot_s") s; downtime to the VM $down1 ms, back $down2 ms"
done_testing
