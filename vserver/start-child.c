/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The child made by clone() in the guest's new namespaces. It becomes the
 * guest's PID 1: sets up the root filesystem from the plan, pivots into it,
 * and execs the guest's init. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/magic.h>

#include "caps.h"
#include "cleanup.h"
#include "config.h"
#include "exe.h"
#include "storage.h"
#include "mount.h"
#include "netdev.h"
#include "notify.h"
#include "pty.h"
#include "seccomp-filter.h"
#include "start.h"
#include "util.h"

static void fail(int status_fd, int error, const char *fmt, ...) __attribute__((noreturn, format(printf, 3, 4)));
static void fail(int status_fd, int error, const char *fmt, ...)
{
        struct vs_error e;
        char msg[900];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        vs_error_set(&e, error, "%s: %s", msg, strerror(error < 0 ? -error : error));
        (void)vs_error_send(status_fd, &e);
        _exit(127);
}

/* The ptmx of the guest's devpts, for vs-enter's ptys (through the
 * supervisor): opened while no process of the guest runs yet, inside the
 * root, and checked to be a devpts ptmx node. Only now, in the guest's
 * final mount namespace: a pty made through a mount of the namespace before
 * the lock would have no path inside (its /proc/PID/fd link would read
 * "/N", not "/dev/pts/N"). */
static int send_ptmx(int sync_fd)
{
        _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int fd = -1;
        struct statfs sfs;
        struct stat st;
        int r;

        if (root < 0)
                return -errno;
        fd = vs_open_in_root(root, "/dev/pts/ptmx", O_PATH | O_NOFOLLOW, false, false);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0 || fstatfs(fd, &sfs) < 0)
                return -errno;
        if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(5, 2) || sfs.f_type != DEVPTS_SUPER_MAGIC)
                return -EBADF;
        r = vs_fd_send(sync_fd, fd);
        /* EPIPE: the supervisor gave up; the read of the go-ahead says so. */
        return r == -EPIPE ? 0 : r;
}

/* Says what the child does next, for the supervisor's message should it
 * hang there (a mount of the guest's fstab over NFS or FUSE, say). */
static void step(struct vs_start_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void step(struct vs_start_ctx *ctx, const char *fmt, ...)
{
        va_list ap;

        if (!ctx->step)
                return;
        ctx->step->op = -1;
        va_start(ap, fmt);
        vsnprintf(ctx->step->text, sizeof(ctx->step->text), fmt, ap);
        va_end(ap);
}

/* The plan's ops @from to @to, one at a time so that the step names each. */
static int apply_ops(struct vs_start_ctx *ctx, size_t from, size_t to, struct vs_mount_apply *apply, struct vs_error *err)
{
        for (size_t i = from; i < to; i++) {
                int r;

                if (ctx->step)
                        ctx->step->op = (int)i;
                r = vs_mount_plan_apply(&ctx->plan, i, i + 1, apply, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The child's state from the clone to the exec: what its phases hand on. */
struct child {
        struct vs_start_ctx *ctx;
        int sync_fd, status_fd;
        bool userns;
        int stage;   /* RUNDIR/stage, where private tmpfs are attached */
        int tree;    /* unprivileged: the id-mapped root, -1: none */
        int rootdir; /* unprivileged: the directory it goes on */
        int rootfd;  /* the guest's root, until the pivot */
        pid_t lock_helper;
        /* Kept open until the fds are closed before the exec: see
         * vs_mount_apply_done(). */
        struct vs_mount_apply apply;
        struct vs_error err;
};

/* First: nothing of the supervisor's signal handling, and nothing of
 * ours visible to the guest, survives into the guest. */
static void reset_process(struct child *c)
{
        sigset_t none;

        sigemptyset(&none);
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        signal(sig, SIG_DFL);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* If the supervisor dies, the guest dies with it rather than run
         * unsupervised; vs-status and vs-stop then find and clear the rest. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                fail(c->status_fd, -errno, "prctl(PR_SET_PDEATHSIG)");
        /* Until it execs the guest's init this process is a copy of the
         * supervisor: nothing inside may read its memory or open its files
         * through /proc (exec of the init makes it dumpable again). */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                fail(c->status_fd, -errno, "prctl(PR_SET_DUMPABLE)");
        c->ctx->t0 = vs_now_usec();
        /* Nodes and mount points get exactly the modes the plan says. */
        umask(0);
}

/* Where the private tmpfs of masks and nodes are attached, in our mount
 * namespace only, on kernels that clone only from attached mounts
 * (vs_mount_apply): an empty directory of the run directory (whose files,
 * such as the notify socket, stay reachable), made and opened while we
 * still have the host's file-system uid 0, which the run directory's 0700
 * asks: so before take_guest_ids. */
static void open_stage(struct child *c)
{
        _cleanup_free_ char *sp = vs_strdupf("%s/stage", c->ctx->rundir);

        if (!sp || (mkdir(sp, 0700) < 0 && errno != EEXIST))
                fail(c->status_fd, sp ? -errno : -ENOMEM, "making %s/stage", c->ctx->rundir);
        c->stage = open(sp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (c->stage < 0)
                fail(c->status_fd, -errno, "opening %s", sp);
}

/* Unprivileged, before any mount: the host's files the plan binds are
 * opened with the host's ids, then the guest's root ids are taken. */
static void take_guest_ids(struct child *c)
{
        int r;

        if (!c->userns)
                return;
        r = vs_userns_child_begin(c->ctx, c->sync_fd, &c->tree, &c->rootdir, &c->err);
        if (r < 0)
                fail(c->status_fd, r, "%s", c->err.msg);
        /* Taking the guest's ids cleared the parent-death signal: set it
         * again, then make sure the supervisor did not die in between (its
         * end of the sync socket would be closed). */
        struct pollfd pfd = { .fd = c->sync_fd, .events = POLLRDHUP };
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                fail(c->status_fd, -errno, "prctl(PR_SET_PDEATHSIG)");
        if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLRDHUP)))
                _exit(1);
        vs_profile_mark(c->ctx, "c-userns");
}

/* Until the go-ahead, in parallel with the supervisor making the rest of
 * the guest's groups: the device program on the cgroup2 group we were
 * cloned into, first, so it already checks the nodes made below. */
static void load_device_program(struct child *c)
{
        int r;

        step(c->ctx, "loading the device program");
        r = c->userns ? 0 : vs_cgroup_device_program(c->ctx->cg); /* else loaded by the supervisor */
        if (r < 0)
                fail(c->status_fd, r, "loading the device program");
        vs_profile_mark(c->ctx, "c-devices");
}

/* An image or overlay root is mounted here, in the guest's own namespace
 * only: it (and an image's auto-clearing loop device) goes away with the
 * namespace, however the guest ends. */
static void attach_image_or_overlay(struct child *c)
{
        struct vs_start_ctx *ctx = c->ctx;

        if (ctx->root_mnt_fd >= 0 && c->tree >= 0) {
                /* The same mount, id-mapped by the supervisor: attached below. */
                close(ctx->root_mnt_fd);
        } else if (ctx->root_mnt_fd >= 0) {
                if (move_mount(ctx->root_mnt_fd, "", AT_FDCWD, ctx->rootfs, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                        fail(c->status_fd, -errno, "attaching the guest's image on %s", ctx->rootfs);
                close(ctx->root_mnt_fd);
        } else if (c->tree < 0 && vs_config_layout(ctx->config) != VS_LAYOUT_DIR) {
                /* (An unprivileged shared guest's overlay is the tree.) */
                char *dir = strdup(ctx->rootfs), *slash = dir ? strrchr(dir, '/') : NULL;
                if (!slash)
                        fail(c->status_fd, -ENOMEM, "finding the guest's directory");
                *slash = '\0';
                int r = vs_disk_mount_root(dir, vs_config_layout(ctx->config), &c->err);
                if (r < 0)
                        fail(c->status_fd, r, "%s", c->err.msg);
                free(dir);
        }
}

/* After the device program: the guest's root, in mounts of our own, which
 * every later mount goes below. */
static void mount_root(struct child *c)
{
        struct vs_start_ctx *ctx = c->ctx;

        step(ctx, "mounting the guest's root filesystem");
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                fail(c->status_fd, -errno, "making mounts private");
        attach_image_or_overlay(c);
        if (c->tree >= 0) {
                /* Onto the directory opened while we had the host's uid 0
                 * (the guest's host uid may not pass the guest directory's
                 * 0700); the attached tree itself is the root from here. */
                if (move_mount(c->tree, "", c->rootdir, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                        fail(c->status_fd, -errno, "attaching the id-mapped root on %s", ctx->rootfs);
                close(c->rootdir);
                c->rootfd = c->tree;
        } else {
                if (mount(ctx->rootfs, ctx->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
                        fail(c->status_fd, -errno, "bind-mounting %s", ctx->rootfs);
                c->rootfd = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        }
        if (c->rootfd < 0)
                fail(c->status_fd, -errno, "opening %s", ctx->rootfs);
        vs_profile_mark(ctx, "c-root");
}

/* Before the go-ahead: every mount that does not need the guest's cgroup
 * namespace. */
static void mount_before_cgroups(struct child *c)
{
        struct vs_start_ctx *ctx = c->ctx;
        int r;

        vs_mount_apply_init(&c->apply, c->rootfd);
        c->apply.nodes_mnt = ctx->nodes_mnt; /* unprivileged: made by the supervisor */
        c->apply.stage_fd = c->stage;
        r = apply_ops(ctx, 0, ctx->plan_cgroup, &c->apply, &c->err);
        if (r < 0)
                fail(c->status_fd, r, "%s", c->err.msg);
        vs_profile_mark(ctx, "c-mounts");
}

/* Still before the go-ahead: what the guest's processes inherit. The
 * bounding set comes last: it only limits what an exec may gain, so the
 * steps below keep their effective capabilities. */
static void set_identity_and_limits(struct child *c)
{
        struct vs_start_ctx *ctx = c->ctx;
        const char *hostname = ctx->config->hostname ? ctx->config->hostname : ctx->name;
        int r;

        step(ctx, "setting up the guest's host name, lo and limits");
        if (sethostname(hostname, strlen(hostname)) < 0)
                fail(c->status_fd, -errno, "setting the host name \"%s\"", hostname);
        r = vs_netdev_loopback_up();
        if (r < 0)
                fail(c->status_fd, r, "bringing up lo");
        if (ctx->config->memlock) { /* an unprivileged guest's raised by the supervisor first */
                /* Inherited by every guest process; without CAP_IPC_LOCK no
                 * guest process can lock more. */
                struct rlimit rl = { ctx->config->memlock, ctx->config->memlock };
                if (setrlimit(RLIMIT_MEMLOCK, &rl) < 0)
                        fail(c->status_fd, -errno, "setting RLIMIT_MEMLOCK");
        }
        if (ctx->config->userns) {
                /* Real-time scheduling needs CAP_SYS_NICE in the host's user
                 * namespace, or RLIMIT_RTPRIO, which init would inherit from
                 * whoever ran vs-start: with it, a SCHED_FIFO loop would take
                 * a whole CPU from the host. Lowering needs no capability. */
                struct rlimit no_rt = { 0, 0 };
                if (setrlimit(RLIMIT_RTPRIO, &no_rt) < 0)
                        fail(c->status_fd, -errno, "setting RLIMIT_RTPRIO");
        }
        r = vs_caps_limit_bounding(ctx->caps_keep);
        if (r < 0)
                fail(c->status_fd, r, "limiting capabilities");
        vs_profile_mark(ctx, "c-lo");
}

/* The go-ahead comes once every group and limit is in place. */
static void wait_go_ahead(struct child *c)
{
        char go;

        if (read(c->sync_fd, &go, 1) != 1)
                _exit(1); /* the supervisor gave up */
        vs_profile_mark(c->ctx, "c-go");
}

/* After the go-ahead: into the guest's groups; a new cgroup namespace then
 * roots the guest's view of every hierarchy there; then the cgroup
 * filesystems and the guest's own fstab. */
static void enter_cgroups(struct child *c)
{
        struct vs_start_ctx *ctx = c->ctx;
        int r;

        step(ctx, "moving into the guest's cgroups");
        /* An unprivileged child was moved by the supervisor. */
        r = c->userns ? 0 : vs_cgroup_attach_self(ctx->cg, ctx->cg_placed);
        if (r < 0)
                fail(c->status_fd, r, "moving into the guest's cgroups");
        vs_profile_mark(ctx, "c-attach");
        if (unshare(CLONE_NEWCGROUP) < 0)
                fail(c->status_fd, -errno, "unshare(CLONE_NEWCGROUP)");
        r = apply_ops(ctx, ctx->plan_cgroup, ctx->plan.n, &c->apply, &c->err);
        if (r < 0)
                fail(c->status_fd, r, "%s", c->err.msg);
        vs_profile_mark(ctx, "c-cgroup");
}

/* Once every mount is made: pivot_root(".", ".") stacks the old root under
 * the new one; detaching it leaves the guest no path back to the host's
 * tree. */
static void pivot_into_root(struct child *c)
{
        step(c->ctx, "entering the guest's root and locking its mounts");
        if (fchdir(c->rootfd) < 0)
                fail(c->status_fd, -errno, "entering %s", c->ctx->rootfs);
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                fail(c->status_fd, -errno, "pivot_root into %s", c->ctx->rootfs);
        if (umount2(".", MNT_DETACH) < 0)
                fail(c->status_fd, -errno, "detaching the old root");
        if (chdir("/") < 0)
                fail(c->status_fd, -errno, "chdir /");
        close(c->rootfd);
        vs_profile_mark(c->ctx, "c-pivot");
}

/* After the pivot: lock the plan's mounts, so the guest's root may mount
 * over them but never take a mask off or make /proc/sys or /sys writable
 * again. */
static void lock_mounts(struct child *c)
{
        int r;

        /* Joining the helper's namespace takes ptrace access to it, and it
         * shares our memory, which taking the guest's ids (and the prctl
         * above) made non-dumpable towards the host's user namespace, where
         * it was made: an unprivileged child allows it for the moment of
         * the join, when nothing but the host can see this process. */
        if (c->userns && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
                fail(c->status_fd, -errno, "prctl(PR_SET_DUMPABLE)");
        r = vs_mount_ns_lock(&c->lock_helper);
        if (c->userns && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                fail(c->status_fd, -errno, "prctl(PR_SET_DUMPABLE)");
        if (r < 0)
                fail(c->status_fd, r, "locking the guest's mounts (a user namespace is needed)");
        vs_profile_mark(c->ctx, "c-lock");
}

/* In the final mount namespace (see send_ptmx); the sync socket is done
 * with. */
static void hand_over_ptmx(struct child *c)
{
        int r = send_ptmx(c->sync_fd);

        if (r < 0)
                fail(c->status_fd, r, "handing the guest's /dev/pts/ptmx to the supervisor");
        close(c->sync_fd);
        if (chdir("/") < 0)
                fail(c->status_fd, -errno, "chdir /");
}

/* Loaded while CAP_SYS_ADMIN is still effective, so without no_new_privs
 * (setuid programs inside keep working). */
static void load_seccomp(struct child *c)
{
        if (c->ctx->seccomp_bpf) {
                int r = vs_seccomp_load_bpf(c->ctx->seccomp_bpf, c->ctx->seccomp_len);
                if (r < 0)
                        fail(c->status_fd, r, "loading the seccomp filter");
        }
        vs_profile_mark(c->ctx, "c-secure");
}

/* Just before the exec: PID 1 has no controlling terminal; its stdio is
 * the console; every other fd but the status pipe goes. */
static void attach_console(struct child *c)
{
        int console;

        if (setsid() < 0)
                fail(c->status_fd, -errno, "setsid");
        console = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (console < 0)
                fail(c->status_fd, -errno, "opening /dev/console");
        if (dup2(console, 0) < 0 || dup2(console, 1) < 0 || dup2(console, 2) < 0)
                fail(c->status_fd, -errno, "attaching stdio to /dev/console");
        vs_close_all_fds(3, c->status_fd);
        vs_mount_ns_lock_reap(c->lock_helper);
        umask(0022);
}

/* The guest's init is executed by the sealed trampoline (lib/sec/exe.h):
 * whatever init turns out to be (even "#!/proc/self/exe"), no process of
 * the guest ever runs a host file of vserver. The trampoline reports a
 * failed exec on status_fd, as fail() does. */
static void exec_init(struct child *c) __attribute__((noreturn));
static void exec_init(struct child *c)
{
        static const char *const default_env[] = {
                "container=vserver",
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "TERM=vt220",
                "HOME=/root",
                /* systemd reports READY=1 here (see notify.h). */
                "NOTIFY_SOCKET=" VS_NOTIFY_GUEST_PATH,
                NULL,
        };
        struct vs_config *config = c->ctx->config;
        char fdnum[16];
        char *args[] = { NULL, (char *)"init", fdnum, config->init, config->init, NULL };
        int tramp, fl, r;

        step(c->ctx, "executing the guest's init \"%s\"", config->init);
        tramp = vs_trampoline_open();
        if (tramp < 0)
                fail(c->status_fd, tramp, "creating the exec trampoline");
        fl = fcntl(c->status_fd, F_GETFD);
        snprintf(fdnum, sizeof(fdnum), "%d", c->status_fd);
        if (fl < 0 || fcntl(c->status_fd, F_SETFD, fl & ~FD_CLOEXEC) < 0)
                fail(c->status_fd, -errno, "passing the status pipe on");
        r = vs_trampoline_exec(tramp, args, (char *const *)default_env);
        fcntl(c->status_fd, F_SETFD, fl);
        fail(c->status_fd, r, "executing the exec trampoline");
}

/* The phases in their order (doc/design.md, "In the child"). */
void vs_start_child(struct vs_start_ctx *ctx, int sync_fd, int status_fd)
{
        struct child c = {
                .ctx = ctx,
                .sync_fd = sync_fd,
                .status_fd = status_fd,
                .userns = ctx->config->userns,
                .stage = -1,
                .tree = -1,
                .rootdir = -1,
                .rootfd = -1,
                .lock_helper = -1,
        };

        reset_process(&c);
        open_stage(&c);
        take_guest_ids(&c);
        load_device_program(&c);
        mount_root(&c);
        mount_before_cgroups(&c);
        set_identity_and_limits(&c);
        wait_go_ahead(&c);
        enter_cgroups(&c);
        pivot_into_root(&c);
        lock_mounts(&c);
        hand_over_ptmx(&c);
        load_seccomp(&c);
        attach_console(&c);
        exec_init(&c);
}
