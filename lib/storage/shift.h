/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>

/* Ids [from, from + count) become [to, to + count). */
struct vs_shift {
        uint64_t from, to, count;
};

/* Shifts the owners of every file under @root (one file system: mounts
 * below are left alone) and @root itself, with the ids named by POSIX ACLs
 * and the root id of v3 file capabilities; ids outside the range stay.
 * Setuid and setgid bits, which a change of owner clears, are kept. */
int vs_tree_shift(const char *root, const struct vs_shift *s);
