/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A static helper for tests/integration/61-disk-quota.sh, run inside
 * guests that have no tools of their own (the minimal template):
 *   vs-quota-probe df PATH            prints "SIZE_K USED_K" (statvfs)
 *   vs-quota-probe fill FILE MAX_M    writes up to MAX_M MiB (fsync at the
 *                                     end) and prints "WRITTEN_M ERRNO_NAME"
 *   vs-quota-probe setproj PATH ID    FS_IOC_FSSETXATTR: project id ID
 *   vs-quota-probe setattr PATH ID    file_setattr(2): project id ID
 *   vs-quota-probe setquota PATH ID M quotactl_fd Q_SETQUOTA of project ID
 *                                     to M MiB (0: none)
 *   vs-quota-probe getproj PATH       prints the project id
 *   vs-quota-probe getquota PATH ID   prints "USED_K LIMIT_K" of project ID
 *                                     ("0 0" where XFS has no record of it)
 *   vs-quota-probe rename FROM TO     rename(2), no copy on EXDEV as mv does
 * The last four print "ok" or the errno's name and exit 0 either way. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/quota.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PRJQUOTA
#define PRJQUOTA 2
#endif

static const char *ename(int e)
{
        switch (e) {
        case 0: return "ok";
        case ENOSPC: return "ENOSPC";
        case EDQUOT: return "EDQUOT";
        case EPERM: return "EPERM";
        case EACCES: return "EACCES";
        case EINVAL: return "EINVAL";
        case ENOSYS: return "ENOSYS";
        case EOPNOTSUPP: return "EOPNOTSUPP";
        case ENOTTY: return "ENOTTY";
        case ESRCH: return "ESRCH";
        case EBADF: return "EBADF";
        default: return strerror(e);
        }
}

static int done(long r)
{
        printf("%s\n", ename(r < 0 ? errno : 0));
        return 0;
}

int main(int argc, char **argv)
{
        if (argc == 3 && strcmp(argv[1], "df") == 0) {
                struct statvfs sv;
                if (statvfs(argv[2], &sv) < 0)
                        return perror("statvfs"), 1;
                printf("%llu %llu\n", (unsigned long long)sv.f_blocks * sv.f_frsize / 1024,
                       (unsigned long long)(sv.f_blocks - sv.f_bfree) * sv.f_frsize / 1024);
                return 0;
        }
        if (argc == 4 && strcmp(argv[1], "fill") == 0) {
                static char buf[1 << 20];
                long max = atol(argv[3]), n = 0;
                int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), e = 0;
                if (fd < 0)
                        return perror("open"), 1;
                memset(buf, 'q', sizeof(buf));
                for (; n < max; n++) {
                        size_t off = 0;
                        while (off < sizeof(buf)) {
                                ssize_t w = write(fd, buf + off, sizeof(buf) - off);
                                if (w < 0) {
                                        e = errno;
                                        break;
                                }
                                off += (size_t)w;
                        }
                        if (e)
                                break;
                }
                if (!e && fsync(fd) < 0)
                        e = errno;
                printf("%ld %s\n", n, ename(e));
                return 0;
        }
        if (argc == 4 && (strcmp(argv[1], "setproj") == 0 || strcmp(argv[1], "setattr") == 0)) {
                if (argv[1][3] == 'p') {
                        struct fsxattr fa;
                        int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
                        if (fd < 0 || ioctl(fd, FS_IOC_FSGETXATTR, &fa) < 0)
                                return done(-1);
                        fa.fsx_projid = (uint32_t)atol(argv[3]);
                        return done(ioctl(fd, FS_IOC_FSSETXATTR, &fa));
                }
                struct { uint64_t xflags; uint32_t extsize, nextents, projid, cowextsize; } fa = { 0 };
                if (syscall(468, AT_FDCWD, argv[2], &fa, sizeof(fa), AT_SYMLINK_NOFOLLOW) < 0)
                        return done(-1);
                fa.projid = (uint32_t)atol(argv[3]);
                return done(syscall(469, AT_FDCWD, argv[2], &fa, sizeof(fa), AT_SYMLINK_NOFOLLOW));
        }
        if (argc == 5 && strcmp(argv[1], "setquota") == 0) {
                struct if_dqblk q = { .dqb_valid = QIF_BLIMITS };
                int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
                q.dqb_bhardlimit = q.dqb_bsoftlimit = (uint64_t)atol(argv[4]) * 1024;
                if (fd < 0)
                        return done(-1);
                return done(syscall(SYS_quotactl_fd, fd, QCMD(Q_SETQUOTA, PRJQUOTA), atol(argv[3]), &q));
        }
        if (argc == 3 && strcmp(argv[1], "getproj") == 0) {
                struct fsxattr fa;
                int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
                if (fd < 0 || ioctl(fd, FS_IOC_FSGETXATTR, &fa) < 0)
                        return perror("FS_IOC_FSGETXATTR"), 1;
                printf("%u%s\n", fa.fsx_projid, fa.fsx_xflags & FS_XFLAG_PROJINHERIT ? " inherit" : "");
                return 0;
        }
        if (argc == 4 && strcmp(argv[1], "rename") == 0)
                return done(rename(argv[2], argv[3]));
        if (argc == 4 && strcmp(argv[1], "getquota") == 0) {
                struct if_dqblk q = { 0 };
                int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
                /* XFS has no record of a project without use or limit: ENOENT. */
                if (fd < 0 || (syscall(SYS_quotactl_fd, fd, QCMD(Q_GETQUOTA, PRJQUOTA), atol(argv[3]), &q) < 0 &&
                               errno != ENOENT))
                        return perror("Q_GETQUOTA"), 1;
                printf("%llu %llu\n", (unsigned long long)q.dqb_curspace / 1024, (unsigned long long)q.dqb_bhardlimit);
                return 0;
        }
        fprintf(stderr, "Usage: see the comment at the top of vs-quota-probe.c\n");
        return 2;
}
