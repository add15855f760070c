#!/bin/bash
# Layout "shared": an overlay on a versioned, read-only copy of the cached
# template; a build writes only the guest's own files; guests are
# independent; a version in use is never removed; no overlay mount is left.
# Unprivileged shared guests with disjoint host id ranges stack on the same
# version, seen through id-mapped layers: one copy on disk and in the page
# cache, and what they write lands unshifted in their upper layers.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

our_overlays() { grep -c " overlay .*$VST_ROOT/" /proc/self/mountinfo; }

a=$(guest vsd-sh1)
b=$(guest vsd-sh2)
check "build a shared guest (makes the template version once)" -- build_debian $a --shared --privileged
t0=$(date +%s%N)
check "build a second shared guest" -- build_debian $b --shared --privileged
diag "second shared build took $((($(date +%s%N) - t0) / 1000000)) ms"
like "$(cat "$VS_CONFDIR/$b.conf")" "layout = shared" "the config has layout = shared"
lower=$(readlink "$VS_GUESTDIR/$a/lower")
like "$lower" "^$VS_GUESTDIR/\.templates/debian-bookworm-amd64-systemd-[0-9a-f]{8}$" "the guest links to a versioned template copy"
is "$(readlink "$VS_GUESTDIR/$b/lower")" "$lower" "both guests use the same version"
is "$(ls -A "$VS_GUESTDIR/$a/rootfs")" "" "the rootfs is an empty mount point"
like "$(cat "$VS_GUESTDIR/$b/upper/etc/hostname")" "^$b$" "the guest's own files are in its upper layer"
n=$(find "$VS_GUESTDIR/$b/upper" -type f | wc -l)
[ "$n" -lt 20 ]
ok $? "the upper layer holds only the guest's own files ($n)"

check "vs-start the first" -- vs-start $a
check "vs-start the second" -- vs-start $b
is "$(wait_systemd $a)" running "systemd on an overlay root reaches running"
is "$(wait_systemd $b)" running "so does the second guest"
like "$(vs-enter $a -- findmnt -n -o FSTYPE /)" "^overlay$" "the root is an overlay"
is "$(our_overlays)" 0 "no overlay is mounted in the host's namespace"
is "$(vs-enter $a -- hostname)" "$a" "each guest has its own host name"
is "$(vs-enter $b -- cat /etc/machine-id | wc -c)" 33 "and a machine id"
[ "$(vs-enter $a -- cat /etc/machine-id)" != "$(vs-enter $b -- cat /etc/machine-id)" ]
ok $? "the machine ids differ"

# Independence: a change in one is seen neither in the other nor in the template.
vs-enter $a -- sh -c 'echo only-in-a >/etc/motd; rm /etc/issue; echo new >/usr/local/a-file'
is "$(vs-enter $a -- cat /etc/motd)" only-in-a "the first guest sees its change"
unlike "$(vs-enter $b -- cat /etc/motd)" only-in-a "the second guest does not"
check "the second guest still has /etc/issue" -- vs-enter $b -- test -e /etc/issue
unlike "$(cat "$lower/etc/motd")" only-in-a "the template copy is unchanged"
check "the template copy still has /etc/issue" -- test -e "$lower/etc/issue"
[ ! -e "$lower/usr/local/a-file" ] && [ -e "$VS_GUESTDIR/$a/upper/usr/local/a-file" ]
ok $? "new files land in the guest's upper layer"
like "$(vs-stat --json $a)" '"disk_used_bytes":[1-9][0-9]*' "vs-stat shows the upper layer's usage"

# A version in use survives a garbage collection (a build or destroy runs one).
check "build and destroy a third guest" -- sh -c "vs-build vsd-sh3 --template debian --shared --privileged >/dev/null && vs-destroy vsd-sh3"
check "the version in use is still there" -- test -d "$lower/usr"

out=$(vs-destroy $a 2>&1)
ok $(($? == 0)) "vs-destroy refuses a running shared guest"
check "vs-stop the first" -- vs-stop --timeout 60 $a
check "vs-stop the second" -- vs-stop --timeout 60 $b
is "$(our_overlays)" 0 "no overlay mount is left"
check "vs-destroy the first" -- vs-destroy $a
[ ! -e "$VS_GUESTDIR/$a" ]
ok $? "its upper layer is gone"
check "the version is kept while the second guest uses it" -- test -d "$lower/usr"
check_no_leftovers $a

# ---- unprivileged shared guests ----------------------------------------------
test_subids root:1000000:1000000000
u=$(guest shu1)
v=$(guest shu2)
check "build an unprivileged shared guest" -- build_debian $u --shared --unprivileged
check "and a second one" -- build_debian $v --shared --unprivileged
is "$(readlink "$VS_GUESTDIR/$u/lower")/$(readlink "$VS_GUESTDIR/$v/lower")" "$lower/$lower" \
        "both stack on the template version the privileged guest uses"
check "vs-start the first unprivileged shared guest" -- vs-start $u
check "vs-start the second" -- vs-start $v
hu=$(host_id $u)
hv=$(host_id $v)
ok $([ -n "$hu" ] && [ -n "$hv" ] && { [ $((hu + 65536)) -le "$hv" ] || [ $((hv + 65536)) -le "$hu" ]; }; echo $?) \
        "the two have disjoint host id ranges ($hu, $hv)"
is "$(wait_systemd $u)" running "systemd reaches running in the first"
is "$(wait_systemd $v)" running "and in the second"
pu=$(init_pid $u)
pv=$(init_pid $v)
is "$(ps -o uid= -p "$pu" | tr -d ' ')" "$hu" "the first guest's init runs under its host uid"
like "$(grep " / / " "/proc/$pu/mountinfo")" " - overlay " "its root is an overlay"
is "$(vs-enter $u -- stat -c %u:%g /etc/passwd)" 0:0 "inside, a template file is guest root's"
is "$(vs-enter $v -- stat -c %u:%g /etc/passwd)" 0:0 "in the second guest too"
is "$(stat -c %u:%g /proc/$pu/root/etc/passwd)" "$hu:$hu" "from the host, the first guest's root ids"
is "$(stat -c %u:%g /proc/$pv/root/etc/passwd)" "$hv:$hv" "and the second guest's own"
is "$(stat -c %u:%g "$lower/etc/passwd")" 0:0 "the template copy itself stays unshifted"
# An overlay on one filesystem reports a lower file's own inode number: the
# same inode behind both guests is the same page cache.
ino=$(stat -c %i "$lower/usr/bin/dpkg")
is "$(stat -c %i /proc/$pu/root/usr/bin/dpkg)/$(stat -c %i /proc/$pv/root/usr/bin/dpkg)" "$ino/$ino" \
        "both guests see the template's own inode of /usr/bin/dpkg"
check "guest root changes a template file" -- vs-enter $u -- sh -c 'echo changed-in-u >>/etc/motd'
is "$(stat -c %u:%g "$VS_GUESTDIR/$u/upper/etc/motd")" 0:0 "the copy-up is stored as host id 0 in upper"
is "$(vs-enter $u -- stat -c %u /etc/motd)" 0 "and is guest root's inside"
check "a guest user's file" -- vs-enter $u -- sh -c 'echo x >/tmp/x && install -o 1000 -g 1000 /tmp/x /home/u-file'
is "$(stat -c %u:%g "$VS_GUESTDIR/$u/upper/home/u-file")" 1000:1000 "is stored as 1000 in upper"
unlike "$(cat "$lower/etc/motd")" changed-in-u "the template copy is unchanged"
unlike "$(vs-enter $v -- cat /etc/motd)" changed-in-u "the second guest does not see the change"
is "$(our_overlays)" 0 "no overlay is mounted in the host's namespace"
check "vs-stop the first unprivileged shared guest" -- vs-stop --timeout 60 $u
check "vs-stop the second" -- vs-stop --timeout 60 $v
check_no_leftovers $u
check_no_leftovers $v
is "$(our_overlays)" 0 "no overlay mount is left"

# A shared guest needs a template.
out=$(vs-build vsd-sh4 --shared --privileged --from-tar /nonexistent.tar 2>&1)
like "$out" "shared.*needs a template" "--shared with --from-tar is refused"
# A size on a shared guest is a project quota (61-disk-quota): refused,
# saying what to change, where the file system has none.
out=$(vs-build vsd-sh4 --shared --privileged --disk 1G 2>&1)
if [ $? = 0 ]; then
        like "$(cat "$VS_CONFDIR/vsd-sh4.conf")" "size = 1G" "--shared with a size is a project quota (this file system has them)"
        vs-destroy vsd-sh4 >/dev/null 2>&1
else
        like "$out" "disk.size on layout dir or shared is a project quota.*prjquota" \
                "--shared with a size asks for project quotas where the file system has none"
fi
[ ! -e "$VS_CONFDIR/vsd-sh4.conf" ] && [ -z "$(ls -d "$VS_GUESTDIR"/.build-* 2>/dev/null)" ]
ok $? "nothing is left of refused builds"
done_testing
