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

/* Warnings and notes: what vserver/ has to tell besides a step and a
 * failure (lxcfs not running, subordinate ids added, what a failed move
 * leaves behind, the console's attach and detach, the supervisor's log).
 * Each line goes to the one sink the command installs before anything
 * else (vs_warn_set(); cmd_init() in sbin/cmd.h installs cmd_warn(), which
 * writes on stderr); with none installed nothing is said. The sink is the
 * process's, so a child forked or cloned from the command (the supervisor,
 * the guest's init before its exec) says its lines through it too, on its
 * own stderr: the console log of a supervisor in the background.
 *
 * @level is VS_WARN_LINE for a line said as it stands (it names its
 * command where it should: "vs-start: lxcfs is not running ..."), or a
 * level of the supervisor's log, the syslog number as in lib/core/log.h,
 * for which the sink writes what vs_log() writes ("vs-start: warning:
 * ..."). */
enum { VS_WARN_LINE = 0, VS_WARN_ERR = 3, VS_WARN_WARNING = 4, VS_WARN_INFO = 6 };
typedef void vs_warn_fn(void *data, int level, const char *msg);

/* Installs @fn (NULL: none) with its @data as the process's sink. */
void vs_warn_set(vs_warn_fn *fn, void *data);

/* Formats one line (no newline) and hands it to the sink, if any. */
void vs_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The same for a line of the supervisor's log at @level (VS_WARN_ERR ...). */
void vs_warn_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Each line of @text (lines ended by '\n', as a start's warnings are
 * gathered) handed to the sink as vs_warn() does. */
void vs_warn_lines(const char *text);
