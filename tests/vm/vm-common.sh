# shellcheck shell=bash
# What the cgroup v2 lane (run-v2) and the host mode (vm-host) share: the VM
# image and its recipe, the template disks, the boot. The caller defines
# say, skip and bail, and sets work (its scratch directory, with out/ the
# results share), VS_TOP_SRCDIR and VS_TOP_BUILDDIR.

vm_shares=()
extra_drives=()
vm_net=(-nic none)
vm_append=""
qemu_pid=""

cache=${VS_VM_CACHE:-/var/cache/vservers/testvm}
tplcache=${VS_CACHEDIR:-/var/cache/vservers}/templates
mirror=$(awk '$1 == "deb" && $0 ~ /bookworm/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' \
        /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -1)
[ -n "$mirror" ] || mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $1; exit}')
mirror=${mirror:-http://deb.debian.org/debian}

# What the VM root holds: a generic kernel (it has 9p), systemd, and what the
# tests and vserver's guests need at run time; sshd and rsync for the host
# mode (tests/vm/vm-host), the other end of a migration, and ping; xfsprogs
# for the XFS project quotas of 61-disk-quota, which the kernel there has.
vm_packages=linux-image-amd64,initramfs-tools,systemd,systemd-sysv,udev,kmod,iproute2,procps,psmisc,util-linux,libmount1,libcap2,libinih1,libseccomp2,libnl-3-200,libnl-route-3-200,libnftables1,lxcfs,fuse3,debootstrap,e2fsprogs,xfsprogs,openssh-server,rsync,iputils-ping

vm_tools() { # installs or checks the tools the VM needs; skip when missing
        need_apt=""
        command -v qemu-system-x86_64 >/dev/null || need_apt+=" qemu-system-x86"
        command -v debootstrap >/dev/null || need_apt+=" debootstrap"
        command -v mkfs.ext4 >/dev/null || need_apt+=" e2fsprogs"
        command -v modprobe >/dev/null || need_apt+=" kmod"
        if [ -n "$need_apt" ]; then
                say "installing$need_apt"
                DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q --no-install-recommends $need_apt \
                        >/dev/null 2>&1 || skip "cannot install$need_apt with apt-get"
        fi
        for t in qemu-system-x86_64 debootstrap mkfs.ext4 sha256sum flock timeout; do
                command -v $t >/dev/null || skip "\"$t\" is missing"
        done
}

# Everything written into the VM's root besides the packages: part of the
# cache key, so changing it rebuilds the image.
configure_tree() {
        local r=$1
        echo vs-v2-vm >"$r/etc/hostname"
        printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' >"$r/etc/fstab"
        : >"$r/etc/machine-id"
        # Root without a password on the serial console, only ever local.
        sed -i 's/^root:[^:]*:/root::/' "$r/etc/shadow"
        mkdir -p "$r/etc/systemd/system/multi-user.target.wants"
        # The lane runs as a service with its own delegated cgroup, the way
        # a v2 host runs vserver; it powers the VM off when done.
        cat >"$r/etc/systemd/system/vs-lane.service" <<-'EOF'
		[Unit]
		Description=vserver cgroup v2 test lane
		After=local-fs.target systemd-modules-load.service
		ConditionKernelCommandLine=!vs.mode=host
		[Service]
		Type=oneshot
		Delegate=yes
		ExecStart=/usr/local/sbin/vs-lane
		StandardOutput=journal+console
		StandardError=journal+console
		TimeoutStartSec=infinity
		SuccessAction=poweroff-force
		FailureAction=poweroff-force
		[Install]
		WantedBy=multi-user.target
	EOF
        ln -sf ../vs-lane.service "$r/etc/systemd/system/multi-user.target.wants/vs-lane.service"
        # The host mode (tests/vm/vm-host, vs.mode=host on the kernel command
        # line): the same script sets the VM up as a second vserver host
        # (tests/vm/vm-host-inside) and the VM keeps running.
        cat >"$r/etc/systemd/system/vs-host.service" <<-'EOF'
		[Unit]
		Description=vserver test host mode
		After=local-fs.target systemd-modules-load.service
		ConditionKernelCommandLine=vs.mode=host
		[Service]
		Type=oneshot
		RemainAfterExit=yes
		ExecStart=/usr/local/sbin/vs-lane
		StandardOutput=journal+console
		StandardError=journal+console
		TimeoutStartSec=infinity
		[Install]
		WantedBy=multi-user.target
	EOF
        ln -sf ../vs-host.service "$r/etc/systemd/system/multi-user.target.wants/vs-host.service"
        # sshd only in the host mode, which starts it (delegated, with the
        # key of its run): never in the lane.
        rm -f "$r/etc/systemd/system/multi-user.target.wants/ssh.service" \
                "$r/etc/systemd/system/sockets.target.wants/ssh.socket"
        mkdir -p "$r/usr/local/sbin"
        # Mounts the shares named on the kernel command line and hands over
        # to tests/vm/lane of the shared tree.
        cat >"$r/usr/local/sbin/vs-lane" <<-'EOF'
		#!/bin/sh
		echo "vs-lane: up"
		for a in $(cat /proc/cmdline); do
		        case "$a" in vs.src=*) src=${a#vs.src=} ;; vs.build=*) build=${a#vs.build=} ;; esac
		done
		mkdir -p /mnt/vsout /mnt/vstpl "$src" "$build"
		o=trans=virtio,version=9p2000.L,msize=512000
		mount -t 9p -o $o vsout /mnt/vsout &&
		        mount -o ro,noload /dev/vdb /mnt/vstpl &&
		        mount -t 9p -o $o,ro vssrc "$src" &&
		        { [ "$build" = "$src" ] || mount -t 9p -o $o,ro vsbuild "$build"; } ||
		        { echo "vs-lane: cannot mount the 9p shares"; exit 1; }
		exec bash "$src/tests/vm/lane" "$src" "$build" /mnt/vsout /mnt/vstpl
	EOF
        chmod 755 "$r/usr/local/sbin/vs-lane"
        # No getty, no waiting for a network: the lane is all the VM does.
        rm -f "$r/etc/systemd/system/getty.target.wants/"* 2>/dev/null
        ln -sf /dev/null "$r/etc/systemd/system/serial-getty@ttyS0.service"
        ln -sf /dev/null "$r/etc/systemd/system/getty@tty1.service"
        ln -sf /dev/null "$r/etc/systemd/system/systemd-timesyncd.service"
        ln -sf /dev/null "$r/etc/systemd/system/apt-daily.timer"
        ln -sf /dev/null "$r/etc/systemd/system/apt-daily-upgrade.timer"
        ln -sf /dev/null "$r/etc/systemd/system/e2scrub_all.timer"
        ln -sf /dev/null "$r/etc/systemd/system/fstrim.timer"
        ln -sf /dev/null "$r/etc/systemd/system/man-db.timer"
        ln -sf /dev/null "$r/etc/systemd/system/lxcfs.service"
        rm -f "$r"/var/cache/apt/archives/*.deb "$r"/var/cache/apt/*.bin
        find "$r/var/lib/apt/lists" -maxdepth 1 -type f -delete
}
key=$({ echo "$vm_packages $mirror"; declare -f configure_tree; } | sha256sum | cut -c1-16)
img=$cache/bookworm-$key.img

build_image() {
        local tree=$work/tree t0=$SECONDS
        say "building the VM image $img (debootstrap, once per image recipe)"
        mkdir -p "$tree"
        # 1800 s: on a busy 2-CPU host the kernel's initramfs alone, made
        # twice (the kernel, then initramfs-tools' trigger), took over 900.
        if ! timeout 1800 debootstrap --variant=minbase --include="$vm_packages" bookworm "$tree" "$mirror" \
                >"$work/debootstrap.log" 2>&1; then
                tail -20 "$work/debootstrap.log" | sed 's/^/#   /;$a\'
                return 1
        fi
        configure_tree "$tree"
        local k i
        k=$(ls "$tree"/boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)
        i=$(ls "$tree"/boot/initrd.img-* 2>/dev/null | sort -V | tail -1)
        [ -n "$k" ] && [ -n "$i" ] || { say "no kernel or initrd in the VM tree"; return 1; }
        cp "$k" "$cache/.new-$key.vmlinuz" && cp "$i" "$cache/.new-$key.initrd" &&
                timeout 300 mkfs.ext4 -q -F -L vsv2 -d "$tree" "$cache/.new-$key.img" 3G >"$work/mkfs.log" 2>&1 ||
                { cat "$work/mkfs.log" | sed 's/^/#   /;$a\'; return 1; }
        mv "$cache/.new-$key.vmlinuz" "$cache/bookworm-$key.vmlinuz" &&
                mv "$cache/.new-$key.initrd" "$cache/bookworm-$key.initrd" &&
                mv "$cache/.new-$key.img" "$img" || return 1
        rm -rf --one-file-system "$tree"
        say "image built in $((SECONDS - t0)) s"
}

# Takes the image lock (fd $lockfd; the caller closes it once its template
# disks are made) and builds the image if this recipe has none yet.
vm_image() {
        mkdir -p "$cache" || skip "cannot create $cache"
        exec {lockfd}>"$cache/.lock"
        flock -w 1200 "$lockfd" || bail "timed out waiting for the image lock $cache/.lock"
        if [ ! -f "$img" ]; then
                rm -f "$cache"/.new-* 2>/dev/null
                build_image || { rm -f "$cache"/.new-*; bail "cannot build the VM image (see above)"; }
                # Older recipes' images are dead weight.
                for f in "$cache"/bookworm-*.img; do
                        [ "$f" = "$img" ] || rm -f "$f" "${f%.img}.vmlinuz" "${f%.img}.initrd"
                done
        fi
}

# The guests' templates, filled on the host (no debootstrap inside the VM):
# bookworm with systemd, and bullseye with sysvinit for 53-userns-sysvinit.
# The templates go in as read-only disks of their own: over 9p, copying their
# ten thousand files into a guest takes many minutes under emulation. Cached
# beside the VM image, keyed by each template's build stamp.
tpl_disk() { # tpl_disk RELEASE INIT [PKGS]: fills the template if need be, prints its disk
        local release=$1 init=$2 key=debian-$1-amd64-$2 d sum disk mb t0 i
        # A template with extra packages has a key of its own: the one whose
        # stamp names them.
        if [ -n "${3:-}" ]; then
                key=""
                for i in "$tplcache"/debian-$release-amd64-$init-*.info; do
                        grep -qx "includes=$3" "$i" 2>/dev/null && key=$(basename "$i" .info)
                done
        fi
        if [ -z "$key" ] || [ ! -d "$tplcache/$key" ]; then
                say "filling the template cache $tplcache/$key" >&2
                d=$work/prefill-$release-$init
                mkdir -p "$d/etc" "$d/lib" "$d/log"
                VS_CONFDIR=$d/etc VS_GUESTDIR=$d/lib VS_LOGDIR=$d/log \
                        VS_TEMPLATE_PATH=$VS_TOP_SRCDIR/guests/templates \
                        timeout 900 "$VS_TOP_BUILDDIR/sbin/vs-build" vs-v2-prefill --template debian \
                        --release "$release" --init "$init" ${3:+--include "$3"} \
                        >"$work/prefill.log" 2>&1 || { tail -20 "$work/prefill.log" | sed 's/^/#   /;$a\' >&2; return 1; }
                rm -rf --one-file-system "$d"
                if [ -n "${3:-}" ]; then
                        for i in "$tplcache"/debian-$release-amd64-$init-*.info; do
                                grep -qx "includes=$3" "$i" 2>/dev/null && key=$(basename "$i" .info)
                        done
                fi
        fi
        sum=$(cat "$tplcache/$key.info" 2>/dev/null | sha256sum | cut -c1-16)
        disk=$cache/template-$key-$sum.img
        if [ ! -f "$disk" ]; then
                say "making the template disk $disk" >&2
                t0=$SECONDS
                mb=$(du -sm "$tplcache/$key" | cut -f1)
                rm -rf --one-file-system "$work/tpl"
                mkdir -p "$work/tpl"
                # mkfs -d copies one tree: give it the template and its .info.
                cp -a --reflink=auto "$tplcache/$key" "$work/tpl/" && cp "$tplcache/$key.info" "$work/tpl/" &&
                        timeout 300 mkfs.ext4 -q -F -L vstpl -d "$work/tpl" "$cache/.new-tpl.img" $((mb * 3 / 2 + 64))M \
                                >"$work/mkfs-tpl.log" 2>&1 && mv "$cache/.new-tpl.img" "$disk" ||
                        { sed 's/^/#   /;$a\' "$work/mkfs-tpl.log" >&2; rm -f "$cache/.new-tpl.img"; return 1; }
                rm -rf --one-file-system "$work/tpl"
                for f in "$cache"/template-$key-*.img; do [ "$f" = "$disk" ] || rm -f "$f"; done
                say "template disk made in $((SECONDS - t0)) s" >&2
        fi
        echo "$disk"
}
# boot ACCEL: starts qemu in the background. The caller may add shares
# (vm_shares, -virtfs options), disks (extra_drives), words of the kernel
# command line (vm_append) and a network (vm_net, default none).
boot() {
        local accel=$1 mem=2048 smp=2
        local -a share=(
                -virtfs "local,path=$work/out,mount_tag=vsout,security_model=passthrough,id=vsout"
                -virtfs "local,path=$VS_TOP_SRCDIR,mount_tag=vssrc,security_model=none,readonly=on,id=vssrc"
        )
        [ "$VS_TOP_BUILDDIR" = "$VS_TOP_SRCDIR" ] ||
                share+=(-virtfs "local,path=$VS_TOP_BUILDDIR,mount_tag=vsbuild,security_model=none,readonly=on,id=vsbuild")
        share+=("${vm_shares[@]}")
        : >"$work/console.log"
        local cpu=max
        [ "$accel" = kvm ] && cpu=host
        # snapshot=on: the guest's writes go to a scratch file in $TMPDIR,
        # deleted at once; the cached image stays pristine and is not copied.
        TMPDIR=$work qemu-system-x86_64 -accel "$accel" -machine q35 -cpu $cpu -m $mem -smp $smp \
                -nographic -no-reboot -monitor none -serial "file:$work/console.log" \
                -kernel "$cache/bookworm-$key.vmlinuz" -initrd "$cache/bookworm-$key.initrd" \
                -append "root=/dev/vda rw console=ttyS0 quiet loglevel=4 panic=-1 systemd.unified_cgroup_hierarchy=1 systemd.show_status=0 vs.src=$VS_TOP_SRCDIR vs.build=$VS_TOP_BUILDDIR${vm_append:+ $vm_append}" \
                -drive "file=$img,format=raw,if=virtio,cache=unsafe,snapshot=on" \
                -drive "file=$tpl_img,format=raw,if=virtio,readonly=on" \
                -drive "file=$tpl_sysv_img,format=raw,if=virtio,readonly=on" "${extra_drives[@]}" \
                "${vm_net[@]}" "${share[@]}" \
                </dev/null >"$work/qemu.log" 2>&1 &
        qemu_pid=$!
}
qemu_alive() { # kill -0 succeeds on a zombie: look at its state
        [ -n "$qemu_pid" ] && [ -e "/proc/$qemu_pid" ] && [ "$(awk '{print $3}' "/proc/$qemu_pid/stat" 2>/dev/null)" != Z ]
}
stop_qemu() {
        kill -KILL "$qemu_pid" 2>/dev/null
        wait "$qemu_pid" 2>/dev/null
        qemu_pid=""
}

# The canary: the lane's first line on the serial console. A working KVM
# gets there in a few seconds; a broken nested one stops at once with an
# internal error, or hangs.
wait_canary() { # wait_canary SECONDS
        local t=$(($1 * 5))
        while [ $t -gt 0 ]; do
                grep -q "vs-lane: up" "$work/console.log" && return 0
                grep -q "KVM internal error\|emulation failure" "$work/qemu.log" && return 1
                qemu_alive || return 1
                sleep 0.2
                t=$((t - 1))
        done
        return 1
}

# vm_boot: boots with KVM if it works, else TCG (two tries); sets accel and
# boot_s, or skips (never passes) when the VM cannot boot here.
vm_boot() {
        t_boot=$SECONDS
        accel=${VS_VM_ACCEL:-}
        if [ -z "$accel" ] && [ -w /dev/kvm ]; then
                boot kvm
                if wait_canary 20; then
                        accel=kvm
                else
                        stop_qemu
                        why=$(grep -m1 -o 'KVM internal error.*' "$work/qemu.log" || grep -v '^ *$' "$work/qemu.log" | tail -1)
                        say "KVM does not work here (${why:-no boot within 20 s}): falling back to TCG"
                fi
        fi
        if [ "$accel" != kvm ]; then
                accel=tcg
                # Two tries: qemu's emulation of a device has been seen to abort on
                # an assertion during boot on a busy host, once in a while; a VM
                # that is merely slow gets its 180 s once.
                for try in 1 2; do
                        boot tcg
                        wait_canary 180 && break
                        why="did not boot with TCG within 180 s"
                        qemu_alive || why="qemu exited during the boot with TCG: $(grep -v '^ *$' "$work/qemu.log" | tail -1)"
                        echo "# --- VM console"
                        tail -30 "$work/console.log" | tr -d '\r' | sed 's/^/#   /;$a\'
                        sed 's/^/#   qemu: /;$a\' "$work/qemu.log" | tail -5
                        alive=$(qemu_alive && echo yes)
                        stop_qemu
                        if [ "$try" = 2 ] || [ -n "$alive" ]; then
                                skip "the VM $why"
                        fi
                        say "the VM $why: booting it once more"
                done
        fi
        boot_s=$((SECONDS - t_boot))
        say "VM up with $accel in $boot_s s"
}
