/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Anti-spoofing rules on the host side of a guest's veth (net-filter.h).
 *
 * Ingress of the host-side veth is what the guest sends, before the bridge
 * sees it: the bridge neither learns a forged MAC nor floods a forged frame.
 * The chain runs at priority -200, ahead of the shaping chain (priority 0,
 * whose "fwd" ends the chain), and lives in a table of its own because
 * vs-limit replaces the shaping table whole. */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "guest-net.h"
#include "net-filter.h"
#include "netlink.h"
#include "netconf.h"
#include "util.h"

#define DROP "counter name \"dropped\" drop"

void vs_net_filter_table(const char *table, char *buf, size_t len)
{
        snprintf(buf, len, "%s" VS_NET_FILTER_SUFFIX, table);
}

/* Addresses in canonical text (inet_ntop), never the caller's text. */
struct addrs {
        char v4[16][INET_ADDRSTRLEN];
        char v6[16][INET6_ADDRSTRLEN];
        uint8_t v6raw[16][16];
        size_t n4, n6;
};

static int addrs_parse(const char *const *in, struct addrs *a)
{
        memset(a, 0, sizeof(*a));
        for (; in && *in; in++) {
                char ip[INET6_ADDRSTRLEN + 8];
                uint8_t raw[16];
                const char *slash = strchr(*in, '/');
                size_t k = slash ? (size_t)(slash - *in) : strlen(*in);

                if (k >= sizeof(ip))
                        return -EINVAL;
                memcpy(ip, *in, k);
                ip[k] = '\0';
                if (slash) {
                        char *e;
                        unsigned long p = strtoul(slash + 1, &e, 10);
                        if (!slash[1] || *e || slash[1] < '0' || slash[1] > '9' ||
                            p > (strchr(ip, ':') ? 128u : 32u))
                                return -EINVAL;
                }
                if (inet_pton(AF_INET, ip, raw) == 1) {
                        if (a->n4 == 16)
                                return -E2BIG;
                        inet_ntop(AF_INET, raw, a->v4[a->n4++], INET_ADDRSTRLEN);
                } else if (inet_pton(AF_INET6, ip, raw) == 1) {
                        if (a->n6 == 15) /* one slot for the link-local */
                                return -E2BIG;
                        memcpy(a->v6raw[a->n6], raw, 16);
                        inet_ntop(AF_INET6, raw, a->v6[a->n6++], INET6_ADDRSTRLEN);
                } else
                        return -EINVAL;
        }
        return 0;
}

/* The link-local address the kernel gives eth0 (addr_gen_mode eui64, the
 * default): fe80::/64 with the modified EUI-64 of the MAC. */
static void eui64_link_local(const uint8_t mac[6], uint8_t out[16])
{
        memset(out, 0, 16);
        out[0] = 0xfe;
        out[1] = 0x80;
        out[8] = mac[0] ^ 0x02;
        out[9] = mac[1];
        out[10] = mac[2];
        out[11] = 0xff;
        out[12] = 0xfe;
        out[13] = mac[3];
        out[14] = mac[4];
        out[15] = mac[5];
}

/* Addresses @n of them, @stride bytes apart, as an nftables set. */
static void list(FILE *f, const char *v, size_t stride, size_t n)
{
        fputs("{ ", f);
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%s%s", i ? ", " : "", v + i * stride);
        fputs(" }", f);
}

/* The table and its entry chain, on the veth's ingress: the guest's own MAC
 * only, then by protocol. */
static void guest_chain(FILE *f, const char *ft, const char *veth, const char *m)
{
        /* "add; delete" first: a start after a crash replaces a stale table
         * of the same name instead of failing on it. */
        fprintf(f,
                "add table netdev %1$s\n"
                "delete table netdev %1$s\n"
                "table netdev %1$s {\n"
                " counter dropped { }\n"
                " chain guest { type filter hook ingress device \"%2$s\" priority -200; policy accept;\n"
                "  ether saddr != %3$s " DROP "\n"
                "  ether type arp jump from_arp\n"
                "  ether type ip jump from_ip\n"
                "  ether type ip6 jump from_ip6\n"
                /* VLAN tags and every other protocol: a bridge would pass
                 * them on with whatever they carry inside. */
                "  " DROP "\n"
                " }\n",
                ft, veth, m);
}

/* ARP: only Ethernet/IPv4 (another layout moves the fields), its own
 * MAC and address as sender; 0.0.0.0 is an address probe (RFC 5227). */
static void arp_chain(FILE *f, const char *m, const struct addrs *a)
{
        fputs(" chain from_arp {\n"
              "  arp htype != 1 " DROP "\n"
              "  arp ptype != ip " DROP "\n"
              "  arp hlen != 6 " DROP "\n"
              "  arp plen != 4 " DROP "\n",
              f);
        fprintf(f, "  arp saddr ether != %s " DROP "\n", m);
        fputs("  arp saddr ip != { 0.0.0.0", f);
        for (size_t i = 0; i < a->n4; i++)
                fprintf(f, ", %s", a->v4[i]);
        fputs(" } " DROP "\n"
              "  accept\n"
              " }\n",
              f);
}

/* IPv4: a DHCP client asks from 0.0.0.0; a server's reply comes from
 * port 67, whatever its source address. */
static void ip_chain(FILE *f, const struct addrs *a)
{
        fputs(" chain from_ip {\n", f);
        /* The common case first: TCP from its own address is none of what
         * the rules below look for. */
        if (a->n4) {
                fputs("  meta l4proto tcp ip saddr ", f);
                list(f, a->v4[0], sizeof(a->v4[0]), a->n4);
                fputs(" accept\n", f);
        }
        fputs("  udp sport 67 " DROP "\n"
              "  ip saddr 0.0.0.0 udp sport 68 udp dport 67 accept\n",
              f);
        if (a->n4) {
                fputs("  ip saddr != ", f);
                list(f, a->v4[0], sizeof(a->v4[0]), a->n4);
                fputs(" " DROP "\n  accept\n", f);
        } else
                fputs("  " DROP "\n", f);
        fputs(" }\n", f);
}

/* IPv6: no router advertisement or redirect, no DHCPv6 reply (from
 * port 547); a neighbour advertisement only for its own address
 * (the target, bits 64..191 of the ICMPv6 header: this nft has no
 * name for it) and a link-layer address option (first option,
 * type 1 or 2, length 1) only with its own MAC. Duplicate address
 * detection sends from ::, as do the MLD reports and router
 * solicitations of an interface without an address yet. Closes the table. */
static void ip6_chain(FILE *f, const char *mhex, const struct addrs *a)
{
        fputs(" chain from_ip6 {\n  meta l4proto tcp ip6 saddr ", f);
        list(f, a->v6[0], sizeof(a->v6[0]), a->n6);
        fputs(" accept\n"
              "  udp sport 547 " DROP "\n"
              "  icmpv6 type { nd-router-advert, nd-redirect } " DROP "\n",
              f);
        fprintf(f,
                "  icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } @th,192,16 { 0x0101, 0x0201 }"
                " @th,208,48 != %s " DROP "\n",
                mhex);
        fputs("  icmpv6 type nd-neighbor-advert @th,64,128 != { ", f);
        for (size_t i = 0; i < a->n6; i++) {
                fputs(i ? ", 0x" : "0x", f);
                for (int b = 0; b < 16; b++)
                        fprintf(f, "%02x", a->v6raw[i][b]);
        }
        fputs(" } " DROP "\n"
              "  ip6 saddr :: icmpv6 type { nd-router-solicit, nd-neighbor-solicit, mld-listener-report,"
              " mld2-listener-report } accept\n"
              "  ip6 saddr != ",
              f);
        list(f, a->v6[0], sizeof(a->v6[0]), a->n6);
        fputs(" " DROP "\n"
              "  accept\n"
              " }\n"
              "}\n",
              f);
}

int vs_net_filter_rules(const char *table, const char *veth, const uint8_t mac[6], const char *const *addrs,
                        char **ret)
{
        _cleanup_free_ char *out = NULL;
        struct addrs a;
        char ft[64], m[18], mhex[16];
        size_t size = 0;
        FILE *f;
        int r;

        if (!vs_nft_name_safe(table, 64 - sizeof(VS_NET_FILTER_SUFFIX)) || !vs_nft_name_safe(veth, 16))
                return -EINVAL;
        r = addrs_parse(addrs, &a);
        if (r < 0)
                return r;
        eui64_link_local(mac, a.v6raw[a.n6]);
        inet_ntop(AF_INET6, a.v6raw[a.n6], a.v6[a.n6], INET6_ADDRSTRLEN);
        a.n6++;
        vs_net_filter_table(table, ft, sizeof(ft));
        snprintf(m, sizeof(m), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
        snprintf(mhex, sizeof(mhex), "0x%02x%02x%02x%02x%02x%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);

        f = open_memstream(&out, &size);
        if (!f)
                return -ENOMEM;
        guest_chain(f, ft, veth, m);
        arp_chain(f, m, &a);
        ip_chain(f, &a);
        ip6_chain(f, mhex, &a);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(out);
        return 0;
}

int vs_net_filter_install(const char *table, const char *veth, const uint8_t mac[6], const char *const *addrs,
                          struct vs_error *err)
{
        _cleanup_free_ char *cmd = NULL;
        int r = vs_net_filter_rules(table, veth, mac, addrs, &cmd);

        if (r < 0)
                return vs_error_set(err, r, "%s",
                                    r == -EINVAL ? "an interface name or address nftables cannot take" : strerror(-r));
        return vs_nft_run(cmd, err);
}

void vs_net_filter_remove(const char *table)
{
        _cleanup_free_ char *cmd = NULL;
        char ft[64];

        if (!vs_nft_name_safe(table, 64 - sizeof(VS_NET_FILTER_SUFFIX)))
                return;
        vs_net_filter_table(table, ft, sizeof(ft));
        cmd = vs_strdupf("add table netdev %1$s\ndelete table netdev %1$s\n", ft);
        if (cmd)
                (void)vs_nft_run(cmd, NULL);
}

int vs_net_filter_dropped(const char *table, uint64_t *ret_packets)
{
        _cleanup_free_ char *cmd = NULL, *out = NULL;
        const char *p;
        char ft[64];
        int r;

        if (!vs_nft_name_safe(table, 64 - sizeof(VS_NET_FILTER_SUFFIX)))
                return -EINVAL;
        vs_net_filter_table(table, ft, sizeof(ft));
        cmd = vs_strdupf("list counter netdev %s dropped\n", ft);
        if (!cmd)
                return -ENOMEM;
        r = vs_nft_query(cmd, &out, NULL);
        if (r == -EIO)
                return -ENOENT; /* no such table: the guest runs unfiltered */
        if (r < 0)
                return r;
        p = strstr(out, "packets ");
        if (!p)
                return -EBADMSG;
        *ret_packets = strtoull(p + 8, NULL, 10);
        return 0;
}

int vs_guest_net_dropped(const char *name, uint64_t *ret_packets)
{
        struct vs_guest_net n;
        int r = vs_guest_net_read(name, &n);

        if (r < 0)
                return r;
        return vs_net_filter_dropped(n.table, ret_packets);
}
