/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What every vs-* front-end shares: exit codes and the one place where a
 * runtime error becomes a message. */

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guest.h"
#include "log.h"

enum {
        VS_EXIT_OK = 0,
        VS_EXIT_FAILURE = 1,
        VS_EXIT_USAGE = 2,      /* bad option, argument, name or config */
        VS_EXIT_NOT_RUNNING = 3, /* vs-status: the guest is stopped */
};

static inline int cmd_fail(int r, const struct vs_error *err, const char *what)
{
        if (err && err->msg[0])
                log_error("%s", err->msg);
        else
                log_error_errno(r, "%s: %m", what);
        return r == -EINVAL ? VS_EXIT_USAGE : VS_EXIT_FAILURE;
}

/* The printer of vserver/'s progress (vs_say_fn, vserver/say.h): one line
 * on stdout, at once, so that it comes before what a child prints next. */
static inline void cmd_say(void *data, const char *msg)
{
        (void)data;
        printf("%s\n", msg);
        fflush(stdout);
}

/* The sink of vserver/'s warnings and notes (vs_warn_fn, vserver/say.h),
 * for this process and every child it forks: a line as it stands on
 * stderr, a line of the supervisor's log as vs_log() writes it (to stderr,
 * which is the console log of a supervisor in the background). */
_Static_assert((int)VS_WARN_ERR == (int)VS_LOG_ERR && (int)VS_WARN_WARNING == (int)VS_LOG_WARNING &&
                       (int)VS_WARN_INFO == (int)VS_LOG_INFO,
               "the sink's levels are the log's");
static inline void cmd_warn(void *data, int level, const char *msg)
{
        (void)data;
        if (level == VS_WARN_LINE)
                fprintf(stderr, "%s\n", msg);
        else
                vs_log(level, "%s", msg);
}

/* What every command does first: its name in its messages, and the sink
 * of vserver/'s warnings. */
static inline void cmd_init(const char *argv0)
{
        vs_log_init(argv0);
        vs_warn_set(cmd_warn, NULL);
}

static inline void cmd_need_root(void)
{
        if (geteuid() != 0) {
                log_error("Must be run as root");
                exit(VS_EXIT_FAILURE);
        }
}

static inline int cmd_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int cmd_usage_error(const char *fmt, ...)
{
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        log_error("%s (see --help)", msg);
        return VS_EXIT_USAGE;
}

/* True when exactly one argument is left after the options: the guest's
 * name (argv[optind]); otherwise says what is wrong. */
static inline bool cmd_one_name(int argc, char **argv)
{
        if (optind >= argc)
                return cmd_usage_error("Missing guest name"), false;
        if (optind + 1 < argc)
                return cmd_usage_error("Unexpected argument \"%s\"", argv[optind + 1]), false;
        return true;
}

#define CMD_VERSION()                          \
        do {                                   \
                printf("%s\n", PACKAGE_STRING); \
                return VS_EXIT_OK;             \
        } while (0)

/* The options every command takes, last in its getopt_long() table ... */
#define CMD_COMMON_OPTIONS { "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' }, {}

/* ... and their cases, last in its switch: @help_fn prints its --help. */
#define CMD_COMMON_CASES(help_fn)               \
        case 'h': help_fn(); return VS_EXIT_OK; \
        case 'V': CMD_VERSION();                \
        default: return VS_EXIT_USAGE
