/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vs-restore: a backup (vserver/backup.c) made a guest again by
 * vs_guest_build(), which does the rest as for a clone (address, MAC, host
 * ids, quota, shift where the file system cannot id-map). */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "cleanup.h"
#include "command.h"
#include "config.h"
#include "idmap.h"
#include "paths.h"
#include "state.h"
#include "storage.h"
#include "util.h"

int vs_restore_config(const struct vs_build_opts *o, struct vs_config **ret, struct vs_error *err)
{
        const struct vs_restore_src *s = o->restore;
        _cleanup_config_ struct vs_config *c = NULL;
        _cleanup_free_ char *path = vs_strdupf("%s/config/%s.conf", s->staging, s->orig_name),
                            *keys = vs_strdupf("%s/config/%s.ssh_keys", s->staging, s->orig_name);
        struct vs_error cerr;
        int r;

        if (!path || !keys)
                return -ENOMEM;
        r = vs_config_load(path, o->name, &c, err);
        if (r < 0)
                return vs_error_prefix(err, vs_error_locate(err, r, path), "The backup's config");
        if (!s->same) {
                /* Another guest beside the first: a host name that was the
                 * old name follows the new one; it does not start at boot
                 * until told to. */
                if (o->hostname || !c->hostname || strcmp(c->hostname, s->orig_name) == 0) {
                        r = vs_config_set(c, "guest.hostname", o->hostname ? o->hostname : o->name, &cerr);
                        if (r < 0) {
                                return vs_error_set(err, r, "--hostname: %s", cerr.msg);
                        }
                }
                c->autostart = false;
        }
        if (s->migrate && c->userns && c->idmap_count) {
                /* Its host ids there were the other host's choice: where a
                 * guest here has them, it takes free ones at its start. */
                struct vs_idmap_result res;
                if (vs_idmap_check(vs_confdir(), o->name, c->idmap_host, c->idmap_count, &res) < 0) {
                        vs_say(s->say, s->say_data,
                               "Guest \"%s\": its host ids %llu:%llu are guest \"%s\"'s here: it takes free ones when "
                               "it starts",
                               o->name, (unsigned long long)c->idmap_host, (unsigned long long)c->idmap_count,
                                res.conflict);
                        c->idmap_host = c->idmap_count = 0;
                }
        }
        /* Root's keys: the backup's copy, written into the tree and to the
         * config directory again by the build (vserver/provision.c). */
        free(c->ssh_keys);
        c->ssh_keys = access(keys, F_OK) == 0 ? TAKE_PTR(keys) : NULL;
        *ret = TAKE_PTR(c);
        return 0;
}

int vs_restore_tree(const struct vs_build_opts *o, struct vs_config *c, const char *tmp, struct vs_error *err)
{
        const struct vs_restore_src *s = o->restore;
        int layout = vs_config_layout(c);
        const char *tree = vs_copy_tree_name(layout);
        _cleanup_free_ char *from = vs_strdupf("%s%s/", s->tree, tree), *to = vs_strdupf("%s/%s/", tmp, tree);
        char *argv[] = { "-aHAXS", "--numeric-ids", from, to, NULL };
        int r;

        if (!from || !to)
                return -ENOMEM;
        if (layout == VS_LAYOUT_SHARED) {
                _cleanup_free_ char *ver = vs_strdupf("%s/.templates/%s", vs_guestdir(), s->template_version),
                                    *lower = vs_strdupf("%s/lower", tmp), *work = vs_strdupf("%s/work", tmp);
                if (!ver || !lower || !work)
                        return -ENOMEM;
                if (!s->template_version[0] || strchr(s->template_version, '/') || access(ver, F_OK) < 0) {
                        return vs_error_set(err, ENOENT, "The backup holds the upper layer of a shared guest over the template "
                                            "version \"%s\", which this host does not have (%s)",
                                       s->template_version, ver);
                }
                if (symlink(ver, lower) < 0 || mkdir(work, 0700) < 0) {
                        return vs_error_set(err, errno, "Cannot make the overlay directories in %s: %s", tmp, strerror(errno));
                }
        }
        if (s->migrate) {
                /* Moved, not copied: the downtime of a migration. */
                from[strlen(from) - 1] = to[strlen(to) - 1] = '\0';
                if (rename(from, to) < 0) {
                        return vs_error_set(err, errno, "Cannot move %s to %s: %s", from, to, strerror(errno));
                }
                return 0;
        }
        vs_say(s->say, s->say_data, "Restoring the files of \"%s\" from %s", s->orig_name, from);
        r = vs_rsync(argv, s->ssh ? s->ssh : "ssh", NULL, NULL, err);
        if (r < 0)
                return r;
        if (s->same)
                return 0;
        /* An image is still a tree here (vs_guest_build() makes it next). */
        return vs_build_fix_identity(tmp, layout == VS_LAYOUT_IMAGE ? VS_LAYOUT_DIR : layout,
                                     c->hostname ? c->hostname : o->name, err);
}

int vs_restore_files(const struct vs_build_opts *o, bool undo, struct vs_error *err)
{
        const struct vs_restore_src *s = o->restore;
        _cleanup_free_ char *cdir = vs_strdupf("%s/config", s->staging);
        _cleanup_closedir_ DIR *d = NULL;
        size_t l = strlen(s->orig_name);
        struct dirent *de;
        int r = 0;

        if (!cdir)
                return -ENOMEM;
        d = opendir(cdir);
        if (!d)
                return 0;
        while ((de = readdir(d))) {
                const char *suf = de->d_name + l + 1;
                if (strncmp(de->d_name, s->orig_name, l) != 0 || de->d_name[l] != '.' || !*suf || strchr(suf, '.') ||
                    !strcmp(suf, "conf") || !strcmp(suf, "ssh_keys"))
                        continue;
                _cleanup_free_ char *from = vs_strdupf("%s/%s", cdir, de->d_name),
                                    *to = vs_strdupf("%s/%s.%s", vs_confdir(), o->name, suf);
                if (!from || !to)
                        return -ENOMEM;
                if (undo) {
                        (void)unlink(to);
                        continue;
                }
                char *argv[] = { "cp", "-p", "--", from, to, NULL };
                r = vs_run_command(argv, -1, err);
                if (r < 0)
                        return r;
        }
        return r;
}

int vs_guest_restore(const struct vs_restore_opts *o, struct vs_error *err)
{
        _cleanup_free_ struct vs_backup_entry *v = NULL;
        _cleanup_free_ char *src = NULL, *from = NULL;
        char staging[] = "/tmp/vs-restore.XXXXXX";
        const struct vs_backup_entry *e = NULL;
        struct vs_restore_src rs = { 0 };
        struct vs_build_opts bo = { 0 };
        size_t n = 0;
        int r;

        r = vs_check_name(o->name, err);
        if (r < 0)
                return r;
        if (o->as) {
                r = vs_check_name(o->as, err);
                if (r < 0)
                        return r;
        }
        r = vs_backup_list(o->dest, o->ssh, o->name, &v, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (!o->at || !strcmp(v[i].id, o->at))
                        e = &v[i];
        if (!e) {
                if (o->at)
                        vs_error_set(err, ENOENT, "--at: no backup %s/%s in %s (see vs-backup --list)", o->name, o->at,
                                     o->dest);
                else
                        vs_error_set(err, ENOENT, "No backup of \"%s\" in %s", o->name, o->dest);
                return -ENOENT;
        }
        {
                /* DEST as rsync names it, without trailing slashes. */
                _cleanup_free_ char *d = strdup(o->dest);
                if (!d)
                        return -ENOMEM;
                for (size_t l = strlen(d); l > 1 && d[l - 1] == '/'; l--)
                        d[l - 1] = '\0';
                src = vs_strdupf("%s/%s/%s/", d, o->name, e->id);
        }
        if (!src)
                return -ENOMEM;
        if (!mkdtemp(staging))
                return -errno;
        from = vs_strdupf("%sconfig", src);
        {
                _cleanup_free_ char *info = vs_strdupf("%sinfo", src);
                char *argv[] = { "-a", from, info, staging, NULL };
                if (!from || !info) {
                        r = -ENOMEM;
                        goto out;
                }
                /* Over ssh the second source is ":PATH", on the same host. */
                if (strchr(info, ':') && strchr(info, ':') < (strchr(info, '/') ? strchr(info, '/') : info + strlen(info))) {
                        char *t = vs_strdupf("%s", strchr(info, ':'));
                        free(info);
                        info = t;
                        argv[2] = info;
                        if (!info) {
                                r = -ENOMEM;
                                goto out;
                        }
                }
                r = vs_rsync(argv, o->ssh ? o->ssh : "ssh", NULL, NULL, err);
                if (r < 0)
                        goto out;
        }
        rs.tree = src;
        rs.ssh = o->ssh;
        rs.staging = staging;
        rs.orig_name = o->name;
        rs.template_version = e->template_version;
        rs.same = !o->as || !strcmp(o->as, o->name);
        rs.migrate = o->migrate;
        rs.say = o->say;
        rs.say_data = o->say_data;
        bo.name = o->as ? o->as : o->name;
        bo.force = o->force;
        bo.restore = &rs;
        bo.say = o->say;
        bo.say_data = o->say_data;
        vs_say(o->say, o->say_data, "Restoring backup %s/%s (%s, made %s) as guest \"%s\"", o->name, e->id, e->layout,
               e->running ? "while running" : "stopped", bo.name);
        r = vs_guest_build(&bo, err);
out:
        vs_rm_rf(staging);
        return r;
}
