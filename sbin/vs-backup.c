/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <getopt.h>
#include <time.h>

#include "backup.h"
#include "cleanup.h"
#include "cmd.h"
#include "util.h"

static void help(void)
{
        printf("Usage: vs-backup [OPTIONS] NAME DEST\n"
               "       vs-backup --list [--json] DEST [NAME]\n"
               "       vs-backup --prune --keep N|--keep-days D NAME DEST\n"
               "Back up a guest to DEST/NAME/ID (ID: the UTC time), a directory here or\n"
               "[USER@]HOST:DIR over ssh, with rsync: a running guest is copied while it\n"
               "runs, then frozen for a second pass over what changed, then thawed. Files\n"
               "unchanged since the newest backup are hard links to it. The guest's config\n"
               "files go with it; owners are the guest's own ids.\n\n"
               "  -l, --list            list the complete backups in DEST (of NAME)\n"
               "  -j, --json            with --list: a JSON array\n"
               "      --prune           only prune NAME's backups (with --keep, --keep-days)\n"
               "  -k, --keep N          then keep only the newest N backups of NAME\n"
               "  -d, --keep-days D     then keep only those younger than D days (with\n"
               "                        --keep: those either keeps; the newest always stays)\n"
               "  -e, --ssh COMMAND     remote shell for HOST:DIR (default ssh)\n"
               "  -p, --progress        show rsync's progress (default on a terminal)\n"
               "  -h, --help            show this help\n"
               "      --version         show the version\n\n"
               "See vs-backup(8) and vs-restore(8).\n");
}

static int list(const char *dest, const char *ssh, const char *name, bool json)
{
        _cleanup_free_ struct vs_backup_entry *v = NULL;
        struct vs_error err = { 0 };
        size_t n = 0;
        int r = vs_backup_list(dest, ssh, name, &v, &n, &err);

        if (r < 0)
                return cmd_fail(r, &err, "Listing failed");
        if (json) {
                putchar('[');
                for (size_t i = 0; i < n; i++) {
                        if (i)
                                putchar(',');
                        vs_backup_entry_json(stdout, &v[i]);
                }
                puts("]");
                return VS_EXIT_OK;
        }
        printf("%-20s %-16s %-6s %-20s %10s %10s\n", "NAME", "ID", "LAYOUT", "CREATED", "FROZEN_MS", "COPIED_MB");
        for (size_t i = 0; i < n; i++) {
                char when[32];
                struct tm tm;
                localtime_r(&v[i].created, &tm);
                strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
                if (v[i].running)
                        printf("%-20s %-16s %-6s %-20s %10.1f %10.1f\n", v[i].name, v[i].id, v[i].layout, when,
                               (double)v[i].freeze_usec / 1000.0, (double)v[i].transferred / 1048576.0);
                else
                        printf("%-20s %-16s %-6s %-20s %10s %10.1f\n", v[i].name, v[i].id, v[i].layout, when, "-",
                               (double)v[i].transferred / 1048576.0);
        }
        return VS_EXIT_OK;
}

/* rsync's remote shell reading a tree as its guest sees it
 * (vserver/copy.c): internal, never typed. */
static int mapped_shell(int argc, char **argv)
{
        struct vs_error err = { 0 };
        uint64_t host, count;
        int r;

        /* HOST COUNT DIR RHOST COMMAND... */
        if (argc < 5 || vs_parse_uint(argv[0], 0, UINT32_MAX, &host) < 0 ||
            vs_parse_uint(argv[1], 1, UINT32_MAX, &count) < 0) {
                fprintf(stderr, "--mapped-shell: expected HOST COUNT DIR RHOST COMMAND...\n");
                return VS_EXIT_USAGE;
        }
        r = vs_copy_mapped_shell(host, count, argv[2], argv + 4, &err);
        if (r < 0) {
                fprintf(stderr, "%s\n", err.msg[0] ? err.msg : strerror(-r));
                return VS_EXIT_FAILURE;
        }
        return VS_EXIT_OK;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = { { "list", no_argument, NULL, 'l' },
                                              { "json", no_argument, NULL, 'j' },
                                              { "prune", no_argument, NULL, 'P' },
                                              { "keep", required_argument, NULL, 'k' },
                                              { "keep-days", required_argument, NULL, 'd' },
                                              { "ssh", required_argument, NULL, 'e' },
                                              { "progress", no_argument, NULL, 'p' },
                                              CMD_COMMON_OPTIONS };
        struct vs_backup_opts o = { .say = cmd_say };
        struct vs_error err = { 0 };
        bool do_list = false, json = false, prune = false;
        uint64_t v;
        int c, r;

        cmd_init(argv[0]);
        if (argc > 1 && !strcmp(argv[1], "--mapped-shell"))
                return mapped_shell(argc - 2, argv + 2);
        o.progress = isatty(1);
        while ((c = getopt_long(argc, argv, "ljk:d:e:ph", opts, NULL)) >= 0) {
                switch (c) {
                case 'l': do_list = true; break;
                case 'j': json = true; break;
                case 'P': prune = true; break;
                case 'k':
                        if (vs_parse_uint(optarg, 1, 1000000, &v) < 0)
                                return cmd_usage_error("--keep: expected a count of at least 1, not \"%s\"", optarg);
                        o.keep = (unsigned)v;
                        break;
                case 'd':
                        if (vs_parse_uint(optarg, 1, 1000000, &v) < 0)
                                return cmd_usage_error("--keep-days: expected a number of days of at least 1, not \"%s\"",
                                                       optarg);
                        o.keep_days = (unsigned)v;
                        break;
                case 'e': o.ssh = optarg; break;
                case 'p': o.progress = true; break;
                CMD_COMMON_CASES(help);
                }
        }
        if (do_list) {
                if (prune || o.keep || o.keep_days)
                        return cmd_usage_error("--list takes no --prune, --keep or --keep-days");
                if (optind >= argc)
                        return cmd_usage_error("Missing DEST");
                if (optind + 2 < argc)
                        return cmd_usage_error("Unexpected argument \"%s\"", argv[optind + 2]);
                cmd_need_root();
                return list(argv[optind], o.ssh, optind + 1 < argc ? argv[optind + 1] : NULL, json);
        }
        if (json)
                return cmd_usage_error("--json goes with --list");
        if (optind + 2 > argc)
                return cmd_usage_error(optind >= argc ? "Missing guest name and DEST" : "Missing DEST");
        if (optind + 2 < argc)
                return cmd_usage_error("Unexpected argument \"%s\"", argv[optind + 2]);
        o.dest = argv[optind + 1];
        if (prune && !o.keep && !o.keep_days)
                return cmd_usage_error("--prune needs --keep or --keep-days");
        cmd_need_root();
        if (prune)
                r = vs_backup_prune(o.dest, o.ssh, argv[optind], o.keep, o.keep_days, cmd_say, NULL, &err);
        else
                r = vs_guest_backup(argv[optind], &o, &err);
        if (r < 0)
                return cmd_fail(r, &err, prune ? "Pruning failed" : "Backup failed");
        return VS_EXIT_OK;
}
