/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

static int neg(int code)
{
        return code > 0 ? -code : code;
}

int vs_error_set(struct vs_error *err, int code, const char *fmt, ...)
{
        va_list ap;

        if (!err)
                return neg(code);
        err->code = -neg(code);
        err->line = 0;
        err->key[0] = '\0';
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        return neg(code);
}

int vs_error_prefix(struct vs_error *err, const char *fmt, ...)
{
        char head[sizeof(err->msg)], old[sizeof(err->msg)];
        va_list ap;

        if (!err)
                return 0;
        va_start(ap, fmt);
        vsnprintf(head, sizeof(head), fmt, ap);
        va_end(ap);
        memcpy(old, err->msg, sizeof(old));
        snprintf(err->msg, sizeof(err->msg), "%s: %s", head, old);
        return -err->code;
}

int vs_error_locate(struct vs_error *err, const char *file)
{
        char old[sizeof(err->msg)];

        if (!err)
                return 0;
        memcpy(old, err->msg, sizeof(old));
        if (err->line && err->key[0])
                snprintf(err->msg, sizeof(err->msg), "%s:%u: key \"%s\": %s", file, err->line, err->key, old);
        else if (err->line)
                snprintf(err->msg, sizeof(err->msg), "%s:%u: %s", file, err->line, old);
        else if (err->key[0])
                snprintf(err->msg, sizeof(err->msg), "%s: key \"%s\": %s", file, err->key, old);
        else
                snprintf(err->msg, sizeof(err->msg), "%s: %s", file, old);
        err->line = 0;
        err->key[0] = '\0';
        return -err->code;
}

void vs_error_clear(struct vs_error *err)
{
        if (err)
                memset(err, 0, sizeof(*err));
}
