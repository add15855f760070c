/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#include "tap.h"
#include "cleanup.h"
#include "util.h"

static void names(void)
{
        static const char *const good[] = { "a", "guest1", "web-1.example", "A_b", "0", "x.y-z_w" };
        static const char *const bad[] = { "", ".", "..", "../x", "a/b", "-rf", "_a", ".hidden", "a b", "a\nb",
                                           "tab\tname", "é", "a:b", "a*", "$(x)" };
        char longest[VS_NAME_MAX + 2];

        for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
                tap_ok(vs_name_valid(good[i]), "name \"%s\" is accepted", good[i]);
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
                tap_ok(!vs_name_valid(bad[i]), "name \"%s\" is refused", bad[i]);
        tap_ok(!vs_name_valid(NULL), "NULL name is refused");
        memset(longest, 'a', VS_NAME_MAX);
        longest[VS_NAME_MAX] = '\0';
        tap_ok(vs_name_valid(longest), "a name of %d characters is accepted", VS_NAME_MAX);
        longest[VS_NAME_MAX] = 'a';
        longest[VS_NAME_MAX + 1] = '\0';
        tap_ok(!vs_name_valid(longest), "a name of %d characters is refused", VS_NAME_MAX + 1);
}

static void sizes(void)
{
        static const struct {
                const char *s;
                uint64_t v;
        } good[] = { { "0", 0 }, { "512", 512 }, { "1K", 1024 }, { "1k", 1024 }, { "512M", 512ULL << 20 },
                     { "2G", 2ULL << 30 }, { "1T", 1ULL << 40 }, { "64MiB", 64ULL << 20 }, { "1GB", 1ULL << 30 },
                     { "16777215T", 16777215ULL << 40 } };
        static const char *const bad[] = { "",    "-1",  "abc", "10Q", "1e30", "18446744073709551616", " 1G",
                                           "1G ", "1.5G", "+1G", "G",  "1GG", "16777216T", "0x10" };
        uint64_t v;

        for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
                v = 42;
                tap_ok(vs_parse_size(good[i].s, &v) == 0 && v == good[i].v, "size \"%s\" = %llu", good[i].s,
                       (unsigned long long)good[i].v);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                v = 42;
                tap_ok(vs_parse_size(bad[i], &v) < 0 && v == 42, "size \"%s\" is refused, output untouched", bad[i]);
        }
        tap_ok(vs_parse_uint("100", 1, 10000, &v) == 0 && v == 100, "uint in range");
        tap_is_int(vs_parse_uint("0", 1, 10000, &v), -ERANGE, "uint below range");
        tap_is_int(vs_parse_uint("10001", 1, 10000, &v), -ERANGE, "uint above range");
        tap_is_int(vs_parse_uint("-5", 0, 10, &v), -EINVAL, "negative uint");
}

static void signals(void)
{
        int s = 0;
        char buf[32];

        tap_ok(vs_parse_signal("SIGRTMIN+3", &s) == 0 && s == SIGRTMIN + 3, "SIGRTMIN+3");
        tap_ok(vs_parse_signal("rtmin+3", &s) == 0 && s == SIGRTMIN + 3, "rtmin+3");
        tap_ok(vs_parse_signal("SIGPWR", &s) == 0 && s == SIGPWR, "SIGPWR");
        tap_ok(vs_parse_signal("int", &s) == 0 && s == SIGINT, "int");
        tap_ok(vs_parse_signal("15", &s) == 0 && s == SIGTERM, "15");
        tap_ok(vs_parse_signal("SIGNOPE", &s) < 0, "unknown signal refused");
        tap_ok(vs_parse_signal("RTMIN+99", &s) < 0, "RTMIN+99 refused");
        tap_is_str(vs_signal_name(SIGRTMIN + 3, buf, sizeof(buf)), "SIGRTMIN+3", "name of SIGRTMIN+3");
        tap_is_str(vs_signal_name(SIGPWR, buf, sizeof(buf)), "SIGPWR", "name of SIGPWR");
}

static void strv(void)
{
        char **v = vs_strv_split(",a,,b,c,", ",");
        char *j = vs_strv_join(v, ":");
        tap_is_int(vs_strv_length(v), 3, "split drops empty fields");
        tap_is_str(j, "a:b:c", "join");
        free(j);
        vs_strv_free(v);
}

static void starttime(void)
{
        uint64_t a = 0, b = 0;
        tap_ok(vs_proc_starttime(getpid(), &a) == 0 && a > 0, "start time of self");
        tap_ok(vs_proc_starttime(getpid(), &b) == 0 && a == b, "start time is stable");
        tap_ok(vs_proc_starttime(1, &b) == 0 && b <= a, "pid 1 started no later than us");
}

int main(void)
{
        names();
        sizes();
        signals();
        strv();
        starttime();
        return tap_done();
}
