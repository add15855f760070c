/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <getopt.h>

#include "batch.h"
#include "cmd.h"
#include "util.h"

static void help(void)
{
        printf("Usage: vs-stop [OPTIONS] NAME\n"
               "       vs-stop --all\n"
               "Shut a guest down cleanly: send its init the halt signal it expects,\n"
               "wait, then kill every process of the guest.\n\n"
               "  -t, --timeout SEC  how long to wait for a clean shutdown (default: the\n"
               "                     guest's stop_timeout, 60 unless set)\n"
               "  -a, --all          stop every running guest, in reverse start order,\n"
               "                     each within its stop_timeout\n"
               "  -h, --help         show this help\n"
               "      --version      show the version\n\n"
               "See vs-stop(8).\n");
}

static int stop_all(void)
{
        bool stopping = true;
        struct vs_batch_opts bo = { .progress = batch_progress, .userdata = &stopping };
        struct vs_error err = { 0 };
        struct vs_batch_item *v = NULL;
        size_t n = 0;
        int r = vs_guests_stop_all(&bo, &v, &n, &err);

        if (r < 0)
                return cmd_fail(r, &err, "Cannot stop the guests");
        r = batch_summary(v, n, true);
        free(v);
        return r;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = { { "timeout", required_argument, NULL, 't' },
                                              { "all", no_argument, NULL, 'a' },
                                              CMD_COMMON_OPTIONS };
        struct vs_error err = { 0 };
        uint64_t timeout = VS_STOP_TIMEOUT_CONFIG;
        bool all = false;
        int c, r;

        cmd_init(argv[0]);
        while ((c = getopt_long(argc, argv, "t:ah", opts, NULL)) >= 0) {
                switch (c) {
                case 'a': all = true; break;
                case 't':
                        if (vs_parse_uint(optarg, 0, 86400, &timeout) < 0)
                                return cmd_usage_error("Bad --timeout \"%s\" (seconds, 0 to 86400)", optarg);
                        break;
                CMD_COMMON_CASES(help);
                }
        }
        if (all) {
                if (optind < argc)
                        return cmd_usage_error("--all takes no guest name");
                if (timeout != VS_STOP_TIMEOUT_CONFIG)
                        return cmd_usage_error("--all gives each guest its stop_timeout; --timeout does not apply");
                cmd_need_root();
                return stop_all();
        }
        if (!cmd_one_name(argc, argv))
                return VS_EXIT_USAGE;
        cmd_need_root();
        r = vs_guest_stop(argv[optind], (unsigned)timeout, &err);
        if (r < 0)
                return cmd_fail(r, &err, "Stop failed");
        return VS_EXIT_OK;
}
