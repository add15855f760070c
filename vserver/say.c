/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "say.h"

void vs_say(vs_say_fn *say, void *data, const char *fmt, ...)
{
        char msg[1024];
        va_list ap;

        if (!say)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        say(data, msg);
}

/* Set once by the command before it calls into vserver/, read after. */
static vs_warn_fn *warn_fn;
static void *warn_data;

void vs_warn_set(vs_warn_fn *fn, void *data)
{
        warn_fn = fn;
        warn_data = data;
}

static void vwarn(int level, const char *fmt, va_list ap)
{
        /* As large as lib/core/log.c's: a line may quote a whole
         * struct vs_error message. */
        char msg[2048];

        if (!warn_fn)
                return;
        vsnprintf(msg, sizeof(msg), fmt, ap);
        warn_fn(warn_data, level, msg);
}

void vs_warn(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vwarn(VS_WARN_LINE, fmt, ap);
        va_end(ap);
}

void vs_warn_log(int level, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vwarn(level, fmt, ap);
        va_end(ap);
}

void vs_warn_lines(const char *text)
{
        while (*text) {
                const char *nl = strchr(text, '\n');
                int len = nl ? (int)(nl - text) : (int)strlen(text);

                vs_warn("%.*s", len, text);
                text += len + (nl ? 1 : 0);
        }
}
