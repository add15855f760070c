#!/bin/bash
# IPv6 and several addresses per guest: one address of each family from the
# pools, the bridge's IPv6 address, IPv6 usable at once (no DAD), a default
# route per family, ping and iperf3 over IPv6 host<->guest and guest<->guest,
# 10mbit shaping measured over IPv6 both ways, an address in use refused in
# either family at build and at start, vs-list/vs-status showing every
# address, and nothing left after stop.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

br=net6br1
on_exit "ip link del $br"
cat >"$VS_CONFDIR/defaults.conf" <<EOC
[net]
bridge = $br
address = 10.232.1.1/24
address6 = fd32:1::1/64
pool = 10.232.1.0/24
pool6 = fd32:1::/64
total = 1gbit
EOC

a=$(guest net6a)
b=$(guest net6b)
c=$(guest net6c)
check "build a without --ip" -- build_debian $a --include iperf3
like "$(cat "$VS_CONFDIR/$a.conf")" "^address = 10\.232\.1\.2/24, fd32:1::2/64$" \
        "a got the first free address of each pool (after the bridge's)"
check "build b with two addresses of each family, shaped at 10mbit" -- \
        build_debian $b --include iperf3 --ip "10.232.1.12/24, fd32:1::12/64 10.232.1.13/24,fd32:1::13/64" \
        --rate 10mbit --ceil 10mbit

bad_build() { # bad_build DESCRIPTION PATTERN OPTIONS...
        local d=$1 pat=$2 out rc
        shift 2
        out=$(vs-build $c --template minimal "$@" 2>&1)
        rc=$?
        [ $rc != 0 ] && [ ! -e "$VS_CONFDIR/$c.conf" ] && [ ! -e "$VS_GUESTDIR/$c" ]
        ok $? "$d is refused, nothing made"
        like "$out" "$pat" "$d: the message names it"
}
bad_build "a's IPv6 address beside a free IPv4 one" 'net\.address.*fd32:1::2/64.*already used by guest "net6a"' \
        --ip 10.232.1.40/24,fd32:1::2/64
bad_build "b's second IPv6 address written another way" 'net\.address.*already used by guest "net6b"' \
        --ip fd32:1:0:0::0013/64
bad_build "b's second IPv4 address" 'net\.address.*10\.232\.1\.13/24.*already used by guest "net6b"' --ip 10.232.1.13/24
bad_build "the bridge's IPv6 address" "net\.address.*fd32:1::1/64.*the bridge's own address" --ip fd32:1::1/64
bad_build "an IPv6 address outside pool6" 'net\.address.*fd33::5/64.*outside the pool fd32:1::/64' --ip fd33::5/64
bad_build "an IPv6 address without prefix" 'net\.address' --ip fd32:1::40
bad_build "the IPv6 subnet's anycast address" 'net\.address.*not a host address' --ip fd32:1::/64
bad_build "two IPv6 gateways" 'net\.gateway.*one gateway per family' --ip fd32:1::40/64 --set net.gateway=fd32:1::1,fd32:1::2

check "start a" -- vs-start $a
check "start b" -- vs-start $b
read -r va ua da ta <<<"$(net_names $a)"
read -r vb ub db tb <<<"$(net_names $b)"
# Right after vs-start: no tentative address, so nothing waits for DAD.
addr6=$(vs-enter $a -- ip -6 addr show dev eth0)
like "$addr6" "inet6 fd32:1::2/64 scope global" "a's eth0 has its IPv6 address"
unlike "$addr6" "fd32:1::2/64.*tentative" "a's IPv6 address is usable at once (no DAD)"
addrs_b=$(vs-enter $b -- ip -br addr show eth0)
ok $(for x in 10.232.1.12/24 10.232.1.13/24 fd32:1::12/64 fd32:1::13/64; do
        [[ " $addrs_b " == *" $x "* ]] || echo 1
done | grep -c 1) "b's eth0 has all four addresses ($addrs_b)"
like "$(vs-enter $a -- ip -6 route show default)" "^default via fd32:1::1 dev eth0" "the IPv6 default route goes via the bridge"
like "$(vs-enter $a -- ip -4 route show default)" "^default via 10\.232\.1\.1 dev eth0" "the IPv4 one too"
like "$(ip -6 addr show dev $br)" "inet6 fd32:1::1/64 scope global" "the bridge has its IPv6 address"
unlike "$(ip -6 addr show dev $br)" "fd32:1::1/64.*tentative" "the bridge's IPv6 address is not tentative"
like "$(sed -n 's/^address=//p' "$VS_RUNDIR/$b/net")" "^10\.232\.1\.12/24,fd32:1::12/64,10\.232\.1\.13/24,fd32:1::13/64$" \
        "the net file lists every address of b"
like "$(sed -n 's/^mac=//p' "$VS_RUNDIR/$b/net")" "^$(vs-enter $b -- cat /sys/class/net/eth0/address)$" \
        "the net file has b's MAC"

check "host pings a over IPv6" -- ping -6 -c 1 -W 2 fd32:1::2
check "host pings b's second IPv6 address" -- ping -6 -c 1 -W 2 fd32:1::13
check "a pings b over IPv6" -- vs-enter $a -- ping -6 -c 1 -W 2 fd32:1::12
check "b pings a over IPv6" -- vs-enter $b -- ping -6 -c 1 -W 2 fd32:1::2
check "a pings the host over IPv6" -- vs-enter $a -- ping -6 -c 1 -W 2 fd32:1::1
check "a pings b's second IPv4 address" -- vs-enter $a -- ping -c 1 -W 2 10.232.1.13

json=$(vs-list --json)
like "$json" "\"name\":\"$b\",[^}]*\"address\":\"10\.232\.1\.12/24\",\"addresses\":\[\"10\.232\.1\.12/24\",\"fd32:1::12/64\",\"10\.232\.1\.13/24\",\"fd32:1::13/64\"\]" \
        "vs-list --json shows every address of b (address: the first)"
like "$(vs-status --json $a)" '"addresses":\["10\.232\.1\.2/24","fd32:1::2/64"\]' "vs-status --json shows both of a's"
like "$(vs-list)" "^$a +running +[0-9]+ +10\.232\.1\.2/24,fd32:1::2/64 " "vs-list shows both of a's"

# iperf3 over IPv6.
for g in $a $b; do check "iperf3 server in $g" -- vs-enter $g -- iperf3 -s -D; done
mbits() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.2f" % (d["end"]["sum_received"]["bits_per_second"]/1e6))' "$1" 2>/dev/null || echo 0; }
run() { # run OUT ADDR [iperf3 options]: 4 s, the first omitted
        local out=$1 addr=$2
        shift 2
        iperf3 -c "$addr" -t 4 -O 1 -J "$@" >"$VST_ROOT/$out.json" 2>&1
        mbits "$VST_ROOT/$out.json"
}
between() { # between VALUE LOW HIGH DESCRIPTION
        python3 -c 'import sys; v,l,h=map(float,sys.argv[1:4]); sys.exit(0 if l<=v<=h else 1)' "$1" "$2" "$3"
        ok $? "$4: $1 Mbit/s (expected $2 to $3)"
}
between "$(run a-down fd32:1::2)" 200 1000000 "host -> a over IPv6 (unshaped)"
between "$(run a-up fd32:1::2 -R)" 200 1000000 "a -> host over IPv6 (unshaped)"
# HTB shapes frames: 10mbit is 10 Mbit/s of Ethernet frames. iperf3 counts
# TCP payload, 1428 bytes of a 1514-byte frame over IPv6 (1448 over IPv4),
# so its figure tops out at 9.43 Mbit/s. Both are checked within 5%: the
# bytes b's HTB class passed (which counts each segment of a GSO packet
# with its headers, as the wire would; the veth's own counters do not) over
# 4 s of a steady transfer, and the payload against 10 Mbit/s * 1428 / 1514.
minor_b=$(printf %x "$(sed -n 's/^minor=//p' "$VS_RUNDIR/$b/net")")
# Runs CLIENT (an iperf3 client, 10 s, its JSON to OUT) and prints the
# Mbit/s through class 1:MINOR of IFB over 5 s from the moment 150 kB have
# passed (the client, vs-enter first, may take seconds to start on a loaded
# host), each reading timed by the middle of its tc run.
class_rate() { # class_rate IFB MINOR OUT CLIENT...
        python3 - "$@" <<'EOP'
import subprocess, sys, time
ifb, minor, out, client = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
def sample():
    t0 = time.monotonic()
    text = subprocess.run(["tc", "-s", "class", "show", "dev", ifb], capture_output=True, text=True).stdout
    t1 = time.monotonic()
    on = False
    for line in text.splitlines():
        w = line.split()
        if w[:1] == ["class"]:
            on = w[2] == "1:" + minor
        elif on and w[:1] == ["Sent"]:
            return (t0 + t1) / 2, int(w[1])
    return (t0 + t1) / 2, 0
with open(out, "w") as f:
    p = subprocess.Popen(client + ["-t", "10", "-J"], stdout=f, stderr=subprocess.STDOUT)
    t0, b0 = sample()
    while True:
        ta, ba = sample()
        if ba - b0 > 150000 or ta - t0 > 20:
            break
        time.sleep(0.2)
    time.sleep(max(0, ta + 5 - time.monotonic()))
    tb, bb = sample()
    p.wait()
print("%.2f" % ((bb - ba) * 8 / (tb - ta) / 1e6))
EOP
}
shaped() { # shaped NAME IFB CLIENT...
        local name=$1 ifb=$2 rate
        shift 2
        rate=$(class_rate $ifb $minor_b "$VST_ROOT/$name.json" "$@")
        between "$rate" 9.5 10.5 "$name: frames through b's HTB class at rate = ceil = 10mbit"
        between "$(mbits "$VST_ROOT/$name.json")" 8.96 9.90 "$name: TCP payload (10mbit of IPv6 frames carry 9.43)"
}
shaped "host -> b over IPv6" $db iperf3 -c fd32:1::12 -O 1
shaped "b -> host over IPv6" $ub iperf3 -c fd32:1::12 -O 1 -R
shaped "a -> b over IPv6" $db vs-enter $a -- iperf3 -c fd32:1::12 -O 1
shaped "b -> a over IPv6" $ub vs-enter $a -- iperf3 -c fd32:1::12 -O 1 -R
like "$(nft list table netdev $tb)" "meta priority set 1:[0-9a-f]+ fwd to \"$ub\"" "b is shaped by the per-veth hooks (no IPv4 match in them)"

# In use at start, in either family: c's config takes a free address of one
# family and a running guest's of the other.
check "build c" -- build_minimal $c --ip 10.232.1.30/24,fd32:1::30/64
sed -i 's|^address = .*|address = 10.232.1.30/24, fd32:1::2/64|' "$VS_CONFDIR/$c.conf"
out=$(vs-start $c 2>&1)
[ $? != 0 ]
ok $? "starting c with a's IPv6 address is refused"
like "$out" 'net\.address.*fd32:1::2 is in use by the running guest "net6a"' "the message names the address and the guest"
sed -i 's|^address = .*|address = 10.232.1.13/24, fd32:1::30/64|' "$VS_CONFDIR/$c.conf"
out=$(vs-start $c 2>&1)
[ $? != 0 ]
ok $? "starting c with b's second IPv4 address is refused"
like "$out" 'net\.address.*10\.232\.1\.13 is in use by the running guest "net6b"' "the message names the address and the guest"
[ ! -e "$VS_RUNDIR/$c" ]
ok $? "the refused starts left no run state"
check "ping -6 a still works" -- ping -6 -c 1 -W 2 fd32:1::2

check "stop a" -- vs-stop --timeout 20 $a
check "stop b" -- vs-stop --timeout 20 $b
check_net_gone "nothing of a or b is left (veths, IFBs, tables)" $va $vb $ta $tb $ub $db
unlike "$(ip -6 route show)" "fd32:1::(2|12|13) " "no route to a guest's IPv6 address is left"
like "$(ip -6 addr show dev $br)" "fd32:1::1/64" "the bridge stays with its IPv6 address for the next guest"
check_no_leftovers $a
check_no_leftovers $b
done_testing
