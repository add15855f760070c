/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <ctype.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "config-parse.h"
#include "config.h"
#include "idmap.h"
#include "mount.h"
#include "paths.h"
#include "util.h"

#define ID_LIMIT UINT64_C(4294967295) /* (uid_t)-1 is never a valid id */

const char *vs_subuid_path(void)
{
        const char *p = getenv("VS_SUBUID");
        return p && *p ? p : "/etc/subuid";
}

const char *vs_subgid_path(void)
{
        const char *p = getenv("VS_SUBGID");
        return p && *p ? p : "/etc/subgid";
}

/* "HOSTID:COUNT" */
static int parse_range(const char *v, uint64_t *ret_host, uint64_t *ret_count)
{
        _cleanup_free_ char *h = NULL;
        const char *colon = strchr(v, ':');
        uint64_t host, count;

        if (!colon || !(h = strndup(v, colon - v)))
                return -EINVAL;
        if (vs_parse_uint(h, 0, ID_LIMIT, &host) < 0 || vs_parse_uint(colon + 1, 1, ID_LIMIT, &count) < 0)
                return -EINVAL;
        *ret_host = host;
        *ret_count = count;
        return 0;
}

int vs_parse_idmap(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err)
{
        uint64_t *f = field, host, count;

        if (strcmp(v, "auto") == 0) {
                f[0] = f[1] = 0;
                return 0;
        }
        if (parse_range(v, &host, &count) < 0) {
                return vs_error_set(err, EINVAL, "expected auto or HOSTID:COUNT (e.g. 1065536:65536)");
        }
        if (host < VS_IDMAP_MIN_HOST) {
                return vs_error_set(err, EINVAL, "the host ids must start at %u or above, never at one of the host's own users",
                                    VS_IDMAP_MIN_HOST);
        }
        if (host + count > ID_LIMIT) {
                return vs_error_set(err, EINVAL, "the range ends past the last user id (%llu)", (unsigned long long)ID_LIMIT - 1);
        }
        f[0] = host;
        f[1] = count;
        return 0;
}

char *vs_format_idmap(const void *field)
{
        const uint64_t *f = field;
        return f[1] ? vs_strdupf("%llu:%llu", (unsigned long long)f[0], (unsigned long long)f[1]) : strdup("auto");
}

/* ---- /etc/subuid and /etc/subgid ---------------------------------------- */

/* Calls @fn for every well-formed "NAME:START:COUNT" line of @text. */
static int each_entry(const char *text, int (*fn)(const char *name, uint64_t start, uint64_t count, void *u),
                      void *u)
{
        for (const char *p = text; p && *p;) {
                const char *e = strchr(p, '\n');
                size_t n = e ? (size_t)(e - p) : strlen(p);
                _cleanup_free_ char *line = strndup(p, n);
                char *c1, *c2;
                uint64_t start, count;

                p = e ? e + 1 : NULL;
                if (!line)
                        return -ENOMEM;
                c1 = strchr(line, ':');
                c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2 || line[0] == '#')
                        continue;
                *c1 = *c2 = '\0';
                if (vs_parse_uint(c1 + 1, 0, ID_LIMIT, &start) < 0 || vs_parse_uint(c2 + 1, 1, ID_LIMIT, &count) < 0)
                        continue;
                int r = fn(line, start, count, u);
                if (r < 0)
                        return r;
        }
        return 0;
}

struct collect {
        struct vs_idrange *v;
        size_t n;
        bool root_only;
        uint64_t max_end;
        bool overlaps_default;
};

#define DEFAULT_START UINT64_C(1000000)
#define DEFAULT_COUNT UINT64_C(1000000000)

static int collect_one(const char *name, uint64_t start, uint64_t count, void *u)
{
        struct collect *c = u;
        struct vs_idrange *nv;

        if (start + count > c->max_end)
                c->max_end = start + count;
        if (start < DEFAULT_START + DEFAULT_COUNT && start + count > DEFAULT_START)
                c->overlaps_default = true;
        if (c->root_only && strcmp(name, "root") != 0 && strcmp(name, "0") != 0)
                return 0;
        nv = realloc(c->v, (c->n + 1) * sizeof(*nv));
        if (!nv)
                return -ENOMEM;
        c->v = nv;
        c->v[c->n++] = (struct vs_idrange){ start, count };
        return 0;
}

static int read_entries(const char *path, struct collect *c)
{
        _cleanup_free_ char *text = NULL;
        int r = vs_read_file(path, &text, NULL);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        return each_entry(text, collect_one, c);
}

int vs_subid_read(const char *path, struct vs_idrange **ret, size_t *ret_n)
{
        struct collect c = { .root_only = true };
        int r = read_entries(path, &c);

        if (r < 0) {
                free(c.v);
                return r;
        }
        *ret = c.v;
        *ret_n = c.n;
        return 0;
}

static int append_line(const char *path, const char *line)
{
        _cleanup_free_ char *text = NULL, *out = NULL;
        int r = vs_read_file(path, &text, NULL);

        if (r < 0 && r != -ENOENT)
                return r;
        out = vs_strdupf("%s%s%s", text ? text : "", text && *text && text[strlen(text) - 1] != '\n' ? "\n" : "",
                         line);
        if (!out)
                return -ENOMEM;
        return vs_write_file_atomic(path, out, 0644);
}

int vs_subid_install(const char *subuid, const char *subgid, struct vs_idrange *ret_added)
{
        struct collect u = { .root_only = true }, g = { .root_only = true };
        struct vs_idrange add = { DEFAULT_START, DEFAULT_COUNT };
        _cleanup_free_ char *line = NULL;
        unsigned mask = 0;
        int r;

        r = read_entries(subuid, &u);
        if (r == 0)
                r = read_entries(subgid, &g);
        if (r < 0)
                goto out;
        if (u.n && g.n) {
                r = 0;
                goto out;
        }
        /* Above everything either file hands out when another user holds
         * part of the usual range: never two owners for one host id. */
        if (u.overlaps_default || g.overlaps_default) {
                uint64_t end = u.max_end > g.max_end ? u.max_end : g.max_end;
                add.start = (end + VS_IDMAP_COUNT - 1) / VS_IDMAP_COUNT * VS_IDMAP_COUNT;
                if (add.start + add.count > ID_LIMIT)
                        add.count = ID_LIMIT > add.start ? (ID_LIMIT - add.start) / VS_IDMAP_COUNT * VS_IDMAP_COUNT : 0;
                if (add.count < VS_IDMAP_COUNT) {
                        r = -ENOSPC;
                        goto out;
                }
        }
        line = vs_strdupf("root:%llu:%llu\n", (unsigned long long)add.start, (unsigned long long)add.count);
        if (!line) {
                r = -ENOMEM;
                goto out;
        }
        if (!u.n) {
                r = append_line(subuid, line);
                if (r < 0)
                        goto out;
                mask |= 1;
        }
        if (!g.n) {
                r = append_line(subgid, line);
                if (r < 0)
                        goto out;
                mask |= 2;
        }
        if (ret_added)
                *ret_added = add;
        r = (int)mask;
out:
        free(u.v);
        free(g.v);
        return r;
}

/* ---- the guests' ranges -------------------------------------------------- */

void vs_idmap_list_free(struct vs_guest_idmap *v, size_t n)
{
        vs_confdir_values_free(v, n, sizeof(*v));
}

static int idmap_parse(const char *value, void *elem)
{
        struct vs_guest_idmap *g = elem;
        return parse_range(value, &g->host, &g->count);
}

int vs_idmap_list(const char *confdir, struct vs_guest_idmap **ret, size_t *ret_n)
{
        static_assert(offsetof(struct vs_guest_idmap, name) == 0, "the name comes first");
        return vs_confdir_values(confdir, "guest", "idmap", sizeof(**ret), idmap_parse, ret, ret_n);
}

const struct vs_guest_idmap *vs_idmap_overlap(const struct vs_guest_idmap *v, size_t n, const char *self,
                                              uint64_t host, uint64_t count)
{
        for (size_t i = 0; i < n; i++) {
                if (self && strcmp(v[i].name, self) == 0)
                        continue;
                if (host < v[i].host + v[i].count && v[i].host < host + count)
                        return &v[i];
        }
        return NULL;
}

static bool within(const struct vs_idrange *r, size_t n, uint64_t start, uint64_t count)
{
        for (size_t i = 0; i < n; i++)
                if (start >= r[i].start && start + count <= r[i].start + r[i].count)
                        return true;
        return false;
}

int vs_idmap_pick(const struct vs_idrange *uids, size_t nu, const struct vs_idrange *gids, size_t ng,
                  const struct vs_guest_idmap *used, size_t nused, const char *self, uint64_t count,
                  uint64_t *ret_host)
{
        uint64_t best = UINT64_MAX;

        /* The lowest fit starts where a range starts or where a guest's
         * range ends: try each such place. */
        for (size_t i = 0; i < nu + ng + nused; i++) {
                uint64_t c = i < nu ? uids[i].start
                           : i < nu + ng ? gids[i - nu].start
                                         : used[i - nu - ng].host + used[i - nu - ng].count;
                if (c < VS_IDMAP_MIN_HOST)
                        c = VS_IDMAP_MIN_HOST;
                if (c >= best || c + count > ID_LIMIT)
                        continue;
                if (within(uids, nu, c, count) && within(gids, ng, c, count) &&
                    !vs_idmap_overlap(used, nused, self, c, count))
                        best = c;
        }
        if (best == UINT64_MAX)
                return -ENOSPC;
        *ret_host = best;
        return 0;
}

int vs_idmap_lock(const char *confdir, int *ret_fd)
{
        _cleanup_close_ int fd = open(confdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int check_locked(const struct vs_guest_idmap *used, size_t nused, const char *name, uint64_t host,
                        uint64_t count, struct vs_idmap_result *ret)
{
        const struct vs_guest_idmap *other = vs_idmap_overlap(used, nused, name, host, count);

        if (other) {
                snprintf(ret->conflict, sizeof(ret->conflict), "%s", other->name);
                ret->conflict_host = other->host;
                ret->conflict_count = other->count;
                return -EEXIST;
        }
        ret->host = host;
        ret->count = count;
        return 0;
}

int vs_idmap_check(const char *confdir, const char *name, uint64_t host, uint64_t count,
                   struct vs_idmap_result *ret)
{
        struct vs_guest_idmap *used = NULL;
        size_t nused = 0;
        int r;

        memset(ret, 0, sizeof(*ret));
        if (!count)
                return 0;
        r = vs_idmap_list(confdir, &used, &nused);
        if (r < 0)
                return r;
        r = check_locked(used, nused, name, host, count, ret);
        vs_idmap_list_free(used, nused);
        return r;
}

int vs_idmap_assign(const char *confdir, const char *conf, const char *name, uint64_t host, uint64_t count,
                    const char *subuid, const char *subgid, struct vs_idmap_result *ret)
{
        _cleanup_close_ int lock = -1;
        _cleanup_free_ char *value = NULL;
        int r;

        memset(ret, 0, sizeof(*ret));
        /* Two starts (or a start and a build) in parallel would both see
         * the same free range. */
        r = vs_idmap_lock(confdir, &lock);
        if (r < 0)
                return r;
        if (!count) {
                r = vs_idmap_choose_locked(confdir, name, subuid, subgid, ret);
                if (r < 0)
                        return r;
                value = vs_strdupf("%llu:%llu", (unsigned long long)ret->host, (unsigned long long)ret->count);
                r = value ? vs_config_file_set(conf, "guest", "idmap", value) : -ENOMEM;
                if (r == 0)
                        ret->allocated = true;
                return r;
        }
        return vs_idmap_check(confdir, name, host, count, ret);
}

int vs_idmap_choose_locked(const char *confdir, const char *name, const char *subuid, const char *subgid,
                           struct vs_idmap_result *ret)
{
        struct vs_guest_idmap *used = NULL;
        struct vs_idrange *u = NULL, *g = NULL;
        size_t nused = 0, nu = 0, ng = 0;
        int r;

        memset(ret, 0, sizeof(*ret));
        r = vs_idmap_list(confdir, &used, &nused);
        if (r < 0)
                return r;
        r = vs_subid_install(subuid, subgid, &ret->added);
        if (r < 0)
                goto out;
        ret->installed = (unsigned)r;
        r = vs_subid_read(subuid, &u, &nu);
        if (r == 0)
                r = vs_subid_read(subgid, &g, &ng);
        if (r == 0)
                r = vs_idmap_pick(u, nu, g, ng, used, nused, name, VS_IDMAP_COUNT, &ret->host);
        if (r == 0)
                ret->count = VS_IDMAP_COUNT;
out:
        vs_idmap_list_free(used, nused);
        free(u);
        free(g);
        return r;
}

/* ---- can the file system id-map? ------------------------------------------- */

static int write_map(pid_t pid, const char *which, uint64_t host, uint64_t count)
{
        _cleanup_close_ int fd = -1;
        char path[64], line[64];
        int n = snprintf(line, sizeof(line), "0 %llu %llu\n", (unsigned long long)host, (unsigned long long)count);

        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, which);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return write(fd, line, (size_t)n) == n ? 0 : -errno;
}

int vs_idmap_write_maps(pid_t pid, uint64_t host, uint64_t count)
{
        int r = write_map(pid, "uid_map", host, count);
        return r < 0 ? r : write_map(pid, "gid_map", host, count);
}

int vs_idmap_mount_supported(const char *path)
{
        _cleanup_close_ int userns = -1, tree = -1;
        int ready[2], hold[2], r, status;
        char ns[64], c = 0;
        pid_t pid;

        if (pipe2(ready, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(hold, O_CLOEXEC) < 0) {
                r = -errno;
                close(ready[0]);
                close(ready[1]);
                return r;
        }
        /* A user namespace with a map of its own to id-map with: made by a
         * child that waits until we are done with it. */
        pid = fork();
        if (pid == 0) {
                close(ready[0]);
                close(hold[1]);
                c = unshare(CLONE_NEWUSER) == 0 ? 'u' : 'e';
                if (write(ready[1], &c, 1) != 1)
                        _exit(1);
                (void)!read(hold[0], &c, 1);
                _exit(0);
        }
        close(ready[1]);
        close(hold[0]);
        r = pid < 0 ? -errno : read(ready[0], &c, 1) == 1 && c == 'u' ? 0 : -ENOSYS;
        close(ready[0]);
        if (r == 0)
                r = vs_idmap_write_maps(pid, VS_IDMAP_MIN_HOST, 1);
        if (r == 0) {
                snprintf(ns, sizeof(ns), "/proc/%d/ns/user", (int)pid);
                userns = open(ns, O_RDONLY | O_CLOEXEC);
                r = userns < 0 ? -errno : 0;
        }
        if (r == 0)
                r = vs_mount_idmapped_clone(path, false, userns, &tree);
        close(hold[1]);
        if (pid > 0)
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;
        return r;
}
