/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "cgroup.h"
#include "guest.h"

/* A running guest's state, /run/vservers/NAME/state, written by its
 * supervisor once init runs. Pids come with their start times so a reused
 * pid is never taken for the guest. */
struct vs_state {
        pid_t supervisor_pid;
        uint64_t supervisor_starttime;
        pid_t init_pid;
        uint64_t init_starttime;
        time_t started;
        int halt_signal;
        char *backend;   /* "v1" or "v2" */
        char **cgroups;  /* host paths of the guest's groups */
        char **controllers; /* the controllers of each, "-" for cgroup2 */
};

void vs_state_clear(struct vs_state *s);
int vs_state_read(const char *name, struct vs_state *ret);
/* The run state is written in two steps: as "state.new", which no reader
 * looks at, then renamed into place. */
int vs_state_stage(const char *name, const struct vs_state *s);
int vs_state_publish(const char *name);
bool vs_pid_alive(pid_t pid, uint64_t starttime);

/* Opens the guest's directory and takes its lock, which the supervisor holds
 * for the guest's whole life. -EBUSY when someone else holds it; -ENOENT when
 * the guest does not exist. @shared takes a shared lock (a probe). */
int vs_guest_lock(const char *name, bool shared, int *ret_fd);

/* Like vs_guest_lock(), exclusive, but waits up to 5 s for a concurrent probe
 * or start to let go. */
int vs_guest_lock_wait(const char *name, int *ret_fd);

/* A guest directory holding this file is a half-built or half-destroyed
 * leftover that the next build may remove. */
#define VS_INCOMPLETE_MARK ".vs-incomplete"

/* Removes what a guest left behind (cgroups, run state). The caller holds the
 * guest's lock exclusively. */
int vs_guest_cleanup(const char *name);

/* Fails with -EINVAL (and says so in @err) when @name is not a valid guest name. */
int vs_check_name(const char *name, struct vs_error *err);

/* Loads guest @name's config: -EINVAL when @name is not a valid guest name
 * (before any path is made of it), -ENOENT when the guest has no config,
 * -EINVAL when the config does not parse; @err names the guest or its file
 * (NAME.conf), with the line and key where the parser found one. The one
 * loader for a name a user gave. */
struct vs_config;
int vs_load_guest_config(const char *name, struct vs_config **ret, struct vs_error *err);

/* vs_load_guest_config() without the name check, for callers that checked
 * the name already; its remaining callers move to the one above. */
int vs_load_config(const char *name, struct vs_config **ret, struct vs_error *err);

/* On a cgroup v2 host run by systemd, refuses (-EPERM, with the way out in
 * @err) to start guest @name from a group systemd did not delegate to us,
 * such as an ssh session's scope: vs-start would move that unit's
 * processes into a leaf of its own and hang the guests below it. 0 when
 * the group is ours (a unit with Delegate=yes, no systemd, cgroup v1). */
int vs_check_cgroup_owner(const struct vs_cgroup *cg, const char *name, struct vs_error *err);
