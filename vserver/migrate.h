/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "guest.h"

/* vs-migrate: a guest moved to another host running vserver, over ssh.
 *
 * Here (vserver/migrate.c): the other host checks that it can take the
 * guest, then the guest is copied while it runs (vserver/copy.c) into a
 * staging directory there, frozen for a pass over what changed, installed
 * there while still frozen (a restore of that staging copy, moved into
 * place: vserver/backup-restore.c), killed here, started there, and only
 * then removed here. Until the start there succeeds the guest is whole
 * here: a failure thaws it (or starts it again when it was stopped for the
 * move) and the other host removes what it received.
 *
 * There (vserver/migrate-receive.c): `vs-migrate --receive STEP ...` run by
 * ssh, one step per connection: check, install, start, done, abort. */

struct vs_migrate_opts {
        const char *name;
        const char *host;       /* [USER@]HOST */
        const char *ssh;        /* remote shell command, split on blanks; NULL: "ssh" */
        const char *remote;     /* the command vs-migrate on @host; NULL: "vs-migrate" */
        bool offline;           /* stop it cleanly first instead of freezing it */
        bool keep_source;       /* keep it here afterwards, stopped, autostart off */
        bool check_only;        /* only ask @host whether it can take the guest */
        bool progress;          /* rsync's progress on stdout */
        /* Each step as it begins ("checking HOST", "copying", ...). */
        void (*say)(void *data, const char *msg);
        void *data;
};

struct vs_migrate_result {
        const char *mode;        /* "live", "offline" or "stopped" */
        bool started;            /* running on @host afterwards */
        uint64_t downtime_usec;  /* from the freeze (or the stop) to ready there; 0 for a stopped guest */
        uint64_t freeze_usec;    /* how long it was frozen here (live) */
        uint64_t transferred;    /* bytes of file data sent */
};

int vs_guest_migrate(const struct vs_migrate_opts *o, struct vs_migrate_result *res, struct vs_error *err);

/* The other host's side: argv after "--receive" (STEP ARGS...). Prints
 * what the step returns on stdout, everything else on stderr (the steps'
 * progress through @say, which prints on stdout: stderr then); returns an
 * exit status. */
int vs_migrate_receive(int argc, char **argv, vs_say_fn *say, void *say_data);

/* Where a migration's copy waits on the receiving host, one directory per
 * guest: a backup store (vserver/backup.h) of one backup. */
#define VS_MIGRATE_DIR ".migrate"
