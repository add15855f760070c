/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

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
#include "command.h"
#include "config.h"
#include "guest-net.h"
#include "paths.h"
#include "state.h"
#include "storage.h"
#include "util.h"

int vs_load_config(const char *name, struct vs_config **ret, struct vs_error *err)
{
        _cleanup_free_ char *path = vs_conf_path(name);
        int r;

        if (!path)
                return -ENOMEM;
        r = vs_config_load(path, name, ret, err);
        if (r == -ENOENT) {
                return vs_error_set(err, r, "No such guest \"%s\" (no %s)", name, path);
        }
        if (r == -EINVAL)
                return vs_error_locate(err, r, path);
        if (r < 0)
                vs_error_set(err, r, "Cannot read %s: %s", path, strerror(-r));
        return r;
}

int vs_load_guest_config(const char *name, struct vs_config **ret, struct vs_error *err)
{
        int r = vs_check_name(name, err);
        if (r < 0)
                return r;
        return vs_load_config(name, ret, err);
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
        case VS_GUEST_STALE: return "stale";
        default: return "stopped";
        }
}

static void json_str(FILE *out, const char *s)
{
        if (!s) {
                fputs("null", out);
                return;
        }
        fputc('"', out);
        for (; *s; s++) {
                if (*s == '"' || *s == '\\')
                        fprintf(out, "\\%c", *s);
                else if ((unsigned char)*s < 0x20)
                        fprintf(out, "\\u%04x", (unsigned char)*s);
                else
                        fputc(*s, out);
        }
        fputc('"', out);
}

void vs_guest_info_json(FILE *out, const struct vs_guest_info *i)
{
        bool up = i->state == VS_GUEST_RUNNING;

        fputs("{\"name\":", out);
        json_str(out, i->name);
        fprintf(out, ",\"state\":\"%s\"", vs_guest_state_name(i->state));
        if (up)
                fprintf(out, ",\"pid\":%d", (int)i->init_pid);
        else
                fputs(",\"pid\":null", out);
        {
                _cleanup_strv_free_ char **l = i->address ? vs_strv_split(i->address, ",") : NULL;
                fputs(",\"address\":", out);
                json_str(out, l ? l[0] : NULL);
                fputs(",\"addresses\":[", out);
                for (size_t k = 0; l && l[k]; k++) {
                        if (k)
                                fputc(',', out);
                        json_str(out, l[k]);
                }
                fputc(']', out);
        }
        fputs(",\"veth\":", out);
        json_str(out, up ? i->veth : NULL);
        fprintf(out, ",\"uptime\":%lld,\"autostart\":%s,\"order\":%llu",
                up ? (long long)(time(NULL) - i->started) : 0LL, i->autostart ? "true" : "false",
                (unsigned long long)i->order);
        fprintf(out, ",\"unprivileged\":%s,\"idmap\":", i->unprivileged ? "true" : "false");
        if (!i->unprivileged)
                fputs("null", out);
        else if (!i->idmap_count)
                fputs("\"auto\"", out);
        else
                fprintf(out, "{\"host\":%llu,\"count\":%llu}", (unsigned long long)i->idmap_host,
                        (unsigned long long)i->idmap_count);
        /* Last: members are only ever added at the end. */
        if (up)
                fprintf(out, ",\"supervisor_pid\":%d}", (int)i->supervisor_pid);
        else
                fputs(",\"supervisor_pid\":null}", out);
}

/* The running guest's own map: it is what the guest runs with, even when its
 * configuration was switched since. Host root's namespace maps every id
 * ("0 0 4294967295"); a guest's maps 0 to its range. */
static void read_uid_map(pid_t pid, struct vs_guest_info *info)
{
        char path[64];
        unsigned long long inside, host, count;
        _cleanup_fclose_ FILE *f = NULL;

        snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
        f = fopen(path, "re");
        if (!f || fscanf(f, "%llu %llu %llu", &inside, &host, &count) != 3)
                return;
        info->unprivileged = !(inside == 0 && host == 0 && count == 4294967295ULL);
        info->idmap_host = info->unprivileged ? host : 0;
        info->idmap_count = info->unprivileged ? count : 0;
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
                info.unprivileged = c->userns;
                info.idmap_host = c->userns ? c->idmap_host : 0;
                info.idmap_count = c->userns ? c->idmap_count : 0;
        }
        if (vs_state_read(name, &s) == 0 && vs_pid_alive(s.supervisor_pid, s.supervisor_starttime) &&
            vs_pid_alive(s.init_pid, s.init_starttime)) {
                info.state = VS_GUEST_RUNNING;
                info.init_pid = s.init_pid;
                info.supervisor_pid = s.supervisor_pid;
                info.started = s.started;
                read_uid_map(s.init_pid, &info);
                {
                        struct vs_guest_net net;
                        if (vs_guest_net_read(name, &net) == 0) {
                                const char *l[VS_NET_ADDR_MAX + 1];
                                vs_guest_net_addr_list(&net, l);
                                info.address = vs_strv_join((char **)l, ",");
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
                        vs_error_set(err, r, "Guest \"%s\" has a config but no directory %s", name, dir);
                return r;
        }
        /* No supervisor runs, so any run state is a dead one's. A look must
         * not change anything (it may run as often as a monitor likes, and
         * beside a start): it only says so, and vs-start or vs-stop, which
         * hold the lock, clear it. */
        if (flock(lock, LOCK_SH | LOCK_NB) < 0)
                info.state = VS_GUEST_STARTING;
        else
                info.state = access(run, F_OK) == 0 ? VS_GUEST_STALE : VS_GUEST_STOPPED;
        *ret = info;
        return 0;
}

static int cmp_info(const void *a, const void *b)
{
        return strcmp(((const struct vs_guest_info *)a)->name, ((const struct vs_guest_info *)b)->name);
}

struct info_list {
        struct vs_guest_info *v;
        size_t n;
};

/* A guest whose state cannot be read is left out of the list. */
static int info_add(const char *name, const char *path, void *arg)
{
        struct info_list *l = arg;
        struct vs_guest_info info, *nv;

        (void)path;
        if (vs_guest_info(name, &info, NULL) < 0)
                return 0;
        nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
        if (!nv) {
                vs_guest_info_clear(&info);
                return -ENOMEM;
        }
        l->v = nv;
        l->v[l->n++] = info;
        return 0;
}

int vs_guest_list(struct vs_guest_info **ret, size_t *ret_n)
{
        struct info_list l = { NULL, 0 };
        int r = vs_confdir_foreach(vs_confdir(), info_add, &l);

        /* The directory unreadable: nothing is listed yet. Out of memory
         * part way: the guests listed so far. */
        if (r < 0 && r != -ENOMEM)
                return r;
        qsort(l.v, l.n, sizeof(*l.v), cmp_info);
        *ret = l.v;
        *ret_n = l.n;
        return 0;
}

/* systemd before 251 marks no delegated group: ask it about the unit. Only
 * on that path (an old systemd, or a group that is not delegated), never on
 * a host whose systemd marks its delegated groups. */
static bool unit_delegates(const char *unit)
{
        char *argv[] = { "systemctl", "show", "--property=Delegate", "--value", "--", (char *)unit, NULL };
        struct vs_error ignored = { 0 };
        char buf[64] = "";
        int pfd[2];
        ssize_t n;
        int r;

        if (pipe2(pfd, O_CLOEXEC) < 0)
                return false;
        r = vs_run_command(argv, pfd[1], &ignored);
        close(pfd[1]);
        n = r == 0 ? read(pfd[0], buf, sizeof(buf) - 1) : -1;
        close(pfd[0]);
        return n > 0 && strncmp(buf, "yes", 3) == 0;
}

int vs_check_cgroup_owner(const struct vs_cgroup *cg, const char *name, struct vs_error *err)
{
        _cleanup_free_ char *unit = NULL;
        int r;

        if (cg->ops != &vs_cgroup_v2_ops || access("/run/systemd/system", F_OK) < 0)
                return 0;
        r = vs_cgroup_v2_delegated(cg, &unit);
        if (r != 0)
                return 0; /* ours, or unreadable: as before */
        if (unit && unit_delegates(unit))
                return 0;
        return vs_error_set(err, EPERM,
                            "Our cgroup %s%s belongs to systemd%s%s%s, which did not delegate it (no Delegate=yes): "
                            "vs-start would move its processes. Start the guest with \"systemctl start vserver@%s\", "
                            "or in a delegated scope: systemd-run --scope -p Delegate=yes vs-start %s",
                            cg->hier[0].mount, cg->hier[0].base, unit ? " (unit \"" : "", unit ? unit : "",
                            unit ? "\")" : "", name, name);
}
