/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

#include "dl.h"

int vs_dl_load(const char *soname, const char *const *names, size_t n, void **slots, char *why, size_t len)
{
        void *h;

        if (n > 0 && slots[n - 1])
                return 0; /* loaded before */
        h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                if (why && len)
                        snprintf(why, len, "cannot load %s: %s", soname, dlerror());
                return -ELIBACC;
        }
        for (size_t i = 0; i < n; i++) {
                slots[i] = dlsym(h, names[i]);
                if (!slots[i]) {
                        if (why && len)
                                snprintf(why, len, "%s has no %s", soname, names[i]);
                        for (size_t j = 0; j < i; j++)
                                slots[j] = NULL;
                        return -ENOSYS;
                }
        }
        /* The library stays loaded for the rest of the process. */
        return 0;
}
