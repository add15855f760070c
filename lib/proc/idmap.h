/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Host id ranges of unprivileged guests. An unprivileged guest's user
 * namespace maps its ids 0..COUNT-1 to host ids HOSTID..; the ranges come
 * from what /etc/subuid and /etc/subgid give root, and no two guests share
 * an id. Every function takes its paths, so unit tests run on files in a
 * temporary directory. */

#define VS_IDMAP_COUNT 65536u /* what idmap = auto takes */
#define VS_IDMAP_MIN_HOST 65536u /* no guest id is one of the host's own */

struct vs_idrange {
        uint64_t start, count;
};

/* A guest's recorded range (guest.idmap = HOSTID:COUNT in NAME.conf). */
struct vs_guest_idmap {
        char *name;
        uint64_t host, count;
};

/* The subordinate id files, /etc/subuid and /etc/subgid unless VS_SUBUID
 * and VS_SUBGID name others (the test suite's). */
const char *vs_subuid_path(void);
const char *vs_subgid_path(void);

/* Reads the ranges the subordinate id file @path gives root (lines
 * "root:START:COUNT" or "0:START:COUNT"); a missing file has none.
 * Malformed lines are skipped, as shadow-utils does. */
int vs_subid_read(const char *path, struct vs_idrange **ret, size_t *ret_n);

/* Gives root a range in @subuid and @subgid where it has none: 1000000000
 * ids from 1000000, or from above every entry of either file when one
 * overlaps those. Returns a mask of the files changed (1: @subuid,
 * 2: @subgid), with the range added in @ret_added. */
int vs_subid_install(const char *subuid, const char *subgid, struct vs_idrange *ret_added);

/* The ranges recorded in every guest configuration NAME.conf in @confdir
 * (defaults.conf and files without guest.idmap aside). */
int vs_idmap_list(const char *confdir, struct vs_guest_idmap **ret, size_t *ret_n);
void vs_idmap_list_free(struct vs_guest_idmap *v, size_t n);

/* The first guest of @v other than @self whose range overlaps
 * [@host, @host + @count), or NULL. */
const struct vs_guest_idmap *vs_idmap_overlap(const struct vs_guest_idmap *v, size_t n, const char *self,
                                              uint64_t host, uint64_t count);

/* The lowest HOSTID such that [HOSTID, HOSTID + @count) lies within one
 * range of @uids and one of @gids, at or above VS_IDMAP_MIN_HOST, and
 * overlaps no guest of @used but @self. -ENOSPC when there is none. */
int vs_idmap_pick(const struct vs_idrange *uids, size_t nu, const struct vs_idrange *gids, size_t ng,
                  const struct vs_guest_idmap *used, size_t nused, const char *self, uint64_t count,
                  uint64_t *ret_host);

/* What vs_idmap_assign() did, for the caller to say. */
struct vs_idmap_result {
        uint64_t host, count;
        bool allocated;         /* auto: a new range, recorded in the config */
        unsigned installed;     /* mask as vs_subid_install() returns */
        struct vs_idrange added;
        char conflict[256];     /* -EEXIST: the other guest's name */
        uint64_t conflict_host, conflict_count;
};

/* idmap = auto without recording: the lowest free range of 65536 ids
 * (installing root's subordinate range where it has none, as
 * vs_idmap_assign() does) in @ret. The caller holds vs_idmap_lock() and
 * records the range before letting it go. */
int vs_idmap_choose_locked(const char *confdir, const char *name, const char *subuid, const char *subgid,
                           struct vs_idmap_result *ret);

/* Takes the lock on @confdir under which ranges are chosen and recorded
 * (an exclusive flock of the directory); the fd in @ret_fd. */
int vs_idmap_lock(const char *confdir, int *ret_fd);

/* -EEXIST (the other guest in @ret->conflict) when the explicit range
 * [@host, @host + @count) overlaps the range of a guest in @confdir other
 * than @name; 0 when it is free or @count is 0 (auto). For a check before
 * the range is written, under vs_idmap_lock(). */
int vs_idmap_check(const char *confdir, const char *name, uint64_t host, uint64_t count,
                   struct vs_idmap_result *ret);

/* Settles the range of guest @name, whose configuration is @conf (in
 * @confdir) and has guest.idmap = @host:@count (count 0: auto). Under a
 * lock on @confdir, so that two starts never pick the same range: an
 * explicit range overlapping another guest's is -EEXIST (the other guest in
 * @ret->conflict); auto picks a range (installing root's subordinate ranges
 * first when it has none) and records it in @conf. */
int vs_idmap_assign(const char *confdir, const char *conf, const char *name, uint64_t host, uint64_t count,
                    const char *subuid, const char *subgid, struct vs_idmap_result *ret);

/* Writes the uid_map and gid_map of @pid (in a user namespace of its own,
 * not yet mapped): its ids 0..@count-1 are host ids @host... */
int vs_idmap_write_maps(pid_t pid, uint64_t host, uint64_t count);

/* 0 when the file system of @path allows id-mapped mounts (as unprivileged
 * guests' roots and binds need), else the -errno mount_setattr(2) gave
 * (EINVAL: the file system cannot). Needs the host's root. */
int vs_idmap_mount_supported(const char *path);
