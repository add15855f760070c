/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <fcntl.h>
#include <getopt.h>
#include <signal.h>

#include "backup.h"
#include "cleanup.h"
#include "cmd.h"
#include "migrate.h"
#include "state.h"
#include "util.h"

static void help(void)
{
        printf("Usage: vs-migrate [OPTIONS] NAME [USER@]HOST\n"
               "Move a guest to HOST, which runs vserver, over ssh with rsync. HOST is\n"
               "checked first (vserver there, the name and addresses free, room on its\n"
               "disk). A running guest is copied while it runs, frozen for a second pass\n"
               "over what changed, installed on HOST, stopped here and started there;\n"
               "then it is removed here. It keeps its config, address, MAC, limits and\n"
               "autostart setting; an unprivileged guest takes free host ids there if\n"
               "its own are taken. Until it runs on HOST it is whole here: a failure\n"
               "leaves it here, running if it was.\n\n"
               "  -e, --ssh COMMAND          remote shell (default ssh; split on blanks)\n"
               "  -r, --remote-command PATH  vs-migrate on HOST (default vs-migrate)\n"
               "      --offline              stop the guest cleanly first instead of\n"
               "                             freezing it; started on HOST if it ran here\n"
               "  -k, --keep-source          keep the guest here (stopped, autostart off)\n"
               "      --check                only check HOST and say whether it can take it\n"
               "  -j, --json                 print the result as one JSON object\n"
               "  -p, --progress             show rsync's progress\n"
               "  -q, --quiet                no progress lines\n"
               "  -h, --help                 show this help\n"
               "      --version              show the version\n\n"
               "See vs-migrate(8).\n");
}

/* @s as a JSON string. */
static void json_string(const char *s)
{
        putchar('"');
        for (; *s; s++)
                if (*s == '"' || *s == '\\')
                        printf("\\%c", *s);
                else if ((unsigned char)*s < 0x20)
                        printf("\\u%04x", (unsigned)*s);
                else
                        putchar(*s);
        putchar('"');
}

/* The receiving host's side, `vs-migrate --receive STEP NAME ...`, run by
 * the sender over ssh, one step per connection (vserver/migrate-receive.c):
 * what the step answers on stdout, everything else on stderr, its
 * progress too; the sender quotes the last line of that as its error.
 * Exit status 2 for a call this version does not know or a bad value. */
static int receive(int argc, char **argv)
{
        struct vs_error err = { 0 };
        const char *step = argc > 0 ? argv[0] : "";
        FILE *out;
        int fd, r;

        /* Its own warnings as they are, but the log's name stays the
         * library's: no vs_log_init() on this side. */
        vs_warn_set(cmd_warn, NULL);
        /* The sender's ssh may go away: each step ends as it began, on
         * its own, whether anybody still listens. */
        signal(SIGHUP, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        /* Stdout is the answer; what the steps print goes to stderr. */
        fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
        out = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (!out || dup2(2, 1) < 0) {
                fprintf(stderr, "Cannot set up the output: %m\n");
                return 1;
        }
        if (argc < 2 || vs_check_name(argv[1], &err) < 0) {
                fprintf(stderr, "%s\n", err.msg[0] ? err.msg : "--receive: expected STEP NAME ...");
                return 2;
        }
        if (!strcmp(step, "check") && argc == 5)
                r = vs_migrate_receive_check(argv[1], argv[2], argv[3], argv[4], out, &err);
        else if (!strcmp(step, "install") && argc == 3)
                r = vs_migrate_receive_install(argv[1], argv[2], out, cmd_say, NULL, &err);
        else if (!strcmp(step, "abort") && argc == 2)
                r = vs_migrate_receive_abort(argv[1], &err);
        else {
                fprintf(stderr, "--receive: unknown step \"%s\" or wrong arguments (a vserver of another version?)\n",
                        step);
                return 2;
        }
        if (fclose(out) != 0 && r == 0)
                r = -EIO;
        if (r < 0) {
                fprintf(stderr, "%s\n", err.msg[0] ? err.msg : strerror(-r));
                return r == -EINVAL ? 2 : 1;
        }
        return 0;
}

static void say(void *data, const char *msg)
{
        (void)data;
        fprintf(stderr, "vs-migrate: %s\n", msg);
}

int main(int argc, char **argv)
{
        static const struct option opts[] = { { "ssh", required_argument, NULL, 'e' },
                                              { "remote-command", required_argument, NULL, 'r' },
                                              { "offline", no_argument, NULL, 'O' },
                                              { "keep-source", no_argument, NULL, 'k' },
                                              { "check", no_argument, NULL, 'C' },
                                              { "json", no_argument, NULL, 'j' },
                                              { "progress", no_argument, NULL, 'p' },
                                              { "quiet", no_argument, NULL, 'q' },
                                              CMD_COMMON_OPTIONS };
        struct vs_migrate_opts o = { .say = say };
        struct vs_migrate_result res = { 0 };
        struct vs_error err = { 0 };
        bool json = false;
        int c, r;

        /* The receiving host's side, run over ssh by the sender: internal. */
        if (argc > 1 && !strcmp(argv[1], "--receive")) {
                if (geteuid() != 0) {
                        fprintf(stderr, "vs-migrate on this host must run as root\n");
                        return VS_EXIT_FAILURE;
                }
                return receive(argc - 2, argv + 2);
        }
        cmd_init(argv[0]);
        while ((c = getopt_long(argc, argv, "e:r:kjpqh", opts, NULL)) >= 0) {
                switch (c) {
                case 'e': o.ssh = optarg; break;
                case 'r': o.remote = optarg; break;
                case 'O': o.offline = true; break;
                case 'k': o.keep_source = true; break;
                case 'C': o.check_only = true; break;
                case 'j': json = true; break;
                case 'p': o.progress = true; break;
                case 'q': o.say = NULL; break;
                CMD_COMMON_CASES(help);
                }
        }
        if (optind + 2 > argc)
                return cmd_usage_error(optind >= argc ? "Missing guest name and HOST" : "Missing HOST");
        if (optind + 2 < argc)
                return cmd_usage_error("Unexpected argument \"%s\"", argv[optind + 2]);
        if (json && o.progress)
                return cmd_usage_error("--json and --progress exclude each other (both write to stdout)");
        if (!argv[optind + 1][0] || argv[optind + 1][0] == '-' || strchr(argv[optind + 1], ':') ||
            strchr(argv[optind + 1], '/'))
                return cmd_usage_error("HOST \"%s\": expected a host name or USER@HOST, without a path",
                                       argv[optind + 1]);
        o.name = argv[optind];
        o.host = argv[optind + 1];
        cmd_need_root();
        r = vs_guest_migrate(&o, &res, &err);
        if (r < 0)
                return cmd_fail(r, &err, "Migration failed");
        if (o.check_only) {
                if (json) {
                        printf("{\"name\":\"%s\",\"host\":", o.name);
                        json_string(o.host);
                        printf(",\"ok\":true}\n");
                }
                else if (o.say)
                        say(NULL, "the guest can move there");
                return VS_EXIT_OK;
        }
        if (json) {
                printf("{\"name\":\"%s\",\"host\":", o.name);
                json_string(o.host);
                printf(",\"mode\":\"%s\",\"downtime_ms\":%.3f,\"freeze_ms\":%.3f,\"transferred\":%llu,"
                       "\"started\":%s,\"kept\":%s}\n",
                       res.mode, (double)res.downtime_usec / 1000.0, (double)res.freeze_usec / 1000.0,
                       (unsigned long long)res.transferred, res.started ? "true" : "false",
                       o.keep_source ? "true" : "false");
        }
        return VS_EXIT_OK;
}
