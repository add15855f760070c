#!/bin/bash
# Building Debian guests: the template cache, atomic builds, interrupted and
# failing builds that leave nothing behind.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

g=$(guest vst-deb1)
start=$(date +%s.%N)
check "vs-build $g --template debian (bookworm, systemd)" -- build_debian $g
diag "first build took $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
like "$(cat "$VS_CONFDIR/$g.conf")" "template = debian" "the config names the template"
like "$(cat "$VS_CONFDIR/$g.conf")" "release = bookworm" "and the release"
like "$(cat "$VS_CONFDIR/$g.conf")" "halt_signal = SIGRTMIN\+3" "a systemd guest halts on SIGRTMIN+3"
r=$VS_GUESTDIR/$g/rootfs
is "$(cat $r/etc/hostname)" "$g" "/etc/hostname is the guest's name"
like "$(cat $r/etc/hosts)" "127.0.1.1[[:space:]]+$g" "/etc/hosts names the guest"
like "$(cat $r/etc/machine-id)" '^[0-9a-f]{32}$' "the guest has its own machine id"
like "$(readlink $r/sbin/init)" systemd "/sbin/init is systemd"
like "$(grep -c . "$VST_ROOT/build-$g.log")" '^[0-9]+$' "vs-build printed progress"
ls -d "$VS_CACHEDIR"/templates/debian-bookworm-*-systemd >/dev/null 2>&1
ok $? "the template cache holds the bookworm systemd tree"

# A second guest of the same template comes from the cache.
g2=$(guest vst-deb2)
start=$(date +%s.%N)
check "a second build from the cache" -- build_debian $g2 --hostname second.example
diag "warm build took $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
like "$(cat "$VST_ROOT/build-$g2.log")" "cached template" "it used the cached template"
unlike "$(cat "$VST_ROOT/build-$g2.log")" "I: Retrieving" "and ran no debootstrap"
is "$(cat $VS_GUESTDIR/$g2/rootfs/etc/hostname)" "second.example" "--hostname is used"
[ "$(cat $VS_GUESTDIR/$g/rootfs/etc/machine-id)" != "$(cat $VS_GUESTDIR/$g2/rootfs/etc/machine-id)" ]
ok $? "two guests have different machine ids"
is "$(stat -c %a $VS_GUESTDIR/$g2/rootfs/tmp)" 1777 "modes are preserved (/tmp 1777)"
is "$(stat -c %t:%T $VS_GUESTDIR/$g2/rootfs/dev/null 2>/dev/null || echo none)" \
   "$(stat -c %t:%T $VS_CACHEDIR/templates/$(ls $VS_CACHEDIR/templates | grep -m1 '^debian-bookworm-.*-systemd$')/dev/null 2>/dev/null || echo none)" \
   "device nodes are copied as they are in the template"

out=$(vs-build $g2 --template debian 2>&1)
is $? 1 "building over an existing guest fails"
like "$out" "exists already.*--force" "and points at --force"
old_id=$(cat $VS_GUESTDIR/$g2/rootfs/etc/machine-id)
check "--force rebuilds it" -- build_debian $g2 --force
[ "$old_id" != "$(cat $VS_GUESTDIR/$g2/rootfs/etc/machine-id)" ]
ok $? "the rebuilt guest is a new one"

# The pid of the first process named COMM below PID (the template runs in
# its own PID namespace, but the host sees its processes and their pids).
descendant() { # descendant PID COMM
        local c
        for c in $(pgrep -P "$1"); do
                [ "$(cat /proc/$c/comm 2>/dev/null)" = "$2" ] && { echo $c; return 0; }
                descendant $c "$2" && return 0
        done
        return 1
}

# kill -9 in the middle of a copy from the cache: the copy dies with
# vs-build, no guest is left, and the next build clears what was left.
k=$(guest vst-killed)
vs-build $k --template debian >/dev/null 2>&1 &
b=$!
# Under way means: vs-build's cp runs and the build's tree is filling.
copying() {
        cp_pid=$(descendant $b cp) || return 1
        [ -n "$(ls -A "$VS_GUESTDIR"/.build-$k.*/rootfs 2>/dev/null)" ]
}
cp_pid=""
wait_for 60 copying && ! gone $cp_pid
ok $? "the template's copy is under way (cp ${cp_pid:-not seen} below vs-build $b)"
kill -9 $b
wait $b 2>/dev/null
[ -n "$cp_pid" ] && wait_for 10 gone $cp_pid
ok $? "the template's copy is gone"
# Gone, not finished: the build tree holds only part of the template's.
cache_tree=$(ls -d "$VS_CACHEDIR"/templates/debian-bookworm-*-systemd | head -1)
copied=$(find "$VS_GUESTDIR"/.build-$k.*/rootfs 2>/dev/null | wc -l)
whole=$(find "$cache_tree" | wc -l)
[ "$copied" -lt "$whole" ]
ok $? "the template's copy died with vs-build ($copied of $whole entries copied)"
[ ! -e "$VS_CONFDIR/$k.conf" ] && [ ! -e "$VS_GUESTDIR/$k" ]
ok $? "kill -9 during a build leaves no guest"
is "$(vs-list | grep -c "^$k ")" 0 "vs-list does not show it"
is "$(ls -d "$VS_GUESTDIR"/.build-$k.* 2>/dev/null | wc -l)" 1 "the killed build left its temporary tree"
check "the next build succeeds" -- build_debian $k
is "$(ls -A $VS_GUESTDIR | grep -c '^\.build-')" 0 "no temporary build directory is left"

# kill -9 during debootstrap itself (a new cache key): debootstrap dies too.
kd=$(guest vst-killed-deb)
vs-build $kd --template debian --include hello >"$VST_ROOT/kd.log" 2>&1 &
b=$!
debootstrapping() {
        db_pid=$(descendant $b debootstrap) || return 1
        grep -q "I: Retrieving\|I: Validating\|Resolving" "$VST_ROOT/kd.log"
}
db_pid=""
wait_for 60 debootstrapping && ! gone $db_pid
ok $? "debootstrap is under way (pid ${db_pid:-not seen} below vs-build $b)"
kill -9 $b
wait $b 2>/dev/null
[ -n "$db_pid" ] && wait_for 10 gone $db_pid
ok $? "debootstrap died with vs-build"
[ ! -e "$VS_CONFDIR/$kd.conf" ] && [ ! -e "$VS_GUESTDIR/$kd" ]
ok $? "no guest after a killed debootstrap"
on_exit "rm -rf $VS_CACHEDIR/templates/debian-bookworm-*-systemd-*.tmp.*"

# A failing debootstrap (unreachable mirror, loopback only) fails cleanly.
f=$(guest vst-fail)
out=$(vs-build $f --template debian --include nosuchpkg-xyz --mirror http://127.0.0.1:9/debian 2>&1)
rc=$?
[ $rc != 0 ]
ok $? "a failing debootstrap makes vs-build fail (exit $rc)"
like "$out" "template failed|refused" "and says why"
[ ! -e "$VS_CONFDIR/$f.conf" ] && [ ! -e "$VS_GUESTDIR/$f" ]
ok $? "a failed build leaves no guest"
is "$(ls -A $VS_GUESTDIR | grep -c '^\.build-')" 0 "nor a build directory"
on_exit "rm -rf $VS_CACHEDIR/templates/debian-bookworm-*-systemd-*.tmp.*"
done_testing
