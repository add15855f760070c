#!/bin/bash
# Debian trixie (systemd 257, which degrades or refuses to boot under a
# cgroup v1 layout) reaches "running" in an unprivileged guest, and in a
# privileged one: on a hybrid host it sees only its own group of the
# host's cgroup2 tree at /sys/fs/cgroup ([guest] cgroup = auto, unified for
# systemd), while its limits stay on the v1 controllers above it, out of
# its reach. On a v2 host the same test runs on the one unified tree.
# VS_TRIXIE_RELEASE picks the release (default trixie; its template is
# debootstrapped once per machine).
. "${VS_TOP_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

release=${VS_TRIXIE_RELEASE:-trixie}
test_subids
backend=$(cgroup_backend)
diag "cgroup backend: $backend, release $release"

unified_path() { # unified_path GUEST: the guest's group in the cgroup2 tree
        local p
        for p in $(cgroup_paths "$1"); do
                [ "$(stat -f -c %T "$p" 2>/dev/null)" = cgroup2fs ] && { echo "$p"; return; }
        done
}
boot_checks() { # boot_checks GUEST MODE: it runs systemd to "running" under this view
        local g=$1 mode=$2 state
        like "$(vs-start --dry-run "$g")" "^cgroupfs +unified$" "$mode: --dry-run says the guest gets the unified cgroup view"
        check "$mode: vs-start --wait" -- vs-start --wait=$(slow 120) "$g"
        state=$(wait_systemd "$g")
        is "$state" running "$mode: systemd reaches running"
        [ "$state" = running ] || vs-enter "$g" -- systemctl --failed --no-pager --no-legend | sed 's/^/#   /;$a\'
        like "$(vs-enter "$g" -- systemctl --version | head -1)" "^systemd [0-9]+" "$mode: $(vs-enter "$g" -- systemctl --version | head -1 | cut -d' ' -f1-2)"
        is "$(vs-enter "$g" -- stat -f -c %T /sys/fs/cgroup)" cgroup2fs "$mode: the guest sees cgroup2 at /sys/fs/cgroup"
        is "$(vs-enter "$g" -- sh -c 'grep -c " cgroup " /proc/self/mountinfo')" 0 "$mode: and no v1 hierarchy"
        like "$(vs-enter "$g" -- cat /proc/1/cgroup)" "^0::/init.scope$" "$mode: its systemd is in init.scope of its own root"
        is "$(vs-enter "$g" -- cat /proc/self/cgroup | grep -c vservers)" 0 "$mode: no host cgroup path shows inside"
        local u
        u=$(unified_path "$g")
        [ -n "$u" ] && [ -d "$u/guest/system.slice" ]
        ok $? "$mode: its units run in system.slice of its group in the host's cgroup2 tree"
}
stop_checks() { # stop_checks GUEST MODE
        local g=$1 mode=$2 pid start took
        pid=$(init_pid "$g")
        start=$(date +%s)
        check "$mode: vs-stop halts it" -- vs-stop --timeout "$(slow 60)" "$g"
        took=$(($(date +%s) - start))
        [ $took -lt "$(slow 60)" ]
        ok $? "$mode: halted before the timeout ($took s)"
        like "$(tail -5 "$VS_LOGDIR/$g.console" | tr -d '\r')" "Halting system|Powering off|Reached target.*(Halt|Power)" \
                "$mode: systemd halted by itself (no SIGKILL)"
        wait_for 5 gone "$pid"
        ok $? "$mode: init is gone"
        check_no_leftovers "$g"
}

# ---- unprivileged ------------------------------------------------------------
g=$(guest txu)
if ! build_debian "$g" --release "$release" --unprivileged --rss 256M --pids 400; then
        ok 1 "unprivileged $release guest built"
        done_testing
fi
ok 0 "unprivileged $release guest built"
boot_checks "$g" unprivileged
hid=$(host_id "$g")
pid=$(init_pid "$g")
is "$(ps -o uid= -p "$pid" | tr -d ' ')" "$hid" "on the host, its systemd runs under the guest's host uid $hid"
like "$(vs-enter "$g" -- cat /proc/self/uid_map)" "^ +0 +$hid +65536$" "vs-enter is in the guest's user namespace"
u=$(unified_path "$g")
is "$(stat -c %u "$u/guest")/$(stat -c %u "$u")" "$hid/0" "its cgroup2 group is delegated to guest root, the one above it is the host's"
is "$(stat -c %u "$u/guest/cgroup.subtree_control")" "$hid" "and so is cgroup.subtree_control"
is "$(stat -c %u "$u/guest/init.scope")" "$hid" "systemd made its own groups there"

# The limits: on the controllers' groups above the guest (v1 here), which
# it does not see, and enforced.
mem=$(ctl_path "$g" memory)
pids=$(ctl_path "$g" pids)
if [ $backend = v2 ]; then
        is "$(cat "$mem/memory.max")" $((256 << 20)) "memory.max holds the RSS limit, on the host"
else
        is "$(cat "$mem/memory.limit_in_bytes")" $((256 << 20)) "memory.limit_in_bytes holds the RSS limit, on the host's v1 group"
        is "$(vs-enter "$g" -- sh -c 'cat /sys/fs/cgroup/cgroup.controllers && echo end')" end \
                "the guest's cgroup2 view has no controller to set a limit with"
        out=$(vs-enter "$g" -- sh -c 'echo +memory >/sys/fs/cgroup/cgroup.subtree_control' 2>&1)
        ok $([ $? != 0 ]; echo $?) "enabling the memory controller inside fails"
fi
is "$(cat "$pids/pids.max")" 400 "pids.max holds the process limit"
# dd fills (and so touches) a buffer of its block size: 400 MiB is past the
# limit, killed inside the guest by its own OOM, the guest lives on.
out=$(vs-enter "$g" -- dd if=/dev/zero of=/dev/null bs=400M count=1 2>&1)
is $? 137 "a process of 400 MiB under the 256M RSS limit is OOM-killed"
state=$(vs-enter "$g" -- systemctl is-system-running)
if [ $backend = v2 ]; then
        # On v2 the memory controller is in the guest's view: the kill is
        # seen in init.scope, where vs-enter's command runs, which systemd
        # then marks failed ("oom-kill"); the guest lives on.
        like "$state" "^(running|degraded)$" "the guest runs on"
        [ "$state" = running ] ||
                like "$(vs-enter "$g" -- systemctl --failed --no-legend --plain | awk '{print $1}' | tr '\n' ' ')" \
                        "^init.scope $" "only init.scope failed, by the OOM kill of the entered command"
else
        is "$state" running "the guest runs on"
fi
stop_checks "$g" unprivileged

# The opt-out on a hybrid host, [guest] cgroup = hybrid: the v1 layout, in
# which systemd 257 still runs, with errors on the console for the
# read-only tmpfs (a v2 host ignores the key).
if [ $backend = v1 ]; then
        sed -i 's/^\[guest\]$/[guest]\ncgroup = hybrid/' "$VS_CONFDIR/$g.conf"
        like "$(vs-start --dry-run "$g")" "^cgroupfs +hybrid$" "cgroup = hybrid: --dry-run says so"
        check "cgroup = hybrid: vs-start --wait" -- vs-start --wait=$(slow 120) "$g"
        is "$(vs-enter "$g" -- stat -f -c %T /sys/fs/cgroup)" tmpfs "cgroup = hybrid: a tmpfs at /sys/fs/cgroup"
        state=$(wait_systemd "$g")
        diag "with cgroup = hybrid, $release's systemd reaches \"$state\""
        check "cgroup = hybrid: vs-stop" -- vs-stop --timeout "$(slow 60)" "$g"
fi

# ---- privileged: the same view (a copy of the template, quickly built) -------
p=$(guest txp)
if build_debian "$p" --release "$release" --privileged; then
        ok 0 "privileged $release guest built"
        boot_checks "$p" privileged
        is "$(ps -o uid= -p "$(init_pid "$p")" | tr -d ' ')" 0 "privileged: its systemd is host root"
        stop_checks "$p" privileged
else
        ok 1 "privileged $release guest built"
fi
done_testing
