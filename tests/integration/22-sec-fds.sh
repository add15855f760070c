#!/bin/bash
# No host fd, cwd or memory reaches the guest (SECURITY.md, point 2). The
# caller of vs-start and vs-enter holds extra fds (a host secret open for
# reading, a host file open for writing) and sits in a host directory; inside,
# the guest looks for them in its own and its init's /proc entries and tries
# to use them.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

secret=$VST_ROOT/host-secret
printf 'vsa-host-secret\n' >"$secret"
chmod 0600 "$secret"
target=$VST_ROOT/host-target
printf 'untouched\n' >"$target"

g=$(guest vsa-fds)
check "build a minimal guest" -- build_minimal $g
# vs-start from a host directory with fds 7 (read) and 9 (write) open.
(cd "$VST_ROOT" && exec 7<"$secret" 9>>"$target" && vs-start $g) >"$VST_ROOT/start.out" 2>&1
ok $? "vs-start with extra host fds open"
init_pid=$(sed -n 's/^init_pid=//p' "$VS_RUNDIR/$g/state")
is "$(ls /proc/$init_pid/fd | sort -n | tr '\n' ' ')" "0 1 2 " "the guest's init holds only stdio (its console)"
is "$(stat -L -c %d:%i /proc/$init_pid/cwd)" "$(stat -c %d:%i "$VS_GUESTDIR/$g/rootfs")" "the guest's init works in the guest's root, not the caller's directory"
is "$(vs-enter $g -- /sbin/init --ls /proc/1/fd | tr '\n' ' ')" "0 1 2 " "seen from inside too"
# The supervisor lives as long as the guest: it keeps its own fds (the
# guest's lock, the console log, the console pty, its sockets), none of the
# caller's.
sup_pid=$(sed -n 's/^supervisor_pid=//p' "$VS_RUNDIR/$g/state")
sup_fds=$(for f in /proc/$sup_pid/fd/*; do readlink "$f"; done)
unlike "$sup_fds" "$secret|$target" "the supervisor holds neither of the caller's fds 7 and 9"

cd "$VST_ROOT" || exit 1
out=$(exec 7<"$secret" 9>>"$target" 11<"$VST_ROOT"; vs-enter $g -- /sbin/init --fds)
is "$(printf '%s\n' "$out" | tr '\n' ' ')" "0 1 2 " "an entered command holds only stdio, not the caller's fds 7, 9, 11"
for fd in 7 9 11; do
	out=$(exec 7<"$secret" 9>>"$target" 11<"$VST_ROOT"; vs-enter $g -- /sbin/init --cat /proc/self/fd/$fd 2>&1)
	unlike "$out" "vsa-host-secret|untouched" "fd $fd of the caller cannot be read inside"
	out=$(exec 7<"$secret" 9>>"$target" 11<"$VST_ROOT"; vs-enter $g -- /sbin/init --write /proc/self/fd/$fd pwned 2>&1)
done
is "$(cat "$target")" "untouched" "the host file behind fd 9 is unchanged"
out=$(exec 7<"$secret" 9>>"$target"; vs-enter $g -- /sbin/init --cwd 2>&1)
is "$out" "/root" "vs-enter from a host directory starts in the guest's /root"
out=$(exec 7<"$secret"; vs-enter $g -- /sbin/init --cat /proc/self/cwd/host-secret 2>&1)
unlike "$out" "vsa-host-secret" "the caller's directory is not reachable through the cwd"
out=$(vs-enter $g -- /sbin/init --env 2>&1)
unlike "$out" "^(OLDPWD|PWD)=$VST_ROOT" "the caller's directory is not in the environment"

# The entered process and the guest's init are fresh programs: none of
# vs-enter's memory is mapped in them.
out=$(vs-enter $g -- /sbin/init --cat /proc/self/maps)
unlike "$out" "memfd:vserver|vs-enter|libseccomp|libcap" "nothing of vs-enter is mapped in the entered command"
unlike "$(cat /proc/$init_pid/maps)" "memfd:vserver|vs-start|libseccomp" "nothing of vs-start is mapped in the guest's init"

cd / || exit 1
check "stop it" -- vs-stop $g
check_no_leftovers $g
done_testing
