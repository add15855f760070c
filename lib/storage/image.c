/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#define _XOPEN_SOURCE_EXTENDED 1
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/capability.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "image.h"
#include "mount.h"

int vs_loop_attach(const char *image, bool readonly, char *ret_path)
{
        _cleanup_close_ int ctl = -1, img = -1;

        img = open(image, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOFOLLOW);
        if (img < 0)
                return -errno;
        ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        if (ctl < 0)
                return -errno;
        /* Another process may take the free device between the two calls:
         * LOOP_CONFIGURE then says EBUSY and we ask again. */
        for (int tries = 0; tries < 64; tries++) {
                struct loop_config cfg = { .fd = (unsigned)img };
                char path[32];
                int nr = ioctl(ctl, LOOP_CTL_GET_FREE);
                int fd;

                if (nr < 0)
                        return -errno;
                snprintf(path, sizeof(path), "/dev/loop%d", nr);
                fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
                if (fd < 0) {
                        if (errno == ENOENT)
                                continue;
                        return -errno;
                }
                cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR | (readonly ? LO_FLAGS_READ_ONLY : 0);
                snprintf((char *)cfg.info.lo_file_name, sizeof(cfg.info.lo_file_name), "%s", image);
                if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0) {
                        if (ret_path)
                                memcpy(ret_path, path, sizeof(path));
                        return fd;
                }
                int e = errno;
                close(fd);
                if (e != EBUSY)
                        return -e;
        }
        return -EBUSY;
}

int vs_mount_image(const char *image, const char *target, unsigned long flags)
{
        _cleanup_close_ int loop = -1;
        char dev[32];

        loop = vs_loop_attach(image, flags & MS_RDONLY, dev);
        if (loop < 0)
                return loop;
        if (mount(dev, target, "ext4", flags, NULL) < 0)
                return -errno;
        /* Closing the fd leaves the mount the device's only user. */
        return 0;
}

int vs_image_mount_fd(const char *image, bool readonly, unsigned attrs, int *ret_fd)
{
        _cleanup_close_ int loop = -1, fs = -1;
        char dev[32];
        int mnt;

        loop = vs_loop_attach(image, readonly, dev);
        if (loop < 0)
                return loop;
        fs = fsopen("ext4", FSOPEN_CLOEXEC);
        if (fs < 0)
                return -errno;
        if (fsconfig(fs, FSCONFIG_SET_STRING, "source", dev, 0) < 0 ||
            (readonly && fsconfig(fs, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0) ||
            fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        mnt = fsmount(fs, FSMOUNT_CLOEXEC, attrs | (readonly ? MOUNT_ATTR_RDONLY : 0));
        if (mnt < 0)
                return -errno;
        /* The superblock holds the device now; closing @loop leaves it the
         * only user, so the device detaches when the last mount is gone. */
        *ret_fd = mnt;
        return 0;
}

/* Overlay keeps the credentials of the process that creates it and makes
 * its work directory, copy-ups and whiteouts with them. On id-mapped
 * layers host uid 0 maps to no id there (EOVERFLOW, and the overlay goes
 * read-only): it is created under the guest's host root ids. Changing the
 * file-system uid from 0 drops the file capabilities from the effective
 * set; they are raised again for the creation, and everything is restored
 * after. */
static int create_as(int fs, uid_t uid, gid_t gid)
{
        struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
        struct __user_cap_data_struct saved[2], d[2];
        uid_t ouid;
        gid_t ogid;
        int r;

        if (syscall(SYS_capget, &h, saved) < 0)
                return -errno;
        ogid = (gid_t)setfsgid(gid);
        ouid = (uid_t)setfsuid(uid);
        if ((uid_t)setfsuid((uid_t)-1) != uid || (gid_t)setfsgid((gid_t)-1) != gid) {
                r = -EPERM;
                goto out;
        }
        memcpy(d, saved, sizeof(d));
        d[0].effective = d[0].permitted;
        d[1].effective = d[1].permitted;
        if (syscall(SYS_capset, &h, d) < 0) {
                r = -errno;
                goto out;
        }
        r = fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0 ? -errno : 0;
out:
        setfsuid(ouid);
        setfsgid(ogid);
        if (syscall(SYS_capset, &h, saved) < 0 && r == 0)
                r = -errno;
        return r;
}

int vs_overlay_mount_fd(const char *lower, const char *upper, const char *work, int userns_fd, uid_t uid,
                        gid_t gid, int *ret_fd)
{
        const char *paths[] = { lower, upper, work };
        _cleanup_close_ int fs = -1, lo = -1, up = -1, upd = -1, wkd = -1;
        int mnt, r;

        for (size_t i = 0; i < 3; i++)
                if (strpbrk(paths[i], ",:\\"))
                        return -EINVAL;
        fs = fsopen("overlay", FSOPEN_CLOEXEC);
        if (fs < 0)
                return -errno;
        if (fsconfig(fs, FSCONFIG_SET_STRING, "source", "overlay", 0) < 0)
                return -errno;
        if (userns_fd < 0) {
                if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir", lower, 0) < 0 ||
                    fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
                    fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0 ||
                    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                        return -errno;
        } else {
                /* Overlay refuses to be id-mapped itself, but takes id-mapped
                 * layers. Upper and work must be on one mount: one clone of
                 * their common parent serves both. */
                const char *us = strrchr(upper, '/'), *ws = strrchr(work, '/');
                _cleanup_free_ char *parent = NULL;

                if (!us || !ws || us - upper != ws - work || strncmp(upper, work, (size_t)(us - upper)) != 0)
                        return -EINVAL;
                parent = us == upper ? strdup("/") : strndup(upper, (size_t)(us - upper));
                if (!parent)
                        return -ENOMEM;
                r = vs_mount_idmapped_clone(lower, false, userns_fd, &lo);
                if (r == 0)
                        r = vs_mount_idmapped_clone(parent, false, userns_fd, &up);
                if (r < 0)
                        return r;
                upd = openat(up, us + 1, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                wkd = openat(up, ws + 1, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (upd < 0 || wkd < 0)
                        return -errno;
                /* Layers by fd, detached mounts included: Linux 6.13. */
                if (fsconfig(fs, FSCONFIG_SET_FD, "lowerdir+", NULL, lo) < 0)
                        return errno == EINVAL ? -EOPNOTSUPP : -errno;
                if (fsconfig(fs, FSCONFIG_SET_FD, "upperdir", NULL, upd) < 0 ||
                    fsconfig(fs, FSCONFIG_SET_FD, "workdir", NULL, wkd) < 0)
                        return -errno;
                r = create_as(fs, uid, gid);
                if (r < 0)
                        return r;
        }
        mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
        if (mnt < 0)
                return -errno;
        *ret_fd = mnt;
        return 0;
}

int vs_overlay_fd_layers(void)
{
        _cleanup_close_ int fs = -1, dir = -1;

        fs = fsopen("overlay", FSOPEN_CLOEXEC);
        if (fs < 0)
                return -errno;
        dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return -errno;
        if (fsconfig(fs, FSCONFIG_SET_FD, "lowerdir+", NULL, dir) < 0)
                return errno == EINVAL ? -EOPNOTSUPP : -errno;
        return 0;
}

int vs_fs_available(const char *path, uint64_t *ret)
{
        struct statvfs sv;
        if (statvfs(path, &sv) < 0)
                return -errno;
        *ret = (uint64_t)sv.f_bavail * sv.f_frsize;
        return 0;
}

static uint64_t usage_sum;

static int usage_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
        (void)p;
        (void)type;
        (void)ftw;
        /* nftw with FTW_PHYS reports each hard-linked inode once per name:
         * count a multiply-linked file at 1/nlink per name. */
        if (S_ISREG(st->st_mode) && st->st_nlink > 1)
                usage_sum += (uint64_t)st->st_blocks * 512 / st->st_nlink;
        else
                usage_sum += (uint64_t)st->st_blocks * 512;
        return 0;
}

int vs_tree_usage(const char *path, uint64_t *ret)
{
        usage_sum = 0;
        if (nftw(path, usage_one, 32, FTW_PHYS | FTW_MOUNT) < 0)
                return -errno;
        *ret = usage_sum;
        return 0;
}
