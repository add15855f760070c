#!/bin/bash
# The notify socket (SECURITY.md, "The notify socket"): any process of a
# guest can send to it, as fast as it can; the supervisor reads a bounded
# batch per wake-up (tests/unit/test-autostart proves the bound), so a flood
# keeps it neither from the console nor from a stop. Many senders from
# inside; meanwhile a line written to the guest's console reaches the
# console log, and the guest stops within its timeout.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

g=$(guest vsa-notify-flood)
check "build a guest" -- build_minimal $g
check "start it" -- vs-start $g

vs-enter $g -- /sbin/init --notify-flood $(slow 8) 32 >"$VST_ROOT/flood.out" 2>&1 &
flood=$!
sleep 2
vs-enter $g -- /sbin/init --write /dev/console $'vs-flood-marker\n' >/dev/null 2>&1
wait_for 5 grep -q vs-flood-marker "$VS_LOGDIR/$g.console"
ok $? "during a flood the console still reaches the log"
wait $flood
like "$(cat "$VST_ROOT/flood.out")" "^sent [1-9][0-9]*$" "the flood ran: $(cat "$VST_ROOT/flood.out")"

vs-enter $g -- /sbin/init --notify-flood $(slow 60) 32 >/dev/null 2>&1 &
flood=$!
on_exit "kill $flood"
sleep 2
start=$(date +%s)
check "during a flood the guest stops" -- vs-stop --timeout 10 $g
took=$(($(date +%s) - start))
ok $((took > $(slow 10))) "within its timeout (${took} s)"
check_no_leftovers $g
done_testing
