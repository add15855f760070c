/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <getopt.h>

#include "cmd.h"

static void help(void)
{
        printf("Usage: vs-status [OPTIONS] NAME\n"
               "Tell whether a guest runs. Exit status 0: running, 3: not running\n"
               "(stopped, starting, or stale: its supervisor died). A second line tells\n"
               "whether it is privileged or unprivileged, with its host id range.\n\n"
               "  -j, --json     print one JSON object (the fields of vs-list --json)\n"
               "  -q, --quiet    print nothing, only set the exit status\n"
               "  -h, --help     show this help\n"
               "      --version  show the version\n\n"
               "See vs-status(8).\n");
}

int main(int argc, char **argv)
{
        static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
                                              { "quiet", no_argument, NULL, 'q' },
                                              CMD_COMMON_OPTIONS };
        struct vs_error err = { 0 };
        struct vs_guest_info info = { 0 };
        bool quiet = false, json = false;
        int c, r;

        cmd_init(argv[0]);
        while ((c = getopt_long(argc, argv, "jqh", opts, NULL)) >= 0) {
                switch (c) {
                case 'j': json = true; break;
                case 'q': quiet = true; break;
                CMD_COMMON_CASES(help);
                }
        }
        if (!cmd_one_name(argc, argv))
                return VS_EXIT_USAGE;
        cmd_need_root();
        r = vs_guest_info(argv[optind], &info, &err);
        if (r < 0)
                return cmd_fail(r, &err, "Cannot tell the guest's state");
        if (json && !quiet) {
                vs_guest_info_json(stdout, &info);
                putchar('\n');
        } else if (!quiet) {
                if (info.state == VS_GUEST_RUNNING)
                        printf("%s: running, init pid %d, supervisor pid %d\n", info.name, (int)info.init_pid,
                               (int)info.supervisor_pid);
                else if (info.state == VS_GUEST_STALE)
                        printf("%s: stale (its supervisor died; vs-start or vs-stop clears what it left)\n",
                               info.name);
                else
                        printf("%s: %s\n", info.name, vs_guest_state_name(info.state));
                if (!info.unprivileged)
                        printf("%s: privileged\n", info.name);
                else if (!info.idmap_count)
                        printf("%s: unprivileged, host ids auto (chosen at its first start)\n", info.name);
                else
                        printf("%s: unprivileged, host ids %llu:%llu\n", info.name,
                               (unsigned long long)info.idmap_host, (unsigned long long)info.idmap_count);
        }
        r = info.state == VS_GUEST_RUNNING ? VS_EXIT_OK : VS_EXIT_NOT_RUNNING;
        vs_guest_info_clear(&info);
        return r;
}
