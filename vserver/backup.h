/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "guest.h"

/* ---- the live copy (vserver/copy.c) ------------------------------------------
 * A guest's storage copied with rsync while it runs, then once more with its
 * processes frozen (cgroup freezer) for what changed meanwhile, then thawed:
 * the copy is the tree of one frozen moment, and the guest stops only for
 * the second pass. A stopped guest is copied once, under its lock. The tree
 * holds the guest's own view of ids (0..65535), whatever the host ids of
 * its files. vs-backup and vs-migrate copy with it. */
struct vs_copy {
        const char *dest;      /* rsync destination of the tree, ending in '/': a path or HOST:PATH */
        const char *ssh;       /* remote shell for HOST:PATH (rsync -e); NULL: "ssh" */
        const char *link_dest; /* rsync --link-dest (relative: to dest): unchanged files are hard links */
        bool progress;         /* rsync's overall progress on stdout */
        /* Each step said as it begins ("Copying guest ... while it runs");
         * NULL: not said. */
        vs_say_fn *say;
        /* Called with the guest frozen, once what changed is copied: the
         * guest stays frozen until it returns, and a failure is the
         * copy's (the guest is thawed either way). NULL: thawed at once. */
        int (*on_frozen)(struct vs_copy *c, struct vs_error *err);
        void *data;            /* for say and on_frozen */
        /* filled in by vs_guest_copy() */
        int layout;             /* enum vs_layout of the guest */
        bool running;           /* copied while running (frozen for the second pass) */
        uint64_t freeze_usec;   /* how long its processes were frozen */
        uint64_t frozen_at;     /* vs_now_usec() when the freeze began */
        uint64_t transferred;   /* bytes of file data written (not hard-linked) */
        char template_version[256]; /* shared: the template version its lower layer is */
};

/* The directory of a copy that holds the tree: "upper" for a shared guest
 * (its own layer; the template is named, not copied), else "rootfs". */
const char *vs_copy_tree_name(int layout);

/* Copies guest @name's tree to @c->dest as described above. On any failure
 * the guest is left thawed and running (a watchdog process thaws it even
 * when the caller is killed outright while it is frozen); what was copied
 * stays at @c->dest for the caller to remove. */
int vs_guest_copy(const char *name, struct vs_copy *c, struct vs_error *err);

/* The info file and config/ of a copy of guest @name with id @id (its
 * layout, state and figures from @c), made in a private directory and
 * sent with rsync to @to (a directory ending in '/', maybe HOST:PATH/). */
int vs_copy_send_meta(const char *name, const char *id, const struct vs_copy *c, const char *to, const char *ssh,
                      struct vs_error *err);

/* The remote shell rsync runs, in the copy's own process, to read a tree
 * through a user namespace (vs-backup --mapped-shell HOST COUNT DIR RHOST
 * COMMAND..., whose words sbin/vs-backup.c reads): rsync's @argv (COMMAND...)
 * as root of a user namespace whose ids 0..@count-1 are host ids @host..,
 * with @dir, opened here, as its source; the sender sees the guest's ids. */
int vs_copy_mapped_shell(uint64_t host, uint64_t count, const char *dir, char **argv, struct vs_error *err);

/* Runs rsync with @argv (NULL-terminated, without the program) and, when
 * a HOST:PATH is among them, @ssh (if not NULL) as its remote shell; exit
 * statuses in @ok (0-terminated list beyond the first 0) count as success.
 * With @ret_transferred, its --stats figure of file bytes written. */
int vs_rsync(char **argv, const char *ssh, const int *ok, uint64_t *ret_transferred, struct vs_error *err);

/* The guest's files in the config directory: NAME.conf, NAME.fstab,
 * NAME.ssh_keys ... (NAME.SUFFIX, no dot in SUFFIX: not another guest's),
 * as a NULL-terminated list of paths. */
int vs_guest_config_files(const char *name, char ***ret, size_t *ret_n);

/* 'x' as a shell word, for a command line a remote shell runs. */
char *vs_shell_quote(const char *x);
/* Fills @argv (room for 64) with the words of the remote shell command
 * @ssh (split at blanks, in place), "--", @host and @cmd, then NULL. */
void vs_ssh_argv(char *argv[64], char *ssh, const char *host, char *cmd);

/* ---- backups (vserver/backup.c) ----------------------------------------------
 * DEST/NAME/ID/ with ID the UTC time (20261202T043000Z): info, config/ (the
 * guest's files from the config directory), and rootfs/ or upper/. Made as
 * DEST/NAME/.partial-ID and renamed at the end: a name without a dot is a
 * complete backup. DEST is a directory or [USER@]HOST:DIR (over ssh). */
struct vs_backup_opts {
        const char *dest;
        const char *ssh;      /* remote shell command; NULL: "ssh" */
        bool progress;
        unsigned keep;        /* then prune to the newest N (0: no count rule) */
        unsigned keep_days;   /* and those younger than D days (0: no age rule) */
        vs_say_fn *say;       /* its steps (vs_say()) */
        void *say_data;
};
int vs_guest_backup(const char *name, const struct vs_backup_opts *o, struct vs_error *err);

struct vs_backup_entry {
        char name[128];
        char id[32];
        char layout[16];
        char template_version[256];
        time_t created;
        bool running;
        uint64_t freeze_usec;
        uint64_t transferred;
};
/* The complete backups in @dest (of guest @name, or all with NULL), sorted
 * by name, then oldest first. */
int vs_backup_list(const char *dest, const char *ssh, const char *name, struct vs_backup_entry **ret, size_t *ret_n,
                   struct vs_error *err);
void vs_backup_entry_json(FILE *out, const struct vs_backup_entry *e);

/* Removes @name's backups in @dest that no rule keeps: the newest @keep,
 * those younger than @keep_days days, and always the newest one. Each is
 * renamed out of sight before it is removed. Prints what goes. */
int vs_backup_prune(const char *dest, const char *ssh, const char *name, unsigned keep, unsigned keep_days,
                    vs_say_fn *say, void *say_data, struct vs_error *err);

/* ---- restore (vserver/backup-restore.c) ------------------------------------ */
struct vs_restore_opts {
        const char *dest;
        const char *ssh;
        const char *name;     /* the backed-up guest */
        const char *as;       /* restore under this name (a copy: new address, MAC, ids); NULL: @name */
        const char *at;       /* this backup id; NULL: the newest */
        bool force;           /* replace a stopped guest of that name */
        /* A migration's (vserver/migrate.c): the tree is moved out of the
         * backup (a local one on the guest directory's file system), not
         * copied, and an id range another guest here has is chosen anew. */
        bool migrate;
        vs_say_fn *say;       /* its steps (vs_say()) */
        void *say_data;
};
int vs_guest_restore(const struct vs_restore_opts *o, struct vs_error *err);

struct vs_config;
/* What vs_guest_build() restores from (struct vs_build_opts.restore). */
struct vs_restore_src {
        const char *tree;      /* rsync source of the backup's directory ending in '/', maybe HOST:PATH/ */
        const char *ssh;
        const char *staging;   /* local directory holding its info and config/ */
        const char *orig_name; /* the backed-up guest's name */
        const char *template_version;
        bool same;             /* restored under its own name: identity kept */
        bool migrate;          /* struct vs_restore_opts.migrate */
        vs_say_fn *say;
        void *say_data;
};
int vs_restore_config(const struct vs_build_opts *o, struct vs_config **ret, struct vs_error *err);
int vs_restore_tree(const struct vs_build_opts *o, struct vs_config *c, const char *tmp, struct vs_error *err);
/* The guest's other files from the config directory (its fstab), put in
 * place before its config is written; removed again with @undo. */
int vs_restore_files(const struct vs_build_opts *o, bool undo, struct vs_error *err);
