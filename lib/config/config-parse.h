/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Value parsers and formatters for the key table. A parser stores into
 * @field only on success and explains a failure in @err (-EINVAL). */
int vs_parse_word(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err);
int vs_parse_abs_path(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err);
int vs_parse_hostname(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err);
int vs_parse_signal_field(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err);
int vs_parse_bool_field(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err);
int vs_parse_u64_field(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err);
int vs_parse_size_field(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err);
/* lib/config/config-order.c: a comma list of guest names (char **), and seconds
 * with an optional "s" (uint64_t). */
int vs_parse_names(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err);
int vs_parse_seconds(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err);
char *vs_format_names(const void *field);
char *vs_format_seconds(const void *field);

/* lib/config/config-sec.c: a comma list of capability names ("sys_time,
 * CAP_NET_RAW") as a bit mask (uint64_t). */
int vs_parse_caps(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err);
char *vs_format_caps(const void *field);

int vs_parse_percent(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err);
int vs_parse_cpuset(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err);
/* Expands a cpuset list ("0-3,6") into a bit mask; -EINVAL when malformed,
 * -ERANGE when a CPU number is 1024 or more. */
int vs_cpuset_parse(const char *s, uint64_t mask[16]);

/* lib/config/config-net.c: [net] values. */
int vs_parse_ifname(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err);
/* net.address: a list of "ADDR/N" of either family (comma or blank
 * separated); net.gateway: at most one address per family. */
int vs_parse_addr_list(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err);
int vs_parse_gateway_list(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err);
/* net.mode (bool: routed): "bridge" or "routed"; formats as NULL for bridge. */
int vs_parse_net_mode(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err);
char *vs_format_net_mode(const void *field);
int vs_parse_mac_field(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err);
int vs_parse_rate_field(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err);
char *vs_format_rate(const void *field);
struct vs_config;
/* What no single [net] key can check: ceil >= rate, the gateway in the
 * address's subnet. */
int vs_config_check_net(const struct vs_config *c, struct vs_error *err);

/* Stores @s (owned, from strdup and the like; NULL is -ENOMEM) in the char *
 * at @field, freeing what was there: the one setter of string keys. */
int vs_config_store(void *field, char *s);
/* vs_config_store() of a copy of @v when @valid; otherwise -EINVAL with
 * @expected (what the key takes) in @err. */
int vs_config_store_valid(void *field, const char *v, bool valid, const char *expected, struct vs_error *err);
/* Stores in the int at @field the index, from @first to @last, of the
 * entry of @names that is @v; otherwise -EINVAL, saying in @err that the
 * key takes @expected (e.g. "dir, image or shared"). */
int vs_config_store_enum(void *field, const char *v, const char *const *names, int first, int last,
                         const char *expected, struct vs_error *err);
char *vs_format_string(const void *field);
char *vs_format_percent(const void *field);
char *vs_format_signal(const void *field);
char *vs_format_bool(const void *field);
char *vs_format_u64(const void *field);
char *vs_format_size(const void *field);
/* guest.cgroup (int, enum vs_cgroup_view). */
int vs_parse_cgroup_view(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err);
char *vs_format_cgroup_view(const void *field);
/* lib/config/config-disk.c: disk.layout (int, enum vs_layout). */
int vs_parse_layout(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err);
char *vs_format_layout(const void *field);

/* lib/proc/idmap.c: guest.idmap, "auto" or "HOSTID:COUNT", stored in two
 * adjacent uint64_t (struct vs_config idmap_host, idmap_count). */
int vs_parse_idmap(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err);
char *vs_format_idmap(const void *field);

/* lib/config/config-access.c: first-boot access in [guest] (char *): a crypt(3)
 * hash, a comma list of at most three IPv4 or IPv6 name servers, a time
 * zone name (its existence is checked by vs-build, which has the trees). */
int vs_parse_password_hash(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err);
int vs_parse_dns(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err);
int vs_parse_timezone(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err);
