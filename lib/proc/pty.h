/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <termios.h>

/* Opens a new pty master (close-on-exec, no controlling tty) from the devpts
 * that /dev/ptmx resolves to for the caller, and returns the slave's path. */
int vs_pty_open(int *ret_master, char **ret_slave);

/* In a guest's run directory: the supervisor hands out the guest's ptmx
 * (an O_PATH fd of its devpts) to each client, for vs-enter. */
#define VS_PTY_SOCKET "pty.sock"

/* Opens a new pty in the devpts instance of @ptmx, an fd (O_PATH will do)
 * of a devpts "ptmx" node, without looking up any name: the node is
 * reopened through /proc/self/fd and the slave comes from the master
 * (TIOCGPTPEER). Both close-on-exec, neither becomes a controlling tty.
 * -EBADF when @ptmx is not a devpts ptmx. */
int vs_pty_open_peer(int ptmx, int *ret_master, int *ret_slave);

/* Passes @fd over the unix socket @sock (SCM_RIGHTS, with one byte). */
int vs_fd_send(int sock, int fd);
/* Receives one fd (close-on-exec) sent by vs_fd_send(); any further fds in
 * the message are closed. @flags as for recvmsg(2), e.g. MSG_DONTWAIT. */
int vs_fd_recv(int sock, int flags, int *ret_fd);

/* A message of an int @code (0, or an errno value) with @fd when >= 0, as
 * the start's child and supervisor exchange them. */
int vs_msg_send(int sock, int code, int fd);
/* Returns the message's @code (its fd, -1 for none, in @ret_fd), or
 * -errno; -EIO at the end of the stream or for a short message. */
int vs_msg_recv(int sock, int *ret_fd);

/* Puts tty @fd in raw mode, saving the old settings in @saved. */
int vs_tty_raw(int fd, struct termios *saved);
void vs_tty_restore(int fd, const struct termios *saved);
/* Copies the window size of tty @from to pty @to. */
void vs_tty_copy_winsize(int from, int to);

struct vs_relay {
        int in_fd;       /* read and forwarded to peer_fd; -1 for none */
        int out_fd;      /* receives what peer_fd produces */
        int peer_fd;     /* pty master or socket */
        int exit_fd;     /* optional pidfd: when readable, drain peer and stop */
        int escape_char; /* byte on in_fd that ends the relay (detach); -1 none */
        int winch_tty;   /* copy window size from in_fd to this on SIGWINCH; -1 none */
};

/* Copies data both ways until the peer closes, the escape byte arrives, or
 * exit_fd becomes readable. Returns 1 on detach, 0 on peer close/exit. */
int vs_relay_run(const struct vs_relay *r);

/* One direction of vs_relay_streams(). */
struct vs_stream {
        int from; /* read; -1: none (or done) */
        int to;   /* written; -1: what is read is discarded */
        bool pty; /* the command's side is a pty master, shared by both
                   * directions: never closed here */
};

#define VS_STREAMS_OUT 3

struct vs_streams {
        struct vs_stream in;                  /* the caller's input to the command's (a pipe, non-blocking, or the pty) */
        struct vs_stream out[VS_STREAMS_OUT]; /* the command's pipes (non-blocking) or pty to the caller's fds */
        int exit_fd;                          /* pidfd of the child: when readable, drain the outputs and stop */
        pid_t forward_to;                     /* gets SIGINT, SIGTERM and SIGHUP sent to us */
        int winch_from, winch_to;             /* window size copied on SIGWINCH; winch_to -1: none */
};

/* Relays between the caller's stdio and a command's pipes or pty until
 * exit_fd is readable. At the end of the caller's input, the command's
 * input pipe is closed; when a caller's output is gone, the command's pipe
 * to it is closed (the command gets EPIPE). Fds the relay closes are set to
 * -1 in @r; the caller closes the rest. The caller blocks SIGINT, SIGTERM,
 * SIGHUP and SIGWINCH before it forks, and ignores SIGPIPE. */
int vs_relay_streams(struct vs_streams *r);
