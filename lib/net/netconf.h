/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Networking values without any I/O: rates, IPv4 addresses and subnets,
 * the host interface names and MAC addresses derived from a guest's name,
 * and the address pool. Unit-tested in tests/unit/test-net.c. */

#define VS_IFNAME_MAX 15 /* IFNAMSIZ - 1 */

/* Parses a rate such as "20mbit": a whole number followed by bit, kbit,
 * mbit, gbit or tbit (powers of 1000, as tc counts). *ret is bits per
 * second. -EINVAL when malformed, zero or negative; -ERANGE above 10tbit. */
int vs_rate_parse(const char *s, uint64_t *ret);
/* Formats bits per second the shortest exact way ("20mbit"). */
void vs_rate_format(uint64_t bps, char *buf, size_t len);

struct vs_cidr {
        uint32_t addr; /* host byte order */
        unsigned prefix;
};
/* Parses a dotted-quad IPv4 address into host byte order. */
int vs_ipv4_parse(const char *s, uint32_t *ret);
void vs_ipv4_format(uint32_t addr, char *buf, size_t len);
/* Parses "a.b.c.d/N" (N 1..32). */
int vs_cidr_parse(const char *s, struct vs_cidr *ret);
uint32_t vs_cidr_mask(unsigned prefix);
/* True when @addr lies in the subnet of @net. */
bool vs_cidr_contains(const struct vs_cidr *net, uint32_t addr);
/* True when @c names a usable host of its subnet (not its network or
 * broadcast address, for prefixes up to /30). */
bool vs_cidr_is_host(const struct vs_cidr *c);

/* An IPv4 or IPv6 address, with the prefix length of its subnet. */
struct vs_inet {
        int family;       /* AF_INET or AF_INET6 */
        uint8_t addr[16]; /* network byte order; AF_INET uses the first 4 */
        unsigned prefix;
};
/* The most addresses net.address takes. */
#define VS_NET_ADDR_MAX 16
/* The longest "ADDR/PREFIX" any family gives, with its NUL. */
#define VS_INET_CIDR_MAX 50
/* Parses an address of either family alone ("10.77.0.1", "fd77::1"):
 * prefix is the full length (32, 128). */
int vs_inet_parse(const char *s, struct vs_inet *ret);
/* Parses "ADDR/N" of either family (N 1..32 or 1..128). */
int vs_inet_cidr_parse(const char *s, struct vs_inet *ret);
/* The address alone ("fd77::5"), or with its prefix ("fd77::5/64"),
 * in the canonical form inet_ntop gives. */
void vs_inet_format(const struct vs_inet *a, char *buf, size_t len);
void vs_inet_cidr_format(const struct vs_inet *a, char *buf, size_t len);
/* True when both are the same address of the same family, whatever their
 * prefixes. */
bool vs_inet_same(const struct vs_inet *a, const struct vs_inet *b);
/* True when @a lies in the subnet of @net (same family). */
bool vs_inet_contains(const struct vs_inet *net, const struct vs_inet *a);
/* True when @c names a usable host of its subnet: IPv4 as
 * vs_cidr_is_host(); IPv6 not the subnet's all-zero (router anycast)
 * address, for prefixes up to /126. */
bool vs_inet_is_host(const struct vs_inet *c);
/* The lowest address of @pool (either family) that is not in @used (n
 * entries, other families ignored), not its network address and, for
 * IPv4, not its broadcast address; @ret gets the pool's prefix. -ENOSPC
 * when full. */
int vs_inet_pool_next(const struct vs_inet *pool, const struct vs_inet *used, size_t n, struct vs_inet *ret);

/* An address list, as net.address and net.gateway take it: entries
 * separated by commas and/or blanks. Returns a NULL-terminated list of the
 * entries (vs_strv_free()), -EINVAL when empty. */
int vs_inet_list_split(const char *s, char ***ret);

/* A valid interface name: 1..15 of [A-Za-z0-9_.-], not "." or ".."; safe
 * to paste into a quoted nftables string. */
bool vs_ifname_valid(const char *s);
/* A name an nftables script may carry between quotes, which have no
 * escapes there: 1..@max-1 of [A-Za-z0-9_.-] (a table's name may be longer
 * than an interface's). */
bool vs_nft_name_safe(const char *s, size_t max);

/* FNV-1a, 64 bits: the stable hash behind derived names and MACs. */
uint64_t vs_name_hash(const char *s);

/* The host-side veth name of guest @name: "vs", up to six characters of
 * the name, "-" and six hex digits of its hash; at most 15 characters and
 * distinct for names that share a long prefix. */
void vs_net_veth_name(const char *name, char out[VS_IFNAME_MAX + 1]);
/* The same with @salt mixed into the hash (0: vs_net_veth_name()): the
 * names to try in turn when another guest's veth took the first (24 bits
 * of hash do collide, for about one pair in 4,000 guests). */
void vs_net_veth_name_salt(const char *name, unsigned salt, char out[VS_IFNAME_MAX + 1]);
/* The IFB devices that shape the guests of bridge @bridge, one per
 * direction: "vsu" (from the guests) and "vsd" (to them), then eight hex
 * digits of its hash. */
void vs_net_ifb_names(const char *bridge, char up[VS_IFNAME_MAX + 1], char down[VS_IFNAME_MAX + 1]);
/* A locally administered unicast MAC derived from @name. */
void vs_net_mac(const char *name, uint8_t mac[6]);
/* Parses "aa:bb:cc:dd:ee:ff"; refuses multicast and all-zero addresses. */
int vs_mac_parse(const char *s, uint8_t mac[6]);
void vs_mac_format(const uint8_t mac[6], char *buf, size_t len);

/* The lowest host address of @pool that is not in @used (n entries) and
 * not the pool's network or broadcast address. -ENOSPC when full. */
int vs_pool_next(const struct vs_cidr *pool, const uint32_t *used, size_t n, uint32_t *ret);

/* Host-wide network settings, [net] of defaults.conf. */
struct vs_net_defaults {
        char *bridge;         /* default "vsbr0" */
        char *address;        /* the bridge's address (CIDR), the guests' gateway; NULL: none */
        char *pool;           /* subnet guests' addresses are taken from; NULL: no automatic addresses */
        char *address6;       /* the same for IPv6 */
        char *pool6;
        uint64_t total;       /* bits per second all shaped guests share; default 1gbit */
};
struct vs_error;
/* Reads [net] of @path (other sections are left to their readers). A
 * missing file gives the built-in defaults. Unknown [net] keys and bad
 * values fail with -EINVAL and the key in @err. */
int vs_net_defaults_load(const char *path, struct vs_net_defaults *ret, struct vs_error *err);
void vs_net_defaults_clear(struct vs_net_defaults *d);
