/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "image.h"
#include "guest-net.h"
#include "guest-quota.h"
#include "backup.h"
#include "idmap.h"
#include "storage.h"
#include "paths.h"
#include "provision.h"
#include "shift.h"
#include "state.h"
#include "util.h"

static volatile pid_t template_pid = -1;

static void kill_template(int sig)
{
        (void)sig;
        if (template_pid > 0)
                kill(template_pid, SIGKILL);
}

static char *find_template(const char *name)
{
        _cleanup_strv_free_ char **dirs = vs_strv_split(vs_template_path(), ":");
        for (char **d = dirs; d && *d; d++) {
                char *p = vs_strdupf("%s/%s", *d, name);
                if (p && access(p, X_OK) == 0)
                        return p;
                free(p);
        }
        return NULL;
}

static const char *host_arch(void)
{
        static struct utsname u;
        static const struct {
                const char *machine, *arch;
        } map[] = { { "x86_64", "amd64" }, { "aarch64", "arm64" }, { "i686", "i386" },
                    { "armv7l", "armhf" }, { "ppc64le", "ppc64el" }, { "s390x", "s390x" },
                    { "riscv64", "riscv64" } };
        if (uname(&u) < 0)
                return "amd64";
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (strcmp(u.machine, map[i].machine) == 0)
                        return map[i].arch;
        return u.machine;
}

/* Removes what interrupted builds and destroys left in the guest directory:
 * temporary trees nobody holds a lock on any more, and guest directories
 * marked incomplete that have no config. */
static void clean_leftovers(void)
{
        DIR *d = opendir(vs_guestdir());
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d))) {
                _cleanup_free_ char *p = NULL, *conf = NULL;
                _cleanup_close_ int fd = -1;
                bool tmp = strncmp(de->d_name, ".build-", 7) == 0 || strncmp(de->d_name, ".destroy-", 9) == 0;

                if (de->d_name[0] == '.' && !tmp)
                        continue;
                p = vs_strdupf("%s/%s", vs_guestdir(), de->d_name);
                if (!p)
                        continue;
                if (!tmp) {
                        _cleanup_free_ char *mark = vs_strdupf("%s/" VS_INCOMPLETE_MARK, p);
                        if (!vs_name_valid(de->d_name) || !mark || access(mark, F_OK) < 0)
                                continue;
                        conf = vs_conf_path(de->d_name);
                        if (!conf || access(conf, F_OK) == 0)
                                continue;
                }
                fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
                        continue;
                (void)vs_rm_rf(p);
        }
        closedir(d);
}

/* Runs the template as PID 1 of its own PID and mount namespaces: if we die,
 * the kernel kills it and everything it started (debootstrap, dpkg, cp), and
 * any mounts it made vanish with its namespace. */
static int run_template(const char *path, char **argv, const char *overlay_dir, struct vs_error *err)
{
        struct sigaction sa = { .sa_handler = kill_template }, old_int, old_term, old_hup;
        int status;
        pid_t pid;

        fflush(NULL);
        pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWNS | SIGCHLD, NULL, NULL, NULL, NULL);
        if (pid < 0) {
                return vs_error_set(err, errno, "Cannot start the template: %s", strerror(errno));
        }
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
                        fprintf(stderr, "vs-build: cannot prepare the template's namespace: %m\n");
                        _exit(1);
                }
                if (overlay_dir) {
                        /* A shared guest: the template sees its tree through
                         * the overlay, and what it writes lands in upper. */
                        struct vs_error why = { 0 };
                        int r = vs_disk_mount_root(overlay_dir, VS_LAYOUT_SHARED, &why);
                        if (r < 0) {
                                fprintf(stderr, "vs-build: %s: %s\n", why.msg, strerror(-r));
                                _exit(1);
                        }
                }
                signal(SIGINT, SIG_DFL);
                signal(SIGTERM, SIG_DFL);
                execv(path, argv);
                fprintf(stderr, "vs-build: cannot execute %s: %m\n", path);
                _exit(1);
        }
        template_pid = pid;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        sigaction(SIGHUP, &sa, &old_hup);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        status = -1;
                        break;
                }
        template_pid = -1;
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGHUP, &old_hup, NULL);
        if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (status != -1 && WIFSIGNALED(status)) {
                return vs_error_set(err, EINTR, "Build interrupted");
        }
        if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 2) {
                return vs_error_set(err, EINVAL, "The template refused the build (see its message above)");
        }
        return vs_error_set(err, EIO, "The template failed (exit status %d; see its messages above)",
                            status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* Where the file system cannot id-map, an unprivileged dir guest's files
 * are shifted to its host ids once (a range is chosen now, under the
 * caller's idmap lock); a clone's copy moves from where its source's are
 * to where its own go. */
static int shift_tree(struct vs_config *c, const struct vs_build_opts *o, const char *tmp, bool shift, uint64_t src_shift,
                      struct vs_error *err)
{
        const char *name = o->name;
        _cleanup_free_ char *rootfs = vs_strdupf("%s/rootfs", tmp);
        struct vs_shift sh = { .from = src_shift, .count = VS_IDMAP_COUNT };
        uint64_t t0 = vs_now_usec();
        int r;

        if (!rootfs)
                return -ENOMEM;
        if (shift && !c->idmap_count) {
                struct vs_idmap_result res;
                r = vs_idmap_choose_locked(vs_confdir(), name, vs_subuid_path(), vs_subgid_path(), &res);
                if (r < 0) {
                        return vs_error_set(err, r, "Cannot choose the host ids of \"%s\": %s", name, strerror(-r));
                }
                if (res.installed)
                        vs_say(o->say, o->say_data, "Root had no subordinate ids: root:%llu:%llu added to %s%s%s",
                               (unsigned long long)res.added.start, (unsigned long long)res.added.count,
                               res.installed & 1 ? vs_subuid_path() : "", res.installed == 3 ? " and " : "",
                               res.installed & 2 ? vs_subgid_path() : "");
                c->idmap_host = res.host;
                c->idmap_count = res.count;
        }
        sh.to = shift ? c->idmap_host : 0;
        if (shift)
                sh.count = c->idmap_count;
        if (sh.from == sh.to)
                return 0;
        if (shift)
                vs_say(o->say, o->say_data,
                       "The file system of %s refuses id-mapped mounts: shifting the ids of \"%s\" to its host ids "
                       "from %llu, once", vs_guestdir(), name, (unsigned long long)sh.to);
        else
                vs_say(o->say, o->say_data,
                       "Shifting the ids of \"%s\" back from %llu (where its source's were shifted) to 0", name,
                       (unsigned long long)sh.from);
        r = vs_tree_shift(rootfs, &sh);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot shift the ids of %s: %s", rootfs, strerror(-r));
        }
        c->idmap_shifted = shift ? sh.to : 0;
        vs_say(o->say, o->say_data, "Shifted in %.1f s", (double)(vs_now_usec() - t0) / 1e6);
        return 0;
}

/* An explicit guest.idmap that overlaps another guest's range is refused
 * here, not at the first start: once written it would count as taken and
 * keep the other guest from starting too. */
static int check_idmap(const struct vs_config *c, const char *name, struct vs_error *err)
{
        struct vs_idmap_result res;
        int r = vs_idmap_check(vs_confdir(), name, c->idmap_host, c->idmap_count, &res);

        if (r == -EEXIST)
                vs_error_set(err, r, "guest.idmap: the host ids %llu:%llu of \"%s\" overlap %llu:%llu of guest \"%s\"",
                             (unsigned long long)c->idmap_host, (unsigned long long)c->idmap_count, name,
                             (unsigned long long)res.conflict_host, (unsigned long long)res.conflict_count,
                             res.conflict);
        else if (r < 0)
                vs_error_set(err, r, "Cannot read the guests' host ids in %s: %s", vs_confdir(), strerror(-r));
        return r;
}

/* What the phases of one build share; build_done() releases it. */
struct build {
        const struct vs_build_opts *o;
        struct vs_error *err;
        const char *tname, *release, *arch, *init;
        uint64_t t0;
        struct vs_config *c;
        struct vs_provision prov;
        int layout;
        bool auto_address;    /* the pool chose the address: chosen again under its lock */
        bool shift;           /* no id-mapped mounts here: the tree's ids are shifted once */
        uint64_t src_shift;   /* where a clone's source has its files */
        uint64_t old_project; /* a replaced guest's project id */
        char *tpath, *conf, *dir, *tmp, *rootfs;
        int tmpfd, oldlock, pool_lock, idmap_lock;
        bool replacing, swapped;
        bool undone; /* the config could not be written and the old guest is back */
};

static void build_done(struct build *b)
{
        vs_provision_done(&b->prov);
        closep(&b->idmap_lock);
        closep(&b->pool_lock);
        closep(&b->oldlock);
        closep(&b->tmpfd);
        free(b->rootfs);
        free(b->tmp);
        free(b->dir);
        free(b->conf);
        free(b->tpath);
        vs_config_free(b->c);
}

static int check_options(struct build *b)
{
        const struct vs_build_opts *o = b->o;
        int r = vs_check_name(o->name, b->err);

        if (r < 0)
                return r;
        if (strcmp(b->init, "systemd") != 0 && strcmp(b->init, "sysvinit") != 0) {
                return vs_error_set(b->err, EINVAL, "Unknown init \"%s\" (use systemd or sysvinit)", b->init);
        }
        if (o->clone_from && o->from_tar) {
                return vs_error_set(b->err, EINVAL, "--clone and --from-tar exclude each other");
        }
        return 0;
}

/* A clone's, a tarball's or a backup's config, less what must be the copy's own. */
static int config_from_source(struct build *b)
{
        const struct vs_build_opts *o = b->o;
        struct vs_config *c;
        int r = o->restore ? vs_restore_config(o, &b->c, b->err) : vs_build_other_config(o, &b->c, b->err);

        if (r < 0)
                return r;
        c = b->c;
        /* A backup holds the guest's own view of ids; restored
         * under its own name it keeps its identity. */
        if (o->restore) {
                c->idmap_shifted = 0;
                if (o->restore->same)
                        return 0;
        }
        /* A copy needs its own address and MAC: the pool (or --ip)
         * gives the one, the name the other. */
        free(c->net_address);
        free(c->net_mac);
        c->net_address = c->net_mac = NULL;
        /* And host ids of its own: the source's range stays the
         * source's (the files on disk are the same either way,
         * unless the source's were shifted: see below). */
        b->src_shift = c->idmap_shifted;
        c->idmap_host = c->idmap_count = 0;
        return 0;
}

/* A new guest's config: the template's options as its keys. */
static int config_from_options(struct build *b)
{
        const struct vs_build_opts *o = b->o;
        struct vs_error cerr;
        int r = vs_config_new(o->name, &b->c);

        if (r < 0)
                return r;
        struct {
                const char *key, *value, *what;
        } set[] = { { "guest.template", b->tname, "--template" },
                    { "guest.release", b->release, "--release" },
                    { "guest.arch", b->arch, "--arch" },
                    { "guest.hostname", o->hostname ? o->hostname : o->name, "--hostname" },
                    { "guest.halt_signal", strcmp(b->init, "systemd") == 0 ? "SIGRTMIN+3" : "SIGPWR", "--init" } };
        for (size_t i = 0; i < ELEMENTSOF(set); i++) {
                r = vs_config_set(b->c, set[i].key, set[i].value, &cerr);
                if (r < 0) {
                        return vs_error_set(b->err, r, "%s: %s", set[i].what, cerr.msg);
                }
        }
        return 0;
}

static int make_config(struct build *b)
{
        if (b->o->clone_from || b->o->from_tar || b->o->restore)
                return config_from_source(b);
        return config_from_options(b);
}

static int apply_settings(struct build *b)
{
        int r;

        for (char **s = b->o->settings; s && *s; s++) {
                _cleanup_free_ char *k = strdup(*s);
                char *eq = k ? strchr(k, '=') : NULL;
                if (!eq) {
                        return vs_error_set(b->err, EINVAL, "Bad setting \"%s\" (expected section.key=value)", *s);
                }
                *eq = '\0';
                if (!strcmp(k, "guest.template") || !strcmp(k, "guest.release") || !strcmp(k, "guest.arch")) {
                        return vs_error_set(b->err, EINVAL, "--set %s: use --%s, which the template builds with", k,
                                            strchr(k, '.') + 1);
                }
                r = vs_config_set(b->c, k, eq + 1, b->err);
                if (r < 0)
                        return vs_error_locate(b->err, r, "setting");
        }
        return 0;
}

static int check_settings(struct build *b)
{
        int r = vs_provision_prepare(b->o, b->c, &b->prov, b->err);

        if (r < 0)
                return r;
        b->auto_address = !b->c->net_address;
        r = vs_guest_net_assign(b->c, NULL, b->err);
        if (r < 0)
                return r;
        r = vs_config_check(b->c, b->err);
        if (r < 0)
                return vs_error_locate(b->err, r, "setting");
        return 0;
}

/* --include and --mirror reach the template's command line. */
static int check_template_options(struct build *b)
{
        const struct vs_build_opts *o = b->o;

        if (o->include)
                for (const char *p = o->include; *p; p++)
                        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || strchr("+.-,", *p)) ||
                            !isascii((unsigned char)*p)) {
                                return vs_error_set(b->err, EINVAL, "--include: bad package list \"%s\"", o->include);
                        }
        if (o->mirror && (strncmp(o->mirror, "http://", 7) != 0 && strncmp(o->mirror, "https://", 8) != 0 &&
                          strncmp(o->mirror, "file:/", 6) != 0)) {
                return vs_error_set(b->err, EINVAL, "--mirror: expected an http://, https:// or file:/ URL, not \"%s\"",
                                    o->mirror);
        }
        return 0;
}

static int check_layout(struct build *b)
{
        const struct vs_build_opts *o = b->o;
        int r;

        b->layout = vs_config_layout(b->c);
        if (b->layout == VS_LAYOUT_IMAGE) {
                r = vs_disk_check_size(b->c->disk_size, b->err);
                if (r < 0)
                        return r;
        } else if (b->c->disk_size) {
                /* A project quota: refused before anything is built where the
                 * filesystem under the guests cannot enforce one. */
                r = vs_mkdir_private(vs_guestdir());
                if (r < 0) {
                        return vs_error_set(b->err, r, "Cannot make %s: %s", vs_guestdir(), strerror(-r));
                }
                r = vs_guest_quota_check(vs_guestdir(), b->err);
                if (r < 0)
                        return r;
        }
        /* A clone's project id is its source's: it gets its own. */
        if (o->clone_from || o->restore)
                b->c->disk_project = 0;
        if (b->layout == VS_LAYOUT_SHARED && (o->clone_from || o->from_tar) &&
            !(o->clone_from && vs_build_source_layout(o->clone_from) == VS_LAYOUT_SHARED)) {
                return vs_error_set(b->err, EINVAL, "disk.layout: \"shared\" needs a template (or a shared guest to clone)");
        }
        if (o->clone_from && vs_build_source_layout(o->clone_from) != b->layout) {
                return vs_error_set(b->err, EINVAL, "--clone copies the layout of \"%s\" (%s); it cannot change it", o->clone_from,
                                    vs_layout_name(vs_build_source_layout(o->clone_from)));
        }
        return 0;
}

static int check_own_idmap(struct build *b)
{
        return check_idmap(b->c, b->o->name, b->err);
}

static int choose_template(struct build *b)
{
        const struct vs_build_opts *o = b->o;

        b->tpath = o->clone_from || o->from_tar || o->restore ? strdup("-") : find_template(b->tname);
        if (!b->tpath) {
                return vs_error_set(b->err, EINVAL, "Unknown template \"%s\" (searched %s)", b->tname, vs_template_path());
        }
        return 0;
}

/* Refuses an existing guest without --force; with it, takes its lock and
 * notes its project id (cleared once the new tree replaced the old). */
static int claim_name(struct build *b)
{
        const struct vs_build_opts *o = b->o;
        int r;

        b->conf = vs_conf_path(o->name);
        b->dir = vs_guest_path(o->name);
        if (!b->conf || !b->dir)
                return -ENOMEM;
        if (access(b->conf, F_OK) < 0)
                return 0;
        if (!o->force) {
                return vs_error_set(b->err, EEXIST, "Guest \"%s\" exists already (%s); use --force to rebuild it", o->name, b->conf);
        }
        b->replacing = true;
        {
                _cleanup_config_ struct vs_config *old = NULL;
                if (vs_load_config(o->name, &old, NULL) == 0 && vs_config_layout(old) != VS_LAYOUT_IMAGE)
                        b->old_project = old->disk_project;
        }
        r = vs_guest_lock_wait(o->name, &b->oldlock);
        if (r == -EBUSY) {
                return vs_error_set(b->err, r, "Guest \"%s\" is running or busy: stop it before rebuilding", o->name);
        }
        return 0;
}

/* Guest root plants setuid files in its tree: no host user may reach
 * them. The guest directory (made private below, and by every start)
 * closes the path; the parent too, which also closes trees made when
 * both were 0755. */
static int make_guest_dirs(struct build *b)
{
        int r = vs_mkdir_private(vs_guestdir());

        if (r == 0)
                r = vs_mkdir_p(vs_confdir(), 0755);
        if (r < 0) {
                return vs_error_set(b->err, r, "Cannot create %s or %s: %s", vs_guestdir(), vs_confdir(), strerror(-r));
        }
        return 0;
}

/* An unprivileged guest's root (and a shared guest's template
 * version) is an id-mapped mount. Where the file system cannot, a
 * dir guest's tree is shifted to its host ids once, below; a shared
 * guest's template version is every guest's, and is refused. An
 * image is ext4 whatever holds it. */
static int check_idmapped_mounts(struct build *b)
{
        const char *where = vs_guestdir();
        int r;

        b->c->idmap_shifted = 0; /* vs-build's to write, never --set's */
        if (!b->c->userns || b->layout == VS_LAYOUT_IMAGE)
                return 0;
        r = vs_idmap_mount_supported(where);
        if (r == 0 && b->layout == VS_LAYOUT_SHARED && access(vs_cachedir(), F_OK) == 0) {
                where = vs_cachedir();
                r = vs_idmap_mount_supported(where);
        }
        if (r == 0 && b->layout == VS_LAYOUT_SHARED && vs_overlay_fd_layers() == -EOPNOTSUPP) {
                return vs_error_set(b->err, EOPNOTSUPP, "This kernel's overlay takes no layers by file descriptor (Linux 6.13 "
                                     "does), which an unprivileged shared guest's id-mapped layers need: build "
                                     "\"%s\" with --privileged, or as a dir guest",
                             b->o->name);
        }
        if (r < 0 && b->layout == VS_LAYOUT_DIR) {
                b->shift = true;
        } else if (r < 0) {
                return vs_error_set(b->err, EOPNOTSUPP, "The file system of %s refuses id-mapped mounts (%s), which an unprivileged "
                                     "shared guest needs: build \"%s\" with --privileged, or with --disk SIZE "
                                     "(an ext4 image), or as a dir guest (its files are then shifted once)",
                             where, strerror(-r), b->o->name);
        }
        return 0;
}

static int sweep_leftovers(struct build *b)
{
        (void)b;
        clean_leftovers();
        return 0;
}

static int make_build_dir(struct build *b)
{
        int r;

        b->tmp = vs_strdupf("%s/.build-%s.XXXXXX", vs_guestdir(), b->o->name);
        if (!b->tmp)
                return -ENOMEM;
        if (!mkdtemp(b->tmp)) {
                r = -errno;
                vs_error_set(b->err, errno, "Cannot create a build directory in %s: %s", vs_guestdir(), strerror(errno));
                free(b->tmp);
                b->tmp = NULL;
                return r;
        }
        return 0;
}

/* mkdtemp made it 0700, and so it stays: the level above rootfs is
 * what keeps host users away from the guest's files. rootfs itself
 * is the guest's / and keeps the mode the guest expects. */
static int lock_build_dir(struct build *b)
{
        _cleanup_free_ char *mark = NULL;
        int r;

        b->tmpfd = open(b->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (b->tmpfd < 0 || flock(b->tmpfd, LOCK_EX | LOCK_NB) < 0) {
                r = -errno;
                return vs_error_set(b->err, r, "Cannot lock %s: %s", b->tmp, strerror(errno));
        }
        mark = vs_strdupf("%s/" VS_INCOMPLETE_MARK, b->tmp);
        if (!mark)
                return -ENOMEM;
        close(open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        b->rootfs = vs_strdupf("%s/rootfs", b->tmp);
        if (!b->rootfs || mkdir(b->rootfs, 0755) < 0)
                return b->rootfs ? -errno : -ENOMEM;
        return 0;
}

/* The template's command line up to its mode, in @argv (36 entries); the
 * number of entries in *ret_n. */
static int template_argv(struct build *b, char **argv, int *ret_n)
{
        const struct vs_build_opts *o = b->o;
        int n = 0, r;

        argv[n++] = b->tpath;
        argv[n++] = "--rootfs";
        argv[n++] = b->rootfs;
        argv[n++] = "--name";
        argv[n++] = (char *)o->name;
        argv[n++] = "--hostname";
        argv[n++] = b->c->hostname;
        argv[n++] = "--release";
        argv[n++] = (char *)b->release;
        argv[n++] = "--arch";
        argv[n++] = (char *)b->arch;
        argv[n++] = "--init";
        argv[n++] = (char *)b->init;
        /* The template's cached trees are whole systems with their
         * setuid programs: private like the guests. */
        {
                _cleanup_free_ char *tdir = vs_strdupf("%s/templates", vs_cachedir());
                r = tdir ? vs_mkdir_private(tdir) : -ENOMEM;
                if (r < 0) {
                        return vs_error_set(b->err, r, "Cannot create %s/templates: %s", vs_cachedir(), strerror(-r));
                }
        }
        argv[n++] = "--cachedir";
        argv[n++] = (char *)vs_cachedir();
        if (o->include && *o->include) {
                argv[n++] = "--include";
                argv[n++] = (char *)o->include;
        }
        if (o->mirror) {
                argv[n++] = "--mirror";
                argv[n++] = (char *)o->mirror;
        }
        *ret_n = n;
        return 0;
}

/* A shared guest: first only make sure the template's tree is cached and
 * learn where; then stack the guest on a copy. */
static int attach_cached_template(struct build *b, char **argv, int n)
{
        _cleanup_free_ char *cache_file = NULL, *cache_tree = NULL;
        int r;

        cache_file = vs_strdupf("%s/.template-cache", b->tmp);
        if (!cache_file)
                return -ENOMEM;
        argv[n] = "--mode";
        argv[n + 1] = "cache-only";
        argv[n + 2] = "--cache-file";
        argv[n + 3] = cache_file;
        argv[n + 4] = NULL;
        r = run_template(b->tpath, argv, NULL, b->err);
        if (r < 0)
                return r;
        if (vs_read_file(cache_file, &cache_tree, NULL) < 0 || !*cache_tree) {
                return vs_error_set(b->err, EIO, "Template \"%s\" did not say where its cached tree is", b->tname);
        }
        cache_tree[strcspn(cache_tree, "\n")] = '\0';
        unlink(cache_file);
        return vs_disk_shared_attach(cache_tree, b->tmp, b->o->say, b->o->say_data, b->err);
}

static int fill_from_template(struct build *b)
{
        char *argv[36];
        int n = 0, r;

        r = template_argv(b, argv, &n);
        if (r < 0)
                return r;
        if (b->layout == VS_LAYOUT_SHARED) {
                r = attach_cached_template(b, argv, n);
                if (r < 0)
                        return r;
                argv[n++] = "--mode";
                argv[n++] = "populated";
        }
        argv[n] = NULL;
        vs_say(b->o->say, b->o->say_data, "Building guest \"%s\" from template \"%s\" (%s, %s, %s)", b->o->name,
               b->tname, b->release, b->arch, b->init);
        return run_template(b->tpath, argv, b->layout == VS_LAYOUT_SHARED ? b->tmp : NULL, b->err);
}

static int fill_tree(struct build *b)
{
        const struct vs_build_opts *o = b->o;

        if (o->restore)
                return vs_restore_tree(o, b->c, b->tmp, b->err);
        if (o->clone_from)
                return vs_build_clone(o, b->c, b->tmp, b->err);
        if (o->from_tar)
                return vs_build_from_tar(o, b->c, b->tmp, b->err);
        return fill_from_template(b);
}

static int make_image(struct build *b)
{
        if (b->layout == VS_LAYOUT_IMAGE && !b->o->clone_from)
                return vs_disk_make_image(b->tmp, b->c->disk_size, b->o->say, b->o->say_data, b->err);
        return 0;
}

static int apply_provision(struct build *b)
{
        return vs_provision_apply(b->tmp, b->layout, b->c, &b->prov, b->err);
}

/* Again under the pool's lock, so concurrent builds never take one
 * address twice; the lock is held until the config is written. */
static int assign_address(struct build *b)
{
        if (b->auto_address && b->c->net_address) {
                free(b->c->net_address);
                b->c->net_address = NULL;
        }
        return vs_guest_net_assign(b->c, &b->pool_lock, b->err);
}

/* An explicit range is checked again under the lock starts choose
 * host ids with, held until the config is written: a range
 * written counts as taken, even one that overlaps. */
static int lock_idmap(struct build *b)
{
        int r = vs_idmap_lock(vs_confdir(), &b->idmap_lock);

        if (r < 0) {
                return vs_error_set(b->err, r, "Cannot lock %s: %s", vs_confdir(), strerror(-r));
        }
        return check_idmap(b->c, b->o->name, b->err);
}

static int shift_ids(struct build *b)
{
        return shift_tree(b->c, b->o, b->tmp, b->shift, b->src_shift, b->err);
}

static int apply_quota(struct build *b)
{
        if (b->layout != VS_LAYOUT_IMAGE && b->c->disk_size)
                return vs_guest_quota_apply(b->o->name, b->tmp, b->layout, b->c, b->o->say, b->o->say_data, b->err);
        return 0;
}

static int commit_provision(struct build *b)
{
        return vs_provision_commit(b->o->name, b->c, &b->prov, b->err);
}

static int restore_files(struct build *b)
{
        return b->o->restore ? vs_restore_files(b->o, false, b->err) : 0;
}

/* The old guest is swapped with the new one in one step and kept
 * (under the build's name, which our lock on it keeps from the
 * leftover sweep) until the config is written: on any failure up to
 * there, it is swapped back as it was. */
static int move_into_place(struct build *b)
{
        int r;

        if (b->replacing && renameat2(AT_FDCWD, b->tmp, AT_FDCWD, b->dir, RENAME_EXCHANGE) == 0) {
                b->swapped = true;
        } else if (b->replacing && errno != ENOENT) {
                r = -errno;
                return vs_error_set(b->err, r, "Cannot put the new guest in the place of %s: %s", b->dir, strerror(errno));
        } else if (rename(b->tmp, b->dir) < 0) {
                r = -errno;
                return vs_error_set(b->err, r, "Cannot move the new guest into %s: %s", b->dir, strerror(errno));
        }
        return 0;
}

/* The config is written last: the guest exists once it is there. On
 * failure the old guest is swapped back (b->undone) or the new one removed. */
static int write_config(struct build *b)
{
        int r = vs_config_write(b->c, b->conf);

        if (r >= 0)
                return 0;
        vs_error_set(b->err, r, "Cannot write %s: %s", b->conf, strerror(-r));
        if (b->swapped) {
                if (renameat2(AT_FDCWD, b->tmp, AT_FDCWD, b->dir, RENAME_EXCHANGE) == 0) {
                        b->undone = true;
                        return r;
                }
                /* Cannot happen short of a broken filesystem: keep the
                 * old guest where an admin finds it. */
                return vs_error_set(b->err, r, "Cannot write %s: %s; the old guest is in %s", b->conf, strerror(-r), b->tmp);
        }
        vs_rm_rf(b->dir);
        return r;
}

static void finish(struct build *b)
{
        _cleanup_free_ char *mark = vs_strdupf("%s/" VS_INCOMPLETE_MARK, b->dir);

        if (mark)
                unlink(mark);
        if (b->swapped)
                vs_rm_rf(b->tmp);
        /* The old tree is gone, and with it the use of its project. */
        if (b->old_project && b->old_project != b->c->disk_project)
                vs_guest_quota_clear(b->old_project);
        vs_disk_templates_gc();
        vs_say(b->o->say, b->o->say_data, "Guest \"%s\" built in %.1f s (config %s)", b->o->name,
               (double)(vs_now_usec() - b->t0) / 1e6, b->conf);
}

typedef int build_phase(struct build *b);

/* Before the build directory: each refuses what it checks, nothing on disk is
 * changed yet but the guest and config directories. */
static build_phase *const checks[] = {
        check_options,          /* before anything is read */
        make_config,            /* from the options or the source: what --set then changes */
        apply_settings,         /* --set after the source's keys, so it overrides them */
        check_settings,         /* provisioning and address on the whole config, then its check */
        check_template_options, /* independent of the config; before anything is made */
        check_layout,           /* needs the final config's layout and disk size */
        check_own_idmap,        /* an explicit guest.idmap, before the name is claimed */
        choose_template,        /* a missing template is refused before the name is claimed */
        claim_name,             /* takes the old guest's lock: only once everything else passed */
        make_guest_dirs,        /* needed by the id-mapping probe in the guest directory */
        check_idmapped_mounts,  /* probes the guest directory made above */
        sweep_leftovers,        /* before making a build directory of our own */
        make_build_dir,         /* last: from here on a failure removes it */
};

/* In the build directory: a failure removes it; the old guest stays until the
 * config is written. */
static build_phase *const steps[] = {
        lock_build_dir,   /* first: the leftover sweep skips only locked build directories */
        fill_tree,        /* the template, the clone, the tarball or the backup */
        make_image,       /* converts the tree just filled */
        apply_provision,  /* before any shift: what it writes is owned as its neighbours, and shifted with them */
        assign_address,   /* takes the pool lock, held until the config is written */
        lock_idmap,       /* the id lock, held until the config is written, for the two below */
        shift_ids,        /* chooses a range under the id lock */
        apply_quota,      /* under the id lock too, so two builds never take one project id */
        commit_provision, /* the SSH keys' copy in the config directory, once the tree is complete */
        restore_files,    /* a backup's other files in the config directory, as late as the keys */
        move_into_place,  /* last before the config: swaps the old guest out, or moves in */
};

int vs_guest_build(const struct vs_build_opts *o, struct vs_error *err)
{
        _cleanup_(build_done) struct build b = {
                .o = o,
                .err = err,
                .tname = o->template_name ? o->template_name : "debian",
                .release = o->release ? o->release : "bookworm",
                .arch = o->arch ? o->arch : host_arch(),
                .init = o->init ? o->init : "systemd",
                .t0 = vs_now_usec(),
                .tmpfd = -1,
                .oldlock = -1,
                .pool_lock = -1,
                .idmap_lock = -1,
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(checks); i++) {
                r = checks[i](&b);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
                r = steps[i](&b);
                if (r < 0)
                        goto fail;
        }
        r = write_config(&b);
        if (r < 0 && !b.undone)
                return r;
        if (r < 0)
                goto fail;
        finish(&b);
        return 0;
fail:
        vs_rm_rf(b.tmp);
        vs_disk_templates_gc();
        if (r < 0 && !err->msg[0])
                vs_error_set(err, r, "Build of \"%s\" failed: %s", o->name, strerror(-r));
        return r;
}
