#!/bin/bash
# Issue 6, point 8: guest root may make any device node but open only the
# basic ones. A block device (sda-like and the host's own root disk) made
# with mknod inside cannot be read or written: the v1 devices allow list,
# and on the hybrid's cgroup2 tree the BPF device program, refuse it.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

# Privileged: an unprivileged guest cannot mknod at all (50-userns.sh).
g=$(guest vsb-devices)
check "build a privileged minimal guest" -- build_minimal $g --privileged
check "start it" -- vs-start $g
inside() { vs-enter $g -- /sbin/init "$@" 2>&1; }
rootdev=$(mountpoint -d /)
maj=${rootdev%:*} min=${rootdev#*:}

for n in null zero full random urandom ptmx; do
        is "$(inside --open-ro /dev/$n)" ok "/dev/$n can be opened"
done
# Without a controlling terminal the tty driver says ENXIO: past the policy.
like "$(inside --open-ro /dev/tty)" "^(ok|ENXIO)$" "/dev/tty is allowed by the policy"

is "$(inside --open-rw /dev/null)" ok "/dev/null is writable"
r=$(inside --mknod /tmp/sda b 8 0)
like "$r" "^(ok|EPERM)$" "mknod of b 8:0 works or is refused ($r)"
if [ "$r" = ok ]; then
        is "$(inside --open-ro /tmp/sda)" EPERM "reading b 8:0 fails with EPERM"
        is "$(inside --open-rw /tmp/sda)" EPERM "writing b 8:0 fails with EPERM"
fi
check "mknod of the host's root disk ($rootdev)" -- vs-enter $g -- /sbin/init --mknod /tmp/rootdisk b $maj $min
is "$(inside --open-ro /tmp/rootdisk)" EPERM "reading the host's root disk fails with EPERM"
is "$(inside --open-rw /tmp/rootdisk)" EPERM "writing the host's root disk fails with EPERM"
check "mknod of /dev/mem (c 1:1)" -- vs-enter $g -- /sbin/init --mknod /tmp/mem c 1 1
is "$(inside --open-ro /tmp/mem)" EPERM "reading /dev/mem fails with EPERM"
check "mknod of /dev/tty1 (c 4:1)" -- vs-enter $g -- /sbin/init --mknod /tmp/tty1 c 4 1
is "$(inside --open-rw /tmp/tty1)" EPERM "a host virtual console cannot be opened"
# The system console (c 5:1) is the host's; the guest's own console is its pty.
check "mknod of the system console (c 5:1)" -- vs-enter $g -- /sbin/init --mknod /tmp/syscons c 5 1
is "$(inside --open-rw /tmp/syscons)" EPERM "the host's system console cannot be opened"
is "$(inside --open-rw /dev/console)" ok "the guest's own /dev/console (its pty) opens"
check "mknod of a second null (c 1:3), the probe's control" -- vs-enter $g -- /sbin/init --mknod /tmp/null2 c 1 3
is "$(inside --open-rw /tmp/null2)" ok "a node made the same way opens when the policy allows it"

# The policy is on the guest's group, set by the host before the guest ran.
for p in $(cgroup_paths $g); do
        case "$p" in
        */devices/*)
                like "$(cat "$p/devices.list")" "^c 1:3 rwm$" "the v1 allow list holds /dev/null"
                unlike "$(cat "$p/devices.list")" "^(a|b [0-9*]+:[0-9*]+ r)" "and no block device is readable"
                is "$(inside --write /sys/fs/cgroup/devices/devices.allow a)" \
                        "vs-test-init: /sys/fs/cgroup/devices/devices.allow: Read-only file system" \
                        "the guest cannot widen its own list"
                # With the v1 list opened for the root disk from the host, the
                # BPF program on the cgroup2 tree still refuses it alone.
                v2=$(cgroup_paths $g | grep unified)
                if [ -n "$v2" ]; then
                        echo "b $maj:$min r" >"$p/devices.allow" && echo "b $maj:$min r" >"$p/guest/devices.allow"
                        ok $? "the host lets v1 allow reading $rootdev"
                        is "$(inside --open-ro /tmp/rootdisk)" EPERM "the cgroup v2 device program alone still refuses it"
                        echo "b $maj:$min r" >"$p/guest/devices.deny"
                fi
                ;;
        esac
done

check "vs-stop" -- vs-stop --timeout 10 $g
check_no_leftovers $g

# [devices] tun = yes: /dev/net/tun is made and usable, also by an
# unprivileged guest, whose nodes the supervisor makes with the plan's
# modes (the host's own node may be 0600).
t=$(guest vsb-devices-tun)
check "build an unprivileged guest with devices.tun = yes" -- build_minimal $t --unprivileged --set devices.tun=yes
if [ -c /dev/net/tun ]; then
        check "start it" -- vs-start $t
        like "$(vs-enter $t -- /sbin/init --open-rw /dev/net/tun 2>&1)" "^(ok|EBADFD|errno 77)$" "/dev/net/tun can be opened"
        tp=$(init_pid $t)
        is "$(stat -c '%a %u' /proc/$tp/root/dev/net/tun /proc/$tp/root/dev/null | tr '\n' ' ')" \
                "666 $(host_id $t) 666 $(host_id $t) " "its nodes are 0666 and its root's"
        check "vs-stop" -- vs-stop --timeout 10 $t
fi
done_testing
