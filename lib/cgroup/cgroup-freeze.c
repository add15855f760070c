/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "cgroup-internal.h"
#include "cgroup.h"
#include "cleanup.h"
#include "util.h"

/* v2: cgroup.freeze, done when cgroup.events says "frozen 1"; v1: the
 * freezer hierarchy's freezer.state goes FREEZING -> FROZEN. */
int vs_cgroup_freeze(struct vs_cgroup *cg, bool freeze)
{
        bool v2 = cg->ops == &vs_cgroup_v2_ops;
        const char *dir = vs_cgroup_controller_path(cg, "freezer");
        _cleanup_free_ char *fpath = NULL;
        int r;

        if (!dir)
                return -EOPNOTSUPP;
        fpath = vs_strdupf("%s/%s", dir, v2 ? "cgroup.freeze" : "freezer.state");
        if (!fpath)
                return -ENOMEM;
        r = vs_write_file_at(AT_FDCWD, fpath,
                             v2 ? (freeze ? "1" : "0") : (freeze ? "FROZEN" : "THAWED"));
        if (r < 0 || !freeze)
                return r;
        struct vs_deadline d = vs_deadline_in(10000, 10);
        do {
                _cleanup_free_ char *s = NULL, *p = vs_strdupf("%s/%s", dir, v2 ? "cgroup.events" : "freezer.state");
                if (!p)
                        return -ENOMEM;
                r = vs_read_file(p, &s, NULL);
                if (r < 0)
                        return r;
                if (v2 ? strstr(s, "frozen 1") != NULL : strncmp(s, "FROZEN", 6) == 0)
                        return 0;
        } while (vs_deadline_wait(&d));
        return -ETIMEDOUT;
}

int vs_cgroup_kill_frozen(struct vs_cgroup *cg)
{
        const char *dir = vs_cgroup_controller_path(cg, "freezer");
        size_t n;

        if (!dir)
                return -EOPNOTSUPP;
        return vs_cg_kill_path(dir, SIGKILL, &n);
}
