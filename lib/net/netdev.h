/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Brings the loopback interface of the caller's network namespace up. */
int vs_netdev_loopback_up(void);
