/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vs-syslog-catch SOCKET FILE: a syslog daemon for tests on hosts without
 * one. Binds a datagram socket at SOCKET (/dev/log in a private mount
 * namespace) and appends each message received to FILE, one per line, until
 * SIGTERM or SIGINT. Prints "ready" once bound.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_sig(int sig) { (void)sig; stop = 1; }

int main(int argc, char *argv[])
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct sigaction act = { .sa_handler = on_sig };
        char buf[8192];
        FILE *out;
        int fd;

        if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
                fputs("Usage: vs-syslog-catch SOCKET FILE\n", stderr);
                return 2;
        }
        strcpy(sa.sun_path, argv[1]);
        out = fopen(argv[2], "a");
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        unlink(argv[1]);
        if (!out || fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(argv[1], 0666) < 0) {
                fprintf(stderr, "vs-syslog-catch: %s: %s\n", argv[1], strerror(errno));
                return 1;
        }
        /* No SA_RESTART: the signal ends the wait in recv(). */
        sigaction(SIGTERM, &act, NULL);
        sigaction(SIGINT, &act, NULL);
        printf("ready\n");
        fflush(stdout);
        while (!stop) {
                ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\0'))
                        n--;
                buf[n] = '\0';
                for (ssize_t i = 0; i < n; i++)
                        if (buf[i] == '\n')
                                buf[i] = ' ';
                fprintf(out, "%s\n", buf);
                fflush(out);
        }
        unlink(argv[1]);
        return 0;
}
