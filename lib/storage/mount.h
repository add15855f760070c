/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "error.h"

/* The guest's filesystem is set up from a plan: a list of operations built as
 * data, printed by `vs-start --dry-run`, applied in one loop. Every target is
 * a path inside the guest's root and is resolved there (openat2 with
 * RESOLVE_IN_ROOT), so a symlink in the rootfs can never redirect a mount to
 * the host; mounts go onto /proc/self/fd/N of the resolved target. */
enum vs_mount_kind {
        VS_MOUNT_FS,        /* mount a filesystem of type fstype on target (dir) */
        VS_MOUNT_BIND,      /* bind source onto target; remounted with flags if MS_RDONLY */
        VS_MOUNT_BIND_SELF, /* bind target (inside the guest) onto itself, then remount with flags */
        VS_MOUNT_MASK,      /* hide target: an empty read-only file of a private tmpfs over a file,
                             * an empty read-only tmpfs over a dir */
        VS_MOUNT_MKDIR,
        VS_MOUNT_MKNOD,     /* character device @dev; where mknod is refused, a bind of the
                             * same node made on a private tmpfs (never the host's) */
        VS_MOUNT_SYMLINK,   /* target -> source (link text) */
        VS_MOUNT_REMOUNT,   /* change flags of the mount at target */
};

struct vs_mount_op {
        enum vs_mount_kind kind;
        const char *source;  /* host path for BIND (unless source_fd >= 0); link text for SYMLINK */
        char *target;        /* inside the guest */
        const char *fstype;
        unsigned long flags; /* MS_* */
        const char *data;
        mode_t mode;
        dev_t dev;
        int source_fd;       /* an open fd to bind instead of source, or -1 */
        bool detached;       /* source_fd is a detached mount (open_tree(2)), attached by moving it:
                              * a bind of a mount in no namespace is refused */
        bool optional;       /* failure is ignored (e.g. a mask the kernel lacks) */
        bool file;           /* target is a file (created empty when missing) */
        const char *origin;  /* "fstab:FILE:LINE" for messages, or NULL */
};

struct vs_mount_plan {
        struct vs_mount_op *ops;
        size_t n, cap;
        char **strings; /* owned copies */
        size_t n_strings;
};

/* Adds an op; strings are copied. Returns the op or NULL on ENOMEM. */
struct vs_mount_op *vs_mount_plan_add(struct vs_mount_plan *p, enum vs_mount_kind kind, const char *source,
                                      const char *target, const char *fstype, unsigned long flags,
                                      const char *data);
const char *vs_mount_plan_strdup(struct vs_mount_plan *p, const char *s);
void vs_mount_plan_free(struct vs_mount_plan *p);

/* What applying a plan keeps from one op to the next, and from one call of
 * vs_mount_plan_apply() to the next: the directory of the last target,
 * opened in the root (plans put their targets side by side, /dev/...,
 * /sys/fs/cgroup/..., so most ops resolve one component, not a path), and a
 * private tmpfs holding the empty file that masks files. */
struct vs_mount_apply {
        int rootfd;
        int empty_mnt;
        int nodes_mnt; /* private tmpfs of device nodes, or -1 */
        int stage_fd;  /* a directory of ours, outside the root, to attach those on where the
                        * kernel clones only from attached mounts (before 6.15), or -1 */
        char *dir; /* the kept directory's path in the root, or NULL */
        int dirfd;
};

/* Starts applying under the directory @rootfd (borrowed). */
void vs_mount_apply_init(struct vs_mount_apply *a, int rootfd);

/* Makes the nodes of the plan's MKNOD ops on a private tmpfs now, for
 * when mknod under the root is refused later. Call it before entering a
 * user namespace: there mknod fails on that tmpfs too, and the plan's
 * nodes then fail rather than come from anywhere else. */
int vs_mount_apply_prepare_nodes(struct vs_mount_apply *a, const struct vs_mount_plan *p);

/* Gives the nodes made by vs_mount_apply_prepare_nodes() to @uid:@gid (an
 * unprivileged guest's root, so that they are its own inside), with the
 * plan's modes. */
int vs_mount_apply_chown_nodes(struct vs_mount_apply *a, const struct vs_mount_plan *p, uid_t uid, gid_t gid);

/* Applies the plan's ops @from up to (not including) @to. On failure
 * returns -errno and says which op failed in @err (the op only: the
 * caller adds the errno's text). */
int vs_mount_plan_apply(const struct vs_mount_plan *p, size_t from, size_t to, struct vs_mount_apply *a,
                        struct vs_error *err);

/* Closes what @a kept. The last reference to the masks' private tmpfs
 * dissolves its detached mount (an RCU grace period): vs-start leaves that
 * to the close of every fd before the exec, when the host side is idle. */
void vs_mount_apply_done(struct vs_mount_apply *a);

/* Prints the plan, one op a line. */
void vs_mount_plan_print(const struct vs_mount_plan *p, FILE *f);

/* Makes a detached copy of the mount tree at @path (with its submounts if
 * @recursive), private and id-mapped through the user namespace
 * @userns_fd: files owned by ids 0..N on disk appear owned by that
 * namespace's ids 0..N. The copy's fd goes to @ret_fd (close-on-exec).
 * -EINVAL: a filesystem there refuses id-mapped mounts. */
int vs_mount_idmapped_clone(const char *path, bool recursive, int userns_fd, int *ret_fd);

/* Opens @path inside the tree at @rootfd, never leaving it (RESOLVE_IN_ROOT).
 * With @create, a missing last component is made as a directory (or an empty
 * file with @file), missing parents as directories. */
int vs_open_in_root(int rootfd, const char *path, int flags, bool create, bool file);

/* Reads the text of the symlink @path inside the tree at @rootfd: every
 * component but the last is resolved in that root, the last is not followed. */
int vs_readlink_in_root(int rootfd, const char *path, char *buf, size_t len);

/* Moves the caller into a copy of its mount namespace owned by a new, empty
 * user namespace, which locks every mount (see mount_namespaces(7), "locked
 * mounts"): the masks and read-only mounts of the plan can then be neither
 * unmounted nor remounted writable, even by root with CAP_SYS_ADMIN, and a
 * fresh proc or sysfs mount is refused as too revealing. Forks a short-lived
 * helper; the caller must be single-threaded. The helper is killed but not
 * yet reaped when this returns (its exit runs on another CPU meanwhile):
 * @helper is set to its pid, for vs_mount_ns_lock_reap() before the caller
 * execs. */
int vs_mount_ns_lock(pid_t *helper);
void vs_mount_ns_lock_reap(pid_t helper);
