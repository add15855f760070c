# Shared helpers for the integration tests: TAP output, an isolated set of
# vserver directories per test, and a cleanup trap that stops and destroys
# every guest the test made and checks nothing is left on the host.
# shellcheck shell=bash

set -u

VS_TOP_SRCDIR=${VS_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
VS_TOP_BUILDDIR=${VS_TOP_BUILDDIR:-$VS_TOP_SRCDIR}
export VS_TOP_SRCDIR VS_TOP_BUILDDIR

tap_n=0
tap_failed=0

if [ "$(id -u)" != 0 ]; then
        echo "1..0 # SKIP the integration tests run real guests and need root"
        exit 77
fi

ok() { # ok COND-STATUS DESCRIPTION
        tap_n=$((tap_n + 1))
        if [ "$1" = 0 ]; then
                echo "ok $tap_n - $2"
        else
                echo "not ok $tap_n - $2"
                tap_failed=$((tap_failed + 1))
        fi
}
check() { # check DESCRIPTION -- COMMAND...
        local d=$1
        shift
        [ "${1:-}" = -- ] && shift
        "$@" >"$VST_ROOT/last.out" 2>&1
        local rc=$?
        ok $rc "$d"
        [ $rc = 0 ] || { sed 's/^/#   /;$a\' "$VST_ROOT/last.out" | head -20; }
        return $rc
}
is() { # is GOT WANT DESCRIPTION
        if [ "$1" = "$2" ]; then
                ok 0 "$3"
        else
                ok 1 "$3"
                printf '#   got: %s\n#   expected: %s\n' "$1" "$2"
        fi
}
like() { # like TEXT PATTERN(grep -E) DESCRIPTION
        if printf '%s\n' "$1" | grep -Eq -- "$2"; then
                ok 0 "$3"
        else
                ok 1 "$3"
                printf '%s\n' "$1" | head -15 | sed 's/^/#   got: /;$a\'
                printf '#   expected to match: %s\n' "$2"
        fi
}
unlike() {
        if printf '%s\n' "$1" | grep -Eq -- "$2"; then
                ok 1 "$3"
                printf '%s\n' "$1" | grep -E -- "$2" | head -5 | sed 's/^/#   matched: /;$a\'
        else
                ok 0 "$3"
        fi
}
diag() { echo "# $*"; }
skip() { # skip DESCRIPTION REASON: a check that cannot run here, and why
        tap_n=$((tap_n + 1))
        echo "ok $tap_n - $1 # SKIP $2"
}

# Each test gets its own config, guest, run and log directories; the template
# cache is shared with the host so one debootstrap serves every test and run.
VST_ROOT=$(mktemp -d /var/tmp/vst.XXXXXX)
export VS_CONFDIR=$VST_ROOT/etc VS_GUESTDIR=$VST_ROOT/lib VS_LOGDIR=$VST_ROOT/log
export VS_RUNDIR=/run/vservers
export VS_CACHEDIR=${VS_CACHEDIR:-/var/cache/vservers}
export VS_TEMPLATE_PATH=$VS_TOP_SRCDIR/guests/templates:$VS_TOP_SRCDIR/tests/helpers/templates
export VS_TEST_INIT=$VS_TOP_BUILDDIR/tests/helpers/vs-test-init
export PATH=$VS_TOP_BUILDDIR/sbin:$PATH
mkdir -p "$VS_CONFDIR" "$VS_GUESTDIR"

VST_GUESTS=()
VST_CLEANUPS=()

guest() { # guest NAME: remember NAME for cleanup, print it
        VST_GUESTS+=("$1")
        # g=$(guest NAME) runs in a subshell: the file is what reaches the trap.
        echo "$1" >>"$VST_ROOT/guests"
        echo "$1"
}
on_exit() { VST_CLEANUPS+=("$*"); }

# An sshd of the test's own on 127.0.0.1, with fresh keys in DIR: root logs
# in with the key DIR/id. Sets test_sshd_port and test_sshd_pid; at exit
# the sshd ends and /run/sshd (its privilege separation directory) goes
# again when this made it.
test_sshd() { # test_sshd DIR
        local k=$1 made=""
        [ -d /run/sshd ] || made=1
        mkdir -p "$k" /run/sshd || return 1
        ssh-keygen -q -t ed25519 -N '' -f "$k/host" && ssh-keygen -q -t ed25519 -N '' -f "$k/id" &&
                cp "$k/id.pub" "$k/authorized_keys" || return 1
        test_sshd_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        cat >"$k/sshd_config" <<EOC
ListenAddress 127.0.0.1
Port $test_sshd_port
HostKey $k/host
PidFile $k/sshd.pid
AuthorizedKeysFile $k/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
EOC
        /usr/sbin/sshd -D -e -f "$k/sshd_config" 2>"$k/sshd.log" &
        test_sshd_pid=$!
        on_exit "kill $test_sshd_pid; wait $test_sshd_pid"
        [ -z "$made" ] || on_exit "rmdir /run/sshd"
}

# The pid of a running guest's init, from its run state.
init_pid() { sed -n 's/^init_pid=//p' "$VS_RUNDIR/$1/state"; }

# Unprivileged guests take ids from root's subordinate ranges: this test's
# own files, never the host's /etc/subuid and /etc/subgid. LINE (such as
# "root:BASE:COUNT") goes in both; without it they start empty.
test_subids() { # test_subids [LINE]
        export VS_SUBUID=$VST_ROOT/subuid VS_SUBGID=$VST_ROOT/subgid
        if [ -n "${1:-}" ]; then
                echo "$1" >"$VS_SUBUID"
                echo "$1" >"$VS_SUBGID"
        else
                : >"$VS_SUBUID"
                : >"$VS_SUBGID"
        fi
}

# New guests are unprivileged by default: every test gets its own files.
test_subids "root:1000000:1000000000"

# The first host id of an unprivileged guest, from its config.
host_id() { sed -n 's/^idmap = \([0-9]*\):.*/\1/p' "$VS_CONFDIR/$1.conf"; }

# A scratch ext4 of SIZE on a loop device that holds this test's guests
# (VS_GUESTDIR below it), so an attack on "the filesystem under a guest"
# reaches only it. Sets $scratch and $loop. At exit, COMMAND (if any) runs
# first, then the guests go, then the filesystem.
scratch_guestdir() { # scratch_guestdir SIZE [COMMAND]
        truncate -s "$1" "$VST_ROOT/scratch.img"
        mkfs.ext4 -q -F -m 0 "$VST_ROOT/scratch.img"
        loop=$(losetup --find --show "$VST_ROOT/scratch.img")
        scratch=$VST_ROOT/scratch
        mkdir -p "$scratch"
        mount "$loop" "$scratch"
        on_exit "${2:+$2; }for g in \$(cat '$VST_ROOT/guests'); do vs-stop --timeout 5 \$g; vs-destroy --force \$g; done; umount -l '$scratch'; losetup -d '$loop'"
        export VS_GUESTDIR=$scratch/lib
        mkdir -p "$VS_GUESTDIR"
}

# The host cgroup paths a guest would get, from vs-start --dry-run.
# Bounded: a regression that hangs the plan must fail a test, not hang it.
cgroup_paths() { timeout $(slow 60) vs-start --dry-run "$1" 2>/dev/null | awk '$1 == "cgroup" && $2 ~ /^\// {print $2}'; }

# cgroup_backend: v2 where /sys/fs/cgroup is the unified tree, v1 on a v1 or
# hybrid host (whose limits are on the v1 controllers).
cgroup_backend() { stat -f -c %T /sys/fs/cgroup | grep -q cgroup2 && echo v2 || echo v1; }

# ctl_path GUEST CONTROLLER: the guest's group holding that controller's
# files: its one group on v2; on v1 its group in the hierarchy that
# controller is mounted in (alone or co-mounted), never the hybrid's
# controller-less unified tree.
ctl_path() {
        local p backend
        backend=$(cgroup_backend)
        for p in $(cgroup_paths "$1"); do
                case "$p" in */unified/*) continue ;; esac
                case "$backend:$p" in
                v2:*) echo "$p"; return ;;
                v1:/sys/fs/cgroup/$2/* | v1:/sys/fs/cgroup/*,$2/* | v1:/sys/fs/cgroup/$2,*/*) echo "$p"; return ;;
                esac
        done
}

# Asserts that nothing of guest NAME is left on the host.
check_no_leftovers() {
        local g=$1 left=""
        [ -e "$VS_RUNDIR/$g" ] && left+=" run:$VS_RUNDIR/$g"
        for p in $(cgroup_paths "$g"); do
                [ -e "$p" ] && left+=" cgroup:$p"
        done
        grep -q " $VS_GUESTDIR/$g/rootfs" /proc/self/mountinfo && left+=" mount"
        is "${left:-none}" none "nothing of $g is left on the host"
}

# How many loop devices are backed by a file of this test run.
our_loops() {
        local f n=0
        for f in /sys/block/loop*/loop/backing_file; do
                [ -r "$f" ] && grep -q "^$VST_ROOT/" "$f" && n=$((n + 1))
        done
        echo $n
}

# True when PID has exited (gone, or a zombie its parent has yet to reap).
gone() { [ ! -e "/proc/$1" ] || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ] || [ ! -e "/proc/$1/stat" ]; }

# Emulated hosts (the cgroup v2 lane's VM) run code 20-30 times slower:
# VS_TEST_SLOW=N stretches every wait N times. Waits only; tests that compare
# speeds compare guests with each other, never with the clock.
VS_TEST_SLOW=${VS_TEST_SLOW:-1}
slow() { echo $(($1 * VS_TEST_SLOW)); } # slow SECONDS: the wait to use here

wait_for() { # wait_for SECONDS COMMAND...: poll until COMMAND succeeds
        local t=$(($1 * 10 * VS_TEST_SLOW))
        shift
        while [ $t -gt 0 ]; do
                "$@" >/dev/null 2>&1 && return 0
                sleep 0.1
                t=$((t - 1))
        done
        return 1
}

cleanup() {
        local rc=$?
        set +e
        # On failure, what the guests' consoles said is the first clue.
        if [ "$tap_failed" != 0 ] || [ $rc != 0 ]; then
                for f in "$VS_LOGDIR"/*.console; do
                        [ -f "$f" ] || continue
                        echo "# --- last lines of $(basename "$f")"
                        # awk ends every line, the last one too: the TAP
                        # driver reads the exit status from a line of its own.
                        tail -n 25 "$f" | tr -d '\r' | awk '{print "#   " $0}'
                done
        fi
        for c in "${VST_CLEANUPS[@]}"; do eval "$c" >/dev/null 2>&1; done
        for g in $({ printf '%s\n' "${VST_GUESTS[@]}"; cat "$VST_ROOT/guests" 2>/dev/null; } | sort -u); do
                vs-stop --timeout 5 "$g" >/dev/null 2>&1
                vs-destroy --force "$g" >/dev/null 2>&1
        done
        rm -rf "$VST_ROOT"
        holders_of_output
        exit $rc
}
# A process the test leaves holding its standard output could still write
# after the test's exit status, which the TAP driver reads from the last
# line: this names each one on stderr (which goes to the test's log).
holders_of_output() {
        local out fd pid flags
        out=$(readlink /proc/$$/fd/1) || return 0
        case $out in pipe:*) ;; *) return 0 ;; esac
        # pipe:[N] as a find pattern: the brackets taken literally.
        find /proc/[0-9]*/fd -maxdepth 1 -lname "pipe:\\[${out//[^0-9]/}\\]" 2>/dev/null |
                while read -r fd; do
                        pid=${fd#/proc/}
                        pid=${pid%%/*}
                        [ "$pid" = $$ ] || [ "$pid" = $PPID ] && continue
                        # The write end only (the driver holds the read end).
                        flags=$(sed -n 's/^flags:[[:space:]]*//p' "${fd%/fd/*}/fdinfo/${fd##*/}" 2>/dev/null)
                        [ $((0${flags:-0} & 3)) = 1 ] || continue
                        echo "# left holding the test's output: pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null))"
                done | sort -u >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

done_testing() {
        echo "1..$tap_n"
        [ $tap_failed = 0 ]
        exit $?
}

# New guests are unprivileged; the tests under privileged/ run a test again
# with VS_TEST_PRIVILEGED=1, which makes the guests it builds without a mode
# of its own privileged (the same attacks, the other mode).
mode_args() { # mode_args [vs-build options]: prints --privileged or nothing
        case " $* " in
        *" --privileged "* | *" --unprivileged "* | *" --clone "* | *guest.userns=*) ;;
        *) [ -z "${VS_TEST_PRIVILEGED:-}" ] || echo --privileged ;;
        esac
}

# A guest of the tiny test init (no distribution), built in a second.
build_minimal() { # build_minimal NAME [vs-build options]
        local g=$1
        shift
        # shellcheck disable=SC2046
        vs-build "$g" --template minimal $(mode_args "$@") "$@" >"$VST_ROOT/build-$g.log" 2>&1
}

# A Debian guest from the shared template cache; the first build in a run
# fills the cache with debootstrap.
build_debian() { # build_debian NAME [vs-build options]
        local g=$1
        shift
        # shellcheck disable=SC2046
        vs-build "$g" --template debian $(mode_args "$@") "$@" >"$VST_ROOT/build-$g.log" 2>&1
        local rc=$?
        [ $rc = 0 ] || tail -20 "$VST_ROOT/build-$g.log" | sed 's/^/#   build: /;$a\'
        return $rc
}

# systemctl answers once systemd's private socket exists.
wait_systemd() { # wait_systemd NAME: prints the final system state
        local g=$1 state="" i
        for i in $(seq 1 $((120 * VS_TEST_SLOW))); do
                state=$(vs-enter "$g" -- systemctl is-system-running --wait 2>/dev/null)
                case "$state" in running | degraded | maintenance | stopping) break ;; esac
                sleep 0.5
        done
        echo "$state"
}

# Networking: what a running guest's net file names, to check after stop
# that each of them is gone (links, the nftables tables).
net_names() { # net_names NAME: prints "veth ifb_up ifb_down table" ("-" for none)
        local f=$VS_RUNDIR/$1/net k v out=""
        [ -r "$f" ] || return 1
        for k in veth ifb_up ifb_down table; do
                v=$(sed -n "s/^$k=//p" "$f")
                out+="${v:--} "
        done
        echo "$out"
}
check_net_gone() { # check_net_gone DESCRIPTION NAMES...: links and nft tables
        local d=$1 left="" x
        shift
        for x in "$@"; do
                [ -n "$x" ] && [ "$x" != - ] || continue
                ip link show "$x" >/dev/null 2>&1 && left+=" link:$x"
                nft list tables 2>/dev/null | grep -qw -- "$x" && left+=" nft:$x"
        done
        is "${left:-none}" none "$d"
}
