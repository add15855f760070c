#!/bin/bash
# Layout "image": the guest's root is an ext4 image of disk.size, built with
# mke2fs -d, loop-mounted only inside the guest; the limit is the guest's
# alone; the loop device never outlives the guest; images grow offline.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

no_loops() { [ "$(our_loops)" = 0 ]; }

g=$(guest vsd-img1)
h=$(guest vsd-img2)

# Bad input: clear errors, nothing made.
out=$(vs-build vsd-bad --template debian --disk 0 2>&1)
is $? 2 "--disk 0 is refused"
like "$out" "disk.size" "the message names disk.size"
out=$(vs-build vsd-bad --template debian --disk -1G 2>&1)
is $? 2 "--disk -1G is refused"
like "$out" "disk.size" "the message names disk.size"
out=$(vs-build vsd-bad --template debian --disk 900T 2>&1)
ok $(($? == 0)) "a size above the free space is refused"
like "$out" "disk.size: .* is more than the .* free" "the message says why"
out=$(vs-build vsd-bad --template debian --layout image 2>&1)
ok $(($? == 0)) "layout image without a size is refused"
like "$out" "disk.size" "the message names the missing key"
out=$(vs-build vsd-bad --template debian --layout floppy 2>&1)
like "$out" "disk.layout.*dir, image or shared" "an unknown layout is refused by name"
out=$(vs-build vsd-bad --template debian --disk 20M 2>&1)
ok $(($? == 0)) "a size too small for the tree fails"
like "$out" "mke2fs .* large enough" "and says the size may be too small"
is "$(ls -A "$VS_GUESTDIR" | grep -v '^\.templates$' | tr '\n' ' ')" "" "nothing is left of the failed builds"
[ ! -e "$VS_CONFDIR/vsd-bad.conf" ]
ok $? "no config for the failed builds"

check "build an image guest of 400M" -- build_debian $g --disk 400M
[ -f "$VS_GUESTDIR/$g/disk.img" ] && [ -z "$(ls -A "$VS_GUESTDIR/$g/rootfs")" ]
ok $? "the guest has disk.img and an empty mount point"
like "$(cat "$VS_CONFDIR/$g.conf")" "size = 400M" "the config has [disk] size"
is "$(our_loops)" 0 "building attached no loop device"
check "build a second image guest" -- build_debian $h --disk 300M

check "vs-start" -- vs-start $g
is "$(wait_systemd $g)" running "systemd on an image root reaches running"
like "$(vs-enter $g -- findmnt -n -o FSTYPE /)" "^ext4$" "the guest's root is ext4"
is "$(our_loops)" 1 "one loop device while it runs"
grep -q "$VS_GUESTDIR/$g/rootfs" /proc/self/mountinfo
ok $((! $?)) "the image is not mounted in the host's namespace"
size_k=$(vs-enter $g -- df -k --output=size / | tail -1 | tr -d ' ')
[ "$size_k" -gt 350000 ] && [ "$size_k" -le 409600 ]
ok $? "df inside shows about 400M ($size_k K)"
like "$(vs-stat $g)" "$g .* [0-9.]+M/400\.0M" "vs-stat shows disk used/size"
like "$(vs-stat --json $g)" '"disk_size_bytes":4194304[0-9][0-9]' "vs-stat --json has disk_size_bytes"

check "vs-start the second guest" -- vs-start $h
out=$(vs-enter $g -- sh -c 'dd if=/dev/zero of=/fill bs=1M count=1000 2>&1; echo "rc=$?"')
like "$out" "No space left on device" "writing past the size fails with ENOSPC inside"
like "$out" "rc=1" "dd exits with an error"
check "the host can still write" -- dd if=/dev/zero of="$VST_ROOT/hostfile" bs=1M count=20 status=none
check "the other guest can still write" -- vs-enter $h -- dd if=/dev/zero of=/other bs=1M count=20 status=none
is "$(vs-enter $h -- stat -c %s /other)" 20971520 "the other guest's file is whole"
vs-enter $g -- rm -f /fill

out=$(vs-destroy $g 2>&1)
ok $(($? == 0)) "vs-destroy refuses a running image guest"
[ -f "$VS_GUESTDIR/$g/disk.img" ]
ok $? "and keeps its image"
out=$(vs-limit $g disk=600M 2>&1)
ok $(($? == 0)) "growing a running guest is refused"
like "$out" "running: stop it" "with a reason"

check "vs-stop" -- vs-stop --timeout 60 $g
wait_for 10 test "$(our_loops)" = 1
is "$(our_loops)" 1 "stopping released its loop device (the other guest keeps one)"
check "vs-stop the second guest" -- vs-stop --timeout 60 $h
wait_for 10 no_loops
is "$(our_loops)" 0 "no loop device left after both stopped"
is "$(losetup -a | grep -c "$VST_ROOT")" 0 "losetup -a agrees"

# Growing, offline.
out=$(vs-limit $g disk=200M 2>&1)
ok $(($? == 0)) "shrinking is refused"
like "$out" "shrinking is not supported" "with a reason"
check "vs-limit disk=600M grows the stopped guest" -- vs-limit $g disk=600M
like "$(cat "$VS_CONFDIR/$g.conf")" "size = 600M" "the config keeps the new size"
is "$(stat -c %s "$VS_GUESTDIR/$g/disk.img")" $((600 * 1024 * 1024)) "the image file is 600M"
check "vs-start after growing" -- vs-start $g
is "$(wait_systemd $g)" running "it boots again"
size_k=$(vs-enter $g -- df -k --output=size / | tail -1 | tr -d ' ')
[ "$size_k" -gt 550000 ] && [ "$size_k" -le 614400 ]
ok $? "df inside shows about 600M ($size_k K)"

# kill -9 of the supervisor: the guest dies with it, and so does the loop.
sup=$(sed -n 's/^supervisor_pid=//p' "$VS_RUNDIR/$g/state")
kill -9 "$sup"
wait_for 20 no_loops
ok $? "no loop device left after kill -9 of the supervisor"
vs-status $g >/dev/null 2>&1

# A start that fails after the image is attached.
sed -i 's|^init = .*|init = /sbin/no-such-init|' "$VS_CONFDIR/$g.conf"
out=$(vs-start $g 2>&1)
ok $(($? == 0)) "a start with a missing init fails"
like "$out" "no-such-init" "naming the init"
wait_for 10 no_loops
ok $? "no loop device left after the failed start"
sed -i 's|^init = .*|init = /sbin/init|' "$VS_CONFDIR/$g.conf"

# A dir guest's size is a project quota: the test's filesystem has none.
check "build a plain dir guest" -- build_minimal vsd-img3
guest vsd-img3 >/dev/null
out=$(vs-limit vsd-img3 disk=1G 2>&1)
like "$out" "has no project quotas.*prjquota" "vs-limit disk= on a dir guest is refused where the filesystem has no project quotas"

check "vs-destroy" -- vs-destroy $g
[ ! -e "$VS_GUESTDIR/$g" ] && [ ! -e "$VS_CONFDIR/$g.conf" ]
ok $? "vs-destroy removed the image and the config"
check_no_leftovers $g
is "$(our_loops)" 0 "no loop device of this test is left"
done_testing
