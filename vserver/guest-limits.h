/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "config.h"

/* Writes the guest's configured limits to its cgroups. */
int vs_guest_apply_limits(struct vs_cgroup *cg, const struct vs_config *c, struct vs_error *err);

/* The ANON limit: no stock cgroup limits anonymous memory alone, so the
 * supervisor checks the guest's anonymous memory and, past the limit, kills
 * the process holding the most of it (never init, unless it is alone). */
struct vs_anon_guard {
        uint64_t limit;   /* bytes; 0: off */
        pid_t init_pid;
        uint64_t kills;
};
/* Checks once; returns 1 when it killed a process, 0 otherwise. Says what it
 * did in @msg. */
int vs_anon_check(struct vs_cgroup *cg, struct vs_anon_guard *g, char *msg, size_t len);

/* Counts one ANON kill in the guest's run state (RUNDIR/anon_kills);
 * vs_guest_anon_kills() reads the count. */
void vs_guest_count_anon_kill(const char *rundir);
uint64_t vs_guest_anon_kills(const char *rundir);

/* Sums VmLck of every process in the guest. */
uint64_t vs_guest_memlock_bytes(struct vs_cgroup *cg);
