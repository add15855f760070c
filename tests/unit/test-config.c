/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "guest.h"
#include "state.h"
#include "tap.h"
#include "util.h"

static char dir[] = "/tmp/vs-test-config.XXXXXX";

static char *write_conf(const char *name, const char *text)
{
        char *p = vs_strdupf("%s/%s", dir, name);
        FILE *f = fopen(p, "w");
        fputs(text, f);
        fclose(f);
        return p;
}

static void expect_error(const char *text, unsigned line, const char *key, const char *what)
{
        char *p = write_conf("bad.conf", text);
        struct vs_config *c = NULL;
        struct vs_error err;
        int r = vs_config_load(p, "bad", &c, &err);

        tap_ok(r == -EINVAL && c == NULL, "%s: refused", what);
        tap_is_int(err.line, line, "%s: names line %u", what, line);
        tap_is_str(err.key, key, "%s: names the key", what);
        vs_config_free(c);
        free(p);
}

static void load_good(void)
{
        char *p = write_conf("web1.conf", "; a comment\n"
                                          "[guest]\n"
                                          "template = debian\n"
                                          "release = bookworm ; inline comment\n"
                                          "init = /lib/systemd/systemd\n"
                                          "hostname = web1.example.org\n"
                                          "halt_signal = SIGRTMIN+3\n"
                                          "autostart = yes\n"
                                          "order = 10\n");
        struct vs_config *c = NULL;
        struct vs_error err;
        int r = vs_config_load(p, "web1", &c, &err);

        tap_is_int(r, 0, "a good file loads");
        if (r < 0) {
                printf("#   %u %s %s\n", err.line, err.key, err.msg);
                free(p);
                return;
        }
        tap_is_str(c->name, "web1", "name comes from the file name");
        tap_is_str(c->template_name, "debian", "guest.template");
        tap_is_str(c->release, "bookworm", "guest.release without its inline comment");
        tap_is_str(c->init, "/lib/systemd/systemd", "guest.init");
        tap_is_str(c->hostname, "web1.example.org", "guest.hostname");
        tap_is_int(c->halt_signal, SIGRTMIN + 3, "guest.halt_signal");
        tap_ok(c->autostart, "guest.autostart");
        tap_is_int(c->order, 10, "guest.order");

        /* Round trip through the writer. */
        char *out = vs_strdupf("%s/out.conf", dir);
        struct vs_config *c2 = NULL;
        tap_is_int(vs_config_write(c, out), 0, "config written");
        tap_is_int(vs_config_load(out, "web1", &c2, &err), 0, "written config loads again");
        if (c2) {
                tap_is_str(c2->hostname, c->hostname, "round trip keeps hostname");
                tap_is_int(c2->halt_signal, c->halt_signal, "round trip keeps halt_signal");
                tap_is_int(c2->order, c->order, "round trip keeps order");
                tap_ok(c2->autostart, "round trip keeps autostart");
        }
        vs_config_free(c2);
        vs_config_free(c);
        free(out);
        free(p);
}

static void defaults(void)
{
        char *p = write_conf("empty.conf", "");
        struct vs_config *c = NULL;
        tap_is_int(vs_config_load(p, "empty", &c, NULL), 0, "an empty file loads");
        if (c) {
                tap_is_str(c->init, "/sbin/init", "default init");
                tap_ok(!c->autostart, "default autostart is no");
                tap_ok(c->hostname == NULL, "hostname defaults to unset (the guest name is used)");
        }
        vs_config_free(c);
        free(p);
}

static void errors(void)
{
        struct vs_config *c = NULL;
        struct vs_error err;

        expect_error("[guest]\ntemplate = debian\nfrobnicate = 1\n", 3, "guest.frobnicate", "unknown key");
        expect_error("[nosuch]\nkey = 1\n", 2, "nosuch.key", "unknown section");
        expect_error("[guest]\norder = abc\n", 2, "guest.order", "non-numeric order");
        expect_error("[guest]\norder = -1\n", 2, "guest.order", "negative order");
        expect_error("[guest]\norder = 18446744073709551616\n", 2, "guest.order", "overflowing order");
        expect_error("[guest]\nautostart = maybe\n", 2, "guest.autostart", "bad boolean");
        expect_error("[guest]\ninit = sbin/init\n", 2, "guest.init", "relative init path");
        expect_error("[guest]\nhostname = -bad\n", 2, "guest.hostname", "bad host name");
        expect_error("[guest]\nhalt_signal = SIGKILL\n", 2, "guest.halt_signal", "SIGKILL as halt signal");
        expect_error("[guest]\ncgroup = v1\n", 2, "guest.cgroup", "unknown cgroup view");
        expect_error("[guest]\nrelease = a/b\n", 2, "guest.release", "release with a slash");
        expect_error("[guest]\norder = 1\norder = 2\n", 3, "guest.order", "key set twice");
        expect_error("[guest]\nthis line has no equals sign\n", 2, "", "syntax error");
        tap_is_int(vs_config_load("/nonexistent/x.conf", "x", &c, &err), -ENOENT, "missing file is ENOENT");

        err = (struct vs_error){ .code = EINVAL, .line = 7 };
        snprintf(err.key, sizeof(err.key), "guest.order");
        snprintf(err.msg, sizeof(err.msg), "bad value");
        tap_is_int(vs_error_locate(&err, -EINVAL, "/etc/vservers/g.conf"), -EINVAL, "locating an error keeps its errno");
        tap_is_str(err.msg, "/etc/vservers/g.conf:7: key \"guest.order\": bad value",
                   "error message names file, line and key");
        tap_ok(err.line == 0 && !err.key[0], "and is done once");
        tap_is_int(vs_error_prefix(&err, EINVAL, "Guest \"%s\"", "g"), -EINVAL, "a prefix keeps the errno");
        tap_is_str(err.msg, "Guest \"g\": /etc/vservers/g.conf:7: key \"guest.order\": bad value", "and goes first");
        tap_is_int(vs_error_set(NULL, -ENOENT, "x"), -ENOENT, "a NULL error object still gives the errno");
        tap_is_int(vs_error_set(&err, ENOENT, "No \"%s\"", "x"), -ENOENT, "vs_error_set returns the negative errno");
        tap_ok(err.code == ENOENT && !strcmp(err.msg, "No \"x\""), "and keeps it with the message");
        tap_is_int(vs_error_set(&err, 0, "No errno"), -EIO, "vs_error_set with no errno fails all the same, with EIO");
        tap_ok(err.code == EIO && !strcmp(err.msg, "No errno"), "and keeps EIO with the message");
        tap_is_int(vs_error_set(NULL, 0, "x"), -EIO, "and without an error object");
}

static void set_keys(void)
{
        struct vs_config *c = NULL;
        struct vs_error err;
        vs_config_new("g", &c);
        tap_is_int(vs_config_set(c, "guest.order", "5", &err), 0, "set guest.order");
        tap_is_int(c->order, 5, "set stored");
        tap_is_int(vs_config_set(c, "guest.order", "x", &err), -EINVAL, "set refuses a bad value");
        tap_is_int(c->order, 5, "a refused value leaves the field alone");
        tap_is_int(vs_config_set(c, "nokey", "x", &err), -EINVAL, "set refuses a key without a section");
        tap_is_int(vs_config_set(c, "guest.nokey", "x", &err), -EINVAL, "set refuses an unknown key");
        tap_is_int(vs_config_set(c, "guest.cgroup", "unified", &err), 0, "set guest.cgroup");
        tap_is_int(c->cgroup_view, VS_CGVIEW_UNIFIED, "guest.cgroup stored");
        /* The string keys checked before they are stored. */
        tap_is_int(vs_config_set(c, "cpu.cpus", "0-1", &err), 0, "set cpu.cpus");
        tap_is_int(vs_config_set(c, "cpu.cpus", "1-x", &err), -EINVAL, "a bad cpu.cpus is refused");
        tap_ok(strstr(err.msg, "expected a list of CPUs") && c->cpus && !strcmp(c->cpus, "0-1"),
               "saying what it takes, the old value kept (%s)", err.msg);
        tap_is_int(vs_config_set(c, "net.mac", "02:00:00:00:00:01", &err), 0, "set net.mac");
        tap_is_int(vs_config_set(c, "net.mac", "01:00:5e:00:00:01", &err), -EINVAL, "a multicast net.mac is refused");
        tap_ok(strstr(err.msg, "expected a unicast MAC") && c->net_mac && !strcmp(c->net_mac, "02:00:00:00:00:01"),
               "saying what it takes, the old value kept (%s)", err.msg);
        /* The keys that take one of a few words. */
        tap_is_int(vs_config_set(c, "guest.cgroup", "v1", &err), -EINVAL, "a bad guest.cgroup is refused");
        tap_ok(strstr(err.msg, "expected auto, hybrid or unified, not \"v1\"") && c->cgroup_view == VS_CGVIEW_UNIFIED,
               "saying what it takes, the old value kept (%s)", err.msg);
        tap_is_int(vs_config_set(c, "disk.layout", "shared", &err), 0, "set disk.layout");
        tap_is_int(vs_config_set(c, "disk.layout", "", &err), -EINVAL, "an empty disk.layout is refused");
        tap_ok(strstr(err.msg, "expected dir, image or shared, not \"\"") && c->disk_layout == VS_LAYOUT_SHARED,
               "saying what it takes, the old value kept (%s)", err.msg);
        char *text = vs_config_format(c);
        tap_ok(text && strstr(text, "cgroup = unified\n"), "guest.cgroup is written when not auto");
        free(text);
        vs_config_free(c);
}

static void halt_signal(void)
{
        struct vs_config *c = NULL;
        char root[256];
        vs_config_new("g", &c);
        snprintf(root, sizeof(root), "%s/root", dir);
        mkdir(root, 0755);
        char *sbin = vs_strdupf("%s/sbin", root), *init = vs_strdupf("%s/sbin/init", root);
        mkdir(sbin, 0755);
        symlink("/lib/systemd/systemd", init);
        tap_is_int(vs_config_halt_signal(c, root), SIGRTMIN + 3, "init linked to systemd halts on SIGRTMIN+3");
        tap_is_int(vs_config_cgroup_view(c, root), VS_CGVIEW_UNIFIED, "cgroup = auto: systemd sees the unified view");
        c->cgroup_view = VS_CGVIEW_HYBRID;
        tap_is_int(vs_config_cgroup_view(c, root), VS_CGVIEW_HYBRID, "a configured cgroup view wins");
        c->cgroup_view = VS_CGVIEW_AUTO;
        unlink(init);
        FILE *f = fopen(init, "w");
        fclose(f);
        tap_is_int(vs_config_halt_signal(c, root), SIGPWR, "another init halts on SIGPWR");
        tap_is_int(vs_config_cgroup_view(c, root), VS_CGVIEW_HYBRID, "cgroup = auto: another init sees the hybrid view");
        c->halt_signal = SIGINT;
        tap_is_int(vs_config_halt_signal(c, root), SIGINT, "a configured halt_signal wins");
        unlink(init);
        rmdir(sbin);
        rmdir(root);
        free(sbin);
        free(init);
        vs_config_free(c);
}

/* The keys vserver.conf(5) documents, each with its section: a key is the
 * bold word that opens the tag line of a .TP paragraph, and its section is
 * the one named by the last heading of the form .SH "THE [name] SECTION"
 * (an .SS keeps it; any other .SH ends it, so keys of defaults.conf or the
 * ENVIRONMENT do not count). */
struct man_key {
        const char *section, *key; /* in the man page's text */
};

static size_t man_keys(char *man, struct man_key *out, size_t max)
{
        const char *section = NULL;
        char *save = NULL;
        bool tag = false;
        size_t n = 0;

        for (char *line = strtok_r(man, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (strncmp(line, ".SH", 3) == 0 && (line[3] == ' ' || line[3] == '\0')) {
                        char *open = strstr(line, "\"THE ["), *close = open ? strstr(open, "] SECTION\"") : NULL;
                        section = NULL;
                        if (close) {
                                *close = '\0';
                                section = open + 6;
                        }
                        tag = false;
                        continue;
                }
                if (strcmp(line, ".TP") == 0) {
                        tag = true;
                        continue;
                }
                if (tag && section && strncmp(line, "\\fB", 3) == 0 && n < max) {
                        char *e = strstr(line + 3, "\\fR");
                        if (e) {
                                *e = '\0';
                                out[n++] = (struct man_key){ section, line + 3 };
                        }
                }
                tag = false;
        }
        return n;
}

static bool in_table(const char *section, const char *key)
{
        for (size_t i = 0; i < vs_config_keys_count; i++)
                if (strcmp(vs_config_keys[i].section, section) == 0 && strcmp(vs_config_keys[i].key, key) == 0)
                        return true;
        return false;
}

/* Every key of the table is documented in its own section of vserver.conf(5),
 * and every key documented there is in the table. */
static void documented(void)
{
        struct man_key keys[256];
        char *man = NULL;
        size_t n = 0;
        int r = vs_read_file(MANDIR "/vserver.conf.5", &man, NULL);

        tap_is_int(r, 0, "man/vserver.conf.5 is readable");
        if (man)
                n = man_keys(man, keys, ELEMENTSOF(keys));
        tap_ok(n > 0 && n < ELEMENTSOF(keys), "vserver.conf(5) documents %zu keys in its [section] sections", n);
        for (size_t i = 0; i < vs_config_keys_count; i++) {
                const char *other = NULL;
                bool found = false;
                for (size_t j = 0; j < n && !found; j++) {
                        if (strcmp(keys[j].key, vs_config_keys[i].key) != 0)
                                continue;
                        if (strcmp(keys[j].section, vs_config_keys[i].section) == 0)
                                found = true;
                        else
                                other = keys[j].section;
                }
                tap_ok(found, "%s.%s is documented in vserver.conf(5), in its [%s] section", vs_config_keys[i].section,
                       vs_config_keys[i].key, vs_config_keys[i].section);
                if (!found && other)
                        printf("#   documented in [%s] instead\n", other);
        }
        for (size_t j = 0; j < n; j++)
                tap_ok(in_table(keys[j].section, keys[j].key), "[%s] %s of vserver.conf(5) is a key of the table",
                       keys[j].section, keys[j].key);
        free(man);
}

/* First-boot access keys (lib/config/config-access.c): what each refuses, the
 * normal form kept, and a config holding a password hash is 0600 (and
 * stays so when one key is changed). */
static void access_keys(void)
{
        struct vs_config *c = NULL, *d = NULL;
        struct vs_error err;
        struct stat st;
        char *p = NULL;

        vs_config_new("g", &c);
        tap_is_int(vs_config_set(c, "guest.dns", "10.0.0.53, fd00::53", &err), 0, "guest.dns: IPv4 and IPv6");
        tap_ok(c->dns && strcmp(c->dns, "10.0.0.53,fd00::53") == 0, "guest.dns kept as a plain comma list");
        tap_is_int(vs_config_set(c, "guest.dns", "10.0.0.300", &err), -EINVAL, "guest.dns: a bad address refused");
        tap_is_int(vs_config_set(c, "guest.dns", "1.1.1.1,1.0.0.1,8.8.8.8,8.8.4.4", &err), -EINVAL,
                   "guest.dns: a fourth server refused");
        tap_is_int(vs_config_set(c, "guest.dns", "", &err), -EINVAL, "guest.dns: empty refused");
        tap_is_int(vs_config_set(c, "guest.timezone", "America/Port-au-Prince", &err), 0, "guest.timezone");
        tap_is_int(vs_config_set(c, "guest.timezone", "Etc/GMT+5", &err), 0, "guest.timezone with a sign");
        tap_is_int(vs_config_set(c, "guest.timezone", "../../etc/shadow", &err), -EINVAL,
                   "guest.timezone: dots refused");
        tap_is_int(vs_config_set(c, "guest.timezone", "/Europe/Berlin", &err), -EINVAL,
                   "guest.timezone: an absolute path refused");
        tap_is_int(vs_config_set(c, "guest.timezone", "Europe//Berlin", &err), -EINVAL,
                   "guest.timezone: an empty part refused");
        tap_is_int(vs_config_set(c, "guest.root_password_hash", "secret", &err), -EINVAL,
                   "guest.root_password_hash: a cleartext password refused");
        tap_is_int(vs_config_set(c, "guest.root_password_hash", "$6$salt$x:0:", &err), -EINVAL,
                   "guest.root_password_hash: a colon refused");
        tap_is_int(vs_config_set(c, "guest.root_password_hash", "$y$j9T$abcdefgh$ABCDEFGHijklmnop./0123", &err), 0,
                   "guest.root_password_hash: a yescrypt hash");
        tap_is_int(vs_config_set(c, "guest.ssh_keys", "keys", &err), -EINVAL, "guest.ssh_keys: a relative path refused");
        p = vs_strdupf("%s/access.conf", dir);
        tap_is_int(p ? vs_config_write(c, p) : -ENOMEM, 0, "a config with a password hash is written");
        tap_ok(p && stat(p, &st) == 0 && (st.st_mode & 07777) == 0600, "with mode 0600");
        tap_is_int(vs_config_file_set(p, "guest", "autostart", "yes"), 0, "one key of it is changed");
        tap_ok(stat(p, &st) == 0 && (st.st_mode & 07777) == 0600, "and it stays 0600");
        tap_is_int(vs_config_load(p, "g", &d, &err), 0, "it loads again");
        tap_ok(d && d->dns && d->timezone && d->root_password_hash && !strcmp(d->timezone, "Etc/GMT+5") &&
                       !strcmp(d->root_password_hash, c->root_password_hash),
               "with the access keys");
        vs_config_free(d);
        vs_config_free(c);
        free(p);
}

/* The one loader for a guest named by a user: the name is checked before
 * any path is made of it, and every failure names the guest or its file. */
static void guest_loader(void)
{
        _cleanup_free_ char *good = write_conf("g1.conf", "[guest]\nhostname = g1.example.org\n");
        _cleanup_free_ char *bad = write_conf("g2.conf", "[guest]\nfrobnicate = yes\n");
        const char *confdir = getenv("VS_CONFDIR");
        _cleanup_free_ char *saved = confdir ? strdup(confdir) : NULL;
        struct vs_config *c = NULL;
        struct vs_error err = { 0 };

        setenv("VS_CONFDIR", dir, 1);
        tap_is_int(vs_load_guest_config("../g1", &c, &err), -EINVAL, "a name with a slash is refused");
        tap_ok(!c && strstr(err.msg, "Invalid guest name \"../g1\""), "before loading, naming it: %s", err.msg);
        tap_is_int(vs_load_guest_config("defaults", &c, &err), -EINVAL, "so is \"defaults\"");
        tap_is_int(vs_load_guest_config("g0", &c, &err), -ENOENT, "a guest with no config is -ENOENT");
        tap_ok(strstr(err.msg, "\"g0\"") && strstr(err.msg, "/g0.conf"), "naming the guest and the file: %s", err.msg);
        tap_is_int(vs_load_guest_config("g2", &c, &err), -EINVAL, "a config that does not parse is -EINVAL");
        tap_ok(!c && strstr(err.msg, "/g2.conf:2: key \"guest.frobnicate\""), "naming the file, line and key: %s",
               err.msg);
        tap_is_int(vs_load_guest_config("g1", &c, &err), 0, "a good config loads");
        tap_ok(c && c->hostname && !strcmp(c->hostname, "g1.example.org"), "with its keys");
        vs_config_free(c);
        if (saved)
                setenv("VS_CONFDIR", saved, 1);
        else
                unsetenv("VS_CONFDIR");
}

int main(void)
{
        if (!mkdtemp(dir)) {
                perror("mkdtemp");
                return 1;
        }
        load_good();
        defaults();
        errors();
        set_keys();
        access_keys();
        halt_signal();
        documented();
        guest_loader();
        tap_is_int(vs_rm_rf(dir), 0, "temporary directory removed");
        return tap_done();
}
