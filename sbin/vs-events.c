/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <getopt.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <time.h>

#include "cmd.h"
#include "events.h"
#include "util.h"

static void help(void)
{
        printf("Usage: vs-events [OPTIONS] [NAME...]\n"
               "Follow what happens to guests as it happens: start, ready, stop and how\n"
               "(halt, poweroff, reboot, crash, killed), OOM kills, ANON kills and limit\n"
               "changes, as the guests' supervisors and vs-limit record them. Only the\n"
               "guests named, when any are. Ends on Ctrl-C.\n\n"
               "  -j, --json           one JSON object per line, as recorded\n"
               "  -n, --lines N        first show the last N recorded events\n"
               "  -S, --since TIME     first show the events since TIME: @SECONDS (since\n"
               "                       the epoch), -N[smhd] (ago) or YYYY-MM-DDTHH:MM:SS (UTC)\n"
               "  -a, --all            first show every recorded event\n"
               "      --no-follow      show the events asked for (all without -n/-S)\n"
               "                       and exit\n"
               "  -h, --help           show this help\n"
               "      --version        show the version\n\n"
               "See vs-events(8).\n");
}

/* @SECONDS, -N[smhd] or an ISO date (UTC), in microseconds since the epoch. */
static int parse_since(const char *s, uint64_t *ret)
{
        char *e;

        if (s[0] == '@') {
                unsigned long long v = strtoull(s + 1, &e, 10);
                if (e == s + 1 || *e)
                        return -EINVAL;
                *ret = (uint64_t)v * 1000000u;
                return 0;
        }
        if (s[0] == '-') {
                unsigned long long v = strtoull(s + 1, &e, 10), mul = 1;
                if (e == s + 1)
                        return -EINVAL;
                if (*e == 'm')
                        mul = 60;
                else if (*e == 'h')
                        mul = 3600;
                else if (*e == 'd')
                        mul = 86400;
                else if (*e && *e != 's')
                        return -EINVAL;
                if (*e && e[1])
                        return -EINVAL;
                time_t now = time(NULL);
                *ret = v * mul > (unsigned long long)now ? 1 : (uint64_t)(now - (time_t)(v * mul)) * 1000000u;
                return 0;
        }
        struct tm tm = { 0 };
        const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!rest)
                rest = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
        if (!rest || (*rest && strcmp(rest, "Z") != 0))
                return -EINVAL;
        *ret = (uint64_t)timegm(&tm) * 1000000u;
        return 0;
}

static int print_event(const struct vs_event *e, const char *line, void *data)
{
        bool json = *(bool *)data;

        if (json)
                printf("%s\n", line);
        else {
                printf("%s %s %s", e->time, e->guest, e->event);
                for (char **f = e->fields; f && f[0] && f[1]; f += 2) {
                        /* Printed as recorded: the parser turned escapes back
                         * into bytes, so control characters are shown as '?'. */
                        bool quote = strpbrk(f[1], " \"") != NULL || !f[1][0];
                        printf(" %s=%s", f[0], quote ? "\"" : "");
                        for (const unsigned char *p = (const unsigned char *)f[1]; *p; p++)
                                putchar(*p < 0x20 || *p == 0x7f ? '?' : *p == '"' ? '\'' : *p);
                        if (quote)
                                putchar('"');
                }
                putchar('\n');
        }
        return fflush(stdout) == 0 ? 0 : -errno;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
                                              { "lines", required_argument, NULL, 'n' },
                                              { "since", required_argument, NULL, 'S' },
                                              { "all", no_argument, NULL, 'a' },
                                              { "no-follow", no_argument, NULL, 'N' },
                                              CMD_COMMON_OPTIONS };
        struct vs_events_query q = { .follow = true };
        bool json = false;
        sigset_t mask;
        int c, r, sfd;

        cmd_init(argv[0]);
        while ((c = getopt_long(argc, argv, "jn:S:ah", opts, NULL)) >= 0) {
                switch (c) {
                case 'j': json = true; break;
                case 'n': {
                        char *e;
                        long v = strtol(optarg, &e, 10);
                        if (e == optarg || *e || v < 0 || v > 1000000)
                                return cmd_usage_error("Bad --lines \"%s\" (a count, 0 to 1000000)", optarg);
                        q.tail = v;
                        break;
                }
                case 'S':
                        if (parse_since(optarg, &q.since_usec) < 0)
                                return cmd_usage_error(
                                        "Bad --since \"%s\" (@SECONDS, -N[smhd] or YYYY-MM-DDTHH:MM:SS)", optarg);
                        break;
                case 'a': q.history_all = true; break;
                case 'N': q.follow = false; break;
                CMD_COMMON_CASES(help);
                }
        }
        for (int i = optind; i < argc; i++)
                if (!vs_name_valid(argv[i]))
                        return cmd_usage_error("Invalid guest name \"%s\"", argv[i]);
        if (optind < argc)
                q.names = argv + optind;
        if (!q.follow && !q.tail && !q.since_usec)
                q.history_all = true;
        cmd_need_root();

        /* Ctrl-C and SIGTERM end it through this fd: a clean end, exit 0. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0)
                return cmd_fail(-errno, NULL, "Cannot watch for signals");
        r = vs_events_follow(&q, sfd, print_event, &json);
        if (r == -EPIPE)
                return VS_EXIT_OK; /* the reader went away (| head) */
        if (r < 0)
                return cmd_fail(r, NULL, "Cannot follow the events");
        return VS_EXIT_OK;
}
