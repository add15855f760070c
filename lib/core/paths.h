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

/* The value of key @key in section @section of each guest's configuration
 * in @confdir (the guests of vs_confdir_foreach()), as a new array of
 * elements of @size bytes in *@ret_array (a pointer to the caller's array
 * pointer), their number in *@ret_n. Each element's first member is a
 * char * that the reader sets to the guest's name; @parse fills the rest
 * from the key's text (the last one the file holds) and returns 0, or < 0
 * to leave the guest out; it allocates nothing. Only the one key is read,
 * whatever else in the file fails to parse or check, so that a guest whose
 * config broke still holds what it claims; a file without the key, or that
 * cannot be opened, gives no element. -ENOMEM, or -errno from reading
 * @confdir, with *@ret_array and *@ret_n untouched. */
int vs_confdir_values(const char *confdir, const char *section, const char *key, size_t size,
                      int (*parse)(const char *value, void *elem), void *ret_array, size_t *ret_n);
/* Frees such an array of @n elements of @size bytes, and their names. */
void vs_confdir_values_free(void *array, size_t n, size_t size);
