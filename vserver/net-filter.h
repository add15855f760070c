/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Anti-spoofing: an nftables netdev table per guest, "TABLE_f" beside its
 * shaping table TABLE (which vs-limit recreates whole), hooked on ingress
 * of the host side of its veth, before the bridge and before shaping. It
 * drops what the guest sends with a source MAC, IPv4 or IPv6 source, or
 * ARP sender other than its own, IPv6 router advertisements and redirects,
 * neighbour advertisements for an address not its own, DHCP and DHCPv6
 * server replies, and any other ether type than ARP, IPv4 and IPv6 (VLAN
 * tags included). Each drop counts in the table's named counter
 * "dropped". */

#define VS_NET_FILTER_SUFFIX "_f"

/* Writes the filter table's name for shaping table @table into @buf
 * (at least 64 bytes). */
void vs_net_filter_table(const char *table, char *buf, size_t len);

/* Builds the nftables script that (re)creates the filter of shaping table
 * @table on host-side veth @veth for a guest with MAC @mac and addresses
 * @addrs ("ADDR/PREFIX", IPv4 or IPv6, NULL-terminated; the prefix is not
 * used: the guest may send from these addresses only). Its link-local
 * address is the EUI-64 one of @mac. Returns -EINVAL for a name nftables
 * cannot take quoted or an address that does not parse. */
int vs_net_filter_rules(const char *table, const char *veth, const uint8_t mac[6], const char *const *addrs,
                        char **ret);

/* Builds and installs the rules; on failure nft's message is in @err. */
int vs_net_filter_install(const char *table, const char *veth, const uint8_t mac[6], const char *const *addrs,
                          struct vs_error *err);

/* Removes the filter table of shaping table @table, if there is one. */
void vs_net_filter_remove(const char *table);

/* Packets dropped so far; -ENOENT when the guest has no filter. */
int vs_net_filter_dropped(const char *table, uint64_t *ret_packets);

/* Packets the filter of running guest @name dropped; -ENOENT when it runs
 * without one. */
int vs_guest_net_dropped(const char *name, uint64_t *ret_packets);
