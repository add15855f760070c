/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "cgroup-io.h"
#include "config.h"
#include "guest.h"

/* The guest's [io] limits as the cgroup code takes them. */
void vs_guest_io_limits(const struct vs_config *c, struct vs_io_limits *ret);

/* The device (st_dev) of the filesystem that holds the data of the guest
 * about to start: for image the mounted image @image_fd (its loop device),
 * for shared the upper layer's, for dir the tree's at @rootfs. */
int vs_guest_io_device(const struct vs_config *c, const char *rootfs, int image_fd, dev_t *ret);

/* At start, before the guest's first process: resolves @st_dev to the
 * block device the kernel throttles, records it in RUNDIR/io_device for
 * vs-limit and vs-stat, and writes the [io] limits there. A device that is
 * no block device, or a weight the device's scheduler ignores, is no
 * failure: a warning line for vs-start to say is appended to @warn. */
int vs_guest_io_start(const char *name, struct vs_cgroup *cg, const struct vs_config *c, dev_t st_dev,
                      const char *rundir, char *warn, size_t warn_len, struct vs_error *err);

/* vs-limit on a running guest: writes @c's [io] limits to the device its
 * start recorded; without one, says so as a warning (the config keeps
 * them). */
int vs_guest_io_live(const char *name, struct vs_cgroup *cg, const struct vs_config *c, struct vs_error *err);

/* Bytes the running guest read and wrote on its device (every device when
 * none is recorded). */
int vs_guest_io_bytes(const char *name, struct vs_cgroup *cg, uint64_t *ret_read, uint64_t *ret_written);
