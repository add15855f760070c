#!/bin/bash
# A guest whose supervisor, its undertaker and init died leaves run state
# (run directory, cgroups): vs-list and vs-status only report it as "stale" and change
# nothing; vs-start and vs-stop, which hold the guest's lock, clear it.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

g=$(guest vss-one)
check "build a guest" -- build_minimal $g

# crash: start the guest, then SIGKILL its supervisor's undertaker (which
# would clear up after it), its supervisor and its init (only the pids of
# the guest this test started).
crash() {
        local sup init und
        vs-start $g || return 1
        sup=$(sed -n 's/^supervisor_pid=//p' "$VS_RUNDIR/$g/state")
        init=$(sed -n 's/^init_pid=//p' "$VS_RUNDIR/$g/state")
        und=$(ps --ppid "$sup" -o pid=,comm= | awk '$2 == "vs-undertaker" { print $1 }')
        [ -n "$sup" ] && [ -n "$init" ] && [ -n "$und" ] || return 1
        kill -KILL "$und" "$sup" "$init"
        wait_for 5 gone "$sup" && wait_for 5 gone "$init"
}

check "start the guest and kill its supervisor and init" -- crash
cg=$(cgroup_paths $g | head -1)
like "$(vs-list)" "^$g +stale " "vs-list reports the guest stale"
like "$(vs-list --json)" "\"name\":\"$g\",\"state\":\"stale\"" "vs-list --json reports it stale"
out=$(vs-status $g)
is $? 3 "vs-status exits 3 (not running)"
like "$out" "^$g: stale" "vs-status says stale"
ok $([ -d "$VS_RUNDIR/$g" ]; echo $?) "the run directory is still there after the listings"
ok $([ -d "$cg" ]; echo $?) "so is the guest's cgroup ($cg)"
check "vs-start clears the stale state and starts" -- vs-start $g
like "$(vs-status $g)" "^$g: running" "the guest runs"
check "vs-stop" -- vs-stop $g
check_no_leftovers $g

check "crash it again" -- crash
like "$(vs-status $g)" "^$g: stale" "stale again"
check "vs-stop clears the stale state" -- vs-stop $g
like "$(vs-status $g)" "^$g: stopped" "the guest is stopped"
like "$(vs-list)" "^$g +stopped " "vs-list says stopped"
check_no_leftovers $g

check "crash it once more" -- crash
check "vs-destroy of a stale guest needs no --force" -- vs-destroy $g
check_no_leftovers $g
done_testing
