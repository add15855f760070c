/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * true-init: the smallest possible guest init for the setup-overhead row of
 * tests/bench/run. It is started as PID 1 of a fresh set of namespaces by
 * every runtime being compared (vs-start -F, unshare+chroot, lxc-execute,
 * systemd-nspawn) and exits 0 at once, so the time measured is the runtime's
 * own work: creating namespaces, cgroups, mounts, exec, and tearing it all
 * down again. Built static (gcc -static -O2) so it runs in an empty rootfs.
 */
#include <unistd.h>

int main(void)
{
        _exit(0);
}
