/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "mount.h"
#include "util.h"

const char *vs_mount_plan_strdup(struct vs_mount_plan *p, const char *s)
{
        char **ns;
        if (!s)
                return NULL;
        ns = realloc(p->strings, (p->n_strings + 1) * sizeof(char *));
        if (!ns)
                return NULL;
        p->strings = ns;
        ns[p->n_strings] = strdup(s);
        if (!ns[p->n_strings])
                return NULL;
        return ns[p->n_strings++];
}

struct vs_mount_op *vs_mount_plan_add(struct vs_mount_plan *p, enum vs_mount_kind kind, const char *source,
                                      const char *target, const char *fstype, unsigned long flags,
                                      const char *data)
{
        struct vs_mount_op *op;

        if (p->n == p->cap) {
                size_t nc = p->cap ? p->cap * 2 : 64;
                struct vs_mount_op *n = realloc(p->ops, nc * sizeof(*n));
                if (!n)
                        return NULL;
                p->ops = n;
                p->cap = nc;
        }
        op = &p->ops[p->n];
        memset(op, 0, sizeof(*op));
        op->kind = kind;
        op->source_fd = -1;
        op->mode = 0755;
        op->flags = flags;
        op->source = vs_mount_plan_strdup(p, source);
        op->target = strdup(target);
        op->fstype = vs_mount_plan_strdup(p, fstype);
        op->data = vs_mount_plan_strdup(p, data);
        if (!op->target || (source && !op->source) || (fstype && !op->fstype) || (data && !op->data)) {
                free(op->target);
                return NULL;
        }
        p->n++;
        return op;
}

void vs_mount_plan_free(struct vs_mount_plan *p)
{
        for (size_t i = 0; i < p->n; i++)
                free(p->ops[i].target);
        free(p->ops);
        for (size_t i = 0; i < p->n_strings; i++)
                free(p->strings[i]);
        free(p->strings);
        memset(p, 0, sizeof(*p));
}

static int openat2_in_root(int rootfd, const char *path, int flags)
{
        struct open_how how = {
                .flags = (uint64_t)(flags | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        while (*path == '/')
                path++;
        if (!*path)
                path = ".";
        long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
        return fd < 0 ? -errno : (int)fd;
}

static int open_in_root(int rootfd, const char *path, int flags, bool create, bool file, int depth)
{
        _cleanup_free_ char *copy = NULL;
        _cleanup_close_ int parent = -1;
        char *base, link[PATH_MAX];
        ssize_t n;
        int fd;

        fd = openat2_in_root(rootfd, path, flags);
        if (fd != -ENOENT || !create)
                return fd;
        if (depth > 8)
                return -ELOOP;
        copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        base = strrchr(copy, '/');
        if (!base || !base[1])
                return -EINVAL;
        *base++ = '\0';
        if (strcmp(base, "..") == 0 || strcmp(base, ".") == 0)
                return -EINVAL;
        parent = open_in_root(rootfd, *copy ? copy : "/", O_PATH | O_DIRECTORY, true, false, depth + 1);
        if (parent < 0)
                return parent;
        if (file) {
                int nfd = openat(parent, base, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (nfd < 0 && errno != EEXIST)
                        return -errno;
                if (nfd >= 0)
                        close(nfd);
        } else if (mkdirat(parent, base, 0755) < 0 && errno != EEXIST)
                return -errno;
        fd = openat2_in_root(rootfd, path, flags);
        if (fd != -ENOENT)
                return fd;
        /* A dangling symlink: make what it points to, inside the root too
         * (an absolute link counts from the guest's root, not the host's). */
        n = readlinkat(parent, base, link, sizeof(link) - 1);
        if (n <= 0)
                return fd;
        link[n] = '\0';
        _cleanup_free_ char *target = link[0] == '/' ? strdup(link) : vs_strdupf("%s/%s", *copy ? copy : "", link);
        if (!target)
                return -ENOMEM;
        fd = open_in_root(rootfd, target, flags, true, file, depth + 1);
        if (fd < 0)
                return fd;
        close(fd);
        return openat2_in_root(rootfd, path, flags);
}

int vs_open_in_root(int rootfd, const char *path, int flags, bool create, bool file)
{
        return open_in_root(rootfd, path, flags, create, file, 0);
}

static char *fdpath(int fd, char buf[static 32])
{
        snprintf(buf, 32, "/proc/self/fd/%d", fd);
        return buf;
}

static void forget_dir(struct vs_mount_apply *s)
{
        free(s->dir);
        s->dir = NULL;
        if (s->dirfd >= 0)
                close(s->dirfd);
        s->dirfd = -1;
}

/* An absolute path with no empty, "." or ".." component and no trailing
 * slash: its text alone says which directory holds it. */
static bool plain_path(const char *p)
{
        if (p[0] != '/' || !p[1])
                return false;
        for (const char *c = p; *c; c++) {
                if (*c != '/')
                        continue;
                if (c[1] == '\0' || c[1] == '/')
                        return false;
                if (c[1] == '.' && (c[2] == '/' || c[2] == '\0' || (c[2] == '.' && (c[3] == '/' || c[3] == '\0'))))
                        return false;
        }
        return true;
}

/* A mount on @target hides what a kept fd below it names: drop the kept
 * directory when @target is it or one of its ancestors. */
static void forget_dir_under(struct vs_mount_apply *s, const char *target)
{
        size_t n;

        if (!s->dir)
                return;
        if (!plain_path(target)) {
                forget_dir(s);
                return;
        }
        n = strlen(target);
        if (strncmp(s->dir, target, n) == 0 && (s->dir[n] == '\0' || s->dir[n] == '/'))
                forget_dir(s);
}

/* The directory that holds @target, opened in root (missing parents are
 * made), kept for the next op; *base is set to the last component inside
 * @copy. Returns a borrowed fd, or a negative errno. */
static int kept_parent(struct vs_mount_apply *s, const char *target, char **copy, const char **base)
{
        char *slash;
        int fd;

        *copy = strdup(target);
        if (!*copy)
                return -ENOMEM;
        slash = strrchr(*copy, '/');
        if (!slash || !slash[1])
                return -EINVAL;
        *slash = '\0';
        *base = slash + 1;
        if (!plain_path(target)) {
                /* Not kept: its text may not name its directory. */
                forget_dir(s);
                fd = vs_open_in_root(s->rootfd, **copy ? *copy : "/", O_PATH | O_DIRECTORY, true, false);
                if (fd < 0)
                        return fd;
                s->dirfd = fd;
                return fd;
        }
        if (s->dir && strcmp(s->dir, **copy ? *copy : "/") == 0)
                return s->dirfd;
        forget_dir(s);
        fd = vs_open_in_root(s->rootfd, **copy ? *copy : "/", O_PATH | O_DIRECTORY, true, false);
        if (fd < 0)
                return fd;
        s->dir = strdup(**copy ? *copy : "/");
        s->dirfd = fd;
        if (!s->dir)
                forget_dir(s);
        return fd;
}

/* Creates a node or link at @target's last component, in its parent. */
static int in_parent(struct vs_mount_apply *s, const char *target,
                     int (*fn)(int pfd, const char *base, const struct vs_mount_op *op), const struct vs_mount_op *op)
{
        _cleanup_free_ char *copy = NULL;
        const char *base;
        int pfd = kept_parent(s, target, &copy, &base);

        if (pfd < 0)
                return pfd;
        return fn(pfd, base, op);
}

/* The directory @target, made when missing. Next to the last op's target
 * (the kept directory) it is most likely missing: made and opened there,
 * not looked up from the root. Elsewhere it most likely exists: looked up
 * from the root first. Any symlink on the way is resolved in the root. */
static int target_dir(struct vs_mount_apply *s, const char *target)
{
        _cleanup_free_ char *copy = NULL;
        const char *base;
        int pfd, fd;
        size_t n = s->dir ? strlen(s->dir) : 0;
        bool beside = s->dir && plain_path(target) && strncmp(target, s->dir, n) == 0 &&
                      (n == 1 || target[n] == '/') && !strchr(target + (n == 1 ? 1 : n + 1), '/');

        if (!beside) {
                fd = vs_open_in_root(s->rootfd, target, O_PATH | O_DIRECTORY, false, false);
                if (fd != -ENOENT)
                        return fd;
        }
        pfd = kept_parent(s, target, &copy, &base);
        if (pfd >= 0 && (mkdirat(pfd, base, 0755) == 0 || errno == EEXIST)) {
                fd = openat(pfd, base, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd >= 0)
                        return fd;
        }
        return vs_open_in_root(s->rootfd, target, O_PATH | O_DIRECTORY, true, false);
}

static int do_mknod(int pfd, const char *base, const struct vs_mount_op *op)
{
        if (mknodat(pfd, base, S_IFCHR | (op->mode & 07777), op->dev) == 0)
                return 0;
        if (errno == EEXIST)
                return 0;
        return -errno;
}

static int do_symlink(int pfd, const char *base, const struct vs_mount_op *op)
{
        if (symlinkat(op->source, pfd, base) == 0 || errno == EEXIST)
                return 0;
        return -errno;
}

static int bind_fd_onto(int src, int dst, unsigned long flags)
{
        char sp[32], dp[32];
        if (mount(fdpath(src, sp), fdpath(dst, dp), NULL, MS_BIND | (flags & MS_REC), NULL) < 0)
                return -errno;
        return 0;
}

#define REMOUNT_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)

/* A private, detached tmpfs of 4k whose root has mode @mode, mounted with
 * the MOUNT_ATTR_* flags @attr: a mount fd, or -errno. */
static int small_tmpfs(const char *mode, unsigned attr)
{
        _cleanup_close_ int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
        int mnt;

        if (fs < 0)
                return -errno;
        if (fsconfig(fs, FSCONFIG_SET_STRING, "size", "4k", 0) < 0 ||
            fsconfig(fs, FSCONFIG_SET_STRING, "mode", mode, 0) < 0 ||
            fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        mnt = fsmount(fs, FSMOUNT_CLOEXEC, attr);
        return mnt < 0 ? -errno : mnt;
}

/* An empty read-only file on a private, detached tmpfs: what masks files.
 * Binding the host's /dev/null instead would hand the guest a mount of the
 * host's devtmpfs, a handle to every device node on it. */
static int empty_tmpfs(void)
{
        _cleanup_close_ int mnt = small_tmpfs("0555", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC), f = -1;

        if (mnt < 0)
                return mnt;
        f = openat(mnt, "empty", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0444);
        if (f < 0)
                return -errno;
        return TAKE_FD(mnt);
}

/* A clone of @name on the private tmpfs @mnt. Kernels before 6.15 clone
 * only from mounts attached in the caller's mount namespace, not from a
 * detached one (EINVAL): there the tmpfs is attached first, on the
 * staging directory, in our own namespace only (and gone with the old
 * root after pivot_root). */
static int clone_private(struct vs_mount_apply *s, int mnt, const char *name)
{
        int tree = open_tree(mnt, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);

        if (tree >= 0 || errno != EINVAL || s->stage_fd < 0)
                return tree < 0 ? -errno : tree;
        if (move_mount(mnt, "", s->stage_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return -errno;
        tree = open_tree(mnt, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        return tree < 0 ? -errno : tree;
}

static int mask_file(struct vs_mount_apply *s, int tfd)
{
        struct mount_attr attr = {
                .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
        };
        _cleanup_close_ int tree = -1;

        if (s->empty_mnt < 0) {
                s->empty_mnt = empty_tmpfs();
                if (s->empty_mnt < 0)
                        return s->empty_mnt;
        }
        tree = clone_private(s, s->empty_mnt, "empty");
        if (tree < 0)
                return tree;
        if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
                return -errno;
        if (move_mount(tree, "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return -errno;
        return 0;
}

/* Where the guest's device nodes come from when mknod is refused under its
 * root (in a user namespace): a private, detached tmpfs made here, holding
 * only nodes made by us, with no path from the host or the guest. Binding
 * the host's nodes instead would give the guest a mount of the host's
 * devtmpfs: with open_by_handle_at (CAP_DAC_READ_SEARCH, kept by default,
 * and allowed by `seccomp = no`) any inode of it opens from that mount,
 * the host's /dev directory among them, where nodes can then be made,
 * chmod'ed or unlinked for the host. Made in the user namespace vs-start
 * runs in, where mknod is allowed and the superblock is not nodev. */
static int nodes_tmpfs(void)
{
        return small_tmpfs("0755", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
}

static void node_name(const struct vs_mount_op *op, char buf[static 32])
{
        snprintf(buf, 32, "c%u.%u.%04o", major(op->dev), minor(op->dev), (unsigned)(op->mode & 07777));
}

static int private_node(struct vs_mount_apply *s, const struct vs_mount_op *op)
{
        char name[32];

        if (s->nodes_mnt < 0) {
                s->nodes_mnt = nodes_tmpfs();
                if (s->nodes_mnt < 0)
                        return s->nodes_mnt;
        }
        node_name(op, name);
        if (mknodat(s->nodes_mnt, name, S_IFCHR | (op->mode & 07777), op->dev) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int vs_mount_apply_prepare_nodes(struct vs_mount_apply *a, const struct vs_mount_plan *p)
{
        for (size_t i = 0; i < p->n; i++)
                if (p->ops[i].kind == VS_MOUNT_MKNOD) {
                        int r = private_node(a, &p->ops[i]);
                        if (r < 0)
                                return r;
                }
        return 0;
}

int vs_mount_apply_chown_nodes(struct vs_mount_apply *a, const struct vs_mount_plan *p, uid_t uid, gid_t gid)
{
        char name[32];

        if (a->nodes_mnt < 0)
                return 0;
        for (size_t i = 0; i < p->n; i++)
                if (p->ops[i].kind == VS_MOUNT_MKNOD) {
                        node_name(&p->ops[i], name);
                        /* And the plan's mode, whatever the caller's umask. */
                        if (fchownat(a->nodes_mnt, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
                            fchmodat(a->nodes_mnt, name, p->ops[i].mode & 07777, 0) < 0)
                                return -errno;
                }
        return 0;
}

static int bind_private_node(const struct vs_mount_op *op, struct vs_mount_apply *s)
{
        _cleanup_close_ int tfd = -1, tree = -1;
        char name[32];
        int r = private_node(s, op);

        if (r < 0)
                return r;
        node_name(op, name);
        tfd = vs_open_in_root(s->rootfd, op->target, O_PATH, true, true);
        if (tfd < 0)
                return tfd;
        tree = clone_private(s, s->nodes_mnt, name);
        if (tree < 0)
                return tree;
        if (move_mount(tree, "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return -errno;
        return 0;
}

int vs_mount_idmapped_clone(const char *path, bool recursive, int userns_fd, int *ret_fd)
{
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP,
                                   .userns_fd = (uint64_t)userns_fd,
                                   .propagation = MS_PRIVATE };
        _cleanup_close_ int tree = -1;

        tree = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
        if (tree < 0)
                return -errno;
        if (mount_setattr(tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof(attr)) < 0)
                return -errno;
        *ret_fd = TAKE_FD(tree);
        return 0;
}

static int apply_one(const struct vs_mount_op *op, struct vs_mount_apply *s)
{
        _cleanup_close_ int tfd = -1, sfd = -1;
        int rootfd = s->rootfd;
        char d[32];

        if (op->kind != VS_MOUNT_MKDIR && op->kind != VS_MOUNT_MKNOD && op->kind != VS_MOUNT_SYMLINK)
                forget_dir_under(s, op->target);
        switch (op->kind) {
        case VS_MOUNT_MKDIR:
                tfd = target_dir(s, op->target);
                return tfd < 0 ? tfd : 0;
        case VS_MOUNT_MKNOD:
                return in_parent(s, op->target, do_mknod, op);
        case VS_MOUNT_SYMLINK:
                return in_parent(s, op->target, do_symlink, op);
        case VS_MOUNT_FS:
                tfd = target_dir(s, op->target);
                if (tfd < 0)
                        return tfd;
                if (mount(op->source ? op->source : op->fstype, fdpath(tfd, d), op->fstype, op->flags, op->data) < 0)
                        return -errno;
                return 0;
        case VS_MOUNT_BIND:
                if (op->source_fd >= 0)
                        sfd = fcntl(op->source_fd, F_DUPFD_CLOEXEC, 3);
                else
                        sfd = open(op->source, O_PATH | O_CLOEXEC);
                if (sfd < 0)
                        return -errno;
                {
                        struct stat st;
                        bool file = fstat(sfd, &st) == 0 && !S_ISDIR(st.st_mode);
                        tfd = vs_open_in_root(rootfd, op->target, O_PATH | (file ? 0 : O_DIRECTORY), true, file);
                }
                if (tfd < 0)
                        return tfd;
                if (op->detached) {
                        if (move_mount(sfd, "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                                return -errno;
                } else if (mount(fdpath(sfd, (char[32]){ 0 }), fdpath(tfd, d), NULL, MS_BIND | (op->flags & MS_REC),
                                 NULL) < 0)
                        return -errno;
                if (op->flags & REMOUNT_FLAGS) {
                        close(tfd);
                        tfd = vs_open_in_root(rootfd, op->target, O_PATH, false, false);
                        if (tfd < 0)
                                return tfd;
                        if (mount(NULL, fdpath(tfd, d), NULL,
                                  MS_REMOUNT | MS_BIND | (op->flags & REMOUNT_FLAGS), NULL) < 0)
                                return -errno;
                }
                return 0;
        case VS_MOUNT_BIND_SELF: {
                int r;
                tfd = vs_open_in_root(rootfd, op->target, O_PATH, false, false);
                if (tfd < 0)
                        return tfd;
                r = bind_fd_onto(tfd, tfd, op->flags | MS_REC);
                if (r < 0 || !(op->flags & REMOUNT_FLAGS))
                        return r;
                /* Bind mounts take flags only on a remount, and the fd still
                 * names the mount below: reopen to reach the new one. */
                close(tfd);
                tfd = vs_open_in_root(rootfd, op->target, O_PATH, false, false);
                if (tfd < 0)
                        return tfd;
                if (mount(NULL, fdpath(tfd, d), NULL, MS_REMOUNT | MS_BIND | (op->flags & REMOUNT_FLAGS), NULL) < 0)
                        return -errno;
                return 0;
        }
        case VS_MOUNT_MASK: {
                struct stat st;
                tfd = vs_open_in_root(rootfd, op->target, O_PATH, false, false);
                if (tfd < 0)
                        return tfd;
                if (fstat(tfd, &st) < 0)
                        return -errno;
                if (S_ISDIR(st.st_mode)) {
                        if (mount("tmpfs", fdpath(tfd, d), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                  "mode=0755,size=0") < 0)
                                return -errno;
                        return 0;
                }
                return mask_file(s, tfd);
        }
        case VS_MOUNT_REMOUNT:
                tfd = vs_open_in_root(rootfd, op->target, O_PATH, false, false);
                if (tfd < 0)
                        return tfd;
                if (mount(NULL, fdpath(tfd, d), NULL, MS_REMOUNT | op->flags, op->data) < 0)
                        return -errno;
                return 0;
        }
        return -EINVAL;
}

static const char *kind_name(enum vs_mount_kind k)
{
        static const char *const names[] = { "mount", "bind", "bind-self", "mask", "mkdir", "mknod", "symlink", "remount" };
        return k < ELEMENTSOF(names) ? names[k] : "?";
}

void vs_mount_apply_init(struct vs_mount_apply *a, int rootfd)
{
        *a = (struct vs_mount_apply){ .rootfd = rootfd, .empty_mnt = -1, .nodes_mnt = -1, .stage_fd = -1, .dirfd = -1 };
}

void vs_mount_apply_done(struct vs_mount_apply *a)
{
        forget_dir(a);
        if (a->empty_mnt >= 0)
                close(a->empty_mnt);
        a->empty_mnt = -1;
        if (a->nodes_mnt >= 0)
                close(a->nodes_mnt);
        a->nodes_mnt = -1;
}

int vs_mount_plan_apply(const struct vs_mount_plan *p, size_t from, size_t to, struct vs_mount_apply *a,
                        struct vs_error *err)
{
        int r = 0;

        for (size_t i = from; i < to && i < p->n; i++) {
                const struct vs_mount_op *op = &p->ops[i];
                r = apply_one(op, a);

                if (r == -EPERM && op->kind == VS_MOUNT_MKNOD)
                        r = bind_private_node(op, a);
                /* An optional mask is for a file this kernel may lack: any
                 * other failure leaves the file open, and stops the start. */
                if (r < 0 && (!op->optional || (op->kind == VS_MOUNT_MASK && r != -ENOENT))) {
                        vs_error_set(err, r, "%s%s%s %s%s%s on \"%s\"", op->origin ? op->origin : "",
                                     op->origin ? ": " : "", kind_name(op->kind), op->fstype ? op->fstype : "",
                                     op->source && op->kind == VS_MOUNT_BIND ? " of " : "",
                                     op->source && op->kind == VS_MOUNT_BIND ? op->source : "", op->target);
                        break;
                }
                r = 0;
        }
        return r;
}

static void print_flags(unsigned long f, FILE *out)
{
        static const struct {
                unsigned long flag;
                const char *name;
        } names[] = { { MS_RDONLY, "ro" }, { MS_NOSUID, "nosuid" }, { MS_NODEV, "nodev" }, { MS_NOEXEC, "noexec" },
                      { MS_REC, "rec" },   { MS_BIND, "bind" } };
        const char *sep = "";
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (f & names[i].flag) {
                        fprintf(out, "%s%s", sep, names[i].name);
                        sep = ",";
                }
        if (!*sep)
                fputs("-", out);
}

void vs_mount_plan_print(const struct vs_mount_plan *p, FILE *f)
{
        for (size_t i = 0; i < p->n; i++) {
                const struct vs_mount_op *op = &p->ops[i];
                fprintf(f, "%-9s %-28s ", kind_name(op->kind), op->target);
                switch (op->kind) {
                case VS_MOUNT_FS:
                        fprintf(f, "%s ", op->fstype);
                        print_flags(op->flags, f);
                        if (op->data)
                                fprintf(f, " %s", op->data);
                        break;
                case VS_MOUNT_BIND:
                        fprintf(f, "from %s ", op->source_fd >= 0 ? "(open fd)" : op->source);
                        print_flags(op->flags, f);
                        break;
                case VS_MOUNT_BIND_SELF:
                case VS_MOUNT_REMOUNT:
                        print_flags(op->flags, f);
                        break;
                case VS_MOUNT_MKNOD:
                        fprintf(f, "c %u:%u %04o", major(op->dev), minor(op->dev), (unsigned)op->mode);
                        break;
                case VS_MOUNT_SYMLINK:
                        fprintf(f, "-> %s", op->source);
                        break;
                default:
                        break;
                }
                if (op->origin)
                        fprintf(f, "  (%s)", op->origin);
                fputc('\n', f);
        }
}

int vs_readlink_in_root(int rootfd, const char *path, char *buf, size_t len)
{
        _cleanup_free_ char *copy = strdup(path);
        _cleanup_close_ int pfd = -1;
        char *base;
        ssize_t n;

        if (!copy)
                return -ENOMEM;
        if (len < 2)
                return -EINVAL;
        base = strrchr(copy, '/');
        if (!base || !base[1])
                return -EINVAL;
        *base++ = '\0';
        pfd = openat2_in_root(rootfd, *copy ? copy : "/", O_PATH | O_DIRECTORY);
        if (pfd < 0)
                return pfd;
        n = readlinkat(pfd, base, buf, len - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return 0;
}

/* The helper of vs_mount_ns_lock(): the namespaces it was cloned with are
 * all it is for; it waits to be killed. */
static int lock_helper(void *arg)
{
        (void)arg;
        for (;;)
                pause();
        return 0;
}

int vs_mount_ns_lock(pid_t *helper)
{
        /* The helper shares our memory (CLONE_VM: no page tables to copy)
         * and runs on this stack, whose one frame is all it ever uses. */
        static char stack[16384] __attribute__((aligned(16)));
        int pidfd = -1, r = 0;
        pid_t pid;

        /* A mount namespace copied into a new user namespace has every mount
         * locked (MNT_LOCKED and the MNT_LOCK_* flags): no one, whatever
         * their capabilities, can unmount a single one of them or clear
         * read-only, nosuid, nodev, noexec. The clone makes both namespaces
         * for the helper; we join its mount namespace and end it. */
        *helper = -1;
        pid = clone(lock_helper, stack + sizeof(stack), CLONE_VM | CLONE_NEWUSER | CLONE_NEWNS | CLONE_PIDFD | SIGCHLD,
                    NULL, &pidfd);
        if (pid < 0)
                return -errno;
        if (setns(pidfd, CLONE_NEWNS) < 0)
                r = -errno;
        kill(pid, SIGKILL);
        close(pidfd);
        *helper = pid;
        return r;
}

void vs_mount_ns_lock_reap(pid_t helper)
{
        if (helper > 0)
                while (waitpid(helper, NULL, 0) < 0 && errno == EINTR)
                        ;
}
