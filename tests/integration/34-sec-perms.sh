#!/bin/bash
# No host user reaches a guest's files: a setuid-root program that guest root
# plants in its tree must not be runnable by an unprivileged host account.
# The guest directory (the level above rootfs), the guests' directory, the
# shared template layers and the template cache are private (0700); rootfs
# and a shared guest's upper/ keep the mode the guest expects of its /.
# Trees made before (0755) are closed by vs-start (the guest directory) and
# by vs-build (the rest).
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

command -v setpriv >/dev/null || { echo "1..0 # SKIP setpriv (util-linux) is missing"; exit 77; }
# The program is exec'd by a shell that already runs as nobody (setpriv may
# resolve its own command while still root).
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'exec "$@"' sh "$@"; }
mode() { stat -c %a "$1"; }
idbin=$(command -v id)

# The test's own root is mktemp's 0700: open it, so that only what vserver
# makes can close the path to the guests.
chmod 0755 "$VST_ROOT"

# Positive control: the attack works where nothing closes the path.
ctl=$(mktemp -d /var/tmp/vst-ctl.XXXXXX)
on_exit "rm -rf $ctl"
chmod 0755 "$ctl"
mkdir -m 0755 "$ctl/a"
install -o 0 -g 0 -m 4755 "$idbin" "$ctl/a/suid-id"
out=$(nobody "$ctl/a/suid-id" -u 2>&1)
if [ "$out" != 0 ]; then
        echo "1..0 # SKIP a setuid-root file in a 0755 chain does not run as euid 0 here ($out): /var/tmp nosuid?"
        exit 77
fi
is "$out" 0 "control: nobody runs a setuid-root copy of id in an open chain, with euid 0"

# try FILE DESCRIPTION: nobody must fail to run FILE, with EACCES.
try() {
        local out rc
        out=$(nobody "$1" -u 2>&1)
        rc=$?
        ok $(( rc == 0 )) "$2: nobody cannot run it (exit $rc)"
        like "$out" "Permission denied" "$2: the kernel says EACCES"
}

# Layout dir.
g=$(guest vsp-dir)
check "build a dir guest" -- build_minimal $g
is "$(mode "$VS_GUESTDIR")" 700 "the guests' directory is 0700"
is "$(mode "$VS_GUESTDIR/$g")" 700 "the guest directory is 0700"
is "$(mode "$VS_GUESTDIR/$g/rootfs")" 755 "rootfs keeps the mode of the guest's /"
install -o 0 -g 0 -m 4755 "$idbin" "$VS_GUESTDIR/$g/rootfs/suid-id"
try "$VS_GUESTDIR/$g/rootfs/suid-id" "a setuid file in a dir guest"

# A tree from before: both levels 0755, and the attack works on it.
chmod 0755 "$VS_GUESTDIR" "$VS_GUESTDIR/$g"
is "$(nobody "$VS_GUESTDIR/$g/rootfs/suid-id" -u 2>&1)" 0 "control: in an old 0755 tree nobody runs it as euid 0"
check "vs-start the old tree" -- vs-start $g
is "$(mode "$VS_GUESTDIR/$g")" 700 "vs-start closed the guest directory"
try "$VS_GUESTDIR/$g/rootfs/suid-id" "after vs-start of an old tree"
check "vs-stop" -- vs-stop $g

# Layout image: the tree is in disk.img, beside it in the same private level.
h=$(guest vsp-img)
chmod 0755 "$VS_GUESTDIR"
check "build an image guest" -- build_minimal $h --layout image --disk 64M
is "$(mode "$VS_GUESTDIR")" 700 "vs-build closed the guests' directory made 0755 before"
is "$(mode "$VS_GUESTDIR/$h")" 700 "the image guest's directory is 0700"
nobody test -r "$VS_GUESTDIR/$h/disk.img"
ok $(( $? == 0 )) "nobody cannot read the image"
chmod 0755 "$VS_GUESTDIR" "$VS_GUESTDIR/$h"
check "vs-start the old image tree" -- vs-start $h
is "$(mode "$VS_GUESTDIR/$h")" 700 "vs-start closed the image guest's directory"
check "vs-stop" -- vs-stop $h

# Layout shared and the template cache: a Debian template is needed.
s=$(guest vsp-sh1)
s2=$(guest vsp-sh2)
check "build a shared guest" -- build_debian $s --shared
tcache=$VS_CACHEDIR/templates
is "$(mode "$tcache")" 700 "the template cache is 0700"
is "$(mode "$VS_GUESTDIR/.templates")" 700 "the shared template layers are 0700"
is "$(mode "$VS_GUESTDIR/$s")" 700 "the shared guest's directory is 0700"
is "$(mode "$VS_GUESTDIR/$s/upper")" 755 "upper/ keeps the mode of the guest's /"
install -o 0 -g 0 -m 4755 "$idbin" "$VS_GUESTDIR/$s/upper/suid-id"
try "$VS_GUESTDIR/$s/upper/suid-id" "a setuid file in a shared guest's upper/"
lower=$(readlink "$VS_GUESTDIR/$s/lower")
try "$lower/usr/bin/passwd" "the template layer's own setuid passwd"
try "$(ls -d "$tcache"/debian-*-systemd | head -1)/usr/bin/passwd" "the cached template's setuid passwd"

# Trees from before: all 0755 again; vs-start and the next build close them.
chmod 0755 "$tcache" "$VS_GUESTDIR" "$VS_GUESTDIR/.templates" "$VS_GUESTDIR/$s"
is "$(nobody "$VS_GUESTDIR/$s/upper/suid-id" -u 2>&1)" 0 "control: in an old 0755 shared tree nobody runs it as euid 0"
check "vs-start the old shared tree" -- vs-start $s
is "$(mode "$VS_GUESTDIR/$s")" 700 "vs-start closed the shared guest's directory"
try "$VS_GUESTDIR/$s/upper/suid-id" "after vs-start of an old shared tree"
check "vs-stop" -- vs-stop $s
check "build another shared guest" -- build_debian $s2 --shared
is "$(mode "$tcache")" 700 "vs-build closed the old template cache"
is "$(mode "$VS_GUESTDIR/.templates")" 700 "and the old template layers"
is "$(mode "$VS_GUESTDIR")" 700 "and the old guests' directory"
done_testing
