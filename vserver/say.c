/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>

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
