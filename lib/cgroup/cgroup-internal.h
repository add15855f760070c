/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "cgroup.h"

/* Helpers shared by the v1 and v2 backends. */
int vs_cg_mkdir_parent_and_guest(struct vs_cgroup *cg, size_t i, int (*init_dir)(const char *dir, const char *parent));
int vs_cg_kill_path(const char *path, int sig, size_t *ret_count);
int vs_cg_rmdir_guest(const char *path);
/* The one walk of a cgroup tree: calls @pre (before its children) and @post
 * (after them) for every group below @path, down to @max_depth levels, in
 * readdir order; @path itself is not visited, and either callback may be
 * NULL. A callback's negative return ends the walk and is returned; a group
 * that cannot be listed (gone meanwhile) is passed over. */
int vs_cg_walk(const char *path, int max_depth, int (*pre)(const char *dir, void *arg),
               int (*post)(const char *dir, void *arg), void *arg);
/* Makes DIR/guest (VS_CGROUP_LEAF), removing an empty leftover first. */
int vs_cg_mkdir_leaf(const char *dir, int (*init_dir)(const char *dir, const char *parent), char **ret);
/* True when DIR is a group on a cgroup2 filesystem (not a test's fake). */
bool vs_cg_is_cgroup2(const char *dir);

/* On v2, the leaf beside the guests' parent group that vserver moves its own
 * processes into, so that their group may enable controllers for guests. */
#define VS_CG_HOST_LEAF "vs-host"
