/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/memfd.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "exe.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define VS_EXE_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

static bool fd_sealed(int fd)
{
        int seals = fcntl(fd, F_GET_SEALS);
        return seals >= 0 && (seals & VS_EXE_SEALS) == VS_EXE_SEALS;
}

bool vs_exe_is_sealed(void)
{
        _cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        return fd >= 0 && fd_sealed(fd);
}

int vs_exe_reexec_sealed(char **argv)
{
        _cleanup_close_ int exe = -1, mfd = -1;
        struct stat st;
        off_t left;

        exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (exe < 0)
                return -errno;
        if (fd_sealed(exe))
                return 0;
        if (fstat(exe, &st) < 0)
                return -errno;
        /* MFD_EXEC says so explicitly where vm.memfd_noexec would otherwise
         * make the copy non-executable; older kernels do not know the flag. */
        mfd = memfd_create("vserver", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
        if (mfd < 0 && errno == EINVAL)
                mfd = memfd_create("vserver", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (mfd < 0)
                return -errno;
        for (left = st.st_size; left > 0;) {
                ssize_t n = sendfile(mfd, exe, NULL, (size_t)left);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : -EIO;
                left -= n;
        }
        if (fcntl(mfd, F_ADD_SEALS, VS_EXE_SEALS) < 0)
                return -errno;
        /* execveat(AT_EMPTY_PATH) of a close-on-exec fd is fine for an ELF
         * program: the kernel holds the file, and the fd is gone after. */
        fexecve(mfd, argv, environ);
        return -errno;
}
