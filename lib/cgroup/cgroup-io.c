/* SPDX-License-Identifier: GPL-2.0-or-later */
/* I/O limits: the block device under a guest's data, io.max and the v1
 * throttle files, the proportional weight, and the byte counters. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cgroup-io.h"
#include "cleanup.h"
#include "util.h"

static void put_limit(char *buf, size_t len, const char *key, uint64_t v)
{
        size_t l = strlen(buf);
        if (v)
                snprintf(buf + l, len - l, " %s=%" PRIu64, key, v);
        else
                snprintf(buf + l, len - l, " %s=max", key);
}

int vs_io_max_format(dev_t dev, const struct vs_io_limits *l, char *buf, size_t len)
{
        int n = snprintf(buf, len, "%u:%u", major(dev), minor(dev));
        if (n < 0 || (size_t)n >= len)
                return -ENOBUFS;
        put_limit(buf, len, "rbps", l->rbps);
        put_limit(buf, len, "wbps", l->wbps);
        put_limit(buf, len, "riops", l->riops);
        put_limit(buf, len, "wiops", l->wiops);
        if (strlen(buf) + 1 >= len)
                return -ENOBUFS;
        return 0;
}

/* "MAJ:MIN" at the start of @p; returns the end or NULL. */
static const char *parse_dev(const char *p, dev_t *ret)
{
        char *e;
        unsigned long ma, mi;

        ma = strtoul(p, &e, 10);
        if (e == p || *e != ':')
                return NULL;
        p = e + 1;
        mi = strtoul(p, &e, 10);
        if (e == p)
                return NULL;
        *ret = makedev(ma, mi);
        return e;
}

int vs_io_max_parse(const char *text, dev_t dev, struct vs_io_limits *ret)
{
        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                struct vs_io_limits v = { .weight = ret->weight };
                const char *eol = strchrnul(l, '\n'), *p;
                dev_t d;

                p = parse_dev(l, &d);
                if (!p || d != dev)
                        continue;
                while (p < eol) {
                        static const char *const keys[] = { "rbps=", "wbps=", "riops=", "wiops=" };
                        uint64_t *f[] = { &v.rbps, &v.wbps, &v.riops, &v.wiops };
                        size_t k;

                        p += strspn(p, " \t");
                        if (p >= eol)
                                break;
                        for (k = 0; k < ELEMENTSOF(keys); k++)
                                if (!strncmp(p, keys[k], strlen(keys[k])))
                                        break;
                        if (k == ELEMENTSOF(keys))
                                return -EINVAL;
                        p += strlen(keys[k]);
                        if (!strncmp(p, "max", 3)) {
                                *f[k] = 0;
                                p += 3;
                        } else {
                                char *e;
                                errno = 0;
                                *f[k] = strtoull(p, &e, 10);
                                if (e == p || errno)
                                        return -EINVAL;
                                p = e;
                        }
                        if (p < eol && *p != ' ' && *p != '\t')
                                return -EINVAL;
                }
                *ret = v;
                return 0;
        }
        return -ENOENT;
}

int vs_io_whole_disk(const char *sysfs, dev_t st_dev, dev_t *ret)
{
        _cleanup_free_ char *link = NULL, *part = NULL, *real = NULL, *parent_dev = NULL, *text = NULL;
        dev_t d;
        int r;

        /* Major 0: an anonymous device (tmpfs, overlay, btrfs subvolume). */
        if (major(st_dev) == 0)
                return -ENOTBLK;
        link = vs_strdupf("%s/dev/block/%u:%u", sysfs, major(st_dev), minor(st_dev));
        if (!link)
                return -ENOMEM;
        real = realpath(link, NULL);
        if (!real)
                return errno == ENOENT ? -ENOTBLK : -errno;
        part = vs_strdupf("%s/partition", real);
        if (!part)
                return -ENOMEM;
        if (access(part, F_OK) < 0) {
                *ret = st_dev;
                return 0;
        }
        /* A partition's directory sits in its disk's. */
        *strrchr(real, '/') = '\0';
        parent_dev = vs_strdupf("%s/dev", real);
        if (!parent_dev)
                return -ENOMEM;
        r = vs_read_file(parent_dev, &text, NULL);
        if (r < 0)
                return r;
        if (!parse_dev(text, &d))
                return -EINVAL;
        *ret = d;
        return 0;
}

int vs_io_scheduler(const char *sysfs, dev_t dev, char *buf, size_t len)
{
        _cleanup_free_ char *p = vs_strdupf("%s/dev/block/%u:%u/queue/scheduler", sysfs, major(dev), minor(dev));
        _cleanup_free_ char *text = NULL;
        char *a, *b;
        int r;

        if (!p)
                return -ENOMEM;
        r = vs_read_file(p, &text, NULL);
        if (r < 0)
                return r;
        /* "[none] mq-deadline bfq", or just "none" for a queue that has no
         * choice. */
        a = strchr(text, '[');
        b = a ? strchr(a, ']') : NULL;
        if (a && b) {
                snprintf(buf, len, "%.*s", (int)(b - a - 1), a + 1);
                return 0;
        }
        text[strcspn(text, " \n")] = '\0';
        snprintf(buf, len, "%s", text);
        return 0;
}

static int write_file(const char *dir, const char *file, const char *value, bool optional, struct vs_error *err)
{
        _cleanup_free_ char *p = vs_strdupf("%s/%s", dir, file);
        int r;

        if (!p)
                return -ENOMEM;
        if (optional && access(p, F_OK) < 0)
                return -ENOENT;
        r = vs_write_file_at(AT_FDCWD, p, value);
        if (r < 0)
                vs_error_set(err, r, "writing \"%s\" to %s: %s", value, p, strerror(-r));
        return r;
}

static const char *io_dir(const struct vs_cgroup *cg, bool *ret_v2)
{
        *ret_v2 = cg->ops == &vs_cgroup_v2_ops;
        return vs_cgroup_controller_path(cg, *ret_v2 ? "io" : "blkio");
}

int vs_cgroup_set_io(struct vs_cgroup *cg, dev_t dev, const struct vs_io_limits *l, unsigned *ret_weight_files,
                     struct vs_error *err)
{
        bool v2;
        const char *dir = io_dir(cg, &v2);
        unsigned weights = 0;
        char buf[160];
        int r;

        if (!dir) {
                return vs_error_set(err, EOPNOTSUPP, "the host has no blkio cgroup controller for the [io] limits");
        }
        if (v2) {
                r = vs_io_max_format(dev, l, buf, sizeof(buf));
                if (r < 0)
                        return r;
                r = write_file(dir, "io.max", buf, false, err);
                if (r == -ENOENT)
                        vs_error_set(err, r,
                                     "the io controller is not enabled for guests under %s (enable it in the "
                                 "parent's cgroup.subtree_control, e.g. start guests from a unit with Delegate=yes)",
                                 dir);
                if (r < 0)
                        return r;
        } else {
                static const char *const files[] = { "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
                                                     "blkio.throttle.read_iops_device",
                                                     "blkio.throttle.write_iops_device" };
                const uint64_t v[] = { l->rbps, l->wbps, l->riops, l->wiops };
                /* v1's throttling is flat: a group's limits bind only the
                 * processes in that very group, not its children. The
                 * guest's processes are in its leaf, which gets them too
                 * (NAME keeps them for the record); the leaf's blkio
                 * directory is not delegated (vs_cgroup_delegate), so the
                 * guest cannot slip out into a child group of its own. */
                _cleanup_free_ char *leaf = vs_strdupf("%s/" VS_CGROUP_LEAF, dir);
                if (!leaf)
                        return -ENOMEM;
                for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                        /* 0 removes the device's rule. */
                        snprintf(buf, sizeof(buf), "%u:%u %" PRIu64, major(dev), minor(dev), v[i]);
                        r = write_file(dir, files[i], buf, false, err);
                        if (r == 0 && access(leaf, F_OK) == 0)
                                r = write_file(leaf, files[i], buf, false, err);
                        if (r < 0)
                                return r;
                }
        }
        if (l->weight) {
                /* bfq's weights run 1..1000, the v1 blkio.weight (cfq, gone
                 * since Linux 5.0) 10..1000: the rest of the range is capped. */
                uint64_t bfq = l->weight > 1000 ? 1000 : l->weight;
                struct {
                        const char *file;
                        uint64_t value;
                        bool v2;
                } w[] = {
                        { "io.weight", l->weight, true },
                        { "io.bfq.weight", bfq, true },
                        { "blkio.weight", bfq < 10 ? 10 : bfq, false },
                        { "blkio.bfq.weight", bfq, false },
                };
                for (size_t i = 0; i < ELEMENTSOF(w); i++) {
                        if (w[i].v2 != v2)
                                continue;
                        snprintf(buf, sizeof(buf), v2 ? "default %" PRIu64 : "%" PRIu64, w[i].value);
                        r = write_file(dir, w[i].file, buf, true, err);
                        if (r == -ENOENT)
                                continue;
                        if (r < 0)
                                return r;
                        weights++;
                }
        }
        if (ret_weight_files)
                *ret_weight_files = weights;
        return 0;
}

bool vs_io_weight_honoured(const struct vs_cgroup *cg, dev_t dev, struct vs_error *err)
{
        char sched[32] = "";

        if (vs_io_scheduler("/sys", dev, sched, sizeof(sched)) == 0 && !strcmp(sched, "bfq"))
                return true;
        if (cg->ops == &vs_cgroup_v2_ops) {
                /* The io cost model (blk-iocost) honours io.weight on any
                 * scheduler where it is enabled for the device. */
                const char *mnt = cg->hier && cg->hier[0].mount && *cg->hier[0].mount ? cg->hier[0].mount
                                                                                        : "/sys/fs/cgroup";
                _cleanup_free_ char *p = vs_strdupf("%s/io.cost.qos", mnt), *text = NULL;
                char want[48];
                snprintf(want, sizeof(want), "%u:%u enable=1", major(dev), minor(dev));
                if (p && vs_read_file(p, &text, NULL) == 0 && strstr(text, want))
                        return true;
        }
        vs_error_set(err, EOPNOTSUPP, "the I/O scheduler of block device %u:%u is \"%s\", which has no proportional share%s",
                 major(dev), minor(dev), *sched ? sched : "unknown",
                 cg->ops == &vs_cgroup_v2_ops ? " (select bfq, or enable io.cost.qos for it)" : " (select bfq)");
        return false;
}

void vs_io_stat_parse_v2(const char *text, dev_t dev, uint64_t *ret_read, uint64_t *ret_written)
{
        uint64_t rd = 0, wr = 0;

        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                const char *eol = strchrnul(l, '\n'), *p;
                dev_t d;

                p = parse_dev(l, &d);
                if (!p || (dev && d != dev))
                        continue;
                while (p && p < eol) {
                        p += strspn(p, " ");
                        if (!strncmp(p, "rbytes=", 7))
                                rd += strtoull(p + 7, NULL, 10);
                        else if (!strncmp(p, "wbytes=", 7))
                                wr += strtoull(p + 7, NULL, 10);
                        p = strchr(p, ' ');
                }
        }
        *ret_read = rd;
        *ret_written = wr;
}

void vs_io_stat_parse_v1(const char *text, dev_t dev, uint64_t *ret_read, uint64_t *ret_written)
{
        uint64_t rd = 0, wr = 0;

        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                const char *p;
                dev_t d;

                p = parse_dev(l, &d);
                if (!p || (dev && d != dev))
                        continue;
                p += strspn(p, " ");
                if (!strncmp(p, "Read ", 5))
                        rd += strtoull(p + 5, NULL, 10);
                else if (!strncmp(p, "Write ", 6))
                        wr += strtoull(p + 6, NULL, 10);
        }
        *ret_read = rd;
        *ret_written = wr;
}

int vs_cgroup_read_io(const struct vs_cgroup *cg, dev_t dev, uint64_t *ret_read, uint64_t *ret_written)
{
        bool v2;
        const char *dir = io_dir(cg, &v2);
        _cleanup_free_ char *text = NULL;
        int r;

        if (!dir)
                return -EOPNOTSUPP;
        /* v2's io.stat counts the group's descendants too; in v1 only the
         * _recursive file does. */
        r = vs_read_filef(&text, "%s/%s", dir, v2 ? "io.stat" : "blkio.throttle.io_service_bytes_recursive");
        if (r < 0)
                return r;
        if (v2)
                vs_io_stat_parse_v2(text, dev, ret_read, ret_written);
        else
                vs_io_stat_parse_v1(text, dev, ret_read, ret_written);
        return 0;
}
