#!/bin/bash
# Twenty simultaneous starts make exactly one guest.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

g=$(guest vst-race)
check "build a minimal guest" -- build_minimal $g
for i in $(seq 1 20); do
        (vs-start $g >"$VST_ROOT/start.$i" 2>&1; echo $? >"$VST_ROOT/rc.$i") &
done
wait
winners=$(cat "$VST_ROOT"/rc.* | grep -c '^0$')
is "$winners" 1 "exactly one of 20 simultaneous starts succeeds"
losers=$(grep -l 'already running' "$VST_ROOT"/start.* | wc -l)
is "$losers" 19 "the other 19 say the guest is already running"
# v1: the named systemd hierarchy's group; v2: the one unified group.
procs=""
v2=$(stat -f -c %T /sys/fs/cgroup | grep -q cgroup2 && echo 1)
for p in $(cgroup_paths $g); do
        case $p in */systemd/*) procs=$(wc -l <"$p/guest/cgroup.procs") ;; *) [ -z "$v2" ] || procs=$(wc -l <"$p/guest/cgroup.procs") ;; esac
done
is "$procs" 1 "one init in the guest's group (its leaf, guest/)"
is "$(vs-list --json | grep -o '"state":"running"' | wc -l)" 1 "vs-list shows one running guest"

for i in $(seq 1 10); do
        (vs-stop $g >/dev/null 2>&1; echo $? >"$VST_ROOT/stop.$i") &
done
wait
is "$(cat "$VST_ROOT"/stop.* | grep -c '^0$')" 10 "ten simultaneous stops all succeed"
check_no_leftovers $g
done_testing
