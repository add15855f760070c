/* SPDX-License-Identifier: GPL-2.0-or-later */
/* First-boot access (vs-build --ssh-key, --root-password-file, --dns,
 * --timezone): checked before the build, written into the new tree after
 * it, kept in [guest] for clones and rebuilds.
 *
 * Nothing of the guest's is executed: the password is hashed with the
 * host's libcrypt (libxcrypt), not the guest's chpasswd in a chroot,
 * because the tree of a clone or an imported tarball is the customer's
 * and a program in it must never run as host root. Every file is written
 * through descriptors opened inside the guest's root (RESOLVE_IN_ROOT,
 * O_NOFOLLOW on the last component), to a temporary name and renamed, and
 * owned as the directory that holds it (or the file it replaces): the
 * guest's ids on disk, 0.. or shifted, whatever the tree has. */
#include "autoconfig.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "mount.h"
#include "paths.h"
#include "provision.h"
#include "storage.h"
#include "util.h"

#define MAX_KEY_FILE (1 << 20)
#define MAX_PASSWORD 4096

char *vs_provision_keys_path(const char *name) { return vs_strdupf("%s/%s.ssh_keys", vs_confdir(), name); }

void vs_provision_done(struct vs_provision *p)
{
        free(p->keys);
        free(p->zone_file);
        p->keys = p->zone_file = NULL;
}

/* Reads at most @max bytes of @fd; -EFBIG when there is more. */
static int read_fd(int fd, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_free_ char *buf = malloc(max + 1);
        size_t n = 0;

        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = read(fd, buf + n, max + 1 - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                n += (size_t)k;
                if (n > max)
                        return -EFBIG;
        }
        buf[n] = '\0';
        *ret = TAKE_PTR(buf);
        *ret_len = n;
        return 0;
}

/* ---- SSH public keys ------------------------------------------------------ */

static const char *const key_types[] = { "ssh-ed25519",         "ssh-rsa",
                                          "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                                          "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com",
                                          "sk-ecdsa-sha2-nistp256@openssh.com" };

static int b64_value(char ch)
{
        if (ch >= 'A' && ch <= 'Z')
                return ch - 'A';
        if (ch >= 'a' && ch <= 'z')
                return ch - 'a' + 26;
        if (ch >= '0' && ch <= '9')
                return ch - '0' + 52;
        return ch == '+' ? 62 : ch == '/' ? 63 : -1;
}

/* Whether @b64 decodes to an SSH key blob of @type: its first field, a
 * 32-bit big-endian length and that many bytes, names the type. */
static bool key_blob_ok(const char *b64, size_t len, const char *type)
{
        unsigned char head[64];
        size_t out = 0, tl = strlen(type), pad = 0;
        uint32_t acc = 0;
        int bits = 0;

        if (len < 16 || len % 4)
                return false;
        for (size_t i = 0; i < len; i++) {
                int v;
                if (b64[i] == '=') {
                        if (i < len - 2)
                                return false;
                        pad++;
                        continue;
                }
                if (pad || (v = b64_value(b64[i])) < 0)
                        return false;
                acc = (acc << 6) | (uint32_t)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        if (out < sizeof(head))
                                head[out] = (unsigned char)(acc >> bits);
                        out++;
                }
        }
        if (out < 4 + tl + 4 || 4 + tl > sizeof(head))
                return false;
        return ((uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 | (uint32_t)head[2] << 8 | head[3]) == tl &&
               memcmp(head + 4, type, tl) == 0;
}

/* Appends the keys of @text (an authorized_keys or .pub file called @what)
 * to @out as "TYPE BASE64[ COMMENT]" lines, skipping keys already there. */
static int parse_keys(const char *what, char *text, FILE *out, char *const *have, struct vs_error *err)
{
        unsigned line = 0, found = 0;
        char *save = NULL;

        for (char *l = text; l; l = save) {
                char *type, *b64, *comment, *e;
                size_t tl, bl;
                bool known = false;

                save = strchr(l, '\n');
                if (save)
                        *save++ = '\0';
                line++;
                l[strcspn(l, "\r")] = '\0';
                while (*l == ' ' || *l == '\t')
                        l++;
                if (!*l || *l == '#')
                        continue;
                for (const char *p = l; *p; p++)
                        if ((unsigned char)*p < 0x20 && *p != '\t')
                                goto bad_text;
                type = l;
                tl = strcspn(type, " \t");
                b64 = type + tl + strspn(type + tl, " \t");
                bl = strcspn(b64, " \t");
                comment = b64 + bl + strspn(b64 + bl, " \t");
                for (size_t i = 0; i < ELEMENTSOF(key_types); i++)
                        known |= strlen(key_types[i]) == tl && strncmp(type, key_types[i], tl) == 0;
                if (strncmp(l, "-----BEGIN", 10) == 0) {
                        return vs_error_set(err, EINVAL, "--ssh-key: \"%s\" is a private key: give the public one (.pub)", what);
                }
                type[tl] = '\0';
                if (!known || !key_blob_ok(b64, bl, type)) {
                        return vs_error_set(err, EINVAL, "--ssh-key: \"%s\" line %u is not an OpenSSH public key (TYPE BASE64 "
                                            "[COMMENT], TYPE one of ssh-ed25519, ssh-rsa, ecdsa-sha2-*, sk-*; no "
                                            "options before it)",
                                       what, line);
                }
                b64[bl] = '\0';
                for (e = comment + strlen(comment); e > comment && (e[-1] == ' ' || e[-1] == '\t');)
                        *--e = '\0';
                found++;
                {
                        /* A key already given (by another file, or earlier
                         * in this one) is written once. */
                        _cleanup_free_ char *needle = vs_strdupf(" %s", b64);
                        if (!needle)
                                return -ENOMEM;
                        if (*have && strstr(*have, needle))
                                continue;
                }
                fprintf(out, "%s %s%s%s\n", type, b64, *comment ? " " : "", comment);
                fflush(out);
        }
        if (!found) {
                return vs_error_set(err, EINVAL, "--ssh-key: \"%s\" holds no public key line", what);
        }
        return 0;
bad_text:
        return vs_error_set(err, EINVAL, "--ssh-key: \"%s\" is not a text file of public keys", what);
}

static int read_keys(const char *path, const char *what, FILE *out, char **buf, struct vs_error *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        _cleanup_free_ char *text = NULL;
        struct stat st;
        size_t len;
        int r;

        if (fd < 0 || fstat(fd, &st) < 0) {
                r = -errno;
                return vs_error_set(err, r, "%s: cannot read \"%s\": %s", what, path, strerror(errno));
        }
        if (S_ISDIR(st.st_mode)) {
                return vs_error_set(err, EISDIR, "%s: \"%s\" is a directory", what, path);
        }
        r = read_fd(fd, MAX_KEY_FILE, &text, &len);
        if (r < 0) {
                return vs_error_set(err, r, "%s: cannot read \"%s\": %s", what, path,
                                    r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
        }
        if (strlen(text) != len) {
                return vs_error_set(err, EINVAL, "%s: \"%s\" is not a text file of public keys", what, path);
        }
        fflush(out); /* *buf: what @out holds so far */
        return parse_keys(path, text, out, buf, err);
}

/* ---- root's password -------------------------------------------------------- */

/* The prefix of the hash: yescrypt where the guest's PAM writes and reads
 * it (every release the debian template builds, bullseye on, says
 * "pam_unix.so obscure yescrypt"), SHA-512 for trees of unknown age. */
static const char *hash_prefix(const struct vs_config *c)
{
        return c->template_name && strcmp(c->template_name, "debian") == 0 ? "$y$" : "$6$";
}

static int hash_password(const char *path, const struct vs_config *c, char **ret, struct vs_error *err)
{
        _cleanup_close_ int fd =
                strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        const char *what = strcmp(path, "-") == 0 ? "standard input" : path;
        char pw[MAX_PASSWORD + 2], setting[CRYPT_GENSALT_OUTPUT_SIZE];
        struct crypt_data *data = NULL;
        const char *h;
        size_t n = 0;
        int r = 0;

        if (fd < 0) {
                r = -errno;
                return vs_error_set(err, r, "--root-password-file: cannot read \"%s\": %s", what, strerror(errno));
        }
        for (;;) {
                ssize_t k = read(fd, pw + n, sizeof(pw) - 1 - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = -errno;
                        vs_error_set(err, errno, "--root-password-file: cannot read \"%s\": %s", what, strerror(errno));
                        goto out;
                }
                if (k == 0 || (n += (size_t)k) >= sizeof(pw) - 1)
                        break;
        }
        pw[n] = '\0';
        /* The password is the first line, without its line end. */
        n = strcspn(pw, "\r\n");
        if (n > MAX_PASSWORD) {
                vs_error_set(err, EINVAL, "--root-password-file: the password in \"%s\" is longer than %d bytes", what,
                             MAX_PASSWORD);
                r = -EINVAL;
                goto out;
        }
        pw[n] = '\0';
        if (!n || memchr(pw, '\0', n)) {
                vs_error_set(err, EINVAL, "--root-password-file: \"%s\" is empty%s", what,
                             n ? " (its first line starts with a NUL byte)" : "");
                r = -EINVAL;
                goto out;
        }
        data = calloc(1, sizeof(*data));
        if (!data) {
                r = -ENOMEM;
                goto out;
        }
        errno = 0;
        if (!crypt_gensalt_rn(hash_prefix(c), 0, NULL, 0, setting, sizeof(setting)) ||
            !(h = crypt_rn(pw, setting, data, sizeof(*data))) || h[0] != '$') {
                r = errno ? -errno : -EINVAL;
                vs_error_set(err, r, "--root-password-file: cannot hash the password (%s): %s", hash_prefix(c),
                             strerror(-r));
                goto out;
        }
        *ret = strdup(h);
        if (!*ret)
                r = -ENOMEM;
out:
        explicit_bzero(pw, sizeof(pw));
        if (data) {
                explicit_bzero(data, sizeof(*data));
                free(data);
        }
        return r;
}

/* ---- checks before the build ------------------------------------------------- */

static bool is_tzif(const char *buf, size_t len) { return len >= 44 && memcmp(buf, "TZif", 4) == 0; }

int vs_provision_prepare(const struct vs_build_opts *o, struct vs_config *c, struct vs_provision *p,
                         struct vs_error *err)
{
        _cleanup_free_ char *keys = NULL;
        size_t size = 0;
        FILE *out;
        int r = 0;

        *p = (struct vs_provision){ 0 };
        out = open_memstream(&keys, &size);
        if (!out)
                return -ENOMEM;
        /* The keys the guest has already (a clone's source's, a --set
         * guest.ssh_keys), then those of --ssh-key. */
        if (c->ssh_keys)
                r = read_keys(c->ssh_keys, "guest.ssh_keys", out, &keys, err);
        for (char **f = o->ssh_key_files; r == 0 && f && *f; f++)
                r = read_keys(*f, "--ssh-key", out, &keys, err);
        if (fclose(out) != 0 && r == 0)
                r = -ENOMEM;
        if (r < 0)
                return r;
        if (keys && *keys)
                p->keys = TAKE_PTR(keys);

        if (o->password_file) {
                char *h = NULL;
                r = hash_password(o->password_file, c, &h, err);
                if (r < 0)
                        goto fail;
                free(c->root_password_hash);
                c->root_password_hash = h;
        }

        if (c->timezone) {
                /* The host's tzdata knows every zone a guest's does; a
                 * guest without tzdata gets the host's file. */
                _cleanup_free_ char *path = vs_strdupf("/usr/share/zoneinfo/%s", c->timezone);
                _cleanup_close_ int fd = -1;
                struct stat st;

                if (!path) {
                        r = -ENOMEM;
                        goto fail;
                }
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0 && errno == ELOOP)
                        fd = open(path, O_RDONLY | O_CLOEXEC); /* "UTC" and the like are links in tzdata */
                if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
                    read_fd(fd, 1 << 20, &p->zone_file, &p->zone_len) == 0 && is_tzif(p->zone_file, p->zone_len)) {
                        /* known */
                } else if (access("/usr/share/zoneinfo", F_OK) == 0) {
                        vs_error_set(err, EINVAL, "--timezone: unknown time zone \"%s\" (not in /usr/share/zoneinfo)",
                                     c->timezone);
                        r = -EINVAL;
                        goto fail;
                } else {
                        free(p->zone_file);
                        p->zone_file = NULL; /* the host has no tzdata: the guest's own decides */
                }
        }
        return 0;
fail:
        vs_provision_done(p);
        return r;
}

/* ---- writing into the tree ----------------------------------------------------- */

/* Replaces @name in @dirfd with @len bytes of @buf, owned by @uid:@gid with
 * @mode, through a temporary name: a reader sees the old file or the new. */
static int put_file(int dirfd, const char *name, const void *buf, size_t len, mode_t mode, uid_t uid, gid_t gid)
{
        _cleanup_free_ char *tmp = vs_strdupf(".%s.vserver-new", name);
        _cleanup_close_ int fd = -1;
        int r = 0;

        if (!tmp)
                return -ENOMEM;
        (void)unlinkat(dirfd, tmp, 0);
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (fchown(fd, uid, gid) < 0 || fchmod(fd, mode) < 0 || write(fd, buf, len) != (ssize_t)len ||
            renameat(dirfd, tmp, dirfd, name) < 0)
                r = errno ? -errno : -EIO;
        if (r < 0)
                (void)unlinkat(dirfd, tmp, 0);
        return r;
}

static int put_symlink(int dirfd, const char *name, const char *target, uid_t uid, gid_t gid)
{
        _cleanup_free_ char *tmp = vs_strdupf(".%s.vserver-new", name);

        if (!tmp)
                return -ENOMEM;
        (void)unlinkat(dirfd, tmp, 0);
        if (symlinkat(target, dirfd, tmp) < 0)
                return -errno;
        if (fchownat(dirfd, tmp, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 || renameat(dirfd, tmp, dirfd, name) < 0) {
                int r = -errno;
                (void)unlinkat(dirfd, tmp, 0);
                return r;
        }
        return 0;
}

/* Reads the regular file @name of @dirfd, never through a symlink;
 * -ENOENT when missing. */
static int get_file(int dirfd, const char *name, char **ret, size_t *ret_len, struct stat *st)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        if (fstat(fd, st) < 0)
                return -errno;
        if (!S_ISREG(st->st_mode))
                return -EINVAL;
        return read_fd(fd, MAX_KEY_FILE, ret, ret_len);
}

/* Opens the directory @path inside the guest's root; with @mode, a missing
 * last component is made, owned as its parent. */
static int open_dir(int rootfd, const char *path, mode_t mode, struct stat *st)
{
        int fd = vs_open_in_root(rootfd, path, O_PATH | O_DIRECTORY | O_CLOEXEC, false, false);

        if (fd == -ENOENT && mode) {
                _cleanup_free_ char *parent = strdup(path);
                char *base = parent ? strrchr(parent, '/') : NULL;
                _cleanup_close_ int pfd = -1;
                struct stat pst;

                if (!base)
                        return -ENOMEM;
                *base++ = '\0';
                pfd = vs_open_in_root(rootfd, *parent ? parent : "/", O_PATH | O_DIRECTORY | O_CLOEXEC, false, false);
                if (pfd < 0)
                        return pfd;
                if (fstatat(pfd, "", &pst, AT_EMPTY_PATH) < 0)
                        return -errno;
                if (mkdirat(pfd, base, mode) < 0 && errno != EEXIST)
                        return -errno;
                if (fchownat(pfd, base, pst.st_uid, pst.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                fd = openat(pfd, base, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
        }
        if (fd >= 0 && fstatat(fd, "", st, AT_EMPTY_PATH) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

static int apply_keys(int rootfd, const char *keys, struct vs_error *err)
{
        _cleanup_close_ int home = -1, ssh = -1;
        _cleanup_free_ char *old = NULL, *out = NULL;
        struct stat hst, sst, fst;
        size_t len = 0, size = 0;
        FILE *f;
        int r;

        home = open_dir(rootfd, "/root", 0, &hst);
        if (home < 0) {
                vs_error_set(err, home, "Cannot open root's home /root in the guest: %s", strerror(-home));
                return home;
        }
        ssh = openat(home, ".ssh", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (ssh < 0 && errno == ENOENT) {
                if (mkdirat(home, ".ssh", 0700) < 0 ||
                    fchownat(home, ".ssh", hst.st_uid, hst.st_gid, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = -errno;
                        return vs_error_set(err, r, "Cannot create /root/.ssh in the guest: %s", strerror(errno));
                }
                ssh = openat(home, ".ssh", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (ssh < 0 || fstatat(ssh, "", &sst, AT_EMPTY_PATH) < 0) {
                r = -errno;
                return vs_error_set(err, r, "Cannot open /root/.ssh in the guest (a directory, not a symlink): %s",
                                    strerror(errno));
        }
        r = get_file(ssh, "authorized_keys", &old, &len, &fst);
        if (r == -ENOENT) {
                fst.st_uid = sst.st_uid;
                fst.st_gid = sst.st_gid;
                fst.st_mode = 0600;
        } else if (r < 0) {
                return vs_error_set(err, r, "Cannot read /root/.ssh/authorized_keys in the guest (a regular file): %s",
                                    strerror(-r));
        }
        /* The guest's own keys stay; ours are added where missing. */
        f = open_memstream(&out, &size);
        if (!f)
                return -ENOMEM;
        if (old && *old)
                fprintf(f, "%s%s", old, old[strlen(old) - 1] == '\n' ? "" : "\n");
        for (const char *l = keys; *l;) {
                size_t n = strcspn(l, "\n");
                const char *sp = memchr(l, ' ', n);
                size_t bl = sp ? strcspn(sp + 1, " \n") : 0;
                _cleanup_free_ char *b64 = sp ? strndup(sp + 1, bl) : NULL;
                if (!old || !b64 || !strstr(old, b64))
                        fprintf(f, "%.*s\n", (int)n, l);
                l += n + (l[n] == '\n');
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        if (old && strcmp(old, out) == 0)
                return 0;
        r = put_file(ssh, "authorized_keys", out, strlen(out), fst.st_mode & 07777, fst.st_uid, fst.st_gid);
        if (r < 0)
                vs_error_set(err, r, "Cannot write /root/.ssh/authorized_keys in the guest: %s", strerror(-r));
        return r;
}

static int apply_password(int etc, const char *hash, struct vs_error *err)
{
        _cleanup_free_ char *old = NULL, *out = NULL;
        struct stat st;
        size_t len, size = 0;
        bool done = false;
        FILE *f;
        int r;

        r = get_file(etc, "shadow", &old, &len, &st);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot read /etc/shadow in the guest (a regular file): %s", strerror(-r));
        }
        f = open_memstream(&out, &size);
        if (!f)
                return -ENOMEM;
        for (char *l = old, *next; l && *l; l = next) {
                next = strchr(l, '\n');
                if (next)
                        *next++ = '\0';
                if (!done && strncmp(l, "root:", 5) == 0) {
                        /* root:HASH:LASTCHANGE:rest; the change is dated
                         * today, as chpasswd does (0 would force a change
                         * at the first login). */
                        char *rest = strchr(l + 5, ':');
                        rest = rest ? strchr(rest + 1, ':') : NULL;
                        if (!rest) {
                                fclose(f);
                                return vs_error_set(err, EINVAL, "/etc/shadow in the guest has a malformed root line");
                        }
                        fprintf(f, "root:%s:%lld%s\n", hash, (long long)(time(NULL) / 86400), rest);
                        done = true;
                        continue;
                }
                fprintf(f, "%s\n", l);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        if (!done) {
                return vs_error_set(err, ENOENT, "/etc/shadow in the guest has no line for root");
        }
        r = put_file(etc, "shadow", out, strlen(out), st.st_mode & 07777, st.st_uid, st.st_gid);
        if (r < 0)
                vs_error_set(err, r, "Cannot write /etc/shadow in the guest: %s", strerror(-r));
        return r;
}

/* A guest whose /etc/resolv.conf is systemd-resolved's stub asks resolved,
 * which takes its servers from resolved.conf.d; any other reads the file. */
static int apply_dns(int rootfd, int etc, const struct stat *est, const char *dns, struct vs_error *err)
{
        _cleanup_strv_free_ char **addrs = vs_strv_split(dns, ",");
        _cleanup_free_ char *out = NULL;
        char link[256];
        ssize_t n = readlinkat(etc, "resolv.conf", link, sizeof(link) - 1);
        size_t size = 0;
        FILE *f;
        int r;

        if (!addrs)
                return -ENOMEM;
        link[n > 0 ? n : 0] = '\0';
        f = open_memstream(&out, &size);
        if (!f)
                return -ENOMEM;
        if (strstr(link, "systemd/resolve")) {
                _cleanup_close_ int dfd = -1;
                struct stat dst;

                fprintf(f, "# Written by vs-build from guest.dns (vserver.conf(5))\n[Resolve]\nDNS=");
                for (char **a = addrs; *a; a++)
                        fprintf(f, "%s%s", a == addrs ? "" : " ", *a);
                fprintf(f, "\n");
                if (fclose(f) != 0)
                        return -ENOMEM;
                dfd = open_dir(rootfd, "/etc/systemd/resolved.conf.d", 0755, &dst);
                if (dfd < 0) {
                        vs_error_set(err, dfd, "Cannot create /etc/systemd/resolved.conf.d in the guest: %s",
                                     strerror(-dfd));
                        return dfd;
                }
                r = put_file(dfd, "90-vserver-dns.conf", out, strlen(out), 0644, dst.st_uid, dst.st_gid);
                if (r < 0)
                        vs_error_set(err, r, "Cannot write /etc/systemd/resolved.conf.d/90-vserver-dns.conf in the "
                                          "guest: %s",
                                     strerror(-r));
                return r;
        }
        fprintf(f, "# Written by vs-build from guest.dns (vserver.conf(5))\n");
        for (char **a = addrs; *a; a++)
                fprintf(f, "nameserver %s\n", *a);
        if (fclose(f) != 0)
                return -ENOMEM;
        /* A link elsewhere (resolvconf's, a dangling one) is replaced by
         * the file itself. */
        r = put_file(etc, "resolv.conf", out, strlen(out), 0644, est->st_uid, est->st_gid);
        if (r < 0)
                vs_error_set(err, r, "Cannot write /etc/resolv.conf in the guest: %s", strerror(-r));
        return r;
}

static int apply_timezone(int rootfd, int etc, const struct stat *est, const char *zone,
                          const struct vs_provision *p, struct vs_error *err)
{
        _cleanup_free_ char *path = vs_strdupf("/usr/share/zoneinfo/%s", zone), *line = vs_strdupf("%s\n", zone);
        _cleanup_close_ int zdir = -1, zfd = -1;
        char head[4];
        int r;

        if (!path || !line)
                return -ENOMEM;
        zdir = vs_open_in_root(rootfd, "/usr/share/zoneinfo", O_PATH | O_DIRECTORY | O_CLOEXEC, false, false);
        if (zdir >= 0) {
                /* The guest's tzdata: /etc/localtime links to its zone, as
                 * tzdata's own configuration makes it. */
                zfd = vs_open_in_root(rootfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK, false, false);
                if (zfd < 0 || read(zfd, head, 4) != 4 || memcmp(head, "TZif", 4) != 0) {
                        return vs_error_set(err, EINVAL, "--timezone: unknown time zone \"%s\" in the guest (no %s there)", zone,
                                            path);
                }
                r = put_symlink(etc, "localtime", path, est->st_uid, est->st_gid);
        } else if (p->zone_file) {
                /* No tzdata in the guest: a copy of the host's zone. */
                r = put_file(etc, "localtime", p->zone_file, p->zone_len, 0644, est->st_uid, est->st_gid);
        } else {
                return vs_error_set(err, ENOENT, "--timezone: neither the host nor the guest has /usr/share/zoneinfo");
        }
        /* /etc/timezone only where the release has it: trixie's tzdata
         * dropped the file, and a new one would go stale there. */
        if (r == 0 && faccessat(etc, "timezone", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                r = put_file(etc, "timezone", line, strlen(line), 0644, est->st_uid, est->st_gid);
        if (r < 0)
                vs_error_set(err, r, "Cannot write /etc/localtime or /etc/timezone in the guest: %s", strerror(-r));
        return r;
}

struct apply_data {
        const struct vs_config *c;
        const struct vs_provision *p;
};

static int apply_in_root(int rootfd, const char *root, void *data, struct vs_error *err)
{
        const struct apply_data *d = data;
        _cleanup_close_ int etc = -1;
        struct stat est;
        int r;

        (void)root;
        etc = open_dir(rootfd, "/etc", 0, &est);
        if (etc < 0) {
                vs_error_set(err, etc, "Cannot open /etc in the guest: %s", strerror(-etc));
                return etc;
        }
        if (d->p->keys) {
                r = apply_keys(rootfd, d->p->keys, err);
                if (r < 0)
                        return r;
        }
        if (d->c->root_password_hash) {
                r = apply_password(etc, d->c->root_password_hash, err);
                if (r < 0)
                        return r;
        }
        if (d->c->dns) {
                r = apply_dns(rootfd, etc, &est, d->c->dns, err);
                if (r < 0)
                        return r;
        }
        if (d->c->timezone) {
                r = apply_timezone(rootfd, etc, &est, d->c->timezone, d->p, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int vs_provision_apply(const char *dir, int layout, const struct vs_config *c, const struct vs_provision *p,
                       struct vs_error *err)
{
        struct apply_data d = { c, p };

        if (!p->keys && !c->root_password_hash && !c->dns && !c->timezone)
                return 0;
        return vs_disk_with_root(dir, layout, apply_in_root, &d, err);
}

int vs_provision_commit(const char *name, struct vs_config *c, const struct vs_provision *p, struct vs_error *err)
{
        _cleanup_free_ char *path = NULL;
        int r;

        path = vs_provision_keys_path(name);
        if (!path)
                return -ENOMEM;
        if (!p->keys) {
                /* A rebuild without keys: the old guest's copy goes. */
                (void)unlink(path);
                return 0;
        }
        r = vs_write_file_atomic(path, p->keys, 0644);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot write %s: %s", path, strerror(-r));
        }
        free(c->ssh_keys);
        c->ssh_keys = TAKE_PTR(path);
        return 0;
}
