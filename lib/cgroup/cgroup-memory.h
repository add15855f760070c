/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"

/* The ANON limit: no stock cgroup limits anonymous memory alone, so the
 * caller checks a group's anonymous memory now and then and, past the
 * limit, kills the process holding the most of it (never @init_pid, unless
 * it is alone). */
struct vs_anon_guard {
        uint64_t limit;   /* bytes; 0: off */
        pid_t init_pid;
        uint64_t kills;
};
/* Checks once; returns 1 when it killed a process, 0 otherwise. Says what it
 * did in @msg. */
int vs_anon_check(struct vs_cgroup *cg, struct vs_anon_guard *g, char *msg, size_t len);

/* Sums VmLck of every process in the group (memory controller, else pids);
 * 0 when they cannot be listed. */
uint64_t vs_cgroup_memlock_bytes(struct vs_cgroup *cg);
