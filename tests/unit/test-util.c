/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "caps.h"
#include "cleanup.h"
#include "clone.h"
#include "paths.h"
#include "pidfd.h"
#include "seccomp-filter.h"
#include "util.h"

static void names(void)
{
        static const char *const good[] = { "a", "guest1", "web-1.example", "A_b", "0", "x.y-z_w" };
        static const char *const bad[] = { "", ".", "..", "../x", "a/b", "-rf", "_a", ".hidden", "a b", "a\nb",
                                           "tab\tname", "é", "a:b", "a*", "$(x)" };
        char longest[VS_NAME_MAX + 2];

        for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
                tap_ok(vs_name_valid(good[i]), "name \"%s\" is accepted", good[i]);
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
                tap_ok(!vs_name_valid(bad[i]), "name \"%s\" is refused", bad[i]);
        tap_ok(!vs_name_valid(NULL), "NULL name is refused");
        memset(longest, 'a', VS_NAME_MAX);
        longest[VS_NAME_MAX] = '\0';
        tap_ok(vs_name_valid(longest), "a name of %d characters is accepted", VS_NAME_MAX);
        longest[VS_NAME_MAX] = 'a';
        longest[VS_NAME_MAX + 1] = '\0';
        tap_ok(!vs_name_valid(longest), "a name of %d characters is refused", VS_NAME_MAX + 1);
}

static void sizes(void)
{
        static const struct {
                const char *s;
                uint64_t v;
        } good[] = { { "0", 0 }, { "512", 512 }, { "1K", 1024 }, { "1k", 1024 }, { "512M", 512ULL << 20 },
                     { "2G", 2ULL << 30 }, { "1T", 1ULL << 40 }, { "64MiB", 64ULL << 20 }, { "1GB", 1ULL << 30 },
                     { "16777215T", 16777215ULL << 40 } };
        static const char *const bad[] = { "",    "-1",  "abc", "10Q", "1e30", "18446744073709551616", " 1G",
                                           "1G ", "1.5G", "+1G", "G",  "1GG", "16777216T", "0x10" };
        uint64_t v;

        for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
                v = 42;
                tap_ok(vs_parse_size(good[i].s, &v) == 0 && v == good[i].v, "size \"%s\" = %llu", good[i].s,
                       (unsigned long long)good[i].v);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                v = 42;
                tap_ok(vs_parse_size(bad[i], &v) < 0 && v == 42, "size \"%s\" is refused, output untouched", bad[i]);
        }
        tap_ok(vs_parse_uint("100", 1, 10000, &v) == 0 && v == 100, "uint in range");
        tap_is_int(vs_parse_uint("0", 1, 10000, &v), -ERANGE, "uint below range");
        tap_is_int(vs_parse_uint("10001", 1, 10000, &v), -ERANGE, "uint above range");
        tap_is_int(vs_parse_uint("-5", 0, 10, &v), -EINVAL, "negative uint");
        tap_is_int(vs_parse_size(NULL, &v), -EINVAL, "no size is -EINVAL");
        tap_is_int(vs_parse_uint(NULL, 0, 10, &v), -EINVAL, "no uint is -EINVAL");
}

static void signals(void)
{
        int s = 0;
        char buf[32];

        tap_ok(vs_parse_signal("SIGRTMIN+3", &s) == 0 && s == SIGRTMIN + 3, "SIGRTMIN+3");
        tap_ok(vs_parse_signal("rtmin+3", &s) == 0 && s == SIGRTMIN + 3, "rtmin+3");
        tap_ok(vs_parse_signal("SIGPWR", &s) == 0 && s == SIGPWR, "SIGPWR");
        tap_ok(vs_parse_signal("int", &s) == 0 && s == SIGINT, "int");
        tap_ok(vs_parse_signal("15", &s) == 0 && s == SIGTERM, "15");
        tap_ok(vs_parse_signal("SIGNOPE", &s) < 0, "unknown signal refused");
        tap_ok(vs_parse_signal("RTMIN+99", &s) < 0, "RTMIN+99 refused");
        tap_is_str(vs_signal_name(SIGRTMIN + 3, buf, sizeof(buf)), "SIGRTMIN+3", "name of SIGRTMIN+3");
        tap_is_str(vs_signal_name(SIGPWR, buf, sizeof(buf)), "SIGPWR", "name of SIGPWR");
}

static void strv(void)
{
        char **v = vs_strv_split(",a,,b,c,", ",");
        char *j = vs_strv_join(v, ":");
        tap_is_int(vs_strv_length(v), 3, "split drops empty fields");
        tap_is_str(j, "a:b:c", "join");
        free(j);
        vs_strv_free(v);
}

static void starttime(void)
{
        uint64_t a = 0, b = 0;
        tap_ok(vs_proc_starttime(getpid(), &a) == 0 && a > 0, "start time of self");
        tap_ok(vs_proc_starttime(getpid(), &b) == 0 && a == b, "start time is stable");
        tap_ok(vs_proc_starttime(1, &b) == 0 && b <= a, "pid 1 started no later than us");
}

static pid_t sleeper(void)
{
        pid_t p = fork();
        if (p == 0) {
                pause();
                _exit(0);
        }
        return p;
}

/* A child at exactly @pid (clone3 with set_tid: root only); -errno. */
static pid_t sleeper_at(pid_t pid)
{
        struct clone_args a = { .exit_signal = SIGCHLD, .set_tid = (uintptr_t)&pid, .set_tid_size = 1 };
        long p = syscall(SYS_clone3, &a, sizeof(a));
        if (p == 0) {
                pause();
                _exit(0);
        }
        return p < 0 ? -errno : (pid_t)p;
}

static bool alive(pid_t p)
{
        /* A signal takes effect when the process next runs: give it time. */
        struct timespec ts = { 0, 200 * 1000 * 1000 };
        nanosleep(&ts, NULL);
        return waitpid(p, NULL, WNOHANG) == 0;
}

static void reap(pid_t p)
{
        kill(p, SIGKILL);
        waitpid(p, NULL, 0);
}

struct list {
        pid_t v[4];
        size_t n;
};

static int relist(void *data, pid_t **ret, size_t *ret_n)
{
        struct list *l = data;
        *ret = malloc(sizeof(l->v));
        if (!*ret)
                return -ENOMEM;
        memcpy(*ret, l->v, sizeof(l->v));
        *ret_n = l->n;
        return 0;
}

static void pidfds(void)
{
        uint64_t st = 0;
        int status;

        pid_t a = sleeper();
        tap_ok(a > 0 && vs_proc_starttime(a, &st) == 0, "a child and its start time");
        tap_is_int(vs_pid_signal_started(a, st + 1, 0), -ESRCH, "no signal to a pid with another start time");
        tap_is_int(vs_pid_signal_started(a, st, 0), 0, "a signal to the pid with its start time");
        _cleanup_close_ int fa = vs_pidfd_open(a);
        tap_ok(fa >= 0, "a pidfd for the child");
        reap(a);
        tap_is_int(vs_pidfd_signal(fa, 0), -ESRCH, "the pidfd of a reaped child reaches nothing");
        tap_is_int(vs_pid_signal_started(a, st, 0), -ESRCH, "nor does its pid with its start time");

        /* The listing of a group, then the signal: a listed process still
         * there is signalled... */
        pid_t d = sleeper();
        struct list l = { { d }, 1 };
        tap_is_int(vs_pids_signal_listed(&d, 1, relist, &l, SIGKILL), 1, "a process still listed is signalled");
        tap_ok(waitpid(d, &status, 0) == d && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
               "and killed");
        /* ...one no longer listed is not, though its pid names a process. */
        pid_t b = sleeper(), c = sleeper();
        l = (struct list){ { c }, 1 };
        tap_is_int(vs_pids_signal_listed(&b, 1, relist, &l, SIGKILL), 0, "a pid the list no longer holds is not signalled");
        tap_ok(alive(b) && alive(c), "the process at that pid and the listed one live on");
        reap(b);
        reap(c);

        /* The pid of the reaped child given to a new process: what held the
         * old one must not reach the new one. */
        pid_t n = sleeper_at(a);
        if (n != a) {
                printf("ok %d # SKIP no child at a chosen pid (clone3 set_tid: %s)\n", ++tap_n, strerror(-n));
                return;
        }
        tap_ok(kill(a, 0) == 0, "control: a plain kill(pid) reaches the new process at the old pid");
        tap_is_int(vs_pidfd_signal(fa, SIGKILL), -ESRCH, "the old pidfd does not reach the new process");
        tap_is_int(vs_pid_signal_started(a, st, SIGKILL), -ESRCH, "nor does the pid with the old start time");
        l = (struct list){ { c }, 1 };
        tap_is_int(vs_pids_signal_listed(&a, 1, relist, &l, SIGKILL), 0, "nor a stale listing of the old pid");
        tap_ok(alive(n), "the new process lives on");
        reap(n);
}

static void bounding(void)
{
        const uint64_t drs = UINT64_C(1) << 2, raw = UINT64_C(1) << 13; /* dac_read_search, net_raw */

        tap_ok(vs_caps_guest_bounding(0, 0, true) == vs_caps_default_keep(), "with seccomp: the default set");
        tap_ok(vs_caps_default_keep() & drs, "which keeps dac_read_search");
        tap_ok(vs_caps_guest_bounding(0, 0, false) == (vs_caps_default_keep() & ~drs),
               "without seccomp: the default set without dac_read_search");
        tap_ok(vs_caps_guest_bounding(drs, 0, false) & drs, "unless caps.keep names it");
        tap_ok(!(vs_caps_guest_bounding(0, raw, true) & raw), "caps.drop drops");
}

/* The fields of /proc/PID/status the caps and seccomp readers use. */
static void status_fields(void)
{
        uint64_t bnd = 0, want = 0, pid = 0;
        int mode = -1;

        for (int c = 0; c < 64; c++)
                if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
                        want |= UINT64_C(1) << c;
        tap_is_int(vs_caps_read_bounding(getpid(), &bnd), 0, "CapBnd is read");
        tap_ok(bnd == want, "as hex, the bounding set prctl reports (%llx)", (unsigned long long)bnd);
        tap_is_int(vs_seccomp_read_mode(getpid(), &mode), 0, "Seccomp is read");
        tap_is_int(mode, prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 ? 2 : 0, "as the mode prctl reports");
        tap_ok(vs_proc_status_uint(getpid(), "Pid", 10, &pid) == 0 && pid == (uint64_t)getpid(), "Pid in base 10");
        tap_is_int(vs_proc_status_uint(getpid(), "NoSuchField", 10, &pid), -EIO, "a missing field is -EIO");
        {
                _cleanup_free_ char *text = NULL;
                tap_ok(vs_read_filef(&text, "/proc/%d/%s", (int)getpid(), "comm") == 0 && text &&
                               !strncmp(text, "test-util", 9),
                       "a file by a formatted path");
                tap_is_int(vs_read_filef(&text, "/nonexistent/%d", 1), -ENOENT, "a missing one is -ENOENT");
        }
}

static void deadline(void)
{
        uint64_t t0 = vs_now_usec();
        struct vs_deadline d = vs_deadline_in(60, 20);
        int waits = 0;
        while (vs_deadline_wait(&d))
                waits++;
        uint64_t took = vs_now_usec() - t0;
        /* At most 3 sleeps of 20 ms (fewer when the host is busy and a
         * sleep overruns), but never a return before the deadline. */
        tap_ok(waits >= 1 && waits <= 3, "a 60 ms deadline in 20 ms steps: 1 to 3 sleeps (%d)", waits);
        tap_ok(took >= 60000 && took < 1000000, "and it waits until the deadline (%llu us)", (unsigned long long)took);
        d = vs_deadline_in(0, 10);
        t0 = vs_now_usec();
        tap_ok(!vs_deadline_wait(&d), "a deadline already passed does not sleep");
        tap_ok(vs_now_usec() - t0 < 5000, "and returns at once");
}

static int kv_collect(char *k, char *v, void *arg)
{
        char *buf = arg;
        if (!strcmp(k, "stop"))
                return -ECANCELED;
        strcat(buf, k);
        strcat(buf, ":");
        strcat(buf, v);
        strcat(buf, ";");
        return 0;
}

static void kv_file(void)
{
        char path[] = "/tmp/test-util-kv.XXXXXX", buf[256] = "";
        int fd = mkstemp(path);
        const char *text = "a=1\nno equals sign\n\nb=x=y\nempty=\nstop=here\nafter=never\n";
        tap_ok(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text), "a key=value file");
        if (fd >= 0)
                close(fd);
        tap_is_int(vs_kv_file_read(path, kv_collect, buf), -ECANCELED, "the callback's first error ends the read");
        tap_is_str(buf, "a:1;b:x=y;empty:;", "lines without '=' skipped, the value from the first '=' on");
        unlink(path);
        tap_is_int(vs_kv_file_read(path, kv_collect, buf), -ENOENT, "a missing file is -ENOENT");
}

/* One key of every guest's configuration, as the id-range and project-id
 * lists read it. */
struct number {
        char *name;
        uint64_t n;
};

static int number_parse(const char *value, void *elem)
{
        return vs_parse_uint(value, 1, 1000, &((struct number *)elem)->n);
}

static void put(const char *dir, const char *file, const char *text)
{
        _cleanup_free_ char *p = vs_strdupf("%s/%s", dir, file);
        FILE *f = p ? fopen(p, "w") : NULL;
        if (f) {
                fputs(text, f);
                fclose(f);
        }
}

static const struct number *number_of(const struct number *v, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (!strcmp(v[i].name, name))
                        return &v[i];
        return NULL;
}

static void confdir_values(void)
{
        char dir[] = "/tmp/vs-test-values.XXXXXX";
        struct number *v = (void *)1;
        const struct number *e;
        size_t n = 99;

        tap_is_int(vs_confdir_values("/nonexistent/vs-test", "s", "k", sizeof(*v), number_parse, &v, &n), 0,
                   "a missing config directory holds no guest");
        tap_ok(n == 0 && v == NULL, "and gives an empty list");
        if (!mkdtemp(dir))
                return;
        put(dir, "a.conf", "[s]\nk = 7\n[t]\nk = 8\n");
        put(dir, "b.conf", "[s]\nk = 5\nk = 6\n");
        put(dir, "broken.conf", "[s]\nnot a line\nk = 9\nunknown = x\n");
        put(dir, "none.conf", "[t]\nk = 1\n");
        put(dir, "bad.conf", "[s]\nk = 1001\n");
        put(dir, "defaults.conf", "[s]\nk = 3\n");
        put(dir, ".hidden.conf", "[s]\nk = 3\n");
        put(dir, "c.conf.bak", "[s]\nk = 3\n");
        tap_is_int(vs_confdir_values(dir, "s", "k", sizeof(*v), number_parse, &v, &n), 0, "the values are read");
        tap_is_int(n, 3, "of the guests holding the key with a value the parser takes");
        e = number_of(v, n, "a");
        tap_ok(e && e->n == 7, "the key of the section asked for, not of another");
        e = number_of(v, n, "b");
        tap_ok(e && e->n == 6, "the last one a file holds");
        e = number_of(v, n, "broken");
        tap_ok(e && e->n == 9, "from a file that does not parse as a whole too");
        tap_ok(!number_of(v, n, "none") && !number_of(v, n, "bad") && !number_of(v, n, "defaults"),
               "no entry for a file without the key, a refused value or defaults.conf");
        vs_confdir_values_free(v, n, sizeof(*v));
        tap_is_int(vs_rm_rf(dir), 0, "temporary directory removed");
}

/* vs_fork_pipe(): the child writes, the parent reads, both ends
 * close-on-exec. */
static void fork_pipe(void)
{
        int p[2], status = -1;
        char buf[8] = "";
        pid_t pid = vs_fork_pipe(p);

        if (pid == 0) {
                close(p[0]);
                _exit(write(p[1], "ok", 2) == 2 ? 0 : 1);
        }
        tap_ok(pid > 0, "vs_fork_pipe forks");
        if (pid <= 0)
                return;
        tap_ok((fcntl(p[0], F_GETFD) & FD_CLOEXEC) && (fcntl(p[1], F_GETFD) & FD_CLOEXEC),
               "both ends are close-on-exec");
        close(p[1]);
        tap_ok(read(p[0], buf, sizeof(buf) - 1) == 2 && !strcmp(buf, "ok"), "the parent reads what the child wrote");
        close(p[0]);
        tap_ok(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
               "the child exits");
}

int main(void)
{
        confdir_values();
        kv_file();
        deadline();
        names();
        sizes();
        signals();
        strv();
        starttime();
        pidfds();
        bounding();
        status_fields();
        fork_pipe();
        return tap_done();
}
