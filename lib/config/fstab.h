/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "config.h"
#include "mount.h"

/* Reads a guest's extra mounts (/etc/vservers/NAME.fstab, fstab format,
 * parsed with libmount) and appends them to @plan: binds of host
 * directories or files (options bind/rbind, ro), and filesystems such as
 * tmpfs. Targets are paths inside the guest. A missing file is no error.
 * A bad line fails with -EINVAL and fills @err with its number and why. */
int vs_fstab_load(const char *path, struct vs_mount_plan *plan, struct vs_error *err);
