/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Guest events: what happens to a guest (start, ready, stop and how, OOM and
 * ANON kills, limit changes), recorded by the process that sees it (the
 * supervisor, its undertaker, vs-limit) as one JSON line appended to the
 * host-wide events file RUNDIR/.events and as one syslog(3) message. There is
 * no daemon: vs-events follows the file with inotify. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"

#define VS_EVENTS_FILE ".events"
#define VS_EVENTS_OLD_FILE ".events.1"
/* Past this size the file is renamed to .events.1 (replacing it) and a new
 * one begun: the history holds between one and two of these. */
#define VS_EVENTS_MAX_BYTES (1024 * 1024)
/* One line at most: written with one write(2) under the file's lock. */
#define VS_EVENT_LINE_MAX 1024

/* Records event @event of guest @name: "key", "value" pairs follow, ending
 * with NULL (a value of digits only is written as a JSON number). @prio is the
 * syslog priority. The syslog message is sent even when the file cannot be
 * written; returns 0 or the -errno of the file. */
int vs_event_record(const char *name, int prio, const char *event, ...) __attribute__((sentinel));

/* The recorders' own events, each one call where it happens; failures to
 * write the file are ignored (the syslog message still goes). */
void vs_event_start(const char *name, pid_t init_pid, bool userns);
void vs_event_ready(const char *name, const char *how);
/* Init ended with wait status @status: how (halt, poweroff, reboot, crash,
 * killed) is told from it (see vs_event_stop_how). */
void vs_event_stop(const char *name, int status);
/* The undertaker: the supervisor died outright and took the guest with it. */
void vs_event_supervisor_killed(const char *name);
void vs_event_anon_kill(const char *name, const char *what);
/* The guest was thawed by its supervisor: @freezer, which froze it, ended
 * without a thaw. */
void vs_event_thawed(const char *name, pid_t freezer);
/* Reads the kernel's OOM kill count of the guest's groups and records an
 * event when it passed *@seen (then updated). The first call (*@seen ==
 * UINT64_MAX) only takes the count. */
void vs_event_oom_check(const char *name, struct vs_cgroup *cg, uint64_t *seen);
/* cgroup v2: an inotify fd (non-blocking) that turns readable when the
 * guest's memory.events changes, an OOM kill among what it counts, so the
 * kill is recorded at once; vs_event_oom_drain() empties it. -EOPNOTSUPP
 * on v1, which has no such file (the caller looks once a second). */
int vs_event_oom_watch(struct vs_cgroup *cg);
void vs_event_oom_drain(int fd);
/* vs-limit changed @assignments ("key=value"); @live: on the running guest. */
void vs_event_limit(const char *name, char **assignments, bool live);

/* How a guest's init ended, from its wait status: "halt" (exit 0), "poweroff"
 * (SIGINT: reboot(2) power off or halt in its PID namespace), "reboot"
 * (SIGHUP: reboot(2) restart), "killed" (SIGKILL), "crash" (any other exit
 * status or signal). Fills @detail ("exit 3", "signal SIGSEGV"). */
const char *vs_event_stop_how(int status, char *detail, size_t len);

/* One event line, parsed (flat JSON object of strings and numbers). */
struct vs_event {
        char *time;  /* "2026-01-02T03:04:05.678901Z" */
        char *guest;
        char *event;
        char **fields; /* the other keys and values: key, value, key, value, ..., NULL */
};
int vs_event_parse(const char *line, struct vs_event *ret);
void vs_event_clear(struct vs_event *e);
/* The event's time in microseconds since the epoch, 0 when unreadable. */
uint64_t vs_event_time_usec(const struct vs_event *e);

/* What vs-events asks for. */
struct vs_events_query {
        char **names;       /* only these guests; NULL: all */
        uint64_t since_usec; /* history from this time on (0: none, unless @tail) */
        long tail;          /* the last @tail events of the history first; <= 0: none */
        bool history_all;   /* all the history */
        bool follow;        /* then wait for new ones */
};

/* Called for each matching event with its line (no newline); a negative
 * return ends vs_events_follow with it. */
typedef int (*vs_event_cb)(const struct vs_event *e, const char *line, void *data);

/* Prints the history asked for, then (q->follow) follows the events file
 * until @stop_fd is readable (0) or @cb fails. */
int vs_events_follow(const struct vs_events_query *q, int stop_fd, vs_event_cb cb, void *data);
