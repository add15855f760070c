/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The guest's default seccomp program, made at build time by
 * lib/sec/seccomp-gen.c, as read-only data of the library. */
#include "autoconfig.h"

#include <stddef.h>

#include "seccomp-filter.h"

__asm__(".section .rodata\n"
        ".balign 8\n"
        ".globl vs_seccomp_default_start\n"
        ".hidden vs_seccomp_default_start\n"
        "vs_seccomp_default_start:\n"
        ".incbin \"" VS_SECCOMP_BPF "\"\n"
        ".globl vs_seccomp_default_end\n"
        ".hidden vs_seccomp_default_end\n"
        "vs_seccomp_default_end:\n"
        ".previous\n");

extern const char vs_seccomp_default_start[], vs_seccomp_default_end[];

const void *vs_seccomp_default(size_t *ret_len)
{
        *ret_len = (size_t)(vs_seccomp_default_end - vs_seccomp_default_start);
        return vs_seccomp_default_start;
}
