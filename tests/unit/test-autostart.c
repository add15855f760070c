/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The start order (levels, depends, cycles) and the keys behind it; no root
 * needed: guests are config files in a temporary VS_CONFDIR. */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "autostart.h"
#include "config.h"
#include "notify.h"
#include "tap.h"
#include "util.h"

static char dir[] = "/tmp/vs-test-autostart.XXXXXX";

#define N(name_, order_, ...) { .name = (name_), .order = (order_), .depends = (char *[]){ __VA_ARGS__, NULL } }

static int level_of(const struct vs_order_node *v, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (!strcmp(v[i].name, name))
                        return v[i].level;
        return -100;
}

static void levels(void)
{
        struct vs_error err = { 0 };
        struct vs_order_node a[] = { N("b", 20, "a"), N("a", 10, NULL), N("c", 10, NULL), N("d", 30, NULL) };
        tap_is_int(vs_order_levels(a, 4, true, &err), 0, "orders and depends give levels");
        tap_is_int(level_of(a, 4, "a"), 0, "order 10 starts first");
        tap_is_int(level_of(a, 4, "c"), 0, "guests of one order share a level");
        tap_is_int(level_of(a, 4, "b"), 1, "order 20, after what it depends on");
        tap_is_int(level_of(a, 4, "d"), 2, "order 30 last");

        /* A dependency with a later order pushes the dependent after it. */
        struct vs_order_node b[] = { N("web", 10, "db"), N("db", 20, NULL), N("x", 10, NULL) };
        tap_is_int(vs_order_levels(b, 3, true, &err), 0, "a dependency on a later order is no error");
        tap_is_int(level_of(b, 3, "db"), 1, "the dependency keeps its order's level");
        tap_is_int(level_of(b, 3, "web"), 2, "the dependent goes after it");
        tap_is_int(level_of(b, 3, "x"), 0, "other guests of its order are not held up");

        /* A chain of depends within one order. */
        struct vs_order_node c[] = { N("c", 5, "b"), N("b", 5, "a"), N("a", 5, NULL) };
        tap_is_int(vs_order_levels(c, 3, true, &err), 0, "a chain in one order");
        tap_ok(level_of(c, 3, "a") == 0 && level_of(c, 3, "b") == 1 && level_of(c, 3, "c") == 2,
               "a chain takes a level per link");

        struct vs_order_node e[1];
        tap_is_int(vs_order_levels(e, 0, true, &err), 0, "no guests is fine");
}

static void errors(void)
{
        struct vs_error err = { 0 };
        struct vs_order_node m[] = { N("a", 10, NULL), N("b", 20, "a", "ghost") };
        m[0].level = m[1].level = 42;
        tap_is_int(vs_order_levels(m, 2, true, &err), -ENOENT, "a dependency on a missing guest is refused");
        tap_ok(strstr(err.msg, "\"b\"") && strstr(err.msg, "\"ghost\"") && strstr(err.msg, "does not exist"),
               "the message names both guests: %s", err.msg);
        tap_ok(m[0].level == 42 && m[1].level == 42, "a refused order sets no level");

        struct vs_order_node cy[] = { N("a", 10, "b"), N("b", 20, "a"), N("c", 5, NULL) };
        err.msg[0] = '\0';
        tap_is_int(vs_order_levels(cy, 3, true, &err), -ELOOP, "a cycle is refused");
        tap_ok(strstr(err.msg, "cycle") && strstr(err.msg, "\"a\"") && strstr(err.msg, "\"b\"") &&
                       !strstr(err.msg, "\"c\""),
               "the message names the guests of the cycle only: %s", err.msg);

        struct vs_order_node three[] = { N("x", 1, "y"), N("y", 1, "z"), N("z", 1, "x") };
        tap_is_int(vs_order_levels(three, 3, true, &err), -ELOOP, "a longer cycle is refused");
        tap_is_str(err.msg, "Dependency cycle: \"x\" -> \"y\" -> \"z\" -> \"x\"", "and named in order");

        struct vs_order_node self[] = { N("s", 1, "s") };
        tap_is_int(vs_order_levels(self, 1, true, &err), -ELOOP, "a guest depending on itself is a cycle");

        /* Stopping must go on whatever the configs say. */
        tap_is_int(vs_order_levels(m, 2, false, &err), 0, "lenient: a missing guest is ignored");
        tap_ok(m[0].level == 0 && m[1].level == 1, "lenient: the rest keeps its order");
        tap_is_int(vs_order_levels(cy, 3, false, &err), 0, "lenient: a cycle falls back to the orders");
        tap_ok(level_of(cy, 3, "c") == 0 && level_of(cy, 3, "a") == 1 && level_of(cy, 3, "b") == 2,
               "lenient: levels by order alone");
}

static void keys(void)
{
        struct vs_config *c = NULL;
        struct vs_error err;
        char *s;

        vs_config_new("g", &c);
        tap_is_int(c->start_timeout, 60, "start_timeout defaults to 60 s");
        tap_is_int(c->stop_timeout, 60, "stop_timeout defaults to 60 s");
        tap_ok(c->depends == NULL, "depends defaults to none");
        tap_is_int(vs_config_set(c, "guest.depends", " db1 , cache.2,web-3 ", &err), 0, "depends takes a comma list");
        tap_ok(c->depends && vs_strv_length(c->depends) == 3 && !strcmp(c->depends[0], "db1") &&
                       !strcmp(c->depends[1], "cache.2") && !strcmp(c->depends[2], "web-3"),
               "names are trimmed");
        static const char *const bad[] = { "a,,b", "a,", ",a", "a,a", "a/b", "-a", "defaults", "a b" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                tap_is_int(vs_config_set(c, "guest.depends", bad[i], &err), -EINVAL, "depends refuses \"%s\"", bad[i]);
        tap_ok(vs_strv_length(c->depends) == 3, "a refused list leaves the old one");
        tap_is_int(vs_config_set(c, "guest.start_timeout", "90s", &err), 0, "start_timeout = 90s");
        tap_is_int(c->start_timeout, 90, "90 s stored");
        tap_is_int(vs_config_set(c, "guest.stop_timeout", "5", &err), 0, "stop_timeout = 5 (no suffix)");
        tap_is_int(c->stop_timeout, 5, "5 s stored");
        tap_is_int(vs_config_set(c, "guest.stop_timeout", "0s", &err), 0, "stop_timeout may be 0 (kill at once)");
        static const char *const badt[] = { "", "s", "1m", "-1", "1.5s", "86401", "60 s", "18446744073709551616" };
        for (size_t i = 0; i < sizeof(badt) / sizeof(badt[0]); i++)
                tap_is_int(vs_config_set(c, "guest.stop_timeout", badt[i], &err), -EINVAL,
                           "stop_timeout refuses \"%s\"", badt[i]);
        tap_is_int(vs_config_set(c, "guest.start_timeout", "0", &err), -EINVAL, "start_timeout must be at least 1");
        tap_ok(strstr(err.msg, "seconds") != NULL, "the message says seconds: %s", err.msg);

        s = vs_config_format(c);
        tap_ok(s && strstr(s, "depends = db1, cache.2, web-3\n") && strstr(s, "start_timeout = 90s\n") &&
                       strstr(s, "stop_timeout = 0s\n"),
               "the writer keeps depends and the timeouts");
        free(s);
        tap_is_int(vs_config_set(c, "guest.depends", "", &err), 0, "an empty depends clears the list");
        tap_ok(c->depends == NULL, "no dependencies left");
        vs_config_free(c);
}

static void conf(const char *name, const char *text)
{
        char *p = vs_strdupf("%s/%s.conf", dir, name);
        FILE *f = fopen(p, "w");
        fputs(text, f);
        fclose(f);
        free(p);
}

static const struct vs_batch_item *item(const struct vs_batch_item *v, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (!strcmp(v[i].name, name))
                        return &v[i];
        return NULL;
}

/* The plan vs-start --autostart --dry-run prints, from real config files. */
static void plan(void)
{
        struct vs_batch_opts o = { .dry_run = true };
        struct vs_batch_item *v = NULL;
        struct vs_error err = { 0 };
        const struct vs_batch_item *it;
        size_t n = 0;

        setenv("VS_CONFDIR", dir, 1);
        conf("a", "[guest]\nautostart = yes\norder = 10\n");
        conf("b", "[guest]\nautostart = yes\norder = 20\ndepends = a, lib\nstart_timeout = 5s\n");
        conf("c", "[guest]\norder = 1\n");
        conf("lib", "[guest]\norder = 50\n");
        conf("defaults", "");
        tap_is_int(vs_guests_autostart(&o, &v, &n, &err), 0, "the autostart plan: %s", err.msg);
        tap_is_int(n, 3, "a, b, and lib that b needs");
        it = item(v, n, "a");
        tap_ok(it && it->level == 0 && it->status == VS_BATCH_WAITING && it->timeout == 60, "a first, 60 s");
        it = item(v, n, "lib");
        tap_ok(it && it->needed && it->level == 2, "lib is pulled in by b, at its order's level (third of 10, 20, 50)");
        it = item(v, n, "b");
        tap_ok(it && it->level == 3 && it->timeout == 5, "b after lib, with its start_timeout");
        tap_ok(item(v, n, "c") == NULL, "c is not autostart and nobody needs it");
        tap_ok(n == 3 && !strcmp(v[0].name, "a") && !strcmp(v[2].name, "b"), "sorted by level");
        free(v);

        conf("broken", "[guest]\nautostart = maybe\n");
        conf("d", "[guest]\nautostart = yes\ndepends = broken\n");
        tap_is_int(vs_guests_autostart(&o, &v, &n, &err), 0, "a broken config does not stop the plan");
        it = item(v, n, "broken");
        tap_ok(it && it->status == VS_BATCH_FAILED && strstr(it->msg, "broken.conf:2"),
               "the broken guest fails with its file and line");
        it = item(v, n, "d");
        tap_ok(it && it->status == VS_BATCH_WAITING, "its dependent waits (to be skipped when its turn comes)");
        free(v);

        conf("broken", "[guest]\n");
        conf("e", "[guest]\nautostart = yes\ndepends = nosuch\n");
        tap_is_int(vs_guests_autostart(&o, &v, &n, &err), -ENOENT, "a missing dependency stops everything");
        tap_ok(strstr(err.msg, "\"e\"") && strstr(err.msg, "\"nosuch\""), "and names both: %s", err.msg);
        conf("e", "[guest]\nautostart = yes\ndepends = f\n");
        conf("f", "[guest]\ndepends = e\n");
        tap_is_int(vs_guests_autostart(&o, &v, &n, &err), -ELOOP, "a cycle through a pulled-in guest too");
        tap_ok(strstr(err.msg, "\"e\"") && strstr(err.msg, "\"f\""), "and names both: %s", err.msg);
}

static int bind_dgram(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return -1;
        return fd;
}

static void send_to(const char *path, const char *msg)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sa, sizeof(sa));
        close(fd);
}

static char *slurp(const char *path)
{
        char *t = NULL;
        return vs_read_file(path, &t, NULL) == 0 ? t : NULL;
}

/* The supervisor's side of the notify socket, with this process playing the
 * guest's init (or not). */
static void notify(void)
{
        char *run = vs_strdupf("%s/run", dir), *sock = vs_strdupf("%s/run/notify", dir);
        char *ready = vs_strdupf("%s/run/ready", dir), *mgr = vs_strdupf("%s/manager", dir), *t;
        struct vs_notify n = { .fd = -1 };
        char buf[64] = "";
        int mfd;

        mkdir(run, 0700);
        tap_is_int(vs_notify_open(&n, run, true), 0, "the notify socket is bound");
        tap_is_int(vs_notify_started(&n, getpid() + 100000, true), 0, "an init that notifies is not ready at once");
        tap_ok(access(ready, F_OK) < 0, "no ready marker yet");
        send_to(sock, "READY=1");
        tap_is_int(vs_notify_dispatch(&n), 0, "READY=1 from another process than init is ignored");
        tap_ok(access(ready, F_OK) < 0, "still no ready marker");

        mfd = bind_dgram(mgr);
        setenv("NOTIFY_SOCKET", mgr, 1);
        n.init_pid = getpid();
        send_to(sock, "STATUS=booting");
        tap_is_int(vs_notify_dispatch(&n), 0, "other messages from init are not readiness");
        send_to(sock, "STATUS=done\nREADY=1\n");
        tap_is_int(vs_notify_dispatch(&n), 1, "READY=1 from init makes the guest ready");
        t = slurp(ready);
        tap_ok(t && !strncmp(t, "how=notify\n", 11), "the marker says how=notify");
        free(t);
        tap_ok(mfd >= 0 && recv(mfd, buf, sizeof(buf) - 1, MSG_DONTWAIT) == 7 && !strcmp(buf, "READY=1"),
               "readiness is passed on to our own $NOTIFY_SOCKET");
        send_to(sock, "READY=1");
        tap_is_int(vs_notify_dispatch(&n), 0, "ready once only");
        vs_notify_close(&n);
        tap_is_int(n.fd, -1, "closed");
        unsetenv("NOTIFY_SOCKET");
        close(mfd);

        unlink(ready);
        tap_is_int(vs_notify_open(&n, run, false), 0, "the socket again");
        tap_is_int(vs_notify_started(&n, getpid(), false), 1, "an init that cannot notify is ready when it runs");
        t = slurp(ready);
        tap_ok(t && !strncmp(t, "how=exec\n", 9), "the marker says how=exec");
        free(t);
        vs_notify_close(&n);

        /* A flood from the guest: one call reads a bounded batch and
         * returns; READY=1 from init behind the flood is still seen. */
        unlink(ready);
        tap_is_int(vs_notify_open(&n, run, false), 0, "the socket for a flood");
        n.init_pid = getpid();
        int queued = 0;
        pid_t child = fork();
        if (child == 0) {
                /* Not init: its messages only take the supervisor's time. */
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), k = 0;
                snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
                while (k < 2 * VS_NOTIFY_BATCH &&
                       sendto(fd, "READY=1", 7, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof(sa)) == 7)
                        k++;
                _exit(k);
        }
        int status = 0;
        waitpid(child, &status, 0);
        queued = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
        if (queued <= VS_NOTIFY_BATCH) {
                printf("ok %d # SKIP the socket queues only %d messages (net.unix.max_dgram_qlen)\n", ++tap_n,
                       queued);
        } else {
                tap_is_int(vs_notify_dispatch(&n), 0, "one call reads a bounded batch of a flood (%d queued)", queued);
                tap_ok(recv(n.fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT) > 0, "and leaves the rest queued");
                /* Behind what is left of the flood, now that there is room. */
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
                tap_ok(sendto(fd, "READY=1", 7, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof(sa)) == 7,
                       "READY=1 from init queued behind it");
                close(fd);
                int calls = 0, got = 0, want = (queued - VS_NOTIFY_BATCH + 1 + VS_NOTIFY_BATCH - 1) / VS_NOTIFY_BATCH;
                while (!got && calls++ < 10)
                        got = vs_notify_dispatch(&n);
                tap_ok(got == 1 && calls == want, "makes the guest ready on wake-up %d (expected %d)", calls, want);
        }
        vs_notify_close(&n);

        struct vs_config *c = NULL;
        vs_config_new("g", &c);
        tap_ok(!vs_init_notifies(c, run), "/sbin/init that is no symlink to systemd does not notify");
        free(c->init);
        c->init = strdup("/lib/systemd/systemd");
        tap_ok(vs_init_notifies(c, run), "an init path naming systemd notifies");
        vs_config_free(c);
        free(run);
        free(sock);
        free(ready);
        free(mgr);
}

int main(void)
{
        if (!mkdtemp(dir)) {
                perror("mkdtemp");
                return 1;
        }
        levels();
        errors();
        keys();
        plan();
        notify();
        tap_is_int(vs_rm_rf(dir), 0, "temporary directory removed");
        return tap_done();
}
