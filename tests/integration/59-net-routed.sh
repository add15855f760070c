#!/bin/bash
# Routed mode (net.mode = routed): no bridge; the host routes each guest's
# addresses (/32, /128) to its veth, whose host side owns the guests'
# link-local gateways 169.254.0.1 and fe80::1. Two routed guests reach the
# host and each other over IPv4 and IPv6 (ping, iperf3), one never sees a
# frame of the other's traffic (tcpdump on its eth0), shaping works as on a
# bridge, forwarding is switched on per veth and never host-wide, and
# nothing is left after stop.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

br=net6br2 # named in defaults.conf, never to be made
dum=net6dum2
on_exit "ip link del $br"
on_exit "ip link del $dum"
cat >"$VS_CONFDIR/defaults.conf" <<EOC
[net]
bridge = $br
address = 10.232.4.1/24
pool = 10.232.4.0/24
total = 1gbit
EOC
# The host's own addresses the guests reach, on a link of the test (an
# empty bridge: this kernel may have no dummy driver).
ip link add $dum type bridge && ip addr add 10.232.3.1/32 dev $dum && ip addr add fd32:3::1/128 dev $dum nodad &&
        ip link set $dum up
ok $? "a link of the test gives the host 10.232.3.1 and fd32:3::1"

fwd6=/proc/sys/net/ipv6/conf/lo/force_forwarding
global_before="$(cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/all/forwarding /proc/sys/net/ipv6/conf/all/forwarding | tr '\n' ' ')"
gw4_before=$(ip -o addr show | grep -c ' 169\.254\.0\.1/32 ')

ra=$(guest net6ra)
rb=$(guest net6rb)
rc=$(guest net6rc)
check "build ra (routed)" -- build_debian $ra --include iperf3,tcpdump --ip 10.232.2.11/32,fd32:2::11/128 --set net.mode=routed
check "build rb (routed, 10mbit)" -- build_debian $rb --include iperf3,tcpdump --ip "10.232.2.12/32 fd32:2::12/128" \
        --set net.mode=routed --rate 10mbit
like "$(cat "$VS_CONFDIR/$ra.conf")" "^mode = routed$" "the mode is in the config"
out=$(vs-build $rc --template minimal --set net.mode=routed --ip 10.232.2.12/32 2>&1)
[ $? != 0 ] && [ ! -e "$VS_CONFDIR/$rc.conf" ]
ok $? "a routed guest with another's address is refused at build"
like "$out" 'net\.address.*10\.232\.2\.12/32.*already used by guest "net6rb"' "the message names the address and the guest"
out=$(vs-build $rc --template minimal --set net.mode=routed --ip 10.232.2.13/32 --set net.gateway=10.232.2.1 2>&1)
[ $? != 0 ]
ok $? "a gateway of one's own is refused in routed mode"
like "$out" "net\.gateway.*routed" "the message says why"
out=$(vs-build $rc --template minimal --set net.mode=routed 2>&1)
[ $? = 0 ] && ! grep -q '^address' "$VS_CONFDIR/$rc.conf"
ok $? "a routed guest built without --ip takes nothing of the bridge's pool"
vs-destroy $rc >/dev/null 2>&1

check "start ra" -- vs-start $ra
check "start rb" -- vs-start $rb
read -r va ua da ta <<<"$(net_names $ra)"
read -r vb ub db tb <<<"$(net_names $rb)"
ip link show $br >/dev/null 2>&1
ok $((! $?)) "no bridge was made"
[ ! -e /sys/class/net/$va/master ] && [ ! -e /sys/class/net/$vb/master ]
ok $? "the veths are ports of nothing"
like "$(ip -o addr show dev $va)" "inet 169\.254\.0\.1/32 " "ra's host side owns the IPv4 gateway"
like "$(ip -o addr show dev $va)" "inet6 fe80::1/64 " "and the IPv6 one"
like "$(ip route show 10.232.2.11)" "^10\.232\.2\.11 dev $va " "the host routes ra's IPv4 address to its veth"
like "$(ip -6 route show fd32:2::11)" "^fd32:2::11 dev $va " "and its IPv6 address"
is "$(cat /proc/sys/net/ipv4/conf/$va/forwarding)" 1 "IPv4 forwarding is on for ra's veth"
if [ -e $fwd6 ]; then
        is "$(cat /proc/sys/net/ipv6/conf/$va/force_forwarding)" 1 "IPv6 forwarding is on for ra's veth (force_forwarding)"
else
        skip "IPv6 forwarding on ra's veth" "this kernel has no per-device IPv6 forwarding (force_forwarding, Linux 6.17)"
fi
is "$(cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/all/forwarding /proc/sys/net/ipv6/conf/all/forwarding | tr '\n' ' ')" \
        "$global_before" "the host-wide forwarding settings are untouched"
like "$(vs-enter $ra -- ip -br addr show eth0)" "10\.232\.2\.11/32 fd32:2::11/128" "ra's eth0 has its addresses alone (/32, /128)"
like "$(vs-enter $ra -- ip -4 route show default)" "^default via 169\.254\.0\.1 dev eth0 .*onlink" "ra's IPv4 default route is onlink via 169.254.0.1"
like "$(vs-enter $ra -- ip -6 route show default)" "^default via fe80::1 dev eth0" "ra's IPv6 default route is via fe80::1"

for g in $ra $rb; do
        check "$g pings the host over IPv4" -- vs-enter $g -- ping -c 1 -W 2 10.232.3.1
        check "$g pings the host over IPv6" -- vs-enter $g -- ping -6 -c 1 -W 2 fd32:3::1
done
check "the host pings ra over IPv4" -- ping -c 1 -W 2 10.232.2.11
check "the host pings ra over IPv6" -- ping -6 -c 1 -W 2 fd32:2::11
check "ra pings rb over IPv4 (through the host)" -- vs-enter $ra -- ping -c 1 -W 2 10.232.2.12
check "rb pings ra over IPv4" -- vs-enter $rb -- ping -c 1 -W 2 10.232.2.11
if [ -e $fwd6 ]; then
        check "ra pings rb over IPv6 (through the host)" -- vs-enter $ra -- ping -6 -c 1 -W 2 fd32:2::12
        check "rb pings ra over IPv6" -- vs-enter $rb -- ping -6 -c 1 -W 2 fd32:2::11
else
        skip "guest <-> guest over IPv6" "this kernel has no per-device IPv6 forwarding (force_forwarding, Linux 6.17)"
fi

# iperf3 over both families.
mbits() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.2f" % (d["end"]["sum_received"]["bits_per_second"]/1e6))' "$1" 2>/dev/null || echo 0; }
between() { # between VALUE LOW HIGH DESCRIPTION
        python3 -c 'import sys; v,l,h=map(float,sys.argv[1:4]); sys.exit(0 if l<=v<=h else 1)' "$1" "$2" "$3"
        ok $? "$4: $1 Mbit/s (expected $2 to $3)"
}
for g in $ra $rb; do check "iperf3 server in $g" -- vs-enter $g -- iperf3 -s -D; done
iperf3 -s -D -B 10.232.3.1 -p 5232 --pidfile "$VST_ROOT/iperf4.pid" && iperf3 -s -D -B fd32:3::1 -p 5233 --pidfile "$VST_ROOT/iperf6.pid"
ok $? "iperf3 servers on the host's addresses"
# iperf3 ends its pidfile without a newline: one file at a time.
on_exit 'for f in '"$VST_ROOT"'/iperf4.pid '"$VST_ROOT"'/iperf6.pid; do kill "$(cat "$f")"; done'
iperf3 -c 10.232.2.11 -t 3 -J >"$VST_ROOT/h-ra4.json" 2>&1
between "$(mbits "$VST_ROOT/h-ra4.json")" 200 1000000 "host -> ra over IPv4"
iperf3 -c fd32:2::11 -t 3 -J -R >"$VST_ROOT/ra-h6.json" 2>&1
between "$(mbits "$VST_ROOT/ra-h6.json")" 200 1000000 "ra -> host over IPv6"
vs-enter $ra -- iperf3 -c 10.232.3.1 -p 5232 -t 3 -J >"$VST_ROOT/ra-h4c.json" 2>&1
between "$(mbits "$VST_ROOT/ra-h4c.json")" 200 1000000 "ra -> the host's 10.232.3.1 (client in ra)"
vs-enter $ra -- iperf3 -c fd32:3::1 -p 5233 -t 3 -J >"$VST_ROOT/ra-h6c.json" 2>&1
between "$(mbits "$VST_ROOT/ra-h6c.json")" 200 1000000 "ra -> the host's fd32:3::1 (client in ra)"
vs-enter $rb -- iperf3 -c 10.232.2.11 -t 3 -J >"$VST_ROOT/rb-ra4.json" 2>&1
between "$(mbits "$VST_ROOT/rb-ra4.json")" 8.5 10.5 "rb -> ra over IPv4 (rb shaped at 10mbit)"
if [ -e $fwd6 ]; then
        vs-enter $ra -- iperf3 -c fd32:2::12 -t 3 -J >"$VST_ROOT/ra-rb6.json" 2>&1
        between "$(mbits "$VST_ROOT/ra-rb6.json")" 8.5 10.5 "ra -> rb over IPv6 (rb shaped at 10mbit)"
else
        skip "ra -> rb over IPv6" "this kernel has no per-device IPv6 forwarding (force_forwarding, Linux 6.17)"
fi
iperf3 -c 10.232.2.12 -t 3 -J >"$VST_ROOT/h-rb4.json" 2>&1
between "$(mbits "$VST_ROOT/h-rb4.json")" 8.5 10.5 "host -> rb over IPv4 (shaped at 10mbit)"
iperf3 -c fd32:2::12 -t 3 -J -R >"$VST_ROOT/rb-h6.json" 2>&1
between "$(mbits "$VST_ROOT/rb-h6.json")" 8.5 10.5 "rb -> host over IPv6 (shaped at 10mbit)"
like "$(nft list table netdev $tb)" "meta priority set 1:[0-9a-f]+ fwd to \"$ub\"" "rb is shaped by the same per-veth hooks"

# No shared segment: while rb talks to the host and ra pings it too, a
# capture on ra's eth0 sees ra's own packets both ways (the positive
# control) and not one frame from or to rb. (The capture is on the
# unshaped guest: packets that went through an IFB skip the receive side's
# packet taps, so tcpdump in a shaped guest sees only what it sends.)
vs-enter $ra -- timeout 20 tcpdump -i eth0 -n -l -e >"$VST_ROOT/ra-capture.txt" 2>"$VST_ROOT/ra-capture.err" &
cap=$!
sleep 3
# Forgotten neighbours: rb asks for its gateways again (ARP broadcast,
# neighbour solicitation), which every port of a bridge would see.
vs-enter $rb -- ip neigh flush dev eth0
vs-enter $rb -- ping -c 3 -i 0.2 -W 2 10.232.3.1 >/dev/null 2>&1
vs-enter $rb -- ping -6 -c 3 -i 0.2 -W 2 fd32:3::1 >/dev/null 2>&1
vs-enter $rb -- iperf3 -c 10.232.3.1 -p 5232 -t 1 >/dev/null 2>&1
vs-enter $ra -- ping -c 3 -i 0.2 -W 2 10.232.3.1 >/dev/null 2>&1
vs-enter $ra -- ping -6 -c 3 -i 0.2 -W 2 fd32:3::1 >/dev/null 2>&1
wait $cap
capture=$(cat "$VST_ROOT/ra-capture.txt")
like "$capture" "10\.232\.2\.11 > 10\.232\.3\.1: ICMP echo request" \
        "the capture on ra's eth0 works: it sees ra's own pings (positive control)"
like "$capture" "10\.232\.3\.1 > 10\.232\.2\.11: ICMP echo reply" "and the replies"
like "$capture" "fd32:2::11 > fd32:3::1: ICMP6, echo request" "and ra's own IPv6 pings"
mac_b=$(sed -n 's/^mac=//p' "$VS_RUNDIR/$rb/net")
seen=$(grep -Eic "10\.232\.2\.12|fd32:2::12|$mac_b" "$VST_ROOT/ra-capture.txt")
is "$seen" 0 "ra's eth0 saw no frame of rb's traffic to the host (rb's addresses or MAC $mac_b)"
diag "ra's capture: $(wc -l <"$VST_ROOT/ra-capture.txt") lines; $(tail -2 "$VST_ROOT/ra-capture.err" | tr '\n' ' ')"
sed 's/^/#   capture: /;$a\' "$VST_ROOT/ra-capture.txt" | head -30

check "stop ra" -- vs-stop --timeout 20 $ra
check "stop rb" -- vs-stop --timeout 20 $rb
check_net_gone "nothing of ra or rb is left (veths, IFBs, tables)" $va $vb $ta $tb $ub $db
is "$(ip route show root 10.232.2.0/24; ip -6 route show root fd32:2::/64)" "" \
        "no route to a guest's address is left"
is "$(ip -o addr show | grep -c ' 169\.254\.0\.1/32 ')" "$gw4_before" "no gateway address is left on the host"
is "$(cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/all/forwarding /proc/sys/net/ipv6/conf/all/forwarding | tr '\n' ' ')" \
        "$global_before" "the host-wide forwarding settings are still untouched"
ip link show $br >/dev/null 2>&1
ok $((! $?)) "still no bridge"
check_no_leftovers $ra
check_no_leftovers $rb
done_testing
