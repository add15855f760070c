/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <linux/pkt_sched.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/class.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/route.h>
#include <netlink/route/tc.h>
#include <nftables/libnftables.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "dl.h"
#include "netlink.h"
#include "netconf.h"

struct vs_net {
        struct nl_sock *sk;
};

/* libnl speaks its own error codes. */
/* libnl is loaded only for guests with a network (lib/core/dl.h): opening
 * libnl-route-3 brings libnl-3 along, and its handle resolves both. */
#define NL_FUNCS(X) X(nl_addr_build) X(nl_addr_put) X(nl_addr_set_prefixlen) X(nl_cache_foreach) \
        X(nl_cache_free) X(nl_connect) X(nl_socket_alloc) X(nl_socket_free) \
        X(rtnl_addr_add) X(rtnl_addr_alloc) X(rtnl_addr_put) X(rtnl_addr_set_flags) X(rtnl_addr_set_ifindex) \
        X(rtnl_addr_set_local) X(rtnl_addr_set_prefixlen) X(rtnl_class_add) X(rtnl_class_alloc) \
        X(rtnl_class_alloc_cache) X(rtnl_class_delete) X(rtnl_class_put) X(rtnl_htb_set_cbuffer) \
        X(rtnl_htb_set_ceil64) X(rtnl_htb_set_quantum) X(rtnl_htb_set_rate2quantum) X(rtnl_htb_set_rate64) \
        X(rtnl_htb_set_rbuffer) X(rtnl_link_add) X(rtnl_link_alloc) X(rtnl_link_change) \
        X(rtnl_link_delete) X(rtnl_link_get_ifindex) X(rtnl_link_get_kernel) X(rtnl_link_get_name) X(rtnl_link_get_type) X(rtnl_link_get_stat) \
        X(rtnl_link_put) X(rtnl_link_set_addr) X(rtnl_link_set_flags) X(rtnl_link_set_master) \
        X(rtnl_link_set_name) X(rtnl_link_set_ns_pid) X(rtnl_link_set_type) X(rtnl_link_veth_alloc) \
        X(rtnl_link_veth_get_peer) X(rtnl_link_veth_release) X(rtnl_qdisc_add) X(rtnl_qdisc_alloc) \
        X(rtnl_qdisc_put) X(rtnl_route_add) X(rtnl_route_add_nexthop) X(rtnl_route_alloc) \
        X(rtnl_route_nh_alloc) X(rtnl_route_nh_free) X(rtnl_route_nh_set_flags) X(rtnl_route_nh_set_gateway) X(rtnl_route_nh_set_ifindex) \
        X(rtnl_route_put) X(rtnl_route_set_dst) X(rtnl_route_set_family) X(rtnl_route_set_protocol) \
        X(rtnl_route_set_scope) X(rtnl_route_set_table) X(rtnl_tc_get_handle) X(rtnl_tc_get_parent) \
        X(rtnl_tc_set_handle) X(rtnl_tc_set_ifindex) X(rtnl_tc_set_kind) X(rtnl_tc_set_parent)
static struct {
        NL_FUNCS(VS_DL_SLOT)
} lnl;
static const char *const lnl_names[] = { NL_FUNCS(VS_DL_NAME) };

static int nlerr(int e)
{
        switch (e < 0 ? -e : e) {
        case 0: return 0;
        case NLE_EXIST: return -EEXIST;
        case NLE_OBJ_NOTFOUND: return -ENOENT;
        case NLE_NODEV: return -ENODEV;
        case NLE_PERM: return -EPERM;
        case NLE_NOACCESS: return -EACCES;
        case NLE_INVAL: return -EINVAL;
        case NLE_BUSY: return -EBUSY;
        case NLE_NOMEM: return -ENOMEM;
        case NLE_RANGE: return -ERANGE;
        case NLE_OPNOTSUPP: return -EOPNOTSUPP;
        case NLE_AGAIN: return -EAGAIN;
        case NLE_AF_NOSUPPORT: return -EAFNOSUPPORT;
        case NLE_NOADDR: return -EADDRNOTAVAIL;
        default: return -EIO;
        }
}

int vs_net_open(int netns_fd, struct vs_net **ret)
{
        _cleanup_close_ int self = -1;
        struct vs_net *n;
        int r;

        r = vs_dl_load("libnl-route-3.so.200", lnl_names, VS_DL_COUNT(lnl_names), (void **)&lnl, NULL);
        if (r < 0)
                return r;
        n = calloc(1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        n->sk = lnl.nl_socket_alloc();
        if (!n->sk) {
                free(n);
                return -ENOMEM;
        }
        if (netns_fd >= 0) {
                /* A netlink socket belongs to the namespace it was made in. */
                self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
                if (self < 0 || setns(netns_fd, CLONE_NEWNET) < 0) {
                        r = -errno;
                        goto fail;
                }
        }
        r = nlerr(lnl.nl_connect(n->sk, NETLINK_ROUTE));
        if (netns_fd >= 0 && setns(self, CLONE_NEWNET) < 0 && r == 0)
                r = -errno;
        if (r < 0)
                goto fail;
        *ret = n;
        return 0;
fail:
        lnl.nl_socket_free(n->sk);
        free(n);
        return r;
}

void vs_net_close(struct vs_net *n)
{
        if (!n)
                return;
        lnl.nl_socket_free(n->sk);
        free(n);
}

int vs_net_link_index(struct vs_net *n, const char *name)
{
        struct rtnl_link *l = NULL;
        int r = nlerr(lnl.rtnl_link_get_kernel(n->sk, 0, name, &l));
        if (r < 0)
                return r == -ENOENT ? -ENODEV : r;
        r = lnl.rtnl_link_get_ifindex(l);
        lnl.rtnl_link_put(l);
        return r > 0 ? r : -ENODEV;
}

int vs_net_link_is(struct vs_net *n, const char *name, const char *kind)
{
        struct rtnl_link *l = NULL;
        const char *t;
        int r = nlerr(lnl.rtnl_link_get_kernel(n->sk, 0, name, &l));
        if (r < 0)
                return r == -ENOENT ? -ENODEV : r;
        t = lnl.rtnl_link_get_type(l);
        r = t && strcmp(t, kind) == 0;
        lnl.rtnl_link_put(l);
        return r;
}

/* A link object that names the link @name, for a request (NULL: -ENOMEM). */
static struct rtnl_link *link_named(const char *name)
{
        struct rtnl_link *l = lnl.rtnl_link_alloc();
        if (l)
                lnl.rtnl_link_set_name(l, name);
        return l;
}

/* Makes link @name of kind @type (bridge, ifb), still down. */
static int link_add(struct vs_net *n, const char *name, const char *type)
{
        struct rtnl_link *l = link_named(name);
        int r;

        if (!l)
                return -ENOMEM;
        r = lnl.rtnl_link_set_type(l, type);
        r = r < 0 ? nlerr(r) : nlerr(lnl.rtnl_link_add(n->sk, l, NLM_F_CREATE | NLM_F_EXCL));
        lnl.rtnl_link_put(l);
        return r;
}

static int link_set_up(struct vs_net *n, const char *name, int master)
{
        struct rtnl_link *cur = NULL, *chg = NULL;
        int r = nlerr(lnl.rtnl_link_get_kernel(n->sk, 0, name, &cur));
        if (r < 0)
                return r == -ENOENT ? -ENODEV : r;
        chg = lnl.rtnl_link_alloc();
        if (!chg) {
                lnl.rtnl_link_put(cur);
                return -ENOMEM;
        }
        lnl.rtnl_link_set_flags(chg, IFF_UP);
        if (master > 0)
                lnl.rtnl_link_set_master(chg, master);
        r = nlerr(lnl.rtnl_link_change(n->sk, cur, chg, 0));
        lnl.rtnl_link_put(chg);
        lnl.rtnl_link_put(cur);
        return r;
}

int vs_net_link_up(struct vs_net *n, const char *name)
{
        return link_set_up(n, name, 0);
}

static int addr_add(struct vs_net *n, int ifindex, const struct vs_inet *in, bool nodad, bool exist_ok)
{
        struct rtnl_addr *a = lnl.rtnl_addr_alloc();
        struct nl_addr *local;
        int r;

        if (!a)
                return -ENOMEM;
        local = lnl.nl_addr_build(in->family, in->addr, in->family == AF_INET ? 4 : 16);
        if (!local) {
                lnl.rtnl_addr_put(a);
                return -ENOMEM;
        }
        lnl.nl_addr_set_prefixlen(local, (int)in->prefix);
        lnl.rtnl_addr_set_ifindex(a, ifindex);
        lnl.rtnl_addr_set_local(a, local);
        lnl.rtnl_addr_set_prefixlen(a, (int)in->prefix);
        if (nodad && in->family == AF_INET6)
                lnl.rtnl_addr_set_flags(a, IFA_F_NODAD);
        r = nlerr(lnl.rtnl_addr_add(n->sk, a, NLM_F_CREATE | NLM_F_EXCL));
        lnl.nl_addr_put(local);
        lnl.rtnl_addr_put(a);
        return r == -EEXIST && exist_ok ? 0 : r;
}

int vs_net_addr_add(struct vs_net *n, const char *name, const struct vs_inet *a, bool nodad)
{
        int idx = vs_net_link_index(n, name);
        if (idx < 0)
                return idx;
        return addr_add(n, idx, a, nodad, false);
}

int vs_net_bridge_ensure(struct vs_net *n, const char *name, const char *const *cidrs)
{
        int idx = vs_net_link_index(n, name), r;

        if (idx == -ENODEV) {
                r = link_add(n, name, "bridge");
                /* Two starts may race to make it. */
                if (r < 0 && r != -EEXIST)
                        return r;
                idx = vs_net_link_index(n, name);
        }
        if (idx < 0)
                return idx;
        for (size_t i = 0; cidrs && cidrs[i]; i++) {
                struct vs_inet a;
                if (vs_inet_cidr_parse(cidrs[i], &a) < 0)
                        return -EINVAL;
                /* The host picked it: no duplicate address detection,
                 * which would leave it tentative (unusable as a source)
                 * until the bridge has a port with carrier. */
                r = addr_add(n, idx, &a, true, true);
                if (r < 0)
                        return r;
        }
        return link_set_up(n, name, 0);
}

int vs_net_veth_create(struct vs_net *n, const char *host, const char *bridge, const char *peer, pid_t peer_pid,
                       const uint8_t mac[6])
{
        struct rtnl_link *l, *p;
        struct nl_addr *hw;
        int br = 0, idx, r;

        if (bridge) {
                br = vs_net_link_index(n, bridge);
                if (br < 0)
                        return br;
        }
        l = lnl.rtnl_link_veth_alloc();
        if (!l)
                return -ENOMEM;
        p = lnl.rtnl_link_veth_get_peer(l);
        lnl.rtnl_link_set_name(l, host);
        lnl.rtnl_link_set_name(p, peer);
        lnl.rtnl_link_set_ns_pid(p, peer_pid);
        hw = lnl.nl_addr_build(AF_LLC, mac, 6);
        if (!hw) {
                lnl.rtnl_link_put(p);
                lnl.rtnl_link_veth_release(l);
                return -ENOMEM;
        }
        lnl.rtnl_link_set_addr(p, hw);
        lnl.nl_addr_put(hw);
        r = nlerr(lnl.rtnl_link_add(n->sk, l, NLM_F_CREATE | NLM_F_EXCL));
        lnl.rtnl_link_put(p);
        lnl.rtnl_link_veth_release(l);
        if (r < 0)
                return r;
        /* Under the caller's lock nothing else of ours renames it: the
         * index read back is the link just made. */
        idx = vs_net_link_index(n, host);
        if (idx < 0)
                return idx;
        r = link_set_up(n, host, br);
        if (r < 0) {
                (void)vs_net_link_delete_index(n, idx, host);
                return r;
        }
        return idx;
}

int vs_net_ifb_create(struct vs_net *n, const char *name)
{
        int r = link_add(n, name, "ifb");
        if (r < 0)
                return r;
        return link_set_up(n, name, 0);
}

int vs_net_link_delete(struct vs_net *n, const char *name)
{
        struct rtnl_link *l = link_named(name);
        int r;
        if (!l)
                return -ENOMEM;
        r = nlerr(lnl.rtnl_link_delete(n->sk, l));
        lnl.rtnl_link_put(l);
        return r == -ENODEV || r == -ENOENT ? 0 : r;
}

int vs_net_link_delete_index(struct vs_net *n, int ifindex, const char *name)
{
        struct rtnl_link *l = NULL;
        const char *cur;
        int r;

        if (ifindex <= 0)
                return 0;
        r = nlerr(lnl.rtnl_link_get_kernel(n->sk, ifindex, NULL, &l));
        if (r < 0)
                return r == -ENODEV || r == -ENOENT ? 0 : r;
        cur = lnl.rtnl_link_get_name(l);
        /* Same index, another name: renamed by someone else, not ours to
         * delete any more. */
        r = cur && strcmp(cur, name) == 0 ? nlerr(lnl.rtnl_link_delete(n->sk, l)) : 0;
        lnl.rtnl_link_put(l);
        return r == -ENODEV || r == -ENOENT ? 0 : r;
}

/* A static route in the main table out of link @name to @to/@prefix: via
 * gateway @via (scope universe, RTNH_F_ONLINK if @onlink), or with @via
 * NULL on the link itself (scope link). */
static int route_add(struct vs_net *n, const char *name, int family, const uint8_t *to, int prefix,
                     const uint8_t *via, bool onlink)
{
        struct rtnl_route *rt;
        struct rtnl_nexthop *nh;
        struct nl_addr *dst, *gw = NULL;
        size_t len = family == AF_INET ? 4 : 16;
        int idx = vs_net_link_index(n, name), r;

        if (idx < 0)
                return idx;
        rt = lnl.rtnl_route_alloc();
        nh = lnl.rtnl_route_nh_alloc();
        dst = lnl.nl_addr_build(family, to, len);
        if (via)
                gw = lnl.nl_addr_build(family, via, len);
        if (!rt || !nh || !dst || (via && !gw)) {
                r = -ENOMEM;
                goto out;
        }
        lnl.nl_addr_set_prefixlen(dst, prefix);
        lnl.rtnl_route_set_family(rt, (uint8_t)family);
        lnl.rtnl_route_set_dst(rt, dst);
        lnl.rtnl_route_set_table(rt, RT_TABLE_MAIN);
        lnl.rtnl_route_set_protocol(rt, RTPROT_STATIC);
        lnl.rtnl_route_set_scope(rt, via ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
        lnl.rtnl_route_nh_set_ifindex(nh, idx);
        if (gw)
                lnl.rtnl_route_nh_set_gateway(nh, gw);
        if (onlink)
                lnl.rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
        lnl.rtnl_route_add_nexthop(rt, nh);
        nh = NULL; /* the route owns it now */
        r = nlerr(lnl.rtnl_route_add(n->sk, rt, NLM_F_CREATE | NLM_F_EXCL));
out:
        if (nh)
                lnl.rtnl_route_nh_free(nh);
        if (rt)
                lnl.rtnl_route_put(rt);
        lnl.nl_addr_put(dst);
        lnl.nl_addr_put(gw);
        return r;
}

int vs_net_route_default(struct vs_net *n, const char *name, const struct vs_inet *gateway, bool onlink)
{
        static const uint8_t any[16];
        return route_add(n, name, gateway->family, any, 0, gateway->addr, onlink);
}

int vs_net_route_host(struct vs_net *n, const char *name, const struct vs_inet *a)
{
        return route_add(n, name, a->family, a->addr, a->family == AF_INET ? 32 : 128, NULL, false);
}

int vs_net_dev_sysctl(int family, const char *dev, const char *key, const char *value)
{
        char path[128];
        _cleanup_close_ int fd = -1;
        size_t len = strlen(value);

        if (strchr(dev, '/') || strchr(key, '/') || !strcmp(dev, ".") || !strcmp(dev, ".."))
                return -EINVAL;
        snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/%s", family == AF_INET ? "ipv4" : "ipv6", dev, key);
        fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        if (write(fd, value, len) != (ssize_t)len)
                return -errno ? -errno : -EIO;
        return 0;
}

/* quantum decides how spare bandwidth is shared among classes: keep it
 * proportional to the rate (rate/10, HTB's own default) within the range
 * HTB accepts without warning. */
static uint32_t quantum_for(uint64_t rate)
{
        uint64_t q = rate / 8 / 10;
        if (q < 1600)
                q = 1600;
        if (q > 200000)
                q = 200000;
        return (uint32_t)q;
}

static uint32_t bucket_for(uint64_t rate)
{
        uint64_t b = rate / 8 / 100 + 1514;
        return b > (1u << 24) ? 1u << 24 : (uint32_t)b;
}

/* Places a qdisc or class: on link @ifindex, below @parent, as @handle. */
static void tc_place(struct rtnl_tc *tc, int ifindex, uint32_t parent, uint32_t handle)
{
        lnl.rtnl_tc_set_ifindex(tc, ifindex);
        lnl.rtnl_tc_set_parent(tc, parent);
        lnl.rtnl_tc_set_handle(tc, handle);
}

static int class_set(struct vs_net *n, int ifindex, uint32_t parent, uint32_t handle, uint64_t rate, uint64_t ceil)
{
        struct rtnl_class *c = lnl.rtnl_class_alloc();
        int r;

        if (!c)
                return -ENOMEM;
        tc_place(TC_CAST(c), ifindex, parent, handle);
        r = lnl.rtnl_tc_set_kind(TC_CAST(c), "htb");
        /* libnl takes bytes per second. */
        if (r == 0)
                r = lnl.rtnl_htb_set_rate64(c, rate / 8);
        if (r == 0)
                r = lnl.rtnl_htb_set_ceil64(c, (ceil ? ceil : rate) / 8);
        if (r == 0)
                r = lnl.rtnl_htb_set_quantum(c, quantum_for(rate));
        /* Buckets of 10 ms plus a frame: small ones undershoot at high
         * rates, where one timer tick already moves more than that. */
        if (r == 0)
                r = lnl.rtnl_htb_set_rbuffer(c, bucket_for(rate));
        if (r == 0)
                r = lnl.rtnl_htb_set_cbuffer(c, bucket_for(ceil ? ceil : rate));
        r = r < 0 ? nlerr(r) : nlerr(lnl.rtnl_class_add(n->sk, c, NLM_F_CREATE | NLM_F_REPLACE));
        lnl.rtnl_class_put(c);
        return r;
}

int vs_net_htb_root(struct vs_net *n, const char *dev, uint64_t total)
{
        struct rtnl_qdisc *q;
        int idx = vs_net_link_index(n, dev), r;

        if (idx < 0)
                return idx;
        q = lnl.rtnl_qdisc_alloc();
        if (!q)
                return -ENOMEM;
        tc_place(TC_CAST(q), idx, TC_H_ROOT, TC_HANDLE(1, 0));
        r = lnl.rtnl_tc_set_kind(TC_CAST(q), "htb");
        if (r == 0)
                r = lnl.rtnl_htb_set_rate2quantum(q, 10);
        r = r < 0 ? nlerr(r) : nlerr(lnl.rtnl_qdisc_add(n->sk, q, NLM_F_CREATE | NLM_F_REPLACE));
        lnl.rtnl_qdisc_put(q);
        if (r < 0)
                return r;
        return class_set(n, idx, TC_HANDLE(1, 0), TC_HANDLE(1, 1), total, total);
}

int vs_net_htb_class_set(struct vs_net *n, const char *dev, uint16_t minor, uint64_t rate, uint64_t ceil)
{
        int idx = vs_net_link_index(n, dev);
        if (idx < 0)
                return idx;
        return class_set(n, idx, TC_HANDLE(1, 1), TC_HANDLE(1, minor), rate, ceil);
}

int vs_net_htb_class_delete(struct vs_net *n, const char *dev, uint16_t minor)
{
        struct rtnl_class *c;
        int idx = vs_net_link_index(n, dev), r;

        if (idx == -ENODEV)
                return 0;
        if (idx < 0)
                return idx;
        c = lnl.rtnl_class_alloc();
        if (!c)
                return -ENOMEM;
        tc_place(TC_CAST(c), idx, TC_HANDLE(1, 1), TC_HANDLE(1, minor));
        r = nlerr(lnl.rtnl_class_delete(n->sk, c));
        lnl.rtnl_class_put(c);
        return r == -ENOENT || r == -ENODEV ? 0 : r;
}

struct minors_ctx {
        uint8_t *used;
};

static void note_minor(struct nl_object *o, void *arg)
{
        struct minors_ctx *m = arg;
        struct rtnl_class *c = (struct rtnl_class *)o;
        uint32_t h = lnl.rtnl_tc_get_handle(TC_CAST(c));
        if (lnl.rtnl_tc_get_parent(TC_CAST(c)) == TC_HANDLE(1, 1)) {
                uint16_t minor = (uint16_t)TC_H_MIN(h);
                m->used[minor / 8] |= (uint8_t)(1u << (minor % 8));
        }
}

int vs_net_htb_class_minors(struct vs_net *n, const char *dev, uint8_t used[8192])
{
        struct nl_cache *cache = NULL;
        struct minors_ctx m = { used };
        int idx = vs_net_link_index(n, dev), r;

        memset(used, 0, 8192);
        if (idx < 0)
                return idx;
        r = nlerr(lnl.rtnl_class_alloc_cache(n->sk, idx, &cache));
        if (r < 0)
                return r;
        lnl.nl_cache_foreach(cache, note_minor, &m);
        lnl.nl_cache_free(cache);
        return 0;
}

int vs_net_htb_class_free(struct vs_net *n, const char *dev, uint16_t first, uint16_t *ret_minor)
{
        uint8_t used[8192];
        int r = vs_net_htb_class_minors(n, dev, used);

        if (r < 0)
                return r;
        for (unsigned m = first ? first : 1; m < 0xffff; m++)
                if (!(used[m / 8] & (1u << (m % 8)))) {
                        *ret_minor = (uint16_t)m;
                        return 0;
                }
        return -ENOSPC;
}

int vs_net_link_bytes(struct vs_net *n, const char *name, uint64_t *ret_rx, uint64_t *ret_tx)
{
        struct rtnl_link *l = NULL;
        int r = nlerr(lnl.rtnl_link_get_kernel(n->sk, 0, name, &l));
        if (r < 0)
                return r == -ENOENT ? -ENODEV : r;
        *ret_rx = lnl.rtnl_link_get_stat(l, RTNL_LINK_RX_BYTES);
        *ret_tx = lnl.rtnl_link_get_stat(l, RTNL_LINK_TX_BYTES);
        lnl.rtnl_link_put(l);
        return 0;
}

/* libnftables is loaded only for guests that shape, NAT or filter (lib/core/dl.h). */
#define NFT_FUNCS(X)                                                                                        \
        X(nft_ctx_new) X(nft_ctx_free) X(nft_ctx_buffer_output) X(nft_ctx_buffer_error)                     \
                X(nft_ctx_get_error_buffer) X(nft_run_cmd_from_buffer) X(nft_ctx_get_output_buffer)
static struct {
        NFT_FUNCS(VS_DL_SLOT)
} nft;
static const char *const nft_names[] = { NFT_FUNCS(VS_DL_NAME) };

int vs_nft_query(const char *cmds, char **ret_out, struct vs_error *err)
{
        struct nft_ctx *ctx;
        int r = vs_dl_load("libnftables.so.1", nft_names, VS_DL_COUNT(nft_names), (void **)&nft, err);

        if (r < 0)
                return r;
        ctx = nft.nft_ctx_new(NFT_CTX_DEFAULT);
        if (!ctx)
                return -ENOMEM;
        nft.nft_ctx_buffer_output(ctx);
        nft.nft_ctx_buffer_error(ctx);
        r = nft.nft_run_cmd_from_buffer(ctx, cmds);
        if (r != 0) {
                const char *e = nft.nft_ctx_get_error_buffer(ctx);
                size_t k = e ? strcspn(e, "\n") : 0;
                vs_error_set(err, EIO, "%.*s", (int)k, e ? e : "nftables failed");
        }
        if (r == 0 && ret_out) {
                const char *o = nft.nft_ctx_get_output_buffer(ctx);
                *ret_out = strdup(o ? o : "");
                if (!*ret_out)
                        r = -ENOMEM;
        }
        nft.nft_ctx_free(ctx);
        return r == -ENOMEM ? r : r != 0 ? -EIO : 0;
}

int vs_nft_run(const char *cmds, struct vs_error *err)
{
        return vs_nft_query(cmds, NULL, err);
}
