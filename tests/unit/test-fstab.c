/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "fstab.h"
#include "mount.h"
#include "tap.h"
#include "util.h"

static char dir[] = "/tmp/vs-test-fstab.XXXXXX";

static int load(const char *text, struct vs_mount_plan *plan, struct vs_error *err)
{
        char *p = vs_strdupf("%s/g.fstab", dir);
        FILE *f = fopen(p, "w");
        int r;
        fputs(text, f);
        fclose(f);
        r = vs_fstab_load(p, plan, err);
        free(p);
        return r;
}

static void bad(const char *text, unsigned line, const char *what)
{
        struct vs_mount_plan plan = { 0 };
        struct vs_error err;
        int r = load(text, &plan, &err);
        tap_is_int(r, -EINVAL, "%s: refused", what);
        tap_is_int(err.line, line, "%s: line %u named (%s)", what, line, err.msg);
        vs_mount_plan_free(&plan);
}

static bool is_dir(const char *path)
{
        struct stat st;
        return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* vs_mount_plan_apply() keeps the directory of the last op's target: the
 * ops that need no privilege (mkdir, symlink) show that what it makes next
 * to it, through it, or through a symlink put there, stays in the root. */
static void apply_kept_directory(void)
{
        struct vs_mount_plan plan = { 0 };
        struct vs_error why = { 0 };
        char path[512];
        _cleanup_free_ char *root = vs_strdupf("%s/root", dir);
        int rootfd, r;

        mkdir(root, 0755);
        rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        vs_mount_plan_add(&plan, VS_MOUNT_MKDIR, NULL, "/a/x", NULL, 0, NULL);
        vs_mount_plan_add(&plan, VS_MOUNT_MKDIR, NULL, "/a/y", NULL, 0, NULL);
        vs_mount_plan_add(&plan, VS_MOUNT_SYMLINK, "/vs-test-kept-e", "/a/s", NULL, 0, NULL);
        vs_mount_plan_add(&plan, VS_MOUNT_MKDIR, NULL, "/a/s", NULL, 0, NULL);
        vs_mount_plan_add(&plan, VS_MOUNT_MKDIR, NULL, "/a/s/inner", NULL, 0, NULL);
        vs_mount_plan_add(&plan, VS_MOUNT_MKDIR, NULL, "/a//z", NULL, 0, NULL);
        vs_mount_plan_add(&plan, VS_MOUNT_MKDIR, NULL, "/a/z/../w", NULL, 0, NULL);
        struct vs_mount_apply a;

        vs_mount_apply_init(&a, rootfd);
        r = vs_mount_plan_apply(&plan, 0, 3, &a, &why);
        if (r == 0)
                r = vs_mount_plan_apply(&plan, 3, plan.n, &a, &why);
        vs_mount_apply_done(&a);
        tap_is_int(r, 0, "a plan of directories and links applies (%s)", why.msg);
        snprintf(path, sizeof(path), "%s/a/x", root);
        tap_ok(is_dir(path), "a directory is made");
        snprintf(path, sizeof(path), "%s/a/y", root);
        tap_ok(is_dir(path), "and one beside it, in the kept directory");
        snprintf(path, sizeof(path), "%s/vs-test-kept-e", root);
        tap_ok(is_dir(path), "a directory through an absolute symlink beside it is made inside the root");
        snprintf(path, sizeof(path), "%s/vs-test-kept-e/inner", root);
        tap_ok(is_dir(path), "and so is one below that symlink");
        tap_ok(access("/vs-test-kept-e", F_OK) < 0, "nothing is made at the link's text on the host");
        snprintf(path, sizeof(path), "%s/a/z", root);
        tap_ok(is_dir(path), "a target with an empty component is made where it says");
        snprintf(path, sizeof(path), "%s/a/w", root);
        tap_ok(is_dir(path), "and one with \"..\"");
        vs_mount_plan_free(&plan);
        close(rootfd);
}

static int write_text(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC), r;
        if (fd < 0)
                return -1;
        r = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
        close(fd);
        return r;
}

/* Where mknod is refused (a user namespace), the plan's nodes are binds of
 * nodes on a private tmpfs: char devices with the planned numbers, never
 * a mount of the host's devtmpfs. Bit i of the child's exit status: check
 * i failed; 0x80: could not set up (a SKIP). */
static void apply_nodes_without_mknod(void)
{
        static const struct {
                const char *target;
                unsigned maj, min;
        } nodes[] = { { "/dev/null", 1, 3 }, { "/dev/zero", 1, 5 }, { "/dev/net/tun", 10, 200 } };
        _cleanup_free_ char *root = vs_strdupf("%s/noderoot", dir);
        struct stat host_dev;
        int st = 0;
        pid_t pid;

        if (geteuid() != 0 || stat("/dev/null", &host_dev) < 0) {
                printf("ok %d # SKIP mknod fallback: needs root and /dev/null\n", ++tap_n);
                return;
        }
        mkdir(root, 0755);
        fflush(stdout); /* the child must not print the parent's buffer again */
        pid = fork();
        if (pid == 0) {
                struct vs_mount_plan plan = { 0 };
                struct vs_mount_apply a;
                struct vs_error why = { 0 };
                char path[512];
                int rootfd, r, bad = 0;

                for (size_t i = 0; i < ELEMENTSOF(nodes); i++) {
                        struct vs_mount_op *op = vs_mount_plan_add(&plan, VS_MOUNT_MKNOD, nodes[i].target,
                                                                   nodes[i].target, NULL, 0, NULL);
                        op->dev = makedev(nodes[i].maj, nodes[i].min);
                        op->mode = 0666;
                        op->file = true;
                }
                umask(0);
                /* As vs-start would before entering a user namespace. */
                vs_mount_apply_init(&a, -1);
                if (vs_mount_apply_prepare_nodes(&a, &plan) < 0)
                        _exit(0x80);
                if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0 || write_text("/proc/self/setgroups", "deny") < 0 ||
                    write_text("/proc/self/uid_map", "0 0 1") < 0 || write_text("/proc/self/gid_map", "0 0 1") < 0 ||
                    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    mount("tmpfs", root, "tmpfs", 0, "mode=0755") < 0)
                        _exit(0x80);
                rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
                a.rootfd = rootfd;
                snprintf(path, sizeof(path), "%s/probe", root);
                if (mknod(path, S_IFCHR | 0666, makedev(1, 3)) == 0 || errno != EPERM)
                        _exit(0x80); /* mknod is not refused: nothing to test */
                r = vs_mount_plan_apply(&plan, 0, plan.n, &a, &why);
                if (r < 0) {
                        fprintf(stderr, "#   apply: %s: %s\n", why.msg, strerror(-r));
                        bad |= 1;
                }
                for (size_t i = 0; i < ELEMENTSOF(nodes); i++) {
                        struct stat s;
                        snprintf(path, sizeof(path), "%s%s", root, nodes[i].target);
                        if (stat(path, &s) < 0 || !S_ISCHR(s.st_mode) || major(s.st_rdev) != nodes[i].maj ||
                            minor(s.st_rdev) != nodes[i].min || (s.st_mode & 07777) != 0666)
                                bad |= 2;
                        if (stat(path, &s) == 0 && s.st_dev == host_dev.st_dev)
                                bad |= 4;
                }
                snprintf(path, sizeof(path), "%s/dev/null", root);
                int fd = open(path, O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, "x", 1) != 1)
                        bad |= 8;
                _exit(bad);
        }
        waitpid(pid, &st, 0);
        st = WIFEXITED(st) ? WEXITSTATUS(st) : 0xff;
        if (st == 0x80) {
                printf("ok %d # SKIP mknod fallback: no user namespace here, or mknod is allowed in it\n", ++tap_n);
                return;
        }
        tap_ok(st != 0xff && !(st & 1), "without mknod, the plan's nodes still apply");
        tap_ok(st != 0xff && !(st & 2), "each is a char device with the planned major:minor and mode");
        tap_ok(st != 0xff && !(st & 4), "none is on the host's devtmpfs (a bind of a host node would hand it over)");
        tap_ok(st != 0xff && !(st & 8), "the bound /dev/null works");
}

int main(void)
{
        struct vs_mount_plan plan = { 0 };
        struct vs_error err;
        int r;

        if (!mkdtemp(dir))
                return 1;
        r = load("# extra mounts\n"
                 "\n"
                 "/tmp /srv/shared none bind,ro 0 0\n"
                 "tmpfs /var/cache/x tmpfs size=16m,mode=0755,nosuid 0 0\n"
                 "/etc/hostname /etc/host-name none bind 0 0\n",
                 &plan, &err);
        tap_is_int(r, 0, "a good fstab loads");
        tap_is_int(plan.n, 3, "three entries");
        if (plan.n == 3) {
                tap_ok(plan.ops[0].kind == VS_MOUNT_BIND && strcmp(plan.ops[0].source, "/tmp") == 0 &&
                               strcmp(plan.ops[0].target, "/srv/shared") == 0 && (plan.ops[0].flags & MS_RDONLY),
                       "read-only bind of a host directory");
                tap_ok(plan.ops[1].kind == VS_MOUNT_FS && strcmp(plan.ops[1].fstype, "tmpfs") == 0 &&
                               (plan.ops[1].flags & MS_NOSUID) && plan.ops[1].data &&
                               strstr(plan.ops[1].data, "size=16m"),
                       "tmpfs with its own options and nosuid");
                tap_ok(plan.ops[2].kind == VS_MOUNT_BIND && !(plan.ops[2].flags & MS_RDONLY),
                       "writable bind of a host file");
                tap_ok(plan.ops[0].origin && strstr(plan.ops[0].origin, ":3"), "origin names line 3 (%s)",
                       plan.ops[0].origin ? plan.ops[0].origin : "");
        }
        vs_mount_plan_free(&plan);

        char *missing = vs_strdupf("%s/none.fstab", dir);
        tap_is_int(vs_fstab_load(missing, &plan, &err), 0, "a missing fstab is no error");
        tap_is_int(plan.n, 0, "and adds nothing");
        free(missing);

        bad("/tmp /srv none bind 0 0\n/tmp relative none bind 0 0\n", 2, "relative target");
        bad("/tmp /srv/../../etc none bind 0 0\n", 1, "target with ..");
        bad("/tmp / none bind 0 0\n", 1, "target is the root");
        /* A bind source is looked at only when mounted (where a hang falls
         * under the start timeout): a missing one loads. */
        tap_is_int(load("/nonexistent/dir /srv none bind 0 0\n", &plan, &err), 0,
                   "a missing bind source is not looked at when the fstab loads");
        vs_mount_plan_free(&plan);
        bad("relative /srv none bind 0 0\n", 1, "relative bind source");
        bad("none /srv none defaults 0 0\n", 1, "no filesystem type");
        apply_kept_directory();
        apply_nodes_without_mknod();
        tap_is_int(vs_rm_rf(dir), 0, "temporary directory removed");
        return tap_done();
}
