#!/bin/bash
# Thin quotas: disk.size on layouts dir and shared is a project quota on the
# guest's tree, on ext4 and on XFS, each a scratch filesystem of the test's
# own on a loop device mounted with prjquota. On each: df inside shows the
# size, a write past it fails with the filesystem's error (ext4's quota code
# gives EDQUOT, "Disk quota exceeded", for every quota type; XFS gives ENOSPC,
# "No space left on device", for a project: asserted) while the host and a
# second guest keep writing, vs-limit grows it live and refuses to shrink it
# below the use, the guest cannot change its project id or its limit (each
# attempt beside the same one from the host, which works), vs-destroy lifts
# the limit; the same for a shared guest (privileged where the kernel is
# older than 6.13, which an unprivileged one needs). A filesystem without
# project quotas (ext4 without the features, XFS mounted without prjquota)
# is refused, saying what to change. On ext4 besides: the project ids of a
# rebuilt guest, a quota given live, the kernel's refusals without the
# seccomp filter, a Debian tree's walk. Where the kernel cannot mount a
# filesystem with project quotas (no CONFIG_QFMT_V2, no CONFIG_XFS_QUOTA)
# or mkfs.xfs is missing, that filesystem's checks SKIP with the reason.
# Guests: minimal (dir) with a static probe copied in, Debian (shared, whose
# template the minimal one lacks).
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

probe=$VS_TOP_BUILDDIR/tests/helpers/vs-quota-probe
if [ ! -x "$probe" ]; then
        echo "1..0 # SKIP tests/helpers/vs-quota-probe is not built (make check builds it)"
        exit 77
fi
p=quota
[ -z "${VS_TEST_PRIVILEGED:-}" ] || p=quotap

# A filesystem of our own on a loop device: mkscratch NAME SIZE FSTYPE
# MKFS-OPTIONS MOUNT-OPTIONS; sets $mnt and $dev. The guests made on it with
# guest_on NAME are stopped and destroyed (in it) before it goes.
mkscratch() {
        local img=$VST_ROOT/$1.img
        mnt=$VST_ROOT/$1
        mkdir -p "$mnt"
        truncate -s "$2" "$img"
        # shellcheck disable=SC2086
        case $3 in
        ext4) mkfs.ext4 -q -F -m 0 $4 "$img" ;;
        xfs) mkfs.xfs -q -f $4 "$img" ;;
        esac || return 1
        dev=$(losetup --find --show "$img") || return 1
        on_exit "(export VS_GUESTDIR='$mnt/lib'; for g in \$(cat '$VST_ROOT/guests.$1' 2>/dev/null); do vs-stop --timeout 5 \$g; vs-destroy --force \$g; done); umount -l '$mnt'; losetup -d '$dev'"
        mount -o "$5" "$dev" "$mnt" || return 1
}
guest_on() { echo "$2" >>"$VST_ROOT/guests.$1"; guest "$2"; } # guest_on SCRATCH NAME
confval() { sed -n "s/^$2 = //p" "$VS_CONFDIR/$1.conf"; }
inside() { local g=$1; shift; vs-enter "$g" -- /vs-quota-probe "$@" 2>&1; }
# The text strerror gives for the errno names of a pattern.
err_text() { sed 's/ENOSPC/No space left on device/g; s/EDQUOT/Disk quota exceeded/g' <<<"$1"; }
# Why a mount of filesystem FS failed: the kernel's last word on one, or mount's.
mount_why() {
        local w
        w=$(dmesg | grep -o "$1 ([a-z0-9]*): [^[]*" | tail -1)
        echo "${w:-$(tail -1 "$VST_ROOT/mount.err")}"
}
# The guests go in the scratch filesystem $mnt, $qfs from now on.
use_scratch() {
        export VS_GUESTDIR=$mnt/lib
        mkdir -p "$VS_GUESTDIR"
        qfs=$mnt
}

# refused FS ADVICE GUEST: on the filesystem $mnt ($dev, an FS) without
# project quotas, vs-build and vs-limit refuse a size on layout dir, saying
# so and ADVICE (a pattern), what to change.
refused() {
        local g0=$3 out rc
        export VS_GUESTDIR=$mnt/lib
        mkdir -p "$VS_GUESTDIR"
        build_minimal $g0 --layout dir --disk 200M
        rc=$?
        out=$(cat "$VST_ROOT/build-$g0.log")
        ok $((rc == 0)) "$1: vs-build --layout dir --disk refuses a filesystem without project quotas (exit $rc)"
        like "$out" "$1 filesystem $dev mounted on $mnt has no project quotas" "naming the filesystem and its mount point"
        like "$out" "$2" "and what to change"
        check "no config was written" -- test ! -e "$VS_CONFDIR/$g0.conf"
        check "a dir guest without a size builds there" -- build_minimal $g0
        out=$(vs-limit $g0 disk=200M 2>&1)
        ok $(($? == 0)) "vs-limit disk= refuses it too"
        like "$out" "$mnt has no project quotas.*prjquota" "with the same message"
        unlike "$(cat "$VS_CONFDIR/$g0.conf")" "size|project" "the config is unchanged"
        check "vs-destroy it" -- vs-destroy $g0
}

# dir_guests FS A B: dir guests A and B with --disk 200M in $VS_GUESTDIR on
# the scratch filesystem FS, each with a project id of its own ($pa, $pb)
# set on its tree, started with the probe copied in.
dir_guests() {
        local fs=$1 a=$2 b=$3 t0
        t0=$(date +%s%N)
        check "$fs: build a dir guest with --disk 200M" -- build_minimal $a --layout dir --disk 200M
        diag "build took $((($(date +%s%N) - t0) / 1000000)) ms: $(grep -h '^Project id' "$VST_ROOT/build-$a.log")"
        pa=$(confval $a project)
        is "$(confval $a size)/$(confval $a layout)" "200M/dir" "the config has size = 200M and layout = dir"
        ok $([ "${pa:-0}" -ge 100000 ]; echo $?) "and a project id from 100000 on ($pa)"
        is "$($probe getproj "$VS_GUESTDIR/$a/rootfs")" "$pa inherit" "the tree's root has the id and inherits it"
        is "$($probe getproj "$VS_GUESTDIR/$a/rootfs/sbin/init")" "$pa" "so do its files"
        check "a second dir guest with 200M" -- build_minimal $b --layout dir --disk 200M
        pb=$(confval $b project)
        ok $([ -n "$pb" ] && [ "$pb" != "$pa" ]; echo $?) "it has a project id of its own ($pb)"
        for g in $a $b; do
                cp "$probe" "$VS_GUESTDIR/$g/rootfs/vs-quota-probe"
                check "vs-start $g" -- vs-start $g
        done
}

# past_quota FS ERR A B: guest A (200M, project $pa) on the filesystem FS
# mounted on $qfs fills its quota and gets ERR (a pattern of errno names)
# while the host and guest B keep writing; vs-limit grows it live to 400M,
# and shrinks it to 350M but not below its use.
past_quota() {
        local fs=$1 err=$2 a=$3 b=$4 df_a size_k out full
        df_a=$(inside $a df /)
        size_k=${df_a% *}
        ok $([ "${size_k:-0}" -ge 190000 ] && [ "$size_k" -le 204800 ]; echo $?) "$fs: df inside shows about 200M ($df_a K)"
        out=$(inside $a fill /root/big 400)
        diag "the guest writing past its quota on $fs sees: $out"
        like "$out" "^1[0-9][0-9] $err$" "a write past 200M fails inside with $err ($out MiB written)"
        check "the host still writes on the filesystem" -- dd if=/dev/zero of="$qfs/host-file" bs=1M count=50 conv=fsync status=none
        is "$(inside $b fill /root/b 50)" "50 ok" "and so does the second guest"
        full=$(inside $a df /)
        ok $([ "${full% *}" = "${full#* }" ] || [ $((${full% *} - ${full#* })) -lt 1024 ]; echo $?) "df inside shows the disk full ($full)"

        check "vs-limit $a disk=400M, running" -- vs-limit $a disk=400M
        is "$(confval $a size)" 400M "the config keeps 400M"
        df_a=$(inside $a df /)
        size_k=${df_a% *}
        ok $([ "${size_k:-0}" -ge 390000 ] && [ "$size_k" -le 409600 ]; echo $?) "df inside shows about 400M at once ($df_a K)"
        is "$(inside $a fill /root/more 100)" "100 ok" "the guest writes again"
        out=$(vs-limit $a disk=100M 2>&1)
        ok $(($? == 0)) "shrinking below the use is refused"
        like "$out" "uses .* already, more than 100" "saying how much it uses"
        is "$(confval $a size)" 400M "the config is unchanged"
        check "shrinking above the use is applied" -- vs-limit $a disk=350M
        is "$($probe getquota "$qfs" "$pa" | cut -d' ' -f2)" 358400 "the filesystem has the limit of 350M"
        like "$(vs-stat $a)" "/350\.0M" "vs-stat shows the quota's use and size"
}

# against_quota FS A: guest A (project $pa, limit 350M, /root/more its file)
# cannot change its file's project id, move a directory to project $pb, or
# lift its limit; the same calls from the host work (positive controls).
against_quota() {
        local fs=$1 a=$2 out
        out=$(inside $a setproj /root/more 0)
        like "$out" "^(EPERM|EINVAL)$" "$fs: the guest cannot give its file project id 0 (FS_IOC_FSSETXATTR: $out)"
        is "$($probe getproj "$VS_GUESTDIR/$a/rootfs/root/more")" "$pa" "the file keeps the guest's id"
        out=$(inside $a setproj /root $pb)
        like "$out" "^(EPERM|EINVAL)$" "nor move a directory to the other guest's project ($out)"
        out=$(inside $a setattr /root/more 0)
        like "$out" "^(EPERM|EINVAL|ENOSYS)$" "nor through file_setattr ($out)"
        out=$(inside $a setquota / "$pa" 0)
        like "$out" "^(EPERM|ENOSYS)$" "nor lift its limit (quotactl_fd Q_SETQUOTA: $out)"
        is "$($probe getquota "$qfs" "$pa" | cut -d' ' -f2)" 358400 "the limit is still 350M"
        # Positive controls: the same calls from the host work.
        is "$($probe setproj "$VS_GUESTDIR/$a/rootfs/root/more" 0)" ok "from the host, the project id changes"
        is "$($probe setproj "$VS_GUESTDIR/$a/rootfs/root/more" "$pa")" ok "and back"
        is "$($probe setquota "$qfs" "$pa" 360)" ok "from the host, the limit changes"
        is "$($probe getquota "$qfs" "$pa" | cut -d' ' -f2)" 368640 "to 360M"
}

# The use and limit of project $1 on $qfs once both are 0, or after 10 s
# (XFS frees a removed file's blocks in the background: the use drops a
# moment after vs-destroy returns).
left_of() {
        wait_for 10 sh -c '[ "$("$0" getquota "$1" "$2")" = "0 0" ]' "$probe" "$qfs" "$1"
        $probe getquota "$qfs" "$1"
}
# destroyed GUEST PROJECT: stops and destroys GUEST; its project keeps no
# use and no limit.
destroyed() {
        check "vs-stop $1" -- vs-stop --timeout 10 $1
        check "vs-limit $1 disk=320M, stopped" -- vs-limit $1 disk=320M
        check "vs-destroy $1" -- vs-destroy $1
        is "$(left_of "$2")" "0 0" "its project has no use and no limit left"
}

# shared_quota FS ERR S B: a shared guest S with --disk 200M on the
# filesystem FS beside the running dir guest B: its upper and work
# directories get its project id, df through the overlay shows the size, a
# write past it fails with ERR (dd says the error's text), B keeps writing,
# vs-limit grows it live, and it cannot lift its quota. An unprivileged
# shared guest needs Linux 6.13: before it, the guest is privileged (whose
# root runs without CAP_SYS_RESOURCE and behind the seccomp filter).
shared_quota() {
        local fs=$1 err=$2 s=$3 b=$4 rc df_s size_k out ps
        build_debian $s --shared --disk 200M
        rc=$?
        if [ $rc != 0 ] && [ -z "${VS_TEST_PRIVILEGED:-}" ] && grep -q "Linux 6.13" "$VST_ROOT/build-$s.log"; then
                diag "$fs: an unprivileged shared guest needs Linux 6.13, this is $(uname -r): a privileged one"
                build_debian $s --shared --disk 200M --privileged
                rc=$?
        fi
        ok $rc "$fs: build a shared guest with --disk 200M"
        [ $rc = 0 ] || return 1
        ps=$(confval $s project)
        is "$($probe getproj "$VS_GUESTDIR/$s/upper")/$($probe getproj "$VS_GUESTDIR/$s/work")" "$ps inherit/$ps inherit" \
                "its upper and work directories have project id $ps"
        cp "$probe" "$VS_GUESTDIR/$s/upper/vs-quota-probe"
        check "vs-start $s" -- vs-start $s
        df_s=$(inside $s df /)
        size_k=${df_s% *}
        ok $([ "${size_k:-0}" -ge 190000 ] && [ "$size_k" -le 204800 ]; echo $?) "df through the overlay shows about 200M ($df_s K)"
        out=$(inside $s fill /root/big 400)
        diag "the shared guest writing past its quota on $fs sees: $out"
        like "$out" "^1[0-9][0-9] $err$" "a write past 200M fails with $err ($out)"
        out=$(vs-enter $s -- dd if=/dev/zero of=/root/dd bs=1M count=20 conv=fsync 2>&1)
        like "$out" "$(err_text "$err")" "dd in the guest says \"$(err_text "$err")\" ($(grep -m1 -i 'dd:' <<<"$out"))"
        is "$(inside $b fill /root/b2 20)" "20 ok" "the dir guest beside it still writes"
        check "vs-limit $s disk=400M, running" -- vs-limit $s disk=400M
        is "$(inside $s fill /root/more 100)" "100 ok" "the shared guest writes again"
        vs-enter $s -- sh -c 'echo x >/etc/motd; mv /etc/motd /etc/motd.new' >/dev/null 2>&1
        ok $? "copy-ups and renames in the upper layer work"
        out=$(inside $s setproj /root/more 0)
        like "$out" "^(EPERM|EINVAL)$" "the shared guest cannot change its file's project id ($out)"
        out=$(inside $s setquota / "$ps" 0)
        like "$out" "^(EPERM|ENOSYS)$" "nor its limit ($out)"
        is "$($probe getproj "$VS_GUESTDIR/$s/upper/root/more")" "$ps" "the file in the upper layer keeps the id"
        check "vs-stop $s" -- vs-stop --timeout 60 $s
        check "vs-destroy $s" -- vs-destroy $s
        is "$(left_of "$ps")" "0 0" "its project has no use and no limit left"
}

# ---- an ext4 without project quotas -------------------------------------------
mkscratch plain 128M ext4 "" defaults
refused ext4 "tune2fs -O project,quota $dev.*option \"prjquota\"" $(guest_on plain ${p}0)

# ---- XFS: without prjquota, then with it ----------------------------------------
grep -qw xfs /proc/filesystems || modprobe -q xfs 2>/dev/null
why=""
if ! command -v mkfs.xfs >/dev/null; then
        why="mkfs.xfs is missing (xfsprogs, which tests/install-deps installs)"
elif ! grep -qw xfs /proc/filesystems; then
        why="this kernel has no XFS"
elif ! mkscratch xfs 2G xfs "" defaults 2>"$VST_ROOT/mount.err"; then
        why="cannot make and mount a scratch XFS ($(mount_why XFS))"
fi
if [ -n "$why" ]; then
        skip "XFS: refused without prjquota; project quotas of a dir and a shared guest" "$why"
else
        refused XFS "mount it with the option \"prjquota\"" $(guest_on xfs ${p}x0)
        # XFS takes its quota options at mount time only, not on remount.
        if ! { umount "$mnt" && mount -o prjquota "$dev" "$mnt"; } 2>"$VST_ROOT/mount.err"; then
                skip "XFS: project quotas of a dir and a shared guest (ENOSPC past the size)" \
                        "this kernel cannot mount an XFS with prjquota ($(mount_why XFS))"
        else
                use_scratch
                xa=$(guest_on xfs ${p}xa)
                xb=$(guest_on xfs ${p}xb)
                dir_guests XFS $xa $xb
                past_quota XFS ENOSPC $xa $xb
                against_quota XFS $xa
                destroyed $xa $pa
                shared_quota XFS ENOSPC $(guest_on xfs ${p}xs) $xb
                check "vs-stop $xb" -- vs-stop --timeout 10 $xb
                check "vs-destroy $xb" -- vs-destroy $xb
        fi
fi

# ---- the scratch ext4 with project quotas -----------------------------------
if ! mkscratch q 3G ext4 "-O quota,project" prjquota 2>"$VST_ROOT/mount.err"; then
        skip "ext4: project quotas on a dir and a shared guest" \
                "this kernel cannot mount an ext4 with project quotas ($(mount_why EXT4-fs))"
        done_testing
fi
use_scratch

a=$(guest_on q ${p}a)
b=$(guest_on q ${p}b)
dir_guests ext4 $a $b
out=$(vs-build ${p}c --template minimal --layout dir --disk 100M --set disk.project=$pa 2>&1)
ok $(($? == 0)) "a project id another guest holds is refused"
like "$out" "project id $pa is guest \"$a\"'s" "naming the guest"
guest_on q ${p}c >/dev/null
# ext4's quota code returns EDQUOT for every quota type (XFS gives ENOSPC for
# a project): the guest sees what the kernel says.
past_quota ext4 "(ENOSPC|EDQUOT)" $a $b
against_quota ext4 $a
destroyed $a $pa

# A rebuild over a guest with a quota: the replaced tree's project goes.
check "vs-stop $b" -- vs-stop --timeout 10 $b
check "rebuild $b with --force" -- build_minimal $b --force --layout dir --disk 200M
pb2=$(confval $b project)
if [ "$pb2" != "$pb" ]; then
        is "$(left_of "$pb")" "0 0" "the replaced tree's project ($pb) has no use and no limit left"
else
        is "$($probe getquota "$qfs" "$pb" | cut -d' ' -f2)" 204800 "the rebuilt guest keeps project $pb with its limit"
fi
cp "$probe" "$VS_GUESTDIR/$b/rootfs/vs-quota-probe"
check "vs-start $b again" -- vs-start $b

# ---- a dir guest that had no size, given one live ------------------------------
c=$(guest_on q ${p}d)
check "a dir guest without a size" -- build_minimal $c
cp "$probe" "$VS_GUESTDIR/$c/rootfs/vs-quota-probe"
check "vs-start it" -- vs-start $c
check "vs-limit disk=200M gives it a quota live" -- vs-limit $c disk=200M
pc=$(confval $c project)
is "$(confval $c layout)/$(confval $c size)" "dir/200M" "the config stays layout dir, with the size"
is "$($probe getproj "$VS_GUESTDIR/$c/rootfs/sbin/init")" "${pc:-none}" "and its files got project id $pc"
if [ -z "${VS_TEST_PRIVILEGED:-}" ]; then
        like "$(inside $c fill /root/big 300)" "^1[0-9][0-9] " "the running guest is held to it at once"
else
        # Root of a running privileged guest keeps CAP_SYS_RESOURCE, which
        # the quota code lets past a hard limit, until its next start.
        out=$(inside $c fill /root/big 300)
        diag "the running privileged guest's root, with CAP_SYS_RESOURCE, wrote: $out"
        check "vs-stop it" -- vs-stop --timeout 10 $c
        check "vs-start it" -- vs-start $c
        like "$(inside $c fill /root/big 300)" "^1[0-9][0-9] " "restarted without CAP_SYS_RESOURCE, it is held to it"
fi

# ---- without the seccomp filter ---------------------------------------------------
# What is left to the kernel: it refuses an unprivileged guest project id
# changes (outside the host's user namespace) and quotactl (CAP_SYS_ADMIN of
# the host's); root of a privileged guest is in the host's namespace, where
# only the filter stops it (the control: it succeeds there).
f=$(guest_on q ${p}f)
check "a dir guest with a quota and seccomp = no" -- build_minimal $f --layout dir --disk 100M --set guest.seccomp=no
cp "$probe" "$VS_GUESTDIR/$f/rootfs/vs-quota-probe"
check "vs-start it" -- vs-start $f
pf=$(confval $f project)
vs-enter $f -- /vs-quota-probe fill /root/x 1 >/dev/null 2>&1
setproj=$(inside $f setproj /root/x 0)
setquota=$(inside $f setquota / "$pf" 0)
if [ -z "${VS_TEST_PRIVILEGED:-}" ]; then
        is "$setproj" EINVAL "the kernel refuses the unprivileged guest a project id change (fileattr_set_prepare)"
        is "$setquota" EPERM "and Q_SETQUOTA"
        is "$($probe getproj "$VS_GUESTDIR/$f/rootfs/root/x")" "$pf" "the file keeps its id"
else
        is "$setproj" ok "without the filter, privileged guest root changes its file's project id (control)"
        is "$setquota" ok "and lifts its limit (control)"
        is "$($probe getproj "$VS_GUESTDIR/$f/rootfs/root/x")" 0 "the file is out of the quota"
fi

# ---- a Debian tree: the walk's time, and renames of what it holds ----------------
e=$(guest_on q ${p}e)
t0=$(date +%s%N)
check "build a Debian dir guest with --disk 2G" -- build_debian $e --layout dir --disk 2G
diag "Debian build took $((($(date +%s%N) - t0) / 1000000)) ms: $(grep -h '^Project id' "$VST_ROOT/build-$e.log" | tr '\n' ' ')"
pe=$(confval $e project)
n=$(find "$VS_GUESTDIR/$e/rootfs" -xdev | wc -l)
diag "the tree has $n inodes (names)"
# ext4 refuses (EXDEV) a rename into a directory of another project: the
# symbolic links of the template must have the guest's id too.
ln=$(find "$VS_GUESTDIR/$e/rootfs/etc" -xdev -type l | head -1)
is "$($probe rename "$ln" "$ln.moved")" ok "a symbolic link of the template renames within the tree ($ln)"
is "$($probe rename "$ln.moved" "$ln")" ok "and back"
is "$($probe getquota "$qfs" "$pe" | cut -d' ' -f2)" 2097152 "the limit is 2G"
check "vs-destroy it" -- vs-destroy $e

# ---- shared ---------------------------------------------------------------------
shared_quota ext4 "(ENOSPC|EDQUOT)" $(guest_on q ${p}s) $b
done_testing
