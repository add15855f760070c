#!/bin/bash
# First-boot access: a Debian guest built with openssh-server, --ssh-key,
# --root-password-file, --dns and --timezone takes a real OpenSSH login
# with that key at its first boot and refuses another key; root's hash in
# /etc/shadow verifies against the password (and only it), the guest's
# resolv.conf and date show the settings, each file owned as the guest
# sees it; the settings are kept in [guest] and a --clone of the guest
# keeps them. An unprivileged guest (the default) and a privileged one.
# Bad input is refused, naming the file or argument, with nothing made.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

if ! command -v ssh >/dev/null || ! command -v ssh-keygen >/dev/null; then
        echo "1..0 # SKIP no OpenSSH client on the host (tests/install-deps installs openssh-client)"
        exit 77
fi

br=accbr1
on_exit "ip link del $br"
cat >"$VS_CONFDIR/defaults.conf" <<EOC
[net]
bridge = $br
address = 10.235.1.1/24
pool = 10.235.1.0/24
EOC

k=$VST_ROOT/keys
mkdir -p "$k"
ssh-keygen -q -t ed25519 -N '' -C 'acc good' -f "$k/good"
ssh-keygen -q -t ed25519 -N '' -C 'acc other' -f "$k/other"
ssh-keygen -q -t rsa -b 3072 -N '' -C 'acc rsa' -f "$k/rsa"
cat "$k/rsa.pub" "$k/good.pub" >"$k/two.pub"
pw="acc-$RANDOM-pass word"
printf '%s\n' "$pw" >"$k/pw"
chmod 0600 "$k/pw"

a=$(guest acca)
c=$(guest accc)
p=$(guest accp)
x=$(guest accx)

addr_of() { sed -n 's|^address = \(.*\)/.*|\1|p' "$VS_CONFDIR/$1.conf"; }
sshg() { # sshg KEY ADDR COMMAND...: root's login with that key only
        local key=$1 addr=$2
        shift 2
        timeout "$(slow 30)" ssh -F /dev/null -i "$key" -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes \
                -o PasswordAuthentication=no -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
                -o ConnectTimeout=5 -o LogLevel=ERROR "root@$addr" "$@"
}
# Whether HASH is the crypt(3) hash of PASSWORD, by the host's libcrypt.
hash_ok() { python3 -W ignore -c 'import crypt, sys; sys.exit(crypt.crypt(sys.argv[2], sys.argv[1]) != sys.argv[1])' "$1" "$2"; }

# Bad input: refused before anything is made, naming what is wrong.
bad_build() { # bad_build DESCRIPTION PATTERN OPTIONS...
        local d=$1 pat=$2 out rc
        shift 2
        build_minimal $x "$@"
        rc=$?
        out=$(cat "$VST_ROOT/build-$x.log")
        [ $rc != 0 ] && [ ! -e "$VS_CONFDIR/$x.conf" ] && [ ! -e "$VS_CONFDIR/$x.ssh_keys" ] &&
                [ -z "$(ls -A "$VS_GUESTDIR" | grep -v '^\.templates$')" ]
        ok $? "$d is refused, nothing made"
        like "$out" "$pat" "$d: the message names it"
}
printf 'not a key\n' >"$k/junk"
: >"$k/empty"
printf '\n' >"$k/emptyline"
bad_build "a missing key file" "--ssh-key: cannot read \"$k/nope\"" --ssh-key "$k/nope"
bad_build "a private key as key file" "\"$k/good\" is a private key" --ssh-key "$k/good"
bad_build "a key file without a key" "\"$k/empty\" holds no public key line" --ssh-key "$k/empty"
bad_build "a key file with a bad line" "\"$k/junk\" line 1 is not an OpenSSH public key" --ssh-key "$k/junk"
bad_build "an empty password file" "--root-password-file: \"$k/emptyline\" is empty" --root-password-file "$k/emptyline"
bad_build "a missing password file" "--root-password-file: cannot read \"$k/nope\"" --root-password-file "$k/nope"
bad_build "an unknown time zone" 'unknown time zone "Mars/Olympus"' --timezone Mars/Olympus
bad_build "a time zone outside zoneinfo" 'guest\.timezone.*\.\./\.\./etc/passwd' --timezone ../../etc/passwd
bad_build "a bad DNS address" 'guest\.dns.*"10\.235\.0\.300" is not an IPv4 or IPv6 address' --dns 10.235.0.53,10.235.0.300
bad_build "four name servers" 'guest\.dns.*at most 3' --dns 1.1.1.1,1.0.0.1,8.8.8.8,8.8.4.4
# A step that fails inside the new tree (the minimal guest has no
# /etc/shadow) also leaves nothing.
bad_build "a tree without /etc/shadow" '/etc/shadow in the guest' --root-password-file "$k/pw"

# A file system that cannot id-map (ramfs): an unprivileged dir guest's
# files are shifted to its host ids at build, ours with the rest; a clone
# is shifted again, to a range of its own, after the settings are written
# into its copy (still in the source's ids).
if [ -z "${VS_TEST_PRIVILEGED:-}" ]; then
        ram=$VST_ROOT/ram
        s1=$(guest accs1)
        s2=$(guest accs2)
        mkdir -p "$ram" && mount -t ramfs -o mode=0700 ramfs "$ram"
        on_exit "for x in $s2 $s1; do VS_GUESTDIR='$ram' vs-destroy --force \$x; done; umount -l '$ram'"
        check "a shifted guest with keys, DNS and time zone" -- env VS_GUESTDIR="$ram" vs-build $s1 --template minimal \
                --ssh-key "$k/good.pub" --dns 10.235.0.53 --timezone Europe/Berlin
        h1=$(host_id $s1)
        like "$(cat "$VS_CONFDIR/$s1.conf")" "^shifted = $h1$" "its files were shifted (to $h1)"
        is "$(stat -c %u:%g "$ram/$s1/rootfs/root/.ssh" "$ram/$s1/rootfs/root/.ssh/authorized_keys" \
                "$ram/$s1/rootfs/etc/resolv.conf" "$ram/$s1/rootfs/etc/localtime" | sort -u)" "$h1:$h1" \
                "the files written are owned by its host root on disk"
        check "clone it (shifted to its own range)" -- env VS_GUESTDIR="$ram" vs-build $s2 --clone $s1 --ssh-key "$k/other.pub"
        h2=$(host_id $s2)
        [ -n "$h2" ] && [ "$h2" != "$h1" ]
        ok $? "the clone has its own range ($h2)"
        is "$(stat -c %u:%g "$ram/$s2/rootfs/root/.ssh" "$ram/$s2/rootfs/root/.ssh/authorized_keys" \
                "$ram/$s2/rootfs/etc/localtime" | sort -u)" "$h2:$h2" "the clone's files are owned by its host root"
        is "$(cut -d' ' -f3- "$ram/$s2/rootfs/root/.ssh/authorized_keys" | tr '\n' ' ')" "acc good acc other " \
                "the clone's authorized_keys has the source's key and its own"
fi

# A tree whose /etc/resolv.conf is systemd-resolved's stub (imported: the
# template's guests have no resolved) gets the servers in a resolved
# drop-in and keeps the link; a tree of unknown age gets a SHA-512 hash.
r=$(guest accr)
t=$VST_ROOT/tree
mkdir -p "$t/etc/systemd" "$t/root" "$t/run/systemd/resolve"
ln -s ../run/systemd/resolve/stub-resolv.conf "$t/etc/resolv.conf"
printf 'root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n' >"$t/etc/shadow"
chmod 0640 "$t/etc/shadow"
tar -C "$t" -cf "$VST_ROOT/tree.tar" .
check "import a tree with --dns and --root-password-file" -- vs-build $r --from-tar "$VST_ROOT/tree.tar" \
        --dns 10.235.0.53,fd35::53 --root-password-file "$k/pw"
rr=$VS_GUESTDIR/$r/rootfs
is "$(readlink "$rr/etc/resolv.conf")" ../run/systemd/resolve/stub-resolv.conf "resolv.conf stays resolved's stub"
is "$(grep -v '^#' "$rr/etc/systemd/resolved.conf.d/90-vserver-dns.conf" | tr '\n' ' ')" "[Resolve] DNS=10.235.0.53 fd35::53 " \
        "resolved gets the servers in a drop-in"
hash=$(awk -F: '$1 == "root" { print $2 }' "$rr/etc/shadow")
like "$hash" '^\$6\$' "a tree of unknown age gets a SHA-512 hash"
hash_ok "$hash" "$pw"
ok $? "it verifies against the password"
is "$(stat -c %a "$rr/etc/shadow"; grep -c '^nobody:\*:19000:' "$rr/etc/shadow")" "640
1" "/etc/shadow keeps its mode and its other lines"

first_boot() { # first_boot GUEST WHAT: the checks at the guest's first boot
        local g=$1 w=$2 addr out hash
        addr=$(addr_of "$g")
        check "$w: vs-start --wait" -- vs-start --wait=$(slow 120) "$g"
        wait_for 60 sshg "$k/good" "$addr" true >/dev/null 2>&1
        check "$w: OpenSSH login as root with the given key" -- sshg "$k/good" "$addr" true
        check "$w: and with the second key of the two-key file" -- sshg "$k/rsa" "$addr" true
        out=$(sshg "$k/other" "$addr" true 2>&1)
        [ $? = 255 ]
        ok $? "$w: a login with another key is refused"
        like "$out" "Permission denied \(publickey" "$w: refused for its key (Permission denied (publickey...))"
        is "$(sshg "$k/good" "$addr" 'cat /etc/resolv.conf' | grep -v '^#')" "nameserver 10.235.0.53" \
                "$w: resolv.conf names the --dns server"
        like "$(sshg "$k/good" "$addr" 'date +%Z')" '^CES?T$' "$w: date +%Z shows Europe/Berlin's zone"
        is "$(sshg "$k/good" "$addr" 'readlink /etc/localtime; cat /etc/timezone' | tr '\n' ' ')" \
                "/usr/share/zoneinfo/Europe/Berlin Europe/Berlin " "$w: /etc/localtime and (bookworm's) /etc/timezone"
        is "$(sshg "$k/good" "$addr" 'stat -c "%n %U:%G %a" /root/.ssh /root/.ssh/authorized_keys /etc/shadow /etc/resolv.conf /etc/timezone' | tr '\n' ' ')" \
                "/root/.ssh root:root 700 /root/.ssh/authorized_keys root:root 600 /etc/shadow root:shadow 640 /etc/resolv.conf root:root 644 /etc/timezone root:root 644 " \
                "$w: the files are owned as the guest sees them"
        hash=$(sshg "$k/good" "$addr" 'cat /etc/shadow' | awk -F: '$1 == "root" { print $2 }')
        like "$hash" '^\$y\$' "$w: root's password is a yescrypt hash"
        hash_ok "$hash" "$pw"
        ok $? "$w: the hash in /etc/shadow verifies against the password"
        hash_ok "$hash" "$pw-not"
        ok $((! $?)) "$w: and not against another"
        unlike "$(sshg "$k/good" "$addr" 'awk -F: "\$1 == \"root\" { print \$3 }" /etc/shadow')" '^0?$' \
                "$w: the change date is set (no forced change at first login)"
}

# --- an unprivileged guest (the default; privileged under privileged/) ---
check "build $a with openssh-server and first-boot access" -- \
        build_debian $a --include openssh-server --ssh-key "$k/good.pub" --ssh-key "$k/two.pub" \
        --root-password-file "$k/pw" --dns 10.235.0.53 --timezone Europe/Berlin
conf=$(cat "$VS_CONFDIR/$a.conf")
like "$conf" "^ssh_keys = $VS_CONFDIR/$a\.ssh_keys$" "[guest] ssh_keys names vs-build's copy of the keys"
is "$(wc -l <"$VS_CONFDIR/$a.ssh_keys")" 2 "the copy holds the two keys once each"
like "$conf" '^root_password_hash = \$y\$' "[guest] root_password_hash is the hash"
like "$conf" '^dns = 10\.235\.0\.53$' "[guest] dns"
like "$conf" '^timezone = Europe/Berlin$' "[guest] timezone"
is "$(stat -c %a "$VS_CONFDIR/$a.conf")" 600 "a config with a password hash is 0600"
left=$(grep -rlF -- "$pw" "$VS_CONFDIR" "$VST_ROOT"/build-*.log "$VS_GUESTDIR/$a/rootfs/etc" "$VS_GUESTDIR/$a/rootfs/root" 2>/dev/null)
is "${left:-none}" none "the cleartext password is written nowhere"
mode=unprivileged
[ -z "${VS_TEST_PRIVILEGED:-}" ] || mode=privileged
first_boot $a $mode
check "stop $a" -- vs-stop $a

# --- a clone keeps the settings ---
check "clone $a" -- vs-build $c --clone $a
conf=$(cat "$VS_CONFDIR/$c.conf")
like "$conf" "^ssh_keys = $VS_CONFDIR/$c\.ssh_keys$" "the clone has its own copy of the keys"
like "$conf" '^dns = 10\.235\.0\.53$' "the clone keeps dns"
like "$conf" '^timezone = Europe/Berlin$' "the clone keeps timezone"
is "$(sed -n 's/^root_password_hash = //p' "$VS_CONFDIR/$c.conf")" "$(sed -n 's/^root_password_hash = //p' "$VS_CONFDIR/$a.conf")" \
        "the clone keeps the password hash"
# A clone is another machine: its own SSH host keys, each a pair, owned
# and moded as the source's.
ra=$VS_GUESTDIR/$a/rootfs/etc/ssh rc=$VS_GUESTDIR/$c/rootfs/etc/ssh
for t in rsa ecdsa ed25519; do
        f=ssh_host_${t}_key
        [ -f "$ra/$f" ] || continue
        isnt_same=$(cmp -s "$ra/$f.pub" "$rc/$f.pub" && echo same || echo differs)
        is "$isnt_same" differs "the clone's $t host key is its own"
        is "$(ssh-keygen -y -f "$rc/$f" | cut -d' ' -f1-2)" "$(cut -d' ' -f1-2 "$rc/$f.pub")" \
                "the clone's $t host key file and its .pub are a pair"
        is "$(stat -c '%u:%g %a' "$rc/$f" "$rc/$f.pub" | tr '\n' ' ')" "$(stat -c '%u:%g %a' "$ra/$f" "$ra/$f.pub" | tr '\n' ' ')" \
                "the clone's $t host key keeps the owner and mode"
done
first_boot $c clone
check "stop $c" -- vs-stop $c
check "destroy $c" -- vs-destroy $c
[ ! -e "$VS_CONFDIR/$c.ssh_keys" ]
ok $? "vs-destroy removes the guest's copy of the keys"

# --- a privileged guest; the password from standard input ---
check "build $p --privileged" -- build_debian $p --privileged --include openssh-server --ssh-key "$k/good.pub" \
        --ssh-key "$k/two.pub" --root-password-file - --dns 10.235.0.53 --timezone Europe/Berlin <"$k/pw"
first_boot $p privileged
check "stop $p" -- vs-stop $p

done_testing
