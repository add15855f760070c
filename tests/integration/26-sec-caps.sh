#!/bin/bash
# Capabilities (SECURITY.md, point 6): the default bounding set lacks what
# reaches the whole host (modules, raw I/O, the clock, MAC policy); [guest]
# caps.drop / caps.keep change it, bad names are refused naming the key; an
# entered process never has more than the guest's init; ambient is empty.
# Attacks for real: the clock (settimeofday) and raw sockets from inside.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

capbit() { # capbit HEX BIT: 1 when BIT is set in the capability mask HEX
	echo $(((16#$1 >> $2) & 1))
}
bnd() { sed -n 's/^CapBnd:[[:space:]]*//p'; }

# Refused before anything is made, naming the key and the bad name.
bad=$(guest vsa-caps-bad)
out=$(vs-build $bad --template minimal --set guest.caps.drop=sys_time,sys_bogus 2>&1)
rc=$?
is $rc 2 "vs-build refuses an unknown capability (exit 2)"
like "$out" 'guest\.caps\.drop.*sys_bogus' "the message names the key and the bad name"
is "$(ls -A "$VS_GUESTDIR" "$VS_CONFDIR" | grep -c "$bad")" 0 "nothing of the refused guest was made"
out=$(vs-build $bad --template minimal --set guest.caps.keep=net_raw --set guest.caps.drop=cap_net_raw 2>&1)
like "$out" 'guest\.caps\.drop.*net_raw.*caps\.keep' "a capability both kept and dropped is refused"

# The default set.
d=$(guest vsa-caps-def)
check "build a default guest" -- build_minimal $d
check "start it" -- vs-start $d
ib=$(bnd </proc/$(init_pid $d)/status)
for c in 16:sys_module 17:sys_rawio 25:sys_time 32:mac_override 33:mac_admin 39:bpf 20:sys_pacct 34:syslog; do
	is "$(capbit "$ib" "${c%%:*}")" 0 "the default bounding set lacks ${c#*:}"
done
for c in 21:sys_admin 13:net_raw 12:net_admin 19:sys_ptrace 2:dac_read_search; do
	is "$(capbit "$ib" "${c%%:*}")" 1 "the default bounding set keeps ${c#*:}"
done
st=$(vs-enter $d -- /sbin/init --status)
is "$(printf '%s\n' "$st" | bnd)" "$ib" "vs-enter gets exactly init's bounding set"
like "$st" 'CapAmb:[[:space:]]+0+$' "the ambient set of an entered process is empty"
like "$(cat /proc/$(init_pid $d)/status)" 'CapAmb:[[:space:]]+0+' "the ambient set of the guest's init is empty"
tz_before=$(date +%z)
is "$(vs-enter $d -- /sbin/init --syscall settimeofday-tz)" "settimeofday-tz EPERM" "the guest cannot set the host's clock (sys_time)"
is "$(date +%z)" "$tz_before" "the host's time zone is untouched"
is "$(vs-enter $d -- /sbin/init --syscall socket-raw)" "socket-raw OK" "a default guest may open raw sockets (net_raw kept)"

# caps.drop and caps.keep from the configuration file.
c=$(guest vsa-caps-cfg)
# Privileged: kept capabilities are the host's there (unprivileged, below).
check "build a privileged guest that drops net_raw and sys_ptrace and keeps sys_time" -- \
	build_minimal $c --privileged --set guest.caps.drop=net_raw,CAP_SYS_PTRACE --set guest.caps.keep=sys_time
like "$(cat "$VS_CONFDIR/$c.conf")" 'caps\.drop = net_raw,sys_ptrace' "the config file names the dropped capabilities"
check "start it" -- vs-start $c
cb=$(bnd </proc/$(init_pid $c)/status)
is "$(capbit "$cb" 13)$(capbit "$cb" 19)$(capbit "$cb" 25)" 001 "init's bounding set: no net_raw, no sys_ptrace, sys_time"
is "$(vs-enter $c -- /sbin/init --status | bnd)" "$cb" "vs-enter keeps to the configured set"
is "$(vs-enter $c -- /sbin/init --syscall socket-raw)" "socket-raw EPERM" "with net_raw dropped a raw socket is refused"
is "$(vs-enter $c -- /sbin/init --syscall settimeofday-tz)" "settimeofday-tz OK" "with sys_time kept the call goes through (same zone, no change)"
is "$(date +%z)" "$tz_before" "the host's time zone is still the same"
check "stop it" -- vs-stop $c

# A bad name edited into the file stops vs-start, naming file, line and key.
printf '[guest]\ncaps.keep = sys_nonsense\n' >>"$VS_CONFDIR/$c.conf"
out=$(vs-start $c 2>&1)
like "$out" "$c\\.conf:[0-9]+: .*guest\\.caps\\.keep.*sys_nonsense" "vs-start names the file, line, key and bad name"
is "$(vs-status $c >/dev/null 2>&1; echo $?)" 3 "and the guest stays stopped"

# open_by_handle_at(2) with dac_read_search opens any file of a file system
# the guest sees part of (the "shocker" escape): the seccomp filter refuses
# the call, and a guest without the filter goes without the capability unless
# caps.keep names it. Attacked for real: a scratch ext4 file system, of which
# the guests see only the directory "shared", holds a file at its root.
scratch=$VST_ROOT/scratch
truncate -s 16M "$VST_ROOT/scratch.img" && mkfs.ext4 -q -F "$VST_ROOT/scratch.img" && mkdir "$scratch" &&
	mount -o loop "$VST_ROOT/scratch.img" "$scratch"
ok $? "a scratch ext4 file system"
on_exit "umount -l '$scratch'"
echo "scratch secret" >"$scratch/secret" && mkdir "$scratch/shared"
sc=$(guest vsa-caps-sc)
nosc=$(guest vsa-caps-nosc)
keep=$(guest vsa-caps-keepdrs)
check "build a default guest" -- build_minimal $sc
check "build a guest with seccomp = no" -- build_minimal $nosc --set guest.seccomp=no
check "build a privileged guest with seccomp = no that keeps dac_read_search" -- \
	build_minimal $keep --privileged --set guest.seccomp=no --set guest.caps.keep=dac_read_search
# Unprivileged, the same keys give capabilities over the guest's own user
# namespace only: the clock and file handles stay the host's.
ukeep=$(guest vsa-caps-ukeep)
check "build an unprivileged guest with seccomp = no that keeps dac_read_search and sys_time" -- \
	build_minimal $ukeep --unprivileged --set guest.seccomp=no --set guest.caps.keep=dac_read_search,sys_time
for g in $sc $nosc $keep $ukeep; do
	echo "$scratch/shared /srv/shared none bind,ro 0 0" >"$VS_CONFDIR/$g.fstab"
	check "start $g with the scratch directory bound in" -- vs-start $g
done
nb=$(bnd </proc/$(init_pid $nosc)/status)
is "$(capbit "$nb" 2)" 0 "without seccomp the bounding set lacks dac_read_search"
is "$(vs-enter $nosc -- /sbin/init --status | bnd)" "$nb" "and so does vs-enter"
is "$(capbit "$(bnd </proc/$(init_pid $keep)/status)" 2)" 1 "caps.keep = dac_read_search gives it back"
is "$(vs-enter $keep -- /sbin/init --open-root-handle /srv/shared secret)" "read scratch secret" \
	"control: with dac_read_search and no filter the guest reads past its bind"
is "$(vs-enter $nosc -- /sbin/init --open-root-handle /srv/shared secret)" "EPERM" \
	"without the filter nor dac_read_search the escape is refused"
is "$(vs-enter $sc -- /sbin/init --open-root-handle /srv/shared secret)" "EPERM" \
	"a default guest: the filter refuses it"
is "$(capbit "$(bnd </proc/$(init_pid $ukeep)/status)" 2)$(capbit "$(bnd </proc/$(init_pid $ukeep)/status)" 25)" 11 \
	"the unprivileged guest keeps dac_read_search and sys_time in its bounding set"
like "$(vs-enter $ukeep -- /sbin/init --open-root-handle /srv/shared secret)" "^(EPERM|errno 116)$" \
	"unprivileged, with dac_read_search and no filter, the escape is refused (EPERM, or ESTALE: outside its mount)"
is "$(vs-enter $ukeep -- /sbin/init --syscall settimeofday-tz)" "settimeofday-tz EPERM" \
	"unprivileged, with sys_time kept, the host's clock is refused"
is "$(date +%z)" "$tz_before" "the host's time zone is still the same"
for g in $sc $nosc $keep $ukeep; do
	check "stop $g" -- vs-stop $g
done

check "stop the default guest" -- vs-stop $d
check_no_leftovers $d
check_no_leftovers $c
check_no_leftovers $nosc
done_testing
