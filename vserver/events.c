/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Guest events: the recorders' side (one JSON line in RUNDIR/.events and
 * one syslog message per event) and the follower's (vs-events). */
#include "autoconfig.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "events.h"
#include "paths.h"
#include "util.h"

/* ---- recording ------------------------------------------------------------ */

/* A line being made, never past its size (the length still counts what
 * did not fit, so an overlong line is seen). */
struct text {
        char *buf;
        size_t size, len;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf + (t->len < t->size ? t->len : t->size), t->len < t->size ? t->size - t->len : 0,
                          fmt, ap);
        va_end(ap);
        if (n > 0)
                t->len += (size_t)n;
}

/* Appends @s as a JSON string. Bytes outside printable ASCII are escaped
 * (\u00XX): a guest-made string (a process name) can neither break the line
 * nor reach a terminal as control characters. */
static void put_json_string(struct text *t, const char *s)
{
        put(t, "\"");
        for (const unsigned char *p = (const unsigned char *)s; *p && t->len < t->size; p++) {
                if (*p == '"' || *p == '\\')
                        put(t, "\\%c", *p);
                else if (*p < 0x20 || *p >= 0x7f)
                        put(t, "\\u%04x", *p);
                else
                        put(t, "%c", *p);
        }
        put(t, "\"");
}

static bool is_number(const char *s)
{
        size_t n = strspn(s, "0123456789");
        return n > 0 && n <= 18 && s[n] == '\0' && (s[0] != '0' || n == 1);
}

/* Appends @line to the events file. Every writer holds the file's flock
 * while it writes, and checks it still has the file the path names: the
 * one that finds it full renames it to .events.1, and whoever waited on the
 * old file tries again on the new one. A follower that reads the old file to
 * its end after the rename has therefore seen every line of it. */
static int append_line(const char *line, size_t len)
{
        _cleanup_free_ char *path = vs_strdupf("%s/" VS_EVENTS_FILE, vs_rundir());
        _cleanup_free_ char *old = vs_strdupf("%s/" VS_EVENTS_OLD_FILE, vs_rundir());
        int r;

        if (!path || !old)
                return -ENOMEM;
        r = vs_mkdir_p(vs_rundir(), 0755);
        if (r < 0)
                return r;
        for (int attempt = 0; attempt < 8; attempt++) {
                _cleanup_close_ int fd =
                        open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0640);
                struct stat a, b;
                ssize_t n;

                if (fd < 0)
                        return -errno;
                while (flock(fd, LOCK_EX) < 0)
                        if (errno != EINTR)
                                return -errno;
                if (fstat(fd, &a) < 0)
                        return -errno;
                if (stat(path, &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
                        continue; /* rotated meanwhile */
                if (a.st_size > 0 && (uint64_t)a.st_size + len > VS_EVENTS_MAX_BYTES) {
                        if (rename(path, old) < 0)
                                return -errno;
                        continue;
                }
                n = write(fd, line, len);
                if (n < 0)
                        return -errno;
                return (size_t)n == len ? 0 : -EIO;
        }
        return -EAGAIN;
}

static void send_syslog(int prio, const char *msg)
{
        /* Opened and closed each time: the recorders log elsewhere, and a
         * forked undertaker must not share the supervisor's socket. */
        openlog("vserver", LOG_PID, LOG_DAEMON);
        syslog(prio, "%s", msg);
        closelog();
}

int vs_event_record(const char *name, int prio, const char *event, ...)
{
        char buf[VS_EVENT_LINE_MAX], mbuf[VS_EVENT_LINE_MAX];
        struct text line = { buf, sizeof(buf) - 2, 0 }, msg = { mbuf, sizeof(mbuf), 0 };
        size_t last = 0; /* the end of the last whole field */
        struct timespec ts;
        struct tm tm;
        char when[40];
        va_list ap;

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
        put(&line, "{\"time\":\"%s.%06ldZ\",\"guest\":", when, ts.tv_nsec / 1000);
        put_json_string(&line, name);
        put(&line, ",\"event\":");
        put_json_string(&line, event);
        put(&msg, "Guest \"%s\": %s", name, event);
        va_start(ap, event);
        for (;;) {
                const char *k = va_arg(ap, const char *), *v;
                if (!k)
                        break;
                v = va_arg(ap, const char *);
                if (!v)
                        v = "";
                if (line.len < line.size - 20)
                        last = line.len;
                put(&line, ",");
                put_json_string(&line, k);
                put(&line, ":");
                if (is_number(v))
                        put(&line, "%s", v);
                else
                        put_json_string(&line, v);
                put(&msg, " %s=%s", k, v);
        }
        va_end(ap);
        /* An overlong line (a long list of limits) loses its last fields
         * but stays one valid object. */
        if (line.len >= line.size) {
                line.len = last;
                put(&line, ",\"truncated\":1");
        }
        line.size += 2;
        put(&line, "}\n");
        for (char *p = mbuf; *p; p++)
                if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
                        *p = '?';
        send_syslog(prio, mbuf);
        return append_line(buf, line.len);
}

void vs_event_start(const char *name, pid_t init_pid, bool userns)
{
        char pid[24];
        snprintf(pid, sizeof(pid), "%d", (int)init_pid);
        (void)vs_event_record(name, LOG_NOTICE, "start", "init_pid", pid, "mode",
                              userns ? "unprivileged" : "privileged", NULL);
}

void vs_event_ready(const char *name, const char *how)
{
        (void)vs_event_record(name, LOG_NOTICE, "ready", "how", how, NULL);
}

const char *vs_event_stop_how(int status, char *detail, size_t len)
{
        char sig[32];

        if (WIFEXITED(status)) {
                snprintf(detail, len, "exit %d", WEXITSTATUS(status));
                return WEXITSTATUS(status) == 0 ? "halt" : "crash";
        }
        if (!WIFSIGNALED(status)) {
                snprintf(detail, len, "status %d", status);
                return "crash";
        }
        /* glibc's abbreviations know every signal; ours only those a halt
         * signal may be. */
        const char *abbrev = sigabbrev_np(WTERMSIG(status));
        if (abbrev)
                snprintf(detail, len, "signal SIG%s", abbrev);
        else
                snprintf(detail, len, "signal %s", vs_signal_name(WTERMSIG(status), sig, sizeof(sig)));
        switch (WTERMSIG(status)) {
        case SIGINT:
                return "poweroff";
        case SIGHUP:
                return "reboot";
        case SIGKILL:
                return "killed";
        default:
                return "crash";
        }
}

void vs_event_stop(const char *name, int status)
{
        char detail[64];
        const char *how = vs_event_stop_how(status, detail, sizeof(detail));
        bool clean = !strcmp(how, "halt") || !strcmp(how, "poweroff") || !strcmp(how, "reboot");

        (void)vs_event_record(name, clean ? LOG_NOTICE : LOG_WARNING, "stop", "how", how, "status", detail, NULL);
}

void vs_event_supervisor_killed(const char *name)
{
        (void)vs_event_record(name, LOG_WARNING, "stop", "how", "killed", "status", "supervisor killed", NULL);
}

void vs_event_anon_kill(const char *name, const char *what)
{
        (void)vs_event_record(name, LOG_WARNING, "anon-kill", "message", what, NULL);
}

void vs_event_thawed(const char *name, pid_t freezer)
{
        char pid[24];

        snprintf(pid, sizeof(pid), "%d", (int)freezer);
        (void)vs_event_record(name, LOG_WARNING, "thawed", "freezer", pid, NULL);
}

void vs_event_oom_check(const char *name, struct vs_cgroup *cg, uint64_t *seen)
{
        struct vs_cgroup_stats st;
        char n[24], total[24];

        if (vs_cgroup_read_stats(cg, &st) < 0)
                return;
        if (*seen == UINT64_MAX || st.oom_kills <= *seen) {
                if (*seen == UINT64_MAX)
                        *seen = st.oom_kills;
                return;
        }
        snprintf(n, sizeof(n), "%llu", (unsigned long long)(st.oom_kills - *seen));
        snprintf(total, sizeof(total), "%llu", (unsigned long long)st.oom_kills);
        *seen = st.oom_kills;
        (void)vs_event_record(name, LOG_WARNING, "oom-kill", "kills", n, "total", total, NULL);
}

int vs_event_oom_watch(struct vs_cgroup *cg)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;

        if (cg->ops != &vs_cgroup_v2_ops)
                return -EOPNOTSUPP;
        path = vs_strdupf("%s/memory.events", cg->paths[0]);
        if (!path)
                return -ENOMEM;
        /* The kernel notifies a change of a cgroup's event file as
         * IN_MODIFY. */
        fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (fd < 0 || inotify_add_watch(fd, path, IN_MODIFY) < 0)
                return -errno;
        return TAKE_FD(fd);
}

void vs_event_oom_drain(int fd)
{
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

        while (read(fd, buf, sizeof(buf)) > 0)
                ;
}

void vs_event_limit(const char *name, char **assignments, bool live)
{
        _cleanup_free_ char *set = vs_strv_join(assignments, " ");
        (void)vs_event_record(name, LOG_NOTICE, "limit", "set", set ? set : "?", "live", live ? "yes" : "no", NULL);
}

/* ---- reading -------------------------------------------------------------- */

/* Parses a JSON string at *@p (after its opening quote) into a new string. */
static char *parse_string(const char **p)
{
        const char *s = *p;
        size_t n = 0;
        char *out = malloc(strlen(s) + 1);

        if (!out)
                return NULL;
        while (*s && *s != '"') {
                if (*s == '\\' && s[1]) {
                        s++;
                        switch (*s) {
                        case 'n':
                                out[n++] = '\n';
                                break;
                        case 't':
                                out[n++] = '\t';
                                break;
                        case 'u': {
                                char hex[5] = { 0 };
                                unsigned long c;
                                if (strlen(s + 1) < 4) {
                                        free(out);
                                        return NULL;
                                }
                                memcpy(hex, s + 1, 4);
                                c = strtoul(hex, NULL, 16);
                                out[n++] = c > 0 && c < 0x100 ? (char)c : '?';
                                s += 4;
                                break;
                        }
                        default:
                                out[n++] = *s;
                        }
                        s++;
                } else
                        out[n++] = *s++;
        }
        if (*s != '"') {
                free(out);
                return NULL;
        }
        out[n] = '\0';
        *p = s + 1;
        return out;
}

void vs_event_clear(struct vs_event *e)
{
        if (!e)
                return;
        free(e->time);
        free(e->guest);
        free(e->event);
        vs_strv_free(e->fields);
        *e = (struct vs_event){ 0 };
}

int vs_event_parse(const char *line, struct vs_event *ret)
{
        struct vs_event e = { 0 };
        const char *p = line;
        size_t nf = 0;

        while (isspace((unsigned char)*p))
                p++;
        if (*p++ != '{')
                return -EINVAL;
        for (;;) {
                _cleanup_free_ char *k = NULL, *v = NULL;
                while (isspace((unsigned char)*p) || *p == ',')
                        p++;
                if (*p == '}')
                        break;
                if (*p++ != '"' || !(k = parse_string(&p)))
                        goto bad;
                while (isspace((unsigned char)*p))
                        p++;
                if (*p++ != ':')
                        goto bad;
                while (isspace((unsigned char)*p))
                        p++;
                if (*p == '"') {
                        p++;
                        if (!(v = parse_string(&p)))
                                goto bad;
                } else {
                        size_t l = strcspn(p, ",}");
                        while (l > 0 && isspace((unsigned char)p[l - 1]))
                                l--;
                        if (l == 0 || !(v = strndup(p, l)))
                                goto bad;
                        p += strcspn(p, ",}");
                }
                if (!strcmp(k, "time") && !e.time)
                        e.time = TAKE_PTR(v);
                else if (!strcmp(k, "guest") && !e.guest)
                        e.guest = TAKE_PTR(v);
                else if (!strcmp(k, "event") && !e.event)
                        e.event = TAKE_PTR(v);
                else {
                        char **nv = realloc(e.fields, (nf + 3) * sizeof(char *));
                        if (!nv)
                                goto bad;
                        e.fields = nv;
                        e.fields[nf++] = TAKE_PTR(k);
                        e.fields[nf++] = TAKE_PTR(v);
                        e.fields[nf] = NULL;
                }
        }
        if (!e.time || !e.guest || !e.event)
                goto bad;
        *ret = e;
        return 0;
bad:
        vs_event_clear(&e);
        return -EINVAL;
}

uint64_t vs_event_time_usec(const struct vs_event *e)
{
        struct tm tm = { 0 };
        const char *rest;
        unsigned long usec = 0;

        if (!e->time || !(rest = strptime(e->time, "%Y-%m-%dT%H:%M:%S", &tm)))
                return 0;
        if (*rest == '.')
                usec = strtoul(rest + 1, NULL, 10);
        return (uint64_t)timegm(&tm) * 1000000u + usec;
}

/* A follower's view of one file: its fd and a partial last line. */
struct reader {
        int fd;
        char *carry;
        size_t carry_len;
};

static bool wanted(const struct vs_events_query *q, const struct vs_event *e)
{
        if (!q->names)
                return true;
        for (char **n = q->names; *n; n++)
                if (!strcmp(*n, e->guest))
                        return true;
        return false;
}

/* History kept for --lines: the last @tail matching lines. */
struct ring {
        char **lines;
        long size, n, head;
};

static void ring_push(struct ring *r, char *line)
{
        if (r->n < r->size)
                r->lines[(r->head + r->n++) % r->size] = line;
        else {
                free(r->lines[r->head]);
                r->lines[r->head] = line;
                r->head = (r->head + 1) % r->size;
        }
}

struct sink {
        const struct vs_events_query *q;
        vs_event_cb cb;
        void *data;
        struct ring *ring; /* history: into the ring instead of out */
        bool history;
};

static int handle_line(struct sink *s, const char *line)
{
        struct vs_event e;
        int r = 0;

        if (vs_event_parse(line, &e) < 0)
                return 0; /* not ours: skipped */
        if (!wanted(s->q, &e))
                goto out;
        if (s->history && !s->q->history_all && s->q->since_usec && vs_event_time_usec(&e) < s->q->since_usec)
                goto out;
        if (s->history && s->ring) {
                char *c = strdup(line);
                if (!c) {
                        r = -ENOMEM;
                        goto out;
                }
                ring_push(s->ring, c);
        } else
                r = s->cb(&e, line, s->data);
out:
        vs_event_clear(&e);
        return r;
}

/* Reads @rd to its end, handing over each complete line. */
static int drain(struct reader *rd, struct sink *s)
{
        char buf[8192];

        for (;;) {
                ssize_t n = read(rd->fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : 0;
                char *nc = realloc(rd->carry, rd->carry_len + (size_t)n + 1);
                if (!nc)
                        return -ENOMEM;
                rd->carry = nc;
                memcpy(rd->carry + rd->carry_len, buf, (size_t)n);
                rd->carry_len += (size_t)n;
                rd->carry[rd->carry_len] = '\0';
                char *start = rd->carry, *nl;
                while ((nl = memchr(start, '\n', rd->carry_len - (size_t)(start - rd->carry)))) {
                        *nl = '\0';
                        int r = handle_line(s, start);
                        if (r < 0)
                                return r;
                        start = nl + 1;
                }
                rd->carry_len -= (size_t)(start - rd->carry);
                memmove(rd->carry, start, rd->carry_len);
        }
}

static void reader_close(struct reader *rd)
{
        if (rd->fd >= 0)
                close(rd->fd);
        rd->fd = -1;
        free(rd->carry);
        rd->carry = NULL;
        rd->carry_len = 0;
}

static int open_events(const char *path)
{
        return open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
}

/* True when @path names another file than @fd (rotated, or made anew). */
static bool replaced(int fd, const char *path)
{
        struct stat a, b;
        if (stat(path, &b) < 0)
                return false;
        return fd < 0 || fstat(fd, &a) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev;
}

/* Watched before anything is read: no line falls between. */
static int watch_rundir(int *ret_ino)
{
        int r = vs_mkdir_p(vs_rundir(), 0755);

        if (r < 0)
                return r;
        *ret_ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (*ret_ino < 0)
                return -errno;
        if (inotify_add_watch(*ret_ino, vs_rundir(), IN_CREATE | IN_MOVED_TO | IN_MODIFY | IN_ONLYDIR) < 0)
                return -errno;
        return 0;
}

/* The past events the query asks for: the rotated file @old, then @rd to its
 * end; with a tail, only the last ones (kept in @ring, handed over here). */
static int read_history(const char *old, struct reader *rd, struct sink *s, struct ring *ring)
{
        struct reader prev = { .fd = open_events(old) };
        int r = 0;

        if (s->q->tail > 0) {
                ring->size = s->q->tail;
                ring->lines = calloc((size_t)s->q->tail, sizeof(char *));
                if (!ring->lines) {
                        reader_close(&prev);
                        return -ENOMEM;
                }
                s->ring = ring;
        }
        s->history = true;
        if (prev.fd >= 0)
                r = drain(&prev, s);
        reader_close(&prev);
        if (r >= 0 && rd->fd >= 0)
                r = drain(rd, s);
        for (long i = 0; r >= 0 && i < ring->n; i++) {
                const char *line = ring->lines[(ring->head + i) % ring->size];
                struct vs_event e;
                if (vs_event_parse(line, &e) == 0) {
                        r = s->cb(&e, line, s->data);
                        vs_event_clear(&e);
                }
        }
        s->history = false;
        s->ring = NULL;
        return r;
}

/* Hands over each new line of @path (@rd) until @stop_fd is readable,
 * following the file through rotations. */
static int follow(int ino, int stop_fd, const char *path, struct reader *rd, struct sink *s)
{
        int r = 0;

        for (;;) {
                struct pollfd p[2] = { { .fd = ino, .events = POLLIN }, { .fd = stop_fd, .events = POLLIN } };
                char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (p[1].revents)
                        return 0;
                /* The events say only that something changed: what and where
                 * is found by looking (a queue overflow loses nothing then). */
                while (read(ino, buf, sizeof(buf)) > 0)
                        ;
                if (rd->fd >= 0) {
                        r = drain(rd, s);
                        if (r < 0)
                                return r;
                }
                /* Rotated (the old file is read to its end just above, and
                 * nothing is written to it after the rename) or made anew. */
                while (replaced(rd->fd, path)) {
                        reader_close(rd);
                        rd->fd = open_events(path);
                        if (rd->fd < 0)
                                break;
                        r = drain(rd, s);
                        if (r < 0)
                                return r;
                }
        }
}

int vs_events_follow(const struct vs_events_query *q, int stop_fd, vs_event_cb cb, void *data)
{
        _cleanup_free_ char *path = vs_strdupf("%s/" VS_EVENTS_FILE, vs_rundir());
        _cleanup_free_ char *old = vs_strdupf("%s/" VS_EVENTS_OLD_FILE, vs_rundir());
        _cleanup_close_ int ino = -1;
        struct reader rd = { .fd = -1 };
        struct ring ring = { 0 };
        struct sink s = { .q = q, .cb = cb, .data = data };
        bool history = q->history_all || q->since_usec || q->tail > 0;
        int r = 0;

        if (!path || !old)
                return -ENOMEM;
        if (q->follow) {
                r = watch_rundir(&ino);
                if (r < 0)
                        return r;
        }
        rd.fd = open_events(path);
        if (rd.fd < 0 && errno != ENOENT)
                return -errno;
        if (history)
                r = read_history(old, &rd, &s, &ring);
        else if (rd.fd >= 0 && lseek(rd.fd, 0, SEEK_END) < 0)
                r = -errno;
        if (r >= 0 && q->follow)
                r = follow(ino, stop_fd, path, &rd, &s);
        for (long i = 0; i < ring.n; i++)
                free(ring.lines[(ring.head + i) % ring.size]);
        free(ring.lines);
        reader_close(&rd);
        return r;
}
