#!/bin/bash
# Host binaries cannot be overwritten through /proc/PID/exe (SECURITY.md,
# point 1; the runc CVE-2019-5736 class). No process of vs-start or
# vs-enter ever appears in a guest's PID namespace running a host file:
# the last step into the guest goes through a sealed memfd trampoline. The
# attack for real: while vs-enter is called again and again, a process
# inside holds every foreign /proc/PID/exe it sees (the trampoline's child
# between fork and exec, or the program a guest file "#!/proc/self/exe"
# makes the kernel run) and writes to it once it may.
# Run on copies of the binaries: a defence that failed would corrupt the copy.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

bin=$VST_ROOT/bin
mkdir -p "$bin"
cp "$VS_TOP_BUILDDIR"/sbin/vs-* "$bin/"
export PATH=$bin:$PATH
sum_before=$(sha256sum "$bin/vs-enter" "$bin/vs-start" | awk '{print $1}' | tr '\n' ' ')

g=$(guest vsa-exe)
check "build a minimal guest" -- build_minimal $g
# The hostile file: executing it makes the kernel run /proc/self/exe of the
# caller, i.e. vs-enter's program, as a process of the guest.
printf '#!/proc/self/exe\n' >"$VS_GUESTDIR/$g/rootfs/evil"
chmod 0755 "$VS_GUESTDIR/$g/rootfs/evil"
check "start it" -- vs-start $g

sup=$(sed -n 's/^supervisor_pid=//p' "$VS_RUNDIR/$g/state")
init=$(sed -n 's/^init_pid=//p' "$VS_RUNDIR/$g/state")
check "the supervisor (a host file) stays outside the guest's PID namespace" -- \
	test "$(readlink /proc/$sup/ns/pid)" != "$(readlink /proc/$init/ns/pid)"
like "$(awk '$6 ~ /vs-start|memfd|vserver/' /proc/$init/maps | wc -l)" '^0$' "nothing of vserver is mapped in the guest's init"

# Inside: the attacker runs for 6 s; outside, vs-enter runs for at most 4 s,
# so that the attacker has time to write once it stops.
# (The attacker is entered with the build tree's vs-enter: a copy in use
# the whole time could never be opened for writing, protected or not.)
"$VS_TOP_BUILDDIR/sbin/vs-enter" $g -- /sbin/init --open-exe-loop 4 >"$VST_ROOT/attack.out" 2>&1 &
attacker=$!
sleep 0.3
calls=0
stop_at=$(($(date +%s%N) + 4000000000))
while [ "$(date +%s%N)" -lt $stop_at ] && [ $calls -lt 600 ]; do
	vs-enter $g -- /evil >/dev/null 2>&1
	vs-enter $g -- /sbin/init --exit 0 >/dev/null 2>&1
	calls=$((calls + 2))
done
wait $attacker
res=$(cat "$VST_ROOT/attack.out")
diag "attacker: $res after $calls vs-enter calls"
like "$res" '^seen [1-9][0-9]* ' "the attacker did catch vs-enter's program running in the guest"
like "$res" ' written 0$' "no write through /proc/PID/exe got through"
sum_after=$(sha256sum "$bin/vs-enter" "$bin/vs-start" | awk '{print $1}' | tr '\n' ' ')
is "$sum_after" "$sum_before" "vs-enter and vs-start on the host are unchanged"

check "stop it" -- vs-stop $g
check_no_leftovers $g
done_testing
