/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <getopt.h>

#include "cmd.h"

static void help(void)
{
        printf("Usage: vs-limit NAME KEY=VALUE...\n"
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
               "  -h, --help     show this help\n"
               "      --version  show the version\n\n"
               "See vs-limit(8).\n");
}

int main(int argc, char **argv)
{
        static const struct option opts[] = { { "help", no_argument, NULL, 'h' },
                                              { "version", no_argument, NULL, 'V' },
                                              {} };
        struct vs_error err = { { 0 } };
        int c, r;

        vs_log_init(argv[0]);
        while ((c = getopt_long(argc, argv, "+h", opts, NULL)) >= 0) {
                switch (c) {
                case 'h': help(); return VS_EXIT_OK;
                case 'V': CMD_VERSION();
                default: return VS_EXIT_USAGE;
                }
        }
        if (optind >= argc)
                return cmd_usage_error("Missing guest name");
        if (optind + 1 >= argc)
                return cmd_usage_error("Nothing to change: give KEY=VALUE");
        cmd_need_root();
        r = vs_guest_limit(argv[optind], argv + optind + 1, &err);
        if (r < 0)
                return cmd_fail(r, &err, "Cannot change the limits");
        return VS_EXIT_OK;
}
