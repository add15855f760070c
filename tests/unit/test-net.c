/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Network values: rates, CIDR, pool allocation, derived names and MACs,
 * and the [net] keys of a guest's config. */
#include "autoconfig.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "netconf.h"
#include "tap.h"
#include "util.h"

static void rates(void)
{
        static const struct {
                const char *s;
                uint64_t v;
        } good[] = { { "20mbit", 20000000 }, { "1gbit", 1000000000 }, { "512kbit", 512000 }, { "100bit", 100 },
                     { "10MBIT", 10000000 }, { "10tbit", UINT64_C(10000000000000) } };
        static const char *const bad[] = { "0", "0mbit", "-5mbit", "fast", "", "10", "10 mbit", "mbit", "1.5mbit",
                                           "10mb", "11tbit", "99999999999999999999999mbit" };
        char buf[32];
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                uint64_t v = 0;
                tap_ok(vs_rate_parse(good[i].s, &v) == 0 && v == good[i].v, "rate \"%s\" is %llu bit/s", good[i].s,
                       (unsigned long long)good[i].v);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                uint64_t v = 7;
                tap_ok(vs_rate_parse(bad[i], &v) < 0 && v == 7, "rate \"%s\" is refused", bad[i]);
        }
        vs_rate_format(20000000, buf, sizeof(buf));
        tap_is_str(buf, "20mbit", "20 Mbit/s formats as 20mbit");
        vs_rate_format(1500000, buf, sizeof(buf));
        tap_is_str(buf, "1500kbit", "1.5 Mbit/s formats as 1500kbit");
}

static void cidrs(void)
{
        struct vs_cidr c, pool;
        static const char *const bad[] = { "10.77.0.11", "10.77.0.11/", "10.77.0.11/33", "10.77.0.11/0",
                                           "10.77.0/24", "10.77.0.256/24", "x/24", "10.77.0.11/24x", "10.77.0.11/024",
                                           " 10.77.0.11/24" };
        tap_ok(vs_cidr_parse("10.77.0.11/24", &c) == 0 && c.addr == 0x0a4d000b && c.prefix == 24, "CIDR parses");
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                tap_ok(vs_cidr_parse(bad[i], &c) < 0, "CIDR \"%s\" is refused", bad[i]);
        vs_cidr_parse("10.77.0.0/24", &pool);
        tap_ok(vs_cidr_contains(&pool, 0x0a4d00fe), "10.77.0.254 is in 10.77.0.0/24");
        tap_ok(!vs_cidr_contains(&pool, 0x0a4d0100), "10.77.1.0 is not in 10.77.0.0/24");
        vs_cidr_parse("10.77.0.0/24", &c);
        tap_ok(!vs_cidr_is_host(&c), "the network address is not a host");
        vs_cidr_parse("10.77.0.255/24", &c);
        tap_ok(!vs_cidr_is_host(&c), "the broadcast address is not a host");
        vs_cidr_parse("10.77.0.1/32", &c);
        tap_ok(vs_cidr_is_host(&c), "a /32 is a host");
}

static void pool(void)
{
        struct vs_cidr p;
        uint32_t a = 0, used[] = { 0x0a4d0001, 0x0a4d0002, 0x0a4d0004 };
        vs_cidr_parse("10.77.0.0/24", &p);
        tap_ok(vs_pool_next(&p, used, 3, &a) == 0 && a == 0x0a4d0003, "the pool gives the lowest free address");
        tap_ok(vs_pool_next(&p, NULL, 0, &a) == 0 && a == 0x0a4d0001, "an empty pool starts after the network address");
        vs_cidr_parse("10.77.0.0/30", &p);
        uint32_t full[] = { 0x0a4d0001, 0x0a4d0002 };
        tap_ok(vs_pool_next(&p, full, 2, &a) == -ENOSPC, "a full pool says so (no network/broadcast handed out)");
}

static void inet(void)
{
        struct vs_inet a, b, net, got;
        char buf[VS_INET_CIDR_MAX];
        char **l = NULL;
        static const char *const bad[] = { "fd77::5", "fd77::5/", "fd77::5/129", "fd77::5/0", "fd77::5/064",
                                           "fd77:::5/64", "fd77::g/64", "10.77.0.5/33", "::ffff:10.1/64", "" };

        tap_ok(vs_inet_cidr_parse("fd77::5/64", &a) == 0 && a.family == AF_INET6 && a.prefix == 64 && a.addr[0] == 0xfd &&
                       a.addr[15] == 5,
               "an IPv6 CIDR parses");
        tap_ok(vs_inet_cidr_parse("10.77.0.5/24", &b) == 0 && b.family == AF_INET && b.prefix == 24 && b.addr[3] == 5,
               "an IPv4 CIDR parses into the same type");
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                tap_ok(vs_inet_cidr_parse(bad[i], &a) < 0, "CIDR \"%s\" is refused", bad[i]);
        vs_inet_cidr_parse("fd77:0:0:0::05/64", &a);
        vs_inet_cidr_format(&a, buf, sizeof(buf));
        tap_is_str(buf, "fd77::5/64", "an IPv6 address formats canonically");
        vs_inet_parse("fd77::5", &b);
        tap_ok(vs_inet_same(&a, &b) && b.prefix == 128, "the same address in two spellings is the same");
        vs_inet_parse("10.77.0.5", &b);
        tap_ok(!vs_inet_same(&a, &b), "addresses of two families differ");
        vs_inet_cidr_parse("fd77::/64", &net);
        vs_inet_parse("fd77::ffff:1", &b);
        tap_ok(vs_inet_contains(&net, &b), "fd77::ffff:1 is in fd77::/64");
        vs_inet_parse("fd78::1", &b);
        tap_ok(!vs_inet_contains(&net, &b), "fd78::1 is not in fd77::/64");
        vs_inet_parse("10.77.0.1", &b);
        tap_ok(!vs_inet_contains(&net, &b), "an IPv4 address is in no IPv6 subnet");
        tap_ok(!vs_inet_is_host(&net), "the IPv6 subnet-router anycast address is not a host");
        vs_inet_cidr_parse("fd77::ffff:ffff:ffff:ffff/64", &a);
        tap_ok(vs_inet_is_host(&a), "IPv6 has no broadcast: the all-ones host is a host");
        vs_inet_cidr_parse("10.77.0.255/24", &a);
        tap_ok(!vs_inet_is_host(&a), "the IPv4 broadcast address is not a host");

        {
                struct vs_inet used[3];
                vs_inet_parse("fd77::1", &used[0]);
                vs_inet_parse("fd77::2", &used[1]);
                vs_inet_parse("10.77.0.3", &used[2]);
                tap_ok(vs_inet_pool_next(&net, used, 3, &got) == 0 && got.addr[15] == 3 && got.prefix == 64,
                       "the IPv6 pool gives the lowest free address");
                vs_inet_cidr_parse("10.77.0.0/24", &a);
                tap_ok(vs_inet_pool_next(&a, used, 3, &got) == 0 && got.family == AF_INET && got.addr[3] == 1,
                       "an IPv4 pool ignores IPv6 entries");
                vs_inet_cidr_parse("fd77::/127", &a);
                vs_inet_parse("fd77::1", &used[0]);
                vs_inet_parse("fd77::", &used[1]);
                tap_ok(vs_inet_pool_next(&a, used, 2, &got) == -ENOSPC, "a full IPv6 pool says so");
                vs_inet_cidr_parse("10.77.0.0/30", &a);
                vs_inet_parse("10.77.0.1", &used[0]);
                vs_inet_parse("10.77.0.2", &used[1]);
                tap_ok(vs_inet_pool_next(&a, used, 2, &got) == -ENOSPC, "a full IPv4 pool hands out no broadcast");
                vs_inet_cidr_parse("fd77::ff/120", &a);
                tap_ok(vs_inet_pool_next(&a, NULL, 0, &got) == 0 && got.addr[15] == 1 && got.addr[14] == 0,
                       "a pool starts after its network address, whatever host bits it was written with");
        }
        tap_ok(vs_inet_list_split("10.77.0.5/24, fd77::5/64  fd77::6/64,", &l) == 0 && vs_strv_length(l) == 3 &&
                       !strcmp(l[1], "fd77::5/64") && !strcmp(l[2], "fd77::6/64"),
               "an address list splits on commas and blanks");
        vs_strv_free(l);
        tap_ok(vs_inet_list_split(" , ", &l) == -EINVAL, "an empty address list is refused");
}

static void names(void)
{
        char a[16], b[16], c[16];
        uint8_t m1[6], m2[6];
        const char *l1 = "averyveryverylongguestnamethatgoesonandonandonandonandonandon-001";
        const char *l2 = "averyveryverylongguestnamethatgoesonandonandonandonandonandon-002";

        vs_net_veth_name(l1, a);
        vs_net_veth_name(l2, b);
        tap_ok(strlen(a) <= 15 && strlen(b) <= 15, "host names fit IFNAMSIZ (%s, %s)", a, b);
        tap_ok(strcmp(a, b) != 0, "two 64-character names with one prefix get distinct host names");
        vs_net_veth_name(l1, c);
        tap_is_str(c, a, "the host name is stable");
        vs_net_veth_name("web1", c);
        tap_ok(strncmp(c, "vsweb1-", 7) == 0 && strlen(c) == 13, "a short name shows in its host name (%s)", c);
        tap_ok(vs_ifname_valid(a) && vs_ifname_valid(c), "derived names are valid interface names");
        {
                /* vsnc13-20859 and vsnc13-57484 share 24 bits of hash. */
                char x[16], y[16], x1[16], y1[16], x0[16];
                vs_net_veth_name("vsnc13-20859", x);
                vs_net_veth_name("vsnc13-57484", y);
                vs_net_veth_name_salt("vsnc13-20859", 0, x0);
                vs_net_veth_name_salt("vsnc13-20859", 1, x1);
                vs_net_veth_name_salt("vsnc13-57484", 1, y1);
                tap_is_str(x, y, "two names can share a host name (%s)", x);
                tap_is_str(x0, x, "salt 0 gives the usual name");
                tap_ok(strcmp(x1, x) && strcmp(y1, y) && strcmp(x1, y1) && vs_ifname_valid(x1) &&
                               !strncmp(x1, "vsvsnc13-", 9) && strlen(x1) == 15,
                       "salted names differ from it and from each other (%s, %s)", x1, y1);
        }

        vs_net_mac("web1", m1);
        vs_net_mac("web1", m2);
        tap_ok(memcmp(m1, m2, 6) == 0, "the MAC is stable");
        tap_ok((m1[0] & 3) == 2, "the MAC is locally administered unicast");
        vs_net_mac("web2", m2);
        tap_ok(memcmp(m1, m2, 6) != 0, "two names get two MACs");
        tap_ok(vs_mac_parse("02:00:00:00:00:01", m1) == 0, "a MAC parses");
        tap_ok(vs_mac_parse("01:00:5e:00:00:01", m1) < 0, "a multicast MAC is refused");
        tap_ok(vs_mac_parse("02:00:00:00:00", m1) < 0, "a short MAC is refused");
        tap_ok(!vs_ifname_valid("abcdefghijklmnop"), "a 16-character interface name is refused");

        vs_net_ifb_names("vsbr0", a, b);
        tap_ok(!strncmp(a, "vsu", 3) && !strncmp(b, "vsd", 3) && !strcmp(a + 3, b + 3) && strlen(a) == 11 &&
                       vs_ifname_valid(a) && vs_ifname_valid(b),
               "a bridge's IFB pair shares one hash (%s, %s)", a, b);
        vs_net_ifb_names("/routed", c, c);
        tap_ok(strcmp(c + 3, a + 3) != 0, "another bridge, other IFBs (%s)", c);
        tap_ok(vs_nft_name_safe("vs-web1_a.b", 16) && !vs_nft_name_safe("", 16) && !vs_nft_name_safe(NULL, 16),
               "nftables takes a plain name, not an empty one");
        tap_ok(!vs_nft_name_safe("a\"b", 16) && !vs_nft_name_safe("a b", 16) && !vs_nft_name_safe("abcdefghijklmnop", 16),
               "nor a quote, a blank or one of @max bytes");
}

static void config_keys(void)
{
        struct vs_config *c = NULL;
        struct vs_error e;
        static const struct {
                const char *key, *value;
        } bad[] = { { "net.rate", "0" },          { "net.rate", "-5mbit" },       { "net.rate", "fast" },
                    { "net.ceil", "0mbit" },      { "net.address", "10.77.0.11" }, { "net.address", "10.77.0.300/24" },
                    { "net.address", "10.77.0.0/24" }, { "net.bridge", "averylongbridgename" },
                    { "net.gateway", "10.77.0" },  { "net.mac", "zz:00:00:00:00:01" }, { "net.nat", "maybe" },
                    { "net.address", "10.77.0.11/24, fd77::11" }, { "net.address", "fd77::/64" },
                    { "net.address", "10.77.0.11/24 fd77::11/64 10.77.0.11/24" }, { "net.address", ", " },
                    { "net.gateway", "10.77.0.1, 10.77.0.2" }, { "net.gateway", "fd77::1 fd77::2" },
                    { "net.gateway", "fd77::1/64" },  { "net.mode", "bridged" }, { "net.mode", "" } };

        vs_config_new("g", &c);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                memset(&e, 0, sizeof(e));
                tap_ok(vs_config_set(c, bad[i].key, bad[i].value, &e) == -EINVAL && strcmp(e.key, bad[i].key) == 0,
                       "%s = %s is refused naming the key (%s)", bad[i].key, bad[i].value, e.msg);
        }
        /* Bridge names go into nftables scripts: nothing that could end a
         * quoted string or a statement there. */
        static const char *const bad_bridges[] = { "br\"x", "br;x", "br x", "br\nx", "br}x", "br{", "br\\x", ".", "..",
                                                   "", "br/x", "br:x", "br$x", "br#x" };
        for (size_t i = 0; i < sizeof(bad_bridges) / sizeof(bad_bridges[0]); i++) {
                char shown[32];
                size_t k = 0;
                for (const char *q = bad_bridges[i]; *q && k < sizeof(shown) - 3; q++)
                        k += (size_t)snprintf(shown + k, sizeof(shown) - k, *q == '\n' ? "\\n" : "%c", *q);
                shown[k] = '\0';
                memset(&e, 0, sizeof(e));
                tap_ok(vs_config_set(c, "net.bridge", bad_bridges[i], &e) == -EINVAL && !strcmp(e.key, "net.bridge"),
                       "net.bridge = [%s] is refused naming the key", shown);
        }
        static const char *const good_bridges[] = { "vsbr0", "br-lan.10", "my_bridge", "abcdefghijklmno" };
        for (size_t i = 0; i < sizeof(good_bridges) / sizeof(good_bridges[0]); i++)
                tap_ok(vs_config_set(c, "net.bridge", good_bridges[i], &e) == 0, "net.bridge = %s is taken",
                       good_bridges[i]);
        tap_ok(vs_config_set(c, "net.address", "10.77.0.11/24", &e) == 0, "an address is taken");
        tap_ok(vs_config_set(c, "net.rate", "30mbit", &e) == 0 && vs_config_set(c, "net.ceil", "20mbit", &e) == 0,
               "rate and ceil are taken one by one");
        memset(&e, 0, sizeof(e));
        tap_ok(vs_config_check(c, &e) == -EINVAL && !strcmp(e.key, "net.ceil"), "ceil < rate is refused naming net.ceil (%s)",
               e.msg);
        vs_config_set(c, "net.ceil", "100mbit", &e);
        tap_ok(vs_config_check(c, &e) == 0, "ceil >= rate passes");
        vs_config_set(c, "net.gateway", "10.77.1.1", &e);
        memset(&e, 0, sizeof(e));
        tap_ok(vs_config_check(c, &e) == -EINVAL && !strcmp(e.key, "net.gateway"),
               "a gateway outside the subnet is refused naming net.gateway");
        vs_config_set(c, "net.gateway", "10.77.0.1", &e);
        tap_ok(vs_config_check(c, &e) == 0, "a gateway inside the subnet passes");
        char *text = vs_config_format(c);
        tap_ok(text && strstr(text, "[net]") && strstr(text, "rate = 30mbit") && strstr(text, "address = 10.77.0.11/24"),
               "the [net] keys are written back");
        free(text);
        tap_ok(vs_config_set(c, "net.address", "10.77.0.11/24, fd77::11/64", &e) == 0 &&
                       vs_config_set(c, "net.gateway", "10.77.0.1, fd77::1", &e) == 0 && vs_config_check(c, &e) == 0,
               "two addresses and a gateway per family pass");
        vs_config_set(c, "net.gateway", "10.77.0.1 fd78::1", &e);
        memset(&e, 0, sizeof(e));
        tap_ok(vs_config_check(c, &e) == -EINVAL && !strcmp(e.key, "net.gateway"),
               "an IPv6 gateway outside every IPv6 subnet is refused (%s)", e.msg);
        vs_config_set(c, "net.gateway", "fd77::11", &e);
        tap_ok(vs_config_check(c, &e) == -EINVAL && !strcmp(e.key, "net.gateway"),
               "the guest's own IPv6 address as gateway is refused");
        vs_config_set(c, "net.gateway", "fd77::1", &e);
        vs_config_set(c, "net.address", "fd77::11/64", &e);
        vs_config_set(c, "net.nat", "yes", &e);
        memset(&e, 0, sizeof(e));
        tap_ok(vs_config_check(c, &e) == -EINVAL && !strcmp(e.key, "net.nat"), "nat without an IPv4 address is refused (%s)",
               e.msg);
        vs_config_set(c, "net.nat", "no", &e);
        tap_ok(vs_config_set(c, "net.mode", "routed", &e) == 0 && c->net_routed, "net.mode = routed is taken");
        memset(&e, 0, sizeof(e));
        tap_ok(vs_config_check(c, &e) == -EINVAL && !strcmp(e.key, "net.gateway"),
               "a gateway of one's own is refused in routed mode (%s)", e.msg);
        free(c->net_gateway);
        c->net_gateway = NULL;
        tap_ok(vs_config_check(c, &e) == -EINVAL && !strcmp(e.key, "net.bridge"), "so is a bridge");
        free(c->net_bridge);
        c->net_bridge = NULL;
        tap_ok(vs_config_check(c, &e) == 0, "a routed guest with addresses alone passes");
        text = vs_config_format(c);
        tap_ok(text && strstr(text, "mode = routed"), "mode = routed is written back");
        free(text);
        vs_config_set(c, "net.mode", "bridge", &e);
        text = vs_config_format(c);
        tap_ok(!c->net_routed && text && !strstr(text, "mode ="), "mode = bridge is the default, not written");
        free(text);
        vs_config_free(c);
}

static void defaults_file(void)
{
        char path[] = "/tmp/vs-test-net-XXXXXX";
        struct vs_net_defaults d;
        struct vs_error e;
        int fd = mkstemp(path);
        FILE *f = fdopen(fd, "w");

        fputs("[net]\nbridge = vsbr7\naddress = 10.9.0.1/24\npool = 10.9.0.128/25\ntotal = 40mbit\n[other]\nx = 1\n", f);
        fclose(f);
        tap_ok(vs_net_defaults_load(path, &d, &e) == 0 && !strcmp(d.bridge, "vsbr7") && d.total == 40000000 &&
                       !strcmp(d.pool, "10.9.0.128/25"),
               "defaults.conf [net] is read, other sections left alone");
        vs_net_defaults_clear(&d);
        f = fopen(path, "w");
        fputs("[net]\naddress = 10.9.0.1/24\npool = 10.8.0.0/24\n", f);
        fclose(f);
        tap_ok(vs_net_defaults_load(path, &d, &e) == -EINVAL && !strcmp(e.key, "net.pool"),
               "a pool outside the bridge's subnet is refused naming net.pool");
        f = fopen(path, "w");
        fputs("[net]\ntotal = fast\n", f);
        fclose(f);
        tap_ok(vs_net_defaults_load(path, &d, &e) == -EINVAL && !strcmp(e.key, "net.total") && e.line == 2,
               "a bad total is refused naming net.total and its line");
        f = fopen(path, "w");
        fputs("[net]\nbridge = br\";x\n", f);
        fclose(f);
        tap_ok(vs_net_defaults_load(path, &d, &e) == -EINVAL && !strcmp(e.key, "net.bridge") && e.line == 2,
               "a bridge name with '\"' and ';' in defaults.conf is refused naming net.bridge and its line");
        {
                const char *msg = e.msg;
                vs_error_locate(&e, -EINVAL, path);
                tap_ok(strstr(msg, path) && strstr(msg, "key \"net.bridge\""), "the message names the file and key (%s)",
                       msg);
        }
        f = fopen(path, "w");
        fputs("[net]\naddress6 = fd77::1/64\npool6 = fd77::/64\n", f);
        fclose(f);
        tap_ok(vs_net_defaults_load(path, &d, &e) == 0 && !strcmp(d.address6, "fd77::1/64") && !strcmp(d.pool6, "fd77::/64"),
               "address6 and pool6 are read");
        vs_net_defaults_clear(&d);
        f = fopen(path, "w");
        fputs("[net]\naddress6 = fd77::1/64\npool6 = fd78::/64\n", f);
        fclose(f);
        tap_ok(vs_net_defaults_load(path, &d, &e) == -EINVAL && !strcmp(e.key, "net.pool6"),
               "an IPv6 pool outside the bridge's subnet is refused naming net.pool6");
        f = fopen(path, "w");
        fputs("[net]\npool6 = 10.77.0.0/24\n", f);
        fclose(f);
        tap_ok(vs_net_defaults_load(path, &d, &e) == -EINVAL && !strcmp(e.key, "net.pool6"),
               "an IPv4 subnet as pool6 is refused");
        {
                static const struct {
                        const char *text, *key, *says, *what;
                } bad[] = {
                        { "address = 10.9.0.0/24", "net.address", "not a host", "the subnet's own address" },
                        { "address = 10.9.0.255/24", "net.address", "not a host", "its broadcast address" },
                        { "address = fd77::1/64", "net.address", "IPv4", "an IPv6 address as address" },
                        { "address6 = fd77::/64", "net.address6", "not a host", "the IPv6 subnet's own address" },
                        { "address6 = 10.9.0.1/24", "net.address6", "IPv6", "an IPv4 address as address6" },
                        { "address = 10.9.0.1/24\npool = 10.9.0.0/16", "net.pool", "not inside", "a wider pool" },
                        { "address6 = fd77::1/64\npool6 = fd77::/48", "net.pool6", "(net.address6)", "a wider pool6" },
                };
                for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                        f = fopen(path, "w");
                        fprintf(f, "[net]\n%s\n", bad[i].text);
                        fclose(f);
                        tap_ok(vs_net_defaults_load(path, &d, &e) == -EINVAL && !strcmp(e.key, bad[i].key) &&
                                       strstr(e.msg, bad[i].says),
                               "%s is refused naming %s (%s)", bad[i].what, bad[i].key, e.msg);
                }
        }
        unlink(path);
        tap_ok(vs_net_defaults_load(path, &d, &e) == 0 && !strcmp(d.bridge, "vsbr0") && !d.pool,
               "without the file: bridge vsbr0, no pool");
        vs_net_defaults_clear(&d);
}

int main(void)
{
        rates();
        cidrs();
        pool();
        inet();
        names();
        config_keys();
        defaults_file();
        return tap_done();
}
