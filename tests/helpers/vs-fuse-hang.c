/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vs-fuse-hang [--allow-other] DIR: mounts a FUSE filesystem on DIR and
 * never answers it.
 * Every lookup below DIR then waits (killably) until this process exits,
 * which aborts the connection: a mount that hangs, for the start timeout
 * tests, with nothing outside DIR involved. Prints "mounted" once DIR is
 * mounted; exits on SIGTERM. The caller unmounts DIR (umount -l).
 * --allow-other lets other users and user namespaces (an unprivileged
 * guest's start) reach it, and hang, rather than get EACCES. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        char opts[128];
        bool other = argc == 3 && strcmp(argv[1], "--allow-other") == 0;
        const char *dir = argv[argc - 1];
        int fd;

        if (argc != 2 && !other) {
                fputs("Usage: vs-fuse-hang [--allow-other] DIR\n", stderr);
                return 2;
        }
        fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "vs-fuse-hang: /dev/fuse: %s\n", strerror(errno));
                return 1;
        }
        snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0%s", fd, other ? ",allow_other" : "");
        if (mount("vs-fuse-hang", dir, "fuse", MS_NOSUID | MS_NODEV, opts) < 0) {
                fprintf(stderr, "vs-fuse-hang: mount on %s: %s\n", dir, strerror(errno));
                return 1;
        }
        puts("mounted");
        fflush(stdout);
        /* The kernel's INIT request stays unread: until it is answered,
         * every request on the mount waits. */
        for (;;)
                pause();
}
