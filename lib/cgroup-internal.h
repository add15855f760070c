/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "cgroup.h"

/* Helpers shared by the v1 and v2 backends. */
int vs_cg_mkdir_parent_and_guest(struct vs_cgroup *cg, size_t i, int (*init_dir)(const char *dir, const char *parent));
int vs_cg_kill_path(const char *path, int sig, size_t *ret_count);
int vs_cg_rmdir_guest(const char *path);
/* Makes DIR/guest (VS_CGROUP_LEAF), removing an empty leftover first. */
int vs_cg_mkdir_leaf(const char *dir, int (*init_dir)(const char *dir, const char *parent), char **ret);
/* True when DIR is a group on a cgroup2 filesystem (not a test's fake). */
bool vs_cg_is_cgroup2(const char *dir);
