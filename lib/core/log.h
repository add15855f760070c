/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Logging for commands and the supervisor. lib/ itself never logs: it
 * returns -errno and the caller that decides logs once. */

enum { VS_LOG_ERR = 3, VS_LOG_WARNING = 4, VS_LOG_INFO = 6, VS_LOG_DEBUG = 7 };

void vs_log_init(const char *progname);
void vs_log_set_level(int level);
int vs_log_get_level(void);
/* Send messages to this fd instead of stderr (the supervisor's log). */
void vs_log_set_fd(int fd);

/* Logs and returns @error (negative errno, or 0 for -EIO); %m prints strerror(-error). */
int vs_log_errno(int level, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void vs_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) vs_log(VS_LOG_ERR, __VA_ARGS__)
#define log_warning(...) vs_log(VS_LOG_WARNING, __VA_ARGS__)
#define log_info(...) vs_log(VS_LOG_INFO, __VA_ARGS__)
#define log_debug(...) vs_log(VS_LOG_DEBUG, __VA_ARGS__)
#define log_error_errno(e, ...) vs_log_errno(VS_LOG_ERR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) vs_log_errno(VS_LOG_WARNING, (e), __VA_ARGS__)
#define log_debug_errno(e, ...) vs_log_errno(VS_LOG_DEBUG, (e), __VA_ARGS__)
