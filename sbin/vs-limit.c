/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <getopt.h>

#include "cmd.h"
#include "cleanup.h"
#include "config.h"

static void help(void)
{
        printf("Usage: vs-limit [OPTIONS] NAME KEY=VALUE...\n"
               "       vs-limit --json NAME\n"
               "Change a guest's limits. A running guest gets them at once; the\n"
               "config keeps them (a stopped guest's config only).\n\n"
               "Keys: cpu.weight (1..10000), cpu.max (e.g. 50%%), cpu.cpus (e.g. 0-1),\n"
               "      rss, anon, memlock (sizes: K, M, G, T), pids (a count).\n"
               "      memory.rss, memory.anon, memory.memlock, memory.pids and\n"
               "      weight, cpus are accepted too.\n"
               "      disk (a size): an image's size (stopped guests, growing only),\n"
               "      or the project quota of a dir or shared guest (live).\n\n"
               "      io.weight (1..10000), io.read_bps, io.write_bps (sizes per\n"
               "      second), io.read_iops, io.write_iops (requests per second);\n"
               "      0 lifts an I/O limit.\n\n"
               "  -j, --json     print one JSON object: the keys changed and the\n"
               "                 guest's limits after the change (without KEY=VALUE:\n"
               "                 its limits now, changing nothing)\n"
               "  -n, --dry-run  check the values and show the result, change nothing\n"
               "  -h, --help     show this help\n"
               "      --version  show the version\n\n"
               "See vs-limit(8).\n");
}

int main(int argc, char **argv)
{
        static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
                                              { "dry-run", no_argument, NULL, 'n' },
                                              CMD_COMMON_OPTIONS };
        struct vs_error err = { 0 };
        _cleanup_config_ struct vs_config *c = NULL;
        _cleanup_strv_free_ char **keys = NULL;
        bool json = false, dry_run = false;
        char **assignments;
        int c_, r;

        cmd_init(argv[0]);
        while ((c_ = getopt_long(argc, argv, "+jnh", opts, NULL)) >= 0) {
                switch (c_) {
                case 'j': json = true; break;
                case 'n': dry_run = true; break;
                CMD_COMMON_CASES(help);
                }
        }
        if (optind >= argc)
                return cmd_usage_error("Missing guest name");
        if (optind + 1 >= argc && !json)
                return cmd_usage_error("Nothing to change: give KEY=VALUE");
        assignments = argv + optind + 1;
        if (!dry_run && assignments[0])
                cmd_need_root();
        /* Validated first, so nothing changes unless all of it is valid. */
        r = vs_guest_limit_preview(argv[optind], assignments, &c, &keys, &err);
        if (r < 0)
                return cmd_fail(r, &err, "Cannot change the limits");
        if (!dry_run && assignments[0]) {
                r = vs_guest_limit(argv[optind], assignments, cmd_say, NULL, &err);
                if (r < 0)
                        return cmd_fail(r, &err, "Cannot change the limits");
        }
        if (json)
                vs_guest_limits_json(stdout, argv[optind], c, keys, dry_run);
        return VS_EXIT_OK;
}
