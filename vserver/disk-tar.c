/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Root tarballs in and out: vs-build --from-tar, vs-export. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "command.h"
#include "config.h"
#include "idmap.h"
#include "storage.h"
#include "paths.h"
#include "state.h"
#include "util.h"

/* The options that carry what a root filesystem needs beyond owners and
 * modes: xattrs (file capabilities are security.capability), ACLs. */
#define TAR_META "--numeric-owner", "--xattrs", "--xattrs-include=*", "--acls"

static const char *compress_flag(const char *path)
{
        static const struct {
                const char *suffix, *flag;
        } map[] = { { ".tar", "" },         { ".tar.gz", "--gzip" }, { ".tgz", "--gzip" },
                    { ".tar.xz", "--xz" },  { ".txz", "--xz" },      { ".tar.zst", "--zstd" },
                    { ".tzst", "--zstd" },  { ".tar.zstd", "--zstd" } };
        size_t l = strlen(path);
        for (size_t i = 0; i < ELEMENTSOF(map); i++) {
                size_t s = strlen(map[i].suffix);
                if (l > s && strcmp(path + l - s, map[i].suffix) == 0)
                        return map[i].flag;
        }
        return NULL;
}

/* Parses one C-quoted string starting at the quote @p points to; returns
 * the text (still escaped: '/' and '.' are never escaped, so checks work on
 * it) and moves @p past the closing quote. */
static char *quoted(const char **p)
{
        const char *s = *p, *e;
        if (*s != '"')
                return NULL;
        for (e = s + 1; *e && *e != '"'; e++)
                if (*e == '\\' && e[1])
                        e++;
        if (*e != '"')
                return NULL;
        *p = e + 1;
        return strndup(s + 1, (size_t)(e - s - 1));
}

/* "./a/b/" -> "a/b" */
static void normalize(char *n)
{
        char *s = n;
        size_t l;
        while (s[0] == '.' && s[1] == '/')
                for (s += 2; *s == '/'; s++)
                        ;
        memmove(n, s, strlen(s) + 1);
        l = strlen(n);
        while (l > 0 && n[l - 1] == '/')
                n[--l] = '\0';
        if (strcmp(n, ".") == 0)
                n[0] = '\0';
}

static const char *unsafe(const char *name)
{
        if (name[0] == '/')
                return "is an absolute path";
        for (const char *c = name; c; c = strchr(c, '/')) {
                if (*c == '/')
                        c++;
                if (c[0] == '.' && c[1] == '.' && (c[2] == '/' || c[2] == '\0'))
                        return "has a \"..\" component";
        }
        return NULL;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

struct member {
        char *name;
        char *link; /* hard link target */
};

/* The members of a tarball's listing, and its symbolic links. */
struct listing {
        struct member *m;
        char **links;
        size_t nm, nl, cap, lcap;
};

static void listing_free(struct listing *l)
{
        for (size_t i = 0; i < l->nm; i++) {
                free(l->m[i].name);
                free(l->m[i].link);
        }
        free(l->m);
        for (size_t i = 0; i < l->nl; i++)
                free(l->links[i]);
        free(l->links);
}

/* tar's verbose listing of the tarball on @tar_fd, as a stream. */
static int list_tarball(const char *tarball, int tar_fd, const char *flag, FILE **ret, struct vs_error *err)
{
        _cleanup_close_ int fd = memfd_create("tar-list", MFD_CLOEXEC);
        int r;

        if (fd < 0)
                return -errno;
        /* --absolute-names: the names as stored; without it tar would
         * show them with leading "/" and "../" already stripped. */
        char *argv[] = { "tar", "--list", "--verbose", "--absolute-names", "--numeric-owner", "--quoting-style=c", "-f",
                         "-", *flag ? (char *)flag : NULL, NULL };
        if (lseek(tar_fd, 0, SEEK_SET) < 0)
                return -errno;
        r = vs_run_command_io(argv, tar_fd, fd, 0, err);
        if (r < 0) {
                return vs_error_set(err, EINVAL, "Cannot read the tarball \"%s\" (missing, corrupt or not a tar archive)", tarball);
        }
        lseek(fd, 0, SEEK_SET);
        *ret = fdopen(TAKE_FD(fd), "r");
        return *ret ? 0 : -errno;
}

static int add_link(struct listing *l, const char *name)
{
        if (l->nl + 1 >= l->lcap) {
                size_t lcap = l->lcap ? l->lcap * 2 : 256;
                char **n = realloc(l->links, lcap * sizeof(char *));
                if (!n)
                        return -ENOMEM;
                l->links = n;
                l->lcap = lcap;
        }
        l->links[l->nl++] = strdup(name);
        return 0;
}

/* Takes @name and @link. */
static int add_member(struct listing *l, char *name, char *link)
{
        if (l->nm + 1 >= l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 1024;
                struct member *n = realloc(l->m, cap * sizeof(*l->m));
                if (!n) {
                        free(name);
                        free(link);
                        return -ENOMEM;
                }
                l->m = n;
                l->cap = cap;
        }
        l->m[l->nm++] = (struct member){ name, link };
        return 0;
}

/* One line of the listing: refused if its name (or a hard link's target)
 * leads out of the tree, else added. */
static int check_line(struct listing *l, const char *line, const char *tarball, struct vs_error *err)
{
        const char *p = strchr(line, '"');
        char type = line[0];
        char *name, *target = NULL;
        const char *why;

        if (!p)
                return 0;
        name = quoted(&p);
        if (!name)
                return -EINVAL;
        if (type == 'h' || type == 'l') {
                const char *q = strchr(p, '"');
                target = q ? quoted(&q) : NULL;
        }
        why = unsafe(name);
        if (!why && type == 'h' && target && (why = unsafe(target)))
                why = type == 'h' && target[0] == '/' ? "is a hard link to an absolute path"
                                                      : "is a hard link out of the tree";
        if (why) {
                vs_error_set(err, EPERM, "Refusing the tarball \"%s\": member \"%s\" %s", tarball, name, why);
                free(name);
                free(target);
                return -EPERM;
        }
        normalize(name);
        if (type == 'h' && target)
                normalize(target);
        if (type != 'h') {
                free(target);
                target = NULL;
        }
        if (type == 'l' && add_link(l, name) < 0) {
                free(name);
                return -ENOMEM;
        }
        return add_member(l, name, target);
}

/* A member's name or hard link target below a symbolic link member is
 * refused. */
static int check_through_links(struct listing *l, const char *tarball, struct vs_error *err)
{
        if (l->nl == 0)
                return 0;
        qsort(l->links, l->nl, sizeof(char *), cmp_str);
        for (size_t i = 0; i < l->nm; i++)
                for (int k = 0; k < 2; k++) {
                        char *n = k ? l->m[i].link : l->m[i].name;
                        if (!n)
                                continue;
                        for (char *s = strchr(n, '/'); s; s = strchr(s + 1, '/')) {
                                char *key = n;
                                *s = '\0';
                                bool hit = bsearch(&key, l->links, l->nl, sizeof(char *), cmp_str) != NULL;
                                if (hit)
                                        vs_error_set(err, EPERM,
                                                     "Refusing the tarball \"%s\": member \"%s/%s\" goes "
                                                     "through the symbolic link \"%s\"",
                                                     tarball, n, s + 1, n);
                                *s = '/';
                                if (hit)
                                        return -EPERM;
                        }
                }
        return 0;
}

/* Lists the tarball and refuses members that would land outside the target:
 * absolute names, "..", hard links to such names, and anything below a
 * symbolic link member (which could point anywhere). GNU tar itself strips
 * a leading "/" and skips ".." members, but carries on with the rest; we
 * want nothing extracted at all. */
static int check_members(const char *tarball, int tar_fd, const char *flag, struct vs_error *err)
{
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        struct listing l = { 0 };
        size_t len = 0;
        int r;

        r = list_tarball(tarball, tar_fd, flag, &f, err);
        if (r < 0)
                return r;
        while (r == 0 && getline(&line, &len, f) > 0)
                r = check_line(&l, line, tarball, err);
        if (r == 0)
                r = check_through_links(&l, tarball, err);
        listing_free(&l);
        if (r == -EINVAL && !err->msg[0])
                vs_error_set(err, r, "Cannot parse the listing of \"%s\"", tarball);
        return r;
}

/* A private copy of @fd, unlinked, in the directory @dir. */
static int private_copy(int fd, const char *dir)
{
        _cleanup_close_ int out = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        static char buf[1 << 16];

        if (out < 0)
                return -errno;
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                for (ssize_t o = 0; o < n;) {
                        ssize_t w = write(out, buf + o, (size_t)(n - o));
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w < 0)
                                return -errno;
                        o += w;
                }
        }
        return TAKE_FD(out);
}

int vs_disk_import_tar(const char *tarball, const char *dir, vs_say_fn *say, void *say_data, struct vs_error *err)
{
        _cleanup_free_ char *rootfs = vs_strdupf("%s/rootfs", dir);
        _cleanup_close_ int fd = -1;
        const char *flag = compress_flag(tarball);
        struct stat st;
        int r;

        if (!rootfs)
                return -ENOMEM;
        if (!flag) {
                return vs_error_set(err, EINVAL, "--from-tar: \"%s\" is not a .tar, .tar.gz, .tgz, .tar.xz or .tar.zst file", tarball);
        }
        /* Checked and extracted from one open file: the path may name
         * another file by the time of the extraction. */
        fd = open(tarball, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 || fstat(fd, &st) < 0) {
                return vs_error_set(err, ENOENT, "--from-tar: cannot read \"%s\": %s", tarball, strerror(errno));
        }
        if (!S_ISREG(st.st_mode)) {
                return vs_error_set(err, ENOENT, "--from-tar: cannot read \"%s\": not a regular file", tarball);
        }
        /* One that someone other than root may write could change under
         * us all the same: its content is copied first. */
        if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
                int c = private_copy(fd, dir);
                if (c < 0) {
                        vs_error_set(err, c, "--from-tar: cannot copy \"%s\" into %s: %s", tarball, dir, strerror(-c));
                        return c;
                }
                close(fd);
                fd = c;
        }
        r = check_members(tarball, fd, flag, err);
        if (r < 0)
                return r;
        char *argv[] = { "tar", "--extract", "--same-owner", "--same-permissions", TAR_META, "-C", rootfs, "-f",
                         "-", *flag ? (char *)flag : NULL, NULL };
        vs_say(say, say_data, "Importing %s", tarball);
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        r = vs_run_command_io(argv, fd, -1, 0, err);
        if (r < 0)
                vs_error_set(err, r, "Extracting \"%s\" failed (see tar's messages above)", tarball);
        return r;
}

struct export_data {
        const char *flag;
        int out_fd;
        bool running;
        uint64_t shifted; /* the tree holds host ids from here (guest.shifted) */
};

static int export_tree(int rootfd, const char *root, void *data, struct vs_error *err)
{
        struct export_data *d = data;
        (void)rootfd;
        /* --one-file-system: only the guest's root, never what is mounted
         * on it (a running guest's /proc, /sys, /dev, binds). */
        char *argv[] = { "tar", "--create", "--one-file-system", "--sparse", "--warning=no-file-changed", TAR_META,
                         "-C", (char *)root, "-f", "-", *d->flag ? (char *)d->flag : ".", *d->flag ? "." : NULL, NULL };
        /* Status 1 is "a file changed as we read it": a running guest's
         * mount points (/proc, /sys) do, though its processes are frozen. */
        if (!d->shifted)
                return vs_run_command_ok(argv, d->out_fd, d->running ? 1 : 0, err);
        /* A shifted tree is read as its guest sees it: by tar as root of a
         * user namespace mapping the guest's ids to the host ids the files
         * have (owners, ACLs and file capabilities come out unshifted). */
        for (size_t i = 0; argv[i]; i++)
                if (!strcmp(argv[i], "-C"))
                        argv[i + 1] = ".";
        return vs_run_command_mapped(argv, d->out_fd, d->running ? 1 : 0, root, d->shifted, VS_IDMAP_COUNT, err);
}

int vs_guest_export(const char *name, bool force, const char *compress, int out_fd, struct vs_error *err)
{
        _cleanup_config_ struct vs_config *c = NULL;
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int lock = -1;
        struct export_data d = { .out_fd = out_fd };
        int r;

        if (!compress || !strcmp(compress, "zstd"))
                d.flag = "--zstd";
        else if (!strcmp(compress, "gzip"))
                d.flag = "--gzip";
        else if (!strcmp(compress, "xz"))
                d.flag = "--xz";
        else if (!strcmp(compress, "none"))
                d.flag = "";
        else {
                return vs_error_set(err, EINVAL, "--compress: expected zstd, gzip, xz or none, not \"%s\"", compress);
        }
        r = vs_load_guest_config(name, &c, err);
        if (r < 0)
                return r;
        d.shifted = c->idmap_shifted;
        dir = vs_guest_path(name);
        if (!dir)
                return -ENOMEM;
        /* A shared lock keeps the guest from starting while we read it. */
        r = vs_guest_lock(name, true, &lock);
        if (r == -EBUSY) {
                struct vs_state st = { 0 };
                _cleanup_free_ char *root = NULL;

                if (!force) {
                        return vs_error_set(err, EBUSY, "Guest \"%s\" is running: stop it first, or use --force to freeze it "
                                            "for the export", name);
                }
                r = vs_state_read(name, &st);
                if (r < 0 || !vs_pid_alive(st.init_pid, st.init_starttime)) {
                        vs_state_clear(&st);
                        return vs_error_set(err, EBUSY, "Guest \"%s\" is busy (being built, started or destroyed)", name);
                }
                root = vs_strdupf("/proc/%d/root", (int)st.init_pid);
                vs_state_clear(&st);
                if (!root)
                        return -ENOMEM;
                r = vs_disk_freeze(name, true, err);
                if (r < 0)
                        return r;
                d.running = true;
                r = export_tree(-1, root, &d, err);
                (void)vs_disk_freeze(name, false, NULL);
                return r;
        }
        if (r < 0) {
                return vs_error_set(err, r, "Cannot lock guest \"%s\": %s", name, strerror(-r));
        }
        return vs_disk_with_root(dir, vs_config_layout(c), export_tree, &d, err);
}
