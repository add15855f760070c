# Shared helpers of tests/bench/run and tests/bench/startup-profile: an
# isolated set of vserver directories, guest and peer bookkeeping, a cleanup
# trap that removes everything the bench made (guests, lxc containers,
# nspawn leftovers, cgroups, temp dirs) also on failure or Ctrl-C, timing
# and statistics. Never asserts on time: it measures.
# shellcheck shell=bash

set -u -o pipefail
export LC_ALL=C # EPOCHREALTIME and printf %f need a "." decimal point

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VS_TOP_SRCDIR=${VS_TOP_SRCDIR:-$(cd "$BENCH_DIR/../.." && pwd)}
VS_TOP_BUILDDIR=${VS_TOP_BUILDDIR:-$VS_TOP_SRCDIR}
export VS_TOP_SRCDIR VS_TOP_BUILDDIR

say() { printf '%s\n' "$*" >&2; }
die() {
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

bench_need_root() {
	[ "$(id -u)" = 0 ] || die "the benchmarks start real guests and containers: run as root"
	local c
	for c in vs-build vs-start vs-enter vs-stop vs-destroy; do
		[ -x "$VS_TOP_BUILDDIR/sbin/$c" ] || die "$VS_TOP_BUILDDIR/sbin/$c is missing: run make first"
	done
	# the minimal test template (setup row, startup-profile) installs it
	[ -x "$VS_TOP_BUILDDIR/tests/helpers/vs-test-init" ] ||
		die "$VS_TOP_BUILDDIR/tests/helpers/vs-test-init is missing: run make tests/helpers/vs-test-init (or make check) first"
}

# File descriptors the caller leaked to us would leak into every guest and
# container (lxc warns about each); keep only stdio and bash's own.
bench_close_fds() {
	local f n
	for f in /proc/$$/fd/*; do
		n=${f##*/}
		[ "$n" -gt 2 ] && [ "$n" -lt 200 ] && eval "exec $n>&-" 2>/dev/null
	done
	return 0
}

# --- isolated directories, like tests/integration/lib.sh ---------------------

BENCH_WORK=""
BENCH_VS_IDS=2000000000 BENCH_VS_RANGES=128 BENCH_LXC_IDS=2010000000
bench_setup_env() {
	BENCH_WORK=$(mktemp -d /var/tmp/vsbench.XXXXXX) || die "cannot create a temp dir"
	chmod 0755 "$BENCH_WORK"
	export VS_CONFDIR=$BENCH_WORK/etc VS_GUESTDIR=$BENCH_WORK/lib VS_LOGDIR=$BENCH_WORK/log
	export VS_RUNDIR=${VS_RUNDIR:-/run/vservers}
	export VS_CACHEDIR=${VS_CACHEDIR:-/var/cache/vservers}
	export VS_TEMPLATE_PATH=$VS_TOP_SRCDIR/guests/templates:$VS_TOP_SRCDIR/tests/helpers/templates
	export VS_TEST_INIT=$VS_TOP_BUILDDIR/tests/helpers/vs-test-init
	export PATH=$VS_TOP_BUILDDIR/sbin:$PATH
	mkdir -p "$VS_CONFDIR" "$VS_GUESTDIR" "$VS_LOGDIR" "$BENCH_WORK/samples" "$BENCH_WORK/logs"
	# Every name the bench gives a guest or container starts with this tag:
	# unique per run, so nothing collides with other users of /run/vservers
	# or the host's cgroup trees.
	BENCH_TAG=vsbn-$$
	LXC_PATH=$BENCH_WORK/lxc
	# Unprivileged guests take their host ids (idmap = auto) from root's
	# subordinate ranges: the bench's own files, never the host's
	# /etc/subuid and /etc/subgid. Room for BENCH_VS_RANGES guests of 65536
	# ids at once, above systemd-nspawn -U's pool (0x80000-0x6fff0000);
	# the unprivileged lxc containers get the ranges after these, one each
	# (lxc_make). Below 2^31: some tools still read ids as signed.
	export VS_SUBUID=$BENCH_WORK/subuid VS_SUBGID=$BENCH_WORK/subgid
	echo "root:$BENCH_VS_IDS:$((BENCH_VS_RANGES * 65536))" >"$VS_SUBUID"
	cp "$VS_SUBUID" "$VS_SUBGID"
	mkdir -p "$LXC_PATH"
	# Remember what existed before, to remove only what we made.
	BENCH_HAD_RUN_LXC=0
	[ -e /run/lxc ] && BENCH_HAD_RUN_LXC=1
	BENCH_HAD_NSPAWN_RUN=0
	[ -e /run/systemd/nspawn ] && BENCH_HAD_NSPAWN_RUN=1
	BENCH_HAD_RUN_SYSTEMD=0
	[ -e /run/systemd ] && BENCH_HAD_RUN_SYSTEMD=1
	# systemd-nspawn -U locks the range it picks in here (a file per range,
	# gone when it exits) and leaves the directory
	BENCH_HAD_NSPAWN_UID=0
	[ -e /run/systemd/nspawn-uid ] && BENCH_HAD_NSPAWN_UID=1
	BENCH_LXC_PIVOT_HAD=()
	local m
	for m in $(cgroup_mounts); do
		[ -e "$m/lxc.pivot" ] && BENCH_LXC_PIVOT_HAD+=("$m")
	done
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
}

# Mount points of every cgroup hierarchy (v1 and v2).
cgroup_mounts() { awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts; }

# --- bookkeeping and cleanup ------------------------------------------------

BENCH_VS_GUESTS=()
BENCH_LXC=()
BENCH_PIDS=()
BENCH_CGROUPS=() # groups the bench made itself (nspawn's parent group)

BENCH_ON_EXIT=() # commands run last by the cleanup (restoring host settings)
on_exit() { BENCH_ON_EXIT+=("$*"); }
BENCH_ON_STOP=() # commands run first by the cleanup (guests the lists below do not know)
on_stop() { BENCH_ON_STOP+=("$*"); }
track_guest() { BENCH_VS_GUESTS+=("$1"); }
track_lxc() { BENCH_LXC+=("$1"); }
track_pid() { BENCH_PIDS+=("$1"); }
untrack_pid() {
	local p keep=()
	for p in "${BENCH_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	BENCH_PIDS=("${keep[@]}")
}

# Removes a cgroup directory and everything below it, deepest first, after
# killing what is left in it (only groups the bench or its peers made for
# the bench's own guests).
cg_rmtree() {
	local d=$1 p i
	[ -d "$d" ] || return 0
	for i in 1 2 3 4 5 6 7 8 9 10; do
		local any=0
		while read -r p; do
			[ -n "$p" ] || continue
			any=1
			kill -KILL "$p" 2>/dev/null
		done < <(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null)
		[ $any = 0 ] && break
		sleep 0.1
	done
	find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	[ ! -d "$d" ]
}

lxc_stop_quiet() { # lxc_stop_quiet NAME: kill a container of ours if it runs
	if lxc-info -P "$LXC_PATH" -n "$1" -s 2>/dev/null | grep -q RUNNING; then
		lxc-stop -P "$LXC_PATH" -n "$1" -k >/dev/null 2>&1
	fi
}

# lxc leaves per-container groups behind when killed; these are named after
# our containers only.
lxc_cg_leftovers() { # lxc_cg_leftovers NAME...
	local m n
	for m in $(cgroup_mounts); do
		for n in "$@"; do
			cg_rmtree "$m/lxc.payload.$n"
			cg_rmtree "$m/lxc.monitor.$n"
			cg_rmtree "$m/$BENCH_TAG-lxc/$n"
			cg_rmtree "$m/$BENCH_TAG-lxcmon/$n"
		done
	done
}

# What nspawn --keep-unit leaves in the group it ran in, and its
# /run/systemd/nspawn/propagate/NAME (it refuses to remove it when /run is not
# a tmpfs).
nspawn_leftovers() { # nspawn_leftovers MACHINE
	local d
	for d in "${NSPAWN_CGROUPS[@]}"; do
		[ -d "$d" ] || continue
		find "$d" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
	done
	[ -n "${1:-}" ] && rm -rf "/run/systemd/nspawn/propagate/$1" 2>/dev/null
	return 0
}

bench_cleanup() {
	local rc=$? g p m
	set +e
	trap - INT TERM HUP
	for p in "${BENCH_ON_STOP[@]}"; do
		eval "$p"
	done
	for p in "${BENCH_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${BENCH_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	for g in "${BENCH_VS_GUESTS[@]}"; do
		vs-stop --timeout 5 "$g" >/dev/null 2>&1
	done
	for g in "${BENCH_LXC[@]}"; do
		lxc_stop_quiet "$g"
	done
	# Nothing may keep a mount under our tree (overlays of the density row,
	# a killed debootstrap) when guests are destroyed and the tree removed.
	if [ -n "${BENCH_WORK:-}" ]; then
		while read -r m; do
			umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		done < <(awk -v w="$BENCH_WORK/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
	fi
	for g in "${BENCH_VS_GUESTS[@]}"; do
		vs-destroy --force "$g" >/dev/null 2>&1
	done
	[ ${#BENCH_LXC[@]} -gt 0 ] && lxc_cg_leftovers "${BENCH_LXC[@]}"
	for p in "${BENCH_CGROUPS[@]}"; do
		cg_rmtree "$p"
	done
	# lxc moves its monitor to <hierarchy>/lxc.pivot before removing the
	# container's groups and never removes lxc.pivot itself.
	for m in $(cgroup_mounts); do
		local had=0 h
		for h in "${BENCH_LXC_PIVOT_HAD[@]}"; do [ "$h" = "$m" ] && had=1; done
		[ $had = 0 ] && [ -d "$m/lxc.pivot" ] && rmdir "$m/lxc.pivot" 2>/dev/null
	done
	# lxc's lock directory for our lxcpath; all of /run/lxc if we made it.
	if [ -n "${BENCH_WORK:-}" ]; then
		rm -rf "/run/lxc/lock$LXC_PATH" 2>/dev/null
		if [ "${BENCH_HAD_RUN_LXC:-1}" = 0 ]; then
			rm -rf /run/lxc
		else
			rmdir -p "$(dirname "/run/lxc/lock$LXC_PATH")" 2>/dev/null
		fi
		[ "${BENCH_HAD_NSPAWN_UID:-1}" = 0 ] && rmdir /run/systemd/nspawn-uid 2>/dev/null
		if [ "${BENCH_HAD_NSPAWN_RUN:-1}" = 0 ]; then
			rm -rf /run/systemd/nspawn
			[ "${BENCH_HAD_RUN_SYSTEMD:-1}" = 0 ] && rmdir /run/systemd 2>/dev/null
		fi
		rm -rf --one-file-system "$BENCH_WORK"
	fi
	for p in "${BENCH_ON_EXIT[@]}"; do
		eval "$p"
	done
	bench_check_leftovers
	exit $rc
}

# Prints (on stderr) anything of this run still on the host.
bench_check_leftovers() {
	local left="" m g
	for g in "${BENCH_VS_GUESTS[@]}"; do
		[ -e "$VS_RUNDIR/$g" ] && left+=" $VS_RUNDIR/$g"
	done
	for m in $(cgroup_mounts); do
		for g in $(find "$m" -maxdepth 4 -type d -name "*$BENCH_TAG*" 2>/dev/null); do
			left+=" $g"
		done
	done
	[ -n "${BENCH_WORK:-}" ] && [ -e "$BENCH_WORK" ] && left+=" $BENCH_WORK"
	grep -q "$BENCH_TAG" /proc/self/mountinfo 2>/dev/null && left+=" mounts"
	[ -z "$left" ] || say "bench: WARNING: left on the host:$left"
}

# --- nspawn: a parent group of our own --------------------------------------

# On a host whose PID 1 is not systemd, nspawn can only run with
# --register=no --keep-unit (no bus), and then sets up its payload/ and
# supervisor/ groups inside the group it was started in. Start it in a group
# of ours (name=systemd v1 hierarchy and the unified one) so it never writes
# into the host's root groups, and so we can remove what it leaves.
NSPAWN_CGROUPS=()
nspawn_setup_cgroup() {
	local m
	[ ${#NSPAWN_CGROUPS[@]} -gt 0 ] && return 0
	while read -r m; do
		mkdir "$m/$BENCH_TAG-nspawn" || return 1
		NSPAWN_CGROUPS+=("$m/$BENCH_TAG-nspawn")
		BENCH_CGROUPS+=("$m/$BENCH_TAG-nspawn")
	done < <(awk '($3 == "cgroup" && $4 ~ /(^|,)name=systemd(,|$)/) || $3 == "cgroup2" { print $2 }' /proc/self/mounts)
}

# cg_exec GROUP... -- CMD...: CMD in each GROUP (a subshell that moves
# itself, then execs: one fork, like running any other command).
cg_exec() {
	(
		while [ "$1" != -- ]; do
			echo "$BASHPID" >"$1/cgroup.procs" || exit 125
			shift
		done
		shift
		exec "$@"
	)
}
# nspawn_exec ARGS...: systemd-nspawn ARGS in our group.
nspawn_exec() { cg_exec "${NSPAWN_CGROUPS[@]}" -- systemd-nspawn "$@"; }

# --- timing and statistics ----------------------------------------------------

# time_us VAR CMD...: runs CMD, stores its wall time in microseconds in VAR,
# returns CMD's status. No subshell around CMD: the overhead is the fork and
# exec every tool pays alike.
time_us() {
	local __v=$1 __s __e __rc
	shift
	__s=$EPOCHREALTIME
	"$@"
	__rc=$?
	__e=$EPOCHREALTIME
	printf -v "$__v" '%d' $((${__e/./} - ${__s/./}))
	return $__rc
}

now_us() { printf -v "$1" '%d' "${EPOCHREALTIME/./}"; }

# stats FILE: "n median min max p25 p75" of the numbers in FILE.
stats() {
	sort -g "$1" | awk '
		{ v[NR] = $1 }
		function q(p,   h, l) { h = (NR - 1) * p + 1; l = int(h); return l >= NR ? v[NR] : v[l] + (h - l) * (v[l + 1] - v[l]) }
		END {
			if (NR == 0) { print "0 nan nan nan nan nan"; exit }
			printf "%d %.6g %.6g %.6g %.6g %.6g\n", NR, q(0.5), v[1], v[NR], q(0.25), q(0.75)
		}'
}

# --- guests --------------------------------------------------------------------

# Copies a root tree, keeping everything (owners, modes, xattrs, hard links).
copy_root() { # copy_root FROM TO
	mkdir -p "$(dirname "$2")" && cp -a -- "$1" "$2"
}

# A copy of a root tree whose /usr (160 of its 170 MB, which no guest
# writes) is hard links to the original's files, the rest copied: 0.5 s
# instead of 3-7 s for a whole copy here, and every copy shares the
# original's /usr in the page cache as overlays would. Overlays cannot
# serve here: overlayfs refuses id-mapped mounts (EINVAL), which
# unprivileged vserver guests and lxc containers need on their root.
copy_root_linked() { # copy_root_linked FROM TO
	local from=$1 to=$2 e
	mkdir -p "$to" || return 1
	chown --reference="$from" "$to" && chmod --reference="$from" "$to" || return 1
	for e in "$from"/* "$from"/.[!.]*; do
		[ -e "$e" ] || [ -L "$e" ] || continue
		if [ "${e##*/}" = usr ] && [ -d "$e" ] && [ ! -L "$e" ]; then
			cp -al -- "$e" "$to/" || return 1
		else
			cp -a -- "$e" "$to/" || return 1
		fi
	done
}

# Makes vserver guest NAME from a root tree: the configuration vs-build
# wrote for the base guest, with the name changed, and a copy of the tree.
vs_clone_guest() { # vs_clone_guest BASE NAME ROOT
	local base=$1 name=$2 root=$3
	track_guest "$name"
	sed -e "s/^hostname = .*/hostname = $name/" "$VS_CONFDIR/$base.conf" >"$VS_CONFDIR/$name.conf" || return 1
	mkdir -p "$VS_GUESTDIR/$name" && copy_root "$root" "$VS_GUESTDIR/$name/rootfs"
}

# lxc's own defaults (common.conf: capabilities, devices, seccomp, cgroup
# and proc/sys mounts) without the drop-in directory common.conf.d/, where
# other packages add hooks: lxcfs's post-stop hook alone sleeps 0.5 s.
lxc_common_conf() {
	local c=$LXC_PATH/common.conf
	[ -e "$c" ] && return 0
	grep -v -E '^[[:space:]]*lxc\.include[[:space:]]*=.*common\.conf\.d' /usr/share/lxc/config/common.conf >"$c"
}

# Writes an lxc container NAME using ROOT (a directory tree, used in place).
# With -u it is unprivileged: a user namespace mapping its 0..65535 to a
# range of its own (lxc.idmap), and its root an id-mapped mount
# (lxc.rootfs.options = idmap=container), so the tree stays owned by host
# ids 0..65535 on disk, as vserver's unprivileged guests see theirs.
#
# With -g its groups go below one parent of the bench's own in every
# hierarchy (BENCH_TAG-lxc/NAME; the monitor's in BENCH_TAG-lxcmon/NAME),
# as vserver's guests sit below its "vservers" parent, instead of one group
# of its own at the top of each (lxc.payload.NAME): there N containers
# would weigh N times as much as N vserver guests together whenever other
# work competes for the CPUs. The parents go at exit.
LXC_RANGES=0 LXC_PARENTS=0
lxc_make() { # lxc_make [-u] [-g] NAME ROOT
	local unpriv=0 grouped=0 m
	[ "$1" = -u ] && { unpriv=1; shift; }
	[ "$1" = -g ] && { grouped=1; shift; }
	local name=$1 root=$2 ids
	track_lxc "$name"
	lxc_common_conf
	mkdir -p "$LXC_PATH/$name"
	cat >"$LXC_PATH/$name/config" <<-EOF
		# tests/bench: an lxc container on a copy of the bench's guest tree.
		lxc.include = $LXC_PATH/common.conf
		lxc.apparmor.profile = unconfined
		lxc.uts.name = $name
		lxc.rootfs.path = dir:$root
		lxc.net.0.type = empty
		# what lxc's systemd-distribution configs set: systemd halts on
		# SIGRTMIN+3 (SIGPWR, lxc's default, only starts sigpwr.target)
		lxc.signal.halt = SIGRTMIN+3
		lxc.console.logfile = $LXC_PATH/$name/console.log
	EOF
	if [ $grouped = 1 ]; then
		cat >>"$LXC_PATH/$name/config" <<-EOF
			lxc.cgroup.dir.container = $BENCH_TAG-lxc/$name
			lxc.cgroup.dir.monitor = $BENCH_TAG-lxcmon/$name
			lxc.cgroup.dir.monitor.pivot = $BENCH_TAG-lxcpivot
		EOF
		if [ $LXC_PARENTS = 0 ]; then
			LXC_PARENTS=1
			for m in $(cgroup_mounts); do
				BENCH_CGROUPS+=("$m/$BENCH_TAG-lxc" "$m/$BENCH_TAG-lxcmon" "$m/$BENCH_TAG-lxcpivot")
			done
		fi
	fi
	[ $unpriv = 1 ] || return 0
	ids=$((BENCH_LXC_IDS + 65536 * LXC_RANGES++))
	cat >>"$LXC_PATH/$name/config" <<-EOF
		# unprivileged: container root is host uid $ids
		lxc.idmap = u 0 $ids 65536
		lxc.idmap = g 0 $ids 65536
		lxc.rootfs.options = idmap=container
	EOF
}

# vs_userns NAME yes|no: guest NAME unprivileged (idmap = auto: its range is
# chosen at its first start, from the bench's subordinate-id files) or not.
vs_userns() {
	local c=$VS_CONFDIR/$1.conf
	sed -i -e '/^userns = /d' -e '/^idmap = /d' "$c" || return 1
	if [ "$2" = yes ]; then
		sed -i 's/^\[guest\]$/[guest]\nuserns = yes\nidmap = auto/' "$c"
	else
		sed -i 's/^\[guest\]$/[guest]\nuserns = no/' "$c"
	fi
	grep -q "^userns = $2\$" "$c"
}

# The static true-init helper, built once per run into the work dir.
build_true_init() {
	local out=$BENCH_WORK/true-init
	[ -x "$out" ] && return 0
	gcc -static -O2 -o "$out" "$BENCH_DIR/true-init.c" >"$BENCH_WORK/logs/true-init.log" 2>&1 ||
		die "cannot build true-init (gcc -static; see libc6-dev): $(tail -3 "$BENCH_WORK/logs/true-init.log")"
}

# A vserver guest NAME whose /sbin/init is true-init (exits 0 at once), on
# the minimal test template; /usr exists because systemd-nspawn refuses a
# tree without it.
build_tiny_guest() { # build_tiny_guest NAME
	local g=$1 root
	build_true_init
	track_guest "$g"
	vs-build "$g" --template minimal --privileged >"$BENCH_WORK/logs/build-$g.log" 2>&1 ||
		die "vs-build $g --template minimal failed: $(tail -3 "$BENCH_WORK/logs/build-$g.log")"
	root=$VS_GUESTDIR/$g/rootfs
	rm -f "$root/sbin/init" "$root/sbin/init-ignore-halt"
	cp "$BENCH_WORK/true-init" "$root/sbin/init"
	chmod 0755 "$root/sbin/init"
	mkdir -p "$root/usr"
}
