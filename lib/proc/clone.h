/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <sys/types.h>

/* Forks (a raw clone without a new stack: the child returns 0 with its own
 * copy of our memory) into the new namespaces in @flags (CLONE_NEW*). With
 * @cgroup_fd >= 0 (a cgroup v2 directory) the child starts in that cgroup
 * (clone3 CLONE_INTO_CGROUP), which costs no migration; where the kernel
 * cannot do that, returns -1 with errno EOPNOTSUPP so the caller can clone
 * plainly and move the child itself. Returns the pid, 0 in the child. */
pid_t vs_clone_into(unsigned long flags, int cgroup_fd);

/* Makes a pipe (both ends close-on-exec; [0] reads, [1] writes) into
 * @ret_pipe, flushes stdio so nothing buffered is written twice, and forks.
 * Returns the child's pid in the parent and 0 in the child, each with both
 * ends open; on failure -errno, with no pipe left open. */
pid_t vs_fork_pipe(int ret_pipe[2]);
