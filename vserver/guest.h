/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdio.h>

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "error.h"
#include "say.h"

/* The guest runtime: the sequences that make, run and end a guest. Every
 * entry point returns 0 or a negative errno; where a message more precise
 * than strerror() exists (a config line, the step that failed inside the
 * guest) it is left in @err for the command to print once. */

struct vs_build_opts {
        const char *name;
        const char *template_name; /* default "debian" */
        const char *release;       /* default "bookworm" */
        const char *arch;          /* default: the host's */
        const char *init;          /* "systemd" (default) or "sysvinit" */
        const char *include;       /* comma list of packages */
        const char *mirror;
        const char *hostname;
        bool force;              /* also: clone a running guest, frozen for the copy */
        const char *clone_from;  /* copy this (stopped) guest instead of a template */
        const char *from_tar;    /* import this root tarball instead of a template */
        /* "section.key=value" settings for the guest's config, validated
         * with the config parser before anything is made. */
        char **settings;
        /* first-boot access (vserver/provision.c) */
        char **ssh_key_files;      /* --ssh-key: public key files for root */
        const char *password_file; /* --root-password-file: root's password, "-": stdin */
        const struct vs_restore_src *restore; /* vs-restore: from a backup (vserver/backup.h) */
        vs_say_fn *say; /* its steps (vs_say()) */
        void *say_data;
};
int vs_guest_build(const struct vs_build_opts *o, struct vs_error *err);

struct vs_start_opts {
        bool foreground; /* console on stdio; return when init exits */
        FILE *dry_run;   /* print the plan here, start nothing */
        bool wait;       /* return once the guest is ready (see vs_guest_ready()) */
        unsigned wait_sec; /* how long --wait waits at most; 0: the guest's start_timeout */
};
/* In the foreground, *ret_exit receives the guest's exit status (0 for a
 * clean power-off). */
int vs_guest_start(const char *name, const struct vs_start_opts *o, struct vs_error *err, int *ret_exit);

/* Runs @argv (NULL: a login shell) inside the running guest; *ret_status is
 * the command's exit status (128+N when killed by signal N). */
int vs_guest_enter(const char *name, char **argv, struct vs_error *err, int *ret_status);

/* Asks the guest's init to halt, waits up to @timeout_sec, then kills every
 * process of the guest. Returns 0 when the guest is stopped afterwards,
 * including when it was not running. */
int vs_guest_stop(const char *name, unsigned timeout_sec, struct vs_error *err);
/* As a timeout: the guest's own stop_timeout (vserver.conf(5)). */
#define VS_STOP_TIMEOUT_CONFIG ((unsigned)-1)
/* Like vs_guest_stop(); *ret_killed (may be NULL) tells whether the guest
 * had to be killed because it did not halt within the timeout. */
int vs_guest_stop_full(const char *name, unsigned timeout_sec, bool *ret_killed, struct vs_error *err);

/* Attaches the caller's terminal to the guest's console until the detach
 * key (Ctrl-]) or the guest stops. */
int vs_guest_console(const char *name, struct vs_error *err);

int vs_guest_destroy(const char *name, bool force, struct vs_error *err);

/* Writes guest @name's root as a tarball to @out_fd, compressed with
 * @compress (zstd, gzip, xz, none). A running guest is refused unless
 * @force, which freezes it and reads it through its init's root. */
int vs_guest_export(const char *name, bool force, const char *compress, int out_fd, struct vs_error *err);

enum vs_guest_state {
        VS_GUEST_STOPPED,
        VS_GUEST_RUNNING,
        VS_GUEST_STARTING, /* locked by a start, build or destroy in progress */
        VS_GUEST_STALE,    /* not running, but a dead supervisor's run state (cgroups,
                            * run directory, network) is left: the next vs-start or
                            * vs-stop clears it; a listing only reports it */
};

struct vs_guest_info {
        char *name;
        enum vs_guest_state state;
        pid_t init_pid; /* host pid of the guest's init when running */
        pid_t supervisor_pid;
        time_t started; /* wall clock, when running */
        char *address;  /* "A/N,B/N": every address; NULL until the guest has a network */
        char *veth;
        bool autostart;
        uint64_t order;
        /* guest.userns; when running, what its init's uid_map says. The
         * host ids idmap_host.. (idmap_count of them; 0: "auto", not yet
         * chosen by a first start). */
        bool unprivileged;
        uint64_t idmap_host, idmap_count;
};
void vs_guest_info_clear(struct vs_guest_info *i);

/* Tells a guest's state; changes nothing (a dead supervisor's leftovers
 * show as VS_GUEST_STALE, cleared by start, stop and destroy). */
int vs_guest_info(const char *name, struct vs_guest_info *ret, struct vs_error *err);
/* Every guest with a config in the config directory, sorted by name. */
int vs_guest_list(struct vs_guest_info **ret, size_t *ret_n);

const char *vs_guest_state_name(enum vs_guest_state s);

/* Writes @i to @out as one JSON object (vs-list --json, vs-status --json):
 * name, state, pid (null unless running), address (the first), addresses
 * (all, either family; [] without a network), veth (null unless
 * running), uptime in seconds, autostart, order, unprivileged, idmap
 * ({"host","count"}, "auto" before the first start, or null) and
 * supervisor_pid (null unless running). */
void vs_guest_info_json(FILE *out, const struct vs_guest_info *i);

/* Changes limits ("rss=1G", "cpu.weight=300", ...): all are validated
 * first; a running guest gets them at once; the config keeps them. */
int vs_guest_limit(const char *name, char **assignments, vs_say_fn *say, void *say_data, struct vs_error *err);
struct vs_config;
/* The guest's config with @assignments applied and checked, changing
 * nothing (n may be 0); @ret_keys: the full key each assignment names. */
int vs_guest_limit_preview(const char *name, char **assignments, struct vs_config **ret, char ***ret_keys,
                           struct vs_error *err);
/* One JSON object (vs-limit --json): name, dry_run, changed (the keys
 * given) and limits, each key's value in bytes, bits/s, percent of a CPU
 * or a count; null where there is no limit. */
void vs_guest_limits_json(FILE *out, const char *name, const struct vs_config *c, char **keys, bool dry_run);

struct vs_guest_stats {
        char *name;
        uint64_t cpu_usec;
        uint64_t rss_bytes;
        uint64_t anon_bytes;
        uint64_t memlock_bytes;
        uint64_t pids;
        uint64_t oom_kills; /* the kernel's, plus the supervisor's ANON kills */
        uint64_t anon_kills; /* the supervisor's ANON kills alone (in oom_kills too) */
        uint64_t net_rx_bytes; /* received by the guest on eth0 (0: no network) */
        uint64_t net_tx_bytes; /* sent by the guest */
        bool net_filtered;     /* anti-spoofing rules on its veth */
        uint64_t net_dropped;  /* packets they dropped */
        uint64_t disk_used;  /* bytes of the guest's own storage (image, upper layer or tree) */
        uint64_t disk_size;  /* the image's size; 0: no limit */
        uint64_t io_read_bytes;  /* read from the guest's block device (vserver/guest-io.h) */
        uint64_t io_write_bytes; /* written to it */
};
/* Usage of one running guest. */
int vs_guest_stats(const char *name, struct vs_guest_stats *ret, struct vs_error *err);
