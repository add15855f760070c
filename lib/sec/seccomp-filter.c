/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The guest's default syscall filter, compiled with libseccomp. Only the
 * build-time generator (lib/sec/seccomp-gen.c) links this: the programs embed
 * its output (lib/sec/seccomp-blob.c). */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/dqblk_xfs.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/quota.h>
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

/* A project quota (disk.size on layouts dir and shared) holds only while
 * the guest's files keep their project id and the limit stays: root of a
 * privileged guest is in the host's user namespace, where the kernel lets
 * any file's owner change its project id (FS_IOC_FSSETXATTR, and
 * file_setattr(2) from Linux 6.17) and CAP_SYS_ADMIN change limits
 * (quotactl(2), quotactl_fd(2)). An unprivileged guest's attempts the
 * kernel refuses itself. Reading quotas stays allowed. The commands are
 * ints and the ioctl number an unsigned int: only their low 32 bits are
 * compared, as the kernel reads them. */
static const uint32_t quota_set_cmds[] = {
        Q_QUOTAON << 8,  Q_QUOTAOFF << 8, Q_SETINFO << 8, Q_SETQUOTA << 8,
        Q_XQUOTAON << 8, Q_XQUOTAOFF << 8, Q_XSETQLIM << 8, Q_XQUOTARM << 8,
};

static int deny_quota_changes(scmp_filter_ctx ctx)
{
        int nr, r;

        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                             SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, (uint32_t)FS_IOC_FSSETXATTR));
        if (r < 0)
                return r;
        /* file_setattr(2): setattr_prefix below, for libseccomp releases
         * that know no such call. */
        for (size_t i = 0; i < sizeof(quota_set_cmds) / sizeof(quota_set_cmds[0]); i++) {
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(quotactl), 1,
                                     SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffff00u, quota_set_cmds[i]));
                if (r < 0)
                        return r;
                nr = seccomp_syscall_resolve_name("quotactl_fd");
                if (nr == __NR_SCMP_ERROR)
                        continue;
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1,
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffff00u, quota_set_cmds[i]));
                if (r < 0)
                        return r;
        }
        return 0;
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
        r = deny_quota_changes(ctx);
        if (r < 0)
                return r;
        /* umount2(..., MNT_FORCE) aborts requests on a shared (e.g. NFS)
         * mount for every namespace using it; a plain or lazy umount stays
         * the guest's business. */
        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(umount2), 1,
                             SCMP_A1(SCMP_CMP_MASKED_EQ, MNT_FORCE, MNT_FORCE));
        return r < 0 ? r : 0;
}

/* file_setattr(2) (Linux 6.17) is 469 on every architecture, x32's with
 * its bit; libseccomp before 2.6 cannot name it, nor take a number it
 * cannot name on each architecture of the filter. These instructions go
 * before libseccomp's program, which loads what it compares itself. */
#define X32_BIT 0x40000000u
static const struct sock_filter setattr_prefix[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 1, 0),
        BPF_STMT(BPF_JMP | BPF_JA | BPF_K, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 469, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 469 | X32_BIT, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
};

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
        buf = malloc(sizeof(setattr_prefix) + (size_t)st.st_size);
        if (!buf)
                return -ENOMEM;
        memcpy(buf, setattr_prefix, sizeof(setattr_prefix));
        if (pread(fd, (char *)buf + sizeof(setattr_prefix), (size_t)st.st_size, 0) != st.st_size)
                return -EIO;
        *ret = TAKE_PTR(buf);
        *ret_len = sizeof(setattr_prefix) + (size_t)st.st_size;
        return 0;
}
