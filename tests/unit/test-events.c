/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Guest events: how a stop is told from init's wait status, the lines the
 * recorders write (escaping, length, rotation) and the history vs-events
 * reads back across a rotation, the watch of a v2 group's memory.events that
 * records an OOM kill at once. In a temporary run directory. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "tap.h"
#include "cleanup.h"
#include "events.h"
#include "util.h"

static char dir[] = "/tmp/vs-test-events.XXXXXX";

static void how(void)
{
        static const struct {
                int status;
                const char *how, *detail;
        } cases[] = {
                { 0, "halt", "exit 0" },
                { 3 << 8, "crash", "exit 3" },
                { SIGINT, "poweroff", "signal SIGINT" },
                { SIGHUP, "reboot", "signal SIGHUP" },
                { SIGKILL, "killed", "signal SIGKILL" },
                { SIGSEGV, "crash", "signal SIGSEGV" },
                { SIGTERM, "crash", "signal SIGTERM" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char d[64] = "";
                const char *h = vs_event_stop_how(cases[i].status, d, sizeof(d));
                tap_is_str(h, cases[i].how, "status %#x is %s", (unsigned)cases[i].status, cases[i].how);
                tap_ok(strcmp(d, cases[i].detail) == 0, "status %#x says \"%s\" (%s)", (unsigned)cases[i].status,
                       cases[i].detail, d);
        }
}

static char *read_events(const char *file)
{
        _cleanup_free_ char *p = vs_strdupf("%s/%s", dir, file);
        char *s = NULL;
        if (vs_read_file(p, &s, NULL) < 0)
                return NULL;
        return s;
}

static int collect(const struct vs_event *e, const char *line, void *data)
{
        char *acc = data;
        (void)line;
        snprintf(acc + strlen(acc), 1024 - strlen(acc), "%s:%s,", e->guest, e->event);
        return 0;
}

static void lines(void)
{
        /* A guest-chosen process name: quotes, a backslash, a newline, an
         * escape sequence and a byte that is not ASCII. */
        const char *nasty = "a\"b\\c\nd\x1b[31m\xff";
        _cleanup_free_ char *text = NULL;
        struct vs_event e;

        tap_is_int(vs_event_record("vs-unit-test", LOG_DEBUG, "anon-kill", "message", nasty, "kills", "12", NULL), 0,
                   "an event is recorded");
        text = read_events(VS_EVENTS_FILE);
        tap_ok(text && strchr(text, '\n') == text + strlen(text) - 1, "as one line");
        tap_ok(text && !strpbrk(text, "\x1b\xff\t\r"), "with no control character or raw byte in it");
        tap_ok(text && strstr(text, "\"kills\":12"), "a count is a JSON number");
        tap_ok(text && strstr(text, "\"guest\":\"vs-unit-test\",\"event\":\"anon-kill\""), "guest and event named");
        text[strlen(text) - 1] = '\0';
        tap_is_int(vs_event_parse(text, &e), 0, "the line parses");
        tap_is_str(e.fields && e.fields[0] ? e.fields[0] : NULL, "message", "its first field is message");
        tap_is_str(e.fields && e.fields[1] ? e.fields[1] : NULL, nasty, "which reads back as given");
        tap_ok(vs_event_time_usec(&e) > 1600000000ull * 1000000, "its time reads back");
        vs_event_clear(&e);

        char big[3000];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        tap_is_int(vs_event_record("vs-unit-test", LOG_DEBUG, "limit", "live", "yes", "set", big, NULL), 0,
                   "an overlong event is recorded");
        free(text);
        text = read_events(VS_EVENTS_FILE);
        char *second = text ? strchr(text, '\n') + 1 : NULL;
        tap_ok(second && strlen(second) <= VS_EVENT_LINE_MAX, "cut to %d bytes (%zu)", VS_EVENT_LINE_MAX,
               second ? strlen(second) : 0);
        if (second)
                second[strlen(second) - 1] = '\0';
        tap_ok(second && vs_event_parse(second, &e) == 0, "still one valid object");
        tap_ok(second && strstr(second, "\"live\":\"yes\",\"truncated\":1}"), "that says it was cut");
        vs_event_clear(&e);
}

static void rotation(void)
{
        _cleanup_free_ char *path = vs_strdupf("%s/" VS_EVENTS_FILE, dir), *pad = malloc(VS_EVENTS_MAX_BYTES);
        _cleanup_free_ char *old = NULL, *cur = NULL;
        char got[1024] = "";
        int fd;

        /* A full file: the next event begins a new one. */
        memset(pad, '#', VS_EVENTS_MAX_BYTES - 1);
        pad[VS_EVENTS_MAX_BYTES - 1] = '\n';
        fd = open(path, O_WRONLY | O_APPEND);
        tap_ok(fd >= 0 && write(fd, pad, VS_EVENTS_MAX_BYTES) == VS_EVENTS_MAX_BYTES, "the events file filled");
        close(fd);
        tap_is_int(vs_event_record("g1", LOG_DEBUG, "start", NULL), 0, "an event past the size");
        old = read_events(VS_EVENTS_OLD_FILE);
        cur = read_events(VS_EVENTS_FILE);
        tap_ok(old && strlen(old) > VS_EVENTS_MAX_BYTES && strstr(old, "vs-unit-test"), "the full file is now .events.1");
        tap_ok(cur && strstr(cur, "\"g1\"") && strlen(cur) < 200, "and the event begins a new file");
        (void)vs_event_record("g2", LOG_DEBUG, "start", NULL);
        (void)vs_event_record("g1", LOG_DEBUG, "stop", "how", "halt", NULL);

        struct vs_events_query q = { .history_all = true };
        tap_is_int(vs_events_follow(&q, -1, collect, got), 0, "the history is read");
        tap_is_str(got, "vs-unit-test:anon-kill,vs-unit-test:limit,g1:start,g2:start,g1:stop,",
                   "across both files, in order, the padding skipped");
        char *names[] = { "g1", NULL };
        q = (struct vs_events_query){ .tail = 1, .names = names };
        got[0] = '\0';
        tap_is_int(vs_events_follow(&q, -1, collect, got), 0, "the last one of g1");
        tap_is_str(got, "g1:stop,", "is its stop");
        q = (struct vs_events_query){ .since_usec = 1 };
        got[0] = '\0';
        (void)vs_events_follow(&q, -1, collect, got);
        tap_ok(strlen(got) > 0 && strstr(got, "g2:start"), "--since 1 µs after the epoch: everything");
}

/* In place, as the kernel changes a cgroup file: the same inode. */
static int put(const char *path, const char *s)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        return fd >= 0 && write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
}

static bool readable(int fd, int ms)
{
        struct pollfd p = { .fd = fd, .events = POLLIN };
        return poll(&p, 1, ms) == 1;
}

/* A cgroup v2 group as a directory of its files: what the supervisor's
 * watch sees when the kernel counts an OOM kill in memory.events. */
static void oom_watch(void)
{
        _cleanup_free_ char *grp = vs_strdupf("%s/cg-g3", dir), *ev = vs_strdupf("%s/cg-g3/memory.events", dir);
        _cleanup_free_ char *text = NULL;
        char *paths[] = { grp, NULL };
        struct vs_cgroup *cg = NULL, *v1 = NULL;
        uint64_t seen = 0;
        int fd;

        tap_ok(grp && ev && mkdir(grp, 0700) == 0 && put(ev, "oom 0\noom_kill 0\n") == 0,
               "a fake v2 group with no OOM kill");
        tap_is_int(vs_cgroup_from_paths("g3", "v2", paths, NULL, &cg), 0, "its handle");
        fd = vs_event_oom_watch(cg);
        tap_ok(fd >= 0, "its memory.events is watched");
        tap_ok(!readable(fd, 0), "nothing to read while it is unchanged");
        tap_is_int(put(ev, "oom 1\noom_kill 1\n"), 0, "an OOM kill is counted");
        tap_ok(readable(fd, 1000), "the watch wakes");
        vs_event_oom_drain(fd);
        tap_ok(!readable(fd, 0), "drained, it sleeps again");
        vs_event_oom_check("g3", cg, &seen);
        tap_ok(seen == 1, "the count is taken (%llu)", (unsigned long long)seen);
        text = read_events(VS_EVENTS_FILE);
        tap_ok(text && strstr(text, "\"guest\":\"g3\",\"event\":\"oom-kill\",\"kills\":1,\"total\":1"),
               "and recorded as one event");
        close(fd);
        tap_is_int(vs_cgroup_from_paths("g3", "v1", paths, NULL, &v1), 0, "a v1 handle");
        tap_is_int(vs_event_oom_watch(v1), -EOPNOTSUPP, "v1 has no memory.events to watch");
        vs_cgroup_free(cg);
        vs_cgroup_free(v1);
}

int main(void)
{
        how();
        if (!mkdtemp(dir))
                return 1;
        setenv("VS_RUNDIR", dir, 1);
        lines();
        rotation();
        oom_watch();
        (void)vs_rm_rf(dir);
        return tap_done();
}
