#!/bin/bash
# vs-enter hands the guest no fd of the caller's and not its session
# (SECURITY.md, point 10), whichever of its stdin, stdout and stderr is a
# terminal: the command runs in a session of its own, on a pty of the
# guest's devpts for what is a terminal and on pipes for the rest, and
# vs-enter relays. Each attack runs from a fresh outer pty
# (tests/helpers/vs-pty-run), the caller's controlling terminal; inside, the
# prober tries TIOCSTI on fds 0-2 and /dev/tty. Then the relay itself:
# exit status, stdin, stdout and stderr apart, EPIPE, signals, and a pty
# that comes from the guest's devpts even when the guest hides it.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

run=$VS_TOP_SRCDIR/tests/helpers/vs-pty-run
marker=vse-PWNED
field() { printf '%s\n' "$1" | sed -n "s/^$2 //p"; }
# The lines of the fds and /dev/tty (a pty's echo of the marker may precede them).
probed() { printf '%s\n' "$1" | grep -oE '(fd [0-9]+|/dev/tty) .*'; }
leader() { # leader PROBER-OUTPUT: "session S pid P" with S = P
        local s
        s=$(field "$1" session)
        [ -n "$s" ] && [ "${s%% *}" = "${s##* }" ]
}

# The control: on the outer terminal itself the injection lands.
legacy=$(cat /proc/sys/dev/tty/legacy_tiocsti 2>/dev/null || echo unset)
out=$("$run" 5 "$VS_TEST_INIT" --tiocsti $marker)
outer=$(field "$out" outer)
host_pts=${outer#*@}
control=0
if printf '%s\n' "$(field "$out" pending)" | grep -q "$marker"; then
        ok 0 "control: a process on the caller's terminal can inject into it ($outer)"
else
        control=1
        ok 0 "control: a process on the caller's terminal can inject into it # SKIP TIOCSTI does not work here (dev.tty.legacy_tiocsti=$legacy)"
fi

g=$(guest vse-tty)
check "build a minimal guest" -- build_minimal $g
check "start it" -- vs-start $g
guest_pts=$(vs-enter $g -- /sbin/init --stat /dev/pts/ptmx </dev/null 2>/dev/null)
guest_pts=${guest_pts#*@}
diag "the host's devpts is $host_pts, the guest's $guest_pts"

# attack LABEL SHELL-COMMAND: the prober inside via vs-enter, run by a shell
# whose controlling terminal is a fresh pty.
attack() {
        local label=$1 out devs
        out=$("$run" $(slow 10) sh -c "$2")
        outer=$(field "$out" outer)
        devs=$(probed "$out")
        diag "$label: $(printf '%s' "$devs" | tr '\n' ';') $(field "$out" session)"
        like "$devs" "^fd 2 dev" "$label: the prober ran"
        unlike "$devs" "@${outer#*@} " "$label: no fd of the command, nor its /dev/tty, is on the host's devpts"
        if leader "$out"; then ok 0 "$label: the command leads a session of its own"; else
                ok 1 "$label: the command leads a session of its own"
                diag "got: $(field "$out" session)"
        fi
        if [ $control = 0 ]; then
                like "$(field "$out" pending)" "^b''$" "$label: nothing was pushed into the caller's terminal"
        else
                ok 0 "$label: nothing was pushed into the caller's terminal # SKIP no control"
        fi
        LAST=$out
}
attack "stdin /dev/null, stdout a pipe" \
        "vs-enter $g -- /sbin/init --tiocsti $marker </dev/null | cat"
like "$(probed "$LAST" | grep '^fd 2')" "@$guest_pts " "its stderr, the terminal, is a pty of the guest's devpts"
attack "no terminal among 0-2" \
        "vs-enter $g -- /sbin/init --tiocsti $marker </dev/null 2>&1 | cat"
like "$(probed "$LAST")" "^/dev/tty ENXIO" "with no terminal among 0-2, the command has no controlling terminal"
attack "stdin the terminal, stdout a pipe" \
        "vs-enter $g -- /sbin/init --tiocsti $marker | cat"
like "$(probed "$LAST" | grep '^fd 0')" "@$guest_pts " "its stdin is a pty of the guest's devpts"
like "$(probed "$LAST" | grep '^fd 1')" "ENOTTY" "its stdout is not (a pipe)"
attack "all of 0-2 the terminal" \
        "vs-enter $g -- /sbin/init --tiocsti $marker"
like "$(probed "$LAST" | grep '^/dev/tty')" "INJECTED" "its controlling terminal is its own pty (TIOCSTI lands there)"

# The relay, with no terminal at all.
is "$(echo hi | vs-enter $g -- /sbin/init --cat /dev/stdin 2>/dev/null)" hi "stdin reaches the command"
is "$(head -c 1048576 /dev/zero | vs-enter $g -- /sbin/init --cat /dev/stdin 2>/dev/null | wc -c)" 1048576 \
        "1 MiB through stdin and stdout, then the end of input"
vs-enter $g -- /sbin/init --cat /nonexistent </dev/null >"$VST_ROOT/out" 2>"$VST_ROOT/err"
is $? 1 "the command's exit status comes back"
is "$(cat "$VST_ROOT/out")" "" "its error message is not on stdout"
like "$(cat "$VST_ROOT/err")" "^vs-test-init: /nonexistent" "it is on stderr"
vs-enter $g -- /sbin/init --hostname </dev/null >"$VST_ROOT/out" 2>"$VST_ROOT/err"
is "$(cat "$VST_ROOT/out")/$(cat "$VST_ROOT/err")" "$g/" "its output is on stdout only"
is "$(timeout 20 vs-enter $g -- /sbin/init --cat /dev/zero </dev/null 2>/dev/null | head -c 5 | wc -c)" 5 \
        "a reader that stops ends the command (EPIPE)"
vs-enter $g -- /sbin/init --sleep 100 </dev/null >/dev/null 2>&1 &
enter=$!
sleep 1
kill -TERM $enter
wait_for 10 gone $enter
wait $enter
is $? 143 "SIGTERM to vs-enter reaches the command"

# The pty comes from the guest's devpts, as the supervisor holds it: by no
# name inside the guest, so hiding /dev/pts does not change it.
is "$("$run" $(slow 10) vs-enter $g -- /sbin/init --readlink /proc/self/fd/0 | sed -n 1p)" /dev/pts/0 \
        "the command's terminal is /dev/pts/0 inside"
like "$("$run" $(slow 10) vs-enter $g -- /sbin/init --stat /proc/self/fd/0)" "^dev 136:[0-9]+@$guest_pts\$" \
        "it lives in the guest's devpts ($guest_pts)"
check "the guest hides its /dev/pts" -- vs-enter $g -- /sbin/init --mount tmpfs none /dev/pts - </dev/null
like "$("$run" $(slow 10) vs-enter $g -- /sbin/init --stat /proc/self/fd/0)" "^dev 136:[0-9]+@$guest_pts\$" \
        "vs-enter's pty still comes from the guest's own devpts"

check "stop it" -- vs-stop $g
check_no_leftovers $g
done_testing
