#!/bin/bash
# Fleet automation with ansible-core, the module and connection plugin taken
# from the source tree (ANSIBLE_LIBRARY, ANSIBLE_CONNECTION_PLUGINS): a
# playbook against localhost makes two guests present and started with
# limits (a Debian one with python3, a minimal one); a second run changes
# nothing (changed=0 in the recap, rss given in other units); a check-mode
# run changes nothing; one limit changed in the playbook changes that limit only (the cgroup file
# and vs-limit --json); a bad value fails with vs-limit's own message. A
# play through the vserver connection runs command, copy (a binary file,
# its checksum compared from the host), template, fetch and a systemd
# service inside the Debian guest, which answers over the bridge; a file a
# task writes is owned by the guest's root (on the host: the guest's first
# mapped id when unprivileged, 0 when privileged). Then stopped (nothing
# left on the host), absent (config and tree gone), and make install
# DESTDIR puts the plugins where ansible-doc finds them.
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

if ! command -v ansible-playbook >/dev/null || ! command -v ansible-doc >/dev/null; then
        echo "1..0 # SKIP ansible-core is not installed (tests/install-deps installs it)"
        exit 77
fi

br=ansiblebr0
on_exit "ip link del $br"
cat >"$VS_CONFDIR/defaults.conf" <<EOC
[net]
bridge = $br
address = 10.237.1.1/24
pool = 10.237.1.0/24
EOC

d=$(guest ansible-d)
m=$(guest ansible-m)
priv=false
[ -n "${VS_TEST_PRIVILEGED:-}" ] && priv=true
diag "privileged guests: $priv"

export ANSIBLE_LIBRARY=$VS_TOP_SRCDIR/contrib/ansible/plugins/modules
export ANSIBLE_CONNECTION_PLUGINS=$VS_TOP_SRCDIR/contrib/ansible/plugins/connection
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_LOCALHOST_WARNING=False
export ANSIBLE_INVENTORY_UNPARSED_WARNING=False ANSIBLE_RETRY_FILES_ENABLED=False
export ANSIBLE_PIPELINING=True ANSIBLE_PYTHON_INTERPRETER=auto_silent
export ANSIBLE_HOME=$VST_ROOT/ansible-home ANSIBLE_LOCAL_TEMP=$VST_ROOT/ansible-tmp
export ANSIBLE_CONFIG=$VST_ROOT/ansible.cfg
: >"$ANSIBLE_CONFIG"
pb=$VST_ROOT/pb
mkdir -p "$pb/templates" "$pb/files" "$pb/out"
cd "$pb" || exit 1
exec 3>&1

backend=$(cgroup_backend)
weight_file() { [ $backend = v2 ] && echo cpu.weight || echo cpu.shares; }
recap() { # recap LOG FIELD: FIELD=N of the localhost line of the play recap
        sed -n "s/^localhost *:.* $2=\([0-9]*\).*/\1/p" "$1" | tail -1
}
playbook() { # playbook LOG ARGS...: ansible-playbook, its output in LOG
        local log=$1
        shift
        local t=$(date +%s%N)
        timeout "$(slow 240)" ansible-playbook "$@" >"$log" 2>&1
        local rc=$?
        diag "$log: $((($(date +%s%N) - t) / 1000000)) ms" >&3
        [ $rc = 0 ] || grep -E 'fatal|FAILED|ERROR|msg' "$log" | head -8 | sed 's/^/#   ansible: /;$a\'
        return $rc
}

# ---- the module: present and started, with limits, idempotent ----------------
cat >guests.yml <<'EOF'
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    pids: 400
  tasks:
    - name: a Debian guest with python3, running, with limits
      vserver_guest:
        name: ansible-d
        template: debian
        include: [fio]
        privileged: "{{ priv }}"
        limits:
          cpu.weight: 300
          rss: "{{ rss | default('512M') }}"
          pids: "{{ pids }}"
          memlock: 1024K
        state: "{{ dstate | default('started') }}"
      register: r_d
    - name: a minimal guest, running, with limits
      vserver_guest:
        name: ansible-m
        template: minimal
        privileged: "{{ priv }}"
        limits: {cpu.weight: 50, rss: 64M}
        state: "{{ mstate | default('started') }}"
      register: r_m
    - name: what was done
      debug: {msg: "ACTIONS {{ r_d.actions | join(';') }} | {{ r_m.actions | join(';') }}"}
EOF

t0=$(date +%s)
check "first run: ansible-playbook builds and starts both guests" -- playbook run1.log guests.yml -e priv=$priv
diag "first run: $(($(date +%s) - t0)) s"
is "$(recap run1.log changed)" 2 "the recap counts both tasks changed"
is "$(recap run1.log failed)" 0 "and none failed"
like "$(grep ACTIONS run1.log)" 'built;limits: cpu.weight=300 rss=512M pids=400 memlock=1024K;started \| built;limits: cpu.weight=50 rss=64M;started' \
        "it built, limited and started each guest"
is "$(vs-status $d >/dev/null; echo $?)" 0 "$d runs"
is "$(vs-status $m >/dev/null; echo $?)" 0 "$m runs"
want_u=$([ $priv = true ] && echo false || echo true)
like "$(vs-status --json $d)" "\"unprivileged\":$want_u" "$d is in the mode asked (privileged: $priv)"
is "$(cat "$(ctl_path $d pids)/pids.max")" 400 "$d's pids.max holds its limit"
wfile=$(weight_file)
w0=$(cat "$(ctl_path $d cpu)/$wfile")
is "$w0" "$([ $backend = v2 ] && echo 300 || echo 3072)" "$d's $wfile holds its weight"
is "$(cat "$(ctl_path $m cpu)/$wfile")" "$([ $backend = v2 ] && echo 50 || echo 512)" "$m's $wfile holds its weight"

# rss written in other units is the same limit (vs-limit compares values).
check "second run (rss: 524288K for 512M)" -- playbook run2.log guests.yml -e priv=$priv -e rss=524288K
is "$(recap run2.log changed)" 0 "the second run reports changed=0"
is "$(recap run2.log ok)" 3 "with every task ok"

# A check-mode run of a new limit says what it would do and does nothing.
conf0=$(cat "$VS_CONFDIR/$d.conf")
check "a check-mode run with pids: 300" -- playbook check.log guests.yml -e priv=$priv -e pids=300 --check
is "$(recap check.log changed)" 1 "it reports the one task that would change"
like "$(grep ACTIONS check.log)" 'ACTIONS limits: pids=300 \| "' "only pids, nothing on $m"
is "$(cat "$(ctl_path $d pids)/pids.max")" 400 "pids.max is unchanged"
is "$(cat "$VS_CONFDIR/$d.conf")" "$conf0" "and so is the config"

check "a run with pids: 300" -- playbook run3.log guests.yml -e priv=$priv -e pids=300
is "$(recap run3.log changed)" 1 "one task changed"
like "$(grep ACTIONS run3.log)" 'ACTIONS limits: pids=300 \| "' "only the pids limit was set"
is "$(cat "$(ctl_path $d pids)/pids.max")" 300 "pids.max holds the new limit at once"
is "$(cat "$(ctl_path $d cpu)/$wfile")" "$w0" "the weight is untouched"
lim=$(vs-limit --json $d)
like "$lim" '"memory.pids":300,' "vs-limit --json shows pids 300"
like "$lim" '"cpu.weight":300,.*"memory.rss":536870912,.*"memory.memlock":1048576,' "and the other limits as they were"

# A bad value fails the task with vs-limit's own message, changing nothing.
cat >bad.yml <<'EOF'
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - vserver_guest: {name: ansible-d, limits: {rss: 1X}}
EOF
conf0=$(cat "$VS_CONFDIR/$d.conf")
playbook bad.log bad.yml >/dev/null 2>&1
is "$(recap bad.log failed)" 1 "a bad limit fails the task"
like "$(cat bad.log)" 'vs-limit failed: vs-limit: ansible-d: key .*memory.rss.*bad value .*1X' "with vs-limit's message"
is "$(cat "$VS_CONFDIR/$d.conf")" "$conf0" "and the config is unchanged"

# ---- the connection: tasks inside the Debian guest through vs-enter ----------
head -c 1500000 /dev/urandom >files/blob.bin
printf '\0\377\r\n\0' >>files/blob.bin
: >files/empty
echo 'served by {{ inventory_hostname }} for {{ who }}' >templates/index.html.j2
cat >templates/ansible-web.service.j2 <<'EOF'
[Unit]
Description=A page served for the Ansible test
[Service]
ExecStart=/usr/bin/python3 -m http.server {{ port }} --bind 0.0.0.0 --directory /srv/www
[Install]
WantedBy=multi-user.target
EOF
cat >inside.yml <<'EOF'
- hosts: ansible-d
  connection: vserver
  gather_facts: false
  vars: {port: 8080, who: the fleet}
  tasks:
    - command: cat /etc/hostname
      register: hn
    - copy: {src: files/blob.bin, dest: /root/blob.bin, mode: "0600"}
    - copy: {src: files/empty, dest: /root/empty}
    - file: {path: /srv/www, state: directory}
    - template: {src: templates/index.html.j2, dest: /srv/www/index.html}
    - template: {src: templates/ansible-web.service.j2, dest: /etc/systemd/system/ansible-web.service}
    - systemd: {name: ansible-web, state: started, daemon_reload: true}
    - command: sha256sum /root/blob.bin
      register: sum
    - fetch: {src: /srv/www/index.html, dest: out/}
    - fetch: {src: /root/blob.bin, dest: out/blob.bin, flat: true}
    - shell: echo written by a task >/root/by-task
    - debug: {msg: "HOSTNAME {{ hn.stdout }} SUM {{ sum.stdout.split()[0] }}"}
EOF
check "a play through the vserver connection" -- playbook inside.log -i "$d," inside.yml
like "$(sed -n "s/^$d *: //p" inside.log)" 'failed=0' "no task failed inside $d"
is "$(sed -n 's/.*HOSTNAME \([^ ]*\) SUM.*/\1/p' inside.log | tail -1)" "$d" "command ran inside the guest"
hsum=$(sha256sum files/blob.bin | cut -d' ' -f1)
is "$(sed -n 's/.*SUM \([0-9a-f]*\).*/\1/p' inside.log | tail -1)" "$hsum" "the copied binary file has the host's checksum inside"
pid=$(init_pid $d)
is "$(sha256sum "/proc/$pid/root/root/blob.bin" | cut -d' ' -f1)" "$hsum" "and seen from the host"
is "$(stat -c %s "/proc/$pid/root/root/empty")" 0 "an empty file arrives empty"
is "$(sha256sum out/blob.bin 2>/dev/null | cut -d' ' -f1)" "$hsum" "fetch brings the binary file back unchanged"
is "$(cat "out/$d/srv/www/index.html" 2>/dev/null)" "served by $d for the fleet" "template rendered inside, fetched out"
hid=0
[ $priv = false ] && hid=$(host_id $d)
is "$(vs-enter $d -- stat -c %u:%g /root/by-task)" "0:0" "a file a task wrote is root's inside the guest"
is "$(stat -c %u:%g "/proc/$pid/root/root/by-task")" "$hid:$hid" "and the host sees the guest's root id ($hid)"
is "$(stat -c %u:%g "/proc/$pid/root/root/blob.bin")" "$hid:$hid" "so does a copied file"
is "$(stat -c %a "/proc/$pid/root/root/blob.bin")" 600 "with the mode the task gave"
addr=$(sed -n 's|^address = \(.*\)/.*|\1|p' "$VS_CONFDIR/$d.conf")
page() { python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode().strip())' "$1"; }
got=""
# Only through our bridge, to a guest that runs: no address of ours is
# routed anywhere else.
if vs-status -q $d && ip -4 route get "$addr" 2>/dev/null | grep -qw "dev $br"; then
        end=$((SECONDS + $(slow 30)))
        until got=$(page "http://$addr:8080/" 2>&1) || [ $SECONDS -ge $end ]; do sleep 0.5; done
fi
is "$got" "served by $d for the fleet" "the service the play set up answers over the bridge ($addr)"

# ---- stopped, then absent -----------------------------------------------------
check "state: stopped" -- playbook stop.log guests.yml -e priv=$priv -e pids=300 -e dstate=stopped -e mstate=stopped
like "$(grep ACTIONS stop.log)" 'ACTIONS stopped \| stopped' "both were stopped, nothing else"
is "$(vs-status $d >/dev/null; echo $?)" 3 "$d is stopped"
check_no_leftovers $d
check_no_leftovers $m
check "state: absent" -- playbook gone.log guests.yml -e priv=$priv -e pids=300 -e dstate=absent -e mstate=absent
is "$(recap gone.log changed)" 2 "both destroyed"
left=$(ls -A "$VS_CONFDIR" "$VS_GUESTDIR" "$VS_LOGDIR" 2>/dev/null | grep -E "^$d|^$m")
is "${left:-none}" none "no config, tree or log of either is left"
check "state: absent again" -- playbook gone2.log guests.yml -e priv=$priv -e pids=300 -e dstate=absent -e mstate=absent
is "$(recap gone2.log changed)" 0 "changes nothing"

# ---- make install puts the plugins where ansible looks --------------------------
adir=$(sed -n 's/^ansibledir = //p' "$VS_TOP_BUILDDIR/Makefile")
dest=$VST_ROOT/dest
check "make install DESTDIR=..." -- env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$VS_TOP_BUILDDIR" install DESTDIR="$dest"
defaults=$(env -u ANSIBLE_LIBRARY -u ANSIBLE_CONNECTION_PLUGINS ansible-config list 2>/dev/null | tr -d "'\"")
like "$defaults" "$adir/modules" "ansible's default module path holds $adir/modules"
like "$defaults" "$adir/connection" "and its default connection path $adir/connection"
check "ansible-doc -t module finds vserver_guest in DESTDIR$adir/modules" -- \
        env ANSIBLE_LIBRARY="$dest$adir/modules" ansible-doc -t module vserver_guest
check "ansible-doc -t connection finds vserver in DESTDIR$adir/connection" -- \
        env ANSIBLE_CONNECTION_PLUGINS="$dest$adir/connection" ansible-doc -t connection vserver
like "$(env ANSIBLE_CONNECTION_PLUGINS="$dest$adir/connection" ansible-doc -t connection vserver 2>&1)" 'vs-enter' "its documentation shows"
cmp -s "$dest$adir/modules/vserver_guest.py" "$VS_TOP_SRCDIR/contrib/ansible/plugins/modules/vserver_guest.py"
ok $? "the installed module is the tree's"

diag "whole test: $(($(date +%s) - t0)) s"
done_testing
