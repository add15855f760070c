/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <sys/file.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"

void vs_strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

bool vs_name_valid(const char *name)
{
        size_t n;

        if (!name || !isalnum((unsigned char)name[0]) || !isascii((unsigned char)name[0]))
                return false;
        n = strlen(name);
        if (n > VS_NAME_MAX)
                return false;
        for (size_t i = 1; i < n; i++) {
                unsigned char c = name[i];
                if (!(isascii(c) && (isalnum(c) || c == '_' || c == '.' || c == '-')))
                        return false;
        }
        return true;
}

static int parse_u64_prefix(const char *s, uint64_t *ret, const char **ret_end)
{
        uint64_t v = 0;
        const char *p = s;

        if (!p || !isdigit((unsigned char)*p))
                return -EINVAL;
        for (; isdigit((unsigned char)*p); p++) {
                unsigned d = *p - '0';
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        *ret = v;
        *ret_end = p;
        return 0;
}

int vs_parse_size(const char *s, uint64_t *ret)
{
        uint64_t v, mult = 1;
        const char *end;
        int r = parse_u64_prefix(s, &v, &end);

        if (r < 0)
                return r;
        switch (*end) {
        case '\0': break;
        case 'k': case 'K': mult = 1ULL << 10; end++; break;
        case 'm': case 'M': mult = 1ULL << 20; end++; break;
        case 'g': case 'G': mult = 1ULL << 30; end++; break;
        case 't': case 'T': mult = 1ULL << 40; end++; break;
        default: return -EINVAL;
        }
        /* Accept an optional "B" or "iB" after the unit, as in 512MiB or 1GB. */
        if (mult > 1) {
                if (*end == 'i')
                        end++;
                if (*end == 'B')
                        end++;
        }
        if (*end != '\0')
                return -EINVAL;
        if (v > UINT64_MAX / mult)
                return -ERANGE;
        *ret = v * mult;
        return 0;
}

int vs_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
        uint64_t v;
        const char *end;
        int r = parse_u64_prefix(s, &v, &end);

        if (r < 0)
                return r;
        if (*end != '\0')
                return -EINVAL;
        if (v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

int vs_parse_bool(const char *s, bool *ret)
{
        static const char *const yes[] = { "yes", "true", "on", "1" };
        static const char *const no[] = { "no", "false", "off", "0" };

        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (strcasecmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (strcasecmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        return -EINVAL;
}

static const struct {
        const char *name;
        int sig;
} signal_names[] = {
        { "HUP", SIGHUP },   { "INT", SIGINT },   { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
        { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "PWR", SIGPWR },
        { "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "WINCH", SIGWINCH },
};

int vs_parse_signal(const char *s, int *ret)
{
        uint64_t v;

        if (!s || !*s)
                return -EINVAL;
        if (strncasecmp(s, "SIG", 3) == 0)
                s += 3;
        if (strncasecmp(s, "RTMIN", 5) == 0) {
                int base = SIGRTMIN;
                if (s[5] == '\0') {
                        *ret = base;
                        return 0;
                }
                if (s[5] != '+' || vs_parse_uint(s + 6, 0, (uint64_t)(SIGRTMAX - base), &v) < 0)
                        return -EINVAL;
                *ret = base + (int)v;
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(signal_names); i++)
                if (strcasecmp(s, signal_names[i].name) == 0) {
                        *ret = signal_names[i].sig;
                        return 0;
                }
        if (vs_parse_uint(s, 1, (uint64_t)SIGRTMAX, &v) < 0)
                return -EINVAL;
        *ret = (int)v;
        return 0;
}

const char *vs_signal_name(int sig, char *buf, size_t len)
{
        if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
                if (sig == SIGRTMIN)
                        snprintf(buf, len, "SIGRTMIN");
                else
                        snprintf(buf, len, "SIGRTMIN+%d", sig - SIGRTMIN);
                return buf;
        }
        for (size_t i = 0; i < ELEMENTSOF(signal_names); i++)
                if (signal_names[i].sig == sig) {
                        snprintf(buf, len, "SIG%s", signal_names[i].name);
                        return buf;
                }
        snprintf(buf, len, "%d", sig);
        return buf;
}

int vs_read_file_at(int dirfd, const char *path, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 4096;

        fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        buf = malloc(cap);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n;
                if (len + 1 >= cap) {
                        char *nb;
                        if (cap > (64u << 20))
                                return -EFBIG;
                        nb = realloc(buf, cap * 2);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        cap *= 2;
                }
                n = read(fd, buf + len, cap - len - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = '\0';
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}

int vs_read_file(const char *path, char **ret, size_t *ret_len)
{
        return vs_read_file_at(AT_FDCWD, path, ret, ret_len);
}

int vs_read_filef(char **ret, const char *fmt, ...)
{
        _cleanup_free_ char *path = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&path, fmt, ap);
        va_end(ap);
        if (r < 0) {
                path = NULL;
                return -ENOMEM;
        }
        return vs_read_file(path, ret, NULL);
}

int vs_write_file_at(int dirfd, const char *path, const char *s)
{
        _cleanup_close_ int fd = -1;
        size_t len = strlen(s);
        ssize_t n;

        fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        n = write(fd, s, len);
        if (n < 0)
                return -errno;
        if ((size_t)n != len)
                return -EIO;
        return 0;
}

static int write_replace(const char *path, const char *content, mode_t mode, bool sync)
{
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        size_t len = strlen(content);
        int r;

        tmp = vs_strdupf("%s.tmp.XXXXXX", path);
        if (!tmp)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fchmod(fd, mode) < 0 || write(fd, content, len) != (ssize_t)len || (sync && fsync(fd) < 0)) {
                r = errno ? -errno : -EIO;
                unlink(tmp);
                return r;
        }
        if (rename(tmp, path) < 0) {
                r = -errno;
                unlink(tmp);
                return r;
        }
        return 0;
}

int vs_write_file_atomic(const char *path, const char *content, mode_t mode)
{
        return write_replace(path, content, mode, true);
}

int vs_write_file_replace(const char *path, const char *content, mode_t mode)
{
        return write_replace(path, content, mode, false);
}

int vs_mkdir_p(const char *path, mode_t mode)
{
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int vs_mkdir_private(const char *path)
{
        _cleanup_free_ char *parent = strdup(path);
        char *slash = parent ? strrchr(parent, '/') : NULL;
        struct stat st;
        int r;

        if (!parent)
                return -ENOMEM;
        if (slash && slash != parent) {
                *slash = '\0';
                r = vs_mkdir_p(parent, 0755);
                if (r < 0)
                        return r;
        }
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return -errno;
        if (stat(path, &st) < 0)
                return -errno;
        if ((st.st_mode & 077) && chmod(path, st.st_mode & 07700) < 0)
                return -errno;
        return 0;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        (void)st;
        (void)ftw;
        if (type == FTW_DP) {
                if (rmdir(path) < 0 && errno != ENOENT)
                        return -errno;
        } else if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int vs_rm_rf(const char *path)
{
        struct stat st;
        int r;

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlink(path) < 0 ? -errno : 0;
        /* The tree is written by a template and may hold immutable or
         * read-only bits; unlink as root copes with modes, and FTW_MOUNT keeps
         * us on this filesystem should anything still be mounted inside. */
        r = nftw(path, rm_one, 64, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
        if (r < 0)
                return -errno;
        return r;
}

int vs_proc_starttime(pid_t pid, uint64_t *ret)
{
        return vs_proc_stat(pid, NULL, ret);
}

int vs_proc_stat(pid_t pid, char *ret_state, uint64_t *ret)
{
        _cleanup_free_ char *buf = NULL;
        const char *p;
        int r = vs_read_filef(&buf, "/proc/%d/stat", (int)pid);

        if (r < 0)
                return r;
        /* comm may hold spaces and parentheses: fields start after the last ')'. */
        p = strrchr(buf, ')');
        if (!p)
                return -EIO;
        p++;
        if (ret_state)
                *ret_state = p[1];
        for (int field = 3; field < 22; field++) {
                p = strchr(p + 1, ' ');
                if (!p)
                        return -EIO;
        }
        *ret = strtoull(p + 1, NULL, 10);
        return 0;
}

void vs_close_all_fds(int from, int keep)
{
#ifdef SYS_close_range
        if (keep < from) {
                if (syscall(SYS_close_range, (unsigned)from, ~0U, 0) == 0)
                        return;
        } else {
                if ((keep == from || syscall(SYS_close_range, (unsigned)from, (unsigned)keep - 1, 0) == 0) &&
                    syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0) == 0)
                        return;
        }
#endif
        DIR *d = opendir("/proc/self/fd");
        if (!d) {
                for (int fd = from; fd < 65536; fd++)
                        if (fd != keep)
                                close(fd);
                return;
        }
        struct dirent *de;
        int dfd = dirfd(d);
        while ((de = readdir(d))) {
                int fd = atoi(de->d_name);
                if (de->d_name[0] == '.' || fd < from || fd == keep || fd == dfd)
                        continue;
                close(fd);
        }
        closedir(d);
}

size_t vs_strv_length(char **v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

char *vs_strv_join(char **v, const char *sep)
{
        size_t len = 1, sl = strlen(sep);
        char *s, *p;

        for (char **i = v; i && *i; i++)
                len += strlen(*i) + sl;
        s = p = malloc(len);
        if (!s)
                return NULL;
        *p = '\0';
        for (char **i = v; i && *i; i++) {
                if (i != v)
                        p = stpcpy(p, sep);
                p = stpcpy(p, *i);
        }
        return s;
}

char **vs_strv_split(const char *s, const char *sep)
{
        _cleanup_strv_free_ char **v = NULL;
        size_t n = 0;
        const char *p = s;

        v = calloc(1, sizeof(char *));
        if (!v)
                return NULL;
        while (*p) {
                size_t l = strcspn(p, sep);
                if (l > 0) {
                        char **nv = realloc(v, (n + 2) * sizeof(char *));
                        if (!nv)
                                return NULL;
                        v = nv;
                        v[n] = strndup(p, l);
                        if (!v[n])
                                return NULL;
                        v[++n] = NULL;
                }
                p += l;
                p += strspn(p, sep);
        }
        return TAKE_PTR(v);
}

char *vs_strdupf(const char *fmt, ...)
{
        va_list ap;
        char *s;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        return r < 0 ? NULL : s;
}

uint64_t vs_now_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

int vs_kv_file_read(const char *path, int (*fn)(char *key, char *value, void *arg), void *arg)
{
        _cleanup_free_ char *text = NULL;
        int r = vs_read_file(path, &text, NULL);
        if (r < 0)
                return r;
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                char *eq = strchr(line, '=');
                if (!eq)
                        continue;
                *eq++ = '\0';
                r = fn(line, eq, arg);
                if (r < 0)
                        return r;
        }
        return 0;
}

struct vs_deadline vs_deadline_in(unsigned total_ms, unsigned step_ms)
{
        return (struct vs_deadline){ vs_now_usec() + (uint64_t)total_ms * 1000u, step_ms };
}

bool vs_deadline_wait(struct vs_deadline *d)
{
        uint64_t now = vs_now_usec();
        if (now >= d->end_usec)
                return false;
        uint64_t step = (uint64_t)d->step_ms * 1000u;
        if (step > d->end_usec - now)
                step = d->end_usec - now;
        struct timespec ts = { (time_t)(step / 1000000u), (long)(step % 1000000u) * 1000L };
        nanosleep(&ts, NULL); /* a signal cuts it short: one try early */
        return true;
}

char *vs_human_size(uint64_t bytes, char *buf, size_t len)
{
        static const char units[] = "BKMGT";
        double v = (double)bytes;
        int u = 0;

        while (v >= 1024 && u < 4) {
                v /= 1024;
                u++;
        }
        snprintf(buf, len, u ? "%.1f%c" : "%.0f%c", v, units[u]);
        return buf;
}

int vs_proc_status_field(pid_t pid, const char *field, char **ret)
{
        _cleanup_free_ char *buf = NULL;
        const char *p;
        size_t flen = strlen(field);
        int r = vs_read_filef(&buf, "/proc/%d/status", (int)pid);

        if (r < 0)
                return r;
        for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (!strncmp(p, field, flen) && p[flen] == ':') {
                        p += flen + 1;
                        p += strspn(p, " \t");
                        *ret = strndup(p, strcspn(p, "\n"));
                        return *ret ? 0 : -ENOMEM;
                }
        return -EIO;
}

int vs_proc_status_uint(pid_t pid, const char *field, int base, uint64_t *ret)
{
        _cleanup_free_ char *v = NULL;
        int r = vs_proc_status_field(pid, field, &v);

        if (r < 0)
                return r;
        *ret = strtoull(v, NULL, base);
        return 0;
}

int vs_lock_file(const char *path)
{
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}
