/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host id ranges of unprivileged guests (lib/proc/idmap.c), on files in a
 * temporary directory. */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "idmap.h"
#include "tap.h"
#include "util.h"

static char dir[] = "/tmp/vs-test-idmap.XXXXXX";

static char *at(const char *name) { return vs_strdupf("%s/%s", dir, name); }

static void put(const char *name, const char *text)
{
        char *p = at(name);
        FILE *f = fopen(p, "w");
        if (f) {
                fputs(text, f);
                fclose(f);
        }
        free(p);
}

static char *get(const char *name)
{
        char *p = at(name), *s = NULL;
        if (vs_read_file(p, &s, NULL) < 0)
                s = NULL;
        free(p);
        return s;
}

static void parse_key(void)
{
        struct vs_config *c = NULL;
        struct vs_error e;
        char *s;

        vs_config_new("g", &c);
        tap_ok(!c->userns && c->idmap_count == 0, "userns defaults to no, idmap to auto");
        tap_is_int(vs_config_set(c, "guest.userns", "yes", &e), 0, "userns = yes");
        tap_is_int(vs_config_set(c, "guest.idmap", "1065536:65536", &e), 0, "idmap = 1065536:65536");
        tap_ok(c->userns && c->idmap_host == 1065536 && c->idmap_count == 65536, "both stored");
        s = vs_config_format(c);
        tap_ok(s && strstr(s, "userns = yes") && strstr(s, "idmap = 1065536:65536"), "and written back");
        free(s);
        tap_is_int(vs_config_set(c, "guest.idmap", "auto", &e), 0, "idmap = auto");
        tap_ok(c->idmap_count == 0, "auto clears the range");
        tap_is_int(vs_config_set(c, "guest.idmap", "1000", &e), -EINVAL, "a range needs a count");
        tap_ok(strstr(e.msg, "HOSTID:COUNT") != NULL, "and the message says the form: %s", e.msg);
        tap_is_int(vs_config_set(c, "guest.idmap", "0:65536", &e), -EINVAL, "host id 0 is refused");
        tap_is_int(vs_config_set(c, "guest.idmap", "1000:65536", &e), -EINVAL, "a host user's id is refused");
        tap_is_int(vs_config_set(c, "guest.idmap", "4294950000:65536", &e), -EINVAL, "past the last id is refused");
        tap_is_int(vs_config_set(c, "guest.idmap", "100000:0", &e), -EINVAL, "count 0 is refused");
        tap_is_int(vs_config_set(c, "guest.userns", "maybe", &e), -EINVAL, "userns takes yes or no");
        vs_config_free(c);

        /* In a file: the error names the file and the key. */
        put("bad.conf", "[guest]\nuserns = yes\nidmap = 12:x\n");
        {
                char *p = at("bad.conf");
                int r = vs_config_load(p, "bad", &c, &e);
                tap_is_int(r, -EINVAL, "a bad idmap in a file fails");
                vs_error_locate(&e, r, p);
                tap_ok(strstr(e.msg, "bad.conf:3") && strstr(e.msg, "guest.idmap"), "naming file, line and key: %s",
                       e.msg);
                free(p);
        }
}

static void subid(void)
{
        struct vs_idrange *v = NULL, added;
        size_t n = 0;
        char *su = at("subuid"), *sg = at("subgid"), *s;
        int r;

        put("subuid", "alice:100000:65536\nroot:200000:131072\n# comment\nbroken line\n0:500000:65536\n");
        tap_is_int(vs_subid_read(su, &v, &n), 0, "subuid is read");
        tap_ok(n == 2 && v[0].start == 200000 && v[0].count == 131072 && v[1].start == 500000,
               "root's ranges, by name and by uid 0, others' skipped");
        free(v);
        tap_is_int(vs_subid_read("/nonexistent/subuid", &v, &n), 0, "a missing file has no ranges");
        tap_is_int((int)n, 0, "none");
        free(v);

        /* Install where root has none: the usual range when it is free... */
        put("subuid", "");
        unlink(sg);
        r = vs_subid_install(su, sg, &added);
        tap_is_int(r, 3, "root's ranges are installed in both files");
        s = get("subuid");
        tap_is_str(s, "root:1000000:1000000000\n", "root:1000000:1000000000 in subuid");
        free(s);
        s = get("subgid");
        tap_is_str(s, "root:1000000:1000000000\n", "and in subgid");
        free(s);
        tap_is_int(vs_subid_install(su, sg, &added), 0, "a second call changes nothing");

        /* ...above the others when they use part of it. */
        put("subuid", "alice:1200000:65536");
        put("subgid", "bob:100000:65536\n");
        r = vs_subid_install(su, sg, &added);
        tap_is_int(r, 3, "installed beside other users");
        tap_ok(added.start >= 1265536 && added.start % 65536 == 0, "above every entry: %llu",
               (unsigned long long)added.start);
        s = get("subuid");
        tap_ok(s && strncmp(s, "alice:1200000:65536\nroot:", 25) == 0, "the other lines kept: %s", s ? s : "");
        free(s);
        free(su);
        free(sg);
}

static void pick(void)
{
        struct vs_idrange u[] = { { 1000000, 1000000000 } }, g[] = { { 1000000, 1000000000 } };
        struct vs_idrange small[] = { { 1000000, 131072 } };
        struct vs_guest_idmap used[] = { { (char *)"a", 1000000, 65536 }, { (char *)"b", 1131072, 65536 } };
        uint64_t h = 0;

        tap_is_int(vs_idmap_pick(u, 1, g, 1, NULL, 0, "x", 65536, &h), 0, "a first guest gets a range");
        tap_ok(h == 1000000, "the first: %llu", (unsigned long long)h);
        tap_is_int(vs_idmap_pick(u, 1, g, 1, used, 2, "x", 65536, &h), 0, "beside two others");
        tap_ok(h == 1065536, "the gap between them: %llu", (unsigned long long)h);
        tap_is_int(vs_idmap_pick(u, 1, g, 1, used, 2, "a", 65536, &h), 0, "a guest's own range is free to it");
        tap_ok(h == 1000000, "its own: %llu", (unsigned long long)h);
        tap_is_int(vs_idmap_pick(small, 1, g, 1, used, 2, "x", 65536, &h), 0, "fits in a small range");
        tap_ok(h == 1065536, "%llu", (unsigned long long)h);
        tap_is_int(vs_idmap_pick(small, 1, g, 1, used, 1, "x", 131072, &h), -ENOSPC, "no room: -ENOSPC");
        tap_is_int(vs_idmap_pick(u, 1, NULL, 0, NULL, 0, "x", 65536, &h), -ENOSPC, "no gid range: -ENOSPC");
        tap_ok(vs_idmap_overlap(used, 2, "x", 1050000, 10) == &used[0], "overlap found");
        tap_ok(vs_idmap_overlap(used, 2, "a", 1100000, 10) == NULL, "not with oneself");
        tap_ok(vs_idmap_overlap(used, 2, "x", 1065536, 65536) == NULL, "adjacent ranges do not overlap");
}

static void assign(void)
{
        char *confdir = at("conf"), *su = at("subuid"), *sg = at("subgid");
        char *c1 = at("conf/one.conf"), *c2 = at("conf/two.conf"), *c3 = at("conf/three.conf");
        struct vs_idmap_result res;
        struct vs_config *c = NULL;
        struct vs_guest_idmap *v = NULL;
        size_t n = 0;
        int r;

        mkdir(confdir, 0755);
        put("subuid", "");
        put("subgid", "");
        put("conf/one.conf", "; a guest\n[guest]\nuserns = yes\n\n[cpu]\nweight = 200\n");
        put("conf/two.conf", "[guest]\nuserns = yes\nidmap = auto\n");
        put("conf/defaults.conf", "[guest]\nidmap = 1000000:65536\n");

        r = vs_idmap_assign(confdir, c1, "one", 0, 0, su, sg, &res);
        tap_is_int(r, 0, "auto for a first guest");
        tap_ok(res.allocated && res.installed == 3 && res.host == 1000000 && res.count == 65536,
               "installs root's ranges and takes the first 65536 ids (%llu)", (unsigned long long)res.host);
        tap_is_int(vs_config_load(c1, "one", &c, NULL), 0, "its config still loads");
        tap_ok(c && c->idmap_host == 1000000 && c->idmap_count == 65536 && c->cpu_weight == 200,
               "with the range recorded and the rest kept");
        vs_config_free(c);
        c = NULL;

        r = vs_idmap_assign(confdir, c2, "two", 0, 0, su, sg, &res);
        tap_is_int(r, 0, "auto for a second guest");
        tap_ok(res.allocated && res.installed == 0 && res.host == 1065536, "a disjoint range (%llu)",
               (unsigned long long)res.host);

        r = vs_idmap_assign(confdir, c2, "two", 1065536, 65536, su, sg, &res);
        tap_is_int(r, 0, "a recorded range is its own again at the next start");
        tap_ok(!res.allocated, "not allocated again");

        put("conf/three.conf", "[guest]\nuserns = yes\nidmap = 1100000:65536\n");
        r = vs_idmap_assign(confdir, c3, "three", 1100000, 65536, su, sg, &res);
        tap_is_int(r, -EEXIST, "an explicit range overlapping another guest's is refused");
        tap_is_str(res.conflict, "two", "naming the other guest");

        tap_is_int(vs_idmap_list(confdir, &v, &n), 0, "the ranges are listed");
        tap_is_int((int)n, 3, "of the three guests, defaults.conf aside");
        vs_idmap_list_free(v, n);

        /* vs-destroy removes the config: the range is free again. */
        unlink(c1);
        put("conf/four.conf", "[guest]\nuserns = yes\n");
        {
                char *c4 = at("conf/four.conf");
                r = vs_idmap_assign(confdir, c4, "four", 0, 0, su, sg, &res);
                tap_is_int(r, 0, "auto after a guest is gone");
                tap_ok(res.host == 1000000, "takes the freed range (%llu)", (unsigned long long)res.host);
                free(c4);
        }
        free(confdir);
        free(su);
        free(sg);
        free(c1);
        free(c2);
        free(c3);
}

/* The check vs-build makes before writing an explicit range. */
static void check(void)
{
        char *confdir = at("check");
        struct vs_idmap_result res;
        int fd = -1;

        mkdir(confdir, 0755);
        put("check/a.conf", "[guest]\nuserns = yes\nidmap = 2000000:65536\n");
        tap_is_int(vs_idmap_check(confdir, "b", 2000000 + 65535, 10, &res), -EEXIST, "an overlap is refused");
        tap_ok(!strcmp(res.conflict, "a") && res.conflict_host == 2000000 && res.conflict_count == 65536,
               "naming the other guest and its range");
        tap_is_int(vs_idmap_check(confdir, "b", 2000000 + 65536, 65536, &res), 0, "the next range is free");
        tap_is_int(vs_idmap_check(confdir, "a", 2000000, 65536, &res), 0, "a guest does not overlap itself");
        tap_is_int(vs_idmap_check(confdir, "b", 0, 0, &res), 0, "auto is never refused here");
        tap_is_int(vs_idmap_lock(confdir, &fd), 0, "the range lock is taken");
        tap_ok(fd >= 0, "with an fd");
        if (fd >= 0)
                close(fd);
        free(confdir);
}

/* A mode set explicitly is written even where it is the default. */
static void explicit_mode(void)
{
        struct vs_config *c = NULL;
        struct vs_error e;
        char *s;

        vs_config_new("g", &c);
        s = vs_config_format(c);
        tap_ok(s && !strstr(s, "userns") && !strstr(s, "idmap"), "a mode never set is left out");
        free(s);
        vs_config_set(c, "guest.userns", "no", &e);
        s = vs_config_format(c);
        tap_ok(s && strstr(s, "userns = no\n") && !strstr(s, "idmap"), "userns = no set explicitly is written");
        free(s);
        vs_config_set(c, "guest.userns", "yes", &e);
        vs_config_set(c, "guest.idmap", "auto", &e);
        s = vs_config_format(c);
        tap_ok(s && strstr(s, "userns = yes\n") && strstr(s, "idmap = auto\n"), "and with yes, idmap = auto too");
        free(s);
        vs_config_free(c);
}

int main(void)
{
        if (!mkdtemp(dir)) {
                perror("mkdtemp");
                return 1;
        }
        parse_key();
        subid();
        pick();
        assign();
        check();
        explicit_mode();
        vs_rm_rf(dir);
        return tap_done();
}
