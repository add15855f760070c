/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vs-test-init: a tiny static init and probe for lifecycle tests.
 *
 * Booting a distribution takes seconds and needs a cached template; most
 * start/stop/enter tests only need *a* PID 1 that behaves predictably. This
 * program, linked statically so it runs in an otherwise empty rootfs
 * (tests/helpers/templates/minimal), is that PID 1, and doubles as the command
 * tests run inside the guest through vs-enter to look at what the runtime set
 * up (pid, hostname, fds, environment, capabilities, files).
 *
 *   (none) | --init   PID 1: reap children; exit 0 on SIGRTMIN+3, SIGPWR,
 *                     SIGINT or SIGTERM ("vs-test-init: halting on signal N at
 *                     MONOTONIC-SECONDS")
 *   --ignore-halt     PID 1 that ignores every catchable signal (stop timeout);
 *                     also when started with no arguments as "init-ignore-halt"
 *                     (a symlink, since a guest's init takes no arguments)
 *   --exit N          exit with status N at once
 *   --sleep N         sleep N seconds, exit 0
 *   --pid             "PID PPID" on one line
 *   --hostname        the UTS nodename
 *   --fds             open fd numbers, ascending, one per line
 *   --env             the environment, one variable per line
 *   --cwd             the working directory
 *   --cat FILE        copy FILE to stdout
 *   --write FILE TEXT create/truncate FILE (0644) holding exactly TEXT
 *   --status          the Cap*, NoNewPrivs and Seccomp* lines of /proc/self/status
 *   --ls DIR          entry names of DIR (no . and ..), byte order, one per line
 *   --spin SECS       burn CPU for SECS seconds of wall time
 *   --alloc MIB       allocate and touch MIB MiB of anonymous memory, hold it 1 s,
 *                     print "allocated MIB"
 *   --mlock MIB       lock MIB MiB with mlock(2): "locked" or the error, exit 1
 *   --memlock-limit   the RLIMIT_MEMLOCK soft and hard limits in bytes
 *   --fork N          fork N children that sleep 5 s; print how many forks worked
 *
 * Attacks for the hardening tests (each prints "ok" or the errno name, e.g.
 * "EPERM", and exits 0 on success, 1 on failure):
 *   --mount TYPE SRC DIR OPTS  mount(2) a filesystem ("-" for no options)
 *   --bind SRC DIR             bind mount
 *   --remount-rw DIR           remount a mount (bind) read-write
 *   --umount PATH              umount2(PATH, 0); --umount-lazy: MNT_DETACH
 *   --mknod PATH b|c MAJ MIN   make a device node (mode 0600)
 *   --open-rw PATH             open O_RDWR and read one byte
 *   --open-ro PATH             open O_RDONLY and read one byte
 *   --fill FILE                write zeros to FILE until the disk is full;
 *                              "full N" (bytes written) when it ends on ENOSPC
 *   --mkdir DIR                mkdir(DIR, 0755)
 *
 * Exit status: 0 success, 1 failure (message on stderr), 2 bad usage.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int usage(void)
{
        fputs("Usage: vs-test-init [--init | --ignore-halt | --exit N | --sleep N | --pid | --hostname |\n"
              "                     --fds | --env | --cwd | --cat FILE | --write FILE TEXT |\n"
              "                     --status | --ls DIR | --spin SECS | --alloc MIB |\n"
              "                     --mlock MIB | --memlock-limit | --fork N |\n"
              "                     --mount TYPE SRC DIR OPTS | --bind SRC DIR | --remount-rw DIR |\n"
              "                     --umount PATH | --umount-lazy PATH | --mknod PATH b|c MAJ MIN |\n"
              "                     --open-rw PATH | --open-ro PATH | --fill FILE | --mkdir DIR]\n",
              stderr);
        return 2;
}

static int fail(const char *what)
{
        fprintf(stderr, "vs-test-init: %s: %s\n", what, strerror(errno));
        return 1;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
        char *end;

        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (s[0] < '0' || s[0] > '9' || *end || errno || v > max)
                return -1;
        *ret = v;
        return 0;
}

static void noop(int sig) { (void)sig; }

/* As PID 1 of a PID namespace the kernel drops every signal we have no
 * handler for, so each one we wait for gets a (no-op) handler and is blocked;
 * sigwaitinfo() then takes them one at a time, no async-signal-safety games. */
static int run_init(int ignore_halt)
{
        int halt[] = { SIGRTMIN + 3, SIGPWR, SIGINT, SIGTERM };
        struct sigaction sa = { .sa_handler = noop };
        sigset_t wait_set;

        sigemptyset(&wait_set);
        sigaddset(&wait_set, SIGCHLD);
        if (ignore_halt) {
                for (int sig = 1; sig < NSIG; sig++)
                        if (sig != SIGKILL && sig != SIGSTOP && sig != SIGCHLD)
                                signal(sig, SIG_IGN); /* fails harmlessly for glibc's internal ones */
        } else {
                for (size_t i = 0; i < sizeof(halt) / sizeof(halt[0]); i++) {
                        sigaction(halt[i], &sa, NULL);
                        sigaddset(&wait_set, halt[i]);
                }
        }
        sigaction(SIGCHLD, &sa, NULL);
        sigprocmask(SIG_BLOCK, &wait_set, NULL);

        printf("vs-test-init: running as pid %d%s\n", (int)getpid(), ignore_halt ? " (ignoring signals)" : "");
        fflush(stdout);

        for (;;) {
                int sig = sigwaitinfo(&wait_set, NULL);
                if (sig < 0)
                        continue; /* EINTR from a stop/continue */
                if (sig == SIGCHLD) {
                        while (waitpid(-1, NULL, WNOHANG) > 0)
                                ;
                        continue;
                }
                /* CLOCK_MONOTONIC is the host's in every guest (no time
                 * namespace), so tests can order halts across guests. */
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                printf("vs-test-init: halting on signal %d at %lld.%09ld\n", sig, (long long)ts.tv_sec, ts.tv_nsec);
                fflush(stdout);
                return 0;
        }
}

static int do_sleep(unsigned long secs)
{
        struct timespec ts = { .tv_sec = (time_t)secs };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
        return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

static int list_fds(void)
{
        int fds[1024];
        size_t n = 0;
        struct dirent *de;
        DIR *d = opendir("/proc/self/fd");

        if (!d)
                return fail("/proc/self/fd");
        while ((de = readdir(d)) && n < sizeof(fds) / sizeof(fds[0])) {
                int fd = atoi(de->d_name);
                if (de->d_name[0] != '.' && fd != dirfd(d))
                        fds[n++] = fd;
        }
        closedir(d);
        qsort(fds, n, sizeof(fds[0]), cmp_int);
        for (size_t i = 0; i < n; i++)
                printf("%d\n", fds[i]);
        return 0;
}

static int list_dir(const char *path)
{
        char **names = NULL;
        size_t n = 0;
        struct dirent *de;
        DIR *d = opendir(path);

        if (!d)
                return fail(path);
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                char **tmp = realloc(names, (n + 1) * sizeof(*names));
                if (!tmp || !(tmp[n] = strdup(de->d_name)))
                        return fail("out of memory");
                names = tmp;
                n++;
        }
        closedir(d);
        qsort(names, n, sizeof(*names), cmp_str);
        for (size_t i = 0; i < n; i++)
                puts(names[i]);
        return 0;
}

static int cat_file(const char *path)
{
        char buf[65536];
        ssize_t r;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return fail(path);
        while ((r = read(fd, buf, sizeof(buf))) > 0)
                if (fwrite(buf, 1, (size_t)r, stdout) != (size_t)r)
                        return fail("stdout");
        if (r < 0)
                return fail(path);
        close(fd);
        return 0;
}

static int write_file(const char *path, const char *text)
{
        size_t len = strlen(text);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        if (fd < 0)
                return fail(path);
        if (write(fd, text, len) != (ssize_t)len || close(fd) < 0)
                return fail(path);
        return 0;
}

static int show_status(void)
{
        char line[512];
        FILE *f = fopen("/proc/self/status", "re");

        if (!f)
                return fail("/proc/self/status");
        while (fgets(line, sizeof(line), f))
                if (!strncmp(line, "Cap", 3) || !strncmp(line, "NoNewPrivs", 10) || !strncmp(line, "Seccomp", 7))
                        fputs(line, stdout);
        fclose(f);
        return 0;
}

static int spin(unsigned long secs)
{
        time_t end = time(NULL) + (time_t)secs;
        volatile unsigned long x = 0;
        while (time(NULL) < end)
                for (int i = 0; i < 1000000; i++)
                        x += (unsigned long)i;
        return 0;
}

static int alloc_mib(unsigned long mib)
{
        size_t len = mib << 20;
        char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                return fail("mmap");
        for (size_t i = 0; i < len; i += 4096)
                p[i] = 1;
        printf("allocated %lu\n", mib);
        fflush(stdout);
        sleep(1);
        return 0;
}

static int lock_mib(unsigned long mib)
{
        size_t len = mib << 20;
        char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                return fail("mmap");
        if (mlock(p, len) < 0)
                return fail("mlock");
        puts("locked");
        return 0;
}

/* ---- hardening probes --------------------------------------------------- */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static int errno_result(int r)
{
        static const struct {
                int e;
                const char *name;
        } names[] = { { EPERM, "EPERM" },   { EACCES, "EACCES" }, { EINVAL, "EINVAL" }, { EROFS, "EROFS" },
                      { ENOENT, "ENOENT" }, { EBUSY, "EBUSY" },   { ENOSPC, "ENOSPC" }, { EEXIST, "EEXIST" },
                      { ENXIO, "ENXIO" },   { ENODEV, "ENODEV" }, { EIO, "EIO" },     { ENOTDIR, "ENOTDIR" },
                      { EDQUOT, "EDQUOT" }, { ELOOP, "ELOOP" } };
        int e = errno;

        if (r >= 0) {
                puts("ok");
                return 0;
        }
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (names[i].e == e) {
                        puts(names[i].name);
                        return 1;
                }
        printf("errno %d\n", e);
        return 1;
}

static int open_probe(const char *path, int flags)
{
        char c;
        int fd = open(path, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return errno_result(-1);
        /* Reading a disk is the proof; a character device may just say EOF
         * or have nothing yet (a pty master). */
        if (read(fd, &c, 1) < 0 && errno != EAGAIN) {
                int e = errno;
                close(fd);
                errno = e;
                return errno_result(-1);
        }
        close(fd);
        return errno_result(0);
}

static int fill_file(const char *path)
{
        static char zeros[1 << 16];
        unsigned long long total = 0;
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        if (fd < 0)
                return errno_result(-1);
        for (;;) {
                ssize_t n = write(fd, zeros, sizeof(zeros));
                if (n < 0) {
                        int e = errno;
                        close(fd);
                        if (e == ENOSPC || e == EDQUOT) {
                                printf("full %llu\n", total);
                                return 0;
                        }
                        errno = e;
                        return errno_result(-1);
                }
                total += (unsigned long long)n;
        }
}

static int probe_command(const char *cmd, int nargs, char **a)
{
        unsigned long ma, mi;

        if (!strcmp(cmd, "--mount") && nargs == 4)
                return errno_result(mount(a[1], a[2], a[0], 0, strcmp(a[3], "-") ? a[3] : NULL));
        if (!strcmp(cmd, "--bind") && nargs == 2)
                return errno_result(mount(a[0], a[1], NULL, MS_BIND, NULL));
        if (!strcmp(cmd, "--remount-rw") && nargs == 1)
                return errno_result(mount(NULL, a[0], NULL, MS_REMOUNT | MS_BIND, NULL));
        if (!strcmp(cmd, "--umount") && nargs == 1)
                return errno_result(umount2(a[0], 0));
        if (!strcmp(cmd, "--umount-lazy") && nargs == 1)
                return errno_result(umount2(a[0], MNT_DETACH));
        if (!strcmp(cmd, "--mknod") && nargs == 4 && (!strcmp(a[1], "b") || !strcmp(a[1], "c")) &&
            parse_uint(a[2], 4095, &ma) == 0 && parse_uint(a[3], 1048575, &mi) == 0)
                return errno_result(mknod(a[0], (a[1][0] == 'b' ? S_IFBLK : S_IFCHR) | 0600,
                                          makedev((unsigned)ma, (unsigned)mi)));
        if (!strcmp(cmd, "--open-rw") && nargs == 1)
                return open_probe(a[0], O_RDWR);
        if (!strcmp(cmd, "--open-ro") && nargs == 1)
                return open_probe(a[0], O_RDONLY);
        if (!strcmp(cmd, "--fill") && nargs == 1)
                return fill_file(a[0]);
        if (!strcmp(cmd, "--mkdir") && nargs == 1)
                return errno_result(mkdir(a[0], 0755));
        return -1;
}

static int fork_n(unsigned long n)
{
        unsigned long ok = 0;
        for (unsigned long i = 0; i < n; i++) {
                pid_t pid = fork();
                if (pid == 0) {
                        sleep(5);
                        _exit(0);
                }
                if (pid > 0)
                        ok++;
        }
        printf("forked %lu\n", ok);
        fflush(stdout);
        while (wait(NULL) > 0)
                ;
        return 0;
}

int main(int argc, char *argv[])
{
        const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
        const char *cmd = argc > 1 ? argv[1] : !strcmp(base, "init-ignore-halt") ? "--ignore-halt" : "--init";
        int nargs = argc > 1 ? argc - 2 : 0; /* arguments after the command */
        unsigned long n;
        char buf[4096];
        struct utsname u;
        int r;

        if (!strcmp(cmd, "--init") && nargs == 0)
                return run_init(0);
        if (!strcmp(cmd, "--ignore-halt") && nargs == 0)
                return run_init(1);
        if (!strcmp(cmd, "--exit") && nargs == 1)
                return parse_uint(argv[2], 255, &n) < 0 ? usage() : (int)n;
        if (!strcmp(cmd, "--sleep") && nargs == 1)
                return parse_uint(argv[2], 100000000, &n) < 0 ? usage() : do_sleep(n);

        if (!strcmp(cmd, "--pid") && nargs == 0)
                r = printf("%d %d\n", (int)getpid(), (int)getppid()) < 0;
        else if (!strcmp(cmd, "--hostname") && nargs == 0)
                r = uname(&u) < 0 ? fail("uname") : puts(u.nodename) < 0;
        else if (!strcmp(cmd, "--fds") && nargs == 0)
                r = list_fds();
        else if (!strcmp(cmd, "--env") && nargs == 0) {
                for (char **e = environ; *e; e++)
                        puts(*e);
                r = 0;
        } else if (!strcmp(cmd, "--cwd") && nargs == 0)
                r = getcwd(buf, sizeof(buf)) ? puts(buf) < 0 : fail("getcwd");
        else if (!strcmp(cmd, "--cat") && nargs == 1)
                r = cat_file(argv[2]);
        else if (!strcmp(cmd, "--write") && nargs == 2)
                r = write_file(argv[2], argv[3]);
        else if (!strcmp(cmd, "--status") && nargs == 0)
                r = show_status();
        else if (!strcmp(cmd, "--ls") && nargs == 1)
                r = list_dir(argv[2]);
        else if (!strcmp(cmd, "--spin") && nargs == 1)
                r = parse_uint(argv[2], 100000, &n) < 0 ? usage() : spin(n);
        else if (!strcmp(cmd, "--alloc") && nargs == 1)
                r = parse_uint(argv[2], 1 << 20, &n) < 0 ? usage() : alloc_mib(n);
        else if (!strcmp(cmd, "--mlock") && nargs == 1)
                r = parse_uint(argv[2], 1 << 20, &n) < 0 ? usage() : lock_mib(n);
        else if (!strcmp(cmd, "--fork") && nargs == 1)
                r = parse_uint(argv[2], 100000, &n) < 0 ? usage() : fork_n(n);
        else if (!strcmp(cmd, "--memlock-limit") && nargs == 0) {
                struct rlimit rl;
                r = getrlimit(RLIMIT_MEMLOCK, &rl) < 0 ? fail("getrlimit")
                                                       : printf("%llu %llu\n", (unsigned long long)rl.rlim_cur,
                                                                (unsigned long long)rl.rlim_max) < 0;
        }
        else if ((r = probe_command(cmd, nargs, argv + 2)) < 0)
                return usage();

        if (fflush(stdout) != 0 && !r)
                r = fail("stdout");
        return r;
}
