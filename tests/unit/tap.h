/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A minimal TAP producer for the unit tests. */
#pragma once

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

static inline void tap_ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void tap_ok(int cond, const char *fmt, ...)
{
        va_list ap;
        printf("%s %d - ", cond ? "ok" : "not ok", ++tap_n);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
        if (!cond)
                tap_failed++;
}

static inline int tap_done(void)
{
        printf("1..%d\n", tap_n);
        return tap_failed ? 1 : 0;
}

#define tap_is_int(got, want, ...)                                                       \
        do {                                                                             \
                long long _g = (long long)(got), _w = (long long)(want);                 \
                tap_ok(_g == _w, __VA_ARGS__);                                           \
                if (_g != _w)                                                            \
                        printf("#   got %lld, expected %lld\n", _g, _w);                 \
        } while (0)

#define tap_is_str(got, want, ...)                                                       \
        do {                                                                             \
                const char *_g = (got), *_w = (want);                                    \
                int _eq = (_g && _w) ? strcmp(_g, _w) == 0 : _g == _w;                   \
                tap_ok(_eq, __VA_ARGS__);                                                \
                if (!_eq)                                                                \
                        printf("#   got \"%s\", expected \"%s\"\n", _g ? _g : "(null)",  \
                               _w ? _w : "(null)");                                      \
        } while (0)
