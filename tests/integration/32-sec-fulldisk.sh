#!/bin/bash
# Hardening point 12, full disk: with the guests directory on a small
# filesystem that fills up, vs-build fails cleanly and leaves nothing; a
# guest that fills its own disk (layout image) gets ENOSPC for itself alone
# while the guest beside it and the host still write.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

# The guests directory on its own small ext4, on a loop device of ours.
small=$VST_ROOT/small
mkdir -p "$small"
truncate -s 320M "$VST_ROOT/small.img"
mkfs.ext4 -q -F -m 0 "$VST_ROOT/small.img"
loop=$(losetup --find --show "$VST_ROOT/small.img")
# Guests are stopped by the main trap after these cleanups ran: stop them
# here first so the filesystem is free to go.
on_exit 'for g in $(cat "$VST_ROOT/guests" 2>/dev/null); do vs-stop --timeout 5 $g; vs-destroy --force $g; done'
on_exit "umount '$small'"
on_exit "losetup -d '$loop'"
mount "$loop" "$small"
export VS_GUESTDIR=$small/lib
mkdir -p "$VS_GUESTDIR"

free_k() { df -k --output=avail "$small" | tail -1 | tr -d ' '; }
listing() { ls -A "$VS_GUESTDIR" | grep -v '^\.templates$' | tr '\n' ' '; }

# 1. A build that does not fit: a Debian tree into ~40 MiB.
fallocate -l $(( ($(free_k) - 40 * 1024) * 1024 )) "$small/filler"
before=$(free_k)
g=$(guest vsx-full)
out=$(vs-build $g --template debian 2>&1)
rc=$?
ok $((rc == 0)) "vs-build on a full filesystem fails (exit $rc)"
like "$out" "[Nn]o space left on device|ENOSPC" "and says the disk is full"
is "$(listing)" "" "nothing is left in the guests directory"
[ ! -e "$VS_CONFDIR/$g.conf" ]
ok $? "no config was written"
after=$(free_k)
[ $((before - after)) -lt 1024 ] && [ $((after - before)) -lt 1024 ]
ok $? "the free space is back where it was ($before K before, $after K after)"
rm -f "$small/filler"

# 2. Two image guests; the first fills its disk.
a=$(guest vsx-fill-a)
b=$(guest vsx-fill-b)
check "build image guest $a (64M)" -- build_minimal $a --disk 64M
check "build image guest $b (64M)" -- build_minimal $b --disk 64M
img_k=$(du -k "$VS_GUESTDIR/$a/disk.img" | cut -f1)
[ "$img_k" -ge $((64 * 1024)) ]
ok $? "the image's whole size is reserved on the host filesystem ($img_k K)"
check "start $a" -- vs-start $a
check "start $b" -- vs-start $b
host_before=$(free_k)
out=$(vs-enter $a -- /sbin/init --fill /big 2>&1)
like "$out" "^full [0-9]+$" "writing past the image in $a stops with ENOSPC ($out)"
[ "${out#full }" -gt $((32 << 20)) ] 2>/dev/null
ok $? "after filling most of its 64M"
check "$b still writes" -- vs-enter $b -- /sbin/init --write /more "$(head -c 100000 /dev/zero | tr '\0' x)"
host_after=$(free_k)
[ $((host_before - host_after)) -lt 1024 ]
ok $? "the host filesystem did not lose space to $a ($host_before K -> $host_after K)"
check "the host still writes 16 MiB beside the guests" -- dd if=/dev/zero of="$small/host-file" bs=1M count=16 status=none
rm -f "$small/host-file"
check "$a is still running" -- vs-status $a
check "$b is still running" -- vs-status $b

for x in $a $b; do
        check "stop $x" -- vs-stop --timeout 10 $x
        check_no_leftovers $x
done
done_testing
