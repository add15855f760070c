/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Project quotas: the [disk] keys, finding the filesystem of a path in mountinfo, what to
 * tell an administrator whose filesystem has none, choosing a project id;
 * and the guest's seccomp filter refusing changes of project ids and
 * limits, beside the same calls made without it (the positive control). */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/quota.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "quota.h"
#include "seccomp-filter.h"
#include "tap.h"
#include "util.h"

#ifndef PRJQUOTA
#define PRJQUOTA 2
#endif

static const char mountinfo[] =
        "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
        "30 22 0:25 / /run rw shared:5 - tmpfs tmpfs rw\n"
        "40 22 7:3 / /srv/guests rw,relatime shared:9 - ext4 /dev/loop3 rw,prjquota\n"
        "41 40 7:3 /lib /srv/guests/bind\\040here rw shared:9 - ext4 /dev/loop3 rw,prjquota\n"
        "42 22 8:17 / /srv/x\\040y rw - xfs /dev/sdb1 rw,prjquota\n";

static bool odd_in_use(uint32_t id, void *data)
{
        (void)data;
        return id == VS_PROJECT_MIN + 2;
}

static void test_mountinfo(void)
{
        struct vs_quota_fs fs;

        memset(&fs, 0, sizeof(fs));
        tap_is_int(vs_mountinfo_find(mountinfo, makedev(7, 3), "/srv/guests/lib/a/rootfs", &fs), 0,
                   "the mount of device 7:3 above a guest's tree is found");
        tap_is_str(fs.target, "/srv/guests", "its mount point");
        tap_is_str(fs.source, "/dev/loop3", "its device");
        tap_is_str(fs.type, "ext4", "its type");
        tap_is_int(vs_mountinfo_find(mountinfo, makedev(7, 3), "/srv/guests/bind here/x", &fs), 0,
                   "a path under a second mount of the device");
        tap_is_str(fs.target, "/srv/guests/bind here", "takes the longest mount point, unescaped");
        tap_is_int(vs_mountinfo_find(mountinfo, makedev(8, 17), "/srv/x y/lib", &fs), 0, "an XFS mount");
        tap_is_str(fs.type, "xfs", "its type");
        tap_is_int(vs_mountinfo_find(mountinfo, makedev(7, 3), "/srv/guestsX/lib", &fs), -ENOENT,
                   "a mount point is a whole path component, not a string prefix");
        tap_is_int(vs_mountinfo_find(mountinfo, makedev(9, 9), "/", &fs), -ENOENT, "an unknown device: ENOENT");
        tap_is_int(vs_mountinfo_find(mountinfo, makedev(254, 0), "/var/lib/vservers", &fs), 0, "the root mount");
        tap_is_str(fs.target, "/", "is a prefix of every path");
}

static void test_advice(void)
{
        struct vs_quota_fs fs = { "ext4", "/dev/loop3", "/srv/guests", true, false };
        char buf[768];

        vs_quota_advice(&fs, buf, sizeof(buf));
        tap_ok(strstr(buf, "/dev/loop3") && strstr(buf, "/srv/guests") && strstr(buf, "tune2fs -O project,quota") &&
                       strstr(buf, "prjquota"),
               "ext4: names the device, the mount point, tune2fs and the mount option (%s)", buf);
        snprintf(fs.type, sizeof(fs.type), "xfs");
        vs_quota_advice(&fs, buf, sizeof(buf));
        tap_ok(strstr(buf, "XFS") && strstr(buf, "prjquota") && !strstr(buf, "tune2fs"),
               "XFS: the mount option alone (%s)", buf);
        snprintf(fs.type, sizeof(fs.type), "btrfs");
        vs_quota_advice(&fs, buf, sizeof(buf));
        tap_ok(strstr(buf, "btrfs") && strstr(buf, "ext4 or XFS"), "another type: ext4 or XFS is needed (%s)", buf);
}

static void test_pick(void)
{
        uint32_t used[] = { VS_PROJECT_MIN + 1, VS_PROJECT_MIN, 7 };

        tap_is_int(vs_project_pick(NULL, 0, NULL, NULL), VS_PROJECT_MIN, "the first id");
        tap_is_int(vs_project_pick(used, 3, NULL, NULL), VS_PROJECT_MIN + 2, "the lowest id no guest holds");
        tap_is_int(vs_project_pick(used, 3, odd_in_use, NULL), VS_PROJECT_MIN + 3,
                   "skipping an id in use on the filesystem");
}

/* The guests' project ids: [disk] project of each config, read alone. */
static void test_list(void)
{
        char dir[] = "/tmp/vs-test-projects.XXXXXX";
        struct vs_guest_project *v = NULL;
        char *p;
        size_t n = 0;
        FILE *f;

        if (!mkdtemp(dir))
                return;
        p = vs_strdupf("%s/g1.conf", dir);
        if (p && (f = fopen(p, "w"))) {
                fputs("[disk]\nlayout = dir\nproject = 100001\n[guest]\nfrobnicate = 1\n", f);
                fclose(f);
        }
        free(p);
        p = vs_strdupf("%s/g2.conf", dir);
        if (p && (f = fopen(p, "w"))) {
                fputs("[disk]\nproject = 0\n", f);
                fclose(f);
        }
        free(p);
        tap_is_int(vs_project_list(dir, &v, &n), 0, "the guests' project ids are listed");
        tap_ok(n == 1 && !strcmp(v[0].name, "g1") && v[0].id == 100001,
               "a broken config's id counts, an id out of range does not");
        vs_project_list_free(v, n);
        tap_is_int(vs_rm_rf(dir), 0, "temporary directory removed");
}

/* The errno of each attempt, with (@filtered) or without the filter. */
static void attempts(const char *file, bool filtered, int ret[4])
{
        int p[2];
        pid_t pid;

        if (pipe(p) < 0)
                abort();
        pid = fork();
        if (pid == 0) {
                size_t len;
                const void *bpf = vs_seccomp_default(&len);
                struct fsxattr fa;
                struct if_dqblk q = { .dqb_valid = QIF_BLIMITS };
                struct { uint64_t x; uint32_t a, b, projid, c; } attr = { 0 };
                int e[4], fd = open(file, O_RDONLY);

                if (filtered && (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || vs_seccomp_load_bpf(bpf, len) < 0))
                        _exit(1);
                e[0] = fd >= 0 && ioctl(fd, FS_IOC_FSGETXATTR, &fa) == 0 ? 0 : errno;
                fa.fsx_projid = 4242;
                /* The kernel reads an unsigned int: high bits set must not
                 * slip past the filter. */
                e[0] = syscall(SYS_ioctl, fd, 0xffffffff00000000ul | FS_IOC_FSSETXATTR, &fa) == 0 ? 0 : errno;
                e[1] = syscall(469, AT_FDCWD, file, &attr, sizeof(attr), 0) == 0 ? 0 : errno;
                e[2] = syscall(SYS_quotactl_fd, fd, QCMD(Q_SETQUOTA, PRJQUOTA), 4242, &q) == 0 ? 0 : errno;
                e[3] = syscall(SYS_quotactl_fd, fd, QCMD(Q_GETQUOTA, PRJQUOTA), 4242, &q) == 0 ? 0 : errno;
                (void)!write(p[1], e, sizeof(e));
                _exit(0);
        }
        close(p[1]);
        if (read(p[0], ret, 4 * sizeof(int)) != 4 * sizeof(int))
                memset(ret, -1, 4 * sizeof(int));
        close(p[0]);
        waitpid(pid, NULL, 0);
}

static void test_seccomp(void)
{
        char file[] = "/tmp/vs-test-quota.XXXXXX";
        int fd = mkstemp(file), without[4], with[4];

        if (fd < 0) {
                tap_ok(0, "cannot make a file in /tmp: %s", strerror(errno));
                return;
        }
        close(fd);
        attempts(file, false, without);
        attempts(file, true, with);
        unlink(file);
        tap_ok(without[0] != EPERM, "without the filter FS_IOC_FSSETXATTR reaches the filesystem (%s)",
               strerror(without[0]));
        tap_is_int(with[0], EPERM, "the guest's filter refuses FS_IOC_FSSETXATTR");
        tap_ok(without[1] != EPERM, "without the filter file_setattr reaches the kernel (%s)", strerror(without[1]));
        tap_is_int(with[1], EPERM, "the guest's filter refuses file_setattr");
        if (geteuid() == 0) {
                tap_ok(without[2] != EPERM, "without the filter root's Q_SETQUOTA reaches the filesystem (%s)",
                       strerror(without[2]));
        } else
                tap_ok(1, "# SKIP Q_SETQUOTA's positive control needs root");
        tap_is_int(with[2], EPERM, "the guest's filter refuses Q_SETQUOTA");
        tap_ok(with[3] == without[3], "Q_GETQUOTA is left alone (%s either way)", strerror(with[3]));
}

/* [disk]: a size on layout dir or shared is a quota; a project id is for
 * those layouts only, 1 to 2^32 - 2. */
static int check_with(const char *const *kv)
{
        struct vs_config *c = NULL;
        struct vs_error e;
        int r = vs_config_new("g", &c);

        for (; r == 0 && *kv; kv += 2)
                r = vs_config_set(c, kv[0], kv[1], &e);
        if (r == 0)
                r = vs_config_check(c, &e);
        vs_config_free(c);
        return r;
}

static void test_config(void)
{
        tap_is_int(check_with((const char *const[]){ "disk.layout", "dir", "disk.size", "200M", NULL }), 0,
                   "disk.size with layout dir is accepted (a quota)");
        tap_is_int(check_with((const char *const[]){ "disk.layout", "shared", "disk.size", "200M", "disk.project",
                                                     "100000", NULL }),
                   0, "with layout shared and a project id");
        tap_is_int(check_with((const char *const[]){ "disk.size", "200M", "disk.project", "100000", NULL }), -EINVAL,
                   "a project id on an image (a size alone) is refused");
        tap_is_int(check_with((const char *const[]){ "disk.project", "0", NULL }), -EINVAL, "project id 0 is refused");
        tap_is_int(check_with((const char *const[]){ "disk.project", "4294967295", NULL }), -EINVAL,
                   "project id 2^32 - 1 is refused");
        tap_is_int(check_with((const char *const[]){ "disk.project", "4294967294", NULL }), 0,
                   "project id 2^32 - 2 is accepted");
}

int main(void)
{
        test_config();
        test_mountinfo();
        test_advice();
        test_pick();
        test_list();
        test_seccomp();
        return tap_done();
}
