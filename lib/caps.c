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

#define C(x) (UINT64_C(1) << (x))

uint64_t vs_caps_default_keep(void)
{
        return C(CAP_CHOWN) | C(CAP_DAC_OVERRIDE) | C(CAP_DAC_READ_SEARCH) | C(CAP_FOWNER) | C(CAP_FSETID) |
               C(CAP_IPC_OWNER) | C(CAP_KILL) | C(CAP_LEASE) | C(CAP_LINUX_IMMUTABLE) | C(CAP_MKNOD) |
               C(CAP_NET_ADMIN) | C(CAP_NET_BIND_SERVICE) | C(CAP_NET_BROADCAST) | C(CAP_NET_RAW) |
               C(CAP_SETFCAP) | C(CAP_SETGID) | C(CAP_SETPCAP) | C(CAP_SETUID) | C(CAP_SYS_ADMIN) |
               C(CAP_SYS_BOOT) | C(CAP_SYS_CHROOT) | C(CAP_SYS_NICE) | C(CAP_SYS_PTRACE) |
               C(CAP_SYS_RESOURCE) | C(CAP_SYS_TTY_CONFIG) | C(CAP_AUDIT_WRITE);
}

int vs_caps_limit_bounding(uint64_t keep)
{
        int last = (int)cap_max_bits() - 1;

        for (int c = 0; c <= last && c < 64; c++) {
                if (keep & C(c))
                        continue;
                if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
                        return -errno;
        }
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return -errno;
        /* An inheritable capability outside the bounding set would survive
         * exec of a file with inheritable file caps: clear them all. */
        cap_t c = cap_get_proc();
        if (!c)
                return -errno;
        if (cap_clear_flag(c, CAP_INHERITABLE) < 0 || cap_set_proc(c) < 0) {
                int r = -errno;
                cap_free(c);
                return r;
        }
        cap_free(c);
        return 0;
}

int vs_caps_read_bounding(pid_t pid, uint64_t *ret)
{
        _cleanup_free_ char *v = NULL;
        int r = vs_proc_status_field(pid, "CapBnd", &v);

        if (r < 0)
                return r;
        *ret = strtoull(v, NULL, 16);
        return 0;
}

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
