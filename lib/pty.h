/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <termios.h>

/* Opens a new pty master (close-on-exec, no controlling tty) from the devpts
 * that /dev/ptmx resolves to for the caller, and returns the slave's path. */
int vs_pty_open(int *ret_master, char **ret_slave);

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
