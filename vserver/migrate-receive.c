/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vs-migrate, the receiving host's side (vserver/migrate.h): one step per
 * ssh connection, in the order the sender runs them.
 *
 *   check NAME ID BYTES TEMPLATE < CONFIG   can this host take the guest?
 *                                           prints staging=DIR
 *   install NAME ID                         the guest made from DIR (moved),
 *                                           "installed"; then, on stdin,
 *                                           "start" or "keep"; anything else
 *                                           or EOF removes it again
 *   abort NAME                              DIR removed, and a guest
 *                                           installed from it, not started
 *
 * A guest installed by a move that did not end is marked (the file
 * "installed" in its staging directory): the next check or abort of that
 * name removes it unless it runs. The command's half (the step's words,
 * stdout and stderr, the exit status) is in sbin/vs-migrate.c; a step
 * answers on the FILE it is handed. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "backup.h"
#include "cleanup.h"
#include "command.h"
#include "config.h"
#include "guest-net.h"
#include "migrate.h"
#include "paths.h"
#include "state.h"
#include "storage.h"
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
                        return vs_error_set(err, EEXIST, "Guest \"%s\" runs here already: an earlier move of it ended here without "
                                            "being told so; remove the stopped copy on the sending host",
                                       name);
                }
                vs_warn("Removing guest \"%s\", installed here by an interrupted move", name);
                r = vs_guest_destroy(name, true, err);
                if (r < 0)
                        return r;
        }
        r = vs_rm_rf(st);
        if (r < 0 && r != -ENOENT) {
                return vs_error_set(err, r, "Cannot remove %s: %s", st, strerror(-r));
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

int vs_migrate_receive_check(const char *name, const char *id, const char *bytes_s, const char *tver, FILE *out,
                             struct vs_error *err)
{
        _cleanup_config_ struct vs_config *c = NULL;
        _cleanup_free_ char *text = NULL, *conf = vs_conf_path(name), *dir = vs_guest_path(name),
                           *st = staging_of(name), *where = NULL;
        char tmp[] = "/tmp/vs-migrate-conf.XXXXXX";
        struct statvfs sv;
        uint64_t bytes, avail;
        int fd, r;

        if (!conf || !dir || !st)
                return -ENOMEM;
        if (vs_parse_uint(bytes_s, 0, UINT64_MAX, &bytes) < 0) {
                return vs_error_set(err, EINVAL, "Bad size \"%s\"", bytes_s);
        }
        /* The guest's config as this version of vserver reads it. */
        r = read_all(0, &text);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot read the guest's config from the sender: %s", strerror(-r));
        }
        fd = mkstemp(tmp);
        if (fd < 0)
                return -errno;
        r = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -EIO;
        close(fd);
        vs_error_clear(err);
        if (r == 0)
                r = vs_config_load(tmp, name, &c, err);
        unlink(tmp);
        if (r < 0)
                return vs_error_prefix(err, vs_error_locate(err, r, "config"), "The config of \"%s\" does not load here",
                                       name);
        r = clear_leftovers(name, err);
        if (r < 0)
                return r;
        if (access(conf, F_OK) == 0 || access(dir, F_OK) == 0) {
                return vs_error_set(err, EEXIST, "A guest \"%s\" exists here already (%s)", name,
                                    access(conf, F_OK) == 0 ? conf : dir);
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
                        return vs_error_set(err, ENOENT, "Guest \"%s\" is a shared guest over the template version \"%s\", which "
                                            "this host does not have (%s)",
                                       name, tver, t);
                }
        }
        where = vs_strdupf("%s/" VS_MIGRATE_DIR, vs_guestdir());
        if (!where)
                return -ENOMEM;
        r = vs_mkdir_p(where, 0700);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot create %s: %s", where, strerror(-r));
        }
        if (statvfs(where, &sv) < 0)
                return -errno;
        avail = (uint64_t)sv.f_bavail * sv.f_frsize;
        /* Its size, a twentieth more, and 64 MiB to spare. */
        if (avail < bytes + bytes / 20 + (64u << 20)) {
                return vs_error_set(err, ENOSPC, "Not enough room for \"%s\" in %s: it takes %.1f MiB, %.1f MiB are free", name,
                                    vs_guestdir(), (double)bytes / 1048576.0, (double)avail / 1048576.0);
        }
        {
                _cleanup_free_ char *d = vs_strdupf("%s/%s", st, id);
                if (!d)
                        return -ENOMEM;
                if (mkdir(st, 0700) < 0 || mkdir(d, 0700) < 0) {
                        return vs_error_set(err, errno, "Cannot create %s: %s", d, strerror(errno));
                }
        }
        fprintf(out, "staging=%s/%s\n", st, id);
        return 0;
}

/* An ssh session on a cgroup v2 host run by systemd lives in a group
 * systemd did not delegate (the session's scope, or ssh.service), from
 * which vs-start refuses to start a guest: started, as its message says,
 * in a scope of its own with Delegate=yes, which lasts as long as the
 * guest's supervisor does. */
static int start_in_scope(const char *name, struct vs_error *err)
{
        _cleanup_free_ char *self = realpath("/proc/self/exe", NULL), *start = NULL;
        char *slash = self ? strrchr(self, '/') : NULL;

        if (!slash)
                return -ENOMEM;
        *slash = '\0';
        start = vs_strdupf("%s/vs-start", self);
        if (!start)
                return -ENOMEM;
        char *argv[] = { "systemd-run", "--scope", "--quiet", "-p", "Delegate=yes", "--", start, "--wait",
                         (char *)name, NULL };
        vs_warn("Starting \"%s\" in a delegated scope: systemd-run --scope -p Delegate=yes", name);
        err->msg[0] = '\0';
        return vs_run_command(argv, -1, err);
}

/* One line of the sender's on stdin, without its newline ("" at EOF). */
static int read_word(char *word, size_t size)
{
        size_t n = 0;

        while (n < size - 1) {
                ssize_t k = read(0, word + n, 1);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0 || word[n] == '\n')
                        break;
                n++;
        }
        word[n] = '\0';
        return 0;
}

/* Says "ready", waits for "install", installs the guest, says "installed", then waits for the sender's word:
 * "start" (started and waited for until ready) or "keep" (left stopped);
 * anything else, or the sender gone, and the guest is removed again. The
 * staging copy goes either way. */
int vs_migrate_receive_install(const char *name, const char *id, FILE *out, vs_say_fn *say, void *say_data,
                               struct vs_error *err)
{
        _cleanup_free_ char *st = staging_of(name), *mark = st ? vs_strdupf("%s/installed", st) : NULL,
                           *store = vs_strdupf("%s/" VS_MIGRATE_DIR, vs_guestdir());
        struct vs_restore_opts ro = { .dest = store, .name = name, .at = id, .migrate = true,
                                      .say = say, .say_data = say_data };
        char word[16] = "";
        int r, fd;

        if (!mark || !store)
                return -ENOMEM;
        /* Opened while the copy runs; installs once it is complete. */
        fprintf(out, "ready\n");
        fflush(out);
        if (read_word(word, sizeof(word)) < 0 || strcmp(word, "install") != 0) {
                (void)clear_leftovers(name, err);
                return vs_error_set(err, ECONNABORTED, "The sender went away before the copy of \"%s\" was complete: removed it", name);
        }
        /* Marked first: a guest made here by a move that goes no further
         * is removed by the next check or abort of its name. */
        fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
                return vs_error_set(err, errno, "No copy of \"%s\" to install here (%s): %s", name, st, strerror(errno));
        }
        close(fd);
        r = vs_guest_restore(&ro, err);
        if (r < 0) {
                (void)unlink(mark);
                (void)vs_rm_rf(st);
                return r;
        }
        fprintf(out, "installed\n");
        fflush(out);
        (void)read_word(word, sizeof(word));
        if (strcmp(word, "start") == 0) {
                struct vs_start_opts so = { .wait = true };
                r = vs_guest_start(name, &so, err, NULL);
                if (r == -EPERM && strstr(err->msg, "did not delegate"))
                        r = start_in_scope(name, err);
                if (r < 0) {
                        /* Nothing half-made stays: the sender starts it
                         * again on its side. */
                        struct vs_error e2 = { 0 };
                        (void)vs_guest_stop(name, 10, &e2);
                        if (clear_leftovers(name, &e2) < 0)
                                vs_warn("%s", e2.msg);
                        return r;
                }
        } else if (strcmp(word, "keep") != 0) {
                struct vs_error e2 = { 0 };
                r = clear_leftovers(name, &e2);
                vs_error_set(err, ECONNABORTED, "The sender went away before the guest was started here: \"%s\" %s", name,
                             r < 0 ? "could not be removed again" : "removed again");
                if (r < 0)
                        vs_warn("%s", e2.msg);
                return -ECONNABORTED;
        }
        r = vs_rm_rf(st);
        if (r < 0 && r != -ENOENT)
                vs_warn("Cannot remove %s: %s", st, strerror(-r));
        return 0;
}

int vs_migrate_receive_abort(const char *name, struct vs_error *err)
{
        return clear_leftovers(name, err);
}
