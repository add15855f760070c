/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The anti-spoofing rules' text: IPv4 only, IPv6 only and both, and the
 * names and addresses it refuses to paste into nftables. With
 * VS_TEST_NFT_OUT=DIR each script is also written there, for a check by
 * nft itself against a scratch veth. */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net-filter.h"
#include "tap.h"

static const uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };

/* @s on one line, for a TAP description. */
static const char *flat(const char *s)
{
        static char b[512];
        size_t k = 0;
        for (; *s && k + 3 < sizeof(b); s++)
                if (*s == '\n') {
                        b[k++] = '\\';
                        b[k++] = 'n';
                } else
                        b[k++] = *s;
        b[k] = '\0';
        return b;
}

static void has(const char *text, const char *want, const char *what)
{
        tap_ok(text && strstr(text, want) != NULL, "%s: has \"%s\"", what, flat(want));
}

static void hasnt(const char *text, const char *want, const char *what)
{
        tap_ok(text && strstr(text, want) == NULL, "%s: has no \"%s\"", what, flat(want));
}

static char *build(const char *what, const char *const *addrs)
{
        char *t = NULL;
        int r = vs_net_filter_rules("vserver_0123456789abcdef", "vsspoof-abcdef", mac, addrs, &t);
        const char *dir = getenv("VS_TEST_NFT_OUT");

        tap_is_int(r, 0, "%s: rules built", what);
        if (t && dir) {
                char p[512];
                snprintf(p, sizeof(p), "%s/%s.nft", dir, what);
                FILE *f = fopen(p, "w");
                if (f) {
                        fputs(t, f);
                        fclose(f);
                }
        }
        return t;
}

/* What every script has, whatever the addresses. */
static void common(const char *t, const char *what)
{
        has(t, "add table netdev vserver_0123456789abcdef_f\ndelete table netdev vserver_0123456789abcdef_f\n", what);
        has(t, "counter dropped { }", what);
        has(t, "hook ingress device \"vsspoof-abcdef\" priority -200; policy accept;", what);
        has(t, "ether saddr != 02:11:22:33:44:55 counter name \"dropped\" drop", what);
        has(t, "arp saddr ether != 02:11:22:33:44:55 counter name \"dropped\" drop", what);
        has(t, "udp sport 67 counter name \"dropped\" drop", what);
        has(t, "ip saddr 0.0.0.0 udp sport 68 udp dport 67 accept", what);
        has(t, "udp sport 547 counter name \"dropped\" drop", what);
        has(t, "icmpv6 type { nd-router-advert, nd-redirect } counter name \"dropped\" drop", what);
        has(t, "@th,208,48 != 0x021122334455 counter name \"dropped\" drop", what);
        has(t, "ip6 saddr :: icmpv6 type { nd-router-solicit, nd-neighbor-solicit", what);
        /* The link-local is the MAC's modified EUI-64. */
        has(t, "fe80::11:22ff:fe33:4455", what);
        has(t, "0xfe800000000000000011" "22fffe334455", what);
        /* Anything but ARP, IPv4 and IPv6 ends in the last rule. */
        has(t, "  ether type ip6 jump from_ip6\n  counter name \"dropped\" drop\n }", what);
}

int main(void)
{
        static const char *const v4[] = { "10.233.1.11/24", NULL };
        static const char *const v6[] = { "fd33::11/64", NULL };
        static const char *const both[] = { "10.233.1.11/24", "fd33:0:0::11/64", "10.233.2.5/32", "2001:db8::5/128",
                                            NULL };
        char *t;

        t = build("v4", v4);
        common(t, "v4");
        has(t, "arp saddr ip != { 0.0.0.0, 10.233.1.11 } counter", "v4");
        has(t, "ip saddr != { 10.233.1.11 } counter name \"dropped\" drop\n  accept", "v4");
        has(t, "ip6 saddr != { fe80::11:22ff:fe33:4455 } counter", "v4: only its link-local as IPv6 source");
        has(t, "@th,64,128 != { 0xfe80000000000000001122fffe334455 } counter", "v4: NA only for its link-local");
        free(t);

        t = build("v6", v6);
        common(t, "v6");
        has(t, "arp saddr ip != { 0.0.0.0 } counter", "v6: ARP only as a probe");
        has(t, "ip saddr 0.0.0.0 udp sport 68 udp dport 67 accept\n  counter name \"dropped\" drop\n }",
            "v6: no IPv4 source but the DHCP client's");
        has(t, "ip6 saddr != { fd33::11, fe80::11:22ff:fe33:4455 } counter", "v6");
        has(t, "@th,64,128 != { 0xfd330000000000000000000000000011, 0xfe80000000000000001122fffe334455 }", "v6");
        free(t);

        t = build("both", both);
        common(t, "both");
        has(t, "arp saddr ip != { 0.0.0.0, 10.233.1.11, 10.233.2.5 } counter", "both");
        has(t, "ip saddr != { 10.233.1.11, 10.233.2.5 } counter", "both");
        has(t, "ip6 saddr != { fd33::11, 2001:db8::5, fe80::11:22ff:fe33:4455 } counter", "both: canonical text");
        hasnt(t, "fd33:0:0::11", "both: the caller's text is not pasted");
        has(t,
            "@th,64,128 != { 0xfd330000000000000000000000000011, 0x20010db8000000000000000000000005, "
            "0xfe80000000000000001122fffe334455 }",
            "both");
        free(t);

        /* Refused: what could break out of the script or is no address. */
        {
                static const char *const bad_addr[][2] = {
                        { "10.233.1.11/24; flush ruleset", NULL }, { "10.233.1.300/24", NULL },
                        { "fd33::g/64", NULL },                    { "", NULL },
                        { "10.233.1.11 }", NULL },
                };
                for (size_t i = 0; i < sizeof(bad_addr) / sizeof(bad_addr[0]); i++) {
                        t = NULL;
                        tap_is_int(vs_net_filter_rules("vserver_x", "vsx", mac, bad_addr[i], &t), -EINVAL,
                                   "address \"%s\" is refused", bad_addr[i][0]);
                        tap_ok(t == NULL, "nothing returned for \"%s\"", bad_addr[i][0]);
                }
                static const char *const bad_name[] = { "vs\"x", "vs x", "", "vs;x", "vs{x" };
                for (size_t i = 0; i < sizeof(bad_name) / sizeof(bad_name[0]); i++) {
                        tap_is_int(vs_net_filter_rules(bad_name[i], "vsx", mac, v4, &t), -EINVAL,
                                   "table name \"%s\" is refused", bad_name[i]);
                        tap_is_int(vs_net_filter_rules("vserver_x", bad_name[i], mac, v4, &t), -EINVAL,
                                   "veth name \"%s\" is refused", bad_name[i]);
                }
                tap_is_int(vs_net_filter_rules("vserver_x", "vsx-0123456789ab", mac, v4, &t), -EINVAL,
                           "a 16-character veth name is refused");
        }
        {
                char b[64];
                vs_net_filter_table("vserver_0123456789abcdef", b, sizeof(b));
                tap_is_str(b, "vserver_0123456789abcdef_f", "the filter table's name");
        }
        return tap_done();
}
