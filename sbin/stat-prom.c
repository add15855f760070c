/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cmd.h"
#include "config.h"
#include "stat-prom.h"
#include "state.h"
#include "util.h"

/* One metric family: its value for guest @g goes to @buf; false when the
 * guest has none. A stopped guest has no runtime figures at all rather than
 * zeros: a zero RSS or CPU reading would be made up, averages over it would
 * lie, and the counters of its next start (a new cgroup) begin at zero
 * anyway; vserver_guest_up and vserver_guest_state say it is stopped. */
struct family {
        const char *name, *type, *help;
        bool (*value)(const struct vs_prom_guest *g, char *buf, size_t len);
};

static bool u64(char *buf, size_t len, uint64_t v)
{
        snprintf(buf, len, "%llu", (unsigned long long)v);
        return true;
}

#define STAT(fn, expr, cond)                                                        \
        static bool fn(const struct vs_prom_guest *g, char *buf, size_t len)        \
        {                                                                           \
                const struct vs_guest_stats *s = g->stats;                          \
                return s && (cond) ? u64(buf, len, (expr)) : false;                 \
        }
#define LIMIT(fn, field)                                                            \
        static bool fn(const struct vs_prom_guest *g, char *buf, size_t len)        \
        {                                                                           \
                return g->field ? u64(buf, len, g->field) : false;                  \
        }

static bool up(const struct vs_prom_guest *g, char *buf, size_t len)
{
        return u64(buf, len, g->state == VS_GUEST_RUNNING);
}
static bool start_time(const struct vs_prom_guest *g, char *buf, size_t len)
{
        if (g->state != VS_GUEST_RUNNING || g->started <= 0)
                return false;
        return u64(buf, len, (uint64_t)g->started);
}
static bool cpu(const struct vs_prom_guest *g, char *buf, size_t len)
{
        if (!g->stats)
                return false;
        snprintf(buf, len, "%llu.%06llu", (unsigned long long)(g->stats->cpu_usec / 1000000),
                 (unsigned long long)(g->stats->cpu_usec % 1000000));
        return true;
}
STAT(rss, s->rss_bytes, true)
STAT(anon, s->anon_bytes, true)
STAT(memlock, s->memlock_bytes, true)
STAT(pids, s->pids, true)
/* The stats count ANON kills among the OOM kills (vs-stat's OOM column);
 * here each has its own counter. */
STAT(oom_kills, s->oom_kills >= s->anon_kills ? s->oom_kills - s->anon_kills : 0, true)
STAT(anon_kills, s->anon_kills, true)
STAT(net_rx, s->net_rx_bytes, g->net)
STAT(net_tx, s->net_tx_bytes, g->net)
STAT(net_dropped, s->net_dropped, s->net_filtered)
STAT(io_read, s->io_read_bytes, true)
STAT(io_write, s->io_write_bytes, true)
STAT(disk_used, s->disk_used, true)
STAT(disk_size, s->disk_size, s->disk_size > 0)
LIMIT(rss_limit, rss_limit)
LIMIT(anon_limit, anon_limit)
LIMIT(memlock_limit, memlock_limit)
LIMIT(pids_limit, pids_limit)

static const struct family families[] = {
        { "vserver_guest_up", "gauge", "1 when the guest is running, 0 otherwise", up },
        { "vserver_guest_state", "gauge", "1 for the guest's state (running, starting, stale, stopped), 0 for the others", NULL },
        { "vserver_guest_start_time_seconds", "gauge", "Unix time the running guest was started", start_time },
        { "vserver_guest_cpu_seconds_total", "counter", "CPU time the guest's processes used", cpu },
        { "vserver_guest_memory_rss_bytes", "gauge", "Memory the guest uses (its cgroup's, the RSS limit's measure)", rss },
        { "vserver_guest_memory_anon_bytes", "gauge", "Anonymous memory of the guest's processes", anon },
        { "vserver_guest_memory_locked_bytes", "gauge", "Locked memory (VmLck) of the guest's processes", memlock },
        { "vserver_guest_pids", "gauge", "Processes and threads in the guest", pids },
        { "vserver_guest_oom_kills_total", "counter", "Processes the kernel's OOM killer killed in the guest", oom_kills },
        { "vserver_guest_anon_kills_total", "counter", "Processes killed for the guest's ANON limit", anon_kills },
        { "vserver_guest_network_receive_bytes_total", "counter", "Bytes the guest received on its network", net_rx },
        { "vserver_guest_network_transmit_bytes_total", "counter", "Bytes the guest sent on its network", net_tx },
        { "vserver_guest_network_spoofed_dropped_packets_total", "counter",
          "Packets from the guest its anti-spoofing rules dropped", net_dropped },
        { "vserver_guest_disk_read_bytes_total", "counter", "Bytes read from the guest's block device", io_read },
        { "vserver_guest_disk_written_bytes_total", "counter", "Bytes written to the guest's block device", io_write },
        { "vserver_guest_disk_used_bytes", "gauge", "Bytes of the guest's own storage in use", disk_used },
        { "vserver_guest_disk_size_bytes", "gauge", "Size of the guest's disk (its image, or its project quota)",
          disk_size },
        { "vserver_guest_memory_rss_limit_bytes", "gauge", "The guest's RSS limit (memory.rss)", rss_limit },
        { "vserver_guest_memory_anon_limit_bytes", "gauge", "The guest's ANON limit (memory.anon)", anon_limit },
        { "vserver_guest_memory_locked_limit_bytes", "gauge", "The guest's MEMLOCK limit (memory.memlock)", memlock_limit },
        { "vserver_guest_pids_limit", "gauge", "The guest's process limit (memory.pids)", pids_limit },
};

void vs_prom_label_value(FILE *out, const char *s)
{
        for (; *s; s++) {
                if (*s == '\\')
                        fputs("\\\\", out);
                else if (*s == '"')
                        fputs("\\\"", out);
                else if (*s == '\n')
                        fputs("\\n", out);
                else
                        fputc(*s, out);
        }
}

static void sample(FILE *out, const char *family, const char *guest, const char *state, const char *value)
{
        fprintf(out, "%s{guest=\"", family);
        vs_prom_label_value(out, guest);
        if (state)
                fprintf(out, "\",state=\"%s", state);
        fprintf(out, "\"} %s\n", value);
}

void vs_prom_write(FILE *out, const struct vs_prom_guest *g, size_t n)
{
        static const enum vs_guest_state states[] = { VS_GUEST_RUNNING, VS_GUEST_STARTING, VS_GUEST_STALE,
                                                      VS_GUEST_STOPPED };
        char buf[32];

        for (size_t f = 0; f < sizeof(families) / sizeof(*families); f++) {
                const struct family *fam = &families[f];
                bool head = false;
                for (size_t i = 0; i < n; i++) {
                        if (fam->value && !fam->value(&g[i], buf, sizeof(buf)))
                                continue;
                        /* The format wants every sample of a family in one
                         * group after its HELP and TYPE, each given once. */
                        if (!head) {
                                fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", fam->name, fam->help, fam->name, fam->type);
                                head = true;
                        }
                        if (fam->value) {
                                sample(out, fam->name, g[i].name, NULL, buf);
                                continue;
                        }
                        /* An enum the Prometheus way: one series per state,
                         * 1 for the current one, so a state change never
                         * leaves a stale series behind. */
                        for (size_t k = 0; k < sizeof(states) / sizeof(*states); k++)
                                sample(out, fam->name, g[i].name, vs_guest_state_name(states[k]),
                                       g[i].state == states[k] ? "1" : "0");
                }
        }
}

struct entry {
        struct vs_guest_info info;
        struct vs_guest_stats stats;
        bool have_stats;
        struct vs_prom_guest g;
};

static void entries_free(struct entry *e, size_t n)
{
        for (size_t i = 0; e && i < n; i++) {
                vs_guest_info_clear(&e[i].info);
                if (e[i].have_stats)
                        free(e[i].stats.name);
        }
        free(e);
}

/* Fills in @e from its info: the stats when running, the limits from its
 * config (a config that does not parse only loses them). */
static void entry_fill(struct entry *e)
{
        _cleanup_config_ struct vs_config *c = NULL;

        e->g = (struct vs_prom_guest){ .name = e->info.name, .state = e->info.state, .started = e->info.started };
        /* A guest that stops between the two reads is simply shown without
         * figures. */
        if (e->info.state == VS_GUEST_RUNNING && vs_guest_stats(e->info.name, &e->stats, NULL) == 0) {
                e->have_stats = true;
                e->g.stats = &e->stats;
                e->g.net = e->info.veth != NULL;
        }
        if (vs_load_guest_config(e->info.name, &c, NULL) == 0) {
                e->g.rss_limit = c->rss;
                e->g.anon_limit = c->anon;
                e->g.memlock_limit = c->memlock;
                e->g.pids_limit = c->pids;
        }
}

int vs_prom_main(char **names, size_t n, const char *output)
{
        struct entry *e = NULL;
        size_t ne = 0;

        if (n) {
                e = calloc(n, sizeof(*e));
                if (!e)
                        return cmd_fail(-ENOMEM, NULL, "Cannot gather the figures");
                for (size_t k = 0; k < n; k++) {
                        struct vs_error err = { 0 };
                        bool dup = false;
                        /* A name given twice would give each series twice,
                         * which the format does not allow. */
                        for (size_t j = 0; j < ne; j++)
                                dup |= !strcmp(e[j].info.name, names[k]);
                        if (dup)
                                continue;
                        int r = vs_guest_info(names[k], &e[ne].info, &err);
                        if (r < 0) {
                                entries_free(e, ne);
                                return cmd_fail(r, &err, "Cannot read the guest");
                        }
                        ne++;
                }
        } else {
                struct vs_guest_info *v = NULL;
                size_t nv = 0;
                int r = vs_guest_list(&v, &nv);
                if (r < 0)
                        return cmd_fail(r, NULL, "Cannot list the guests");
                e = calloc(nv + 1, sizeof(*e));
                if (!e) {
                        for (size_t i = 0; i < nv; i++)
                                vs_guest_info_clear(&v[i]);
                        free(v);
                        return cmd_fail(-ENOMEM, NULL, "Cannot gather the figures");
                }
                for (; ne < nv; ne++)
                        e[ne].info = v[ne];
                free(v);
        }

        struct vs_prom_guest *g = calloc(ne + 1, sizeof(*g));
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *mem = g ? open_memstream(&text, &len) : NULL;
        if (!mem) {
                free(g);
                entries_free(e, ne);
                return cmd_fail(-ENOMEM, NULL, "Cannot gather the figures");
        }
        for (size_t i = 0; i < ne; i++) {
                entry_fill(&e[i]);
                g[i] = e[i].g;
        }
        vs_prom_write(mem, g, ne);
        int r = fclose(mem) == 0 && text ? 0 : -ENOMEM;
        free(g);
        entries_free(e, ne);
        if (r < 0)
                return cmd_fail(r, NULL, "Cannot gather the figures");

        if (!output) {
                fwrite(text, 1, len, stdout);
                if (fflush(stdout) != 0 || ferror(stdout))
                        return cmd_fail(errno ? -errno : -EIO, NULL, "Cannot write the figures");
                return VS_EXIT_OK;
        }
        /* No fsync: the file is rewritten every few seconds and a reboot
         * makes it stale anyway; the rename alone keeps readers from a torn
         * file. Mode 0644: the node exporter does not run as root. */
        r = vs_write_file_replace(output, text, 0644);
        if (r < 0) {
                log_error_errno(r, "Cannot write \"%s\": %m", output);
                return VS_EXIT_FAILURE;
        }
        return VS_EXIT_OK;
}
