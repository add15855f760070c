/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Running a program to its end: fork, exec, wait, and the exit status
 * said in a struct vs_error naming the program. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "command.h"
#include "idmap.h"

int vs_run_command(char *const argv[], int out_fd, struct vs_error *err)
{
        return vs_run_command_ok(argv, out_fd, 0, err);
}

int vs_run_command_ok(char *const argv[], int out_fd, int max_ok, struct vs_error *err)
{
        return vs_run_command_io(argv, -1, out_fd, max_ok, err);
}

/* With @count, the program runs as root of a user namespace of its own
 * whose ids 0..@count-1 are host ids @host..: it sees a tree shifted to
 * @host as their owner does. It starts in @dir (entered before, while the host's
 * directories above are still ours to pass). */
static int run(char *const argv[], int in_fd, int out_fd, int max_ok, const char *dir, uint64_t host,
               uint64_t count, struct vs_error *err)
{
        _cleanup_close_pair_ int sync_go[2] = { -1, -1 }, sync_ready[2] = { -1, -1 };
        int status, r = 0;
        char c = 0;
        pid_t pid;

        if (count && (pipe2(sync_go, O_CLOEXEC) < 0 || pipe2(sync_ready, O_CLOEXEC) < 0))
                return vs_error_set(err, errno, "Cannot run %s: %s", argv[0], strerror(errno));
        fflush(NULL);
        pid = fork();
        if (pid < 0)
                return vs_error_set(err, errno, "Cannot run %s: %s", argv[0], strerror(errno));
        if (pid == 0) {
                if (in_fd >= 0 && in_fd != 0 && dup2(in_fd, 0) < 0)
                        _exit(127);
                if (out_fd >= 0 && out_fd != 1)
                        dup2(out_fd, 1);
                signal(SIGPIPE, SIG_DFL);
                if (dir && chdir(dir) < 0) {
                        fprintf(stderr, "Cannot enter %s: %m\n", dir);
                        _exit(127);
                }
                if (count) {
                        if (unshare(CLONE_NEWUSER) < 0 || write(sync_ready[1], "u", 1) != 1 ||
                            read(sync_go[0], &c, 1) != 1 || c != 'g' || setgroups(0, NULL) < 0 ||
                            setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
                                fprintf(stderr, "Cannot take the guest's ids for %s: %m\n", argv[0]);
                                _exit(127);
                        }
                }
                execvp(argv[0], argv);
                fprintf(stderr, "Cannot execute %s: %m\n", argv[0]);
                _exit(127);
        }
        if (count) {
                close(sync_ready[1]);
                sync_ready[1] = -1;
                if (read(sync_ready[0], &c, 1) != 1)
                        r = -ECHILD;
                if (r == 0)
                        r = vs_idmap_write_maps(pid, host, count);
                if (r == 0 && write(sync_go[1], "g", 1) != 1)
                        r = -errno;
                close(sync_go[1]);
                sync_go[1] = -1;
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (r < 0)
                return vs_error_set(err, r, "Cannot map the guest's ids for %s: %s", argv[0], strerror(-r));
        if (WIFEXITED(status) && WEXITSTATUS(status) <= max_ok)
                return 0;
        if (WIFEXITED(status))
                return vs_error_set(err, EIO, "%s failed (exit status %d; see its messages above)", argv[0],
                                    WEXITSTATUS(status));
        return vs_error_set(err, EIO, "%s was killed by signal %d", argv[0], WTERMSIG(status));
}

int vs_run_command_io(char *const argv[], int in_fd, int out_fd, int max_ok, struct vs_error *err)
{
        return run(argv, in_fd, out_fd, max_ok, NULL, 0, 0, err);
}

int vs_run_command_mapped(char *const argv[], int out_fd, int max_ok, const char *dir, uint64_t host, uint64_t count,
                          struct vs_error *err)
{
        return run(argv, -1, out_fd, max_ok, dir, host, count, err);
}
