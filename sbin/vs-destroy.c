/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <getopt.h>

#include "cmd.h"

static void help(void)
{
        printf("Usage: vs-destroy [OPTIONS] NAME\n"
               "Remove a guest: its configuration, root filesystem and logs.\n\n"
               "  -f, --force    stop the guest first if it is running\n"
               "  -h, --help     show this help\n"
               "      --version  show the version\n\n"
               "See vs-destroy(8).\n");
}

int main(int argc, char **argv)
{
        static const struct option opts[] = { { "force", no_argument, NULL, 'f' },
                                              CMD_COMMON_OPTIONS };
        struct vs_error err = { 0 };
        bool force = false;
        int c, r;

        cmd_init(argv[0]);
        while ((c = getopt_long(argc, argv, "fh", opts, NULL)) >= 0) {
                switch (c) {
                case 'f': force = true; break;
                CMD_COMMON_CASES(help);
                }
        }
        if (!cmd_one_name(argc, argv))
                return VS_EXIT_USAGE;
        cmd_need_root();
        r = vs_guest_destroy(argv[optind], force, &err);
        if (r < 0)
                return cmd_fail(r, &err, "Destroy failed");
        return VS_EXIT_OK;
}
