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
#include <unistd.h>

#include "cleanup.h"
#include "pty.h"

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

static int write_all(int fd, const char *buf, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, buf, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                struct pollfd p = { .fd = fd, .events = POLLOUT };
                                poll(&p, 1, 1000);
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
                int n = 0, i_in = -1, i_peer, i_exit = -1, i_sig = -1;

                if (in_open) {
                        i_in = n;
                        p[n++] = (struct pollfd){ .fd = r->in_fd, .events = POLLIN };
                }
                i_peer = n;
                p[n++] = (struct pollfd){ .fd = r->peer_fd, .events = POLLIN };
                if (r->exit_fd >= 0) {
                        i_exit = n;
                        p[n++] = (struct pollfd){ .fd = r->exit_fd, .events = POLLIN };
                }
                if (sfd >= 0) {
                        i_sig = n;
                        p[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
                }
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
