/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Build-time helper: writes the guest's default seccomp program (BPF, as
 * the kernel takes it) to the file named by its argument. The library
 * embeds that file (lib/sec/seccomp-blob.c), so no vserver program links
 * libseccomp or compiles the filter at run time. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seccomp-filter.h"

int main(int argc, char **argv)
{
        void *bpf = NULL;
        size_t len = 0;
        int fd, r;

        if (argc != 2) {
                fprintf(stderr, "Usage: %s OUTPUT\n", argv[0]);
                return 2;
        }
        r = vs_seccomp_compile_default(&bpf, &len);
        if (r < 0) {
                fprintf(stderr, "%s: cannot compile the seccomp filter: %s\n", argv[0], strerror(-r));
                return 1;
        }
        fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, bpf, len) != (ssize_t)len || close(fd) < 0) {
                fprintf(stderr, "%s: cannot write %s: %s\n", argv[0], argv[1], strerror(errno));
                return 1;
        }
        free(bpf);
        return 0;
}
