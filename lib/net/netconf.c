/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "config.h"
#include "netconf.h"
#include "util.h"

#define RATE_MAX (UINT64_C(10) * 1000 * 1000 * 1000 * 1000)

int vs_rate_parse(const char *s, uint64_t *ret)
{
        static const struct {
                const char *unit;
                uint64_t mult;
        } units[] = { { "bit", 1 }, { "kbit", 1000 }, { "mbit", 1000000 }, { "gbit", 1000000000 },
                      { "tbit", UINT64_C(1000000000000) } };
        uint64_t v = 0;
        const char *p = s;

        if (!isdigit((unsigned char)*p))
                return -EINVAL;
        for (; isdigit((unsigned char)*p); p++) {
                if (v > RATE_MAX)
                        return -ERANGE;
                v = v * 10 + (uint64_t)(*p - '0');
        }
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (strcasecmp(p, units[i].unit) == 0) {
                        if (v == 0)
                                return -EINVAL;
                        if (v > RATE_MAX / units[i].mult)
                                return -ERANGE;
                        *ret = v * units[i].mult;
                        return 0;
                }
        return -EINVAL;
}

void vs_rate_format(uint64_t bps, char *buf, size_t len)
{
        static const char *const units[] = { "bit", "kbit", "mbit", "gbit", "tbit" };
        int u = 0;
        while (u < 4 && bps && bps % 1000 == 0) {
                bps /= 1000;
                u++;
        }
        snprintf(buf, len, "%llu%s", (unsigned long long)bps, units[u]);
}

int vs_ipv4_parse(const char *s, uint32_t *ret)
{
        struct in_addr a;
        if (inet_pton(AF_INET, s, &a) != 1)
                return -EINVAL;
        *ret = ntohl(a.s_addr);
        return 0;
}

void vs_ipv4_format(uint32_t addr, char *buf, size_t len)
{
        struct in_addr a = { htonl(addr) };
        if (!inet_ntop(AF_INET, &a, buf, (socklen_t)len) && len)
                buf[0] = '\0';
}

uint32_t vs_cidr_mask(unsigned prefix)
{
        return prefix == 0 ? 0 : UINT32_MAX << (32 - prefix);
}

bool vs_cidr_contains(const struct vs_cidr *net, uint32_t addr)
{
        uint32_t m = vs_cidr_mask(net->prefix);
        return (net->addr & m) == (addr & m);
}

bool vs_cidr_is_host(const struct vs_cidr *c)
{
        uint32_t m = vs_cidr_mask(c->prefix);
        if (c->prefix > 30)
                return true;
        return (c->addr & ~m) != 0 && (c->addr & ~m) != ~m;
}

int vs_inet_parse(const char *s, struct vs_inet *ret)
{
        struct vs_inet a = { 0 };

        if (inet_pton(AF_INET, s, a.addr) == 1) {
                a.family = AF_INET;
                a.prefix = 32;
        } else if (inet_pton(AF_INET6, s, a.addr) == 1) {
                a.family = AF_INET6;
                a.prefix = 128;
        } else
                return -EINVAL;
        *ret = a;
        return 0;
}

int vs_inet_cidr_parse(const char *s, struct vs_inet *ret)
{
        char ip[INET6_ADDRSTRLEN];
        const char *slash = strchr(s, '/');
        struct vs_inet a;
        unsigned long p;
        char *e;

        if (!slash || (size_t)(slash - s) >= sizeof(ip) || !isdigit((unsigned char)slash[1]))
                return -EINVAL;
        memcpy(ip, s, slash - s);
        ip[slash - s] = '\0';
        p = strtoul(slash + 1, &e, 10);
        if (*e || slash[1] == '0' || vs_inet_parse(ip, &a) < 0 || p < 1 || p > a.prefix)
                return -EINVAL;
        a.prefix = (unsigned)p;
        *ret = a;
        return 0;
}

int vs_cidr_parse(const char *s, struct vs_cidr *ret)
{
        struct vs_inet a;

        if (vs_inet_cidr_parse(s, &a) < 0 || a.family != AF_INET)
                return -EINVAL;
        ret->addr = (uint32_t)a.addr[0] << 24 | (uint32_t)a.addr[1] << 16 | (uint32_t)a.addr[2] << 8 | a.addr[3];
        ret->prefix = a.prefix;
        return 0;
}

void vs_inet_format(const struct vs_inet *a, char *buf, size_t len)
{
        if (!inet_ntop(a->family, a->addr, buf, (socklen_t)len) && len)
                buf[0] = '\0';
}

void vs_inet_cidr_format(const struct vs_inet *a, char *buf, size_t len)
{
        char ip[INET6_ADDRSTRLEN];
        vs_inet_format(a, ip, sizeof(ip));
        snprintf(buf, len, "%s/%u", ip, a->prefix);
}

static size_t inet_len(int family)
{
        return family == AF_INET ? 4 : 16;
}

bool vs_inet_same(const struct vs_inet *a, const struct vs_inet *b)
{
        return a->family == b->family && memcmp(a->addr, b->addr, inet_len(a->family)) == 0;
}

bool vs_inet_contains(const struct vs_inet *net, const struct vs_inet *a)
{
        unsigned bits = net->prefix;
        if (net->family != a->family)
                return false;
        for (size_t i = 0; bits; i++) {
                unsigned take = bits < 8 ? bits : 8;
                uint8_t m = (uint8_t)(0xff << (8 - take));
                if ((net->addr[i] & m) != (a->addr[i] & m))
                        return false;
                bits -= take;
        }
        return true;
}

/* The bits of byte @i of an address that a prefix of @prefix covers. */
static uint8_t mask_byte(size_t i, unsigned prefix)
{
        unsigned first = (unsigned)i * 8;
        if (first + 8 <= prefix)
                return 0xff;
        if (first >= prefix)
                return 0;
        return (uint8_t)(0xff << (8 - (prefix - first)));
}

/* The host part of @a (the bits after its prefix): all zero, all one. */
static void host_part(const struct vs_inet *a, bool *ret_zero, bool *ret_ones)
{
        bool zero = true, ones = true;
        for (size_t i = 0; i < inet_len(a->family); i++) {
                uint8_t m = (uint8_t)~mask_byte(i, a->prefix);
                zero = zero && (a->addr[i] & m) == 0;
                ones = ones && (a->addr[i] & m) == m;
        }
        *ret_zero = zero;
        *ret_ones = ones;
}

bool vs_inet_is_host(const struct vs_inet *c)
{
        bool zero, ones;
        if (c->prefix > (c->family == AF_INET ? 30u : 126u))
                return true;
        host_part(c, &zero, &ones);
        return !zero && (c->family == AF_INET6 || !ones);
}

int vs_inet_pool_next(const struct vs_inet *pool, const struct vs_inet *used, size_t n, struct vs_inet *ret)
{
        size_t len = inet_len(pool->family);
        unsigned host_bits = (unsigned)len * 8 - pool->prefix;
        /* At most n + 1 candidates are needed: n taken, then a free one. */
        uint64_t count = host_bits >= 63 ? UINT64_MAX : (UINT64_C(1) << host_bits);
        uint64_t k = (pool->family == AF_INET && pool->prefix > 30) ? 0 : 1;

        for (uint64_t tries = 0; k < count && tries <= n; k++, tries++) {
                struct vs_inet a = *pool;
                uint64_t carry = k;
                bool taken = false, zero, ones;

                for (size_t i = 0; i < len; i++) /* the network address, then + k */
                        a.addr[i] &= mask_byte(i, pool->prefix);
                for (size_t i = len; i-- > 0 && carry;) {
                        unsigned sum = a.addr[i] + (unsigned)(carry & 0xff);
                        a.addr[i] = (uint8_t)sum;
                        carry = (carry >> 8) + (sum >> 8);
                }
                host_part(&a, &zero, &ones);
                if (pool->family == AF_INET && pool->prefix <= 30 && ones)
                        break;
                for (size_t i = 0; i < n && !taken; i++)
                        taken = vs_inet_same(&used[i], &a);
                if (!taken) {
                        *ret = a;
                        return 0;
                }
        }
        return -ENOSPC;
}

int vs_inet_list_split(const char *s, char ***ret)
{
        char **v = vs_strv_split(s, ", \t");
        if (!v)
                return -ENOMEM;
        if (!v[0]) {
                vs_strv_free(v);
                return -EINVAL;
        }
        *ret = v;
        return 0;
}

/* The kernel takes any byte but '/', ':' and whitespace; these names also
 * go into nftables scripts (quoted strings there have no escapes), so only
 * letters, digits, '_', '.' and '-' are taken. */
bool vs_ifname_valid(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > VS_IFNAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
                return false;
        for (const char *p = s; *p; p++)
                if (!isascii((unsigned char)*p) || !(isalnum((unsigned char)*p) || strchr("_.-", *p)))
                        return false;
        return true;
}

bool vs_nft_name_safe(const char *s, size_t max)
{
        if (!s || !*s || strlen(s) >= max)
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      strchr("_.-", *p)))
                        return false;
        return true;
}

uint64_t vs_name_hash(const char *s)
{
        uint64_t h = UINT64_C(0xcbf29ce484222325);
        for (; *s; s++) {
                h ^= (unsigned char)*s;
                h *= UINT64_C(0x100000001b3);
        }
        return h;
}

void vs_net_veth_name_salt(const char *name, unsigned salt, char out[VS_IFNAME_MAX + 1])
{
        char prefix[7];
        uint64_t h = vs_name_hash(name);
        size_t n = 0;

        for (const char *p = name; *p && n < 6; p++)
                prefix[n++] = isalnum((unsigned char)*p) ? *p : '_';
        prefix[n] = '\0';
        if (salt) {
                /* The low bits of FNV depend on the low bits alone: two names
                 * that collide there would collide for every salt fed on.
                 * A finaliser (splitmix64's) brings the whole hash down. */
                h ^= salt * UINT64_C(0x9e3779b97f4a7c15);
                h = (h ^ (h >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
                h = (h ^ (h >> 27)) * UINT64_C(0x94d049bb133111eb);
                h ^= h >> 31;
        }
        snprintf(out, VS_IFNAME_MAX + 1, "vs%s-%06llx", prefix, (unsigned long long)(h & 0xffffff));
}

void vs_net_veth_name(const char *name, char out[VS_IFNAME_MAX + 1])
{
        vs_net_veth_name_salt(name, 0, out);
}

void vs_net_ifb_names(const char *bridge, char up[VS_IFNAME_MAX + 1], char down[VS_IFNAME_MAX + 1])
{
        uint32_t h = (uint32_t)vs_name_hash(bridge);
        snprintf(up, VS_IFNAME_MAX + 1, "vsu%08x", h);
        snprintf(down, VS_IFNAME_MAX + 1, "vsd%08x", h);
}

void vs_net_mac(const char *name, uint8_t mac[6])
{
        uint64_t h = vs_name_hash(name);
        mac[0] = 0x02; /* locally administered, unicast */
        for (int i = 1; i < 6; i++)
                mac[i] = (uint8_t)(h >> (8 * (i - 1)));
}

int vs_mac_parse(const char *s, uint8_t mac[6])
{
        unsigned v[6];
        char end;
        if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6)
                return -EINVAL;
        for (int i = 0; i < 17; i++)
                if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
                        return -EINVAL;
        if (v[0] & 1)
                return -EINVAL;
        if (!(v[0] | v[1] | v[2] | v[3] | v[4] | v[5]))
                return -EINVAL;
        for (int i = 0; i < 6; i++)
                mac[i] = (uint8_t)v[i];
        return 0;
}

void vs_mac_format(const uint8_t mac[6], char *buf, size_t len)
{
        snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

int vs_pool_next(const struct vs_cidr *pool, const uint32_t *used, size_t n, uint32_t *ret)
{
        uint32_t m = vs_cidr_mask(pool->prefix), net = pool->addr & m, last = net | ~m;
        uint32_t first = pool->prefix > 30 ? net : net + 1;
        if (pool->prefix <= 30)
                last--;
        for (uint64_t a = first; a <= last; a++) {
                bool taken = false;
                for (size_t i = 0; i < n && !taken; i++)
                        taken = used[i] == (uint32_t)a;
                if (!taken) {
                        *ret = (uint32_t)a;
                        return 0;
                }
        }
        return -ENOSPC;
}

/* ---- defaults.conf [net] ------------------------------------------------ */

struct defaults_state {
        struct vs_net_defaults *d;
        struct vs_error *err;
        int error;
};

static void derr(struct defaults_state *st, const char *key, const char *v, const char *why)
{
        st->err->code = EINVAL;
        snprintf(st->err->key, sizeof(st->err->key), "net.%s", key);
        if (v)
                snprintf(st->err->msg, sizeof(st->err->msg), "bad value \"%s\": %s", v, why);
        else
                snprintf(st->err->msg, sizeof(st->err->msg), "%s", why);
        st->error = -EINVAL;
}

static int on_defaults(void *user, const char *section, const char *key, const char *value)
{
        struct defaults_state *st = user;
        char **field = NULL;

        if (st->error || strcmp(section, "net") != 0)
                return 1;
        if (!strcmp(key, "bridge")) {
                if (!vs_ifname_valid(value)) {
                        derr(st, key, value, "expected an interface name of 1 to 15 letters, digits, '_', '.' or '-'");
                        return 0;
                }
                field = &st->d->bridge;
        } else if (!strcmp(key, "address") || !strcmp(key, "pool") || !strcmp(key, "address6") ||
                   !strcmp(key, "pool6")) {
                bool six = strchr(key, '6'), host = !strncmp(key, "address", 7);
                struct vs_inet a;

                if (vs_inet_cidr_parse(value, &a) < 0 || a.family != (six ? AF_INET6 : AF_INET)) {
                        derr(st, key, value,
                             six ? "expected an IPv6 address with a prefix, e.g. fd77::1/64"
                                 : "expected an IPv4 address with a prefix, e.g. 10.77.0.1/24");
                        return 0;
                }
                if (host && !vs_inet_is_host(&a)) {
                        derr(st, key, value, "not a host address of its subnet");
                        return 0;
                }
                field = six ? (host ? &st->d->address6 : &st->d->pool6) : (host ? &st->d->address : &st->d->pool);
        } else if (!strcmp(key, "total")) {
                if (vs_rate_parse(value, &st->d->total) < 0) {
                        derr(st, key, value, "expected a rate such as 1gbit (kbit, mbit, gbit)");
                        return 0;
                }
                return 1;
        } else {
                derr(st, key, NULL, "unknown key");
                return 0;
        }
        free(*field);
        *field = strdup(value);
        if (!*field)
                st->error = -ENOMEM;
        return *field ? 1 : 0;
}

void vs_net_defaults_clear(struct vs_net_defaults *d)
{
        free(d->bridge);
        free(d->address);
        free(d->pool);
        free(d->address6);
        free(d->pool6);
        memset(d, 0, sizeof(*d));
}

int vs_net_defaults_load(const char *path, struct vs_net_defaults *ret, struct vs_error *err)
{
        struct vs_net_defaults d = { .total = 1000000000 };
        struct vs_error dummy;
        struct defaults_state st = { .d = &d, .err = err ? err : &dummy };
        _cleanup_fclose_ FILE *f = NULL;
        int line = 0;

        memset(st.err, 0, sizeof(*st.err));
        f = fopen(path, "re");
        if (!f && errno != ENOENT)
                return -errno;
        if (f) {
                line = ini_parse_file(f, on_defaults, &st);
                if (line < 0)
                        return -EIO;
        }
        if (line > 0 || st.error) {
                st.err->line = line > 0 ? (unsigned)line : 0;
                st.err->code = st.error == -ENOMEM ? ENOMEM : EINVAL;
                if (!st.error)
                        snprintf(st.err->msg, sizeof(st.err->msg), "syntax error");
                vs_net_defaults_clear(&d);
                return st.error == -ENOMEM ? -ENOMEM : -EINVAL;
        }
        if (!d.bridge && !(d.bridge = strdup("vsbr0"))) {
                vs_net_defaults_clear(&d);
                return -ENOMEM;
        }
        for (int six = 0; six < 2; six++) {
                const char *pool = six ? d.pool6 : d.pool, *addr = six ? d.address6 : d.address;
                struct vs_inet p, br;

                if (!pool || !addr)
                        continue;
                /* Both parsed above. */
                vs_inet_cidr_parse(pool, &p);
                vs_inet_cidr_parse(addr, &br);
                if (p.prefix < br.prefix || !vs_inet_contains(&br, &p)) {
                        st.err->code = EINVAL;
                        snprintf(st.err->key, sizeof(st.err->key), "net.pool%s", six ? "6" : "");
                        snprintf(st.err->msg, sizeof(st.err->msg),
                                 "the pool %s is not inside the bridge's subnet %s (net.address%s)", pool, addr,
                                 six ? "6" : "");
                        vs_net_defaults_clear(&d);
                        return -EINVAL;
                }
        }
        *ret = d;
        return 0;
}
