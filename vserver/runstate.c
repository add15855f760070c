/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A running guest's state file, its lock and liveness checks: what
 * vs-enter needs, kept apart from configs and cleanup (which pull in the
 * config parser and the network libraries). */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "paths.h"
#include "state.h"
#include "util.h"

int vs_check_name(const char *name, struct vs_error *err)
{
        if (vs_name_valid(name) && strcmp(name, "defaults") != 0)
                return 0;
        return vs_error_set(err, EINVAL,
                            "Invalid guest name \"%s\": use letters, digits and _.- (not first), at most %d characters",
                            name, VS_NAME_MAX);
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

int vs_state_publish(const char *name)
{
        _cleanup_free_ char *path = state_file(name), *staged = vs_strdupf("%s/%s/state.new", vs_rundir(), name);

        if (!path || !staged)
                return -ENOMEM;
        return rename(staged, path) < 0 ? -errno : 0;
}

int vs_state_stage(const char *name, const struct vs_state *s)
{
        _cleanup_free_ char *path = vs_strdupf("%s/%s/state.new", vs_rundir(), name), *text = NULL;
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

struct state_parse {
        struct vs_state s;
        size_t nc, cap; /* cgroups read; slots in both lists */
};

/* Makes slots nc and nc + 1 of both lists exist, NULL until set. */
static int state_grow(struct state_parse *p)
{
        if (p->cap >= p->nc + 2)
                return 0;
        size_t cap = p->nc + 8;
        char **c = realloc(p->s.controllers, cap * sizeof(char *));
        if (!c)
                return -ENOMEM;
        p->s.controllers = c;
        char **g = realloc(p->s.cgroups, cap * sizeof(char *));
        if (!g)
                return -ENOMEM;
        p->s.cgroups = g;
        for (size_t i = p->cap; i < cap; i++)
                c[i] = g[i] = NULL;
        p->cap = cap;
        return 0;
}

/* One key=value line of a guest's state file. "controllers" comes before
 * the "cgroup" line it describes (vs_state_write's order). */
static int state_line(char *k, char *v, void *arg)
{
        struct state_parse *p = arg;
        struct vs_state *s = &p->s;

        if (!strcmp(k, "supervisor_pid"))
                s->supervisor_pid = atoi(v);
        else if (!strcmp(k, "supervisor_starttime"))
                s->supervisor_starttime = strtoull(v, NULL, 10);
        else if (!strcmp(k, "init_pid"))
                s->init_pid = atoi(v);
        else if (!strcmp(k, "init_starttime"))
                s->init_starttime = strtoull(v, NULL, 10);
        else if (!strcmp(k, "started"))
                s->started = (time_t)strtoll(v, NULL, 10);
        else if (!strcmp(k, "halt_signal"))
                (void)vs_parse_signal(v, &s->halt_signal);
        else if (!strcmp(k, "backend")) {
                free(s->backend);
                if (!(s->backend = strdup(v)))
                        return -ENOMEM;
        } else if (!strcmp(k, "controllers") || !strcmp(k, "cgroup")) {
                if (state_grow(p) < 0)
                        return -ENOMEM;
                char **slot = !strcmp(k, "cgroup") ? &s->cgroups[p->nc++] : &s->controllers[p->nc];
                free(*slot);
                if (!(*slot = strdup(v)))
                        return -ENOMEM;
        }
        return 0;
}

int vs_state_read(const char *name, struct vs_state *ret)
{
        _cleanup_free_ char *path = state_file(name);
        struct state_parse p = { 0 };
        int r;

        if (!path)
                return -ENOMEM;
        r = state_grow(&p);
        if (r == 0)
                r = vs_kv_file_read(path, state_line, &p);
        if (r < 0) {
                vs_state_clear(&p.s);
                return r;
        }
        if (p.s.init_pid <= 0 || p.s.supervisor_pid <= 0) {
                vs_state_clear(&p.s);
                return -EBADMSG;
        }
        *ret = p.s;
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
        int r;
        struct vs_deadline d = vs_deadline_in(5000, 10);
        do
                r = vs_guest_lock(name, false, ret_fd);
        while (r == -EBUSY && vs_deadline_wait(&d));
        return r;
}
