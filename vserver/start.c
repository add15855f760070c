/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "cgroup-devices.h"
#include "config.h"
#include "cleanup.h"
#include "clone.h"
#include "fstab.h"
#include "notify.h"
#include "paths.h"
#include "seccomp-filter.h"
#include "start.h"
#include "state.h"
#include "util.h"

#define NOSUID_NODEV_NOEXEC (MS_NOSUID | MS_NODEV | MS_NOEXEC)

void vs_profile_mark(struct vs_start_ctx *ctx, const char *phase)
{
        static int enabled = -1;
        uint64_t now;

        if (enabled < 0)
                enabled = getenv("VS_PROFILE") != NULL;
        if (!enabled)
                return;
        now = vs_now_usec();
        vs_warn("profile %-10s %8llu us", phase, (unsigned long long)(now - ctx->t0));
        ctx->t0 = now;
}

static int add(struct vs_mount_plan *p, enum vs_mount_kind kind, const char *source, const char *target,
               const char *fstype, unsigned long flags, const char *data, bool optional)
{
        struct vs_mount_op *op = vs_mount_plan_add(p, kind, source, target, fstype, flags, data);
        if (!op)
                return -ENOMEM;
        op->optional = optional;
        return 0;
}

static int add_node(struct vs_mount_plan *p, const char *name, unsigned maj, unsigned min)
{
        _cleanup_free_ char *t = vs_strdupf("/dev/%s", name);
        struct vs_mount_op *op;

        if (!t)
                return -ENOMEM;
        /* mknod is refused in a user namespace: an unprivileged guest's
         * nodes are made by the supervisor beforehand, on a tmpfs of the
         * host's (vs_userns_nodes), and bound in like a privileged guest's
         * when mknod under its root is refused. Never the host's own
         * /dev: its modes (0600 /dev/net/tun) are not the plan's. */
        op = vs_mount_plan_add(p, VS_MOUNT_MKNOD, t, t, NULL, 0, NULL);
        if (!op)
                return -ENOMEM;
        op->dev = makedev(maj, min);
        op->mode = 0666;
        op->file = true;
        return 0;
}

/* v1 hybrid: a tmpfs at /sys/fs/cgroup with each hierarchy below it, as
 * systemd expects in a container on such a host. Controller hierarchies are
 * read-only (the host's limits live in their root); the named systemd
 * hierarchy and the unified tree are the guest's to write. */
static int plan_cgroup_v1(struct vs_mount_plan *p, const struct vs_cgroup *cg)
{
        int r = add(p, VS_MOUNT_FS, NULL, "/sys/fs/cgroup", "tmpfs", NOSUID_NODEV_NOEXEC, "mode=755", false);
        if (r < 0)
                return r;
        for (size_t i = 0; i < cg->n_hier; i++) {
                const struct vs_cgroup_hier *h = &cg->hier[i];
                _cleanup_free_ char *target = NULL, *data = NULL;

                if (h->v2) {
                        r = add(p, VS_MOUNT_FS, NULL, "/sys/fs/cgroup/unified", "cgroup2", NOSUID_NODEV_NOEXEC, NULL,
                                false);
                } else if (strncmp(h->controllers, "name=", 5) == 0) {
                        target = vs_strdupf("/sys/fs/cgroup/%s", h->controllers + 5);
                        data = vs_strdupf("none,%s", h->controllers);
                        if (!target || !data)
                                return -ENOMEM;
                        r = add(p, VS_MOUNT_FS, NULL, target, "cgroup", NOSUID_NODEV_NOEXEC, data, false);
                } else {
                        target = vs_strdupf("/sys/fs/cgroup/%s", h->controllers);
                        if (!target)
                                return -ENOMEM;
                        r = add(p, VS_MOUNT_FS, NULL, target, "cgroup", NOSUID_NODEV_NOEXEC | MS_RDONLY,
                                h->controllers, false);
                        if (r < 0)
                                return r;
                        if (strchr(h->controllers, ',')) {
                                _cleanup_strv_free_ char **c = vs_strv_split(h->controllers, ",");
                                for (char **x = c; x && *x; x++) {
                                        _cleanup_free_ char *l = vs_strdupf("/sys/fs/cgroup/%s", *x);
                                        if (!l || add(p, VS_MOUNT_SYMLINK, h->controllers, l, NULL, 0, NULL, false) < 0)
                                                return -ENOMEM;
                                }
                        }
                }
                if (r < 0)
                        return r;
        }
        return add(p, VS_MOUNT_REMOUNT, NULL, "/sys/fs/cgroup", NULL, NOSUID_NODEV_NOEXEC | MS_RDONLY, "mode=755",
                   false);
}

#define VS_LXCFS_DIR "/var/lib/lxcfs"

/* Said once per boot of the host, not at every start. */
static void lxcfs_notice(void)
{
        _cleanup_free_ char *mark = vs_strdupf("%s/.lxcfs-notice", vs_rundir());
        int fd;
        if (!mark || vs_mkdir_p(vs_rundir(), 0755) < 0)
                return;
        fd = open(mark, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
                return;
        close(fd);
        vs_warn("vs-start: lxcfs is not running (%s): free and /proc/meminfo inside guests show the host's memory, "
                "not their limits",
                VS_LXCFS_DIR);
}

/* What the guest sees at /sys/fs/cgroup (enum vs_cgroup_view). On a
 * hybrid host a unified view is the guest's subtree of the host's cgroup2
 * tree (its cgroup namespace root, delegated with the other leaves in an
 * unprivileged guest), which holds no controller there: every limit stays
 * on the v1 controllers, in groups the guest does not see at all. */
static int choose_cgroup_view(struct vs_start_ctx *ctx, struct vs_error *err)
{
        int want = vs_config_cgroup_view(ctx->config, ctx->rootfs);

        if (ctx->cg->ops == &vs_cgroup_v2_ops) {
                ctx->cg_view = VS_CGVIEW_UNIFIED; /* there is nothing else to see */
                return 0;
        }
        if (want == VS_CGVIEW_UNIFIED && vs_cgroup_unified_index(ctx->cg) < 0) {
                if (ctx->config->cgroup_view == VS_CGVIEW_UNIFIED) {
                        return vs_error_set(err, EINVAL,
                                            "%s: key \"guest.cgroup\": \"unified\" needs the host's cgroup2 tree, and this "
                                            "host mounts none",
                                            ctx->config->path ? ctx->config->path : ctx->name);
                }
                want = VS_CGVIEW_HYBRID; /* auto, on a v1-only host */
        }
        ctx->cg_view = want;
        return 0;
}

/* First of the plan: /proc, its read-only binds and masks, and the guest's
 * own network sysctls. */
static int plan_proc(struct vs_start_ctx *ctx)
{
        static const char *const proc_ro[] = { "/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus" };
        struct vs_mount_plan *p = &ctx->plan;
        int r;

        r = add(p, VS_MOUNT_FS, NULL, "/proc", "proc", NOSUID_NODEV_NOEXEC, NULL, false);
        for (size_t i = 0; r == 0 && i < ELEMENTSOF(proc_ro); i++)
                r = add(p, VS_MOUNT_BIND_SELF, NULL, proc_ro[i], NULL, NOSUID_NODEV_NOEXEC | MS_RDONLY, NULL, i > 0);
        /* The guest owns its network namespace, so its sysctls are its own. */
        if (r == 0)
                r = add(p, VS_MOUNT_BIND_SELF, NULL, "/proc/sys/net", NULL, NOSUID_NODEV_NOEXEC, NULL, false);
        if (r < 0)
                return r;
        /* lxcfs, when the host runs it, answers these files from the reading
         * process's cgroup: free and top inside show the guest's limits. */
        if (access(VS_LXCFS_DIR "/proc/meminfo", R_OK) == 0) {
                static const char *const lxcfs_files[] = { "cpuinfo", "diskstats", "loadavg", "meminfo",
                                                           "stat",    "swaps",     "uptime" };
                for (size_t i = 0; r == 0 && i < ELEMENTSOF(lxcfs_files); i++) {
                        char src[64], dst[32];
                        snprintf(src, sizeof(src), VS_LXCFS_DIR "/proc/%s", lxcfs_files[i]);
                        snprintf(dst, sizeof(dst), "/proc/%s", lxcfs_files[i]);
                        if (access(src, R_OK) == 0) {
                                struct vs_mount_op *lop = vs_mount_plan_add(p, VS_MOUNT_BIND, src, dst, NULL, 0, NULL);
                                if (!lop)
                                        r = -ENOMEM;
                                else
                                        lop->file = lop->optional = true;
                        }
                }
        } else if (ctx->config->rss || ctx->config->cpus || ctx->config->cpu_max)
                lxcfs_notice();
        return r;
}

/* After /proc: its masks, then /sys, read-only, and its masks. */
static int plan_sys(struct vs_start_ctx *ctx)
{
        static const char *const masked[] = { "/proc/kcore",     "/proc/keys",       "/proc/timer_list",
                                              "/proc/sched_debug", "/proc/acpi",      "/proc/scsi",
                                              "/sys/firmware" };
        struct vs_mount_plan *p = &ctx->plan;
        int r = 0;

        for (size_t i = 0; r == 0 && i < ELEMENTSOF(masked); i++)
                if (strncmp(masked[i], "/sys", 4) != 0)
                        r = add(p, VS_MOUNT_MASK, NULL, masked[i], NULL, 0, NULL, true);
        if (r == 0)
                r = add(p, VS_MOUNT_FS, NULL, "/sys", "sysfs", NOSUID_NODEV_NOEXEC | MS_RDONLY, NULL, false);
        for (size_t i = 0; r == 0 && i < ELEMENTSOF(masked); i++)
                if (strncmp(masked[i], "/sys", 4) == 0)
                        r = add(p, VS_MOUNT_MASK, NULL, masked[i], NULL, 0, NULL, true);
        return r;
}

/* Then /dev: a tmpfs with the basic nodes (the optional ones only when the
 * device policy allows them), devpts, the links, shm, mqueue and the
 * console (its source filled in by the supervisor, which makes the pty). */
static int plan_dev(struct vs_start_ctx *ctx)
{
        static const struct {
                const char *name;
                unsigned maj, min;
        } nodes[] = { { "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 }, { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 } };
        static const struct {
                const char *link, *to;
        } links[] = { { "/dev/ptmx", "pts/ptmx" },
                      { "/dev/fd", "/proc/self/fd" },
                      { "/dev/stdin", "/proc/self/fd/0" },
                      { "/dev/stdout", "/proc/self/fd/1" },
                      { "/dev/stderr", "/proc/self/fd/2" } };
        struct vs_mount_plan *p = &ctx->plan;
        struct vs_mount_op *op;
        int r;

        r = add(p, VS_MOUNT_FS, NULL, "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=4m,nr_inodes=64k", false);
        for (size_t i = 0; r == 0 && i < ELEMENTSOF(nodes); i++)
                r = add_node(p, nodes[i].name, nodes[i].maj, nodes[i].min);
        if (r == 0 && ctx->config->dev_fuse)
                r = add_node(p, "fuse", 10, 229);
        if (r == 0 && ctx->config->dev_tun)
                r = add_node(p, "net/tun", 10, 200);
        if (r == 0)
                r = add(p, VS_MOUNT_FS, NULL, "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                        "newinstance,ptmxmode=0666,mode=620,gid=5", false);
        for (size_t i = 0; r == 0 && i < ELEMENTSOF(links); i++)
                r = add(p, VS_MOUNT_SYMLINK, links[i].to, links[i].link, NULL, 0, NULL, false);
        if (r == 0)
                r = add(p, VS_MOUNT_FS, NULL, "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", false);
        if (r == 0)
                r = add(p, VS_MOUNT_FS, NULL, "/dev/mqueue", "mqueue", NOSUID_NODEV_NOEXEC, NULL, false);
        if (r < 0)
                return r;
        op = vs_mount_plan_add(p, VS_MOUNT_BIND, ctx->console_path ? ctx->console_path : "(console pty)",
                               "/dev/console", NULL, 0, NULL);
        if (!op)
                return -ENOMEM;
        op->file = true;
        return 0;
}

/* Last of the standard mounts: the cgroup filesystems need the guest's
 * cgroup namespace, which the child enters only once its groups exist.
 * Everything before is mounted while they are made. */
static int plan_cgroups(struct vs_start_ctx *ctx)
{
        ctx->plan_cgroup = ctx->plan.n;
        if (ctx->cg->ops == &vs_cgroup_v2_ops || ctx->cg_view == VS_CGVIEW_UNIFIED)
                return add(&ctx->plan, VS_MOUNT_FS, NULL, "/sys/fs/cgroup", "cgroup2", NOSUID_NODEV_NOEXEC, NULL,
                           false);
        return plan_cgroup_v1(&ctx->plan, ctx->cg);
}

/* After every standard mount: the guest's own fstab may mount over them. */
static int plan_fstab(struct vs_start_ctx *ctx, struct vs_error *err)
{
        _cleanup_free_ char *fstab = vs_fstab_path(ctx->name);
        int r;

        if (!fstab)
                return -ENOMEM;
        r = vs_fstab_load(fstab, &ctx->plan, err);
        if (r == -EINVAL)
                return vs_error_locate(err, r, fstab);
        if (r < 0)
                vs_error_set(err, r, "Cannot read %s: %s", fstab, strerror(-r));
        return r;
}

/* The mounts in the order the child makes them (doc/design.md, section 6). */
int vs_start_build_plan(struct vs_start_ctx *ctx, struct vs_error *err)
{
        int r;

        if ((r = plan_proc(ctx)) < 0 || (r = plan_sys(ctx)) < 0 || (r = plan_dev(ctx)) < 0)
                return r;
        r = add(&ctx->plan, VS_MOUNT_FS, NULL, "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=20%", false);
        if (r < 0 || (r = vs_notify_plan(&ctx->plan, ctx->rundir)) < 0 || (r = plan_cgroups(ctx)) < 0)
                return r;
        return plan_fstab(ctx, err);
}

static void ctx_free(struct vs_start_ctx *ctx)
{
        vs_mount_plan_free(&ctx->plan);
        vs_cgroup_free(ctx->cg);
        vs_config_free(ctx->config);
        free(ctx->rootfs);
        free(ctx->rundir);
        free(ctx->console_path);
        if (ctx->console_master >= 0)
                close(ctx->console_master);
        if (ctx->console_slave >= 0)
                close(ctx->console_slave);
        if (ctx->lock_fd >= 0)
                close(ctx->lock_fd);
        if (ctx->log_fd >= 0)
                close(ctx->log_fd);
        if (ctx->ptmx_fd >= 0)
                close(ctx->ptmx_fd);
}

/* Takes the guest's lock. A concurrent start, probe or build holds it for a
 * moment: wait for it to settle, and say "already running" only once the
 * other start has really brought the guest up. */
static int take_start_lock(const char *name, int *ret_fd, struct vs_error *err)
{
        struct vs_deadline d = vs_deadline_in(30000, 10);
        do {
                struct vs_state s;
                int r = vs_guest_lock(name, false, ret_fd);

                if (r != -EBUSY)
                        return r;
                if (vs_state_read(name, &s) == 0) {
                        bool up = vs_pid_alive(s.supervisor_pid, s.supervisor_starttime) &&
                                  vs_pid_alive(s.init_pid, s.init_starttime);
                        vs_state_clear(&s);
                        if (up) {
                                return vs_error_set(err, EALREADY, "Guest \"%s\" is already running", name);
                        }
                }
        } while (vs_deadline_wait(&d));
        return vs_error_set(err, EBUSY, "Guest \"%s\" is busy (being built, started or destroyed)", name);
}

/* Closes every fd from 3 up but those in @keep (-1 entries are ignored). */
static void close_fds_except(const int *keep, size_t n)
{
        int from = 3;

        for (;;) {
                int next = -1;
                /* The lowest kept fd at or above @from. */
                for (size_t i = 0; i < n; i++)
                        if (keep[i] >= from && (next < 0 || keep[i] < next))
                                next = keep[i];
                if (next < 0) {
                        vs_close_all_fds(from, -1);
                        return;
                }
                for (int fd = from; fd < next; fd++)
                        close(fd);
                from = next + 1;
        }
}

/* vs-start --wait: until the guest is ready, by the rule of vs_guest_ready(). */
static int wait_ready(const char *name, uint64_t sec, const char *logpath, struct vs_error *err)
{
        struct vs_deadline d = vs_deadline_in((unsigned)(sec * 1000u), 20);

        for (;;) {
                int r = vs_guest_ready(name);
                if (r > 0)
                        return 0;
                if (r < 0) {
                        return vs_error_set(err, ESRCH, "Guest \"%s\" stopped before it was ready (see %s)", name, logpath);
                }
                if (!vs_deadline_wait(&d)) {
                        return vs_error_set(err, ETIMEDOUT, "Guest \"%s\" is not ready after %llu s; it keeps running (see %s)", name,
                                            (unsigned long long)sec, logpath);
                }
        }
}

struct ready_msg {
        int status;
        char msg[sizeof(((struct vs_error *)0)->msg)];
};

/* One vs-start's state: the context it hands the supervisor, and what its
 * own phases share. */
struct starter {
        struct vs_start_ctx ctx;
        const struct vs_start_opts *o;
        struct vs_error *err;
        char *logpath; /* NAME.console */
};

/* First: the guest's config and root; a MEMLOCK limit this host cannot
 * grant is said before anything is made. */
static int load_guest(struct starter *s)
{
        struct vs_start_ctx *ctx = &s->ctx;
        struct stat st;
        int r = vs_load_guest_config(ctx->name, &ctx->config, s->err);

        if (r < 0)
                return r;
        ctx->rootfs = vs_rootfs_path(ctx->name);
        ctx->rundir = vs_run_path(ctx->name);
        if (!ctx->rootfs || !ctx->rundir)
                return -ENOMEM;
        if (stat(ctx->rootfs, &st) < 0 || !S_ISDIR(st.st_mode)) {
                return vs_error_set(s->err, ENOENT, "Guest \"%s\" has no root filesystem at %s", ctx->name, ctx->rootfs);
        }
        if (ctx->config->memlock) {
                /* Raising a hard limit needs CAP_SYS_RESOURCE, which some
                 * hosts (and sandboxes) withhold: say so before anything. */
                struct rlimit rl;
                if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
                    ctx->config->memlock > rl.rlim_max && !vs_caps_have(CAP_SYS_RESOURCE)) {
                        return vs_error_set(s->err, EPERM,
                                            "%s: key \"memory.memlock\": %llu bytes is above this host's hard limit of %llu "
                                            "and vserver lacks CAP_SYS_RESOURCE to raise it",
                                            ctx->config->path, (unsigned long long)ctx->config->memlock,
                                            (unsigned long long)rl.rlim_max);
                }
        }
        return 0;
}

/* Once the config is read: the halt signal, the bounding set, the
 * cgroups and the guest's view of them, which the plan depends on. */
static int decide(struct starter *s)
{
        struct vs_start_ctx *ctx = &s->ctx;
        int r;

        ctx->halt_signal = vs_config_halt_signal(ctx->config, ctx->rootfs);
        ctx->caps_keep = vs_caps_guest_bounding(ctx->config->caps_keep, ctx->config->caps_drop, ctx->config->seccomp);
        /* The quota code lets a process with CAP_SYS_RESOURCE in the host's
         * namespace write past a hard limit: root of a privileged guest with
         * a project quota goes without it, unless caps.keep names it. */
        if (!ctx->config->userns && ctx->config->disk_size && vs_config_layout(ctx->config) != VS_LAYOUT_IMAGE &&
            !(ctx->config->caps_keep & (UINT64_C(1) << CAP_SYS_RESOURCE)))
                ctx->caps_keep &= ~(UINT64_C(1) << CAP_SYS_RESOURCE);
        ctx->foreground = s->o->foreground;
        r = vs_cgroup_detect(ctx->name, "vservers", NULL, NULL, &ctx->cg);
        if (r < 0) {
                return vs_error_set(s->err, r, "Cannot find the host's cgroup hierarchies: %s", strerror(-r));
        }
        ctx->cg->devices = (ctx->config->dev_fuse ? VS_DEV_FUSE : 0) | (ctx->config->dev_tun ? VS_DEV_TUN : 0);
        return choose_cgroup_view(ctx, s->err);
}

/* vs-start --dry-run: what was decided and planned, instead of the start,
 * on the command's @out. */
static void print_dry_run(const struct vs_start_ctx *ctx, FILE *out)
{
        fprintf(out, "guest     %s\nrootfs    %s\ninit      %s\ncgroup    %s backend\ncgroupfs  %s\n", ctx->name,
                ctx->rootfs, ctx->config->init, ctx->cg->ops->name,
                ctx->cg_view == VS_CGVIEW_UNIFIED ? "unified" : "hybrid");
        if (ctx->config->userns && ctx->config->idmap_count)
                fprintf(out, "userns    %llu:%llu\n", (unsigned long long)ctx->config->idmap_host,
                        (unsigned long long)ctx->config->idmap_count);
        else if (ctx->config->userns)
                fprintf(out, "userns    auto\n");
        for (size_t i = 0; ctx->cg->paths[i]; i++)
                fprintf(out, "cgroup    %s\n", ctx->cg->paths[i]);
        vs_mount_plan_print(&ctx->plan, out);
}

/* After every check and before anything on the host changes: the guest's
 * lock, then its run state anew (a dead supervisor's leftovers cleared
 * under the lock), the seccomp program and the console log. */
static int prepare_run_state(struct starter *s)
{
        struct vs_start_ctx *ctx = &s->ctx;
        const char *name = ctx->name;
        int r = take_start_lock(name, &ctx->lock_fd, s->err);

        if (r == -ENOENT)
                vs_error_set(s->err, r, "Guest \"%s\" has no directory %s/%s", name, vs_guestdir(), name);
        if (r < 0)
                return r;
        /* The guest's tree holds what guest root made, setuid files too: no
         * host user may reach it. Closes trees built before it was private. */
        (void)fchmod(ctx->lock_fd, 0700);
        /* We hold the lock, so no supervisor runs: clear what a dead one left. */
        if (access(ctx->rundir, F_OK) == 0)
                vs_guest_cleanup(name);
        r = vs_mkdir_p(vs_rundir(), 0755);
        if (r == 0 && mkdir(ctx->rundir, 0700) < 0)
                r = -errno;
        /* Built into the library; the guest's init loads it, and vs-enter
         * loads the same program from the run directory. */
        if (r == 0 && ctx->config->seccomp) {
                _cleanup_free_ char *bpf = vs_strdupf("%s/" VS_SECCOMP_FILE, ctx->rundir);
                ctx->seccomp_bpf = vs_seccomp_default(&ctx->seccomp_len);
                r = bpf ? vs_seccomp_save(bpf, ctx->seccomp_bpf, ctx->seccomp_len) : -ENOMEM;
        }
        if (r == 0)
                r = vs_mkdir_p(vs_logdir(), 0750);
        if (r < 0) {
                return vs_error_set(s->err, r, "Cannot create the run state of \"%s\" in %s: %s", name, vs_rundir(),
                                    strerror(-r));
        }
        s->logpath = vs_console_log_path(name);
        if (!s->logpath)
                return -ENOMEM;
        ctx->log_fd = open(s->logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_APPEND, 0640);
        return 0;
}

/* The forked supervisor: its own session, detached from the caller's
 * terminal; its start's outcome goes to vs-start over @ready_fd. */
static void run_detached_supervisor(struct starter *s, int ready_fd) __attribute__((noreturn));
static void run_detached_supervisor(struct starter *s, int ready_fd)
{
        struct vs_start_ctx *ctx = &s->ctx;
        int null = open("/dev/null", O_RDWR | O_CLOEXEC), r;
        struct ready_msg m = { 0 };
        struct vs_error serr = { 0 };

        setsid();
        /* Named for what it is in ps and top, not for the command that
         * forked it (vs-start, vs-migrate --receive, vs-start --autostart):
         * its command line stays the caller's. */
        (void)prctl(PR_SET_NAME, "vs-supervisor");
        if (null >= 0) {
                dup2(null, 0);
                dup2(null, 1);
        }
        if (ctx->log_fd >= 0)
                dup2(ctx->log_fd, 2);
        else if (null >= 0)
                dup2(null, 2);
        /* The supervisor lives as long as the guest: whatever else the
         * caller had open (a pipe its own caller waits on, a file on a
         * filesystem to unmount) must not stay open that long. */
        {
                const int keep[] = { ready_fd, ctx->lock_fd, ctx->log_fd };
                close_fds_except(keep, ELEMENTSOF(keep));
        }
        ctx->ready_fd = ready_fd;
        r = vs_supervisor_run(ctx, &serr);
        if (r < 0 && ctx->ready_fd >= 0) {
                m.status = r;
                memcpy(m.msg, serr.msg, sizeof(m.msg));
                (void)!write(ctx->ready_fd, &m, sizeof(m));
        }
        ctx_free(ctx);
        _exit(r < 0 ? 1 : 0);
}

/* In vs-start, after the fork: one ready message says how the start went
 * (its warnings, if any, said here); none means the supervisor died. */
static int read_ready(struct starter *s, int fd, pid_t pid)
{
        struct ready_msg m = { 0 };
        ssize_t n;
        int status = 0;

        do
                n = read(fd, &m, sizeof(m));
        while (n < 0 && errno == EINTR);
        close(fd);
        if (n != (ssize_t)sizeof(m)) {
                waitpid(pid, &status, 0);
                return vs_error_set(s->err, EIO, "The supervisor of \"%s\" died while starting it (see %s)", s->ctx.name,
                                    s->logpath);
        }
        if (m.status < 0)
                memcpy(s->err->msg, m.msg, sizeof(s->err->msg));
        else if (m.msg[0]) {
                m.msg[sizeof(m.msg) - 1] = '\0';
                vs_warn_lines(m.msg);
        }
        return m.status;
}

/* The supervisor in a process of its own, which outlives vs-start. */
static int fork_supervisor(struct starter *s)
{
        int pfd[2];
        pid_t pid = vs_fork_pipe(pfd);

        if (pid < 0)
                return pid;
        if (pid == 0) {
                close(pfd[0]);
                run_detached_supervisor(s, pfd[1]);
        }
        close(pfd[1]);
        return read_ready(s, pfd[0], pid);
}

/* The phases in their order (doc/design.md, "In vs-start"). */
int vs_guest_start(const char *name, const struct vs_start_opts *o, struct vs_error *err, int *ret_exit)
{
        struct starter s = {
                .ctx = { .name = name, .lock_fd = -1, .ready_fd = -1, .console_master = -1, .console_slave = -1,
                         .log_fd = -1, .root_mnt_fd = -1, .nodes_mnt = -1, .ptmx_fd = -1 },
                .o = o,
                .err = err,
        };
        struct vs_start_ctx *ctx = &s.ctx;
        int r;

        ctx->t0 = vs_now_usec();
        if ((r = load_guest(&s)) < 0 || (r = decide(&s)) < 0 || (r = vs_start_build_plan(ctx, err)) < 0 ||
            (r = vs_userns_prepare(ctx, o->dry_run != NULL, err)) < 0)
                goto out;
        if (o->dry_run) {
                print_dry_run(ctx, o->dry_run);
                r = 0;
                goto out;
        }
        r = vs_check_cgroup_owner(ctx->cg, name, err);
        if (r < 0)
                goto out;
        vs_profile_mark(ctx, "validate");
        r = prepare_run_state(&s);
        if (r < 0)
                goto out;
        if (o->foreground) {
                r = vs_supervisor_run(ctx, err);
                if (r >= 0 && ret_exit) {
                        *ret_exit = r;
                        r = 0;
                }
                goto out;
        }
        r = fork_supervisor(&s);
        if (r == 0 && o->wait)
                r = wait_ready(name, o->wait_sec ? o->wait_sec : ctx->config->start_timeout, s.logpath, err);
out:
        free(s.logpath);
        ctx_free(ctx);
        return r;
}
