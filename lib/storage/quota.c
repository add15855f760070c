/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#define _XOPEN_SOURCE_EXTENDED 1
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/dqblk_xfs.h>
#include <linux/fs.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/quota.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cleanup.h"
#include "paths.h"
#include "quota.h"
#include "util.h"

#ifndef PRJQUOTA
#define PRJQUOTA 2
#endif
#ifndef SYS_quotactl_fd
#define SYS_quotactl_fd 443
#endif
/* file_getattr(2) and file_setattr(2), Linux 6.17: one number on every
 * architecture, as all calls since 424 are. */
#define VS_SYS_file_getattr 468
#define VS_SYS_file_setattr 469

struct vs_file_attr {
        uint64_t fa_xflags;
        uint32_t fa_extsize;
        uint32_t fa_nextents;
        uint32_t fa_projid;
        uint32_t fa_cowextsize;
};

static void unescape(char *s)
{
        char *w = s;

        for (char *r = s; *r; r++) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' &&
                    r[3] <= '7') {
                        *w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
                        r += 3;
                } else
                        *w++ = *r;
        }
        *w = '\0';
}

static bool under(const char *path, const char *mp)
{
        size_t l = strlen(mp);

        if (strcmp(mp, "/") == 0)
                return true;
        return strncmp(path, mp, l) == 0 && (path[l] == '\0' || path[l] == '/');
}

int vs_mountinfo_find(const char *text, dev_t dev, const char *path, struct vs_quota_fs *ret)
{
        _cleanup_free_ char *copy = strdup(text);
        size_t best = 0;
        bool found = false;
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[6], *type, *source, *dash, *s2 = NULL;
                unsigned ma, mi;
                size_t i = 0;

                dash = strstr(line, " - ");
                if (!dash)
                        continue;
                *dash = '\0';
                for (char *t = strtok_r(line, " ", &s2); t && i < 6; t = strtok_r(NULL, " ", &s2))
                        f[i++] = t;
                if (i < 5 || sscanf(f[2], "%u:%u", &ma, &mi) != 2 || ma != major(dev) || mi != minor(dev))
                        continue;
                s2 = NULL;
                type = strtok_r(dash + 3, " ", &s2);
                source = type ? strtok_r(NULL, " ", &s2) : NULL;
                if (!type || !source)
                        continue;
                unescape(f[4]);
                if (!under(path, f[4]) || (found && strlen(f[4]) <= best))
                        continue;
                unescape(source);
                best = strlen(f[4]);
                found = true;
                snprintf(ret->type, sizeof(ret->type), "%s", type);
                snprintf(ret->source, sizeof(ret->source), "%s", source);
                snprintf(ret->target, sizeof(ret->target), "%s", f[4]);
        }
        return found ? 0 : -ENOENT;
}

static int find_mount(const char *path, struct vs_quota_fs *ret)
{
        _cleanup_free_ char *text = NULL;
        char real[PATH_MAX];
        struct stat st;
        int r;

        if (!realpath(path, real) || stat(real, &st) < 0)
                return -errno;
        r = vs_read_file("/proc/self/mountinfo", &text, NULL);
        if (r < 0)
                return r;
        return vs_mountinfo_find(text, st.st_dev, real, ret);
}

/* quotactl_fd(2) (Linux 5.14) needs no device path: any file of the
 * filesystem names it. Before it, the device from mountinfo does. */
static int qctl(const char *path, int cmd, uint32_t id, void *addr)
{
        _cleanup_close_ int fd = open(path, O_PATH | O_CLOEXEC);
        struct vs_quota_fs fs;
        int r;

        if (fd < 0)
                return -errno;
        if (syscall(SYS_quotactl_fd, fd, cmd, id, addr) == 0)
                return 0;
        if (errno != ENOSYS)
                return -errno;
        r = find_mount(path, &fs);
        if (r < 0)
                return r;
        if (quotactl(cmd, fs.source, (int)id, addr) < 0)
                return -errno;
        return 0;
}

int vs_quota_fs(const char *path, struct vs_quota_fs *ret)
{
        struct fs_quota_statv sv = { .qs_version = FS_QSTATV_VERSION1 };
        struct vs_quota_fs fs;
        int r;

        memset(&fs, 0, sizeof(fs));
        r = find_mount(path, &fs);
        if (r < 0)
                return r;
        r = qctl(path, QCMD(Q_XGETQSTATV, PRJQUOTA), 0, &sv);
        if (r == 0) {
                fs.accounting = sv.qs_flags & FS_QUOTA_PDQ_ACCT;
                fs.enforced = sv.qs_flags & FS_QUOTA_PDQ_ENFD;
        } else if (r != -ENOSYS && r != -EOPNOTSUPP && r != -ESRCH && r != -EINVAL && r != -ENOTTY)
                return r;
        *ret = fs;
        return 0;
}

void vs_quota_advice(const struct vs_quota_fs *fs, char *buf, size_t len)
{
        if (strcmp(fs->type, "ext4") == 0)
                snprintf(buf, len,
                         "the ext4 filesystem %s mounted on %s has no project quotas: give it the features with "
                         "\"tune2fs -O project,quota %s\" (unmounted; or mkfs.ext4 -O quota,project), then mount it "
                         "with the option \"prjquota\" (in /etc/fstab), on a kernel built with CONFIG_QUOTA and "
                         "CONFIG_QFMT_V2",
                         fs->source, fs->target, fs->source);
        else if (strcmp(fs->type, "xfs") == 0)
                snprintf(buf, len,
                         "the XFS filesystem %s mounted on %s has no project quotas: mount it with the option "
                         "\"prjquota\" (in /etc/fstab; XFS takes it at mount time, not on remount), on a kernel "
                         "built with CONFIG_XFS_QUOTA",
                         fs->source, fs->target);
        else
                snprintf(buf, len,
                         "the filesystem %s mounted on %s is %s: project quotas need ext4 or XFS (put the guests' "
                         "directory on one, mounted with the option \"prjquota\")",
                         fs->source, fs->target, fs->type);
}

uint32_t vs_project_pick(const uint32_t *used, size_t n, bool (*in_use)(uint32_t id, void *data), void *data)
{
        /* Some id in the first n + 1 is never in @used; ids held by
         * something else on the filesystem push the search on a little. */
        for (uint64_t id = VS_PROJECT_MIN; id <= VS_PROJECT_MAX && id < VS_PROJECT_MIN + n + 4096; id++) {
                bool taken = false;

                for (size_t i = 0; i < n && !taken; i++)
                        taken = used[i] == id;
                if (!taken && (!in_use || !in_use((uint32_t)id, data)))
                        return (uint32_t)id;
        }
        return 0;
}

/* ---- the tree walk ------------------------------------------------------- */

static struct {
        uint32_t projid;
        bool remake;
        uint64_t count, left;
        char **later; /* special files to make anew once every directory inherits */
        size_t n_later;
        int error;
        char *error_path;
} walk;

static int set_fd(int fd, bool dir)
{
        struct fsxattr fa;

        if (ioctl(fd, FS_IOC_FSGETXATTR, &fa) < 0)
                return -errno;
        if (fa.fsx_projid == walk.projid && (!dir || (fa.fsx_xflags & FS_XFLAG_PROJINHERIT)))
                return 0;
        fa.fsx_projid = walk.projid;
        if (dir)
                fa.fsx_xflags |= FS_XFLAG_PROJINHERIT;
        if (ioctl(fd, FS_IOC_FSSETXATTR, &fa) < 0)
                return -errno;
        walk.count++;
        return 0;
}

static int set_special(const char *p)
{
        struct vs_file_attr fa = { 0 };

        if (syscall(VS_SYS_file_getattr, AT_FDCWD, p, &fa, sizeof(fa), AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (fa.fa_projid == walk.projid)
                return 0;
        fa.fa_projid = walk.projid;
        if (syscall(VS_SYS_file_setattr, AT_FDCWD, p, &fa, sizeof(fa), AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        walk.count++;
        return 0;
}

static int walk_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
        int r;

        (void)ftw;
        if (type == FTW_NS || type == FTW_DNR) {
                walk.error = -EACCES;
                walk.error_path = strdup(p);
                return 1;
        }
        if (S_ISDIR(st->st_mode) || S_ISREG(st->st_mode)) {
                _cleanup_close_ int fd = open(p, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC |
                                                         (S_ISDIR(st->st_mode) ? O_DIRECTORY : 0));
                r = fd < 0 ? -errno : set_fd(fd, S_ISDIR(st->st_mode));
        } else if (S_ISSOCK(st->st_mode) || st->st_nlink > 1) {
                walk.left++;
                return 0;
        } else {
                r = set_special(p);
                if (r == -ENOSYS || r == -EOPNOTSUPP || r == -ENOTTY || r == -EINVAL) {
                        char **v;

                        if (!walk.remake) {
                                walk.left++;
                                return 0;
                        }
                        v = realloc(walk.later, (walk.n_later + 1) * sizeof(*v));
                        if (!v)
                                r = -ENOMEM;
                        else {
                                walk.later = v;
                                v[walk.n_later] = strdup(p);
                                r = v[walk.n_later] ? 0 : -ENOMEM;
                                if (r == 0)
                                        walk.n_later++;
                        }
                }
        }
        if (r < 0) {
                walk.error = r;
                walk.error_path = strdup(p);
                return 1;
        }
        return 0;
}

static int copy_xattrs(const char *from, const char *to)
{
        _cleanup_free_ char *names = NULL;
        ssize_t n = llistxattr(from, NULL, 0);

        if (n < 0)
                return errno == ENOTSUP ? 0 : -errno;
        if (n == 0)
                return 0;
        names = malloc((size_t)n);
        if (!names)
                return -ENOMEM;
        n = llistxattr(from, names, (size_t)n);
        if (n < 0)
                return -errno;
        for (char *k = names; k < names + n; k += strlen(k) + 1) {
                char val[65536];
                ssize_t l = lgetxattr(from, k, val, sizeof(val));
                if (l < 0 || lsetxattr(to, k, val, (size_t)l, 0) < 0)
                        return -errno;
        }
        return 0;
}

/* A new inode made in a directory that has the inherit flag gets its
 * project id; made beside the old one and renamed over it, it takes its
 * place in one step. */
static int remake(const char *p, unsigned serial)
{
        _cleanup_free_ char *dir = strdup(p), *tmp = NULL;
        char target[PATH_MAX];
        struct stat st;
        char *slash;
        int r = 0;

        if (!dir || lstat(p, &st) < 0)
                return dir ? -errno : -ENOMEM;
        slash = strrchr(dir, '/');
        if (!slash)
                return -EINVAL;
        *slash = '\0';
        tmp = vs_strdupf("%s/.vs-projid.%d.%u", dir, (int)getpid(), serial);
        if (!tmp)
                return -ENOMEM;
        if (S_ISLNK(st.st_mode)) {
                ssize_t n = readlink(p, target, sizeof(target) - 1);
                if (n < 0)
                        return -errno;
                target[n] = '\0';
                if (symlink(target, tmp) < 0)
                        return -errno;
        } else if (mknod(tmp, st.st_mode, st.st_rdev) < 0)
                return -errno;
        {
                struct timespec ts[2] = { st.st_atim, st.st_mtim };
                if (lchown(tmp, st.st_uid, st.st_gid) < 0 ||
                    (!S_ISLNK(st.st_mode) && chmod(tmp, st.st_mode & 07777) < 0))
                        r = -errno;
                if (r == 0)
                        r = copy_xattrs(p, tmp);
                if (r == 0 && utimensat(AT_FDCWD, tmp, ts, AT_SYMLINK_NOFOLLOW) < 0)
                        r = -errno;
                if (r == 0 && rename(tmp, p) < 0)
                        r = -errno;
        }
        if (r < 0)
                (void)unlink(tmp);
        return r;
}

int vs_project_set_tree(const char *path, uint32_t projid, bool remake_special, uint64_t *ret_count,
                        uint64_t *ret_left)
{
        int r = 0;

        walk.projid = projid;
        walk.remake = remake_special;
        walk.count = walk.left = 0;
        walk.later = NULL;
        walk.n_later = 0;
        walk.error = 0;
        walk.error_path = NULL;
        /* Directories come before what they hold (no FTW_DEPTH): what is
         * made in one while the walk goes on inherits its id already. */
        if (nftw(path, walk_one, 64, FTW_PHYS | FTW_MOUNT) < 0)
                r = -errno;
        else if (walk.error < 0)
                r = walk.error;
        for (size_t i = 0; i < walk.n_later; i++) {
                if (r == 0) {
                        r = remake(walk.later[i], (unsigned)i);
                        if (r == 0)
                                walk.count++;
                        else
                                walk.error_path = strdup(walk.later[i]);
                }
                free(walk.later[i]);
        }
        free(walk.later);
        free(walk.error_path);
        if (ret_count)
                *ret_count = walk.count;
        if (ret_left)
                *ret_left = walk.left;
        return r;
}

int vs_project_get(const char *path, uint32_t *ret)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        struct fsxattr fa;

        if (fd < 0 || ioctl(fd, FS_IOC_FSGETXATTR, &fa) < 0)
                return -errno;
        *ret = fa.fsx_projid;
        return 0;
}

int vs_quota_set_limit(const char *path, uint32_t projid, uint64_t bytes)
{
        /* Limits are in blocks of QIF_DQBLKSIZE bytes (1 KiB). */
        struct if_dqblk q = { .dqb_valid = QIF_BLIMITS };

        q.dqb_bhardlimit = q.dqb_bsoftlimit = (bytes + QIF_DQBLKSIZE - 1) / QIF_DQBLKSIZE;
        return qctl(path, QCMD(Q_SETQUOTA, PRJQUOTA), projid, &q);
}

int vs_quota_get(const char *path, uint32_t projid, uint64_t *ret_used, uint64_t *ret_inodes, uint64_t *ret_limit)
{
        struct if_dqblk q = { 0 };
        int r = qctl(path, QCMD(Q_GETQUOTA, PRJQUOTA), projid, &q);

        /* XFS keeps no record of a project that has no use and no limit
         * (never had, or no longer has once its files are freed): ENOENT. */
        if (r == -ENOENT)
                r = 0;
        if (r < 0)
                return r;
        if (ret_used)
                *ret_used = q.dqb_curspace;
        if (ret_inodes)
                *ret_inodes = q.dqb_curinodes;
        if (ret_limit)
                *ret_limit = q.dqb_bhardlimit * QIF_DQBLKSIZE;
        return 0;
}

/* ---- the guests' ids ------------------------------------------------------ */

void vs_project_list_free(struct vs_guest_project *v, size_t n)
{
        vs_confdir_values_free(v, n, sizeof(*v));
}

static int project_parse(const char *value, void *elem)
{
        struct vs_guest_project *g = elem;
        uint64_t id;
        int r = vs_parse_uint(value, 1, VS_PROJECT_MAX, &id);

        if (r == 0)
                g->id = (uint32_t)id;
        return r;
}

int vs_project_list(const char *confdir, struct vs_guest_project **ret, size_t *ret_n)
{
        static_assert(offsetof(struct vs_guest_project, name) == 0, "the name comes first");
        return vs_confdir_values(confdir, "disk", "project", sizeof(**ret), project_parse, ret, ret_n);
}
