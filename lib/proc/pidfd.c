/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "pidfd.h"
#include "util.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

int vs_pidfd_open(pid_t pid)
{
        if (pid <= 0)
                return -ESRCH;
        int fd = (int)syscall(SYS_pidfd_open, pid, 0);
        return fd < 0 ? -errno : fd;
}

int vs_pidfd_signal(int pidfd, int sig)
{
        if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
                return -errno;
        return 0;
}

int vs_pidfd_open_started(pid_t pid, uint64_t starttime)
{
        _cleanup_close_ int fd = vs_pidfd_open(pid);
        uint64_t st;
        char state;

        if (fd < 0)
                return fd;
        /* Looked at after the open: if the pid still shows this start time,
         * the pidfd holds the process that has it. */
        if (vs_proc_stat(pid, &state, &st) < 0 || st != starttime || state == 'Z' || state == 'X')
                return -ESRCH;
        return TAKE_FD(fd);
}

int vs_pid_signal_started(pid_t pid, uint64_t starttime, int sig)
{
        _cleanup_close_ int fd = vs_pidfd_open_started(pid, starttime);

        if (fd < 0)
                return fd;
        return vs_pidfd_signal(fd, sig);
}

static bool has_pid(const pid_t *v, size_t n, pid_t pid)
{
        for (size_t i = 0; i < n; i++)
                if (v[i] == pid)
                        return true;
        return false;
}

int vs_pids_act_listed(const pid_t *pids, size_t n, vs_pid_list_fn relist, void *list_data, vs_pid_act_fn act,
                       void *act_data)
{
        _cleanup_free_ int *fds = NULL;
        _cleanup_free_ pid_t *now = NULL;
        size_t nn = 0;
        int r, reached = 0;

        if (n == 0)
                return 0;
        fds = malloc(n * sizeof(*fds));
        if (!fds)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                fds[i] = vs_pidfd_open(pids[i]);
        /* Only now the list again: a pid in it names the process whose
         * pidfd is open, if that process is still there to be reached. */
        r = relist(list_data, &now, &nn);
        for (size_t i = 0; i < n; i++) {
                if (fds[i] < 0)
                        continue;
                if (r == 0 && has_pid(now, nn, pids[i]) && act(fds[i], pids[i], act_data) == 0)
                        reached++;
                close(fds[i]);
        }
        return r < 0 ? r : reached;
}

static int act_signal(int pidfd, pid_t pid, void *data)
{
        (void)pid;
        return vs_pidfd_signal(pidfd, *(int *)data);
}

int vs_pids_signal_listed(const pid_t *pids, size_t n, vs_pid_list_fn relist, void *list_data, int sig)
{
        return vs_pids_act_listed(pids, n, relist, list_data, act_signal, &sig);
}

bool vs_pid_in_other_userns(pid_t pid)
{
        char p[48];
        struct stat a, b;

        snprintf(p, sizeof(p), "/proc/%d/ns/user", (int)pid);
        return stat(p, &a) == 0 && stat("/proc/self/ns/user", &b) == 0 && (a.st_ino != b.st_ino || a.st_dev != b.st_dev);
}
