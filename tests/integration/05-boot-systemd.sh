#!/bin/bash
# A Debian bookworm guest boots systemd as its PID 1 to "running", and is
# stopped cleanly, from outside and from inside.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

g=$(guest vst-systemd)
check "build a bookworm systemd guest" -- build_debian $g
# --wait returns once systemd reported READY=1: systemctl answers at once,
# without its own --wait.
check "vs-start --wait" -- vs-start --wait=$(slow 120) $g
like "$(vs-enter $g -- systemctl is-system-running 2>&1)" "^(running|degraded)$" \
        "right after vs-start --wait, systemctl is-system-running answers running or degraded"
state=$(wait_systemd $g)
is "$state" running "systemd reaches running"
[ "$state" = running ] || vs-enter $g -- systemctl --failed --no-pager | sed 's/^/#   /;$a\'
vs-enter $g -- systemctl is-system-running --wait >/dev/null 2>&1
is $? 0 "vs-enter passes systemctl's exit status through"
is "$(vs-enter $g -- cat /proc/1/comm)" systemd "PID 1 is systemd"
is "$(vs-enter $g -- hostname)" "$g" "the host name is the guest's"
is "$(vs-enter $g -- systemd-detect-virt --container)" container-other "systemd knows it is in a container"
host_pids=$(ls /proc | grep -c '^[0-9]')
guest_pids=$(vs-enter $g -- sh -c 'ls /proc | grep -c "^[0-9]"')
[ "$guest_pids" -lt 30 ] && [ "$guest_pids" -lt "$host_pids" ]
ok $? "only the guest's processes are visible ($guest_pids inside, $host_pids on the host)"
like "$(vs-enter $g -- ps -o pid=,comm= -p 1)" "^ +1 systemd$" "ps inside sees systemd as 1"
unlike "$(vs-enter $g -- cat /proc/self/mountinfo | awk '{print $5}')" "^/(work|home|var/tmp/vst|run/vservers)" "host mounts are not visible"
like "$(vs-enter $g -- findmnt -n -o FSTYPE /sys/fs/cgroup/systemd 2>/dev/null || vs-enter $g -- cat /proc/self/mountinfo)" "cgroup" "systemd has its cgroup hierarchy"
is "$(vs-enter $g -- sh -c 'cat /proc/self/cgroup' | grep -c 'vservers')" 0 "the guest sees no host cgroup path"
# On a v2 host and (guest.cgroup = auto, for systemd) on a hybrid one alike.
is "$(vs-enter $g -- stat -f -c %T /sys/fs/cgroup)" cgroup2fs "the guest has cgroup2 at /sys/fs/cgroup"
if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
        # A v2 host: the guest's own group is delegated to its systemd.
        cg=$(cgroup_paths $g)
        [ -d "$cg/guest" ] && cg=$cg/guest # the guest's cgroupns root
        like "$(cat /proc/$(sed -n 's/^init_pid=//p' "$VS_RUNDIR/$g/state")/cgroup)" "^0::/.*/vservers/$g(/guest)?/init.scope$" \
                "the guest's systemd moved itself into init.scope of the guest's group"
        like "$(cat "$cg/cgroup.subtree_control")" "memory" "and enabled controllers for its own units"
        [ -d "$cg/system.slice" ]
        ok $? "its units run in the guest's system.slice on the host"
fi
like "$(vs-enter $g -- systemctl status console-getty.service --no-pager)" "active \(running\)" "a getty runs on /dev/console"
like "$(timeout $(slow 2) vs-console $g </dev/null 2>&1)" "login:" "vs-console shows the login prompt"

# On a terminal, vs-enter gives the command a new pty of the guest's own.
out=$(script -qec "vs-enter $g -- sh -c 'tty; test -t 0 && echo stdin-is-a-tty'" /dev/null </dev/null)
like "$out" "/dev/pts/[0-9]+" "the command runs on a pty of the guest's devpts"
like "$out" "stdin-is-a-tty" "its stdin is that terminal"
out=$(printf 'echo shell-says-$((6*7))\nexit 3\n' | script -qec "vs-enter $g" /dev/null)
rc=$?
like "$out" "shell-says-42" "an interactive root shell runs commands typed at it"
is $rc 3 "the shell's exit status comes back through the pty"

init_pid=$(sed -n 's/^init_pid=//p' "$VS_RUNDIR/$g/state")
start=$(date +%s)
check "vs-stop shuts it down" -- vs-stop --timeout $(slow 60) $g
diag "stop took $(($(date +%s) - start)) s"
like "$(tail -5 "$VS_LOGDIR/$g.console")" "Halting system|Powering off|Reached target.*(Halt|Power)" "systemd halted by itself (no SIGKILL)"
check_no_leftovers $g

# A guest that powers itself off is cleaned up the same way.
check "start again" -- vs-start $g
is "$(wait_systemd $g)" running "running again"
sup=$(sed -n 's/^supervisor_pid=//p' "$VS_RUNDIR/$g/state")
vs-enter $g -- systemctl poweroff >/dev/null 2>&1
wait_for 30 gone $sup
ok $? "the supervisor exits after the guest powers itself off"
is "$(vs-status $g >/dev/null 2>&1; echo $?)" 3 "the guest is stopped"
check_no_leftovers $g

# The foreground mode returns 0 when the guest powers off.
vs-start -F $g </dev/null >"$VST_ROOT/fg.log" 2>&1 &
fg=$!
on_exit "kill $fg"
is "$(wait_systemd $g)" running "vs-start -F boots it"
vs-enter $g -- systemctl poweroff >/dev/null 2>&1
wait $fg
is $? 0 "vs-start -F returns 0 after poweroff"
like "$(cat "$VST_ROOT/fg.log")" "Reached target.*Multi-User" "the console went to stdout"
check_no_leftovers $g
done_testing
