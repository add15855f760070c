#!/bin/bash
# Issue 6, point 5: the guest is pivot_root'ed (no chroot), the old root is
# detached, and mounts do not propagate either way: a tmpfs mounted in the
# guest never shows on the host or in another guest, and a mount made on the
# host under a running guest's rootfs never shows inside it (the guest's
# mounts are private copies, locked in their own namespace).
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

a=$(guest vsb-pivot-a)
b=$(guest vsb-pivot-b)
check "build guest a" -- build_minimal $a
check "build guest b" -- build_minimal $b
check "start a" -- vs-start $a
check "start b" -- vs-start $b
ina() { vs-enter $a -- /sbin/init "$@" 2>&1; }
inb() { vs-enter $b -- /sbin/init "$@" 2>&1; }
pid_a=$(sed -n 's/^init_pid=//p' "$VS_RUNDIR/$a/state")
root_a=$VS_GUESTDIR/$a/rootfs

# pivot_root, not chroot: init's root is the root of its mount namespace.
mi=$(ina --cat /proc/1/mountinfo)
is "$(printf '%s\n' "$mi" | awk '$5 == "/" {print $4}' | head -1)" "$root_a" "the guest's / is its rootfs, as a mount"
is "$(readlink /proc/$pid_a/root)" / "init's root is / of its own namespace (pivot_root; a chroot would show the rootfs path)"
unlike "$(printf '%s\n' "$mi" | awk '{print $5}')" "^/(work|home|boot|var/tmp|oldroot|\.oldroot)" "no trace of the host's tree or the old root inside"
is "$(printf '%s\n' "$mi" | awk -v r="$root_a" '$5 == r' | wc -l)" 0 "the rootfs path itself is not a mount point inside"

# Guest -> host and guest -> guest.
check "a mounts a tmpfs inside" -- vs-enter $a -- /sbin/init --mount tmpfs vsb-leak /tmp -
like "$(ina --cat /proc/self/mountinfo)" " /tmp .* vsb-leak " "the tmpfs is mounted in guest a"
is "$(grep -c vsb-leak /proc/self/mountinfo)" 0 "it does not appear in the host's mount table"
is "$(grep -c vsb-leak /proc/1/mountinfo)" 0 "nor in the host init's"
is "$(inb --cat /proc/self/mountinfo | grep -c vsb-leak)" 0 "nor in guest b"
is "$(ls -A "$root_a/tmp" | wc -l)" 0 "the host sees a's plain /tmp directory, not the tmpfs"

# Host -> guest: a mount on the host under the running guest's rootfs.
mkdir -p "$root_a/mnt/hostside"
if mount -t tmpfs vsb-hostside "$root_a/mnt/hostside"; then
        on_exit umount "$root_a/mnt/hostside"
        touch "$root_a/mnt/hostside/from-host"
        is "$(ina --cat /proc/self/mountinfo | grep -c vsb-hostside)" 0 "a mount made on the host under the rootfs does not reach the guest"
        is "$(ina --ls /mnt/hostside)" "" "the guest sees its own empty directory"
        umount "$root_a/mnt/hostside"
        ok $? "the host unmounts it again"
else
        ok 1 "mount a tmpfs under the guest's rootfs on the host"
fi

check "vs-stop a" -- vs-stop --timeout 10 $a
check "vs-stop b" -- vs-stop --timeout 10 $b
check_no_leftovers $a
check_no_leftovers $b
done_testing
