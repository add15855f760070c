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
int vs_parse_password_hash(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err)
{
        size_t n = strlen(v), dollars = 0;

        (void)min;
        (void)max;
        if (v[0] != '$' || n < 8 || n > 190) {
                return vs_error_set(err, EINVAL, "expected a crypt(3) hash such as \"$y$...\" (yescrypt) or \"$6$...\" (SHA-512)");
        }
        for (const char *p = v; *p; p++) {
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      strchr("./$=,-", *p))) {
                        return vs_error_set(err, EINVAL, "a crypt(3) hash has only letters, digits and ./$=,-");
                }
                dollars += *p == '$';
        }
        if (dollars < 3) {
                return vs_error_set(err, EINVAL, "expected $ID$SALT$HASH");
        }
        return vs_config_store(field, strdup(v));
}

int vs_parse_dns(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err)
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
                        return vs_error_set(err, EINVAL, "\"%.64s\" is not an IPv4 or IPv6 address", s);
                }
                if (++n > MAX_NAMESERVERS) {
                        return vs_error_set(err, EINVAL, "at most %d name servers (the resolver reads no more)", MAX_NAMESERVERS);
                }
                joined = out ? vs_strdupf("%s,%s", out, s) : strdup(s);
                if (!joined)
                        return -ENOMEM;
                free(out);
                out = joined;
        }
        if (!n) {
                return vs_error_set(err, EINVAL, "expected ADDR[,ADDR...]");
        }
        return vs_config_store(field, TAKE_PTR(out));
}

/* A name below /usr/share/zoneinfo ("UTC", "Europe/Berlin", "Etc/GMT+5"):
 * no "." or ".." component, so it never names a file elsewhere. */
int vs_parse_timezone(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err)
{
        bool start = true;

        (void)min;
        (void)max;
        if (!*v || strlen(v) > 128) {
                return vs_error_set(err, EINVAL, "expected a time zone name such as Europe/Berlin");
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
                        return vs_error_set(err, EINVAL, "a time zone name has only letters, digits, _+- and /");
                }
                start = false;
        }
        if (start) {
                return vs_error_set(err, EINVAL, "an empty part in the time zone name");
        }
        return vs_config_store(field, strdup(v));
}
