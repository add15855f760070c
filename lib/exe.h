/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

/* Makes sure the running program is a sealed in-memory copy of itself, so
 * that no process that joins a guest has a writable host binary behind
 * /proc/PID/exe (a guest's root could otherwise reopen it for writing and
 * replace a host program: the runc CVE-2019-5736 class of attack).
 *
 * When /proc/self/exe already is a memfd sealed against writes, returns 0.
 * Otherwise copies /proc/self/exe into a memfd, seals it (no write, grow,
 * shrink or further seals) and executes it with @argv and the current
 * environment: on success it does not return. Returns -errno on failure. */
int vs_exe_reexec_sealed(char **argv);

/* True when the running program is such a sealed copy. */
bool vs_exe_is_sealed(void);
