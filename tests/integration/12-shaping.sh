#!/bin/bash
# HTB shaping both ways, measured with iperf3 between the host and real
# Debian guests: rate = ceil, unshaped speed, a 1:3 split under a shared
# total, borrowing up to ceil, live changes with vs-limit, and nothing left
# after stop.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

br=vsnbr2
on_exit "ip link del $br"
cat >"$VS_CONFDIR/defaults.conf" <<EOC
[net]
bridge = $br
address = 10.231.2.1/24
pool = 10.231.2.0/24
total = 40mbit
EOC

s1=$(guest vsn-shape-1)
s2=$(guest vsn-shape-2)
u=$(guest vsn-shape-u)
check "build s1 (10mbit)" -- build_debian $s1 --include iperf3 --ip 10.231.2.11/24 --rate 10mbit --ceil 10mbit
check "build s2 (30mbit, ceil 40mbit)" -- build_debian $s2 --include iperf3 --ip 10.231.2.12/24 --rate 30mbit --ceil 40mbit
check "build u (unshaped)" -- build_debian $u --include iperf3 --ip 10.231.2.13/24
for g in $s1 $s2 $u; do
        check "start $g" -- vs-start $g
        check "iperf3 server in $g" -- vs-enter $g -- iperf3 -s -D
done
read -r v1 up down t1 <<<"$(net_names $s1)"
read -r v2 up2 down2 t2 <<<"$(net_names $s2)"
read -r vu uu du tu <<<"$(net_names $u)"
like "$up $down" '^vsu[0-9a-f]{8} vsd[0-9a-f]{8}$' "s1 is shaped through the bridge's IFB pair ($up, $down)"
is "$up2 $down2" "$up $down" "s2 shares the same IFB pair (one hierarchy per bridge)"
is "$uu $du" "- -" "the unshaped guest has no IFB"
like "$(tc class show dev $up)" "class htb 1:1 root rate 40Mbit ceil 40Mbit" "the parent class holds the total"
like "$(tc class show dev $down)" "class htb 1:[0-9a-f]+ parent 1:1 .*rate 30Mbit ceil 40Mbit" "s2 has its leaf class to it"
like "$(nft list table netdev $t1)" "meta priority set 1:[0-9a-f]+ fwd to \"$up\"" "s1's traffic from it is classified and sent to $up"
nft list table netdev $tu >/dev/null 2>&1
ok $((! $?)) "the unshaped guest has no shaping table"

# Mbit/s the receiver saw, from iperf3's JSON.
mbits() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.2f" % (d["end"]["sum_received"]["bits_per_second"]/1e6))' "$1" 2>/dev/null || echo 0; }
run() { # run OUT ADDR [iperf3 options]: 4 s, the first omitted
        local out=$1 addr=$2
        shift 2
        iperf3 -c "$addr" -t 4 -O 1 -J "$@" >"$VST_ROOT/$out.json" 2>&1
        mbits "$VST_ROOT/$out.json"
}
between() { # between VALUE LOW HIGH DESCRIPTION [UNIT]
        python3 -c 'import sys; v,l,h=map(float,sys.argv[1:4]); sys.exit(0 if l<=v<=h else 1)' "$1" "$2" "$3"
        ok $? "$4: $1 ${5-Mbit/s} (expected $2 to $3)"
}

between "$(run s1-down 10.231.2.11)" 9.0 10.5 "host -> s1 at rate = ceil = 10mbit"
between "$(run s1-up 10.231.2.11 -R)" 9.0 10.5 "s1 -> host at rate = ceil = 10mbit"
between "$(run u-down 10.231.2.13)" 1000 1000000 "host -> unshaped guest"
between "$(run u-up 10.231.2.13 -R)" 1000 1000000 "unshaped guest -> host"

# Alone, s1 borrows what s2 leaves idle, up to its new ceil (a live change).
check "vs-limit s1 ceil=25mbit" -- vs-limit $s1 ceil=25mbit
like "$(cat "$VS_CONFDIR/$s1.conf")" "^ceil = 25mbit$" "the new ceil is kept in the config"
between "$(run s1-borrow 10.231.2.11)" 22.5 26.3 "s1 alone borrows up to its ceil 25mbit"

# Both saturating at once: the total is split by rate, 10:30.
for dir in down up; do
        opt=""
        [ $dir = up ] && opt=-R
        iperf3 -c 10.231.2.11 -t 5 -O 1 -J $opt >"$VST_ROOT/split1-$dir.json" 2>&1 &
        p1=$!
        iperf3 -c 10.231.2.12 -t 5 -O 1 -J $opt >"$VST_ROOT/split2-$dir.json" 2>&1 &
        p2=$!
        wait $p1 $p2
        m1=$(mbits "$VST_ROOT/split1-$dir.json")
        m2=$(mbits "$VST_ROOT/split2-$dir.json")
        ratio=$(python3 -c 'import sys; a,b=map(float,sys.argv[1:]); print("%.2f" % (b/a if a else 0))' "$m1" "$m2")
        between "$ratio" 2.55 3.45 "$dir: s2/s1 under a 40mbit total ($m2 / $m1 Mbit/s) is about 3" ""
        between "$(python3 -c 'import sys; print("%.2f" % (float(sys.argv[1])+float(sys.argv[2])))' "$m1" "$m2")" 36 42 \
                "$dir: together they use the total"
done

check "vs-limit s1 rate=20mbit ceil=20mbit (live)" -- vs-limit $s1 rate=20mbit ceil=20mbit
between "$(run s1-new 10.231.2.11)" 18.0 21.0 "host -> s1 follows the new rate"
between "$(run s1-new-up 10.231.2.11 -R)" 18.0 21.0 "s1 -> host follows the new rate"
out=$(vs-limit $s1 rate=0 2>&1)
[ $? != 0 ]
ok $? "vs-limit rate=0 is refused"
like "$out" "net\.rate" "the message names net.rate"
like "$(tc class show dev $up)" "rate 20Mbit ceil 20Mbit" "the refused change left the class alone"

check "stop s1" -- vs-stop --timeout 20 $s1
check_net_gone "s1's veth and table are gone, the IFBs stay for s2" $v1 $t1
ip link show $up >/dev/null 2>&1
ok $? "the IFB pair stays while s2 runs"
check "stop s2" -- vs-stop --timeout 20 $s2
check "stop u" -- vs-stop --timeout 20 $u
check_net_gone "after the last shaped guest: no veth, IFB or nftables table is left" $v1 $v2 $vu $up $down $t1 $t2
is "$(tc qdisc show dev $br | grep -c htb)" 0 "no qdisc was put on the bridge"
for g in $s1 $s2 $u; do check_no_leftovers $g; done
done_testing
