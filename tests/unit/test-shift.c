/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vs_tree_shift(): owners, setuid bits, ACL ids and v3 capability root ids
 * move together, ids outside the range and symlink targets stay, and the
 * way back restores the tree. Needs root (chown) and a file system with
 * ACLs and security xattrs (a tmpfs or ext4 directory under /var/tmp). */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "shift.h"
#include "tap.h"

static char dir[] = "/var/tmp/vs-shift.XXXXXX";

static char *at(const char *name)
{
        static char buf[4][256];
        static int i;
        i = (i + 1) % 4;
        snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
        return buf[i];
}

static long long owner(const char *name, int gid)
{
        struct stat st;
        if (lstat(at(name), &st) < 0)
                return -1;
        return gid ? st.st_gid : st.st_uid;
}

static unsigned mode(const char *name)
{
        struct stat st;
        return lstat(at(name), &st) < 0 ? 0 : (unsigned)(st.st_mode & 07777);
}

/* A POSIX ACL xattr with one named entry of @tag (2 user, 8 group). */
static int set_acl(const char *name, const char *xattr, uint16_t tag, uint32_t id)
{
        struct {
                uint16_t tag, perm;
                uint32_t id;
        } e[5] = { { 0x01, 7, UINT32_MAX }, { 0x04, 5, UINT32_MAX }, { 0x10, 5, UINT32_MAX }, { 0x20, 5, UINT32_MAX } };
        /* In the kernel's order: user_obj, user, group_obj, group, mask, other. */
        if (tag == 0x02) {
                memmove(&e[2], &e[1], 3 * sizeof(e[0]));
                e[1] = (__typeof__(e[0])){ tag, 5, id };
        } else {
                memmove(&e[3], &e[2], 2 * sizeof(e[0]));
                e[2] = (__typeof__(e[0])){ tag, 5, id };
        }
        char buf[4 + sizeof(e)];
        uint32_t v = 2;
        memcpy(buf, &v, 4);
        memcpy(buf + 4, e, sizeof(e));
        return setxattr(at(name), xattr, buf, sizeof(buf), 0);
}

static long long acl_id(const char *name, const char *xattr)
{
        char buf[256];
        ssize_t n = getxattr(at(name), xattr, buf, sizeof(buf));
        for (ssize_t off = 4; off + 8 <= n; off += 8) {
                uint16_t tag;
                uint32_t id;
                memcpy(&tag, buf + off, 2);
                memcpy(&id, buf + off + 4, 4);
                if (tag == 0x02 || tag == 0x08)
                        return id;
        }
        return -1;
}

static int set_caps_v3(const char *name, uint32_t root)
{
        uint32_t v[6] = { 0x03000000u | 1u /* effective */, 1u << 13 /* net_raw */, 0, 0, 0, root };
        return setxattr(at(name), "security.capability", v, sizeof(v), 0);
}

static long long caps_root(const char *name)
{
        uint32_t v[6];
        ssize_t n = getxattr(at(name), "security.capability", v, sizeof(v));
        return n == sizeof(v) ? (long long)v[5] : -1;
}

int main(void)
{
        struct vs_shift up = { .from = 0, .to = 1000000, .count = 65536 };
        struct vs_shift down = { .from = 1000000, .to = 0, .count = 65536 };
        FILE *f;
        int fd, r;

        if (geteuid() != 0) {
                printf("1..0 # SKIP vs_tree_shift changes owners: needs root\n");
                return 77;
        }
        if (!mkdtemp(dir))
                return 99;
        chmod(dir, 0755);
        mkdir(at("d"), 0755);
        fd = open(at("d/f"), O_CREAT | O_WRONLY, 0644);
        close(fd);
        fd = open(at("suid"), O_CREAT | O_WRONLY, 0755);
        close(fd);
        fd = open(at("cap"), O_CREAT | O_WRONLY, 0755);
        close(fd);
        fd = open(at("outside"), O_CREAT | O_WRONLY, 0644);
        close(fd);
        f = fopen(at("../vs-shift-target"), "w");
        if (f)
                fclose(f);
        if (chown(at("d/f"), 1000, 1001) || chown(at("suid"), 0, 0) || chmod(at("suid"), 06755) ||
            chown(at("outside"), 70000, 70000) || symlink("../vs-shift-target", at("link")) ||
            lchown(at("link"), 1000, 1000) || set_acl("d/f", "system.posix_acl_access", 0x02, 1002) ||
            set_acl("d", "system.posix_acl_default", 0x08, 1003) || set_caps_v3("cap", 5)) {
                printf("1..0 # SKIP this file system lacks ACLs or security xattrs here: %s\n", strerror(errno));
                return 77;
        }

        r = vs_tree_shift(dir, &up);
        tap_is_int(r, 0, "shift 0..65535 to 1000000..");
        tap_is_int(owner("d/f", 0), 1001000, "the owner moves");
        tap_is_int(owner("d/f", 1), 1001001, "the group too");
        tap_is_int(owner("d", 0), 1000000, "directories move");
        tap_is_int(owner(".", 0), 1000000, "and the root");
        tap_is_int(owner("suid", 0), 1000000, "the setuid file moves");
        tap_is_int(mode("suid"), 06755, "and keeps its setuid and setgid bits");
        tap_is_int(owner("link", 0), 1001000, "a symlink itself moves");
        tap_is_int(owner("../vs-shift-target", 0), 0, "not what it points to");
        tap_is_int(owner("outside", 0), 70000, "an id outside the range stays");
        tap_is_int(acl_id("d/f", "system.posix_acl_access"), 1001002, "the ACL's named user moves");
        tap_is_int(acl_id("d", "system.posix_acl_default"), 1001003, "the default ACL's named group moves");
        tap_is_int(caps_root("cap"), 1000005, "a v3 capability's root id moves");

        r = vs_tree_shift(dir, &down);
        tap_is_int(r, 0, "and back");
        tap_is_int(owner("d/f", 0), 1000, "the owner is back");
        tap_is_int(mode("suid"), 06755, "the setuid file is still setuid");
        tap_is_int(acl_id("d/f", "system.posix_acl_access"), 1002, "the ACL is back");
        tap_is_int(caps_root("cap"), 5, "the capability's root id is back");

        unlink(at("d/f"));
        rmdir(at("d"));
        unlink(at("suid"));
        unlink(at("cap"));
        unlink(at("outside"));
        unlink(at("link"));
        unlink(at("../vs-shift-target"));
        rmdir(dir);
        return tap_done();
}
