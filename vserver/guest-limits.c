/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cleanup.h"
#include "guest-limits.h"
#include "pidfd.h"
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

/* A field of /proc/PID/status in kB, as bytes. */
/* A "NNN kB" field of /proc/PID/status in bytes; 0 when unreadable. */
static uint64_t status_kb(pid_t pid, const char *field)
{
        uint64_t v = 0;
        return vs_proc_status_uint(pid, field, 10, &v) < 0 ? 0 : v * 1024;
}

static void comm_of(pid_t pid, char *buf, size_t len)
{
        char path[64];
        _cleanup_free_ char *s = NULL;
        snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
        if (vs_read_file(path, &s, NULL) == 0) {
                s[strcspn(s, "\n")] = '\0';
                snprintf(buf, len, "%s", s);
        } else
                snprintf(buf, len, "?");
}

static int relist_memory(void *data, pid_t **ret, size_t *ret_n)
{
        return vs_cgroup_list_pids(data, "memory", ret, ret_n);
}

int vs_anon_check(struct vs_cgroup *cg, struct vs_anon_guard *g, char *msg, size_t len)
{
        struct vs_cgroup_stats st;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        pid_t victim = 0;
        uint64_t most = 0;
        char comm[32];

        if (!g->limit || vs_cgroup_read_stats(cg, &st) < 0 || st.anon_bytes <= g->limit)
                return 0;
        if (vs_cgroup_list_pids(cg, "memory", &pids, &n) < 0 || n == 0)
                return 0;
        uint64_t sum = 0;
        for (size_t i = 0; i < n; i++) {
                uint64_t a = status_kb(pids[i], "RssAnon");
                sum += a;
                if (pids[i] == g->init_pid && n > 1)
                        continue;
                if (a > most) {
                        most = a;
                        victim = pids[i];
                }
        }
        /* The cgroup's counters may lag by a flush period: right after a
         * kill they still show the victim's memory. The processes' own
         * counts are current; act only when they agree. */
        if (victim <= 0 || sum <= g->limit)
                return 0;
        comm_of(victim, comm, sizeof(comm));
        /* The victim may have exited since the listing and its pid gone to
         * a host process: kill it only if the group still holds it once a
         * pidfd pins it. */
        if (vs_pids_signal_listed(&victim, 1, relist_memory, cg, SIGKILL) != 1)
                return 0;
        g->kills++;
        snprintf(msg, len,
                 "ANON limit %llu MiB exceeded (%llu MiB anonymous): killed pid %d (%s) holding %llu MiB",
                 (unsigned long long)(g->limit >> 20), (unsigned long long)(st.anon_bytes >> 20), (int)victim, comm,
                 (unsigned long long)(most >> 20));
        return 1;
}

uint64_t vs_guest_memlock_bytes(struct vs_cgroup *cg)
{
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        uint64_t sum = 0;

        if (vs_cgroup_list_pids(cg, "memory", &pids, &n) < 0 && vs_cgroup_list_pids(cg, "pids", &pids, &n) < 0)
                return 0;
        for (size_t i = 0; i < n; i++)
                sum += status_kb(pids[i], "VmLck");
        return sum;
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
