/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vs-migrate, the sending host's side (vserver/migrate.h). */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
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
#include "command.h"
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
        struct install_session *install;
        struct vs_config *cfg;
        char *conf, *conftext; /* its config file, and what it holds */
        uint64_t bytes;       /* the room it takes */
        char tver[256];       /* a shared guest's template version */
        bool was_running, live, stopped_here;
        uint64_t t_down;      /* when it stopped serving here */
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

/* Starts `REMOTE --receive STEP ARGS...` on the other host over ssh with
 * the given stdin, stdout and stderr. */
static int remote_spawn(const struct migration *m, const char *step, const char *const *args, int in, int out,
                        int errfd, pid_t *ret_pid)
{
        const struct vs_migrate_opts *o = m->o;
        _cleanup_free_ char *cmd = NULL, *ssh = strdup(m->ssh);
        char *argv[64];
        size_t size = 0;
        pid_t pid;
        FILE *f;

        if (!ssh)
                return -ENOMEM;
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
        vs_ssh_argv(argv, ssh, o->host, cmd);
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
        *ret_pid = pid;
        return 0;
}

/* Waits for a step started by remote_spawn(); its failure as a message
 * from its stderr (@errfd, a memfd). */
static int remote_wait(const struct migration *m, pid_t pid, int errfd, struct vs_error *err)
{
        const struct vs_migrate_opts *o = m->o;
        _cleanup_free_ char *errtext = NULL;
        int status;

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        errtext = memfd_text(errfd);
        if (!WIFEXITED(status)) {
                return vs_error_set(err, EINTR, "The remote shell to %s was killed by signal %d", o->host,
                                    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        }
        switch (WEXITSTATUS(status)) {
        case 255:
                return vs_error_set(err, EHOSTUNREACH, "Cannot reach %s with \"%s\": %s", o->host, o->ssh ? o->ssh : "ssh",
                                    errtext ? last_line(errtext) : "");
        case 126:
        case 127:
                return vs_error_set(err, ENOENT, "vserver is not installed on %s (no command \"%s\" there): %s", o->host,
                                    o->remote ? o->remote : "vs-migrate", errtext ? last_line(errtext) : "");
        default:
                vs_error_set(err, EREMOTEIO, "%s: %s", o->host, errtext && *last_line(errtext) ? last_line(errtext) : "failed");
                return WEXITSTATUS(status) == 2 ? -EINVAL : -EREMOTEIO;
        }
}

/* Runs one step to its end, with @input on its stdin; its stdout in
 * @ret_out (may be NULL). */
static int remote(const struct migration *m, const char *step, const char *const *args, const char *input,
                  char **ret_out, struct vs_error *err)
{
        _cleanup_close_ int in = memfd_create("vs-migrate-in", MFD_CLOEXEC),
                            out = memfd_create("vs-migrate-out", MFD_CLOEXEC),
                            errfd = memfd_create("vs-migrate-err", MFD_CLOEXEC);
        pid_t pid;
        int r;

        if (in < 0 || out < 0 || errfd < 0)
                return -errno;
        if (input && (write(in, input, strlen(input)) < 0 || lseek(in, 0, SEEK_SET) < 0))
                return -errno;
        r = remote_spawn(m, step, args, in, out, errfd, &pid);
        if (r < 0)
                return r;
        r = remote_wait(m, pid, errfd, err);
        if (r == 0 && ret_out) {
                *ret_out = memfd_text(out);
                if (!*ret_out)
                        return -ENOMEM;
        }
        return r;
}

/* The install step is one session that lasts until the guest runs there:
 * opened, it waits for "install"; installed, for "start" (or "keep": left
 * stopped) on its stdin.
 * Its end of the pipe closing first (a failure here, or this process
 * killed) makes it remove the guest it installed. One session fewer in the
 * downtime, and nothing left there by a sender that dies in between. */
struct install_session {
        pid_t pid;
        int to, from, errfd;  /* its stdin, stdout, stderr */
};

/* Reads one line of the session's output, without its newline. */
static void session_line(struct install_session *is, char *line, size_t size)
{
        size_t n = 0;

        while (n < size - 1) {
                ssize_t k = read(is->from, line + n, 1);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0 || line[n] == '\n')
                        break;
                n++;
        }
        line[n] = '\0';
}

/* A line other than @want: the session failed (its message) or spoke
 * another protocol. */
static int session_failed(struct migration *m, struct install_session *is, const char *line, struct vs_error *err)
{
        int r;

        close(is->to);
        is->to = -1;
        r = remote_wait(m, is->pid, is->errfd, err);
        is->pid = -1;
        if (r == 0) {
                vs_error_set(err, EPROTO, "%s answered the install with \"%s\"", m->o->host, line);
                r = -EPROTO;
        }
        return r;
}

/* Opened before the copy, so that the session's start (a login shell's,
 * seconds on some hosts) is not part of the downtime: it says "ready" and
 * waits for "install". */
static int install_open(struct migration *m, struct install_session *is, struct vs_error *err)
{
        const char *args[] = { m->o->name, m->id, NULL };
        _cleanup_close_pair_ int in[2] = { -1, -1 }, out[2] = { -1, -1 };
        char line[64];
        int r;

        *is = (struct install_session){ .pid = -1, .to = -1, .from = -1, .errfd = -1 };
        is->errfd = memfd_create("vs-migrate-err", MFD_CLOEXEC);
        if (is->errfd < 0 || pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
                return -errno;
        r = remote_spawn(m, "install", args, in[0], out[1], is->errfd, &is->pid);
        is->to = TAKE_FD(in[1]);
        is->from = TAKE_FD(out[0]);
        /* The session's ends are its own now: with ours closed, a session
         * that ends before "ready" (ssh refused, the remote gone) reads as
         * end of file here, not as a wait for ever. */
        closep(&in[0]);
        closep(&out[1]);
        in[0] = out[1] = -1;
        if (r < 0)
                return r;
        session_line(is, line, sizeof(line));
        if (strcmp(line, "ready") != 0)
                return session_failed(m, is, line, err);
        return 0;
}

/* The copy is complete there: the guest is made from it. */
static int install_go(struct migration *m, struct install_session *is, struct vs_error *err)
{
        char line[64];

        if (write(is->to, "install\n", 8) != 8)
                return session_failed(m, is, "", err);
        session_line(is, line, sizeof(line));
        return strcmp(line, "installed") == 0 ? 0 : session_failed(m, is, line, err);
}

/* Tells the session @word ("start", "keep"; NULL: go away, which removes
 * the guest there) and waits for its end. */
static int install_end(struct migration *m, struct install_session *is, const char *word, struct vs_error *err)
{
        int r = 0;

        if (is->to >= 0) {
                if (word) {
                        _cleanup_free_ char *w = vs_strdupf("%s\n", word);
                        if (!w || write(is->to, w, strlen(w)) != (ssize_t)strlen(w))
                                r = -EPIPE;
                }
                close(is->to);
                is->to = -1;
        }
        if (is->pid > 0) {
                struct vs_error e2 = { 0 };
                int r2 = remote_wait(m, is->pid, is->errfd, word ? err : &e2);
                is->pid = -1;
                if (r == 0)
                        r = r2;
                else if (word)
                        vs_error_set(err, r, "Cannot tell %s to %s the guest", m->o->host, word);
        }
        if (is->from >= 0)
                close(is->from);
        if (is->errfd >= 0)
                close(is->errfd);
        is->from = is->errfd = -1;
        return r;
}

/* One ssh connection for every step and rsync pass: each new one costs a
 * key exchange (seconds on a busy host), and four of them fall inside the
 * downtime. It ends two minutes after its last use if we are killed. */
static int share_connection(struct migration *m)
{
        /* A killed run's directory is empty once its master has ended (ssh
         * removes its socket): rmdir takes only those. */
        glob_t g;
        if (glob("/tmp/vs-migrate.??????", GLOB_NOSORT, NULL, &g) == 0) {
                for (size_t i = 0; i < g.gl_pathc; i++)
                        (void)rmdir(g.gl_pathv[i]);
                globfree(&g);
        }
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
        free(m->conf);
        free(m->conftext);
        vs_config_free(m->cfg);
}

/* The other host removes what it received (and a guest installed from it,
 * never started). Best effort: a failure is the one already reported. */
static void remote_abort(const struct migration *m)
{
        const char *args[] = { m->o->name, NULL };
        struct vs_error e2 = { 0 };
        if (remote(m, "abort", args, NULL, NULL, &e2) < 0)
                vs_warn("vs-migrate: %s may keep a partial copy of \"%s\" until the next migration: %s", m->o->host,
                        m->o->name, e2.msg);
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
        struct vs_state st = { 0 };
        int r;

        say(m, "installing on %s", m->o->host);
        r = install_go(m, m->install, err);
        if (r < 0)
                return r;
        m->installed = true;
        say(m, "stopping here");
        /* Killed frozen: it runs no further here than the copy holds. A
         * PID namespace's init takes every process in it along. */
        r = vs_state_read(m->o->name, &st);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot read the run state of \"%s\": %s", m->o->name, strerror(-r));
        }
        _cleanup_close_ int fd = vs_pidfd_open_started(st.init_pid, st.init_starttime);
        vs_state_clear(&st);
        r = fd < 0 ? fd : vs_pidfd_signal(fd, SIGKILL);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot kill the init of \"%s\": %s", m->o->name, strerror(-r));
        }
        m->killed = true;
        /* And every other process of it: the namespace's end comes only
         * after the thaw, and in between a process that was frozen halfway
         * through a write would finish it here, after the copy (seen: a
         * vs-enter'd write that returned 0 and is not in the copy). */
        return vs_disk_kill_frozen(m->o->name, err);
}

/* The info and config files of the staging copy, sent before its tree. */
static int send_config(struct migration *m, struct vs_copy *c, struct vs_error *err)
{
        _cleanup_free_ char *to = vs_strdupf("%s:%s/", m->o->host, m->staging);

        if (!to)
                return -ENOMEM;
        c->running = m->live;
        return vs_copy_send_meta(m->o->name, m->id, c, to, m->ssh, err);
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
        struct vs_error e2 = { 0 };
        say(m, "starting here again");
        if (vs_guest_start(m->o->name, &so, &e2, NULL) < 0)
                vs_warn("vs-migrate: \"%s\" is stopped here and did not start again: %s", m->o->name,
                        e2.msg[0] ? e2.msg : "failed");
}

/* The guest as it is here, and what the other host is told of it; what
 * cannot move over ssh refused before anything is asked of it. */
static int look_here(struct migration *m, struct vs_error *err)
{
        const struct vs_migrate_opts *o = m->o;
        struct vs_guest_info info = { 0 };
        time_t now = time(NULL);
        struct tm tm;
        int r;

        r = vs_load_guest_config(o->name, &m->cfg, err);
        if (r < 0)
                return r;
        r = vs_guest_info(o->name, &info, err);
        if (r < 0)
                return r;
        m->was_running = info.state == VS_GUEST_RUNNING;
        if (info.state == VS_GUEST_STARTING) {
                vs_guest_info_clear(&info);
                return vs_error_set(err, EBUSY, "Guest \"%s\" is busy (being built, started or destroyed)", o->name);
        }
        vs_guest_info_clear(&info);
        m->live = m->was_running && !o->offline;
        m->res->mode = !m->was_running ? "stopped" : o->offline ? "offline" : "live";
        /* What only a local copy can read (vserver/copy.c). */
        if (m->cfg->idmap_shifted) {
                return vs_error_set(err, EOPNOTSUPP, "The files of \"%s\" are shifted to its host ids (its file system cannot id-map), "
                                    "which a copy over ssh cannot read: back it up here with vs-backup, copy that to "
                                    "%s and restore it there with vs-restore",
                               o->name, o->host);
        }
        if (m->live && m->cfg->userns && vs_config_layout(m->cfg) == VS_LAYOUT_IMAGE) {
                return vs_error_set(err, EOPNOTSUPP, "Guest \"%s\" is an unprivileged image guest: while it runs its files are read "
                                    "through a user namespace, which a copy over ssh cannot do; move it with --offline",
                               o->name);
        }
        m->conf = vs_conf_path(o->name);
        if (!m->conf)
                return -ENOMEM;
        r = vs_read_file(m->conf, &m->conftext, NULL);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot read %s: %s", m->conf, strerror(-r));
        }
        r = guest_bytes(o->name, m->cfg, &m->bytes, err);
        if (r < 0)
                return r;
        template_version(o->name, m->tver, sizeof(m->tver));
        gmtime_r(&now, &tm);
        strftime(m->id, sizeof(m->id), "%Y%m%dT%H%M%SZ", &tm);
        return 0;
}

/* The other host reads the config, checks it can take the guest and makes
 * the staging directory. */
static int check_there(struct migration *m, struct vs_error *err)
{
        const struct vs_migrate_opts *o = m->o;
        _cleanup_free_ char *out = NULL;
        char bytes_s[32];
        int r;

        snprintf(bytes_s, sizeof(bytes_s), "%llu", (unsigned long long)m->bytes);
        say(m, "checking %s", o->host);
        const char *args[] = { o->name, m->id, bytes_s, m->tver[0] ? m->tver : "-", NULL };
        r = remote(m, "check", args, m->conftext, &out, err);
        if (r < 0)
                return r;
        m->staging = strncmp(out, "staging=", 8) == 0 ? strdup(last_line(out + 8)) : NULL;
        if (!m->staging || m->staging[0] != '/') {
                return vs_error_set(err, EPROTO, "%s answered the check with \"%s\", not a staging directory", o->host, last_line(out));
        }
        return 0;
}

/* Config, then the tree (live: frozen for the delta, installed there and
 * killed here while frozen, by on_frozen); stopped first with --offline. */
static int transfer(struct migration *m, struct vs_error *err)
{
        const struct vs_migrate_opts *o = m->o;
        _cleanup_free_ char *tree = NULL;
        struct vs_copy c = { .layout = vs_config_layout(m->cfg) };
        int r;

        snprintf(c.template_version, sizeof(c.template_version), "%s", m->tver);
        r = send_config(m, &c, err);
        if (r < 0)
                return r;
        if (m->was_running && o->offline) {
                say(m, "stopping here");
                m->t_down = vs_now_usec();
                r = vs_guest_stop(o->name, VS_STOP_TIMEOUT_CONFIG, err);
                if (r < 0)
                        return r;
                m->stopped_here = true;
        }
        r = install_open(m, m->install, err);
        if (r < 0)
                return r;
        tree = vs_strdupf("%s:%s/%s/", o->host, m->staging, vs_copy_tree_name(c.layout));
        if (!tree)
                return -ENOMEM;
        c.dest = tree;
        c.ssh = m->ssh;
        c.progress = o->progress;
        c.say = copy_said;
        c.data = m;
        if (m->live)
                c.on_frozen = on_frozen;
        say(m, "copying");
        r = vs_guest_copy(o->name, &c, err);
        m->res->transferred = c.transferred;
        m->res->freeze_usec = c.freeze_usec;
        if (r < 0)
                return r;
        if (m->killed)
                m->t_down = c.frozen_at;
        if (!m->installed) {
                say(m, "installing on %s", o->host);
                r = install_go(m, m->install, err);
                if (r < 0)
                        return r;
                m->installed = true;
        }
        return 0;
}

/* Killed frozen here: the supervisor tears down the rest. Then started
 * there (a stopped guest is left stopped there). */
static int switch_over(struct migration *m, struct vs_error *err)
{
        int r;

        if (m->killed) {
                r = vs_guest_stop(m->o->name, 0, err);
                if (r < 0)
                        return r;
                m->stopped_here = true;
        }
        /* Once told, the other host removes its staging copy: the guest
         * there is the guest now, whatever happens here next. */
        if (m->was_running)
                say(m, "starting on %s", m->o->host);
        r = install_end(m, m->install, m->was_running ? "start" : "keep", err);
        if (r < 0)
                return r;
        if (m->was_running) {
                m->res->started = true;
                m->res->downtime_usec = vs_now_usec() - m->t_down;
        }
        return 0;
}

/* The guest runs there: removed here, or kept stopped and out of
 * autostart. A failure now leaves two copies, and says so. */
static int leave_here(struct migration *m, struct vs_error *err)
{
        const struct vs_migrate_opts *o = m->o;
        int r;

        if (o->keep_source) {
                say(m, "keeping the stopped copy here, autostart off");
                r = vs_config_file_set(m->conf, "guest", "autostart", "no");
                if (r < 0)
                        vs_error_set(err, r, "\"%s\" runs on %s now, but autostart could not be turned off in %s: %s",
                                     o->name, o->host, m->conf, strerror(-r));
                return r;
        }
        say(m, "removing here");
        r = vs_guest_destroy(o->name, false, err);
        if (r < 0) {
                char msg[sizeof(err->msg)];
                snprintf(msg, sizeof(msg), "%s", err->msg);
                vs_error_set(err, r, "\"%s\" runs on %s now, but its copy here was not removed: %s", o->name, o->host,
                             msg);
        }
        return r;
}

/* Whatever went wrong before the start there: the other host removes what
 * it received, and the guest runs here again if it was stopped for this. */
static void undo(struct migration *m, struct vs_error *err)
{
        char msg[sizeof(err->msg)];

        snprintf(msg, sizeof(msg), "%s", err->msg);
        /* Its install session, told nothing, removes what it made. */
        (void)install_end(m, m->install, NULL, NULL);
        remote_abort(m);
        snprintf(err->msg, sizeof(err->msg), "%s", msg);
        if (m->killed && !m->stopped_here) {
                /* Killed here, but not moved: torn down, started again. */
                struct vs_error e2 = { 0 };
                m->stopped_here = vs_guest_stop(m->o->name, 0, &e2) == 0;
        }
        if (m->stopped_here)
                restart_here(m);
}

int vs_guest_migrate(const struct vs_migrate_opts *o, struct vs_migrate_result *res, struct vs_error *err)
{
        struct install_session is = { .pid = -1, .to = -1, .from = -1, .errfd = -1 };
        struct migration m = { .o = o, .res = res, .install = &is };
        int r;

        *res = (struct vs_migrate_result){ .mode = "stopped" };
        r = look_here(&m, err);
        if (r < 0)
                goto out;
        r = share_connection(&m);
        if (r < 0) {
                vs_error_set(err, r, "Cannot make a directory for the ssh connection: %s", strerror(-r));
                goto out;
        }
        r = check_there(&m, err);
        if (r < 0 || o->check_only) {
                if (r == 0)
                        remote_abort(&m);
                goto out;
        }
        r = transfer(&m, err);
        if (r == 0)
                r = switch_over(&m, err);
        if (r < 0) {
                undo(&m, err);
                goto out;
        }
        r = leave_here(&m, err);
        if (r == 0 && res->started)
                say(&m, "downtime %.3f s", (double)res->downtime_usec / 1e6);
out:
        end_connection(&m);
        return r;
}
