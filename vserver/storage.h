/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "guest.h"

/* A guest's storage, by layout (vserver.conf(5), [disk]):
 *   dir     NAME/rootfs is the tree
 *   image   NAME/disk.img, an ext4 image loop-mounted on NAME/rootfs inside
 *           the guest's own mount namespace only
 *   shared  NAME/upper + NAME/work over NAME/lower, a symlink to a versioned,
 *           never-changed copy of a template tree in GUESTDIR/.templates;
 *           the overlay is mounted on NAME/rootfs inside the guest only.
 * A template version in use by any guest (a "lower" link names it) is never
 * removed; a rebuilt template gets a new version. */

struct vs_config;

/* Mounts the root of the guest whose directory is @dir on @dir/rootfs,
 * by layout: nothing for dir. Meant for a private mount namespace: the
 * loop device of an image goes away with it. */
int vs_disk_mount_root(const char *dir, int layout, struct vs_error *err);

/* The root of the shared guest in @dir as a detached overlay mount in
 * @ret_fd: its template version under its upper layer. With @userns_fd >=
 * 0, on layers id-mapped through that namespace and created under the
 * host ids @uid:@gid (vs_overlay_mount_fd()). On failure @err says what
 * failed. */
int vs_disk_shared_root_fd(const char *dir, int userns_fd, uid_t uid, gid_t gid, int *ret_fd, struct vs_error *err);

/* Refuses a size of 0 or above the free space where guests live. */
int vs_disk_check_size(uint64_t size, struct vs_error *err);

/* Turns the tree @dir/rootfs into the ext4 image @dir/disk.img of @size
 * bytes (mke2fs -d: no mount needed), then leaves @dir/rootfs an empty
 * mount point. */
int vs_disk_make_image(const char *dir, uint64_t size, vs_say_fn *say, void *say_data, struct vs_error *err);

/* For a shared guest being built in @dir: makes (or finds) the read-only
 * versioned copy of the template tree @cache_tree, links @dir/lower to it
 * and makes @dir/upper and @dir/work. */
int vs_disk_shared_attach(const char *cache_tree, const char *dir, vs_say_fn *say, void *say_data, struct vs_error *err);

/* Removes template versions no guest uses any more, except the current
 * version of each template. */
void vs_disk_templates_gc(void);

/* Copies the storage of guest @src (layout @layout) into the new guest
 * directory @dir. */
int vs_disk_copy(const char *src, int layout, const char *dir, struct vs_error *err);

/* Freezes (@freeze) or thaws the running guest @name's processes. */
int vs_disk_freeze(const char *name, bool freeze, struct vs_error *err);
/* Kills every process of guest @name while it is frozen (vs_disk_freeze):
 * none runs again, not even for the moment between the thaw and its PID
 * namespace's end. */
int vs_disk_kill_frozen(const char *name, struct vs_error *err);

/* Runs @fn on the root of the guest in @dir, mounted (for image and shared)
 * in a child's private mount namespace; @rootfd is an O_PATH fd of the root.
 * Returns what @fn returned. */
int vs_disk_with_root(const char *dir, int layout, int (*fn)(int rootfd, const char *root, void *data, struct vs_error *err), void *data,
                      struct vs_error *err);

/* Bytes used and the size of the guest's root: for image the ext4 figures,
 * for shared the upper layer (size 0: none), for dir the tree. */
int vs_disk_usage(const char *name, int layout, pid_t init_pid, uint64_t *ret_used, uint64_t *ret_size);

/* Grows the stopped image guest @name to @size bytes (e2fsck, resize2fs). */
int vs_disk_grow(const char *name, uint64_t size, struct vs_error *err);

/* Imports a root tarball (.tar, .tar.gz/.tgz, .tar.xz, .tar.zst) into
 * @dir/rootfs, refusing members that would land outside it. */
int vs_disk_import_tar(const char *tarball, const char *dir, vs_say_fn *say, void *say_data, struct vs_error *err);

/* vs-build --clone / --from-tar (vserver/build-other.c), called by
 * vs_guest_build() with the new guest's temporary directory @tmp. */
struct vs_build_opts;
int vs_build_other_config(const struct vs_build_opts *o, struct vs_config **ret, struct vs_error *err);
int vs_build_source_layout(const char *name);
int vs_build_clone(const struct vs_build_opts *o, struct vs_config *c, const char *tmp, struct vs_error *err);
int vs_build_from_tar(const struct vs_build_opts *o, struct vs_config *c, const char *tmp, struct vs_error *err);
/* Gives the copy in @dir (layout @layout) its own identity: host name
 * @hostname, a new machine id, new SSH host keys. */
int vs_build_fix_identity(const char *dir, int layout, const char *hostname, struct vs_error *err);
