/* SPDX-License-Identifier: GPL-2.0-or-later */
/* [guest] keys of first-boot access: root's password hash, the name
 * servers, the time zone (vserver/provision.c writes them into the tree). */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "config-parse.h"
#include "util.h"

#define MAX_NAMESERVERS 3 /* what glibc's resolver reads (MAXNS) */

/* A crypt(3) hash such as "$y$j9T$salt$hash" or "$6$salt$hash": only the
 * characters crypt writes, so it can stand as /etc/shadow's second field
 * and never be a cleartext password by mistake. */
int vs_parse_password_hash(const char *v, void *field, uint64_t min, uint64_t max, char *why, size_t len)
{
        size_t n = strlen(v), dollars = 0;

        (void)min;
        (void)max;
        if (v[0] != '$' || n < 8 || n > 190) {
                snprintf(why, len, "expected a crypt(3) hash such as \"$y$...\" (yescrypt) or \"$6$...\" (SHA-512)");
                return -EINVAL;
        }
        for (const char *p = v; *p; p++) {
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      strchr("./$=,-", *p))) {
                        snprintf(why, len, "a crypt(3) hash has only letters, digits and ./$=,-");
                        return -EINVAL;
                }
                dollars += *p == '$';
        }
        if (dollars < 3) {
                snprintf(why, len, "expected $ID$SALT$HASH");
                return -EINVAL;
        }
        return vs_config_store(field, strdup(v));
}

int vs_parse_dns(const char *v, void *field, uint64_t min, uint64_t max, char *why, size_t len)
{
        _cleanup_strv_free_ char **addrs = vs_strv_split(v, ",");
        _cleanup_free_ char *out = NULL;
        size_t n = 0;

        (void)min;
        (void)max;
        if (!addrs)
                return -ENOMEM;
        for (char **a = addrs; *a; a++) {
                unsigned char buf[16];
                char *s = *a, *e = s + strlen(s);
                char *joined;

                while (*s == ' ' || *s == '\t')
                        s++;
                while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
                        *--e = '\0';
                if (!*s)
                        continue;
                if (inet_pton(AF_INET, s, buf) != 1 && inet_pton(AF_INET6, s, buf) != 1) {
                        snprintf(why, len, "\"%.64s\" is not an IPv4 or IPv6 address", s);
                        return -EINVAL;
                }
                if (++n > MAX_NAMESERVERS) {
                        snprintf(why, len, "at most %d name servers (the resolver reads no more)", MAX_NAMESERVERS);
                        return -EINVAL;
                }
                joined = out ? vs_strdupf("%s,%s", out, s) : strdup(s);
                if (!joined)
                        return -ENOMEM;
                free(out);
                out = joined;
        }
        if (!n) {
                snprintf(why, len, "expected ADDR[,ADDR...]");
                return -EINVAL;
        }
        return vs_config_store(field, TAKE_PTR(out));
}

/* A name below /usr/share/zoneinfo ("UTC", "Europe/Berlin", "Etc/GMT+5"):
 * no "." or ".." component, so it never names a file elsewhere. */
int vs_parse_timezone(const char *v, void *field, uint64_t min, uint64_t max, char *why, size_t len)
{
        bool start = true;

        (void)min;
        (void)max;
        if (!*v || strlen(v) > 128) {
                snprintf(why, len, "expected a time zone name such as Europe/Berlin");
                return -EINVAL;
        }
        for (const char *p = v; *p; p++) {
                if (*p == '/') {
                        if (start)
                                break;
                        start = true;
                        continue;
                }
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      strchr("_+-", *p))) {
                        snprintf(why, len, "a time zone name has only letters, digits, _+- and /");
                        return -EINVAL;
                }
                start = false;
        }
        if (start) {
                snprintf(why, len, "an empty part in the time zone name");
                return -EINVAL;
        }
        return vs_config_store(field, strdup(v));
}
