/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Value parsers and formatters for the keys that place a guest in the host's
 * start order: a list of guest names (depends) and durations in seconds
 * (start_timeout, stop_timeout). */
#include "autoconfig.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "config-parse.h"
#include "util.h"

int vs_parse_names(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err)
{
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0;
        const char *p = v;

        names = calloc(1, sizeof(char *));
        if (!names)
                return -ENOMEM;
        /* An empty value is an empty list; an empty item ("a,,b") is a typo. */
        while (*p) {
                const char *start, *end;
                char **nv;

                while (isspace((unsigned char)*p))
                        p++;
                start = p;
                p += strcspn(p, ",");
                end = p;
                while (end > start && isspace((unsigned char)end[-1]))
                        end--;
                if (end == start) {
                        if (*p == '\0' && n == 0)
                                break;
                        return vs_error_set(err, EINVAL, "expected guest names separated by commas");
                }
                nv = realloc(names, (n + 2) * sizeof(char *));
                if (!nv)
                        return -ENOMEM;
                names = nv;
                names[n] = strndup(start, (size_t)(end - start));
                if (!names[n])
                        return -ENOMEM;
                names[++n] = NULL;
                if (!vs_name_valid(names[n - 1]) || strcmp(names[n - 1], "defaults") == 0) {
                        return vs_error_set(err, EINVAL, "\"%s\" is not a valid guest name", names[n - 1]);
                }
                for (size_t i = 0; i + 1 < n; i++)
                        if (strcmp(names[i], names[n - 1]) == 0) {
                                return vs_error_set(err, EINVAL, "\"%s\" is listed twice", names[n - 1]);
                        }
                if (*p == ',') {
                        p++;
                        if (*p == '\0') {
                                return vs_error_set(err, EINVAL, "expected a guest name after the last comma");
                        }
                }
        }
        vs_strv_free(*(char ***)field);
        *(char ***)field = n ? TAKE_PTR(names) : NULL;
        return 0;
}

char *vs_format_names(const void *field)
{
        char **v = *(char **const *)field;
        return v && v[0] ? vs_strv_join(v, ", ") : NULL;
}

int vs_parse_seconds(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err)
{
        char num[32];
        size_t l = strlen(v);
        uint64_t u;

        if (l > 0 && v[l - 1] == 's')
                l--;
        if (l == 0 || l >= sizeof(num) || !isdigit((unsigned char)v[0]))
                goto bad;
        memcpy(num, v, l);
        num[l] = '\0';
        if (vs_parse_uint(num, min, max, &u) < 0)
                goto bad;
        *(uint64_t *)field = u;
        return 0;
bad:
        return vs_error_set(err, EINVAL, "expected seconds from %llu to %llu, e.g. 60 or 60s", (unsigned long long)min,
                            (unsigned long long)max);
}

char *vs_format_seconds(const void *field)
{
        return vs_strdupf("%llus", (unsigned long long)*(const uint64_t *)field);
}
