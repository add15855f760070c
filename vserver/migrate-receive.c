/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vs-migrate, the receiving host's side (vserver/migrate.h): one step per
 * ssh connection, in the order the sender runs them.
 *
 *   check NAME ID BYTES TEMPLATE < CONFIG   can this host take the guest?
 *                                           prints staging=DIR
 *   install NAME ID                         the guest made from DIR (moved)
 *   start NAME                              started, waited for until ready
 *   done NAME                               the move is over: DIR removed
 *   abort NAME                              DIR removed, and a guest
 *                                           installed from it, not started
 *
 * A guest installed by a move that never reached "done" is marked (the
 * file "installed" in its staging directory): the next check or abort of
 * that name removes it unless it runs. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "backup.h"
#include "cleanup.h"
#include "config.h"
#include "guest-net.h"
#include "migrate.h"
#include "paths.h"
#include "state.h"
#include "util.h"

static char *staging_of(const char *name)
{
        return vs_strdupf("%s/" VS_MIGRATE_DIR "/%s", vs_guestdir(), name);
}

static bool installed_mark(const char *name)
{
        _cleanup_free_ char *st = staging_of(name), *mark = st ? vs_strdupf("%s/installed", st) : NULL;
        return mark && access(mark, F_OK) == 0;
}

/* What an interrupted move left of @name here: its staging directory, and
 * the guest installed from it unless that runs (then -EEXIST, said). */
static int clear_leftovers(const char *name, struct vs_error *err)
{
        _cleanup_free_ char *st = staging_of(name), *conf = vs_conf_path(name);
        int r;

        if (!st || !conf)
                return -ENOMEM;
        if (installed_mark(name) && access(conf, F_OK) == 0) {
                struct vs_guest_info info = { 0 };
                r = vs_guest_info(name, &info, err);
                if (r < 0)
                        return r;
                enum vs_guest_state s = info.state;
                vs_guest_info_clear(&info);
                if (s == VS_GUEST_RUNNING || s == VS_GUEST_STARTING) {
                        vs_error_set(err, "Guest \"%s\" runs here already: an earlier move of it ended here without "
                                          "being told so; remove the stopped copy on the sending host",
                                     name);
                        return -EEXIST;
                }
                fprintf(stderr, "Removing guest \"%s\", installed here by an interrupted move\n", name);
                r = vs_guest_destroy(name, true, err);
                if (r < 0)
                        return r;
        }
        r = vs_rm_rf(st);
        if (r < 0 && r != -ENOENT) {
                vs_error_set(err, "Cannot remove %s: %s", st, strerror(-r));
                return r;
        }
        return 0;
}

static int read_all(int fd, char **ret)
{
        size_t n = 0, cap = 0;
        char *buf = NULL;

        for (;;) {
                if (n + 4097 > cap) {
                        char *t = realloc(buf, cap = n + 65536);
                        if (!t) {
                                free(buf);
                                return -ENOMEM;
                        }
                        buf = t;
                }
                ssize_t m = read(fd, buf + n, cap - n - 1);
                if (m < 0 && errno == EINTR)
                        continue;
                if (m < 0) {
                        free(buf);
                        return -errno;
                }
                if (m == 0)
                        break;
                n += (size_t)m;
        }
        buf[n] = '\0';
        *ret = buf;
        return 0;
}

static int step_check(const char *name, const char *id, const char *bytes_s, const char *tver, FILE *out,
                      struct vs_error *err)
{
        _cleanup_config_ struct vs_config *c = NULL;
        _cleanup_free_ char *text = NULL, *conf = vs_conf_path(name), *dir = vs_guest_path(name),
                           *st = staging_of(name), *where = NULL;
        char tmp[] = "/tmp/vs-migrate-conf.XXXXXX";
        struct vs_config_error cerr;
        struct statvfs sv;
        uint64_t bytes, avail;
        char buf[512];
        int fd, r;

        if (!conf || !dir || !st)
                return -ENOMEM;
        if (vs_parse_uint(bytes_s, 0, UINT64_MAX, &bytes) < 0) {
                vs_error_set(err, "Bad size \"%s\"", bytes_s);
                return -EINVAL;
        }
        /* The guest's config as this version of vserver reads it. */
        r = read_all(0, &text);
        if (r < 0) {
                vs_error_set(err, "Cannot read the guest's config from the sender: %s", strerror(-r));
                return r;
        }
        fd = mkstemp(tmp);
        if (fd < 0)
                return -errno;
        r = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -EIO;
        close(fd);
        if (r == 0)
                r = vs_config_load(tmp, name, &c, &cerr);
        unlink(tmp);
        if (r < 0) {
                vs_error_set(err, "The config of \"%s\" does not load here: %s", name,
                             vs_config_error_string(&cerr, "config", buf, sizeof(buf)));
                return r;
        }
        r = clear_leftovers(name, err);
        if (r < 0)
                return r;
        if (access(conf, F_OK) == 0 || access(dir, F_OK) == 0) {
                vs_error_set(err, "A guest \"%s\" exists here already (%s)", name,
                             access(conf, F_OK) == 0 ? conf : dir);
                return -EEXIST;
        }
        /* Its addresses: free among this host's guests, inside the pool. */
        r = vs_guest_net_assign(c, NULL, err);
        if (r < 0)
                return r;
        if (strcmp(tver, "-") != 0) {
                _cleanup_free_ char *t = vs_strdupf("%s/.templates/%s", vs_guestdir(), tver);
                if (!t)
                        return -ENOMEM;
                if (strchr(tver, '/') || access(t, F_OK) < 0) {
                        vs_error_set(err, "Guest \"%s\" is a shared guest over the template version \"%s\", which "
                                          "this host does not have (%s)",
                                     name, tver, t);
                        return -ENOENT;
                }
        }
        where = vs_strdupf("%s/" VS_MIGRATE_DIR, vs_guestdir());
        if (!where)
                return -ENOMEM;
        r = vs_mkdir_p(where, 0700);
        if (r < 0) {
                vs_error_set(err, "Cannot create %s: %s", where, strerror(-r));
                return r;
        }
        if (statvfs(where, &sv) < 0)
                return -errno;
        avail = (uint64_t)sv.f_bavail * sv.f_frsize;
        /* Its size, a twentieth more, and 64 MiB to spare. */
        if (avail < bytes + bytes / 20 + (64u << 20)) {
                vs_error_set(err, "Not enough room for \"%s\" in %s: it takes %.1f MiB, %.1f MiB are free", name,
                             vs_guestdir(), (double)bytes / 1048576.0, (double)avail / 1048576.0);
                return -ENOSPC;
        }
        {
                _cleanup_free_ char *d = vs_strdupf("%s/%s", st, id);
                if (!d)
                        return -ENOMEM;
                if (mkdir(st, 0700) < 0 || mkdir(d, 0700) < 0) {
                        vs_error_set(err, "Cannot create %s: %s", d, strerror(errno));
                        return -errno;
                }
        }
        fprintf(out, "staging=%s/%s\n", st, id);
        return 0;
}

static int step_install(const char *name, const char *id, struct vs_error *err)
{
        _cleanup_free_ char *st = staging_of(name), *mark = st ? vs_strdupf("%s/installed", st) : NULL,
                           *store = vs_strdupf("%s/" VS_MIGRATE_DIR, vs_guestdir());
        struct vs_restore_opts ro = { .dest = store, .name = name, .at = id, .migrate = true };
        int r, fd;

        if (!mark || !store)
                return -ENOMEM;
        /* Marked first: a guest made here by a move that goes no further
         * is the next check's to remove. */
        fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
                vs_error_set(err, "No copy of \"%s\" to install here (%s): %s", name, st, strerror(errno));
                return -errno;
        }
        close(fd);
        r = vs_guest_restore(&ro, err);
        if (r < 0) {
                (void)unlink(mark);
                (void)vs_rm_rf(st);
        }
        return r;
}

static int step_start(const char *name, struct vs_error *err)
{
        struct vs_start_opts so = { .wait = true };
        int r = vs_guest_start(name, &so, err, NULL);

        if (r < 0 && installed_mark(name)) {
                /* Nothing half-made stays: the sender starts it again. */
                struct vs_error e2 = { { 0 } };
                (void)vs_guest_stop(name, 10, &e2);
                if (clear_leftovers(name, &e2) < 0)
                        fprintf(stderr, "%s\n", e2.msg);
        }
        return r;
}

int vs_migrate_receive(int argc, char **argv)
{
        struct vs_error err = { { 0 } };
        const char *step = argc > 0 ? argv[0] : "";
        FILE *out;
        int fd, r;

        /* The sender's ssh may go away: each step ends as it began, on
         * its own, whether anybody still listens. */
        signal(SIGHUP, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        /* Stdout is the answer; what the steps print goes to stderr. */
        fd = dup(1);
        out = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (!out || dup2(2, 1) < 0) {
                fprintf(stderr, "Cannot set up the output: %m\n");
                return 1;
        }
        if (argc < 2 || vs_check_name(argv[1], &err) < 0) {
                fprintf(stderr, "%s\n", err.msg[0] ? err.msg : "--receive: expected STEP NAME ...");
                return 2;
        }
        if (!strcmp(step, "check") && argc == 5)
                r = step_check(argv[1], argv[2], argv[3], argv[4], out, &err);
        else if (!strcmp(step, "install") && argc == 3)
                r = step_install(argv[1], argv[2], &err);
        else if (!strcmp(step, "start") && argc == 2)
                r = step_start(argv[1], &err);
        else if (!strcmp(step, "done") && argc == 2) {
                _cleanup_free_ char *st = staging_of(argv[1]);
                r = st ? vs_rm_rf(st) : -ENOMEM;
                if (r == -ENOENT)
                        r = 0;
                if (r < 0)
                        vs_error_set(&err, "Cannot remove %s: %s", st ? st : "", strerror(-r));
        } else if (!strcmp(step, "abort") && argc == 2)
                r = clear_leftovers(argv[1], &err);
        else {
                fprintf(stderr, "--receive: unknown step \"%s\" or wrong arguments (a vserver of another version?)\n",
                        step);
                return 2;
        }
        if (fclose(out) != 0 && r == 0)
                r = -EIO;
        if (r < 0) {
                fprintf(stderr, "%s\n", err.msg[0] ? err.msg : strerror(-r));
                return r == -EINVAL ? 2 : 1;
        }
        return 0;
}
