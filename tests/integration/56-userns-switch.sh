#!/bin/bash
# Switching a stopped guest between the modes: files stay as the guest made
# them either way (owners, setuid bits, ACLs, file capabilities), because the
# tree on disk always holds the ids the guest sees and an unprivileged
# guest's root is an id-mapped mount of it. Metadata is made from inside the
# guest in one mode and must work, not just be listed, in the other: a
# setuid-root binary gives euid 0 to an ordinary user, a file capability
# raises the effective set. An export shows the ids as the guest sees them,
# and a guest imported from it runs unprivileged with them.
. "$(dirname "$0")/lib.sh"

g=$(guest sw1)
check "build an unprivileged bookworm guest" -- build_debian "$g" --unprivileged
R=$VS_GUESTDIR/$g/rootfs
# The tools the checks need, from the host (bookworm too): the guest's
# minimal base has the libraries, not the programs.
for t in /usr/sbin/setcap /usr/sbin/getcap /usr/bin/setfacl /usr/bin/getfacl; do
        cp "$t" "$R/usr/local/bin/" || break
done
ok $? "the capability and ACL tools are in the guest"

mode() { sed -i "s/^userns = .*/userns = $2/" "$VS_CONFDIR/$1.conf"; }
in_guest() { vs-enter "$g" -- "$@"; }
# As the guest's user 1000, through setpriv (no setuid helper involved).
as_user() { vs-enter "$g" -- setpriv --reuid=1000 --regid=1000 --clear-groups "$@"; }
capeff() { as_user "$1" /proc/self/status | sed -n 's/^CapEff:[[:space:]]*//p'; }

# The guest's view of what the previous mode made, and whether it works
# (the ACL's mask shows as the group bits: 640 becomes 670).
verify() { # verify PREFIX WHEN
        local p=$1 when=$2
        is "$(in_guest stat -c '%u:%g %a' "/srv/$p-own" "/srv/$p-suid" | tr '\n' ' ')" "1000:1000 670 0:0 4755 " \
                "$when: owners and modes, setuid bit kept"
        is "$(as_user "/srv/$p-suid" -u)" 0 "$when: the setuid-root binary gives user 1000 euid 0"
        like "$(in_guest getfacl -n -p "/srv/$p-own")" "^user:1001:rwx" "$when: the ACL entry names the guest's uid 1001"
        like "$(in_guest getfacl -n -p "/srv/$p-dir")" "^default:group:1002:r-x" "$when: the default ACL too"
        like "$(in_guest getcap "/srv/$p-cap")" "cap_net_raw=ep" "$when: the file capability is listed"
        is "$(capeff "/srv/$p-cap")" 0000000000002000 "$when: and raises CAP_NET_RAW for user 1000"
}

make_files() { # make_files PREFIX: from inside, as the guest's root
        local p=$1
        in_guest sh -c "set -e; cd /srv; echo x >$p-own; chown 1000:1000 $p-own; chmod 640 $p-own
                cp /usr/bin/id $p-suid; chmod 4755 $p-suid; cp /usr/bin/cat $p-cap; mkdir $p-dir
                setfacl -m u:1001:rwx $p-own; setfacl -d -m g:1002:rx $p-dir; setcap cap_net_raw+ep $p-cap"
}

# ---- made unprivileged ------------------------------------------------------
check "unprivileged guest starts" -- vs-start --wait "$g"
ha=$(host_id "$g")
pid=$(init_pid "$g")
is "$(ps -o uid= -p "$pid" | tr -d ' ')" "$ha" "its init runs under its host uid $ha"
is "$(capeff /usr/bin/cat)" 0000000000000000 "control: an ordinary copy of cat gives user 1000 no capability"
is "$(as_user /usr/bin/id -u)" 1000 "control: an ordinary id says 1000"
check "guest root makes an owned file, a setuid binary, ACLs, a capability" -- make_files u
verify u "made unprivileged, seen unprivileged"
check "stop" -- vs-stop "$g"
is "$(stat -c '%u:%g %a' "$R/srv/u-own" "$R/srv/u-suid" | tr '\n' ' ')" "1000:1000 670 0:0 4755 " \
        "on disk: the ids the guest sees, not host ids"
like "$(getfacl -n -p "$R/srv/u-own")" "^user:1001:rwx" "on disk: the ACL names uid 1001"
like "$(getcap "$R/srv/u-cap")" "cap_net_raw=ep" "on disk: a capability any mode reads"

# ---- switched to privileged ---------------------------------------------------
mode "$g" no
check "switched to privileged, it starts" -- vs-start --wait "$g"
is "$(ps -o uid= -p "$(init_pid "$g")" | tr -d ' ')" 0 "its init is host root now"
verify u "made unprivileged, seen privileged"
check "guest root makes the same kinds of files, privileged" -- make_files p
verify p "made privileged, seen privileged"
check "stop" -- vs-stop "$g"

# ---- and back ---------------------------------------------------------------
mode "$g" yes
check "switched back to unprivileged, it starts" -- vs-start --wait "$g"
is "$(host_id "$g")" "$ha" "it keeps its host range"
is "$(ps -o uid= -p "$(init_pid "$g")" | tr -d ' ')" "$ha" "its init runs under $ha again"
verify p "made privileged, seen unprivileged"
verify u "made unprivileged, seen unprivileged again"
check "stop" -- vs-stop "$g"

# ---- export and import ------------------------------------------------------
check "vs-export" -- sh -c "vs-export --compress none '$g' >'$VST_ROOT/sw.tar'"
is "$(tar -tvf "$VST_ROOT/sw.tar" --numeric-owner ./srv/u-own ./srv/u-suid 2>/dev/null | awk '{print $2}' | tr '\n' ' ')" \
        "1000/1000 0/0 " "the export shows the ids as the guest sees them"
i=$(guest sw2)
check "vs-build --from-tar, unprivileged by default" -- vs-build "$i" --from-tar "$VST_ROOT/sw.tar"
like "$(cat "$VS_CONFDIR/$i.conf")" "userns = yes" "the import is unprivileged"
check "the import starts" -- vs-start --wait "$i"
hi=$(host_id "$i")
[ -n "$hi" ] && [ "$hi" != "$ha" ]
ok $? "with a range of its own ($hi, the source's is $ha)"
is "$(vs-enter "$i" -- stat -c '%u:%g %a' /srv/u-own /srv/u-suid | tr '\n' ' ')" "1000:1000 670 0:0 4755 " \
        "inside the import: the same owners and modes"
is "$(vs-enter "$i" -- setpriv --reuid=1000 --regid=1000 --clear-groups /srv/u-cap /proc/self/status |
        sed -n 's/^CapEff:[[:space:]]*//p')" 0000000000002000 "and the capability works there"
check "stop the import" -- vs-stop "$i"

done_testing
