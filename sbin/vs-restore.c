/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <getopt.h>

#include "backup.h"
#include "cmd.h"

static void help(void)
{
        printf("Usage: vs-restore [OPTIONS] DEST NAME\n"
               "Make guest NAME again from its newest backup in DEST (a directory or\n"
               "[USER@]HOST:DIR, as given to vs-backup), with its config files. Under\n"
               "another name (--as) it is a copy beside the first: its own address, MAC,\n"
               "host ids, host name, machine id and SSH host keys.\n\n"
               "  -a, --as NEW          restore as guest NEW\n"
               "  -t, --at ID           restore backup ID (see vs-backup --list), not the newest\n"
               "  -f, --force           replace a stopped guest of that name\n"
               "  -e, --ssh COMMAND     remote shell for HOST:DIR (default ssh)\n"
               "  -h, --help            show this help\n"
               "      --version         show the version\n\n"
               "See vs-restore(8).\n");
}

int main(int argc, char **argv)
{
        static const struct option opts[] = { { "as", required_argument, NULL, 'a' },
                                              { "at", required_argument, NULL, 't' },
                                              { "force", no_argument, NULL, 'f' },
                                              { "ssh", required_argument, NULL, 'e' },
                                              CMD_COMMON_OPTIONS };
        struct vs_restore_opts o = { .say = cmd_say };
        struct vs_error err = { 0 };
        int c, r;

        cmd_init(argv[0]);
        while ((c = getopt_long(argc, argv, "a:t:fe:h", opts, NULL)) >= 0) {
                switch (c) {
                case 'a': o.as = optarg; break;
                case 't': o.at = optarg; break;
                case 'f': o.force = true; break;
                case 'e': o.ssh = optarg; break;
                CMD_COMMON_CASES(help);
                }
        }
        if (optind + 2 > argc)
                return cmd_usage_error(optind >= argc ? "Missing DEST and guest name" : "Missing guest name");
        if (optind + 2 < argc)
                return cmd_usage_error("Unexpected argument \"%s\"", argv[optind + 2]);
        o.dest = argv[optind];
        o.name = argv[optind + 1];
        cmd_need_root();
        r = vs_guest_restore(&o, &err);
        if (r < 0)
                return cmd_fail(r, &err, "Restore failed");
        return VS_EXIT_OK;
}
