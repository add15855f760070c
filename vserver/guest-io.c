/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A guest's [io] limits: on which device, written when, and what the host
 * cannot honour. */
#include "autoconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "cleanup.h"
#include "guest-io.h"
#include "paths.h"
#include "util.h"

#define IO_DEVICE_FILE "io_device"

void vs_guest_io_limits(const struct vs_config *c, struct vs_io_limits *ret)
{
        *ret = (struct vs_io_limits){
                .weight = c->io_weight,
                .rbps = c->io_read_bps,
                .wbps = c->io_write_bps,
                .riops = c->io_read_iops,
                .wiops = c->io_write_iops,
        };
}

int vs_guest_io_device(const struct vs_config *c, const char *rootfs, int image_fd, dev_t *ret)
{
        struct stat st;

        if (vs_config_layout(c) == VS_LAYOUT_IMAGE && image_fd >= 0) {
                if (fstat(image_fd, &st) < 0)
                        return -errno;
        } else if (vs_config_layout(c) == VS_LAYOUT_SHARED) {
                /* The overlay's own device is anonymous: the guest's writes
                 * land in its upper layer. */
                _cleanup_free_ char *upper = vs_strdupf("%s/../upper", rootfs);
                if (!upper)
                        return -ENOMEM;
                if (stat(upper, &st) < 0)
                        return -errno;
        } else if (stat(rootfs, &st) < 0)
                return -errno;
        *ret = st.st_dev;
        return 0;
}

/* Appends one warning line to @warn. */
static void warn_line(char *warn, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void warn_line(char *warn, size_t len, const char *fmt, ...)
{
        size_t l = strlen(warn);
        va_list ap;

        if (l + 1 >= len)
                return;
        va_start(ap, fmt);
        vsnprintf(warn + l, len - l, fmt, ap);
        va_end(ap);
        l = strlen(warn);
        if (l + 1 < len) {
                warn[l] = '\n';
                warn[l + 1] = '\0';
        }
}

static int apply(const char *name, struct vs_cgroup *cg, const struct vs_config *c, dev_t dev, char *warn,
                 size_t warn_len, struct vs_error *err)
{
        struct vs_io_limits l;
        unsigned weights = 0;
        struct vs_error why = { 0 };
        int r;

        vs_guest_io_limits(c, &l);
        r = vs_cgroup_set_io(cg, dev, &l, &weights, &why);
        if (r < 0) {
                return vs_error_set(err, r, "Cannot set the I/O limits of \"%s\": %s", name, why.msg);
        }
        if (warn && l.weight) {
                if (weights == 0)
                        warn_line(warn, warn_len,
                                  "vs-start: warning: Guest \"%s\": io.weight %" PRIu64 " has no effect: the kernel offers no "
                                  "I/O weight file (no bfq, no io cost model)",
                                  name, l.weight);
                else if (!vs_io_weight_honoured(cg, dev, &why))
                        warn_line(warn, warn_len, "vs-start: warning: Guest \"%s\": io.weight %" PRIu64 " has no effect: %s",
                                  name, l.weight, why.msg);
        }
        return 0;
}

int vs_guest_io_start(const char *name, struct vs_cgroup *cg, const struct vs_config *c, dev_t st_dev,
                      const char *rundir, char *warn, size_t warn_len, struct vs_error *err)
{
        struct vs_io_limits l;
        _cleanup_free_ char *rec = vs_strdupf("%s/" IO_DEVICE_FILE, rundir);
        char buf[32];
        dev_t dev;
        int r;

        if (!rec)
                return -ENOMEM;
        vs_guest_io_limits(c, &l);
        r = vs_io_whole_disk("/sys", st_dev, &dev);
        if (r < 0) {
                if (vs_io_limits_any(&l))
                        warn_line(warn, warn_len,
                                  "vs-start: warning: Guest \"%s\": its data is on no block device (device %u:%u, e.g. tmpfs "
                                  "or an overlay on it): the [io] limits are not applied",
                                  name, major(st_dev), minor(st_dev));
                return 0;
        }
        snprintf(buf, sizeof(buf), "%u:%u\n", major(dev), minor(dev));
        (void)vs_write_file_replace(rec, buf, 0644);
        if (!vs_io_limits_any(&l))
                return 0;
        return apply(name, cg, c, dev, warn, warn_len, err);
}

static int recorded_device(const char *name, dev_t *ret)
{
        _cleanup_free_ char *run = vs_run_path(name), *p = NULL, *text = NULL;
        unsigned ma, mi;
        int r;

        if (!run)
                return -ENOMEM;
        p = vs_strdupf("%s/" IO_DEVICE_FILE, run);
        if (!p)
                return -ENOMEM;
        r = vs_read_file(p, &text, NULL);
        if (r < 0)
                return r;
        if (sscanf(text, "%u:%u", &ma, &mi) != 2)
                return -EINVAL;
        *ret = makedev(ma, mi);
        return 0;
}

int vs_guest_io_live(const char *name, struct vs_cgroup *cg, const struct vs_config *c, struct vs_error *err)
{
        dev_t dev;
        int r = recorded_device(name, &dev);

        if (r < 0) {
                vs_warn_log(VS_WARN_WARNING,
                            "Guest \"%s\" runs on no block device vserver can throttle (none recorded at its "
                            "start): the [io] limits are kept in its config only",
                            name);
                return 0;
        }
        /* A live change says nothing more about the weight: the start did. */
        return apply(name, cg, c, dev, NULL, 0, err);
}

int vs_guest_io_bytes(const char *name, struct vs_cgroup *cg, uint64_t *ret_read, uint64_t *ret_written)
{
        dev_t dev = 0;

        /* Only the guest's own device: an image's loop device passes the
         * same bytes on to the host's disk, charged to the guest again. */
        (void)recorded_device(name, &dev);
        return vs_cgroup_read_io(cg, dev, ret_read, ret_written);
}
