#!/bin/bash
# TIOCSTI (SECURITY.md, point 10): a process inside cannot push keystrokes
# into the terminal that ran vs-enter or vs-console. Each command runs on a
# fresh outer pty (tests/helpers/vs-pty-run); inside, the prober tries
# TIOCSTI on every fd it has, on /dev/tty (and /dev/console), and lists the
# devices. Afterwards the outer terminal's input queue must be empty. The
# same prober run directly on the outer pty shows the check can fail.
# (With dev.tty.legacy_tiocsti=0 the kernel itself refuses TIOCSTI without
# CAP_SYS_ADMIN; guest root has it, so vserver's own defence is what counts:
# no fd of the caller's terminal ever reaches the guest.)
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

run=$VS_TOP_SRCDIR/tests/helpers/vs-pty-run
marker=vsa-PWNED
field() { printf '%s\n' "$1" | sed -n "s/^$2 //p"; }

# The control: on the outer terminal itself the injection lands.
out=$("$run" 5 "$VS_TEST_INIT" --tiocsti $marker)
outer=$(field "$out" outer)
like "$(field "$out" pending)" "$marker" "control: a process on the caller's terminal can inject into it ($outer)"

# Privileged: its root has CAP_SYS_ADMIN over the host's devpts, so the
# prober can push into the guest's console (the check that it can, below)
# and only vserver's own defence stands between it and the caller's
# terminal. Unprivileged guest root lacks it there, which refuses more.
g=$(guest vsa-sti)
check "build a privileged minimal guest" -- build_minimal $g --privileged
check "start it" -- vs-start $g

out=$("$run" 10 vs-enter $g -- /sbin/init --tiocsti-console $marker)
outer=$(field "$out" outer)
diag "vs-enter on $outer: $(printf '%s' "$out" | grep -oE '(fd|/dev|ctty).*' | tr '\n' ';')"
like "$out" "fd 0 dev 136:[0-9]+@" "the entered command's stdin is a pty"
devs=$(printf '%s\n' "$out" | grep -oE '(fd [0-9]+|/dev/tty|/dev/console) dev [0-9:@]+')
like "$devs" "fd 2 dev" "the prober listed its fds"
unlike "$devs" " dev $outer\$" "no fd of the entered command is the caller's terminal $outer"
unlike "$(printf '%s\n' "$devs" | grep '^fd 0')" "@${outer#*@}\$" "its terminal is on the guest's own devpts, not the host's (${outer#*@})"
like "$(field "$out" pending)" "^b''$" "nothing was pushed into the caller's terminal"

# vs-console: the prober runs inside (not on the console client's terminal)
# while a client is attached; it goes for the guest's console too. Before
# the prober runs, the client must have said it is connected: without that
# wait the check below passed with no client there at all.
"$run" $(slow 8) vs-console $g >"$VST_ROOT/console.out" 2>&1 &
client=$!
check "the console client is connected" -- wait_for 5 grep -q "Connected to the console" "$VST_ROOT/console.out"
inside=$(vs-enter $g -- /sbin/init --tiocsti-console $marker </dev/null 2>&1)
like "$inside" "^/dev/console dev [0-9:@]+ INJECTED" "the prober pushed the marker into the guest's console"
wait $client
cout=$(cat "$VST_ROOT/console.out")
like "$(printf '%s\n' "$cout" | grep -v '^pending')" "$marker" "the client shows the console's traffic: the marker the guest's console echoed"
like "$(field "$cout" pending)" "^b''$" "nothing was pushed into vs-console's terminal"

check "stop it" -- vs-stop $g
check_no_leftovers $g
done_testing
