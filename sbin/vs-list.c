/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <getopt.h>
#include <time.h>

#include "cmd.h"

static void help(void)
{
        printf("Usage: vs-list [OPTIONS]\n"
               "List the guests: name, state, init pid, address, uptime, autostart, order\n"
               "and user namespace (no: privileged; auto or HOSTID:COUNT: unprivileged).\n\n"
               "  -j, --json     print a JSON array instead of a table\n"
               "  -h, --help     show this help\n"
               "      --version  show the version\n\n"
               "See vs-list(8).\n");
}

static void uptime(time_t started, char *buf, size_t len)
{
        long s = (long)(time(NULL) - started);
        if (s < 0)
                s = 0;
        if (s < 60)
                snprintf(buf, len, "%lds", s);
        else if (s < 3600)
                snprintf(buf, len, "%ldm%02lds", s / 60, s % 60);
        else if (s < 86400)
                snprintf(buf, len, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
        else
                snprintf(buf, len, "%ldd%02ldh", s / 86400, (s % 86400) / 3600);
}

/* "no" for a privileged guest, else its host id range or "auto". */
static void userns_text(const struct vs_guest_info *i, char *buf, size_t len)
{
        if (!i->unprivileged)
                snprintf(buf, len, "no");
        else if (!i->idmap_count)
                snprintf(buf, len, "auto");
        else
                snprintf(buf, len, "%llu:%llu", (unsigned long long)i->idmap_host, (unsigned long long)i->idmap_count);
}

int main(int argc, char **argv)
{
        static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
                                              CMD_COMMON_OPTIONS };
        struct vs_guest_info *v = NULL;
        bool json = false;
        size_t n = 0;
        int c, r;

        cmd_init(argv[0]);
        while ((c = getopt_long(argc, argv, "jh", opts, NULL)) >= 0) {
                switch (c) {
                case 'j': json = true; break;
                CMD_COMMON_CASES(help);
                }
        }
        if (optind < argc)
                return cmd_usage_error("Unexpected argument \"%s\"", argv[optind]);
        cmd_need_root();
        r = vs_guest_list(&v, &n);
        if (r < 0)
                return cmd_fail(r, NULL, "Cannot list the guests");
        if (json) {
                putchar('[');
                for (size_t i = 0; i < n; i++) {
                        if (i)
                                putchar(',');
                        vs_guest_info_json(stdout, &v[i]);
                }
                puts("]");
        } else {
                printf("%-24s %-8s %8s %-18s %-8s %-9s %-5s %s\n", "NAME", "STATE", "PID", "ADDRESS", "UPTIME",
                       "AUTOSTART", "ORDER", "USERNS");
                for (size_t i = 0; i < n; i++) {
                        char pid[16] = "-", up[32] = "-", ns[48];
                        if (v[i].state == VS_GUEST_RUNNING) {
                                snprintf(pid, sizeof(pid), "%d", (int)v[i].init_pid);
                                uptime(v[i].started, up, sizeof(up));
                        }
                        userns_text(&v[i], ns, sizeof(ns));
                        printf("%-24s %-8s %8s %-18s %-8s %-9s %-5llu %s\n", v[i].name,
                               vs_guest_state_name(v[i].state), pid, v[i].address ? v[i].address : "-", up,
                               v[i].autostart ? "yes" : "no", (unsigned long long)v[i].order, ns);
                }
        }
        for (size_t i = 0; i < n; i++)
                vs_guest_info_clear(&v[i]);
        free(v);
        return VS_EXIT_OK;
}
