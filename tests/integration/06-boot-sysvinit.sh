#!/bin/bash
# A Debian guest with sysvinit reaches its default runlevel and halts on SIGPWR.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

g=$(guest vst-sysv)
check "vs-build --init sysvinit" -- build_debian $g --init sysvinit
like "$(cat "$VS_CONFDIR/$g.conf")" "halt_signal = SIGPWR" "a sysvinit guest halts on SIGPWR"
check "vs-start" -- vs-start $g
wait_for 60 sh -c "vs-enter $g -- runlevel | grep -q '^N 2$'"
ok $? "sysvinit reaches runlevel 2"
is "$(vs-enter $g -- cat /proc/1/comm)" init "PID 1 is sysvinit's init"
[ ! -e "$VS_GUESTDIR/$g/rootfs/lib/systemd/systemd" ]
ok $? "systemd is not installed"
is "$(vs-enter $g -- hostname)" "$g" "the host name is the guest's"
init_pid=$(sed -n 's/^init_pid=//p' "$VS_RUNDIR/$g/state")
start=$(date +%s)
check "vs-stop halts it" -- vs-stop --timeout 60 $g
took=$(($(date +%s) - start))
[ $took -lt 60 ]
ok $? "init halted before the timeout ($took s; no SIGKILL)"
wait_for 5 gone $init_pid
ok $? "init is gone"
check_no_leftovers $g
done_testing
