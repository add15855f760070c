/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The cgroup backends against fake trees in a temporary directory: host
 * layouts are described by mountinfo and /proc/self/cgroup texts. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

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
        r = cg->ops->create(cg);
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
        f = vs_strdupf("%s/cgroup.procs", cg->paths[2]);
        tap_is_int(vs_cgroup_attach_path(cg->paths[2], 4242), 0, "attach writes cgroup.procs");
        got = slurp(f);
        tap_is_str(got, "4242\n", "the pid is in cgroup.procs");
        free(got);
        size_t n = 0;
        tap_ok(vs_cgroup_count_procs(cg, &n) == 0 && n == 1, "one process counted");
        free(f);
        free(cs);
        free(vcs);

        /* The state file round trip. */
        struct vs_cgroup *again = NULL;
        tap_is_int(vs_cgroup_from_paths("g1", "v1", cg->paths, &again), 0, "rebuilt from saved paths");
        tap_ok(again && again->ops == &vs_cgroup_v1_ops && strcmp(again->paths[4], cg->paths[4]) == 0,
               "same backend and paths");
        vs_cgroup_free(again);
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
        free(want);

        char *parent = vs_strdupf("%s/v2/system.slice/vs.service/vservers", dir);
        vs_mkdir_p(parent, 0755);
        char *ctrl = vs_strdupf("%s/cgroup.controllers", parent), *sub = vs_strdupf("%s/cgroup.subtree_control", parent);
        touch(ctrl, "cpu memory pids\n");
        touch(sub, "");
        tap_is_int(cg->ops->create(cg), 0, "v2 create");
        char *got = slurp(sub);
        tap_ok(got && got[0] == '+', "controllers enabled in vservers/cgroup.subtree_control (%s)", got ? got : "");
        free(got);
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

int main(void)
{
        if (!mkdtemp(dir))
                return 1;
        hybrid();
        pure_v2();
        unreachable();
        tap_is_int(vs_rm_rf(dir), 0, "temporary tree removed");
        return tap_done();
}
