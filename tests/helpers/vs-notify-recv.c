/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vs-notify-recv SOCKET SECS: plays systemd's side of a Type=notify service
 * for tests. Binds a datagram socket at SOCKET (what the service gets as
 * $NOTIFY_SOCKET), prints each message received, newlines as spaces, until
 * one holds READY=1 (exit 0) or SECS seconds pass (exit 1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct timespec t0, now;
        char buf[4096];
        long secs;
        int fd;

        if (argc != 3 || (secs = strtol(argv[2], NULL, 10)) <= 0 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
                fputs("Usage: vs-notify-recv SOCKET SECS\n", stderr);
                return 2;
        }
        strcpy(sa.sun_path, argv[1]);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        unlink(argv[1]);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                fprintf(stderr, "vs-notify-recv: %s: %s\n", argv[1], strerror(errno));
                return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                long left;
                ssize_t k;

                clock_gettime(CLOCK_MONOTONIC, &now);
                left = secs * 1000 - ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000);
                if (left <= 0 || poll(&p, 1, (int)left) == 0)
                        break;
                k = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
                if (k < 0)
                        continue;
                buf[k] = '\0';
                for (char *c = buf; *c; c++)
                        if (*c == '\n')
                                *c = ' ';
                printf("%s\n", buf);
                fflush(stdout);
                if (strstr(buf, "READY=1"))
                        return 0;
        }
        fprintf(stderr, "vs-notify-recv: no READY=1 on %s within %ld s\n", argv[1], secs);
        return 1;
}
