/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <getopt.h>

#include "cmd.h"

static void help(void)
{
        printf("Usage: vs-enter [OPTIONS] NAME [-- COMMAND [ARG...]]\n"
               "Run COMMAND (default: a root login shell) inside a running guest: in\n"
               "all its namespaces and cgroups, with its capabilities, a clean\n"
               "environment, in a session of its own. Its stdin, stdout and stderr\n"
               "are a new pty of the guest where ours are a terminal, pipes elsewhere;\n"
               "vs-enter relays. The exit status is the command's.\n\n"
               "  -h, --help     show this help\n"
               "      --version  show the version\n\n"
               "See vs-enter(8).\n");
}

int main(int argc, char **argv)
{
        static const struct option opts[] = { CMD_COMMON_OPTIONS };
        struct vs_error err = { 0 };
        const char *name;
        int c, r, status = 0;

        cmd_init(argv[0]);
        /* "+": stop at the name, so the command's own options stay its own. */
        while ((c = getopt_long(argc, argv, "+h", opts, NULL)) >= 0) {
                switch (c) {
                CMD_COMMON_CASES(help);
                }
        }
        if (optind >= argc)
                return cmd_usage_error("Missing guest name");
        name = argv[optind++];
        if (optind < argc && strcmp(argv[optind], "--") == 0)
                optind++;
        cmd_need_root();
        r = vs_guest_enter(name, optind < argc ? argv + optind : NULL, &err, &status);
        if (r < 0)
                return cmd_fail(r, &err, "Enter failed");
        return status;
}
