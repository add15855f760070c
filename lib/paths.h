/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Host directories. Each comes from configure and can be overridden by an
 * environment variable, which the test suite uses to keep its guests apart:
 *   VS_CONFDIR    /etc/vservers             NAME.conf, NAME.fstab, defaults.conf
 *   VS_GUESTDIR   /var/lib/vservers         NAME/rootfs
 *   VS_CACHEDIR   /var/cache/vservers       templates/
 *   VS_RUNDIR     /run/vservers             NAME/ run state
 *   VS_LOGDIR     /var/log/vservers         NAME.console
 *   VS_TEMPLATE_PATH  colon-separated directories searched for templates */
const char *vs_confdir(void);
const char *vs_guestdir(void);
const char *vs_cachedir(void);
const char *vs_rundir(void);
const char *vs_logdir(void);
const char *vs_template_path(void);

/* Allocated paths for guest @name. */
char *vs_conf_path(const char *name);
char *vs_fstab_path(const char *name);
char *vs_guest_path(const char *name);
char *vs_rootfs_path(const char *name);
char *vs_run_path(const char *name);
char *vs_console_log_path(const char *name);

/* Calls @fn with the name and the path of each guest's configuration in
 * @confdir (NAME.conf for a valid NAME; defaults.conf is not a guest), in
 * directory order; a missing @confdir has none. Stops at @fn's first
 * negative return and returns it; else 0, or -errno from reading @confdir. */
int vs_confdir_foreach(const char *confdir, int (*fn)(const char *name, const char *path, void *arg), void *arg);
