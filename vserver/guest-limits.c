/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "guest-limits.h"
#include "util.h"

int vs_guest_apply_limits(struct vs_cgroup *cg, const struct vs_config *c, struct vs_error *err)
{
        struct vs_cgroup_limits l = {
                .cpu_weight = c->cpu_weight,
                .cpu_max = c->cpu_max,
                .cpus = c->cpus,
                .memory = c->rss,
                .pids = c->pids,
        };
        return vs_cgroup_set_limits(cg, &l, err);
}

void vs_guest_count_anon_kill(const char *rundir)
{
        _cleanup_free_ char *p = vs_strdupf("%s/anon_kills", rundir);
        char buf[32];
        if (!p)
                return;
        snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)(vs_guest_anon_kills(rundir) + 1));
        (void)vs_write_file_replace(p, buf, 0644);
}

uint64_t vs_guest_anon_kills(const char *rundir)
{
        _cleanup_free_ char *p = vs_strdupf("%s/anon_kills", rundir), *s = NULL;
        if (!p || vs_read_file(p, &s, NULL) < 0)
                return 0;
        return strtoull(s, NULL, 10);
}
