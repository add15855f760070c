/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "config.h"
#include "guest.h"

/* First-boot access: root's SSH keys and password, the name servers and the
 * time zone, kept in [guest] (ssh_keys, root_password_hash, dns, timezone)
 * and written into the tree by every build of the guest: from a template,
 * a --clone's copy, a --from-tar import. */
struct vs_provision {
        char *keys;      /* validated authorized_keys lines, one key each; NULL: none */
        char *zone_file; /* the host's zone file, for a guest without tzdata */
        size_t zone_len;
};

/* Reads and checks what @o and @c ask for before anything is made: the key
 * files of --ssh-key and of guest.ssh_keys, the password file (hashed into
 * c->root_password_hash; the cleartext is wiped), the time zone against the
 * host's zoneinfo. Errors name the file or the option. */
int vs_provision_prepare(const struct vs_build_opts *o, struct vs_config *c, struct vs_provision *p,
                         struct vs_error *err);

/* Writes the settings into the tree of the guest being built in @dir (of
 * @layout), each file owned as its neighbours are (the guest's ids on disk:
 * shifted or not). */
int vs_provision_apply(const char *dir, int layout, const struct vs_config *c, const struct vs_provision *p,
                       struct vs_error *err);

/* Saves the keys in vs-build's copy (vs_provision_keys_path()) and points
 * guest.ssh_keys at it (without keys, removes a copy left by the guest
 * this build replaces); called once the tree is complete, just before the
 * config is written. */
int vs_provision_commit(const char *name, struct vs_config *c, const struct vs_provision *p, struct vs_error *err);

/* CONFDIR/NAME.ssh_keys. */
char *vs_provision_keys_path(const char *name);

void vs_provision_done(struct vs_provision *p);
