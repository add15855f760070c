#!/bin/bash
# Extra mounts from NAME.fstab, resolved inside the guest's root.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

g=$(guest vst-fstab)
check "build a minimal guest" -- build_minimal $g
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
done_testing
