#!/bin/bash
# The Debian package: built with dpkg-buildpackage from the files of the
# release tarball (make distdir: what debian/ needs is in EXTRA_DIST, no .git
# involved), passes lintian without an error, and installs with dpkg -i into
# a clean Debian tree (a chroot copied from the template cache) whose missing
# dependencies come from the mirror. There, from the installed files alone:
# every file is in place, every command's libraries and the dlopen()ed ones
# resolve, the units are enabled, a minimal guest and the Debian demo guest
# (the debian template, systemd) build, boot, are entered and halt.
# "apt-get remove" keeps the guests, their configs and the package's
# conffiles; "purge" removes the conffiles and the template cache, never a
# guest's config, tree or console log. The host itself never gets the package.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

for t in dpkg-buildpackage dh lintian fakeroot unshare chroot; do
        if ! command -v $t >/dev/null; then
                echo "1..0 # SKIP $t is missing (tests/install-deps installs the packaging tools)"
                exit 77
        fi
done
arch=$(dpkg --print-architecture)
cache=$VS_CACHEDIR/templates/debian-bookworm-$arch-systemd
if [ ! -d "$cache/etc" ]; then
        # The first Debian build of a run fills the shared cache.
        build_debian "$(guest debfill)" || { echo "1..0 # SKIP no bookworm template cache and none could be made"; exit 77; }
        vs-destroy --force debfill >/dev/null 2>&1
fi

# ---- build: once, from the tarball's files ------------------------------------
ver=$(sed -n 's/^PACKAGE_VERSION = //p' "$VS_TOP_BUILDDIR/Makefile")
src=$VST_ROOT/pkg/vserver-$ver
mkdir -p "$VST_ROOT/pkg"
check "make distdir copies the tarball's files" -- \
        env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$VS_TOP_BUILDDIR" distdir distdir="$src"
check "debian/ is part of the tarball" -- test -x "$src/debian/rules" -a -f "$src/debian/control"
# quickstart's own build step (a copy of the tree, dpkg-buildpackage), run
# from the tarball's files.
t0=$(date +%s)
out=$(cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=2" ./quickstart --no-deps --build-only "$VST_ROOT/pkg" 2>&1)
rc=$?
ok $rc "quickstart --build-only builds the package with dpkg-buildpackage -us -uc -b ($(($(date +%s) - t0)) s)"
[ $rc = 0 ] || { printf '%s\n' "$out" | tail -25 | sed 's/^/#   /;$a\'; }
deb=$(ls "$VST_ROOT"/pkg/vserver_"$ver"_*.deb 2>/dev/null | head -1)
changes=$(ls "$VST_ROOT"/pkg/vserver_"$ver"_*.changes 2>/dev/null | head -1)
if [ -z "$deb" ] || [ -z "$changes" ]; then
        diag "no package: nothing else can be checked"
        done_testing
fi

lint=$(lintian "$changes" 2>&1)
unlike "$lint" '^E: ' "lintian reports no error on the .deb and the .changes"
printf '%s\n' "$lint" | grep -E '^W: ' | sed 's/^/# lintian: /;$a\'

# ---- the package's contents ------------------------------------------------
files=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
missing=""
for c in "$VS_TOP_SRCDIR"/sbin/vs-*.c; do
        c=$(basename "$c" .c)
        for f in /usr/sbin/$c /usr/share/bash-completion/completions/$c; do
                printf '%s\n' "$files" | grep -qx "$f" || missing+=" $f"
        done
done
for m in "$VS_TOP_SRCDIR"/man/*.[58]; do
        m=$(basename "$m")
        f=/usr/share/man/man${m##*.}/$m.gz
        printf '%s\n' "$files" | grep -qx "$f" || missing+=" $f"
done
for f in /lib/systemd/system/vservers.service /lib/systemd/system/vserver@.service /etc/init.d/vservers \
        /etc/vservers/defaults.conf /usr/libexec/vserver/templates/debian /usr/share/doc/vserver/copyright; do
        printf '%s\n' "$files" | grep -qx "$f" || missing+=" $f"
done
is "${missing:-none}" none "the package holds every command, man page, unit, completion, the init script and defaults"
is "$(dpkg-deb -f "$deb" Architecture)" "$arch" "the package is for this architecture"
conff=$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | sort | tr '\n' ' ')
is "$conff" "/etc/cron.d/vserver-metrics /etc/init.d/vservers /etc/vservers/defaults.conf " \
        "the init script, the metrics cron file and defaults.conf are conffiles"
depends=$(dpkg-deb -f "$deb" Depends)
like "$depends" 'libnftables1' "Depends names the libraries loaded with dlopen()"
unlike "$(printf '%s\n' "$files" | grep -E '^/(var|run)/')" . "the package ships nothing in /var or /run (guests' places)"

# ---- a clean Debian tree --------------------------------------------------
root=$VST_ROOT/root
mkdir -p "$root"
cp -a "$cache/." "$root/"
# A package's postinst must not start services in the tree.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
rm -f "$root/etc/resolv.conf"
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb" "$root/tmp/vserver.deb"
# A command in the tree, in a private mount namespace of its own whose root
# is the tree (pivot_root, not chroot: the kernel refuses a chrooted process
# a user namespace, and unprivileged guests need one). Its /proc, /sys and
# /dev mounts (and the cache bind of in_root_cache) vanish with it, and
# nothing propagates to the host's mounts.
in_root() {
        unshare --mount --propagation private -- sh -c '
                r=$1; shift
                mount --bind "$r" "$r" && mount -t proc proc "$r/proc" && mount --rbind /sys "$r/sys" &&
                mount --rbind /dev "$r/dev" &&
                if [ -n "${VST_BIND_CACHE:-}" ]; then mkdir -p "$r/var/cache/vservers" &&
                        mount --bind "$VST_BIND_CACHE" "$r/var/cache/vservers"; fi &&
                mkdir -p "$r/.oldroot" && cd "$r" && pivot_root . .oldroot &&
                exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
                        DEBIAN_FRONTEND=noninteractive sh -c "umount -l /.oldroot && cd / && exec \"\$@\"" sh "$@"' \
                sh "$root" "$@"
}
# Only vs-build of the Debian guest sees the host's template cache, so that
# nothing else (above all, purge) can touch it.
in_root_cache() { VST_BIND_CACHE=$VS_CACHEDIR in_root "$@"; }
on_exit "for g in debd debm; do VST_BIND_CACHE= in_root vs-stop --timeout 5 \$g; done; ip link del debbr0"

not() { ! "$@"; }
check "dpkg -i stops at the dependencies the clean tree lacks" -- not in_root dpkg -i /tmp/vserver.deb
install_deps() { in_root apt-get update -q && in_root apt-get install -f -y -q --no-install-recommends; }
check "apt-get install -f brings the declared dependencies from the mirror" -- install_deps
is "$(in_root dpkg-query -W -f='${Status}' vserver 2>&1)" "install ok installed" "the package is installed in the tree"

# ---- the installed files work -----------------------------------------------
unresolved=$(in_root sh -c 'for f in /usr/sbin/vs-*; do ldd "$f" | sed "s|^|$f: |"; done' 2>&1 | grep 'not found')
is "${unresolved:-none}" none "every command's libraries resolve in the tree"
dl=""
for so in libmount.so.1 libnl-route-3.so.200 libnftables.so.1; do
        in_root ldconfig -p | grep -q "$so " || dl+=" $so"
done
is "${dl:-none}" none "the libraries loaded with dlopen() are installed by the dependencies"
check "vs-build --help runs in the tree" -- in_root vs-build --help
check "man finds vs-build(8)'s file" -- test -f "$root/usr/share/man/man8/vs-build.8.gz"
check "vservers.service is enabled" -- test -L "$root/etc/systemd/system/multi-user.target.wants/vservers.service"
check "the init script is linked into the runlevels" -- sh -c "ls '$root'/etc/rc2.d/S*vservers"

# A minimal guest from the installed commands (the test template and init
# are copied in: the package ships only the Debian template).
mkdir -p "$root/opt/vst/templates"
cp "$VS_TOP_SRCDIR/tests/helpers/templates/minimal" "$root/opt/vst/templates/"
cp "$VS_TEST_INIT" "$root/opt/vst/vs-test-init"
mode=$(mode_args)
# The tree's guests share the host's network stack: this test's bridge and
# subnet, not the defaults' (the admin's change also checks that remove and
# purge treat defaults.conf as a conffile).
cat >"$root/etc/vservers/defaults.conf" <<EOC
; admin: this test's bridge and subnet
[net]
bridge = debbr0
address = 10.239.0.1/24
pool = 10.239.0.0/24
EOC
check "vs-build makes a minimal guest from the installed files" -- \
        in_root env VS_TEMPLATE_PATH=/opt/vst/templates VS_TEST_INIT=/opt/vst/vs-test-init \
        vs-build debm --template minimal $mode
check "vs-start boots it" -- in_root vs-start debm
is "$(in_root vs-enter debm -- /sbin/init --hostname 2>&1)" debm "vs-enter runs a command inside"
check "vs-stop halts it" -- in_root vs-stop --timeout 10 debm

# The demo, as quickstart does it on a fresh machine, from the installed
# files: the packaged Debian template builds the guest (its first build on
# a host runs debootstrap; here the cache is the host's, so it is a copy)
# and boots it. Twice: the second run reuses the package and the guest.
cp "$src/quickstart" "$root/opt/vst/quickstart"
t0=$(date +%s)
out=$(in_root_cache /opt/vst/quickstart --deb /tmp/vserver.deb --guest debd 2>&1)
rc=$?
ok $rc "quickstart builds and boots the demo guest ($(($(date +%s) - t0)) s)"
[ $rc = 0 ] || { printf '%s\n' "$out" | tail -25 | sed 's/^/#   /;$a\'; }
like "$out" 'its systemd says: (running|degraded)' "the demo guest's systemd has booted"
like "$out" 'sudo vs-enter debd' "quickstart says how to enter the guest"
state=$(in_root vs-enter debd -- systemctl is-system-running 2>&1)
like "$state" '^(running|degraded)$' "vs-enter reaches the demo guest's systemd ($state)"
out=$(in_root_cache /opt/vst/quickstart --deb /tmp/vserver.deb --guest debd 2>&1)
rc=$?
ok $rc "quickstart runs again"
like "$out" 'vserver .* is installed' "the second run keeps the installed package"
like "$out" 'Reusing the guest "debd"' "the second run reuses the guest"
like "$out" 'The guest "debd" is running' "... which is still running"
check "vs-stop halts the demo guest" -- in_root vs-stop debd
in_root vs-destroy debd >/dev/null 2>&1

# ---- remove and purge: the guests stay ----------------------------------------
mkdir -p "$root/var/cache/vservers/templates/fake" "$root/var/log/vservers"
echo x >"$root/var/cache/vservers/templates/fake/marker"
echo gone >"$root/var/log/vservers/debgone.console"
echo kept >>"$root/var/log/vservers/debm.console"
guestfiles="/etc/vservers/debm.conf /var/lib/vservers/debm/rootfs/sbin/init /var/log/vservers/debm.console"

check "apt-get remove removes the package" -- in_root apt-get remove -y -q vserver
is "$(in_root dpkg-query -W -f='${db:Status-Abbrev}' vserver 2>&1)" "rc " "removed, its conffiles kept"
check "the commands are gone" -- test ! -e "$root/usr/sbin/vs-build"
check "defaults.conf (changed by the admin) is kept" -- grep -q '^; admin' "$root/etc/vservers/defaults.conf"
left=""
for f in $guestfiles; do [ -e "$root$f" ] || left+=" $f"; done
is "${left:-none}" none "after remove, the guest's config, tree and console log are there"

check "apt-get purge purges the package" -- in_root apt-get purge -y -q vserver
is "$(in_root dpkg-query -W -f='${db:Status-Abbrev}' vserver 2>/dev/null)" "" "purged: dpkg no longer knows it"
check "defaults.conf and the init script are gone" -- test ! -e "$root/etc/vservers/defaults.conf" -a ! -e "$root/etc/init.d/vservers"
check "the template cache is gone" -- test ! -e "$root/var/cache/vservers/templates"
check "the console log of a guest that no longer exists is gone" -- test ! -e "$root/var/log/vservers/debgone.console"
left=""
for f in $guestfiles; do [ -e "$root$f" ] || left+=" $f"; done
is "${left:-none}" none "after purge, the guest's config, tree and console log are still there"
check "the host's template cache is untouched" -- test -d "$cache/etc"
unlike "$(dpkg-query -W -f='${Status}' vserver 2>/dev/null)" installed "the host has no vserver package"

done_testing
