/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>

#include "error.h"

/* Libraries that only some guests need (libmount for a guest's fstab,
 * libnftables for shaping and NAT) are loaded on first use rather than
 * linked: each shared library costs every command that links it an extra
 * 0.1-0.5 ms of dynamic loading, needed or not.
 *
 * A user lists the functions it calls in an X-macro and keeps a struct of
 * pointers typed from the library's own header:
 *
 *   #define MNT_FUNCS(X) X(mnt_new_table) X(mnt_unref_table)
 *   static struct { MNT_FUNCS(VS_DL_SLOT) } mnt;
 *   static const char *const mnt_names[] = { MNT_FUNCS(VS_DL_NAME) };
 *   r = vs_dl_load("libmount.so.1", mnt_names, VS_DL_COUNT(mnt_names), (void **)&mnt, err);
 *   ... mnt.mnt_new_table() ...
 *
 * vs_dl_load() opens @soname (once per process), resolves every name into
 * the consecutive pointer slots at @slots and returns 0; or -ELIBACC (the
 * library is not installed: "Can not access a needed shared library") /
 * -ENOSYS with the loader's reason in @err (NULL allowed). */
#define VS_DL_SLOT(f) __typeof__(f) *f;
#define VS_DL_NAME(f) #f,
#define VS_DL_COUNT(names) (sizeof(names) / sizeof((names)[0]))

int vs_dl_load(const char *soname, const char *const *names, size_t n, void **slots, struct vs_error *err);
