/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <ctype.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "caps.h"
#include "cleanup.h"
#include "util.h"

int vs_caps_from_name(const char *name, int *ret)
{
        cap_value_t v;
        _cleanup_free_ char *n = NULL;

        if (strncasecmp(name, "cap_", 4) != 0)
                n = vs_strdupf("cap_%s", name);
        else
                n = strdup(name);
        if (!n)
                return -ENOMEM;
        for (char *p = n; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        if (cap_from_name(n, &v) < 0)
                return -EINVAL;
        *ret = (int)v;
        return 0;
}

bool vs_caps_have(int cap)
{
        cap_flag_value_t v = CAP_CLEAR;
        cap_t c = cap_get_proc();
        if (!c)
                return false;
        if (cap_get_flag(c, (cap_value_t)cap, CAP_EFFECTIVE, &v) < 0)
                v = CAP_CLEAR;
        cap_free(c);
        return v == CAP_SET;
}
