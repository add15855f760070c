/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <getopt.h>

#include "cmd.h"
#include "util.h"

static void help(void)
{
        printf("Usage: vs-stop [OPTIONS] NAME\n"
               "Shut a guest down cleanly: send its init the halt signal it expects,\n"
               "wait, then kill every process of the guest.\n\n"
               "  -t, --timeout SEC  how long to wait for a clean shutdown (default: 30)\n"
               "  -h, --help         show this help\n"
               "      --version      show the version\n\n"
               "See vs-stop(8).\n");
}

int main(int argc, char **argv)
{
        static const struct option opts[] = { { "timeout", required_argument, NULL, 't' },
                                              { "help", no_argument, NULL, 'h' },
                                              { "version", no_argument, NULL, 'V' },
                                              {} };
        struct vs_error err = { { 0 } };
        uint64_t timeout = 30;
        int c, r;

        vs_log_init(argv[0]);
        while ((c = getopt_long(argc, argv, "t:h", opts, NULL)) >= 0) {
                switch (c) {
                case 't':
                        if (vs_parse_uint(optarg, 0, 86400, &timeout) < 0)
                                return cmd_usage_error("Bad --timeout \"%s\" (seconds, 0 to 86400)", optarg);
                        break;
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
        r = vs_guest_stop(argv[optind], (unsigned)timeout, &err);
        if (r < 0)
                return cmd_fail(r, &err, "Stop failed");
        return VS_EXIT_OK;
}
