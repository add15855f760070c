/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vserver's exec trampoline: the only program of the host that a guest's
 * PID namespace ever sees running. vs-start and vs-enter do their work from
 * their files on the host, then execute this program from a sealed memfd
 * (lib/sec/exe.c) for the last step, the fork and exec into the guest: every
 * process of the guest that is not yet the guest's own program has the
 * sealed memfd behind /proc/PID/exe, and maps nothing else of the host.
 *
 * It has no C library (on x86-64: its own syscall stubs; elsewhere it is
 * linked statically against libc), so its exec costs what the kernel
 * charges and nothing more: no dynamic loader, no CPU feature probing.
 *
 *   vserver-exec init STATUS_FD PATH ARGV0 [ARG...]
 *      Executes PATH (the guest's init). On failure writes "ERRNO message"
 *      to STATUS_FD, as vs-start's child does, and exits 127.
 *   vserver-exec enter PARENT CGROUP_FD PIDFD BOUNDING TTY_FD PATH ARGV0 [ARG...]
 *      Forks a child straight into the cgroup v2 group CGROUP_FD (-1: the
 *      current groups), which joins the cgroup namespace of PIDFD's
 *      process, starts a session of its own, makes TTY_FD (one of its
 *      stdio fds; -1: none) its controlling terminal, closes every fd but
 *      0-2, limits its capability bounding set to the hex mask BOUNDING and
 *      executes PATH. Its stdio must be fds of the guest's: vs-enter gives
 *      it pipes or the slave of a pty of the guest's devpts. The caller has joined the
 *      guest's other namespaces (the PID namespace for its children) and
 *      loaded the guest's seccomp filter. The trampoline itself waits,
 *      forwards SIGINT, SIGTERM and SIGHUP, and exits with the child's
 *      status (128 + N for a signal N). When PARENT (vs-enter's relay)
 *      dies, the child gets SIGHUP.
 */
#include <linux/capability.h>
#include <linux/sched.h>
#include <linux/signal.h>
#include <stddef.h>
#include <stdint.h>

#define TR_CLONE_INTO_CGROUP 0x200000000ULL
#define TR_SIGCHLD 17
#define TR_SIGINT 2
#define TR_SIGHUP 1
#define TR_SIGTERM 15
#define TR_PR_SET_PDEATHSIG 1
#define TR_PR_SET_DUMPABLE 4
#define TR_PR_CAPBSET_DROP 24
#define TR_F_SETFD 2
#define TR_FD_CLOEXEC 1
#define TR_TIOCSCTTY 0x540E
#define TR_WNOHANG 1
#define TR_O_WRONLY 1
#define TR_O_CLOEXEC 02000000
#define TR_CLONE_NEWCGROUP 0x02000000
#define TR_AT_FDCWD (-100)

#ifdef VS_TRAMPOLINE_LIBC
#include <sys/syscall.h>
#include <unistd.h>
#define SYS(n) SYS_##n
#define sc0(n) syscall(n)
#define sc1(n, a) syscall(n, a)
#define sc2(n, a, b) syscall(n, a, b)
#define sc3(n, a, b, c) syscall(n, a, b, c)
#define sc4(n, a, b, c, d) syscall(n, a, b, c, d)
#define sc5(n, a, b, c, d, e) syscall(n, a, b, c, d, e)
/* libc's syscall() reports -1 and errno; the code below wants -errno. */
#include <errno.h>
static long fix(long r)
{
        return r == -1 ? -errno : r;
}
#define SC(x) fix(x)
#else
#include <asm/unistd.h>
#define SYS(n) __NR_##n
#define SC(x) (x)
#if defined(__x86_64__)
static inline long sc6(long n, long a, long b, long c, long d, long e, long f)
{
        register long r10 __asm__("r10") = d;
        register long r8 __asm__("r8") = e;
        register long r9 __asm__("r9") = f;
        long ret;
        __asm__ volatile("syscall"
                         : "=a"(ret)
                         : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                         : "rcx", "r11", "memory");
        return ret;
}
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  xor %ebp, %ebp\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call tr_start\n"
        "  hlt\n");
#else
#error "the libc-free trampoline knows x86-64 only; configure builds it with VS_TRAMPOLINE_LIBC elsewhere"
#endif
#define sc0(n) sc6(n, 0, 0, 0, 0, 0, 0)
#define sc1(n, a) sc6(n, (long)(a), 0, 0, 0, 0, 0)
#define sc2(n, a, b) sc6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define sc3(n, a, b, c) sc6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sc4(n, a, b, c, d) sc6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define sc5(n, a, b, c, d, e) sc6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* The compiler may call these for struct copies and initializers. */
void *memset(void *s, int c, size_t n);
void *memset(void *s, int c, size_t n)
{
        unsigned char *p = s;
        while (n--)
                *p++ = (unsigned char)c;
        return s;
}
void *memcpy(void *d, const void *s, size_t n);
void *memcpy(void *d, const void *s, size_t n)
{
        unsigned char *o = d;
        const unsigned char *i = s;
        while (n--)
                *o++ = *i++;
        return d;
}
#endif

struct tr_clone_args {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size,
                cgroup;
};

struct tr_sigaction {
        void *handler;
        unsigned long flags;
        void *restorer;
        uint64_t mask;
};

static int tr_streq(const char *a, const char *b)
{
        while (*a && *a == *b)
                a++, b++;
        return *a == *b;
}

static __attribute__((noreturn)) void tr_exit(int code)
{
        for (;;)
                sc1(SYS(exit_group), code);
}

/* A message is built in one buffer and written with one call. */
struct tr_msg {
        char buf[512];
        size_t len;
};

static void msg_add(struct tr_msg *m, const char *s)
{
        while (*s && m->len < sizeof(m->buf) - 1)
                m->buf[m->len++] = *s++;
}

static void msg_num(struct tr_msg *m, long v)
{
        char d[24];
        int n = 0;
        unsigned long u = v < 0 ? (unsigned long)-v : (unsigned long)v;

        if (v < 0)
                msg_add(m, "-");
        do
                d[n++] = (char)('0' + u % 10);
        while ((u /= 10) && n < (int)sizeof(d));
        while (n > 0 && m->len < sizeof(m->buf) - 1)
                m->buf[m->len++] = d[--n];
}

static const char *tr_strerror(long e)
{
        switch (e) {
        case 1: return "Operation not permitted";
        case 2: return "No such file or directory";
        case 7: return "Argument list too long";
        case 8: return "Exec format error";
        case 12: return "Cannot allocate memory";
        case 13: return "Permission denied";
        case 20: return "Not a directory";
        case 21: return "Is a directory";
        case 26: return "Text file busy";
        case 40: return "Too many levels of symbolic links";
        default: return "error";
        }
}

static void msg_errno(struct tr_msg *m, long e)
{
        msg_add(m, tr_strerror(e));
        if (tr_strerror(e)[0] == 'e' && tr_strerror(e)[1] == 'r') {
                msg_add(m, " ");
                msg_num(m, e);
        }
}

static void msg_write(int fd, struct tr_msg *m)
{
        sc3(SYS(write), fd, m->buf, m->len);
}

static int parse_int(const char *s, long *ret)
{
        long v = 0;
        int neg = 0;

        if (*s == '-') {
                neg = 1;
                s++;
        }
        if (!*s)
                return -1;
        for (; *s; s++) {
                if (*s < '0' || *s > '9' || v > 1000000000L)
                        return -1;
                v = v * 10 + (*s - '0');
        }
        *ret = neg ? -v : v;
        return 0;
}

static int parse_hex(const char *s, uint64_t *ret)
{
        uint64_t v = 0;
        int n = 0;

        for (; *s; s++, n++) {
                int d;
                if (*s >= '0' && *s <= '9')
                        d = *s - '0';
                else if (*s >= 'a' && *s <= 'f')
                        d = *s - 'a' + 10;
                else
                        return -1;
                if (n >= 16)
                        return -1;
                v = v << 4 | (uint64_t)d;
        }
        if (n == 0)
                return -1;
        *ret = v;
        return 0;
}

static __attribute__((noreturn)) void usage(void)
{
        struct tr_msg m = { .len = 0 };
        msg_add(&m, "vserver-exec: vserver's internal exec step, not meant to be run by hand\n");
        msg_write(2, &m);
        tr_exit(127);
}

static __attribute__((noreturn)) void run_init(long status_fd, char **argv, char **envp)
{
        struct tr_msg m = { .len = 0 };
        long r;

        sc3(SYS(fcntl), status_fd, TR_F_SETFD, TR_FD_CLOEXEC);
        r = SC(sc3(SYS(execve), argv[0], argv + 1, envp));
        msg_num(&m, -r);
        msg_add(&m, " executing the guest's init ");
        msg_add(&m, argv[0]);
        msg_add(&m, ": ");
        msg_errno(&m, -r);
        msg_write((int)status_fd, &m);
        tr_exit(127);
}

static void set_default(int sig)
{
        struct tr_sigaction sa = { .handler = (void *)0 };
        sc4(SYS(rt_sigaction), sig, &sa, 0, 8);
}

static __attribute__((noreturn)) void child(long cgroup_fd, long pidfd, uint64_t bounding, long tty_fd, char **argv,
                                            char **envp)
{
        struct tr_msg m = { .len = 0 };
        uint64_t none = 0;
        long r;

        if (cgroup_fd >= 0)
                sc1(SYS(close), cgroup_fd);
        /* From inside the guest's cgroup namespace the kernel refuses the
         * clone into its group: the namespace is joined only now. */
        r = SC(sc2(SYS(setns), pidfd, TR_CLONE_NEWCGROUP));
        if (r < 0) {
                msg_add(&m, "vs-enter: cannot join the guest's cgroup namespace: ");
                goto fail;
        }
        sc1(SYS(close), pidfd);
        /* Always a session of its own: the caller's controlling terminal
         * stays the caller's (no /dev/tty, no job-control signals to it). */
        r = SC(sc0(SYS(setsid)));
        if (r < 0) {
                msg_add(&m, "vs-enter: cannot start a session: ");
                goto fail;
        }
        if (tty_fd >= 0) {
                r = SC(sc3(SYS(ioctl), tty_fd, TR_TIOCSCTTY, 0));
                if (r < 0) {
                        msg_add(&m, "vs-enter: cannot make the guest's pty the terminal: ");
                        goto fail;
                }
        }
        sc3(SYS(close_range), 3, ~0U, 0);
        for (int cap = 0; cap < 64; cap++) {
                if (bounding & (1ULL << cap))
                        continue;
                r = SC(sc2(SYS(prctl), TR_PR_CAPBSET_DROP, cap));
                if (r == -22) /* EINVAL: past the kernel's last capability */
                        break;
                if (r < 0) {
                        msg_add(&m, "vs-enter: cannot limit capabilities: ");
                        goto fail;
                }
        }
        set_default(TR_SIGINT);
        set_default(TR_SIGTERM);
        set_default(TR_SIGHUP);
        sc4(SYS(rt_sigprocmask), 2 /* SIG_SETMASK */, &none, 0, 8);
        r = SC(sc3(SYS(execve), argv[0], argv + 1, envp));
        msg_add(&m, "vs-enter: cannot execute \"");
        msg_add(&m, argv[0]);
        msg_add(&m, "\" in the guest: ");
        msg_errno(&m, -r);
        msg_add(&m, "\n");
        msg_write(2, &m);
        tr_exit(r == -2 ? 127 : 126);
fail:
        msg_errno(&m, -r);
        msg_add(&m, "\n");
        msg_write(2, &m);
        tr_exit(126);
}

static __attribute__((noreturn)) void run_enter(long parent, long cgroup_fd, long pidfd, uint64_t bounding,
                                                long tty_fd, char **argv, char **envp)
{
        uint64_t set = 1ULL << (TR_SIGCHLD - 1) | 1ULL << (TR_SIGINT - 1) | 1ULL << (TR_SIGTERM - 1) |
                       1ULL << (TR_SIGHUP - 1);
        struct tr_clone_args ca = { .exit_signal = TR_SIGCHLD };
        struct tr_msg m = { .len = 0 };
        long pid;

        /* Nothing of this process may be read or traced from inside: the
         * child is born non-dumpable and stays so until its exec. */
        sc2(SYS(prctl), TR_PR_SET_DUMPABLE, 0);
        /* An ignored SIGCHLD (inherited over exec) would reap the child
         * behind our back; the others are waited for, not handled. */
        set_default(TR_SIGCHLD);
        sc4(SYS(rt_sigprocmask), 0 /* SIG_BLOCK */, &set, 0, 8);
        /* vs-enter killed is a hangup: the command gets SIGHUP, as from a
         * terminal that went away (through the loop below, like any
         * SIGHUP), not left running with no one to wait for it. Set here,
         * after the exec (which may clear it); a parent other than the
         * relay means it died before this. */
        sc2(SYS(prctl), TR_PR_SET_PDEATHSIG, TR_SIGHUP);
        if (sc0(SYS(getppid)) != parent)
                sc2(SYS(kill), sc0(SYS(getpid)), TR_SIGHUP);
        if (cgroup_fd >= 0) {
                ca.flags = TR_CLONE_INTO_CGROUP;
                ca.cgroup = (uint64_t)cgroup_fd;
        }
        pid = cgroup_fd >= 0 ? SC(sc2(SYS(clone3), &ca, sizeof(ca))) : SC(sc5(SYS(clone), TR_SIGCHLD, 0, 0, 0, 0));
        if (cgroup_fd >= 0 && (pid == -38 /* ENOSYS */ || pid == -7 /* E2BIG */ || pid == -22 /* EINVAL */)) {
                /* No clone into a group here: move ourselves, then fork. */
                long fd = SC(sc4(SYS(openat), cgroup_fd, "cgroup.procs", TR_O_WRONLY | TR_O_CLOEXEC, 0));
                if (fd < 0 || SC(sc3(SYS(write), fd, "0\n", 2)) != 2) {
                        msg_add(&m, "vs-enter: cannot join the guest's cgroup\n");
                        msg_write(2, &m);
                        tr_exit(126);
                }
                sc1(SYS(close), fd);
                pid = SC(sc5(SYS(clone), TR_SIGCHLD, 0, 0, 0, 0));
        }
        if (pid < 0) {
                msg_add(&m, "vs-enter: cannot fork: ");
                msg_errno(&m, -pid);
                msg_add(&m, "\n");
                msg_write(2, &m);
                tr_exit(126);
        }
        if (pid == 0)
                child(cgroup_fd, pidfd, bounding, tty_fd, argv, envp);

        sc1(SYS(close), pidfd);
        if (cgroup_fd >= 0)
                sc1(SYS(close), cgroup_fd);
        /* Only the command keeps its stdio: when it is gone, the relay reads
         * the end of its pipes (or EIO from its pty). */
        sc3(SYS(close_range), 0, 2, 0);
        for (;;) {
                uint8_t info[128];
                int status = 0;
                long sig = SC(sc4(SYS(rt_sigtimedwait), &set, info, 0, 8));

                if (sig == TR_SIGCHLD || sig < 0) {
                        long w = SC(sc4(SYS(wait4), pid, &status, TR_WNOHANG, 0));
                        if (w == pid) {
                                if ((status & 0x7f) == 0)
                                        tr_exit((status >> 8) & 0xff);
                                tr_exit(128 + (status & 0x7f));
                        }
                        if (w < 0 && w != -4 /* EINTR */)
                                tr_exit(126);
                        continue;
                }
                sc2(SYS(kill), pid, sig);
        }
}

#ifdef VS_TRAMPOLINE_LIBC
int main(int argc, char **argv, char **envp)
#else
__attribute__((noreturn, used)) void tr_start(long *sp);
__attribute__((noreturn, used)) void tr_start(long *sp)
#endif
{
#ifndef VS_TRAMPOLINE_LIBC
        int argc = (int)sp[0];
        char **argv = (char **)(sp + 1), **envp = argv + argc + 1;
#endif
        long a, b, c, d;
        uint64_t bounding;

        if (argc >= 5 && tr_streq(argv[1], "init") && parse_int(argv[2], &a) == 0)
                run_init(a, argv + 3, envp);
        if (argc >= 9 && tr_streq(argv[1], "enter") && parse_int(argv[2], &d) == 0 && parse_int(argv[3], &a) == 0 &&
            parse_int(argv[4], &b) == 0 && parse_hex(argv[5], &bounding) == 0 && parse_int(argv[6], &c) == 0)
                run_enter(d, a, b, bounding, c, argv + 7, envp);
        usage();
}
