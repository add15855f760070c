/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "cgroup-memory.h"
#include "config.h"

/* Writes the guest's configured limits to its cgroups. */
int vs_guest_apply_limits(struct vs_cgroup *cg, const struct vs_config *c, struct vs_error *err);

/* Counts one ANON kill in the guest's run state (RUNDIR/anon_kills);
 * vs_guest_anon_kills() reads the count. */
void vs_guest_count_anon_kill(const char *rundir);
uint64_t vs_guest_anon_kills(const char *rundir);
