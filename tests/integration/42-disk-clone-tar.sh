#!/bin/bash
# Clones, vs-export and vs-build --from-tar keep owners, modes, xattrs,
# ACLs, file capabilities and device nodes; hostile or broken tarballs are
# refused with nothing left behind; a running guest is cloned only with
# --force, frozen for the copy.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"


# The metadata of the special files of a tree, one line each.
meta() { # meta DIR
        local d=$1
        stat -c '%n %u:%g %a %F %t,%T' "$d/f" "$d/cap" "$d/null" | sed "s|^$d/||"
        getfattr -n user.vsd --only-values "$d/f" 2>/dev/null
        echo
        getfacl -n -p "$d/f" 2>/dev/null | grep '^user:4321'
        getcap "$d/cap" | sed "s|^$d/||"
}

src=$(guest vsd-cl1)
check "build a guest" -- build_minimal $src
R=$VS_GUESTDIR/$src/rootfs
echo data >"$R/f" && chown 1234:2345 "$R/f" && chmod 0640 "$R/f" &&
        setfattr -n user.vsd -v hello "$R/f" && setfacl -m u:4321:rw "$R/f" &&
        cp /bin/true "$R/cap" && setcap cap_net_raw+ep "$R/cap" && mknod "$R/null" c 1 3
ok $? "put a file with an xattr and an ACL, a capability and a device node in it"
want=$(meta "$R")
like "$want" "cap cap_net_raw=ep" "the source has the capability"
like "$want" "user:4321:rw-" "the source has the ACL"

cl=$(guest vsd-cl2)
check "vs-build --clone" -- vs-build $cl --clone $src
is "$(meta "$VS_GUESTDIR/$cl/rootfs")" "$want" "the clone keeps owners, modes, xattr, ACL, capability, device"
is "$(cat "$VS_GUESTDIR/$cl/rootfs/etc/hostname" 2>/dev/null || echo "$cl")" "$cl" "the clone has its own host name"
like "$(cat "$VS_CONFDIR/$cl.conf")" "hostname = $cl" "and config"

# Export, then import into an image guest, then export that again.
check "vs-export" -- sh -c "vs-export $cl >'$VST_ROOT/cl.tar.zst'"
im=$(guest vsd-cl3)
check "vs-build --from-tar into an image" -- vs-build $im --from-tar "$VST_ROOT/cl.tar.zst" --disk 64M
check "vs-export of the image guest (as gzip)" -- sh -c "vs-export --compress gzip $im >'$VST_ROOT/im.tar.gz'"
is "$(our_loops)" 0 "exporting an image left no loop device"
mkdir "$VST_ROOT/x"
check "extract it" -- tar -x --gzip --numeric-owner --xattrs --xattrs-include='*' --acls -C "$VST_ROOT/x" -f "$VST_ROOT/im.tar.gz"
is "$(meta "$VST_ROOT/x")" "$want" "clone, export, import into an image and export keep everything"
check "the image guest starts" -- vs-start $im
check "and stops" -- vs-stop --timeout 10 $im

# A running guest is cloned only with --force, frozen meanwhile.
check "vs-start the source" -- vs-start $src
out=$(vs-build vsd-cl4 --clone $src 2>&1)
ok $(($? == 0)) "cloning a running guest is refused"
like "$out" "running: stop it first, or use --force" "with a hint"
[ ! -e "$VS_CONFDIR/vsd-cl4.conf" ] && [ -z "$(ls -d "$VS_GUESTDIR"/.build-* 2>/dev/null)" ]
ok $? "nothing is left"
guest vsd-cl4 >/dev/null
out=$(vs-build vsd-cl4 --clone $src --force 2>&1)
ok $? "--force clones it"
like "$out" "frozen for the copy" "saying it froze it"
is "$(meta "$VS_GUESTDIR/vsd-cl4/rootfs")" "$want" "the clone of the running guest is whole"
like "$(vs-status $src)" "^$src: running" "the source runs on"
fz=$(for p in $(cgroup_paths $src); do cat "$p/freezer.state" "$p/cgroup.freeze" 2>/dev/null; done | tr '\n' ' ')
unlike "$fz" "FROZEN|^1 " "and is thawed ($fz)"
check "vs-export --force of the running guest" -- sh -c "vs-export --force $src >'$VST_ROOT/run.tar.zst'"
like "$(tar -t --zstd -f "$VST_ROOT/run.tar.zst")" "^\./f$" "the archive has the guest's files"
unlike "$(tar -t --zstd -f "$VST_ROOT/run.tar.zst")" "^\./proc/[0-9]" "but nothing mounted on its root"
out=$(vs-export $src 2>&1 >/dev/null)
ok $(($? == 0)) "vs-export without --force refuses a running guest"
check "vs-stop the source" -- vs-stop --timeout 10 $src

# Hostile and broken tarballs: refused as a whole, nothing extracted.
python3 - "$VST_ROOT" <<'PY'
import io, sys, tarfile
d = sys.argv[1]
def mk(name, members):
    with tarfile.open(f"{d}/{name}", "w") as t:
        for m in members:
            ti = tarfile.TarInfo(m["name"])
            ti.type = m.get("type", tarfile.REGTYPE)
            ti.linkname = m.get("link", "")
            data = b"evil\n" if ti.type == tarfile.REGTYPE else b""
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data) if data else None)
mk("dotdot.tar", [{"name": "ok"}, {"name": "../vsd-escape"}])
mk("deep.tar", [{"name": "etc/../../vsd-escape"}])
mk("abs.tar", [{"name": "/tmp/vsd-escape"}])
mk("hardlink.tar", [{"name": "ok"}, {"name": "h", "type": tarfile.LNKTYPE, "link": "../../../etc/shadow"}])
mk("abslink.tar", [{"name": "h", "type": tarfile.LNKTYPE, "link": "/etc/shadow"}])
mk("through.tar", [{"name": "l", "type": tarfile.SYMTYPE, "link": "/tmp"}, {"name": "l/vsd-escape"}])
mk("checked.tar", [{"name": "checked"}])
mk("swapped.tar", [{"name": "swapped-in"}, {"name": "../vsd-swapped"}])
PY
ok $? "make hostile tarballs"
for t in dotdot deep abs hardlink abslink through; do
        out=$(vs-build vsd-cl5 --from-tar "$VST_ROOT/$t.tar" 2>&1)
        ok $(($? == 0)) "$t.tar is refused"
        like "$out" "Refusing the tarball .*(\.\.|absolute|hard link|symbolic link)" "$t.tar: the message names the member"
done
[ ! -e "$VST_ROOT/vsd-escape" ] && [ ! -e /tmp/vsd-escape ] && [ ! -e "$VS_GUESTDIR/vsd-escape" ]
ok $? "nothing landed outside"
# What is extracted is what was checked. A "tar" first in PATH changes the
# tarball as soon as vserver has listed it: another file renamed over the
# path, or, for a tarball another user owns, new content written in place.
real_tar=$(command -v tar)
mkdir "$VST_ROOT/bin"
cat >"$VST_ROOT/bin/tar" <<EOT
#!/bin/sh
"$real_tar" "\$@"
rc=\$?
if [ "\$1" = --list ]; then
	case "\$VSD_SWAP" in
	rename) cp "$VST_ROOT/swapped.tar" "$VST_ROOT/swap.new" && mv -f "$VST_ROOT/swap.new" "$VST_ROOT/swap.tar" ;;
	inplace) cat "$VST_ROOT/swapped.tar" >"$VST_ROOT/swap.tar" ;;
	esac
fi
exit \$rc
EOT
chmod 0755 "$VST_ROOT/bin/tar"
for how in rename inplace; do
	g=$(guest vsd-sw-$how)
	cp "$VST_ROOT/checked.tar" "$VST_ROOT/swap.tar"
	[ $how = inplace ] && chown 65534:65534 "$VST_ROOT/swap.tar"
	out=$(PATH=$VST_ROOT/bin:$PATH VSD_SWAP=$how vs-build $g --from-tar "$VST_ROOT/swap.tar" 2>&1)
	rc=$?
	ok $rc "$how: the checked tarball is imported"
	[ $rc = 0 ] || printf '%s\n' "$out" | tail -5 | sed 's/^/#   /;$a\'
	like "$("$real_tar" -tf "$VST_ROOT/swap.tar")" "swapped-in" "$how: control: by then the path holds the other content"
	is "$(ls -A "$VS_GUESTDIR/$g/rootfs" 2>&1)" "checked" "$how: the guest has what was checked, nothing of the other"
	[ ! -e "$VST_ROOT/vsd-swapped" ] && [ ! -e "$VS_GUESTDIR/vsd-swapped" ]
	ok $? "$how: nothing landed outside"
	vs-destroy --force $g >/dev/null 2>&1
done
head -c 4096 /dev/urandom >"$VST_ROOT/corrupt.tar.zst"
out=$(vs-build vsd-cl5 --from-tar "$VST_ROOT/corrupt.tar.zst" 2>&1)
like "$out" "Cannot read the tarball .*corrupt" "a corrupt tarball is refused"
out=$(vs-build vsd-cl5 --from-tar "$VST_ROOT/missing.tar.gz" 2>&1)
like "$out" "cannot read .*missing.tar.gz" "a missing tarball is refused"
out=$(vs-build vsd-cl5 --from-tar "$VST_ROOT/corrupt.zip" 2>&1)
like "$out" "is not a .tar" "an unknown suffix is refused"
out=$(vs-build vsd-cl5 --clone vsd-nosuch 2>&1)
like "$out" "vsd-nosuch" "cloning a missing guest is refused"
[ ! -e "$VS_CONFDIR/vsd-cl5.conf" ] && [ -z "$(ls -A "$VS_GUESTDIR" | grep -v -e '^vsd-cl[1-4]$' -e '^\.templates$')" ]
ok $? "nothing is left of the refused builds"
out=$(vs-export 2>&1 </dev/null)
is $? 2 "vs-export without a name is a usage error"
like "$(vs-export --help)" "Usage: vs-export" "vs-export --help"
out=$(vs-export --compress rar $src 2>&1 >/dev/null)
like "$out" "zstd, gzip, xz or none" "a bad --compress is refused"
is "$(our_loops)" 0 "no loop device of this test is left"
done_testing
