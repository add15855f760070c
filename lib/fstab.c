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

/* libmount is loaded only for a guest that has fstab entries (lib/dl.h). */
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

static void fail(struct vs_config_error *err, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct vs_config_error *err, unsigned line, const char *fmt, ...)
{
        va_list ap;
        err->line = line;
        err->key[0] = '\0';
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
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

int vs_fstab_load(const char *path, struct vs_mount_plan *plan, struct vs_config_error *err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ unsigned *lines = NULL;
        struct libmnt_table *tb = NULL;
        struct libmnt_iter *it = NULL;
        struct libmnt_fs *fs;
        size_t n_lines = 0, idx = 0;
        int first_bad = 0, r;

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
        {
                char why[256];
                r = vs_dl_load("libmount.so.1", mnt_names, VS_DL_COUNT(mnt_names), (void **)&mnt, why, sizeof(why));
                if (r < 0) {
                        fail(err, 0, "%s", why);
                        return -EINVAL;
                }
        }
        tb = mnt.mnt_new_table();
        it = mnt.mnt_new_iter(MNT_ITER_FORWARD);
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
        while (mnt.mnt_table_next_fs(tb, it, &fs) == 0) {
                unsigned line = idx < n_lines ? lines[idx] : 0;
                const char *src = mnt.mnt_fs_get_source(fs), *tgt = mnt.mnt_fs_get_target(fs);
                const char *type = mnt.mnt_fs_get_fstype(fs), *opts = mnt.mnt_fs_get_options(fs);
                _cleanup_free_ char *fsopts = NULL, *vfs = NULL, *origin = NULL;
                unsigned long flags = 0;
                struct vs_mount_op *op;

                idx++;
                if (!tgt || tgt[0] != '/') {
                        fail(err, line, "target \"%s\" must be an absolute path inside the guest", tgt ? tgt : "");
                        r = -EINVAL;
                        goto out;
                }
                if (strcmp(tgt, "/") == 0 || strstr(tgt, "/../") || (strlen(tgt) >= 3 && !strcmp(tgt + strlen(tgt) - 3, "/..")) ||
                    strstr(tgt, "/./")) {
                        fail(err, line, "target \"%s\" must name a directory or file below the guest's root", tgt);
                        r = -EINVAL;
                        goto out;
                }
                if (opts && mnt.mnt_optstr_get_flags(opts, &flags, mnt.mnt_get_builtin_optmap(MNT_LINUX_MAP)) < 0) {
                        fail(err, line, "bad options \"%s\"", opts);
                        r = -EINVAL;
                        goto out;
                }
                if (opts && mnt.mnt_split_optstr(opts, NULL, &vfs, &fsopts, 0, 0) < 0) {
                        fail(err, line, "bad options \"%s\"", opts);
                        r = -EINVAL;
                        goto out;
                }
                origin = vs_strdupf("%s:%u", path, line);
                if (!origin) {
                        r = -ENOMEM;
                        goto out;
                }
                if (flags & MS_BIND) {
                        /* The source is looked at only when it is mounted, in
                         * the start's child: a lookup on a filesystem that hangs
                         * (NFS, FUSE) then falls under the start timeout instead
                         * of hanging vs-start here. A missing source is reported
                         * there, with this line. */
                        if (!src || src[0] != '/') {
                                fail(err, line, "bind source \"%s\" must be an absolute host path", src ? src : "");
                                r = -EINVAL;
                                goto out;
                        }
                        op = vs_mount_plan_add(plan, VS_MOUNT_BIND, src, tgt, NULL, flags & ~MS_BIND, NULL);
                } else {
                        if (!type || !*type || strcmp(type, "none") == 0 || strcmp(type, "auto") == 0) {
                                fail(err, line, "a filesystem type is needed (or the bind option)");
                                r = -EINVAL;
                                goto out;
                        }
                        op = vs_mount_plan_add(plan, VS_MOUNT_FS, src, tgt, type, flags, fsopts);
                }
                if (!op) {
                        r = -ENOMEM;
                        goto out;
                }
                op->origin = vs_mount_plan_strdup(plan, origin);
        }
        r = 0;
out:
        mnt.mnt_free_iter(it);
        mnt.mnt_unref_table(tb);
        return r;
}
