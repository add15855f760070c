#!/bin/bash
# Extra mounts from NAME.fstab, resolved inside the guest's root. In an
# unprivileged guest a bind is id-mapped through the guest's user namespace,
# or refused naming the line when the source's filesystem cannot be.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

g=$(guest vst-fstab)
check "build a minimal guest" -- build_minimal $g --privileged
share=$VST_ROOT/share
mkdir -p "$share" "$VST_ROOT/rw"
echo "from the host" >"$share/file"
# A hostile rootfs: a directory link pointing at a host path.
host_target=$VST_ROOT/host-target
mkdir -p "$host_target"
ln -s "$host_target" "$VS_GUESTDIR/$g/rootfs/evil"
cat >"$VS_CONFDIR/$g.fstab" <<EOT
# host directory, read-only
$share /srv/share none bind,ro 0 0
$VST_ROOT/rw /srv/rw none bind 0 0
tmpfs /var/cache/scratch tmpfs size=8m,mode=0700 0 0
tmpfs /evil/x tmpfs size=1m 0 0
EOT
check "vs-start with an fstab" -- vs-start $g
is "$(vs-enter $g -- /sbin/init --cat /srv/share/file)" "from the host" "the read-only bind shows the host file"
vs-enter $g -- /sbin/init --write /srv/share/new x >/dev/null 2>&1
ok $(($? == 0)) "the read-only bind refuses writes"
check "the writable bind takes writes" -- vs-enter $g -- /sbin/init --write /srv/rw/new hello
is "$(cat "$VST_ROOT/rw/new")" hello "and the host sees them"
like "$(vs-enter $g -- /sbin/init --cat /proc/self/mountinfo)" " /var/cache/scratch .* - tmpfs " "tmpfs mounted"
like "$(vs-enter $g -- /sbin/init --cat /proc/self/mountinfo)" " $host_target/x .* - tmpfs | /evil/x | /var/tmp/vst[^ ]*/host-target/x " "the symlinked target was resolved inside the guest"
grep -q " $host_target" /proc/self/mountinfo
ok $(($? == 0)) "nothing was mounted on the host path the symlink names"
[ ! -e "$host_target/x" ]
ok $? "nothing was created on the host path the symlink names"
check "vs-stop" -- vs-stop $g
check_no_leftovers $g

# ---- binds in an unprivileged guest -------------------------------------------
# Host files owned by 0 appear owned by guest root, and what guest root
# writes is stored as host id 0: the bind is id-mapped like the guest's root.
test_subids root:1000000:1000000000
u=$(guest shfstab-u)
check "build an unprivileged minimal guest" -- build_minimal $u --unprivileged
ushare=$VST_ROOT/ushare
mkdir -p "$ushare/rw"
echo "from the host" >"$ushare/file"
cat >"$VS_CONFDIR/$u.fstab" <<EOT
$ushare /srv/share none bind,ro 0 0
$ushare/rw /srv/rw none bind 0 0
EOT
check "vs-start the unprivileged guest with binds" -- vs-start $u
hu=$(host_id $u)
pu=$(init_pid $u)
is "$(vs-enter $u -- /sbin/init --cat /srv/share/file)" "from the host" "the bind shows the host file"
is "$(stat -c %u:%g "/proc/$pu/root/srv/share/file")" "$hu:$hu" "host root's file is the guest root's ($hu) through the bind"
like "$(grep " /srv/share " "/proc/$pu/mountinfo")" "idmapped" "the bind is an id-mapped mount"
vs-enter $u -- /sbin/init --write /srv/share/new x >/dev/null 2>&1
ok $(($? == 0)) "the read-only bind refuses writes"
check "guest root writes into the writable bind" -- vs-enter $u -- /sbin/init --write /srv/rw/new hello
is "$(stat -c %u:%g "$ushare/rw/new" 2>&1)" 0:0 "stored as host id 0"
check "vs-stop" -- vs-stop $u
check_no_leftovers $u
echo "$VST_ROOT/no-such-dir /srv/x none bind 0 0" >>"$VS_CONFDIR/$u.fstab"
out=$(vs-start $u 2>&1)
is "$?" 1 "a missing bind source fails the unprivileged start"
like "$out" "$VS_CONFDIR/$u.fstab:3.*$VST_ROOT/no-such-dir.*No such file or directory" \
        "the message names the fstab line, the source and the reason"
check_no_leftovers $u
sed -i '3d' "$VS_CONFDIR/$u.fstab"
# A filesystem without id-mapped mounts (ramfs) as the source: refused,
# naming the fstab file and line, and nothing is left.
mkdir -p "$VST_ROOT/ramfs"
if mount -t ramfs ramfs "$VST_ROOT/ramfs"; then
        on_exit "umount -l '$VST_ROOT/ramfs'"
        echo "$VST_ROOT/ramfs /srv/ram none bind 0 0" >>"$VS_CONFDIR/$u.fstab"
        out=$(vs-start $u 2>&1)
        is "$?" 1 "a bind source on a filesystem that refuses id-mapped mounts fails the start"
        like "$out" "$VS_CONFDIR/$u.fstab:3.*\"$VST_ROOT/ramfs\".*id-mapped" \
                "the message names the fstab line, the source and the reason"
        check_no_leftovers $u
        check "the same bind in a privileged guest is not id-mapped, and starts" -- \
                sh -c "sed -i 's/^userns = yes\$/userns = no/' '$VS_CONFDIR/$u.conf' && vs-start $u && vs-stop $u"
else
        echo "ok $((tap_n += 1)) # SKIP cannot mount a scratch ramfs"
fi

# ---- an fstab mount that hangs ----------------------------------------------------
# The test's own FUSE filesystem never answers: the lookup of an fstab
# source below it waits (as an NFS mount to a dead server would) until the
# helper exits. The start gives up at its start_timeout, kills the setup and
# leaves nothing behind; a vs-stop meanwhile waits for that instead of giving
# up as busy. An ext4 source, not a bind: vs-start looks at a bind source on
# the host side before any guest exists.
h=$(guest vst-fstab-hang)
hang=$VST_ROOT/hang
fuse_hang=$VS_TOP_BUILDDIR/tests/helpers/vs-fuse-hang
mkdir -p "$hang"
if [ ! -c /dev/fuse ] || ! grep -qw fuse /proc/filesystems; then
        echo "ok $((tap_n += 1)) # SKIP no FUSE on this host (/dev/fuse, /proc/filesystems): no mount to hang"
else
        "$fuse_hang" "$hang" >"$VST_ROOT/fuse.out" 2>&1 &
        fuse_pid=$!
        on_exit "kill $fuse_pid; wait $fuse_pid; umount -l $hang"
        wait_for 5 grep -q mounted "$VST_ROOT/fuse.out"
        ok $? "a FUSE filesystem that never answers is mounted on $hang"
        check "build a guest with start_timeout 8s" -- build_minimal $h --privileged --set guest.start_timeout=8s
        echo "$hang/disk.img /srv/hang ext4 ro 0 0" >"$VS_CONFDIR/$h.fstab"
        t0=$(date +%s%N)
        timeout -s KILL $(slow 30) vs-start $h >"$VST_ROOT/hang-start.out" 2>&1 &
        start_pid=$!
        sleep 0.5
        timeout -s KILL $(slow 40) vs-stop $h >"$VST_ROOT/hang-stop.out" 2>&1
        stop_rc=$?
        wait $start_pid
        rc=$?
        ms=$((($(date +%s%N) - t0) / 1000000))
        out=$(cat "$VST_ROOT/hang-start.out")
        is "$rc" 1 "vs-start fails on a hanging fstab mount (exit 1, not killed by the test's timeout)"
        [ $ms -ge 7500 ] && [ $ms -lt $(((8 + 10) * 1000 * VS_TEST_SLOW)) ]
        ok $? "it gives up at its start_timeout of 8 s ($ms ms)"
        like "$out" "within 8 s \(start_timeout\), stuck mounting ext4 \"$hang/disk.img\" on \"/srv/hang\" \($VS_CONFDIR/$h.fstab:1\)" \
                "it names the mount that hung and its fstab line"
        is "$stop_rc:$(cat "$VST_ROOT/hang-stop.out")" "0:" "vs-stop during the hang waits for the start to fail and succeeds"
        like "$(vs-status $h 2>&1)" "stopped" "the guest is stopped"
        check_no_leftovers $h
        [ -z "$(ps -eo pid=,args= | awk -v h="$h" '$0 ~ h && !/awk/')" ]
        ok $? "no process of the start is left"

        # A bind source below the hanging filesystem: looked at only by the
        # start's child, so the start timeout covers it too.
        hang_bind() { # hang_bind GUEST DIR WHAT: GUEST binds DIR/dir, start_timeout 8 s
                local g=$1 d=$2 what=$3 t0 rc ms
                echo "$d/dir /srv/hang none bind 0 0" >"$VS_CONFDIR/$g.fstab"
                t0=$(date +%s%N)
                timeout -s KILL $(slow 30) vs-start $g >"$VST_ROOT/hang-start.out" 2>&1
                rc=$?
                ms=$((($(date +%s%N) - t0) / 1000000))
                is "$rc" 1 "$what: vs-start fails on a bind source on a hanging filesystem (exit 1, not killed by the test's timeout)"
                [ $ms -ge 7500 ] && [ $ms -lt $(((8 + 10) * 1000 * VS_TEST_SLOW)) ]
                ok $? "it gives up at its start_timeout of 8 s ($ms ms)"
                like "$(cat "$VST_ROOT/hang-start.out")" "stuck bind-mounting \"$d/dir\" on \"/srv/hang\" \($VS_CONFDIR/$g.fstab:1\)" \
                        "it names the bind mount that hung and its fstab line"
                check_no_leftovers $g
        }
        hang_bind $h "$hang" privileged

        # The same in an unprivileged guest: the copy of the source's mount
        # that the supervisor id-maps is made by the start's child as well.
        # (Without allow_other the guest's ids get EACCES there at once.)
        hang2=$VST_ROOT/hang2
        mkdir -p "$hang2"
        "$fuse_hang" --allow-other "$hang2" >"$VST_ROOT/fuse2.out" 2>&1 &
        fuse2_pid=$!
        on_exit "kill $fuse2_pid; wait $fuse2_pid; umount -l $hang2"
        wait_for 5 grep -q mounted "$VST_ROOT/fuse2.out"
        ok $? "a second one, open to other users, is mounted on $hang2"
        hu=$(guest shfstab-hang)
        check "build an unprivileged guest with start_timeout 8s" -- \
                build_minimal $hu --unprivileged --set guest.start_timeout=8s
        hang_bind $hu "$hang2" unprivileged
fi

# A bind source that does not exist fails the start, naming the fstab line.
m=$(guest vst-fstab-missing)
check "build a guest for a missing bind source" -- build_minimal $m --privileged
echo "# nothing there" >"$VS_CONFDIR/$m.fstab"
echo "$VST_ROOT/no-such-dir /srv/x none bind 0 0" >>"$VS_CONFDIR/$m.fstab"
out=$(vs-start $m 2>&1)
rc=$?
is "$rc" 1 "a missing bind source fails the start"
like "$out" "$VS_CONFDIR/$m.fstab:2.*$VST_ROOT/no-such-dir.*No such file or directory" \
        "the message names the fstab line, the source and the reason"
check_no_leftovers $m
done_testing
