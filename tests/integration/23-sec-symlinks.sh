#!/bin/bash
# Issue 6, point 3: a hostile rootfs whose mount targets are symlinks to host
# paths (absolute and ../ escapes) cannot make vs-start create, mount or
# write anything outside the guest's root. The host paths are checked
# byte for byte afterwards.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

g=$(guest vsb-symlinks)
check "build a minimal guest" -- build_minimal $g
root=$VS_GUESTDIR/$g/rootfs

# Control: the same guest, before its tree turns hostile, starts. A refusal
# below is then down to the links, not to a guest that never starts.
check "control: the guest starts while its tree is sound" -- vs-start $g
is "$(vs-enter $g -- /sbin/init --hostname)" "$g" "control: the sound guest runs"
check "control: vs-stop" -- vs-stop --timeout 10 $g

# Host bait: directories and files a redirected mount or write would hit.
bait=$VST_ROOT/bait
mkdir -p "$bait/proc" "$bait/dev" "$bait/sys" "$bait/run" "$bait/etc" "$bait/pts"
echo "host hostname" >"$bait/hostname"
echo "host machine-id" >"$bait/machine-id"
echo "host null" >"$bait/null"
snapshot() { (cd "$bait" && find . -printf '%p %y %s %m\n' | sort && cat hostname machine-id null) | md5sum; }
before=$(snapshot)
mounts_before=$(awk '{print $5}' /proc/self/mountinfo | sort | md5sum)

# The hostile tree: every target the runtime touches points out of the root.
rm -rf "$root/proc" "$root/dev" "$root/sys" "$root/run" "$root/etc/hostname" "$root/etc/machine-id"
ln -s "$bait/proc" "$root/proc"
ln -s "../../../../../../../../..$bait/dev" "$root/dev"
ln -s "$bait/sys" "$root/sys"
ln -s "$bait/run" "$root/run"
ln -s "$bait/hostname" "$root/etc/hostname"
ln -s "$bait/machine-id" "$root/etc/machine-id"
mkdir -p "$root/tmp/d"
ln -s "$bait/null" "$root/tmp/d/null"
# Control: followed from the host, the links do reach the bait (the ../ one too).
is "$(readlink -f "$root/dev"):$(readlink -f "$root/etc/hostname")" "$bait/dev:$bait/hostname" \
        "control: followed on the host, the guest's links reach the host's bait"

vs-start $g >"$VST_ROOT/start.out" 2>&1
rc=$?
diag "vs-start exit status $rc: $(head -c 300 "$VST_ROOT/start.out")"
if [ $rc = 0 ]; then
        # It started: harmlessly, with everything inside the root.
        is "$(vs-enter $g -- /sbin/init --hostname)" "$g" "the guest runs with its own host name"
        vs-enter $g -- /sbin/init --write /etc/hostname pwned >/dev/null 2>&1
        vs-enter $g -- /sbin/init --write /etc/machine-id pwned >/dev/null 2>&1
        vs-enter $g -- /sbin/init --write /tmp/d/null pwned >/dev/null 2>&1
        vs-enter $g -- /sbin/init --write /proc/../hostname pwned >/dev/null 2>&1
        # /proc -> $bait/proc resolved in the guest's root: proc sits on the
        # guest's own directory of that name.
        like "$(vs-enter $g -- /sbin/init --cat /proc/self/mountinfo)" " $bait/proc .* - proc " "proc is mounted on the link's target inside the guest"
        is "$(cat "$root$bait/hostname" 2>/dev/null)" pwned "the guest's writes through its links land inside its root"
        check "vs-stop" -- vs-stop --timeout 10 $g
        # The links are resolved inside the root: the absolute link
        # /proc -> /…/bait/proc counts from the guest's /.
        [ -d "$root$bait/proc" ] && [ ! -L "$root$bait/proc" ]
        ok $? "what /proc pointed at was made inside the guest's root"
else
        # A refusal passes only as the refusal meant: the kernel's answer to
        # a path that leaves the root (EXDEV) or to a link not to follow
        # (ELOOP), at one of the hostile targets. Any other failure fails.
        like "$(cat "$VST_ROOT/start.out")" \
                "Cannot start \"$g\": .* on \"(/proc|/dev|/sys|/run|/etc/hostname|/etc/machine-id|/tmp/d/null)(/[^\"]*)?\": (Invalid cross-device link|Too many levels of symbolic links)\$" \
                "the hostile rootfs is refused at a link that leaves the root"
fi
is "$(cat "$bait/hostname" "$bait/machine-id" "$bait/null")" "host hostname
host machine-id
host null" "the host's bait files keep their contents"
is "$(snapshot)" "$before" "the host's bait files and directories are unchanged"
is "$(find "$bait" -mindepth 1 | wc -l)" 9 "nothing was created among the host's bait"
is "$(awk '{print $5}' /proc/self/mountinfo | sort | md5sum)" "$mounts_before" "the host's mount table is unchanged"
is "$(hostname)" "$(uname -n)" "the host's name is untouched"
check_no_leftovers $g
check "vs-destroy removes the hostile tree without following its links" -- vs-destroy $g
is "$(snapshot)" "$before" "the host's bait survives vs-destroy"
done_testing
