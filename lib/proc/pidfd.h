/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Signalling processes named by pid, without hitting a later owner of the
 * pid. A pidfd names one process for good: a signal sent through it reaches
 * that process or, once it has been reaped, none (-ESRCH). So a check made
 * through /proc/PID (or a list such as cgroup.procs) after the pidfd was
 * opened, followed by a signal through the pidfd that gets there, proves the
 * check was about the process signalled: the pid cannot change hands while
 * the process is not reaped. */

/* Opens a pidfd (close-on-exec) for @pid; -errno, -ESRCH when there is none. */
int vs_pidfd_open(pid_t pid);

/* Sends @sig (0: only checks) to the process of @pidfd; 0, or -ESRCH once it
 * has been reaped. */
int vs_pidfd_signal(int pidfd, int sig);

/* Opens a pidfd for @pid and, after opening it, checks that @pid still is the
 * running process that started at @starttime (see vs_proc_starttime()).
 * Returns the fd, or -ESRCH when the process has exited, is a zombie, or the
 * pid now names another process. */
int vs_pidfd_open_started(pid_t pid, uint64_t starttime);

/* Sends @sig to @pid only if it is the running process that started at
 * @starttime; -ESRCH otherwise. */
int vs_pid_signal_started(pid_t pid, uint64_t starttime, int sig);

/* Reads a list of pids again (a cgroup's members); returns 0 or -errno. */
typedef int (*vs_pid_list_fn)(void *data, pid_t **ret, size_t *ret_n);
/* Acts on one process of the list; @pidfd holds it. A result of -ESRCH
 * means the process was gone, which callers count as not reached. */
typedef int (*vs_pid_act_fn)(int pidfd, pid_t pid, void *data);

/* Runs @act on each of @pids (just read from a list) that the list still
 * holds once a pidfd for it is open: pidfds for all of @pids first, then
 * @relist, then @act on the pids found in both. A pid that exited and was
 * reused by a process outside the list in the meantime is never acted on.
 * @act must end with something that goes through the pidfd (a signal, or
 * vs_pidfd_signal(pidfd, 0) after an action by pid), which proves the pid
 * still named the listed process. Returns the number of processes @act
 * reached (returned 0 for), or -errno when @relist fails. */
int vs_pids_act_listed(const pid_t *pids, size_t n, vs_pid_list_fn relist, void *list_data, vs_pid_act_fn act,
                       void *act_data);

/* vs_pids_act_listed() sending @sig through the pidfd. */
int vs_pids_signal_listed(const pid_t *pids, size_t n, vs_pid_list_fn relist, void *list_data, int sig);

/* True when @pid lives in a user namespace other than ours (an
 * unprivileged guest's process). */
bool vs_pid_in_other_userns(pid_t pid);
