/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>

#include "error.h"

/* A program run to its end (mke2fs, tar, rsync's remote shell ...). Its
 * stdin and stderr are the caller's, so the user reads what the program
 * says; its exit status becomes the failure in @err ("see its messages
 * above"). The forked child writes why it could not exec the program (or
 * take the ids of a mapped run) to that stderr too: the one rule under
 * which lib/ prints (doc/design.md, section 8). */

/* Runs @argv, waiting for it; stdout goes to @out_fd unless it is -1. A
 * failure is described in @err (naming the program). */
int vs_run_command(char *const argv[], int out_fd, struct vs_error *err);
/* The same, taking exit statuses up to @max_ok as success. */
int vs_run_command_ok(char *const argv[], int out_fd, int max_ok, struct vs_error *err);
/* The same with @in_fd (when >= 0) as standard input. */
int vs_run_command_io(char *const argv[], int in_fd, int out_fd, int max_ok, struct vs_error *err);
/* vs_run_command_ok() in @dir, as root of a user namespace of its own whose
 * ids 0..@count-1 are host ids @host.. (none with @count 0): a tree shifted
 * to @host is seen as the owner of those ids sees it. */
int vs_run_command_mapped(char *const argv[], int out_fd, int max_ok, const char *dir, uint64_t host, uint64_t count,
                          struct vs_error *err);
