/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parsers for the [net] keys of a guest's configuration. */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-parse.h"
#include "config.h"
#include "netconf.h"
#include "util.h"

static int store(void *field, const char *v)
{
        char *s = strdup(v);
        if (!s)
                return -ENOMEM;
        free(*(char **)field);
        *(char **)field = s;
        return 0;
}

int vs_parse_ifname(const char *v, void *field, uint64_t min, uint64_t max, char *why, size_t len)
{
        if (!vs_ifname_valid(v)) {
                snprintf(why, len, "expected an interface name of 1 to %d letters, digits, '_', '.' or '-'",
                         VS_IFNAME_MAX);
                return -EINVAL;
        }
        return store(field, v);
}

int vs_parse_cidr_field(const char *v, void *field, uint64_t min, uint64_t max, char *why, size_t len)
{
        struct vs_cidr c;
        if (vs_cidr_parse(v, &c) < 0) {
                snprintf(why, len, "expected an IPv4 address with its prefix length, e.g. 10.77.0.11/24");
                return -EINVAL;
        }
        if (!vs_cidr_is_host(&c)) {
                snprintf(why, len, "the network or broadcast address of its subnet is not a host address");
                return -EINVAL;
        }
        return store(field, v);
}

int vs_parse_ipv4_field(const char *v, void *field, uint64_t min, uint64_t max, char *why, size_t len)
{
        uint32_t a;
        if (vs_ipv4_parse(v, &a) < 0) {
                snprintf(why, len, "expected an IPv4 address such as 10.77.0.1");
                return -EINVAL;
        }
        return store(field, v);
}

int vs_parse_mac_field(const char *v, void *field, uint64_t min, uint64_t max, char *why, size_t len)
{
        uint8_t mac[6];
        if (vs_mac_parse(v, mac) < 0) {
                snprintf(why, len, "expected a unicast MAC address such as 02:00:00:00:00:01");
                return -EINVAL;
        }
        return store(field, v);
}

int vs_parse_rate_field(const char *v, void *field, uint64_t min, uint64_t max, char *why, size_t len)
{
        uint64_t r;
        int k = vs_rate_parse(v, &r);
        if (k == -ERANGE) {
                snprintf(why, len, "rate out of range (at most 10tbit)");
                return -EINVAL;
        }
        if (k < 0) {
                snprintf(why, len, "expected a rate above zero such as 512kbit, 20mbit or 1gbit");
                return -EINVAL;
        }
        *(uint64_t *)field = r;
        return 0;
}

char *vs_format_rate(const void *field)
{
        char buf[32];
        uint64_t v = *(const uint64_t *)field;
        if (!v)
                return NULL;
        vs_rate_format(v, buf, sizeof(buf));
        return strdup(buf);
}

static int net_error(struct vs_config_error *err, const char *key, const char *msg)
{
        if (err) {
                snprintf(err->key, sizeof(err->key), "net.%s", key);
                snprintf(err->message, sizeof(err->message), "%s", msg);
        }
        return -EINVAL;
}

int vs_config_check_net(const struct vs_config *c, struct vs_config_error *err)
{
        char msg[200];

        if (c->net_ceil && !c->net_rate)
                return net_error(err, "ceil", "a ceiling needs a guaranteed rate (net.rate)");
        if (c->net_ceil && c->net_ceil < c->net_rate) {
                char a[32], b[32];
                vs_rate_format(c->net_ceil, a, sizeof(a));
                vs_rate_format(c->net_rate, b, sizeof(b));
                snprintf(msg, sizeof(msg), "the ceiling %s is below the guaranteed rate %s (net.rate)", a, b);
                return net_error(err, "ceil", msg);
        }
        if (c->net_gateway) {
                struct vs_cidr addr;
                uint32_t gw;
                if (!c->net_address)
                        return net_error(err, "gateway", "a gateway needs an address (net.address)");
                if (vs_cidr_parse(c->net_address, &addr) == 0 && vs_ipv4_parse(c->net_gateway, &gw) == 0) {
                        if (!vs_cidr_contains(&addr, gw)) {
                                snprintf(msg, sizeof(msg), "%s is outside the subnet of %s (net.address)",
                                         c->net_gateway, c->net_address);
                                return net_error(err, "gateway", msg);
                        }
                        if (gw == addr.addr)
                                return net_error(err, "gateway", "the gateway is the guest's own address");
                }
        }
        if ((c->net_rate || c->net_nat || c->net_mac) && !c->net_address) {
                const char *k = c->net_rate ? "rate" : c->net_nat ? "nat" : "mac";
                return net_error(err, k, "needs an address (net.address): the guest has no network without one");
        }
        return 0;
}
