/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/memfd.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cleanup.h"
#include "exe.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define VS_EXE_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* The trampoline's bytes, linked in by lib/sec/trampoline-blob.c. */
extern const unsigned char vs_trampoline_start[], vs_trampoline_end[];

int vs_trampoline_open(void)
{
        const unsigned char *p = vs_trampoline_start;
        size_t left = (size_t)(vs_trampoline_end - vs_trampoline_start);
        _cleanup_close_ int mfd = -1;
        int r;

        /* MFD_EXEC says so explicitly where vm.memfd_noexec would otherwise
         * make it non-executable; older kernels do not know the flag. */
        mfd = memfd_create("vserver-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
        if (mfd < 0 && errno == EINVAL)
                mfd = memfd_create("vserver-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (mfd < 0)
                return -errno;
        while (left > 0) {
                ssize_t n = write(mfd, p, left);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : -EIO;
                p += n;
                left -= (size_t)n;
        }
        if (fcntl(mfd, F_ADD_SEALS, VS_EXE_SEALS) < 0)
                return -errno;
        r = mfd;
        mfd = -1;
        return r;
}

int vs_trampoline_exec(int fd, char **argv, char *const *envp)
{
        argv[0] = (char *)"vserver-exec";
        /* execveat(AT_EMPTY_PATH) of a close-on-exec fd is fine for an ELF
         * program: the kernel holds the file, and the fd is gone after. */
        fexecve(fd, argv, envp);
        return -errno;
}
