/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parsers for the hardening keys of the key table: [guest] caps.keep and
 * caps.drop. */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "cleanup.h"
#include "config-parse.h"
#include "util.h"

int vs_parse_caps(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err)
{
        _cleanup_free_ char *copy = strdup(v);
        uint64_t mask = 0;
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *t = strtok_r(copy, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
                int cap;
                if (strlen(t) > 64 || vs_caps_from_name(t, &cap) < 0 || cap < 0 || cap > 63) {
                        return vs_error_set(err, EINVAL, "unknown capability \"%.64s\" (names as in capabilities(7), "
                                            "e.g. sys_time or CAP_NET_RAW)", t);
                }
                mask |= UINT64_C(1) << cap;
        }
        *(uint64_t *)field = mask;
        return 0;
}

char *vs_format_caps(const void *field)
{
        uint64_t mask = *(const uint64_t *)field;
        char *out = NULL;
        size_t size = 0;
        FILE *f;
        bool first = true;

        if (!mask)
                return NULL;
        f = open_memstream(&out, &size);
        if (!f)
                return NULL;
        for (int c = 0; c < 64; c++) {
                char num[16];
                if (!(mask & (UINT64_C(1) << c)))
                        continue;
                fprintf(f, "%s%s", first ? "" : ",", vs_caps_name(c, num, sizeof(num)));
                first = false;
        }
        if (fclose(f) != 0) {
                free(out);
                return NULL;
        }
        return out;
}
