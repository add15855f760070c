/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host's boot and shutdown: every autostart guest started in order,
 * every running guest stopped in reverse order. Each guest of a level gets a
 * process of its own, so a slow or failing guest holds up nobody but the
 * guests that depend on it. */
#include "autoconfig.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "autostart.h"
#include "cleanup.h"
#include "config.h"
#include "notify.h"
#include "paths.h"
#include "state.h"

#define DEFAULT_TIMEOUT 60

/* ---- levels ------------------------------------------------------------- */

static ssize_t find_node(const struct vs_order_node *nodes, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(nodes[i].name, name) == 0)
                        return (ssize_t)i;
        return -1;
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

struct walk {
        const struct vs_order_node *nodes;
        size_t n;
        const uint64_t *orders; /* distinct order values, ascending */
        size_t n_orders;
        int *level;
        int *mark; /* 0 not seen, 1 on the current path, 2 placed */
        size_t *path;
        size_t depth;
        struct vs_error *err;
};

static int base_level(const struct walk *w, uint64_t order)
{
        const uint64_t *p = bsearch(&order, w->orders, w->n_orders, sizeof(uint64_t), cmp_u64);
        return p ? (int)(p - w->orders) : 0;
}

static void name_cycle(struct walk *w, size_t back_to)
{
        char msg[sizeof(w->err->msg)];
        size_t len = 0, from = 0;

        while (from < w->depth && w->path[from] != back_to)
                from++;
        len += (size_t)snprintf(msg, sizeof(msg), "Dependency cycle: ");
        for (size_t k = from; k < w->depth && len < sizeof(msg); k++)
                len += (size_t)snprintf(msg + len, sizeof(msg) - len, "\"%s\" -> ", w->nodes[w->path[k]].name);
        if (len < sizeof(msg))
                snprintf(msg + len, sizeof(msg) - len, "\"%s\"", w->nodes[back_to].name);
        vs_error_set(w->err, ELOOP, "%s", msg);
}

static int visit(struct walk *w, size_t i)
{
        int level;

        if (w->mark[i] == 2)
                return 0;
        if (w->mark[i] == 1) {
                name_cycle(w, i);
                return -ELOOP;
        }
        w->mark[i] = 1;
        w->path[w->depth++] = i;
        level = base_level(w, w->nodes[i].order);
        for (char **d = w->nodes[i].depends; d && *d; d++) {
                ssize_t j = find_node(w->nodes, w->n, *d);
                int r;

                if (j < 0)
                        continue;
                r = visit(w, (size_t)j);
                if (r < 0)
                        return r;
                if (w->level[j] + 1 > level)
                        level = w->level[j] + 1;
        }
        w->depth--;
        w->mark[i] = 2;
        w->level[i] = level;
        return 0;
}

int vs_order_levels(struct vs_order_node *nodes, size_t n, bool strict, struct vs_error *err)
{
        _cleanup_free_ uint64_t *orders = calloc(n + 1, sizeof(uint64_t));
        _cleanup_free_ int *level = calloc(n + 1, sizeof(int)), *mark = calloc(n + 1, sizeof(int));
        _cleanup_free_ size_t *path = calloc(n + 1, sizeof(size_t));
        struct walk w = { .nodes = nodes, .n = n, .level = level, .mark = mark, .path = path, .err = err };
        size_t n_orders = 0;
        int r = 0;

        if (!orders || !level || !mark || !path)
                return -ENOMEM;
        if (strict) {
                char msg[sizeof(err->msg)] = "";
                size_t len = 0;

                for (size_t i = 0; i < n; i++)
                        for (char **d = nodes[i].depends; d && *d; d++)
                                if (find_node(nodes, n, *d) < 0 && len < sizeof(msg))
                                        len += (size_t)snprintf(msg + len, sizeof(msg) - len,
                                                                "%sGuest \"%s\" depends on \"%s\", which does not exist",
                                                                len ? "; " : "", nodes[i].name, *d);
                if (len) {
                        return vs_error_set(err, ENOENT, "%s", msg);
                }
        }
        for (size_t i = 0; i < n; i++)
                orders[i] = nodes[i].order;
        qsort(orders, n, sizeof(uint64_t), cmp_u64);
        for (size_t i = 0; i < n; i++)
                if (n_orders == 0 || orders[n_orders - 1] != orders[i])
                        orders[n_orders++] = orders[i];
        w.orders = orders;
        w.n_orders = n_orders;

        for (size_t i = 0; i < n && r == 0; i++)
                r = visit(&w, i);
        if (r == -ELOOP && !strict) {
                for (size_t i = 0; i < n; i++)
                        level[i] = base_level(&w, nodes[i].order);
                r = 0;
        }
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                nodes[i].level = level[i];
        return 0;
}

/* ---- the guests --------------------------------------------------------- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The names of every guest with a config, sorted. */
struct names {
        char **v; /* NULL-terminated */
        size_t n;
};

static int name_add(const char *name, const char *path, void *arg)
{
        struct names *l = arg;
        char **nv = realloc(l->v, (l->n + 2) * sizeof(char *));

        if (!nv)
                return -ENOMEM;
        l->v = nv;
        l->v[l->n] = strdup(name);
        if (!l->v[l->n])
                return -ENOMEM;
        l->v[++l->n] = NULL;
        return 0;
}

/* The guests with a config (vs_confdir_foreach), sorted by name. */
static int list_names(char ***ret, size_t *ret_n)
{
        struct names l = { calloc(1, sizeof(char *)), 0 };
        int r = l.v ? vs_confdir_foreach(vs_confdir(), name_add, &l) : -ENOMEM;

        if (r < 0) {
                vs_strv_free(l.v);
                return r;
        }
        qsort(l.v, l.n, sizeof(char *), cmp_str);
        *ret = l.v;
        *ret_n = l.n;
        return 0;
}

/* ---- running a batch ---------------------------------------------------- */

struct batch {
        struct vs_batch_item *items; /* shared with the per-guest processes */
        char ***depends;             /* per item, borrowed */
        size_t n;
        size_t map_size;             /* of items */
        const struct vs_batch_opts *o;
};

static void progress(const struct batch *b, const struct vs_batch_item *it)
{
        if (b->o && b->o->progress)
                b->o->progress(it, b->o->userdata);
        fflush(NULL);
}

static ssize_t find_item(const struct batch *b, const char *name)
{
        for (size_t i = 0; i < b->n; i++)
                if (strcmp(b->items[i].name, name) == 0)
                        return (ssize_t)i;
        return -1;
}

static void item_fail(struct vs_batch_item *it, enum vs_batch_status status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void item_fail(struct vs_batch_item *it, enum vs_batch_status status, const char *fmt, ...)
{
        va_list ap;
        it->status = status;
        va_start(ap, fmt);
        vsnprintf(it->msg, sizeof(it->msg), fmt, ap);
        va_end(ap);
}

/* At most this many guests of a level are in vs_guest_start() at once (one
 * token each in a pipe): fifty guests forked into their namespaces in the
 * same instant compete for the same kernel locks and CPUs, and all reach
 * multi-user later than when their starts follow each other closely. The
 * wait for readiness is not limited. */
static int start_slots[2] = { -1, -1 };

static void slots_open(void)
{
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        if (pipe2(start_slots, O_CLOEXEC) < 0) {
                start_slots[0] = start_slots[1] = -1;
                return;
        }
        for (long i = 0; i < (n < 2 ? 2 : n); i++)
                if (write(start_slots[1], "s", 1) != 1)
                        break;
}

static void slots_close(void)
{
        for (int i = 0; i < 2; i++)
                if (start_slots[i] >= 0)
                        close(start_slots[i]);
        start_slots[0] = start_slots[1] = -1;
}

static bool slot_take(void)
{
        char c;

        while (start_slots[0] >= 0) {
                ssize_t r = read(start_slots[0], &c, 1);
                if (r == 1)
                        return true;
                if (r == 0 || errno != EINTR)
                        break;
        }
        return false;
}

static void slot_give(bool taken)
{
        if (taken)
                (void)!write(start_slots[1], "s", 1);
}

/* Waits until something changes in the guest's run directory (its ready
 * file appears there by a rename) or @ms pass; where inotify is refused, it
 * only sleeps. */
static void wait_rundir(int ino, long ms)
{
        struct pollfd p = { .fd = ino, .events = POLLIN };
        char buf[4096];

        if (ino < 0) {
                struct timespec ts = { 0, 50 * 1000000L };
                nanosleep(&ts, NULL);
                return;
        }
        if (poll(&p, 1, (int)ms) > 0)
                (void)!read(ino, buf, sizeof(buf));
}

/* In a process of its own: start the guest and wait until it is ready. */
static void start_one(struct vs_batch_item *it)
{
        const struct vs_start_opts so = { 0 };
        struct vs_error err = { 0 };
        uint64_t t0 = vs_now_usec(), deadline;
        _cleanup_free_ char *rundir = NULL;
        _cleanup_close_ int ino = -1;
        bool already = false, slot = slot_take();
        int r;

        r = vs_guest_start(it->name, &so, &err, NULL);
        slot_give(slot);
        deadline = vs_now_usec() + (uint64_t)it->timeout * 1000000u;
        if (r == -EALREADY) {
                already = true;
                r = 0;
        }
        if (r < 0) {
                item_fail(it, VS_BATCH_FAILED, "%s", err.msg[0] ? err.msg : strerror(-r));
                goto out;
        }
        rundir = vs_strdupf("%s/%s", vs_rundir(), it->name);
        ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (ino >= 0 && (!rundir || inotify_add_watch(ino, rundir, IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF) < 0)) {
                close(ino);
                ino = -1;
        }
        for (;;) {
                r = vs_guest_ready(it->name);
                if (r > 0) {
                        it->status = already ? VS_BATCH_ALREADY : VS_BATCH_UP;
                        break;
                }
                if (r < 0) {
                        _cleanup_free_ char *log = vs_console_log_path(it->name);
                        item_fail(it, VS_BATCH_FAILED, "stopped before it was ready (see %s)", log ? log : "its console log");
                        break;
                }
                if (vs_now_usec() >= deadline) {
                        item_fail(it, VS_BATCH_FAILED, "not ready after %u s (start_timeout); left running", it->timeout);
                        break;
                }
                /* Also looks every half second: a guest whose init died
                 * leaves no trace in the run directory until its
                 * supervisor notices. */
                wait_rundir(ino, 500);
        }
out:
        it->usec = vs_now_usec() - t0;
}

/* In a process of its own: stop the guest within its stop_timeout. */
static void stop_one(struct vs_batch_item *it)
{
        struct vs_error err = { 0 };
        uint64_t t0 = vs_now_usec();
        bool killed = false;
        int r = vs_guest_stop_full(it->name, it->timeout, &killed, &err);

        it->usec = vs_now_usec() - t0;
        if (r < 0)
                item_fail(it, VS_BATCH_FAILED, "%s", err.msg[0] ? err.msg : strerror(-r));
        else if (killed)
                item_fail(it, VS_BATCH_KILLED, "did not halt within %u s (stop_timeout); killed", it->timeout);
        else
                it->status = VS_BATCH_STOPPED;
}

/* Runs @fn for every waiting item of @level, each in a child, and waits for
 * all of them. */
static void run_level(struct batch *b, int level, void (*fn)(struct vs_batch_item *))
{
        _cleanup_free_ pid_t *pids = calloc(b->n + 1, sizeof(pid_t));
        size_t running = 0;

        if (!pids) {
                for (size_t i = 0; i < b->n; i++)
                        if (b->items[i].level == level && b->items[i].status == VS_BATCH_WAITING)
                                item_fail(&b->items[i], VS_BATCH_FAILED, "out of memory");
                return;
        }
        for (size_t i = 0; i < b->n; i++) {
                struct vs_batch_item *it = &b->items[i];
                pid_t pid;

                if (it->level != level || it->status != VS_BATCH_WAITING)
                        continue;
                it->status = VS_BATCH_BUSY;
                progress(b, it);
                pid = fork();
                if (pid == 0) {
                        /* The guest's supervisor, forked from here, has no use
                         * for the results, so it does not get them: work on
                         * a copy (the name must stay valid in the supervisor),
                         * hand it back at the end. */
                        struct vs_batch_item copy = *it;
                        (void)madvise(b->items, b->map_size, MADV_DONTFORK);
                        /* A start or stop stuck in the kernel must not hold up
                         * the host's boot or shutdown for ever. */
                        alarm(copy.timeout + 60);
                        fn(&copy);
                        *it = copy;
                        _exit(0);
                }
                if (pid < 0) {
                        item_fail(it, VS_BATCH_FAILED, "cannot fork: %s", strerror(errno));
                        progress(b, it);
                        continue;
                }
                pids[i] = pid;
                running++;
        }
        while (running > 0) {
                int status;
                pid_t w = waitpid(-1, &status, 0);

                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                for (size_t i = 0; i < b->n; i++) {
                        struct vs_batch_item *it = &b->items[i];
                        if (pids[i] != w)
                                continue;
                        pids[i] = 0;
                        running--;
                        if (it->status == VS_BATCH_BUSY) {
                                if (WIFSIGNALED(status))
                                        item_fail(it, VS_BATCH_FAILED, "gave up: no answer in %u s (signal %d)",
                                                  it->timeout + 60, WTERMSIG(status));
                                else
                                        item_fail(it, VS_BATCH_FAILED, "ended without a result");
                        }
                        progress(b, it);
                }
        }
}

static int max_level(const struct batch *b)
{
        int m = -1;
        for (size_t i = 0; i < b->n; i++)
                if (b->items[i].level > m)
                        m = b->items[i].level;
        return m;
}

static struct vs_batch_item *items_new(size_t n)
{
        void *p = mmap(NULL, (n + 1) * sizeof(struct vs_batch_item), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? NULL : p;
}

/* Copies the shared items to the heap for the caller. */
static int items_return(struct vs_batch_item *shared, size_t n, struct vs_batch_item **ret, size_t *ret_n)
{
        struct vs_batch_item *v = calloc(n + 1, sizeof(*v));
        if (v)
                memcpy(v, shared, n * sizeof(*v));
        munmap(shared, (n + 1) * sizeof(*shared));
        if (!v)
                return -ENOMEM;
        *ret = v;
        *ret_n = n;
        return 0;
}

struct guest {
        char *name;
        struct vs_config *config; /* NULL when it cannot be read */
        char msg[sizeof(((struct vs_error *)0)->msg)];
        bool selected, needed;
        struct vs_order_node node;
};

static void guests_free(struct guest *g, size_t n)
{
        for (size_t i = 0; g && i < n; i++) {
                vs_config_free(g[i].config);
                vs_strv_free(g[i].node.depends);
        }
        free(g);
}

static ssize_t find_guest(struct guest *g, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(g[i].name, name) == 0)
                        return (ssize_t)i;
        return -1;
}

/* Items sorted by level, then order, then name. */
static int cmp_item(const void *a, const void *b)
{
        const struct vs_batch_item *x = a, *y = b;
        if (x->level != y->level)
                return x->level < y->level ? -1 : 1;
        if (x->order != y->order)
                return x->order < y->order ? -1 : 1;
        return strcmp(x->name, y->name);
}

/* Every guest's config; one that cannot be read keeps its message. */
static void load_guests(struct guest *g, char **names, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                struct vs_error cerr = { 0 };
                int r;
                g[i].name = names[i];
                r = vs_load_guest_config(names[i], &g[i].config, &cerr);
                if (r < 0)
                        snprintf(g[i].msg, sizeof(g[i].msg), "%s", cerr.msg[0] ? cerr.msg : strerror(-r));
                g[i].selected = g[i].config && g[i].config->autostart;
        }
}

/* A guest that an autostart guest depends on starts too. */
static void select_dependencies(struct guest *g, size_t n)
{
        bool grew;

        do {
                grew = false;
                for (size_t i = 0; i < n; i++) {
                        if (!g[i].selected || !g[i].config)
                                continue;
                        for (char **d = g[i].config->depends; d && *d; d++) {
                                ssize_t j = find_guest(g, n, *d);
                                if (j >= 0 && !g[j].selected && g[j].config) {
                                        g[j].selected = g[j].needed = grew = true;
                                }
                        }
                }
        } while (grew);
}

/* The order of the guests whose config is good, in @nodes (*ret_nn of them).
 * A dependency on a guest whose config is broken is no cycle and no missing
 * guest: the dependent is skipped when its turn comes. */
static int order_guests(struct guest *g, size_t n, struct vs_order_node *nodes, size_t *ret_nn,
                        struct vs_error *err)
{
        size_t nn = 0;

        for (size_t i = 0; i < n; i++) {
                if (!g[i].selected)
                        continue;
                g[i].node.name = g[i].name;
                g[i].node.order = g[i].config->order;
                g[i].node.depends = calloc(vs_strv_length(g[i].config->depends) + 1, sizeof(char *));
                if (!g[i].node.depends)
                        return -ENOMEM;
                size_t k = 0;
                for (char **d = g[i].config->depends; d && *d; d++) {
                        ssize_t j = find_guest(g, n, *d);
                        if (j >= 0 && !g[j].config)
                                continue;
                        g[i].node.depends[k] = strdup(*d);
                        if (!g[i].node.depends[k++])
                                return -ENOMEM;
                }
                nodes[nn++] = g[i].node;
        }
        *ret_nn = nn;
        return vs_order_levels(nodes, nn, true, err);
}

/* The batch's items: the selected guests and those whose config is broken
 * (failed at once), sorted by level, each with its dependencies. */
static int make_items(struct batch *b, struct guest *g, size_t n, const struct vs_order_node *nodes, size_t nb)
{
        b->items = items_new(nb);
        b->map_size = (nb + 1) * sizeof(*b->items);
        b->depends = calloc(nb + 1, sizeof(char **));
        if (!b->items || !b->depends)
                return -ENOMEM;
        for (size_t i = 0, k = 0, m = 0; i < n; i++) {
                struct vs_batch_item *it;

                if (!g[i].selected && g[i].config)
                        continue;
                it = &b->items[k++];
                snprintf(it->name, sizeof(it->name), "%s", g[i].name);
                if (!g[i].config) {
                        /* Whether it is to start cannot be told. */
                        it->level = -1;
                        item_fail(it, VS_BATCH_FAILED, "%s", g[i].msg);
                        continue;
                }
                it->level = nodes[m++].level;
                it->order = g[i].config->order;
                it->timeout = (unsigned)g[i].config->start_timeout;
                it->needed = g[i].needed;
        }
        b->n = nb;
        qsort(b->items, b->n, sizeof(*b->items), cmp_item);
        for (size_t i = 0; i < b->n; i++) {
                ssize_t j = find_guest(g, n, b->items[i].name);
                b->depends[i] = g[j].config ? g[j].config->depends : NULL;
        }
        return 0;
}

/* Level by level; a guest whose dependency failed is skipped. */
static void start_levels(struct batch *b)
{
        const struct vs_batch_opts *o = b->o;

        slots_open();
        for (int level = 0, last = o && o->dry_run ? -1 : max_level(b); level <= last; level++) {
                for (size_t i = 0; i < b->n; i++) {
                        struct vs_batch_item *it = &b->items[i];
                        if (it->level != level || it->status != VS_BATCH_WAITING)
                                continue;
                        for (char **d = b->depends[i]; d && *d; d++) {
                                ssize_t j = find_item(b, *d);
                                if (j >= 0 && vs_batch_failed(&b->items[j])) {
                                        item_fail(it, VS_BATCH_SKIPPED, "not started: \"%s\" failed", *d);
                                        progress(b, it);
                                        break;
                                }
                        }
                }
                run_level(b, level, start_one);
        }
        slots_close();
}

int vs_guests_autostart(const struct vs_batch_opts *o, struct vs_batch_item **ret, size_t *ret_n,
                        struct vs_error *err)
{
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ struct vs_order_node *nodes = NULL;
        struct guest *g = NULL;
        struct batch b = { .o = o };
        size_t n = 0, nn = 0, nb = 0;
        int r;

        r = list_names(&names, &n);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot read %s: %s", vs_confdir(), strerror(-r));
        }
        g = calloc(n + 1, sizeof(*g));
        nodes = calloc(n + 1, sizeof(*nodes));
        if (!g || !nodes) {
                free(g);
                return -ENOMEM;
        }
        load_guests(g, names, n);
        select_dependencies(g, n);
        r = order_guests(g, n, nodes, &nn, err);
        if (r < 0)
                goto out;
        for (size_t i = 0; i < n; i++)
                if (g[i].selected || !g[i].config)
                        nb++;
        r = make_items(&b, g, n, nodes, nb);
        if (r < 0)
                goto out;
        /* The broken ones are reported first, before any start. */
        for (size_t i = 0; i < b.n; i++)
                if (b.items[i].status == VS_BATCH_FAILED)
                        progress(&b, &b.items[i]);
        start_levels(&b);
        r = items_return(b.items, b.n, ret, ret_n);
        b.items = NULL;
out:
        if (b.items)
                munmap(b.items, (nb + 1) * sizeof(*b.items));
        free(b.depends);
        guests_free(g, n);
        return r;
}

int vs_guests_stop_all(const struct vs_batch_opts *o, struct vs_batch_item **ret, size_t *ret_n,
                       struct vs_error *err)
{
        struct vs_guest_info *info = NULL;
        _cleanup_free_ struct vs_order_node *nodes = NULL;
        struct vs_config **configs = NULL;
        struct batch b = { .o = o };
        size_t n = 0, nn = 0;
        int r;

        r = vs_guest_list(&info, &n);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot list the guests in %s: %s", vs_confdir(), strerror(-r));
        }
        nodes = calloc(n + 1, sizeof(*nodes));
        configs = calloc(n + 1, sizeof(*configs));
        b.items = items_new(n);
        b.map_size = (n + 1) * sizeof(*b.items);
        if (!nodes || !configs || !b.items) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < n; i++) {
                if (info[i].state == VS_GUEST_STOPPED)
                        continue;
                /* A guest whose config broke since its start still stops,
                 * with the defaults. */
                (void)vs_load_guest_config(info[i].name, &configs[nn], NULL);
                nodes[nn] = (struct vs_order_node){ .name = info[i].name,
                                                    .order = configs[nn] ? configs[nn]->order : 100,
                                                    .depends = configs[nn] ? configs[nn]->depends : NULL };
                nn++;
        }
        r = vs_order_levels(nodes, nn, false, err);
        if (r < 0)
                goto out;
        for (size_t i = 0; i < nn; i++) {
                struct vs_batch_item *it = &b.items[i];
                snprintf(it->name, sizeof(it->name), "%s", nodes[i].name);
                it->level = nodes[i].level;
                it->order = nodes[i].order;
                it->timeout = configs[i] ? (unsigned)configs[i]->stop_timeout : DEFAULT_TIMEOUT;
        }
        b.n = nn;
        qsort(b.items, b.n, sizeof(*b.items), cmp_item);
        for (int level = max_level(&b); level >= 0; level--)
                run_level(&b, level, stop_one);

        /* Whatever still runs now (a stop that failed, a guest started
         * meanwhile) is killed. */
        for (size_t i = 0; i < n; i++) {
                struct vs_guest_info now = { 0 };
                struct vs_error serr = { 0 };
                ssize_t j;
                bool killed = false;

                if (vs_guest_info(info[i].name, &now, NULL) < 0)
                        continue;
                if (now.state != VS_GUEST_STOPPED) {
                        j = find_item(&b, info[i].name);
                        if (j < 0 && b.n < n)
                                j = (ssize_t)b.n++;
                        if (j >= 0) {
                                struct vs_batch_item *it = &b.items[j];
                                snprintf(it->name, sizeof(it->name), "%s", info[i].name);
                                r = vs_guest_stop_full(info[i].name, 0, &killed, &serr);
                                if (r < 0)
                                        item_fail(it, VS_BATCH_FAILED, "%s", serr.msg[0] ? serr.msg : strerror(-r));
                                else
                                        item_fail(it, VS_BATCH_KILLED, "still running after the others; killed");
                                progress(&b, it);
                        }
                }
                vs_guest_info_clear(&now);
        }
        r = items_return(b.items, b.n, ret, ret_n);
        b.items = NULL;
out:
        if (b.items)
                munmap(b.items, (n + 1) * sizeof(*b.items));
        for (size_t i = 0; configs && i < nn; i++)
                vs_config_free(configs[i]);
        free(configs);
        for (size_t i = 0; i < n; i++)
                vs_guest_info_clear(&info[i]);
        free(info);
        return r;
}
