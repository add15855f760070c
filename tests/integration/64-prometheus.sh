#!/bin/bash
# vs-stat --prometheus on real guests (a running one with a network, an OOM
# kill and limits, a stopped one): promtool accepts it, the figures agree
# with vs-stat --json, the shipped timer's command writes it atomically into
# a textfile directory, and a node exporter of the test's own serves it.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

br=promb1
on_exit "ip link del $br"
cat >"$VS_CONFDIR/defaults.conf" <<EOC
[net]
bridge = $br
address = 10.238.1.1/24
pool = 10.238.1.0/24
EOC

g=$(guest prom-run)
s=$(guest prom-off)
check "build a guest with --rss 128M --pids 60 and a network" -- \
        build_minimal $g --rss 128M --pids 60 --ip 10.238.1.11/24
check "build a second guest, left stopped" -- build_minimal $s --rss 64M
check "start the first" -- vs-start $g
check "host pings it (network bytes both ways)" -- ping -c 3 -i 0.2 -W 2 10.238.1.11
out=$(vs-enter $g -- /sbin/init --alloc 300 2>&1)
is $? 137 "an allocation past the RSS limit is OOM-killed in the guest"
# An ANON limit only now, so the kill above was the kernel's; an allocation
# held 4 s under the RSS limit is the supervisor's (see 08-limits.sh).
check "vs-limit anon=64M" -- vs-limit $g anon=64M
wait_for 5 grep -q "ANON limit of \"$g\" is now 67108864 bytes" "$VS_LOGDIR/$g.console"
ok $? "the supervisor takes the ANON limit"
out=$(vs-enter $g -- /sbin/init --alloc 100 4 2>&1)
is $? 137 "an allocation past the ANON limit is killed"

# One reading between two JSON readings: counters lie between them, gauges
# near them.
vs-stat --json -i 0.05 >"$VST_ROOT/before.json"
vs-stat --prometheus >"$VST_ROOT/out.prom"
is $? 0 "vs-stat --prometheus succeeds"
vs-stat --json -i 0.05 >"$VST_ROOT/after.json"
vs-status --json $g >"$VST_ROOT/status.json"
now=$(date +%s)

if command -v promtool >/dev/null; then
        check "promtool check metrics accepts it" -- sh -c "promtool check metrics <'$VST_ROOT/out.prom'"
else
        skip "promtool check metrics accepts it" "no promtool (package prometheus)"
fi
prom=$(cat "$VST_ROOT/out.prom")
like "$prom" "^vserver_guest_up\{guest=\"$g\"\} 1$" "the running guest is up"
like "$prom" "^vserver_guest_up\{guest=\"$s\"\} 0$" "the stopped guest is listed, not up"
like "$prom" "^vserver_guest_state\{guest=\"$s\",state=\"stopped\"\} 1$" "its state series says stopped"
like "$prom" "^vserver_guest_state\{guest=\"$g\",state=\"running\"\} 1$" "the running guest's says running"
unlike "$prom" "^vserver_guest_(cpu|memory_rss_bytes|pids|start_time|network|disk_read)[a-z_]*\{guest=\"$s\"" \
        "the stopped guest has no runtime series"
like "$prom" "^vserver_guest_memory_rss_limit_bytes\{guest=\"$s\"\} 67108864$" "but its RSS limit"
like "$prom" "^vserver_guest_memory_rss_limit_bytes\{guest=\"$g\"\} 134217728$" "the running guest's RSS limit"
like "$prom" "^vserver_guest_memory_anon_limit_bytes\{guest=\"$g\"\} 67108864$" "its ANON limit"
like "$prom" "^vserver_guest_pids_limit\{guest=\"$g\"\} 60$" "and its pids limit"
is "$(grep -c '^# TYPE ' "$VST_ROOT/out.prom")" "$(grep '^# TYPE ' "$VST_ROOT/out.prom" | sort -u | wc -l)" \
        "each family's TYPE is given once"

# The figures against vs-stat --json and vs-status --json.
cmp_out=$(python3 - "$VST_ROOT" "$g" "$now" <<'EOF'
import json, re, sys
root, g, now = sys.argv[1], sys.argv[2], int(sys.argv[3])
prom = {}
for line in open(root + "/out.prom"):
    m = re.match(r'^(\w+)\{guest="([^"]*)"\} (\S+)$', line)
    if m and m.group(2) == g:
        prom[m.group(1)] = float(m.group(3))
b = next(o for o in json.load(open(root + "/before.json")) if o["name"] == g)
a = next(o for o in json.load(open(root + "/after.json")) if o["name"] == g)
st = json.load(open(root + "/status.json"))
bad = []
def between(name, key, scale=1.0):
    v = prom.get(name)
    if v is None or not (b[key] * scale <= v + 1e-6 and v <= a[key] * scale + 1e-6):
        bad.append("%s=%s not within [%s, %s]" % (name, v, b[key] * scale, a[key] * scale))
def near(name, key, margin):
    v = prom.get(name)
    lo, hi = min(b[key], a[key]), max(b[key], a[key])
    if v is None or v < lo * (1 - margin) - 65536 or v > hi * (1 + margin) + 65536:
        bad.append("%s=%s not near %s..%s" % (name, v, lo, hi))
between("vserver_guest_cpu_seconds_total", "cpu_usec", 1e-6)
between("vserver_guest_network_receive_bytes_total", "net_rx_bytes")
between("vserver_guest_network_transmit_bytes_total", "net_tx_bytes")
between("vserver_guest_disk_read_bytes_total", "io_read_bytes")
between("vserver_guest_disk_written_bytes_total", "io_write_bytes")
near("vserver_guest_memory_rss_bytes", "rss_bytes", 0.1)
near("vserver_guest_memory_anon_bytes", "anon_bytes", 0.1)
near("vserver_guest_memory_locked_bytes", "memlock_bytes", 0.1)
near("vserver_guest_pids", "pids", 0)
kills = prom.get("vserver_guest_oom_kills_total", -1) + prom.get("vserver_guest_anon_kills_total", -1)
if not (b["oom_kills"] <= kills <= a["oom_kills"]) or prom["vserver_guest_anon_kills_total"] != a["anon_kills"]:
    bad.append("OOM %s + ANON %s kills against JSON %s (anon %s)" % (prom.get("vserver_guest_oom_kills_total"),
               prom.get("vserver_guest_anon_kills_total"), a["oom_kills"], a["anon_kills"]))
if a["net_dropped"] is not None:
    between("vserver_guest_network_spoofed_dropped_packets_total", "net_dropped")
elif "vserver_guest_network_spoofed_dropped_packets_total" in prom:
    bad.append("dropped packets without anti-spoofing rules")
start = prom.get("vserver_guest_start_time_seconds", 0)
if abs(now - st["uptime"] - start) > 2:
    bad.append("start time %s against now - uptime %s" % (start, now - st["uptime"]))
print("; ".join(bad) if bad else "agree (rx %d, tx %d, oom %d, rss %d)" % (
    prom.get("vserver_guest_network_receive_bytes_total", -1), prom.get("vserver_guest_network_transmit_bytes_total", -1),
    prom.get("vserver_guest_oom_kills_total", -1), prom.get("vserver_guest_memory_rss_bytes", -1)))
EOF
)
like "$cmp_out" "^agree" "the figures agree with vs-stat --json and vs-status --json ($cmp_out)"
like "$prom" "^vserver_guest_oom_kills_total\{guest=\"$g\"\} 1$" "the kernel's OOM kill is counted"
like "$prom" "^vserver_guest_anon_kills_total\{guest=\"$g\"\} 1$" "the ANON kill apart"
like "$prom" "^vserver_guest_network_receive_bytes_total\{guest=\"$g\"\} [1-9]" "the pings are counted"
like "$prom" "^vserver_guest_network_spoofed_dropped_packets_total\{guest=\"$g\"\} [0-9]+$" \
        "its anti-spoofing rules' drop counter is there (net.filter is on by default)"

# Only the NAMEs given; a missing one is an error naming it.
out=$(vs-stat --prometheus $s $s)
unlike "$out" "guest=\"$g\"" "vs-stat --prometheus NAME lists only NAME"
is "$(printf '%s\n' "$out" | grep -c '^vserver_guest_up')" 1 "once, though named twice"
out=$(vs-stat --prometheus prom-nosuch 2>&1)
rc=$?
is $rc 1 "a missing guest fails (exit 1)"
like "$out" '"prom-nosuch"' "naming it"
out=$(vs-stat --prometheus --json 2>&1)
is $? 2 "--prometheus with --json is bad usage (exit 2)"
out=$(vs-stat --output x 2>&1)
is $? 2 "--output without --prometheus is bad usage (exit 2)"
out=$(vs-stat --prometheus --interval 1 2>&1)
is $? 2 "--prometheus with --interval is bad usage (exit 2)"

# The shipped units and cron file: the same command; it writes atomically.
svc=$VS_TOP_BUILDDIR/etc/systemd/vserver-metrics.service
cron=$VS_TOP_BUILDDIR/etc/cron.d/vserver-metrics
exec_line=$(sed -n 's/^ExecStart=//p' "$svc")
args=${exec_line#*/vs-stat }
is "$args" "--prometheus --output /var/lib/prometheus/node-exporter/vserver.prom" "the service runs vs-stat --prometheus --output"
is "$(grep -c -- "/vs-stat $args\$" "$cron")" 4 "the cron file runs the same command four times a minute"
if command -v systemd-analyze >/dev/null; then
        mkdir -p "$VST_ROOT/units"
        sed "s|^ExecStart=[^ ]*/vs-stat |ExecStart=$VS_TOP_BUILDDIR/sbin/vs-stat |" "$svc" >"$VST_ROOT/units/vserver-metrics.service"
        cp "$VS_TOP_SRCDIR/etc/systemd/vserver-metrics.timer" "$VST_ROOT/units/"
        out=$(cd "$VST_ROOT/units" && systemd-analyze verify --man=no ./vserver-metrics.timer ./vserver-metrics.service 2>&1)
        rc=$?
        is "$rc:$out" "0:" "systemd-analyze verify accepts the timer and the service"
else
        skip "systemd-analyze verify accepts the timer and the service" "no systemd-analyze"
fi

tdir=$VST_ROOT/textfile
mkdir -p "$tdir"
# shellcheck disable=SC2086
check "the service's command writes into a textfile directory" -- \
        vs-stat ${args//\/var\/lib\/prometheus\/node-exporter/$tdir}
is "$(ls -A "$tdir")" "vserver.prom" "it leaves the one file, no temporary one"
is "$(stat -c %a "$tdir/vserver.prom")" 644 "readable by the node exporter's user (0644)"
like "$(cat "$tdir/vserver.prom")" "^vserver_guest_up\{guest=\"$g\"\} 1$" "with the guest's series"
out=$(vs-stat --prometheus --output "$VST_ROOT/nodir/vserver.prom" 2>&1)
rc=$?
is $rc 1 "a missing directory fails (exit 1)"
like "$out" "nodir/vserver.prom" "naming the file"
[ ! -e "$VST_ROOT/nodir" ]
ok $? "and makes nothing"
chattr +i "$tdir/vserver.prom" 2>/dev/null && immutable=1 || immutable=""
if [ -n "$immutable" ]; then
        out=$(vs-stat --prometheus --output "$tdir/vserver.prom" 2>&1)
        is $? 1 "a file that cannot be replaced fails (exit 1)"
        chattr -i "$tdir/vserver.prom"
        is "$(ls -A "$tdir")" "vserver.prom" "and leaves no temporary file"
else
        skip "a file that cannot be replaced fails" "chattr +i not supported under $tdir"
fi

# A node exporter of our own on a free loopback port, only the textfile
# collector on, serves the guest's series.
if ! command -v prometheus-node-exporter >/dev/null; then
        skip "the node exporter serves the guest's series" "no prometheus-node-exporter"
else
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        prometheus-node-exporter --web.listen-address=127.0.0.1:$port --collector.disable-defaults \
                --collector.textfile --collector.textfile.directory="$tdir" >"$VST_ROOT/exporter.log" 2>&1 &
        exporter=$!
        on_exit "kill $exporter; wait $exporter"
        scrape() { curl -sf --max-time 5 "http://127.0.0.1:$port/metrics" >"$VST_ROOT/scrape.txt"; }
        if wait_for 20 scrape; then
                ok 0 "our node exporter answers on 127.0.0.1:$port (pid $exporter)"
                got=$(cat "$VST_ROOT/scrape.txt")
                like "$got" "^vserver_guest_up\{guest=\"$g\"\} 1$" "it serves the running guest as up"
                like "$got" "^vserver_guest_up\{guest=\"$s\"\} 0$" "and the stopped one"
                like "$got" "^vserver_guest_memory_rss_limit_bytes\{guest=\"$g\"\} 1\.34217728e\+08$" "with its limit"
                like "$got" "^vserver_guest_cpu_seconds_total\{guest=\"$g\"\} [0-9.e+-]+$" "and its CPU seconds"
                like "$got" "^node_textfile_scrape_error 0$" "the textfile collector read the file without error"
                unlike "$got" "^node_(cpu|memory|filesystem|network)_" "other collectors are off"
        else
                ok 1 "our node exporter answers on 127.0.0.1:$port (pid $exporter)"
                sed 's/^/#   /;$a\' "$VST_ROOT/exporter.log" | tail -10
        fi
fi

check "stop the guest" -- vs-stop --timeout 10 $g
out=$(vs-stat --prometheus $g)
like "$out" "^vserver_guest_up\{guest=\"$g\"\} 0$" "once stopped it is listed as not up"
unlike "$out" "^vserver_guest_cpu_seconds_total" "without runtime series"
check_no_leftovers $g
done_testing
