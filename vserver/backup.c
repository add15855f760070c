/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vs-backup: where backups live (a directory here or over ssh), making one
 * with the live copy (vserver/copy.c), listing and pruning them. */
#include "autoconfig.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "cleanup.h"
#include "command.h"
#include "config.h"
#include "paths.h"
#include "state.h"
#include "storage.h"
#include "util.h"

/* DEST split into the host ("" here) and the directory. */
struct store {
        char host[256];
        char path[PATH_MAX];
        const char *ssh;
};

static int store_parse(const char *dest, const char *ssh, struct store *s, struct vs_error *err)
{
        const char *colon = strchr(dest, ':'), *slash = strchr(dest, '/');

        *s = (struct store){ .ssh = ssh ? ssh : "ssh" };
        if (!*dest) {
                return vs_error_set(err, EINVAL, "DEST: empty");
        }
        if (colon && (!slash || colon < slash)) {
                size_t hl = (size_t)(colon - dest);
                if (hl == 0 || hl >= sizeof(s->host) || !colon[1] || dest[0] == '-') {
                        return vs_error_set(err, EINVAL, "DEST: expected DIR or [USER@]HOST:DIR, not \"%s\"", dest);
                }
                memcpy(s->host, dest, hl);
                snprintf(s->path, sizeof(s->path), "%s", colon + 1);
        } else
                snprintf(s->path, sizeof(s->path), "%s", dest);
        /* Trailing slashes would double in the paths made below. */
        for (size_t l = strlen(s->path); l > 1 && s->path[l - 1] == '/'; l--)
                s->path[l - 1] = '\0';
        return 0;
}

/* A path in the store as rsync names it (HOST:PATH over ssh). */
static char *store_rsync_path(const struct store *s, const char *rel)
{
        return vs_strdupf("%s%s%s/%s", s->host, *s->host ? ":" : "", s->path, rel);
}

char *vs_shell_quote(const char *x)
{
        size_t n = 3;
        for (const char *p = x; *p; p++)
                n += *p == '\'' ? 4 : 1;
        char *q = malloc(n), *o = q;
        if (!q)
                return NULL;
        *o++ = '\'';
        for (const char *p = x; *p; p++) {
                if (*p == '\'') {
                        memcpy(o, "'\\''", 4);
                        o += 4;
                } else
                        *o++ = *p;
        }
        *o++ = '\'';
        *o = '\0';
        return q;
}

void vs_ssh_argv(char *argv[64], char *ssh, const char *host, char *cmd)
{
        size_t k = 0;

        for (char *w = strtok(ssh, " \t"); w && k < 58; w = strtok(NULL, " \t"))
                argv[k++] = w;
        argv[k++] = "--";
        argv[k++] = (char *)host;
        argv[k++] = cmd;
        argv[k] = NULL;
}

/* Runs the shell @script with $1 = the store's directory and @args after
 * it, here or on the store's host; its output in @ret_out (may be NULL). */
static int store_sh(const struct store *s, const char *script, const char *const *args, char **ret_out,
                    struct vs_error *err)
{
        _cleanup_close_ int out = memfd_create("vs-backup-out", MFD_CLOEXEC);
        char *argv[64];
        size_t k = 0;
        _cleanup_free_ char *cmd = NULL, *ssh = NULL;
        int r;

        if (out < 0)
                return -errno;
        if (!*s->host) {
                argv[k++] = "sh";
                argv[k++] = "-c";
                argv[k++] = (char *)script;
                argv[k++] = "sh";
                argv[k++] = (char *)s->path;
                for (size_t i = 0; args && args[i] && k < 62; i++)
                        argv[k++] = (char *)args[i];
                argv[k] = NULL;
        } else {
                /* ssh hands the remote shell one string: every word quoted. */
                size_t size = 0;
                FILE *f = open_memstream(&cmd, &size);
                char *q;
                if (!f)
                        return -ENOMEM;
                q = vs_shell_quote(script);
                fprintf(f, "sh -c %s sh", q ? q : "");
                free(q);
                q = vs_shell_quote(s->path);
                fprintf(f, " %s", q ? q : "");
                free(q);
                for (size_t i = 0; args && args[i]; i++) {
                        q = vs_shell_quote(args[i]);
                        fprintf(f, " %s", q ? q : "");
                        free(q);
                }
                if (fclose(f) != 0)
                        return -ENOMEM;
                ssh = strdup(s->ssh);
                if (!ssh)
                        return -ENOMEM;
                vs_ssh_argv(argv, ssh, s->host, cmd);
        }
        r = vs_run_command(argv, out, err);
        if (r < 0)
                return r;
        if (ret_out) {
                struct stat st;
                if (fstat(out, &st) < 0)
                        return -errno;
                char *buf = malloc((size_t)st.st_size + 1);
                if (!buf)
                        return -ENOMEM;
                ssize_t n = pread(out, buf, (size_t)st.st_size, 0);
                buf[n > 0 ? n : 0] = '\0';
                *ret_out = buf;
        }
        return 0;
}

static bool is_id(const char *s)
{
        /* 20261202T043000Z */
        if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
                return false;
        for (int i = 0; i < 15; i++)
                if (i != 8 && !isdigit((unsigned char)s[i]))
                        return false;
        return true;
}

static void parse_info_line(struct vs_backup_entry *e, const char *k, const char *v)
{
        if (!strcmp(k, "name"))
                snprintf(e->name, sizeof(e->name), "%s", v);
        else if (!strcmp(k, "id"))
                snprintf(e->id, sizeof(e->id), "%s", v);
        else if (!strcmp(k, "layout"))
                snprintf(e->layout, sizeof(e->layout), "%s", v);
        else if (!strcmp(k, "template"))
                snprintf(e->template_version, sizeof(e->template_version), "%s", v);
        else if (!strcmp(k, "created"))
                e->created = (time_t)strtoll(v, NULL, 10);
        else if (!strcmp(k, "running"))
                e->running = !strcmp(v, "yes");
        else if (!strcmp(k, "freeze_usec"))
                e->freeze_usec = strtoull(v, NULL, 10);
        else if (!strcmp(k, "transferred"))
                e->transferred = strtoull(v, NULL, 10);
}

static int cmp_entry(const void *a, const void *b)
{
        const struct vs_backup_entry *x = a, *y = b;
        int c = strcmp(x->name, y->name);
        return c ? c : strcmp(x->id, y->id);
}

static int list_store(const struct store *s, const char *name, struct vs_backup_entry **ret, size_t *ret_n,
                      struct vs_error *err)
{
        /* Complete backups only: DIR/NAME/ID/info, no dot names. */
        static const char script[] = "cd \"$1\" 2>/dev/null || exit 0\n"
                                     "for f in ${2:-*}/[0-9]*T[0-9]*Z/info; do\n"
                                     "  [ -f \"$f\" ] && { echo \"@@\"; cat \"$f\"; }\n"
                                     "done\n"
                                     "exit 0\n";
        const char *args[] = { name ? name : "", NULL };
        _cleanup_free_ char *out = NULL;
        struct vs_backup_entry *v = NULL, *e = NULL;
        size_t n = 0;
        int r;

        r = store_sh(s, script, args, &out, err);
        if (r < 0) {
                if (!err->msg[0] || strstr(err->msg, "status"))
                        vs_error_set(err, r, "Cannot list the backups in %s%s%s", s->host, *s->host ? ":" : "", s->path);
                return r;
        }
        for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
                if (!strcmp(line, "@@")) {
                        struct vs_backup_entry *t = realloc(v, (n + 1) * sizeof(*v));
                        if (!t) {
                                free(v);
                                return -ENOMEM;
                        }
                        v = t;
                        e = &v[n++];
                        memset(e, 0, sizeof(*e));
                        continue;
                }
                char *eq = strchr(line, '=');
                if (!e || !eq)
                        continue;
                *eq = '\0';
                parse_info_line(e, line, eq + 1);
        }
        /* An info that names no guest or no valid id is not ours. */
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
                if (vs_name_valid(v[i].name) && is_id(v[i].id) && (!name || !strcmp(v[i].name, name)))
                        v[m++] = v[i];
        if (m)
                qsort(v, m, sizeof(*v), cmp_entry);
        *ret = v;
        *ret_n = m;
        return 0;
}

int vs_backup_list(const char *dest, const char *ssh, const char *name, struct vs_backup_entry **ret, size_t *ret_n,
                   struct vs_error *err)
{
        struct store s;
        int r = store_parse(dest, ssh, &s, err);
        if (r < 0)
                return r;
        if (name) {
                r = vs_check_name(name, err);
                if (r < 0)
                        return r;
        }
        return list_store(&s, name, ret, ret_n, err);
}

void vs_backup_entry_json(FILE *out, const struct vs_backup_entry *e)
{
        fprintf(out,
                "{\"name\":\"%s\",\"id\":\"%s\",\"layout\":\"%s\",\"created\":%lld,\"running\":%s,"
                "\"freeze_usec\":%llu,\"transferred\":%llu,\"template\":",
                e->name, e->id, e->layout, (long long)e->created, e->running ? "true" : "false",
                (unsigned long long)e->freeze_usec, (unsigned long long)e->transferred);
        if (e->template_version[0]) {
                fputc('"', out);
                for (const char *p = e->template_version; *p; p++)
                        if (*p == '"' || *p == '\\')
                                fprintf(out, "\\%c", *p);
                        else if ((unsigned char)*p >= 0x20)
                                fputc(*p, out);
                fputc('"', out);
        } else
                fputs("null", out);
        fputc('}', out);
}

static int prune_store(const struct store *s, const char *name, unsigned keep, unsigned keep_days, vs_say_fn *say,
                       void *say_data,
                       struct vs_error *err)
{
        /* Out of sight first (a dot name), then removed. */
        static const char script[] = "set -e\ncd \"$1/$2\"\nshift 2\n"
                                     "for id; do mv -- \"$id\" \".pruning-$id\"; rm -rf -- \".pruning-$id\"; done\n";
        _cleanup_free_ struct vs_backup_entry *v = NULL;
        const char **args = NULL;
        size_t n = 0, k = 0;
        time_t now = time(NULL);
        int r;

        if (!keep && !keep_days)
                return 0;
        r = list_store(s, name, &v, &n, err);
        if (r < 0)
                return r;
        args = calloc(n + 3, sizeof(char *));
        if (!args)
                return -ENOMEM;
        args[k++] = name;
        for (size_t i = 0; i + 1 < n; i++) { /* never the newest */
                bool by_count = keep && n - i <= keep;
                bool by_age = keep_days && v[i].created + (time_t)keep_days * 86400 > now;
                if (by_count || by_age)
                        continue;
                vs_say(say, say_data, "Pruning backup %s/%s", name, v[i].id);
                args[k++] = v[i].id;
        }
        args[k] = NULL;
        if (k > 1)
                r = store_sh(s, script, args, NULL, err);
        if (r < 0 && (!err->msg[0] || strstr(err->msg, "status")))
                vs_error_set(err, r, "Cannot prune the backups of \"%s\" in %s%s%s", name, s->host, *s->host ? ":" : "",
                             s->path);
        free(args);
        return r;
}

int vs_backup_prune(const char *dest, const char *ssh, const char *name, unsigned keep, unsigned keep_days,
                    vs_say_fn *say, void *say_data, struct vs_error *err)
{
        struct store s;
        int r = store_parse(dest, ssh, &s, err);
        if (r < 0)
                return r;
        r = vs_check_name(name, err);
        if (r < 0)
                return r;
        return prune_store(&s, name, keep, keep_days, say, say_data, err);
}

int vs_guest_config_files(const char *name, char ***ret, size_t *ret_n)
{
        _cleanup_(closedirp) DIR *d = opendir(vs_confdir());
        size_t l = strlen(name), n = 0;
        char **v = NULL;
        struct dirent *de;

        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                const char *suf = de->d_name + l + 1;
                if (strncmp(de->d_name, name, l) != 0 || de->d_name[l] != '.' || !*suf || strchr(suf, '.'))
                        continue;
                char **t = realloc(v, (n + 2) * sizeof(char *));
                if (!t)
                        break;
                v = t;
                v[n] = vs_strdupf("%s/%s", vs_confdir(), de->d_name);
                if (v[n])
                        n++;
        }
        if (v)
                v[n] = NULL;
        *ret = v;
        *ret_n = n;
        return 0;
}

int vs_copy_send_meta(const char *name, const char *id, const struct vs_copy *c, const char *to, const char *ssh,
                      struct vs_error *err)
{
        char staging[] = "/tmp/vs-backup.XXXXXX", host[256] = "";
        _cleanup_free_ char *cdir = NULL, *info = NULL, *text = NULL, *from = NULL;
        char **files = NULL;
        size_t nfiles = 0;
        int r;

        if (!mkdtemp(staging))
                return -errno;
        cdir = vs_strdupf("%s/config", staging);
        info = vs_strdupf("%s/info", staging);
        from = vs_strdupf("%s/", staging);
        gethostname(host, sizeof(host) - 1);
        text = vs_strdupf("name=%s\nid=%s\nlayout=%s\ncreated=%lld\nrunning=%s\nfreeze_usec=%llu\n"
                          "transferred=%llu\ntemplate=%s\nhost=%s\nformat=1\n",
                          name, id, vs_layout_name(c->layout), (long long)time(NULL), c->running ? "yes" : "no",
                          (unsigned long long)c->freeze_usec, (unsigned long long)c->transferred,
                          c->template_version, host);
        if (!cdir || !info || !from || !text) {
                r = -ENOMEM;
                goto out;
        }
        if (mkdir(cdir, 0700) < 0) {
                r = -errno;
                goto out;
        }
        r = vs_write_file_atomic(info, text, 0600);
        if (r < 0)
                goto out;
        r = vs_guest_config_files(name, &files, &nfiles);
        if (r < 0) {
                vs_error_set(err, r, "Cannot read %s: %s", vs_confdir(), strerror(-r));
                goto out;
        }
        for (size_t i = 0; i < nfiles && r == 0; i++) {
                char *av[] = { "cp", "-p", "--", files[i], cdir, NULL };
                r = vs_run_command(av, -1, err);
        }
        if (r == 0) {
                char *av[] = { "-a", from, (char *)to, NULL };
                r = vs_rsync(av, ssh, NULL, NULL, err);
        }
out:
        for (size_t i = 0; i < nfiles; i++)
                free(files[i]);
        free(files);
        vs_rm_rf(staging);
        return r;
}

/* One backup's state, shared by its phases. */
struct backup_run {
        const char *name;
        const struct vs_backup_opts *o;
        struct store s;
        char id[32], latest[32];
        char *part;            /* NAME/.partial-ID, in the store */
        bool made;             /* the partial directory exists */
        struct vs_copy c;
};

/* The guest exists, and no other backup of it runs: a lock on its config
 * file, held in *@lock until the caller returns. */
static int lock_guest(struct backup_run *b, int *lock, struct vs_error *err)
{
        _cleanup_free_ char *conf = vs_conf_path(b->name);

        if (!conf)
                return -ENOMEM;
        if (access(conf, F_OK) < 0) {
                return vs_error_set(err, ENOENT, "No guest \"%s\" (no %s)", b->name, conf);
        }
        /* One backup of a guest at a time: each clears the partial
         * copies it finds. */
        *lock = open(conf, O_RDONLY | O_CLOEXEC);
        if (*lock < 0 || flock(*lock, LOCK_EX | LOCK_NB) < 0) {
                return vs_error_set(err, EBUSY, "Another backup of \"%s\" is in progress", b->name);
        }
        return 0;
}

/* Its partial directory made in the store, leftovers cleared, and the
 * newest complete backup found (unchanged files become hard links to it). */
static int prepare_store(struct backup_run *b, struct vs_error *err)
{
        static const char prepare[] = "set -e\nd=\"$1/$2\"\nmkdir -p -- \"$d\"\n"
                                      "rm -rf -- \"$d\"/.partial-* \"$d\"/.pruning-*\n"
                                      "if [ -e \"$d/$3\" ]; then echo \"exists\"; exit 0; fi\n"
                                      "mkdir -m 0700 -- \"$d/.partial-$3\"\n"
                                      "for f in \"$d\"/[0-9]*T[0-9]*Z/info; do [ -f \"$f\" ] && echo \"$f\"; done\n"
                                      "exit 0\n";
        const char *args[] = { b->name, b->id, NULL };
        _cleanup_free_ char *out = NULL;
        time_t now = time(NULL);
        struct tm tm;
        int r;

        gmtime_r(&now, &tm);
        strftime(b->id, sizeof(b->id), "%Y%m%dT%H%M%SZ", &tm);
        r = store_sh(&b->s, prepare, args, &out, err);
        if (r < 0) {
                if (!err->msg[0] || strstr(err->msg, "status"))
                        vs_error_set(err, r, "Cannot make a backup directory in %s%s%s", b->s.host, *b->s.host ? ":" : "",
                                     b->s.path);
                return r;
        }
        if (!strncmp(out, "exists", 6)) {
                return vs_error_set(err, EEXIST, "Backup %s/%s exists already in %s", b->name, b->id, b->o->dest);
        }
        b->made = true;
        for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
                char *slash = strrchr(line, '/');
                if (!slash || strcmp(slash, "/info") != 0)
                        continue;
                *slash = '\0';
                slash = strrchr(line, '/');
                const char *cand = slash ? slash + 1 : line;
                if (is_id(cand) && strcmp(cand, b->latest) > 0)
                        snprintf(b->latest, sizeof(b->latest), "%s", cand);
        }
        b->part = vs_strdupf("%s/.partial-%s", b->name, b->id);
        return b->part ? 0 : -ENOMEM;
}

/* The tree, by the live copy, into the partial directory. */
static int copy_tree(struct backup_run *b, struct vs_error *err)
{
        const struct vs_backup_opts *o = b->o;
        _cleanup_free_ char *tree = NULL, *link = NULL;
        struct vs_copy *c = &b->c;
        int r;

        {
                _cleanup_config_ struct vs_config *cfg = NULL;
                r = vs_load_guest_config(b->name, &cfg, err);
                if (r < 0)
                        return r;
                c->layout = vs_config_layout(cfg);
        }
        tree = vs_strdupf("%s%s%s/%s/%s/", b->s.host, *b->s.host ? ":" : "", b->s.path, b->part,
                          vs_copy_tree_name(c->layout));
        if (b->latest[0])
                link = vs_strdupf("../../%s/%s", b->latest, vs_copy_tree_name(c->layout));
        if (!tree || (b->latest[0] && !link))
                return -ENOMEM;
        c->dest = tree;
        c->ssh = b->s.ssh;
        c->link_dest = link;
        c->progress = o->progress;
        c->say = o->say;
        c->data = o->say_data;
        vs_say(o->say, o->say_data, "Backing up guest \"%s\" to %s as %s/%s%s%s", b->name, o->dest, b->name, b->id,
               b->latest[0] ? ", linked to " : "", b->latest);
        r = vs_guest_copy(b->name, c, err);
        c->dest = c->link_dest = NULL;
        return r;
}

/* Its info and config files beside the tree, then the rename that makes
 * it a complete backup. */
static int complete(struct backup_run *b, struct vs_error *err)
{
        static const char commit[] = "set -e\nmv -- \"$1/$2/.partial-$3\" \"$1/$2/$3\"\n";
        const char *args[] = { b->name, b->id, NULL };
        _cleanup_free_ char *to = store_rsync_path(&b->s, b->part), *tos = to ? vs_strdupf("%s/", to) : NULL;
        int r;

        if (!tos)
                return -ENOMEM;
        r = vs_copy_send_meta(b->name, b->id, &b->c, tos, b->s.ssh, err);
        if (r < 0)
                return r;
        r = store_sh(&b->s, commit, args, NULL, err);
        if (r == 0)
                b->made = false;
        return r;
}

int vs_guest_backup(const char *name, const struct vs_backup_opts *o, struct vs_error *err)
{
        static const char drop[] = "rm -rf -- \"$1/$2/.partial-$3\"\n";
        struct backup_run b = { .name = name, .o = o };
        _cleanup_close_ int lock = -1;
        const struct vs_copy *c = &b.c;
        int r;

        r = vs_check_name(name, err);
        if (r < 0)
                return r;
        r = store_parse(o->dest, o->ssh, &b.s, err);
        if (r == 0)
                r = lock_guest(&b, &lock, err);
        if (r == 0)
                r = prepare_store(&b, err);
        if (r == 0)
                r = copy_tree(&b, err);
        if (r == 0)
                r = complete(&b, err);
        if (r < 0) {
                if (b.made) {
                        const char *args[] = { name, b.id, NULL };
                        struct vs_error e2;
                        (void)store_sh(&b.s, drop, args, NULL, &e2);
                }
                free(b.part);
                if (!err->msg[0])
                        vs_error_set(err, r, "Backup of \"%s\" failed: %s", name, strerror(-r));
                return r;
        }
        free(b.part);
        if (c->running)
                vs_say(o->say, o->say_data, "Backup %s/%s done: %.1f MiB copied, guest frozen for %.3f s", name, b.id,
                       (double)c->transferred / 1048576.0, (double)c->freeze_usec / 1e6);
        else
                vs_say(o->say, o->say_data, "Backup %s/%s done: %.1f MiB copied (guest stopped)", name, b.id,
                       (double)c->transferred / 1048576.0);
        return prune_store(&b.s, name, o->keep, o->keep_days, o->say, o->say_data, err);
}
