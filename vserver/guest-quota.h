/* SPDX-License-Identifier: GPL-2.0-or-later */
/* disk.size on layouts dir and shared: a project quota on the guest's tree
 * (NAME/rootfs; NAME/upper and NAME/work for shared, whose copy-ups are
 * made in work and renamed into upper, which ext4 allows only within one
 * project). Thin: nothing is reserved, guests may together be promised
 * more than the filesystem holds. */
#pragma once

#include <stdint.h>

#include "guest.h"

struct vs_config;

/* Refuses, saying what to change, when the filesystem holding @path does
 * not enforce project quotas. */
int vs_guest_quota_check(const char *path, struct vs_error *err);

/* Gives guest @name, whose directory is @dir, the project quota of
 * @c->disk_size on its tree: a project id first when @c->disk_project is 0
 * (unique among the guests and unused on the filesystem; the caller holds
 * vs_idmap_lock() so that two builds never take one id), set on every
 * inode of the tree, then the limit. Refuses a project id another guest
 * holds, and a size below what the tree uses already. */
int vs_guest_quota_apply(const char *name, const char *dir, int layout, struct vs_config *c, vs_say_fn *say,
                         void *say_data, struct vs_error *err);

/* Lifts the limit of project @projid on the filesystem of the guests
 * (vs-destroy: the guest's inodes, and with them their ids, are gone). */
void vs_guest_quota_clear(uint64_t projid);

/* The quota's use and size for the tree at @tree, when it has one:
 * -ENODATA when it has none. */
int vs_guest_quota_usage(const char *tree, uint64_t *ret_used, uint64_t *ret_size);
