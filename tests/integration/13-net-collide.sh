#!/bin/bash
# Two guests whose host-side veth names collide (six characters of the name
# and 24 bits of its hash): the second takes the next salted name and works;
# a failed start of it never deletes the first guest's veth, whether it
# fails before or after its net file is written.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

br=vsnbr13
fake=""
on_exit 'ip link del $br; [ -n "$fake" ] && ip link del $fake'
cat >"$VS_CONFDIR/defaults.conf" <<EOC
[net]
bridge = $br
address = 10.231.13.1/24
pool = 10.231.13.0/24
total = 1gbit
EOC

# lib/net/netconf.c's names, computed here: FNV-1a 64 over the name, "vs", six
# characters of it, "-" and the low 24 bits; the IFBs of a bridge take the
# low 32 bits of its hash.
read -r a b va fake <<<"$(python3 - "$br" <<'PY'
import sys
def h(s):
    x = 0xcbf29ce484222325
    for c in s.encode():
        x = ((x ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return x
seen = {}
i = 0
while True:
    n = "vsnc13-%d" % i
    k = h(n) & 0xffffff
    if k in seen:
        print(seen[k], n, "vsvsnc13-%06x" % k, "vsu%08x" % (h(sys.argv[1]) & 0xffffffff))
        break
    seen[k] = n
    i += 1
PY
)"
a=$(guest "$a")
b=$(guest "$b")
diag "colliding names: $a and $b, both $va"

check "build a" -- build_minimal $a --ip 10.231.13.11/24
check "build b" -- build_minimal $b --ip 10.231.13.12/24 --rate 10mbit
check "start a" -- vs-start $a
is "$(net_names $a | cut -d' ' -f1)" "$va" "a's veth has the computed name"
ia=$(cat /sys/class/net/$va/ifindex 2>/dev/null)
check "host pings a" -- ping -c 1 -W 2 10.231.13.11

# b fails after its net file is written: the shaping device name of the
# bridge is taken by a link that is not an IFB (a bridge: this kernel may
# lack the dummy driver).
ip link add "$fake" type bridge
ok $? "a bridge takes the IFB name $fake"
out=$(vs-start $b 2>&1)
[ $? != 0 ]
ok $? "b's start fails while $fake is not an IFB"
like "$out" "\"$fake\" exists and is not an IFB device" "the message names the link ($out)"
is "$(cat /sys/class/net/$va/ifindex 2>/dev/null)" "$ia" "a's veth survives b's failed start"
ip link show "$fake" >/dev/null 2>&1
ok $? "the foreign link is left alone"
is "$(ip -o link show master $br | grep -c vsvsnc13-)" 1 "b's failed start left no veth on the bridge"
check "host still pings a" -- ping -c 1 -W 2 10.231.13.11
ip link del "$fake"
fake=""

# b starts under the next name.
check "start b" -- vs-start $b
vb=$(net_names $b | cut -d' ' -f1)
like "$vb" '^vsvsnc13-[0-9a-f]{6}$' "b's veth has a name of the same form ($vb)"
[ -n "$vb" ] && [ "$vb" != "$va" ]
ok $? "b's veth is not a's ($vb, $va)"
is "$(cat /sys/class/net/$va/ifindex 2>/dev/null)" "$ia" "a's veth is still the one a started with"
is "$(cat /sys/class/net/$vb/master/ifindex 2>/dev/null)" "$(cat /sys/class/net/$br/ifindex)" "b's veth is a port of $br"
check "host pings a" -- ping -c 1 -W 2 10.231.13.11
check "host pings b" -- ping -c 1 -W 2 10.231.13.12

# Stopping b takes only b's veth.
read -r _ ub db tb <<<"$(net_names $b)"
check "stop b" -- vs-stop --timeout 10 $b
is "$(cat /sys/class/net/$va/ifindex 2>/dev/null)" "$ia" "a's veth survives b's stop"
check "host still pings a" -- ping -c 1 -W 2 10.231.13.11
check_net_gone "b's veth, IFBs and table are gone" $vb $ub $db $tb

check "stop a" -- vs-stop --timeout 10 $a
check_net_gone "a's veth is gone" $va
check_no_leftovers $a
check_no_leftovers $b
done_testing
