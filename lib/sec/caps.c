/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Capability names and the caller's own set, without libcap. */
#include "autoconfig.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"
#include "cleanup.h"
#include "util.h"

/* The kernel's names (capabilities(7)), by number, without "CAP_". */
static const char *const cap_names[] = {
        [CAP_CHOWN] = "chown",
        [CAP_DAC_OVERRIDE] = "dac_override",
        [CAP_DAC_READ_SEARCH] = "dac_read_search",
        [CAP_FOWNER] = "fowner",
        [CAP_FSETID] = "fsetid",
        [CAP_KILL] = "kill",
        [CAP_SETGID] = "setgid",
        [CAP_SETUID] = "setuid",
        [CAP_SETPCAP] = "setpcap",
        [CAP_LINUX_IMMUTABLE] = "linux_immutable",
        [CAP_NET_BIND_SERVICE] = "net_bind_service",
        [CAP_NET_BROADCAST] = "net_broadcast",
        [CAP_NET_ADMIN] = "net_admin",
        [CAP_NET_RAW] = "net_raw",
        [CAP_IPC_LOCK] = "ipc_lock",
        [CAP_IPC_OWNER] = "ipc_owner",
        [CAP_SYS_MODULE] = "sys_module",
        [CAP_SYS_RAWIO] = "sys_rawio",
        [CAP_SYS_CHROOT] = "sys_chroot",
        [CAP_SYS_PTRACE] = "sys_ptrace",
        [CAP_SYS_PACCT] = "sys_pacct",
        [CAP_SYS_ADMIN] = "sys_admin",
        [CAP_SYS_BOOT] = "sys_boot",
        [CAP_SYS_NICE] = "sys_nice",
        [CAP_SYS_RESOURCE] = "sys_resource",
        [CAP_SYS_TIME] = "sys_time",
        [CAP_SYS_TTY_CONFIG] = "sys_tty_config",
        [CAP_MKNOD] = "mknod",
        [CAP_LEASE] = "lease",
        [CAP_AUDIT_WRITE] = "audit_write",
        [CAP_AUDIT_CONTROL] = "audit_control",
        [CAP_SETFCAP] = "setfcap",
        [CAP_MAC_OVERRIDE] = "mac_override",
        [CAP_MAC_ADMIN] = "mac_admin",
        [CAP_SYSLOG] = "syslog",
        [CAP_WAKE_ALARM] = "wake_alarm",
        [CAP_BLOCK_SUSPEND] = "block_suspend",
        [CAP_AUDIT_READ] = "audit_read",
        [38] = "perfmon",
        [39] = "bpf",
        [40] = "checkpoint_restore",
};

const char *vs_caps_name(int cap, char *buf, size_t len)
{
        if (cap >= 0 && (size_t)cap < ELEMENTSOF(cap_names) && cap_names[cap])
                return cap_names[cap];
        snprintf(buf, len, "%d", cap);
        return buf;
}

int vs_caps_from_name(const char *name, int *ret)
{
        const char *n = strncasecmp(name, "cap_", 4) == 0 ? name + 4 : name;
        char *end;
        long v;

        for (size_t i = 0; i < ELEMENTSOF(cap_names); i++)
                if (cap_names[i] && strcasecmp(n, cap_names[i]) == 0) {
                        *ret = (int)i;
                        return 0;
                }
        /* A capability newer than this table, by number. */
        errno = 0;
        v = strtol(n, &end, 10);
        if (errno || end == n || *end || v < 0 || v > 63)
                return -EINVAL;
        *ret = (int)v;
        return 0;
}

bool vs_caps_have(int cap)
{
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2];

        if (cap < 0 || cap > 63 || syscall(SYS_capget, &h, d) < 0)
                return false;
        return d[cap / 32].effective & (UINT32_C(1) << (cap % 32));
}
