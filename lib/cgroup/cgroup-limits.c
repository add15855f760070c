/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Limits and statistics: the one table that maps each setting to its cgroup
 * files on v1 and v2. */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "cgroup-internal.h"
#include "cleanup.h"
#include "util.h"

const struct vs_cgroup_limit_map vs_cgroup_limit_table[] = {
        { "cpu.weight", "cpu", "cpu.weight", "cpu.shares", NULL,
          "v2: the weight as is; v1: shares = weight * 1024 / 100 (100 -> 1024)", NULL, NULL },
        { "cpu.max", "cpu", "cpu.max", "cpu.cfs_quota_us", "cpu.cfs_period_us",
          "period 100000 us, quota = percent * 1000 us (v2: \"QUOTA 100000\")", NULL, NULL },
        { "cpu.cpus", "cpuset", "cpuset.cpus", "cpuset.cpus", NULL, "the list as is", NULL, NULL },
        { "memory.rss", "memory", "memory.max", "memory.limit_in_bytes", "memory.memsw.limit_in_bytes",
          "bytes; where the kernel accounts swap, no swapping past it: v1 memory+swap gets the same limit, "
          "v2 memory.swap.max 0",
          "memory.swap.max", "0" },
        { "memory.pids", "pids", "pids.max", "pids.max", NULL, "the count as is", NULL, NULL },
};
const size_t vs_cgroup_limit_table_size = sizeof(vs_cgroup_limit_table) / sizeof(vs_cgroup_limit_table[0]);

static const struct vs_cgroup_limit_map *row(const char *setting)
{
        for (size_t i = 0; i < vs_cgroup_limit_table_size; i++)
                if (!strcmp(vs_cgroup_limit_table[i].setting, setting))
                        return &vs_cgroup_limit_table[i];
        return NULL;
}

static bool has_token(const char *list, const char *tok)
{
        size_t l = strlen(tok);
        for (const char *p = list; p && *p;) {
                const char *e = strchrnul(p, ',');
                if ((size_t)(e - p) == l && !strncmp(p, tok, l))
                        return true;
                p = *e ? e + 1 : e;
        }
        return false;
}

const char *vs_cgroup_controller_path(const struct vs_cgroup *cg, const char *controller)
{
        if (cg->ops == &vs_cgroup_v2_ops)
                return cg->paths ? cg->paths[0] : NULL;
        for (size_t i = 0; i < cg->n_hier && cg->paths[i]; i++)
                if (!cg->hier[i].v2 && has_token(cg->hier[i].controllers, controller))
                        return cg->paths[i];
        return NULL;
}

static int write_at(const char *dir, const char *file, const char *value, struct vs_error *err)
{
        _cleanup_free_ char *p = vs_strdupf("%s/%s", dir, file);
        int r;
        if (!p)
                return -ENOMEM;
        r = vs_write_file_at(AT_FDCWD, p, value);
        if (r < 0)
                vs_error_set(err, r, "writing \"%s\" to %s: %s", value, p, strerror(-r));
        return r;
}

static int set_one(struct vs_cgroup *cg, const char *setting, const char *v2_value, const char *v1_value,
                   const char *v1_extra_value, struct vs_error *err)
{
        const struct vs_cgroup_limit_map *m = row(setting);
        const char *dir = vs_cgroup_controller_path(cg, m->controller);
        bool v2 = cg->ops == &vs_cgroup_v2_ops;
        int r;

        if (!dir) {
                return vs_error_set(err, EOPNOTSUPP, "the host has no %s cgroup controller for %s", m->controller,
                                    setting);
        }
        if (v2) {
                r = write_at(dir, m->v2_file, v2_value, err);
                if (r == -ENOENT)
                        vs_error_set(err, r,
                                     "the %s controller is not enabled for guests under %s (enable it in the "
                                 "parent's cgroup.subtree_control, e.g. start guests from a unit with Delegate=yes)",
                                 m->controller, dir);
                if (r == 0 && m->v2_extra_file) {
                        /* Without swap accounting (swapaccount=0) the file is absent. */
                        r = write_at(dir, m->v2_extra_file, m->v2_extra_value, err);
                        if (r == -ENOENT)
                                r = 0;
                }
                return r;
        }
        if (!strcmp(setting, "cpu.cpus")) {
                /* A v1 cpuset parent cannot shrink below its child (the
                 * guest's leaf, which copied it): shrink the leaf first,
                 * widen it after. */
                _cleanup_free_ char *leaf = vs_strdupf("%s/" VS_CGROUP_LEAF, dir);
                bool has_leaf = leaf && access(leaf, F_OK) == 0;
                if (has_leaf)
                        (void)write_at(leaf, m->v1_file, v1_value, NULL);
                r = write_at(dir, m->v1_file, v1_value, err);
                if (r == 0 && has_leaf)
                        r = write_at(leaf, m->v1_file, v1_value, err);
                return r;
        }
        if (!strcmp(setting, "memory.rss")) {
                /* memsw must stay >= the memory limit: order the two writes
                 * by whether the limit goes up or down. */
                _cleanup_free_ char *memsw = vs_strdupf("%s/%s", dir, m->v1_extra_file);
                bool has_memsw = memsw && access(memsw, F_OK) == 0;
                r = write_at(dir, m->v1_file, v1_value, err);
                if (r == -EINVAL && has_memsw) {
                        r = write_at(dir, m->v1_extra_file, v1_extra_value, err);
                        if (r == 0)
                                r = write_at(dir, m->v1_file, v1_value, err);
                        return r;
                }
                if (r == 0 && has_memsw)
                        r = write_at(dir, m->v1_extra_file, v1_extra_value, err);
                return r;
        }
        if (m->v1_extra_file && v1_extra_value) {
                r = write_at(dir, m->v1_extra_file, v1_extra_value, err);
                if (r < 0)
                        return r;
        }
        return write_at(dir, m->v1_file, v1_value, err);
}

int vs_cgroup_set_limits(struct vs_cgroup *cg, const struct vs_cgroup_limits *l, struct vs_error *err)
{
        char a[64], b[64], c[64];
        int r;

        if (l->cpu_weight) {
                snprintf(a, sizeof(a), "%" PRIu64, l->cpu_weight);
                snprintf(b, sizeof(b), "%" PRIu64, l->cpu_weight * 1024 / 100 ?: 2);
                r = set_one(cg, "cpu.weight", a, b, NULL, err);
                if (r < 0)
                        return r;
        }
        if (l->cpu_max) {
                snprintf(a, sizeof(a), "%" PRIu64 " 100000", l->cpu_max * 1000);
                snprintf(b, sizeof(b), "%" PRIu64, l->cpu_max * 1000);
                r = set_one(cg, "cpu.max", a, b, "100000", err);
                if (r < 0)
                        return r;
        }
        if (l->cpus) {
                r = set_one(cg, "cpu.cpus", l->cpus, l->cpus, NULL, err);
                if (r < 0)
                        return r;
        }
        if (l->memory) {
                snprintf(a, sizeof(a), "%" PRIu64, l->memory);
                r = set_one(cg, "memory.rss", a, a, a, err);
                if (r < 0)
                        return r;
        }
        if (l->pids) {
                snprintf(c, sizeof(c), "%" PRIu64, l->pids);
                r = set_one(cg, "memory.pids", c, c, NULL, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Reads "KEY VALUE" from a flat-keyed cgroup file. */
static int read_key(const char *dir, const char *file, const char *key, uint64_t *ret)
{
        _cleanup_free_ char *buf = NULL;
        size_t kl = strlen(key);
        int r = vs_read_filef(&buf, "%s/%s", dir, file);

        if (r < 0)
                return r;
        for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                if (!strncmp(l, key, kl) && l[kl] == ' ') {
                        *ret = strtoull(l + kl + 1, NULL, 10);
                        return 0;
                }
        return -ENOENT;
}

static int read_u64(const char *dir, const char *file, uint64_t *ret)
{
        _cleanup_free_ char *buf = NULL;
        int r = vs_read_filef(&buf, "%s/%s", dir, file);

        if (r < 0)
                return r;
        if (!strncmp(buf, "max", 3))
                *ret = UINT64_MAX;
        else
                *ret = strtoull(buf, NULL, 10);
        return 0;
}

struct key_sum {
        const char *file, *key;
        uint64_t total;
};

static int key_add(const char *dir, void *arg)
{
        struct key_sum *k = arg;
        uint64_t v = 0;

        if (read_key(dir, k->file, k->key, &v) == 0)
                k->total += v;
        return 0;
}

/* KEY of FILE summed over DIR and every group below it (17 levels deep). */
static uint64_t sum_key_tree(const char *dir, const char *file, const char *key)
{
        struct key_sum k = { file, key, 0 };

        (void)key_add(dir, &k);
        (void)vs_cg_walk(dir, 17, key_add, NULL, &k);
        return k.total;
}

int vs_cgroup_read_stats(struct vs_cgroup *cg, struct vs_cgroup_stats *ret)
{
        struct vs_cgroup_stats s = { 0 };
        const char *mem = vs_cgroup_controller_path(cg, "memory");
        const char *pids = vs_cgroup_controller_path(cg, "pids");

        if (cg->ops == &vs_cgroup_v2_ops) {
                const char *d = cg->paths[0];
                (void)read_key(d, "cpu.stat", "usage_usec", &s.cpu_usec);
                (void)read_u64(d, "memory.current", &s.memory_bytes);
                (void)read_key(d, "memory.stat", "anon", &s.anon_bytes);
                (void)read_u64(d, "pids.current", &s.pids);
                (void)read_key(d, "memory.events", "oom_kill", &s.oom_kills);
        } else {
                const char *acct = vs_cgroup_controller_path(cg, "cpuacct");
                uint64_t ns = 0;
                if (acct && read_u64(acct, "cpuacct.usage", &ns) == 0)
                        s.cpu_usec = ns / 1000;
                if (mem) {
                        (void)read_u64(mem, "memory.usage_in_bytes", &s.memory_bytes);
                        (void)read_key(mem, "memory.stat", "total_rss", &s.anon_bytes);
                        /* v1 counts an OOM kill in the victim's own group
                         * only: add up the guest's subtree. */
                        s.oom_kills = sum_key_tree(mem, "memory.oom_control", "oom_kill");
                }
                if (pids)
                        (void)read_u64(pids, "pids.current", &s.pids);
        }
        *ret = s;
        return 0;
}
