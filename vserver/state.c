/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "guest-net.h"
#include "paths.h"
#include "state.h"
#include "util.h"

void vs_error_set(struct vs_error *err, const char *fmt, ...)
{
        va_list ap;
        if (!err)
                return;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
}

int vs_check_name(const char *name, struct vs_error *err)
{
        if (vs_name_valid(name) && strcmp(name, "defaults") != 0)
                return 0;
        vs_error_set(err,
                     "Invalid guest name \"%s\": use letters, digits and _.- (not first), at most %d characters",
                     name, VS_NAME_MAX);
        return -EINVAL;
}

int vs_load_config(const char *name, struct vs_config **ret, struct vs_error *err)
{
        _cleanup_free_ char *path = vs_conf_path(name);
        struct vs_config_error cerr;
        char buf[512];
        int r;

        if (!path)
                return -ENOMEM;
        r = vs_config_load(path, name, ret, &cerr);
        if (r == -ENOENT) {
                vs_error_set(err, "No such guest \"%s\" (no %s)", name, path);
                return r;
        }
        if (r == -EINVAL) {
                vs_error_set(err, "%s", vs_config_error_string(&cerr, path, buf, sizeof(buf)));
                return r;
        }
        if (r < 0)
                vs_error_set(err, "Cannot read %s: %s", path, strerror(-r));
        return r;
}

void vs_state_clear(struct vs_state *s)
{
        free(s->backend);
        vs_strv_free(s->cgroups);
        vs_strv_free(s->controllers);
        memset(s, 0, sizeof(*s));
}

static char *state_file(const char *name)
{
        return vs_strdupf("%s/%s/state", vs_rundir(), name);
}

int vs_state_write(const char *name, const struct vs_state *s)
{
        _cleanup_free_ char *path = state_file(name), *text = NULL;
        size_t len = 0;
        char sig[32];
        FILE *f;

        if (!path)
                return -ENOMEM;
        f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f, "supervisor_pid=%d\nsupervisor_starttime=%llu\ninit_pid=%d\ninit_starttime=%llu\n",
                (int)s->supervisor_pid, (unsigned long long)s->supervisor_starttime, (int)s->init_pid,
                (unsigned long long)s->init_starttime);
        fprintf(f, "started=%lld\nhalt_signal=%s\nbackend=%s\n", (long long)s->started,
                vs_signal_name(s->halt_signal, sig, sizeof(sig)), s->backend ? s->backend : "v1");
        for (size_t i = 0; s->cgroups && s->cgroups[i]; i++) {
                const char *ctl = s->controllers && s->controllers[i] && *s->controllers[i] ? s->controllers[i] : "-";
                fprintf(f, "controllers=%s\ncgroup=%s\n", ctl, s->cgroups[i]);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        return vs_write_file_replace(path, text, 0644);
}

int vs_state_read(const char *name, struct vs_state *ret)
{
        _cleanup_free_ char *path = state_file(name), *text = NULL;
        _cleanup_strv_free_ char **lines = NULL;
        struct vs_state s = { 0 };
        size_t nc = 0;
        int r;

        if (!path)
                return -ENOMEM;
        r = vs_read_file(path, &text, NULL);
        if (r < 0)
                return r;
        lines = vs_strv_split(text, "\n");
        if (!lines)
                return -ENOMEM;
        s.cgroups = calloc(vs_strv_length(lines) + 1, sizeof(char *));
        s.controllers = calloc(vs_strv_length(lines) + 1, sizeof(char *));
        if (!s.cgroups || !s.controllers) {
                vs_state_clear(&s);
                return -ENOMEM;
        }
        for (char **l = lines; *l; l++) {
                char *eq = strchr(*l, '=');
                if (!eq)
                        continue;
                *eq++ = '\0';
                if (!strcmp(*l, "supervisor_pid"))
                        s.supervisor_pid = atoi(eq);
                else if (!strcmp(*l, "supervisor_starttime"))
                        s.supervisor_starttime = strtoull(eq, NULL, 10);
                else if (!strcmp(*l, "init_pid"))
                        s.init_pid = atoi(eq);
                else if (!strcmp(*l, "init_starttime"))
                        s.init_starttime = strtoull(eq, NULL, 10);
                else if (!strcmp(*l, "started"))
                        s.started = (time_t)strtoll(eq, NULL, 10);
                else if (!strcmp(*l, "halt_signal"))
                        (void)vs_parse_signal(eq, &s.halt_signal);
                else if (!strcmp(*l, "backend")) {
                        free(s.backend);
                        s.backend = strdup(eq);
                } else if (!strcmp(*l, "controllers"))
                        s.controllers[nc] = strdup(eq);
                else if (!strcmp(*l, "cgroup"))
                        s.cgroups[nc++] = strdup(eq);
        }
        if (s.init_pid <= 0 || s.supervisor_pid <= 0) {
                vs_state_clear(&s);
                return -EBADMSG;
        }
        *ret = s;
        return 0;
}

bool vs_pid_alive(pid_t pid, uint64_t starttime)
{
        uint64_t st;
        char state;
        /* A zombie has exited: its start time still matches, but it is gone. */
        if (pid <= 0 || vs_proc_stat(pid, &state, &st) < 0)
                return false;
        return st == starttime && state != 'Z' && state != 'X';
}

int vs_guest_lock(const char *name, bool shared, int *ret_fd)
{
        _cleanup_free_ char *dir = vs_guest_path(name);
        _cleanup_close_ int fd = -1;

        if (!dir)
                return -ENOMEM;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EBUSY : -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int vs_guest_lock_wait(const char *name, int *ret_fd)
{
        int r = -EBUSY;
        for (int i = 0; i < 500 && r == -EBUSY; i++) {
                r = vs_guest_lock(name, false, ret_fd);
                if (r == -EBUSY) {
                        struct timespec ts = { 0, 10 * 1000 * 1000 };
                        nanosleep(&ts, NULL);
                }
        }
        return r;
}

int vs_guest_cleanup(const char *name)
{
        _cleanup_free_ char *run = vs_run_path(name);
        struct vs_state s = { 0 };
        int r;

        if (!run)
                return -ENOMEM;
        r = vs_state_read(name, &s);
        if (r == 0 && s.cgroups && s.cgroups[0]) {
                _cleanup_cgroup_ struct vs_cgroup *cg = NULL;
                if (vs_cgroup_from_paths(name, s.backend ? s.backend : "v1", s.cgroups, s.controllers, &cg) == 0) {
                        /* The supervisor is gone, so its init died with it
                         * (parent-death signal); kill any straggler. */
                        cg->ops->kill(cg, SIGKILL);
                        cg->ops->destroy(cg);
                }
        }
        vs_state_clear(&s);
        vs_guest_net_teardown(run);
        return vs_rm_rf(run);
}

void vs_guest_info_clear(struct vs_guest_info *i)
{
        free(i->name);
        free(i->address);
        free(i->veth);
        memset(i, 0, sizeof(*i));
}

const char *vs_guest_state_name(enum vs_guest_state s)
{
        switch (s) {
        case VS_GUEST_RUNNING: return "running";
        case VS_GUEST_STARTING: return "starting";
        default: return "stopped";
        }
}

int vs_guest_info(const char *name, struct vs_guest_info *ret, struct vs_error *err)
{
        _cleanup_config_ struct vs_config *c = NULL;
        _cleanup_free_ char *dir = NULL, *run = NULL;
        _cleanup_close_ int lock = -1;
        struct vs_guest_info info = { 0 };
        struct vs_state s = { 0 };
        int r;

        r = vs_check_name(name, err);
        if (r < 0)
                return r;
        /* A config that does not parse must not stop anyone from seeing,
         * entering or stopping a running guest: only a missing one counts. */
        r = vs_load_config(name, &c, err);
        if (r < 0 && r != -EINVAL)
                return r;
        if (err)
                err->msg[0] = '\0';
        dir = vs_guest_path(name);
        run = vs_run_path(name);
        info.name = strdup(name);
        if (!dir || !run || !info.name) {
                vs_guest_info_clear(&info);
                return -ENOMEM;
        }
        if (c) {
                info.autostart = c->autostart;
                info.order = c->order;
        }
        if (vs_state_read(name, &s) == 0 && vs_pid_alive(s.supervisor_pid, s.supervisor_starttime) &&
            vs_pid_alive(s.init_pid, s.init_starttime)) {
                info.state = VS_GUEST_RUNNING;
                info.init_pid = s.init_pid;
                info.supervisor_pid = s.supervisor_pid;
                info.started = s.started;
                {
                        struct vs_guest_net net;
                        if (vs_guest_net_read(name, &net) == 0) {
                                info.address = strdup(net.address);
                                info.veth = strdup(net.veth);
                        }
                }
                vs_state_clear(&s);
                *ret = info;
                return 0;
        }
        vs_state_clear(&s);
        /* A shared lock is a probe: it fails only while a supervisor, build
         * or destroy holds the lock exclusively. */
        lock = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (lock < 0) {
                r = -errno;
                vs_guest_info_clear(&info);
                if (r == -ENOENT)
                        vs_error_set(err, "Guest \"%s\" has a config but no directory %s", name, dir);
                return r;
        }
        if (flock(lock, LOCK_SH | LOCK_NB) < 0) {
                info.state = VS_GUEST_STARTING;
        } else {
                info.state = VS_GUEST_STOPPED;
                /* No supervisor runs, so any run state is stale: clear it if
                 * no other probe is looking at the same time. */
                if (access(run, F_OK) == 0 && flock(lock, LOCK_EX | LOCK_NB) == 0)
                        vs_guest_cleanup(name);
        }
        *ret = info;
        return 0;
}

static int cmp_info(const void *a, const void *b)
{
        return strcmp(((const struct vs_guest_info *)a)->name, ((const struct vs_guest_info *)b)->name);
}

int vs_guest_list(struct vs_guest_info **ret, size_t *ret_n)
{
        DIR *d = opendir(vs_confdir());
        struct vs_guest_info *v = NULL;
        struct dirent *de;
        size_t n = 0;

        if (!d) {
                if (errno != ENOENT)
                        return -errno;
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                _cleanup_free_ char *name = NULL;
                struct vs_guest_info info;
                struct vs_guest_info *nv;

                if (l <= 5 || strcmp(de->d_name + l - 5, ".conf") != 0)
                        continue;
                name = strndup(de->d_name, l - 5);
                if (!name)
                        break;
                if (!vs_name_valid(name) || strcmp(name, "defaults") == 0)
                        continue;
                if (vs_guest_info(name, &info, NULL) < 0)
                        continue;
                nv = realloc(v, (n + 1) * sizeof(*v));
                if (!nv) {
                        vs_guest_info_clear(&info);
                        break;
                }
                v = nv;
                v[n++] = info;
        }
        closedir(d);
        qsort(v, n, sizeof(*v), cmp_info);
        *ret = v;
        *ret_n = n;
        return 0;
}
