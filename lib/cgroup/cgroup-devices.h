/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>

/* Which device nodes a guest may read and write: one list, written to the
 * devices controller on cgroup v1 and compiled into a BPF_PROG_TYPE_CGROUP_DEVICE
 * program on cgroup v2. Any node may be made (mknod), none but these opened. */
#define VS_DEV_FUSE (1u << 0) /* /dev/fuse, c 10:229 */
#define VS_DEV_TUN (1u << 1)  /* /dev/net/tun, c 10:200 */

#define VS_DEV_ANY UINT32_MAX

struct vs_dev_rule {
        char type;       /* 'c' or 'b' */
        uint32_t major;  /* VS_DEV_ANY for every major */
        uint32_t minor;  /* VS_DEV_ANY for every minor */
        const char *acc; /* subset of "rwm" */
};

/* The rules for @extra (VS_DEV_* flags): fills @ret (room for @max) and
 * returns how many, or -ENOBUFS. */
int vs_dev_rules(unsigned extra, struct vs_dev_rule *ret, size_t max);

/* cgroup v1: writes "a" to DIR/devices.deny, then each rule to
 * DIR/devices.allow. The group must have no child groups yet (the kernel
 * refuses a change of default then). */
int vs_dev_v1_apply(const char *dir, unsigned extra);

/* cgroup v2: the device program for @extra. Fills @insns (room for @max),
 * returns the number of instructions or -ENOBUFS. The program reads the
 * struct bpf_cgroup_dev_ctx in r1 and returns 1 (allow) or 0 (deny). */
int vs_dev_bpf_program(unsigned extra, struct bpf_insn *insns, size_t max);

/* Loads the program for @extra and attaches it to the cgroup v2 directory
 * @dir (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI: programs below can only deny
 * more). The attachment lives as long as the group. */
int vs_dev_v2_apply(const char *dir, unsigned extra);
