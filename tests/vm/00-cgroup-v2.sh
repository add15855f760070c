#!/bin/bash
# Run by tests/vm/run-v2 inside its VM: proves the lane is a pure cgroup v2
# host, so a misconfigured VM cannot pass as one, and that vserver picks its
# v2 backend there.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

is "$(stat -f -c %T /sys/fs/cgroup)" cgroup2fs "/sys/fs/cgroup is cgroup2fs"
unlike "$(awk '$3 == "cgroup" {print $2}' /proc/mounts)" . "no cgroup v1 hierarchy is mounted"
like "$(cat /proc/self/cgroup)" "^0::/" "this process has only the unified hierarchy"
like "$(cat /sys/fs/cgroup/cgroup.controllers)" "cpu.*memory.*pids|memory.*pids" "the root offers cpu, memory and pids"

g=$(guest vsv2-probe)
check "build a minimal guest" -- build_minimal $g
dry=$(vs-start --dry-run $g 2>&1)
like "$dry" "^cgroup +v2 backend" "vs-start --dry-run reports the v2 backend"
like "$dry" "^cgroup +/sys/fs/cgroup/.*/vservers/$g$" "the guest's group lies beneath our own in the unified tree"
p=$(cgroup_paths $g)
check "vs-start" -- vs-start $g
# Our group now hands controllers down to vservers/: nothing may run in it.
like "$(cat /proc/self/cgroup)" "^0::/.*/vs-host$" "vs-start moved its caller's group into a leaf beside vservers/"
is "$(cgroup_paths $g)" "$p" "and the guest's group is still found beneath our own group"
own=${p%/vservers/$g}
is "$(cat "$own/cgroup.procs" | wc -l)" 0 "no process is left in our own group"
init_pid=$(sed -n 's/^init_pid=//p' "$VS_RUNDIR/$g/state")
like "$(cat /proc/$init_pid/cgroup)" "^0::/.*/vservers/$g(/guest)?$" "the guest's init is in its own group"
for c in cpu memory pids; do
        like " $(cat "$p/cgroup.controllers") " " $c " "the guest's group has the $c controller"
done
check "vs-stop" -- vs-stop $g
check_no_leftovers $g

# From a group systemd owns and did not delegate (an ssh session's scope, here
# one made by systemd-run --scope without Delegate=yes), vs-start must not
# move the scope's other processes: it refuses and says how to run it.
s=$(guest vsv2-scope)
check "build a second guest" -- build_minimal $s
unit=vst-nodeleg-$$
out=$(systemd-run --scope --quiet --unit=$unit bash -c '
        sleep 600 & sl=$!
        vs-start "$1" 2>&1; echo "rc=$?"
        echo "sleep-cgroup=$(cut -d: -f3 /proc/$sl/cgroup)"
        echo "own-cgroup=$(cut -d: -f3 /proc/self/cgroup)"
        kill $sl' sh $s)
diag "$(echo "$out" | head -3)"
like "$out" "^rc=1$" "vs-start from a scope without Delegate=yes fails"
like "$out" "Delegate=yes" "and says how to run it (Delegate=yes)"
like "$out" "^sleep-cgroup=/.*/$unit\.scope$" "a process beside it stays in the scope's group"
like "$out" "^own-cgroup=/.*/$unit\.scope$" "so does its caller"
unlike "$(vs-status $s)" "running" "the guest did not start"
# The way out it names: a scope with Delegate=yes.
check "vs-start in a delegated scope" -- systemd-run --scope --quiet -p Delegate=yes vs-start $s
like "$(vs-status $s)" "^$s: running" "the guest runs"
scope_cg=$(sed -n 's/^cgroup=//p' "$VS_RUNDIR/$s/state" | head -1)
diag "its group: $scope_cg"
check "vs-stop" -- vs-stop $s
ok $([ ! -e "$VS_RUNDIR/$s" ]; echo $?) "its run state is gone"
done_testing
