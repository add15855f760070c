/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clone.h"

pid_t vs_clone_into(unsigned long flags, int cgroup_fd)
{
        struct clone_args args;
        long pid;

        if (cgroup_fd >= 0) {
                memset(&args, 0, sizeof(args));
                args.flags = flags | CLONE_INTO_CGROUP;
                args.exit_signal = SIGCHLD;
                args.cgroup = (uint64_t)cgroup_fd;
                pid = syscall(SYS_clone3, &args, sizeof(args));
                if (pid >= 0 || (errno != ENOSYS && errno != E2BIG && errno != EINVAL))
                        return (pid_t)pid;
                errno = EOPNOTSUPP;
                return -1;
        }
        /* A raw clone without a new stack behaves like fork(): the child
         * gets its own copy of our memory. */
        return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

pid_t vs_fork_pipe(int ret_pipe[2])
{
        pid_t pid;

        if (pipe2(ret_pipe, O_CLOEXEC) < 0)
                return -errno;
        fflush(NULL);
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(ret_pipe[0]);
                close(ret_pipe[1]);
                return r;
        }
        return pid;
}
