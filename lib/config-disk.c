/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The [disk] section: where a guest's root lives (layout) and how big an
 * image may grow (size). */
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

int vs_parse_layout(const char *v, void *field, uint64_t min, uint64_t max, char *why, size_t len)
{
        (void)min;
        (void)max;
        for (int i = VS_LAYOUT_DIR; i <= VS_LAYOUT_SHARED; i++)
                if (strcmp(v, layout_names[i]) == 0) {
                        *(int *)field = i;
                        return 0;
                }
        snprintf(why, len, "expected dir, image or shared, not \"%s\"", v);
        return -EINVAL;
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

int vs_config_check_disk(const struct vs_config *c, struct vs_config_error *err)
{
        const char *msg = NULL;

        if (c->disk_layout == VS_LAYOUT_IMAGE && !c->disk_size)
                msg = "layout \"image\" needs a size (disk.size)";
        else if (c->disk_size && (c->disk_layout == VS_LAYOUT_DIR || c->disk_layout == VS_LAYOUT_SHARED))
                msg = c->disk_layout == VS_LAYOUT_DIR
                              ? "a size limit needs layout \"image\" (a plain directory has no size of its own)"
                              : "a size limit needs layout \"image\" (an overlay cannot limit its upper layer)";
        if (!msg)
                return 0;
        if (err) {
                snprintf(err->key, sizeof(err->key), "disk.%s", c->disk_layout == VS_LAYOUT_IMAGE ? "size" : "layout");
                snprintf(err->message, sizeof(err->message), "%s", msg);
        }
        return -EINVAL;
}
