/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The bounding set, without libcap: vs-enter links no more than libc. */
#include "autoconfig.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"
#include "cleanup.h"
#include "util.h"

#define C(x) (UINT64_C(1) << (x))

uint64_t vs_caps_default_keep(void)
{
        return C(CAP_CHOWN) | C(CAP_DAC_OVERRIDE) | C(CAP_DAC_READ_SEARCH) | C(CAP_FOWNER) | C(CAP_FSETID) |
               C(CAP_IPC_OWNER) | C(CAP_KILL) | C(CAP_LEASE) | C(CAP_LINUX_IMMUTABLE) | C(CAP_MKNOD) |
               C(CAP_NET_ADMIN) | C(CAP_NET_BIND_SERVICE) | C(CAP_NET_BROADCAST) | C(CAP_NET_RAW) |
               C(CAP_SETFCAP) | C(CAP_SETGID) | C(CAP_SETPCAP) | C(CAP_SETUID) | C(CAP_SYS_ADMIN) |
               C(CAP_SYS_BOOT) | C(CAP_SYS_CHROOT) | C(CAP_SYS_NICE) | C(CAP_SYS_PTRACE) |
               C(CAP_SYS_RESOURCE) | C(CAP_SYS_TTY_CONFIG) | C(CAP_AUDIT_WRITE);
}

uint64_t vs_caps_guest_bounding(uint64_t keep, uint64_t drop, bool seccomp)
{
        uint64_t set = vs_caps_default_keep();

        /* With CAP_DAC_READ_SEARCH, open_by_handle_at(2) opens any file of a
         * file system the guest sees part of, by its handle, past the guest's
         * root (the "shocker" escape); the seccomp filter is what refuses the
         * call. Without the filter the default set goes without it; naming
         * it in caps.keep is a choice made knowingly. */
        if (!seccomp)
                set &= ~C(CAP_DAC_READ_SEARCH);
        return (set | keep) & ~drop;
}

int vs_caps_limit_bounding(uint64_t keep)
{
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2];

        /* Past the kernel's last capability the drop fails with EINVAL. */
        for (int c = 0; c < 64; c++) {
                if (keep & C(c))
                        continue;
                if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
                        return -errno;
        }
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return -errno;
        /* An inheritable capability outside the bounding set would survive
         * exec of a file with inheritable file caps: clear them all. */
        if (syscall(SYS_capget, &h, d) < 0)
                return -errno;
        d[0].inheritable = d[1].inheritable = 0;
        if (syscall(SYS_capset, &h, d) < 0)
                return -errno;
        return 0;
}

int vs_caps_read_bounding(pid_t pid, uint64_t *ret)
{
        return vs_proc_status_uint(pid, "CapBnd", 16, ret);
}
