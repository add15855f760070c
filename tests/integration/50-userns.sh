#!/bin/bash
# Unprivileged guests (guest.userns = yes): init runs in a user namespace of
# its own under the guest's host ids; vs-enter joins it; systemd boots to
# "running"; two guests get disjoint ranges; an explicit overlap is refused;
# and guest root cannot remount the filesystem under a dir guest, which
# root of a privileged guest can (the positive control, on a scratch ext4
# the test makes: every guest of this test lives on it).
. "$(dirname "$0")/lib.sh"

test_subids
scratch_guestdir 3G
loops0=$(our_loops)

make_unprivileged() { # make_unprivileged NAME [IDMAP]
        sed -i "/^userns = /d; /^idmap = /d; s/^\[guest\]\$/[guest]\nuserns = yes${2:+\nidmap = $2}/" "$VS_CONFDIR/$1.conf"
}

# ---- a minimal guest -----------------------------------------------------
a=$(guest usa)
check "minimal guest built" -- build_minimal "$a"
make_unprivileged "$a"
like "$(vs-start --dry-run "$a")" "^userns +auto" "--dry-run says the range is chosen at start"
out=$(vs-start "$a" 2>&1)
ok $? "unprivileged minimal guest starts"
like "$out" "root:1000000:1000000000 added to $VS_SUBUID and $VS_SUBGID" \
        "root's missing subordinate range is installed, and vs-start says so"
like "$(cat "$VS_SUBUID")" "^root:1000000:1000000000$" "root's range is in subuid"
ha=$(host_id "$a")
is "$ha" 1000000 "the range is recorded in the guest's config"
pid=$(init_pid "$a")
is "$(ps -o uid= -p "$pid" | tr -d ' ')" "$ha" "on the host, init runs under the guest's host uid"
is "$(ps -o gid= -p "$pid" | tr -d ' ')" "$ha" "and its host gid"
like "$(vs-enter "$a" -- /sbin/init --cat /proc/self/uid_map)" "^ +0 +$ha +65536$" \
        "inside, uid_map maps 0 to the range"
like "$(vs-enter "$a" -- /sbin/init --cat /proc/self/status)" "Uid:.0.0.0.0" "vs-enter runs as the guest's uid 0"
like "$(vs-enter "$a" -- /sbin/init --cat /proc/1/status)" "Uid:.0.0.0.0" "init is uid 0 inside"
like "$(vs-enter "$a" -- /sbin/init --ls /dev)" "urandom" "device nodes are there"
unlike "$(grep " $VS_GUESTDIR/$a/rootfs" /proc/self/mountinfo)" . "none of its mounts shows on the host"
like "$(grep " / " "/proc/$pid/mountinfo")" "idmapped" "its root is an id-mapped mount"
unlike "$(grep " / " "/proc/$pid/mountinfo")" "shared:" "and not a peer of the host's"
check "/dev/null is usable" -- vs-enter "$a" -- /sbin/init --open-rw /dev/null
like "$(vs-enter "$a" -- /sbin/init --mknod /dev/sda0 b 8 0 2>&1)" "EPERM" "mknod is refused"
# The cgroup leaf is guest root's, its parent (the limits) the host's.
for p in $(cgroup_paths "$a"); do
        is "$(stat -c %u "$p/guest")/$(stat -c %u "$p")" "$ha/0" "leaf of $p delegated, limits kept"
        break
done
check "guest root writes a file" -- vs-enter "$a" -- /sbin/init --write /probe x
is "$(stat -c %u:%g "$VS_GUESTDIR/$a/rootfs/probe")" 0:0 "stored as host uid 0 on disk, as the tree was built"
check "vs-stop stops it" -- vs-stop "$a"
check_no_leftovers "$a"
# Nothing on disk depends on the mode: switch it off and on again.
sed -i 's/^userns = yes$/userns = no/' "$VS_CONFDIR/$a.conf"
check "switched to privileged, it starts" -- vs-start "$a"
is "$(ps -o uid= -p "$(init_pid "$a")" | tr -d ' ')" 0 "its init is host root again"
is "$(vs-enter "$a" -- /sbin/init --cat /probe)" x "and reads the file it wrote unprivileged"
vs-stop "$a" >/dev/null 2>&1
sed -i 's/^userns = no$/userns = yes/' "$VS_CONFDIR/$a.conf"

# ---- the image layout ----------------------------------------------------
i=$(guest usimg)
check "minimal guest on an image built" -- build_minimal "$i" --disk 64M --set guest.userns=yes
check "it starts unprivileged" -- vs-start "$i"
hi=$(host_id "$i")
is "$(ps -o uid= -p "$(init_pid "$i")" | tr -d ' ')" "$hi" "its init runs under its host uid"
like "$(vs-enter "$i" -- /sbin/init --cat /proc/self/status)" "Uid:.0.0.0.0" "vs-enter is its uid 0"
check "guest root writes its own root filesystem" -- vs-enter "$i" -- /sbin/init --write /probe x
check "vs-stop stops it" -- vs-stop "$i"
check_no_leftovers "$i"
is "$(our_loops)" "$loops0" "no loop device is left (the scratch filesystem's aside)"
# (The shared layout unprivileged: 41-disk-shared.sh.)

# ---- ranges ---------------------------------------------------------------
b=$(guest usb)
check "second minimal guest built" -- build_minimal "$b"
make_unprivileged "$b"
check "it starts" -- vs-start "$b"
hb=$(host_id "$b")
ok $([ -n "$hb" ] && { [ $((hb + 65536)) -le "$ha" ] || [ $((ha + 65536)) -le "$hb" ]; }; echo $?) \
        "two guests have disjoint ranges ($ha, $hb)"
is "$(ps -o uid= -p "$(init_pid "$b")" | tr -d ' ')" "$hb" "its init runs under its own range"
vs-stop "$b" >/dev/null 2>&1
# Two first starts at once: the lock on the config directory keeps them apart.
e=$(guest use)
f=$(guest usf)
build_minimal "$e" --set guest.userns=yes && build_minimal "$f" --set guest.userns=yes
ok $? "two more guests built"
vs-start "$e" >/dev/null 2>&1 &
vs-start "$f" >/dev/null 2>&1
wait $!
he=$(host_id "$e")
hf=$(host_id "$f")
ok $([ -n "$he" ] && [ -n "$hf" ] && [ "$(printf '%s\n' "$ha" "$hb" "$he" "$hf" | sort -u | wc -l)" = 4 ]; echo $?) \
        "started in parallel, they get ranges of their own ($he, $hf)"
vs-stop "$e" >/dev/null 2>&1
vs-stop "$f" >/dev/null 2>&1
c=$(guest usc)
check "third minimal guest built" -- build_minimal "$c"
make_unprivileged "$c" "$((ha + 100)):1000"
out=$(vs-start "$c" 2>&1)
ok $([ $? != 0 ]; echo $?) "an explicit range overlapping another guest's is refused"
like "$out" "\"$c\" overlap.*guest \"$a\"" "naming both guests"
like "$out" "$c.conf: key \"guest.idmap\"" "and the file and key"
# Its config claims those ids all the same: it goes.
vs-destroy --force "$c" >/dev/null 2>&1

# ---- systemd ---------------------------------------------------------------
d=$(guest usd)
if build_debian "$d"; then
        ok 0 "Debian guest built"
        make_unprivileged "$d"
        check "unprivileged Debian guest starts" -- vs-start "$d"
        state=$(wait_systemd "$d")
        is "$state" running "systemd reaches running"
        [ "$state" = running ] || vs-enter "$d" -- systemctl --failed --no-pager | sed 's/^/#   /;$a\'
        hd=$(host_id "$d")
        is "$(ps -o uid= -p "$(init_pid "$d")" | tr -d ' ')" "$hd" "systemd runs under the guest's host uid"
        is "$(vs-enter "$d" -- id -u)" 0 "vs-enter: id -u is 0"
        like "$(vs-enter "$d" -- cat /proc/self/uid_map)" "^ +0 +$hd +65536$" "vs-enter is in the guest's user namespace"
        is "$(vs-enter "$d" -- stat -c %U /etc/shadow)" root "the root's files are root's inside"
        is "$(stat -c %u "$VS_GUESTDIR/$d/rootfs/etc/shadow")" 0 "and stay host uid 0 on disk"
        check "vs-stop stops it" -- vs-stop "$d"
        check_no_leftovers "$d"
else
        ok 1 "Debian guest built"
fi

# ---- attack: the superblock under a dir guest ------------------------------
rw_now() { touch "$scratch/.probe" 2>/dev/null && rm -f "$scratch/.probe"; }
p=$(guest uspriv)
check "privileged guest built" -- build_minimal "$p" --privileged
check "it starts" -- vs-start "$p"
check "unprivileged guest starts" -- vs-start "$a"
out=$(vs-enter "$a" -- /sbin/init --remount-sb-ro / 2>&1)
like "$out" "EPERM|EACCES" "unprivileged guest root cannot remount the host's filesystem read-only"
rw_now
ok $? "the scratch filesystem is still writable on the host"
out=$(vs-enter "$p" -- /sbin/init --remount-sb-ro / 2>&1)
like "$out" "^ok" "positive control: privileged guest root can"
rw_now
ok $([ $? != 0 ]; echo $?) "positive control: the scratch filesystem went read-only on the host"
mount -o remount,rw "$scratch"
vs-stop "$p" >/dev/null 2>&1
vs-stop "$a" >/dev/null 2>&1
check_no_leftovers "$a"

done_testing
