/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The guest's default syscall filter, compiled with libseccomp. Only the
 * build-time generator (lib/seccomp-gen.c) links this: the programs embed
 * its output (lib/seccomp-blob.c). */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "seccomp-filter.h"
#include "util.h"

/* Calls that reach the kernel as a whole rather than the guest's share of
 * it. Most already need a capability the default bounding set withholds;
 * the filter also covers guests that keep those capabilities (caps.keep)
 * and kernels where the check is weaker than the capability suggests. */
const char *const vs_seccomp_denied[] = {
        "kexec_load",  "kexec_file_load", "open_by_handle_at", "init_module", "finit_module",
        "delete_module", "bpf",           "perf_event_open",   "keyctl",      "add_key",
        "request_key", NULL,
};

static void release(scmp_filter_ctx *c)
{
        if (*c)
                seccomp_release(*c);
}

static int build(scmp_filter_ctx ctx)
{
        int r;

        /* Setuid programs inside (su, sudo, ping) must keep working; the
         * caller holds CAP_SYS_ADMIN, which is what the kernel wants instead. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r < 0)
                return r;
        /* An x86-64 process can enter the kernel through int 0x80 (i386
         * numbers) and through the x32 numbers: each gets the same rules.
         * Other architectures this filter does not know are killed. */
        if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
                r = seccomp_arch_add(ctx, SCMP_ARCH_X86);
                if (r < 0 && r != -EEXIST)
                        return r;
                r = seccomp_arch_add(ctx, SCMP_ARCH_X32);
                if (r < 0 && r != -EEXIST)
                        return r;
        }
        for (const char *const *n = vs_seccomp_denied; *n; n++) {
                int nr = seccomp_syscall_resolve_name(*n);
                if (nr == __NR_SCMP_ERROR)
                        continue; /* unknown to this libseccomp: nothing to deny */
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
                if (r < 0)
                        return r;
        }
        /* umount2(..., MNT_FORCE) aborts requests on a shared (e.g. NFS)
         * mount for every namespace using it; a plain or lazy umount stays
         * the guest's business. */
        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(umount2), 1,
                             SCMP_A1(SCMP_CMP_MASKED_EQ, MNT_FORCE, MNT_FORCE));
        return r < 0 ? r : 0;
}

int vs_seccomp_compile_default(void **ret, size_t *ret_len)
{
        __attribute__((cleanup(release))) scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        _cleanup_close_ int fd = -1;
        _cleanup_free_ void *buf = NULL;
        struct stat st;
        int r;

        if (!ctx)
                return -ENOMEM;
        r = build(ctx);
        if (r < 0)
                return r;
        fd = memfd_create("vserver-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) || st.st_size > 65536)
                return -EIO;
        buf = malloc((size_t)st.st_size);
        if (!buf)
                return -ENOMEM;
        if (pread(fd, buf, (size_t)st.st_size, 0) != st.st_size)
                return -EIO;
        *ret = TAKE_PTR(buf);
        *ret_len = (size_t)st.st_size;
        return 0;
}
