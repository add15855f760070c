#!/bin/bash
# vs-backup and vs-restore. A booted Debian guest whose service appends one
# sequence number to a.log, touches the 16 MiB m.bin, appends the number
# to z.log, fsyncs: m.bin, between them in rsync's order and copied whole
# each time, makes a live copy take z.log later than a.log and tear the
# pair (the positive control); a backup is of one frozen moment
# (z.log's last number is a.log's or one less, both whole sequences). The
# guest was frozen and is thawed and running after. The second backup holds
# a file written between the two and writes only the change (du, which
# counts hard links once). Restored as a new name it boots with the data, a
# new address, host name, machine id (and id range); after vs-destroy it is
# restored under its own name with its own address. --keep prunes. Faults:
# a DEST that fills up, rsync failing in the frozen pass and vs-backup
# killed there (a stand-in ssh: the guest is frozen at that moment) leave
# the guest thawed and running and no backup listed. Over ssh to an sshd of
# the test's own on 127.0.0.1. An image guest running unprivileged is read
# as its guest sees its ids; a shared guest keeps its upper layer and its
# template version. Bad input is refused naming the argument.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

command -v rsync >/dev/null || { echo "1..0 # SKIP no rsync on the host (tests/install-deps installs it)"; exit 77; }

br=backupbr1
on_exit "ip link del $br"
cat >"$VS_CONFDIR/defaults.conf" <<EOC
[net]
bridge = $br
address = 10.236.1.1/24
pool = 10.236.1.0/24
EOC

g=$(guest backupd)
n=$(guest backupn)
m=$(guest backupm)
mi=$(guest backupmi)
s=$(guest backups)
s2=$(guest backups2)
d=$VST_ROOT/dest
conf_of() { sed -n "s|^$2 = ||p" "$VS_CONFDIR/$1.conf"; }
# The freezer's view of a running guest: FROZEN or THAWED (v1 freezer.state,
# v2 cgroup.events), from the file freezer_file finds once it runs.
freezer_file() {
        local p
        for p in $(cgroup_paths "$1"); do
                [ -f "$p/freezer.state" ] && { echo "$p/freezer.state"; return; }
        done
        for p in $(cgroup_paths "$1"); do
                case $p in */freezer/* | */memory/* | */cpu*) continue ;; esac
                [ -f "$p/cgroup.events" ] && { echo "$p/cgroup.events"; return; }
        done
}
freezer() { # freezer FILE
        case $1 in
        *freezer.state) cat "$1" ;;
        *) grep -q '^frozen 1' "$1" && echo FROZEN || echo THAWED ;;
        esac
}
ids() { vs-backup --list "$@" | awk 'NR > 1 {print $2}'; }
# a.log and z.log of a tree: whole sequences 1..N, and z one behind a at most.
seq_ok() { # seq_ok DIR: prints "A Z" and fails unless consistent
        local a z
        a=$(tail -n 1 "$1/a.log") z=$(tail -n 1 "$1/z.log")
        echo "$a $z"
        seq 1 "$a" | cmp -s - "$1/a.log" && seq 1 "$z" | cmp -s - "$1/z.log" && { [ "$a" = "$z" ] || [ "$a" = $((z + 1)) ]; }
}

# ---- usage ----
diag "usage: at $SECONDS s"
out=$(vs-backup 2>&1)
is $? 2 "vs-backup without arguments is a usage error"
like "$out" "Missing guest name and DEST" "it says what is missing"
out=$(vs-backup --keep 0 x "$d" 2>&1)
is $? 2 "--keep 0 is refused"
like "$out" "--keep" "the message names --keep"
out=$(vs-backup 'bad/name' "$d" 2>&1)
is $? 2 "a bad guest name is refused"
out=$(vs-backup nosuchguest "$d" 2>&1)
is $? 1 "an unknown guest fails"
like "$out" "nosuchguest" "the message names it"
out=$(vs-restore "$d" nosuchguest 2>&1)
is $? 1 "vs-restore of a guest with no backup fails"
like "$out" "No backup of \"nosuchguest\"" "the message says so"
like "$(vs-backup --help)" "--keep-days" "vs-backup --help lists the options"
like "$(vs-restore --help)" "--as NEW" "vs-restore --help lists the options"

# ---- a running Debian guest with a writer ----
diag "a running Debian guest with a writer: at $SECONDS s"
ssh-keygen -q -t ed25519 -N '' -C 'backup key' -f "$VST_ROOT/rootkey"
check "build a Debian guest" -- build_debian $g --ssh-key "$VST_ROOT/rootkey.pub"
echo "# no extra mounts" >"$VS_CONFDIR/$g.fstab"
root=$VS_GUESTDIR/$g/rootfs
mkdir -p "$root/var/lib/seq"
cat >"$root/usr/local/bin/seqw" <<'EOS'
#!/bin/sh
cd /var/lib/seq
# Resumed from a backup of the moment between the two writes: z.log first
# gets the number a.log has.
i=$(tail -n 1 a.log 2>/dev/null || echo 0)
[ "$i" = $(($(tail -n 1 z.log 2>/dev/null || echo 0) + 1)) ] && echo $i >>z.log
while :; do
        i=$((i + 1))
        echo $i >>a.log
        touch m.bin
        echo $i >>z.log
        sync a.log z.log
done
EOS
head -c 16M /dev/urandom >"$root/var/lib/seq/m.bin"
chmod 0755 "$root/usr/local/bin/seqw"
cat >"$root/etc/systemd/system/seqw.service" <<'EOS'
[Service]
ExecStart=/usr/local/bin/seqw
[Install]
WantedBy=multi-user.target
EOS
ln -s /etc/systemd/system/seqw.service "$root/etc/systemd/system/multi-user.target.wants/seqw.service"
# The tree as its guest owns it (unprivileged guests: ids 0.. on disk).
chown -R --reference="$root/etc" "$root/var/lib/seq" "$root/usr/local/bin/seqw" "$root/etc/systemd/system/seqw.service"
check "start it" -- vs-start $g
is "$(wait_systemd $g)" running "systemd reaches running"
wait_for 20 test -s "$root/var/lib/seq/z.log"
ok $? "the writer is writing"
addr=$(conf_of $g address)
fz=$(freezer_file $g)
[ -n "$fz" ]
ok $? "the guest's freezer is found ($fz)"

# Positive control: rsync alone while it runs tears the pair.
# (A few tries: on a loaded host one copy may fall between two writes.)
for i in 1 2 3 4 5; do
        rm -rf "$VST_ROOT/live"
        rsync -a "$root/var/lib/seq/" "$VST_ROOT/live/"
        pair=$(seq_ok "$VST_ROOT/live") || break
done
! seq_ok "$VST_ROOT/live" >/dev/null
ok $? "a live copy without the freeze is torn between the files ($pair, try $i)"

# ---- first backup, running ----
diag "first backup, running: at $SECONDS s"
t0=$(date +%s%N)
out=$(vs-backup $g "$d" 2>&1)
rc=$?
is $rc 0 "vs-backup of the running guest"
[ $rc = 0 ] || printf '%s\n' "$out" | tail -5 | sed 's/^/#   /;$a\'
diag "first backup in $((($(date +%s%N) - t0) / 1000000)) ms: $(printf '%s\n' "$out" | grep -o 'frozen for .*')"
like "$out" "Guest \"$g\" thawed after [0-9.]+ s frozen" "it says how long the guest was frozen"
is "$(freezer "$fz")" THAWED "the guest is thawed"
is "$(vs-status $g >/dev/null 2>&1; echo $?)" 0 "the guest is running"
b1=$(ids "$d" $g | tail -1)
like "$b1" "^[0-9]{8}T[0-9]{6}Z$" "the backup is listed ($b1)"
pair=$(seq_ok "$d/$g/$b1/rootfs/var/lib/seq")
ok $? "the backup is of one frozen moment: whole sequences, z.log one behind a.log at most ($pair)"
a1=${pair% *}
wait_for 10 sh -c "[ \$(tail -n 1 '$root/var/lib/seq/a.log') -gt $a1 ]"
ok $? "the writer goes on after the backup"
is "$(stat -c %u:%g "$d/$g/$b1/rootfs/etc/passwd")" 0:0 "owners are the guest's own ids"
check "the guest's config goes with it" -- cmp "$VS_CONFDIR/$g.conf" "$d/$g/$b1/config/$g.conf"
check "and its root keys" -- cmp "$VS_CONFDIR/$g.ssh_keys" "$d/$g/$b1/config/$g.ssh_keys"
check "and its fstab" -- cmp "$VS_CONFDIR/$g.fstab" "$d/$g/$b1/config/$g.fstab"
js=$(vs-backup --list --json "$d" $g)
like "$js" "\"id\":\"$b1\",\"layout\":\"dir\",\"created\":[0-9]+,\"running\":true,\"freeze_usec\":[1-9]" "--list --json: running, the freeze time"
ls -A "$d/$g" | grep -q '^\.'
ok $((! $?)) "no partial or hidden entry is left"

# ---- second backup: incremental ----
diag "second backup: incremental: at $SECONDS s"
echo "between the backups" >"$root/root/marker"
sleep 1
check "a second backup" -- vs-backup $g "$d"
b2=$(ids "$d" $g | tail -1)
[ "$b2" != "$b1" ]
ok $? "it is a new backup ($b2)"
check "it holds the file written in between" -- test -f "$d/$g/$b2/rootfs/root/marker"
check "the first does not" -- test ! -e "$d/$g/$b1/rootfs/root/marker"
read -r k1 k2 < <(du -sk "$d/$g/$b1" "$d/$g/$b2" | awk '{print $1}' | tr '\n' ' ')
diag "du: first $k1 KiB, second $k2 KiB more"
[ "$k2" -lt $((k1 / 5)) ]
ok $? "the second writes only the change ($k2 KiB beside $k1 KiB)"
is "$(stat -c %i "$d/$g/$b1/rootfs/etc/passwd")" "$(stat -c %i "$d/$g/$b2/rootfs/etc/passwd")" \
        "an unchanged file is a hard link to the first backup's"
pair=$(seq_ok "$d/$g/$b2/rootfs/var/lib/seq")
ok $? "the second is consistent too ($pair)"

# ---- faults: the guest is thawed and running, no backup looks complete ----
diag "faults: the guest is thawed and running, no backup looks complete: at $SECONDS s"
mkdir -p "$VST_ROOT/tiny"
truncate -s 24M "$VST_ROOT/tiny.img"
mkfs.ext4 -q -F -m 0 "$VST_ROOT/tiny.img"
tloop=$(losetup --find --show "$VST_ROOT/tiny.img")
mount "$tloop" "$VST_ROOT/tiny"
on_exit "umount -l '$VST_ROOT/tiny'; losetup -d '$tloop'"
out=$(vs-backup $g "$VST_ROOT/tiny" 2>&1)
rc=$?
[ $rc = 1 ]
ok $? "a backup to a full file system fails (status $rc)"
like "$out" "rsync failed" "it says rsync failed"
is "$(freezer "$fz")" THAWED "the guest is thawed"
is "$(vs-status $g >/dev/null 2>&1; echo $?)" 0 "the guest is running"
is "$(ids "$VST_ROOT/tiny" $g)" "" "no backup is listed"
is "$(ls -A "$VST_ROOT/tiny/$g" 2>/dev/null)" "" "nothing is left of it"

# A stand-in ssh runs commands here; an rsync it starts while the guest is
# frozen (the frozen pass) fails, or kills vs-backup.
cat >"$VST_ROOT/fakessh" <<EOS
#!/bin/bash
[ "\$1" = -- ] && shift
shift
$(declare -f freezer)
case "\$*" in
*"rsync --server"*)
        if [ "\$(freezer "$fz")" = FROZEN ]; then
                echo FROZEN >"$VST_ROOT/fake.state"
                [ "\$(cat "$VST_ROOT/fake.mode")" = kill ] && kill -9 \$(ps -o ppid= -p \$PPID)
                if [ "\$(cat "$VST_ROOT/fake.mode")" = unit ]; then
                        # as a unit's stop: vs-backup and every process of
                        # its (its watchdog, its rsync) at once
                        b=\$(ps -o ppid= -p \$PPID)
                        all="\$b \$(ps -o pid= --ppid \$b)"
                        ps -o comm= -p "\$(echo \$all | tr ' ' ,)" | grep -c '^vs-backup' >>"$VST_ROOT/fake.state"
                        kill -9 \$all
                fi
                exit 12
        fi ;;
esac
exec sh -c "\$*"
EOS
chmod 0755 "$VST_ROOT/fakessh"
before=$(ids "$d" $g)
for mode in fail kill; do
        echo $mode >"$VST_ROOT/fake.mode"
        rm -f "$VST_ROOT/fake.state"
        out=$(vs-backup --ssh "$VST_ROOT/fakessh" $g "here:$d" 2>&1)
        rc=$?
        [ $rc != 0 ]
        ok $? "$mode: the backup fails (status $rc)"
        is "$(cat "$VST_ROOT/fake.state" 2>/dev/null)" FROZEN "$mode: the fault struck while the guest was frozen"
        wait_for 5 sh -c "! grep -q -e FROZEN -e FREEZING -e 'frozen 1' '$fz'"
        is "$(freezer "$fz")" THAWED "$mode: the guest is thawed"
        is "$(vs-status $g >/dev/null 2>&1; echo $?)" 0 "$mode: the guest is running"
        is "$(ids "$d" $g)" "$before" "$mode: no new backup is listed"
        [ $mode = kill ] || { ls -A "$d/$g" | grep -q '^\.'; ok $((! $?)) "$mode: the partial copy is removed"; }
done
like "$(ls -A "$d/$g" | grep '^\.')" "^\.partial-[0-9TZ]+$" "kill: a partial copy is left, under a dot name"

# A unit's stop kills vs-backup and its watchdog together while the guest
# is frozen: the guest's supervisor, which watches the process named in
# the run directory's frozen-by, thaws it.
echo unit >"$VST_ROOT/fake.mode"
rm -f "$VST_ROOT/fake.state"
vs-backup --ssh "$VST_ROOT/fakessh" $g "here:$d" >/dev/null 2>&1
rc=$?
[ $rc != 0 ]
ok $? "unit: the backup fails (status $rc)"
is "$(head -n 1 "$VST_ROOT/fake.state" 2>/dev/null)" FROZEN "unit: the fault struck while the guest was frozen"
is "$(sed -n 2p "$VST_ROOT/fake.state" 2>/dev/null)" 2 "unit: it killed vs-backup and its watchdog (two vs-backup processes)"
wait_for 5 sh -c "! grep -q -e FROZEN -e FREEZING -e 'frozen 1' '$fz'"
is "$(freezer "$fz")" THAWED "unit: the guest is thawed, by its supervisor"
grep -q '"event":"thawed"' "$VS_RUNDIR/.events"
ok $? "unit: a thawed event is recorded"
check "unit: the guest answers" -- vs-enter $g -- true
check "unit: frozen-by is gone" -- test ! -e "$VS_RUNDIR/$g/frozen-by"

# ---- restore as a new name ----
diag "restore as a new name: at $SECONDS s"
check "restore as a new name" -- vs-restore "$d" $g --as $n
naddr=$(conf_of $n address)
[ -n "$naddr" ] && [ "$naddr" != "$addr" ]
ok $? "it has an address of its own ($naddr, not $addr)"
check "it starts" -- vs-start $n
is "$(wait_systemd $n)" running "and boots"
is "$(vs-enter $n -- cat /root/marker)" "between the backups" "it holds the data"
is "$(vs-enter $n -- cat /etc/hostname)" $n "its host name is its own"
check "its fstab is restored under its name" -- cmp "$VS_CONFDIR/$g.fstab" "$VS_CONFDIR/$n.fstab"
is "$(conf_of $n ssh_keys)" "$VS_CONFDIR/$n.ssh_keys" "its root keys are its own copy"
check "with the key" -- grep -q 'backup key' "$VS_CONFDIR/$n.ssh_keys"
[ "$(vs-enter $n -- cat /etc/machine-id)" != "$(vs-enter $g -- cat /etc/machine-id)" ]
ok $? "and its machine id"
if [ -z "${VS_TEST_PRIVILEGED:-}" ]; then
        [ -n "$(host_id $n)" ] && [ "$(host_id $n)" != "$(host_id $g)" ]
        ok $? "it runs in an id range of its own ($(host_id $n), not $(host_id $g))"
fi
wait_for 20 sh -c "vs-enter $n -- sh -c '[ \$(tail -n 1 /var/lib/seq/a.log) -gt $(tail -n 1 "$d/$g/$b2/rootfs/var/lib/seq/a.log") ]'"
ok $? "its writer goes on from the backup's sequence"
vs-stop $n >/dev/null 2>&1

# ---- restore under its own name after vs-destroy ----
diag "restore under its own name after vs-destroy: at $SECONDS s"
out=$(vs-restore "$d" $g 2>&1)
[ $? = 1 ]
ok $? "restoring over an existing guest is refused"
like "$out" "exists already" "it says the guest exists"
check "stop the guest" -- vs-stop $g
check "destroy it" -- vs-destroy $g
check "restore it under its own name" -- vs-restore "$d" $g
is "$(conf_of $g address)" "$addr" "it keeps its address"
check "it starts" -- vs-start $g
is "$(wait_systemd $g)" running "and boots"
is "$(vs-enter $g -- cat /root/marker)" "between the backups" "it holds the data"
is "$(vs-enter $g -- hostname)" $g "its host name is its own"
vs-stop $g >/dev/null 2>&1

# ---- prune ----
diag "prune: at $SECONDS s"
check "a third backup (stopped), keeping 2" -- vs-backup --keep 2 $g "$d"
ls -A "$d/$g" | grep -q '^\.'
ok $((! $?)) "the killed backup's partial copy is gone"
is "$(ids "$d" $g | wc -l)" 2 "two backups are left"
ids "$d" $g | grep -q "^$b1$"
ok $((! $?)) "the oldest went"
check "--prune --keep 1" -- vs-backup --prune --keep 1 $g "$d"
is "$(ids "$d" $g | wc -l)" 1 "one is left"
check "restore --at an id that is gone is refused" -- sh -c "! vs-restore --at $b1 '$d' $g --as x$n"

# ---- image, running (unprivileged: read through a user namespace) ----
diag "image, running (unprivileged: read through a user namespace): at $SECONDS s"
check "build a minimal image guest" -- build_minimal $m --disk 64M
check "start it" -- vs-start $m
check "back it up while it runs" -- vs-backup $m "$d"
bm=$(ids "$d" $m | tail -1)
if [ -z "${VS_TEST_PRIVILEGED:-}" ]; then
        [ "$(stat -c %u "/proc/$(init_pid $m)/root/etc/hostname")" != 0 ]
        ok $? "the host sees its host ids through its root ($(stat -c %u "/proc/$(init_pid $m)/root/etc/hostname"))"
fi
is "$(stat -c %u:%g "$d/$m/$bm/rootfs/etc/hostname")" 0:0 "its files are owned by the guest's own ids"
is "$(cat "$d/$m/$bm/rootfs/etc/hostname")" $m "its file system's contents are there"
check "stop it; a stopped image backs up too" -- sh -c "vs-stop $m && sleep 1 && vs-backup $m '$d'"
is "$(vs-backup --list --json "$d" $m | grep -o '"running":[a-z]*' | tr '\n' ' ')" '"running":true "running":false ' \
        "--list tells a running backup from a stopped one"
check "restore it as a new name" -- vs-restore "$d" $m --as $mi
check "it is an image guest" -- test -f "$VS_GUESTDIR/$mi/disk.img"
check "it starts" -- vs-start $mi
vs-stop $mi >/dev/null 2>&1

# ---- shared, stopped ----
diag "shared, stopped: at $SECONDS s"
check "build a shared guest" -- build_debian $s --shared
echo "upper" >"$VS_GUESTDIR/$s/upper/marker"
chown --reference="$VS_GUESTDIR/$s/upper" "$VS_GUESTDIR/$s/upper/marker"
check "back it up" -- vs-backup $s "$d"
bs=$(ids "$d" $s | tail -1)
like "$(vs-backup --list --json "$d" $s)" "\"template\":\"$(basename "$(readlink "$VS_GUESTDIR/$s/lower")")\"" \
        "it names its template version"
check "its upper layer is there" -- test -f "$d/$s/$bs/upper/marker"
check "not the template" -- test ! -e "$d/$s/$bs/upper/usr/bin"
check "restore it as a new name" -- vs-restore "$d" $s --as $s2
is "$(readlink "$VS_GUESTDIR/$s2/lower")" "$(readlink "$VS_GUESTDIR/$s/lower")" "on the same template version"
is "$(cat "$VS_GUESTDIR/$s2/upper/marker")" upper "with its upper layer"
is "$(cat "$VS_GUESTDIR/$s2/upper/etc/hostname")" $s2 "and a host name of its own"

# ---- over ssh, to an sshd of this test on 127.0.0.1 ----
diag "over ssh, to an sshd of this test on 127.0.0.1: at $SECONDS s"
if [ -x /usr/sbin/sshd ] && command -v ssh >/dev/null; then
        k=$VST_ROOT/ssh
        test_sshd "$k"
        port=$test_sshd_port
        # One connection for all of a backup's steps (a loaded host takes
        # seconds per key exchange); its master ends in the cleanup.
        sshc="ssh -F /dev/null -p $port -i $k/id -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ControlMaster=auto -o ControlPath=$k/cm -o ControlPersist=60"
        on_exit "$sshc -O exit root@127.0.0.1"
        wait_for 10 $sshc root@127.0.0.1 true
        ok $? "the test's sshd answers on 127.0.0.1:$port"
        r="root@127.0.0.1:$VST_ROOT/remote"
        x=$(guest backupx)
        x2=$(guest backupx2)
        check "build a minimal guest" -- build_minimal $x
        check "start it" -- vs-start $x
        echo "over ssh" >"$VS_GUESTDIR/$x/rootfs/root/marker"
        check "a backup over ssh of the running guest" -- vs-backup --ssh "$sshc" $x "$r"
        like "$(vs-backup --list --json --ssh "$sshc" "$r")" "\"name\":\"$x\",\"id\":\"[0-9TZ]+\",\"layout\":\"dir\",\"created\":[0-9]+,\"running\":true" \
                "--list --json over ssh"
        check "restore over ssh as a new name" -- vs-restore --ssh "$sshc" "$r" $x --as $x2
        check "it holds the file" -- test -f "$VS_GUESTDIR/$x2/rootfs/root/marker"
        check "it starts" -- vs-start $x2
else
        skip "backups over ssh" "no OpenSSH server on the host (tests/install-deps installs openssh-server)"
fi
diag "end: at $SECONDS s"
done_testing
