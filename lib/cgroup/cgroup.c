/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <dirent.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-devices.h"
#include "cgroup-internal.h"
#include "cleanup.h"
#include "pidfd.h"
#include "util.h"

void vs_cgroup_free(struct vs_cgroup *cg)
{
        if (!cg)
                return;
        for (size_t i = 0; i < cg->n_hier; i++) {
                free(cg->hier[i].controllers);
                free(cg->hier[i].mount);
                free(cg->hier[i].base);
        }
        free(cg->hier);
        vs_strv_free(cg->paths);
        free(cg->name);
        free(cg->parent);
        free(cg);
}

/* True when every comma-separated token of @want appears in @have. */
static bool tokens_subset(const char *want, const char *have)
{
        _cleanup_strv_free_ char **w = vs_strv_split(want, ",");
        _cleanup_strv_free_ char **h = vs_strv_split(have, ",");

        if (!w || !h)
                return false;
        for (char **a = w; *a; a++) {
                bool found = false;
                for (char **b = h; *b && !found; b++)
                        found = strcmp(*a, *b) == 0;
                if (!found)
                        return false;
        }
        return true;
}

struct mnt {
        char *root, *point, *fstype, *superopts;
};

static void mnts_free(struct mnt *m, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(m[i].root);
                free(m[i].point);
                free(m[i].fstype);
                free(m[i].superopts);
        }
        free(m);
}

/* Mount points in mountinfo escape space, tab, newline and backslash as \ooo. */
static char *unescape(const char *s)
{
        char *r = malloc(strlen(s) + 1), *p = r;
        if (!r)
                return NULL;
        while (*s) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] && s[3]) {
                        *p++ = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
                        s += 4;
                } else
                        *p++ = *s++;
        }
        *p = '\0';
        return r;
}

static int parse_cgroup_mounts(const char *text, struct mnt **ret, size_t *ret_n)
{
        _cleanup_strv_free_ char **lines = vs_strv_split(text, "\n");
        struct mnt *m = NULL;
        size_t n = 0;

        if (!lines)
                return -ENOMEM;
        for (char **l = lines; *l; l++) {
                _cleanup_strv_free_ char **f = vs_strv_split(*l, " ");
                size_t nf = vs_strv_length(f), dash;
                struct mnt *nm;

                if (!f || nf < 10)
                        continue;
                for (dash = 6; dash < nf && strcmp(f[dash], "-") != 0; dash++)
                        ;
                if (dash + 3 >= nf)
                        continue;
                if (strcmp(f[dash + 1], "cgroup") != 0 && strcmp(f[dash + 1], "cgroup2") != 0)
                        continue;
                nm = realloc(m, (n + 1) * sizeof(*m));
                if (!nm) {
                        mnts_free(m, n);
                        return -ENOMEM;
                }
                m = nm;
                m[n].root = unescape(f[3]);
                m[n].point = unescape(f[4]);
                m[n].fstype = strdup(f[dash + 1]);
                m[n].superopts = strdup(f[dash + 3]);
                n++;
                if (!m[n - 1].root || !m[n - 1].point || !m[n - 1].fstype || !m[n - 1].superopts) {
                        mnts_free(m, n);
                        return -ENOMEM;
                }
        }
        *ret = m;
        *ret_n = n;
        return 0;
}

static char *join_path(const char *a, const char *b)
{
        size_t la = strlen(a);
        while (la > 1 && a[la - 1] == '/')
                la--;
        while (*b == '/')
                b++;
        if (!*b)
                return strndup(a, la);
        return vs_strdupf("%.*s/%s", (int)la, a, b);
}

static int add_hier(struct vs_cgroup *cg, const char *controllers, const struct mnt *mt, const char *path, bool v2)
{
        struct vs_cgroup_hier *nh;
        const char *rel = path;
        size_t rl = strlen(mt->root);

        /* The mount may show only part of the hierarchy (mount root != "/"):
         * our group must lie beneath it to be reachable. */
        if (strcmp(mt->root, "/") != 0) {
                if (strncmp(path, mt->root, rl) != 0 || (path[rl] != '/' && path[rl] != '\0'))
                        return -ENOENT;
                rel = path + rl;
        }
        nh = realloc(cg->hier, (cg->n_hier + 1) * sizeof(*nh));
        if (!nh)
                return -ENOMEM;
        cg->hier = nh;
        nh = &cg->hier[cg->n_hier++];
        nh->controllers = strdup(controllers);
        nh->mount = strdup(mt->point);
        nh->base = strdup(*rel ? rel : "/");
        nh->v2 = v2;
        if (!nh->controllers || !nh->mount || !nh->base)
                return -ENOMEM;
        return 0;
}

/* The hierarchy of one line of /proc/self/cgroup ("ID:CONTROLLERS:PATH"), if
 * a mount in @mnts shows our group; *any_v1 set for a v1 controller's. */
static int add_line_hier(struct vs_cgroup *cg, const char *line, const struct mnt *mnts, size_t n_mnts,
                         bool *any_v1)
{
        const char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        _cleanup_free_ char *ctrl = NULL, *own_path = NULL;
        const char *path;
        bool v2;
        int r;

        if (!c2)
                return 0;
        ctrl = strndup(c1 + 1, c2 - c1 - 1);
        if (!ctrl)
                return -ENOMEM;
        path = c2 + 1;
        v2 = strcmp(line, "0::") == 0 || (strncmp(line, "0:", 2) == 0 && !*ctrl);
        if (v2) {
                /* Moved into our leaf by an earlier start: the
                 * guests still belong beside it, under our group. */
                size_t pl = strlen(path), ll = strlen("/" VS_CG_HOST_LEAF);
                if (pl > ll && strcmp(path + pl - ll, "/" VS_CG_HOST_LEAF) == 0) {
                        own_path = strndup(path, pl - ll);
                        if (!own_path)
                                return -ENOMEM;
                        path = own_path;
                }
        }
        for (size_t i = 0; i < n_mnts; i++) {
                const struct mnt *mt = &mnts[i];
                if (v2 ? strcmp(mt->fstype, "cgroup2") != 0
                       : (strcmp(mt->fstype, "cgroup") != 0 || !*ctrl || !tokens_subset(ctrl, mt->superopts)))
                        continue;
                r = add_hier(cg, ctrl, mt, path, v2);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                if (!v2 && strncmp(ctrl, "name=", 5) != 0)
                        *any_v1 = true;
                break;
        }
        return 0;
}

/* A pure v2 host: keep the unified tree only. */
static int keep_unified_only(struct vs_cgroup *cg)
{
        for (size_t i = 0; i < cg->n_hier; i++)
                if (cg->hier[i].v2 && i != 0) {
                        struct vs_cgroup_hier t = cg->hier[0];
                        cg->hier[0] = cg->hier[i];
                        cg->hier[i] = t;
                }
        for (size_t i = 1; i < cg->n_hier; i++) {
                free(cg->hier[i].controllers);
                free(cg->hier[i].mount);
                free(cg->hier[i].base);
        }
        cg->n_hier = 1;
        return cg->hier[0].v2 ? 0 : -ENOMEDIUM;
}

/* The guest's group in each hierarchy: MOUNT/BASE/PARENT/NAME. */
static int make_paths(struct vs_cgroup *cg, const char *name)
{
        cg->paths = calloc(cg->n_hier + 1, sizeof(char *));
        if (!cg->paths)
                return -ENOMEM;
        for (size_t i = 0; i < cg->n_hier; i++) {
                _cleanup_free_ char *b = join_path(cg->hier[i].mount, cg->hier[i].base);
                _cleanup_free_ char *p = b ? join_path(b, cg->parent) : NULL;
                cg->paths[i] = p ? join_path(p, name) : NULL;
                if (!cg->paths[i])
                        return -ENOMEM;
        }
        return 0;
}

/* The hierarchies of @self_cgroup's lines that @mountinfo's mounts show. */
static int find_hiers(struct vs_cgroup *cg, const char *mountinfo, const char *self_cgroup)
{
        _cleanup_strv_free_ char **lines = vs_strv_split(self_cgroup, "\n");
        struct mnt *mnts = NULL;
        size_t n_mnts = 0;
        bool any_v1 = false;
        int r;

        if (!lines)
                return -ENOMEM;
        r = parse_cgroup_mounts(mountinfo, &mnts, &n_mnts);
        if (r < 0)
                return r;
        for (char **l = lines; r == 0 && *l; l++)
                r = add_line_hier(cg, *l, mnts, n_mnts, &any_v1);
        mnts_free(mnts, n_mnts);
        if (r < 0)
                return r;
        if (cg->n_hier == 0)
                return -ENOMEDIUM;
        cg->ops = any_v1 ? &vs_cgroup_v1_ops : &vs_cgroup_v2_ops;
        return any_v1 ? 0 : keep_unified_only(cg);
}

int vs_cgroup_detect(const char *name, const char *parent, const char *mountinfo, const char *self_cgroup,
                     struct vs_cgroup **ret)
{
        _cleanup_free_ char *mi_buf = NULL, *sc_buf = NULL;
        struct vs_cgroup *cg;
        int r;

        if (!mountinfo) {
                r = vs_read_file("/proc/self/mountinfo", &mi_buf, NULL);
                if (r < 0)
                        return r;
                mountinfo = mi_buf;
        }
        if (!self_cgroup) {
                r = vs_read_file("/proc/self/cgroup", &sc_buf, NULL);
                if (r < 0)
                        return r;
                self_cgroup = sc_buf;
        }
        cg = calloc(1, sizeof(*cg));
        if (!cg)
                return -ENOMEM;
        cg->name = strdup(name);
        cg->parent = strdup(parent && *parent ? parent : "vservers");
        r = cg->name && cg->parent ? find_hiers(cg, mountinfo, self_cgroup) : -ENOMEM;
        if (r == 0)
                r = make_paths(cg, name);
        if (r < 0) {
                vs_cgroup_free(cg);
                return r;
        }
        *ret = cg;
        return 0;
}

int vs_cgroup_from_paths(const char *name, const char *backend, char **paths, char **controllers,
                         struct vs_cgroup **ret)
{
        struct vs_cgroup *cg = calloc(1, sizeof(*cg));
        size_t n = vs_strv_length(paths);

        if (!cg)
                return -ENOMEM;
        cg->ops = strcmp(backend, "v2") == 0 ? &vs_cgroup_v2_ops : &vs_cgroup_v1_ops;
        cg->name = strdup(name);
        cg->paths = calloc(n + 1, sizeof(char *));
        cg->hier = calloc(n + 1, sizeof(*cg->hier));
        if (!cg->name || !cg->paths || !cg->hier) {
                vs_cgroup_free(cg);
                return -ENOMEM;
        }
        cg->n_hier = n;
        for (size_t i = 0; i < n; i++) {
                const char *ctl = controllers && i < vs_strv_length(controllers) ? controllers[i] : "";
                cg->paths[i] = strdup(paths[i]);
                cg->hier[i].controllers = strdup(strcmp(ctl, "-") ? ctl : "");
                cg->hier[i].mount = strdup("");
                cg->hier[i].base = strdup("");
                cg->hier[i].v2 = strcmp(backend, "v2") == 0 || !strcmp(ctl, "-");
                if (!cg->paths[i] || !cg->hier[i].controllers || !cg->hier[i].mount || !cg->hier[i].base) {
                        vs_cgroup_free(cg);
                        return -ENOMEM;
                }
        }
        *ret = cg;
        return 0;
}

static char *dirname_of(const char *p)
{
        const char *s = strrchr(p, '/');
        return s && s != p ? strndup(p, s - p) : strdup("/");
}

int vs_cg_mkdir_parent_and_guest(struct vs_cgroup *cg, size_t i, int (*init_dir)(const char *dir, const char *parent))
{
        _cleanup_free_ char *parent = dirname_of(cg->paths[i]);
        _cleanup_free_ char *grand = parent ? dirname_of(parent) : NULL;
        int r;

        if (!parent || !grand)
                return -ENOMEM;
        /* Another guest stopping may remove an empty vservers/ between our
         * two mkdirs: retry a few times. */
        for (int attempt = 0; attempt < 5; attempt++) {
                if (mkdir(parent, 0755) < 0 && errno != EEXIST)
                        return -errno;
                if (init_dir) {
                        r = init_dir(parent, grand);
                        if (r == -ENOENT)
                                continue;
                        if (r < 0)
                                return r;
                }
                if (mkdir(cg->paths[i], 0755) < 0) {
                        if (errno == ENOENT)
                                continue;
                        if (errno != EEXIST)
                                return -errno;
                        /* A leftover from a guest that died: reuse it only when empty. */
                        size_t count = 0;
                        r = vs_cg_kill_path(cg->paths[i], 0, &count);
                        if (r < 0)
                                return r;
                        if (count > 0)
                                return -EBUSY;
                }
                if (init_dir) {
                        r = init_dir(cg->paths[i], parent);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        return -ENOENT;
}

bool vs_cg_is_cgroup2(const char *dir)
{
        struct statfs sf;
        return statfs(dir, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

int vs_cg_mkdir_leaf(const char *dir, int (*init_dir)(const char *dir, const char *parent), char **ret)
{
        _cleanup_free_ char *leaf = vs_strdupf("%s/" VS_CGROUP_LEAF, dir);
        int r;

        if (!leaf)
                return -ENOMEM;
        if (mkdir(leaf, 0755) < 0 && errno != EEXIST)
                return -errno;
        if (init_dir) {
                r = init_dir(leaf, dir);
                if (r < 0)
                        return r;
        }
        if (ret)
                *ret = TAKE_PTR(leaf);
        return 0;
}

int vs_cgroup_attach_self_path(const char *path)
{
        _cleanup_free_ char *f = vs_strdupf("%s/tasks", path);
        int r;

        if (!f)
                return -ENOMEM;
        /* v1: "0" in tasks moves just the calling thread, for which the
         * kernel skips its global threadgroup lock and the RCU grace period
         * taking it costs (5-25 ms here); our callers are single-threaded,
         * so the thread is the whole process. v2 has no tasks file. */
        r = vs_write_file_at(AT_FDCWD, f, "0\n");
        if (r != -ENOENT)
                return r;
        free(f);
        f = vs_strdupf("%s/cgroup.procs", path);
        return f ? vs_write_file_at(AT_FDCWD, f, "0\n") : -ENOMEM;
}

int vs_cgroup_attach_self(struct vs_cgroup *cg, ssize_t skip)
{
        for (size_t i = 0; cg->paths[i]; i++) {
                _cleanup_free_ char *leaf = NULL;
                int r;

                if ((ssize_t)i == skip)
                        continue;
                leaf = vs_strdupf("%s/" VS_CGROUP_LEAF, cg->paths[i]);
                r = leaf ? vs_cgroup_attach_self_path(leaf) : -ENOMEM;
                if (r < 0)
                        return r;
        }
        return 0;
}

int vs_cgroup_delegate(struct vs_cgroup *cg, uid_t uid, gid_t gid)
{
        static const char *const files[] = { ".", "cgroup.procs", "cgroup.threads", "cgroup.subtree_control",
                                             "tasks", "cgroup.clone_children", "notify_on_release" };

        for (size_t i = 0; cg->paths[i]; i++) {
                _cleanup_free_ char *leaf = vs_strdupf("%s/" VS_CGROUP_LEAF, cg->paths[i]);
                _cleanup_close_ int dfd = -1;

                if (!leaf)
                        return -ENOMEM;
                /* v1 blkio throttles each group on its own, not its
                 * children: the leaf holds the I/O limits and stays the
                 * host's, or the guest would make a child group and move
                 * out of them (lib/cgroup/cgroup-io.c). */
                if (cg->hier && i < cg->n_hier && !cg->hier[i].v2 && tokens_subset("blkio", cg->hier[i].controllers))
                        continue;
                dfd = open(leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dfd < 0)
                        return -errno;
                for (size_t f = 0; f < ELEMENTSOF(files); f++)
                        if (fchownat(dfd, f ? files[f] : "", uid, gid, f ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH) <
                                    0 &&
                            errno != ENOENT)
                                return -errno;
        }
        return 0;
}

ssize_t vs_cgroup_v2_index(const struct vs_cgroup *cg)
{
        ssize_t i = vs_cgroup_unified_index(cg);
        return i >= 0 && vs_cg_is_cgroup2(cg->paths[i]) ? i : -1;
}

ssize_t vs_cgroup_unified_index(const struct vs_cgroup *cg)
{
        if (cg->ops == &vs_cgroup_v2_ops)
                return cg->paths[0] ? 0 : -1;
        for (size_t i = 0; cg->hier && i < cg->n_hier; i++)
                if (cg->hier[i].v2)
                        return (ssize_t)i;
        return -1;
}

int vs_cgroup_device_program(struct vs_cgroup *cg)
{
        /* Only a real cgroup2 group takes a program (a unit test's fake
         * tree is plain directories). */
        ssize_t i = vs_cgroup_v2_index(cg);

        if (i < 0)
                return 0;
        return vs_dev_v2_apply(cg->paths[i], cg->devices);
}

int vs_cgroup_attach_path(const char *path, pid_t pid)
{
        _cleanup_free_ char *f = vs_strdupf("%s/cgroup.procs", path);
        char buf[32];

        if (!f)
                return -ENOMEM;
        snprintf(buf, sizeof(buf), "%d\n", (int)pid);
        return vs_write_file_at(AT_FDCWD, f, buf);
}

/* Signals every pid listed in PATH/cgroup.procs (sig 0 only counts). */
static int list_pids_tree(const char *path, pid_t **v, size_t *n);

static int relist_path(void *data, pid_t **ret, size_t *ret_n)
{
        *ret = NULL;
        *ret_n = 0;
        return list_pids_tree(data, ret, ret_n);
}

int vs_cg_kill_path(const char *path, int sig, size_t *ret_count)
{
        pid_t *pids = NULL;
        size_t n = 0;
        /* The guest's own sub-groups count too. */
        int r = list_pids_tree(path, &pids, &n);

        if (r < 0) {
                free(pids);
                return r;
        }
        /* A listed process may exit and its pid go to a host process before
         * the signal: only what the group still holds once pidfds are open
         * is signalled. */
        if (sig)
                (void)vs_pids_signal_listed(pids, n, relist_path, (void *)path, sig);
        free(pids);
        *ret_count = n;
        return 0;
}

static int rmdir_post(const char *dir, void *arg)
{
        (void)arg;
        (void)rmdir(dir); /* what the kernel still holds, the last rmdir says */
        return 0;
}

static int rmdir_tree(const char *path)
{
        /* Most groups have no children left: one rmdir does it. */
        if (rmdir(path) == 0 || errno == ENOENT)
                return 0;
        if (errno != EBUSY && errno != ENOTEMPTY)
                return -errno;
        (void)vs_cg_walk(path, 64, NULL, rmdir_post, NULL);
        if (rmdir(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

/* Removes the parent of a guest's group (vservers/) when it is empty;
 * groups of other guests in it are no error. */
static int rmdir_parent(const char *path)
{
        _cleanup_free_ char *parent = dirname_of(path);

        if (parent && rmdir(parent) < 0 && errno != ENOTEMPTY && errno != EBUSY && errno != EEXIST &&
            errno != ENOENT)
                return -errno;
        return 0;
}

int vs_cg_rmdir_guest(const char *path)
{
        int r = 0;

        /* The last process leaves the group a little after it is reaped:
         * retry while the kernel still counts it (EBUSY) for up to 2 s. */
        struct vs_deadline d = vs_deadline_in(2000, 10);
        do
                r = rmdir_tree(path);
        while (r == -EBUSY && vs_deadline_wait(&d));
        if (r < 0)
                return r;
        return rmdir_parent(path);
}

int vs_cgroup_remove_quick(struct vs_cgroup *cg)
{
        for (size_t i = 0; cg->paths && cg->paths[i]; i++) {
                _cleanup_free_ char *leaf = vs_strdupf("%s/" VS_CGROUP_LEAF, cg->paths[i]);
                if (!leaf)
                        return -ENOMEM;
                if (rmdir(leaf) < 0 && errno != ENOENT)
                        return -errno;
                if (rmdir(cg->paths[i]) < 0 && errno != ENOENT)
                        return -errno;
                int r = rmdir_parent(cg->paths[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

int vs_cgroup_count_procs(struct vs_cgroup *cg, size_t *ret)
{
        for (size_t i = 0; cg->paths && cg->paths[i]; i++) {
                size_t c = 0;
                int r = vs_cg_kill_path(cg->paths[i], 0, &c);
                if (r < 0)
                        return r;
                if (c > 0) {
                        *ret = c;
                        return 0;
                }
        }
        *ret = 0;
        return 0;
}

int vs_cgroup_pid_groups(pid_t pid, const char *tail, char **paths, char **controllers, char ***ret)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_strv_free_ char **lines = NULL, **out = NULL;
        size_t n = vs_strv_length(paths), tl = strlen(tail);
        int r = vs_read_filef(&text, "/proc/%d/cgroup", (int)pid);

        if (r < 0)
                return r;
        lines = vs_strv_split(text, "\n");
        out = calloc(n + 1, sizeof(char *));
        if (!lines || !out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const char *ctl = controllers && controllers[i] ? controllers[i] : "-";
                bool v2 = strcmp(ctl, "-") == 0;
                size_t pl = strlen(paths[i]);

                out[i] = strdup("");
                if (!out[i])
                        return -ENOMEM;
                if (pl < tl || strcmp(paths[i] + pl - tl, tail) != 0)
                        continue;
                for (char **l = lines; *l; l++) {
                        char *c1 = strchr(*l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, *in;

                        if (!c2)
                                continue;
                        if (v2 ? c2 != c1 + 1 || strncmp(*l, "0:", 2) != 0
                               : (size_t)(c2 - c1 - 1) != strlen(ctl) || strncmp(c1 + 1, ctl, c2 - c1 - 1) != 0)
                                continue;
                        /* the group below the guest's ".../TAIL" */
                        in = strstr(c2 + 1, tail);
                        while (in && in[tl] != '\0' && in[tl] != '/')
                                in = strstr(in + 1, tail);
                        if (in && !strstr(in + tl, "/..")) {
                                free(out[i]);
                                out[i] = vs_strdupf("%s%s", paths[i], in + tl);
                                if (!out[i])
                                        return -ENOMEM;
                        }
                        break;
                }
        }
        *ret = TAKE_PTR(out);
        return 0;
}


int vs_cg_walk(const char *path, int max_depth, int (*pre)(const char *dir, void *arg),
               int (*post)(const char *dir, void *arg), void *arg)
{
        struct dirent *de;
        DIR *d;
        int r = 0;

        if (max_depth <= 0 || !(d = opendir(path)))
                return 0;
        while (r >= 0 && (de = readdir(d))) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *sp = vs_strdupf("%s/%s", path, de->d_name);
                if (!sp)
                        r = -ENOMEM;
                else if (!pre || (r = pre(sp, arg)) >= 0)
                        if ((r = vs_cg_walk(sp, max_depth - 1, pre, post, arg)) >= 0 && post)
                                r = post(sp, arg);
        }
        closedir(d);
        return r < 0 ? r : 0;
}

struct pid_list {
        pid_t *v;
        size_t n;
};

/* Appends the pids in DIR/cgroup.procs; a group gone meanwhile has none. */
static int procs_append(const char *dir, struct pid_list *l)
{
        _cleanup_free_ char *f = vs_strdupf("%s/cgroup.procs", dir), *buf = NULL;
        int r;

        if (!f)
                return -ENOMEM;
        r = vs_read_file(f, &buf, NULL);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        for (char *p = buf, *e; *p; p = e) {
                long pid = strtol(p, &e, 10);
                if (e == p)
                        break;
                if (pid > 0) {
                        pid_t *nv = realloc(l->v, (l->n + 1) * sizeof(pid_t));
                        if (!nv)
                                return -ENOMEM;
                        l->v = nv;
                        l->v[l->n++] = (pid_t)pid;
                }
        }
        return 0;
}

/* Below the guest's group, a sub-group that cannot be read is passed over. */
static int procs_child(const char *dir, void *arg)
{
        int r = procs_append(dir, arg);
        return r == -ENOMEM ? r : 0;
}

/* The pids of PATH's group and of every group below it (33 levels deep). */
static int list_pids_tree(const char *path, pid_t **v, size_t *n)
{
        struct pid_list l = { *v, *n };
        int r = procs_append(path, &l);

        if (r >= 0)
                r = vs_cg_walk(path, 33, procs_child, NULL, &l);
        *v = l.v;
        *n = l.n;
        return r;
}

int vs_cgroup_list_pids(const struct vs_cgroup *cg, const char *controller, pid_t **ret, size_t *ret_n)
{
        const char *path = vs_cgroup_controller_path(cg, controller);
        pid_t *v = NULL;
        size_t n = 0;
        int r;

        if (!path)
                return -ENOENT;
        r = list_pids_tree(path, &v, &n);
        if (r < 0) {
                free(v);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}
