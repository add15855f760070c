/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Guest storage: ext4 images, shared template layers, copies. */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "clone.h"
#include "command.h"
#include "config.h"
#include "image.h"
#include "guest-quota.h"
#include "storage.h"
#include "paths.h"
#include "pidfd.h"
#include "state.h"
#include "util.h"

static char *sub(const char *dir, const char *what)
{
        return vs_strdupf("%s/%s", dir, what);
}

int vs_disk_shared_root_fd(const char *dir, int userns_fd, uid_t uid, gid_t gid, int *ret_fd, struct vs_error *err)
{
        _cleanup_free_ char *link = sub(dir, "lower"), *upper = sub(dir, "upper"), *work = sub(dir, "work");
        char lower[PATH_MAX];
        ssize_t n;
        int r;

        if (!link || !upper || !work)
                return -ENOMEM;
        n = readlink(link, lower, sizeof(lower) - 1);
        if (n <= 0) {
                return vs_error_set(err, n < 0 ? errno : EINVAL, "reading the template link %s", link);
        }
        lower[n] = '\0';
        r = vs_overlay_mount_fd(lower, upper, work, userns_fd, uid, gid, ret_fd);
        if (r == -EOPNOTSUPP)
                vs_error_set(err, r,
                             "stacking the overlay of %s and %s on id-mapped layers (this kernel cannot: "
                             "it takes overlay layers by fd from Linux 6.13 on)",
                             lower, upper);
        else if (r < 0)
                vs_error_set(err, r, "mounting the overlay of %s and %s%s", lower, upper,
                         userns_fd >= 0 ? " on id-mapped layers" : "");
        return r;
}

int vs_disk_mount_root(const char *dir, int layout, struct vs_error *err)
{
        _cleanup_free_ char *rootfs = sub(dir, "rootfs");
        int r = 0;

        if (!rootfs)
                return -ENOMEM;
        if (layout == VS_LAYOUT_IMAGE) {
                _cleanup_free_ char *img = sub(dir, "disk.img");
                if (!img)
                        return -ENOMEM;
                r = vs_mount_image(img, rootfs, MS_NOATIME);
                if (r < 0)
                        vs_error_set(err, r, "mounting the image %s on %s", img, rootfs);
        } else if (layout == VS_LAYOUT_SHARED) {
                _cleanup_close_ int mnt = -1;

                r = vs_disk_shared_root_fd(dir, -1, 0, 0, &mnt, err);
                if (r == 0 && move_mount(mnt, "", AT_FDCWD, rootfs, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
                        r = -errno;
                        vs_error_set(err, r, "attaching the overlay on %s", rootfs);
                }
        }
        return r;
}

int vs_disk_check_size(uint64_t size, struct vs_error *err)
{
        uint64_t avail;
        char a[32], s[32];
        int r;

        if (size == 0) {
                return vs_error_set(err, EINVAL, "disk.size: a size of 0 makes no disk");
        }
        r = vs_mkdir_private(vs_guestdir());
        if (r == 0)
                r = vs_fs_available(vs_guestdir(), &avail);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot tell the free space of %s: %s", vs_guestdir(), strerror(-r));
        }
        if (size > avail) {
                vs_human_size(size, s, sizeof(s));
                vs_human_size(avail, a, sizeof(a));
                return vs_error_set(err, ENOSPC, "disk.size: %s is more than the %s free on the filesystem of %s", s, a,
                                    vs_guestdir());
        }
        return 0;
}

/* Reserves the image's whole size on the host filesystem (unwritten
 * extents, no data written), so a guest filling its own disk can never
 * fill the filesystem under the guests beside it. Filesystems without
 * fallocate keep a sparse image. */
static int reserve_image(const char *img, uint64_t size, struct vs_error *err)
{
        _cleanup_close_ int fd = open(img, O_WRONLY | O_CLOEXEC);
        int r;

        if (fd < 0) {
                return vs_error_set(err, errno, "Cannot open the image %s: %s", img, strerror(errno));
        }
        r = posix_fallocate(fd, 0, (off_t)size);
        if (r == EOPNOTSUPP || r == EINVAL)
                return 0;
        if (r != 0) {
                vs_error_set(err, r, "Cannot reserve %llu bytes for the image %s: %s", (unsigned long long)size,
                             img, strerror(r));
                return -r;
        }
        return 0;
}

int vs_disk_make_image(const char *dir, uint64_t size, vs_say_fn *say, void *say_data, struct vs_error *err)
{
        _cleanup_free_ char *tree = sub(dir, "rootfs"), *img = sub(dir, "disk.img"), *sz = NULL;
        _cleanup_close_ int fd = -1;
        uint64_t used = 0;
        int r;

        sz = vs_strdupf("%lluk", (unsigned long long)(size / 1024));
        if (!tree || !img || !sz)
                return -ENOMEM;
        fd = open(img, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
                return vs_error_set(err, errno, "Cannot create the image %s: %s", img, strerror(errno));
        }
        /* -d copies owners, modes, xattrs (ACLs and file capabilities are
         * xattrs), device nodes and hard links from the tree; -m 0: the
         * guest gets all of disk.size. */
        char *argv[] = { "mke2fs", "-q", "-F", "-t", "ext4", "-m", "0", "-d", tree, "-E", "root_owner=0:0",
                         img, sz, NULL };
        vs_say(say, say_data, "Making the %s ext4 image %s", sz, img);
        r = vs_run_command(argv, -1, err);
        if (r < 0) {
                char u[32], s[32];
                (void)vs_tree_usage(tree, &used);
                vs_human_size(used, u, sizeof(u));
                vs_human_size(size, s, sizeof(s));
                return vs_error_set(err, r, "mke2fs could not make a %s image of the guest's %s tree (is disk.size large enough?)",
                                    s, u);
        }
        r = reserve_image(img, size, err);
        if (r < 0)
                return r;
        r = vs_rm_rf(tree);
        if (r == 0 && mkdir(tree, 0755) < 0)
                r = -errno;
        if (r < 0)
                vs_error_set(err, r, "Cannot empty %s: %s", tree, strerror(-r));
        return r;
}

/* ---- shared template versions ---------------------------------------- */

static char *templates_dir(void)
{
        return vs_strdupf("%s/.templates", vs_guestdir());
}

static int templates_lock(int *ret_fd)
{
        _cleanup_free_ char *t = templates_dir(), *lock = NULL;
        int fd, r;

        if (!t)
                return -ENOMEM;
        /* The template layers are whole systems, setuid programs included. */
        r = vs_mkdir_private(t);
        if (r < 0)
                return r;
        lock = sub(t, ".lock");
        if (!lock)
                return -ENOMEM;
        fd = vs_lock_file(lock);
        if (fd < 0)
                return fd;
        *ret_fd = fd;
        return 0;
}

/* A template tree's version: a hash of its .info file, which records when it
 * was built; a rebuilt template has a new one. */
static char *template_version_name(const char *cache_tree)
{
        _cleanup_free_ char *info = vs_strdupf("%s.info", cache_tree), *text = NULL;
        const char *base = strrchr(cache_tree, '/');
        uint64_t h = UINT64_C(1469598103934665603);
        struct stat st;
        size_t len = 0;

        base = base ? base + 1 : cache_tree;
        if (info && vs_read_file(info, &text, &len) == 0) {
                for (size_t i = 0; i < len; i++)
                        h = (h ^ (unsigned char)text[i]) * UINT64_C(1099511628211);
        } else if (stat(cache_tree, &st) == 0) {
                h ^= (uint64_t)st.st_ino * UINT64_C(1099511628211) ^ (uint64_t)st.st_mtime;
        } else
                return NULL;
        return vs_strdupf("%s-%08llx", base, (unsigned long long)(h & 0xffffffffu));
}

int vs_disk_shared_attach(const char *cache_tree, const char *dir, vs_say_fn *say, void *say_data, struct vs_error *err)
{
        _cleanup_free_ char *t = templates_dir(), *ver = template_version_name(cache_tree), *lower = NULL,
                            *tmp = NULL, *link = sub(dir, "lower"), *upper = sub(dir, "upper"),
                            *work = sub(dir, "work");
        _cleanup_close_ int lock = -1;
        int r;

        if (!t || !ver || !link || !upper || !work) {
                return vs_error_set(err, ENOENT, "Cannot find the template tree %s", cache_tree);
        }
        lower = sub(t, ver);
        tmp = vs_strdupf("%s/.tmp-%s.%d", t, ver, (int)getpid());
        if (!lower || !tmp)
                return -ENOMEM;
        if (strpbrk(lower, ",:\\") || strpbrk(dir, ",:\\")) {
                return vs_error_set(err, EINVAL, "Cannot stack an overlay on %s: the path has ',', ':' or '\\'", lower);
        }
        r = templates_lock(&lock);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot lock %s: %s", t, strerror(-r));
        }
        if (access(lower, F_OK) < 0) {
                /* Once per template version: a private copy, so that rebuilding
                 * or removing the cache never changes a guest's lower layer. */
                char *argv[] = { "cp", "-a", "--reflink=auto", "--", (char *)cache_tree, tmp, NULL };
                vs_say(say, say_data, "Making the shared template layer %s", lower);
                r = vs_run_command(argv, -1, err);
                if (r == 0 && rename(tmp, lower) < 0) {
                        r = -errno;
                        vs_error_set(err, errno, "Cannot move %s to %s: %s", tmp, lower, strerror(errno));
                }
                if (r < 0) {
                        vs_rm_rf(tmp);
                        return r;
                }
        }
        /* The link is the reference: made under the lock, so the collector
         * never sees the version unused while we take it. upper is the
         * overlay's / and keeps the mode the guest expects; the guest
         * directory above it is private. */
        if (symlink(lower, link) < 0 || mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0) {
                r = -errno;
                return vs_error_set(err, r, "Cannot make the overlay directories in %s: %s", dir, strerror(errno));
        }
        return 0;
}

static bool version_referenced(const char *lower, char **refs)
{
        for (char **p = refs; p && *p; p++)
                if (strcmp(*p, lower) == 0)
                        return true;
        return false;
}

void vs_disk_templates_gc(void)
{
        _cleanup_free_ char *t = templates_dir();
        _cleanup_strv_free_ char **refs = NULL;
        _cleanup_close_ int lock = -1;
        size_t n = 0;
        struct dirent *de;
        DIR *d;

        if (!t || access(t, F_OK) < 0 || templates_lock(&lock) < 0)
                return;
        /* Every guest directory, including ones being built or destroyed. */
        d = opendir(vs_guestdir());
        if (!d)
                return;
        while ((de = readdir(d))) {
                _cleanup_free_ char *link = vs_strdupf("%s/%s/lower", vs_guestdir(), de->d_name);
                char buf[PATH_MAX];
                ssize_t l;
                char **nr;

                if (!link || (l = readlink(link, buf, sizeof(buf) - 1)) <= 0)
                        continue;
                buf[l] = '\0';
                nr = realloc(refs, (n + 2) * sizeof(char *));
                if (!nr)
                        break;
                refs = nr;
                refs[n] = strdup(buf);
                refs[++n] = NULL;
        }
        closedir(d);
        d = opendir(t);
        if (!d)
                return;
        while ((de = readdir(d))) {
                _cleanup_free_ char *path = NULL, *cache = NULL, *cur = NULL;
                char *dash;

                if (de->d_name[0] == '.')
                        continue;
                path = sub(t, de->d_name);
                if (!path || version_referenced(path, refs))
                        continue;
                /* KEY-VERSION: keep the version of the template as it is now,
                 * the next shared build takes it. */
                cache = vs_strdupf("%s/templates/%s", vs_cachedir(), de->d_name);
                if (!cache || !(dash = strrchr(cache, '-')))
                        continue;
                *dash = '\0';
                cur = template_version_name(cache);
                if (cur && strcmp(cur, de->d_name) == 0)
                        continue;
                (void)vs_rm_rf(path);
        }
        closedir(d);
}

/* ---- copies ------------------------------------------------------------ */

int vs_disk_copy(const char *src, int layout, const char *dir, struct vs_error *err)
{
        int r;

        if (layout == VS_LAYOUT_IMAGE) {
                _cleanup_free_ char *from = sub(src, "disk.img"), *to = sub(dir, "disk.img");
                char *argv[] = { "cp", "--sparse=always", "--reflink=auto", "--", from, to, NULL };
                if (!from || !to)
                        return -ENOMEM;
                return vs_run_command(argv, -1, err);
        }
        if (layout == VS_LAYOUT_SHARED) {
                _cleanup_free_ char *link = sub(src, "lower"), *from = sub(src, "upper"), *to = sub(dir, "upper"),
                                    *work = sub(dir, "work"), *nlink = sub(dir, "lower");
                _cleanup_close_ int lock = -1;
                char lower[PATH_MAX];
                ssize_t n;

                if (!link || !from || !to || !work || !nlink)
                        return -ENOMEM;
                /* The upper layer holds whiteouts (0/0 devices) and trusted.*
                 * xattrs: cp -a copies both as root. */
                char *argv[] = { "cp", "-a", "--reflink=auto", "--", from, to, NULL };
                r = vs_run_command(argv, -1, err);
                if (r < 0)
                        return r;
                r = templates_lock(&lock);
                if (r < 0)
                        return r;
                n = readlink(link, lower, sizeof(lower) - 1);
                if (n <= 0) {
                        return vs_error_set(err, ENOENT, "Guest has no template link %s", link);
                }
                lower[n] = '\0';
                if (access(lower, F_OK) < 0) {
                        return vs_error_set(err, ENOENT, "The template layer %s of the guest is missing", lower);
                }
                if (symlink(lower, nlink) < 0 || mkdir(work, 0700) < 0) {
                        return vs_error_set(err, errno, "Cannot make the overlay directories in %s: %s", dir, strerror(errno));
                }
                return 0;
        }
        {
                _cleanup_free_ char *from = vs_strdupf("%s/rootfs/.", src), *to = sub(dir, "rootfs");
                char *argv[] = { "cp", "-a", "--reflink=auto", "--", from, to, NULL };
                if (!from || !to)
                        return -ENOMEM;
                return vs_run_command(argv, -1, err);
        }
}

/* @op on a running guest's groups (from its run state); a failure said
 * as "Cannot @what: <errno>". */
/* Runs @op on the groups of the running guest @name; with @st, hands on its
 * run state (the caller clears it). */
static int on_running_cgroup_st(const char *name, int (*op)(struct vs_cgroup *cg, bool arg), bool arg,
                                const char *what, struct vs_state *st, struct vs_error *err)
{
        _cleanup_cgroup_ struct vs_cgroup *cg = NULL;
        struct vs_state own = { 0 };
        int r;

        if (!st)
                st = &own;
        r = vs_state_read(name, st);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot read the run state of \"%s\": %s", name, strerror(-r));
        }
        r = vs_cgroup_from_paths(name, st->backend ? st->backend : "v1", st->cgroups, st->controllers, &cg);
        vs_state_clear(&own);
        if (r == 0)
                r = op(cg, arg);
        if (r < 0)
                vs_error_set(err, r, "Cannot %s: %s", what, strerror(-r));
        return r;
}

static int on_running_cgroup(const char *name, int (*op)(struct vs_cgroup *cg, bool arg), bool arg,
                             const char *what, struct vs_error *err)
{
        return on_running_cgroup_st(name, op, arg, what, NULL, err);
}

/* The run directory's "frozen-by" file names the process that froze the
 * guest ("PID STARTTIME"): written before the freeze, removed after the
 * thaw. The guest's supervisor, told by SIGUSR1, watches that process and
 * thaws the guest if it ends while the file is still there: a copy killed
 * with every process of its group or unit (its watchdog too) does not leave
 * the guest frozen. */
static char *frozen_by_path(const char *name)
{
        return vs_strdupf("%s/%s/frozen-by", vs_rundir(), name);
}

static void frozen_by_write(const char *name)
{
        _cleanup_free_ char *path = frozen_by_path(name), *text = NULL;
        uint64_t start = 0;

        if (!path || vs_proc_starttime(getpid(), &start) < 0)
                return;
        text = vs_strdupf("%d %llu\n", (int)getpid(), (unsigned long long)start);
        if (text)
                (void)vs_write_file_replace(path, text, 0644);
}

int vs_disk_freeze(const char *name, bool freeze, struct vs_error *err)
{
        _cleanup_free_ char *path = frozen_by_path(name);
        struct vs_state st = { 0 };
        char what[320];
        int r;

        snprintf(what, sizeof(what), "%s guest \"%s\"", freeze ? "freeze" : "thaw", name);
        if (freeze)
                frozen_by_write(name);
        r = on_running_cgroup_st(name, vs_cgroup_freeze, freeze, what, &st, err);
        if (freeze && st.supervisor_pid > 0)
                (void)vs_pid_signal_started(st.supervisor_pid, st.supervisor_starttime, SIGUSR1);
        /* After a failed freeze the caller thaws (or, dead, its owner's
         * end does): the file stays until a thaw works. */
        if (!freeze && r == 0 && path)
                (void)unlink(path);
        vs_state_clear(&st);
        return r;
}

static int kill_frozen(struct vs_cgroup *cg, bool unused)
{
        (void)unused;
        return vs_cgroup_kill_frozen(cg);
}

int vs_disk_kill_frozen(const char *name, struct vs_error *err)
{
        char what[320];

        snprintf(what, sizeof(what), "kill the processes of \"%s\"", name);
        return on_running_cgroup(name, kill_frozen, false, what, err);
}

/* In vs_disk_with_root()'s child: a private mount namespace, the root
 * mounted there, @fn run on it. */
static int in_root(const char *dir, int layout, int (*fn)(int rootfd, const char *root, void *data, struct vs_error *err),
                   void *data, struct vs_error *err)
{
        _cleanup_free_ char *rootfs = sub(dir, "rootfs");
        struct vs_error why = { 0 };
        int rootfd, r;

        if (!rootfs)
                return vs_error_set(err, ENOMEM, "Cannot open the root of %s: %s", dir, strerror(ENOMEM));
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return vs_error_set(err, errno, "Cannot make a private mount namespace: %s", strerror(errno));
        r = vs_disk_mount_root(dir, layout, &why);
        if (r < 0)
                return vs_error_set(err, r, "Failed %s: %s", why.msg, strerror(-r));
        rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return vs_error_set(err, errno, "Cannot open %s: %s", rootfs, strerror(errno));
        return fn(rootfd, rootfs, data, err);
}

int vs_disk_with_root(const char *dir, int layout, int (*fn)(int rootfd, const char *root, void *data, struct vs_error *err), void *data,
                      struct vs_error *err)
{
        int pfd[2], status;
        pid_t pid = vs_fork_pipe(pfd);

        if (pid < 0)
                return pid;
        if (pid == 0) {
                /* A private mount namespace: the root's mount, and with it an
                 * image's loop device, ends with this process. */
                struct vs_error cerr = { 0 };
                int r;

                close(pfd[0]);
                r = in_root(dir, layout, fn, data, &cerr);
                if (r < 0)
                        (void)vs_error_send(pfd[1], &cerr);
                _exit(r < 0 ? 1 : 0);
        }
        close(pfd[1]);
        {
                struct vs_error child;
                (void)vs_error_recv(pfd[0], &child);
                close(pfd[0]);
                while (waitpid(pid, &status, 0) < 0)
                        if (errno != EINTR)
                                return -errno;
                if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                        return 0;
                if (child.msg[0])
                        vs_error_set(err, EIO, "%s", child.msg);
                return -EIO;
        }
}

int vs_disk_usage(const char *name, int layout, pid_t init_pid, uint64_t *ret_used, uint64_t *ret_size)
{
        _cleanup_free_ char *dir = vs_guest_path(name), *p = NULL;
        struct statvfs sv;
        int r;

        if (!dir)
                return -ENOMEM;
        if (layout == VS_LAYOUT_IMAGE) {
                if (init_pid <= 0)
                        return -ESRCH;
                /* The image's own figures, read through the guest's root. */
                p = vs_strdupf("/proc/%d/root", (int)init_pid);
                if (!p)
                        return -ENOMEM;
                if (statvfs(p, &sv) < 0)
                        return -errno;
                *ret_used = (uint64_t)(sv.f_blocks - sv.f_bfree) * sv.f_frsize;
                /* The size is the image's: what disk.size says, ext4's own
                 * metadata included. */
                {
                        _cleanup_free_ char *img = sub(dir, "disk.img");
                        struct stat st;
                        if (!img || stat(img, &st) < 0)
                                return -errno;
                        *ret_size = (uint64_t)st.st_size;
                }
                return 0;
        }
        p = sub(dir, layout == VS_LAYOUT_SHARED ? "upper" : "rootfs");
        if (!p)
                return -ENOMEM;
        /* A project quota counts the tree already. */
        if (vs_guest_quota_usage(p, ret_used, ret_size) == 0)
                return 0;
        r = vs_tree_usage(p, ret_used);
        *ret_size = 0;
        return r;
}

int vs_disk_grow(const char *name, uint64_t size, struct vs_error *err)
{
        _cleanup_free_ char *dir = vs_guest_path(name), *img = NULL, *sz = NULL;
        struct stat st;
        int r;

        if (!dir)
                return -ENOMEM;
        img = sub(dir, "disk.img");
        sz = vs_strdupf("%lluk", (unsigned long long)(size / 1024));
        if (!img || !sz)
                return -ENOMEM;
        if (stat(img, &st) < 0) {
                return vs_error_set(err, errno, "Guest \"%s\" has no image %s: %s", name, img, strerror(errno));
        }
        if ((uint64_t)st.st_size > size) {
                return vs_error_set(err, EINVAL, "disk.size: the image of \"%s\" is larger already; shrinking is not supported",
                                    name);
        }
        if ((uint64_t)st.st_size == size)
                return 0;
        r = vs_disk_check_size(size - (uint64_t)st.st_size, err);
        if (r < 0)
                return r;
        /* resize2fs wants a freshly checked filesystem when offline. */
        /* Exit status 1 means "errors corrected", which is fine here. */
        char *fsck[] = { "sh", "-c", "e2fsck -f -p \"$1\"; [ $? -le 1 ]", "e2fsck", img, NULL };
        r = vs_run_command(fsck, -1, err);
        if (r < 0)
                return r;
        if (truncate(img, (off_t)size) < 0) {
                return vs_error_set(err, errno, "Cannot grow %s: %s", img, strerror(errno));
        }
        r = reserve_image(img, size, err);
        if (r < 0)
                return r;
        char *rs[] = { "resize2fs", "-p", img, sz, NULL };
        /* On failure the file stays larger than the filesystem, which is
         * harmless; cutting it back could cut into a half-grown one. */
        return vs_run_command(rs, -1, err);
}
