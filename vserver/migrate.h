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

/* The other host's side, one function per step of `vs-migrate --receive
 * STEP NAME ...` (sbin/vs-migrate.c parses the words and prints): what a
 * step answers the sender goes to @out, its progress through @say, what
 * else it has to tell through vs_warn().
 *
 * check: can this host take guest @name (its config on stdin, @bytes of
 * data, shared over template version @tver or "-")? Answers "staging=DIR". */
int vs_migrate_receive_check(const char *name, const char *id, const char *bytes, const char *tver, FILE *out,
                             struct vs_error *err);
/* install: answers "ready", installs the copy in DIR once the sender's
 * "install" comes on stdin, answers "installed", then starts the guest or
 * keeps it stopped as the sender's next word says (anything else: removed
 * again). */
int vs_migrate_receive_install(const char *name, const char *id, FILE *out, vs_say_fn *say, void *say_data,
                               struct vs_error *err);
/* abort: DIR removed, and a guest installed from it unless it runs. */
int vs_migrate_receive_abort(const char *name, struct vs_error *err);

/* Where a migration's copy waits on the receiving host, one directory per
 * guest: a backup store (vserver/backup.h) of one backup. */
#define VS_MIGRATE_DIR ".migrate"
