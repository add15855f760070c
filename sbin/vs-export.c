/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <getopt.h>

#include "cmd.h"
#include "guest.h"

static void help(void)
{
        printf("Usage: vs-export [OPTIONS] NAME > FILE.tar.zst\n"
               "Write a guest's root filesystem as a tarball to standard output, with\n"
               "numeric owners, modes, ACLs, extended attributes and file capabilities,\n"
               "ready for vs-build --from-tar.\n\n"
               "  -c, --compress KIND   zstd (default), gzip, xz or none\n"
               "  -f, --force           export a running guest, frozen meanwhile\n"
               "  -h, --help            show this help\n"
               "      --version         show the version\n\n"
               "See vs-export(8).\n");
}

int main(int argc, char **argv)
{
        static const struct option opts[] = { { "compress", required_argument, NULL, 'c' },
                                              { "force", no_argument, NULL, 'f' },
                                              CMD_COMMON_OPTIONS };
        struct vs_error err = { 0 };
        const char *compress = "zstd";
        bool force = false;
        int c, r;

        cmd_init(argv[0]);
        while ((c = getopt_long(argc, argv, "c:fh", opts, NULL)) >= 0) {
                switch (c) {
                case 'c': compress = optarg; break;
                case 'f': force = true; break;
                CMD_COMMON_CASES(help);
                }
        }
        if (!cmd_one_name(argc, argv))
                return VS_EXIT_USAGE;
        if (isatty(1))
                return cmd_usage_error("Standard output is a terminal: redirect it to a file");
        cmd_need_root();
        r = vs_guest_export(argv[optind], force, compress, 1, &err);
        if (r < 0)
                return cmd_fail(r, &err, "Export failed");
        return VS_EXIT_OK;
}
