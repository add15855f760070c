/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "config.h"
#include "mount.h"

/* Readiness. The supervisor offers the guest's init a notify socket, as
 * systemd-nspawn does: an AF_UNIX datagram socket bound on the host as
 * RUNDIR/notify and bind-mounted into the guest at /run/host/notify, named in
 * init's environment as NOTIFY_SOCKET. systemd sends READY=1 there once its
 * boot is complete. A guest is "ready" when RUNDIR/ready exists: written on
 * READY=1 from the guest's init, or as soon as init runs for an init that
 * cannot notify (sysvinit, the test init). */

#define VS_NOTIFY_GUEST_PATH "/run/host/notify"

/* Adds the bind mount of the notify socket to the plan; it goes after the
 * guest's /run tmpfs. */
int vs_notify_plan(struct vs_mount_plan *p, const char *rundir);

struct vs_notify {
        int fd;           /* the listening socket, -1 when closed */
        pid_t init_pid;   /* only messages from the guest's init count */
        const char *rundir;
        bool ready;
        bool forward;     /* also send READY=1 to our own $NOTIFY_SOCKET */
};

/* Binds RUNDIR/notify (SO_PASSCRED, non-blocking). With @forward, readiness
 * is passed on to the manager that started us (systemd's Type=notify). */
int vs_notify_open(struct vs_notify *n, const char *rundir, bool forward);

/* Called once the guest's init runs: an init that cannot notify is ready now. */
int vs_notify_started(struct vs_notify *n, pid_t init_pid, bool init_notifies);

/* Messages vs_notify_dispatch() reads at most per call. */
#define VS_NOTIFY_BATCH 8

/* Reads what is queued on the socket, VS_NOTIFY_BATCH messages at most (the
 * poll loop calls again while more is queued); returns 1 when the guest just
 * became ready, 0 otherwise. */
int vs_notify_dispatch(struct vs_notify *n);

void vs_notify_close(struct vs_notify *n);

/* Whether the guest's init is systemd, which reports READY=1: @c's init
 * resolves, inside @rootfs, to a path naming systemd. Only the link text is
 * read, never followed from the host side. */
bool vs_init_notifies(const struct vs_config *c, const char *rootfs);

/* Sends @msg to $NOTIFY_SOCKET, if set. Returns 1 when sent, 0 when there is
 * no socket, -errno on failure. */
int vs_notify_manager(const char *msg);

/* 1 when guest @name is ready, 0 when it runs but is not ready yet, -ESRCH
 * when it does not run. */
int vs_guest_ready(const char *name);
