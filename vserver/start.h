/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "config.h"
#include "guest.h"
#include "mount.h"

#define VS_STEP_SIZE 1024

/* What the start's child is doing: the mount plan's op @op (the supervisor
 * names it from its own copy of the plan, so the child only stores an int on
 * its hot path), or, with @op -1, @text. */
struct vs_step {
        volatile int op;
        char text[VS_STEP_SIZE - sizeof(int)];
};

/* Everything one start needs, shared by the supervisor and the child that
 * becomes the guest's init. */
struct vs_start_ctx {
        const char *name;
        struct vs_config *config;
        char *rootfs;
        char *rundir;
        struct vs_cgroup *cg;
        struct vs_mount_plan plan;
        size_t plan_cgroup;  /* index of the plan's first op that needs the guest's cgroup namespace */
        int halt_signal;
        int cg_view;         /* enum vs_cgroup_view: VS_CGVIEW_UNIFIED or _HYBRID */
        uint64_t caps_keep;
        const void *seccomp_bpf; /* the compiled filter, NULL: none */
        size_t seccomp_len;
        bool foreground;

        int lock_fd;       /* the guest's lock, held for the guest's life */
        int ready_fd;      /* tells the waiting vs-start how the start went; -1 in the foreground */
        char warnings[512]; /* said by vs-start once the guest is up: lines, each a warning */
        int console_master;
        int console_slave; /* kept open so the master never reads EIO */
        char *console_path;
        int log_fd;        /* NAME.console: what the console showed */
        int root_mnt_fd;   /* layout image: the root, mounted detached by the supervisor; else -1 */
        int nodes_mnt;     /* unprivileged: the device nodes, on a tmpfs the supervisor made; else -1 */
        int ptmx_fd;       /* O_PATH: the ptmx of the guest's devpts, from the child; served to vs-enter */

        struct vs_step *step; /* shared with the child: what it is doing, to name when it does not
                               * finish in time; NULL: none */

        pid_t init_pid;
        ssize_t cg_placed; /* index of the cgroup the child was cloned into, -1: none */
        uint64_t t0;       /* vs_now_usec() at start, for the startup profile */
};

/* Builds the mount plan for the guest (standard mounts, cgroup layout,
 * the guest's fstab). */
int vs_start_build_plan(struct vs_start_ctx *ctx, struct vs_error *err);

/* In the child made by clone(): waits for the supervisor, sets up the
 * guest's root and execs its init. Never returns. @sync_fd delivers the
 * go-ahead, and takes the guest's ptmx (vs_fd_send(), before the go-ahead
 * is read) to the supervisor; @status_fd (close-on-exec) carries an error
 * message back. */
void vs_start_child(struct vs_start_ctx *ctx, int sync_fd, int status_fd) __attribute__((noreturn));

/* Runs the supervisor: creates the cgroup, clones init, reports readiness,
 * serves the console until init exits, then tears everything down. Returns
 * the guest's exit status (0 for a clean power-off or halt) or -errno when
 * the start failed (with @err set). */
int vs_supervisor_run(struct vs_start_ctx *ctx, struct vs_error *err);

/* Unprivileged guests (vserver/start-userns.c), each a no-op for a
 * privileged guest. In vs-start: checks the layout and settles the guest's
 * host ids (lib/proc/idmap.h), recording an auto range in its config unless
 * @dry_run. */
int vs_userns_prepare(struct vs_start_ctx *ctx, bool dry_run, struct vs_error *err);
/* In the supervisor, around the clone of an unprivileged guest's init:
 * takes the guest's host uid and gid as effective ids (not the real,
 * saved and file-system ones), so the guest's user namespace is owned by
 * its own root and its per-user kernel counters are not host root's. The
 * end restores them (and aborts if it cannot). */
struct vs_userns_owner {
        uid_t uid;
        gid_t gid;
        int dumpable;
};
int vs_userns_owner_begin(const struct vs_start_ctx *ctx, struct vs_userns_owner *saved);
void vs_userns_owner_end(const struct vs_userns_owner *saved);
/* In the supervisor, once the child is cloned: writes its id maps, makes
 * the id-mapped root and sends it over @sync_fd, loads the device program,
 * raises MEMLOCK, hands the console and notify socket to guest root. */
int vs_userns_setup(struct vs_start_ctx *ctx, int sync_fd, struct vs_error *err);

/* Before the clone: an unprivileged guest's device nodes (ctx->nodes_mnt). */
int vs_userns_nodes(struct vs_start_ctx *ctx, struct vs_error *err);
/* In the supervisor, once the groups exist: moves the child into them and
 * delegates its leaf groups to guest root. */
int vs_userns_cgroups(struct vs_start_ctx *ctx, struct vs_error *err);
/* In the child, first: opens the plan's host bind sources and the guest's
 * root directory (@ret_rootdir), waits for vs_userns_setup(), takes the
 * guest's root ids. The id-mapped root in @ret_tree. */
int vs_userns_child_begin(struct vs_start_ctx *ctx, int sync_fd, int *ret_tree, int *ret_rootdir, struct vs_error *err);

/* Phase timing for the startup profile (VS_PROFILE=1 in the environment). */
void vs_profile_mark(struct vs_start_ctx *ctx, const char *phase);
