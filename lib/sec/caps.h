/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Capabilities a guest keeps by default: what a full system's init and
 * services use, minus what reaches the host kernel as a whole (modules, raw
 * I/O, the clock, MAC policy, audit rules, accounting, the kernel log,
 * locking memory beyond RLIMIT_MEMLOCK, BPF, perf). */
uint64_t vs_caps_default_keep(void);

/* A guest's bounding set: the default set, plus @keep, minus @drop. A guest
 * without the seccomp filter (@seccomp false) loses dac_read_search from the
 * default set, as the filter is what keeps it from open_by_handle_at(2). */
uint64_t vs_caps_guest_bounding(uint64_t keep, uint64_t drop, bool seccomp);

/* Drops every capability not in @keep from the bounding set and clears the
 * ambient set, so nothing exec'd later can regain them. */
int vs_caps_limit_bounding(uint64_t keep);

/* True when the caller has capability @cap in its effective set. */
bool vs_caps_have(int cap);

/* Reads the bounding set of @pid from /proc/PID/status. */
int vs_caps_read_bounding(pid_t pid, uint64_t *ret);

/* Parses a capability name ("sys_admin", "CAP_SYS_ADMIN", any case; or a
 * number for one newer than vserver) into its number. */
int vs_caps_from_name(const char *name, int *ret);
/* The name of capability @cap without "cap_" ("sys_admin"), or its number
 * written into @buf when vserver does not know it. */
const char *vs_caps_name(int cap, char *buf, size_t len);
