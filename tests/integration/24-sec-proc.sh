#!/bin/bash
# Issue 6, point 4: /proc and /sys inside a guest. Read-only and masked
# paths hold against guest root (CAP_SYS_ADMIN): the masks cannot be
# unmounted, the read-only mounts cannot be made writable, and a fresh proc
# or sysfs mount is refused, because the guest's mounts are locked (a mount
# namespace owned by a user namespace). /proc/sys/net stays writable.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

g=$(guest vsb-proc)
check "build a minimal guest" -- build_minimal $g
check "start it" -- vs-start $g
inside() { vs-enter $g -- /sbin/init "$@" 2>&1; }
mi=$(inside --cat /proc/self/mountinfo)
mnt_opts() { printf '%s\n' "$mi" | awk -v p="$1" '$5 == p {print $6}' | tail -1; }

host_hostname=$(cat /proc/sys/kernel/hostname)
for p in /proc/sys /proc/sysrq-trigger /proc/irq /proc/bus; do
        if [ -e "$p" ]; then
                like "$(mnt_opts $p)" "^ro," "$p is mounted read-only"
        else
                skip "$p is mounted read-only" "$p is not in this kernel (nothing to protect)"
        fi
done
is "$(inside --write /proc/sys/kernel/hostname pwned)" "vs-test-init: /proc/sys/kernel/hostname: Read-only file system" "writing a kernel sysctl fails"
like "$(mnt_opts /proc/sys/net)" "^rw," "/proc/sys/net is writable"
check "the guest sets its own net sysctls" -- vs-enter $g -- /sbin/init --write /proc/sys/net/ipv4/ip_forward 1
for p in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do
        if [ -e "$p" ]; then
                is "$(inside --cat $p | wc -c)" 0 "$p is masked (empty)"
                like "$(mnt_opts $p)" "^ro," "its mask is read-only"
        else
                skip "$p is masked" "$p is not in this kernel (nothing to mask)"
        fi
done
is "$(inside --ls /sys/firmware | wc -l)" 0 "/sys/firmware is masked (empty)"
like "$(mnt_opts /sys)" "^ro," "/sys is mounted read-only"
unlike "$(inside --write /sys/kernel/uevent_helper /tmp/pwn)" "^$" "writing /sys/kernel/uevent_helper fails"

# Attacks from guest root on the masks and read-only mounts.
for p in /proc/keys /proc/timer_list /sys/firmware /proc/sys /proc/irq /proc /sys; do
        if [ ! -e "$p" ]; then
                skip "umount $p fails (locked)" "$p is not in this kernel (nothing to attack)"
                continue
        fi
        is "$(inside --umount $p)" EINVAL "umount $p fails (locked)"
        is "$(inside --umount-lazy $p)" EINVAL "umount -l $p fails (locked)"
done
is "$(inside --remount-rw /proc/sys)" EPERM "remounting /proc/sys read-write fails"
is "$(inside --remount-rw /sys)" EPERM "remounting /sys read-write fails"
check "make a scratch mount point" -- vs-enter $g -- /sbin/init --mkdir /tmp/p
is "$(inside --mount proc proc /tmp/p -)" EPERM "a fresh proc mount is refused (too revealing)"
is "$(inside --mount sysfs sysfs /tmp/p -)" EPERM "a fresh sysfs mount is refused"
is "$(inside --bind /proc/sys /tmp/p)" EINVAL "a bind of /proc/sys alone is refused (it would uncover a locked mount)"
is "$(inside --bind /proc/irq /tmp/p)" ok "a bind of /proc/irq is allowed..."
is "$(inside --remount-rw /tmp/p)" EPERM "...but it stays read-only"
is "$(inside --cat /proc/keys | wc -c)" 0 "/proc/keys is still masked after the attacks"
is "$(cat /proc/sys/kernel/hostname)" "$host_hostname" "the host's name is untouched"

check "vs-stop" -- vs-stop --timeout 10 $g
check_no_leftovers $g
done_testing
