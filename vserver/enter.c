/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "caps.h"
#include "cleanup.h"
#include "clone.h"
#include "paths.h"
#include "pty.h"
#include "seccomp-filter.h"
#include "state.h"
#include "util.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

static pid_t child_pid = -1;

static void forward_signal(int sig)
{
        if (child_pid > 0)
                kill(child_pid, sig);
}

/* Moves the caller into the groups the guest's init is in, one per
 * hierarchy, refusing any path outside the guest's own groups. The cgroup
 * v2 group is only opened, into @ret_v2fd (-1: none): a migration there
 * costs an RCU grace period, cloning the child into it costs nothing. */
static int join_cgroups(const char *name, pid_t init_pid, char **guest_paths, int *ret_v2fd)
{
        _cleanup_cgroup_ struct vs_cgroup *cg = NULL;
        int r = vs_cgroup_detect(name, "vservers", NULL, NULL, &cg);

        if (r < 0)
                return r;
        for (size_t i = 0; i < cg->n_hier; i++) {
                _cleanup_free_ char *p = NULL;
                bool inside = false;

                if (vs_cgroup_pid_path(init_pid, &cg->hier[i], &p) < 0)
                        continue;
                for (char **g = guest_paths; g && *g && !inside; g++) {
                        size_t l = strlen(*g);
                        inside = strncmp(p, *g, l) == 0 && (p[l] == '\0' || p[l] == '/');
                }
                if (!inside)
                        continue;
                if (cg->hier[i].v2 && *ret_v2fd < 0) {
                        *ret_v2fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (*ret_v2fd >= 0)
                                continue;
                }
                r = vs_cgroup_attach_self_path(p);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void exec_in_guest(char **argv, bool tty, const char *slave, uint64_t bounding, const struct rlimit *memlock,
                          bool seccomp, const void *bpf, size_t bpf_len) __attribute__((noreturn));
static void exec_in_guest(char **argv, bool tty, const char *slave, uint64_t bounding, const struct rlimit *memlock,
                          bool seccomp, const void *bpf, size_t bpf_len)
{
        const char *term = getenv("TERM");
        char *env[8];
        int n = 0;

        /* This process is already in the guest's PID namespace: drop every
         * host fd but stdio first (the pidfd, the pty master); in a terminal,
         * stdio (the caller's terminal) is replaced by the guest's pty next. */
        vs_close_all_fds(3, -1);
        if (tty) {
                int fd;
                setsid();
                fd = open(slave, O_RDWR);
                if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) < 0) {
                        fprintf(stderr, "vs-enter: cannot open the guest's pty %s: %m\n", slave);
                        _exit(126);
                }
                dup2(fd, 0);
                dup2(fd, 1);
                dup2(fd, 2);
        }
        vs_close_all_fds(3, -1);
        /* The guest's MEMLOCK limit holds for every process in it. */
        if (memlock && setrlimit(RLIMIT_MEMLOCK, memlock) < 0) {
                fprintf(stderr, "vs-enter: cannot take the guest's RLIMIT_MEMLOCK: %m\n");
                _exit(126);
        }
        if (vs_caps_limit_bounding(bounding) < 0) {
                fprintf(stderr, "vs-enter: cannot limit capabilities: %m\n");
                _exit(126);
        }
        /* The same filter as the guest's init, loaded last and while
         * CAP_SYS_ADMIN is still effective (no no_new_privs needed). */
        if (seccomp) {
                /* The program the guest's init got, saved by vs-start; a
                 * guest started without it gets the filter compiled anew. */
                int r = bpf ? vs_seccomp_load_bpf(bpf, bpf_len) : vs_seccomp_load_default();
                if (r < 0) {
                        fprintf(stderr, "vs-enter: cannot load the guest's seccomp filter: %s\n", strerror(-r));
                        _exit(126);
                }
        }
        env[n++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        env[n++] = "HOME=/root";
        env[n++] = "USER=root";
        env[n++] = "LOGNAME=root";
        env[n++] = "container=vserver";
        if (term && strlen(term) < 64) {
                static char t[80];
                snprintf(t, sizeof(t), "TERM=%s", term);
                env[n++] = t;
        }
        env[n] = NULL;
        clearenv();
        for (int i = 0; env[i]; i++)
                putenv(env[i]);
        if (chdir("/root") < 0)
                (void)!chdir("/");
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        if (argv && argv[0]) {
                execvp(argv[0], argv);
                fprintf(stderr, "vs-enter: cannot execute \"%s\" in the guest: %m\n", argv[0]);
                _exit(errno == ENOENT ? 127 : 126);
        }
        execl("/bin/bash", "-bash", (char *)NULL);
        execl("/bin/sh", "-sh", (char *)NULL);
        fprintf(stderr, "vs-enter: the guest has no /bin/bash or /bin/sh\n");
        _exit(127);
}

int vs_guest_enter(const char *name, char **argv, struct vs_error *err, int *ret_status)
{
        _cleanup_close_ int pidfd = -1, master = -1, child_fd = -1, v2fd = -1;
        _cleanup_free_ char *slave = NULL;
        struct vs_guest_info info = { 0 };
        struct vs_state st = { 0 };
        struct termios saved;
        bool tty = isatty(STDIN_FILENO), raw = false;
        uint64_t bounding;
        struct rlimit memlock;
        bool have_memlock;
        int r, status, seccomp_mode = 0;
        _cleanup_free_ char *bpf = NULL;
        size_t bpf_len = 0;

        r = vs_guest_info(name, &info, err);
        if (r < 0)
                return r;
        if (info.state != VS_GUEST_RUNNING) {
                vs_error_set(err, "Guest \"%s\" is not running", name);
                vs_guest_info_clear(&info);
                return -ESRCH;
        }
        vs_guest_info_clear(&info);
        r = vs_state_read(name, &st);
        if (r < 0) {
                vs_error_set(err, "Guest \"%s\" is not running", name);
                return -ESRCH;
        }
        /* A pidfd pins the process; checking the start time after opening it
         * proves it is still the guest's init and not a reused pid. */
        pidfd = (int)syscall(SYS_pidfd_open, st.init_pid, 0);
        if (pidfd < 0 || !vs_pid_alive(st.init_pid, st.init_starttime)) {
                vs_state_clear(&st);
                vs_error_set(err, "Guest \"%s\" is not running", name);
                return -ESRCH;
        }
        have_memlock = prlimit(st.init_pid, RLIMIT_MEMLOCK, NULL, &memlock) == 0;
        r = vs_caps_read_bounding(st.init_pid, &bounding);
        if (r < 0) {
                vs_state_clear(&st);
                vs_error_set(err, "Cannot read the capabilities of the guest's init: %s", strerror(-r));
                return r;
        }
        /* init holds the guest's filter, which it cannot shed: a process
         * that enters gets the same one. */
        r = vs_seccomp_read_mode(st.init_pid, &seccomp_mode);
        if (r < 0) {
                vs_state_clear(&st);
                vs_error_set(err, "Cannot read the seccomp mode of the guest's init: %s", strerror(-r));
                return r;
        }
        if (seccomp_mode) {
                _cleanup_free_ char *rundir = vs_run_path(name);
                _cleanup_free_ char *path = rundir ? vs_strdupf("%s/" VS_SECCOMP_FILE, rundir) : NULL;
                if (path && vs_read_file(path, &bpf, &bpf_len) < 0)
                        bpf = NULL;
        }
        /* Nothing of this process may be read or traced from inside the
         * guest: set before any setns, inherited by the child until exec. */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
                r = -errno;
                vs_state_clear(&st);
                vs_error_set(err, "Cannot make vs-enter non-dumpable: %s", strerror(errno));
                return r;
        }
        r = join_cgroups(name, st.init_pid, st.cgroups, &v2fd);
        vs_state_clear(&st);
        if (r < 0) {
                vs_error_set(err, "Cannot join the cgroups of \"%s\": %s", name, strerror(-r));
                return r;
        }
        /* The cgroup namespace is the child's to join: a clone into the
         * guest's v2 group must come from outside the guest's namespace,
         * where our own group is still visible. */
        if (setns(pidfd, CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET) < 0) {
                r = -errno;
                vs_error_set(err, "Cannot join the namespaces of \"%s\": %s", name, strerror(errno));
                return r;
        }
        if (tty) {
                /* The pty comes from the guest's own devpts: nothing inside
                 * can reach the caller's terminal through it. */
                r = vs_pty_open(&master, &slave);
                if (r < 0) {
                        vs_error_set(err, "Cannot allocate a pty in \"%s\": %s", name, strerror(-r));
                        return r;
                }
                vs_tty_copy_winsize(STDIN_FILENO, master);
        }
        fflush(NULL);
        child_pid = v2fd >= 0 ? vs_clone_into(0, v2fd) : fork();
        if (child_pid < 0 && v2fd >= 0 && errno == EOPNOTSUPP) {
                /* No clone into a cgroup here: move ourselves, then fork. */
                r = vs_write_file_at(v2fd, "cgroup.procs", "0\n");
                if (r < 0) {
                        vs_error_set(err, "Cannot join the cgroup of \"%s\": %s", name, strerror(-r));
                        return r;
                }
                child_pid = fork();
        }
        if (child_pid < 0) {
                r = -errno;
                vs_error_set(err, "Cannot fork: %s", strerror(errno));
                return r;
        }
        if (child_pid == 0) {
                if (setns(pidfd, CLONE_NEWCGROUP) < 0) {
                        fprintf(stderr, "vs-enter: Cannot join the cgroup namespace of \"%s\": %m\n", name);
                        _exit(126);
                }
                exec_in_guest(argv, tty, slave, bounding, have_memlock ? &memlock : NULL, seccomp_mode != 0, bpf,
                              bpf_len);
        }

        if (tty) {
                child_fd = (int)syscall(SYS_pidfd_open, child_pid, 0);
                raw = vs_tty_raw(STDIN_FILENO, &saved) == 0;
                struct vs_relay rl = { .in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO, .peer_fd = master,
                                       .exit_fd = child_fd, .escape_char = -1, .winch_tty = master };
                vs_relay_run(&rl);
                if (raw)
                        vs_tty_restore(STDIN_FILENO, &saved);
        } else {
                struct sigaction sa = { .sa_handler = forward_signal };
                sigaction(SIGINT, &sa, NULL);
                sigaction(SIGTERM, &sa, NULL);
                sigaction(SIGHUP, &sa, NULL);
        }
        while (waitpid(child_pid, &status, 0) < 0)
                if (errno != EINTR) {
                        r = -errno;
                        vs_error_set(err, "Lost the command in \"%s\": %s", name, strerror(errno));
                        return r;
                }
        *ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return 0;
}
