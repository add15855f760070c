#!/bin/bash
# Seccomp (SECURITY.md, point 7): the guest's init and every entered process
# run under the default deny list; each denied call is made from inside,
# through the 64-bit, i386 (int 0x80) and x32 entry points, with harmless
# arguments. A guest with "seccomp = no" and the same capabilities is the
# control: there the same calls reach the kernel (another errno than EPERM),
# so the EPERM in the filtered guest is the filter's doing. Where the kernel
# refuses the i386 entry (the control guest's getpid through int 0x80 dies),
# the i386 probes are reported as SKIP with that reason.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

calls64="kexec_load kexec_file_load open_by_handle_at init_module finit_module delete_module bpf
 perf_event_open keyctl add_key request_key umount2-force"
calls32="kexec_load open_by_handle_at init_module finit_module delete_module bpf perf_event_open
 keyctl add_key request_key umount2-force"

out=$(vs-build vsa-sc-bad --template minimal --set guest.seccomp=maybe 2>&1)
like "$out" 'guest\.seccomp.*maybe' "a bad seccomp value is refused naming the key"

on=$(guest vsa-sc-on)
off=$(guest vsa-sc-off)
# Both keep sys_module, so only the filter stands between the guest and
# the module calls; the control also keeps dac_read_search, which a guest
# without the filter loses by default (open_by_handle_at needs it).
check "build the filtered guest" -- build_minimal $on --set guest.caps.keep=sys_module
check "build the control guest (seccomp = no)" -- build_minimal $off --set guest.caps.keep=sys_module,dac_read_search --set guest.seccomp=no
check "start the filtered guest" -- vs-start $on
check "start the control guest" -- vs-start $off

like "$(cat /proc/$(init_pid $on)/status)" $'Seccomp:\t2' "the guest's init runs with a seccomp filter (Seccomp: 2)"
like "$(cat /proc/$(init_pid $off)/status)" $'Seccomp:\t0' "the control guest's init has none"
like "$(vs-enter $on -- /sbin/init --status)" $'Seccomp:[[:space:]]+2' "an entered process gets the filter too"
like "$(vs-enter $off -- /sbin/init --status)" $'Seccomp:[[:space:]]+0' "and none in the control guest"

# Some kernels refuse the i386 entry (int 0x80 raises a general protection
# fault: SIGSEGV) whatever the filter says. The control guest tells: a
# harmless getpid through each entry point, with no filter in the way.
is "$(vs-enter $off -- /sbin/init --syscall getpid 2>&1)" "getpid OK" "the control guest makes a 64-bit call"
got32=$(vs-enter $off -- /sbin/init --syscall32 getpid 2>&1)
rc32=$?
no32=""
if [ "$got32" = "getpid OK" ]; then
	ok 0 "the control guest makes an i386 call (int 0x80)"
elif [ $rc32 = $((128 + 11)) ]; then
	no32="this kernel refuses the i386 int 0x80 entry (SIGSEGV in the control guest)"
	ok 0 "the control guest's i386 call dies with SIGSEGV: $no32"
else
	ok 1 "the control guest's i386 call either works or dies with SIGSEGV"
	printf '#   got (exit %s): %s\n' "$rc32" "$got32"
fi

for abi in syscall syscall32; do
	[ $abi = syscall ] && list=$calls64 || list=$calls32
	for c in $list; do
		if [ $abi = syscall32 ] && [ -n "$no32" ]; then
			skip "--$abi $c is refused by the filter" "$no32"
			continue
		fi
		got_on=$(vs-enter $on -- /sbin/init --$abi $c 2>&1)
		got_off=$(vs-enter $off -- /sbin/init --$abi $c 2>&1)
		is "$got_on" "$c EPERM" "--$abi $c is refused with EPERM by the filter"
		unlike "$got_off" "EPERM|OK$" "--$abi $c reaches the kernel without the filter ($got_off)"
	done
done
# x32 numbers (the kernel here may not run x32 at all: ENOSYS without the
# filter); the filter must still answer for them.
for c in kexec_load init_module finit_module bpf keyctl; do
	is "$(vs-enter $on -- /sbin/init --syscallx32 $c 2>&1)" "$c EPERM" "--syscallx32 $c is refused with EPERM"
done
# The umount rule looks at the flags: a lazy umount is the guest's own.
is "$(vs-enter $on -- /sbin/init --syscall umount2-detach)" "umount2-detach ENOENT" "umount2 without MNT_FORCE is allowed"
if [ -n "$no32" ]; then
	skip "umount2 without MNT_FORCE is allowed through int 0x80" "$no32"
else
	is "$(vs-enter $on -- /sbin/init --syscall32 umount2-detach)" "umount2-detach EFAULT" "also through int 0x80"
fi

check "stop the filtered guest" -- vs-stop $on
check "stop the control guest" -- vs-stop $off
check_no_leftovers $on
check_no_leftovers $off
done_testing
