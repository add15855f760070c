/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The per-guest supervisor: owns the guest from clone() to teardown. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "clone.h"
#include "config.h"
#include "image.h"
#include "events.h"
#include "guest-io.h"
#include "guest-limits.h"
#include "guest-net.h"
#include "notify.h"
#include "pidfd.h"
#include "pty.h"
#include "start.h"
#include "state.h"
#include "util.h"

#define RING_SIZE (64 * 1024)
#define MAX_CLIENTS 8
#define LOG_LIMIT (4u << 20)

struct console {
        char ring[RING_SIZE];
        size_t head, len;
        int clients[MAX_CLIENTS];
        uint64_t logged;
};

static void ring_put(struct console *c, const char *buf, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                c->ring[(c->head + c->len) % RING_SIZE] = buf[i];
                if (c->len < RING_SIZE)
                        c->len++;
                else
                        c->head = (c->head + 1) % RING_SIZE;
        }
}

static void send_ring(const struct console *c, int fd)
{
        size_t first = c->len;
        if (c->head + first > RING_SIZE)
                first = RING_SIZE - c->head;
        (void)!write(fd, c->ring + c->head, first);
        if (first < c->len)
                (void)!write(fd, c->ring, c->len - first);
}

static int listen_socket(const char *rundir, const char *name)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

        if (fd < 0)
                return -errno;
        if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", rundir, name) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        unlink(sa.sun_path);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(sa.sun_path, 0600) < 0 || listen(fd, 4) < 0)
                return -errno;
        return TAKE_FD(fd);
}

static void report_ready(struct vs_start_ctx *ctx)
{
        struct {
                int status;
                char msg[sizeof(((struct vs_error *)0)->msg)];
        } m = { 0 };
        if (ctx->ready_fd < 0)
                return;
        /* Status 0 with a text: warnings for vs-start to say. */
        snprintf(m.msg, sizeof(m.msg), "%s", ctx->warnings);
        (void)!write(ctx->ready_fd, &m, sizeof(m));
        close(ctx->ready_fd);
        ctx->ready_fd = -1;
}

/* Clone the guest's init, straight into its cgroup v2 group where there is
 * one; the child moves itself into the others (vs_cgroup_attach_self),
 * which no migration by pid can match in cost. */
static pid_t clone_init_as(struct vs_start_ctx *ctx, int sync_fd, int status_fd)
{
        /* An unprivileged guest's user namespace comes in the same clone:
         * it then owns every other namespace made with it. */
        const unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET |
                                    (ctx->config->userns ? CLONE_NEWUSER : 0);
        _cleanup_close_ int cgfd = -1;
        pid_t pid = -1;

        ctx->cg_placed = vs_cgroup_v2_index(ctx->cg);
        if (ctx->cg_placed >= 0) {
                _cleanup_free_ char *leaf = vs_strdupf("%s/" VS_CGROUP_LEAF, ctx->cg->paths[ctx->cg_placed]);
                cgfd = leaf ? open(leaf, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
                if (cgfd >= 0)
                        pid = vs_clone_into(flags, cgfd);
                if (cgfd < 0 || (pid < 0 && errno == EOPNOTSUPP))
                        ctx->cg_placed = -1;
                else if (pid == 0)
                        vs_start_child(ctx, sync_fd, status_fd);
                else
                        return pid;
        }
        pid = vs_clone_into(flags, -1);
        if (pid == 0)
                vs_start_child(ctx, sync_fd, status_fd);
        return pid;
}

/* An unprivileged guest's user namespace is owned by the guest's host
 * ids, not by host root (see vs_userns_owner_begin). */
static pid_t clone_init(struct vs_start_ctx *ctx, int sync_fd, int status_fd)
{
        struct vs_userns_owner saved;
        pid_t pid;
        int r, e;

        if (!ctx->config->userns)
                return clone_init_as(ctx, sync_fd, status_fd);
        r = vs_userns_owner_begin(ctx, &saved);
        if (r < 0) {
                errno = -r;
                return -1;
        }
        pid = clone_init_as(ctx, sync_fd, status_fd);
        e = errno;
        vs_userns_owner_end(&saved);
        errno = e;
        return pid;
}

static int teardown(struct vs_start_ctx *ctx)
{
        size_t n = 0;
        int r = 0;

        if (ctx->step) {
                munmap(ctx->step, VS_STEP_SIZE);
                ctx->step = NULL;
        }
        /* Init is gone, so the kernel is killing the rest of its PID
         * namespace. Usually nothing is left and the groups go at once;
         * otherwise (a process that entered the groups some other way, or
         * one the kernel still counts) kill and wait before removing them. */
        if (vs_cgroup_remove_quick(ctx->cg) == 0)
                goto net;
        struct vs_deadline d = vs_deadline_in(5000, 10);
        do {
                if (vs_cgroup_count_procs(ctx->cg, &n) < 0 || n == 0)
                        break;
                ctx->cg->ops->kill(ctx->cg, SIGKILL);
        } while (vs_deadline_wait(&d));
        r = ctx->cg->ops->destroy(ctx->cg);
        if (r < 0)
                vs_warn_log(VS_WARN_WARNING, "Cannot remove the cgroups of \"%s\": %s", ctx->name, strerror(-r));
net:
        vs_guest_net_teardown(ctx->rundir);
        (void)vs_rm_rf(ctx->rundir);
        return r;
}

/* The guest's undertaker: a child of the supervisor that only waits for
 * its death. A supervisor killed outright (SIGKILL, the OOM killer) tears
 * nothing down; its guest dies with it (init's parent-death signal), and
 * this child, told by a parent-death signal of its own, removes what is
 * left (vs_guest_cleanup: the groups, the network, the run state) under the
 * guest's lock, which it holds too (the same open file). A supervisor that
 * ends as it should kills it first. Returns a pidfd of it, -1 for none
 * (then the next start or stop of the guest clears up, as without it). */
static int start_undertaker(struct vs_start_ctx *ctx)
{
        pid_t parent = getpid(), pid;
        int fd;

        fflush(NULL);
        pid = fork();
        if (pid < 0)
                return -1;
        if (pid > 0) {
                fd = vs_pidfd_open(pid);
                if (fd < 0) { /* no safe way to end it later: end it now */
                        kill(pid, SIGKILL);
                        waitpid(pid, NULL, 0);
                }
                return fd < 0 ? -1 : fd;
        }
        /* Every signal stays blocked (the supervisor's mask): only SIGKILL
         * ends it early, and SIGUSR2 is taken below. */
        sigset_t death;
        sigemptyset(&death);
        sigaddset(&death, SIGUSR2);
        sigprocmask(SIG_BLOCK, &death, NULL);
        (void)prctl(PR_SET_NAME, "vs-undertaker");
        fd = ctx->lock_fd;
        if (fd > 3)
                (void)syscall(SYS_close_range, 3, fd - 1, 0);
        (void)syscall(SYS_close_range, (fd >= 3 ? fd : 2) + 1, ~0U, 0);
        if (prctl(PR_SET_PDEATHSIG, SIGUSR2) < 0)
                _exit(1);
        if (getppid() == parent)
                while (sigwaitinfo(&death, NULL) < 0 && errno == EINTR)
                        ;
        (void)vs_guest_cleanup(ctx->name);
        vs_event_supervisor_killed(ctx->name);
        _exit(0);
}

static void stop_undertaker(int *pidfd)
{
        if (*pidfd < 0)
                return;
        if (vs_pidfd_signal(*pidfd, SIGKILL) == 0) {
                siginfo_t si;
                (void)waitid(P_PIDFD, (id_t)*pidfd, &si, WEXITED);
        }
        close(*pidfd);
        *pidfd = -1;
}

/* Writes the run state as "state.new" (vs_state_publish puts it in place). */
static int stage_state(struct vs_start_ctx *ctx, struct vs_state *st, char ***ctls)
{
        st->supervisor_pid = getpid();
        st->init_pid = ctx->init_pid;
        st->started = time(NULL);
        st->halt_signal = ctx->halt_signal;
        st->backend = (char *)ctx->cg->ops->name;
        st->cgroups = ctx->cg->paths;
        *ctls = calloc(ctx->cg->n_hier + 1, sizeof(char *));
        if (!*ctls)
                return -ENOMEM;
        for (size_t i = 0; i < ctx->cg->n_hier; i++)
                (*ctls)[i] = ctx->cg->hier[i].v2 ? (char *)"-" : ctx->cg->hier[i].controllers;
        st->controllers = *ctls;
        if (vs_proc_starttime(st->supervisor_pid, &st->supervisor_starttime) < 0 ||
            vs_proc_starttime(st->init_pid, &st->init_starttime) < 0)
                return -ESRCH;
        return vs_state_stage(ctx->name, st);
}

/* Kills the child that is not yet the guest's init, by its pidfd where there
 * is one, and reaps it. One stuck in an uninterruptible wait in the kernel
 * does not die: it is not waited for for ever. */
static void kill_child(struct vs_start_ctx *ctx, int pidfd)
{
        if (pidfd < 0) {
                kill(ctx->init_pid, SIGKILL);
                waitpid(ctx->init_pid, NULL, 0);
                return;
        }
        (void)vs_pidfd_signal(pidfd, SIGKILL);
        struct pollfd p = { .fd = pidfd, .events = POLLIN };
        int r;
        do
                r = poll(&p, 1, 10000);
        while (r < 0 && errno == EINTR);
        if (r > 0)
                waitpid(ctx->init_pid, NULL, 0);
        else
                vs_warn_log(VS_WARN_WARNING, "The setup process of \"%s\" (pid %d) does not die", ctx->name,
                            (int)ctx->init_pid);
}

/* What the child was doing (see struct vs_step), in words. */
static void step_text(const struct vs_start_ctx *ctx, char *buf, size_t len)
{
        int i = ctx->step ? ctx->step->op : -1;

        if (i < 0 || (size_t)i >= ctx->plan.n) {
                snprintf(buf, len, "%s", ctx->step ? ctx->step->text : "setting up the guest");
                return;
        }
        const struct vs_mount_op *op = &ctx->plan.ops[i];
        const char *o = op->origin ? op->origin : "the standard mounts";
        if (op->kind == VS_MOUNT_FS)
                snprintf(buf, len, "mounting %s \"%s\" on \"%s\" (%s)", op->fstype, op->source ? op->source : "none",
                         op->target, o);
        else if (op->kind == VS_MOUNT_BIND)
                snprintf(buf, len, "bind-mounting \"%s\" on \"%s\" (%s)", op->source, op->target, o);
        else
                snprintf(buf, len, "setting up \"%s\" (%s)", op->target, o);
}

/* Reads the child's status pipe: a message when the setup failed, EOF once
 * the guest's init runs (or the child died). Returns what read() returned,
 * or -ETIMEDOUT at @deadline (vs_now_usec()): a mount that hangs (NFS, FUSE)
 * must not hang the start, nor keep the guest's lock, for ever. */
static ssize_t read_status(int fd, uint64_t deadline, char *buf, size_t len)
{
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                uint64_t now = vs_now_usec();
                int r;

                if (now >= deadline)
                        return -ETIMEDOUT;
                r = poll(&p, 1, (int)((deadline - now + 999) / 1000));
                if (r < 0 && errno != EINTR && errno != EAGAIN)
                        return -errno;
                if (r > 0) {
                        ssize_t n = read(fd, buf, len);
                        if (n >= 0 || (errno != EINTR && errno != EAGAIN))
                                return n < 0 ? -errno : n;
                }
        }
}

static int exit_status(int status)
{
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        /* reboot(2) in a PID namespace kills its init: SIGINT for power off and
         * halt, SIGHUP for reboot. Both are a clean end. */
        if (WIFSIGNALED(status) && (WTERMSIG(status) == SIGINT || WTERMSIG(status) == SIGHUP))
                return 0;
        return 128 + WTERMSIG(status);
}

/* One supervisor's state, from the first phase to the teardown: what the
 * phases below hand on to each other. */
struct supervisor {
        struct vs_start_ctx *ctx;
        struct vs_error *err;
        uint64_t deadline;           /* vs_now_usec() by which the child's setup ends (start_timeout) */
        int sigfd;                   /* SIGCHLD, the stop requests, SIGUSR1 */
        int sync_pair[2];            /* [0] ours, [1] the child's: the go-ahead and the ptmx */
        int status_pipe[2];          /* the child's message when its setup fails; EOF once init runs */
        int child_fd;                /* a pidfd of the child, -1: none */
        bool child_live;             /* the child was cloned and not yet killed */
        int old_mnt_ns;              /* the child's first mount namespace, held until init runs */
        int listen_fd;               /* console.sock */
        int pty_fd;                  /* pty.sock */
        int undertaker;              /* a pidfd of it, -1: none */
        struct vs_notify notify;
        struct console *con;
        struct termios saved_tty;
        bool tty_raw;
        dev_t io_dev;                /* the device under the guest's data, */
        bool io_dev_ok;              /* found while an image root is mounted */
        struct vs_state st;
        char **ctls;
        /* The poll loop's state. */
        bool stdin_open, halting, poll_failing, done;
        int status;                  /* init's wait status, once done */
        struct vs_anon_guard anon;
        uint64_t next_anon, next_oom, oom_seen;
        int oom_fd;                  /* v2: an inotify watch of memory.events, -1: look once a second */
        bool oom_due;                /* the OOM kill count is to be read */
        int freezer_fd;              /* a pidfd of the process that froze the guest, -1: none */
        pid_t freezer_pid;
        uint64_t oom_quiet_until;    /* the watch is not polled before (OOM_QUIET_USEC) */
};

/* A guest can make its memory.events change often (memory.high in a group
 * of its own): after each read of the count, the watch rests this long. */
#define OOM_QUIET_USEC 50000

/* First: no signal may be lost between the clone and the poll loop. */
static int block_signals(struct supervisor *sv)
{
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGPIPE);
        sigaddset(&mask, SIGUSR1);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sv->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        return sv->sigfd < 0 ? -errno : 0;
}

/* Before the clone: the group the child is cloned into comes first; the
 * others are made while the child sets up the guest's mounts
 * (create_other_cgroups). */
static int create_first_cgroup(struct supervisor *sv)
{
        struct vs_start_ctx *ctx = sv->ctx;
        int r = ctx->cg->ops->create(ctx->cg, VS_CG_FIRST);

        if (r < 0) {
                ssize_t u = vs_cgroup_unified_index(ctx->cg);
                return vs_error_set(sv->err, r, "Cannot create the cgroup of \"%s\" (%s): %s", ctx->name,
                                    ctx->cg->paths[u >= 0 ? u : 0], strerror(-r));
        }
        vs_profile_mark(ctx, "cgroup2");
        return 0;
}

/* Before the clone: the plan's /dev/console bind needs the pty's path. */
static int open_console(struct supervisor *sv)
{
        struct vs_start_ctx *ctx = sv->ctx;
        int r = vs_pty_open(&ctx->console_master, &ctx->console_path);

        if (r < 0) {
                return vs_error_set(sv->err, r, "Cannot allocate a console pty: %s", strerror(-r));
        }
        /* Input for a guest that does not read its console is dropped
         * rather than stall the supervisor. */
        fcntl(ctx->console_master, F_SETFL, fcntl(ctx->console_master, F_GETFL) | O_NONBLOCK);
        ctx->console_slave = open(ctx->console_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (ctx->console_slave < 0) {
                r = -errno;
                return vs_error_set(sv->err, r, "Cannot open %s: %s", ctx->console_path, strerror(errno));
        }
        for (size_t i = 0; i < ctx->plan.n; i++)
                if (ctx->plan.ops[i].kind == VS_MOUNT_BIND && strcmp(ctx->plan.ops[i].target, "/dev/console") == 0)
                        /* By path: a bind mount's source must be in the child's own
                         * mount namespace, so an fd opened here would not do. */
                        ctx->plan.ops[i].source = vs_mount_plan_strdup(&ctx->plan, ctx->console_path);
        if (ctx->foreground && isatty(STDIN_FILENO)) {
                vs_tty_copy_winsize(STDIN_FILENO, ctx->console_master);
                sv->tty_raw = vs_tty_raw(STDIN_FILENO, &sv->saved_tty) == 0;
        }
        return 0;
}

/* Before the clone: the plan binds the socket into the guest. In the
 * foreground we may be a Type=notify service: pass readiness on. */
static int open_notify_socket(struct supervisor *sv)
{
        struct vs_start_ctx *ctx = sv->ctx;
        int r = vs_notify_open(&sv->notify, ctx->rundir, ctx->foreground);

        if (r < 0)
                vs_error_set(sv->err, r, "Cannot create the notify socket of \"%s\": %s", ctx->name, strerror(-r));
        return r;
}

/* Before the clone: an image root is mounted here, outside the guest's
 * device policy (which forbids block devices), and attached by the child;
 * the device under the guest's data is found while the image is open. */
static int mount_image_root(struct supervisor *sv)
{
        struct vs_start_ctx *ctx = sv->ctx;

        if (vs_config_layout(ctx->config) == VS_LAYOUT_IMAGE) {
                _cleanup_free_ char *img = vs_strdupf("%s/../disk.img", ctx->rootfs);
                int r = img ? vs_image_mount_fd(img, false, MOUNT_ATTR_NOATIME, &ctx->root_mnt_fd) : -ENOMEM;
                if (r < 0) {
                        return vs_error_set(sv->err, r, "Cannot mount the image %s: %s", img ? img : "disk.img",
                                            strerror(-r));
                }
        }
        sv->io_dev_ok = vs_guest_io_device(ctx->config, ctx->rootfs, ctx->root_mnt_fd, &sv->io_dev) == 0;
        return 0;
}

/* Before the clone: the child inherits its ends of these. */
static int make_channels(struct supervisor *sv)
{
        struct vs_start_ctx *ctx = sv->ctx;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv->sync_pair) < 0 ||
            pipe2(sv->status_pipe, O_CLOEXEC) < 0) {
                int r = -errno;
                return vs_error_set(sv->err, r, "Cannot create pipes: %s", strerror(errno));
        }
        ctx->step = mmap(NULL, VS_STEP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (ctx->step == MAP_FAILED)
                ctx->step = NULL;
        else
                *ctx->step = (struct vs_step){ .op = -1, .text = "setting up the guest" };
        return 0;
}

/* The clone, and for an unprivileged guest its id maps at once: the child
 * waits for them before anything else. */
static int clone_guest_init(struct supervisor *sv)
{
        struct vs_start_ctx *ctx = sv->ctx;
        int r;

        fflush(NULL);
        ctx->init_pid = clone_init(ctx, sv->sync_pair[1], sv->status_pipe[1]);
        sv->child_live = ctx->init_pid > 0;
        if (ctx->init_pid > 0 && (r = vs_userns_setup(ctx, sv->sync_pair[0], sv->err)) < 0)
                return r;
        /* The child has its own copy of the image's mount and of the
         * nodes' tmpfs; ours go. */
        if (ctx->root_mnt_fd >= 0) {
                close(ctx->root_mnt_fd);
                ctx->root_mnt_fd = -1;
        }
        if (ctx->nodes_mnt >= 0) {
                close(ctx->nodes_mnt);
                ctx->nodes_mnt = -1;
        }
        if (ctx->init_pid < 0) {
                r = -errno;
                return vs_error_set(sv->err, r, "Cannot create the namespaces of \"%s\": %s", ctx->name, strerror(errno));
        }
        sv->child_fd = vs_pidfd_open(ctx->init_pid);
        close(sv->sync_pair[1]);
        close(sv->status_pipe[1]);
        sv->sync_pair[1] = sv->status_pipe[1] = -1;
        vs_profile_mark(ctx, "clone");
        return 0;
}

/* On the other CPU the child now loads the device program and mounts
 * everything but the cgroup filesystems; meanwhile the rest of the groups.
 * Every limit is in place before the go-ahead, so before the guest's init
 * runs. */
static int create_other_cgroups(struct supervisor *sv)
{
        struct vs_start_ctx *ctx = sv->ctx;
        struct vs_error why = { 0 };
        int r = ctx->cg->ops->create(ctx->cg, VS_CG_REST);

        if (r < 0) {
                return vs_error_set(sv->err, r, "Cannot create the cgroups of \"%s\" (%s): %s", ctx->name, ctx->cg->paths[0],
                                    strerror(-r));
        }
        r = vs_guest_apply_limits(ctx->cg, ctx->config, &why);
        if (r < 0) {
                return vs_error_set(sv->err, r, "Cannot set the limits of \"%s\": %s", ctx->name, why.msg);
        }
        if (sv->io_dev_ok) {
                size_t wl = strlen(ctx->warnings);
                r = vs_guest_io_start(ctx->name, ctx->cg, ctx->config, sv->io_dev, ctx->rundir, ctx->warnings + wl,
                                      sizeof(ctx->warnings) - wl, sv->err);
                if (r < 0)
                        return r;
                /* In the foreground our stderr is the caller's. */
                if (ctx->ready_fd < 0 && ctx->warnings[0]) {
                        vs_warn_lines(ctx->warnings);
                        ctx->warnings[0] = '\0';
                }
        }
        r = vs_userns_cgroups(ctx, sv->err);
        if (r < 0)
                return r;
        vs_profile_mark(ctx, "cgroup");
        return 0;
}

/* From the host side, while the child waits: it execs init with eth0
 * already configured, so the guest is reachable once we report ready. */
static int setup_network(struct supervisor *sv)
{
        struct vs_start_ctx *ctx = sv->ctx;
        struct vs_guest_net net;
        int r = vs_guest_net_setup(ctx->name, ctx->config, ctx->init_pid, ctx->rundir, &net, sv->err);

        if (r < 0)
                return r;
        vs_profile_mark(ctx, "network");
        return 0;
}

/* While the child finishes the guest's root: the run state, staged
 * (published once init runs), and the console sockets. */
static int prepare_while_child_finishes(struct supervisor *sv)
{
        struct vs_start_ctx *ctx = sv->ctx;
        /* The child's mount namespace until it locks its mounts: held here,
         * it is not torn down (45 host mounts, an RCU grace period) in the
         * child's setns but when we close it, once init runs. */
        char ns[48];
        int r;

        snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", (int)ctx->init_pid);
        sv->old_mnt_ns = open(ns, O_RDONLY | O_CLOEXEC);
        r = stage_state(ctx, &sv->st, &sv->ctls);
        if (r < 0) {
                return vs_error_set(sv->err, r, "Cannot record the state of \"%s\": %s", ctx->name, strerror(-r));
        }
        sv->listen_fd = listen_socket(ctx->rundir, "console.sock");
        if (sv->listen_fd < 0)
                vs_warn_log(VS_WARN_WARNING, "No console socket for \"%s\": %s", ctx->name, strerror(-sv->listen_fd));
        sv->pty_fd = listen_socket(ctx->rundir, VS_PTY_SOCKET);
        if (sv->pty_fd < 0)
                vs_warn_log(VS_WARN_WARNING, "No pty socket for \"%s\": %s", ctx->name, strerror(-sv->pty_fd));
        return 0;
}

/* Once every limit and the network are in place: the go-ahead, then the
 * child's verdict on the status pipe (EOF: init runs), within the start
 * timeout. */
static int go_ahead(struct supervisor *sv)
{
        struct vs_start_ctx *ctx = sv->ctx;
        /* A child that failed before the go-ahead has closed its end; its
         * message is on the status pipe all the same. */
        bool sent = send(sv->sync_pair[0], "g", 1, MSG_NOSIGNAL) == 1;
        char msg[1024];
        ssize_t n;
        int r;

        if (sent && (r = prepare_while_child_finishes(sv)) < 0)
                return r;
        n = read_status(sv->status_pipe[0], sv->deadline, msg, sizeof(msg) - 1);
        if (n == -ETIMEDOUT) {
                char what[VS_STEP_SIZE + 64];

                /* Killed and reaped first: then the step is final. */
                kill_child(ctx, sv->child_fd);
                sv->child_live = false;
                step_text(ctx, what, sizeof(what));
                return vs_error_set(sv->err, ETIMEDOUT,
                                    "Cannot start \"%s\": its setup did not finish within %llu s (start_timeout), "
                                    "stuck %s; stopped it",
                                    ctx->name, (unsigned long long)ctx->config->start_timeout, what);
        }
        if (n <= 0 && !sent) {
                return vs_error_set(sv->err, EIO, "The guest's init died before it was set up");
        }
        if (n > 0) {
                struct vs_error child;
                msg[n] = '\0';
                r = vs_error_parse(msg, &child);
                return vs_error_set(sv->err, r, "Cannot start \"%s\": %s", ctx->name, child.msg);
        }
        return 0;
}

/* Once init runs: the guest's ptmx, sent by the child before it read the
 * go-ahead; the channels to the child are done with. */
static int take_ptmx(struct supervisor *sv)
{
        struct vs_start_ctx *ctx = sv->ctx;
        int r = vs_fd_recv(sv->sync_pair[0], MSG_DONTWAIT, &ctx->ptmx_fd);

        if (r < 0) {
                return vs_error_set(sv->err, r, "The guest's /dev/pts/ptmx did not come from \"%s\": %s", ctx->name,
                                    strerror(-r));
        }
        close(sv->status_pipe[0]);
        close(sv->sync_pair[0]);
        sv->status_pipe[0] = sv->sync_pair[0] = -1;
        vs_profile_mark(ctx, "exec");
        return 0;
}

/* Once init runs: the run state goes live, and only then the undertaker,
 * which cleans up after a guest that runs. */
static int publish_state(struct supervisor *sv)
{
        struct vs_start_ctx *ctx = sv->ctx;
        int r = vs_state_publish(ctx->name);

        if (r < 0) {
                return vs_error_set(sv->err, r, "Cannot record the state of \"%s\": %s", ctx->name, strerror(-r));
        }
        sv->undertaker = start_undertaker(ctx);
        sv->con = calloc(1, sizeof(*sv->con));
        if (!sv->con)
                return -ENOMEM;
        for (int i = 0; i < MAX_CLIENTS; i++)
                sv->con->clients[i] = -1;
        return 0;
}

/* Last of the start, when nothing can fail any more: the event, the ready
 * message to vs-start, and readiness for an init that cannot notify. */
static void announce_started(struct supervisor *sv)
{
        struct vs_start_ctx *ctx = sv->ctx;
        /* Through init's own root: an image or overlay root is mounted only
         * in the guest's namespace. */
        char root[48];

        vs_event_start(ctx->name, ctx->init_pid, ctx->config->userns);
        report_ready(ctx);
        vs_profile_mark(ctx, "state");
        if (sv->old_mnt_ns >= 0) {
                close(sv->old_mnt_ns);
                sv->old_mnt_ns = -1;
        }
        snprintf(root, sizeof(root), "/proc/%d/root", (int)ctx->init_pid);
        if (vs_notify_started(&sv->notify, ctx->init_pid, vs_init_notifies(ctx->config, root)) > 0)
                vs_event_ready(ctx->name, "exec");
}

/* The poll loop's descriptors; the fixed ones first, at these indices. */
enum { P_SIG, P_CONSOLE, P_LISTEN, P_STDIN, P_NOTIFY, P_PTY, P_OOM, P_FREEZER, P_FIXED };
struct pollset {
        struct pollfd p[P_FIXED + MAX_CLIENTS];
        int n;
        int ci[MAX_CLIENTS]; /* client i's index in p, -1: none */
};

static void pollset_fill(const struct supervisor *sv, struct pollset *ps)
{
        const struct vs_start_ctx *ctx = sv->ctx;
        struct pollfd *p = ps->p;

        p[P_SIG] = (struct pollfd){ .fd = sv->sigfd, .events = POLLIN };
        p[P_CONSOLE] = (struct pollfd){ .fd = ctx->console_master, .events = POLLIN };
        p[P_LISTEN] = (struct pollfd){ .fd = sv->listen_fd, .events = sv->listen_fd >= 0 ? POLLIN : 0 };
        p[P_STDIN] = (struct pollfd){ .fd = sv->stdin_open ? STDIN_FILENO : -1, .events = POLLIN };
        p[P_NOTIFY] = (struct pollfd){ .fd = sv->notify.fd, .events = POLLIN };
        p[P_PTY] = (struct pollfd){ .fd = sv->pty_fd, .events = POLLIN };
        p[P_OOM] = (struct pollfd){ .fd = vs_now_usec() >= sv->oom_quiet_until ? sv->oom_fd : -1, .events = POLLIN };
        p[P_FREEZER] = (struct pollfd){ .fd = sv->freezer_fd, .events = POLLIN };
        ps->n = P_FIXED;
        for (int i = 0; i < MAX_CLIENTS; i++) {
                ps->ci[i] = -1;
                if (sv->con->clients[i] >= 0) {
                        ps->ci[i] = ps->n;
                        p[ps->n++] = (struct pollfd){ .fd = sv->con->clients[i], .events = POLLIN };
                }
        }
}

/* How long poll may wait, in ms (-1: until an fd is ready). Anonymous
 * memory has no cgroup event of its own: look every 100 ms while an ANON
 * limit is set. OOM kills: on v2 when memory.events changes (after the
 * watch's rest), on v1 once a second. */
static int poll_timeout(const struct supervisor *sv)
{
        int t = sv->anon.limit ? 100 : sv->oom_fd >= 0 ? -1 : 1000;
        uint64_t now = vs_now_usec();

        if (sv->oom_fd >= 0 && sv->oom_due)
                return 0;
        if (sv->oom_fd >= 0 && now < sv->oom_quiet_until) {
                int q = (int)((sv->oom_quiet_until - now + 999) / 1000);
                if (t < 0 || q < t)
                        t = q;
        }
        return t;
}

/* Returns false when poll was interrupted (poll again), true with the
 * revents to handle. */
static bool wait_events(struct supervisor *sv, struct pollset *ps)
{
        if (poll(ps->p, ps->n, poll_timeout(sv)) >= 0) {
                if (sv->poll_failing) {
                        vs_warn_log(VS_WARN_INFO, "Polling for the guest \"%s\" works again", sv->ctx->name);
                        sv->poll_failing = false;
                }
                return true;
        }
        if (errno == EINTR || errno == EAGAIN)
                return false;
        /* Not init's exit: the guest runs on. Until poll works again (ENOMEM;
         * EINVAL below RLIMIT_NOFILE), supervise it the least way: every
         * 100 ms, read the signals (init's exit, a stop request), without
         * the console. */
        if (!sv->poll_failing)
                vs_warn_log(VS_WARN_ERR,
                            "Cannot poll for the guest \"%s\" (%s); reading only its signals until poll works",
                            sv->ctx->name, strerror(errno));
        sv->poll_failing = true;
        for (int i = 0; i < ps->n; i++)
                ps->p[i].revents = 0;
        ps->p[P_SIG].revents = POLLIN;
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        nanosleep(&ts, NULL);
        return true;
}

/* The process named in the run directory's "frozen-by" ("PID STARTTIME",
 * see vs_disk_freeze()), or 0 when there is none. */
static pid_t read_freezer(const struct supervisor *sv, uint64_t *ret_start)
{
        _cleanup_free_ char *path = vs_strdupf("%s/frozen-by", sv->ctx->rundir), *text = NULL;
        unsigned long long start;
        int pid;

        if (!path || vs_read_file(path, &text, NULL) < 0 || sscanf(text, "%d %llu", &pid, &start) != 2 || pid <= 0)
                return 0;
        *ret_start = start;
        return pid;
}

/* Thaws the guest if the process that froze it has ended and no thaw came:
 * its copy was killed together with its watchdog (a unit's stop kills its
 * whole group). */
static void freezer_gone(struct supervisor *sv)
{
        _cleanup_free_ char *path = vs_strdupf("%s/frozen-by", sv->ctx->rundir);
        uint64_t start;
        pid_t pid = read_freezer(sv, &start);
        int r;

        if (sv->freezer_fd >= 0)
                close(sv->freezer_fd);
        sv->freezer_fd = -1;
        if (pid == 0 || pid != sv->freezer_pid)
                return;
        r = vs_cgroup_freeze(sv->ctx->cg, false);
        if (r < 0) {
                vs_warn_log(VS_WARN_ERR,
                            "Guest \"%s\" stays frozen: its freezer (pid %d) ended, and the thaw failed (%s)",
                            sv->ctx->name, (int)pid, strerror(-r));
                return;
        }
        if (path)
                (void)unlink(path);
        vs_warn_log(VS_WARN_WARNING, "Guest \"%s\" thawed: the process that froze it (pid %d) ended without a thaw",
                    sv->ctx->name, (int)pid);
        vs_event_thawed(sv->ctx->name, pid);
}

/* Told (SIGUSR1) that the guest may have been frozen: watch the freezer. */
static void watch_freezer(struct supervisor *sv)
{
        uint64_t start;
        pid_t pid = read_freezer(sv, &start);
        int fd;

        if (pid == 0 || (pid == sv->freezer_pid && sv->freezer_fd >= 0))
                return;
        if (sv->freezer_fd >= 0)
                close(sv->freezer_fd);
        sv->freezer_fd = -1;
        sv->freezer_pid = pid;
        fd = vs_pidfd_open_started(pid, start);
        if (fd < 0)
                freezer_gone(sv); /* ended already */
        else
                sv->freezer_fd = fd;
}

/* SIGCHLD reaps (init's exit ends the loop); a stop request passes the
 * guest's own halt signal to its init, a second one kills it; SIGUSR1 (from
 * vs-limit) takes the new ANON limit. */
static void handle_signals(struct supervisor *sv)
{
        struct vs_start_ctx *ctx = sv->ctx;
        struct signalfd_siginfo si;

        while (read(sv->sigfd, &si, sizeof(si)) == sizeof(si)) {
                if (si.ssi_signo == SIGCHLD) {
                        pid_t w;
                        int s;
                        while ((w = waitpid(-1, &s, WNOHANG)) > 0)
                                if (w == ctx->init_pid) {
                                        sv->status = s;
                                        sv->done = true;
                                }
                } else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT || si.ssi_signo == SIGHUP) {
                        kill(ctx->init_pid, sv->halting ? SIGKILL : ctx->halt_signal);
                        sv->halting = true;
                } else if (si.ssi_signo == SIGUSR1) {
                        _cleanup_config_ struct vs_config *nc = NULL;
                        if (vs_config_load(ctx->config->path, ctx->name, &nc, NULL) == 0 && nc->anon != sv->anon.limit) {
                                sv->anon.limit = nc->anon;
                                vs_warn_log(VS_WARN_INFO, "ANON limit of \"%s\" is now %llu bytes", ctx->name,
                                            (unsigned long long)sv->anon.limit);
                        }
                        watch_freezer(sv);
                }
        }
}

/* What the guest wrote on its console: to the ring (for clients yet to
 * come), the log (up to LOG_LIMIT), our stdout in the foreground, and
 * every client (one that cannot take it is dropped). */
static void console_output(struct supervisor *sv)
{
        struct vs_start_ctx *ctx = sv->ctx;
        struct console *con = sv->con;
        char buf[4096];
        ssize_t k = read(ctx->console_master, buf, sizeof(buf));

        if (k <= 0)
                return;
        ring_put(con, buf, (size_t)k);
        if (ctx->log_fd >= 0 && con->logged < LOG_LIMIT) {
                (void)!write(ctx->log_fd, buf, (size_t)k);
                con->logged += (uint64_t)k;
        }
        if (ctx->foreground)
                (void)!write(STDOUT_FILENO, buf, (size_t)k);
        for (int i = 0; i < MAX_CLIENTS; i++)
                if (con->clients[i] >= 0 &&
                    send(con->clients[i], buf, (size_t)k, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EAGAIN) {
                        close(con->clients[i]);
                        con->clients[i] = -1;
                }
}

/* A new vs-console client gets the ring first, or is refused when all
 * slots are taken. */
static void accept_console_client(struct supervisor *sv)
{
        struct console *con = sv->con;
        int c = accept4(sv->listen_fd, NULL, NULL, SOCK_CLOEXEC), slot = -1;

        if (c < 0)
                return;
        for (int i = 0; i < MAX_CLIENTS && slot < 0; i++)
                if (con->clients[i] < 0)
                        slot = i;
        if (slot < 0) {
                close(c);
                return;
        }
        send_ring(con, c);
        con->clients[slot] = c;
}

/* Our stdin in the foreground, to the guest's console. */
static void stdin_input(struct supervisor *sv)
{
        char buf[4096];
        ssize_t k = read(STDIN_FILENO, buf, sizeof(buf));

        if (k > 0)
                (void)!write(sv->ctx->console_master, buf, (size_t)k);
        else if (k == 0 || errno != EINTR)
                sv->stdin_open = false;
}

/* vs-enter makes its ptys from the guest's devpts. */
static void serve_ptmx(struct supervisor *sv)
{
        int c = accept4(sv->pty_fd, NULL, NULL, SOCK_CLOEXEC);

        if (c >= 0) {
                (void)vs_fd_send(c, sv->ctx->ptmx_fd);
                close(c);
        }
}

/* What the clients typed, to the guest's console; a client gone is
 * dropped. */
static void client_input(struct supervisor *sv, const struct pollset *ps)
{
        struct console *con = sv->con;
        char buf[4096];

        for (int i = 0; i < MAX_CLIENTS; i++) {
                if (ps->ci[i] < 0 || !(ps->p[ps->ci[i]].revents & (POLLIN | POLLHUP | POLLERR)))
                        continue;
                ssize_t k = read(con->clients[i], buf, sizeof(buf));
                if (k > 0)
                        (void)!write(sv->ctx->console_master, buf, (size_t)k);
                else {
                        close(con->clients[i]);
                        con->clients[i] = -1;
                }
        }
}

/* After the descriptors: the ANON check, which has no event to wait for,
 * and the OOM count when due (always once more when init has exited). */
static void check_memory(struct supervisor *sv)
{
        struct vs_start_ctx *ctx = sv->ctx;

        if (sv->anon.limit && !sv->done && vs_now_usec() >= sv->next_anon) {
                char msg[256];
                sv->next_anon = vs_now_usec() + 100000;
                if (vs_anon_check(ctx->cg, &sv->anon, msg, sizeof(msg)) > 0) {
                        vs_warn_log(VS_WARN_WARNING, "Guest \"%s\": %s", ctx->name, msg);
                        vs_guest_count_anon_kill(ctx->rundir);
                        vs_event_anon_kill(ctx->name, msg);
                }
        }
        if (sv->oom_fd < 0 && vs_now_usec() >= sv->next_oom)
                sv->oom_due = true;
        if (sv->done || sv->oom_due) {
                sv->next_oom = vs_now_usec() + 1000000;
                sv->oom_quiet_until = vs_now_usec() + OOM_QUIET_USEC;
                sv->oom_due = false;
                vs_event_oom_check(ctx->name, ctx->cg, &sv->oom_seen);
        }
}

/* The guest's life: serves the console, notify and pty sockets and the
 * memory checks until init exits. */
static void serve_guest(struct supervisor *sv)
{
        struct pollset ps;

        sv->stdin_open = sv->ctx->foreground;
        sv->anon = (struct vs_anon_guard){ .limit = sv->ctx->config->anon, .init_pid = sv->ctx->init_pid };
        sv->next_anon = sv->next_oom = sv->oom_seen = 0; /* the groups are new */
        /* Watched from here: the first count, right away, takes the kills
         * since the groups were made. */
        int w = vs_event_oom_watch(sv->ctx->cg);
        if (w < 0 && w != -EOPNOTSUPP)
                vs_warn_log(VS_WARN_WARNING, "Cannot watch the OOM kills of \"%s\" (%s); counting them once a second",
                            sv->ctx->name, strerror(-w));
        sv->oom_fd = w < 0 ? -1 : w;
        sv->oom_due = sv->oom_fd >= 0;
        while (!sv->done) {
                pollset_fill(sv, &ps);
                if (!wait_events(sv, &ps))
                        continue;
                if (ps.p[P_SIG].revents & POLLIN)
                        handle_signals(sv);
                if (ps.p[P_CONSOLE].revents & (POLLIN | POLLHUP))
                        console_output(sv);
                if (ps.p[P_LISTEN].revents & POLLIN)
                        accept_console_client(sv);
                if (ps.p[P_STDIN].revents & (POLLIN | POLLHUP | POLLERR))
                        stdin_input(sv);
                if ((ps.p[P_NOTIFY].revents & POLLIN) && vs_notify_dispatch(&sv->notify) > 0)
                        vs_event_ready(sv->ctx->name, "notify");
                if (ps.p[P_PTY].revents & POLLIN)
                        serve_ptmx(sv);
                if (ps.p[P_OOM].revents & POLLIN) {
                        vs_event_oom_drain(sv->oom_fd);
                        sv->oom_due = true;
                }
                if (ps.p[P_FREEZER].revents & (POLLIN | POLLHUP))
                        freezer_gone(sv);
                client_input(sv, &ps);
                check_memory(sv);
        }
}

static void restore_tty(struct supervisor *sv)
{
        if (sv->tty_raw)
                vs_tty_restore(STDIN_FILENO, &sv->saved_tty);
}

/* After init's exit: the console's clients, the tty, the undertaker (we
 * tear down ourselves), then the guest's groups, network and run state. */
static int finish(struct supervisor *sv)
{
        struct vs_start_ctx *ctx = sv->ctx;
        int result = exit_status(sv->status);

        vs_profile_mark(ctx, "run");
        for (int i = 0; i < MAX_CLIENTS; i++)
                if (sv->con->clients[i] >= 0)
                        close(sv->con->clients[i]);
        free(sv->con);
        sv->con = NULL;
        restore_tty(sv);
        stop_undertaker(&sv->undertaker);
        teardown(ctx);
        vs_event_stop(ctx->name, sv->status);
        vs_profile_mark(ctx, "teardown");
        return result;
}

/* A start that failed after the first group: the child (if any) killed,
 * then the same teardown as after init's exit. */
static void fail_start(struct supervisor *sv)
{
        if (sv->child_live) {
                stop_undertaker(&sv->undertaker);
                kill_child(sv->ctx, sv->child_fd);
        }
        restore_tty(sv);
        for (int i = 0; i < 2; i++) {
                if (sv->sync_pair[i] >= 0)
                        close(sv->sync_pair[i]);
                if (sv->status_pipe[i] >= 0)
                        close(sv->status_pipe[i]);
        }
        free(sv->con);
        sv->con = NULL;
        teardown(sv->ctx);
}

/* Last, on every path: the descriptors and memory the phases left. */
static void release(struct supervisor *sv)
{
        free(sv->ctls);
        vs_notify_close(&sv->notify);
        int *fds[] = { &sv->oom_fd, &sv->freezer_fd, &sv->child_fd, &sv->pty_fd, &sv->old_mnt_ns, &sv->listen_fd, &sv->sigfd };
        for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
                if (*fds[i] >= 0) {
                        close(*fds[i]);
                        *fds[i] = -1;
                }
}

/* The phases in their order (doc/design.md, "In the supervisor"). */
int vs_supervisor_run(struct vs_start_ctx *ctx, struct vs_error *err)
{
        struct supervisor sv = {
                .ctx = ctx,
                .err = err,
                /* The whole setup, up to the exec of the guest's init, gets
                 * the guest's start timeout. */
                .deadline = vs_now_usec() + ctx->config->start_timeout * 1000000u,
                .sigfd = -1,
                .sync_pair = { -1, -1 },
                .status_pipe = { -1, -1 },
                .child_fd = -1,
                .old_mnt_ns = -1,
                .listen_fd = -1,
                .pty_fd = -1,
                .undertaker = -1,
                .notify = { .fd = -1 },
                .oom_fd = -1,
                .freezer_fd = -1,
        };
        int r;

        if ((r = block_signals(&sv)) < 0 || (r = create_first_cgroup(&sv)) < 0)
                goto out;
        if ((r = open_console(&sv)) < 0 || (r = open_notify_socket(&sv)) < 0 || (r = mount_image_root(&sv)) < 0 ||
            (r = vs_userns_nodes(ctx, err)) < 0 || (r = make_channels(&sv)) < 0 || (r = clone_guest_init(&sv)) < 0 ||
            (r = create_other_cgroups(&sv)) < 0 || (r = setup_network(&sv)) < 0 || (r = go_ahead(&sv)) < 0 ||
            (r = take_ptmx(&sv)) < 0 || (r = publish_state(&sv)) < 0) {
                fail_start(&sv);
                goto out;
        }
        announce_started(&sv);
        serve_guest(&sv);
        r = finish(&sv);
out:
        release(&sv);
        return r;
}
