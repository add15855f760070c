/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The exec trampoline (lib/sec/trampoline.c) as a memfd sealed against every
 * change (no write, grow, shrink or further seals), close-on-exec.
 *
 * vs-start and vs-enter run from their files on the host but never let a
 * process of theirs appear in a guest's PID namespace: the last step, the
 * fork and exec into the guest, goes through fexecve() of this memfd. So no
 * process a guest can see has a writable host binary behind /proc/PID/exe
 * (guest root could otherwise reopen it for writing once the process is
 * gone and replace a host program: the runc CVE-2019-5736 class of attack)
 * or any host library mapped. The program is a few KiB without a C
 * library: its exec costs a fraction of re-executing vs-start or vs-enter.
 *
 * Returns the fd, or -errno. */
int vs_trampoline_open(void);

/* fexecve() of the trampoline @fd with @argv (argv[0] is replaced by the
 * trampoline's own name) and @envp. Returns -errno; on success it does not
 * return. */
int vs_trampoline_exec(int fd, char **argv, char *const *envp);
