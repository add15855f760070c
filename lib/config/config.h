/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* A guest's configuration, /etc/vservers/NAME.conf. Every key is listed once
 * in lib/config/config-keys.c with its parser; nothing else reads the file. */
struct vs_config {
        char *name;     /* from the file name, not from the file */
        char *path;     /* the file it was read from, if any */

        /* [guest] */
        char *template_name;
        char *release;
        char *arch;
        char *init;      /* path of the guest's init, default /sbin/init */
        char *hostname;  /* default: the guest's name */
        int halt_signal; /* 0: derived from the init (see vs_config_halt_signal) */
        bool autostart;
        uint64_t order;
        char **depends;         /* guests that must be up first; NULL: none */
        uint64_t start_timeout; /* seconds to become ready, default 60 */
        uint64_t stop_timeout;  /* seconds to halt before being killed, default 60 */
        /* hardening (lib/config/config-sec.c, SECURITY.md) */
        uint64_t caps_keep;     /* capabilities added to the default bounding set */
        uint64_t caps_drop;     /* capabilities removed from it */
        bool seccomp;           /* the default syscall deny list, default yes */
        /* unprivileged guests (lib/proc/idmap.h): guest ids 0..idmap_count-1 are
         * host ids idmap_host.. in the guest's own user namespace */
        bool userns;
        bool userns_explicit;   /* userns was set (file, --set): written even as the default */
        uint64_t idmap_host;    /* with idmap_count 0: "auto", chosen at start */
        uint64_t idmap_count;
        uint64_t idmap_shifted; /* the files on disk were shifted to host ids from here at build
                                 * (their file system cannot id-map); 0: not shifted */
        int cgroup_view;        /* enum vs_cgroup_view: what the guest sees at /sys/fs/cgroup */
        /* first-boot access, written into the tree by every build
         * (vserver/provision.c) */
        char *ssh_keys;           /* root's authorized keys: vs-build's copy, CONFDIR/NAME.ssh_keys */
        char *root_password_hash; /* crypt(3) hash for root in /etc/shadow */
        char *dns;                /* "ADDR[,ADDR...]", the guest's name servers */
        char *timezone;           /* "Europe/Berlin" */

        /* [devices] */
        bool dev_fuse; /* /dev/fuse usable in the guest */
        bool dev_tun;  /* /dev/net/tun usable in the guest */

        /* [cpu] */
        uint64_t cpu_weight;  /* fair share 1..10000, default 100 */
        uint64_t cpu_max;     /* hard cap in percent of one CPU; 0: none */
        char *cpus;           /* cpuset list; NULL: all */

        /* [memory], bytes; 0: no limit */
        uint64_t rss;
        uint64_t anon;
        uint64_t memlock;
        uint64_t pids;        /* a count */

        /* [io] (lib/cgroup/cgroup-io.h), on the block device under the guest's data */
        uint64_t io_weight;     /* proportional share 1..10000; 0: the kernel's default */
        uint64_t io_read_bps;   /* bytes/s; 0: no limit */
        uint64_t io_write_bps;
        uint64_t io_read_iops;  /* requests/s; 0: no limit */
        uint64_t io_write_iops;

        /* [net]; no address: the guest has loopback only */
        char *net_bridge;     /* NULL: the host's default bridge (defaults.conf) */
        char *net_address;    /* "10.77.0.11/24, fd77::11/64": one or more, either family */
        char *net_gateway;    /* one per family at most; NULL: the bridge's addresses */
        char *net_mac;        /* NULL: derived from the name */
        uint64_t net_rate;    /* bits/s guaranteed, both directions; 0: unshaped */
        uint64_t net_ceil;    /* bits/s it may borrow up to; 0: the rate */
        bool net_nat;         /* masquerade the guest's address */
        bool net_filter;      /* anti-spoofing rules on its veth, default yes */
        bool net_routed;      /* mode = routed: no bridge, the host routes the addresses to the veth */
        /* [disk] (lib/config/config-disk.c) */
        uint64_t disk_size; /* bytes of the guest's image, or its project quota; 0: none */
        int disk_layout;    /* enum vs_layout */
        uint64_t disk_project; /* project id of a dir or shared guest's tree; 0: none */
};

/* Where a guest's root lives: a directory, an ext4 image (loop-mounted at
 * start, limited to disk.size), or an overlay on a shared read-only
 * template tree. DEFAULT means "image when a size is set, else dir". */
enum vs_layout { VS_LAYOUT_DEFAULT, VS_LAYOUT_DIR, VS_LAYOUT_IMAGE, VS_LAYOUT_SHARED };

/* What a guest sees at /sys/fs/cgroup on a host whose controllers are on
 * cgroup v1 with the unified tree beside them (the hybrid layout): AUTO is
 * UNIFIED for a guest whose init is systemd (which deprecated v1 and the
 * hybrid layout in 256 and dropped them in 258), HYBRID for any other.
 * UNIFIED is its own subtree of the host's cgroup2 tree alone; HYBRID a
 * tmpfs with that tree and each v1 hierarchy below it. A v2 host always
 * gives the unified view. */
enum vs_cgroup_view { VS_CGVIEW_AUTO, VS_CGVIEW_HYBRID, VS_CGVIEW_UNIFIED };

/* The layout in effect for @c (never DEFAULT), and its name. */
int vs_config_layout(const struct vs_config *c);
const char *vs_layout_name(int layout);
/* Checks that disk.size and disk.layout fit together. */
int vs_config_check_disk(const struct vs_config *c, struct vs_error *err);


/* The config, defaults.conf and fstab parsers fill a struct vs_error
 * (lib/error.h) with the line, the key ("section.key") and a reason of at
 * most this many bytes; vs_error_locate() then names the file. */
#define VS_CONFIG_MSG_MAX 256

/* A value parser: stores into @field on success; -EINVAL with the reason
 * (without the key or value, which the caller adds) in @err. */
typedef int (*vs_config_parse_fn)(const char *value, void *field, uint64_t min, uint64_t max,
                                  struct vs_error *err);
typedef char *(*vs_config_format_fn)(const void *field);

struct vs_config_key {
        const char *section;
        const char *key;
        vs_config_parse_fn parse;
        vs_config_format_fn format;
        size_t offset;
        uint64_t min, max;
};

extern const struct vs_config_key vs_config_keys[];
extern const size_t vs_config_keys_count;

/* Allocates a configuration with every default filled in for guest @name. */
int vs_config_new(const char *name, struct vs_config **ret);
void vs_config_free(struct vs_config *c);

/* Reads @path into a new configuration for guest @name. Unknown sections and
 * keys, duplicate keys and bad values fail with -EINVAL and fill @err with the
 * line, the key and the reason; a missing file is -ENOENT. */
int vs_config_load(const char *path, const char *name, struct vs_config **ret, struct vs_error *err);

/* Checks what no single key can: anon <= rss, the CPU cap against the
 * host's CPUs, the cpuset against the CPUs that are online. */
int vs_config_check(const struct vs_config *c, struct vs_error *err);

/* Sets "section.key" to @value through the same parser the file uses. */
int vs_config_set(struct vs_config *c, const char *section_key, const char *value, struct vs_error *err);

/* Returns the file text for @c: every key that differs from its default. */
char *vs_config_format(const struct vs_config *c);

/* Sets one key in the file at @path, keeping every other line and comment;
 * the key is added to its section (made if missing) when absent. */
int vs_config_file_set(const char *path, const char *section, const char *key, const char *value);

/* Writes @c to @path atomically. */
int vs_config_write(const struct vs_config *c, const char *path);

/* The signal that asks the guest's init to halt: the configured one, or the
 * one its init expects (SIGRTMIN+3 for systemd, SIGPWR otherwise), found by
 * looking at what the init path resolves to inside @rootfs. */
int vs_config_halt_signal(const struct vs_config *c, const char *rootfs);
/* Whether the guest's init is systemd: its path, or what it links to,
 * resolved inside @rootfs, names systemd. */
bool vs_config_init_is_systemd(const struct vs_config *c, const char *rootfs);
/* The cgroup view (never AUTO) @c gets on a hybrid host. */
int vs_config_cgroup_view(const struct vs_config *c, const char *rootfs);


/* Frees a configuration on scope exit. */
static inline void vs_config_freep(struct vs_config **c) { vs_config_free(*c); }
#define _cleanup_config_ __attribute__((cleanup(vs_config_freep)))
