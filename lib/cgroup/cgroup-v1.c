/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgroup v1 (and the hybrid layout): one group per mounted hierarchy. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cgroup-devices.h"
#include "cgroup-internal.h"
#include "cleanup.h"
#include "util.h"

/* A new v1 cpuset group starts with empty cpus and mems and refuses tasks
 * until both are filled: copy them from the parent. A group we filled also
 * gets cgroup.clone_children, so the kernel fills the groups made below it
 * (the next guest's group and its leaf) at their mkdir. */
static int cpuset_init(const char *dir, const char *parent)
{
        static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
        bool copied = false;

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *mine = vs_strdupf("%s/%s", dir, files[i]);
                _cleanup_free_ char *theirs = vs_strdupf("%s/%s", parent, files[i]);
                _cleanup_free_ char *cur = NULL, *val = NULL;
                int r;

                if (!mine || !theirs)
                        return -ENOMEM;
                r = vs_read_file(mine, &cur, NULL);
                if (r < 0)
                        return r;
                if (cur[0] != '\0' && cur[0] != '\n')
                        continue;
                r = vs_read_file(theirs, &val, NULL);
                if (r < 0)
                        return r;
                r = vs_write_file_at(AT_FDCWD, mine, val);
                if (r < 0)
                        return r;
                copied = true;
        }
        if (copied) {
                _cleanup_free_ char *cc = vs_strdupf("%s/cgroup.clone_children", dir);
                if (!cc)
                        return -ENOMEM;
                (void)vs_write_file_at(AT_FDCWD, cc, "1");
        }
        return 0;
}

static bool is_cpuset(const struct vs_cgroup *cg, size_t i)
{
        if (cg->hier && i < cg->n_hier) {
                _cleanup_strv_free_ char **c = vs_strv_split(cg->hier[i].controllers, ",");
                for (char **p = c; p && *p; p++)
                        if (strcmp(*p, "cpuset") == 0)
                                return true;
        }
        return false;
}

static bool has_controller(const struct vs_cgroup *cg, size_t i, const char *name)
{
        if (cg->hier && i < cg->n_hier) {
                _cleanup_strv_free_ char **c = vs_strv_split(cg->hier[i].controllers, ",");
                for (char **p = c; p && *p; p++)
                        if (strcmp(*p, name) == 0)
                                return true;
        }
        return false;
}

static int v1_create_one(struct vs_cgroup *cg, size_t i)
{
        int r = vs_cg_mkdir_parent_and_guest(cg, i, is_cpuset(cg, i) ? cpuset_init : NULL);
        if (r < 0)
                return r;
        if (has_controller(cg, i, "devices")) {
                /* The policy changes only while the group has no children:
                 * an empty leaf left by a dead guest goes first. */
                _cleanup_free_ char *leaf = vs_strdupf("%s/" VS_CGROUP_LEAF, cg->paths[i]);
                if (!leaf)
                        return -ENOMEM;
                if (rmdir(leaf) < 0 && errno != ENOENT)
                        return -errno;
                r = vs_dev_v1_apply(cg->paths[i], cg->devices);
                if (r < 0)
                        return r;
        }
        return vs_cg_mkdir_leaf(cg->paths[i], is_cpuset(cg, i) ? cpuset_init : NULL, NULL);
}

/* The hybrid's cgroup2 tree takes the same policy as a device program
 * (VS_CG_PROGRAM): both are checked, and the v2 program is proven there. */
static int v1_create(struct vs_cgroup *cg, unsigned what)
{
        ssize_t unified = vs_cgroup_unified_index(cg);
        int r = 0;
        size_t i;

        for (i = 0; cg->paths[i] && r == 0; i++)
                if (what & ((ssize_t)i == unified ? VS_CG_FIRST : VS_CG_REST))
                        r = v1_create_one(cg, i);
        if (r == 0 && (what & VS_CG_PROGRAM))
                r = vs_cgroup_device_program(cg);
        if (r < 0) {
                /* Nothing half-made: undo the groups this call made. */
                for (size_t j = 0; cg->paths[j] && j <= i; j++)
                        if (what & ((ssize_t)j == unified ? VS_CG_FIRST : VS_CG_REST))
                                vs_cg_rmdir_guest(cg->paths[j]);
                return r;
        }
        return 0;
}

static int v1_kill(struct vs_cgroup *cg, int sig)
{
        int ret = 0;
        for (size_t i = 0; cg->paths[i]; i++) {
                size_t n;
                int r = vs_cg_kill_path(cg->paths[i], sig, &n);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}

static int v1_destroy(struct vs_cgroup *cg)
{
        int ret = 0;
        for (size_t i = 0; cg->paths && cg->paths[i]; i++) {
                int r = vs_cg_rmdir_guest(cg->paths[i]);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}

const struct vs_cgroup_ops vs_cgroup_v1_ops = {
        .name = "v1",
        .create = v1_create,
        .kill = v1_kill,
        .destroy = v1_destroy,
};
