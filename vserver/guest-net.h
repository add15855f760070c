/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "guest.h"
#include "netconf.h"

struct vs_config;

/* What a running guest's network is made of, kept in /run/vservers/NAME/net
 * (written once the veth exists, then after each further change, so a
 * failed start or a dead supervisor can be cleaned up; it lists only what
 * this guest made: the veth by name and index, never a name alone). */
struct vs_guest_net {
        bool active;
        char veth[16];     /* host side; the guest side is eth0 */
        int ifindex;       /* of veth when made: deleted only while both match */
        char bridge[16];   /* "" in routed mode */
        bool routed;       /* net.mode = routed: host routes, no bridge */
        bool forward6;     /* routed: IPv6 forwarding on the veth (force_forwarding, Linux 6.17) */
        /* Every address of the guest, "ADDR/PREFIX" of either family as
         * configured; the net file keeps them on one line, comma-separated
         * (a single address: as before). */
        char addrs[VS_NET_ADDR_MAX][VS_INET_CIDR_MAX];
        size_t n_addrs;
        char mac[18];      /* of eth0 inside; "" in a net file of an older vserver */
        char ifb_up[16];   /* from the guest: shared per bridge */
        char ifb_down[16]; /* to the guest */
        uint16_t minor;    /* HTB class 1:minor on both; 0: unshaped */
        bool nat;
        char table[40];    /* nftables tables: netdev (shaping) and ip (nat) */
};

/* Points @ret at the addresses of @n, a NULL-terminated list such as a
 * filter taking "const char *const *addrs" wants; valid as long as @n. */
void vs_guest_net_addr_list(const struct vs_guest_net *n, const char *ret[VS_NET_ADDR_MAX + 1]);

/* Wires guest @name (init @pid, already in its own network namespace) to
 * its bridge: veth, eth0 inside with address, route and MAC, shaping, nat.
 * Nothing is left behind on failure. A guest without net.address gets
 * nothing (@ret->active false). */
int vs_guest_net_setup(const char *name, const struct vs_config *c, pid_t pid, const char *rundir,
                       struct vs_guest_net *ret, struct vs_error *err);

/* Removes everything the net file in @rundir lists; the bridge stays, the
 * IFB devices go with the last shaped guest of their bridge. */
void vs_guest_net_teardown(const char *rundir);

/* Reads the net file of running guest @name. */
int vs_guest_net_read(const char *name, struct vs_guest_net *ret);

/* vs-build: checks net.address against the pool and the other guests, or
 * takes the next free address of the pool when there is none. With @lock,
 * holds the pool lock until *@lock_fd is closed. */
int vs_guest_net_assign(struct vs_config *c, int *lock_fd, struct vs_error *err);

/* vs-limit: new rate/ceil (bits/s) for a running guest, shaping it now if
 * it was not. */
int vs_guest_net_limit(const char *name, uint64_t rate, uint64_t ceil, struct vs_error *err);

/* Bytes the guest received and sent (host side of its veth). */
int vs_guest_net_bytes(const char *name, uint64_t *ret_rx, uint64_t *ret_tx);
