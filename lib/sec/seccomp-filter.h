/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* The guest's syscall filter, compiled to BPF (a malloc'd buffer): the
 * calls listed in lib/sec/seccomp-filter.c (kernel modules, kexec, BPF, perf,
 * the kernel keyring, open_by_handle_at, a forced umount) fail with EPERM,
 * through the native, the 32-bit and the x32 entry points alike; everything
 * else is allowed. Compiled once, at build time, by lib/sec/seccomp-gen.c. */
int vs_seccomp_compile_default(void **ret, size_t *ret_len);
/* That program as built into the library (read-only): vs-start writes it to
 * the guest's run directory and loads it into the guest's init; processes
 * that join the guest later load it from there. */
const void *vs_seccomp_default(size_t *ret_len);
/* Installs a compiled filter on the calling thread. Does not set
 * no_new_privs (setuid programs keep working inside), so the caller must
 * hold CAP_SYS_ADMIN. The filter survives exec and is inherited. */
int vs_seccomp_load_bpf(const void *bpf, size_t len);
/* Writes a compiled filter to a new file @path (0600, not replacing one). */
int vs_seccomp_save(const char *path, const void *bpf, size_t len);

/* Its name in the guest's run directory. */
#define VS_SECCOMP_FILE "seccomp.bpf"

/* Reads the seccomp mode of @pid ("Seccomp:" of /proc/PID/status: 0 none,
 * 1 strict, 2 filter). */
int vs_seccomp_read_mode(pid_t pid, int *ret);

/* The names of the denied calls, NULL-terminated (for documentation and
 * tests); umount2 is denied only with MNT_FORCE. */
extern const char *const vs_seccomp_denied[];
