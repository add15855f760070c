#!/bin/bash
# Anti-spoofing: guest root in A (filter on, the default) changes its MAC,
# sends from B's and the gateway's address, claims them by gratuitous ARP,
# claims B's link-local by neighbour advertisement, sends a VLAN-tagged
# frame, advertises itself as an
# IPv6 router and answers DHCP and DHCPv6, all with scapy and ip(8). After
# each, B's and the host's neighbour tables and B's IPv6 routes are
# unchanged, tcpdump in B saw none of it, and A's drop counter (vs-stat
# --json) moved. The positive control: guest C with filter = no does the
# same and does change B and the host. Ordinary traffic (ARP, NDP, ping)
# among A, B and the host still flows, and no table is left after stop or
# after a supervisor killed with SIGKILL.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

br=spoofbr0
on_exit "ip link del $br"
cat >"$VS_CONFDIR/defaults.conf" <<EOC
[net]
bridge = $br
address = 10.233.1.1/24
pool = 10.233.1.0/24
total = 1gbit
EOC
pkgs=arping,python3-scapy,tcpdump

# The kernel takes the rules as the unit test builds them for IPv4 only,
# IPv6 only and both (the guests below have IPv4 only), on a scratch veth
# of that name in a namespace of this test.
ns=spoofnft$$
on_exit "ip netns del $ns"
mkdir -p "$VST_ROOT/nft"
if VS_TEST_NFT_OUT=$VST_ROOT/nft "$VS_TOP_BUILDDIR/tests/unit/test-net-filter" >/dev/null &&
        ip netns add $ns && ip -n $ns link add vsspoof-abcdef type veth peer name vsspoof-peer; then
        for f in v4 v6 both; do
                check "nftables loads the $f rules" -- ip netns exec $ns nft -f "$VST_ROOT/nft/$f.nft"
        done
        like "$(ip netns exec $ns nft list table netdev vserver_0123456789abcdef_f)" "ip6 saddr != \{ 2001:db8::5, fd33::11, fe80::11:22ff:fe33:4455 \}" "the last (both) replaced the others"
else
        skip "nftables loads the rules of the unit test" "no tests/unit/test-net-filter (make check) or no scratch netns"
fi
a=$(guest spoofa)
b=$(guest spoofb)
c=$(guest spoofc)
ipa=10.233.1.11 ipb=10.233.1.12 ipc=10.233.1.13 gw=10.233.1.1
check "build a (filter by default)" -- build_debian $a --include $pkgs --ip $ipa/24
check "build b (filter by default)" -- build_debian $b --include $pkgs --ip $ipb/24
check "build c with net.filter = no" -- build_debian $c --include $pkgs --ip $ipc/24 --set net.filter=no
like "$(cat "$VS_CONFDIR/$c.conf")" "^filter = no$" "c's config says filter = no"
unlike "$(cat "$VS_CONFDIR/$a.conf")" "^filter" "a's config leaves the default (yes) unwritten"
diag "guests: $([ -n "${VS_TEST_PRIVILEGED:-}" ] && echo privileged || echo "unprivileged ($(grep '^userns' "$VS_CONFDIR/$a.conf"))")"
for g in $a $b $c; do check "start $g" -- vs-start $g; done
read -r va _ _ ta <<<"$(net_names $a)"
read -r vb _ _ tb <<<"$(net_names $b)"
read -r vc _ _ tc <<<"$(net_names $c)"
like "$(nft list table netdev ${ta}_f 2>&1)" "hook ingress device \"$va\" priority -200" "a's filter table hooks its veth"
nft list table netdev ${tc}_f >/dev/null 2>&1
ok $((! $?)) "c (filter = no) has no filter table"

mac() { vs-enter $1 -- cat /sys/class/net/eth0/address; }
maca=$(mac $a) macb=$(mac $b) macc=$(mac $c)
macbr=$(cat /sys/class/net/$br/address)
ll() { vs-enter $1 -- ip -6 -o addr show dev eth0 scope link | awk '{print $4}' | cut -d/ -f1; }
wait_for 10 test -n "$(ll $b)"
lla=$(ll $a) llb=$(ll $b) llc=$(ll $c)
diag "a $ipa $maca $lla; b $ipb $macb $llb; c $ipc $macc $llc; bridge $macbr"
# Packets a's (or c's) rules dropped, from vs-stat --json.
dropped() { vs-stat --json -i 0.05 $1 | sed -n 's/.*"net_dropped":\([0-9a-z]*\).*/\1/p'; }
is "$(dropped $c)" null "vs-stat shows no drop count for c (unfiltered)"
is "$(vs-stat -i 0.05 $a | awk 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "DROPPED") c = i } NR == 2 { print $c }')" 0 \
        "vs-stat's text has a's drop count"

# ---- ordinary traffic with the filter on -------------------------------------
check "host pings a" -- ping -c 1 -W 2 $ipa
check "a pings b" -- vs-enter $a -- ping -c 1 -W 2 $ipb
check "b pings a" -- vs-enter $b -- ping -c 1 -W 2 $ipa
check "a pings the host" -- vs-enter $a -- ping -c 1 -W 2 $gw
check "a resolves b by ARP (arping)" -- vs-enter $a -- arping -c 1 -w 2 -i eth0 $ipb
check "a pings b's link-local (NDP)" -- vs-enter $a -- ping -6 -c 1 -W 2 "$llb%eth0"
check "b pings a's link-local (NDP)" -- vs-enter $b -- ping -6 -c 1 -W 2 "$lla%eth0"
is "$(dropped $a)" 0 "ordinary traffic dropped nothing"

# ---- what the attacks would change --------------------------------------------
# B knows the gateway and A; the host knows B (IPv4 and link-local).
prime() {
        vs-enter $b -- ping -c 1 -W 2 $gw
        vs-enter $b -- ping -c 1 -W 2 $ipa
        ping -c 1 -W 2 $ipb
        ping -6 -c 1 -W 2 "$llb%$br"
} >/dev/null 2>&1
host6=1
[ "$(cat /proc/sys/net/ipv6/conf/$br/disable_ipv6 2>/dev/null)" = 0 ] || host6=0
# "IP LLADDR" of every neighbour entry.
neigh_b() { vs-enter $b -- ip neigh show dev eth0 | awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $1, $(i + 1)}'; }
neigh_host() { ip neigh show dev $br | awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $1, $(i + 1)}'; }
routes6_b() { vs-enter $b -- sh -c 'ip -6 route show default; ip -6 addr show dev eth0 scope global'; }
py() { # py GUEST CODE: scapy as the guest's root
        vs-enter $1 -- python3 -c "import logging; logging.getLogger('scapy').setLevel(logging.ERROR)
from scapy.all import *
conf.verb = 0
$2"
}
vs-enter $b -- timeout 600 tcpdump -i eth0 -nn -e -l -U >"$VST_ROOT/b.cap" 2>&1 &
on_exit "kill $! 2>/dev/null"
wait_for 10 grep -q "listening on" "$VST_ROOT/b.cap"

# run_attacks GUEST IP MAC LL MARK KIND: MARK, a digit, tells the
# packets of each attacker apart in b's capture.
run_attacks() {
        local g=$1 ip=$2 mac=$3 ll=$4 m=$5
        local fake=02:de:ad:00:00:0$m
        case $6 in
        mac)
                vs-enter $g -- sh -c "ip link set eth0 address $fake && ping -c 2 -W 1 $ipb; ip link set eth0 address $mac"
                ;;
        ip)
                py $g "sendp(Ether(src='$mac', dst='$macb')/IP(src='$gw', dst='$ipb')/UDP(sport=4001$m, dport=4001$m)/b'spoof', iface='eth0', count=2)
sendp(Ether(src='$mac', dst='$macbr')/IP(src='$ipb', dst='$gw')/ICMP(id=0x5e0$m)/b'spoof', iface='eth0', count=2)"
                ;;
        garp)
                py $g "for t in ('$gw', '$ipb'):
    sendp(Ether(src='$mac', dst='ff:ff:ff:ff:ff:ff')/ARP(op=1, hwsrc='$mac', psrc=t, hwdst='00:00:00:00:00:00', pdst=t), iface='eth0', count=2)
    sendp(Ether(src='$mac', dst='ff:ff:ff:ff:ff:ff')/ARP(op=2, hwsrc='$mac', psrc=t, hwdst='ff:ff:ff:ff:ff:ff', pdst=t), iface='eth0', count=2)"
                ;;
        na)
                py $g "sendp(Ether(src='$mac', dst='33:33:00:00:00:01')/IPv6(src='$ll', dst='ff02::1', hlim=255)/ICMPv6ND_NA(tgt='$llb', R=0, S=0, O=1)/ICMPv6NDOptDstLLAddr(lladdr='$mac'), iface='eth0', count=2)"
                ;;
        vlan)
                py $g "sendp(Ether(src='$mac', dst='$macb')/Dot1Q(vlan=5)/IP(src='$ip', dst='$ipb')/UDP(sport=4002$m, dport=4002$m)/b'spoof', iface='eth0', count=2)"
                ;;
        ra)
                py $g "sendp(Ether(src='$mac', dst='33:33:00:00:00:01')/IPv6(src='$ll', dst='ff02::1', hlim=255)/ICMPv6ND_RA(routerlifetime=1800)/ICMPv6NDOptSrcLLAddr(lladdr='$mac')/ICMPv6NDOptPrefixInfo(prefix='fd33:$m::', prefixlen=64, L=1, A=1, validlifetime=3600, preferredlifetime=3600), iface='eth0', count=2)"
                ;;
        dhcp)
                py $g "sendp(Ether(src='$mac', dst='ff:ff:ff:ff:ff:ff')/IP(src='$ip', dst='255.255.255.255')/UDP(sport=67, dport=68)/BOOTP(op=2, xid=0x5e0$m, yiaddr='10.233.1.20$m', siaddr='$ip', chaddr=bytes.fromhex('${macb//:/}'))/DHCP(options=[('message-type', 'offer'), ('server_id', '$ip'), ('router', '$ip'), 'end']), iface='eth0', count=2)
sendp(Ether(src='$mac', dst='33:33:00:01:00:02')/IPv6(src='$ll', dst='ff02::1:2')/UDP(sport=547, dport=546)/DHCP6_Reply(trid=0x5e0$m), iface='eth0', count=2)"
                ;;
        esac
}
prime
sleep 1.2 # past the neighbour tables' locktime: an update would be taken
nb0=$(neigh_b) nh0=$(neigh_host) r60=$(routes6_b)
like "$nb0" "^$gw $macbr$" "b knows the gateway's MAC before the attacks"
like "$nh0" "^$ipb $macb$" "the host knows b's MAC before the attacks"
like "$(vs-enter $b -- sysctl -n net.ipv6.conf.eth0.accept_ra)" "^[12]$" "b takes router advertisements (the RA probe can see one)"

for kind in mac ip garp na vlan ra dhcp; do
        d0=$(dropped $a)
        check "$kind from a: sent" -- run_attacks $a $ipa $maca $lla 1 $kind
        sleep 0.5
        d1=$(dropped $a)
        [ "${d1:-0}" -gt "${d0:-0}" ] 2>/dev/null
        ok $? "$kind from a: the drop counter moved ($d0 -> $d1)"
        is "$(neigh_b | grep -E "^($gw|$ipa) ")" "$(grep -E "^($gw|$ipa) " <<<"$nb0")" "$kind from a: b's neighbour entries of the gateway and a unchanged"
        is "$(neigh_host | grep -E "^($ipb|$llb) ")" "$(grep -E "^($ipb|$llb) " <<<"$nh0")" "$kind from a: the host's neighbour entries of b unchanged"
        is "$(routes6_b)" "$r60" "$kind from a: b's IPv6 default routes and addresses unchanged"
done
check "a (its MAC back) still pings b" -- vs-enter $a -- ping -c 1 -W 2 $ipb
unlike "$(bridge fdb show br $br)" "02:de:ad:00:00:01" "the bridge never learnt a's forged MAC"
# The capture reaches its file through tcpdump and vs-enter's relay: on a
# loaded host the last ping's lines may take a moment.
wait_for $(slow 10) grep -qE "$maca > .*ICMP echo request" "$VST_ROOT/b.cap"
capa=$(cat "$VST_ROOT/b.cap")
unlike "$capa" "02:de:ad:00:00:01" "b saw no frame from a's forged MAC"
unlike "$capa" "\.40011 |\.40021 |id 24065" "b saw none of a's forged IPv4 (nor the host's answer to it)"
unlike "$capa" "$maca > .*(Reply ($gw|$ipb) is-at|Request who-has ($gw|$ipb) tell ($gw|$ipb),)" "b saw none of a's gratuitous ARP"
unlike "$capa" "$maca > .*(router advertisement|neighbor advertisement, tgt is $llb|BOOTP/DHCP, Reply|dhcp6 reply)" "b saw no RA, NA for b's address, DHCP or DHCPv6 reply from a"
like "$capa" "$maca > .*ICMP echo request" "b's capture works: it saw a's ordinary ping"

# ---- the positive control: the same from c, filter = no ----------------------
prime
sleep 1.2
nb0=$(neigh_b) nh0=$(neigh_host)
for kind in mac ip garp na vlan ra dhcp; do check "$kind from c: sent" -- run_attacks $c $ipc $macc $llc 3 $kind; done
sleep 1
wait_for $(slow 10) grep -qE "$macc > .*dhcp6 reply" "$VST_ROOT/b.cap" # c's last attack
capc=$(cat "$VST_ROOT/b.cap")
like "$capc" "02:de:ad:00:00:03" "control: b saw c's forged MAC"
like "$(bridge fdb show br $br)" "02:de:ad:00:00:03" "control: the bridge learnt c's forged MAC"
like "$capc" "$gw\.40013 > $ipb\.40013" "control: b got c's UDP with the gateway's source"
like "$capc" "vlan 5, .*$ipc\.40023 > $ipb\.40023" "control: b got c's VLAN-tagged frame"
like "$capc" "$gw > $ipb: ICMP echo reply, id 24067" "control: the host answered c's ping forged from b, to b"
like "$capc" "$macc > .*Reply $gw is-at $macc" "control: b saw c's gratuitous ARP for the gateway"
like "$(neigh_b)" "^$gw $macc$" "control: c's gratuitous ARP moved b's gateway entry to c"
like "$(neigh_host)" "^$ipb $macc$" "control: c's gratuitous ARP moved the host's entry of b to c"
if [ $host6 = 1 ]; then
        like "$(neigh_host)" "^$llb $macc$" "control: c's NA moved the host's entry of b's link-local to c"
else
        skip "control: c's NA moves the host's entry of b's link-local" "IPv6 is off on $br"
fi
like "$(routes6_b)" "default via $llc" "control: c's RA gave b a default route via c"
like "$(routes6_b)" "fd33:3:" "control: c's RA gave b an address in its prefix"
like "$capc" "$macc > .*BOOTP/DHCP, Reply" "control: b saw c's DHCP reply"
like "$capc" "$macc > .*dhcp6 reply" "control: b saw c's DHCPv6 reply"
is "$(dropped $c)" null "control: c still has no drop count"

# ---- nothing left -------------------------------------------------------------
check "stop a" -- vs-stop $a
check_net_gone "a's filter table is gone after stop" ${ta}_f $va
# A supervisor that dies without cleaning up, its undertaker with it (its
# veth goes with the guest's namespace, its tables stay): vs-stop, finding
# the stale run state, removes what its net file names.
sup=$(sed -n 's/^supervisor_pid=//p' "$VS_RUNDIR/$b/state")
initb=$(init_pid $b)
und=$(ps --ppid "$sup" -o pid=,comm= | awk '$2 == "vs-undertaker" { print $1 }')
if [ -n "$sup" ] && [ -n "$initb" ] && [ -n "$und" ]; then
        kill -KILL "$und" "$sup" "$initb"
        wait_for 10 gone "$sup"
        wait_for 10 gone "$initb"
        nft list table netdev ${tb}_f >/dev/null 2>&1
        ok $? "b's filter table outlives its killed supervisor"
        check "vs-stop clears b's stale state" -- vs-stop $b
        check_net_gone "b's filter table is gone after that" ${tb}_f
else
        skip "b's filter table goes after its supervisor was killed" "no pids in b's state file"
fi
for g in $b $c; do vs-stop $g >/dev/null 2>&1; done
check_net_gone "no filter or link of a guest is left" ${ta}_f ${tb}_f ${tc}_f $va $vb $vc
done_testing
