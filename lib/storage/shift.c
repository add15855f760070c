/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shifting a tree's ids, for an unprivileged guest on a file system that
 * cannot id-map: done once, at build, instead of an id-mapped mount at
 * every start. Owners, the ids named in POSIX ACLs and the root id of
 * namespaced file capabilities move by the same amount; setuid and setgid
 * bits, which chown(2) clears, are put back. */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cleanup.h"
#include "shift.h"

/* The on-disk forms (linux/posix_acl_xattr.h, linux/capability.h). */
#define ACL_XATTR_VERSION 0x0002
#define ACL_USER 0x02
#define ACL_GROUP 0x08
#define CAP_REVISION_MASK 0xFF000000u
#define CAP_REVISION_3 0x03000000u
#define CAP_V3_SIZE 24

static int shift_id(const struct vs_shift *s, uint32_t *id)
{
        if ((uint64_t)*id < s->from || (uint64_t)*id >= s->from + s->count)
                return 0; /* outside the range: left as it is (nobody inside) */
        *id = (uint32_t)(*id - s->from + s->to);
        return 1;
}

static int shift_acl(int fd, const char *name, const struct vs_shift *s)
{
        char path[64], buf[4096];
        ssize_t n;
        int changed = 0;

        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        n = getxattr(path, name, buf, sizeof(buf));
        if (n < 0)
                return errno == ENODATA || errno == EOPNOTSUPP ? 0 : -errno;
        if (n < 4 || (n - 4) % 8 != 0 || (buf[0] | buf[1] << 8) != ACL_XATTR_VERSION)
                return -EBADMSG;
        for (ssize_t off = 4; off < n; off += 8) {
                uint16_t tag;
                uint32_t id;
                memcpy(&tag, buf + off, 2);
                memcpy(&id, buf + off + 4, 4);
                if ((tag == ACL_USER || tag == ACL_GROUP) && shift_id(s, &id)) {
                        memcpy(buf + off + 4, &id, 4);
                        changed = 1;
                }
        }
        if (changed && setxattr(path, name, buf, (size_t)n, XATTR_REPLACE) < 0)
                return -errno;
        return 0;
}

/* A change of owner drops the file's capabilities (and its setuid bits):
 * read before, written back after. A v3 capability names the root it
 * applies under, which moves with the rest; v2 (no root id) applies in
 * every namespace and is written back as it was. */
static ssize_t read_caps(const char *path, char buf[static CAP_V3_SIZE])
{
        ssize_t n = getxattr(path, "security.capability", buf, CAP_V3_SIZE);
        if (n < 0)
                return errno == ENODATA || errno == EOPNOTSUPP || errno == ERANGE ? 0 : -errno;
        return n;
}

static int write_caps(const char *path, char buf[static CAP_V3_SIZE], ssize_t n, const struct vs_shift *s)
{
        uint32_t magic, root;

        memcpy(&magic, buf, 4);
        if (n == CAP_V3_SIZE && (magic & CAP_REVISION_MASK) == CAP_REVISION_3) {
                memcpy(&root, buf + 20, 4);
                if (shift_id(s, &root))
                        memcpy(buf + 20, &root, 4);
        }
        return setxattr(path, "security.capability", buf, (size_t)n, 0) < 0 ? -errno : 0;
}

static int shift_one(int dirfd, const char *name, const struct stat *st, const struct vs_shift *s)
{
        uint32_t uid = st->st_uid, gid = st->st_gid;
        _cleanup_close_ int fd = -1;
        char path[64], caps[CAP_V3_SIZE];
        ssize_t ncaps = 0;
        int r;

        shift_id(s, &uid);
        shift_id(s, &gid);
        if (S_ISLNK(st->st_mode)) {
                if ((uid != st->st_uid || gid != st->st_gid) &&
                    fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                return 0;
        }
        /* By O_PATH, never opening a device or a FIFO; the xattr calls go
         * through /proc/self/fd, which follows no symlink of the tree. */
        fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        if (S_ISREG(st->st_mode)) {
                ncaps = read_caps(path, caps);
                if (ncaps < 0)
                        return (int)ncaps;
        }
        if ((uid != st->st_uid || gid != st->st_gid) && fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if ((st->st_mode & (S_ISUID | S_ISGID)) && !S_ISDIR(st->st_mode) &&
            fchmodat(dirfd, name, st->st_mode & 07777, 0) < 0)
                return -errno;
        r = shift_acl(fd, "system.posix_acl_access", s);
        if (r == 0 && S_ISDIR(st->st_mode))
                r = shift_acl(fd, "system.posix_acl_default", s);
        if (r == 0 && ncaps > 0)
                r = write_caps(path, caps, ncaps, s);
        return r;
}

static int shift_dir(int dirfd, dev_t dev, const struct vs_shift *s, unsigned depth)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd, r;

        if (depth > 4096)
                return -ELOOP;
        fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return r;
        }
        while ((errno = 0, de = readdir(d))) {
                struct stat st;
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (st.st_dev != dev)
                        continue; /* a mount below: not this tree's */
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub =
                                openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0)
                                return -errno;
                        r = shift_dir(sub, dev, s, depth + 1);
                        if (r < 0)
                                return r;
                }
                r = shift_one(dirfd, de->d_name, &st, s);
                if (r < 0)
                        return r;
        }
        return errno ? -errno : 0;
}

int vs_tree_shift(const char *root, const struct vs_shift *s)
{
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        if (s->from == s->to)
                return 0;
        fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0)
                return -errno;
        r = shift_dir(fd, st.st_dev, s, 0);
        if (r < 0)
                return r;
        /* The root last: until now it kept the tree closed to the ids it
         * goes to. */
        return shift_one(fd, ".", &st, s);
}
