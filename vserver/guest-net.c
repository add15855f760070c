/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A guest's network: bridge, veth, eth0 inside, HTB shaping through two
 * IFB devices per bridge fed by nftables, and masquerading.
 *
 * Shaping: one HTB tree per bridge and direction lives on an IFB device
 * (vsuXXXXXXXX from the guests, vsdXXXXXXXX to them): class 1:1 holds the
 * host's total, each shaped guest has a leaf 1:N (rate, ceil). An nftables
 * netdev table per guest hooks the host side of its veth on ingress and
 * egress, sets skb->priority to 1:N (which HTB takes as the class, and
 * which overrides anything the guest set with SO_PRIORITY) and forwards the
 * packet to the IFB; the IFB hands it back once HTB lets it go. This
 * kernel interface needs neither act_skbedit nor a classifier. */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "guest-net.h"
#include "net-filter.h"
#include "netlink.h"
#include "netconf.h"
#include "paths.h"
#include "state.h"
#include "util.h"

#define MINOR_FIRST 0x10
/* The gateways of routed guests, on the host side of each one's veth. */
#define ROUTED_GW4 "169.254.0.1"
#define ROUTED_GW6 "fe80::1"
/* Names tried for a guest's veth when the first belongs to another link. */
#define VETH_TRIES 16

static char *defaults_path(void)
{
        return vs_strdupf("%s/defaults.conf", vs_confdir());
}

static int load_defaults(struct vs_net_defaults *d, struct vs_error *err)
{
        _cleanup_free_ char *p = defaults_path();
        int r;

        if (!p)
                return -ENOMEM;
        r = vs_net_defaults_load(p, d, err);
        if (r == -EINVAL)
                vs_error_locate(err, r, p);
        else if (r < 0)
                vs_error_set(err, r, "Cannot read %s: %s", p, strerror(-r));
        return r;
}

/* One host-wide lock orders every change to bridges, IFBs and classes. */
static int net_lock(void)
{
        _cleanup_free_ char *p = vs_strdupf("%s/.net.lock", vs_rundir());
        if (!p)
                return -ENOMEM;
        (void)vs_mkdir_p(vs_rundir(), 0755);
        return vs_lock_file(p);
}

static int net_write(const char *rundir, const struct vs_guest_net *n)
{
        _cleanup_free_ char *p = vs_strdupf("%s/net", rundir), *t = NULL;
        char addrs[sizeof(n->addrs)] = "";
        size_t k = 0;

        if (!p)
                return -ENOMEM;
        for (size_t i = 0; i < n->n_addrs; i++)
                k += (size_t)snprintf(addrs + k, sizeof(addrs) - k, "%s%s", i ? "," : "", n->addrs[i]);
        t = vs_strdupf("veth=%s\nifindex=%d\nmode=%s\nbridge=%s\naddress=%s\nmac=%s\nifb_up=%s\nifb_down=%s\n"
                       "minor=%u\nnat=%d\ntable=%s\nforward6=%d\n",
                       n->veth, n->ifindex, n->routed ? "routed" : "bridge", n->bridge, addrs, n->mac, n->ifb_up,
                       n->ifb_down, (unsigned)n->minor, n->nat ? 1 : 0, n->table, n->forward6 ? 1 : 0);
        if (!t)
                return -ENOMEM;
        return vs_write_file_replace(p, t, 0644);
}

/* Fills n->addrs from a list as net.address takes it. */
static int addrs_set(struct vs_guest_net *n, const char *list)
{
        _cleanup_strv_free_ char **l = NULL;
        int r = vs_inet_list_split(list, &l);

        n->n_addrs = 0;
        if (r < 0)
                return r;
        for (char **p = l; *p; p++) {
                if (n->n_addrs == VS_NET_ADDR_MAX || strlen(*p) >= VS_INET_CIDR_MAX)
                        return -E2BIG;
                snprintf(n->addrs[n->n_addrs++], VS_INET_CIDR_MAX, "%s", *p);
        }
        return 0;
}

void vs_guest_net_addr_list(const struct vs_guest_net *n, const char *ret[VS_NET_ADDR_MAX + 1])
{
        size_t i;
        for (i = 0; i < n->n_addrs && i < VS_NET_ADDR_MAX; i++)
                ret[i] = n->addrs[i];
        ret[i] = NULL;
}

/* Why vs_net_open() failed, for a message: a missing libnl is named, with
 * the package that has it (the library is loaded only when needed). */
static const char *netlink_why(int r)
{
        return r == -ELIBACC ? "libnl-route-3.so.200 is not installed (Debian package libnl-route-3-200)" : strerror(-r);
}

/* One key=value line of a guest's net file in its run directory. */
static int net_line(char *k, char *v, void *arg)
{
        struct vs_guest_net *n = arg;
#define S(key)                                                    \
        if (!strcmp(k, #key)) {                                   \
                snprintf(n->key, sizeof(n->key), "%s", v);        \
                return 0;                                         \
        }
        S(veth) S(bridge) S(mac) S(ifb_up) S(ifb_down) S(table)
#undef S
        if (!strcmp(k, "address"))
                (void)addrs_set(n, v);
        else if (!strcmp(k, "minor"))
                n->minor = (uint16_t)strtoul(v, NULL, 10);
        else if (!strcmp(k, "nat"))
                n->nat = atoi(v) != 0;
        else if (!strcmp(k, "ifindex"))
                n->ifindex = atoi(v);
        else if (!strcmp(k, "mode"))
                n->routed = !strcmp(v, "routed");
        else if (!strcmp(k, "forward6"))
                n->forward6 = atoi(v) != 0;
        return 0;
}

static int net_read_dir(const char *rundir, struct vs_guest_net *ret)
{
        _cleanup_free_ char *p = vs_strdupf("%s/net", rundir);
        struct vs_guest_net n = { .active = true };
        int r;

        if (!p)
                return -ENOMEM;
        r = vs_kv_file_read(p, net_line, &n);
        if (r < 0)
                return r;
        if (!n.veth[0])
                return -EBADMSG;
        *ret = n;
        return 0;
}

int vs_guest_net_read(const char *name, struct vs_guest_net *ret)
{
        _cleanup_free_ char *run = vs_run_path(name);
        if (!run)
                return -ENOMEM;
        return net_read_dir(run, ret);
}

/* Names pasted into an nftables script are checked here again, whatever
 * file they were read from (vs_nft_name_safe()). NULL ends the list. */
static bool nft_names_safe(const char *name, ...)
{
        va_list ap;
        bool ok = true;

        va_start(ap, name);
        for (const char *s = name; s && ok; s = va_arg(ap, const char *))
                ok = vs_nft_name_safe(s, 64);
        va_end(ap);
        return ok;
}

/* nftables: per guest, one netdev table (shaping), one ip table (nat) and
 * one netdev table of anti-spoofing rules (net-filter.h). */
static void drop_tables(const struct vs_guest_net *n)
{
        _cleanup_free_ char *cmd = NULL;

        if (!n->table[0] || !nft_names_safe(n->table, NULL))
                return;
        vs_net_filter_remove(n->table);
        cmd = vs_strdupf("add table netdev %s\ndelete table netdev %s\n"
                                              "add table ip %s\ndelete table ip %s\n",
                                              n->table, n->table, n->table, n->table);
        if (cmd)
                (void)vs_nft_run(cmd, NULL);
}

static int shape_on(struct vs_net *h, struct vs_guest_net *n, uint64_t rate, uint64_t ceil, uint64_t total,
                    struct vs_error *err)
{
        _cleanup_free_ char *cmd = NULL;
        struct vs_error why = { 0 };
        int r;

        /* Routed guests share one pair; "/" is in no bridge's name. */
        vs_net_ifb_names(n->routed ? "/routed" : n->bridge, n->ifb_up, n->ifb_down);
        /* The names are ours by convention only: a link of another kind
         * there is someone else's, never shaped through nor deleted. */
        for (int i = 0; i < 2; i++) {
                const char *dev = i ? n->ifb_down : n->ifb_up;
                r = vs_net_link_is(h, dev, "ifb");
                if (r == 0) {
                        vs_error_set(err, EEXIST, "Cannot shape \"%s\": \"%s\" exists and is not an IFB device", n->veth, dev);
                        n->ifb_up[0] = n->ifb_down[0] = '\0';
                        return -EEXIST;
                }
        }
        if (vs_net_link_index(h, n->ifb_up) == -ENODEV) {
                const char *devs[2] = { n->ifb_up, n->ifb_down };
                for (int i = 0; i < 2; i++) {
                        r = vs_net_link_delete(h, devs[i]);
                        if (r == 0)
                                r = vs_net_ifb_create(h, devs[i]);
                        if (r == 0)
                                r = vs_net_htb_root(h, devs[i], total);
                        if (r < 0) {
                                return vs_error_set(err, r, "Cannot set up the shaping device %s: %s", devs[i], strerror(-r));
                        }
                }
        }
        if (!n->minor) {
                r = vs_net_htb_class_free(h, n->ifb_up, MINOR_FIRST, &n->minor);
                if (r == -ENOSPC)
                        return vs_error_set(err, ENOSPC, "No free HTB class on %s", n->ifb_up);
                if (r < 0) {
                        return vs_error_set(err, r, "Cannot read the classes of %s: %s", n->ifb_up, strerror(-r));
                }
        }
        r = vs_net_htb_class_set(h, n->ifb_up, n->minor, rate, ceil);
        if (r == 0)
                r = vs_net_htb_class_set(h, n->ifb_down, n->minor, rate, ceil);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot set the HTB class 1:%x of \"%s\": %s", n->minor, n->veth, strerror(-r));
        }
        if (!nft_names_safe(n->table, n->veth, n->ifb_up, n->ifb_down, NULL)) {
                return vs_error_set(err, EINVAL, "Refusing to pass the interface name \"%s\" or \"%s\" to nftables", n->veth, n->ifb_up);
        }
        cmd = vs_strdupf("add table netdev %1$s\n"
                         "delete table netdev %1$s\n"
                         "table netdev %1$s {\n"
                         " chain up { type filter hook ingress device \"%2$s\" priority 0; policy accept;\n"
                         "  meta priority set 1:%3$x fwd to \"%4$s\"; }\n"
                         " chain down { type filter hook egress device \"%2$s\" priority 0; policy accept;\n"
                         "  meta priority set 1:%3$x fwd to \"%5$s\"; }\n"
                         "}\n",
                         n->table, n->veth, (unsigned)n->minor, n->ifb_up, n->ifb_down);
        if (!cmd)
                return -ENOMEM;
        r = vs_nft_run(cmd, &why);
        if (r < 0)
                vs_error_set(err, r, "Cannot install the shaping rules of \"%s\" (nftables): %s", n->veth, why.msg);
        return r;
}

static void teardown_locked(struct vs_net *h, const struct vs_guest_net *n)
{
        uint8_t used[8192];

        drop_tables(n);
        /* By name alone (a net file of an older vserver has no index) it
         * may be another guest's veth by now: this one went with its
         * namespace. */
        (void)vs_net_link_delete_index(h, n->ifindex, n->veth);
        if (n->minor) {
                (void)vs_net_htb_class_delete(h, n->ifb_up, n->minor);
                (void)vs_net_htb_class_delete(h, n->ifb_down, n->minor);
        }
        if (n->ifb_up[0] && vs_net_htb_class_minors(h, n->ifb_up, used) == 0) {
                bool any = false;
                for (size_t i = 0; i < sizeof(used) && !any; i++)
                        any = used[i] != 0;
                if (!any && vs_net_link_is(h, n->ifb_up, "ifb") == 1)
                        (void)vs_net_link_delete(h, n->ifb_up);
                if (!any && vs_net_link_is(h, n->ifb_down, "ifb") == 1)
                        (void)vs_net_link_delete(h, n->ifb_down);
        }
}

void vs_guest_net_teardown(const char *rundir)
{
        struct vs_guest_net n;
        struct vs_net *h = NULL;
        int lock;

        if (net_read_dir(rundir, &n) < 0)
                return;
        lock = net_lock();
        if (vs_net_open(-1, &h) == 0) {
                teardown_locked(h, &n);
                vs_net_close(h);
        }
        if (lock >= 0)
                close(lock);
}

/* Another running guest with one of the addresses @a (n of them, either
 * family): its net file says so and its supervisor holds its lock. */
static int address_in_use(const char *self, const struct vs_inet *a, size_t n, char *ret_ip, size_t iplen,
                          char *who, size_t len)
{
        DIR *d = opendir(vs_rundir());
        struct dirent *de;
        int found = 0;

        if (!d)
                return 0;
        while (!found && (de = readdir(d))) {
                _cleanup_free_ char *dir = NULL;
                struct vs_guest_net o;
                const struct vs_inet *hit = NULL;
                int fd;

                if (de->d_name[0] == '.' || !strcmp(de->d_name, self) || !vs_name_valid(de->d_name))
                        continue;
                dir = vs_strdupf("%s/%s", vs_rundir(), de->d_name);
                if (!dir || net_read_dir(dir, &o) < 0)
                        continue;
                for (size_t i = 0; i < o.n_addrs && !hit; i++) {
                        struct vs_inet oa;
                        if (vs_inet_cidr_parse(o.addrs[i], &oa) < 0)
                                continue;
                        for (size_t j = 0; j < n && !hit; j++)
                                if (vs_inet_same(&a[j], &oa))
                                        hit = &a[j];
                }
                if (!hit)
                        continue;
                if (vs_guest_lock(de->d_name, true, &fd) == 0) {
                        close(fd); /* nobody holds it: stale */
                        continue;
                }
                vs_inet_format(hit, ret_ip, iplen);
                snprintf(who, len, "%s", de->d_name);
                found = 1;
        }
        closedir(d);
        return found;
}

/* Routed mode: the host side answers ARP and NDP for the guest's gateways,
 * routes each of the guest's addresses to the veth, and forwards what the
 * guest sends on to other guests and beyond. Forwarding is switched on for
 * this veth alone, never host-wide (net.ipv4.ip_forward, conf/all): IPv4
 * decides by the device a packet came in on, IPv6 by the host-wide switch
 * or, since Linux 6.17, the device's force_forwarding. Without the latter
 * the guest still reaches the host, not beyond it (n->forward6 false).
 * All of it goes with the veth. */
static int routed_host_side(struct vs_net *h, struct vs_guest_net *n, const struct vs_inet *addr,
                            struct vs_error *err)
{
        struct vs_inet gw4, gw6;
        int r;

        vs_inet_parse(ROUTED_GW4, &gw4);
        vs_inet_parse(ROUTED_GW6, &gw6);
        gw6.prefix = 64;
        r = vs_net_addr_add(h, n->veth, &gw4, true);
        if (r == 0)
                r = vs_net_addr_add(h, n->veth, &gw6, true);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot give the gateway addresses to \"%s\": %s", n->veth, strerror(-r));
        }
        for (size_t i = 0; i < n->n_addrs; i++) {
                r = vs_net_route_host(h, n->veth, &addr[i]);
                if (r < 0) {
                        return vs_error_set(err, r, "Cannot route %s to \"%s\": %s", n->addrs[i], n->veth, strerror(-r));
                }
        }
        r = vs_net_dev_sysctl(AF_INET, n->veth, "forwarding", "1");
        if (r < 0) {
                return vs_error_set(err, r, "Cannot switch on IPv4 forwarding on \"%s\": %s", n->veth, strerror(-r));
        }
        r = vs_net_dev_sysctl(AF_INET6, n->veth, "force_forwarding", "1");
        if (r < 0 && r != -ENOENT) {
                return vs_error_set(err, r, "Cannot switch on IPv6 forwarding on \"%s\": %s", n->veth, strerror(-r));
        }
        n->forward6 = r == 0;
        return 0;
}

/* The pool of @family in defaults.conf, and the bridge's address there. */
static const char *pool_of(const struct vs_net_defaults *d, int family)
{
        return family == AF_INET ? d->pool : d->pool6;
}

static const char *bridge_addr_of(const struct vs_net_defaults *d, int family)
{
        return family == AF_INET ? d->address : d->address6;
}

/* What the phases of one guest's network setup share. */
struct net_setup {
        const char *name;
        const struct vs_config *c;
        pid_t pid;
        const char *rundir;
        struct vs_error *err;
        const char *src; /* the config's file, for messages */
        struct vs_net_defaults d;
        struct vs_guest_net n;
        struct vs_net *h; /* netlink in the host's namespace */
        struct vs_inet addr[VS_NET_ADDR_MAX], gw[2];
        size_t n_gw;
        uint8_t mac[6];
        const char *bridge_addrs[3];
        bool default_bridge;
        int lock;
};

static int parse_addresses(struct net_setup *s)
{
        const struct vs_config *c = s->c;
        struct vs_guest_net *n = &s->n;
        int r;

        n->routed = c->net_routed;
        if (!n->routed)
                snprintf(n->bridge, sizeof(n->bridge), "%s", c->net_bridge ? c->net_bridge : s->d.bridge);
        r = addrs_set(n, c->net_address);
        for (size_t i = 0; r == 0 && i < n->n_addrs; i++)
                r = vs_inet_cidr_parse(n->addrs[i], &s->addr[i]);
        if (r < 0) {
                return vs_error_set(s->err, EINVAL, "%s: key \"net.address\": bad value \"%s\"", s->src, c->net_address);
        }
        vs_net_veth_name(s->name, n->veth);
        snprintf(n->table, sizeof(n->table), "vserver_%016llx", (unsigned long long)vs_name_hash(s->name));
        n->nat = c->net_nat;
        return 0;
}

/* On the default bridge the addresses lie in its pools. */
static int check_pool(struct net_setup *s)
{
        struct vs_guest_net *n = &s->n;

        s->default_bridge = !n->routed && strcmp(n->bridge, s->d.bridge) == 0;
        for (size_t i = 0; s->default_bridge && i < n->n_addrs; i++) {
                const char *pool = pool_of(&s->d, s->addr[i].family);
                struct vs_inet p;
                if (pool && vs_inet_cidr_parse(pool, &p) == 0 && !vs_inet_contains(&p, &s->addr[i])) {
                        return vs_error_set(s->err, EINVAL, "%s: key \"net.address\": %s is outside the pool %s of bridge \"%s\"",
                                            s->src, n->addrs[i], pool, n->bridge);
                }
        }
        return 0;
}

/* One default route per family: net.gateway's, else the bridge's
 * address where one of the guest's subnets holds it. */
static int choose_gateways(struct net_setup *s)
{
        const struct vs_guest_net *n = &s->n;

        for (int f = 0; f < 2; f++) {
                int family = f ? AF_INET6 : AF_INET;
                _cleanup_strv_free_ char **gws = NULL;
                struct vs_inet *gw = &s->gw[s->n_gw];
                bool found = false;

                if (n->routed) {
                        /* Link-local gateways the host side owns, the
                         * same for every routed guest (so a guest learns
                         * nothing of the host's addresses from them). */
                        vs_inet_parse(family == AF_INET ? ROUTED_GW4 : ROUTED_GW6, gw);
                        for (size_t i = 0; i < n->n_addrs && !found; i++)
                                found = s->addr[i].family == family;
                } else if (s->c->net_gateway && vs_inet_list_split(s->c->net_gateway, &gws) == 0)
                        for (char **q = gws; *q && !found; q++)
                                found = vs_inet_parse(*q, gw) == 0 && gw->family == family;
                if (!found && !n->routed && s->default_bridge && bridge_addr_of(&s->d, family)) {
                        struct vs_inet br;
                        vs_inet_cidr_parse(bridge_addr_of(&s->d, family), &br);
                        for (size_t i = 0; i < n->n_addrs && !found; i++)
                                found = vs_inet_contains(&s->addr[i], &br);
                        *gw = br;
                }
                if (found)
                        s->n_gw++;
        }
        return 0;
}

/* The default bridge gets its addresses when it is made. */
static int bridge_addresses(struct net_setup *s)
{
        size_t k = 0;

        if (s->default_bridge) {
                if (s->d.address)
                        s->bridge_addrs[k++] = s->d.address;
                if (s->d.address6)
                        s->bridge_addrs[k++] = s->d.address6;
        }
        return 0;
}

static int choose_mac(struct net_setup *s)
{
        if (s->c->net_mac)
                vs_mac_parse(s->c->net_mac, s->mac);
        else
                vs_net_mac(s->name, s->mac);
        vs_mac_format(s->mac, s->n.mac, sizeof(s->n.mac));
        return 0;
}

/* Under the network lock, held to the end: no other start takes the
 * addresses between the check and the veth. */
static int claim_addresses(struct net_setup *s)
{
        char ip[INET6_ADDRSTRLEN], who[300];

        s->lock = net_lock();
        if (s->lock < 0) {
                vs_error_set(s->err, s->lock, "Cannot take the network lock in %s: %s", vs_rundir(), strerror(-s->lock));
                return s->lock;
        }
        if (address_in_use(s->name, s->addr, s->n.n_addrs, ip, sizeof(ip), who, sizeof(who))) {
                return vs_error_set(s->err, EADDRINUSE, "%s: key \"net.address\": %s is in use by the running guest \"%s\"", s->src, ip,
                                    who);
        }
        return 0;
}

static int open_bridge(struct net_setup *s)
{
        int r = vs_net_open(-1, &s->h);

        if (r < 0) {
                return vs_error_set(s->err, r, "Cannot open a netlink socket: %s", netlink_why(r));
        }
        r = s->n.routed ? 0 : vs_net_bridge_ensure(s->h, s->n.bridge, s->bridge_addrs);
        if (r < 0) {
                return vs_error_set(s->err, r, "Cannot set up bridge \"%s\": %s", s->n.bridge, strerror(-r));
        }
        return 0;
}

/* The derived name holds 24 bits of hash: two guests may share it.
 * Another link of that name is never touched; the next salted name
 * is tried (the same sequence at every start, so a guest mostly
 * keeps its name). */
static int create_veth(struct net_setup *s)
{
        struct vs_guest_net *n = &s->n;
        int r = 0;

        for (unsigned salt = 0; salt < VETH_TRIES; salt++) {
                vs_net_veth_name_salt(s->name, salt, n->veth);
                r = vs_net_link_index(s->h, n->veth);
                if (r >= 0) {
                        r = -EEXIST;
                        continue;
                }
                if (r != -ENODEV)
                        break;
                r = vs_net_veth_create(s->h, n->veth, n->routed ? NULL : n->bridge, "eth0", s->pid, s->mac);
                if (r != -EEXIST)
                        break;
        }
        if (r == -EEXIST) {
                char first[VS_IFNAME_MAX + 1];
                vs_net_veth_name(s->name, first);
                return vs_error_set(s->err, r, "Cannot create the veth pair of \"%s\": its name \"%s\" and %d others are taken",
                                    s->name, first, VETH_TRIES - 1);
        }
        if (r < 0) {
                return vs_error_set(s->err, r, "Cannot create the veth pair \"%s\" of \"%s\": %s", n->veth, s->name,
                                    strerror(-r));
        }
        n->ifindex = r;
        return 0;
}

/* From here on the net file lists what to undo: written only now,
 * so that it never names a link this start did not make. */
static int record_net(struct net_setup *s)
{
        int r = net_write(s->rundir, &s->n);

        if (r < 0) {
                return vs_error_set(s->err, r, "Cannot record the network of \"%s\": %s", s->name, strerror(-r));
        }
        return 0;
}

static int install_filter(struct net_setup *s)
{
        const char *addrs[VS_NET_ADDR_MAX + 1];
        struct vs_error why = { 0 };
        int r;

        if (!s->c->net_filter)
                return 0;
        vs_guest_net_addr_list(&s->n, addrs);
        r = vs_net_filter_install(s->n.table, s->n.veth, s->mac, addrs, &why);
        if (r < 0) {
                return vs_error_set(s->err, r, "Cannot install the anti-spoofing rules of \"%s\" (nftables; net.filter = no "
                                     "turns them off): %s",
                             s->name, why.msg);
        }
        return 0;
}

/* eth0 inside: its addresses, up, its default routes. */
static int configure_eth0(struct net_setup *s)
{
        const struct vs_guest_net *n = &s->n;
        struct vs_net *g = NULL;
        char path[64];
        _cleanup_close_ int nsfd = -1;
        int r;

        snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)s->pid);
        nsfd = open(path, O_RDONLY | O_CLOEXEC);
        r = nsfd < 0 ? -errno : vs_net_open(nsfd, &g);
        /* IPv6 addresses without duplicate address detection: the host
         * made sure they are unique, and services in the guest can bind
         * them at once instead of a second or more later. */
        /* Routed: each address alone (/32, /128), so that the guest sends
         * everything, its neighbours' addresses too, to the host. */
        for (size_t i = 0; r == 0 && i < n->n_addrs; i++) {
                struct vs_inet a = s->addr[i];
                if (n->routed)
                        a.prefix = a.family == AF_INET ? 32 : 128;
                r = vs_net_addr_add(g, "eth0", &a, true);
        }
        if (r == 0)
                r = vs_net_link_up(g, "eth0");
        /* 169.254.0.1 lies in none of the guest's subnets: onlink. */
        for (size_t i = 0; r == 0 && i < s->n_gw; i++)
                r = vs_net_route_default(g, "eth0", &s->gw[i], n->routed && s->gw[i].family == AF_INET);
        vs_net_close(g);
        if (r < 0) {
                return vs_error_set(s->err, r, "Cannot configure eth0 of \"%s\" (%s): %s", s->name, s->c->net_address,
                                    strerror(-r));
        }
        return 0;
}

static int route_host_side(struct net_setup *s)
{
        int r;

        if (!s->n.routed)
                return 0;
        r = routed_host_side(s->h, &s->n, s->addr, s->err);
        (void)net_write(s->rundir, &s->n);
        return r;
}

static int shape(struct net_setup *s)
{
        const struct vs_config *c = s->c;
        int r;

        if (!c->net_rate)
                return 0;
        r = shape_on(s->h, &s->n, c->net_rate, c->net_ceil ? c->net_ceil : c->net_rate, s->d.total, s->err);
        /* Recorded even on failure: the IFBs and the class go at teardown. */
        (void)net_write(s->rundir, &s->n);
        return r;
}

static int add_nat(struct net_setup *s)
{
        const struct vs_guest_net *n = &s->n;
        struct vs_error why = { 0 };
        char ip[INET6_ADDRSTRLEN];
        char rules[VS_NET_ADDR_MAX * 128] = "";
        _cleanup_free_ char *cmd = NULL;
        size_t k = 0;
        int r;

        if (!n->nat)
                return 0;
        /* Routed: what leaves through another link than the
         * guest's own veth. */
        const char *own = n->routed ? n->veth : n->bridge;
        if (!nft_names_safe(n->table, own, NULL)) {
                return vs_error_set(s->err, EINVAL, "Refusing to pass the interface name \"%s\" to nftables", own);
        }
        /* IPv4 only: the guest's IPv6 addresses are meant to be
         * routed, not hidden. */
        for (size_t i = 0; i < n->n_addrs; i++)
                if (s->addr[i].family == AF_INET) {
                        vs_inet_format(&s->addr[i], ip, sizeof(ip));
                        k += (size_t)snprintf(rules + k, sizeof(rules) - k,
                                              "  ip saddr %s oifname != \"%s\" masquerade\n", ip, own);
                }
        cmd = vs_strdupf("add table ip %1$s\ndelete table ip %1$s\n"
                         "table ip %1$s {\n"
                         " chain postrouting { type nat hook postrouting priority srcnat; policy accept;\n"
                         "%2$s }\n"
                         "}\n",
                         n->table, rules);
        r = cmd ? vs_nft_run(cmd, &why) : -ENOMEM;
        if (r < 0) {
                return vs_error_set(s->err, r, "Cannot add the nat rule of \"%s\" (nftables): %s", s->name, why.msg);
        }
        return 0;
}

typedef int net_phase(struct net_setup *s);

/* Before the veth: a failure leaves nothing to undo. */
static net_phase *const net_prepare[] = {
        parse_addresses, /* everything after works on the parsed addresses */
        check_pool,      /* needs the bridge the parse chose */
        choose_gateways, /* needs to know whether the bridge is the default one */
        bridge_addresses, /* likewise */
        choose_mac,      /* the last of the arithmetic, before any lock */
        claim_addresses, /* takes the network lock: checked and created under it */
        open_bridge,     /* the veth's host end joins it */
        create_veth,     /* last: from here on a failure tears down */
};

/* With the veth: a failure tears down what the net file lists. */
static net_phase *const net_configure[] = {
        record_net,      /* first: what follows is undone by what it lists */
        install_filter,  /* before the guest's eth0 is up and can send */
        configure_eth0,  /* the guest's side, before the host routes to it */
        route_host_side, /* routed: gateways and routes to the eth0 just configured */
        shape,           /* on the veth, once it carries traffic */
        add_nat,         /* last: the guest's addresses leave the host only now */
};

int vs_guest_net_setup(const char *name, const struct vs_config *c, pid_t pid, const char *rundir,
                       struct vs_guest_net *ret, struct vs_error *err)
{
        struct net_setup s = {
                .name = name, .c = c, .pid = pid, .rundir = rundir, .err = err,
                .src = c->path ? c->path : name, .n = { .active = true }, .lock = -1,
        };
        size_t i;
        int r;

        memset(ret, 0, sizeof(*ret));
        if (!c->net_address)
                return 0;
        r = load_defaults(&s.d, err);
        if (r < 0)
                return r;
        for (i = 0, r = 0; r == 0 && i < ELEMENTSOF(net_prepare); i++)
                r = net_prepare[i](&s);
        for (i = 0; r == 0 && i < ELEMENTSOF(net_configure); i++) {
                r = net_configure[i](&s);
                if (r < 0)
                        teardown_locked(s.h, &s.n);
        }
        if (r == 0)
                *ret = s.n;
        vs_net_close(s.h);
        if (s.lock >= 0)
                close(s.lock);
        vs_net_defaults_clear(&s.d);
        return r;
}

int vs_guest_net_limit(const char *name, uint64_t rate, uint64_t ceil, struct vs_error *err)
{
        _cleanup_free_ char *run = vs_run_path(name);
        struct vs_net_defaults d = { 0 };
        struct vs_guest_net n;
        struct vs_net *h = NULL;
        int lock, r;

        if (!run)
                return -ENOMEM;
        r = net_read_dir(run, &n);
        if (r < 0) {
                return vs_error_set(err, r, "Guest \"%s\" has no network to shape (no net.address when it started)", name);
        }
        r = load_defaults(&d, err);
        if (r < 0)
                return r;
        lock = net_lock();
        r = vs_net_open(-1, &h);
        if (r == 0) {
                r = shape_on(h, &n, rate, ceil ? ceil : rate, d.total, err);
                (void)net_write(run, &n);
        } else
                vs_error_set(err, r, "Cannot open a netlink socket: %s", netlink_why(r));
        vs_net_close(h);
        if (lock >= 0)
                close(lock);
        vs_net_defaults_clear(&d);
        return r;
}

int vs_guest_net_bytes(const char *name, uint64_t *ret_rx, uint64_t *ret_tx)
{
        struct vs_guest_net n;
        struct vs_net *h = NULL;
        uint64_t rx, tx;
        int r = vs_guest_net_read(name, &n);

        if (r < 0)
                return r;
        r = vs_net_open(-1, &h);
        if (r < 0)
                return r;
        r = vs_net_link_bytes(h, n.veth, &rx, &tx);
        vs_net_close(h);
        if (r < 0)
                return r;
        /* What the host side receives, the guest sent. */
        *ret_rx = tx;
        *ret_tx = rx;
        return 0;
}

/* ---- addresses at build time ------------------------------------------- */

static int pool_lock(void)
{
        _cleanup_free_ char *p = vs_strdupf("%s/.net-pool.lock", vs_confdir());
        if (!p)
                return -ENOMEM;
        return vs_lock_file(p);
}

struct used {
        const char *self;
        struct vs_inet *v;
        char **names; /* NULL-terminated, one per address */
        size_t n;
};

static int used_add(const char *name, const char *path, void *arg)
{
        struct used *u = arg;
        _cleanup_config_ struct vs_config *c = NULL;
        _cleanup_strv_free_ char **list = NULL;

        if (!strcmp(name, u->self) || vs_config_load(path, name, &c, NULL) < 0 || !c->net_address ||
            vs_inet_list_split(c->net_address, &list) < 0)
                return 0;
        for (char **p = list; *p; p++) {
                struct vs_inet a;
                struct vs_inet *nv;
                char **nn;

                if (vs_inet_cidr_parse(*p, &a) < 0)
                        continue;
                nv = realloc(u->v, (u->n + 1) * sizeof(*nv));
                if (nv)
                        u->v = nv;
                nn = realloc(u->names, (u->n + 2) * sizeof(*nn));
                if (nn)
                        u->names = nn;
                if (!nv || !nn || !(u->names[u->n] = strdup(name)))
                        return -ENOMEM;
                u->v[u->n++] = a;
                u->names[u->n] = NULL;
        }
        return 0;
}

/* Addresses the other guests' configs hold, each with its guest's name. */
static int used_addresses(const char *self, struct vs_inet **ret, char ***ret_names, size_t *ret_n)
{
        struct used u = { self, NULL, NULL, 0 };
        int r = vs_confdir_foreach(vs_confdir(), used_add, &u);

        *ret = NULL;
        *ret_names = NULL;
        *ret_n = 0;
        if (r < 0) {
                free(u.v);
                vs_strv_free(u.names);
                return r;
        }
        *ret = u.v;
        *ret_names = u.names;
        *ret_n = u.n;
        return 0;
}

/* The next free address of the pool of @family, with the prefix of the
 * bridge's subnet; 0 and nothing in @buf when defaults.conf has no pool of
 * that family. */
static int pool_take(const struct vs_net_defaults *d, int family, struct vs_inet **used, size_t *n, char *buf,
                     size_t len, struct vs_error *err)
{
        const char *pool_s = pool_of(d, family), *br_s = bridge_addr_of(d, family);
        struct vs_inet pool, a, *nu;
        unsigned prefix;
        int r;

        buf[0] = '\0';
        if (!pool_s)
                return 0;
        nu = realloc(*used, (*n + 1) * sizeof(**used));
        if (!nu)
                return -ENOMEM;
        *used = nu;
        vs_inet_cidr_parse(pool_s, &pool);
        prefix = pool.prefix;
        if (br_s) {
                vs_inet_cidr_parse(br_s, &nu[*n]);
                prefix = nu[(*n)++].prefix;
        }
        r = vs_inet_pool_next(&pool, *used, *n, &a);
        if (r < 0) {
                return vs_error_set(err, r, "The address pool %s (%s/defaults.conf) is full", pool_s, vs_confdir());
        }
        a.prefix = prefix;
        vs_inet_cidr_format(&a, buf, len);
        return 0;
}

int vs_guest_net_assign(struct vs_config *c, int *lock_fd, struct vs_error *err)
{
        struct vs_net_defaults d = { 0 };
        _cleanup_free_ struct vs_inet *used = NULL;
        _cleanup_strv_free_ char **names = NULL, **mine = NULL;
        const char *src = c->path ? c->path : "setting";
        size_t n = 0;
        bool default_bridge;
        int r;

        r = load_defaults(&d, err);
        if (r < 0)
                return r;
        /* Routed guests take no address of the bridge's pools. */
        default_bridge = !c->net_routed && (!c->net_bridge || !strcmp(c->net_bridge, d.bridge));
        if (!c->net_address && (!default_bridge || (!d.pool && !d.pool6))) {
                r = 0; /* no pool: the guest stays on loopback */
                goto out;
        }
        if (lock_fd) {
                r = pool_lock();
                if (r < 0) {
                        vs_error_set(err, r, "Cannot lock the address pool in %s: %s", vs_confdir(), strerror(-r));
                        goto out;
                }
                *lock_fd = r;
        }
        r = used_addresses(c->name, &used, &names, &n);
        if (r < 0) {
                vs_error_set(err, r, "Cannot read the guests' configs in %s: %s", vs_confdir(), strerror(-r));
                goto out;
        }
        if (c->net_address) {
                r = vs_inet_list_split(c->net_address, &mine);
                for (char **p = mine; r == 0 && *p; p++) {
                        struct vs_inet a, pool, br;
                        const char *pool_s, *br_s;

                        if (vs_inet_cidr_parse(*p, &a) < 0)
                                continue;
                        pool_s = pool_of(&d, a.family);
                        br_s = bridge_addr_of(&d, a.family);
                        if (default_bridge && pool_s && vs_inet_cidr_parse(pool_s, &pool) == 0 &&
                            !vs_inet_contains(&pool, &a)) {
                                vs_error_set(err, EINVAL, "%s: key \"net.address\": %s is outside the pool %s (%s/defaults.conf)",
                                             src, *p, pool_s, vs_confdir());
                                r = -EINVAL;
                                goto out;
                        }
                        if (default_bridge && br_s && vs_inet_cidr_parse(br_s, &br) == 0 && vs_inet_same(&br, &a)) {
                                vs_error_set(err, EADDRINUSE, "%s: key \"net.address\": %s is the bridge's own address", src, *p);
                                r = -EADDRINUSE;
                                goto out;
                        }
                        for (size_t i = 0; i < n; i++)
                                if (vs_inet_same(&used[i], &a)) {
                                        vs_error_set(err, EADDRINUSE, "%s: key \"net.address\": %s is already used by guest \"%s\"",
                                                     src, *p, names[i]);
                                        r = -EADDRINUSE;
                                        goto out;
                                }
                }
                goto out;
        }
        /* The next free address of each pool, in the bridge's subnets. */
        {
                char v4[VS_INET_CIDR_MAX], v6[VS_INET_CIDR_MAX];
                _cleanup_free_ char *v = NULL;

                r = pool_take(&d, AF_INET, &used, &n, v4, sizeof(v4), err);
                if (r == 0)
                        r = pool_take(&d, AF_INET6, &used, &n, v6, sizeof(v6), err);
                if (r < 0)
                        goto out;
                v = vs_strdupf("%s%s%s", v4, v4[0] && v6[0] ? ", " : "", v6);
                if (!v) {
                        r = -ENOMEM;
                        goto out;
                }
                r = vs_config_set(c, "net.address", v, NULL);
        }
out:
        if (r < 0 && lock_fd && *lock_fd >= 0) {
                close(*lock_fd);
                *lock_fd = -1;
        }
        vs_net_defaults_clear(&d);
        return r;
}
