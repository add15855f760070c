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
        /* /dev/tty is the opener's own controlling terminal: guest programs
         * need it (ssh, sudo, passwd, a getty's login). It reaches nothing of
         * the host's because no host terminal is ever a guest process's
         * controlling terminal: init and every vs-enter command start a
         * session of their own, on the console pty or one of the guest's. */
        { 'c', 5, 0, "rwm" },   /* tty */
        /* No c 5:1: that node is the host's system console, where TIOCSTI
         * (open to CAP_SYS_ADMIN) types into the host's login. The guest's
         * /dev/console is a bind of its console pty, a pts node below. */
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
#define ALU32_REG(op, dst, src) INSN(BPF_ALU | (op) | BPF_X, dst, src, 0, 0)
#define MOV64_IMM(dst, imm) INSN(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define JMP32_IMM(op, dst, imm, off) INSN(BPF_JMP32 | (op) | BPF_K, dst, 0, off, imm)
#define JA(off) INSN(BPF_JMP | BPF_JA, 0, 0, off, 0)
#define EXIT_INSN() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static uint32_t access_bits(const char *acc)
{
        uint32_t a = 0;
        for (; *acc; acc++)
                a |= *acc == 'r' ? BPF_DEVCG_ACC_READ : *acc == 'w' ? BPF_DEVCG_ACC_WRITE
                   : *acc == 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
        return a;
}

/* The program's layout: one block per (type, access) pair of the rules,
 *
 *     r0 = type;  if r0 != TYPE goto next block
 *     r0 = wanted access & ~ALLOWED;  if r0 != 0 goto next block
 *     goto allow                        (a rule for every node)
 *     r0 = major;  if r0 == M goto allow   (a rule for every minor of M)
 *     r0 = major << 20 | minor;  if r0 == KEY goto allow ...
 *   next block: ...
 *     return 0
 *   allow:
 *     return 1
 *
 * The kernel's verifier walks both ways of every branch; a branch per rule
 * (and none of the block's values live past it) keeps that walk short: it
 * is most of what loading the program costs. Linux device numbers have 12
 * bits of major and 20 of minor, so the key is exact. */
int vs_dev_bpf_program(unsigned extra, struct bpf_insn *insns, size_t max)
{
        struct vs_dev_rule rules[32];
        bool done[32] = { false };
        int nr = vs_dev_rules(extra, rules, ELEMENTSOF(rules));
        size_t allow_jumps[64], n_allow = 0, n = 0;
        const int acc_off = offsetof(struct bpf_cgroup_dev_ctx, access_type);

#define EMIT(x)                          \
        do {                             \
                if (n >= max)            \
                        return -ENOBUFS; \
                insns[n++] = (x);        \
        } while (0)
#define TO_ALLOW(x)                                        \
        do {                                               \
                if (n_allow >= ELEMENTSOF(allow_jumps))    \
                        return -ENOBUFS;                   \
                allow_jumps[n_allow++] = n;                \
                EMIT(x);                                   \
        } while (0)

        if (nr < 0)
                return nr;
        for (int i = 0; i < nr; i++) {
                const struct vs_dev_rule *g = &rules[i];
                uint32_t acc = access_bits(g->acc);
                size_t skip_type, skip_acc;
                bool have_key = false;

                if (done[i])
                        continue;
                EMIT(LDX_W(BPF_REG_0, BPF_REG_1, acc_off));
                EMIT(ALU32_IMM(BPF_AND, BPF_REG_0, 0xffff));
                skip_type = n;
                EMIT(JMP32_IMM(BPF_JNE, BPF_REG_0, g->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, 0));
                EMIT(LDX_W(BPF_REG_0, BPF_REG_1, acc_off));
                EMIT(ALU32_IMM(BPF_RSH, BPF_REG_0, 16));
                EMIT(ALU32_IMM(BPF_AND, BPF_REG_0, (int32_t)~acc));
                skip_acc = n;
                EMIT(JMP32_IMM(BPF_JNE, BPF_REG_0, 0, 0));
                /* Every rule of this type and access, widest first. */
                for (int pass = 0; pass < 3; pass++)
                        for (int j = i; j < nr; j++) {
                                const struct vs_dev_rule *r = &rules[j];
                                bool ma = r->major != VS_DEV_ANY, mi = r->minor != VS_DEV_ANY;
                                if (done[j] || r->type != g->type || access_bits(r->acc) != acc)
                                        continue;
                                if (pass == 0 && !ma && !mi) {
                                        TO_ALLOW(JA(0));
                                } else if (pass == 1 && ma != mi) {
                                        EMIT(LDX_W(BPF_REG_0, BPF_REG_1,
                                                   ma ? offsetof(struct bpf_cgroup_dev_ctx, major)
                                                      : offsetof(struct bpf_cgroup_dev_ctx, minor)));
                                        TO_ALLOW(JMP32_IMM(BPF_JEQ, BPF_REG_0, (int32_t)(ma ? r->major : r->minor), 0));
                                } else if (pass == 2 && ma && mi) {
                                        if (!have_key) {
                                                EMIT(LDX_W(BPF_REG_0, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, major)));
                                                EMIT(ALU32_IMM(BPF_LSH, BPF_REG_0, 20));
                                                EMIT(LDX_W(BPF_REG_2, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, minor)));
                                                EMIT(ALU32_REG(BPF_OR, BPF_REG_0, BPF_REG_2));
                                                have_key = true;
                                        }
                                        TO_ALLOW(JMP32_IMM(BPF_JEQ, BPF_REG_0,
                                                           (int32_t)(r->major << 20 | (r->minor & 0xfffff)), 0));
                                } else
                                        continue;
                                done[j] = true;
                        }
                insns[skip_type].off = (int16_t)(n - skip_type - 1);
                insns[skip_acc].off = (int16_t)(n - skip_acc - 1);
        }
        EMIT(MOV64_IMM(BPF_REG_0, 0));
        EMIT(EXIT_INSN());
        for (size_t k = 0; k < n_allow; k++)
                insns[allow_jumps[k]].off = (int16_t)(n - allow_jumps[k] - 1);
        EMIT(MOV64_IMM(BPF_REG_0, 1));
        EMIT(EXIT_INSN());
#undef TO_ALLOW
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
