#!/bin/bash
# Per-user kernel counters of unprivileged guests: the kernel charges
# inotify instances (fs.inotify.max_user_instances) to the owner of every
# user namespace up the chain. Each unprivileged guest's user namespace is
# owned by its own host ids, so one guest holding most of the quota leaves
# the next its own. Positive control: two user namespaces owned by host
# root (made here with unshare) share root's quota. The guests have a
# MEMLOCK limit, which a clone under the guest's uid must not lose.
. "$(dirname "$0")/lib.sh"

max=$(cat /proc/sys/fs/inotify/max_user_instances)
if [ "$max" -gt 4096 ]; then
        skip "inotify quota" "fs.inotify.max_user_instances is $max: too many instances to show sharing"
        done_testing
fi
# 100 of 128, about 80% elsewhere: two holders of N cannot share one quota.
n=$((max == 128 ? 100 : max * 80 / 100))
hold=$(slow 15)

# root's subordinate ids of this test only, in a range of this run, so no
# other test's guests share their owner with ours.
test_subids "root:$((3000000000 + ($$ % 8000) * 131072)):131072"
scratch_guestdir 512M

# The owner of a process's user namespace (ioctl NS_GET_OWNER_UID).
ns_owner() {
        python3 -c 'import fcntl, os, struct, sys
fd = os.open("/proc/%s/ns/user" % sys.argv[1], os.O_RDONLY)
print(struct.unpack("I", fcntl.ioctl(fd, 0xb704, bytes(4)))[0])' "$1"
}
# hold OUT CMD...: run CMD in the background, wait until it says how many
# instances it got.
hold() {
        local out=$1
        shift
        "$@" >"$out" 2>&1 &
        wait_for "$(slow 10)" grep -q "^inotify " "$out"
}
got() { sed -n 's/^inotify \([0-9]*\)$/\1/p' "$1"; }

# ---- positive control: namespaces owned by host root share its quota ------
hold "$VST_ROOT/ctl-a" unshare -U --map-root-user "$VS_TEST_INIT" --inotify-hold "$n" "$hold"
ctl_a=$!
ctl_b=$(unshare -U --map-root-user "$VS_TEST_INIT" --inotify-hold "$n" 0 | sed -n 's/^inotify //p')
kill "$ctl_a" 2>/dev/null
wait "$ctl_a" 2>/dev/null
diag "control: A got $(got "$VST_ROOT/ctl-a"), B got $ctl_b of $n (quota $max)"
[ "${ctl_b:-0}" -lt "$n" ]
ok $? "control: two namespaces owned by host root share its $max instances"

# ---- two unprivileged guests ----------------------------------------------
a=$(guest uscnta)
b=$(guest uscntb)
for g in "$a" "$b"; do
        # A MEMLOCK limit below the host's: the supervisor cannot set the
        # limits of a child under the guest's uid, the child sets it.
        check "minimal guest $g built" -- build_minimal "$g" --set guest.userns=yes --memlock 1024K
        check "$g starts unprivileged" -- vs-start "$g"
done
for g in "$a" "$b"; do
        h=$(host_id "$g")
        like "$h" "^[0-9]+$" "$g has its host ids"
        is "$(ns_owner "$(init_pid "$g")")" "$h" "the user namespace of $g is owned by its host uid"
        is "$(awk '/^Max locked memory/ {print $4 "/" $5}' "/proc/$(init_pid "$g")/limits")" 1048576/1048576 \
                "its init has the MEMLOCK limit"
        # vs-enter cannot prlimit() an init under another uid without
        # CAP_SYS_RESOURCE: it must still hand the guest's limit on.
        is "$(vs-enter "$g" -- /sbin/init --memlock-limit 2>&1)" "1048576 1048576" \
                "a command entered into $g gets the guest's MEMLOCK limit"
done
hold "$VST_ROOT/usc-a" vs-enter "$a" -- /sbin/init --inotify-hold "$n" "$hold"
usc_a=$!
is "$(got "$VST_ROOT/usc-a")" "$n" "guest A holds $n inotify instances"
is "$(vs-enter "$b" -- /sbin/init --inotify-hold "$n" 0 | sed -n 's/^inotify //p')" "$n" \
        "guest B still makes $n of its own"
kill "$usc_a" 2>/dev/null
wait "$usc_a" 2>/dev/null
done_testing
