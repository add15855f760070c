#!/bin/bash
# Issue 6, point 9: the guest sees only its own cgroup (a cgroup namespace
# rooted at NAME/guest) and cannot raise its limits, which sit on NAME
# above it, nor set a release_agent, even by mounting cgroup hierarchies
# itself; on a v2 host, in the unified hierarchy the same way.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

g=$(guest vsb-cgroup)
check "build a minimal guest with limits" -- build_minimal $g --rss 64M --pids 100 --cpu-weight 200
ra_before=$(cat /sys/fs/cgroup/*/release_agent 2>/dev/null | md5sum)
check "start it" -- vs-start $g
inside() { vs-enter $g -- /sbin/init "$@" 2>&1; }

if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
        # A v2 host: one unified group NAME with the limits, the guest's
        # namespace rooted at NAME/guest, and no release_agent at all.
        like "$(inside --cat /proc/self/cgroup)" "^0::/$" "the guest's cgroup is its namespace root"
        unlike "$(inside --cat /proc/self/cgroup)" "vservers" "no host cgroup path shows inside"
        p=$(cgroup_paths $g)
        is "$(cat "$p/memory.max")" $((64 << 20)) "the RSS limit is on the host's NAME group"
        is "$(cat "$p/pids.max")" 100 "pids.max is on NAME"
        is "$(cat "$p/cpu.weight")" 200 "cpu.weight is on NAME"
        unlike "$(inside --ls /sys/fs/cgroup)" "^guest$" "the guest's view has no guest/ inside: it is the root"
        is "$(inside --cat /sys/fs/cgroup/memory.max)" max "what the guest sees is its leaf, without the limit"
        # Whatever guest root may write in its own view (its leaf), and in
        # a cgroup2 it mounts itself (rooted at its namespace root), lies
        # below NAME: the limits hold.
        inside --write /sys/fs/cgroup/memory.max 9999999999 >/dev/null
        inside --write /sys/fs/cgroup/pids.max max >/dev/null
        check "make a mount point" -- vs-enter $g -- /sbin/init --mkdir /tmp/cg
        vs-enter $g -- /sbin/init --mkdir /tmp/named >/dev/null
        is "$(inside --mount cgroup2 none /tmp/cg -)" ok "guest root can mount cgroup2 itself"
        unlike "$(inside --ls /tmp/cg)" "^guest$" "its own cgroup2 mount is rooted at its namespace root"
        inside --write /tmp/cg/memory.max 9999999999 >/dev/null
        inside --write /tmp/cg/pids.max max >/dev/null
        inside --write /tmp/cg/cpu.weight 10000 >/dev/null
        is "$(cat "$p/memory.max")" $((64 << 20)) "the RSS limit is unchanged on the host"
        is "$(cat "$p/pids.max")" 100 "pids.max is unchanged on the host"
        is "$(cat "$p/cpu.weight")" 200 "cpu.weight is unchanged on the host"
        like "$(inside --alloc 200 2>&1; echo "rc=$?")" "rc=(1|137)|Killed" "the guest still cannot use 200 MiB"
        # A v1 hierarchy of its own with a release_agent: refused.
        r=$(inside --mount cgroup none /tmp/named none,name=vsbpwn,release_agent=/tmp/pwn)
        like "$r" "^(EPERM|EINVAL|EBUSY)$" "a v1 hierarchy with a release_agent is refused ($r)"
else
        like "$(inside --cat /proc/self/cgroup)" "^[0-9]+:memory:/$" "the guest's memory cgroup is its namespace root"
        unlike "$(inside --cat /proc/self/cgroup)" "vservers" "no host cgroup path shows inside"
        for p in $(cgroup_paths $g); do
                case "$p" in */memory/*) mem=$p ;; */pids/*) pids=$p ;; */cpu/*) cpu=$p ;; esac
        done
        is "$(cat "$mem/memory.limit_in_bytes")" $((64 << 20)) "the RSS limit is on the host's NAME group"
        is "$(cat "$pids/pids.max")" 100 "pids.max is on NAME"
        unlike "$(inside --ls /sys/fs/cgroup/memory)" "^guest$" "the guest's view has no guest/ inside: it is the root"
        is "$(inside --cat /sys/fs/cgroup/memory/memory.limit_in_bytes)" "9223372036854771712" "what the guest sees is its leaf, without the limit"

        # Raise the limits through the mounted hierarchies (read-only) and through
        # hierarchies the guest mounts itself (rooted at its namespace root).
        is "$(inside --write /sys/fs/cgroup/memory/memory.limit_in_bytes 9999999999 | sed 's/.*: //')" "Read-only file system" "the mounted memory hierarchy is read-only"
        is "$(inside --remount-rw /sys/fs/cgroup/memory)" EPERM "and cannot be remounted read-write"
        check "make mount points" -- vs-enter $g -- /sbin/init --mkdir /tmp/mem
        vs-enter $g -- /sbin/init --mkdir /tmp/pids >/dev/null
        vs-enter $g -- /sbin/init --mkdir /tmp/named >/dev/null
        is "$(inside --mount cgroup none /tmp/mem memory)" ok "guest root can mount the memory hierarchy itself"
        inside --write /tmp/mem/memory.limit_in_bytes 9999999999 >/dev/null
        inside --write /tmp/mem/memory.memsw.limit_in_bytes 9999999999 >/dev/null
        inside --mount cgroup none /tmp/pids pids >/dev/null
        inside --write /tmp/pids/pids.max max >/dev/null
        is "$(cat "$mem/memory.limit_in_bytes")" $((64 << 20)) "the RSS limit is unchanged on the host"
        is "$(cat "$pids/pids.max")" 100 "pids.max is unchanged on the host"
        is "$(cat "$cpu/cpu.shares")" 2048 "cpu.shares is unchanged on the host"
        like "$(inside --alloc 200 2>&1; echo "rc=$?")" "rc=(1|137)|Killed" "the guest still cannot use 200 MiB"

        # release_agent: not visible in its namespace, not settable by mount options.
        is "$(inside --ls /tmp/mem | grep -c release_agent)" 0 "no release_agent in the guest's own memory mount"
        r=$(inside --mount cgroup none /tmp/named none,name=vsbpwn,release_agent=/tmp/pwn)
        like "$r" "^(EPERM|EINVAL|EBUSY)$" "a new hierarchy with a release_agent is refused ($r)"
        # The kernel mounts an existing hierarchy again but ignores the option.
        r=$(inside --mount cgroup none /tmp/named pids,release_agent=/tmp/pwn)
        diag "mounting pids with release_agent=/tmp/pwn inside: $r"
        is "$(inside --ls /tmp/named | grep -c release_agent)" 0 "that mount shows no release_agent either"
        is "$(cat /sys/fs/cgroup/*/release_agent 2>/dev/null | md5sum)" "$ra_before" "every release_agent of the host's hierarchies is unchanged"
        unlike "$(cat /sys/fs/cgroup/pids/release_agent 2>/dev/null)" "pwn" "the pids hierarchy's release_agent is not the guest's"

        # guest.cgroup = unified (what systemd guests get by default here):
        # its group of the cgroup2 tree alone at /sys/fs/cgroup, writable and
        # without controllers; the limits on v1 stay out of reach the same way.
        u=$(guest txcg-unified)
        check "build a minimal guest with limits and cgroup = unified" -- \
                build_minimal $u --rss 64M --pids 100 --set guest.cgroup=unified
        check "start it" -- vs-start $u
        inu() { vs-enter $u -- /sbin/init "$@" 2>&1; }
        for p in $(cgroup_paths $u); do
                case "$p" in */memory/*) umem=$p ;; */pids/*) upids=$p ;; esac
        done
        like "$(grep ' /sys/fs/cgroup ' /proc/$(init_pid $u)/mountinfo)" " - cgroup2 " "the unified view: cgroup2 at /sys/fs/cgroup"
        is "$(inu --cat /sys/fs/cgroup/cgroup.controllers)" "" "with no controller in it"
        unlike "$(inu --ls /sys/fs/cgroup)" "^(guest|memory|pids)$" "and neither guest/ nor any v1 hierarchy"
        inu --write /sys/fs/cgroup/cgroup.subtree_control +memory >/dev/null
        vs-enter $u -- /sbin/init --mkdir /tmp/mem >/dev/null
        vs-enter $u -- /sbin/init --mkdir /tmp/pids >/dev/null
        is "$(inu --mount cgroup none /tmp/mem memory)" ok "guest root can mount the memory hierarchy itself"
        inu --write /tmp/mem/memory.limit_in_bytes 9999999999 >/dev/null
        inu --mount cgroup none /tmp/pids pids >/dev/null
        inu --write /tmp/pids/pids.max max >/dev/null
        is "$(cat "$umem/memory.limit_in_bytes")" $((64 << 20)) "the RSS limit is unchanged on the host"
        is "$(cat "$upids/pids.max")" 100 "pids.max is unchanged on the host"
        like "$(inu --alloc 200 2>&1; echo "rc=$?")" "rc=(1|137)|Killed" "the guest still cannot use 200 MiB"
        check "vs-stop it" -- vs-stop --timeout 10 $u
        check_no_leftovers $u
fi

check "vs-stop" -- vs-stop --timeout 10 $g
check_no_leftovers $g
done_testing
