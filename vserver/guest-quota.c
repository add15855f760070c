/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Project quotas for layouts dir and shared (vserver/guest-quota.h). */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "config.h"
#include "guest-quota.h"
#include "paths.h"
#include "quota.h"
#include "util.h"

int vs_guest_quota_check(const char *path, struct vs_error *err)
{
        struct vs_quota_fs fs;
        char advice[768];
        int r = vs_quota_fs(path, &fs);

        if (r < 0) {
                return vs_error_set(err, r, "Cannot tell whether the filesystem of %s has project quotas: %s", path,
                                    strerror(-r));
        }
        if (fs.enforced)
                return 0;
        vs_quota_advice(&fs, advice, sizeof(advice));
        return vs_error_set(err, EOPNOTSUPP, "disk.size on layout dir or shared is a project quota, and %s", advice);
}

/* An id for which the filesystem holds usage or a limit belongs to
 * something else (a guest gone without vs-destroy, the administrator's
 * own project). */
static bool id_in_use(uint32_t id, void *data)
{
        uint64_t used = 0, inodes = 0, limit = 0;

        if (vs_quota_get(data, id, &used, &inodes, &limit) < 0)
                return false;
        return used || inodes || limit;
}

static int pick_project(const char *name, const char *dir, struct vs_config *c, struct vs_error *err)
{
        struct vs_guest_project *list = NULL;
        _cleanup_free_ uint32_t *used = NULL;
        size_t n = 0, nu = 0;
        int r;

        r = vs_project_list(vs_confdir(), &list, &n);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot read the guests' project ids in %s: %s", vs_confdir(), strerror(-r));
        }
        used = calloc(n + 1, sizeof(*used));
        if (!used) {
                vs_project_list_free(list, n);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                if (strcmp(list[i].name, name) == 0)
                        continue;
                if (c->disk_project && list[i].id == c->disk_project) {
                        vs_error_set(err, EEXIST, "disk.project: project id %llu is guest \"%s\"'s already",
                                     (unsigned long long)c->disk_project, list[i].name);
                        vs_project_list_free(list, n);
                        return -EEXIST;
                }
                used[nu++] = list[i].id;
        }
        vs_project_list_free(list, n);
        if (c->disk_project)
                return 0;
        c->disk_project = vs_project_pick(used, nu, id_in_use, (void *)dir);
        if (!c->disk_project) {
                return vs_error_set(err, ENOSPC, "disk.project: no free project id from %u on", VS_PROJECT_MIN);
        }
        return 0;
}

int vs_guest_quota_apply(const char *name, const char *dir, int layout, struct vs_config *c, vs_say_fn *say,
                         void *say_data, struct vs_error *err)
{
        _cleanup_free_ char *t0 = vs_strdupf("%s/%s", dir, layout == VS_LAYOUT_SHARED ? "upper" : "rootfs"),
                            *t1 = layout == VS_LAYOUT_SHARED ? vs_strdupf("%s/work", dir) : NULL;
        const char *trees[] = { t0, t1 };
        uint64_t used = 0, count = 0, left = 0;
        char a[32], b[32];
        int r;

        if (!t0 || (layout == VS_LAYOUT_SHARED && !t1))
                return -ENOMEM;
        r = vs_guest_quota_check(dir, err);
        if (r < 0)
                return r;
        r = pick_project(name, dir, c, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < 2 && trees[i]; i++) {
                uint64_t t = vs_now_usec(), n = 0, l = 0;

                /* Inodes that have the id already are only looked at. */
                r = vs_project_set_tree(trees[i], (uint32_t)c->disk_project, true, &n, &l);
                if (r < 0) {
                        return vs_error_set(err, r, "Cannot set project id %llu on the tree %s: %s",
                                            (unsigned long long)c->disk_project, trees[i], strerror(-r));
                }
                count += n;
                left += l;
                if (n)
                        vs_say(say, say_data, "Project id %llu set on %llu inodes of %s in %.2f s",
                               (unsigned long long)c->disk_project, (unsigned long long)n, trees[i],
                               (double)(vs_now_usec() - t) / 1e6);
        }
        if (left)
                vs_say(say, say_data, "Project id %llu: %llu sockets or multiply linked special files of \"%s\" keep theirs",
                       (unsigned long long)c->disk_project, (unsigned long long)left, name);
        r = vs_quota_get(dir, (uint32_t)c->disk_project, &used, NULL, NULL);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot read the use of project %llu: %s", (unsigned long long)c->disk_project,
                                    strerror(-r));
        }
        /* Shrinking below the use would leave the guest a disk fuller than
         * full: it frees space first. */
        if (used > c->disk_size) {
                return vs_error_set(err, ENOSPC, "disk.size: guest \"%s\" uses %s already, more than %s: free space in it first", name,
                                    vs_human_size(used, a, sizeof(a)), vs_human_size(c->disk_size, b, sizeof(b)));
        }
        r = vs_quota_set_limit(dir, (uint32_t)c->disk_project, c->disk_size);
        if (r < 0)
                vs_error_set(err, r, "Cannot set the quota of project %llu: %s", (unsigned long long)c->disk_project,
                             strerror(-r));
        return r;
}

void vs_guest_quota_clear(uint64_t projid)
{
        if (projid)
                (void)vs_quota_set_limit(vs_guestdir(), (uint32_t)projid, 0);
}

int vs_guest_quota_usage(const char *tree, uint64_t *ret_used, uint64_t *ret_size)
{
        uint32_t id = 0;
        uint64_t used, limit;
        int r = vs_project_get(tree, &id);

        if (r < 0)
                return r;
        if (!id)
                return -ENODATA;
        r = vs_quota_get(tree, id, &used, NULL, &limit);
        if (r < 0)
                return r;
        if (!limit)
                return -ENODATA;
        *ret_used = used;
        *ret_size = limit;
        return 0;
}
