/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "cleanup.h"
#include "paths.h"
#include "pty.h"
#include "state.h"
#include "util.h"

#define DETACH_KEY 0x1d /* Ctrl-] */

int vs_guest_console(const char *name, struct vs_error *err)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        struct vs_guest_info info = { 0 };
        struct termios saved;
        bool raw = false;
        int r;

        r = vs_guest_info(name, &info, err);
        if (r < 0)
                return r;
        if (info.state != VS_GUEST_RUNNING) {
                vs_guest_info_clear(&info);
                return vs_error_set(err, ESRCH, "Guest \"%s\" is not running", name);
        }
        vs_guest_info_clear(&info);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s/console.sock", vs_rundir(), name);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                r = -errno;
                return vs_error_set(err, r, "Cannot connect to the console of \"%s\": %s", name, strerror(errno));
        }
        /* The sink ends the line with "\n": "\r\n" on a raw terminal. */
        vs_warn("Connected to the console of \"%s\". Detach with Ctrl-].\r", name);
        if (isatty(STDIN_FILENO))
                raw = vs_tty_raw(STDIN_FILENO, &saved) == 0;
        struct vs_relay rl = { .in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO, .peer_fd = fd, .exit_fd = -1,
                               .escape_char = DETACH_KEY, .winch_tty = -1 };
        r = vs_relay_run(&rl);
        if (raw)
                vs_tty_restore(STDIN_FILENO, &saved);
        vs_warn("\r\n%s from the console of \"%s\".", r == 1 ? "Detached" : "Disconnected", name);
        return 0;
}
