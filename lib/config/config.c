/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "config-parse.h"
#include "config.h"
#include "mount.h"
#include "util.h"

/* ---- value parsers ------------------------------------------------------ */

int vs_config_store(void *field, char *s)
{
        if (!s)
                return -ENOMEM;
        free(*(char **)field);
        *(char **)field = s;
        return 0;
}

int vs_config_store_valid(void *field, const char *v, bool valid, const char *expected, struct vs_error *err)
{
        if (!valid) {
                return vs_error_set(err, EINVAL, "%s", expected);
        }
        return vs_config_store(field, strdup(v));
}

int vs_config_store_enum(void *field, const char *v, const char *const *names, int first, int last,
                         const char *expected, struct vs_error *err)
{
        for (int i = first; i <= last; i++)
                if (names[i] && strcmp(v, names[i]) == 0) {
                        *(int *)field = i;
                        return 0;
                }
        return vs_error_set(err, EINVAL, "expected %s, not \"%s\"", expected, v);
}

int vs_parse_word(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err)
{
        if (!*v || strlen(v) > 64) {
                return vs_error_set(err, EINVAL, "expected a word of 1 to 64 characters");
        }
        for (const char *p = v; *p; p++)
                if (!isascii((unsigned char)*p) || !(isalnum((unsigned char)*p) || strchr("_.+-", *p))) {
                        return vs_error_set(err, EINVAL, "only letters, digits and _.+- are allowed");
                }
        return vs_config_store(field, strdup(v));
}

int vs_parse_abs_path(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err)
{
        if (v[0] != '/' || strlen(v) >= PATH_MAX) {
                return vs_error_set(err, EINVAL, "expected an absolute path");
        }
        for (const char *p = v; *p; p++)
                if (iscntrl((unsigned char)*p)) {
                        return vs_error_set(err, EINVAL, "control characters are not allowed");
                }
        return vs_config_store(field, strdup(v));
}

int vs_parse_hostname(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err)
{
        size_t n = strlen(v);
        bool label_start = true;

        if (n == 0 || n > 64) {
                return vs_error_set(err, EINVAL, "expected a host name of 1 to 64 characters");
        }
        for (const char *p = v; *p; p++) {
                if (*p == '.') {
                        if (label_start || p[1] == '\0')
                                goto bad;
                        label_start = true;
                        continue;
                }
                if (!isascii((unsigned char)*p) || !(isalnum((unsigned char)*p) || *p == '-') ||
                    (label_start && *p == '-'))
                        goto bad;
                label_start = false;
        }
        return vs_config_store(field, strdup(v));
bad:
        return vs_error_set(err, EINVAL, "not a valid host name (letters, digits, '-' and '.' between labels)");
}

int vs_parse_signal_field(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err)
{
        int sig;
        if (vs_parse_signal(v, &sig) < 0 || sig == SIGKILL || sig == SIGSTOP) {
                return vs_error_set(err, EINVAL, "expected a signal name such as SIGRTMIN+3, SIGPWR or SIGINT");
        }
        *(int *)field = sig;
        return 0;
}

int vs_parse_bool_field(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err)
{
        bool b;
        if (vs_parse_bool(v, &b) < 0) {
                return vs_error_set(err, EINVAL, "expected yes or no");
        }
        *(bool *)field = b;
        return 0;
}

int vs_parse_u64_field(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err)
{
        uint64_t u;
        int r = vs_parse_uint(v, min, max, &u);
        if (r < 0) {
                return vs_error_set(err, EINVAL, "expected a whole number from %llu to %llu", (unsigned long long)min,
                                    (unsigned long long)max);
        }
        *(uint64_t *)field = u;
        return 0;
}

int vs_parse_size_field(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err)
{
        uint64_t u;
        int r = vs_parse_size(v, &u);
        if (r == -ERANGE || (r == 0 && max && u > max)) {
                return vs_error_set(err, EINVAL, "size out of range");
        }
        if (r < 0) {
                return vs_error_set(err, EINVAL, "expected a size such as 512M or 2G (K, M, G, T are powers of 1024)");
        }
        if (u < min) {
                return vs_error_set(err, EINVAL, "size must be at least %llu bytes", (unsigned long long)min);
        }
        *(uint64_t *)field = u;
        return 0;
}

int vs_parse_percent(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err)
{
        _cleanup_free_ char *num = NULL;
        size_t n = strlen(v);
        uint64_t u;

        if (n < 2 || v[n - 1] != '%' || !(num = strndup(v, n - 1)) || vs_parse_uint(num, min, max, &u) < 0) {
                return vs_error_set(err, EINVAL, "expected a percentage of one CPU from %llu%% (e.g. 50%% or 150%%)",
                                    (unsigned long long)min);
        }
        *(uint64_t *)field = u;
        return 0;
}

int vs_cpuset_parse(const char *s, uint64_t mask[16])
{
        memset(mask, 0, 16 * sizeof(uint64_t));
        if (!*s)
                return -EINVAL;
        for (const char *p = s; *p;) {
                char *e;
                unsigned long a, b;
                if (!isdigit((unsigned char)*p))
                        return -EINVAL;
                a = b = strtoul(p, &e, 10);
                if (*e == '-') {
                        if (!isdigit((unsigned char)e[1]))
                                return -EINVAL;
                        b = strtoul(e + 1, &e, 10);
                }
                if (a > b)
                        return -EINVAL;
                if (b >= 1024)
                        return -ERANGE;
                for (unsigned long i = a; i <= b; i++)
                        mask[i / 64] |= UINT64_C(1) << (i % 64);
                if (*e == ',' && e[1])
                        e++;
                else if (*e)
                        return -EINVAL;
                p = e;
        }
        return 0;
}

int vs_parse_cpuset(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err)
{
        uint64_t mask[16];
        return vs_config_store_valid(field, v, vs_cpuset_parse(v, mask) == 0,
                                     "expected a list of CPUs such as 0-1 or 0,2", err);
}

char *vs_format_percent(const void *field)
{
        uint64_t v = *(const uint64_t *)field;
        return v ? vs_strdupf("%llu%%", (unsigned long long)v) : NULL;
}

char *vs_format_string(const void *field)
{
        const char *s = *(char *const *)field;
        return s ? strdup(s) : NULL;
}

char *vs_format_signal(const void *field)
{
        char buf[32];
        int sig = *(const int *)field;
        return sig ? strdup(vs_signal_name(sig, buf, sizeof(buf))) : NULL;
}

char *vs_format_bool(const void *field)
{
        return strdup(*(const bool *)field ? "yes" : "no");
}

char *vs_format_u64(const void *field)
{
        return vs_strdupf("%llu", (unsigned long long)*(const uint64_t *)field);
}

char *vs_format_size(const void *field)
{
        uint64_t v = *(const uint64_t *)field;
        static const char units[] = "KMGT";
        int u = -1;

        if (v == 0)
                return NULL;
        while (u < 3 && v % 1024 == 0) {
                v /= 1024;
                u++;
        }
        return u < 0 ? vs_strdupf("%llu", (unsigned long long)v)
                     : vs_strdupf("%llu%c", (unsigned long long)v, units[u]);
}

/* ---- the configuration -------------------------------------------------- */

int vs_config_new(const char *name, struct vs_config **ret)
{
        struct vs_config *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->name = strdup(name);
        c->init = strdup("/sbin/init");
        c->order = 100;
        c->start_timeout = 60;
        c->stop_timeout = 60;
        c->cpu_weight = 100;
        c->seccomp = true;
        c->net_filter = true;
        if (!c->name || !c->init) {
                vs_config_free(c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

void vs_config_free(struct vs_config *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < vs_config_keys_count; i++)
                if (vs_config_keys[i].format == vs_format_string)
                        free(*(char **)((char *)c + vs_config_keys[i].offset));
                else if (vs_config_keys[i].format == vs_format_names)
                        vs_strv_free(*(char ***)((char *)c + vs_config_keys[i].offset));
        free(c->name);
        free(c->path);
        free(c);
}

static const struct vs_config_key *find_key(const char *section, const char *key, size_t *ret_index)
{
        for (size_t i = 0; i < vs_config_keys_count; i++)
                if (strcmp(vs_config_keys[i].section, section) == 0 && strcmp(vs_config_keys[i].key, key) == 0) {
                        if (ret_index)
                                *ret_index = i;
                        return &vs_config_keys[i];
                }
        return NULL;
}

static bool section_known(const char *section)
{
        for (size_t i = 0; i < vs_config_keys_count; i++)
                if (strcmp(vs_config_keys[i].section, section) == 0)
                        return true;
        return false;
}

static void set_error(struct vs_error *err, const char *section, const char *key, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void set_error(struct vs_error *err, const char *section, const char *key, const char *fmt, ...)
{
        va_list ap;
        if (!err)
                return;
        err->code = EINVAL;
        if (section && key)
                snprintf(err->key, sizeof(err->key), "%s.%s", section, key);
        else
                err->key[0] = '\0';
        va_start(ap, fmt);
        vsnprintf(err->msg, VS_CONFIG_MSG_MAX, fmt, ap);
        va_end(ap);
}

static int apply(struct vs_config *c, const char *section, const char *key, const char *value,
                 struct vs_error *err, size_t *ret_index)
{
        const struct vs_config_key *k;
        struct vs_error why = { 0 };
        int r;

        if (!section_known(section)) {
                set_error(err, section, key, "unknown section [%s]", section);
                return -EINVAL;
        }
        k = find_key(section, key, ret_index);
        if (!k) {
                set_error(err, section, key, "unknown key");
                return -EINVAL;
        }
        r = k->parse(value, (char *)c + k->offset, k->min, k->max, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                set_error(err, section, key, "bad value \"%s\": %.199s", value, why.msg);
                return -EINVAL;
        }
        if (strcmp(section, "guest") == 0 && strcmp(key, "userns") == 0)
                c->userns_explicit = true;
        return 0;
}

int vs_config_set(struct vs_config *c, const char *section_key, const char *value, struct vs_error *err)
{
        char section[32];
        const char *dot = strchr(section_key, '.');

        if (err)
                err->line = 0;
        if (!dot || (size_t)(dot - section_key) >= sizeof(section)) {
                set_error(err, NULL, NULL, "unknown key \"%s\"", section_key);
                return -EINVAL;
        }
        memcpy(section, section_key, dot - section_key);
        section[dot - section_key] = '\0';
        return apply(c, section, dot + 1, value, err, NULL);
}

struct load_state {
        struct vs_config *c;
        struct vs_error *err;
        bool *seen;
        int error;
};

static int on_ini_line(void *user, const char *section, const char *key, const char *value)
{
        struct load_state *st = user;
        size_t idx;
        int r;

        if (st->error)
                return 1; /* keep the first error only */
        r = apply(st->c, section, key, value, st->err, &idx);
        if (r < 0) {
                st->error = r;
                return 0;
        }
        if (st->seen[idx]) {
                set_error(st->err, section, key, "set twice");
                st->error = -EINVAL;
                return 0;
        }
        st->seen[idx] = true;
        return 1;
}

int vs_config_load(const char *path, const char *name, struct vs_config **ret, struct vs_error *err)
{
        _cleanup_config_ struct vs_config *c = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ bool *seen = NULL;
        struct vs_error dummy;
        struct load_state st;
        int r, line;

        if (!err)
                err = &dummy;
        memset(err, 0, sizeof(*err));
        f = fopen(path, "re");
        if (!f)
                return -errno;
        r = vs_config_new(name, &c);
        if (r < 0)
                return r;
        c->path = strdup(path);
        seen = calloc(vs_config_keys_count, sizeof(bool));
        if (!c->path || !seen)
                return -ENOMEM;
        st = (struct load_state){ .c = c, .err = err, .seen = seen };
        line = ini_parse_file(f, on_ini_line, &st);
        if (line < 0)
                return -EIO;
        if (st.error == -ENOMEM)
                return st.error;
        if (line > 0) {
                err->line = (unsigned)line;
                if (!st.error)
                        set_error(err, NULL, NULL, "syntax error (expected [section] or key = value)");
                return -EINVAL;
        }
        r = vs_config_check(c, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

static int online_cpus(uint64_t mask[16])
{
        _cleanup_free_ char *s = NULL;
        int r = vs_read_file("/sys/devices/system/cpu/online", &s, NULL);
        if (r < 0)
                return r;
        s[strcspn(s, "\n")] = '\0';
        return vs_cpuset_parse(s, mask);
}

int vs_config_check(const struct vs_config *c, struct vs_error *err)
{
        uint64_t want[16], have[16];
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

        if (err)
                err->line = 0; /* what it finds is tied to no line */
        if (c->caps_keep & c->caps_drop) {
                _cleanup_free_ char *both = NULL;
                uint64_t b = c->caps_keep & c->caps_drop;
                both = vs_format_caps(&b);
                set_error(err, "guest", "caps.drop", "%s also named in caps.keep", both ? both : "a capability");
                return -EINVAL;
        }

        if (vs_config_check_disk(c, err) < 0)
                return -EINVAL;

        if (c->anon && c->rss && c->anon > c->rss) {
                set_error(err, "memory", "anon", "the ANON limit must not exceed the RSS limit (memory.rss)");
                return -EINVAL;
        }
        if (c->cpu_max && ncpu > 0 && c->cpu_max > (uint64_t)ncpu * 100) {
                set_error(err, "cpu", "max", "%llu%% is more than the host's %ld CPUs (at most %ld%%)",
                          (unsigned long long)c->cpu_max, ncpu, ncpu * 100);
                return -EINVAL;
        }
        if (c->cpus && vs_cpuset_parse(c->cpus, want) == 0 && online_cpus(have) == 0)
                for (int i = 0; i < 16; i++)
                        if (want[i] & ~have[i]) {
                                set_error(err, "cpu", "cpus", "\"%s\" names a CPU the host does not have online",
                                          c->cpus);
                                return -EINVAL;
                        }
        return vs_config_check_net(c, err);
}

/* A mode named explicitly stays in the file even when it is the default,
 * so that a change of the default never switches an existing guest; with
 * it, an unprivileged guest's "idmap = auto". */
static bool keep_default(const struct vs_config *c, const struct vs_config_key *k)
{
        if (!c->userns_explicit || strcmp(k->section, "guest") != 0)
                return false;
        return strcmp(k->key, "userns") == 0 || (c->userns && strcmp(k->key, "idmap") == 0);
}

char *vs_config_format(const struct vs_config *c)
{
        _cleanup_config_ struct vs_config *def = NULL;
        _cleanup_free_ char *out = NULL;
        size_t size = 0;
        FILE *f;
        const char *cur = NULL;

        if (vs_config_new(c->name, &def) < 0)
                return NULL;
        f = open_memstream(&out, &size);
        if (!f)
                return NULL;
        fprintf(f, "; vserver guest \"%s\" (see vserver.conf(5))\n", c->name);
        for (size_t i = 0; i < vs_config_keys_count; i++) {
                const struct vs_config_key *k = &vs_config_keys[i];
                _cleanup_free_ char *v = k->format((const char *)c + k->offset);
                _cleanup_free_ char *d = k->format((const char *)def + k->offset);

                if (!v || (d && strcmp(v, d) == 0 && strcmp(k->key, "init") != 0 && !keep_default(c, k)))
                        continue;
                if (!cur || strcmp(cur, k->section) != 0) {
                        fprintf(f, "\n[%s]\n", k->section);
                        cur = k->section;
                }
                fprintf(f, "%s = %s\n", k->key, v);
        }
        if (fclose(f) != 0)
                return NULL;
        return TAKE_PTR(out);
}

int vs_config_write(const struct vs_config *c, const char *path)
{
        _cleanup_free_ char *s = vs_config_format(c);
        if (!s)
                return -ENOMEM;
        /* A root password hash is for root's eyes only, as in /etc/shadow. */
        return vs_write_file_atomic(path, s, c->root_password_hash ? 0600 : 0644);
}

bool vs_config_init_is_systemd(const struct vs_config *c, const char *rootfs)
{
        char target[PATH_MAX];
        _cleanup_close_ int rootfd = -1;

        /* Only the link text is read, every component resolved inside the
         * guest's root: never followed from the host side. */
        rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd >= 0 && vs_readlink_in_root(rootfd, c->init, target, sizeof(target)) == 0)
                return strstr(target, "systemd") != NULL;
        return strstr(c->init, "systemd") != NULL;
}

int vs_config_halt_signal(const struct vs_config *c, const char *rootfs)
{
        if (c->halt_signal)
                return c->halt_signal;
        return vs_config_init_is_systemd(c, rootfs) ? SIGRTMIN + 3 : SIGPWR;
}

int vs_config_cgroup_view(const struct vs_config *c, const char *rootfs)
{
        if (c->cgroup_view != VS_CGVIEW_AUTO)
                return c->cgroup_view;
        return vs_config_init_is_systemd(c, rootfs) ? VS_CGVIEW_UNIFIED : VS_CGVIEW_HYBRID;
}

static const char *const cgroup_view_names[] = {
        [VS_CGVIEW_AUTO] = "auto",
        [VS_CGVIEW_HYBRID] = "hybrid",
        [VS_CGVIEW_UNIFIED] = "unified",
};

int vs_parse_cgroup_view(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err)
{
        (void)min;
        (void)max;
        return vs_config_store_enum(field, v, cgroup_view_names, VS_CGVIEW_AUTO, VS_CGVIEW_UNIFIED,
                                    "auto, hybrid or unified", err);
}

char *vs_format_cgroup_view(const void *field)
{
        int v = *(const int *)field;
        if (v < VS_CGVIEW_AUTO || v > VS_CGVIEW_UNIFIED)
                return NULL;
        return strdup(cgroup_view_names[v]);
}

static char *trim(char *s)
{
        char *e;
        while (isspace((unsigned char)*s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
                *--e = '\0';
        return s;
}

int vs_config_file_set(const char *path, const char *section, const char *key, const char *value)
{
        _cleanup_free_ char *text = NULL, *out = NULL;
        _cleanup_strv_free_ char **lines = NULL;
        size_t size = 0, n;
        bool in_section = false, done = false;
        struct stat st;
        FILE *f;
        int r;

        r = vs_read_file(path, &text, NULL);
        if (r < 0)
                return r;
        /* Split keeping empty lines. */
        n = 1;
        for (char *p = text; *p; p++)
                n += *p == '\n';
        lines = calloc(n + 1, sizeof(char *));
        if (!lines)
                return -ENOMEM;
        n = 0;
        for (char *p = text, *e; p; p = e ? e + 1 : NULL) {
                e = strchr(p, '\n');
                if (!e && !*p)
                        break;
                lines[n] = e ? strndup(p, e - p) : strdup(p);
                if (!lines[n++])
                        return -ENOMEM;
        }
        f = open_memstream(&out, &size);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *copy = strdup(lines[i]);
                char *t = copy ? trim(copy) : NULL;

                if (t && *t == '[') {
                        char *end = strchr(t, ']');
                        if (in_section && !done) {
                                /* Leaving our section without the key: add it at its end. */
                                fprintf(f, "%s = %s\n", key, value);
                                done = true;
                        }
                        in_section = end && (size_t)(end - t - 1) == strlen(section) && !strncmp(t + 1, section, end - t - 1);
                } else if (t && in_section && !done && *t != ';' && *t != '#') {
                        char *eq = strchr(t, '=');
                        if (eq) {
                                *eq = '\0';
                                if (!strcmp(trim(t), key)) {
                                        fprintf(f, "%s = %s\n", key, value);
                                        done = true;
                                        continue;
                                }
                        }
                }
                fprintf(f, "%s\n", lines[i]);
        }
        if (!done) {
                if (!in_section)
                        fprintf(f, "\n[%s]\n", section);
                fprintf(f, "%s = %s\n", key, value);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        /* The file's mode is kept: a config with a password hash is 0600. */
        return vs_write_file_atomic(path, out, stat(path, &st) == 0 ? st.st_mode & 07777 : 0644);
}
