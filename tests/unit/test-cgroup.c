/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The cgroup backends against fake trees in a temporary directory: host
 * layouts are described by mountinfo and /proc/self/cgroup texts. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "cgroup-io.h"
#include "cgroup.h"
#include "tap.h"
#include "util.h"

static char dir[] = "/tmp/vs-test-cgroup.XXXXXX";

static void touch(const char *path, const char *content)
{
        FILE *f = fopen(path, "w");
        if (f) {
                fputs(content, f);
                fclose(f);
        }
}

static char *slurp(const char *path)
{
        char *s = NULL;
        if (vs_read_file(path, &s, NULL) < 0)
                return NULL;
        return s;
}

static void hybrid(void)
{
        /* This host's layout: v1 controllers, memory in a sub-group, named
         * systemd hierarchy, and an empty cgroup2 at unified. */
        char *mi = vs_strdupf(
                "30 25 0:26 / %1$s/memory rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,memory\n"
                "31 25 0:27 / %1$s/cpu,cpuacct rw,nosuid shared:11 - cgroup cgroup rw,cpu,cpuacct\n"
                "32 25 0:28 / %1$s/cpuset rw,nosuid shared:12 - cgroup cgroup rw,cpuset\n"
                "33 25 0:29 / %1$s/systemd rw,nosuid shared:13 - cgroup cgroup rw,xattr,name=systemd\n"
                "34 25 0:30 / %1$s/unified rw,nosuid shared:14 - cgroup2 cgroup2 rw,nsdelegate\n"
                "35 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n",
                dir);
        const char *self = "5:memory:/process_api/abc\n4:cpu,cpuacct:/\n3:cpuset:/\n1:name=systemd:/user.slice\n0::/\n";
        struct vs_cgroup *cg = NULL;
        int r = vs_cgroup_detect("g1", "vservers", mi, self, &cg);

        tap_is_int(r, 0, "hybrid: detected");
        if (r < 0)
                return;
        tap_is_str(cg->ops->name, "v1", "hybrid: v1 backend");
        tap_is_int(cg->n_hier, 5, "hybrid: five hierarchies");
        char *want = vs_strdupf("%s/memory/process_api/abc/vservers/g1", dir);
        tap_is_str(cg->paths[0], want, "memory group beneath our own memory group");
        free(want);
        want = vs_strdupf("%s/cpu,cpuacct/vservers/g1", dir);
        tap_is_str(cg->paths[1], want, "co-mounted cpu,cpuacct found by its mount options");
        free(want);
        want = vs_strdupf("%s/systemd/user.slice/vservers/g1", dir);
        tap_is_str(cg->paths[3], want, "named systemd hierarchy");
        free(want);
        want = vs_strdupf("%s/unified/vservers/g1", dir);
        tap_is_str(cg->paths[4], want, "the hybrid's cgroup2 tree");
        tap_ok(cg->hier[4].v2, "the unified tree is marked v2");
        free(want);

        /* Create: parents exist as our own groups; cpuset files are copied down. */
        for (size_t i = 0; i < cg->n_hier; i++) {
                char *base = vs_strdupf("%s%s", cg->hier[i].mount, cg->hier[i].base);
                vs_mkdir_p(base, 0755);
                free(base);
        }
        char *cs = vs_strdupf("%s/cpuset", dir);
        char *f = vs_strdupf("%s/cpuset.cpus", cs);
        touch(f, "0-1\n");
        free(f);
        f = vs_strdupf("%s/cpuset.mems", cs);
        touch(f, "0\n");
        free(f);
        /* Plain directories lack the files the kernel would provide: add them. */
        char *vcs = vs_strdupf("%s/vservers", cs);
        mkdir(vcs, 0755);
        f = vs_strdupf("%s/cpuset.cpus", vcs);
        touch(f, "");
        free(f);
        f = vs_strdupf("%s/cpuset.mems", vcs);
        touch(f, "");
        free(f);
        mkdir(cg->paths[2], 0755);
        f = vs_strdupf("%s/cpuset.cpus", cg->paths[2]);
        touch(f, "");
        free(f);
        f = vs_strdupf("%s/cpuset.mems", cg->paths[2]);
        touch(f, "");
        free(f);
        f = vs_strdupf("%s/cgroup.procs", cg->paths[2]);
        touch(f, "");
        free(f);
        /* The leaf where the guest's processes live: a cpuset group too. */
        char *leaf = vs_strdupf("%s/" VS_CGROUP_LEAF, cg->paths[2]);
        mkdir(leaf, 0755);
        f = vs_strdupf("%s/cpuset.cpus", leaf);
        touch(f, "");
        free(f);
        f = vs_strdupf("%s/cpuset.mems", leaf);
        touch(f, "");
        free(f);
        f = vs_strdupf("%s/cgroup.procs", leaf);
        touch(f, "");
        free(f);
        r = cg->ops->create(cg, VS_CG_ALL);
        tap_is_int(r, 0, "v1 create");
        for (size_t i = 0; i < cg->n_hier; i++) {
                struct stat st;
                tap_ok(stat(cg->paths[i], &st) == 0 && S_ISDIR(st.st_mode), "group made in %s",
                       cg->hier[i].controllers[0] ? cg->hier[i].controllers : "unified");
        }
        f = vs_strdupf("%s/cpuset.cpus", vcs);
        char *got = slurp(f);
        tap_is_str(got, "0-1\n", "cpuset.cpus copied into vservers/");
        free(got);
        free(f);
        f = vs_strdupf("%s/cpuset.cpus", cg->paths[2]);
        got = slurp(f);
        tap_is_str(got, "0-1\n", "cpuset.cpus copied into the guest's group");
        free(got);
        free(f);
        f = vs_strdupf("%s/cpuset.cpus", leaf);
        got = slurp(f);
        tap_is_str(got, "0-1\n", "cpuset.cpus copied into the guest's leaf group");
        free(got);
        free(f);
        for (size_t i = 0; i < cg->n_hier; i++) {
                struct stat st;
                char *l = vs_strdupf("%s/" VS_CGROUP_LEAF, cg->paths[i]);
                tap_ok(stat(l, &st) == 0 && S_ISDIR(st.st_mode), "leaf %s made", l);
                char *procs = vs_strdupf("%s/cgroup.procs", l), *tasks = vs_strdupf("%s/tasks", l);
                touch(procs, ""); /* the kernel's files, in a real group */
                touch(tasks, "");
                free(procs);
                free(tasks);
                free(l);
        }
        f = vs_strdupf("%s/tasks", leaf);
        tap_is_int(vs_cgroup_attach_self(cg, -1), 0, "a process moves itself into every leaf");
        got = slurp(f);
        tap_is_str(got, "0\n", "through tasks, with 0 for itself");
        free(got);
        free(f);
        f = vs_strdupf("%s/cgroup.procs", leaf);
        touch(f, "4242\n"); /* what the kernel then lists */
        size_t n = 0;
        tap_ok(vs_cgroup_count_procs(cg, &n) == 0 && n == 1, "one process counted");
        free(f);
        free(leaf);
        free(cs);
        free(vcs);

        /* The state file round trip. */
        struct vs_cgroup *again = NULL;
        char *ctls[] = { "memory", "cpu,cpuacct", "cpuset", "name=systemd", "-", NULL };
        tap_is_int(vs_cgroup_from_paths("g1", "v1", cg->paths, ctls, &again), 0, "rebuilt from saved paths");
        tap_ok(again && again->ops == &vs_cgroup_v1_ops && strcmp(again->paths[4], cg->paths[4]) == 0,
               "same backend and paths");
        tap_is_str(again ? vs_cgroup_controller_path(again, "cpuacct") : NULL, cg->paths[1],
                   "a co-mounted controller is found by either name");
        vs_cgroup_free(again);

        /* v1 limits land in the files of the table. */
        static const char *const files[][2] = { { "memory", "memory.limit_in_bytes" },
                                                { "memory", "memory.memsw.limit_in_bytes" },
                                                { "cpu", "cpu.shares" },
                                                { "cpu", "cpu.cfs_quota_us" },
                                                { "cpu", "cpu.cfs_period_us" } };
        for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
                char *fp = vs_strdupf("%s/%s", vs_cgroup_controller_path(cg, files[i][0]), files[i][1]);
                touch(fp, "");
                free(fp);
        }
        char *pidsmax = vs_strdupf("%s/pids.max", cg->paths[2]);
        struct vs_cgroup_limits lim = { .cpu_weight = 300, .cpu_max = 150, .memory = 128 << 20 };
        struct vs_error why = { 0 };
        tap_is_int(vs_cgroup_set_limits(cg, &lim, &why), 0, "v1 limits written (%s)", why.msg);
        static const char *const want_v1[][2] = { { "memory.limit_in_bytes", "134217728" },
                                                  { "memory.memsw.limit_in_bytes", "134217728" },
                                                  { "cpu.shares", "3072" },
                                                  { "cpu.cfs_quota_us", "150000" },
                                                  { "cpu.cfs_period_us", "100000" } };
        for (size_t i = 0; i < sizeof(want_v1) / sizeof(*want_v1); i++) {
                char *fp = vs_strdupf("%s/%s", vs_cgroup_controller_path(cg, i < 2 ? "memory" : "cpu"), want_v1[i][0]);
                char *v = slurp(fp);
                tap_is_str(v, want_v1[i][1], "v1 %s", want_v1[i][0]);
                free(v);
                free(fp);
        }
        struct vs_cgroup_limits pl = { .pids = 10 };
        tap_ok(vs_cgroup_set_limits(cg, &pl, &why) == -EOPNOTSUPP && strstr(why.msg, "pids"),
               "a controller the host lacks is named (%s)", why.msg);
        free(pidsmax);
        vs_cgroup_free(cg);
        free(mi);
}

static void pure_v2(void)
{
        char *mi = vs_strdupf("28 1 0:25 / %s/v2 rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
                              "rw,nsdelegate,memory_recursiveprot\n",
                              dir);
        struct vs_cgroup *cg = NULL;
        int r = vs_cgroup_detect("g2", "vservers", mi, "0::/system.slice/vs.service\n", &cg);

        tap_is_int(r, 0, "v2: detected");
        if (r < 0)
                return;
        tap_is_str(cg->ops->name, "v2", "v2 backend on a pure cgroup2 host");
        tap_is_int(cg->n_hier, 1, "one hierarchy");
        char *want = vs_strdupf("%s/v2/system.slice/vs.service/vservers/g2", dir);
        tap_is_str(cg->paths[0], want, "guest group beneath our own group");
        {
                /* A caller an earlier start moved into the leaf vs-host. */
                struct vs_cgroup *leaf = NULL;
                tap_is_int(vs_cgroup_detect("g2", "vservers", mi, "0::/system.slice/vs.service/vs-host\n", &leaf), 0,
                           "v2: detected from the vs-host leaf");
                tap_is_str(leaf ? leaf->paths[0] : NULL, want, "the guests' groups stay beside the leaf");
                vs_cgroup_free(leaf);
        }
        free(want);

        char *parent = vs_strdupf("%s/v2/system.slice/vs.service/vservers", dir);
        vs_mkdir_p(parent, 0755);
        char *ctrl = vs_strdupf("%s/cgroup.controllers", parent), *sub = vs_strdupf("%s/cgroup.subtree_control", parent);
        touch(ctrl, "cpu memory pids\n");
        touch(sub, "");
        /* The guest's group hands the controllers on to its leaf. */
        mkdir(cg->paths[0], 0755);
        char *gctrl = vs_strdupf("%s/cgroup.controllers", cg->paths[0]);
        char *gsub = vs_strdupf("%s/cgroup.subtree_control", cg->paths[0]);
        touch(gctrl, "cpu memory pids\n");
        touch(gsub, "");
        tap_is_int(cg->ops->create(cg, VS_CG_ALL), 0, "v2 create");
        char *gl = vs_strdupf("%s/" VS_CGROUP_LEAF, cg->paths[0]);
        struct stat gst;
        tap_ok(stat(gl, &gst) == 0 && S_ISDIR(gst.st_mode), "v2 leaf %s made", gl);
        free(gl);
        char *ggot = slurp(gsub);
        tap_ok(ggot && ggot[0] == '+', "controllers enabled in the guest's cgroup.subtree_control (%s)", ggot ? ggot : "");
        free(ggot);
        free(gctrl);
        free(gsub);
        char *got = slurp(sub);
        tap_ok(got && got[0] == '+', "controllers enabled in vservers/cgroup.subtree_control (%s)", got ? got : "");
        free(got);

        /* v2 limits and statistics against files in the fake group. */
        static const char *const v2files[] = { "cpu.weight", "cpu.max", "cpuset.cpus", "memory.max", "memory.swap.max",
                                                 "pids.max" };
        for (size_t i = 0; i < sizeof(v2files) / sizeof(*v2files); i++) {
                char *fp = vs_strdupf("%s/%s", cg->paths[0], v2files[i]);
                touch(fp, "");
                free(fp);
        }
        struct vs_cgroup_limits lim = { .cpu_weight = 250, .cpu_max = 50, .cpus = "0-1", .memory = 64 << 20, .pids = 99 };
        struct vs_error why = { 0 };
        tap_is_int(vs_cgroup_set_limits(cg, &lim, &why), 0, "v2 limits written (%s)", why.msg);
        static const char *const want2[][2] = { { "cpu.weight", "250" }, { "cpu.max", "50000 100000" },
                                               { "cpuset.cpus", "0-1" }, { "memory.max", "67108864" }, { "memory.swap.max", "0" },
                                               { "pids.max", "99" } };
        for (size_t i = 0; i < sizeof(want2) / sizeof(*want2); i++) {
                char *fp = vs_strdupf("%s/%s", cg->paths[0], want2[i][0]);
                char *v = slurp(fp);
                tap_is_str(v, want2[i][1], "v2 %s", want2[i][0]);
                free(v);
                free(fp);
        }
        char *fp = vs_strdupf("%s/cpu.stat", cg->paths[0]);
        touch(fp, "usage_usec 123456\nuser_usec 100000\n");
        free(fp);
        fp = vs_strdupf("%s/memory.current", cg->paths[0]);
        touch(fp, "5000000\n");
        free(fp);
        fp = vs_strdupf("%s/memory.stat", cg->paths[0]);
        touch(fp, "anon 3000000\nfile 2000000\n");
        free(fp);
        fp = vs_strdupf("%s/memory.events", cg->paths[0]);
        touch(fp, "low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\n");
        free(fp);
        fp = vs_strdupf("%s/pids.current", cg->paths[0]);
        touch(fp, "7\n");
        free(fp);
        struct vs_cgroup_stats st;
        tap_is_int(vs_cgroup_read_stats(cg, &st), 0, "v2 statistics read");
        tap_is_int(st.cpu_usec, 123456, "cpu usage from cpu.stat");
        tap_is_int(st.memory_bytes, 5000000, "memory from memory.current");
        tap_is_int(st.anon_bytes, 3000000, "anon from memory.stat");
        tap_is_int(st.oom_kills, 2, "oom kills from memory.events");
        tap_is_int(st.pids, 7, "pids from pids.current");
        free(ctrl);
        free(sub);
        free(parent);
        vs_cgroup_free(cg);
        free(mi);
}

static void unreachable(void)
{
        /* Our group lies outside what the mount shows: nothing usable. */
        char *mi = vs_strdupf("28 1 0:25 /other %s/v2 rw - cgroup2 cgroup2 rw\n", dir);
        struct vs_cgroup *cg = NULL;
        tap_is_int(vs_cgroup_detect("g", "vservers", mi, "0::/mine\n", &cg), -ENOMEDIUM,
                   "a group outside the mounted part is refused");
        free(mi);
}

/* Whose is our own v2 group: systemd marks a delegated unit's group with an
 * xattr (user.delegate here: a test needs no privilege to set it). */
static int delegated(const char *self, char **ret_unit)
{
        char *mi = vs_strdupf("28 1 0:25 / %s/d2 rw - cgroup2 cgroup2 rw\n", dir);
        struct vs_cgroup *cg = NULL;
        int r = vs_cgroup_detect("g", "vservers", mi, self, &cg);

        if (r == 0)
                r = vs_cgroup_v2_delegated(cg, ret_unit);
        vs_cgroup_free(cg);
        free(mi);
        return r;
}

static void delegation(void)
{
        char *sess = vs_strdupf("%s/d2/user.slice/user-0.slice/session-3.scope", dir);
        char *svc = vs_strdupf("%s/d2/system.slice/vs.service", dir);
        char *unit = NULL;

        vs_mkdir_p(sess, 0755);
        vs_mkdir_p(svc, 0755);
        tap_is_int(delegated("0::/user.slice/user-0.slice/session-3.scope\n", &unit), 0,
                   "a session scope is not delegated");
        tap_is_str(unit, "session-3.scope", "and its unit is named");
        free(unit);
        unit = NULL;
        tap_is_int(delegated("0::/system.slice/vs.service\n", &unit), 0, "a service without the mark is not");
        tap_is_str(unit, "vs.service", "its unit is named");
        free(unit);
        if (setxattr(svc, "user.delegate", "1", 1, 0) < 0) {
                tap_ok(1, "user xattrs are not supported here # SKIP");
        } else {
                tap_is_int(delegated("0::/system.slice/vs.service\n", NULL), 1, "a marked service is delegated");
                tap_is_int(delegated("0::/system.slice/vs.service/vs-host\n", NULL), 1,
                           "also seen from its vs-host leaf");
                char *sub = vs_strdupf("%s/payload", svc);
                mkdir(sub, 0755);
                tap_is_int(delegated("0::/system.slice/vs.service/payload\n", NULL), 1,
                           "a group inside a delegated one is ours");
                free(sub);
        }
        tap_is_int(delegated("0::/\n", NULL), 1, "the root group is taken as ours");
        free(sess);
        free(svc);
}

struct procs_feed {
        const char *path;
        char first[32]; /* what the first read of cgroup.procs sees */
        volatile int done; /* the reader is through: stop feeding */
};

/* cgroup.procs as a FIFO: the first read gets a stale listing, every later
 * one an empty group, until the reader is through (a time limit instead
 * left a reader on a busy host blocked in open() for good). */
static void *feed(void *data)
{
        struct procs_feed *f = data;
        for (int i = 0; !__atomic_load_n(&f->done, __ATOMIC_SEQ_CST);) {
                int fd = open(f->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
                if (fd < 0) {
                        struct timespec ts = { 0, 1000 * 1000 };
                        nanosleep(&ts, NULL);
                        continue;
                }
                if (i++ == 0)
                        (void)!write(fd, f->first, strlen(f->first));
                close(fd);
        }
        return NULL;
}

static void kill_stale(void)
{
        /* The group listed a pid, whose process then exited; the pid now
         * names a process outside the group, which must not be killed. */
        char *g = vs_strdupf("%s/stale", dir);
        struct procs_feed f = { .path = vs_strdupf("%s/stale/cgroup.procs", dir) };
        pthread_t t;
        size_t n = 0;
        pid_t outside = fork();

        if (outside == 0) {
                pause();
                _exit(0);
        }
        mkdir(g, 0755);
        tap_ok(mkfifo(f.path, 0600) == 0, "a group whose cgroup.procs is a FIFO");
        snprintf(f.first, sizeof(f.first), "%d\n", (int)outside);
        pthread_create(&t, NULL, feed, &f);
        int r = vs_cg_kill_path(g, SIGKILL, &n);
        __atomic_store_n(&f.done, 1, __ATOMIC_SEQ_CST);
        tap_is_int(r, 0, "killing the group's processes");
        tap_is_int(n, 1, "the group listed one pid");
        /* A SIGKILL takes effect when the process next runs: give it time. */
        struct timespec ts = { 0, 300 * 1000 * 1000 };
        nanosleep(&ts, NULL);
        tap_ok(waitpid(outside, NULL, WNOHANG) == 0, "the process that now has that pid, outside the group, lives on");
        kill(outside, SIGKILL);
        waitpid(outside, NULL, 0);
        pthread_join(t, NULL);
        free((char *)f.path);
        free(g);
}

/* The io.max line, both ways; the device under a guest's data in a fake
 * sysfs (a partition throttles on its disk); the byte counters. */
static void io_limits(void)
{
        struct vs_io_limits l = { .weight = 300, .wbps = 10485760, .riops = 500 }, got = { .weight = 7 };
        char buf[160], p[512];
        dev_t d;

        tap_is_int(vs_io_max_format(makedev(7, 3), &l, buf, sizeof(buf)), 0, "io.max: formatted");
        tap_is_str(buf, "7:3 rbps=max wbps=10485760 riops=500 wiops=max", "io.max: max for no limit");
        tap_is_int(vs_io_max_format(makedev(7, 3), &l, buf, 20), -ENOBUFS, "io.max: a short buffer is refused");
        tap_is_int(vs_io_max_parse("8:0 rbps=1 wbps=2 riops=3 wiops=4\n7:3 wiops=9 rbps=max wbps=10485760 riops=500\n",
                                   makedev(7, 3), &got),
                   0, "io.max: the device's line is found among others, keys in any order");
        tap_ok(got.rbps == 0 && got.wbps == 10485760 && got.riops == 500 && got.wiops == 9 && got.weight == 7,
               "io.max: values read back, max as 0, the weight untouched");
        vs_io_max_format(makedev(253, 1), &l, buf, sizeof(buf));
        got = (struct vs_io_limits){ 0 };
        tap_is_int(vs_io_max_parse(buf, makedev(253, 1), &got), 0, "io.max: what the writer writes, the parser reads");
        tap_ok(got.rbps == l.rbps && got.wbps == l.wbps && got.riops == l.riops && got.wiops == l.wiops,
               "io.max: round trip");
        tap_is_int(vs_io_max_parse("8:0 rbps=1\n", makedev(8, 1), &got), -ENOENT, "io.max: no line, no limit");
        tap_is_int(vs_io_max_parse("8:1 rbps=1 bogus=2\n", makedev(8, 1), &got), -EINVAL, "io.max: unknown key refused");
        tap_is_int(vs_io_max_parse("8:1 rbps=x\n", makedev(8, 1), &got), -EINVAL, "io.max: bad number refused");
        tap_is_int(vs_io_max_parse("8:1 rbps=12wbps=1\n", makedev(8, 1), &got), -EINVAL, "io.max: run-together refused");

        /* sysfs: dev/block/MAJ:MIN links into devices/, a partition's
         * directory inside its disk's. */
        snprintf(p, sizeof(p), "%s/sys/devices/vda/vda1", dir);
        tap_is_int(vs_mkdir_p(p, 0755), 0, "fake sysfs made");
        snprintf(p, sizeof(p), "%s/sys/devices/vda/dev", dir);
        touch(p, "254:0\n");
        snprintf(p, sizeof(p), "%s/sys/devices/vda/vda1/partition", dir);
        touch(p, "1\n");
        snprintf(p, sizeof(p), "%s/sys/devices/loop4/queue", dir);
        vs_mkdir_p(p, 0755);
        snprintf(p, sizeof(p), "%s/sys/devices/loop4/queue/scheduler", dir);
        touch(p, "none mq-deadline [bfq] kyber\n");
        snprintf(p, sizeof(p), "%s/sys/dev/block", dir);
        vs_mkdir_p(p, 0755);
        snprintf(p, sizeof(p), "%s/sys/dev/block/254:1", dir);
        symlink("../../devices/vda/vda1", p);
        snprintf(p, sizeof(p), "%s/sys/dev/block/254:0", dir);
        symlink("../../devices/vda", p);
        snprintf(p, sizeof(p), "%s/sys/dev/block/7:4", dir);
        symlink("../../devices/loop4", p);
        snprintf(p, sizeof(p), "%s/sys", dir);
        d = 0;
        tap_is_int(vs_io_whole_disk(p, makedev(254, 1), &d), 0, "a partition resolves");
        tap_ok(d == makedev(254, 0), "to its whole disk (got %u:%u)", major(d), minor(d));
        tap_is_int(vs_io_whole_disk(p, makedev(7, 4), &d), 0, "a loop device resolves");
        tap_ok(d == makedev(7, 4), "to itself");
        tap_is_int(vs_io_whole_disk(p, makedev(0, 45), &d), -ENOTBLK, "an anonymous device (tmpfs, overlay) is no block device");
        tap_is_int(vs_io_whole_disk(p, makedev(9, 9), &d), -ENOTBLK, "nor is one sysfs does not list");
        tap_is_int(vs_io_scheduler(p, makedev(7, 4), buf, sizeof(buf)), 0, "the scheduler is read");
        tap_is_str(buf, "bfq", "the one in brackets");

        uint64_t rd = 0, wr = 0;
        vs_io_stat_parse_v2("7:4 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n"
                            "254:0 rbytes=1000 wbytes=2000 rios=1 wios=2 dbytes=0 dios=0\n",
                            makedev(7, 4), &rd, &wr);
        tap_ok(rd == 100 && wr == 200, "io.stat: the device's bytes (%llu, %llu)", (unsigned long long)rd,
               (unsigned long long)wr);
        vs_io_stat_parse_v2("7:4 rbytes=100 wbytes=200\n254:0 rbytes=1000 wbytes=2000\n", 0, &rd, &wr);
        tap_ok(rd == 1100 && wr == 2200, "io.stat: every device's without one");
        vs_io_stat_parse_v1("7:4 Read 100\n7:4 Write 200\n7:4 Sync 0\n7:4 Total 300\n254:0 Read 5\n254:0 Write 6\nTotal 311\n",
                            makedev(7, 4), &rd, &wr);
        tap_ok(rd == 100 && wr == 200, "blkio.throttle.io_service_bytes_recursive: the device's bytes");
}

struct walk_log {
        char text[512];
        int stop_at; /* visits before a callback fails, -1 never */
};

static int walk_pre(const char *d, void *arg)
{
        struct walk_log *w = arg;
        const char *base = strrchr(d, '/') + 1;
        if (w->stop_at == 0)
                return -EINTR;
        w->stop_at--;
        strcat(w->text, "+");
        strcat(w->text, base);
        return 0;
}

static int walk_post(const char *d, void *arg)
{
        struct walk_log *w = arg;
        strcat(w->text, "-");
        strcat(w->text, strrchr(d, '/') + 1);
        return 0;
}

static void walk(void)
{
        char top[256], p[300];
        struct walk_log w = { "", -1 };

        snprintf(top, sizeof(top), "%s/walk", dir);
        snprintf(p, sizeof(p), "%s/a/b/c", top);
        tap_is_int(vs_mkdir_p(p, 0755), 0, "a fake group tree a/b/c");
        snprintf(p, sizeof(p), "%s/a/.hidden", top);
        mkdir(p, 0755);
        snprintf(p, sizeof(p), "%s/a/file", top);
        touch(p, "not a group");
        tap_is_int(vs_cg_walk(top, 8, walk_pre, walk_post, &w), 0, "walked");
        tap_is_str(w.text, "+a+b+c-c-b-a", "pre before the children, post after, the top itself not visited, files and dot entries passed over");
        w.text[0] = '\0';
        tap_is_int(vs_cg_walk(top, 2, walk_pre, NULL, &w), 0, "walked two levels deep");
        tap_is_str(w.text, "+a+b", "nothing below the depth limit");
        w.text[0] = '\0';
        w.stop_at = 1;
        tap_is_int(vs_cg_walk(top, 8, walk_pre, walk_post, &w), -EINTR, "a callback's error ends the walk and is returned");
        tap_is_str(w.text, "+a", "nothing visited after it");
        snprintf(p, sizeof(p), "%s/gone", dir);
        tap_is_int(vs_cg_walk(p, 8, walk_pre, NULL, &w), 0, "a group gone meanwhile is no error");
}

int main(void)
{
        if (!mkdtemp(dir))
                return 1;
        walk();
        hybrid();
        pure_v2();
        unreachable();
        delegation();
        kill_stale();
        io_limits();
        tap_is_int(vs_rm_rf(dir), 0, "temporary tree removed");
        return tap_done();
}
