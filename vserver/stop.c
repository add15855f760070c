/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "autoconfig.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "paths.h"
#include "pidfd.h"
#include "state.h"
#include "util.h"

static bool wait_fd(int fd, int ms)
{
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r;
        do
                r = poll(&p, 1, ms);
        while (r < 0 && errno == EINTR);
        return r > 0;
}

int vs_guest_stop(const char *name, unsigned timeout_sec, struct vs_error *err)
{
        return vs_guest_stop_full(name, timeout_sec, NULL, err);
}

int vs_guest_stop_full(const char *name, unsigned timeout_sec, bool *ret_killed, struct vs_error *err)
{
        _cleanup_close_ int init_fd = -1, sup_fd = -1, lock = -1;
        struct vs_guest_info info = { 0 };
        struct vs_state st = { 0 };
        bool killed = false;
        int r;

        /* A build or destroy holds the lock for a while: 5 s, then busy. A
         * start (it made the run directory) ends within its start_timeout,
         * a hanging one too (see vs_supervisor_run): wait for that. */
        uint64_t busy_wait = 5;
        {
                /* A config that no longer parses must not keep a guest running. */
                _cleanup_config_ struct vs_config *c = NULL;
                _cleanup_free_ char *run = vs_run_path(name);
                bool ok = vs_load_guest_config(name, &c, NULL) == 0;

                if (timeout_sec == VS_STOP_TIMEOUT_CONFIG)
                        timeout_sec = ok ? (unsigned)c->stop_timeout : 60;
                if (run && access(run, F_OK) == 0)
                        busy_wait = (ok ? c->start_timeout : 60) + 10;
        }

        for (struct vs_deadline d = vs_deadline_in((unsigned)(busy_wait * 1000u), 10);;) {
                r = vs_guest_info(name, &info, err);
                if (r < 0)
                        return r;
                if (info.state != VS_GUEST_STARTING || !vs_deadline_wait(&d))
                        break;
                vs_guest_info_clear(&info);
        }
        if (info.state == VS_GUEST_STARTING) {
                vs_guest_info_clear(&info);
                return vs_error_set(err, EBUSY, "Guest \"%s\" is busy (being built, started or destroyed)", name);
        }
        if (info.state == VS_GUEST_STOPPED) {
                vs_guest_info_clear(&info);
                return 0;
        }
        if (info.state == VS_GUEST_STALE) {
                /* Its supervisor died: only its leftovers remain to clear. */
                vs_guest_info_clear(&info);
                goto cleanup;
        }
        vs_guest_info_clear(&info);
        r = vs_state_read(name, &st);
        if (r < 0)
                return 0;
        sup_fd = vs_pidfd_open_started(st.supervisor_pid, st.supervisor_starttime);
        init_fd = vs_pidfd_open_started(st.init_pid, st.init_starttime);
        if (init_fd >= 0) {
                r = vs_pidfd_signal(init_fd, st.halt_signal);
                if (r < 0 && r != -ESRCH) {
                        vs_state_clear(&st);
                        return vs_error_set(err, r, "Cannot signal the init of \"%s\": %s", name, strerror(-r));
                }
                /* The supervisor exits once init is gone and all is torn down. */
                if (sup_fd < 0 || !wait_fd(sup_fd, (int)timeout_sec * 1000)) {
                        /* Killing a PID namespace's init kills everything in it. */
                        killed = vs_pidfd_signal(init_fd, SIGKILL) == 0;
                        if (sup_fd >= 0)
                                wait_fd(sup_fd, 10000);
                }
        }
        if (sup_fd >= 0 && !wait_fd(sup_fd, 10000)) {
                /* A supervisor that outlives its init by this much is stuck. */
                (void)vs_pidfd_signal(sup_fd, SIGKILL);
                wait_fd(sup_fd, 5000);
        }
        vs_state_clear(&st);

cleanup:
        /* Whatever the supervisor could not remove, remove it now. */
        struct vs_deadline d = vs_deadline_in(5000, 10);
        do
                r = vs_guest_lock(name, false, &lock);
        while (r == -EBUSY && vs_deadline_wait(&d));
        if (r < 0) {
                vs_error_set(err, ETIMEDOUT, "Guest \"%s\" did not stop", name);
                return r == -EBUSY ? -ETIMEDOUT : r;
        }
        if (ret_killed)
                *ret_killed = killed;
        return vs_guest_cleanup(name);
}
