/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vs-migrate, the sending host's side (vserver/migrate.h). */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backup.h"
#include "cleanup.h"
#include "config.h"
#include "migrate.h"
#include "paths.h"
#include "pidfd.h"
#include "state.h"
#include "storage.h"
#include "util.h"

struct migration {
        const struct vs_migrate_opts *o;
        struct vs_migrate_result *res;
        char id[32];          /* the staging copy's id there (a backup id) */
        char *staging;        /* its directory there */
        char *ssh;            /* the remote shell, sharing one connection */
        char ctl_dir[32];     /* where that connection's socket is */
        bool installed;       /* the guest exists there (not started) */
        bool killed;          /* its init here was killed, frozen */
};

static void say(const struct migration *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct migration *m, const char *fmt, ...)
{
        char msg[512];
        va_list ap;

        if (!m->o->say)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        m->o->say(m->o->data, msg);
}

/* The copy's own lines: the freeze is a step of ours, a retried freeze
 * worth saying, the rest not. */
static void copy_said(void *data, const char *msg)
{
        const struct migration *m = data;
        if (strstr(msg, " is frozen"))
                say(m, "freezing");
        else if (strstr(msg, "did not freeze"))
                say(m, "%s", msg);
}

static char *memfd_text(int fd)
{
        struct stat st;
        char *buf;
        ssize_t n;

        if (fstat(fd, &st) < 0 || !(buf = malloc((size_t)st.st_size + 1)))
                return NULL;
        n = pread(fd, buf, (size_t)st.st_size, 0);
        buf[n > 0 ? n : 0] = '\0';
        return buf;
}

/* The last line of @text that is not empty, without its newline. */
static const char *last_line(char *text)
{
        size_t l = strlen(text);
        while (l && (text[l - 1] == '\n' || text[l - 1] == ' '))
                text[--l] = '\0';
        char *nl = strrchr(text, '\n');
        return nl ? nl + 1 : text;
}

/* Runs `REMOTE --receive STEP ARGS...` on the other host over ssh, with
 * @input on its stdin; its stdout in @ret_out (may be NULL). Its stderr is
 * kept for the message when it fails. */
static int remote(const struct migration *m, const char *step, const char *const *args, const char *input,
                  char **ret_out, struct vs_error *err)
{
        const struct vs_migrate_opts *o = m->o;
        _cleanup_close_ int in = memfd_create("vs-migrate-in", MFD_CLOEXEC),
                            out = memfd_create("vs-migrate-out", MFD_CLOEXEC),
                            errfd = memfd_create("vs-migrate-err", MFD_CLOEXEC);
        _cleanup_free_ char *cmd = NULL, *ssh = strdup(m->ssh), *errtext = NULL;
        char *argv[64];
        size_t k = 0, size = 0;
        int status;
        pid_t pid;
        FILE *f;

        if (in < 0 || out < 0 || errfd < 0)
                return -errno;
        if (!ssh)
                return -ENOMEM;
        if (input && (write(in, input, strlen(input)) < 0 || lseek(in, 0, SEEK_SET) < 0))
                return -errno;
        /* ssh hands the remote shell one string: every argument quoted. */
        f = open_memstream(&cmd, &size);
        if (!f)
                return -ENOMEM;
        fprintf(f, "%s --receive %s", o->remote ? o->remote : "vs-migrate", step);
        for (size_t i = 0; args && args[i]; i++) {
                _cleanup_free_ char *q = vs_shell_quote(args[i]);
                fprintf(f, " %s", q ? q : "''");
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        for (char *w = strtok(ssh, " \t"); w && k < 58; w = strtok(NULL, " \t"))
                argv[k++] = w;
        argv[k++] = "--";
        argv[k++] = (char *)o->host;
        argv[k++] = cmd;
        argv[k] = NULL;
        fflush(NULL);
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                dup2(in, 0);
                dup2(out, 1);
                dup2(errfd, 2);
                signal(SIGPIPE, SIG_DFL);
                execvp(argv[0], argv);
                fprintf(stderr, "Cannot execute \"%s\": %m\n", argv[0]);
                _exit(126);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        errtext = memfd_text(errfd);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                if (ret_out) {
                        *ret_out = memfd_text(out);
                        if (!*ret_out)
                                return -ENOMEM;
                }
                return 0;
        }
        if (!WIFEXITED(status)) {
                vs_error_set(err, "The remote shell to %s was killed by signal %d", o->host,
                             WIFSIGNALED(status) ? WTERMSIG(status) : 0);
                return -EINTR;
        }
        switch (WEXITSTATUS(status)) {
        case 255:
                vs_error_set(err, "Cannot reach %s with \"%s\": %s", o->host, o->ssh ? o->ssh : "ssh",
                             errtext ? last_line(errtext) : "");
                return -EHOSTUNREACH;
        case 126:
        case 127:
                vs_error_set(err, "vserver is not installed on %s (no command \"%s\" there): %s", o->host,
                             o->remote ? o->remote : "vs-migrate", errtext ? last_line(errtext) : "");
                return -ENOENT;
        default:
                vs_error_set(err, "%s: %s", o->host, errtext && *last_line(errtext) ? last_line(errtext) : "failed");
                return WEXITSTATUS(status) == 2 ? -EINVAL : -EREMOTEIO;
        }
}

/* One ssh connection for every step and rsync pass: each new one costs a
 * key exchange (seconds on a busy host), and four of them fall inside the
 * downtime. It ends two minutes after its last use if we are killed. */
static int share_connection(struct migration *m)
{
        snprintf(m->ctl_dir, sizeof(m->ctl_dir), "/tmp/vs-migrate.XXXXXX");
        if (!mkdtemp(m->ctl_dir)) {
                m->ctl_dir[0] = '\0';
                return -errno;
        }
        m->ssh = vs_strdupf("%s -o ControlMaster=auto -o ControlPath=%s/c -o ControlPersist=120",
                            m->o->ssh ? m->o->ssh : "ssh", m->ctl_dir);
        return m->ssh ? 0 : -ENOMEM;
}

static void end_connection(struct migration *m)
{
        if (m->ctl_dir[0]) {
                _cleanup_free_ char *cmd = vs_strdupf("%s -O exit -- %s", m->ssh ? m->ssh : "ssh", m->o->host);
                if (cmd && m->ssh) {
                        char *argv[64];
                        size_t k = 0;
                        for (char *w = strtok(cmd, " \t"); w && k < 63; w = strtok(NULL, " \t"))
                                argv[k++] = w;
                        argv[k] = NULL;
                        pid_t pid = fork();
                        if (pid == 0) {
                                int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
                                dup2(fd, 1);
                                dup2(fd, 2);
                                execvp(argv[0], argv);
                                _exit(127);
                        }
                        while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                                ;
                }
                vs_rm_rf(m->ctl_dir);
        }
        free(m->ssh);
        free(m->staging);
}

/* The other host removes what it received (and a guest installed from it,
 * never started). Best effort: a failure is the one already reported. */
static void remote_abort(const struct migration *m)
{
        const char *args[] = { m->o->name, NULL };
        struct vs_error e2 = { { 0 } };
        if (remote(m, "abort", args, NULL, NULL, &e2) < 0)
                fprintf(stderr, "vs-migrate: %s may keep a partial copy of \"%s\" until the next migration: %s\n",
                        m->o->host, m->o->name, e2.msg);
}

/* How much room the guest takes here: its directory, plus the whole of an
 * image's size, which the other host reserves anew. */
static int guest_bytes(const char *name, const struct vs_config *c, uint64_t *ret, struct vs_error *err)
{
        _cleanup_free_ char *dir = vs_guest_path(name), *cmd = NULL;
        _cleanup_close_ int out = memfd_create("vs-migrate-du", MFD_CLOEXEC);
        _cleanup_free_ char *text = NULL;
        uint64_t v = 0;
        int r;

        if (!dir)
                return -ENOMEM;
        if (out < 0)
                return -errno;
        char *argv[] = { "du", "-sx", "-B1", "--", dir, NULL };
        r = vs_run_command(argv, out, err);
        if (r < 0)
                return r;
        text = memfd_text(out);
        if (!text)
                return -ENOMEM;
        v = strtoull(text, NULL, 10);
        if (vs_config_layout(c) == VS_LAYOUT_IMAGE && c->disk_size > v)
                v = c->disk_size;
        *ret = v;
        return 0;
}

/* With the guest frozen and copied: installed there, then killed here. */
static int on_frozen(struct vs_copy *c, struct vs_error *err)
{
        struct migration *m = c->data;
        const char *args[] = { m->o->name, m->id, NULL };
        struct vs_state st = { 0 };
        int r;

        say(m, "installing on %s", m->o->host);
        r = remote(m, "install", args, NULL, NULL, err);
        if (r < 0)
                return r;
        m->installed = true;
        say(m, "stopping here");
        /* Killed frozen: it runs no further here than the copy holds. A
         * PID namespace's init takes every process in it along. */
        r = vs_state_read(m->o->name, &st);
        if (r < 0) {
                vs_error_set(err, "Cannot read the run state of \"%s\": %s", m->o->name, strerror(-r));
                return r;
        }
        _cleanup_close_ int fd = vs_pidfd_open_started(st.init_pid, st.init_starttime);
        vs_state_clear(&st);
        r = fd < 0 ? fd : vs_pidfd_signal(fd, SIGKILL);
        if (r < 0) {
                vs_error_set(err, "Cannot kill the init of \"%s\": %s", m->o->name, strerror(-r));
                return r;
        }
        m->killed = true;
        return 0;
}

/* The info and config files of the staging copy, sent before its tree. */
static int send_config(struct migration *m, const struct vs_copy *c, struct vs_error *err)
{
        char tmp[] = "/tmp/vs-migrate.XXXXXX", host[256] = "";
        _cleanup_free_ char *cdir = NULL, *info = NULL, *text = NULL, *from = NULL, *to = NULL;
        char **files = NULL;
        size_t nfiles = 0;
        int r;

        if (!mkdtemp(tmp))
                return -errno;
        cdir = vs_strdupf("%s/config", tmp);
        info = vs_strdupf("%s/info", tmp);
        from = vs_strdupf("%s/", tmp);
        to = vs_strdupf("%s:%s/", m->o->host, m->staging);
        gethostname(host, sizeof(host) - 1);
        text = vs_strdupf("name=%s\nid=%s\nlayout=%s\ncreated=%lld\nrunning=%s\nfreeze_usec=0\ntransferred=0\n"
                          "template=%s\nhost=%s\nformat=1\n",
                          m->o->name, m->id, vs_layout_name(c->layout), (long long)time(NULL),
                          strcmp(m->res->mode, "live") ? "no" : "yes", c->template_version, host);
        if (!cdir || !info || !from || !to || !text) {
                r = -ENOMEM;
                goto out;
        }
        if (mkdir(cdir, 0700) < 0) {
                r = -errno;
                goto out;
        }
        r = vs_write_file_atomic(info, text, 0600);
        if (r < 0)
                goto out;
        r = vs_guest_config_files(m->o->name, &files, &nfiles);
        if (r < 0) {
                vs_error_set(err, "Cannot read %s: %s", vs_confdir(), strerror(-r));
                goto out;
        }
        for (size_t i = 0; i < nfiles && r == 0; i++) {
                char *av[] = { "cp", "-p", "--", files[i], cdir, NULL };
                r = vs_run_command(av, -1, err);
        }
        if (r == 0) {
                char *av[] = { "-a", from, to, NULL };
                r = vs_rsync(av, m->ssh, NULL, NULL, err);
        }
out:
        for (size_t i = 0; i < nfiles; i++)
                free(files[i]);
        free(files);
        vs_rm_rf(tmp);
        return r;
}

/* What the guest's lower layer is (a shared guest's template version). */
static void template_version(const char *name, char *buf, size_t size)
{
        _cleanup_free_ char *dir = vs_guest_path(name), *link = dir ? vs_strdupf("%s/lower", dir) : NULL;
        char t[PATH_MAX];
        ssize_t n = link ? readlink(link, t, sizeof(t) - 1) : -1;

        buf[0] = '\0';
        if (n <= 0)
                return;
        t[n] = '\0';
        snprintf(buf, size, "%.255s", strrchr(t, '/') ? strrchr(t, '/') + 1 : t);
}

/* Started here again after a failure once it was stopped for the move. */
static void restart_here(const struct migration *m)
{
        struct vs_start_opts so = { .wait = true };
        struct vs_error e2 = { { 0 } };
        say(m, "starting here again");
        if (vs_guest_start(m->o->name, &so, &e2, NULL) < 0)
                fprintf(stderr, "vs-migrate: \"%s\" is stopped here and did not start again: %s\n", m->o->name,
                        e2.msg[0] ? e2.msg : "failed");
}

int vs_guest_migrate(const struct vs_migrate_opts *o, struct vs_migrate_result *res, struct vs_error *err)
{
        _cleanup_config_ struct vs_config *cfg = NULL;
        _cleanup_free_ char *conf = NULL, *conftext = NULL, *out = NULL, *tree = NULL;
        struct vs_guest_info info = { 0 };
        struct migration m = { .o = o, .res = res };
        struct vs_copy c = { 0 };
        char bytes_s[32], tver[256];
        uint64_t bytes = 0, t_down = 0;
        bool was_running, stopped_here = false;
        struct tm tm;
        time_t now = time(NULL);
        int r;

        *res = (struct vs_migrate_result){ .mode = "stopped" };
        r = vs_check_name(o->name, err);
        if (r < 0)
                return r;
        r = vs_load_config(o->name, &cfg, err);
        if (r < 0)
                return r;
        r = vs_guest_info(o->name, &info, err);
        if (r < 0)
                return r;
        was_running = info.state == VS_GUEST_RUNNING;
        if (info.state == VS_GUEST_STARTING) {
                vs_guest_info_clear(&info);
                vs_error_set(err, "Guest \"%s\" is busy (being built, started or destroyed)", o->name);
                return -EBUSY;
        }
        vs_guest_info_clear(&info);
        res->mode = !was_running ? "stopped" : o->offline ? "offline" : "live";
        conf = vs_conf_path(o->name);
        if (!conf)
                return -ENOMEM;
        r = vs_read_file(conf, &conftext, NULL);
        if (r < 0) {
                vs_error_set(err, "Cannot read %s: %s", conf, strerror(-r));
                return r;
        }
        r = guest_bytes(o->name, cfg, &bytes, err);
        if (r < 0)
                return r;
        template_version(o->name, tver, sizeof(tver));
        snprintf(bytes_s, sizeof(bytes_s), "%llu", (unsigned long long)bytes);
        gmtime_r(&now, &tm);
        strftime(m.id, sizeof(m.id), "%Y%m%dT%H%M%SZ", &tm);

        r = share_connection(&m);
        if (r < 0) {
                vs_error_set(err, "Cannot make a directory for the ssh connection: %s", strerror(-r));
                goto out;
        }
        say(&m, "checking %s", o->host);
        {
                const char *args[] = { o->name, m.id, bytes_s, tver[0] ? tver : "-", NULL };
                r = remote(&m, "check", args, conftext, &out, err);
                if (r < 0)
                        goto out;
        }
        m.staging = strncmp(out, "staging=", 8) == 0 ? strdup(last_line(out + 8)) : NULL;
        if (!m.staging || m.staging[0] != '/') {
                vs_error_set(err, "%s answered the check with \"%s\", not a staging directory", o->host, last_line(out));
                r = -EPROTO;
                goto out;
        }
        if (o->check_only) {
                remote_abort(&m);
                goto out;
        }
        c.layout = vs_config_layout(cfg);
        snprintf(c.template_version, sizeof(c.template_version), "%s", tver);
        r = send_config(&m, &c, err);
        if (r < 0)
                goto fail;
        if (was_running && o->offline) {
                say(&m, "stopping here");
                t_down = vs_now_usec();
                r = vs_guest_stop(o->name, VS_STOP_TIMEOUT_CONFIG, err);
                if (r < 0)
                        goto fail;
                stopped_here = true;
        }
        tree = vs_strdupf("%s:%s/%s/", o->host, m.staging, vs_copy_tree_name(c.layout));
        if (!tree) {
                r = -ENOMEM;
                goto fail;
        }
        c.dest = tree;
        c.ssh = m.ssh;
        c.progress = o->progress;
        c.say = copy_said;
        c.data = &m;
        if (was_running && !o->offline)
                c.on_frozen = on_frozen;
        say(&m, "copying");
        r = vs_guest_copy(o->name, &c, err);
        res->transferred = c.transferred;
        res->freeze_usec = c.freeze_usec;
        if (r < 0)
                goto fail;
        if (!c.running && !m.installed) {
                const char *args[] = { o->name, m.id, NULL };
                say(&m, "installing on %s", o->host);
                r = remote(&m, "install", args, NULL, NULL, err);
                if (r < 0)
                        goto fail;
                m.installed = true;
        }
        if (m.killed) {
                t_down = c.frozen_at;
                /* Its init is dead: the supervisor tears down the rest. */
                r = vs_guest_stop(o->name, 0, err);
                if (r < 0)
                        goto fail;
                stopped_here = true;
        }
        if (was_running) {
                const char *args[] = { o->name, NULL };
                say(&m, "starting on %s", o->host);
                r = remote(&m, "start", args, NULL, NULL, err);
                if (r < 0)
                        goto fail;
                res->started = true;
                res->downtime_usec = vs_now_usec() - t_down;
        }
        {
                const char *args[] = { o->name, NULL };
                struct vs_error e2 = { { 0 } };
                /* The copy there is the guest now: nothing of the move is
                 * left to undo there, whatever happens here next. */
                if (remote(&m, "done", args, NULL, NULL, &e2) < 0)
                        fprintf(stderr, "vs-migrate: %s\n", e2.msg);
        }
        if (o->keep_source) {
                say(&m, "keeping the stopped copy here, autostart off");
                r = vs_config_file_set(conf, "guest", "autostart", "no");
                if (r < 0) {
                        vs_error_set(err, "\"%s\" runs on %s now, but autostart could not be turned off in %s: %s",
                                     o->name, o->host, conf, strerror(-r));
                        goto out;
                }
        } else {
                say(&m, "removing here");
                r = vs_guest_destroy(o->name, false, err);
                if (r < 0) {
                        char msg[sizeof(err->msg)];
                        snprintf(msg, sizeof(msg), "%s", err->msg);
                        vs_error_set(err, "\"%s\" runs on %s now, but its copy here was not removed: %s", o->name,
                                     o->host, msg);
                        goto out;
                }
        }
        if (res->started)
                say(&m, "downtime %.3f s", (double)res->downtime_usec / 1e6);
out:
        end_connection(&m);
        return r;
fail:
        {
                char msg[sizeof(err->msg)];
                snprintf(msg, sizeof(msg), "%s", err->msg);
                remote_abort(&m);
                snprintf(err->msg, sizeof(err->msg), "%s", msg);
        }
        if (stopped_here)
                restart_here(&m);
        end_connection(&m);
        return r;
}
