/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unprivileged guests (guest.userns = yes): the guest's init is cloned into
 * a user namespace of its own together with its other namespaces, so that
 * namespace owns them all and guest root has capabilities over them and
 * nothing else. What needs the host's privileges is done here, by the
 * supervisor, while the child waits: the id maps, the id-mapped mount of
 * the root, the device program, the MEMLOCK limit, the cgroups. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "idmap.h"
#include "paths.h"
#include "pty.h"
#include "start.h"
#include "storage.h"
#include "util.h"

int vs_userns_prepare(struct vs_start_ctx *ctx, bool dry_run, struct vs_error *err)
{
        struct vs_config *c = ctx->config;
        struct vs_idmap_result res;
        int r;

        /* A tree shifted at build holds host ids: only the range it was
         * shifted to may run it, and only unprivileged. */
        if (c->idmap_shifted && (!c->userns || c->idmap_host != c->idmap_shifted)) {
                return vs_error_set(err, EINVAL, "%s: key \"guest.shifted\": the files of \"%s\" were shifted to host ids from %llu "
                                    "at build (their file system cannot id-map): it runs only with userns = yes and "
                                    "idmap = %llu:%llu",
                               c->path, ctx->name, (unsigned long long)c->idmap_shifted,
                               (unsigned long long)c->idmap_shifted, (unsigned long long)VS_IDMAP_COUNT);
        }
        if (!c->userns)
                return 0;
        if (dry_run && !c->idmap_count)
                return 0; /* chosen at the real start */
        r = vs_idmap_assign(vs_confdir(), c->path, ctx->name, c->idmap_host, c->idmap_count, vs_subuid_path(),
                            vs_subgid_path(), &res);
        if (r == -EEXIST) {
                return vs_error_set(err, r, "%s: key \"guest.idmap\": the host ids %llu:%llu of \"%s\" overlap %llu:%llu of guest \"%s\"",
                                    c->path, (unsigned long long)c->idmap_host, (unsigned long long)c->idmap_count,
                                    ctx->name, (unsigned long long)res.conflict_host, (unsigned long long)res.conflict_count,
                                    res.conflict);
        }
        if (r == -ENOSPC) {
                return vs_error_set(err, r, "No 65536 free host ids left for \"%s\" in root's ranges of %s and %s", ctx->name,
                                    vs_subuid_path(), vs_subgid_path());
        }
        if (r < 0) {
                return vs_error_set(err, r, "Cannot choose the host ids of \"%s\": %s", ctx->name, strerror(-r));
        }
        if (res.installed)
                vs_warn("vs-start: root had no subordinate ids: root:%llu:%llu added to %s%s%s",
                        (unsigned long long)res.added.start, (unsigned long long)res.added.count,
                        res.installed & 1 ? vs_subuid_path() : "", res.installed == 3 ? " and " : "",
                        res.installed & 2 ? vs_subgid_path() : "");
        c->idmap_host = res.host;
        c->idmap_count = res.count;
        return 0;
}

/* mknod is refused in a user namespace, and the host's own nodes have the
 * host's modes: the plan's nodes are made now, by host root, on a private
 * tmpfs (of the host's user namespace, so they open), owned by the guest's
 * root. The child binds them in where its mknod is refused. */
int vs_userns_nodes(struct vs_start_ctx *ctx, struct vs_error *err)
{
        const struct vs_config *c = ctx->config;
        struct vs_mount_apply a;
        int r;

        if (!c->userns)
                return 0;
        vs_mount_apply_init(&a, -1);
        r = vs_mount_apply_prepare_nodes(&a, &ctx->plan);
        if (r == 0)
                r = vs_mount_apply_chown_nodes(&a, &ctx->plan, (uid_t)c->idmap_host, (gid_t)c->idmap_host);
        if (r < 0) {
                vs_mount_apply_done(&a);
                return vs_error_set(err, r, "Cannot make the device nodes of \"%s\": %s", ctx->name, strerror(-r));
        }
        ctx->nodes_mnt = a.nodes_mnt;
        a.nodes_mnt = -1;
        vs_mount_apply_done(&a);
        return 0;
}

/* A user namespace is owned by the effective ids of the process that
 * creates it, and the kernel charges per-user counters (inotify instances,
 * user namespaces) made inside it to that owner in the parent namespace,
 * up the chain. Cloned under host root, every unprivileged guest would
 * share root's quota (fs.inotify.max_user_instances): the clone is made
 * under the guest's host ids instead. Only the effective ids change: the
 * real and saved ids stay 0, so the way back needs no privilege, and the
 * file-system ids stay 0, so the child still opens the host files it needs
 * (vs_userns_child_begin) and the clone still enters the cgroup it is
 * cloned into. No capability is needed for the clone itself: the new
 * namespace gives the child its own. */
int vs_userns_owner_begin(const struct vs_start_ctx *ctx, struct vs_userns_owner *saved)
{
        uid_t host = (uid_t)ctx->config->idmap_host;
        int r;

        saved->dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
        saved->uid = geteuid();
        saved->gid = getegid();
        if (setresgid(-1, host, -1) < 0)
                return -errno;
        if (setresuid(-1, host, -1) < 0) {
                r = -errno;
                vs_userns_owner_end(saved);
                return r;
        }
        /* Both return the previous id; a second call tells whether the
         * first took. */
        setfsuid(saved->uid);
        setfsgid(saved->gid);
        if ((uid_t)setfsuid((uid_t)-1) != saved->uid || (gid_t)setfsgid((gid_t)-1) != saved->gid) {
                vs_userns_owner_end(saved);
                return -EPERM;
        }
        return 0;
}

void vs_userns_owner_end(const struct vs_userns_owner *saved)
{
        /* A supervisor left under the guest's ids would be the guest's to
         * signal and trace: never go on like that. */
        if (setresuid(-1, saved->uid, -1) < 0 || setresgid(-1, saved->gid, -1) < 0)
                abort();
        /* Changing the effective uid made us undumpable. */
        if (saved->dumpable >= 0)
                (void)prctl(PR_SET_DUMPABLE, saved->dumpable, 0, 0, 0);
}

/* The guest's root, id-mapped through the guest's user namespace: files
 * owned by host ids 0..65535 on disk appear owned by the guest's ids, so
 * the same tree serves privileged and unprivileged guests, unchanged. The
 * dir layout's is a detached copy of the directory; an image's is the
 * image's own detached mount, not yet attached anywhere (as an id-mapping
 * needs); a shared guest's an overlay of id-mapped copies of its template
 * version and its upper layer (overlay cannot be id-mapped itself), so the
 * template stays one copy on disk and in the page cache for every guest. */
static int idmapped_root(const struct vs_start_ctx *ctx, int userns_fd, struct vs_error *err)
{
        /* Private as well: on older kernels (6.1) a clone of a shared
         * mount is its peer, so the guest's mounts below it would show up
         * on the host, and pivot_root refuses a shared root. */
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP,
                                   .userns_fd = (uint64_t)userns_fd,
                                   .propagation = MS_PRIVATE };
        _cleanup_close_ int tree = -1;

        /* The step, for the caller's message should one below fail: no
         * errno yet, which vs_error_set() would turn into EIO. */
        vs_error_clear(err);
        if (err)
                snprintf(err->msg, sizeof(err->msg), "making an id-mapped mount of %s", ctx->rootfs);
        if (vs_config_layout(ctx->config) == VS_LAYOUT_SHARED) {
                _cleanup_free_ char *dir = strdup(ctx->rootfs);
                char *slash = dir ? strrchr(dir, '/') : NULL;
                int r;

                if (!slash)
                        return -ENOMEM;
                *slash = '\0';
                r = vs_disk_shared_root_fd(dir, userns_fd, (uid_t)ctx->config->idmap_host,
                                           (gid_t)ctx->config->idmap_host, &tree, err);
                return r < 0 ? r : TAKE_FD(tree);
        }
        /* A tree shifted at build is already in the guest's host ids. */
        if (ctx->config->idmap_shifted)
                attr.attr_set = 0;
        if (ctx->root_mnt_fd >= 0)
                tree = fcntl(ctx->root_mnt_fd, F_DUPFD_CLOEXEC, 3);
        else
                tree = open_tree(AT_FDCWD, ctx->rootfs, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (tree < 0)
                return -errno;
        if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
                return -errno;
        return TAKE_FD(tree);
}

/* The guest's fstab binds are id-mapped like its root (see idmap_binds());
 * other binds (device nodes, the console) stay plain. */
static bool idmapped_bind(const struct vs_mount_op *op)
{
        return op->kind == VS_MOUNT_BIND && op->origin;
}

/* The guest's fstab binds, id-mapped by the supervisor (only host root may
 * id-map a host filesystem's mount) on copies the child makes: the child's
 * lookup of a source on a filesystem that hangs (NFS, FUSE) then falls
 * under the start timeout, as a privileged guest's does. Each comes back
 * to the child after the root, in the plan's order. */
static int idmap_binds(struct vs_start_ctx *ctx, int sync_fd, int userns, struct vs_error *err)
{
        const uint64_t deadline = vs_now_usec() + ctx->config->start_timeout * 1000000u;

        for (size_t i = 0; i < ctx->plan.n; i++) {
                const struct vs_mount_op *op = &ctx->plan.ops[i];
                struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns };
                struct pollfd p = { .fd = sync_fd, .events = POLLIN };
                _cleanup_close_ int bind = -1;
                uint64_t now;
                int r;

                if (!idmapped_bind(op))
                        continue;
                do {
                        now = vs_now_usec();
                        r = now >= deadline ? 0 : poll(&p, 1, (int)((deadline - now + 999) / 1000));
                } while (r < 0 && errno == EINTR);
                if (r == 0) {
                        return vs_error_set(err, ETIMEDOUT,
                                            "Cannot start \"%s\": its setup did not finish within %llu s (start_timeout), "
                                            "stuck bind-mounting \"%s\" on \"%s\" (%s); stopped it",
                                            ctx->name, (unsigned long long)ctx->config->start_timeout, op->source,
                                            op->target, op->origin);
                }
                r = r < 0 ? -errno : vs_msg_recv(sync_fd, &bind);
                if (r == 0 && bind < 0)
                        r = -EIO;
                if (r > 0) {
                        vs_error_set(err, r, "%s: bind source \"%s\": %s", op->origin, op->source, strerror(r));
                        return -r;
                }
                if (r < 0) {
                        return vs_error_set(err, r, "Cannot receive the binds of \"%s\": %s", ctx->name, strerror(-r));
                }
                if (mount_setattr(bind, "", AT_EMPTY_PATH | (op->flags & MS_REC ? AT_RECURSIVE : 0), &attr,
                                  sizeof(attr)) < 0) {
                        r = -errno;
                        if (r == -EINVAL) {
                                return vs_error_set(err, EOPNOTSUPP,
                                                    "%s: bind source \"%s\": its filesystem refuses id-mapped mounts, "
                                                    "which an unprivileged guest's binds need (\"%s\" is unprivileged)",
                                                    op->origin, op->source, ctx->name); /* the host's filesystem, not the file's syntax */
                        }
                        return vs_error_set(err, r, "%s: bind source \"%s\": cannot id-map it: %s", op->origin, op->source,
                                            strerror(-r));
                }
                r = vs_msg_send(sync_fd, 0, bind);
                if (r < 0) {
                        return vs_error_set(err, r, "Cannot pass the binds of \"%s\" on: %s", ctx->name, strerror(-r));
                }
        }
        return 0;
}

int vs_userns_setup(struct vs_start_ctx *ctx, int sync_fd, struct vs_error *err)
{
        const struct vs_config *c = ctx->config;
        uid_t host = (uid_t)c->idmap_host;
        _cleanup_close_ int userns = -1, tree = -1;
        _cleanup_free_ char *notify = NULL;
        char ns[48];
        struct vs_error why = { 0 };
        int r;

        if (!c->userns)
                return 0;
        /* setgroups stays "allow": the maps are written by host root, and
         * the guest's login and su need setgroups(2). */
        r = vs_idmap_write_maps(ctx->init_pid, c->idmap_host, c->idmap_count);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot write the id maps of \"%s\" (%llu:%llu): %s", ctx->name,
                                    (unsigned long long)c->idmap_host, (unsigned long long)c->idmap_count, strerror(-r));
        }
        snprintf(ns, sizeof(ns), "/proc/%d/ns/user", (int)ctx->init_pid);
        userns = open(ns, O_RDONLY | O_CLOEXEC);
        if (userns < 0) {
                r = -errno;
                return vs_error_set(err, r, "Cannot open %s: %s", ns, strerror(errno));
        }
        tree = idmapped_root(ctx, userns, &why);
        if (tree < 0) {
                vs_error_set(err, tree, "Cannot start \"%s\" unprivileged: failed %s: %s%s%s%s", ctx->name, why.msg,
                             strerror(-tree),
                             tree == -EINVAL ? " (a file system that refuses id-mapped mounts: set \"userns = no\" in "
                                             : "",
                             tree == -EINVAL ? c->path : "", tree == -EINVAL ? ", or move the guest)" : "");
                return tree;
        }
        /* Loading a device program and raising a hard limit take
         * capabilities in the host's user namespace, which the child has
         * no more. A lower limit the child sets itself: the child runs
         * under the guest's effective uid, so without CAP_SYS_RESOURCE we
         * could not touch its limits. */
        r = vs_cgroup_device_program(ctx->cg);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot load the device program of \"%s\": %s", ctx->name, strerror(-r));
        }
        if (c->memlock) {
                struct rlimit rl = { c->memlock, c->memlock }, cur;
                if (getrlimit(RLIMIT_MEMLOCK, &cur) == 0 && c->memlock <= cur.rlim_max)
                        ; /* the child lowers it */
                else if (prlimit(ctx->init_pid, RLIMIT_MEMLOCK, &rl, NULL) < 0) {
                        r = -errno;
                        return vs_error_set(err, r, "Cannot set RLIMIT_MEMLOCK of \"%s\": %s", ctx->name, strerror(errno));
                }
        }
        /* Guest root opens its console and speaks on the notify socket:
         * both are the host's files, so they become its. */
        notify = vs_strdupf("%s/notify", ctx->rundir);
        if (!notify)
                return -ENOMEM;
        if ((ctx->console_slave >= 0 && fchown(ctx->console_slave, host, host + 5) < 0) ||
            chown(notify, host, host) < 0) {
                r = -errno;
                return vs_error_set(err, r, "Cannot hand the console and notify socket to \"%s\": %s", ctx->name,
                                    strerror(errno));
        }
        r = vs_msg_send(sync_fd, 0, tree);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot pass the root of \"%s\" on: %s", ctx->name, strerror(-r));
        }
        return idmap_binds(ctx, sync_fd, userns, err);
}

int vs_userns_cgroups(struct vs_start_ctx *ctx, struct vs_error *err)
{
        const struct vs_config *c = ctx->config;
        int r;

        if (!c->userns)
                return 0;
        /* The child cannot write the host's cgroup.procs files: it is moved
         * by pid (the cgroup it was cloned into aside). */
        for (size_t i = 0; ctx->cg->paths[i]; i++) {
                _cleanup_free_ char *leaf = NULL;
                if ((ssize_t)i == ctx->cg_placed)
                        continue;
                leaf = vs_strdupf("%s/" VS_CGROUP_LEAF, ctx->cg->paths[i]);
                r = leaf ? vs_cgroup_attach_path(leaf, ctx->init_pid) : -ENOMEM;
                if (r < 0) {
                        return vs_error_set(err, r, "Cannot move the init of \"%s\" into %s: %s", ctx->name,
                                            leaf ? leaf : ctx->cg->paths[i], strerror(-r));
                }
        }
        r = vs_cgroup_delegate(ctx->cg, (uid_t)c->idmap_host, (gid_t)c->idmap_host);
        if (r < 0)
                vs_error_set(err, r, "Cannot delegate the cgroups of \"%s\" to its root: %s", ctx->name, strerror(-r));
        return r;
}

/* ---- in the child ---------------------------------------------------------- */

int vs_userns_child_begin(struct vs_start_ctx *ctx, int sync_fd, int *ret_tree, int *ret_rootdir, struct vs_error *err)
{
        _cleanup_close_ int rootdir = -1, tree = -1;
        int r;

        /* Every other host path the plan binds (the notify socket, lxcfs)
         * is opened now, while this process still has the host's
         * file-system uid 0 (owner permissions on the run directory, 0700).
         * Device nodes are no binds of host paths (see vs_userns_nodes()). */
        for (size_t i = 0; i < ctx->plan.n; i++) {
                struct vs_mount_op *op = &ctx->plan.ops[i];
                if (idmapped_bind(op)) {
                        /* A copy of the source's mount, for the supervisor to
                         * id-map (see idmap_binds()). */
                        _cleanup_close_ int copy = -1;
                        if (ctx->step)
                                ctx->step->op = (int)i;
                        copy = open_tree(AT_FDCWD, op->source,
                                         OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (op->flags & MS_REC ? AT_RECURSIVE : 0));
                        r = vs_msg_send(sync_fd, copy < 0 ? errno : 0, copy);
                        if (r < 0) {
                                return vs_error_set(err, r, "passing the bind of %s to the supervisor", op->source);
                        }
                        continue;
                }
                if (op->kind != VS_MOUNT_BIND || op->source_fd >= 0 || !op->source || op->source[0] != '/')
                        continue;
                op->source_fd = open(op->source, O_PATH | O_CLOEXEC);
                if (op->source_fd < 0 && !op->optional) {
                        return vs_error_set(err, errno, "opening the host's %s", op->source);
                }
        }
        rootdir = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootdir < 0) {
                return vs_error_set(err, errno, "opening %s", ctx->rootfs);
        }
        if (ctx->step)
                *ctx->step = (struct vs_step){ .op = -1, .text = "waiting for the guest's id-mapped root" };
        r = vs_msg_recv(sync_fd, &tree);
        if (r == 0 && tree < 0)
                r = -EIO;
        if (r != 0)
                return vs_error_set(err, r, "receiving the guest's root");
        for (size_t i = 0; i < ctx->plan.n; i++) {
                struct vs_mount_op *op = &ctx->plan.ops[i];
                if (!idmapped_bind(op))
                        continue;
                r = vs_msg_recv(sync_fd, &op->source_fd);
                if (r == 0 && op->source_fd < 0)
                        r = -EIO;
                if (r != 0)
                        return vs_error_set(err, r, "receiving the id-mapped bind of %s", op->source);
                op->detached = true;
        }
        /* Become the guest's root: until now this process had the host's
         * uid 0, which the guest's namespace does not map. */
        if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
                return vs_error_set(err, errno, "taking the guest's root ids");
        }
        *ret_tree = TAKE_FD(tree);
        *ret_rootdir = TAKE_FD(rootdir);
        return 0;
}
