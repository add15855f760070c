#!/bin/bash
# The mode of a guest, shown and chosen: vs-list (table and --json) and
# vs-status tell a privileged guest from an unprivileged one and show its
# host id range once its first start has chosen it ("auto" before);
# vs-build --privileged and --unprivileged write the mode, and the guest's
# init runs on the host as root or under its mapped uid; an explicit range
# that overlaps another guest's is refused at build, naming both, writing
# nothing, so that it never blocks the other guest's start.
. "$(dirname "$0")/lib.sh"

test_subids
# The "unprivileged" and "idmap" members of guest NAME in vs-list --json.
mode_json() { # mode_json NAME
        vs-list --json | python3 -c '
import json, sys
g = [x for x in json.load(sys.stdin) if x["name"] == sys.argv[1]][0]
print(json.dumps([g["unprivileged"], g["idmap"]], separators=(",", ":")))' "$1"
}

# ---- built, not yet started ------------------------------------------------
p=$(guest ulpriv)
check "vs-build --privileged" -- build_minimal "$p" --privileged
like "$(cat "$VS_CONFDIR/$p.conf")" "^userns = no$" "it writes userns = no, explicitly"
is "$(mode_json "$p")" '[false,null]' "vs-list --json: unprivileged false, idmap null"
like "$(vs-list)" "^$p +stopped .* no$" "vs-list: USERNS no"
like "$(vs-status "$p")" "^$p: privileged$" "vs-status: privileged"

u=$(guest ulunpriv)
check "vs-build --unprivileged" -- build_minimal "$u" --unprivileged
like "$(cat "$VS_CONFDIR/$u.conf")" "^userns = yes$" "it writes userns = yes"
like "$(cat "$VS_CONFDIR/$u.conf")" "^idmap = auto$" "and idmap = auto"
is "$(mode_json "$u")" '[true,"auto"]' "vs-list --json: unprivileged, idmap \"auto\" before the first start"
like "$(vs-list)" "^$u +stopped .* auto$" "vs-list: USERNS auto"
like "$(vs-status "$u")" "^$u: unprivileged, host ids auto" "vs-status: unprivileged, auto"

d=$(guest uldefault)
check "vs-build without either flag" -- build_minimal "$d"
is "$(mode_json "$d")" '[true,"auto"]' "the default is unprivileged"
like "$(cat "$VS_CONFDIR/$d.conf")" "^userns = yes$" "written explicitly, so a later default never switches it"
like "$(vs-build --help)" "the default, except with --clone" "--help says unprivileged is the default"
o=$(guest ulold)
check "a guest built before the default changed" -- build_minimal "$o" --set guest.userns=yes
sed -i '/^userns = /d; /^idmap = /d' "$VS_CONFDIR/$o.conf"
is "$(mode_json "$o")" '[false,null]' "without the key it stays privileged"
n=$(guest ulsetno)
check "vs-build --set guest.userns=no" -- build_minimal "$n" --set guest.userns=no
is "$(mode_json "$n")" '[false,null]' "names the mode without a flag"

# ---- started ---------------------------------------------------------------
check "the privileged guest starts" -- vs-start "$p"
is "$(ps -o uid= -p "$(init_pid "$p")" | tr -d ' ')" 0 "its init is host root"
is "$(mode_json "$p")" '[false,null]' "running: still unprivileged false"

check "the unprivileged guest starts" -- vs-start "$u"
h=$(host_id "$u")
is "$h" 1000000 "its first start records the first range"
is "$(ps -o uid= -p "$(init_pid "$u")" | tr -d ' ')" "$h" "its init runs under the mapped host uid"
is "$(mode_json "$u")" "[true,{\"host\":$h,\"count\":65536}]" "vs-list --json: the range, once allocated"
like "$(vs-list)" "^$u +running .* $h:65536$" "vs-list: USERNS HOSTID:COUNT"
like "$(vs-status "$u")" "^$u: running, init pid" "vs-status: the state line first"
like "$(vs-status "$u")" "^$u: unprivileged, host ids $h:65536$" "then the range"
# vs-status --json: the object vs-list --json has for the guest, alone.
st=$(vs-status --json "$u")
is "$?" 0 "vs-status --json exits 0 for a running guest"
is "$(printf '%s' "$st" | python3 -c '
import json, sys
g = json.load(sys.stdin)
print(g["name"], g["state"], g["pid"], g["supervisor_pid"] > 0, json.dumps(g["idmap"], separators=(",", ":")))')" \
        "$u running $(init_pid "$u") True {\"host\":$h,\"count\":65536}" \
        "vs-status --json: name, state, pid, supervisor pid and range"
is "$(vs-status --json "$p" | python3 -c 'import json, sys; print(json.load(sys.stdin)["idmap"])')" None \
        "vs-status --json: idmap null for the privileged guest"
# A running guest shows what it runs with, not what its config says now.
sed -i 's/^userns = yes$/userns = no/' "$VS_CONFDIR/$u.conf"
is "$(mode_json "$u")" "[true,{\"host\":$h,\"count\":65536}]" "running: its init's uid_map, not the edited config"
sed -i 's/^userns = no$/userns = yes/' "$VS_CONFDIR/$u.conf"

# ---- refusals --------------------------------------------------------------
x=$(guest ulrefused)
out=$(vs-build "$x" --template minimal --privileged --unprivileged 2>&1)
is $? 2 "--privileged --unprivileged: a usage error"
like "$out" "exclude each other" "saying so"
ok $([ ! -e "$VS_CONFDIR/$x.conf" ]; echo $?) "and nothing is written"

# An explicit range overlapping another guest's: refused at build. Once
# written it would count as taken and also stop the other guest's start.
out=$(vs-build "$x" --template minimal --unprivileged --set guest.idmap=$((h + 100)):1000 2>&1)
ok $([ $? != 0 ]; echo $?) "an explicit range overlapping another guest's is refused at build"
like "$out" "\"$x\" overlap.*guest \"$u\"" "naming both guests"
ok $([ ! -e "$VS_CONFDIR/$x.conf" ] && [ ! -e "$VS_GUESTDIR/$x" ]; echo $?) "writing nothing"
check "the other guest stops" -- vs-stop "$u"
check "and starts again on its range" -- vs-start "$u"
is "$(host_id "$u")" "$h" "the same range"
vs-stop "$u" >/dev/null 2>&1

e=$(guest ulexplicit)
check "a free explicit range is taken" -- build_minimal "$e" --unprivileged --set guest.idmap=2000000:65536
is "$(mode_json "$e")" '[true,{"host":2000000,"count":65536}]' "and shown before any start"
check "a rebuild keeps its own range (no overlap with itself)" -- \
        build_minimal "$e" --force --unprivileged --set guest.idmap=2000000:65536

c=$(guest ulclone)
check "a clone of the unprivileged guest" -- vs-build "$c" --clone "$u"
is "$(mode_json "$c")" '[true,"auto"]' "is unprivileged with a range of its own to come"
check "the source starts beside its clone's config" -- vs-start "$u"
check "the clone starts" -- vs-start "$c"
hc=$(host_id "$c")
ok $([ -n "$hc" ] && [ "$hc" != "$h" ]; echo $?) "on another range ($h, $hc)"
vs-stop "$c" >/dev/null 2>&1
vs-stop "$u" >/dev/null 2>&1
vs-stop "$p" >/dev/null 2>&1
check_no_leftovers "$u"

# ---- shared guests and this kernel's overlay ----------------------------------
# An unprivileged shared guest stacks its overlay on id-mapped layers given
# by fd, which overlay takes from Linux 6.13 on: before, vs-build refuses it
# (the v2 lane's Debian 12 kernel); from then on it builds.
sx=$(guest ulshared)
out=$(vs-build "$sx" --template debian --shared 2>&1)
rc=$?
if [ "$(printf '%s\n' 6.13 "$(uname -r)" | sort -V | head -1)" = 6.13 ]; then
        is $rc 0 "an unprivileged shared guest builds on $(uname -r)"
else
        [ $rc != 0 ] && [ ! -e "$VS_CONFDIR/$sx.conf" ]
        ok $? "an unprivileged shared guest is refused on $(uname -r) (exit $rc), nothing written"
        like "$out" "overlay takes no layers by file descriptor .*--privileged" "saying why and what to do"
fi

# ---- a file system that cannot id-map ---------------------------------------
# ramfs refuses id-mapped mounts. An unprivileged dir guest there has its
# files shifted to its host ids once, at build, and says so; it runs under
# them, refuses to run privileged or under another range (naming the key),
# exports the ids its guest sees, and a clone is shifted to a range of its
# own (or back to 0, privileged). A shared guest is refused there. The
# control for the probe is every unprivileged build above, on ext4, not
# shifted. (ACLs and file capabilities: ramfs has none; tests/unit/test-shift.)
ram=$VST_ROOT/ram
r=$(guest ulram)
rc=$(guest ulramclone)
rp=$(guest ulramprivclone)
mkdir -p "$ram" && mount -t ramfs -o mode=0700 ramfs "$ram"
ok $? "a scratch ramfs for guests"
on_exit "for x in $r $rc $rp; do VS_GUESTDIR='$ram' vs-stop \$x >/dev/null 2>&1; VS_GUESTDIR='$ram' vs-destroy --force \$x >/dev/null 2>&1; done; umount -l '$ram'"
out=$(VS_GUESTDIR=$ram vs-build "$r" --template minimal 2>&1)
ok $? "an unprivileged guest builds on ramfs"
like "$out" "The file system of $ram refuses id-mapped mounts: shifting the ids of \"$r\" to its host ids from [0-9]+, once" \
        "vs-build says it shifts its files, once"
hr=$(host_id "$r")
like "$(cat "$VS_CONFDIR/$r.conf")" "^shifted = $hr$" "the config records where ($hr)"
is "$(stat -c %u:%g "$ram/$r/rootfs/etc")" "$hr:$hr" "on disk its root's files are owned by its host root"
check "it starts" -- env VS_GUESTDIR="$ram" vs-start "$r"
is "$(ps -o uid= -p "$(init_pid "$r")" | tr -d ' ')" "$hr" "its init runs under its host uid"
like "$(vs-enter "$r" -- /sbin/init --cat /proc/self/status)" "Uid:.0.0.0.0" "and is root inside"
unlike "$(grep " / " "/proc/$(init_pid "$r")/mountinfo")" "idmapped" "its root is not id-mapped"
check "guest root writes a file" -- vs-enter "$r" -- /sbin/init --write /probe x
is "$(stat -c %u "$ram/$r/rootfs/probe")" "$hr" "stored under its host uid"
check "stop" -- env VS_GUESTDIR="$ram" vs-stop "$r"
is "$(VS_GUESTDIR=$ram vs-export --compress none "$r" | tar -tvf - --numeric-owner ./probe ./etc | awk '{print $2}' | sort -u)" \
        "0/0" "the export shows the ids its guest sees"
sed -i 's/^userns = yes$/userns = no/' "$VS_CONFDIR/$r.conf"
out=$(VS_GUESTDIR=$ram vs-start "$r" 2>&1)
isnt_zero=$?
[ $isnt_zero != 0 ]
ok $? "switched to privileged, it is refused (exit $isnt_zero)"
like "$out" "$VS_CONFDIR/$r.conf: key \"guest.shifted\": the files of \"$r\" were shifted" "naming the key"
sed -i 's/^userns = no$/userns = yes/' "$VS_CONFDIR/$r.conf"
check "a clone of it" -- env VS_GUESTDIR="$ram" vs-build "$rc" --clone "$r"
hc=$(host_id "$rc")
[ -n "$hc" ] && [ "$hc" != "$hr" ]
ok $? "has a range of its own ($hc)"
is "$(stat -c %u "$ram/$rc/rootfs/probe")" "$hc" "its files are shifted to it"
check "it starts" -- env VS_GUESTDIR="$ram" vs-start "$rc"
is "$(vs-enter "$rc" -- /sbin/init --cat /probe)" x "and reads the file as its own"
check "stop it" -- env VS_GUESTDIR="$ram" vs-stop "$rc"
check "a privileged clone of it" -- env VS_GUESTDIR="$ram" vs-build "$rp" --clone "$r" --privileged
is "$(stat -c %u "$ram/$rp/rootfs/probe")" 0 "its files are shifted back to 0"
unlike "$(cat "$VS_CONFDIR/$rp.conf")" "^shifted" "and it is not marked shifted"
out=$(VS_GUESTDIR=$ram vs-build ulramshared --template minimal --shared 2>&1)
isnt_zero=$?
[ $isnt_zero != 0 ] && [ ! -e "$VS_CONFDIR/ulramshared.conf" ]
ok $? "an unprivileged shared guest there is refused (exit $isnt_zero), nothing written"
like "$out" "refuses id-mapped mounts .*build \"ulramshared\" with --privileged" "saying what to do"

done_testing
