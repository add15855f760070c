/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <getopt.h>

#include "cmd.h"

static void help(void)
{
        printf("Usage: vs-console [OPTIONS] NAME\n"
               "Attach to the console (/dev/console) of a running guest. What the\n"
               "console showed recently is replayed first. Detach with Ctrl-].\n\n"
               "  -h, --help     show this help\n"
               "      --version  show the version\n\n"
               "See vs-console(8).\n");
}

int main(int argc, char **argv)
{
        static const struct option opts[] = { CMD_COMMON_OPTIONS };
        struct vs_error err = { 0 };
        int c, r;

        cmd_init(argv[0]);
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                CMD_COMMON_CASES(help);
                }
        }
        if (!cmd_one_name(argc, argv))
                return VS_EXIT_USAGE;
        cmd_need_root();
        r = vs_guest_console(argv[optind], &err);
        if (r < 0)
                return cmd_fail(r, &err, "Console failed");
        return VS_EXIT_OK;
}
