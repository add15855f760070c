#!/bin/bash
# Events: vs-events shows, as they happen, a guest's start, ready, an OOM
# kill, a vs-limit change, an ANON kill and each way it can stop (halt,
# poweroff, reboot, its init killed, its supervisor killed: the
# undertaker's), each once and in order; NAME picks the guests; Ctrl-C ends
# it with exit 0 at once; each event reaches the host's log once.
#
# The host's log: the journal where journald owns /dev/log; elsewhere this
# test runs in a mount namespace of its own whose /dev holds its own /dev/log
# (tests/helpers/vs-syslog-catch), so nothing of the host's is touched.
if [ -z "${VST_EVENTS_NS:-}" ] &&
        ! { [ -S /run/systemd/journal/dev-log ] && [ "$(readlink -f /dev/log)" = /run/systemd/journal/dev-log ]; } &&
        [ "$(id -u)" = 0 ] && unshare -m --propagation private true 2>/dev/null; then
        VST_EVENTS_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

# ---- the host's log ----------------------------------------------------------
syslog_mode=none
if [ -n "${VST_EVENTS_NS:-}" ]; then
        # /dev anew: a tmpfs holding binds of every entry of the host's /dev
        # and our own log socket. The staging mount is gone before anything
        # can remove files below it.
        stage=$(mktemp -d /run/vst-events-dev.XXXXXX)
        if mount --rbind /dev "$stage" && mount -t tmpfs -o mode=755,nosuid tmpfs /dev; then
                for e in "$stage"/* "$stage"/.[!.]*; do
                        [ -e "$e" ] || [ -L "$e" ] || continue
                        b=${e##*/}
                        [ "$b" = log ] && continue
                        # A bound ptmx node finds no devpts beside it: the
                        # one at /dev/pts is reached through its own ptmx.
                        if [ "$b" = ptmx ]; then
                                ln -s pts/ptmx /dev/ptmx
                                continue
                        fi
                        if [ -L "$e" ]; then
                                cp -P "$e" "/dev/$b"
                        elif [ -d "$e" ]; then
                                mkdir "/dev/$b" && mount --rbind "$e" "/dev/$b"
                        else
                                : >"/dev/$b" && mount --bind "$e" "/dev/$b"
                        fi
                done
                syslog_mode=catch
        fi
        umount -l "$stage" 2>/dev/null
        rmdir "$stage"
        if [ $syslog_mode = catch ]; then
                "$VS_TOP_BUILDDIR/tests/helpers/vs-syslog-catch" /dev/log "$VST_ROOT/syslog" >"$VST_ROOT/catch.out" &
                catcher=$!
                on_exit "kill $catcher"
                wait_for 5 grep -q ready "$VST_ROOT/catch.out" || syslog_mode=none
        fi
elif [ -S /run/systemd/journal/dev-log ] && journalctl -q -n 0 >/dev/null 2>&1; then
        syslog_mode=journal
fi
diag "host log: $syslog_mode"
t0=$(date +%s)

# The messages for guest $1 the host's log holds, as "EVENT how=HOW" lines.
logged() {
        case $syslog_mode in
        catch) sed -n "s/.*vserver\[[0-9]*\]: Guest \"$1\": //p" "$VST_ROOT/syslog" ;;
        journal)
                journalctl --sync 2>/dev/null
                journalctl -q -o cat -t vserver --since "@$t0" | sed -n "s/^Guest \"$1\": //p"
                ;;
        esac | sed -E 's/^([a-z-]+)( how=([a-z]+))?.*/\1\2/'
}

# "EVENT how=HOW" for each line of a vs-events --json output.
summary() { jq -r '.event + (if .how then " how=" + .how else "" end)' "$1"; }

# The vs-events instance $1 watches its directory (inotify): nothing is missed.
watching() { ls -l "/proc/$1/fd" 2>/dev/null | grep -q inotify; }

# Sends vs-events $1 signal $2; "gone" when it ended within a second (its
# exit status in $ended), else kills it (a test must not hang on it).
end_events() {
        kill -"$2" "$1"
        if wait_for 1 gone "$1"; then
                wait "$1"
                ended=$?
                echo gone
        else
                kill -KILL "$1"
                wait "$1"
                ended=killed
                echo running
        fi
}

# ---- usage -----------------------------------------------------------------
check "vs-events --help" -- vs-events --help
vs-events 'bad/name' >/dev/null 2>&1
is $? 2 "a bad guest name is refused (exit 2)"
vs-events --since yesterday >/dev/null 2>&1
is $? 2 "a bad --since is refused (exit 2)"

# ---- one guest through every event ---------------------------------------------
a=$(guest events-a)
b=$(guest events-b)
d=$(guest events-deb)
check "build $a (RSS 64M)" -- build_minimal $a --rss 64M
check "build $b" -- build_minimal $b
check "build $d (Debian, systemd)" -- build_debian $d
mode=unprivileged
[ -n "${VS_TEST_PRIVILEGED:-}" ] && mode=privileged

vs-events --json $a >"$VST_ROOT/a.json" 2>"$VST_ROOT/a.err" &
ea=$!
vs-events $b >"$VST_ROOT/b.txt" 2>&1 &
eb=$!
vs-events --json $d >"$VST_ROOT/d.json" 2>&1 &
ed=$!
on_exit "kill $ea $eb $ed"
wait_for 5 watching $ea && wait_for 5 watching $eb && wait_for 5 watching $ed
ok $? "vs-events watches the events file"

check "start $a" -- vs-start $a
check "start $b" -- vs-start $b

# systemd says when it is ready; it halts through reboot(2), whose SIGINT
# makes no difference between halt and power off.
check "start $d and wait until it is ready" -- vs-start --wait $d
check "stop $d" -- vs-stop $d
end_events $ed TERM >/dev/null
is "$(summary "$VST_ROOT/d.json" | tr '\n' ,)" "start,ready how=notify,stop how=poweroff," \
        "$d: start, ready (notify), stop (poweroff)"

# OOM: 200M under the 64M RSS limit; the supervisor counts it within a
# second (cgroup v1), at once on v2, where it watches the group's
# memory.events with inotify.
backend=$(sed -n 's/^backend=//p' "$VS_RUNDIR/$a/state")
if [ "$backend" = v2 ]; then
        sup=$(sed -n 's/^supervisor_pid=//p' "$VS_RUNDIR/$a/state")
        events=$(sed -n 's/^cgroup=//p' "$VS_RUNDIR/$a/state" | head -1)/memory.events
        ino=$(printf '%x' "$(stat -c %i "$events")")
        grep -qs "^inotify wd:[0-9a-f]* ino:$ino " /proc/"$sup"/fdinfo/*
        ok $? "the supervisor watches $events (inotify)"
else
        skip "the supervisor watches the guest's memory.events" "cgroup $backend: no memory.events"
fi
vs-enter $a -- /sbin/init --alloc 200 >/dev/null 2>&1
is $? 137 "allocating 200M under a 64M RSS limit is OOM-killed"
killed=$(date +%s.%N)
wait_for 5 grep -q '"oom-kill"' "$VST_ROOT/a.json"
ok $? "the OOM kill is an event"
if [ "$backend" = v2 ] && [ "$VS_TEST_SLOW" = 1 ]; then
        at=$(date -u -d "$(jq -r 'select(.event == "oom-kill") | .time' "$VST_ROOT/a.json" | head -1)" +%s.%N)
        lag=$(awk -v a="$at" -v k="$killed" 'BEGIN { printf "%.3f", a - k }')
        diag "the OOM kill's event came $lag s after vs-enter ended"
        awk -v l="$lag" 'BEGIN { exit !(l < 0.5) }'
        ok $? "the OOM kill is an event within 0.5 s (not the next once-a-second look)"
elif [ "$backend" = v2 ]; then
        skip "the OOM kill is an event within 0.5 s" "an emulated host (VS_TEST_SLOW=$VS_TEST_SLOW) times nothing"
else
        skip "the OOM kill is an event within 0.5 s" "cgroup $backend: counted once a second"
fi

check "vs-limit $a anon=32M" -- vs-limit $a anon=32M
vs-enter $a -- /sbin/init --alloc 48 3 >/dev/null 2>&1
is $? 137 "48M of anonymous memory under a 32M ANON limit is killed"
wait_for 5 grep -q '"anon-kill"' "$VST_ROOT/a.json"
ok $? "the ANON kill is an event"

check "vs-stop $a" -- vs-stop $a
check "start $a again" -- vs-start $a
vs-enter $a -- /sbin/init --reboot poweroff >/dev/null 2>&1
wait_for 10 grep -q '"poweroff"' "$VST_ROOT/a.json"
ok $? "poweroff inside: its stop is recorded"
check "start $a again" -- vs-start $a
vs-enter $a -- /sbin/init --reboot restart >/dev/null 2>&1
wait_for 10 grep -q '"reboot"' "$VST_ROOT/a.json"
ok $? "reboot inside: its stop is recorded"
check "start $a again" -- vs-start $a
kill -KILL "$(init_pid $a)"
wait_for 10 grep -q '"signal SIGKILL"' "$VST_ROOT/a.json"
ok $? "its init killed from the host: recorded"
check "start $a again" -- vs-start $a
sup=$(sed -n 's/^supervisor_pid=//p' "$VS_RUNDIR/$a/state")
kill -KILL "$sup"
wait_for 10 grep -q '"supervisor killed"' "$VST_ROOT/a.json"
ok $? "its supervisor killed: the undertaker records the stop"
wait_for 10 test ! -e "$VS_RUNDIR/$a"
check_no_leftovers $a
check "stop $b" -- vs-stop $b
wait_for 5 grep -q ' stop ' "$VST_ROOT/b.txt"

# Ctrl-C: a clean end, at once.
end_events $ea INT >"$VST_ROOT/end"
is "$(cat "$VST_ROOT/end") $ended" "gone 0" "SIGINT ends vs-events within a second, with exit status 0"
end_events $eb TERM >"$VST_ROOT/end"
is "$(cat "$VST_ROOT/end") $ended" "gone 0" "SIGTERM too"
is "$(cat "$VST_ROOT/a.err")" "" "nothing on its stderr"

want="start
ready how=exec
oom-kill
limit
anon-kill
stop how=halt
start
ready how=exec
stop how=poweroff
start
ready how=exec
stop how=reboot
start
ready how=exec
stop how=killed
start
ready how=exec
stop how=killed"
got=$(summary "$VST_ROOT/a.json")
is "$got" "$want" "every event of $a once, in order, with the right how"
is "$(jq -r 'select(.event == "stop") | .status' "$VST_ROOT/a.json" | tr '\n' ,)" \
        "exit 0,signal SIGINT,signal SIGHUP,signal SIGKILL,supervisor killed," "and the right status"
is "$(jq -r 'select(.event == "start") | .mode' "$VST_ROOT/a.json" | sort -u)" $mode "started $mode"
is "$(jq -r 'select(.event == "limit") | .set + " " + .live' "$VST_ROOT/a.json")" "anon=32M yes" \
        "the limit change, live"
is "$(jq -r 'select(.event == "oom-kill") | .kills' "$VST_ROOT/a.json")" 1 "one OOM kill"
like "$(jq -r 'select(.event == "anon-kill") | .message' "$VST_ROOT/a.json")" "ANON limit 32 MiB exceeded.*killed pid" \
        "the ANON kill says what"
is "$(jq -r .guest "$VST_ROOT/a.json" | sort -u)" $a "only $a's events for vs-events $a"
got=$(awk '{print $2, $3, $4}' "$VST_ROOT/b.txt" | sed 's/init_pid=[0-9]*/init_pid=N/' | tr '\n' ,)
is "$got" "$b start init_pid=N,$b ready how=exec,$b stop how=halt," "only $b's events for vs-events $b, as text"

# History: the recorded events, without following.
is "$(vs-events --json --no-follow -n 2 $a | summary /dev/stdin | tr '\n' ,)" "ready how=exec,stop how=killed," \
        "--no-follow -n 2: the last two"
is "$(vs-events --json --no-follow --since "@$t0" $a | wc -l)" "$(wc -l <"$VST_ROOT/a.json")" \
        "--since: all of them"

# The host's log: each event once.
if [ $syslog_mode = none ]; then
        skip "each event reaches the host's log once" "no journal and no private mount namespace for a /dev/log"
else
        wait_for 5 test "$(logged $a | wc -l)" -ge "$(wc -l <"$VST_ROOT/a.json")"
        is "$(logged $a)" "$want" "each event of $a reaches the host's log ($syslog_mode) once, in order"
        is "$(logged $b | wc -l)" 3 "and each of $b's"
        is "$(logged $d | tr '\n' ,)" "start,ready how=notify,stop how=poweroff," "and of $d's"
fi

done_testing
