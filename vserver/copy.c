/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The live copy: rsync while the guest runs, freeze, rsync the delta, thaw
 * (vserver/backup.h). */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backup.h"
#include "cleanup.h"
#include "clone.h"
#include "command.h"
#include "config.h"
#include "idmap.h"
#include "paths.h"
#include "state.h"
#include "storage.h"
#include "util.h"

/* Tries to freeze the guest (each up to vs_cgroup_freeze()'s 10 s). */
#define FREEZE_ATTEMPTS 3

static volatile sig_atomic_t interrupted;
static volatile pid_t rsync_pid = -1;

/* A copy killed by the user ends its rsync, so the guest is thawed and the
 * partial copy removed by the caller, rather than leaving both. */
static void on_signal(int sig)
{
        interrupted = sig;
        if (rsync_pid > 0)
                kill(rsync_pid, SIGTERM);
}

const char *vs_copy_tree_name(int layout) { return layout == VS_LAYOUT_SHARED ? "upper" : "rootfs"; }

static bool is_remote(const char *s)
{
        const char *colon = strchr(s, ':'), *slash = strchr(s, '/');
        return colon && (!slash || colon < slash);
}

/* "Total transferred file size: 1,234 bytes" (separators by locale and
 * rsync version): the digits. */
static uint64_t stats_transferred(const char *out)
{
        const char *p = strstr(out, "Total transferred file size:");
        uint64_t v = 0;
        if (!p)
                return 0;
        for (p += 28; *p && *p != '\n' && *p != 'b'; p++)
                if (*p >= '0' && *p <= '9')
                        v = v * 10 + (uint64_t)(*p - '0');
        return v;
}

int vs_rsync(char **argv, const char *ssh, const int *ok, uint64_t *ret_transferred, struct vs_error *err)
{
        _cleanup_free_ char *out = NULL;
        size_t n = 0, cap = 0, nargs = 0;
        bool remote = false, progress = false;
        int pfd[2], status;
        char **full;
        pid_t pid;

        for (char **a = argv; *a; a++, nargs++) {
                if (**a != '-' && is_remote(*a))
                        remote = true;
                if (!strcmp(*a, "--info=progress2"))
                        progress = true;
        }
        full = calloc(nargs + 4, sizeof(char *));
        if (!full)
                return -ENOMEM;
        full[0] = "rsync";
        size_t k = 1;
        if (remote && ssh) {
                full[k++] = "-e";
                full[k++] = (char *)ssh;
        }
        for (size_t i = 0; i < nargs; i++)
                full[k++] = argv[i];
        if (pipe2(pfd, O_CLOEXEC) < 0) {
                free(full);
                return -errno;
        }
        fflush(NULL);
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                free(full);
                close(pfd[0]);
                close(pfd[1]);
                return r;
        }
        if (pid == 0) {
                dup2(pfd[1], 1);
                signal(SIGPIPE, SIG_DFL);
                signal(SIGINT, SIG_DFL);
                signal(SIGTERM, SIG_DFL);
                signal(SIGHUP, SIG_DFL);
                execvp(full[0], full);
                fprintf(stderr, "Cannot execute rsync: %m\n");
                _exit(127);
        }
        free(full);
        rsync_pid = pid;
        close(pfd[1]);
        for (;;) {
                char buf[4096];
                ssize_t m = read(pfd[0], buf, sizeof(buf));
                if (m < 0 && errno == EINTR)
                        continue;
                if (m <= 0)
                        break;
                /* Progress as it comes; the statistics block is ours. */
                if (progress && !(out && strstr(out, "Number of files:")))
                        (void)!write(1, buf, (size_t)m);
                if (n + (size_t)m + 1 > cap) {
                        if (n > (1u << 20)) /* long progress output: keep the tail */
                                n = 0;
                        cap = n + (size_t)m + 4096;
                        char *t = realloc(out, cap);
                        if (!t)
                                break;
                        out = t;
                }
                memcpy(out + n, buf, (size_t)m);
                n += (size_t)m;
                out[n] = '\0';
        }
        close(pfd[0]);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        rsync_pid = -1;
        if (!WIFEXITED(status)) {
                return vs_error_set(err, EINTR, "rsync was killed by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        }
        if (WEXITSTATUS(status) != 0) {
                bool fine = false;
                for (const int *o = ok; o && *o; o++)
                        fine |= *o == WEXITSTATUS(status);
                if (!fine) {
                        vs_error_set(err, EIO, "rsync failed with status %d (see its messages above)", WEXITSTATUS(status));
                        return WEXITSTATUS(status) == 11 || WEXITSTATUS(status) == 12 ? -EIO : -EPIPE;
                }
        }
        if (ret_transferred)
                *ret_transferred += out ? stats_transferred(out) : 0;
        return 0;
}

/* The fd the mapped sender reads the tree through: a directory of the
 * guest's mount namespace (an init's root) has no path from ours, and
 * rsync wants one from getcwd() where it starts. */
#define MAPPED_FD 99
#define MAPPED_SRC "local:/proc/self/fd/99/"

int vs_copy_mapped_shell(uint64_t host, uint64_t count, const char *dir, char **argv, struct vs_error *err)
{
        /* Opened here, as root of the host: the namespace below may not. */
        int fd = open(dir, O_PATH | O_DIRECTORY);

        if (fd < 0 || (fd != MAPPED_FD && dup2(fd, MAPPED_FD) < 0))
                return vs_error_set(err, errno, "Cannot open %s: %s", dir, strerror(errno));
        return vs_run_command_mapped(argv, -1, 0, "/", host, count, err);
}

struct pass {
        struct vs_copy *c;
        const char *src;         /* the tree, ending in '/' */
        uint64_t map_host, map_count; /* read through a user namespace (0: not) */
        uint64_t *shared_transferred; /* where the result goes when run in a child */
};

static int one_pass(const struct pass *p, bool live, struct vs_error *err)
{
        /* 23: some files could not be read, 24: some vanished: the
         * frozen pass copies them (or their absence) again. */
        static const int live_ok[] = { 23, 24, 0 }, frozen_ok[] = { 24, 0 };
        _cleanup_free_ char *shell = NULL, *link = NULL, *self = NULL;
        char *argv[16];
        size_t k = 0;
        uint64_t t = 0;
        int r;

        argv[k++] = "-aHAXS";
        argv[k++] = "--numeric-ids";
        argv[k++] = "--delete";
        argv[k++] = "--one-file-system";
        argv[k++] = "--stats";
        if (p->c->progress)
                argv[k++] = "--info=progress2";
        if (p->c->link_dest) {
                link = vs_strdupf("--link-dest=%s", p->c->link_dest);
                if (!link)
                        return -ENOMEM;
                argv[k++] = link;
        }
        if (p->map_count) {
                /* Pulled from "the remote" our own shell starts, in a user
                 * namespace that maps the guest's ids to the files' host
                 * ids: the sender sees the guest's view, the receiver (this
                 * process, root on the host) writes it. */
                if (is_remote(p->c->dest)) {
                        return vs_error_set(err, EOPNOTSUPP, "The files of this guest are read through a user namespace, which a copy "
                                            "over ssh cannot do: copy it to a local directory%s",
                                       p->c->running && p->c->layout == VS_LAYOUT_IMAGE ? ", or stop it first" : "");
                }
                self = realpath("/proc/self/exe", NULL);
                if (!self)
                        return -errno;
                shell = vs_strdupf("%s --mapped-shell %llu %llu %s", self, (unsigned long long)p->map_host,
                                   (unsigned long long)p->map_count, p->src);
                if (!shell)
                        return -ENOMEM;
                argv[k++] = MAPPED_SRC;
        } else
                argv[k++] = (char *)p->src;
        argv[k++] = (char *)p->c->dest;
        argv[k] = NULL;
        (void)live;
        if (shell) {
                _cleanup_free_ char *e = vs_strdupf("-e%s", shell);
                if (!e)
                        return -ENOMEM;
                char *argv2[18];
                argv2[0] = e;
                memcpy(argv2 + 1, argv, (k + 1) * sizeof(char *));
                r = vs_rsync(argv2, NULL, live ? live_ok : frozen_ok, &t, err);
        } else
                r = vs_rsync(argv, p->c->ssh ? p->c->ssh : "ssh", live ? live_ok : frozen_ok, &t, err);
        if (r == 0)
                *p->shared_transferred += t;
        return r;
}

static int pass_in_root(int rootfd, const char *root, void *data, struct vs_error *err)
{
        struct pass *p = data;
        _cleanup_free_ char *src = vs_strdupf("%s/", root);
        (void)rootfd;
        if (!src)
                return -ENOMEM;
        p->src = src;
        return one_pass(p, false, err);
}

/* Writes back what is dirty on the file systems of the copy: the guest's
 * tree (and, for an image, the one holding it) and a local destination.
 * Only those: a host-wide sync() also waits for every other guest's disk. */
static void sync_before_freeze(const struct pass *p, const char *dir)
{
        const char *paths[] = { p->src, dir, is_remote(p->c->dest) ? NULL : p->c->dest };

        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                int fd = paths[i] ? open(paths[i], O_RDONLY | O_CLOEXEC | O_DIRECTORY) : -1;
                /* A destination not made yet: its parent's file system. */
                if (fd < 0 && paths[i] && i == 2) {
                        _cleanup_free_ char *up = vs_strdupf("%s/..", paths[i]);
                        fd = up ? open(up, O_RDONLY | O_CLOEXEC | O_DIRECTORY) : -1;
                }
                if (fd >= 0) {
                        (void)syncfs(fd);
                        close(fd);
                }
        }
}

/* A process that thaws the guest unless told its copy is done: the copy
 * may be killed outright (SIGKILL, the OOM killer) while the guest is
 * frozen, which no handler of ours sees. */
static int watchdog_start(const char *name, int *ret_fd, pid_t *ret_pid)
{
        int p[2];
        pid_t pid = vs_fork_pipe(p);

        if (pid < 0)
                return pid;
        if (pid == 0) {
                char ch = 0;
                ssize_t n;
                close(p[1]);
                /* A session of its own: a kill of the copy's process group
                 * (a terminal's, a script's "kill -- -PGID") misses it. */
                (void)setsid();
                signal(SIGINT, SIG_IGN);
                signal(SIGTERM, SIG_IGN);
                signal(SIGHUP, SIG_IGN);
                do
                        n = read(p[0], &ch, 1);
                while (n < 0 && errno == EINTR);
                if (n == 1 && ch == 'd')
                        _exit(0);
                (void)vs_disk_freeze(name, false, NULL);
                _exit(0);
        }
        close(p[0]);
        *ret_fd = p[1];
        *ret_pid = pid;
        return 0;
}

static void watchdog_stop(int fd, pid_t pid, bool done)
{
        if (done)
                (void)!write(fd, "d", 1);
        close(fd);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}

/* One copy's state, shared by its phases. */
struct copy_run {
        const char *name;
        struct vs_copy *c;
        struct vs_config *cfg;
        char *dir;               /* the guest's directory */
        char *src;               /* the tree read (ending in '/') */
        struct pass p;
        uint64_t *shared;        /* bytes written, also by a child */
        struct sigaction old_int, old_term, old_hup, old_pipe;
};

/* The guest's layout and, for a shared guest, its template version. */
static int look_at_guest(struct copy_run *cr, struct vs_error *err)
{
        struct vs_copy *c = cr->c;
        int r;

        r = vs_load_guest_config(cr->name, &cr->cfg, err);
        if (r < 0)
                return r;
        c->layout = vs_config_layout(cr->cfg);
        cr->dir = vs_guest_path(cr->name);
        if (!cr->dir)
                return -ENOMEM;
        if (c->layout == VS_LAYOUT_SHARED) {
                _cleanup_free_ char *link = vs_strdupf("%s/lower", cr->dir);
                char t[PATH_MAX];
                ssize_t n = link ? readlink(link, t, sizeof(t) - 1) : -1;
                if (n <= 0) {
                        return vs_error_set(err, ENOENT, "Guest \"%s\" has no template link %s", cr->name, link ? link : "lower");
                }
                t[n] = '\0';
                snprintf(c->template_version, sizeof(c->template_version), "%.255s",
                         strrchr(t, '/') ? strrchr(t, '/') + 1 : t);
        }
        return 0;
}

/* Signals that end rsync (and so thaw the guest), and the counter a child
 * adds to; undone by end_copy(). */
static int begin_copy(struct copy_run *cr)
{
        struct sigaction sa = { .sa_handler = on_signal };

        /* Shared with a child (the mount namespace of a stopped image). */
        cr->shared = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (cr->shared == MAP_FAILED) {
                cr->shared = NULL;
                return -errno;
        }
        *cr->shared = 0;
        cr->p.shared_transferred = cr->shared;
        sigemptyset(&sa.sa_mask);
        interrupted = 0;
        sigaction(SIGINT, &sa, &cr->old_int);
        sigaction(SIGTERM, &sa, &cr->old_term);
        sigaction(SIGHUP, &sa, &cr->old_hup);
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, &cr->old_pipe);
        return 0;
}

static int end_copy(struct copy_run *cr, int r, struct vs_error *err)
{
        if (r == 0 && interrupted) {
                vs_error_set(err, EINTR, "Copy of \"%s\" interrupted by signal %d", cr->name, (int)interrupted);
                r = -EINTR;
        } else if (r < 0 && interrupted && !strstr(err->msg, "interrupted")) {
                vs_error_set(err, r, "Copy of \"%s\" interrupted by signal %d", cr->name, (int)interrupted);
        }
        sigaction(SIGINT, &cr->old_int, NULL);
        sigaction(SIGTERM, &cr->old_term, NULL);
        sigaction(SIGHUP, &cr->old_hup, NULL);
        sigaction(SIGPIPE, &cr->old_pipe, NULL);
        cr->c->transferred = *cr->shared;
        munmap(cr->shared, sizeof(uint64_t));
        fflush(stdout);
        return r;
}

/* Its ids as its files have them: shifted ones are read through a user
 * namespace. */
static void map_shifted(struct copy_run *cr)
{
        cr->p.map_host = cr->cfg->idmap_shifted;
        cr->p.map_count =
                cr->cfg->idmap_shifted ? (cr->cfg->idmap_count ? cr->cfg->idmap_count : VS_IDMAP_COUNT) : 0;
}

/* A stopped guest, under the lock that keeps it stopped: one pass. */
static int copy_stopped(struct copy_run *cr, struct vs_error *err)
{
        map_shifted(cr);
        if (cr->c->layout == VS_LAYOUT_IMAGE)
                return vs_disk_with_root(cr->dir, cr->c->layout, pass_in_root, &cr->p, err);
        cr->src = vs_strdupf("%s/%s/", cr->dir, vs_copy_tree_name(cr->c->layout));
        if (!cr->src)
                return -ENOMEM;
        cr->p.src = cr->src;
        return one_pass(&cr->p, false, err);
}

/* Where a running guest's tree is read from, and through which ids. */
static int running_source(struct copy_run *cr, struct vs_error *err)
{
        struct vs_guest_info info = { 0 };
        struct vs_error e2;
        int r;

        r = vs_guest_info(cr->name, &info, &e2);
        if (r < 0 || info.state != VS_GUEST_RUNNING) {
                vs_guest_info_clear(&info);
                return vs_error_set(err, EBUSY, "Guest \"%s\" is busy (being built, started or destroyed)", cr->name);
        }
        cr->c->running = true;
        if (cr->c->layout == VS_LAYOUT_IMAGE) {
                /* The image is mounted in the guest only: read through its
                 * init's root, where an unprivileged guest's files show
                 * its host ids. */
                cr->src = vs_strdupf("/proc/%d/root/", (int)info.init_pid);
                if (info.unprivileged && info.idmap_count) {
                        cr->p.map_host = info.idmap_host;
                        cr->p.map_count = info.idmap_count;
                }
        } else {
                cr->src = vs_strdupf("%s/%s/", cr->dir, vs_copy_tree_name(cr->c->layout));
                map_shifted(cr);
        }
        vs_guest_info_clear(&info);
        if (!cr->src)
                return -ENOMEM;
        cr->p.src = cr->src;
        return 0;
}

/* Frozen, after as many live passes as a freeze needs. A task in
 * uninterruptible sleep (a long fsync on a busy disk) holds the freezer in
 * FREEZING: the guest is thawed, copied live once more, frozen again. On
 * success *ret_t0 is when the freeze began. */
static int freeze_for_delta(struct copy_run *cr, uint64_t *ret_t0, struct vs_error *err)
{
        for (int attempt = 1;; attempt++) {
                /* What is dirty is written back first, the live pass's own
                 * copy above all: a guest's fsync queued behind that
                 * backlog sleeps uninterruptibly, and holds the freezer in
                 * FREEZING until it is through (seen for 3 x 10 s on a busy
                 * host). */
                sync_before_freeze(&cr->p, cr->dir);
                uint64_t t0 = vs_now_usec();
                int r = vs_disk_freeze(cr->name, true, err);
                if (r == 0) {
                        *ret_t0 = t0;
                        return 0;
                }
                (void)vs_disk_freeze(cr->name, false, NULL);
                if (r != -ETIMEDOUT || attempt == FREEZE_ATTEMPTS || interrupted)
                        return r;
                vs_say(cr->c->say, cr->c->data,
                       "Guest \"%s\" did not freeze within %.0f s (a task in uninterruptible sleep): thawed, "
                       "copying again",
                       cr->name, (double)(vs_now_usec() - t0) / 1e6);
                err->msg[0] = '\0';
                r = one_pass(&cr->p, true, err);
                if (r < 0 || interrupted)
                        return r < 0 ? r : -EINTR;
        }
}

/* A running guest: live, then frozen for what changed (and on_frozen),
 * thawed on every path, by the watchdog if we die. */
static int copy_running(struct copy_run *cr, struct vs_error *err)
{
        struct vs_copy *c = cr->c;
        struct vs_error e2 = { 0 };
        int wfd = -1, r, r2;
        pid_t wpid = -1;
        uint64_t t0 = 0;

        r = running_source(cr, err);
        if (r < 0)
                return r;
        vs_say(c->say, c->data, "Copying guest \"%s\" while it runs", cr->name);
        r = one_pass(&cr->p, true, err);
        if (r < 0 || interrupted)
                return r;
        r = watchdog_start(cr->name, &wfd, &wpid);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot start the copy's watchdog: %s", strerror(-r));
        }
        r = freeze_for_delta(cr, &t0, err);
        if (r < 0) {
                watchdog_stop(wfd, wpid, true);
                return r == -EINTR && interrupted ? 0 : r;
        }
        c->frozen_at = t0;
        vs_say(c->say, c->data, "Guest \"%s\" is frozen: copying what changed", cr->name);
        r = one_pass(&cr->p, false, err);
        if (r == 0 && !interrupted && c->on_frozen)
                r = c->on_frozen(c, err);
        r2 = vs_disk_freeze(cr->name, false, &e2);
        c->freeze_usec = vs_now_usec() - t0;
        /* The watchdog tries again if we could not. */
        watchdog_stop(wfd, wpid, r2 == 0);
        if (r2 < 0 && r == 0) {
                *err = e2;
                r = r2;
        }
        vs_say(c->say, c->data, "Guest \"%s\" thawed after %.3f s frozen", cr->name, (double)c->freeze_usec / 1e6);
        return r;
}

int vs_guest_copy(const char *name, struct vs_copy *c, struct vs_error *err)
{
        struct copy_run cr = { .name = name, .c = c, .p = { .c = c } };
        _cleanup_close_ int lock = -1;
        int r;

        c->running = false;
        c->freeze_usec = c->transferred = c->frozen_at = 0;
        c->template_version[0] = '\0';
        r = look_at_guest(&cr, err);
        if (r == 0)
                r = begin_copy(&cr);
        if (r < 0)
                goto out;
        /* A shared lock: a stopped guest cannot start while we read it. */
        r = vs_guest_lock(name, true, &lock);
        if (r == 0)
                r = copy_stopped(&cr, err);
        else if (r == -EBUSY)
                r = copy_running(&cr, err);
        else
                vs_error_set(err, r, "Cannot lock guest \"%s\": %s", name, strerror(-r));
        r = end_copy(&cr, r, err);
out:
        vs_config_free(cr.cfg);
        free(cr.dir);
        free(cr.src);
        return r;
}
