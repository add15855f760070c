/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The guest's device policy: the rule list and the cgroup v2 BPF program,
 * run here by a small interpreter of the instructions it uses, checked
 * against the verdicts the rules promise (as the kernel would run it on
 * every open and mknod of a device node). */
#include "autoconfig.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "cgroup-devices.h"
#include "tap.h"

/* Returns the program's r0, or -1 on an instruction it does not know, a
 * jump out of the program or running off its end. */
static long run(const struct bpf_insn *p, int n, const struct bpf_cgroup_dev_ctx *ctx)
{
        uint64_t r[11] = { 0 };
        const uint8_t *mem = (const uint8_t *)ctx;

        for (int pc = 0, steps = 0; pc >= 0 && pc < n && steps < 10000; pc++, steps++) {
                const struct bpf_insn *i = &p[pc];
                switch (i->code) {
                case BPF_LDX | BPF_W | BPF_MEM:
                        if (i->src_reg != BPF_REG_1 || i->off < 0 || (size_t)i->off + 4 > sizeof(*ctx))
                                return -1;
                        r[i->dst_reg] = *(const uint32_t *)(mem + i->off);
                        break;
                case BPF_ALU | BPF_AND | BPF_K:
                        r[i->dst_reg] = (uint32_t)r[i->dst_reg] & (uint32_t)i->imm;
                        break;
                case BPF_ALU | BPF_RSH | BPF_K:
                        r[i->dst_reg] = (uint32_t)r[i->dst_reg] >> i->imm;
                        break;
                case BPF_ALU | BPF_MOV | BPF_X:
                        r[i->dst_reg] = (uint32_t)r[i->src_reg];
                        break;
                case BPF_ALU64 | BPF_MOV | BPF_K:
                        r[i->dst_reg] = (uint64_t)(int64_t)i->imm;
                        break;
                case BPF_JMP | BPF_JNE | BPF_K:
                        /* 64-bit compare with the sign-extended immediate. */
                        if (r[i->dst_reg] != (uint64_t)(int64_t)i->imm)
                                pc += i->off;
                        break;
                case BPF_JMP32 | BPF_JNE | BPF_K:
                        if ((uint32_t)r[i->dst_reg] != (uint32_t)i->imm)
                                pc += i->off;
                        break;
                case BPF_JMP32 | BPF_JEQ | BPF_K:
                        if ((uint32_t)r[i->dst_reg] == (uint32_t)i->imm)
                                pc += i->off;
                        break;
                case BPF_JMP | BPF_JA:
                        pc += i->off;
                        break;
                case BPF_ALU | BPF_LSH | BPF_K:
                        r[i->dst_reg] = (uint32_t)(r[i->dst_reg] << i->imm);
                        break;
                case BPF_ALU | BPF_OR | BPF_X:
                        r[i->dst_reg] = (uint32_t)r[i->dst_reg] | (uint32_t)r[i->src_reg];
                        break;
                case BPF_JMP | BPF_EXIT:
                        return (long)r[0];
                default:
                        return -1;
                }
        }
        return -1;
}

static long verdict(const struct bpf_insn *p, int n, int type, int acc, uint32_t major, uint32_t minor)
{
        struct bpf_cgroup_dev_ctx ctx = { .access_type = (uint32_t)(acc << 16 | type), .major = major, .minor = minor };
        return run(p, n, &ctx);
}

int main(void)
{
        struct bpf_insn prog[256];
        struct vs_dev_rule rules[32];
        const int C = BPF_DEVCG_DEV_CHAR, B = BPF_DEVCG_DEV_BLOCK;
        const int R = BPF_DEVCG_ACC_READ, W = BPF_DEVCG_ACC_WRITE, M = BPF_DEVCG_ACC_MKNOD;
        int n = vs_dev_bpf_program(0, prog, 256);

        tap_ok(n > 0, "a program is built (%d instructions)", n);
        if (n <= 0)
                return tap_done();
        tap_is_int(vs_dev_bpf_program(0, prog, 5), -ENOBUFS, "too little room is -ENOBUFS");
        n = vs_dev_bpf_program(0, prog, 256);
        tap_ok(prog[n - 1].code == (BPF_JMP | BPF_EXIT), "the program ends with exit");

        tap_is_int(verdict(prog, n, C, R | W, 1, 3), 1, "/dev/null read-write: allowed");
        tap_is_int(verdict(prog, n, C, R, 1, 9), 1, "/dev/urandom read: allowed");
        tap_is_int(verdict(prog, n, C, R | W, 5, 2), 1, "/dev/ptmx: allowed");
        tap_is_int(verdict(prog, n, C, R | W, 136, 7), 1, "a pty (136:7): allowed");
        tap_is_int(verdict(prog, n, C, R | W, 5, 0), 1, "/dev/tty: allowed");
        tap_is_int(verdict(prog, n, B, R, 8, 0), 0, "reading /dev/sda (b 8:0): denied");
        tap_is_int(verdict(prog, n, B, W, 254, 0), 0, "writing a virtio disk (b 254:0): denied");
        tap_is_int(verdict(prog, n, B, M, 8, 0), 1, "mknod of a block device: allowed");
        tap_is_int(verdict(prog, n, B, M | R, 8, 0), 0, "mknod and read together: denied");
        tap_is_int(verdict(prog, n, C, R, 1, 1), 0, "/dev/mem (c 1:1): denied");
        tap_is_int(verdict(prog, n, C, R, 1, 2), 0, "/dev/kmem (c 1:2): denied");
        tap_is_int(verdict(prog, n, C, R | W, 10, 229), 0, "/dev/fuse without the key: denied");
        tap_is_int(verdict(prog, n, C, R | W, 10, 200), 0, "/dev/net/tun without the key: denied");
        tap_is_int(verdict(prog, n, C, R | W, 4, 1), 0, "a virtual console (c 4:1): denied");
        tap_is_int(verdict(prog, n, C, R | W, 5, 1), 0, "the host's system console (c 5:1): denied");
        tap_is_int(verdict(prog, n, B, R | W, 1, 3), 0, "a block device numbered like null: denied");
        tap_is_int(verdict(prog, n, C, R | W, 3, 1), 0, "a minor that matches no major (c 3:1): denied");

        n = vs_dev_bpf_program(VS_DEV_FUSE | VS_DEV_TUN, prog, 256);
        tap_is_int(verdict(prog, n, C, R | W, 10, 229), 1, "/dev/fuse with the key: allowed");
        tap_is_int(verdict(prog, n, C, R | W, 10, 200), 1, "/dev/net/tun with the key: allowed");
        tap_is_int(verdict(prog, n, C, R | W, 10, 1), 0, "another misc device (10:1) still denied");

        int nr = vs_dev_rules(0, rules, 32);
        bool any_block_rw = false;
        for (int i = 0; i < nr; i++)
                if (rules[i].type == 'b' && (strchr(rules[i].acc, 'r') || strchr(rules[i].acc, 'w')))
                        any_block_rw = true;
        tap_ok(nr > 0 && !any_block_rw, "no rule lets a block device be read or written");
        tap_is_int(vs_dev_rules(0, rules, 2), -ENOBUFS, "too little room for the rules is -ENOBUFS");
        return tap_done();
}
