/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <errno.h>
#include <libmount.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "dl.h"
#include "fstab.h"
#include "util.h"

/* libmount is loaded only for a guest that has fstab entries (lib/core/dl.h). */
#define MNT_FUNCS(X) X(mnt_free_iter) X(mnt_fs_get_fstype) X(mnt_fs_get_options) X(mnt_fs_get_source) X(mnt_fs_get_target) X(mnt_get_builtin_optmap) X(mnt_new_iter) X(mnt_new_table) X(mnt_optstr_get_flags) X(mnt_split_optstr) X(mnt_table_get_userdata) X(mnt_table_next_fs) X(mnt_table_parse_file) X(mnt_table_set_parser_errcb) X(mnt_table_set_userdata) X(mnt_unref_table)
static struct {
        MNT_FUNCS(VS_DL_SLOT)
} mnt;
static const char *const mnt_names[] = { MNT_FUNCS(VS_DL_NAME) };

static int parser_errcb(struct libmnt_table *tb, const char *filename, int line)
{
        int *first = mnt.mnt_table_get_userdata(tb);
        if (*first == 0)
                *first = line;
        return 1;
}

static void fail(struct vs_error *err, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct vs_error *err, unsigned line, const char *fmt, ...)
{
        va_list ap;
        err->code = EINVAL;
        err->line = line;
        err->key[0] = '\0';
        va_start(ap, fmt);
        vsnprintf(err->msg, VS_CONFIG_MSG_MAX, fmt, ap);
        va_end(ap);
}

/* Line numbers of the entries: libmount keeps none, so count the lines that
 * are neither blank nor comments, as its parser does. */
static int entry_lines(const char *text, unsigned **ret, size_t *ret_n)
{
        unsigned *v = NULL, line = 0;
        size_t n = 0;

        for (const char *p = text; *p;) {
                const char *e = strchrnul(p, '\n'), *q = p;
                line++;
                while (q < e && (*q == ' ' || *q == '\t'))
                        q++;
                if (q < e && *q != '#') {
                        unsigned *nv = realloc(v, (n + 1) * sizeof(*v));
                        if (!nv) {
                                free(v);
                                return -ENOMEM;
                        }
                        v = nv;
                        v[n++] = line;
                }
                p = *e ? e + 1 : e;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* Refuses a target that is not a path below the guest's root. */
static int check_target(const char *tgt, unsigned line, struct vs_error *err)
{
        if (!tgt || tgt[0] != '/') {
                fail(err, line, "target \"%s\" must be an absolute path inside the guest", tgt ? tgt : "");
                return -EINVAL;
        }
        if (strcmp(tgt, "/") == 0 || strstr(tgt, "/../") || (strlen(tgt) >= 3 && !strcmp(tgt + strlen(tgt) - 3, "/..")) ||
            strstr(tgt, "/./")) {
                fail(err, line, "target \"%s\" must name a directory or file below the guest's root", tgt);
                return -EINVAL;
        }
        return 0;
}

/* One fstab entry, on line @line of @path, as an op of @plan. */
static int add_entry(struct libmnt_fs *fs, const char *path, unsigned line, struct vs_mount_plan *plan,
                     struct vs_error *err)
{
        const char *src = mnt.mnt_fs_get_source(fs), *tgt = mnt.mnt_fs_get_target(fs);
        const char *type = mnt.mnt_fs_get_fstype(fs), *opts = mnt.mnt_fs_get_options(fs);
        _cleanup_free_ char *fsopts = NULL, *vfs = NULL, *origin = NULL;
        unsigned long flags = 0;
        struct vs_mount_op *op;
        int r;

        r = check_target(tgt, line, err);
        if (r < 0)
                return r;
        if (opts && mnt.mnt_optstr_get_flags(opts, &flags, mnt.mnt_get_builtin_optmap(MNT_LINUX_MAP)) < 0) {
                fail(err, line, "bad options \"%s\"", opts);
                return -EINVAL;
        }
        if (opts && mnt.mnt_split_optstr(opts, NULL, &vfs, &fsopts, 0, 0) < 0) {
                fail(err, line, "bad options \"%s\"", opts);
                return -EINVAL;
        }
        origin = vs_strdupf("%s:%u", path, line);
        if (!origin)
                return -ENOMEM;
        if (flags & MS_BIND) {
                /* The source is looked at only when it is mounted, in
                 * the start's child: a lookup on a filesystem that hangs
                 * (NFS, FUSE) then falls under the start timeout instead
                 * of hanging vs-start here. A missing source is reported
                 * there, with this line. */
                if (!src || src[0] != '/') {
                        fail(err, line, "bind source \"%s\" must be an absolute host path", src ? src : "");
                        return -EINVAL;
                }
                op = vs_mount_plan_add(plan, VS_MOUNT_BIND, src, tgt, NULL, flags & ~MS_BIND, NULL);
        } else {
                if (!type || !*type || strcmp(type, "none") == 0 || strcmp(type, "auto") == 0) {
                        fail(err, line, "a filesystem type is needed (or the bind option)");
                        return -EINVAL;
                }
                op = vs_mount_plan_add(plan, VS_MOUNT_FS, src, tgt, type, flags, fsopts);
        }
        if (!op)
                return -ENOMEM;
        op->origin = vs_mount_plan_strdup(plan, origin);
        return 0;
}

/* Parses @path with libmount and adds its entries (@lines their line
 * numbers) to @plan. */
static int parse_entries(const char *path, const unsigned *lines, size_t n_lines, struct vs_mount_plan *plan,
                         struct vs_error *err)
{
        struct libmnt_table *tb = mnt.mnt_new_table();
        struct libmnt_iter *it = mnt.mnt_new_iter(MNT_ITER_FORWARD);
        struct libmnt_fs *fs;
        size_t idx = 0;
        int first_bad = 0, r;

        if (!tb || !it) {
                r = -ENOMEM;
                goto out;
        }
        mnt.mnt_table_set_userdata(tb, &first_bad);
        mnt.mnt_table_set_parser_errcb(tb, parser_errcb);
        r = mnt.mnt_table_parse_file(tb, path);
        if (first_bad) {
                fail(err, (unsigned)first_bad, "cannot parse the line (expected: source target type options)");
                r = -EINVAL;
                goto out;
        }
        if (r < 0)
                goto out;
        while (r == 0 && mnt.mnt_table_next_fs(tb, it, &fs) == 0) {
                r = add_entry(fs, path, idx < n_lines ? lines[idx] : 0, plan, err);
                idx++;
        }
out:
        mnt.mnt_free_iter(it);
        mnt.mnt_unref_table(tb);
        return r;
}

int vs_fstab_load(const char *path, struct vs_mount_plan *plan, struct vs_error *err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ unsigned *lines = NULL;
        size_t n_lines = 0;
        struct vs_error why = { 0 };
        int r;

        memset(err, 0, sizeof(*err));
        r = vs_read_file(path, &text, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = entry_lines(text, &lines, &n_lines);
        if (r < 0)
                return r;
        if (n_lines == 0)
                return 0;
        r = vs_dl_load("libmount.so.1", mnt_names, VS_DL_COUNT(mnt_names), (void **)&mnt, &why);
        if (r < 0) {
                fail(err, 0, "%s", why.msg);
                return -EINVAL;
        }
        return parse_entries(path, lines, n_lines, plan, err);
}
