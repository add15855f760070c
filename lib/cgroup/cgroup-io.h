/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

#include "cgroup.h"

/* A guest's I/O limits on one block device ([io] in vserver.conf(5)). */
struct vs_io_limits {
        uint64_t weight; /* proportional share 1..10000, 100 the default; 0: leave alone */
        uint64_t rbps;   /* bytes/s; 0: no limit */
        uint64_t wbps;
        uint64_t riops;  /* requests/s; 0: no limit */
        uint64_t wiops;
};

/* Whether any limit is set. */
static inline bool vs_io_limits_any(const struct vs_io_limits *l)
{
        return l->weight || l->rbps || l->wbps || l->riops || l->wiops;
}

/* The cgroup v2 io.max line for @dev, "MAJ:MIN rbps=N wbps=N riops=N
 * wiops=N", each 0 written as "max" (which lifts that limit). */
int vs_io_max_format(dev_t dev, const struct vs_io_limits *l, char *buf, size_t len);

/* Reads the limits of @dev from the text of an io.max file (one line per
 * device, keys in any order, "max" for none); -ENOENT when @dev has no
 * line (no limit at all). Leaves the weight alone. */
int vs_io_max_parse(const char *text, dev_t dev, struct vs_io_limits *ret);

/* The block device whose queue the kernel throttles for I/O to files on the
 * filesystem of @st_dev: the whole disk of a partition (io.max and the v1
 * throttle files refuse partitions), device-mapper and loop devices as
 * themselves. -ENOTBLK when @st_dev is no block device (tmpfs, overlay,
 * btrfs and other anonymous devices). @sysfs is "/sys" but for tests. */
int vs_io_whole_disk(const char *sysfs, dev_t st_dev, dev_t *ret);

/* The active I/O scheduler of @dev ("none", "bfq", ...) into @buf. */
int vs_io_scheduler(const char *sysfs, dev_t dev, char *buf, size_t len);

/* Writes @l for @dev to the guest's group: on v2 io.max and io.weight /
 * io.bfq.weight, on v1 the blkio.throttle.*_device files and blkio.weight /
 * blkio.bfq.weight. The weight goes in as the group's default (every
 * device); bfq takes 1..1000, so larger weights are capped there. Sets
 * *@ret_weight_files to how many weight files took the weight. On failure
 * names the file in @err. */
int vs_cgroup_set_io(struct vs_cgroup *cg, dev_t dev, const struct vs_io_limits *l, unsigned *ret_weight_files,
                     struct vs_error *err);

/* Whether a weight on @dev has an effect: its scheduler is bfq, or (v2)
 * the io cost model is enabled for it. When not, @err says why. */
bool vs_io_weight_honoured(const struct vs_cgroup *cg, dev_t dev, struct vs_error *err);

/* Bytes the guest's group has read and written on @dev (all devices with
 * @dev 0): v2 io.stat, v1 blkio.throttle.io_service_bytes_recursive. */
int vs_cgroup_read_io(const struct vs_cgroup *cg, dev_t dev, uint64_t *ret_read, uint64_t *ret_written);

/* Parsers of those two files, for tests: the sums for @dev (0: all). */
void vs_io_stat_parse_v2(const char *text, dev_t dev, uint64_t *ret_read, uint64_t *ret_written);
void vs_io_stat_parse_v1(const char *text, dev_t dev, uint64_t *ret_read, uint64_t *ret_written);
