/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#define _XOPEN_SOURCE_EXTENDED 1
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cleanup.h"
#include "disk.h"

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

int vs_mount_overlay(const char *lower, const char *upper, const char *work, const char *target)
{
        _cleanup_free_ char *data = NULL;
        const char *paths[] = { lower, upper, work };

        for (size_t i = 0; i < 3; i++)
                if (strpbrk(paths[i], ",:\\"))
                        return -EINVAL;
        if (asprintf(&data, "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work) < 0)
                return -ENOMEM;
        if (mount("overlay", target, "overlay", 0, data) < 0)
                return -errno;
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
