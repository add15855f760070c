/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Output of vs-start --autostart and vs-stop --all: a line per guest as its
 * start or stop begins and ends, then a summary naming every failure. */

#include <stdio.h>

#include "autostart.h"
#include "cmd.h"

static inline void batch_progress(const struct vs_batch_item *it, void *userdata)
{
        bool stopping = *(const bool *)userdata;
        double s = (double)it->usec / 1e6;

        switch (it->status) {
        case VS_BATCH_WAITING:
                break;
        case VS_BATCH_BUSY:
                if (stopping)
                        printf("Stopping %s (order %llu, stop_timeout %us)\n", it->name,
                               (unsigned long long)it->order, it->timeout);
                else
                        printf("Starting %s (order %llu%s)\n", it->name, (unsigned long long)it->order,
                               it->needed ? ", needed by another guest" : "");
                break;
        case VS_BATCH_UP: printf("%s is up (%.1f s)\n", it->name, s); break;
        case VS_BATCH_ALREADY: printf("%s was already running\n", it->name); break;
        case VS_BATCH_STOPPED: printf("%s stopped (%.1f s)\n", it->name, s); break;
        case VS_BATCH_KILLED: log_warning("%s: %s", it->name, it->msg); break;
        case VS_BATCH_SKIPPED:
        case VS_BATCH_FAILED: log_error("%s: %s", it->name, it->msg); break;
        }
        fflush(stdout);
}

/* Prints the summary; returns the exit status. */
static inline int batch_summary(const struct vs_batch_item *v, size_t n, bool stopping)
{
        size_t ok = 0, bad = 0, killed = 0;

        for (size_t i = 0; i < n; i++) {
                if (vs_batch_failed(&v[i]))
                        bad++;
                else
                        ok++;
                if (v[i].status == VS_BATCH_KILLED)
                        killed++;
        }
        if (n == 0) {
                printf(stopping ? "No guest was running\n" : "No guest has autostart = yes\n");
                return VS_EXIT_OK;
        }
        printf("%s %zu of %zu guest%s", stopping ? "Stopped" : "Started", ok, n, n == 1 ? "" : "s");
        if (killed) {
                const char *sep = "";
                printf("; killed after their stop_timeout: ");
                for (size_t i = 0; i < n; i++)
                        if (v[i].status == VS_BATCH_KILLED) {
                                printf("%s%s", sep, v[i].name);
                                sep = ", ";
                        }
        }
        if (bad) {
                const char *sep = "";
                printf("; failed: ");
                for (size_t i = 0; i < n; i++)
                        if (vs_batch_failed(&v[i])) {
                                printf("%s%s (%s)", sep, v[i].name, v[i].msg);
                                sep = ", ";
                        }
        }
        putchar('\n');
        return bad ? VS_EXIT_FAILURE : VS_EXIT_OK;
}
