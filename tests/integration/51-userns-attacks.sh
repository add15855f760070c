#!/bin/bash
# Host exposures that the unprivileged mode (guest.userns = yes) closes, one
# attack each from inside a booted guest: refused to unprivileged guest root,
# and (the positive control) done by root of a privileged guest, then undone
# at once. Both guests live on a scratch ext4 the test makes: every attack
# aims at it, or at namespaces the attacking process makes itself.
#   fresh procfs in a new mount namespace (host-global files opened for
#   writing, never written); FIFREEZE of the filesystem under a dir guest;
#   a filesystem-wide fanotify mark; raising RLIMIT_MEMLOCK; SCHED_FIFO.
# VS_USERNS_ATTACKS_CONTROL=1 builds the "unprivileged" guest privileged:
# then its checks must fail, which shows they catch the attacks.
. "$(dirname "$0")/lib.sh"

test_subids
# A freeze the probe could not undo must not outlive the test: thaw first.
scratch_guestdir 1G "fsfreeze -u '$VST_ROOT/scratch' 2>/dev/null"

probe() { vs-enter "$1" -- /sbin/init "${@:2}" 2>&1; }
writable() { touch "$scratch/.probe" 2>/dev/null && rm -f "$scratch/.probe"; }

u=$(guest uau)
p=$(guest uap)
check "unprivileged minimal guest built" -- build_minimal "$u" --set guest.userns=$([ -n "${VS_USERNS_ATTACKS_CONTROL:-}" ] && echo no || echo yes)
check "privileged minimal guest built" -- build_minimal "$p" --privileged
check "unprivileged guest starts" -- vs-start "$u"
check "privileged guest starts" -- vs-start "$p"
like "$(probe "$u" --cat /proc/self/uid_map)" "^ +0 +[1-9][0-9]* +65536$" "the unprivileged guest is in a user namespace"
like "$(probe "$p" --cat /proc/self/uid_map)" "^ +0 +0 +4294967295$" "the privileged guest is not"

# ---- 1. a fresh procfs in a new mount namespace ----------------------------
out=$(probe "$u" --fresh-proc /run)
diag "unprivileged: $(echo $out)"
like "$out" "^mount (EPERM|EACCES)$|^/proc/sys/vm/drop_caches (EPERM|EACCES)" \
        "unprivileged: no fresh proc, or its drop_caches cannot be opened for writing"
unlike "$out" " ok$" "unprivileged: no host-global file of a fresh proc opens for writing"
out=$(probe "$p" --fresh-proc /run)
diag "privileged: $(echo $out)"
like "$out" "/proc/sys/vm/drop_caches ok" \
        "positive control: privileged guest root opens a fresh proc's sys/vm/drop_caches for writing"
if [ -e /proc/sysrq-trigger ]; then
        like "$out" "/proc/sysrq-trigger ok" "positive control: and its sysrq-trigger"
else
        skip "positive control: and its sysrq-trigger" "this kernel has no /proc/sysrq-trigger (no CONFIG_MAGIC_SYSRQ)"
fi
# The guest's own /proc stays masked in both: the masks hold, the new proc is the hole.
like "$(probe "$p" --open-rw /proc/sys/vm/drop_caches)" "EROFS|EACCES" "the privileged guest's own /proc/sys is read-only"

# ---- 2. freezing the filesystem under a dir guest --------------------------
out=$(probe "$u" --freeze /)
is "$out" EPERM "unprivileged guest root cannot freeze the host's filesystem"
writable
ok $? "the scratch filesystem is still writable on the host"
out=$(timeout 20 vs-enter "$p" -- /sbin/init --freeze / 2>&1)
is "$out" ok "positive control: privileged guest root freezes it (and thaws it at once)"
fsfreeze -u "$scratch" 2>/dev/null
timeout 10 bash -c "touch '$scratch/.probe' && rm -f '$scratch/.probe'"
ok $? "and the scratch filesystem is writable again"

# ---- 3. a filesystem-wide fanotify mark ------------------------------------
out=$(probe "$u" --fanotify-fs /)
like "$out" "^(EPERM|EACCES)" "unprivileged guest root cannot watch the whole host filesystem"
diag "unprivileged: $(echo $out)"
is "$(probe "$p" --fanotify-fs /)" ok "positive control: privileged guest root can"

# ---- 4. limits ---------------------------------------------------------------
bnd_has() { # bnd_has GUEST CAP-NUMBER: the guest's init keeps the capability
        local b
        b=$(sed -n 's/^CapBnd:\t//p' "/proc/$(init_pid "$1")/status")
        [ -n "$b" ] && (((0x$b >> $2) & 1))
}
like "$(probe "$u" --raise-memlock)" "^EPERM" "unprivileged guest root cannot raise its RLIMIT_MEMLOCK hard limit"
if bnd_has "$p" 24; then
        is "$(probe "$p" --raise-memlock)" ok "positive control: privileged guest root (CAP_SYS_RESOURCE) can"
else
        skip "positive control: privileged guest root raises its RLIMIT_MEMLOCK hard limit" \
                "CAP_SYS_RESOURCE is not in the host's bounding set"
fi

is "$(probe "$u" --rtprio-limit)" "0 0" "the unprivileged guest has RLIMIT_RTPRIO 0/0"
like "$(probe "$u" --sched-fifo)" "^EPERM" "unprivileged guest root cannot take SCHED_FIFO"
out=$(probe "$p" --sched-fifo)
rt=
for c in $(cgroup_paths "$p"); do
        [ -r "$c/cpu.rt_runtime_us" ] && rt=$(cat "$c/guest/cpu.rt_runtime_us" 2>/dev/null)
done
[ -n "$rt" ] && diag "RT group scheduling: the guest's group has cpu.rt_runtime_us $rt"
if [ "$rt" = 0 ] && [ "$out" = EPERM ]; then
        skip "positive control: privileged guest root (CAP_SYS_NICE) takes SCHED_FIFO" \
                "RT group scheduling and cpu.rt_runtime_us 0 refuse it to any guest here"
else
        is "$out" ok "positive control: privileged guest root (CAP_SYS_NICE) takes SCHED_FIFO"
fi
# A caller's RLIMIT_RTPRIO is not handed on: not to init, not to what
# vs-enter starts (a hard limit above 0 lets any process take SCHED_FIFO).
if prlimit --rtprio=10:10 true 2>/dev/null; then
        check "unprivileged guest stops" -- vs-stop "$u"
        check "and starts again under RLIMIT_RTPRIO 10" -- prlimit --rtprio=10:10 vs-start "$u"
        is "$(probe "$u" --cat /proc/1/limits | sed -n 's/^Max realtime priority *\([0-9]*\) *\([0-9]*\).*/\1 \2/p')" \
                "0 0" "its init has RLIMIT_RTPRIO 0/0"
        is "$(prlimit --rtprio=10:10 vs-enter "$u" -- /sbin/init --rtprio-limit 2>&1)" "0 0" \
                "vs-enter under RLIMIT_RTPRIO 10 hands on 0/0"
        like "$(prlimit --rtprio=10:10 vs-enter "$u" -- /sbin/init --sched-fifo 2>&1)" "^EPERM" \
                "and SCHED_FIFO is still refused"
else
        skip "a caller's RLIMIT_RTPRIO is not handed on to the guest" \
                "RLIMIT_RTPRIO is $(ulimit -Hr) here and raising it needs CAP_SYS_RESOURCE, which this host lacks"
fi

check "privileged guest stops" -- vs-stop "$p"
check "unprivileged guest stops" -- vs-stop "$u"
check_no_leftovers "$u"
check_no_leftovers "$p"

done_testing
