#!/bin/bash
# Names and values (SECURITY.md, point 11): hostile guest names and values
# that overflow are refused by every command before anything is made; a
# hostile template tree (absolute symlinks such as etc -> /etc) cannot make
# vs-build, the Debian template or vs-start write outside the guest.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

snapshot() { # what exists in vserver's directories and the run directory
	{ find "$VS_CONFDIR" "$VS_GUESTDIR" "$VS_LOGDIR" 2>/dev/null; ls -A "$VS_RUNDIR" 2>/dev/null; } | sort
}
host_files="/etc/hostname /etc/machine-id /etc/hosts"
host_state() { for f in $host_files; do stat -c '%n %s %Y' "$f"; sha256sum "$f"; done; }

long=$(printf 'a%.0s' $(seq 65))
names=("../x" "a/b" "." ".." "-rf" "--help=x" "x
y" "$long" "/etc" "a b" "" "defaults")
before=$(snapshot)
for n in "${names[@]}"; do
	shown=$(printf '%q' "$n")
	for cmd in "vs-build --template minimal" vs-start vs-enter vs-stop vs-destroy vs-status vs-console "vs-limit --"; do
		out=$($cmd "$n" </dev/null 2>&1)
		rc=$?
		ok $((rc == 0)) "$cmd $shown is refused ($rc)"
	done
done
is "$(snapshot)" "$before" "nothing was created by the refused names"
[ ! -e "$VS_GUESTDIR/../x" ] && [ ! -e "$VS_CONFDIR/../x.conf" ]
ok $? "no file appeared next to the guest or config directory"

# Values that overflow or make no sense.
g=$(guest vsa-vals)
for kv in memory.rss=18446744073709551616 memory.rss=16777216T memory.rss=-1 cpu.weight=99999999999999999999 \
	cpu.weight=0 memory.pids=1e9 cpu.max=18446744073709551617% cpu.cpus=0-99999999999 guest.order=1000001 \
	guest.stop_timeout=18446744073709551616 "guest.hostname=a/b" "guest.init=../../bin/sh"; do
	out=$(vs-build $g --template minimal --set "$kv" 2>&1)
	rc=$?
	is "$rc" 2 "vs-build --set $kv is refused (exit 2)"
done
is "$(snapshot)" "$before" "nothing was created by the refused values"
check "build a guest for vs-limit" -- build_minimal $g
conf_before=$(cat "$VS_CONFDIR/$g.conf")
for kv in rss=18446744073709551616 rss=99999999999T weight=18446744073709551616 pids=-5; do
	vs-limit $g "$kv" >/dev/null 2>&1
	is $? 2 "vs-limit $kv is refused (exit 2)"
done
is "$(cat "$VS_CONFDIR/$g.conf")" "$conf_before" "the config is unchanged"

# A hostile template: its tree's /etc is an absolute symlink to the host's.
host_before=$(host_state)
tdir=$VST_ROOT/templates
mkdir -p "$tdir"
cat >"$tdir/vsa-evil" <<'TEMPLATE'
#!/bin/bash
# Test template: the minimal tree, then /etc swapped for a link to the host's.
set -e
"$VS_TOP_SRCDIR/tests/helpers/templates/minimal" "$@"
while [ $# -gt 0 ]; do [ "$1" = --rootfs ] && rootfs=$2; shift; done
rm -rf "$rootfs/etc"
ln -s /etc "$rootfs/etc"
ln -s /etc/hostname "$rootfs/hostname-link"
TEMPLATE
chmod 0755 "$tdir/vsa-evil"
e=$(guest vsa-evil)
check "build a guest from the hostile template" -- env VS_TEMPLATE_PATH="$tdir:$VS_TEMPLATE_PATH" \
	vs-build $e --template vsa-evil --hostname vsa-evil-host
check "start it" -- vs-start $e
is "$(vs-enter $e -- /sbin/init --hostname)" vsa-evil-host "the guest has its own host name"
vs-enter $e -- /sbin/init --write /etc/hostname pwned >/dev/null 2>&1
vs-enter $e -- /sbin/init --write /hostname-link pwned >/dev/null 2>&1
vs-enter $e -- /sbin/init --write /etc/machine-id pwned >/dev/null 2>&1
check "stop it" -- vs-stop $e
check "destroy it" -- vs-destroy --force $e
is "$(host_state)" "$host_before" "the host's $host_files are untouched"

# The Debian template on a hostile cached tree: it must refuse to write the
# guest's hostname and machine-id through the link, and leave nothing.
cache=$VST_ROOT/cache
mkdir -p "$cache/templates/debian-bookworm-amd64-systemd/sbin"
ln -s /etc "$cache/templates/debian-bookworm-amd64-systemd/etc"
printf 'template=debian\n' >"$cache/templates/debian-bookworm-amd64-systemd.info"
d=$(guest vsa-evil-deb)
out=$(VS_CACHEDIR=$cache vs-build $d --template debian --release bookworm --hostname vsa-evil-deb 2>&1)
rc=$?
ok $((rc == 0)) "the Debian template refuses the hostile tree (exit $rc)"
like "$out" "Refusing to write etc/hostname" "it says why"
is "$(host_state)" "$host_before" "the host's $host_files are still untouched"
is "$(ls -A "$VS_GUESTDIR" | grep -c vsa-evil-deb)" 0 "nothing of the refused build is left"
[ ! -e "$VS_CONFDIR/$d.conf" ]
ok $? "and no config was written"

check_no_leftovers $e
done_testing
