/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* vs-stat --prometheus: the guests' figures in the Prometheus text
 * exposition format (version 0.0.4), for a scrape or the node exporter's
 * textfile collector. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "guest.h"

/* What one guest contributes to the exposition. */
struct vs_prom_guest {
        const char *name;
        enum vs_guest_state state;
        time_t started;                     /* wall clock, when running */
        const struct vs_guest_stats *stats; /* NULL: no runtime figures (not running) */
        bool net;                           /* running with a network: byte counters */
        /* From its config, 0: none. */
        uint64_t rss_limit, anon_limit, memlock_limit, pids_limit;
};

/* Writes @n guests to @out: each metric family once (HELP, TYPE, then its
 * samples for every guest that has a value), labelled guest="NAME". A
 * family no guest has a value for is left out. */
void vs_prom_write(FILE *out, const struct vs_prom_guest *g, size_t n);

/* Writes @s as a label value's contents: backslash, double quote and line
 * feed escaped as the text format wants. */
void vs_prom_label_value(FILE *out, const char *s);

/* Gathers guests @names (every configured guest when @n is 0) and writes
 * their exposition to standard output, or, with @output, to that file by
 * a temporary file in its directory renamed over it: a reader (the
 * textfile collector) sees the old or the new file, never a torn one.
 * Returns a VS_EXIT_* code, having said what failed. */
int vs_prom_main(char **names, size_t n, const char *output);
