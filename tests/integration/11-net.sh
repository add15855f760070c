#!/bin/bash
# Guests on a bridge: addresses from the pool, eth0 inside, ping among two
# guests and the host, duplicates and bad input refused, nat rule, and
# nothing but the bridge left after stop.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

br=vsnbr1
on_exit "ip link del $br"
cat >"$VS_CONFDIR/defaults.conf" <<EOC
[net]
bridge = $br
address = 10.231.1.1/24
pool = 10.231.1.0/24
total = 1gbit
EOC

a=$(guest vsn-net-a)
b=$(guest vsn-net-b)
c=$(guest vsn-net-c)
check "build guest a with --ip and nat" -- build_debian $a --include iperf3 --ip 10.231.1.11/24 --set net.nat=yes
check "build guest b without --ip" -- build_debian $b --include iperf3
like "$(cat "$VS_CONFDIR/$b.conf")" "^address = 10\.231\.1\.2/24$" "b got the pool's first free address (after the bridge's) in its config"

# Refused at build, naming the key; nothing is left of the refused guest.
bad_build() { # bad_build DESCRIPTION PATTERN OPTIONS...
        local d=$1 pat=$2 out rc
        shift 2
        out=$(vs-build $c --template minimal "$@" 2>&1)
        rc=$?
        [ $rc != 0 ] && [ ! -e "$VS_CONFDIR/$c.conf" ] && [ ! -e "$VS_GUESTDIR/$c" ]
        ok $? "$d is refused, nothing made"
        like "$out" "$pat" "$d: the message names it"
}
bad_build "a duplicate address" 'net\.address.*10\.231\.1\.11.*already used by guest "vsn-net-a"' --ip 10.231.1.11/24
bad_build "an address outside the pool" 'net\.address.*outside the pool' --ip 10.99.0.5/24
bad_build "a malformed CIDR" 'net\.address' --ip 10.231.1.300/24
bad_build "an address without prefix" 'net\.address' --ip 10.231.1.40
bad_build "rate 0" 'net\.rate' --rate 0
bad_build "rate -5mbit" 'net\.rate' --rate -5mbit
bad_build "rate fast" 'net\.rate' --rate fast
bad_build "ceil below rate" 'net\.ceil.*below' --rate 20mbit --ceil 10mbit
bad_build "a 16-character bridge name" 'net\.bridge' --bridge vsnbr1234567890x

check "start a" -- vs-start $a
check "start b" -- vs-start $b
read -r va ua da ta <<<"$(net_names $a)"
read -r vb ub db tb <<<"$(net_names $b)"
like "$va" '^vsvsn_ne-[0-9a-f]{6}$' "a's host-side veth is named from its name and hash ($va)"
[ "$va" != "$vb" ]
ok $? "two names with one prefix get two host names ($va, $vb)"
is "$(cat /sys/class/net/$va/master/ifindex 2>/dev/null)" "$(cat /sys/class/net/$br/ifindex)" "a's veth is a port of $br"
like "$(ip -4 -br addr show $br)" "10\.231\.1\.1/24" "the bridge has its address"

# Reachable as soon as vs-start returned: no waiting.
check "host pings a" -- ping -c 1 -W 2 10.231.1.11
check "host pings b" -- ping -c 1 -W 2 10.231.1.2
check "a pings b" -- vs-enter $a -- ping -c 1 -W 2 10.231.1.2
check "b pings a" -- vs-enter $b -- ping -c 1 -W 2 10.231.1.11
check "a pings the host" -- vs-enter $a -- ping -c 1 -W 2 10.231.1.1
like "$(vs-enter $a -- ip -4 -br addr show eth0)" "^eth0@[a-z0-9]+ +UP +10\.231\.1\.11/24" "eth0 inside has the address and is up"
like "$(vs-enter $a -- ip route show default)" "^default via 10\.231\.1\.1 dev eth0" "the default route goes via the bridge"
mac_a=$(vs-enter $a -- cat /sys/class/net/eth0/address)
like "$mac_a" '^02:' "eth0 has a locally administered MAC ($mac_a)"
like "$(vs-list)" "^$a +running +[0-9]+ +10\.231\.1\.11/24" "vs-list shows the address"
like "$(vs-stat --json $a)" '"net_rx_bytes":[1-9][0-9]*,"net_tx_bytes":[1-9]' "vs-stat counts a's network bytes"
state=$(vs-enter $a -- systemctl is-system-running --wait 2>/dev/null)
like "$state" "running|degraded" "a's systemd came up (network setup does not fight it)"
unlike "$(vs-enter $a -- systemctl --failed --plain --no-legend 2>/dev/null)" "network|ifup" "no network unit failed inside"

# nat: the rule is there while a runs.
like "$(nft list table ip $ta 2>&1)" "ip saddr 10\.231\.1\.11 oifname != \"$br\" masquerade" "a's masquerade rule is present"
nft list table ip $tb >/dev/null 2>&1
ok $((! $?)) "b (nat = no) has no nat table"

# Duplicate at start: c's config takes a's address while a runs.
check "build c" -- build_minimal $c --ip 10.231.1.30/24
sed -i 's|^address = .*|address = 10.231.1.11/24|' "$VS_CONFDIR/$c.conf"
out=$(vs-start $c 2>&1)
[ $? != 0 ]
ok $? "starting c with a's address is refused"
like "$out" 'net\.address.*10\.231\.1\.11.*in use by the running guest "vsn-net-a"' "the message names the key and the guest"
is "$(ip -o link show | grep -o 'vsvsn_ne-[0-9a-f]*' | sort -u | tr '\n' ' ')" "$(printf '%s\n' $va $vb | sort | tr '\n' ' ')" \
        "the refused start left no veth (only a's and b's exist)"
[ ! -e "$VS_RUNDIR/$c" ]
ok $? "the refused start left no run state"
check "ping a still works" -- ping -c 1 -W 2 10.231.1.11

# Stable MAC across restarts.
check "stop a" -- vs-stop --timeout 20 $a
check_net_gone "a's veth and nat table are gone after stop" $va $ta
check "start a again" -- vs-start $a
is "$(vs-enter $a -- cat /sys/class/net/eth0/address)" "$mac_a" "a's MAC is the same after a restart"

check "stop a" -- vs-stop --timeout 20 $a
check "stop b" -- vs-stop --timeout 20 $b
check_net_gone "nothing of a or b is left (veths, tables)" $va $vb $ta $tb
ip link show $br >/dev/null 2>&1
ok $? "the bridge stays for the next guest"
check_no_leftovers $a
check_no_leftovers $b

# A clone gets an address of its own from the pool.
d=$(guest vsn-net-d)
check "clone b" -- vs-build $d --clone $b
like "$(grep '^address' "$VS_CONFDIR/$d.conf")" "^address = 10\.231\.1\.3/24$" "the clone took the next free address, not b's"
done_testing
