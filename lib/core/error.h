/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>

/* The one error object, from lib/ through vserver/ to the command that
 * prints it (doc/design.md §8). A function that can fail returns 0 or a
 * negative errno; where it knows more than strerror() says (the file, key,
 * guest or device), it also fills the caller's struct vs_error, which the
 * command prints once. Every function taking one accepts NULL: the caller
 * wants only the errno. */
struct vs_error {
        int code;          /* the errno (positive), 0 when there is none */
        unsigned line;     /* config and fstab parsers: the line, 0 when none */
        char key[96];      /* config parsers: "section.key", empty when none */
        char msg[1024];
};

/* Sets @err's errno to @code (either sign; 0 becomes EIO, so that a
 * failure never returns 0) and its message from @fmt; line and key are
 * cleared. Returns the negative errno, so a failure reads
 * `return vs_error_set(err, EINVAL, "Bad \"%s\"", name);`. */
int vs_error_set(struct vs_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Puts "@fmt: " before the message a callee left in @err for the failure
 * @r (the file, the guest, the step the detail came from); returns @r as a
 * negative errno, which becomes @err's errno, so a caller reads
 * `return vs_error_prefix(err, r, "Guest \"%s\"", name);`. */
int vs_error_prefix(struct vs_error *err, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Turns a parser's error (line, key, reason) into its final text
 * "FILE:LINE: key "K": REASON" (":LINE" and "key ..." only when set),
 * naming @file; line and key are cleared so it is done once. Returns @r as
 * vs_error_prefix() does. */
int vs_error_locate(struct vs_error *err, int r, const char *file);

/* Clears @err (NULL allowed). */
void vs_error_clear(struct vs_error *err);

/* Between a forked child and its parent, over a pipe: the child writes its
 * error as one record "ERRNO MESSAGE" (a single write, so a pipe keeps it
 * whole) and exits; the parent reads the record (to the pipe's end, or as
 * far as its own deadline lets it) and parses it back. The trampoline
 * (lib/trampoline.c, a program of its own) writes the same record. */
int vs_error_send(int fd, const struct vs_error *err);
/* Parses a record into @err (its text after the number; all of it when
 * there is no number) and returns the negative errno, -EIO when the record
 * names none. */
int vs_error_parse(const char *text, struct vs_error *err);
/* Reads a record from @fd up to the writer's end and parses it: 0 with
 * @err cleared when nothing came. */
int vs_error_recv(int fd, struct vs_error *err);
