/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgroup v2: one unified tree. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-devices.h"
#include "cgroup-internal.h"
#include "cleanup.h"
#include "util.h"

static bool has_word(const char *list, const char *w)
{
        size_t l = strlen(w);
        for (const char *p = list; p && (p = strstr(p, w)); p += l)
                if ((p == list || p[-1] == ' ') && (p[l] == ' ' || p[l] == '\n' || p[l] == '\0'))
                        return true;
        return false;
}

/* Moves every process of @dir into its leaf VS_CG_HOST_LEAF. Processes that
 * fork meanwhile land in @dir again: a few rounds catch them. */
static int move_procs_to_leaf(const char *dir)
{
        _cleanup_free_ char *leaf = vs_strdupf("%s/" VS_CG_HOST_LEAF, dir);
        _cleanup_free_ char *procs = vs_strdupf("%s/cgroup.procs", dir);
        int r;

        if (!leaf || !procs)
                return -ENOMEM;
        if (mkdir(leaf, 0755) < 0 && errno != EEXIST)
                return -errno;
        for (int round = 0; round < 10; round++) {
                _cleanup_free_ char *buf = NULL;
                bool any = false;

                r = vs_read_file(procs, &buf, NULL);
                if (r < 0)
                        return r;
                for (char *p = buf, *e; *p; p = e) {
                        long pid = strtol(p, &e, 10);
                        if (e == p)
                                break;
                        if (pid <= 0)
                                continue;
                        any = true;
                        r = vs_cgroup_attach_path(leaf, (pid_t)pid);
                        if (r < 0 && r != -ESRCH)
                                return r;
                }
                if (!any)
                        return 0;
        }
        return -EBUSY;
}

/* Hands every controller @dir has down to its children (what is missing
 * from cgroup.subtree_control). A group that does may hold no processes
 * ("no internal processes"): vservers/ and NAME hold none, but our own group,
 * which must hand its controllers down to vservers/, holds vs-start, the
 * supervisors and whoever started them, e.g. in the service a unit with
 * Delegate=yes got. With @move_procs they move into a leaf of @dir first, as
 * a manager of a delegated group must. First, not on EBUSY: the kernel lets a
 * group with processes enable the threaded controllers (cpu, cpuset, pids),
 * and from then on refuses both the domain controllers and a new child
 * domain group (EOPNOTSUPP). The root group is exempt from the rule.
 * Controllers that still cannot be enabled are reported by the limits that
 * need them. */
static int enable_controllers(const char *dir, bool move_procs)
{
        _cleanup_free_ char *cfile = vs_strdupf("%s/cgroup.controllers", dir);
        _cleanup_free_ char *sfile = vs_strdupf("%s/cgroup.subtree_control", dir);
        _cleanup_free_ char *pfile = vs_strdupf("%s/cgroup.procs", dir);
        _cleanup_free_ char *avail = NULL, *on = NULL, *procs = NULL;
        _cleanup_strv_free_ char **c = NULL;
        bool missing = false;
        int r;

        if (!cfile || !sfile || !pfile)
                return -ENOMEM;
        r = vs_read_file(cfile, &avail, NULL);
        if (r < 0)
                return r;
        c = vs_strv_split(avail, " \n");
        if (!c)
                return -ENOMEM;
        if (!*c)
                return 0;
        r = vs_read_file(sfile, &on, NULL);
        if (r < 0)
                return r;
        for (char **p = c; *p && !missing; p++)
                missing = !has_word(on, *p);
        if (!missing)
                return 0;
        if (move_procs) {
                r = vs_read_file(pfile, &procs, NULL);
                if (r < 0)
                        return r;
                if (procs[strspn(procs, " \n")]) {
                        r = move_procs_to_leaf(dir);
                        if (r < 0)
                                return r;
                }
        }
        for (char **p = c; *p; p++) {
                _cleanup_free_ char *w = NULL;
                if (has_word(on, *p))
                        continue;
                w = vs_strdupf("+%s", *p);
                if (!w)
                        return -ENOMEM;
                (void)vs_write_file_at(AT_FDCWD, sfile, w);
        }
        return 0;
}

static bool marked_delegated(const char *dir)
{
        static const char *const names[] = { "trusted.delegate", "user.delegate" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                char v[8];
                ssize_t n = getxattr(dir, names[i], v, sizeof(v) - 1);
                if (n > 0) {
                        v[n] = '\0';
                        if (strcmp(v, "1") == 0)
                                return true;
                }
        }
        return false;
}

static bool is_unit(const char *name, size_t len)
{
        return (len > 8 && memcmp(name + len - 8, ".service", 8) == 0) ||
               (len > 6 && memcmp(name + len - 6, ".scope", 6) == 0);
}

int vs_cgroup_v2_delegated(const struct vs_cgroup *cg, char **ret_unit)
{
        _cleanup_free_ char *dir = NULL;
        char *unit = NULL;
        size_t ml;

        if (!cg->hier || !cg->hier[0].v2 || !cg->hier[0].mount || !cg->hier[0].base)
                return -EINVAL;
        dir = vs_strdupf("%s%s", cg->hier[0].mount, strcmp(cg->hier[0].base, "/") == 0 ? "" : cg->hier[0].base);
        if (!dir)
                return -ENOMEM;
        ml = strlen(cg->hier[0].mount);
        /* The root group is nobody's unit: ours, as without systemd. */
        if (strlen(dir) == ml)
                return 1;
        for (;;) {
                char *slash = strrchr(dir, '/');
                if (strlen(dir) <= ml || !slash)
                        break;
                if (marked_delegated(dir)) {
                        free(unit);
                        return 1;
                }
                if (!unit && is_unit(slash + 1, strlen(slash + 1))) {
                        unit = strdup(slash + 1);
                        if (!unit)
                                return -ENOMEM;
                }
                *slash = '\0';
        }
        if (ret_unit)
                *ret_unit = unit;
        else
                free(unit);
        return 0;
}

static int v2_create(struct vs_cgroup *cg, unsigned what)
{
        int r;

        if (!(what & VS_CG_FIRST))
                return what & VS_CG_PROGRAM ? vs_cgroup_device_program(cg) : 0;

        if (cg->hier && cg->hier[0].mount && *cg->hier[0].mount) {
                _cleanup_free_ char *own = vs_strdupf("%s/%s", cg->hier[0].mount, cg->hier[0].base);
                if (!own)
                        return -ENOMEM;
                r = enable_controllers(own, strcmp(cg->hier[0].base, "/") != 0);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        r = vs_cg_mkdir_parent_and_guest(cg, 0, NULL);
        if (r < 0)
                return r;
        /* vservers/ and NAME are ours to write; the leaf NAME/guest, the
         * root of the guest's cgroup namespace, is delegated to its init. */
        const char *slash = strrchr(cg->paths[0], '/');
        _cleanup_free_ char *parent = strndup(cg->paths[0], slash - cg->paths[0]);
        if (!parent)
                return -ENOMEM;
        r = enable_controllers(parent, false);
        /* NAME holds the limits and no process: it hands its controllers
         * down to the leaf where the guest lives. */
        if (r == 0)
                r = enable_controllers(cg->paths[0], false);
        if (r == 0 && (what & VS_CG_PROGRAM))
                r = vs_cgroup_device_program(cg);
        if (r == 0)
                r = vs_cg_mkdir_leaf(cg->paths[0], NULL, NULL);
        if (r < 0) {
                vs_cg_rmdir_guest(cg->paths[0]);
                return r;
        }
        return 0;
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
        .kill = v2_kill,
        .destroy = v2_destroy,
};
