/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <getopt.h>
#include <signal.h>
#include <time.h>

#include "cmd.h"
#include "stat-prom.h"
#include "util.h"

static void help(void)
{
        printf("Usage: vs-stat [OPTIONS] [NAME...]\n"
               "Show what running guests use: CPU %% (over the last interval), CPU\n"
               "seconds, RSS, ANON and locked memory, processes, OOM kills, network\n"
               "bytes received and sent and their rates (bits/s over the interval),\n"
               "the packets its anti-spoofing rules dropped, and the bytes read from\n"
               "and written to the guest's disk and their rates (bytes/s over the\n"
               "interval).\n\n"
               "  -j, --json           print a JSON array\n"
               "  -p, --prometheus     print the Prometheus text format: every guest\n"
               "                       (running or not) unless NAMEs are given\n"
               "  -o, --output FILE    with --prometheus: write FILE atomically (for the\n"
               "                       node exporter's textfile collector)\n"
               "  -w, --watch          refresh like top until interrupted\n"
               "  -i, --interval SEC   sampling interval (default 1 for -w, 0.5 otherwise)\n"
               "  -h, --help           show this help\n"
               "      --version        show the version\n\n"
               "See vs-stat(8).\n");
}

/* Bits per second of a network rate, the way tc writes them. */
static char *bits(double v, char *buf, size_t len)
{
        static const char *const units[] = { "bit", "kbit", "mbit", "gbit" };
        int u = 0;
        while (v >= 1000 && u < 3) {
                v /= 1000;
                u++;
        }
        snprintf(buf, len, u ? "%.1f%s" : "%.0f%s", v, units[u]);
        return buf;
}

struct sample {
        struct vs_guest_stats s;
        bool ok;
};

static size_t collect(char **names, size_t n, struct sample *out)
{
        for (size_t i = 0; i < n; i++)
                out[i].ok = vs_guest_stats(names[i], &out[i].s, NULL) == 0;
        return n;
}

/* The rate between the previous sample @prev and @now bytes, in bits/s. */
static double bps(const struct sample *prev, uint64_t now, bool rx, double dt_usec)
{
        uint64_t then = rx ? prev->s.net_rx_bytes : prev->s.net_tx_bytes;
        if (!prev->ok || now < then || dt_usec <= 0)
                return 0;
        return (double)(now - then) * 8.0 * 1e6 / dt_usec;
}

/* Packets the anti-spoofing rules dropped, or @none for a guest without them. */
static const char *dropped(const struct vs_guest_stats *s, char *buf, size_t len, const char *none)
{
        if (!s->net_filtered)
                return none;
        snprintf(buf, len, "%llu", (unsigned long long)s->net_dropped);
        return buf;
}

/* Bytes per second between two counter readings. */
static double per_sec(bool prev_ok, uint64_t then, uint64_t now, double dt_usec)
{
        if (!prev_ok || now < then || dt_usec <= 0)
                return 0;
        return (double)(now - then) * 1e6 / dt_usec;
}

static volatile sig_atomic_t stop;
static void on_int(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv)
{
        static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
                                              { "watch", no_argument, NULL, 'w' },
                                              { "prometheus", no_argument, NULL, 'p' },
                                              { "output", required_argument, NULL, 'o' },
                                              { "interval", required_argument, NULL, 'i' },
                                              CMD_COMMON_OPTIONS };
        bool json = false, watch = false, prom = false;
        const char *output = NULL;
        double interval = -1;
        char **names = NULL;
        size_t n = 0;
        int c;

        cmd_init(argv[0]);
        while ((c = getopt_long(argc, argv, "jwpo:i:h", opts, NULL)) >= 0) {
                switch (c) {
                case 'j': json = true; break;
                case 'w': watch = true; break;
                case 'p': prom = true; break;
                case 'o': output = optarg; break;
                case 'i': {
                        char *e;
                        interval = strtod(optarg, &e);
                        if (*e || interval < 0.05 || interval > 3600)
                                return cmd_usage_error("Bad --interval \"%s\" (seconds, 0.05 to 3600)", optarg);
                        break;
                }
                CMD_COMMON_CASES(help);
                }
        }
        if (output && !prom)
                return cmd_usage_error("--output goes with --prometheus");
        if (prom && (json || watch || interval >= 0))
                return cmd_usage_error("--prometheus goes with none of --json, --watch, --interval");
        if (interval < 0)
                interval = watch ? 1.0 : 0.5;
        if (output && !*output)
                return cmd_usage_error("Empty --output file name");
        cmd_need_root();
        /* One reading, no interval: rates are Prometheus' own business. */
        if (prom)
                return vs_prom_main(argv + optind, (size_t)(argc - optind), output);
        if (optind < argc) {
                for (int i = optind; i < argc; i++) {
                        struct vs_error err = { 0 };
                        struct vs_guest_info info;
                        int r = vs_guest_info(argv[i], &info, &err);
                        if (r < 0)
                                return cmd_fail(r, &err, "Cannot read the guest");
                        vs_guest_info_clear(&info);
                }
                names = argv + optind;
                n = (size_t)(argc - optind);
        } else {
                struct vs_guest_info *v = NULL;
                size_t nv = 0;
                if (vs_guest_list(&v, &nv) < 0)
                        return cmd_fail(-EIO, NULL, "Cannot list the guests");
                names = calloc(nv + 1, sizeof(char *));
                for (size_t i = 0; i < nv; i++)
                        if (v[i].state == VS_GUEST_RUNNING)
                                names[n++] = strdup(v[i].name);
        }
        signal(SIGINT, on_int);
        signal(SIGTERM, on_int);
        struct sample *a = calloc(n + 1, sizeof(*a)), *b = calloc(n + 1, sizeof(*b));
        collect(names, n, a);
        do {
                uint64_t t0 = vs_now_usec();
                struct timespec ts = { (time_t)interval, (long)((interval - (time_t)interval) * 1e9) };
                nanosleep(&ts, NULL);
                collect(names, n, b);
                double dt = (double)(vs_now_usec() - t0);
                if (watch && !json)
                        printf("\033[H\033[2J");
                if (json) {
                        putchar('[');
                        bool first = true;
                        for (size_t i = 0; i < n; i++) {
                                if (!b[i].ok)
                                        continue;
                                const struct vs_guest_stats *s = &b[i].s;
                                char drop[24];
                                printf("%s{\"name\":\"%s\",\"cpu_usec\":%llu,\"cpu_percent\":%.1f,\"rss_bytes\":%llu,"
                                       "\"anon_bytes\":%llu,\"memlock_bytes\":%llu,\"pids\":%llu,\"oom_kills\":%llu,"
                                       "\"disk_used_bytes\":%llu,\"disk_size_bytes\":%llu,"
                                       "\"net_rx_bytes\":%llu,\"net_tx_bytes\":%llu,\"net_rx_bps\":%.0f,\"net_tx_bps\":%.0f,"
                                       "\"net_dropped\":%s,"
                                       "\"io_read_bytes\":%llu,\"io_write_bytes\":%llu,"
                                       "\"io_read_bytes_per_sec\":%.0f,\"io_write_bytes_per_sec\":%.0f,\"anon_kills\":%llu}",
                                       first ? "" : ",", s->name, (unsigned long long)s->cpu_usec,
                                       a[i].ok ? 100.0 * (double)(s->cpu_usec - a[i].s.cpu_usec) / dt : 0.0,
                                       (unsigned long long)s->rss_bytes, (unsigned long long)s->anon_bytes,
                                       (unsigned long long)s->memlock_bytes, (unsigned long long)s->pids,
                                       (unsigned long long)s->oom_kills, (unsigned long long)s->disk_used,
                                       (unsigned long long)s->disk_size, (unsigned long long)s->net_rx_bytes,
                                       (unsigned long long)s->net_tx_bytes, bps(&a[i], s->net_rx_bytes, true, dt),
                                       bps(&a[i], s->net_tx_bytes, false, dt), dropped(s, drop, sizeof(drop), "null"),
                                       (unsigned long long)s->io_read_bytes, (unsigned long long)s->io_write_bytes,
                                       per_sec(a[i].ok, a[i].s.io_read_bytes, s->io_read_bytes, dt),
                                       per_sec(a[i].ok, a[i].s.io_write_bytes, s->io_write_bytes, dt),
                                       (unsigned long long)s->anon_kills);
                                first = false;
                        }
                        puts("]");
                } else {
                        printf("%-24s %6s %10s %9s %9s %9s %6s %5s %17s %9s %9s %9s %9s %7s %9s %9s %9s %9s\n",
                               "NAME", "CPU%", "CPU-SEC", "RSS", "ANON", "MEMLOCK", "PIDS", "OOM", "DISK", "NET-RX",
                               "NET-TX", "RX/s", "TX/s", "DROPPED", "IO-READ", "IO-WRITE", "READ/s", "WRITE/s");
                        for (size_t i = 0; i < n; i++) {
                                char r1[16], r2[16], r3[16], d1[16], d2[16], disk[40], n1[16], n2[16], n3[16], n4[16];
                                char drop[24], i1[16], i2[16], i3[16], i4[16];
                                const struct vs_guest_stats *s = &b[i].s;
                                if (!b[i].ok)
                                        continue;
                                vs_human_size(s->disk_used, d1, sizeof(d1));
                                if (s->disk_size)
                                        snprintf(disk, sizeof(disk), "%s/%s", d1, vs_human_size(s->disk_size, d2, sizeof(d2)));
                                else
                                        snprintf(disk, sizeof(disk), "%s", d1);
                                printf("%-24s %6.1f %10.2f %9s %9s %9s %6llu %5llu %17s %9s %9s %9s %9s %7s %9s %9s %9s "
                                       "%9s\n",
                                       s->name,
                                       a[i].ok ? 100.0 * (double)(s->cpu_usec - a[i].s.cpu_usec) / dt : 0.0,
                                       (double)s->cpu_usec / 1e6, vs_human_size(s->rss_bytes, r1, sizeof(r1)),
                                       vs_human_size(s->anon_bytes, r2, sizeof(r2)), vs_human_size(s->memlock_bytes, r3, sizeof(r3)),
                                       (unsigned long long)s->pids, (unsigned long long)s->oom_kills, disk,
                                       vs_human_size(s->net_rx_bytes, n1, sizeof(n1)), vs_human_size(s->net_tx_bytes, n2, sizeof(n2)),
                                       bits(bps(&a[i], s->net_rx_bytes, true, dt), n3, sizeof(n3)),
                                       bits(bps(&a[i], s->net_tx_bytes, false, dt), n4, sizeof(n4)),
                                       dropped(s, drop, sizeof(drop), "-"),
                                       vs_human_size(s->io_read_bytes, i1, sizeof(i1)),
                                       vs_human_size(s->io_write_bytes, i2, sizeof(i2)),
                                       vs_human_size((uint64_t)per_sec(a[i].ok, a[i].s.io_read_bytes, s->io_read_bytes, dt),
                                                     i3, sizeof(i3)),
                                       vs_human_size((uint64_t)per_sec(a[i].ok, a[i].s.io_write_bytes, s->io_write_bytes, dt),
                                                     i4, sizeof(i4)));
                        }
                }
                fflush(stdout);
                for (size_t i = 0; i < n; i++) {
                        if (a[i].ok)
                                free(a[i].s.name);
                        a[i] = b[i];
                        b[i].ok = false;
                }
        } while (watch && !stop);
        return VS_EXIT_OK;
}
