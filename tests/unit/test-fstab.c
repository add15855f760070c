/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include "fstab.h"
#include "tap.h"
#include "util.h"

static char dir[] = "/tmp/vs-test-fstab.XXXXXX";

static int load(const char *text, struct vs_mount_plan *plan, struct vs_config_error *err)
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
        struct vs_config_error err;
        int r = load(text, &plan, &err);
        tap_is_int(r, -EINVAL, "%s: refused", what);
        tap_is_int(err.line, line, "%s: line %u named (%s)", what, line, err.message);
        vs_mount_plan_free(&plan);
}

int main(void)
{
        struct vs_mount_plan plan = { 0 };
        struct vs_config_error err;
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
                tap_ok(plan.ops[2].kind == VS_MOUNT_BIND && plan.ops[2].file && !(plan.ops[2].flags & MS_RDONLY),
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
        bad("# c\n/nonexistent/dir /srv none bind 0 0\n", 2, "missing bind source");
        bad("relative /srv none bind 0 0\n", 1, "relative bind source");
        bad("none /srv none defaults 0 0\n", 1, "no filesystem type");
        tap_is_int(vs_rm_rf(dir), 0, "temporary directory removed");
        return tap_done();
}
