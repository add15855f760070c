/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct vs_inet;

/* Netlink work for guests' networks, over libnl-route-3: links (bridge,
 * veth, ifb), addresses, routes, HTB qdiscs and classes. Every function
 * returns 0 or a negative errno. A handle talks to one network namespace. */
struct vs_net;

/* Opens a handle on the caller's network namespace (@netns_fd < 0) or on
 * the namespace @netns_fd refers to (the socket is made there; the caller
 * stays where it is). */
int vs_net_open(int netns_fd, struct vs_net **ret);
void vs_net_close(struct vs_net *n);

/* The index of link @name; -ENODEV when there is none. */
int vs_net_link_index(struct vs_net *n, const char *name);

/* 1 when link @name is of kind @kind ("ifb", "veth"...), 0 when of
 * another; -ENODEV when there is none. */
int vs_net_link_is(struct vs_net *n, const char *name, const char *kind);

/* Creates bridge @name unless it exists, gives it the addresses @cidrs
 * ("10.77.0.1/24", "fd77::1/64"; NULL-terminated, may be NULL) it lacks,
 * IPv6 ones without duplicate address detection, and brings it up. */
int vs_net_bridge_ensure(struct vs_net *n, const char *name, const char *const *cidrs);

/* Creates a veth pair: @host in this namespace, attached to bridge @bridge
 * (NULL: to none) and up; @peer with address @mac created directly in the network namespace
 * of process @peer_pid. Returns the index of @host (> 0), to delete it by
 * with vs_net_link_delete_index(); -EEXIST when @host exists. */
int vs_net_veth_create(struct vs_net *n, const char *host, const char *bridge, const char *peer, pid_t peer_pid,
                       const uint8_t mac[6]);

/* Creates an IFB device @name and brings it up. */
int vs_net_ifb_create(struct vs_net *n, const char *name);

/* Deletes link @name; 0 when it does not exist. */
int vs_net_link_delete(struct vs_net *n, const char *name);

/* Deletes link @ifindex if it is still called @name; 0 when there is no
 * such link, or it now has another name. Links one made are deleted this
 * way: the name alone may by then belong to someone else's link. */
int vs_net_link_delete_index(struct vs_net *n, int ifindex, const char *name);

/* Brings link @name up. */
int vs_net_link_up(struct vs_net *n, const char *name);

/* Adds address @a (either family, with its prefix) to link @name; with
 * @nodad an IPv6 address skips duplicate address detection (usable at
 * once: the host picked it unique). */
int vs_net_addr_add(struct vs_net *n, const char *name, const struct vs_inet *a, bool nodad);

/* Adds the default route of @gateway's family via @gateway out of link
 * @name; @onlink: the gateway needs no route of its own (a link-local
 * address outside the link's subnets). */
int vs_net_route_default(struct vs_net *n, const char *name, const struct vs_inet *gateway, bool onlink);

/* Routes address @a alone (/32, /128) to link @name, scope link: the
 * route goes with the link. */
int vs_net_route_host(struct vs_net *n, const char *name, const struct vs_inet *a);

/* Writes @value to the per-device setting net.ipv4|ipv6.conf.@dev.@key
 * of this namespace's /proc/sys; -ENOENT when this kernel has no such
 * setting. */
int vs_net_dev_sysctl(int family, const char *dev, const char *key, const char *value);

/* Installs an HTB root qdisc (handle 1:) on @dev with one parent class 1:1
 * of @total bits/s; an existing root class gets the new total. */
int vs_net_htb_root(struct vs_net *n, const char *dev, uint64_t total);

/* Adds or changes leaf class 1:@minor under 1:1 on @dev. */
int vs_net_htb_class_set(struct vs_net *n, const char *dev, uint16_t minor, uint64_t rate, uint64_t ceil);

/* Deletes class 1:@minor on @dev; 0 when it does not exist. */
int vs_net_htb_class_delete(struct vs_net *n, const char *dev, uint16_t minor);

/* The minors of the leaf classes below 1:1 on @dev, as a bit set of 65536
 * bits the caller provides. */
int vs_net_htb_class_minors(struct vs_net *n, const char *dev, uint8_t used[8192]);
/* The first minor from @first on (1 at least, below 0xffff) that no class
 * below 1:1 on @dev uses, in @ret_minor; -ENOSPC when all are taken. */
int vs_net_htb_class_free(struct vs_net *n, const char *dev, uint16_t first, uint16_t *ret_minor);

/* Byte counters of link @name. */
int vs_net_link_bytes(struct vs_net *n, const char *name, uint64_t *ret_rx, uint64_t *ret_tx);

/* Runs nftables commands (nft syntax) through libnftables; on failure the
 * first line of nft's message is left in @err. */
int vs_nft_run(const char *cmds, struct vs_error *err);

/* vs_nft_run() that also returns what nft printed (e.g. for "list
 * counter"), in *@ret_out to free. */
int vs_nft_query(const char *cmds, char **ret_out, struct vs_error *err);
