/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <getopt.h>

#include "batch.h"
#include "cmd.h"

static void help(void)
{
        printf("Usage: vs-start [OPTIONS] NAME\n"
               "       vs-start --autostart [--dry-run]\n"
               "Boot a guest: its own init as PID 1 in new namespaces, owned by a\n"
               "supervisor process. Returns once the guest's init runs.\n\n"
               "  -F, --foreground   stay attached: the console on stdin/stdout, return\n"
               "                     when the guest's init exits (with its exit status)\n"
               "  -w, --wait[=SEC]   return once the guest is ready (systemd reported\n"
               "                     READY=1; any other init: once it runs), waiting\n"
               "                     at most SEC seconds (default: its start_timeout);\n"
               "                     a guest not ready in time fails, and keeps running\n"
               "  -n, --dry-run      print the cgroups and the mount plan, start nothing\n"
               "  -a, --autostart    start every guest with autostart = yes, by order\n"
               "                     and depends, and wait until each is up\n"
               "  -h, --help         show this help\n"
               "      --version      show the version\n\n"
               "See vs-start(8).\n");
}

static int start_all(bool dry_run)
{
        bool stopping = false;
        struct vs_batch_opts bo = { .progress = batch_progress, .userdata = &stopping, .dry_run = dry_run };
        struct vs_error err = { 0 };
        struct vs_batch_item *v = NULL;
        size_t n = 0;
        int r = vs_guests_autostart(&bo, &v, &n, &err);

        if (r < 0)
                return cmd_fail(r, &err, "Autostart failed");
        if (dry_run) {
                for (size_t i = 0; i < n; i++)
                        if (v[i].level >= 0)
                                printf("level %d  %-24s order %llu%s\n", v[i].level, v[i].name,
                                       (unsigned long long)v[i].order, v[i].needed ? " (needed by another guest)" : "");
                r = VS_EXIT_OK;
                for (size_t i = 0; i < n; i++)
                        if (vs_batch_failed(&v[i]))
                                r = VS_EXIT_FAILURE;
        } else
                r = batch_summary(v, n, false);
        free(v);
        return r;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = { { "foreground", no_argument, NULL, 'F' },
                                              { "wait", optional_argument, NULL, 'w' },
                                              { "dry-run", no_argument, NULL, 'n' },
                                              { "autostart", no_argument, NULL, 'a' },
                                              CMD_COMMON_OPTIONS };
        struct vs_start_opts o = { 0 };
        struct vs_error err = { 0 };
        int c, r, exit_code = 0;
        bool autostart = false;

        cmd_init(argv[0]);
        while ((c = getopt_long(argc, argv, "Fw::nah", opts, NULL)) >= 0) {
                switch (c) {
                case 'F': o.foreground = true; break;
                case 'w': {
                        uint64_t sec = 0;
                        if (optarg && vs_parse_uint(optarg, 1, 86400, &sec) < 0)
                                return cmd_usage_error("Bad --wait \"%s\" (seconds, 1 to 86400)", optarg);
                        o.wait = true;
                        o.wait_sec = (unsigned)sec;
                        break;
                }
                case 'n': o.dry_run = stdout; break;
                case 'a': autostart = true; break;
                CMD_COMMON_CASES(help);
                }
        }
        if (autostart) {
                if (optind < argc)
                        return cmd_usage_error("--autostart takes no guest name");
                if (o.foreground)
                        return cmd_usage_error("--autostart and --foreground do not go together");
                if (o.wait)
                        return cmd_usage_error("--autostart waits for every guest; --wait does not apply");
                cmd_need_root();
                return start_all(o.dry_run != NULL);
        }
        if (o.wait && (o.foreground || o.dry_run))
                return cmd_usage_error("--wait does not go with --%s", o.foreground ? "foreground" : "dry-run");
        if (!cmd_one_name(argc, argv))
                return VS_EXIT_USAGE;
        cmd_need_root();
        r = vs_guest_start(argv[optind], &o, &err, &exit_code);
        if (r < 0)
                return cmd_fail(r, &err, "Start failed");
        return o.foreground ? exit_code : VS_EXIT_OK;
}
