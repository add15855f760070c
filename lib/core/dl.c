/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

#include "dl.h"

int vs_dl_load(const char *soname, const char *const *names, size_t n, void **slots, struct vs_error *err)
{
        void *h;

        if (n > 0 && slots[n - 1])
                return 0; /* loaded before */
        h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                return vs_error_set(err, ELIBACC, "cannot load %s: %s", soname, dlerror());
        }
        for (size_t i = 0; i < n; i++) {
                slots[i] = dlsym(h, names[i]);
                if (!slots[i]) {
                        for (size_t j = 0; j < i; j++)
                                slots[j] = NULL;
                        return vs_error_set(err, ENOSYS, "%s has no %s", soname, names[i]);
                }
        }
        /* The library stays loaded for the rest of the process. */
        return 0;
}
