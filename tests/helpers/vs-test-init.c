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
 *   --reboot CMD      reboot(2) with CMD poweroff, halt or restart (in a PID
 *                     namespace: its init is ended by SIGINT or SIGHUP);
 *                     prints the error and exits 1 if it returns
 *   --pid             "PID PPID" on one line
 *   --hostname        the UTS nodename
 *   --fds             open fd numbers, ascending, one per line
 *   --env             the environment, one variable per line
 *   --cwd             the working directory
 *   --cat FILE        copy FILE to stdout
 *   --write FILE TEXT create/truncate FILE (0644) holding exactly TEXT
 *   --status          the Cap*, NoNewPrivs and Seccomp* lines of /proc/self/status
 *   --ls DIR          entry names of DIR (no . and ..), byte order, one per line
 *   --stat PATH       "dev MAJ:MIN@FSMAJ:FSMIN" of PATH (followed), as --tiocsti
 *   --readlink PATH   the text of the symlink PATH
 *   --spin SECS       burn CPU for SECS seconds of wall time
 *   --alloc MIB [SECS] allocate and touch MIB MiB of anonymous memory, hold it
 *                     SECS s (default 1), print "allocated MIB"
 *   --mlock MIB       lock MIB MiB with mlock(2): "locked" or the error, exit 1
 *   --memlock-limit   the RLIMIT_MEMLOCK soft and hard limits in bytes
 *   --rtprio-limit    the RLIMIT_RTPRIO soft and hard limits
 *   --fork N          fork N children that sleep 5 s; print how many forks worked
 *   --inotify-hold N SECS
 *                     make up to N inotify instances, print "inotify GOT" (how
 *                     many the kernel gave), hold them SECS seconds, exit 0
 *   --syscall NAME    make the call NAME with harmless arguments (invalid fds,
 *                     flags or pointers, see attempt()); print "NAME OK" or
 *                     "NAME EPERM" (the errno name); exit 0 either way
 *   --syscall32 NAME  the same through int 0x80 (the i386 entry point)
 *   --syscallx32 NAME the same through the x32 numbers (x86-64 only)
 *   --open-exe PID    open /proc/PID/exe for writing, then write one byte at
 *                     its end: "open-exe PID: open ERRNO" or "write ERRNO"
 *                     or "written" (the attack of CVE-2019-5736)
 *   --open-exe-loop SECS
 *                     for SECS seconds, look for processes whose /proc/PID/exe
 *                     is not a file of this guest (a vserver binary or memfd),
 *                     hold it with O_PATH and reopen it for writing once the
 *                     process is gone, then append one byte: "seen N opened M
 *                     written K" (N distinct processes)
 *   --tiocsti TEXT    for every open fd: "fd N dev MAJ:MIN@FSMAJ:FSMIN ERRNO"
 *                     (the device and the file system it lives on) after trying
 *                     to push TEXT into its terminal's input (TIOCSTI); then
 *                     the same for /dev/tty; "ctty MAJ:MIN" (0:0: none);
 *                     "session SID pid PID" (SID = PID: a session leader,
 *                     0: a session from outside the PID namespace)
 *   --tiocsti-console TEXT
 *                     the same, and /dev/console too (inside a guest only:
 *                     on the host that is the host's console)
 *
 * Attacks for the hardening tests (each prints "ok" or the errno name, e.g.
 * "EPERM", and exits 0 on success, 1 on failure):
 *   --mount TYPE SRC DIR OPTS  mount(2) a filesystem ("-" for no options)
 *   --bind SRC DIR             bind mount
 *   --remount-rw DIR           remount a mount (bind) read-write
 *   --remount-sb-ro DIR        remount the filesystem under DIR read-only (its
 *                              superblock: for every mount of it, host's too)
 *   --umount PATH              umount2(PATH, 0); --umount-lazy: MNT_DETACH
 *   --mknod PATH b|c MAJ MIN   make a device node (mode 0600)
 *   --open-rw PATH             open O_RDWR and read one byte
 *   --open-ro PATH             open O_RDONLY and read one byte
 *   --fill FILE                write zeros to FILE until the disk is full;
 *                              "full N" (bytes written) when it ends on ENOSPC
 *   --mkdir DIR                mkdir(DIR, 0755)
 *   --open-root-handle DIR FILE
 *                              open_by_handle_at() the root directory of the
 *                              ext4 file system DIR lives on (inode 2), as
 *                              the "shocker" escape does, then print the
 *                              first line of FILE below it
 *   --notify-flood SECS N      N processes send datagrams to $NOTIFY_SOCKET
 *                              (default /run/host/notify) as fast as they
 *                              can for SECS seconds; "sent K"
 *
 * Host exposures (each undone at once when it works; only ever aimed at a
 * scratch file system the test makes):
 *   --fresh-proc DIR           in a new mount namespace (and a new PID
 *                              namespace if the guest's refuses proc), a
 *                              tmpfs on DIR and a fresh proc in it; open
 *                              sysrq-trigger and sys/vm/drop_caches O_WRONLY,
 *                              never writing: "/proc/FILE ok|ERRNO" each, or
 *                              "STEP ERRNO" (STEP: unshare, tmpfs, mount, ...)
 *   --freeze DIR               FIFREEZE the file system under DIR, FITHAW at
 *                              once ("thaw ERRNO" if that fails)
 *   --fanotify-fs PATH         fanotify_mark(FAN_MARK_FILESYSTEM, FAN_OPEN)
 *   --raise-memlock            raise the RLIMIT_MEMLOCK hard limit by 1 MiB
 *                              ("unlimited": nothing to raise)
 *   --sched-fifo               SCHED_FIFO priority 1, back to SCHED_OTHER
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
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int usage(void)
{
        fputs("Usage: vs-test-init [--init | --ignore-halt | --exit N | --sleep N | --reboot CMD | --pid | --hostname |\n"
              "                     --fds | --env | --cwd | --cat FILE | --write FILE TEXT |\n"
              "                     --status | --ls DIR | --stat PATH | --readlink PATH |\n"
              "                     --spin SECS | --alloc MIB [SECS] |\n"
              "                     --mlock MIB | --memlock-limit | --fork N |\n"
              "                     --syscall NAME | --syscall32 NAME | --syscallx32 NAME |\n"
              "                     --open-exe PID | --open-exe-loop SECS | --tiocsti TEXT |\n"
              "                     --tiocsti-console TEXT |\n"
              "                     --mount TYPE SRC DIR OPTS | --bind SRC DIR | --remount-rw DIR |\n"
              "                     --remount-sb-ro DIR |\n"
              "                     --umount PATH | --umount-lazy PATH | --mknod PATH b|c MAJ MIN |\n"
              "                     --open-rw PATH | --open-ro PATH | --fill FILE | --mkdir DIR |\n"
              "                     --open-root-handle DIR FILE | --notify-flood SECS N |\n"
              "                     --fresh-proc DIR | --freeze DIR | --fanotify-fs PATH |\n"
              "                     --raise-memlock | --sched-fifo | --rtprio-limit]\n",
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

static int alloc_mib(unsigned long mib, unsigned long secs)
{
        size_t len = mib << 20;
        char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                return fail("mmap");
        for (size_t i = 0; i < len; i += 4096)
                p[i] = 1;
        printf("allocated %lu\n", mib);
        fflush(stdout);
        sleep((unsigned)secs);
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

static int open_root_handle(const char *dir, const char *file)
{
        /* An ext4 handle of type FILEID_INO32_GEN: inode 2, generation 0. */
        struct {
                struct file_handle h;
                uint32_t ino, gen;
        } fh = { .h = { .handle_bytes = 8, .handle_type = 1 }, .ino = 2, .gen = 0 };
        char line[256] = "";
        int mfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (mfd < 0)
                return errno_result(-1);
        int rfd = (int)syscall(SYS_open_by_handle_at, mfd, &fh.h, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        close(mfd);
        if (rfd < 0)
                return errno_result(-1);
        int fd = openat(rfd, file, O_RDONLY | O_CLOEXEC);
        close(rfd);
        if (fd < 0)
                return errno_result(-1);
        ssize_t n = read(fd, line, sizeof(line) - 1);
        close(fd);
        line[n > 0 ? n : 0] = '\0';
        line[strcspn(line, "\n")] = '\0';
        printf("read %s\n", line);
        return 0;
}

static int notify_flood(unsigned long secs, unsigned long n)
{
        const char *path = getenv("NOTIFY_SOCKET") ? getenv("NOTIFY_SOCKET") : "/run/host/notify";
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        unsigned long total = 0;
        int p[2];

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        if (pipe(p) < 0)
                return fail("pipe");
        for (unsigned long i = 0; i < n; i++) {
                if (fork() != 0)
                        continue;
                unsigned long sent = 0;
                int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                time_t end = time(NULL) + (time_t)secs;
                while (fd >= 0 && time(NULL) < end)
                        for (int k = 0; k < 1000; k++)
                                if (sendto(fd, "STATUS=flood", 12, MSG_NOSIGNAL, (struct sockaddr *)&sa, sizeof(sa)) == 12)
                                        sent++;
                (void)!write(p[1], &sent, sizeof(sent));
                _exit(0);
        }
        close(p[1]);
        for (unsigned long sent; read(p[0], &sent, sizeof(sent)) == sizeof(sent);)
                total += sent;
        while (wait(NULL) > 0)
                ;
        printf("sent %lu\n", total);
        return 0;
}

/* ---- host exposure probes (51-userns-attacks) ---------------------------- */
#include <linux/fs.h>
#include <sched.h>
#include <sys/fanotify.h>

/* Like errno_result(), and names on stderr the step that failed. */
static int step_result(const char *step, int r)
{
        int e = errno;

        if (r < 0)
                fprintf(stderr, "vs-test-init: %s: %s\n", step, strerror(e));
        errno = e;
        return errno_result(r);
}

/* "STEP ERRNO" for a step of a longer attack that failed with errno. */
static int step_failed(const char *step, const char *what)
{
        int e = errno;

        printf("%s ", step);
        errno = e;
        return step_result(what, -1);
}

/* A tmpfs on DIR, a fresh proc on DIR/proc, and each host-global file
 * opened for writing, never written. With @retry, a refused proc mount
 * prints nothing and returns 2 (the caller tries again elsewhere). */
static int fresh_proc_opens(const char *dir, int retry)
{
        static const char *const files[] = { "sysrq-trigger", "sys/vm/drop_caches" };
        char p[4096];
        int bad = 0;

        if (mount("none", dir, "tmpfs", 0, "size=64k") < 0)
                return step_failed("tmpfs", "mounting a tmpfs");
        snprintf(p, sizeof(p), "%s/proc", dir);
        if (mkdir(p, 0755) < 0)
                return step_failed("mkdir", p);
        if (mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
                if (retry) {
                        umount2(dir, MNT_DETACH);
                        return 2;
                }
                return step_failed("mount", "mounting a fresh proc");
        }
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                snprintf(p, sizeof(p), "%s/proc/%s", dir, files[i]);
                int fd = open(p, O_WRONLY | O_CLOEXEC | O_NOCTTY), e = errno;
                printf("/proc/%s ", files[i]);
                errno = e;
                bad |= step_result(p, fd);
                if (fd >= 0)
                        close(fd);
        }
        return bad;
}

/* --fresh-proc DIR: unshare a mount namespace; when proc may not be mounted
 * for the guest's PID namespace, also unshare one and fork into it. Prints
 * "STEP ERRNO" or one "/proc/FILE ok|ERRNO" line per file; exit 0 when
 * every open worked. Everything dies with the namespace. */
static int fresh_proc(const char *dir)
{
        int st, r;

        if (unshare(CLONE_NEWNS) < 0)
                return step_failed("unshare", "unshare(CLONE_NEWNS)");
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return step_failed("private", "making the mounts private");
        r = fresh_proc_opens(dir, 1);
        if (r != 2)
                return r;
        /* The guest's PID namespace is not its user namespace's: a PID
         * namespace of its own, whose proc it may mount if anything. */
        if (unshare(CLONE_NEWPID) < 0)
                return step_failed("unshare-pid", "unshare(CLONE_NEWPID)");
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0)
                return fail("fork");
        if (pid == 0) {
                r = fresh_proc_opens(dir, 0);
                fflush(stdout);
                _exit(r);
        }
        if (waitpid(pid, &st, 0) < 0)
                return fail("waitpid");
        return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

/* --freeze DIR: FIFREEZE the file system under DIR and, if that worked,
 * FITHAW it at once. "ok", the errno name, or "thaw ERRNO". */
static int freeze_thaw(const char *dir)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r;

        if (fd < 0)
                return errno_result(-1);
        if (ioctl(fd, FIFREEZE, 0) < 0) {
                r = errno_result(-1);
                close(fd);
                return r;
        }
        r = ioctl(fd, FITHAW, 0);
        close(fd);
        return r < 0 ? step_failed("thaw", "FITHAW") : errno_result(0);
}

/* --fanotify-fs PATH: a mark for FAN_OPEN on the whole file system under
 * PATH. Without CAP_SYS_ADMIN a group is only had with FAN_REPORT_FID, so
 * that is tried second: the mark is what must be refused. */
static int fanotify_fs(const char *path)
{
        int fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC, O_RDONLY);
        int r;

        if (fd < 0 && errno == EPERM)
                fd = fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_FID | FAN_CLOEXEC, O_RDONLY);
        if (fd < 0)
                return step_result("fanotify_init", -1);
        r = fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN, AT_FDCWD, path);
        close(fd);
        return step_result("fanotify_mark", r);
}

/* --raise-memlock: raise the RLIMIT_MEMLOCK hard limit by 1 MiB. */
static int raise_memlock(void)
{
        struct rlimit rl;

        if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0)
                return fail("getrlimit");
        if (rl.rlim_max == RLIM_INFINITY) {
                puts("unlimited");
                return 1;
        }
        rl.rlim_max += 1 << 20;
        return errno_result(setrlimit(RLIMIT_MEMLOCK, &rl));
}

/* --sched-fifo: SCHED_FIFO at priority 1, then SCHED_OTHER again at once.
 * "ok", the errno name, or "back ERRNO". */
static int sched_fifo(void)
{
        struct sched_param fifo = { .sched_priority = 1 }, other = { .sched_priority = 0 };

        if (sched_setscheduler(0, SCHED_FIFO, &fifo) < 0)
                return errno_result(-1);
        if (sched_setscheduler(0, SCHED_OTHER, &other) < 0)
                return step_failed("back", "back to SCHED_OTHER");
        return errno_result(0);
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
        /* relatime as the mount has it: a locked atime flag must not change. */
        if (!strcmp(cmd, "--remount-sb-ro") && nargs == 1)
                return errno_result(mount(NULL, a[0], NULL, MS_REMOUNT | MS_RDONLY | MS_RELATIME, NULL));
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
        if (!strcmp(cmd, "--open-root-handle") && nargs == 2)
                return open_root_handle(a[0], a[1]);
        if (!strcmp(cmd, "--notify-flood") && nargs == 2 && parse_uint(a[0], 3600, &ma) == 0 &&
            parse_uint(a[1], 64, &mi) == 0)
                return notify_flood(ma, mi);
        if (!strcmp(cmd, "--fresh-proc") && nargs == 1)
                return fresh_proc(a[0]);
        if (!strcmp(cmd, "--freeze") && nargs == 1)
                return freeze_thaw(a[0]);
        if (!strcmp(cmd, "--fanotify-fs") && nargs == 1)
                return fanotify_fs(a[0]);
        if (!strcmp(cmd, "--raise-memlock") && nargs == 0)
                return raise_memlock();
        if (!strcmp(cmd, "--sched-fifo") && nargs == 0)
                return sched_fifo();
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

/* Per-user kernel counters: inotify instances count against the owner of
 * every user namespace up the chain (fs.inotify.max_user_instances). */
static int inotify_hold(unsigned long n, unsigned long secs)
{
        struct rlimit rl;
        unsigned long got = 0;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void)setrlimit(RLIMIT_NOFILE, &rl);
        }
        while (got < n && syscall(SYS_inotify_init1, O_CLOEXEC) >= 0)
                got++;
        printf("inotify %lu\n", got);
        fflush(stdout);
        sleep((unsigned)secs);
        return 0;
}

/* The calls the guest's seccomp filter denies, with arguments that do no
 * harm when a call does get through: bad fds, bad flags, NULL pointers, a
 * module name no kernel has. What comes back tells who refused it: EPERM
 * from the filter (or a missing capability), another errno from the call. */
struct attempt {
        const char *name;
        long nr64, nr32; /* x86-64 and i386 numbers; -1: none */
        long a[6];
};

#define KEXEC_BAD_ARCH 0xffff0000L /* no architecture: EINVAL past the checks */
static const struct attempt attempts[] = {
        { "kexec_load", 246, 283, { 0, 1000, 0, KEXEC_BAD_ARCH } },
        { "kexec_file_load", 320, -1, { -1, -1, 0, 0, -1L } },
        { "open_by_handle_at", 304, 342, { -1, 0, 0 } },
        { "init_module", 175, 128, { 0, 0, 0 } },
        { "finit_module", 313, 350, { -1, 0, 0 } },
        { "delete_module", 176, 129, { (long)"vs_test_no_such_module", O_NONBLOCK } },
        { "bpf", 321, 357, { 9999, 0, 0 } },
        { "perf_event_open", 298, 336, { 0, 0, -1, -1, 0 } },
        { "keyctl", 250, 288, { 9999, 0, 0, 0, 0 } },
        { "add_key", 248, 286, { 0, 0, 0, 0, 0 } },
        { "request_key", 249, 287, { 0, 0, 0, 0 } },
        /* a forced and a lazy umount of a path that does not exist */
        { "umount2-force", 166, 52, { (long)"/vs-test-no-such-mount", MNT_FORCE } },
        { "umount2-detach", 166, 52, { (long)"/vs-test-no-such-mount", MNT_DETACH } },
        /* a harmless call: does the entry point exist at all? */
        { "getpid", 39, 20, { 0 } },
        /* capability probes (not in the filter) */
        { "iopl", 172, 110, { 3 } },
        { "socket-raw", 41, -1, { 2 /* AF_INET */, 3 /* SOCK_RAW */, 1 /* ICMP */ } },
        { "settimeofday-tz", 164, -1, { 0, -2 /* set below */ } },
};

static long call32(long nr, const long *a)
{
#if defined(__x86_64__)
        long ret;
        /* Arguments truncate to 32 bits: only small numbers and NULL pass
         * intact, which is all the probes use (pointers become NULL). */
        long b = (unsigned long)a[0] > 0xffffffffUL ? 0 : a[0];
        __asm__ volatile("int $0x80"
                         : "=a"(ret)
                         : "a"(nr), "b"(b), "c"(a[1]), "d"(a[2]), "S"(a[3]), "D"(a[4])
                         : "memory");
        return ret;
#else
        (void)nr;
        (void)a;
        return -ENOSYS;
#endif
}

static int attempt(const char *name, int abi)
{
        struct timezone tz;
        struct timeval tv;
        long a[6], r;
        const struct attempt *at = NULL;

        for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++)
                if (!strcmp(attempts[i].name, name))
                        at = &attempts[i];
        if (!at) {
                fprintf(stderr, "vs-test-init: no probe for \"%s\"\n", name);
                return 2;
        }
        memcpy(a, at->a, sizeof(a));
        if (!strcmp(name, "settimeofday-tz")) {
                /* the zone the kernel has already: setting it changes nothing */
                gettimeofday(&tv, &tz);
                a[1] = (long)&tz;
        }
        if (abi == 32) {
                if (at->nr32 < 0) {
                        fprintf(stderr, "vs-test-init: no i386 call for \"%s\"\n", name);
                        return 2;
                }
                if (!strncmp(name, "delete_module", 13) || !strncmp(name, "umount2", 7))
                        a[0] = 0; /* a 64-bit pointer does not fit: NULL (EFAULT) */
                r = call32(at->nr32, a);
                errno = r < 0 && r > -4096 ? (int)-r : 0;
                r = r < 0 && r > -4096 ? -1 : r;
        } else {
                long nr = at->nr64;
#if defined(__x86_64__)
                if (abi == 3232) /* __X32_SYSCALL_BIT; kexec_load has its own x32 number */
                        nr = (!strcmp(name, "kexec_load") ? 528 : nr) | 0x40000000L;
#endif
                r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        }
        if (r >= 0)
                printf("%s OK\n", name);
        else
                printf("%s %s\n", name, strerrorname_np(errno) ? strerrorname_np(errno) : "E?");
        return 0;
}

static int open_exe(const char *pid)
{
        char path[64];
        int fd;

        snprintf(path, sizeof(path), "/proc/%s/exe", pid);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
                printf("open-exe %s: open %s\n", pid, strerrorname_np(errno));
                return 0;
        }
        if (lseek(fd, 0, SEEK_END) < 0 || write(fd, "X", 1) != 1)
                printf("open-exe %s: write %s\n", pid, strerrorname_np(errno));
        else
                printf("open-exe %s: written\n", pid);
        close(fd);
        return 0;
}


/* The attack of CVE-2019-5736 from inside a guest: a host program that runs
 * in the guest's PID namespace is reachable through /proc/PID/exe; hold it
 * and write to it once it stops running (ETXTBSY until then). */
static int open_exe_loop(unsigned long secs)
{
        time_t end = time(NULL) + (time_t)secs;
        unsigned long seen = 0, opened = 0, written = 0;
        int last_pid = 0;

        while (time(NULL) < end) {
                struct dirent *de;
                DIR *d = opendir("/proc");
                if (!d)
                        return fail("/proc");
                while ((de = readdir(d))) {
                        char path[64], target[256], again[64];
                        int pid = atoi(de->d_name), fd, w = -1;
                        ssize_t n;

                        if (pid <= 1 || pid == getpid() || pid == last_pid)
                                continue;
                        snprintf(path, sizeof(path), "/proc/%d/exe", pid);
                        n = readlink(path, target, sizeof(target) - 1);
                        if (n <= 0)
                                continue;
                        target[n] = '\0';
                        if (!strstr(target, "memfd:") && !strstr(target, "vs-"))
                                continue;
                        fd = open(path, O_PATH | O_CLOEXEC);
                        if (fd < 0)
                                continue;
                        seen++;
                        last_pid = pid;
                        snprintf(again, sizeof(again), "/proc/self/fd/%d", fd);
                        while (time(NULL) < end) {
                                w = open(again, O_WRONLY | O_APPEND | O_CLOEXEC);
                                if (w >= 0 || errno != ETXTBSY)
                                        break;
                                usleep(50);
                        }
                        if (w >= 0) {
                                opened++;
                                if (write(w, "X", 1) == 1)
                                        written++;
                                close(w);
                        }
                        close(fd);
                }
                closedir(d);
        }
        printf("seen %lu opened %lu written %lu\n", seen, opened, written);
        return 0;
}

static void sti(int fd, const char *label, const char *text)
{
        struct stat st;
        int err = 0;

        if (fstat(fd, &st) < 0)
                return;
        for (const char *p = text; *p && !err; p++)
                if (ioctl(fd, TIOCSTI, p) < 0)
                        err = errno;
        /* The devpts instance (st_dev) tells apart two ptys of one number. */
        printf("%s dev %u:%u@%u:%u %s\n", label, major(st.st_rdev), minor(st.st_rdev), major(st.st_dev),
               minor(st.st_dev), err ? strerrorname_np(err) : "INJECTED");
}

static int tiocsti_all(const char *text, int console)
{
        int fds[1024];
        size_t n = 0;
        struct dirent *de;
        char label[32], line[1024];
        DIR *d = opendir("/proc/self/fd");
        FILE *f;
        unsigned long tty_nr = 0;

        if (!d)
                return fail("/proc/self/fd");
        while ((de = readdir(d)) && n < sizeof(fds) / sizeof(fds[0]))
                if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(d))
                        fds[n++] = atoi(de->d_name);
        closedir(d);
        for (size_t i = 0; i < n; i++) {
                snprintf(label, sizeof(label), "fd %d", fds[i]);
                sti(fds[i], label, text);
        }
        int t = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (t >= 0) {
                sti(t, "/dev/tty", text);
                close(t);
        } else
                printf("/dev/tty %s\n", strerrorname_np(errno));
        if (console) {
                t = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (t >= 0) {
                        sti(t, "/dev/console", text);
                        close(t);
                } else
                        printf("/dev/console %s\n", strerrorname_np(errno));
        }
        f = fopen("/proc/self/stat", "re");
        if (f && fgets(line, sizeof(line), f)) {
                char *p = strrchr(line, ')');
                /* ") S PPID PGRP SESSION TTY_NR" */
                if (p)
                        sscanf(p + 2, "%*c %*d %*d %*d %lu", &tty_nr);
        }
        if (f)
                fclose(f);
        printf("ctty %u:%u\n", major((dev_t)tty_nr), minor((dev_t)tty_nr));
        printf("session %d pid %d\n", (int)getsid(0), (int)getpid());
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
        if (!strcmp(cmd, "--reboot") && nargs == 1) {
                int how;
                if (!strcmp(argv[2], "poweroff"))
                        how = (int)RB_POWER_OFF;
                else if (!strcmp(argv[2], "halt"))
                        how = (int)RB_HALT_SYSTEM;
                else if (!strcmp(argv[2], "restart"))
                        how = (int)RB_AUTOBOOT;
                else
                        return usage();
                reboot(how);
                return fail("reboot");
        }

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
        else if (!strcmp(cmd, "--stat") && nargs == 1) {
                struct stat st;
                r = stat(argv[2], &st) < 0 ? fail(argv[2])
                                           : printf("dev %u:%u@%u:%u\n", major(st.st_rdev), minor(st.st_rdev),
                                                    major(st.st_dev), minor(st.st_dev)) < 0;
        } else if (!strcmp(cmd, "--readlink") && nargs == 1) {
                ssize_t k = readlink(argv[2], buf, sizeof(buf) - 1);
                r = k < 0 ? fail(argv[2]) : printf("%.*s\n", (int)k, buf) < 0;
        } else if (!strcmp(cmd, "--cat") && nargs == 1)
                r = cat_file(argv[2]);
        else if (!strcmp(cmd, "--write") && nargs == 2)
                r = write_file(argv[2], argv[3]);
        else if (!strcmp(cmd, "--status") && nargs == 0)
                r = show_status();
        else if (!strcmp(cmd, "--ls") && nargs == 1)
                r = list_dir(argv[2]);
        else if (!strcmp(cmd, "--spin") && nargs == 1)
                r = parse_uint(argv[2], 100000, &n) < 0 ? usage() : spin(n);
        else if (!strcmp(cmd, "--alloc") && (nargs == 1 || nargs == 2)) {
                unsigned long secs = 1;
                r = parse_uint(argv[2], 1 << 20, &n) < 0 || (nargs == 2 && parse_uint(argv[3], 3600, &secs) < 0)
                            ? usage()
                            : alloc_mib(n, secs);
        }
        else if (!strcmp(cmd, "--mlock") && nargs == 1)
                r = parse_uint(argv[2], 1 << 20, &n) < 0 ? usage() : lock_mib(n);
        else if (!strcmp(cmd, "--fork") && nargs == 1)
                r = parse_uint(argv[2], 100000, &n) < 0 ? usage() : fork_n(n);
        else if (!strcmp(cmd, "--inotify-hold") && nargs == 2) {
                unsigned long secs;
                r = parse_uint(argv[2], 1 << 20, &n) < 0 || parse_uint(argv[3], 3600, &secs) < 0 ? usage()
                                                                                                 : inotify_hold(n, secs);
        }
        else if (!strcmp(cmd, "--syscall") && nargs == 1)
                r = attempt(argv[2], 64);
        else if (!strcmp(cmd, "--syscall32") && nargs == 1)
                r = attempt(argv[2], 32);
        else if (!strcmp(cmd, "--syscallx32") && nargs == 1)
                r = attempt(argv[2], 3232);
        else if (!strcmp(cmd, "--open-exe") && nargs == 1)
                r = open_exe(argv[2]);
        else if (!strcmp(cmd, "--open-exe-loop") && nargs == 1)
                r = parse_uint(argv[2], 3600, &n) < 0 ? usage() : open_exe_loop(n);
        else if (!strcmp(cmd, "--tiocsti") && nargs == 1)
                r = tiocsti_all(argv[2], 0);
        else if (!strcmp(cmd, "--tiocsti-console") && nargs == 1)
                r = tiocsti_all(argv[2], 1);
        else if (!strcmp(cmd, "--memlock-limit") && nargs == 0) {
                struct rlimit rl;
                r = getrlimit(RLIMIT_MEMLOCK, &rl) < 0 ? fail("getrlimit")
                                                       : printf("%llu %llu\n", (unsigned long long)rl.rlim_cur,
                                                                (unsigned long long)rl.rlim_max) < 0;
        }
        else if (!strcmp(cmd, "--rtprio-limit") && nargs == 0) {
                struct rlimit rl;
                r = getrlimit(RLIMIT_RTPRIO, &rl) < 0 ? fail("getrlimit")
                                                      : printf("%llu %llu\n", (unsigned long long)rl.rlim_cur,
                                                               (unsigned long long)rl.rlim_max) < 0;
        }
        else if ((r = probe_command(cmd, nargs, argv + 2)) < 0)
                return usage();

        if (fflush(stdout) != 0 && !r)
                r = fail("stdout");
        return r;
}
