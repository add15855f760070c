#!/bin/bash
# An unprivileged (guest.userns = yes) Debian guest with sysvinit reaches its
# default runlevel with no failed service, vs-enter works in it, and vs-stop
# halts it cleanly on SIGPWR. VS_SYSV_RELEASE picks the release (default
# bullseye, the release issue 17 names for sysvinit; its template is
# debootstrapped once per machine, bookworm's by 06-boot-sysvinit).
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

release=${VS_SYSV_RELEASE:-bullseye}
test_subids

g=$(guest vst-ussysv)
if ! build_debian "$g" --release "$release" --init sysvinit --set guest.userns=yes; then
        ok 1 "unprivileged $release sysvinit guest built"
        done_testing
fi
ok 0 "unprivileged $release sysvinit guest built"
like "$(cat "$VS_CONFDIR/$g.conf")" "halt_signal = SIGPWR" "it halts on SIGPWR"
check "vs-start" -- vs-start "$g"
hid=$(sed -n 's/^idmap = \([0-9]*\):.*/\1/p' "$VS_CONFDIR/$g.conf")
pid=$(init_pid "$g")
is "$(ps -o uid= -p "$pid" | tr -d ' ')" "$hid" "on the host, init runs under the guest's host uid"
wait_for 60 sh -c "vs-enter $g -- runlevel | grep -q '^N 2$'"
ok $? "sysvinit reaches runlevel 2"
is "$(vs-enter "$g" -- runlevel)" "N 2" "runlevel says so"
is "$(vs-enter "$g" -- cat /proc/1/comm)" init "PID 1 is sysvinit's init"
is "$(vs-enter "$g" -- id -u)" 0 "vs-enter: id -u is 0"
like "$(vs-enter "$g" -- cat /proc/self/uid_map)" "^ +0 +$hid +65536$" "vs-enter is in the guest's user namespace"
is "$(vs-enter "$g" -- hostname)" "$g" "the host name is the guest's"
# No rc script of runlevel 2 failed: each enabled service says it runs
# (those without a status action are left out by the grep).
failed=$(vs-enter "$g" -- sh -c 'for s in /etc/rc2.d/S*; do
        n=${s##*/S[0-9][0-9]}
        out=$("$s" status 2>&1); rc=$?
        case "$rc" in 0 | 3) ;; *) [ -n "$out" ] && echo "$n($rc): $out" ;; esac
        [ "$rc" = 3 ] && echo "$n: not running"
done' 2>&1)
is "$failed" "" "no service of runlevel 2 failed"
[ -z "$failed" ] || echo "$failed" | sed 's/^/#   /;$a\'
# The rc scripts say "failed" on the console when a start fails. What the
# kernel refuses guest root of a user namespace is expected and harmless:
# securityfs, pstore, sysfs and the root filesystem belong to the host's
# namespace (remounting / is refused, as 50-userns wants), a remount of
# a tmpfs or devpts fails because libmount repeats the uid=/gid= options
# mountinfo shows in the host's ids, which the guest does not map, and the
# fs.protected_* sysctls are the host's (bullseye's procps sets them).
console=$(tr -d '\r\0' <"$VS_LOGDIR/$g.console")
like "$console" "INIT: Entering runlevel: 2" "the console shows the runlevel entered"
unexpected=$(echo "$console" | grep -E -i "fail|error" |
        grep -v -E "^mount: /[a-z/]*: (permission denied|mount point not mounted or bad option)\.$|dmesg\(1\) may have more information after failed mount|sysctl: permission denied on key \"fs\.protected_[a-z]+\"$")
is "$unexpected" "" "and no start failed on it but the mounts the kernel refuses a user namespace"
[ -n "${VS_DEBUG_CONSOLE:-}" ] && echo "$console" | sed 's/^/#   console: /;$a\'
start=$(date +%s)
check "vs-stop halts it" -- vs-stop --timeout "$(slow 60)" "$g"
took=$(($(date +%s) - start))
[ $took -lt "$(slow 60)" ]
ok $? "init halted before the timeout ($took s; no SIGKILL)"
wait_for 5 gone "$pid"
ok $? "init is gone"
check_no_leftovers "$g"
done_testing
