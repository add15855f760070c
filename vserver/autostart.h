/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest.h"
#include "util.h"

/* The host's boot and shutdown: starting every guest with autostart = yes in
 * order, and stopping every running guest in reverse order. */

/* One guest in the start order. */
struct vs_order_node {
        const char *name;
        uint64_t order;
        char **depends; /* guest names, NULL-terminated; may be NULL */
        int level;      /* set by vs_order_levels(): level 0 starts first */
};

/* Places every node in a level. The distinct order values, lowest first,
 * give the levels (one per value); a node that depends on others goes at
 * least one level after the last of them. The nodes of one level can then
 * start in parallel once the levels before are up, and stop in parallel,
 * highest level first.
 * Strict: a dependency on a name that is not among @nodes fails with -ENOENT
 * and a dependency cycle with -ELOOP, @err naming the guests; nothing is set.
 * Lenient (stopping, where every guest must go anyway): unknown names are
 * ignored, and a cycle puts every node at its order's level. */
int vs_order_levels(struct vs_order_node *nodes, size_t n, bool strict, struct vs_error *err);

enum vs_batch_status {
        VS_BATCH_WAITING, /* its level has not come yet */
        VS_BATCH_BUSY,    /* being started or stopped */
        VS_BATCH_UP,      /* started and ready */
        VS_BATCH_ALREADY, /* was running already, and is ready */
        VS_BATCH_STOPPED, /* halted cleanly within its stop_timeout */
        VS_BATCH_KILLED,  /* killed after its stop_timeout */
        VS_BATCH_FAILED,
        VS_BATCH_SKIPPED, /* not started: a guest it depends on failed */
};

struct vs_batch_item {
        char name[VS_NAME_MAX + 1];
        int level;
        uint64_t order;
        unsigned timeout; /* its start_timeout or stop_timeout, seconds */
        bool needed;      /* not autostart, started because another guest depends on it */
        enum vs_batch_status status;
        uint64_t usec;    /* how long the start or the stop took */
        char msg[512];    /* why it failed or was skipped */
};

static inline bool vs_batch_failed(const struct vs_batch_item *it)
{
        return it->status == VS_BATCH_FAILED || it->status == VS_BATCH_SKIPPED;
}

struct vs_batch_opts {
        /* Called in the calling process when a guest's start or stop begins
         * (status VS_BATCH_BUSY) and when it ends; may be NULL. */
        void (*progress)(const struct vs_batch_item *it, void *userdata);
        void *userdata;
        bool dry_run; /* vs_guests_autostart(): order the guests, start none */
};

/* Starts every guest whose config says autostart = yes, and the guests they
 * depend on, level by level (see vs_order_levels()): the guests of a level
 * start in parallel, each in a process of its own, and the next level waits
 * until each is ready (see vs_guest_ready()) or has failed; a guest gets its
 * start_timeout to become ready (one that is late is left running and counts
 * as failed). A guest whose dependency failed is skipped; the others go on.
 * Returns 0 with every guest's outcome in *ret (free()), failures included, or
 * -errno with @err set when nothing was started: a dependency on a guest that
 * does not exist, a dependency cycle, an unreadable config directory. */
int vs_guests_autostart(const struct vs_batch_opts *o, struct vs_batch_item **ret, size_t *ret_n,
                        struct vs_error *err);

/* Stops every running guest, highest level first, the guests of a level in
 * parallel, each with its stop_timeout (then killed); at the end kills any
 * guest still running. Returns 0 with the outcomes in *ret (free()), or -errno
 * with @err set when the guests cannot be listed. */
int vs_guests_stop_all(const struct vs_batch_opts *o, struct vs_batch_item **ret, size_t *ret_n,
                       struct vs_error *err);
