#!/bin/bash
# Start, enter, console, stop, crash and timeout on guests whose init is the
# tiny static test init: the lifecycle without a distribution.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

g=$(guest vst-life)
check "build a minimal guest" -- build_minimal $g
is "$(vs-status $g >/dev/null 2>&1; echo $?)" 3 "a built guest is stopped (exit 3)"

check "vs-start returns once init runs" -- vs-start $g
out=$(vs-status $g)
is $? 0 "vs-status: running (exit 0)"
init_pid=$(sed -n 's/^init_pid=//p' "$VS_RUNDIR/$g/state")
sup_pid=$(sed -n 's/^supervisor_pid=//p' "$VS_RUNDIR/$g/state")
like "$(vs-list)" "^$g +running +$init_pid " "vs-list shows it running with its init pid"
like "$(vs-list --json)" "\{\"name\":\"$g\",\"state\":\"running\",\"pid\":$init_pid,\"address\":null,\"addresses\":\[\],\"veth\":null" "vs-list --json"
is "$(cat /proc/$init_pid/comm)" init "the guest's init runs on the host as pid $init_pid"
is "$(readlink /proc/$init_pid/ns/pid)" "$(readlink /proc/$init_pid/ns/pid_for_children)" "init lives in its own PID namespace"
for ns in mnt pid uts ipc net cgroup; do
        [ "$(readlink /proc/$init_pid/ns/$ns)" != "$(readlink /proc/self/ns/$ns)" ]
        ok $? "the guest has its own $ns namespace"
done
[ "$(readlink /proc/$sup_pid/ns/pid)" = "$(readlink /proc/self/ns/pid)" ]
ok $? "the supervisor stays on the host side"

# vs-enter: the command runs inside, its exit status comes back.
is "$(vs-enter $g -- /sbin/init --cat /proc/1/cmdline | tr '\0' ' ')" "/sbin/init " "PID 1 inside is the guest's init"
is "$(vs-enter $g -- /sbin/init --hostname)" "$g" "the host name inside is the guest's"
vs-enter $g -- /sbin/init --exit 7
is $? 7 "the command's exit status is vs-enter's"
vs-enter $g -- /nonexistent/cmd 2>/dev/null
is $? 127 "a missing command exits 127"
like "$(vs-enter $g -- /sbin/init --ls /proc | grep -E '^[0-9]+$' | tr '\n' ' ')" "^1 [0-9]+ ?$" "only the guest's processes are visible (init and the command)"
is "$(vs-enter $g -- /sbin/init --fds | tr '\n' ' ')" "0 1 2 " "no host fd beyond 0-2 reaches the command"
env_out=$(VST_SECRET=leak vs-enter $g -- /sbin/init --env)
unlike "$env_out" "VST_SECRET" "the caller's environment does not leak in"
like "$env_out" "^PATH=/usr/local/sbin" "a sane PATH is set"
like "$env_out" "^container=vserver" "container=vserver is set"
is "$(vs-enter $g -- /sbin/init --cwd)" "/root" "the command starts in /root"
init_bnd=$(sed -n 's/^CapBnd:\t//p' /proc/$init_pid/status)
like "$(vs-enter $g -- /sbin/init --status)" "CapBnd:[[:space:]]+$init_bnd" "vs-enter keeps to init's bounding set ($init_bnd)"
like "$(vs-enter $g -- /sbin/init --status)" "CapAmb:[[:space:]]+0+$" "the ambient set is empty"
[ "$init_bnd" != "$(sed -n 's/^CapBnd:\t//p' /proc/self/status)" ]
ok $? "the guest's bounding set is smaller than the host's"
mounts=$(vs-enter $g -- /sbin/init --cat /proc/self/mountinfo)
points=$(printf '%s\n' "$mounts" | awk '{print $5}')
unlike "$points" "^/(work|home|boot|var/tmp)" "no host mount is visible inside"
is "$(printf '%s\n' "$points" | head -1)" / "the guest's root is its own mount"
like "$mounts" " /dev/console .* - devpts " "the console is a pty bind-mounted on /dev/console"
like "$(vs-enter $g -- /sbin/init --cat /proc/self/cgroup)" "^0::/$" "the guest sees its own cgroup as the root"
vs-enter $g -- /sbin/init --write /sys/kernel/uevent_helper x >/dev/null 2>&1
ok $(($? == 0)) "/sys is read-only"
vs-enter $g -- /sbin/init --write /proc/sys/kernel/hostname evil >/dev/null 2>&1
ok $(($? == 0)) "/proc/sys is read-only"
is "$(hostname)" "$(uname -n)" "the host's name is untouched"
check "/proc/sys/net belongs to the guest" -- vs-enter $g -- /sbin/init --write /proc/sys/net/ipv4/ip_forward 1
is "$(vs-enter $g -- /sbin/init --ls /dev | tr '\n' ' ')" "console fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero " "/dev holds only the basic nodes"
# vs-enter killed: its command is hung up, not left running in the guest
# (on pipes, as from a script; a pty hangs up by itself). The positive
# control: the same command runs on while vs-enter lives.
sleeping() { # the processes running exactly "/sbin/init --sleep 3173"
        local f n=0
        for f in $(grep -lsaxz -- 3173 /proc/[0-9]*/cmdline); do
                [ "$( (tr '\0' ' ' <"$f") 2>/dev/null)" = "/sbin/init --sleep 3173 " ] && n=$((n + 1))
        done
        echo $n
}
vs-enter $g -- /sbin/init --sleep 3173 </dev/null >/dev/null 2>&1 &
enter=$!
wait_for $(slow 5) eval '[ "$(sleeping)" = 1 ]'
is "$(sleeping)" 1 "the command of a running vs-enter runs (control)"
kill -KILL $enter
wait $enter 2>/dev/null
wait_for $(slow 3) eval '[ "$(sleeping)" = 0 ]'
is "$(sleeping)" 0 "the command of a killed vs-enter gets SIGHUP and ends"

# The console: what init printed is replayed to a new client.
out=$(timeout $(slow 2) vs-console $g </dev/null 2>&1)
like "$out" "vs-test-init: running as pid 1" "vs-console shows the guest's console"

# Concurrent start of a running guest.
out=$(vs-start $g 2>&1)
is $? 1 "starting a running guest fails"
like "$out" "already running" "and says it is already running"
out=$(vs-destroy $g 2>&1)
is $? 1 "vs-destroy refuses a running guest"
like "$out" "is running" "and says so"

# Stop: the init's halt signal, then nothing left.
cgs=$(cgroup_paths $g)
check "vs-stop stops it" -- vs-stop --timeout $(slow 10) $g
is "$(vs-status $g >/dev/null 2>&1; echo $?)" 3 "vs-status: stopped"
gone $init_pid && wait_for 5 gone $sup_pid
ok $? "init and supervisor are gone"
check_no_leftovers $g
grep -q "halting on signal" "$VS_LOGDIR/$g.console"
ok $? "init received its halt signal (console log)"
check "vs-stop of a stopped guest succeeds" -- vs-stop $g

# Supervisor killed: the guest goes with it, and the supervisor's
# undertaker (a child that waits for its death) removes what is left, with
# no vserver command run.
undertaker_of() { ps --ppid "$1" -o pid=,comm= | awk '$2 == "vs-undertaker" { print $1 }'; }
check "restart" -- vs-start $g
init_pid=$(sed -n 's/^init_pid=//p' "$VS_RUNDIR/$g/state")
sup_pid=$(sed -n 's/^supervisor_pid=//p' "$VS_RUNDIR/$g/state")
# Forked as the state is published, it names itself a moment later: a
# vs-start that returns at once may be quicker.
wait_for $(slow 5) eval '[ -n "$(undertaker_of "$sup_pid")" ]'
like "$(undertaker_of "$sup_pid")" '^[0-9]+$' "the supervisor has an undertaker"
is "$(cat /proc/$sup_pid/comm)" vs-supervisor "the supervisor is named vs-supervisor in ps"
kill -9 "$sup_pid"
wait_for 5 gone $init_pid
ok $? "the guest's init dies with its supervisor"
wait_for $(slow 5) eval '[ ! -e "$VS_RUNDIR/$g" ]'
ok $? "the undertaker removes the run state"
check_no_leftovers $g
is "$(vs-status $g >/dev/null 2>&1; echo $?)" 3 "vs-status says not running after the supervisor was killed"
like "$(vs-status $g)" "^$g: stopped" "and stopped: nothing stale is left"
check "and it starts again" -- vs-start $g
check "vs-stop after a restart" -- vs-stop $g

# Supervisor and undertaker killed (the undertaker first): the guest is
# stale, which the listing leaves to vs-start and vs-stop; vs-stop (not
# vs-status) cleans up.
check "start once more" -- vs-start $g
init_pid=$(sed -n 's/^init_pid=//p' "$VS_RUNDIR/$g/state")
sup_pid=$(sed -n 's/^supervisor_pid=//p' "$VS_RUNDIR/$g/state")
wait_for $(slow 5) eval '[ -n "$(undertaker_of "$sup_pid")" ]'
und=$(undertaker_of "$sup_pid")
kill -9 $und "$sup_pid"
wait_for 5 gone $init_pid
# The guest's other processes close their inherited lock as they exit,
# just after its init: "starting" (the lock held) until they have.
wait_for $(slow 5) eval '[[ "$(vs-status $g)" == "$g: stale"* ]]'
like "$(vs-status $g)" "^$g: stale" "with its undertaker killed too, the guest is stale"
check "vs-stop cleans up after a killed supervisor" -- vs-stop $g
check_no_leftovers $g

# Foreground: console on stdout, returns when init exits.
vs-start -F $g >"$VST_ROOT/fg.out" 2>&1 </dev/null &
fg=$!
on_exit "kill $fg"
wait_for 5 vs-status $g
ok $? "vs-start -F brings the guest up"
check "vs-stop of a foreground guest" -- vs-stop $g
wait $fg
is $? 0 "vs-start -F returns 0 after a clean halt"
like "$(cat "$VST_ROOT/fg.out")" "running as pid 1" "vs-start -F shows the console on stdout"
check_no_leftovers $g

# An init that ignores its halt signal is killed after the timeout.
h=$(guest vst-stubborn)
check "build a guest whose init ignores signals" -- build_minimal $h --set guest.init=/sbin/init-ignore-halt
check "start it" -- vs-start $h
hinit=$(sed -n 's/^init_pid=//p' "$VS_RUNDIR/$h/state")
start=$(date +%s)
check "vs-stop --timeout 2 ends it" -- vs-stop --timeout 2 $h
took=$(($(date +%s) - start))
[ $took -ge 2 ]
ok $? "vs-stop waited for the timeout before killing ($took s)"
gone $hinit
ok $? "the stubborn init is gone"
check_no_leftovers $h
check "vs-destroy removes it" -- vs-destroy $h
[ ! -e "$VS_GUESTDIR/$h" ] && [ ! -e "$VS_CONFDIR/$h.conf" ]
ok $? "nothing of the destroyed guest remains"

# A poll that fails is not the end of the guest's init. Below RLIMIT_NOFILE
# poll(2) fails with EINVAL: with its soft limit at 2, the supervisor's next
# poll (woken by SIGUSR1) fails; it says so, keeps the guest, and still takes
# init's exit when vs-stop halts it.
check "start it for the poll test" -- vs-start $g
sup=$(sed -n 's/^supervisor_pid=//p' "$VS_RUNDIR/$g/state")
check "lower the supervisor's RLIMIT_NOFILE to 2" -- prlimit --pid $sup --nofile=2:
kill -USR1 $sup
sleep $(slow 1)
is "$(vs-status $g >/dev/null 2>&1; echo $?)" 0 "a failing poll does not end the guest"
like "$(cat "$VS_LOGDIR/$g.console")" "Cannot poll for the guest \"$g\" \(Invalid argument\)" "the supervisor says why (console log)"
# (The console is not served meanwhile: init's "halting" line is not logged.)
start=$(date +%s)
check "vs-stop stops it while poll fails" -- vs-stop --timeout $(slow 10) $g
took=$(($(date +%s) - start))
[ $took -lt $(slow 5) ]
ok $? "by its halt signal, not killed at the timeout ($took s)"
wait_for 5 gone $sup
ok $? "the supervisor took init's exit and ended"
check_no_leftovers $g

# vs-start --wait: returns once the guest is ready. The test init is ready
# once it runs; an init named systemd that never reports READY=1 is not, and
# --wait=1 gives up after about a second, leaving it running.
check "vs-start --wait on the test init" -- vs-start --wait=$(slow 10) $g
[ -e "$VS_RUNDIR/$g/ready" ]
ok $? "the guest is ready when vs-start --wait returns"
check "stop it" -- vs-stop $g
w=$(guest vst-wait)
check "build a guest whose init is named systemd and never notifies" -- build_minimal $w --set guest.init=/lib/systemd/systemd
mkdir -p "$VS_GUESTDIR/$w/rootfs/lib/systemd" && cp "$VS_TEST_INIT" "$VS_GUESTDIR/$w/rootfs/lib/systemd/systemd"
t0=$(date +%s%N)
out=$(vs-start --wait=1 $w 2>&1)
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
is $rc 1 "vs-start --wait=1 fails when the guest is not ready in time"
like "$out" "Guest \"$w\" is not ready after 1 s; it keeps running" "it says so, and that the guest keeps running"
[ $ms -ge 1000 ] && [ $ms -lt $((3000 * VS_TEST_SLOW)) ]
ok $? "it gives up after about 1 s ($ms ms)"
is "$(vs-status $w >/dev/null 2>&1; echo $?)" 0 "the guest keeps running"
[ ! -e "$VS_RUNDIR/$w/ready" ]
ok $? "without a ready marker"
out=$(vs-start --wait=0 $w 2>&1)
is "$?:$out" "2:vs-start: Bad --wait \"0\" (seconds, 1 to 86400) (see --help)" "--wait=0 is refused"
check "vs-stop it" -- vs-stop --timeout 5 $w
check_no_leftovers $w
done_testing
