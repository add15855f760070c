/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The exec trampoline (lib/sec/trampoline.c, built as lib/sec/vserver-exec) as
 * read-only data of the library: see lib/sec/exe.h. */
__asm__(".section .rodata\n"
        ".balign 16\n"
        ".globl vs_trampoline_start\n"
        ".hidden vs_trampoline_start\n"
        "vs_trampoline_start:\n"
        ".incbin \"" VS_TRAMPOLINE_BIN "\"\n"
        ".globl vs_trampoline_end\n"
        ".hidden vs_trampoline_end\n"
        "vs_trampoline_end:\n"
        ".previous\n");
