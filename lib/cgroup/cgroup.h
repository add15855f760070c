/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* One cgroup hierarchy as the host has it mounted. On a v2 host there is
 * exactly one (controllers ""); on a v1 host one per mounted hierarchy, e.g.
 * "memory", "cpu,cpuacct", "name=systemd", and the hybrid's cgroup2 tree
 * (controllers "", v2 = true). */
struct vs_cgroup_hier {
        char *controllers; /* comma list as in /proc/self/cgroup; "" for cgroup2 */
        char *mount;       /* where the host has it mounted */
        char *base;        /* the caller's own group in it, relative to the mount */
        bool v2;
};

struct vs_cgroup;

/* The per-version backend. Every operation works on host paths under the
 * hierarchies found by vs_cgroup_detect(), so a unit test can point it at a
 * fake tree in a temporary directory. */
struct vs_cgroup_ops {
        const char *name; /* "v1" or "v2" */
        /* Creates PARENT/vservers/NAME and NAME/guest in the hierarchies
         * @what names (VS_CG_*), with the device policy on NAME. On failure
         * removes the groups this call made. */
        int (*create)(struct vs_cgroup *cg, unsigned what);
        /* Signals every process in the guest's groups. */
        int (*kill)(struct vs_cgroup *cg, int sig);
        /* Removes the guest's groups (and vservers/ when it is empty). */
        int (*destroy)(struct vs_cgroup *cg);
};

struct vs_cgroup {
        const struct vs_cgroup_ops *ops;
        char *name;
        char *parent; /* "vservers", below the caller's own group */
        size_t n_hier;
        struct vs_cgroup_hier *hier;
        char **paths; /* host path of the guest's group, one per hierarchy */
        unsigned devices; /* VS_DEV_* extras allowed besides the basic nodes */
};

/* The guest's processes live in a child of its group, PATH/guest, which is
 * also the root of its cgroup namespace: the limits sit on PATH, above
 * anything the guest can see or write, and on v2 PATH holds no process of
 * its own (no internal processes). */
#define VS_CGROUP_LEAF "guest"

/* What ops->create makes. vs-start makes a guest's groups in two steps:
 * the cgroup2 group its child is cloned into, then, while that child sets
 * up the guest's mounts, the v1 groups; the child itself loads the device
 * program (vs_cgroup_device_program). */
#define VS_CG_FIRST 1u   /* the cgroup2 group (vs_cgroup_unified_index), no device program */
#define VS_CG_REST 2u    /* every other group, with the v1 device lists */
#define VS_CG_PROGRAM 4u /* the cgroup2 device program */
#define VS_CG_ALL (VS_CG_FIRST | VS_CG_REST | VS_CG_PROGRAM)

extern const struct vs_cgroup_ops vs_cgroup_v1_ops;
extern const struct vs_cgroup_ops vs_cgroup_v2_ops;

/* Finds the host's hierarchies from the text of /proc/self/mountinfo and
 * /proc/self/cgroup (pass NULL to read the real ones) and picks the backend:
 * v2 when a cgroup2 filesystem is mounted and no v1 controller hierarchy is,
 * v1 otherwise. Prepares paths for guest @name under @parent. */
int vs_cgroup_detect(const char *name, const char *parent, const char *mountinfo, const char *self_cgroup,
                     struct vs_cgroup **ret);

/* Rebuilds a cgroup handle from paths (and their controllers, which may be
 * NULL) saved in a guest's run state. */
int vs_cgroup_from_paths(const char *name, const char *backend, char **paths, char **controllers,
                         struct vs_cgroup **ret);

void vs_cgroup_free(struct vs_cgroup *cg);
static inline void vs_cgroup_freep(struct vs_cgroup **cg) { vs_cgroup_free(*cg); }
#define _cleanup_cgroup_ __attribute__((cleanup(vs_cgroup_freep)))

/* Counts processes in the guest's groups (first hierarchy that has any). */
int vs_cgroup_count_procs(struct vs_cgroup *cg, size_t *ret);

/* Removes the guest's groups (and the parent where it is empty) when
 * nothing is left in them: the leaf and the group itself in each hierarchy,
 * one rmdir each. Fails with -EBUSY (or another -errno) at the first that
 * the kernel refuses, having removed those before it; the caller then
 * kills and waits (ops->kill, ops->destroy). */
int vs_cgroup_remove_quick(struct vs_cgroup *cg);

/* For each of a guest's groups @paths (host paths ending in @tail, such as
 * "/vservers/NAME"; @controllers as in the run state, "-" for cgroup2), the
 * host path of the group @pid is in below it, read from /proc/PID/cgroup;
 * "" where @pid is not below that group. A NULL-terminated list in @ret. */
int vs_cgroup_pid_groups(pid_t pid, const char *tail, char **paths, char **controllers, char ***ret);


/* Writes @pid into PATH/cgroup.procs. */
int vs_cgroup_attach_path(const char *path, pid_t pid);
/* Moves the calling process, which must be single-threaded, into the group
 * at @path: cheaply on v1 (see lib/cgroup/cgroup.c). */
int vs_cgroup_attach_self_path(const char *path);
/* Moves the calling single-threaded process into the guest's leaf in every
 * hierarchy but the one at index @skip (-1: none). */
int vs_cgroup_attach_self(struct vs_cgroup *cg, ssize_t skip);
/* Hands the guest's leaf (PATH/" VS_CGROUP_LEAF ") in every hierarchy to the
 * guest's root, host ids @uid and @gid, as systemd expects of a delegated
 * group: the directory and the files that move processes and enable
 * controllers below it (cgroup.procs, cgroup.threads,
 * cgroup.subtree_control; v1 tasks, cgroup.clone_children,
 * notify_on_release). The limits stay on PATH, which remains the host's.
 * Not on a v1 blkio hierarchy, whose leaf holds the I/O limits itself. */
int vs_cgroup_delegate(struct vs_cgroup *cg, uid_t uid, gid_t gid);
/* Index in @cg->paths of the guest's cgroup v2 group (the v2 backend's
 * only one, the hybrid's unified tree), -1 if none. */
ssize_t vs_cgroup_v2_index(const struct vs_cgroup *cg);

/* Whether the v2 backend's own group (the one vs-start runs in, which it
 * must rearrange: its processes move into a leaf beside vservers/) is
 * delegated to us by its manager. systemd (since 251) marks the group of a
 * unit with Delegate=yes, and nothing else, with the xattr trusted.delegate
 * (user.delegate for a user manager); a group inside such a group is ours
 * too. Returns 1 when it or a group above it is so marked, 0 when none is
 * (then *ret_unit, if not NULL, gets the nearest systemd unit above it, a
 * ".service" or ".scope" name, or NULL), -errno on failure. Only meaningful
 * where systemd manages the tree. */
int vs_cgroup_v2_delegated(const struct vs_cgroup *cg, char **ret_unit);
/* The same from the hierarchies as detected, before the group exists (a
 * unit test's fake tree counts too). */
ssize_t vs_cgroup_unified_index(const struct vs_cgroup *cg);
/* Loads the guest's device program and attaches it to its cgroup2 group,
 * when there is one and it is a real cgroup2 directory. */
int vs_cgroup_device_program(struct vs_cgroup *cg);

/* ---- limits and statistics --------------------------------------------- */

/* What a guest may use; 0 or NULL leaves a setting alone. */
struct vs_cgroup_limits {
        uint64_t cpu_weight;   /* 1..10000, 100 is the default share */
        uint64_t cpu_max;      /* percent of one CPU */
        const char *cpus;      /* cpuset list */
        uint64_t memory;       /* bytes: the RSS limit */
        uint64_t pids;
};

/* One row of the mapping from a setting to cgroup files: the single place
 * where it is written down (and documented in vserver.conf(5)). */
struct vs_cgroup_limit_map {
        const char *setting;       /* config key, "cpu.weight" ... */
        const char *controller;    /* which hierarchy (v1) or controller (v2) */
        const char *v2_file;
        const char *v1_file;
        const char *v1_extra_file; /* also written on v1, when the kernel has it */
        const char *conversion;    /* how the value is written, for the docs */
        const char *v2_extra_file; /* also written on v2, when the kernel has it */
        const char *v2_extra_value;
};
extern const struct vs_cgroup_limit_map vs_cgroup_limit_table[];
extern const size_t vs_cgroup_limit_table_size;

/* Writes every set limit to the guest's groups. On failure names the file
 * in @err. */
int vs_cgroup_set_limits(struct vs_cgroup *cg, const struct vs_cgroup_limits *l, struct vs_error *err);

struct vs_cgroup_stats {
        uint64_t cpu_usec;      /* CPU time used */
        uint64_t memory_bytes;  /* what the RSS limit counts */
        uint64_t anon_bytes;    /* anonymous memory */
        uint64_t pids;
        uint64_t oom_kills;     /* by the kernel's OOM killer */
};
/* Reads the guest's usage; fields the host lacks stay 0. */
int vs_cgroup_read_stats(struct vs_cgroup *cg, struct vs_cgroup_stats *ret);

/* The host path of the guest's group in the hierarchy holding @controller
 * (v1), or the unified group (v2); NULL when there is none. */
const char *vs_cgroup_controller_path(const struct vs_cgroup *cg, const char *controller);

/* Lists the pids in the guest's group for @controller and its sub-groups. */
int vs_cgroup_list_pids(const struct vs_cgroup *cg, const char *controller, pid_t **ret, size_t *ret_n);

/* Freezes (or thaws) every process of the guest's group and waits until
 * the kernel says they are frozen (lib/cgroup/cgroup-freeze.c). */
int vs_cgroup_freeze(struct vs_cgroup *cg, bool freeze);
/* SIGKILLs every process of the group vs_cgroup_freeze() freezes (and its
 * sub-groups). Sent while they are frozen, it takes them all at the thaw,
 * before any runs again in user space. */
int vs_cgroup_kill_frozen(struct vs_cgroup *cg);
