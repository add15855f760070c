/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The guest's device allow list on both cgroup versions. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup-devices.h"
#include "cleanup.h"
#include "util.h"

static const struct vs_dev_rule base_rules[] = {
        /* Making a node is harmless: using it is what the rules below decide. */
        { 'c', VS_DEV_ANY, VS_DEV_ANY, "m" },
        { 'b', VS_DEV_ANY, VS_DEV_ANY, "m" },
        { 'c', 1, 3, "rwm" },   /* null */
        { 'c', 1, 5, "rwm" },   /* zero */
        { 'c', 1, 7, "rwm" },   /* full */
        { 'c', 1, 8, "rwm" },   /* random */
        { 'c', 1, 9, "rwm" },   /* urandom */
        { 'c', 5, 0, "rwm" },   /* tty */
        { 'c', 5, 1, "rwm" },   /* console */
        { 'c', 5, 2, "rwm" },   /* ptmx */
        { 'c', 136, VS_DEV_ANY, "rwm" }, /* pts, the console pty among them */
};

int vs_dev_rules(unsigned extra, struct vs_dev_rule *ret, size_t max)
{
        size_t n = 0;

        for (size_t i = 0; i < ELEMENTSOF(base_rules); i++) {
                if (n >= max)
                        return -ENOBUFS;
                ret[n++] = base_rules[i];
        }
        if (extra & VS_DEV_FUSE) {
                if (n >= max)
                        return -ENOBUFS;
                ret[n++] = (struct vs_dev_rule){ 'c', 10, 229, "rwm" };
        }
        if (extra & VS_DEV_TUN) {
                if (n >= max)
                        return -ENOBUFS;
                ret[n++] = (struct vs_dev_rule){ 'c', 10, 200, "rwm" };
        }
        return (int)n;
}

static void num(char *buf, size_t len, uint32_t v)
{
        if (v == VS_DEV_ANY)
                snprintf(buf, len, "*");
        else
                snprintf(buf, len, "%u", v);
}

int vs_dev_v1_apply(const char *dir, unsigned extra)
{
        struct vs_dev_rule rules[32];
        _cleanup_free_ char *deny = vs_strdupf("%s/devices.deny", dir);
        _cleanup_free_ char *allow = vs_strdupf("%s/devices.allow", dir);
        int n = vs_dev_rules(extra, rules, ELEMENTSOF(rules)), r;

        if (!deny || !allow)
                return -ENOMEM;
        if (n < 0)
                return n;
        r = vs_write_file_at(AT_FDCWD, deny, "a");
        if (r < 0)
                return r;
        for (int i = 0; i < n; i++) {
                char ma[16], mi[16], line[64];
                num(ma, sizeof(ma), rules[i].major);
                num(mi, sizeof(mi), rules[i].minor);
                snprintf(line, sizeof(line), "%c %s:%s %s", rules[i].type, ma, mi, rules[i].acc);
                r = vs_write_file_at(AT_FDCWD, allow, line);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- cgroup v2: the BPF program ---------------------------------------- */

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define LDX_W(dst, src, off) INSN(BPF_LDX | BPF_W | BPF_MEM, dst, src, off, 0)
#define ALU32_IMM(op, dst, imm) INSN(BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV32_REG(dst, src) INSN(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV64_IMM(dst, imm) INSN(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define JNE_IMM(dst, imm, off) INSN(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm)
#define EXIT_INSN() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static uint32_t access_bits(const char *acc)
{
        uint32_t a = 0;
        for (; *acc; acc++)
                a |= *acc == 'r' ? BPF_DEVCG_ACC_READ : *acc == 'w' ? BPF_DEVCG_ACC_WRITE
                   : *acc == 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
        return a;
}

int vs_dev_bpf_program(unsigned extra, struct bpf_insn *insns, size_t max)
{
        struct vs_dev_rule rules[32];
        int nr = vs_dev_rules(extra, rules, ELEMENTSOF(rules));
        size_t n = 0;

#define EMIT(x)                          \
        do {                             \
                if (n >= max)            \
                        return -ENOBUFS; \
                insns[n++] = (x);        \
        } while (0)

        if (nr < 0)
                return nr;
        /* r2 = device type, r3 = access wanted, r4 = major, r5 = minor
         * (struct bpf_cgroup_dev_ctx: access_type is ACC << 16 | TYPE). */
        EMIT(LDX_W(BPF_REG_2, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type)));
        EMIT(ALU32_IMM(BPF_AND, BPF_REG_2, 0xffff));
        EMIT(LDX_W(BPF_REG_3, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type)));
        EMIT(ALU32_IMM(BPF_RSH, BPF_REG_3, 16));
        EMIT(LDX_W(BPF_REG_4, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, major)));
        EMIT(LDX_W(BPF_REG_5, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, minor)));
        for (int i = 0; i < nr; i++) {
                const struct vs_dev_rule *r = &rules[i];
                bool ma = r->major != VS_DEV_ANY, mi = r->minor != VS_DEV_ANY;
                /* Each test jumps past the rest of this rule on a mismatch:
                 * type, access (wanted bits outside the allowed ones), major,
                 * minor, then "return 1". */
                int len = 4 + ma + mi + 2, at = 0;
                EMIT(JNE_IMM(BPF_REG_2, r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, len - ++at));
                EMIT(MOV32_REG(BPF_REG_0, BPF_REG_3));
                at++;
                EMIT(ALU32_IMM(BPF_AND, BPF_REG_0, (int32_t)~access_bits(r->acc)));
                at++;
                EMIT(JNE_IMM(BPF_REG_0, 0, len - ++at));
                if (ma)
                        EMIT(JNE_IMM(BPF_REG_4, (int32_t)r->major, len - ++at));
                if (mi)
                        EMIT(JNE_IMM(BPF_REG_5, (int32_t)r->minor, len - ++at));
                EMIT(MOV64_IMM(BPF_REG_0, 1));
                EMIT(EXIT_INSN());
        }
        EMIT(MOV64_IMM(BPF_REG_0, 0));
        EMIT(EXIT_INSN());
#undef EMIT
        return (int)n;
}

int vs_dev_v2_apply(const char *dir, unsigned extra)
{
        struct bpf_insn insns[256];
        union bpf_attr attr;
        _cleanup_close_ int prog = -1, cg = -1;
        int n = vs_dev_bpf_program(extra, insns, ELEMENTSOF(insns));

        if (n < 0)
                return n;
        memset(&attr, 0, sizeof(attr));
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insns = (uint64_t)(uintptr_t)insns;
        attr.insn_cnt = (uint32_t)n;
        attr.license = (uint64_t)(uintptr_t)"GPL";
        prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
        if (prog < 0)
                return -errno;
        cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cg < 0)
                return -errno;
        memset(&attr, 0, sizeof(attr));
        attr.target_fd = (uint32_t)cg;
        attr.attach_bpf_fd = (uint32_t)prog;
        attr.attach_type = BPF_CGROUP_DEVICE;
        attr.attach_flags = BPF_F_ALLOW_MULTI;
        if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof(attr)) < 0)
                return -errno;
        return 0;
}
