/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Guests made without a template: a copy of another guest, or a root
 * tarball. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "command.h"
#include "config.h"
#include "storage.h"
#include "mount.h"
#include "paths.h"
#include "state.h"
#include "util.h"

int vs_build_source_layout(const char *name)
{
        _cleanup_config_ struct vs_config *c = NULL;
        struct vs_error e;
        if (vs_load_config(name, &c, &e) < 0)
                return -1;
        return vs_config_layout(c);
}

int vs_build_other_config(const struct vs_build_opts *o, struct vs_config **ret, struct vs_error *err)
{
        _cleanup_config_ struct vs_config *c = NULL;
        struct vs_error cerr;
        const char *hostname = o->hostname ? o->hostname : o->name;
        int r;

        if (o->template_name || o->release || o->arch || o->init || o->include || o->mirror) {
                return vs_error_set(err, EINVAL, "--%s builds no template: --template, --release, --arch, --init, --include and "
                                    "--mirror do not apply",
                               o->clone_from ? "clone" : "from-tar");
        }
        if (o->clone_from) {
                if (strcmp(o->clone_from, o->name) == 0) {
                        return vs_error_set(err, EINVAL, "--clone: a guest cannot be cloned onto itself");
                }
                r = vs_load_guest_config(o->clone_from, &c, err);
                if (r < 0)
                        return r;
                free(c->name);
                c->name = strdup(o->name);
                if (!c->name)
                        return -ENOMEM;
                /* A host name that was the old guest's name follows the new
                 * name; one chosen by hand is kept unless --hostname says. */
                if (o->hostname || !c->hostname || strcmp(c->hostname, o->clone_from) == 0) {
                        r = vs_config_set(c, "guest.hostname", hostname, &cerr);
                        if (r < 0) {
                                return vs_error_set(err, r, "--hostname: %s", cerr.msg);
                        }
                }
                /* Network identity hook: once [net] keys exist, the clone must
                 * not keep the source's address and MAC: reset them here. */
                c->autostart = false;
        } else {
                r = vs_config_new(o->name, &c);
                if (r < 0)
                        return r;
                r = vs_config_set(c, "guest.hostname", hostname, &cerr);
                if (r < 0) {
                        return vs_error_set(err, r, "--hostname: %s", cerr.msg);
                }
        }
        *ret = TAKE_PTR(c);
        return 0;
}

static int write_in_root(int rootfd, const char *path, const char *content)
{
        _cleanup_close_ int fd = vs_open_in_root(rootfd, path, O_WRONLY | O_TRUNC, true, true);
        size_t l = strlen(content);
        if (fd < 0)
                return fd;
        if (write(fd, content, l) != (ssize_t)l)
                return -errno;
        return 0;
}

struct identity {
        const char *hostname;
};

/* A copy is another machine to its users' ssh clients: new SSH host keys
 * of the types it has, made by the host's ssh-keygen (never a program of
 * the copied tree, which is the customer's), written over the old files
 * (their owner and mode kept). A copy without host keys gets none. */
static int renew_host_keys(int rootfd, const char *hostname, struct vs_error *err)
{
        static const char *const types[] = { "rsa", "ecdsa", "ed25519" };
        _cleanup_close_ int ssh = vs_open_in_root(rootfd, "/etc/ssh", O_PATH | O_DIRECTORY, false, false);
        _cleanup_free_ char *comment = vs_strdupf("root@%s", hostname);
        char tmp[] = "/tmp/vs-hostkeys.XXXXXX";
        int r = 0;

        if (ssh < 0)
                return 0;
        if (!comment)
                return -ENOMEM;
        if (!mkdtemp(tmp)) {
                r = -errno;
                return vs_error_set(err, r, "Cannot make a directory for the copy's SSH host keys: %s", strerror(errno));
        }
        for (size_t i = 0; i < ELEMENTSOF(types) && r == 0; i++) {
                _cleanup_free_ char *name = vs_strdupf("ssh_host_%s_key", types[i]);
                _cleanup_free_ char *key = vs_strdupf("%s/%s", tmp, types[i]);
                _cleanup_free_ char *pub = vs_strdupf("%s/%s.pub", tmp, types[i]);
                _cleanup_free_ char *in = NULL, *in_pub = NULL, *priv = NULL, *pubkey = NULL;
                struct stat st;

                if (!name || !key || !pub) {
                        r = -ENOMEM;
                        break;
                }
                if (fstatat(ssh, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                char *argv[] = { "ssh-keygen", "-q", "-t", (char *)types[i], "-N", "", "-C", comment, "-f", key, NULL };
                r = vs_run_command(argv, -1, err);
                if (r < 0) {
                        char why[sizeof(err->msg)];
                        snprintf(why, sizeof(why), "%s", err->msg);
                        vs_error_set(err, r, "Cannot make the copy's own SSH host keys with the host's ssh-keygen "
                                          "(openssh-client): %s", why);
                        break;
                }
                in = vs_strdupf("/etc/ssh/%s", name);
                in_pub = vs_strdupf("/etc/ssh/%s.pub", name);
                if (!in || !in_pub) {
                        r = -ENOMEM;
                        break;
                }
                r = vs_read_file(key, &priv, NULL);
                if (r == 0)
                        r = vs_read_file(pub, &pubkey, NULL);
                if (r == 0)
                        r = write_in_root(rootfd, in, priv);
                if (r == 0)
                        r = write_in_root(rootfd, in_pub, pubkey);
                if (priv)
                        explicit_bzero(priv, strlen(priv));
                (void)unlink(key);
                (void)unlink(pub);
                if (r < 0)
                        vs_error_set(err, r, "Cannot write the copy's SSH host key %s: %s", in, strerror(-r));
        }
        (void)rmdir(tmp);
        return r;
}

/* Gives the copy its own identity: host name, machine id, SSH host keys. */
static int fix_identity(int rootfd, const char *root, void *data, struct vs_error *err)
{
        struct identity *id = data;
        _cleanup_free_ char *hn = vs_strdupf("%s\n", id->hostname), *hosts = NULL, *nh = NULL;
        char uuid[64], mid[40] = "";
        _cleanup_close_ int fd = -1;
        size_t k = 0;
        int r;

        (void)root;
        if (!hn)
                return -ENOMEM;
        fd = vs_open_in_root(rootfd, "/etc", O_PATH | O_DIRECTORY, false, false);
        if (fd < 0)
                return 0; /* not a system tree: nothing to fix */
        r = write_in_root(rootfd, "/etc/hostname", hn);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot write /etc/hostname in the copy: %s", strerror(-r));
        }
        {
                _cleanup_close_ int u = open("/proc/sys/kernel/random/uuid", O_RDONLY | O_CLOEXEC);
                ssize_t n = u >= 0 ? read(u, uuid, sizeof(uuid) - 1) : -1;
                if (n <= 0)
                        return -EIO;
                uuid[n] = '\0';
                for (char *p = uuid; *p && k < 32; p++)
                        if (*p != '-' && *p != '\n')
                                mid[k++] = *p;
                mid[k++] = '\n';
                mid[k] = '\0';
        }
        r = write_in_root(rootfd, "/etc/machine-id", mid);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot write /etc/machine-id in the copy: %s", strerror(-r));
        }
        r = renew_host_keys(rootfd, id->hostname, err);
        if (r < 0)
                return r;
        /* /etc/hosts: the Debian line for the host's own name. */
        fd = vs_open_in_root(rootfd, "/etc/hosts", O_RDONLY, false, false);
        if (fd >= 0) {
                _cleanup_fclose_ FILE *f = fdopen(TAKE_FD(fd), "r");
                char *line = NULL;
                size_t len = 0, size = 0;
                FILE *out = open_memstream(&nh, &size);
                if (!f || !out) {
                        free(line);
                        if (out)
                                fclose(out);
                        return -ENOMEM;
                }
                while (getline(&line, &len, f) > 0)
                        if (strncmp(line, "127.0.1.1", 9) == 0 && (line[9] == ' ' || line[9] == '\t'))
                                fprintf(out, "127.0.1.1\t%s\n", id->hostname);
                        else
                                fputs(line, out);
                free(line);
                fclose(out);
                r = write_in_root(rootfd, "/etc/hosts", nh);
                if (r < 0) {
                        return vs_error_set(err, r, "Cannot write /etc/hosts in the copy: %s", strerror(-r));
                }
        }
        return 0;
}

int vs_build_clone(const struct vs_build_opts *o, struct vs_config *c, const char *tmp, struct vs_error *err)
{
        _cleanup_free_ char *src = vs_guest_path(o->clone_from);
        _cleanup_close_ int lock = -1;
        struct identity id = { c->hostname ? c->hostname : o->name };
        int layout = vs_config_layout(c);
        bool frozen = false;
        int r;

        if (!src)
                return -ENOMEM;
        /* A shared lock on the source: it cannot start while we copy. */
        r = vs_guest_lock(o->clone_from, true, &lock);
        if (r == -EBUSY) {
                struct vs_state st = { 0 };
                if (!o->force) {
                        return vs_error_set(err, EBUSY, "Guest \"%s\" is running: stop it first, or use --force to freeze it for "
                                            "the copy",
                                       o->clone_from);
                }
                r = vs_state_read(o->clone_from, &st);
                if (r < 0 || !vs_pid_alive(st.init_pid, st.init_starttime)) {
                        vs_state_clear(&st);
                        return vs_error_set(err, EBUSY, "Guest \"%s\" is busy (being built, started or destroyed)", o->clone_from);
                }
                r = vs_disk_freeze(o->clone_from, true, err);
                if (r < 0) {
                        vs_state_clear(&st);
                        return r;
                }
                frozen = true;
                if (layout == VS_LAYOUT_IMAGE) {
                        /* Its processes are frozen; push what the kernel still
                         * holds for the image into it before we copy. */
                        _cleanup_free_ char *root = vs_strdupf("/proc/%d/root", (int)st.init_pid);
                        _cleanup_close_ int fd = root ? open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
                        if (fd >= 0)
                                syncfs(fd);
                }
                vs_state_clear(&st);
                vs_say(o->say, o->say_data, "Guest \"%s\" is frozen for the copy", o->clone_from);
        } else if (r < 0) {
                return vs_error_set(err, r, "Cannot lock guest \"%s\": %s", o->clone_from, strerror(-r));
        }
        vs_say(o->say, o->say_data, "Copying guest \"%s\"", o->clone_from);
        r = vs_disk_copy(src, layout, tmp, err);
        if (frozen)
                (void)vs_disk_freeze(o->clone_from, false, NULL);
        if (r < 0)
                return r;
        return vs_disk_with_root(tmp, layout, fix_identity, &id, err);
}

int vs_build_fix_identity(const char *dir, int layout, const char *hostname, struct vs_error *err)
{
        struct identity id = { hostname };
        return vs_disk_with_root(dir, layout, fix_identity, &id, err);
}

int vs_build_from_tar(const struct vs_build_opts *o, struct vs_config *c, const char *tmp, struct vs_error *err)
{
        _cleanup_free_ char *rootfs = vs_strdupf("%s/rootfs", tmp);
        struct vs_error cerr;
        int r;

        if (!rootfs)
                return -ENOMEM;
        r = vs_disk_import_tar(o->from_tar, tmp, o->say, o->say_data, err);
        if (r < 0)
                return r;
        /* The tree says which init it has: the halt signal follows. */
        if (!c->halt_signal) {
                int sig = vs_config_halt_signal(c, rootfs);
                char buf[16];
                r = vs_config_set(c, "guest.halt_signal", vs_signal_name(sig, buf, sizeof(buf)), &cerr);
                if (r < 0)
                        return r;
        }
        {
                struct identity id = { c->hostname ? c->hostname : o->name };
                int fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                r = fix_identity(fd, rootfs, &id, err);
                close(fd);
        }
        return r;
}
