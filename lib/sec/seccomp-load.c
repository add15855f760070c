/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Loading a compiled filter and reading a process's mode: no libseccomp,
 * so that vs-enter links no more than libc. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cleanup.h"
#include "seccomp-filter.h"
#include "util.h"

int vs_seccomp_load_bpf(const void *bpf, size_t len)
{
        struct sock_fprog prog = { .len = (unsigned short)(len / sizeof(struct sock_filter)),
                                   .filter = (struct sock_filter *)bpf };

        if (len == 0 || len % sizeof(struct sock_filter) || len / sizeof(struct sock_filter) > BPF_MAXINSNS)
                return -EINVAL;
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
                return -errno;
        return 0;
}

int vs_seccomp_read_mode(pid_t pid, int *ret)
{
        uint64_t mode;
        int r = vs_proc_status_uint(pid, "Seccomp", 10, &mode);

        if (r == 0)
                *ret = (int)mode;
        return r;
}

int vs_seccomp_save(const char *path, const void *bpf, size_t len)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

        if (fd < 0)
                return -errno;
        if (write(fd, bpf, len) != (ssize_t)len)
                return -EIO;
        return 0;
}

