/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vs-enter: run a command inside a running guest.
 *
 * This process does the work from its file on the host but never appears in
 * the guest's PID namespace: it joins the guest's cgroups (v1) and
 * namespaces (for the PID namespace: its children's), takes on the guest's
 * limits and seccomp filter, then executes the sealed trampoline
 * (lib/trampoline.c), which forks the command's process straight into the
 * guest's cgroup v2 group, joins the guest's cgroup namespace there, drops
 * the capabilities the guest lacks and executes the command. With a
 * terminal, a relay process of ours stays outside and copies between the
 * caller's terminal and a pty of the guest's.
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "caps.h"
#include "cleanup.h"
#include "exe.h"
#include "paths.h"
#include "pty.h"
#include "seccomp-filter.h"
#include "state.h"
#include "util.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

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

/* True when @pid (the guest's init, pinned by a pidfd) lives in a user
 * namespace other than ours: an unprivileged guest. */
static bool in_own_userns(pid_t pid)
{
        char p[48];
        struct stat a, b;

        snprintf(p, sizeof(p), "/proc/%d/ns/user", (int)pid);
        return stat(p, &a) == 0 && stat("/proc/self/ns/user", &b) == 0 && (a.st_ino != b.st_ino || a.st_dev != b.st_dev);
}

static __attribute__((noreturn)) void cmd_error(const char *cmd, int error)
{
        fprintf(stderr, "vs-enter: cannot execute \"%s\" in the guest: %s\n", cmd, strerror(error));
        fflush(stderr);
        _exit(error == ENOENT ? 127 : 126);
}

/* The program to execute for @cmd, searched in the guest's PATH (we are in
 * its mount namespace) the way execvp() would. */
static char *find_program(const char *cmd)
{
        _cleanup_free_ char *dirs = NULL;
        int error = ENOENT;

        if (!*cmd)
                cmd_error(cmd, ENOENT);
        if (strchr(cmd, '/'))
                return strdup(cmd);
        dirs = strdup(GUEST_PATH);
        if (!dirs)
                cmd_error(cmd, ENOMEM);
        for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                char *p = vs_strdupf("%s/%s", d, cmd);
                if (!p)
                        cmd_error(cmd, ENOMEM);
                if (access(p, X_OK) == 0)
                        return p;
                if (errno == EACCES)
                        error = EACCES;
                free(p);
        }
        cmd_error(cmd, error);
}

static void clear_cloexec(int fd)
{
        int fl = fd >= 0 ? fcntl(fd, F_GETFD) : -1;
        if (fl >= 0)
                fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
}

/* The last step, in the process whose children join the guest: takes on
 * the guest's limits and filter and executes the trampoline. Returns only
 * on failure, -errno with @err set. */
static int exec_trampoline(struct enter *e, int tty_fd, struct vs_error *err)
{
        _cleanup_free_ char *program = NULL;
        _cleanup_close_ int tramp = -1;
        const char *term = getenv("TERM");
        char hex[24], v2[16], pid[16], tty[16], termvar[80];
        char *env[8];
        char **args;
        size_t n = 0, argc = 0;
        int r;

        if (setns(e->pidfd, CLONE_NEWPID) < 0) {
                r = -errno;
                vs_error_set(err, "Cannot join the PID namespace of \"%s\": %s", e->name, strerror(errno));
                return r;
        }
        if (chdir("/root") < 0)
                (void)!chdir("/");
        if (e->argv && e->argv[0]) {
                program = find_program(e->argv[0]);
        } else {
                program = strdup(access("/bin/bash", X_OK) == 0 ? "/bin/bash" : "/bin/sh");
                if (program && access(program, X_OK) < 0) {
                        fprintf(stderr, "vs-enter: the guest has no /bin/bash or /bin/sh\n");
                        _exit(127);
                }
        }
        if (!program)
                return -ENOMEM;

        env[n++] = "PATH=" GUEST_PATH;
        env[n++] = "HOME=/root";
        env[n++] = "USER=root";
        env[n++] = "LOGNAME=root";
        env[n++] = "container=vserver";
        if (term && strlen(term) < 64) {
                snprintf(termvar, sizeof(termvar), "TERM=%s", term);
                env[n++] = termvar;
        }
        env[n] = NULL;

        for (char **a = e->argv; a && *a; a++)
                argc++;
        args = calloc(argc + 9, sizeof(char *));
        if (!args)
                return -ENOMEM;
        snprintf(v2, sizeof(v2), "%d", e->v2fd);
        snprintf(pid, sizeof(pid), "%d", e->pidfd);
        snprintf(hex, sizeof(hex), "%llx", (unsigned long long)e->bounding);
        snprintf(tty, sizeof(tty), "%d", tty_fd);
        n = 0;
        args[n++] = NULL; /* the trampoline's name */
        args[n++] = (char *)"enter";
        args[n++] = v2;
        args[n++] = pid;
        args[n++] = hex;
        args[n++] = tty;
        args[n++] = program;
        if (argc) {
                for (size_t i = 0; i < argc; i++)
                        args[n++] = e->argv[i];
        } else {
                args[n++] = (char *)(strcmp(program, "/bin/bash") == 0 ? "-bash" : "-sh");
        }
        args[n] = NULL;

        tramp = vs_trampoline_open();
        if (tramp < 0) {
                vs_error_set(err, "Cannot create the exec trampoline: %s", strerror(-tramp));
                return tramp;
        }
        /* The guest's MEMLOCK limit holds for every process in it. */
        if (e->have_memlock && setrlimit(RLIMIT_MEMLOCK, &e->memlock) < 0) {
                r = -errno;
                vs_error_set(err, "Cannot take the guest's RLIMIT_MEMLOCK: %s", strerror(errno));
                return r;
        }
        /* The guest's bounding set, plus what the trampoline's child still
         * needs before its exec: CAP_SYS_ADMIN to join the cgroup namespace,
         * CAP_SETPCAP to drop those two then. */
        r = vs_caps_limit_bounding(e->bounding | UINT64_C(1) << CAP_SYS_ADMIN | UINT64_C(1) << CAP_SETPCAP);
        if (r < 0) {
                vs_error_set(err, "Cannot limit capabilities: %s", strerror(-r));
                return r;
        }
        /* The filter of the guest's init, loaded while CAP_SYS_ADMIN is
         * effective (no no_new_privs: setuid programs inside keep working).
         * It allows everything the trampoline does. */
        if (e->bpf) {
                r = vs_seccomp_load_bpf(e->bpf, e->bpf_len);
                if (r < 0) {
                        vs_error_set(err, "Cannot load the guest's seccomp filter: %s", strerror(-r));
                        return r;
                }
        }
        clear_cloexec(e->v2fd);
        clear_cloexec(e->pidfd);
        clear_cloexec(tty_fd);
        fflush(NULL);
        r = vs_trampoline_exec(tramp, args, env);
        free(args);
        vs_error_set(err, "Cannot execute the exec trampoline: %s", strerror(-r));
        return r;
}

/* With a terminal: the command runs on a new pty of the guest (from its own
 * devpts: nothing inside can reach the caller's terminal through it) and we
 * relay between the two. */
static int enter_tty(struct enter *e, struct vs_error *err, int *ret_status)
{
        _cleanup_close_ int master = -1, child_fd = -1;
        _cleanup_free_ char *slave = NULL;
        struct termios saved;
        bool raw;
        pid_t child;
        int r, status;

        r = vs_pty_open(&master, &slave);
        if (r < 0) {
                vs_error_set(err, "Cannot allocate a pty in \"%s\": %s", e->name, strerror(-r));
                return r;
        }
        vs_tty_copy_winsize(STDIN_FILENO, master);
        fflush(NULL);
        child = fork();
        if (child < 0) {
                r = -errno;
                vs_error_set(err, "Cannot fork: %s", strerror(errno));
                return r;
        }
        if (child == 0) {
                struct vs_error cerr = { { 0 } };
                int fd;

                close(master);
                fd = open(slave, O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (fd < 0) {
                        fprintf(stderr, "vs-enter: cannot open the guest's pty %s: %m\n", slave);
                        _exit(126);
                }
                exec_trampoline(e, fd, &cerr);
                fprintf(stderr, "vs-enter: %s\n", cerr.msg);
                _exit(126);
        }
        child_fd = (int)syscall(SYS_pidfd_open, child, 0);
        raw = vs_tty_raw(STDIN_FILENO, &saved) == 0;
        struct vs_relay rl = { .in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO, .peer_fd = master,
                               .exit_fd = child_fd, .escape_char = -1, .winch_tty = master };
        vs_relay_run(&rl);
        if (raw)
                vs_tty_restore(STDIN_FILENO, &saved);
        while (waitpid(child, &status, 0) < 0)
                if (errno != EINTR) {
                        r = -errno;
                        vs_error_set(err, "Lost the command in \"%s\": %s", e->name, strerror(errno));
                        return r;
                }
        *ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return 0;
}

static int not_running(const char *name, struct vs_error *err)
{
        _cleanup_free_ char *conf = vs_conf_path(name);

        if (conf && access(conf, F_OK) < 0 && errno == ENOENT) {
                vs_error_set(err, "No such guest \"%s\" (no %s)", name, conf);
                return -ENOENT;
        }
        vs_error_set(err, "Guest \"%s\" is not running", name);
        return -ESRCH;
}

int vs_guest_enter(const char *name, char **argv, struct vs_error *err, int *ret_status)
{
        _cleanup_close_ int pidfd = -1, v2fd = -1;
        _cleanup_free_ char *bpf = NULL;
        struct enter e = { .name = name, .argv = argv, .pidfd = -1, .v2fd = -1 };
        struct vs_state st = { 0 };
        int r, seccomp_mode = 0;
        pid_t st_init_pid;
        bool userns;

        r = vs_check_name(name, err);
        if (r < 0)
                return r;
        if (vs_state_read(name, &st) < 0 || !vs_pid_alive(st.supervisor_pid, st.supervisor_starttime)) {
                vs_state_clear(&st);
                return not_running(name, err);
        }
        /* A pidfd pins the process; checking the start time after opening it
         * proves it is still the guest's init and not a reused pid. */
        pidfd = (int)syscall(SYS_pidfd_open, st.init_pid, 0);
        if (pidfd < 0 || !vs_pid_alive(st.init_pid, st.init_starttime)) {
                vs_state_clear(&st);
                return not_running(name, err);
        }
        e.pidfd = pidfd;
        e.have_memlock = prlimit(st.init_pid, RLIMIT_MEMLOCK, NULL, &e.memlock) == 0;
        /* init holds the guest's bounding set and filter, which it cannot
         * shed: a process that enters gets the same. */
        r = vs_caps_read_bounding(st.init_pid, &e.bounding);
        if (r >= 0)
                r = vs_seccomp_read_mode(st.init_pid, &seccomp_mode);
        if (r < 0) {
                vs_state_clear(&st);
                vs_error_set(err, "Cannot read the capabilities and seccomp mode of the guest's init: %s",
                             strerror(-r));
                return r;
        }
        if (seccomp_mode) {
                _cleanup_free_ char *rundir = vs_run_path(name);
                _cleanup_free_ char *path = rundir ? vs_strdupf("%s/" VS_SECCOMP_FILE, rundir) : NULL;
                /* Saved by vs-start; without it, no entry (fail closed). */
                r = path ? vs_read_file(path, &bpf, &e.bpf_len) : -ENOMEM;
                if (r < 0) {
                        vs_state_clear(&st);
                        vs_error_set(err, "Cannot read the guest's seccomp filter %s: %s", path ? path : "",
                                     strerror(-r));
                        return r;
                }
                e.bpf = bpf;
        }
        /* Nothing of this process may be read or traced: set before any
         * setns. */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
                r = -errno;
                vs_state_clear(&st);
                vs_error_set(err, "Cannot make vs-enter non-dumpable: %s", strerror(errno));
                return r;
        }
        st_init_pid = st.init_pid;
        r = join_cgroups(&e, st.init_pid, st.cgroups, st.controllers);
        v2fd = e.v2fd;
        vs_state_clear(&st);
        if (r < 0) {
                vs_error_set(err, "Cannot join the cgroups of \"%s\": %s", name, strerror(-r));
                return r;
        }
        userns = in_own_userns(st_init_pid);
        if (userns) {
                /* Done while this process has the host's privileges, which
                 * the guest's user namespace takes away: the move into the
                 * v2 group (a clone into it from inside would need the
                 * guest's ids on the host's groups above it), and the
                 * MEMLOCK limit, which may be above ours. */
                if (e.v2fd >= 0) {
                        r = vs_write_file_at(e.v2fd, "cgroup.procs", "0\n");
                        if (r < 0) {
                                vs_error_set(err, "Cannot join the cgroup of \"%s\": %s", name, strerror(-r));
                                return r;
                        }
                        close(e.v2fd);
                        e.v2fd = v2fd = -1;
                }
                if (e.have_memlock && setrlimit(RLIMIT_MEMLOCK, &e.memlock) < 0) {
                        r = -errno;
                        vs_error_set(err, "Cannot take the guest's RLIMIT_MEMLOCK: %s", strerror(errno));
                        return r;
                }
        }
        /* The PID namespace is joined last (exec_trampoline), the cgroup
         * namespace by the trampoline's child: a clone into the guest's v2
         * group must come from outside the guest's cgroup namespace. An
         * unprivileged guest's user namespace comes in the same call: the
         * kernel joins it first, and it owns the others. */
        if (setns(pidfd, CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | (userns ? CLONE_NEWUSER : 0)) <
            0) {
                r = -errno;
                vs_error_set(err, "Cannot join the namespaces of \"%s\": %s", name, strerror(errno));
                return r;
        }
        /* Host uid 0 means nothing in there: become the guest's root. */
        if (userns && (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
                r = -errno;
                vs_error_set(err, "Cannot take the root ids of \"%s\": %s", name, strerror(errno));
                return r;
        }
        if (isatty(STDIN_FILENO))
                return enter_tty(&e, err, ret_status);
        return exec_trampoline(&e, -1, err);
}
