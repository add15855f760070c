/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

static int neg(int code)
{
        return code > 0 ? -code : code;
}

/* @s as the message, cut to its size. */
static void put(struct vs_error *err, const char *s)
{
        size_t n = strnlen(s, sizeof(err->msg) - 1);

        memcpy(err->msg, s, n);
        err->msg[n] = '\0';
}

int vs_error_set(struct vs_error *err, int code, const char *fmt, ...)
{
        va_list ap;

        /* A failure always has an errno: `return vs_error_set(err, errno,
         * ...)` with errno 0 would otherwise report success. */
        if (code == 0)
                code = EIO;
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

int vs_error_prefix(struct vs_error *err, int r, const char *fmt, ...)
{
        char head[sizeof(err->msg)], out[2 * sizeof(err->msg) + 8];
        va_list ap;

        r = neg(r);
        if (!err)
                return r;
        if (r)
                err->code = -r;
        va_start(ap, fmt);
        vsnprintf(head, sizeof(head), fmt, ap);
        va_end(ap);
        snprintf(out, sizeof(out), "%s: %s", head, err->msg);
        put(err, out);
        return r;
}

int vs_error_locate(struct vs_error *err, int r, const char *file)
{
        char out[2 * sizeof(err->msg) + sizeof(err->key) + 32];

        r = neg(r);
        if (!err)
                return r;
        if (r)
                err->code = -r;
        if (err->line && err->key[0])
                snprintf(out, sizeof(out), "%.1023s:%u: key \"%s\": %s", file, err->line, err->key, err->msg);
        else if (err->line)
                snprintf(out, sizeof(out), "%.1023s:%u: %s", file, err->line, err->msg);
        else if (err->key[0])
                snprintf(out, sizeof(out), "%.1023s: key \"%s\": %s", file, err->key, err->msg);
        else
                snprintf(out, sizeof(out), "%.1023s: %s", file, err->msg);
        put(err, out);
        err->line = 0;
        err->key[0] = '\0';
        return r;
}

void vs_error_clear(struct vs_error *err)
{
        if (err)
                memset(err, 0, sizeof(*err));
}

int vs_error_send(int fd, const struct vs_error *err)
{
        char out[sizeof(err->msg) + 16];
        int n = snprintf(out, sizeof(out), "%d %s", err->code, err->msg);

        if (n < 0)
                return -EINVAL;
        if ((size_t)n >= sizeof(out))
                n = sizeof(out) - 1;
        return write(fd, out, (size_t)n) == n ? 0 : -EIO;
}

int vs_error_parse(const char *text, struct vs_error *err)
{
        char *end;
        long code = strtol(text, &end, 10);

        if (end == text || (*end && *end != ' '))
                return vs_error_set(err, EIO, "%s", text);
        return vs_error_set(err, code > 0 ? (int)code : EIO, "%s", *end ? end + 1 : "");
}

int vs_error_recv(int fd, struct vs_error *err)
{
        char text[sizeof(err->msg) + 16];
        size_t len = 0;

        vs_error_clear(err);
        while (len < sizeof(text) - 1) {
                ssize_t n = read(fd, text + len, sizeof(text) - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        if (len == 0)
                return 0;
        text[len] = '\0';
        return vs_error_parse(text, err);
}
