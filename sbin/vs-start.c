/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <getopt.h>

#include "cmd.h"

static void help(void)
{
        printf("Usage: vs-start [OPTIONS] NAME\n"
               "Boot a guest: its own init as PID 1 in new namespaces, owned by a\n"
               "supervisor process. Returns once the guest's init runs.\n\n"
               "  -F, --foreground   stay attached: the console on stdin/stdout, return\n"
               "                     when the guest's init exits (with its exit status)\n"
               "  -n, --dry-run      print the cgroups and the mount plan, start nothing\n"
               "  -h, --help         show this help\n"
               "      --version      show the version\n\n"
               "See vs-start(8).\n");
}

int main(int argc, char **argv)
{
        static const struct option opts[] = { { "foreground", no_argument, NULL, 'F' },
                                              { "dry-run", no_argument, NULL, 'n' },
                                              { "help", no_argument, NULL, 'h' },
                                              { "version", no_argument, NULL, 'V' },
                                              {} };
        struct vs_start_opts o = { 0 };
        struct vs_error err = { { 0 } };
        int c, r, exit_code = 0;

        vs_log_init(argv[0]);
        while ((c = getopt_long(argc, argv, "Fnh", opts, NULL)) >= 0) {
                switch (c) {
                case 'F': o.foreground = true; break;
                case 'n': o.dry_run = true; break;
                case 'h': help(); return VS_EXIT_OK;
                case 'V': CMD_VERSION();
                default: return VS_EXIT_USAGE;
                }
        }
        if (optind >= argc)
                return cmd_usage_error("Missing guest name");
        if (optind + 1 < argc)
                return cmd_usage_error("Unexpected argument \"%s\"", argv[optind + 1]);
        cmd_need_root();
        r = vs_guest_start(argv[optind], &o, &err, &exit_code);
        if (r < 0)
                return cmd_fail(r, &err, "Start failed");
        return o.foreground ? exit_code : VS_EXIT_OK;
}
