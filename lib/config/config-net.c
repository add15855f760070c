/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parsers for the [net] keys of a guest's configuration. */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cleanup.h"
#include "config-parse.h"
#include "config.h"
#include "netconf.h"
#include "util.h"

int vs_parse_ifname(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err)
{
        if (!vs_ifname_valid(v)) {
                return vs_error_set(err, EINVAL, "expected an interface name of 1 to %d letters, digits, '_', '.' or '-'",
                                    VS_IFNAME_MAX);
        }
        return vs_config_store(field, strdup(v));
}

int vs_parse_addr_list(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err)
{
        _cleanup_strv_free_ char **l = NULL;
        struct vs_inet a[VS_NET_ADDR_MAX];
        size_t n = 0;

        if (vs_inet_list_split(v, &l) < 0) {
                return vs_error_set(err, EINVAL, "expected one or more addresses with their prefix length, e.g. 10.77.0.11/24, fd77::11/64");
        }
        for (char **p = l; *p; p++, n++) {
                if (n == VS_NET_ADDR_MAX) {
                        return vs_error_set(err, EINVAL, "at most %d addresses", VS_NET_ADDR_MAX);
                }
                if (vs_inet_cidr_parse(*p, &a[n]) < 0) {
                        return vs_error_set(err, EINVAL, "\"%s\" is not an IPv4 or IPv6 address with its prefix length, e.g. "
                                            "10.77.0.11/24 or fd77::11/64", *p);
                }
                if (!vs_inet_is_host(&a[n])) {
                        return vs_error_set(err, EINVAL, "%s is the network or broadcast address of its subnet, not a host address", *p);
                }
                for (size_t i = 0; i < n; i++)
                        if (vs_inet_same(&a[i], &a[n])) {
                                return vs_error_set(err, EINVAL, "%s is listed twice", *p);
                        }
        }
        return vs_config_store(field, strdup(v));
}

int vs_parse_gateway_list(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err)
{
        _cleanup_strv_free_ char **l = NULL;
        bool seen4 = false, seen6 = false;

        if (vs_inet_list_split(v, &l) < 0) {
                return vs_error_set(err, EINVAL, "expected an IPv4 and/or an IPv6 address such as 10.77.0.1, fd77::1");
        }
        for (char **p = l; *p; p++) {
                struct vs_inet a;
                bool *seen;
                if (vs_inet_parse(*p, &a) < 0) {
                        return vs_error_set(err, EINVAL, "\"%s\" is not an IPv4 or IPv6 address such as 10.77.0.1 or fd77::1", *p);
                }
                seen = a.family == AF_INET ? &seen4 : &seen6;
                if (*seen) {
                        return vs_error_set(err, EINVAL, "at most one gateway per family (IPv4, IPv6)");
                }
                *seen = true;
        }
        return vs_config_store(field, strdup(v));
}

int vs_parse_net_mode(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err)
{
        if (strcmp(v, "bridge") != 0 && strcmp(v, "routed") != 0) {
                return vs_error_set(err, EINVAL, "expected bridge or routed");
        }
        *(bool *)field = strcmp(v, "routed") == 0;
        return 0;
}

char *vs_format_net_mode(const void *field)
{
        return *(const bool *)field ? strdup("routed") : NULL;
}

int vs_parse_mac_field(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err)
{
        uint8_t mac[6];
        return vs_config_store_valid(field, v, vs_mac_parse(v, mac) == 0,
                                     "expected a unicast MAC address such as 02:00:00:00:00:01", err);
}

int vs_parse_rate_field(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err)
{
        uint64_t r;
        int k = vs_rate_parse(v, &r);
        if (k == -ERANGE) {
                return vs_error_set(err, EINVAL, "rate out of range (at most 10tbit)");
        }
        if (k < 0) {
                return vs_error_set(err, EINVAL, "expected a rate above zero such as 512kbit, 20mbit or 1gbit");
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

static int net_error(struct vs_error *err, const char *key, const char *msg)
{
        if (err) {
                err->code = EINVAL;
                snprintf(err->key, sizeof(err->key), "net.%s", key);
                snprintf(err->msg, sizeof(err->msg), "%s", msg);
        }
        return -EINVAL;
}

int vs_config_check_net(const struct vs_config *c, struct vs_error *err)
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
        if (c->net_routed && c->net_gateway)
                return net_error(err, "gateway",
                                 "a routed guest's gateways are the host side's 169.254.0.1 and fe80::1 (net.mode = routed)");
        if (c->net_routed && c->net_bridge)
                return net_error(err, "bridge", "a routed guest has no bridge (net.mode = routed)");
        if (c->net_gateway) {
                _cleanup_strv_free_ char **gws = NULL, **addrs = NULL;
                if (!c->net_address)
                        return net_error(err, "gateway", "a gateway needs an address (net.address)");
                if (vs_inet_list_split(c->net_gateway, &gws) == 0 && vs_inet_list_split(c->net_address, &addrs) == 0)
                        for (char **g = gws; *g; g++) {
                                struct vs_inet gw, a;
                                bool inside = false;
                                if (vs_inet_parse(*g, &gw) < 0)
                                        continue;
                                for (char **p = addrs; *p && !inside; p++) {
                                        if (vs_inet_cidr_parse(*p, &a) < 0)
                                                continue;
                                        if (vs_inet_same(&a, &gw))
                                                return net_error(err, "gateway", "the gateway is the guest's own address");
                                        inside = vs_inet_contains(&a, &gw);
                                }
                                if (!inside) {
                                        snprintf(msg, sizeof(msg), "%s is outside the subnets of %s (net.address)", *g,
                                                 c->net_address);
                                        return net_error(err, "gateway", msg);
                                }
                        }
        }
        if (c->net_nat && c->net_address) {
                _cleanup_strv_free_ char **addrs = NULL;
                bool v4 = false;
                if (vs_inet_list_split(c->net_address, &addrs) == 0)
                        for (char **p = addrs; *p && !v4; p++) {
                                struct vs_inet a;
                                v4 = vs_inet_cidr_parse(*p, &a) == 0 && a.family == AF_INET;
                        }
                if (!v4)
                        return net_error(err, "nat", "masquerading is IPv4 only: it needs an IPv4 address (net.address)");
        }
        if ((c->net_rate || c->net_nat || c->net_mac) && !c->net_address) {
                const char *k = c->net_rate ? "rate" : c->net_nat ? "nat" : "mac";
                return net_error(err, k, "needs an address (net.address): the guest has no network without one");
        }
        return 0;
}
