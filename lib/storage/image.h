/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Attaches @image to a free loop device with LO_FLAGS_AUTOCLEAR (through
 * /dev/loop-control and LOOP_CONFIGURE): the device detaches itself once
 * the last user lets go, i.e. when the returned fd is closed and every
 * mount of it is gone. Returns the loop fd; the device's path goes to
 * @ret_path (at least 32 bytes). */
int vs_loop_attach(const char *image, bool readonly, char *ret_path);

/* Mounts the ext4 image @image on @target (a directory) through an
 * auto-clearing loop device, so the device goes away with the mount; meant
 * to be called inside a private mount namespace, where the mount (and the
 * device) dies with the namespace. */
int vs_mount_image(const char *image, const char *target, unsigned long flags);

/* Mounts the ext4 image @image through an auto-clearing loop device as a
 * detached mount (fsopen/fsmount, MOUNT_ATTR_* @attrs) and returns its fd
 * in @ret_fd (close-on-exec). The device is opened by the caller, so a
 * process whose device policy forbids block devices can still attach the
 * mount with move_mount(2); closing every fd of an unattached mount, or
 * the end of the namespace it was moved into, releases the device. */
int vs_image_mount_fd(const char *image, bool readonly, unsigned attrs, int *ret_fd);

/* Makes a detached overlay mount of @lower (read-only) and @upper/@work
 * (close-on-exec, in @ret_fd), for move_mount(2). With @userns_fd >= 0
 * the layers are id-mapped through that user namespace, so files owned by
 * host ids 0..65535 on disk appear owned by its ids, and the overlay is
 * created under the host ids @uid:@gid (its root's): the lower tree stays
 * one copy whatever the namespace, and copy-ups land unshifted in @upper.
 * Then @upper and @work must be in one directory; a kernel that cannot
 * take layers by fd (before 6.13) gives -EOPNOTSUPP. Paths with ',', ':'
 * or '\' are refused (-EINVAL): overlay's option syntax cannot carry them
 * unambiguously. */
int vs_overlay_mount_fd(const char *lower, const char *upper, const char *work, int userns_fd, uid_t uid,
                        gid_t gid, int *ret_fd);

/* 0 when overlay takes its layers by fd (Linux 6.13), as an unprivileged
 * shared guest's id-mapped layers need; -EOPNOTSUPP when it does not. */
int vs_overlay_fd_layers(void);

/* Bytes available to root on the filesystem holding @path. */
int vs_fs_available(const char *path, uint64_t *ret);

/* Bytes a tree takes on disk (allocated blocks, hard links counted once),
 * never crossing into other filesystems. */
int vs_tree_usage(const char *path, uint64_t *ret);
