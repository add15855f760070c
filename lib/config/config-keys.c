/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one table of configuration keys. A unit test walks it and checks
 * that every key is documented in man/vserver.conf.5. */
#include "autoconfig.h"

#include <stddef.h>
#include <stdint.h>

#include "config-parse.h"
#include "config.h"

#define F(field) offsetof(struct vs_config, field)

const struct vs_config_key vs_config_keys[] = {
        { "guest", "template", vs_parse_word, vs_format_string, F(template_name), 0, 0 },
        { "guest", "release", vs_parse_word, vs_format_string, F(release), 0, 0 },
        { "guest", "arch", vs_parse_word, vs_format_string, F(arch), 0, 0 },
        { "guest", "init", vs_parse_abs_path, vs_format_string, F(init), 0, 0 },
        { "guest", "hostname", vs_parse_hostname, vs_format_string, F(hostname), 0, 0 },
        { "guest", "halt_signal", vs_parse_signal_field, vs_format_signal, F(halt_signal), 0, 0 },
        { "guest", "autostart", vs_parse_bool_field, vs_format_bool, F(autostart), 0, 0 },
        { "guest", "order", vs_parse_u64_field, vs_format_u64, F(order), 0, 1000000 },
        { "guest", "depends", vs_parse_names, vs_format_names, F(depends), 0, 0 },
        { "guest", "start_timeout", vs_parse_seconds, vs_format_seconds, F(start_timeout), 1, 86400 },
        { "guest", "stop_timeout", vs_parse_seconds, vs_format_seconds, F(stop_timeout), 0, 86400 },
        { "guest", "caps.keep", vs_parse_caps, vs_format_caps, F(caps_keep), 0, 0 },
        { "guest", "caps.drop", vs_parse_caps, vs_format_caps, F(caps_drop), 0, 0 },
        { "guest", "seccomp", vs_parse_bool_field, vs_format_bool, F(seccomp), 0, 0 },
        { "guest", "userns", vs_parse_bool_field, vs_format_bool, F(userns), 0, 0 },
        { "guest", "idmap", vs_parse_idmap, vs_format_idmap, F(idmap_host), 0, 0 },
        { "guest", "shifted", vs_parse_u64_field, vs_format_u64, F(idmap_shifted), 0, UINT32_MAX },
        { "guest", "cgroup", vs_parse_cgroup_view, vs_format_cgroup_view, F(cgroup_view), 0, 0 },
        { "guest", "ssh_keys", vs_parse_abs_path, vs_format_string, F(ssh_keys), 0, 0 },
        { "guest", "root_password_hash", vs_parse_password_hash, vs_format_string, F(root_password_hash), 0, 0 },
        { "guest", "dns", vs_parse_dns, vs_format_string, F(dns), 0, 0 },
        { "guest", "timezone", vs_parse_timezone, vs_format_string, F(timezone), 0, 0 },
        { "devices", "fuse", vs_parse_bool_field, vs_format_bool, F(dev_fuse), 0, 0 },
        { "devices", "tun", vs_parse_bool_field, vs_format_bool, F(dev_tun), 0, 0 },
        { "cpu", "weight", vs_parse_u64_field, vs_format_u64, F(cpu_weight), 1, 10000 },
        { "cpu", "max", vs_parse_percent, vs_format_percent, F(cpu_max), 1, 100000 },
        { "cpu", "cpus", vs_parse_cpuset, vs_format_string, F(cpus), 0, 0 },
        { "memory", "rss", vs_parse_size_field, vs_format_size, F(rss), 1 << 20, UINT64_C(1) << 60 },
        { "memory", "anon", vs_parse_size_field, vs_format_size, F(anon), 1 << 20, UINT64_C(1) << 60 },
        { "memory", "memlock", vs_parse_size_field, vs_format_size, F(memlock), 0, UINT64_C(1) << 60 },
        { "memory", "pids", vs_parse_u64_field, vs_format_u64, F(pids), 1, 4194304 },
        { "io", "weight", vs_parse_u64_field, vs_format_u64, F(io_weight), 1, 10000 },
        { "io", "read_bps", vs_parse_size_field, vs_format_size, F(io_read_bps), 0, UINT64_C(1) << 50 },
        { "io", "write_bps", vs_parse_size_field, vs_format_size, F(io_write_bps), 0, UINT64_C(1) << 50 },
        { "io", "read_iops", vs_parse_u64_field, vs_format_u64, F(io_read_iops), 0, 100000000 },
        { "io", "write_iops", vs_parse_u64_field, vs_format_u64, F(io_write_iops), 0, 100000000 },
        { "net", "bridge", vs_parse_ifname, vs_format_string, F(net_bridge), 0, 0 },
        { "net", "address", vs_parse_addr_list, vs_format_string, F(net_address), 0, 0 },
        { "net", "gateway", vs_parse_gateway_list, vs_format_string, F(net_gateway), 0, 0 },
        { "net", "mac", vs_parse_mac_field, vs_format_string, F(net_mac), 0, 0 },
        { "net", "rate", vs_parse_rate_field, vs_format_rate, F(net_rate), 0, 0 },
        { "net", "ceil", vs_parse_rate_field, vs_format_rate, F(net_ceil), 0, 0 },
        { "net", "nat", vs_parse_bool_field, vs_format_bool, F(net_nat), 0, 0 },
        { "net", "filter", vs_parse_bool_field, vs_format_bool, F(net_filter), 0, 0 },
        { "net", "mode", vs_parse_net_mode, vs_format_net_mode, F(net_routed), 0, 0 },
        { "disk", "size", vs_parse_size_field, vs_format_size, F(disk_size), 16 << 20, UINT64_C(1) << 50 },
        { "disk", "layout", vs_parse_layout, vs_format_layout, F(disk_layout), 0, 0 },
        { "disk", "project", vs_parse_u64_field, vs_format_u64, F(disk_project), 1, UINT32_MAX - 1 },
};

const size_t vs_config_keys_count = sizeof(vs_config_keys) / sizeof(vs_config_keys[0]);
