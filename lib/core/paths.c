/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"
#include "cleanup.h"
#include "util.h"

static const char *env_or(const char *var, const char *def)
{
        const char *v = getenv(var);
        return v && *v ? v : def;
}

const char *vs_confdir(void) { return env_or("VS_CONFDIR", VS_DEFAULT_CONFDIR); }
const char *vs_guestdir(void) { return env_or("VS_GUESTDIR", VS_DEFAULT_GUESTDIR); }
const char *vs_cachedir(void) { return env_or("VS_CACHEDIR", VS_DEFAULT_CACHEDIR); }
const char *vs_rundir(void) { return env_or("VS_RUNDIR", VS_DEFAULT_RUNDIR); }
const char *vs_logdir(void) { return env_or("VS_LOGDIR", VS_DEFAULT_LOGDIR); }
const char *vs_template_path(void) { return env_or("VS_TEMPLATE_PATH", VS_DEFAULT_TEMPLATEDIR); }

char *vs_conf_path(const char *name) { return vs_strdupf("%s/%s.conf", vs_confdir(), name); }
char *vs_fstab_path(const char *name) { return vs_strdupf("%s/%s.fstab", vs_confdir(), name); }
char *vs_guest_path(const char *name) { return vs_strdupf("%s/%s", vs_guestdir(), name); }
char *vs_rootfs_path(const char *name) { return vs_strdupf("%s/%s/rootfs", vs_guestdir(), name); }
char *vs_run_path(const char *name) { return vs_strdupf("%s/%s", vs_rundir(), name); }
char *vs_console_log_path(const char *name) { return vs_strdupf("%s/%s.console", vs_logdir(), name); }

int vs_confdir_foreach(const char *confdir, int (*fn)(const char *name, const char *path, void *arg), void *arg)
{
        _cleanup_closedir_ DIR *d = opendir(confdir);
        struct dirent *de;
        int r = 0;

        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while (r >= 0 && (de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if (l <= 5 || strcmp(de->d_name + l - 5, ".conf") != 0)
                        continue;
                _cleanup_free_ char *name = strndup(de->d_name, l - 5);
                _cleanup_free_ char *path = vs_strdupf("%s/%s", confdir, de->d_name);
                if (!name || !path)
                        r = -ENOMEM;
                else if (vs_name_valid(name) && strcmp(name, "defaults") != 0)
                        r = fn(name, path, arg);
        }
        return r < 0 ? r : 0;
}

struct values {
        const char *section, *key;
        size_t size;
        int (*parse)(const char *value, void *elem);
        char *v; /* the elements */
        size_t n;
        char *found; /* the key's last value in the file being read */
        bool nomem;
};

static int value_line(void *user, const char *section, const char *key, const char *value)
{
        struct values *l = user;
        char *copy;

        if (strcmp(section, l->section) != 0 || strcmp(key, l->key) != 0)
                return 1;
        copy = strdup(value);
        if (!copy) {
                l->nomem = true;
                return 0;
        }
        free(l->found);
        l->found = copy;
        return 1;
}

static int value_add(const char *name, const char *path, void *arg)
{
        struct values *l = arg;
        _cleanup_free_ char *found = NULL;
        char *nv, *elem;
        /* inih's line of the first error (> 0) still leaves the lines it
         * could read; only a file that does not open (< 0) has nothing. */
        int r = ini_parse(path, value_line, l);

        found = TAKE_PTR(l->found);
        if (l->nomem)
                return -ENOMEM;
        if (r < 0 || !found)
                return 0;
        nv = realloc(l->v, (l->n + 1) * l->size);
        if (!nv)
                return -ENOMEM;
        l->v = nv;
        elem = nv + l->n * l->size;
        memset(elem, 0, l->size);
        if (l->parse(found, elem) < 0)
                return 0;
        if (!(*(char **)elem = strdup(name)))
                return -ENOMEM;
        l->n++;
        return 0;
}

int vs_confdir_values(const char *confdir, const char *section, const char *key, size_t size,
                      int (*parse)(const char *value, void *elem), void *ret_array, size_t *ret_n)
{
        struct values l = { section, key, size, parse, NULL, 0, NULL, false };
        int r = vs_confdir_foreach(confdir, value_add, &l);

        if (r < 0) {
                vs_confdir_values_free(l.v, l.n, size);
                return r;
        }
        memcpy(ret_array, &l.v, sizeof(l.v));
        *ret_n = l.n;
        return 0;
}

void vs_confdir_values_free(void *array, size_t n, size_t size)
{
        char *v = array;

        for (size_t i = 0; v && i < n; i++)
                free(*(char **)(v + i * size));
        free(v);
}
