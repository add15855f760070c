/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Project quotas (ext4, XFS): the size limit of a guest whose root is a
 * plain tree on the host's filesystem (layouts dir and shared). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Project ids vs-build hands out start here, clear of the small numbers an
 * administrator's own /etc/projid tends to use. */
#define VS_PROJECT_MIN UINT32_C(100000)
#define VS_PROJECT_MAX UINT32_C(4294967294)

/* The filesystem holding a path, as /proc/self/mountinfo names it, and
 * whether it accounts and enforces project quotas. */
struct vs_quota_fs {
        char type[32];    /* "ext4", "xfs", ... */
        char source[256]; /* the device, e.g. "/dev/vdb1" */
        char target[512]; /* its mount point */
        bool accounting;  /* project usage is counted */
        bool enforced;    /* project limits are enforced */
};

/* Finds in the mountinfo text @text the mount of device @dev whose mount
 * point is the longest prefix of the absolute, resolved path @path; fills
 * @ret's type, source and target. -ENOENT when there is none. */
int vs_mountinfo_find(const char *text, dev_t dev, const char *path, struct vs_quota_fs *ret);

/* Describes the filesystem of @path in @ret (quotactl Q_XGETQSTATV). A
 * filesystem without quotas is no error: @ret says so. */
int vs_quota_fs(const char *path, struct vs_quota_fs *ret);

/* What to change so that @fs enforces project quotas, as one sentence for
 * a message (no capital, no full stop), into @buf. */
void vs_quota_advice(const struct vs_quota_fs *fs, char *buf, size_t len);

/* The lowest project id from VS_PROJECT_MIN on that is not in @used (@n
 * ids) and for which @in_use (when not NULL) says false: 0 when none is. */
uint32_t vs_project_pick(const uint32_t *used, size_t n, bool (*in_use)(uint32_t id, void *data), void *data);

/* Gives every inode of the tree @path (not crossing into other
 * filesystems) project id @projid, directories with the inherit flag so
 * that what is made in them later gets it too. Regular files and
 * directories take it through FS_IOC_FSSETXATTR; symbolic links, device
 * nodes and FIFOs, which no ioctl reaches, through file_setattr(2) (Linux
 * 6.17) or, before it, by making them anew in place (the new inode
 * inherits the id; owner, mode, times and extended attributes are copied)
 * when @remake is true; sockets and special files with several links are
 * left. The count of inodes changed goes to @ret_count, of those left to
 * @ret_left. */
int vs_project_set_tree(const char *path, uint32_t projid, bool remake, uint64_t *ret_count, uint64_t *ret_left);

/* The project id of @path (0: none). */
int vs_project_get(const char *path, uint32_t *ret);

/* Sets project @projid's block limit on the filesystem of @path to @bytes
 * (0: none), soft and hard alike. */
int vs_quota_set_limit(const char *path, uint32_t projid, uint64_t bytes);

/* Reads project @projid's use (bytes, inodes) and block limit on the
 * filesystem of @path, all 0 for a project the filesystem has no record
 * of. -ESRCH: project quotas are off there. */
int vs_quota_get(const char *path, uint32_t projid, uint64_t *ret_used, uint64_t *ret_inodes, uint64_t *ret_limit);

/* The project ids the guests configured in @confdir hold ([disk] project),
 * each with its guest's name; only that key is read. */
struct vs_guest_project {
        char *name;
        uint32_t id;
};
int vs_project_list(const char *confdir, struct vs_guest_project **ret, size_t *ret_n);
void vs_project_list_free(struct vs_guest_project *v, size_t n);
