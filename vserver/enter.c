/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vs-enter: run a command inside a running guest.
 *
 * This process does the work from its file on the host but never appears in
 * the guest's PID namespace: it joins the guest's cgroups (v1) and
 * namespaces (for the PID namespace: its children's), takes on the guest's
 * limits and seccomp filter, then executes the sealed trampoline
 * (lib/sec/trampoline.c), which forks the command's process straight into the
 * guest's cgroup v2 group, joins the guest's cgroup namespace there, drops
 * the capabilities the guest lacks and executes the command, in a session
 * of its own. No fd of the caller's reaches it: a relay process of ours
 * stays outside and copies between the caller's stdio and the command's
 * pipes, or a pty of the guest's devpts for what is a terminal.
 *
 * It links nothing but libc: each shared library costs an exec here. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <grp.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "caps.h"
#include "cleanup.h"
#include "exe.h"
#include "paths.h"
#include "pidfd.h"
#include "pty.h"
#include "seccomp-filter.h"
#include "state.h"
#include "util.h"

#define GUEST_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct enter {
        const char *name;
        char **argv;     /* the command, NULL: a login shell */
        int pidfd;       /* the guest's init */
        int v2fd;        /* init's cgroup v2 group, -1: none */
        uint64_t bounding;
        struct rlimit memlock;
        bool have_memlock;
        char *bpf;       /* the guest's seccomp program, NULL: none */
        size_t bpf_len;
        pid_t relay;     /* the process that stays outside and waits */
        pid_t init_pid;
        bool userns;     /* the guest has a user namespace of its own */
};

/* Moves the caller into init's group in each cgroup v1 hierarchy of the
 * guest and opens init's cgroup v2 group into e->v2fd (a migration there
 * costs an RCU grace period; the trampoline clones into it instead).
 * @paths are the guest's groups from its run state; nothing outside them
 * is ever joined. */
static int join_cgroups(struct enter *e, pid_t init_pid, char **paths, char **controllers)
{
        _cleanup_free_ char *tail = vs_strdupf("/vservers/%s", e->name);
        _cleanup_strv_free_ char **groups = NULL;
        int r;

        if (!tail)
                return -ENOMEM;
        r = vs_cgroup_pid_groups(init_pid, tail, paths, controllers, &groups);
        if (r < 0)
                return r;
        for (size_t i = 0; groups[i]; i++) {
                if (!groups[i][0])
                        continue;
                if (controllers && controllers[i] && strcmp(controllers[i], "-") == 0) {
                        if (e->v2fd < 0)
                                e->v2fd = open(groups[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (e->v2fd < 0)
                                return -errno;
                        continue;
                }
                r = vs_cgroup_attach_self_path(groups[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_limit(const char *s, rlim_t *ret)
{
        char *end;
        unsigned long long v;

        if (!strncmp(s, "unlimited", 9)) {
                *ret = RLIM_INFINITY;
                return 0;
        }
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || end == s)
                return -EINVAL;
        *ret = (rlim_t)v;
        return 0;
}

/* The RLIMIT_MEMLOCK of @pid. prlimit() on a process under another uid
 * (an unprivileged guest's init) needs CAP_SYS_RESOURCE, which the host may
 * not give root: /proc/PID/limits is readable to all. */
static int read_memlock(pid_t pid, struct rlimit *ret)
{
        _cleanup_free_ char *text = NULL;
        char path[48], soft[32], hard[32];
        const char *line;
        size_t len;
        int r;

        if (prlimit(pid, RLIMIT_MEMLOCK, NULL, ret) == 0)
                return 0;
        if (errno != EPERM)
                return -errno;
        snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
        r = vs_read_file(path, &text, &len);
        if (r < 0)
                return r;
        line = strstr(text, "\nMax locked memory");
        if (!line || sscanf(line + 19, "%31s %31s", soft, hard) != 2 || parse_limit(soft, &ret->rlim_cur) < 0 ||
            parse_limit(hard, &ret->rlim_max) < 0)
                return -EINVAL;
        return 0;
}

/* Why @cmd cannot run, with the exit status a shell gives it: 127 when it
 * is not found, 126 otherwise. */
static char *cmd_error(const char *cmd, int error, struct vs_error *err, int *ret_status)
{
        *ret_status = error == ENOENT ? 127 : 126;
        vs_error_set(err, error, "cannot execute \"%s\" in the guest: %s", cmd, strerror(error));
        return NULL;
}

/* The program to execute for @cmd, searched in the guest's PATH (we are in
 * its mount namespace) the way execvp() would; NULL with @err and
 * *@ret_status set when there is none. */
static char *find_program(const char *cmd, struct vs_error *err, int *ret_status)
{
        _cleanup_free_ char *dirs = NULL;
        int error = ENOENT;

        if (!*cmd)
                return cmd_error(cmd, ENOENT, err, ret_status);
        if (strchr(cmd, '/')) {
                char *p = strdup(cmd);
                return p ? p : cmd_error(cmd, ENOMEM, err, ret_status);
        }
        dirs = strdup(GUEST_PATH);
        if (!dirs)
                return cmd_error(cmd, ENOMEM, err, ret_status);
        for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                char *p = vs_strdupf("%s/%s", d, cmd);
                if (!p)
                        return cmd_error(cmd, ENOMEM, err, ret_status);
                if (access(p, X_OK) == 0)
                        return p;
                if (errno == EACCES)
                        error = EACCES;
                free(p);
        }
        return cmd_error(cmd, error, err, ret_status);
}

static void clear_cloexec(int fd)
{
        int fl = fd >= 0 ? fcntl(fd, F_GETFD) : -1;
        if (fl >= 0)
                fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
}

/* The command line and environment of the trampoline, and the strings
 * they point into. */
struct tramp_cmd {
        char *program;
        char **args;
        char *env[8];
        char hex[24], v2[16], pid[16], tty[16], relay[16], termvar[80];
};

static void tramp_cmd_done(struct tramp_cmd *t)
{
        free(t->program);
        free(t->args);
}

/* The command, or the guest's login shell; NULL with @err and
 * *@ret_status set when there is none. */
static char *guest_program(const struct enter *e, struct vs_error *err, int *ret_status)
{
        char *program;

        if (e->argv && e->argv[0])
                return find_program(e->argv[0], err, ret_status);
        program = strdup(access("/bin/bash", X_OK) == 0 ? "/bin/bash" : "/bin/sh");
        if (!program)
                return cmd_error("/bin/sh", ENOMEM, err, ret_status);
        if (access(program, X_OK) < 0) {
                free(program);
                *ret_status = 127;
                vs_error_set(err, ENOENT, "the guest has no /bin/bash or /bin/sh");
                return NULL;
        }
        return program;
}

static void tramp_env(struct tramp_cmd *t)
{
        const char *term = getenv("TERM");
        size_t n = 0;

        t->env[n++] = "PATH=" GUEST_PATH;
        t->env[n++] = "HOME=/root";
        t->env[n++] = "USER=root";
        t->env[n++] = "LOGNAME=root";
        t->env[n++] = "container=vserver";
        if (term && strlen(term) < 64) {
                snprintf(t->termvar, sizeof(t->termvar), "TERM=%s", term);
                t->env[n++] = t->termvar;
        }
        t->env[n] = NULL;
}

static int tramp_args(const struct enter *e, int tty_fd, struct tramp_cmd *t)
{
        size_t n = 0, argc = 0;

        for (char **a = e->argv; a && *a; a++)
                argc++;
        t->args = calloc(argc + 10, sizeof(char *));
        if (!t->args)
                return -ENOMEM;
        snprintf(t->v2, sizeof(t->v2), "%d", e->v2fd);
        snprintf(t->pid, sizeof(t->pid), "%d", e->pidfd);
        snprintf(t->hex, sizeof(t->hex), "%llx", (unsigned long long)e->bounding);
        snprintf(t->tty, sizeof(t->tty), "%d", tty_fd);
        snprintf(t->relay, sizeof(t->relay), "%d", (int)e->relay);
        t->args[n++] = NULL; /* the trampoline's name */
        t->args[n++] = (char *)"enter";
        t->args[n++] = t->relay;
        t->args[n++] = t->v2;
        t->args[n++] = t->pid;
        t->args[n++] = t->hex;
        t->args[n++] = t->tty;
        t->args[n++] = t->program;
        if (argc) {
                for (size_t i = 0; i < argc; i++)
                        t->args[n++] = e->argv[i];
        } else {
                t->args[n++] = (char *)(strcmp(t->program, "/bin/bash") == 0 ? "-bash" : "-sh");
        }
        t->args[n] = NULL;
        return 0;
}

/* The guest's MEMLOCK limit, bounding set and seccomp filter, in that
 * order: the filter is loaded while CAP_SYS_ADMIN is still effective. */
static int take_guest_limits(const struct enter *e, struct vs_error *err)
{
        int r;

        /* The guest's MEMLOCK limit holds for every process in it. */
        if (e->have_memlock && setrlimit(RLIMIT_MEMLOCK, &e->memlock) < 0) {
                r = -errno;
                return vs_error_set(err, r, "Cannot take the guest's RLIMIT_MEMLOCK: %s", strerror(errno));
        }
        /* The guest's bounding set, plus what the trampoline's child still
         * needs before its exec: CAP_SYS_ADMIN to join the cgroup namespace,
         * CAP_SETPCAP to drop those two then. */
        r = vs_caps_limit_bounding(e->bounding | UINT64_C(1) << CAP_SYS_ADMIN | UINT64_C(1) << CAP_SETPCAP);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot limit capabilities: %s", strerror(-r));
        }
        /* The filter of the guest's init, loaded while CAP_SYS_ADMIN is
         * effective (no no_new_privs: setuid programs inside keep working).
         * It allows everything the trampoline does. */
        if (e->bpf) {
                r = vs_seccomp_load_bpf(e->bpf, e->bpf_len);
                if (r < 0) {
                        return vs_error_set(err, r, "Cannot load the guest's seccomp filter: %s", strerror(-r));
                }
        }
        return 0;
}

/* The last step, in the process whose children join the guest: takes on
 * the guest's limits and filter and executes the trampoline. Returns only
 * on failure, -errno with @err set and *@ret_status the exit status the
 * command's process ends with (126; 127: no such command). */
static int exec_trampoline(struct enter *e, int tty_fd, struct vs_error *err, int *ret_status)
{
        _cleanup_(tramp_cmd_done) struct tramp_cmd t = { 0 };
        _cleanup_close_ int tramp = -1;
        int r;

        if (setns(e->pidfd, CLONE_NEWPID) < 0) {
                r = -errno;
                return vs_error_set(err, r, "Cannot join the PID namespace of \"%s\": %s", e->name, strerror(errno));
        }
        /* The program is searched in the guest's tree: after the mount
         * namespace (joined by the caller), before the limits. */
        if (chdir("/root") < 0)
                (void)!chdir("/");
        *ret_status = 126;
        t.program = guest_program(e, err, ret_status);
        if (!t.program)
                return -err->code;
        tramp_env(&t);
        r = tramp_args(e, tty_fd, &t);
        if (r < 0)
                return r;
        tramp = vs_trampoline_open();
        if (tramp < 0) {
                vs_error_set(err, tramp, "Cannot create the exec trampoline: %s", strerror(-tramp));
                return tramp;
        }
        r = take_guest_limits(e, err);
        if (r < 0)
                return r;
        clear_cloexec(e->v2fd);
        clear_cloexec(e->pidfd);
        fflush(NULL);
        r = vs_trampoline_exec(tramp, t.args, t.env);
        return vs_error_set(err, r, "Cannot execute the exec trampoline: %s", strerror(-r));
}

/* What the command gets as stdin, stdout and stderr: never a fd of the
 * caller's. Each of the caller's fds that is a terminal becomes the slave
 * of a new pty from the guest's own devpts (also the command's controlling
 * terminal), each other one a pipe; we relay between the two sides. So no
 * process inside can reach the caller's terminal (TIOCSTI, TIOCSETD, a
 * hangup), file or socket. */
struct enter_io {
        int child[3]; /* the command's 0, 1 and 2 (the slave may be more than one) */
        int slave;
        int tty;      /* the first of 0-2 that is the slave, -1: none */
        struct vs_streams relay;
};

static void enter_io_close(struct enter_io *io)
{
        int *all[] = { &io->child[0], &io->child[1], &io->child[2], &io->slave, &io->relay.in.from,
                       &io->relay.in.to, &io->relay.out[0].from, &io->relay.out[1].from, &io->relay.out[2].from };

        for (size_t i = 0; i < ELEMENTSOF(all); i++) {
                int fd = *all[i];
                if (fd <= 2) /* the caller's own, or none */
                        continue;
                for (size_t j = i; j < ELEMENTSOF(all); j++)
                        if (*all[j] == fd)
                                *all[j] = -1;
                close(fd);
        }
}

/* The guest's ptmx, from its own devpts, as the supervisor holds it: by
 * path, /dev/ptmx would be the host's before we join the guest's mount
 * namespace and a name the guest controls after. */
static int guest_ptmx(const char *name, int *ret_fd)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct timeval tv = { .tv_sec = 10 };
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s/" VS_PTY_SOCKET, vs_rundir(), name) >=
            sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return -errno;
        return vs_fd_recv(fd, 0, ret_fd);
}

static int nonblock(int fd)
{
        int fl = fcntl(fd, F_GETFL);
        return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : 0;
}

static int open_io(const char *name, struct enter_io *io, struct vs_error *err)
{
        bool tty[3], any = false;
        int master = -1, r;

        *io = (struct enter_io){ .child = { -1, -1, -1 }, .slave = -1, .tty = -1 };
        io->relay = (struct vs_streams){ .in = { -1, -1, false },
                                         .out = { { -1, -1, false }, { -1, -1, false }, { -1, -1, false } },
                                         .exit_fd = -1, .winch_from = -1, .winch_to = -1 };
        for (int i = 0; i < 3; i++) {
                tty[i] = isatty(i);
                any |= tty[i];
        }
        if (any) {
                _cleanup_close_ int ptmx = -1;
                r = guest_ptmx(name, &ptmx);
                if (r >= 0)
                        r = vs_pty_open_peer(ptmx, &master, &io->slave);
                if (r >= 0)
                        r = nonblock(master);
                if (r < 0) {
                        if (master >= 0)
                                close(master);
                        return vs_error_set(err, r, "Cannot allocate a pty in \"%s\": %s", name, strerror(-r));
                }
                /* The pty's output goes to the caller's terminal. */
                io->relay.out[0] = (struct vs_stream){ master, tty[1] ? 1 : tty[2] ? 2 : 0, true };
                io->relay.winch_from = tty[0] ? 0 : tty[1] ? 1 : 2;
                io->relay.winch_to = master;
        }
        for (int i = 0; i < 3; i++) {
                int p[2];

                if (tty[i]) {
                        io->child[i] = io->slave;
                        if (io->tty < 0)
                                io->tty = i;
                        if (i == 0)
                                io->relay.in = (struct vs_stream){ 0, master, true };
                        continue;
                }
                if (pipe2(p, O_CLOEXEC) < 0) {
                        r = -errno;
                        vs_error_set(err, errno, "Cannot create pipes: %s", strerror(errno));
                        enter_io_close(io);
                        return r;
                }
                io->child[i] = p[i == 0 ? 0 : 1];
                if (i == 0)
                        io->relay.in = (struct vs_stream){ 0, p[1], false };
                else
                        io->relay.out[i] = (struct vs_stream){ p[0], i, false };
                (void)nonblock(p[i == 0 ? 1 : 0]);
        }
        return 0;
}

struct child_args {
        struct enter *e;
        struct enter_io *io;
};

static int child_main(void *arg)
{
        struct child_args *a = arg;
        struct vs_error cerr = { 0 };
        int status = 126;

        /* A group of its own: a signal from the caller's terminal reaches
         * the command once, through the relay. */
        (void)setpgid(0, 0);
        for (int i = 0; i < 3; i++)
                if (dup2(a->io->child[i], i) < 0)
                        _exit(126);
        /* A child before its exec, with no caller to return to: its
         * failure goes to its stderr, the command's through the relay
         * (doc/design.md, section 8). */
        exec_trampoline(a->e, a->io->tty, &cerr, &status);
        fprintf(stderr, "vs-enter: %s\n", cerr.msg);
        _exit(status);
}

/* Runs the command on io's pipes or pty and relays for it. The relay stays
 * outside the guest's PID namespace. */
static int enter_relayed(struct enter *e, struct enter_io *io, struct vs_error *err, int *ret_status)
{
        _cleanup_close_ int child_fd = -1;
        struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
        struct termios saved;
        sigset_t mask, old_mask;
        bool raw = false;
        pid_t child;
        int r, status;

        /* Blocked before the fork, so none is lost; the trampoline's child
         * unblocks them for the command. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGWINCH);
        sigprocmask(SIG_BLOCK, &mask, &old_mask);
        fflush(NULL);
        /* As posix_spawn() does: the child shares our memory, and we wait
         * until it has executed the trampoline. No page table to copy, no
         * copy-on-write faults: a fork doubled the cost of vs-enter. All the
         * child changes of its own (namespaces, limits, capabilities,
         * filter, working directory) is per task, not per memory. */
        e->relay = getpid();
        {
                struct child_args a = { e, io };
                size_t size = 256 * 1024;
                void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);

                if (stack == MAP_FAILED)
                        child = -1;
                else {
                        child = clone(child_main, (char *)stack + size, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
                        r = errno;
                        munmap(stack, size);
                        errno = r;
                }
        }
        if (child < 0) {
                r = -errno;
                sigprocmask(SIG_SETMASK, &old_mask, NULL);
                return vs_error_set(err, r, "Cannot fork: %s", strerror(errno));
        }
        /* Only the command holds its ends: its exit closes them. */
        for (int i = 0; i < 3; i++)
                if (io->child[i] != io->slave)
                        close(io->child[i]);
        io->child[0] = io->child[1] = io->child[2] = -1;
        if (io->slave >= 0)
                close(io->slave);
        io->slave = -1;
        child_fd = vs_pidfd_open(child);
        sigaction(SIGPIPE, &ign, &old_pipe);
        if (io->relay.in.pty)
                raw = vs_tty_raw(STDIN_FILENO, &saved) == 0;
        io->relay.exit_fd = child_fd;
        io->relay.forward_to = child;
        r = child_fd < 0 ? -errno : vs_relay_streams(&io->relay);
        if (r < 0)
                /* Without the relay the command cannot go on. */
                kill(child, SIGKILL);
        if (raw)
                vs_tty_restore(STDIN_FILENO, &saved);
        sigaction(SIGPIPE, &old_pipe, NULL);
        while (waitpid(child, &status, 0) < 0)
                if (errno != EINTR) {
                        r = -errno;
                        sigprocmask(SIG_SETMASK, &old_mask, NULL);
                        return vs_error_set(err, r, "Lost the command in \"%s\": %s", e->name, strerror(errno));
                }
        sigprocmask(SIG_SETMASK, &old_mask, NULL);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot relay for the command in \"%s\": %s", e->name, strerror(-r));
        }
        *ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return 0;
}

static int not_running(const char *name, struct vs_error *err)
{
        _cleanup_free_ char *conf = vs_conf_path(name);

        if (conf && access(conf, F_OK) < 0 && errno == ENOENT) {
                return vs_error_set(err, ENOENT, "No such guest \"%s\" (no %s)", name, conf);
        }
        return vs_error_set(err, ESRCH, "Guest \"%s\" is not running", name);
}

static void enter_done(struct enter *e)
{
        if (e->pidfd >= 0)
                close(e->pidfd);
        if (e->v2fd >= 0)
                close(e->v2fd);
        free(e->bpf);
}

/* A closed 0, 1 or 2 reads as /dev/null: no fd made below may take
 * its number. */
static int reserve_std_fds(void)
{
        for (int fd = 0; fd < 3; fd++)
                if (fcntl(fd, F_GETFD) < 0 && errno == EBADF && open("/dev/null", O_RDWR) != fd)
                        return -EBADF;
        return 0;
}

/* The guest's init from its run state @st, pinned by a pidfd, with what a
 * process that enters takes from it: MEMLOCK limit, bounding set, filter. */
static int read_init(struct enter *e, struct vs_state *st, struct vs_error *err)
{
        int r, seccomp_mode = 0;

        if (vs_state_read(e->name, st) < 0 || !vs_pid_alive(st->supervisor_pid, st->supervisor_starttime))
                return not_running(e->name, err);
        /* A pidfd pins the process; checking the start time after opening it
         * proves it is still the guest's init and not a reused pid. */
        e->pidfd = vs_pidfd_open_started(st->init_pid, st->init_starttime);
        if (e->pidfd < 0)
                return not_running(e->name, err);
        e->init_pid = st->init_pid;
        e->have_memlock = read_memlock(st->init_pid, &e->memlock) == 0;
        /* init holds the guest's bounding set and filter, which it cannot
         * shed: a process that enters gets the same. */
        r = vs_caps_read_bounding(st->init_pid, &e->bounding);
        if (r >= 0)
                r = vs_seccomp_read_mode(st->init_pid, &seccomp_mode);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot read the capabilities and seccomp mode of the guest's init: %s",
                                    strerror(-r));
        }
        if (seccomp_mode) {
                _cleanup_free_ char *rundir = vs_run_path(e->name);
                _cleanup_free_ char *path = rundir ? vs_strdupf("%s/" VS_SECCOMP_FILE, rundir) : NULL;
                /* Saved by vs-start; without it, no entry (fail closed). */
                r = path ? vs_read_file(path, &e->bpf, &e->bpf_len) : -ENOMEM;
                if (r < 0) {
                        return vs_error_set(err, r, "Cannot read the guest's seccomp filter %s: %s", path ? path : "",
                                            strerror(-r));
                }
        }
        return 0;
}

/* Nothing of this process may be read or traced: set before any setns. */
static int make_undumpable(struct vs_error *err)
{
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
                int r = -errno;
                return vs_error_set(err, r, "Cannot make vs-enter non-dumpable: %s", strerror(errno));
        }
        return 0;
}

static int join_guest_cgroups(struct enter *e, struct vs_state *st, struct vs_error *err)
{
        int r = join_cgroups(e, st->init_pid, st->cgroups, st->controllers);

        if (r < 0)
                vs_error_set(err, r, "Cannot join the cgroups of \"%s\": %s", e->name, strerror(-r));
        return r;
}

/* The pipes of fds 0-2 are ours: made the guest root's, the command can
 * open them again (/dev/stdin is /proc/self/fd/0), as in a privileged
 * guest. */
static int hand_pipes_to_guest(const struct enter *e, const struct enter_io *io, struct vs_error *err)
{
        struct stat init_st;
        char proc_pid[32];
        int r;

        snprintf(proc_pid, sizeof(proc_pid), "/proc/%d", (int)e->init_pid);
        if (stat(proc_pid, &init_st) < 0) {
                r = -errno;
                return vs_error_set(err, r, "Cannot read the owner of %s: %s", proc_pid, strerror(errno));
        }
        for (int i = 0; i < 3; i++)
                if (io->child[i] >= 0 && io->child[i] != io->slave &&
                    fchown(io->child[i], init_st.st_uid, init_st.st_gid) < 0) {
                        r = -errno;
                        return vs_error_set(err, r, "Cannot hand fd %d's pipe to the guest: %s", i, strerror(errno));
                }
        return 0;
}

/* Done while this process has the host's privileges, which the guest's
 * user namespace takes away: the move into the v2 group (a clone into it
 * from inside would need the guest's ids on the host's groups above it),
 * and the MEMLOCK limit, which may be above ours. */
static int prepare_userns(struct enter *e, const struct enter_io *io, struct vs_error *err)
{
        struct rlimit no_rt = { 0, 0 };
        int r;

        if (e->v2fd >= 0) {
                r = vs_write_file_at(e->v2fd, "cgroup.procs", "0\n");
                if (r < 0) {
                        return vs_error_set(err, r, "Cannot join the cgroup of \"%s\": %s", e->name, strerror(-r));
                }
                close(e->v2fd);
                e->v2fd = -1;
        }
        if (e->have_memlock && setrlimit(RLIMIT_MEMLOCK, &e->memlock) < 0) {
                r = -errno;
                return vs_error_set(err, r, "Cannot take the guest's RLIMIT_MEMLOCK: %s", strerror(errno));
        }
        r = hand_pipes_to_guest(e, io, err);
        if (r < 0)
                return r;
        /* As for the guest's init (start-userns.c): not the
         * caller's RTPRIO limit, none. */
        if (setrlimit(RLIMIT_RTPRIO, &no_rt) < 0) {
                r = -errno;
                return vs_error_set(err, r, "Cannot drop RLIMIT_RTPRIO: %s", strerror(errno));
        }
        return 0;
}

/* The PID namespace is joined last (by the command's process), the
 * cgroup namespace by the trampoline's child: a clone into the
 * guest's v2 group must come from outside the guest's cgroup
 * namespace. An unprivileged guest's user namespace comes in the
 * same call: the kernel joins it first, and it owns the others. It
 * is joined here, not by the command's process alone, because a
 * process that shares its memory (the CLONE_VM child) cannot change
 * user namespace; the relay that stays here is non-dumpable, with
 * memory of the host's, and outside the guest's PID namespace. */
static int join_namespaces(const struct enter *e, struct vs_error *err)
{
        int r;

        if (setns(e->pidfd,
                  CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | (e->userns ? CLONE_NEWUSER : 0)) < 0) {
                r = -errno;
                return vs_error_set(err, r, "Cannot join the namespaces of \"%s\": %s", e->name, strerror(errno));
        }
        /* Host uid 0 means nothing in there: become the guest's root. */
        if (e->userns && (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
                r = -errno;
                return vs_error_set(err, r, "Cannot take the root ids of \"%s\": %s", e->name, strerror(errno));
        }
        return 0;
}

int vs_guest_enter(const char *name, char **argv, struct vs_error *err, int *ret_status)
{
        _cleanup_(enter_done) struct enter e = { .name = name, .argv = argv, .pidfd = -1, .v2fd = -1 };
        _cleanup_(enter_io_close) struct enter_io io = { .child = { -1, -1, -1 }, .slave = -1 };
        struct vs_state st = { 0 };
        int r;

        io.relay = (struct vs_streams){ .in = { -1, -1, false }, .exit_fd = -1 };
        for (int i = 0; i < VS_STREAMS_OUT; i++)
                io.relay.out[i] = (struct vs_stream){ -1, -1, false };
        r = vs_check_name(name, err);
        if (r < 0)
                return r;
        r = reserve_std_fds();
        if (r < 0)
                return r;
        /* The run state is read once and dropped after the cgroups are
         * joined: the phases up to there read it. */
        r = read_init(&e, &st, err);
        if (r == 0)
                r = make_undumpable(err);
        /* Before any setns: the pty comes through the host's run directory
         * and /proc. */
        if (r == 0)
                r = open_io(name, &io, err);
        if (r == 0)
                r = join_guest_cgroups(&e, &st, err);
        vs_state_clear(&st);
        if (r < 0)
                return r;
        e.userns = vs_pid_in_other_userns(e.init_pid);
        if (e.userns) {
                r = prepare_userns(&e, &io, err);
                if (r < 0)
                        return r;
        }
        r = join_namespaces(&e, err);
        if (r < 0)
                return r;
        return enter_relayed(&e, &io, err, ret_status);
}
