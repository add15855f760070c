/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "events.h"
#include "guest-io.h"
#include "guest-limits.h"
#include "guest-net.h"
#include "net-filter.h"
#include "guest-quota.h"
#include "idmap.h"
#include "paths.h"
#include "pidfd.h"
#include "storage.h"
#include "state.h"
#include "util.h"

/* Short names users type, and the keys they stand for. */
static const struct {
        const char *alias, *key;
} aliases[] = {
        { "rss", "memory.rss" },     { "anon", "memory.anon" }, { "memlock", "memory.memlock" },
        { "pids", "memory.pids" },   { "weight", "cpu.weight" }, { "cpus", "cpu.cpus" },
        { "memory.max", "memory.rss" }, { "disk", "disk.size" },  { "rate", "net.rate" },
        { "ceil", "net.ceil" },
};

static const char *resolve_key(const char *k)
{
        for (size_t i = 0; i < ELEMENTSOF(aliases); i++)
                if (!strcmp(aliases[i].alias, k))
                        return aliases[i].key;
        return k;
}

static int cgroup_of(const char *name, struct vs_state *st, struct vs_cgroup **ret)
{
        return vs_cgroup_from_paths(name, st->backend ? st->backend : "v1", st->cgroups, st->controllers, ret);
}

struct group_list {
        struct vs_cgroup *cg;
        const char *controller;
};

static int relist(void *data, pid_t **ret, size_t *ret_n)
{
        struct group_list *gl = data;
        return vs_cgroup_list_pids(gl->cg, gl->controller, ret, ret_n);
}

/* prlimit(2) takes a pid, not a pidfd: the pidfd, still there after the
 * call, proves the pid named the listed process all along. What it cannot
 * undo: a process that exits, is reaped and has its pid reused in the
 * moment between the group's second listing and the call; that is counted
 * as not reached. */
struct memlock_act {
        const struct rlimit *rl;
        int err; /* the first failure, but for a process gone meanwhile */
};

static int set_memlock(int pidfd, pid_t pid, void *data)
{
        struct memlock_act *a = data;

        if (prlimit(pid, RLIMIT_MEMLOCK, a->rl, NULL) < 0) {
                if (errno != ESRCH && !a->err)
                        a->err = -errno;
                return -errno;
        }
        return vs_pidfd_signal(pidfd, 0);
}

/* Every listed process that is still in the group, or the first error. */
static int memlock_all(const pid_t *pids, size_t np, struct group_list *gl, const struct rlimit *rl)
{
        struct memlock_act a = { rl, 0 };
        int r = vs_pids_act_listed(pids, np, relist, gl, set_memlock, &a);
        return r < 0 ? r : a.err;
}

/* An unprivileged guest's processes have ids other than ours, and prlimit(2)
 * on another user's process takes CAP_SYS_RESOURCE over its user namespace:
 * without it in the host's (some hosts' root has none), the limits are set from a
 * child that joined the guest's user namespace, where host root holds every
 * capability. It can lower the limit, not raise it past the hard limit, for
 * which the kernel asks CAP_SYS_RESOURCE of the host's namespace. The child
 * is not dumpable, so guest root cannot trace it. */
static int memlock_live(const struct vs_state *st, struct vs_cgroup *cg, const struct rlimit *rl)
{
        _cleanup_free_ pid_t *pids = NULL;
        _cleanup_close_ int pidfd = -1;
        struct group_list gl = { .cg = cg, .controller = "memory" };
        size_t np = 0;
        pid_t child;
        int status, r;

        if (vs_cgroup_list_pids(cg, gl.controller, &pids, &np) < 0) {
                gl.controller = "pids";
                if (vs_cgroup_list_pids(cg, gl.controller, &pids, &np) < 0)
                        return -ESRCH;
        }
        pidfd = vs_pidfd_open_started(st->init_pid, st->init_starttime);
        if (pidfd < 0)
                return pidfd;
        r = memlock_all(pids, np, &gl, rl);
        if (r != -EPERM || !vs_pid_in_other_userns(st->init_pid))
                return r;
        child = fork();
        if (child < 0)
                return -errno;
        if (child == 0) {
                if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || setns(pidfd, CLONE_NEWUSER) < 0)
                        _exit(errno & 0xff);
                _exit(-memlock_all(pids, np, &gl, rl) & 0xff);
        }
        while (waitpid(child, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (!WIFEXITED(status))
                return -EPERM;
        return -WEXITSTATUS(status); /* the child's errno, 0 when done */
}

/* What a set of assignments changes, once all of them are valid. */
struct limit_plan {
        struct vs_cgroup_limits changed;
        bool memlock, anon, disk, net, io;
};

/* Applies @assignments to the loaded config @c and checks the result;
 * touches nothing outside @c. */
static int plan_limits(const char *name, struct vs_config *c, int layout0, char **assignments, size_t n,
                       struct limit_plan *p, struct vs_error *err)
{
        int r;

        /* Validate everything before touching anything. */
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *k = strdup(assignments[i]);
                char *eq = k ? strchr(k, '=') : NULL;
                const char *key;
                if (!eq) {
                        return vs_error_set(err, EINVAL, "Bad assignment \"%s\" (expected key=value)", assignments[i]);
                }
                *eq = '\0';
                key = resolve_key(k);
                if (strncmp(key, "cpu.", 4) != 0 && strncmp(key, "memory.", 7) != 0 && strcmp(key, "disk.size") != 0 &&
                    strcmp(key, "net.rate") != 0 && strcmp(key, "net.ceil") != 0 && strncmp(key, "io.", 3) != 0) {
                        return vs_error_set(err, EINVAL, "\"%s\" is not a limit (cpu.weight, cpu.max, cpu.cpus, rss, anon, memlock, pids, disk, rate, ceil, io.*)", k);
                }
                r = vs_config_set(c, key, eq + 1, err);
                if (r < 0)
                        return vs_error_locate(err, r, name);
                if (!strcmp(key, "cpu.weight"))
                        p->changed.cpu_weight = c->cpu_weight;
                else if (!strcmp(key, "cpu.max"))
                        p->changed.cpu_max = c->cpu_max;
                else if (!strcmp(key, "cpu.cpus"))
                        p->changed.cpus = c->cpus;
                else if (!strcmp(key, "memory.rss"))
                        p->changed.memory = c->rss;
                else if (!strcmp(key, "memory.pids"))
                        p->changed.pids = c->pids;
                else if (!strcmp(key, "memory.memlock"))
                        p->memlock = true;
                else if (!strcmp(key, "memory.anon"))
                        p->anon = true;
                else if (!strcmp(key, "net.rate") || !strcmp(key, "net.ceil"))
                        p->net = true;
                else if (!strcmp(key, "disk.size"))
                        p->disk = true;
                else if (!strncmp(key, "io.", 3))
                        p->io = true;
        }
        /* On dir and shared the size is a project quota: the layout is
         * written out, or a size would turn it into image. */
        if (p->disk && layout0 != VS_LAYOUT_IMAGE)
                c->disk_layout = layout0;
        r = vs_config_check(c, err);
        if (r < 0)
                return vs_error_locate(err, r, name);
        return 0;
}

/* What the phases of one vs-limit share; limit_done() releases it. */
struct limit_run {
        const char *name;
        char **assignments;
        size_t n;
        struct vs_error *err;
        vs_say_fn *say; /* its steps (vs_say()) */
        void *say_data;
        struct vs_config *c;
        char *path;
        int layout0; /* the layout before the assignments */
        struct limit_plan plan;
        bool live;     /* the guest was running and got the change at once */
        int memlock_r; /* why the running guest kept its MEMLOCK limit */
};

static void limit_done(struct limit_run *l)
{
        free(l->path);
        vs_config_free(l->c);
}

static int load_guest(struct limit_run *l)
{
        int r = vs_load_guest_config(l->name, &l->c, l->err);

        if (r < 0)
                return r;
        l->path = vs_conf_path(l->name);
        if (!l->path)
                return -ENOMEM;
        l->layout0 = vs_config_layout(l->c);
        if (l->n == 0) {
                return vs_error_set(l->err, EINVAL, "Nothing to change (give key=value, e.g. rss=1G cpu.weight=300)");
        }
        return 0;
}

/* Live, running or not: the quota is the filesystem's. */
static int set_quota(struct limit_run *l)
{
        _cleanup_free_ char *dir = vs_guest_path(l->name), *v = NULL;
        _cleanup_close_ int lock = -1;
        struct vs_config *c = l->c;
        uint64_t project0 = c->disk_project;
        struct vs_state st0 = { 0 };
        bool running;
        int r;

        if (!dir)
                return -ENOMEM;
        r = vs_idmap_lock(vs_confdir(), &lock);
        if (r < 0) {
                return vs_error_set(l->err, r, "Cannot lock %s: %s", vs_confdir(), strerror(-r));
        }
        r = vs_guest_quota_apply(l->name, dir, l->layout0, c, l->say, l->say_data, l->err);
        if (r < 0)
                return r;
        v = vs_strdupf("%llu", (unsigned long long)c->disk_project);
        r = v ? vs_config_file_set(l->path, "disk", "layout", vs_layout_name(l->layout0)) : -ENOMEM;
        if (r == 0 && project0 != c->disk_project)
                r = vs_config_file_set(l->path, "disk", "project", v);
        if (r < 0) {
                return vs_error_set(l->err, r, "Cannot write %s: %s", l->path, strerror(-r));
        }
        running = vs_state_read(l->name, &st0) == 0 && vs_pid_alive(st0.init_pid, st0.init_starttime);
        vs_state_clear(&st0);
        if (!project0 && !c->userns && running)
                vs_warn("Guest \"%s\" is privileged and running: its root may write past the new quota until its "
                        "next start, which takes CAP_SYS_RESOURCE from it",
                        l->name);
        return 0;
}

/* Offline only: growing a mounted ext4 needs the resize ioctl
 * and CAP_SYS_RESOURCE; the guest's lock keeps it stopped. */
static int grow_image(struct limit_run *l)
{
        _cleanup_close_ int lock = -1;
        int r = vs_guest_lock(l->name, false, &lock);

        if (r == -EBUSY) {
                return vs_error_set(l->err, r, "Guest \"%s\" is running: stop it to grow its disk", l->name);
        }
        if (r < 0) {
                return vs_error_set(l->err, r, "Cannot lock guest \"%s\": %s", l->name, strerror(-r));
        }
        return vs_disk_grow(l->name, l->c->disk_size, l->err);
}

static int set_disk(struct limit_run *l)
{
        if (!l->plan.disk)
                return 0;
        return l->layout0 != VS_LAYOUT_IMAGE ? set_quota(l) : grow_image(l);
}

/* The running guest's cgroup, MEMLOCK, io and network limits; a MEMLOCK
 * failure is kept in l->memlock_r and reported once the rest is done. */
static int set_live_limits(struct limit_run *l, struct vs_state *st)
{
        _cleanup_cgroup_ struct vs_cgroup *cg = NULL;
        struct vs_config *c = l->c;
        struct vs_error why = { 0 };
        int r = cgroup_of(l->name, st, &cg);

        if (r == 0)
                r = vs_cgroup_set_limits(cg, &l->plan.changed, &why);
        if (r < 0) {
                return vs_error_set(l->err, r, "Cannot change the running guest \"%s\": %s", l->name, why.msg);
        }
        if (l->plan.memlock) {
                struct rlimit rl = { c->memlock ? c->memlock : RLIM_INFINITY, c->memlock ? c->memlock : RLIM_INFINITY };
                l->memlock_r = memlock_live(st, cg, &rl);
        }
        if (l->plan.io) {
                r = vs_guest_io_live(l->name, cg, c, l->err);
                if (r < 0)
                        return r;
        }
        if (l->plan.net)
                return vs_guest_net_limit(l->name, c->net_rate, c->net_ceil ? c->net_ceil : c->net_rate, l->err);
        return 0;
}

/* A running guest gets the change at once. */
static int set_live(struct limit_run *l)
{
        struct vs_state st = { 0 };
        int r = 0;

        if (vs_state_read(l->name, &st) == 0 && vs_pid_alive(st.init_pid, st.init_starttime)) {
                l->live = true;
                r = set_live_limits(l, &st);
        }
        vs_state_clear(&st);
        return r;
}

/* And keeps it: each key rewritten in place, comments untouched. */
static int write_limits(struct limit_run *l)
{
        for (size_t i = 0; i < l->n; i++) {
                _cleanup_free_ char *k = strdup(l->assignments[i]);
                char *eq = strchr(k, '='), *dot;
                *eq = '\0';
                _cleanup_free_ char *key = strdup(resolve_key(k));
                dot = strchr(key, '.');
                *dot = '\0';
                int r = vs_config_file_set(l->path, key, dot + 1, eq + 1);
                if (r < 0) {
                        return vs_error_set(l->err, r, "Cannot write %s: %s", l->path, strerror(-r));
                }
        }
        return 0;
}

/* The ANON limit is re-read from the file by the supervisor. */
static void signal_supervisor(struct limit_run *l)
{
        struct vs_state st = { 0 };

        if (l->plan.anon && vs_state_read(l->name, &st) == 0) {
                (void)vs_pid_signal_started(st.supervisor_pid, st.supervisor_starttime, SIGUSR1);
                vs_state_clear(&st);
        }
}

/* Said last: everything else took effect, and the config holds it. */
static int report_memlock(struct limit_run *l)
{
        if (l->memlock_r >= 0)
                return 0;
        vs_error_set(l->err, l->memlock_r,
                     "The running guest \"%s\" keeps its old MEMLOCK limit (%s%s); the new one is in %s "
                     "for its next start",
                     l->name, strerror(-l->memlock_r),
                     l->memlock_r == -EPERM ? ": raising it needs CAP_SYS_RESOURCE, which this host's root lacks" : "",
                     l->path);
        return l->memlock_r;
}

int vs_guest_limit(const char *name, char **assignments, vs_say_fn *say, void *say_data, struct vs_error *err)
{
        _cleanup_(limit_done) struct limit_run l = {
                .name = name, .assignments = assignments, .n = vs_strv_length(assignments), .err = err,
                .say = say, .say_data = say_data,
        };
        int r;

        r = load_guest(&l);
        if (r < 0)
                return r;
        /* Every assignment valid before anything is touched. */
        r = plan_limits(name, l.c, l.layout0, assignments, l.n, &l.plan, err);
        if (r < 0)
                return r;
        /* The disk first: a quota or an image refused leaves all else as it was. */
        r = set_disk(&l);
        if (r < 0)
                return r;
        /* The running guest before the file: a limit it refuses is not kept. */
        r = set_live(&l);
        if (r < 0)
                return r;
        r = write_limits(&l);
        if (r < 0)
                return r;
        vs_event_limit(name, assignments, l.live);
        /* After the file is written: the supervisor reads the new value there. */
        signal_supervisor(&l);
        return report_memlock(&l);
}

int vs_guest_limit_preview(const char *name, char **assignments, struct vs_config **ret, char ***ret_keys,
                           struct vs_error *err)
{
        _cleanup_config_ struct vs_config *c = NULL;
        struct limit_plan plan = { 0 };
        size_t n = vs_strv_length(assignments);
        char **keys;
        int r;

        r = vs_load_guest_config(name, &c, err);
        if (r < 0)
                return r;
        r = plan_limits(name, c, vs_config_layout(c), assignments, n, &plan, err);
        if (r < 0)
                return r;
        keys = calloc(n + 1, sizeof(*keys));
        if (!keys)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                size_t len = strcspn(assignments[i], "=");
                char k[64];
                snprintf(k, sizeof(k), "%.*s", (int)(len < sizeof(k) ? len : sizeof(k) - 1), assignments[i]);
                keys[i] = strdup(resolve_key(k));
                if (!keys[i]) {
                        vs_strv_free(keys);
                        return -ENOMEM;
                }
        }
        *ret_keys = keys;
        *ret = TAKE_PTR(c);
        return 0;
}

/* A limit of 0 is no limit: null, so a caller compares values, not units. */
static void json_u64(FILE *out, const char *key, uint64_t v, bool first)
{
        fprintf(out, "%s\"%s\":", first ? "" : ",", key);
        if (v)
                fprintf(out, "%llu", (unsigned long long)v);
        else
                fputs("null", out);
}

void vs_guest_limits_json(FILE *out, const char *name, const struct vs_config *c, char **keys, bool dry_run)
{
        fprintf(out, "{\"name\":\"%s\",\"dry_run\":%s,\"changed\":[", name, dry_run ? "true" : "false");
        for (size_t i = 0; keys && keys[i]; i++)
                fprintf(out, "%s\"%s\"", i ? "," : "", keys[i]);
        fputs("],\"limits\":{", out);
        json_u64(out, "cpu.weight", c->cpu_weight, true);
        json_u64(out, "cpu.max", c->cpu_max, false);
        /* A cpuset list holds digits, commas and dashes only. */
        if (c->cpus && *c->cpus)
                fprintf(out, ",\"cpu.cpus\":\"%s\"", c->cpus);
        else
                fputs(",\"cpu.cpus\":null", out);
        json_u64(out, "memory.rss", c->rss, false);
        json_u64(out, "memory.anon", c->anon, false);
        json_u64(out, "memory.memlock", c->memlock, false);
        json_u64(out, "memory.pids", c->pids, false);
        json_u64(out, "io.weight", c->io_weight, false);
        json_u64(out, "io.read_bps", c->io_read_bps, false);
        json_u64(out, "io.write_bps", c->io_write_bps, false);
        json_u64(out, "io.read_iops", c->io_read_iops, false);
        json_u64(out, "io.write_iops", c->io_write_iops, false);
        json_u64(out, "disk.size", c->disk_size, false);
        json_u64(out, "net.rate", c->net_rate, false);
        json_u64(out, "net.ceil", c->net_ceil, false);
        fputs("}}\n", out);
}

int vs_guest_stats(const char *name, struct vs_guest_stats *ret, struct vs_error *err)
{
        _cleanup_cgroup_ struct vs_cgroup *cg = NULL;
        _cleanup_free_ char *run = vs_run_path(name);
        struct vs_cgroup_stats cs;
        _cleanup_config_ struct vs_config *c = NULL;
        struct vs_state st = { 0 };
        uint64_t dused = 0, dsize = 0;
        int r;

        if (!run)
                return -ENOMEM;
        if (vs_state_read(name, &st) < 0 || !vs_pid_alive(st.init_pid, st.init_starttime)) {
                vs_state_clear(&st);
                return vs_error_set(err, ESRCH, "Guest \"%s\" is not running", name);
        }
        if (vs_load_config(name, &c, NULL) == 0)
                (void)vs_disk_usage(name, vs_config_layout(c), st.init_pid, &dused, &dsize);
        r = cgroup_of(name, &st, &cg);
        vs_state_clear(&st);
        if (r < 0)
                return r;
        vs_cgroup_read_stats(cg, &cs);
        uint64_t anon_kills = vs_guest_anon_kills(run);
        *ret = (struct vs_guest_stats){
                .name = strdup(name),
                .cpu_usec = cs.cpu_usec,
                .rss_bytes = cs.memory_bytes,
                .anon_bytes = cs.anon_bytes,
                .memlock_bytes = vs_cgroup_memlock_bytes(cg),
                .pids = cs.pids,
                .oom_kills = cs.oom_kills + anon_kills,
                .anon_kills = anon_kills,
                .disk_used = dused,
                .disk_size = dsize,
        };
        (void)vs_guest_net_bytes(name, &ret->net_rx_bytes, &ret->net_tx_bytes);
        ret->net_filtered = vs_guest_net_dropped(name, &ret->net_dropped) == 0;
        (void)vs_guest_io_bytes(name, cg, &ret->io_read_bytes, &ret->io_write_bytes);
        return ret->name ? 0 : -ENOMEM;
}
