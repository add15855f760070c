/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "guest-quota.h"
#include "storage.h"
#include "paths.h"
#include "provision.h"
#include "state.h"
#include "util.h"

int vs_guest_destroy(const char *name, bool force, struct vs_error *err)
{
        _cleanup_free_ char *conf = NULL, *fstab = NULL, *dir = NULL, *grave = NULL, *log = NULL;
        _cleanup_close_ int lock = -1;
        struct vs_guest_info info = { 0 };
        uint64_t projid = 0;
        int r;

        r = vs_check_name(name, err);
        if (r < 0)
                return r;
        conf = vs_conf_path(name);
        fstab = vs_fstab_path(name);
        dir = vs_guest_path(name);
        log = vs_console_log_path(name);
        grave = vs_strdupf("%s/.destroy-%s.%d", vs_guestdir(), name, (int)getpid());
        if (!conf || !fstab || !dir || !grave || !log)
                return -ENOMEM;
        if (access(conf, F_OK) < 0 && access(dir, F_OK) < 0) {
                return vs_error_set(err, ENOENT, "No such guest \"%s\"", name);
        }
        if (access(conf, F_OK) == 0) {
                r = vs_guest_info(name, &info, err);
                if (r == 0 && info.state != VS_GUEST_STOPPED && info.state != VS_GUEST_STALE) {
                        vs_guest_info_clear(&info);
                        if (!force) {
                                return vs_error_set(err, EBUSY, "Guest \"%s\" is running: stop it first, or use --force", name);
                        }
                        r = vs_guest_stop(name, 10, err);
                        if (r < 0)
                                return r;
                }
                vs_guest_info_clear(&info);
        }
        r = vs_guest_lock_wait(name, &lock);
        if (r == -EBUSY) {
                return vs_error_set(err, r, "Guest \"%s\" is busy (being built or started)", name);
        }
        if (r < 0 && r != -ENOENT) {
                return vs_error_set(err, r, "Cannot lock %s: %s", dir, strerror(-r));
        }
        /* Mark the directory: should we die before it is gone, the next
         * build knows it is a leftover. */
        if (r == 0) {
                _cleanup_free_ char *run = vs_run_path(name);
                /* We hold the lock: what a dead supervisor left goes too. */
                if (run && access(run, F_OK) == 0)
                        (void)vs_guest_cleanup(name);
                _cleanup_free_ char *mark = vs_strdupf("%s/" VS_INCOMPLETE_MARK, dir);
                if (mark)
                        close(open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        }
        /* Its project quota's limit goes with the tree (below). */
        {
                _cleanup_config_ struct vs_config *c = NULL;
                if (vs_load_guest_config(name, &c, NULL) == 0 && vs_config_layout(c) != VS_LAYOUT_IMAGE)
                        projid = c->disk_project;
        }
        /* The config goes first: from then on the guest does not exist, and a
         * crash below leaves only a directory the next build clears away. */
        if (unlink(conf) < 0 && errno != ENOENT) {
                r = -errno;
                return vs_error_set(err, r, "Cannot remove %s: %s", conf, strerror(errno));
        }
        (void)unlink(fstab);
        (void)unlink(log);
        {
                /* vs-build's copy of its SSH keys (vserver/provision.c) */
                _cleanup_free_ char *keys = vs_provision_keys_path(name);
                if (keys)
                        (void)unlink(keys);
        }
        if (r == 0 || r == -ENOENT) {
                if (rename(dir, grave) == 0)
                        r = vs_rm_rf(grave);
                else
                        r = errno == ENOENT ? 0 : -errno;
        }
        if (r < 0)
                vs_error_set(err, r, "Cannot remove %s: %s", dir, strerror(-r));
        else
                vs_guest_quota_clear(projid);
        /* Its template layer may be unused now. */
        vs_disk_templates_gc();
        return r;
}
