/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Progress: vserver/ says a step as it begins ("Building guest ...",
 * "Copying guest ... while it runs") through a printer the command passes
 * in (@say with its @data, e.g. cmd_say() in sbin/cmd.h) and never prints
 * on its own; with @say NULL nothing is said. Failures are no progress:
 * they go back in a struct vs_error (lib/core/error.h). */
typedef void vs_say_fn(void *data, const char *msg);

/* Formats one line (no newline) and hands it to @say, if any. */
void vs_say(vs_say_fn *say, void *data, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
