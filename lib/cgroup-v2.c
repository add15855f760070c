/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgroup v2: one unified tree. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-devices.h"
#include "cgroup-internal.h"
#include "cleanup.h"
#include "util.h"

/* vservers/ holds no processes, so it may hand every controller it has
 * down to the guests' groups ("no internal processes" rule). */
static int enable_controllers(const char *dir, const char *parent)
{
        _cleanup_free_ char *cfile = vs_strdupf("%s/cgroup.controllers", dir);
        _cleanup_free_ char *sfile = vs_strdupf("%s/cgroup.subtree_control", dir);
        _cleanup_free_ char *avail = NULL;
        _cleanup_strv_free_ char **c = NULL;
        int r;

        if (!cfile || !sfile)
                return -ENOMEM;
        r = vs_read_file(cfile, &avail, NULL);
        if (r < 0)
                return r;
        c = vs_strv_split(avail, " \n");
        if (!c)
                return -ENOMEM;
        for (char **p = c; *p; p++) {
                _cleanup_free_ char *w = vs_strdupf("+%s", *p);
                if (!w)
                        return -ENOMEM;
                (void)vs_write_file_at(AT_FDCWD, sfile, w);
        }
        return 0;
}

static int v2_create(struct vs_cgroup *cg)
{
        int r = vs_cg_mkdir_parent_and_guest(cg, 0, NULL);
        if (r < 0)
                return r;
        /* vservers/ and NAME are ours to write; the leaf NAME/guest, the
         * root of the guest's cgroup namespace, is delegated to its init. */
        const char *slash = strrchr(cg->paths[0], '/');
        _cleanup_free_ char *parent = strndup(cg->paths[0], slash - cg->paths[0]);
        if (!parent)
                return -ENOMEM;
        r = enable_controllers(parent, NULL);
        /* NAME holds the limits and no process: it hands its controllers
         * down to the leaf where the guest lives. */
        if (r == 0)
                r = enable_controllers(cg->paths[0], NULL);
        /* Only a real cgroup2 group takes a program (a unit test's fake
         * tree is plain directories). */
        if (r == 0 && vs_cg_is_cgroup2(cg->paths[0]))
                r = vs_dev_v2_apply(cg->paths[0], cg->devices);
        if (r == 0)
                r = vs_cg_mkdir_leaf(cg->paths[0], NULL, NULL);
        if (r < 0) {
                vs_cg_rmdir_guest(cg->paths[0]);
                return r;
        }
        return 0;
}

static int v2_attach(struct vs_cgroup *cg, pid_t pid)
{
        _cleanup_free_ char *leaf = vs_strdupf("%s/" VS_CGROUP_LEAF, cg->paths[0]);
        return leaf ? vs_cgroup_attach_path(leaf, pid) : -ENOMEM;
}

static int v2_kill(struct vs_cgroup *cg, int sig)
{
        size_t n;
        if (sig == SIGKILL) {
                _cleanup_free_ char *f = vs_strdupf("%s/cgroup.kill", cg->paths[0]);
                if (f && vs_write_file_at(AT_FDCWD, f, "1") == 0)
                        return 0;
        }
        return vs_cg_kill_path(cg->paths[0], sig, &n);
}

static int v2_destroy(struct vs_cgroup *cg)
{
        return cg->paths && cg->paths[0] ? vs_cg_rmdir_guest(cg->paths[0]) : 0;
}

const struct vs_cgroup_ops vs_cgroup_v2_ops = {
        .name = "v2",
        .create = v2_create,
        .attach = v2_attach,
        .kill = v2_kill,
        .destroy = v2_destroy,
};
