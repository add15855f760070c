/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/magic.h>

#include "cleanup.h"
#include "pty.h"
#include "util.h"

int vs_pty_open(int *ret_master, char **ret_slave)
{
        _cleanup_close_ int m = -1;
        char name[128];

        m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (m < 0)
                return -errno;
        if (grantpt(m) < 0 || unlockpt(m) < 0)
                return -errno;
        if (ptsname_r(m, name, sizeof(name)) != 0)
                return -errno;
        *ret_slave = strdup(name);
        if (!*ret_slave)
                return -ENOMEM;
        *ret_master = TAKE_FD(m);
        return 0;
}

int vs_pty_open_peer(int ptmx, int *ret_master, int *ret_slave)
{
        _cleanup_close_ int m = -1, s = -1;
        char path[32];
        struct statfs sfs;
        struct stat st;
        int unlock = 0;

        /* Opening the ptmx node makes a new pty in the devpts instance the
         * node belongs to (not the one /dev/ptmx names for the caller). The
         * fd is reopened through its magic link: no name is looked up. */
        snprintf(path, sizeof(path), "/proc/self/fd/%d", ptmx);
        m = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (m < 0)
                return -errno;
        if (fstat(m, &st) < 0 || fstatfs(m, &sfs) < 0)
                return -errno;
        if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(5, 2) || sfs.f_type != DEVPTS_SUPER_MAGIC)
                return -EBADF;
        if (ioctl(m, TIOCSPTLCK, &unlock) < 0)
                return -errno;
        /* The slave from the master itself, in the master's devpts. */
        s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (s < 0)
                return -errno;
        *ret_master = TAKE_FD(m);
        *ret_slave = TAKE_FD(s);
        return 0;
}

/* @len bytes of @data, with @fd (when >= 0) as SCM_RIGHTS. */
static int send_with_fd(int sock, const void *data, size_t len, int fd)
{
        union {
                struct cmsghdr h;
                char space[CMSG_SPACE(sizeof(int))];
        } control = { 0 };
        struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t n;

        if (fd >= 0) {
                struct cmsghdr *c;
                mh.msg_control = &control;
                mh.msg_controllen = sizeof(control);
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        while ((n = sendmsg(sock, &mh, MSG_NOSIGNAL)) < 0)
                if (errno != EINTR)
                        return -errno;
        return (size_t)n == len ? 0 : -EIO;
}

/* Up to @len bytes into @data; the first fd that came with them in
 * @ret_fd (-1 for none), any further ones closed. Returns the byte count
 * (0 at the end of the stream) or -errno. */
static ssize_t recv_with_fd(int sock, int flags, void *data, size_t len, int *ret_fd)
{
        union {
                struct cmsghdr h;
                char space[CMSG_SPACE(sizeof(int) * 4)];
        } control;
        struct iovec iov = { .iov_base = data, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                             .msg_controllen = sizeof(control) };
        int fd = -1;
        ssize_t k;

        do
                k = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return -errno;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
                        int got;
                        memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                        if (fd < 0)
                                fd = got;
                        else
                                close(got);
                }
        }
        *ret_fd = fd;
        return k;
}

int vs_fd_send(int sock, int fd)
{
        return send_with_fd(sock, "F", 1, fd);
}

int vs_fd_recv(int sock, int flags, int *ret_fd)
{
        char byte;
        int fd;
        ssize_t k = recv_with_fd(sock, flags, &byte, 1, &fd);

        if (k < 0)
                return (int)k;
        if (fd < 0)
                return k == 0 ? -ECONNRESET : -EBADMSG;
        *ret_fd = fd;
        return 0;
}

int vs_msg_send(int sock, int code, int fd)
{
        return send_with_fd(sock, &code, sizeof(code), fd);
}

int vs_msg_recv(int sock, int *ret_fd)
{
        int code = 0, fd;
        ssize_t k = recv_with_fd(sock, MSG_WAITALL, &code, sizeof(code), &fd);

        if (k < 0)
                return (int)k;
        if (k != (ssize_t)sizeof(code) || code < 0) {
                if (fd >= 0)
                        close(fd);
                return -EIO;
        }
        *ret_fd = fd;
        return code;
}

int vs_tty_raw(int fd, struct termios *saved)
{
        struct termios t;

        if (tcgetattr(fd, &t) < 0)
                return -errno;
        *saved = t;
        cfmakeraw(&t);
        t.c_oflag &= ~(OPOST | ONLCR);
        if (tcsetattr(fd, TCSANOW, &t) < 0)
                return -errno;
        return 0;
}

void vs_tty_restore(int fd, const struct termios *saved)
{
        (void)tcsetattr(fd, TCSANOW, saved);
}

void vs_tty_copy_winsize(int from, int to)
{
        struct winsize ws;
        if (ioctl(from, TIOCGWINSZ, &ws) == 0)
                (void)ioctl(to, TIOCSWINSZ, &ws);
}

/* Writes all of @buf, waiting while @fd is full. A fd of the caller's is
 * never set non-blocking here (its file description is shared with the
 * caller's shell), so a full pipe blocks, as it would block the command. */
static int write_all(int fd, const char *buf, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, buf, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                struct pollfd p = { .fd = fd, .events = POLLOUT };
                                poll(&p, 1, -1);
                                continue;
                        }
                        return -errno;
                }
                buf += n;
                len -= (size_t)n;
        }
        return 0;
}

static void drain(int from, int to)
{
        char buf[4096];
        int fl = fcntl(from, F_GETFL);

        fcntl(from, F_SETFL, fl | O_NONBLOCK);
        for (;;) {
                ssize_t n = read(from, buf, sizeof(buf));
                if (n <= 0)
                        break;
                if (write_all(to, buf, (size_t)n) < 0)
                        break;
        }
        fcntl(from, F_SETFL, fl);
}

/* Adds @fd to the poll set @p (@n entries so far) for @events; its index. */
static int watch(struct pollfd *p, int *n, int fd, short events)
{
        p[*n] = (struct pollfd){ .fd = fd, .events = events };
        return (*n)++;
}

int vs_relay_run(const struct vs_relay *r)
{
        _cleanup_close_ int sfd = -1;
        sigset_t mask, old;
        char buf[8192];
        bool in_open = r->in_fd >= 0;
        int ret = 0;

        if (r->winch_tty >= 0) {
                sigemptyset(&mask);
                sigaddset(&mask, SIGWINCH);
                sigprocmask(SIG_BLOCK, &mask, &old);
                sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
                vs_tty_copy_winsize(r->in_fd, r->winch_tty);
        }
        for (;;) {
                struct pollfd p[4];
                int n = 0, i_in, i_peer, i_exit, i_sig;

                i_in = in_open ? watch(p, &n, r->in_fd, POLLIN) : -1;
                i_peer = watch(p, &n, r->peer_fd, POLLIN);
                i_exit = r->exit_fd >= 0 ? watch(p, &n, r->exit_fd, POLLIN) : -1;
                i_sig = sfd >= 0 ? watch(p, &n, sfd, POLLIN) : -1;
                if (poll(p, n, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        ret = -errno;
                        break;
                }
                if (i_sig >= 0 && (p[i_sig].revents & POLLIN)) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof(si)) > 0)
                                ;
                        vs_tty_copy_winsize(r->in_fd, r->winch_tty);
                }
                if (p[i_peer].revents & (POLLIN | POLLHUP | POLLERR)) {
                        ssize_t k = read(r->peer_fd, buf, sizeof(buf));
                        if (k <= 0) {
                                if (k < 0 && (errno == EINTR || errno == EAGAIN))
                                        continue;
                                break; /* EIO: every slave fd closed; 0: socket closed */
                        }
                        if (write_all(r->out_fd, buf, (size_t)k) < 0)
                                break;
                }
                if (i_in >= 0 && (p[i_in].revents & (POLLIN | POLLHUP | POLLERR))) {
                        ssize_t k = read(r->in_fd, buf, sizeof(buf));
                        if (k <= 0) {
                                if (k < 0 && (errno == EINTR || errno == EAGAIN))
                                        continue;
                                in_open = false; /* our input ended; keep showing output */
                        } else {
                                if (r->escape_char >= 0) {
                                        char *e = memchr(buf, r->escape_char, (size_t)k);
                                        if (e) {
                                                write_all(r->peer_fd, buf, (size_t)(e - buf));
                                                ret = 1;
                                                break;
                                        }
                                }
                                if (write_all(r->peer_fd, buf, (size_t)k) < 0)
                                        break;
                        }
                }
                if (i_exit >= 0 && (p[i_exit].revents & POLLIN)) {
                        drain(r->peer_fd, r->out_fd);
                        break;
                }
        }
        if (r->winch_tty >= 0)
                sigprocmask(SIG_SETMASK, &old, NULL);
        return ret;
}

/* One read from the command's side of @s to the caller's. Returns 0, or
 * -EAGAIN when nothing was there; at the end of the stream, or when the
 * caller's side is gone, @s is done: a pipe is closed, so that the command
 * gets EPIPE as it would have, a pty's output is discarded. */
static int pump(struct vs_stream *s)
{
        char buf[16384];
        ssize_t k = read(s->from, buf, sizeof(buf));

        if (k < 0 && (errno == EINTR || errno == EAGAIN))
                return -EAGAIN;
        if (k > 0 && s->to >= 0 && write_all(s->to, buf, (size_t)k) < 0) {
                s->to = -1;
                if (!s->pty)
                        k = 0;
        }
        if (k <= 0) { /* 0: every writer gone; EIO: the pty's every slave fd closed */
                if (!s->pty)
                        close(s->from);
                s->from = -1;
        }
        return 0;
}

static void end_input(struct vs_stream *in)
{
        if (!in->pty && in->to >= 0)
                close(in->to);
        if (!in->pty)
                in->to = -1;
        in->from = -1;
}

int vs_relay_streams(struct vs_streams *r)
{
        _cleanup_close_ int sfd = -1;
        sigset_t mask;
        char inbuf[16384];
        size_t in_len = 0, in_off = 0;
        int ret = 0;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGWINCH);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0)
                return -errno;
        if (r->winch_to >= 0)
                vs_tty_copy_winsize(r->winch_from, r->winch_to);
        for (;;) {
                struct pollfd p[8];
                int n = 0, i_in, i_to, i_out[VS_STREAMS_OUT], i_exit, i_sig;

                i_in = r->in.from >= 0 && in_len == 0 ? watch(p, &n, r->in.from, POLLIN) : -1;
                i_to = in_len > 0 ? watch(p, &n, r->in.to, POLLOUT) : -1;
                for (int i = 0; i < VS_STREAMS_OUT; i++)
                        i_out[i] = r->out[i].from >= 0 ? watch(p, &n, r->out[i].from, POLLIN) : -1;
                i_exit = watch(p, &n, r->exit_fd, POLLIN);
                i_sig = watch(p, &n, sfd, POLLIN);
                if (poll(p, n, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        ret = -errno;
                        break;
                }
                if (p[i_sig].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
                                if (si.ssi_signo == SIGWINCH) {
                                        if (r->winch_to >= 0)
                                                vs_tty_copy_winsize(r->winch_from, r->winch_to);
                                } else if (r->forward_to > 0)
                                        kill(r->forward_to, (int)si.ssi_signo);
                        }
                }
                if (i_in >= 0 && (p[i_in].revents & (POLLIN | POLLHUP | POLLERR))) {
                        ssize_t k = read(r->in.from, inbuf, sizeof(inbuf));
                        if (k > 0) {
                                in_len = (size_t)k;
                                in_off = 0;
                        } else if (k == 0 || (errno != EINTR && errno != EAGAIN))
                                end_input(&r->in);
                }
                if (i_to >= 0 && (p[i_to].revents & (POLLOUT | POLLHUP | POLLERR))) {
                        ssize_t k = write(r->in.to, inbuf + in_off, in_len - in_off);
                        if (k > 0) {
                                in_off += (size_t)k;
                                if (in_off == in_len)
                                        in_len = 0;
                        } else if (k < 0 && errno != EINTR && errno != EAGAIN) {
                                /* EPIPE: the command closed its input. */
                                in_len = 0;
                                end_input(&r->in);
                        }
                }
                for (int i = 0; i < VS_STREAMS_OUT; i++)
                        if (i_out[i] >= 0 && (p[i_out[i]].revents & (POLLIN | POLLHUP | POLLERR)))
                                (void)pump(&r->out[i]);
                if (p[i_exit].revents & POLLIN)
                        break;
        }
        /* The command has exited: what it wrote is in the pipes, or on its
         * way through the pty (the master reads EIO only after the last of
         * it). A writer left behind in the background is not waited for. */
        uint64_t until = vs_now_usec() + 1000000;
        for (int i = 0; i < VS_STREAMS_OUT; i++)
                while (r->out[i].from >= 0 && vs_now_usec() < until) {
                        struct pollfd p = { .fd = r->out[i].from, .events = POLLIN };
                        if (poll(&p, 1, r->out[i].pty ? 50 : 0) <= 0 || pump(&r->out[i]) == -EAGAIN)
                                break;
                }
        return ret;
}
