/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vs-stat --prometheus's formatter on made-up guests: label escaping, each
 * family's HELP and TYPE once with its samples grouped after them, counters
 * named _total, stopped guests without runtime figures. */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "stat-prom.h"
#include "tap.h"

static char *render(const struct vs_prom_guest *g, size_t n)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                abort();
        vs_prom_write(f, g, n);
        fclose(f);
        return text;
}

static char *escaped(const char *s)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                abort();
        vs_prom_label_value(f, s);
        fclose(f);
        return text;
}

/* Occurrences of the line @line in @text. */
static int count_lines(const char *text, const char *line)
{
        size_t l = strlen(line);
        int n = 0;
        for (const char *p = text; *p;) {
                const char *e = strchr(p, '\n');
                size_t len = e ? (size_t)(e - p) : strlen(p);
                if (len == l && !strncmp(p, line, l))
                        n++;
                p += len + (e ? 1 : 0);
        }
        return n;
}

static void escaping(void)
{
        static const struct { const char *in, *out; } cases[] = {
                { "web-1", "web-1" },
                { "a\"b", "a\\\"b" },
                { "a\\b", "a\\\\b" },
                { "a\nb", "a\\nb" },
                { "\\\"\n", "\\\\\\\"\\n" },
                { "", "" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                _cleanup_free_ char *got = escaped(cases[i].in);
                tap_is_str(got, cases[i].out, "label value %zu is escaped as the text format wants", i);
        }
}

/* Walks the exposition: every family's HELP then TYPE, each once, then only
 * its own samples; counters end in _total. */
static void structure(const char *text)
{
        char family[128] = "", type[128] = "";
        int bad_order = 0, bad_sample = 0, bad_counter = 0, families = 0, dup = 0;
        char seen[64][128];
        int nseen = 0;
        _cleanup_free_ char *copy = strdup(text);

        for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char name[128], rest[128];
                if (sscanf(l, "# HELP %127s", name) == 1) {
                        for (int i = 0; i < nseen; i++)
                                dup += !strcmp(seen[i], name);
                        if (nseen < 64)
                                snprintf(seen[nseen++], sizeof(seen[0]), "%s", name);
                        snprintf(family, sizeof(family), "%s", name);
                        type[0] = '\0';
                        families++;
                } else if (sscanf(l, "# TYPE %127s %127s", name, rest) == 2) {
                        if (strcmp(name, family) || type[0])
                                bad_order++;
                        snprintf(type, sizeof(type), "%s", rest);
                        size_t n = strlen(name);
                        if (!strcmp(rest, "counter") != (n > 6 && !strcmp(name + n - 6, "_total")))
                                bad_counter++;
                } else {
                        size_t n = strcspn(l, "{ ");
                        if (!type[0] || strlen(family) != n || strncmp(l, family, n))
                                bad_sample++;
                }
        }
        tap_ok(families > 0, "the exposition has families (%d)", families);
        tap_is_int(dup, 0, "no family's HELP is given twice");
        tap_is_int(bad_order, 0, "each HELP is followed by its own TYPE, once");
        tap_is_int(bad_sample, 0, "every sample follows its own family's HELP and TYPE");
        tap_is_int(bad_counter, 0, "counters, and only they, are named _total");
}

int main(void)
{
        struct vs_guest_stats s1 = {
                .name = (char *)"web", .cpu_usec = 1500000, .rss_bytes = 1 << 20, .anon_bytes = 4096,
                .memlock_bytes = 8192, .pids = 7, .oom_kills = 3, .anon_kills = 1, .net_rx_bytes = 100,
                .net_tx_bytes = 200, .net_filtered = true, .net_dropped = 5, .disk_used = 4096,
                .io_read_bytes = 11, .io_write_bytes = 22,
        };
        struct vs_guest_stats s2 = { .name = (char *)"q\"x", .cpu_usec = 42, .pids = 1 };
        struct vs_prom_guest g[] = {
                { .name = "web", .state = VS_GUEST_RUNNING, .started = 1700000000, .stats = &s1, .net = true,
                  .rss_limit = 128 << 20, .pids_limit = 40 },
                { .name = "q\"x", .state = VS_GUEST_RUNNING, .started = 1700000001, .stats = &s2 },
                { .name = "off", .state = VS_GUEST_STOPPED, .rss_limit = 64 << 20 },
        };
        _cleanup_free_ char *text = render(g, 3);

        escaping();
        structure(text);
        tap_is_int(count_lines(text, "# TYPE vserver_guest_up gauge"), 1, "one TYPE for vserver_guest_up");
        tap_is_int(count_lines(text, "# TYPE vserver_guest_cpu_seconds_total counter"), 1,
                   "one TYPE for the CPU counter over two guests");
        tap_is_int(count_lines(text, "vserver_guest_up{guest=\"web\"} 1"), 1, "a running guest is up");
        tap_is_int(count_lines(text, "vserver_guest_up{guest=\"off\"} 0"), 1, "a stopped guest is listed, not up");
        tap_is_int(count_lines(text, "vserver_guest_up{guest=\"q\\\"x\"} 1"), 1, "a name's quote is escaped in the label");
        tap_is_int(count_lines(text, "vserver_guest_state{guest=\"off\",state=\"stopped\"} 1"), 1,
                   "the stopped guest's state series is 1");
        tap_is_int(count_lines(text, "vserver_guest_state{guest=\"off\",state=\"running\"} 0"), 1,
                   "and its running series 0");
        tap_is_int(count_lines(text, "vserver_guest_cpu_seconds_total{guest=\"web\"} 1.500000"), 1,
                   "CPU time in seconds");
        tap_is_int(count_lines(text, "vserver_guest_cpu_seconds_total{guest=\"q\\\"x\"} 0.000042"), 1,
                   "small CPU times keep their microseconds");
        tap_is_int(count_lines(text, "vserver_guest_oom_kills_total{guest=\"web\"} 2"), 1,
                   "OOM kills without the ANON kills");
        tap_is_int(count_lines(text, "vserver_guest_anon_kills_total{guest=\"web\"} 1"), 1, "ANON kills alone");
        tap_is_int(count_lines(text, "vserver_guest_network_receive_bytes_total{guest=\"web\"} 100"), 1,
                   "network bytes for a guest with a network");
        tap_ok(!strstr(text, "vserver_guest_network_receive_bytes_total{guest=\"q"),
               "no network counters for a guest without a network");
        tap_is_int(count_lines(text, "vserver_guest_network_spoofed_dropped_packets_total{guest=\"web\"} 5"), 1,
                   "dropped spoofed packets");
        tap_is_int(count_lines(text, "vserver_guest_start_time_seconds{guest=\"web\"} 1700000000"), 1,
                   "start time as Unix time");
        tap_ok(!strstr(text, "guest=\"off\"} 0\nvserver_guest_cpu") && !strstr(text, "_total{guest=\"off\"}") &&
                       !strstr(text, "rss_bytes{guest=\"off\"}") && !strstr(text, "start_time_seconds{guest=\"off\"}"),
               "a stopped guest has no runtime figures");
        tap_is_int(count_lines(text, "vserver_guest_memory_rss_limit_bytes{guest=\"off\"} 67108864"), 1,
                   "a stopped guest's limits are listed");
        tap_ok(!strstr(text, "vserver_guest_memory_anon_limit_bytes"), "a family no guest has is left out");
        tap_ok(!strstr(text, "vserver_guest_disk_size_bytes"), "no image size without an image");

        _cleanup_free_ char *none = render(NULL, 0);
        tap_is_str(none, "", "no guests: an empty exposition");
        return tap_done();
}
