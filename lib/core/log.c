/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static const char *prog = "vserver";
static int max_level = VS_LOG_INFO;
static int log_fd = STDERR_FILENO;

void vs_log_init(const char *progname)
{
        const char *s = strrchr(progname, '/');
        prog = s ? s + 1 : progname;
}

void vs_log_set_level(int level) { max_level = level; }
int vs_log_get_level(void) { return max_level; }
void vs_log_set_fd(int fd) { log_fd = fd; }

static void vlog(int level, int error, const char *fmt, va_list ap)
{
        char msg[2048];
        int saved = errno;

        if (level > max_level)
                return;
        errno = error < 0 ? -error : error;
        vsnprintf(msg, sizeof(msg), fmt, ap);
        dprintf(log_fd, "%s: %s%s\n", prog, level == VS_LOG_WARNING ? "warning: " : "", msg);
        errno = saved;
}

int vs_log_errno(int level, int error, const char *fmt, ...)
{
        va_list ap;

        if (error == 0)
                error = -EIO;
        va_start(ap, fmt);
        vlog(level, error, fmt, ap);
        va_end(ap);
        return error < 0 ? error : -error;
}

void vs_log(int level, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vlog(level, 0, fmt, ap);
        va_end(ap);
}
