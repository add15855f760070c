/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Readiness: the notify socket offered to the guest's init and the ready
 * marker in the guest's run directory. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "mount.h"
#include "notify.h"
#include "paths.h"
#include "state.h"
#include "util.h"

static char *socket_path(const char *rundir) { return vs_strdupf("%s/notify", rundir); }

int vs_notify_plan(struct vs_mount_plan *p, const char *rundir)
{
        _cleanup_free_ char *src = socket_path(rundir);
        struct vs_mount_op *op;

        if (!src)
                return -ENOMEM;
        op = vs_mount_plan_add(p, VS_MOUNT_BIND, src, VS_NOTIFY_GUEST_PATH, NULL, 0, NULL);
        if (!op)
                return -ENOMEM;
        op->file = true;
        return 0;
}

int vs_notify_open(struct vs_notify *n, const char *rundir, bool forward)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        int one = 1;

        if (fd < 0)
                return -errno;
        if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", rundir) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        unlink(sa.sun_path);
        /* The kernel adds the sender's credentials to every message, with the
         * pid seen from here: the host pid of the guest's init. */
        if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(sa.sun_path, 0600) < 0)
                return -errno;
        *n = (struct vs_notify){ .fd = TAKE_FD(fd), .rundir = rundir, .forward = forward };
        return 0;
}

static int mark_ready(struct vs_notify *n, const char *how)
{
        _cleanup_free_ char *path = vs_strdupf("%s/ready", n->rundir), *text = NULL;
        struct timespec ts;
        int r;

        if (n->ready)
                return 0;
        n->ready = true;
        clock_gettime(CLOCK_REALTIME, &ts);
        text = vs_strdupf("how=%s\ntime=%lld.%06ld\n", how, (long long)ts.tv_sec, ts.tv_nsec / 1000);
        if (!path || !text)
                return -ENOMEM;
        r = vs_write_file_replace(path, text, 0644);
        if (n->forward)
                (void)vs_notify_manager("READY=1");
        return r < 0 ? r : 1;
}

int vs_notify_started(struct vs_notify *n, pid_t init_pid, bool init_notifies)
{
        n->init_pid = init_pid;
        return init_notifies ? 0 : mark_ready(n, "exec");
}

static bool has_line(const char *text, const char *line)
{
        size_t l = strlen(line);
        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strncmp(p, line, l) == 0 && (p[l] == '\n' || p[l] == '\0'))
                        return true;
        return false;
}

int vs_notify_dispatch(struct vs_notify *n)
{
        int became_ready = 0;

        if (n->fd < 0)
                return 0;
        /* Any process of the guest may send here, as fast as it likes: the
         * loop must not be its to keep. What is left is read on the next
         * wake-up; poll() reports the socket again at once, after the
         * console, the signals and the guards had their turn. */
        for (int m = 0; m < VS_NOTIFY_BATCH; m++) {
                char buf[4096];
                union {
                        struct cmsghdr h;
                        char space[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * 16)];
                } control;
                struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                                     .msg_controllen = sizeof(control) };
                struct ucred *cred = NULL;
                ssize_t k = recvmsg(n->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                        if (c->cmsg_level != SOL_SOCKET)
                                continue;
                        if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len == CMSG_LEN(sizeof(struct ucred)))
                                cred = (struct ucred *)CMSG_DATA(c);
                        else if (c->cmsg_type == SCM_RIGHTS) {
                                /* Nothing here takes file descriptors (FDSTORE=1). */
                                int *fds = (int *)CMSG_DATA(c);
                                size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                                for (size_t i = 0; i < nfds; i++)
                                        close(fds[i]);
                        }
                }
                /* Any process of the guest can reach the socket; only its init
                 * speaks for the guest. */
                if (!cred || n->init_pid <= 0 || cred->pid != n->init_pid)
                        continue;
                buf[k] = '\0';
                if (has_line(buf, "READY=1") && mark_ready(n, "notify") > 0)
                        became_ready = 1;
        }
        return became_ready;
}

void vs_notify_close(struct vs_notify *n)
{
        if (n && n->fd >= 0) {
                close(n->fd);
                n->fd = -1;
        }
}

bool vs_init_notifies(const struct vs_config *c, const char *rootfs)
{
        /* systemd is the init that speaks sd_notify (sysvinit cannot). */
        return vs_config_init_is_systemd(c, rootfs);
}

int vs_notify_manager(const char *msg)
{
        const char *e = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        size_t l;

        if (!e || (e[0] != '/' && e[0] != '@'))
                return 0;
        l = strlen(e);
        if (l >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, e, l);
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = '\0';
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
                   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + l)) < 0)
                return -errno;
        return 1;
}

int vs_guest_ready(const char *name)
{
        _cleanup_free_ char *path = vs_strdupf("%s/%s/ready", vs_rundir(), name);
        struct vs_state s = { 0 };
        bool up;

        if (!path)
                return -ENOMEM;
        if (access(path, F_OK) == 0)
                return 1;
        if (vs_state_read(name, &s) < 0)
                return -ESRCH;
        up = vs_pid_alive(s.supervisor_pid, s.supervisor_starttime) && vs_pid_alive(s.init_pid, s.init_starttime);
        vs_state_clear(&s);
        /* Ready may have come between the two looks. */
        if (access(path, F_OK) == 0)
                return 1;
        return up ? 0 : -ESRCH;
}
