/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The [disk] section: where a guest's root lives (layout) and how big it
 * may grow (size: an image's size, or a project quota on a tree). */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-parse.h"
#include "config.h"
#include "util.h"

static const char *const layout_names[] = {
        [VS_LAYOUT_DEFAULT] = "",
        [VS_LAYOUT_DIR] = "dir",
        [VS_LAYOUT_IMAGE] = "image",
        [VS_LAYOUT_SHARED] = "shared",
};

const char *vs_layout_name(int layout)
{
        if (layout == VS_LAYOUT_DEFAULT)
                return "dir";
        if (layout < 0 || (size_t)layout >= sizeof(layout_names) / sizeof(layout_names[0]))
                return "?";
        return layout_names[layout];
}

int vs_parse_layout(const char *v, void *field, uint64_t min, uint64_t max, struct vs_error *err)
{
        (void)min;
        (void)max;
        return vs_config_store_enum(field, v, layout_names, VS_LAYOUT_DIR, VS_LAYOUT_SHARED, "dir, image or shared", err);
}

char *vs_format_layout(const void *field)
{
        int l = *(const int *)field;
        if (l == VS_LAYOUT_DEFAULT)
                return NULL;
        return strdup(vs_layout_name(l));
}

int vs_config_layout(const struct vs_config *c)
{
        if (c->disk_layout != VS_LAYOUT_DEFAULT)
                return c->disk_layout;
        return c->disk_size ? VS_LAYOUT_IMAGE : VS_LAYOUT_DIR;
}

int vs_config_check_disk(const struct vs_config *c, struct vs_error *err)
{
        const char *msg = NULL;

        /* A size on layout dir or shared is a project quota on the tree
         * (vserver/guest-quota.c); the filesystem's support is checked where the
         * quota is set, not here. */
        if (c->disk_layout == VS_LAYOUT_IMAGE && !c->disk_size)
                msg = "layout \"image\" needs a size (disk.size)";
        else if (c->disk_project && vs_config_layout(c) == VS_LAYOUT_IMAGE)
                msg = "layout \"image\" has a size of its own: a project id is for layouts dir and shared";
        if (!msg)
                return 0;
        if (err) {
                err->code = EINVAL;
                snprintf(err->key, sizeof(err->key), "disk.%s", c->disk_project ? "project" : "size");
                snprintf(err->msg, sizeof(err->msg), "%s", msg);
        }
        return -EINVAL;
}
