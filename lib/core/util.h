/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VS_NAME_MAX 64

/* Returns true when @name is a valid guest name: [A-Za-z0-9][A-Za-z0-9_.-]*,
 * at most VS_NAME_MAX characters. Names become file and cgroup names, so
 * nothing path-like gets through. */
bool vs_name_valid(const char *name);

/* Parses a size with an optional K/M/G/T suffix (powers of 1024) into bytes.
 * Rejects empty strings, signs, whitespace, fractions, unknown suffixes and
 * overflow with -EINVAL or -ERANGE. */
int vs_parse_size(const char *s, uint64_t *ret);
/* BYTES as 1.5G / 300M / 12K / 7B into BUF; returns BUF. */
char *vs_human_size(uint64_t bytes, char *buf, size_t len);

/* Parses a plain decimal unsigned integer within [min, max]. */
int vs_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/* Parses yes/no/true/false/1/0/on/off. */
int vs_parse_bool(const char *s, bool *ret);

/* Parses a signal name ("SIGRTMIN+3", "RTMIN+3", "SIGPWR", "PWR") or number. */
int vs_parse_signal(const char *s, int *ret);
/* Formats a signal as its name into buf (at least 16 bytes). */
const char *vs_signal_name(int sig, char *buf, size_t len);

/* Reads a whole small file into a NUL-terminated buffer. */
int vs_read_file(const char *path, char **ret, size_t *ret_len);
/* vs_read_file() of the path printf() makes of @fmt, NUL-terminated text
 * in @ret: -ENOMEM when the path cannot be made. */
int vs_read_filef(char **ret, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vs_read_file_at(int dirfd, const char *path, char **ret, size_t *ret_len);
/* The text after "FIELD:" in /proc/PID/status (e.g. "CapBnd"), blanks skipped. */
int vs_proc_status_field(pid_t pid, const char *field, char **ret);
/* The number at the start of that field, in @base (16: "CapBnd", 10:
 * "Seccomp", "VmRSS" in kB). */
int vs_proc_status_uint(pid_t pid, const char *field, int base, uint64_t *ret);
/* Opens (creating, mode 0600) and exclusively flocks the file @path,
 * waiting for it; returns the fd (close it to unlock) or -errno. */
int vs_lock_file(const char *path);
/* Writes @s to an existing file (no O_CREAT), as cgroup and proc files want. */
int vs_write_file_at(int dirfd, const char *path, const char *s);
/* Writes a file atomically: temp file in the same directory, fsync, rename. */
int vs_write_file_atomic(const char *path, const char *content, mode_t mode);
/* The same without fsync, for run state that does not outlive a reboot:
 * readers still see the old or the new file, never a torn one. */
int vs_write_file_replace(const char *path, const char *content, mode_t mode);

/* Creates a directory and its parents; existing directories are fine. */
int vs_mkdir_p(const char *path, mode_t mode);
/* Like vs_mkdir_p(), but the last directory is private: made 0700, and
 * chmod'ed to 0700 when it exists with a more open mode. For the trees that
 * hold guests, which guest root fills with setuid files. */
int vs_mkdir_private(const char *path);

/* Removes a tree without crossing mount points or following symlinks. */
int vs_rm_rf(const char *path);

/* Returns the start time of @pid (field 22 of /proc/PID/stat, clock ticks
 * since boot), so a pid can be told apart from a later reuse. */
int vs_proc_starttime(pid_t pid, uint64_t *ret);
/* Same, and the process state letter (field 3: R, S, Z, ...). */
int vs_proc_stat(pid_t pid, char *ret_state, uint64_t *ret_starttime);

/* Closes every fd >= @from except @keep (may be -1). */
void vs_close_all_fds(int from, int keep);

/* Joins a NULL-terminated vector with @sep; splits @s on @sep. */
char *vs_strv_join(char **v, const char *sep);
char **vs_strv_split(const char *s, const char *sep);
size_t vs_strv_length(char **v);

/* Like asprintf, returning NULL on failure. */
char *vs_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reads @path, a file of key=value lines (the run state's files), and calls
 * @fn for each line with a '=' in it, with the key and the value (both
 * NUL-terminated, valid during the call); other lines are skipped. Stops at
 * @fn's first negative return and returns it; else 0, or -errno of the read. */
int vs_kv_file_read(const char *path, int (*fn)(char *key, char *value, void *arg), void *arg);

/* Monotonic time in microseconds. */
uint64_t vs_now_usec(void);

/* Retrying until a deadline, the one way to wait for something the kernel
 * or another process finishes on its own (a cgroup emptying, a lock freed,
 * a state file written):
 *
 *   struct vs_deadline d = vs_deadline_in(5000, 10);
 *   do r = try_it(); while (r == -EBUSY && vs_deadline_wait(&d));
 *
 * Time, not a count of tries: on a loaded host each try takes longer, and
 * a count would stretch the wait with it. */
struct vs_deadline {
        uint64_t end_usec;
        unsigned step_ms;
};
struct vs_deadline vs_deadline_in(unsigned total_ms, unsigned step_ms);
/* Sleeps one step and returns true, or returns false at once when the
 * deadline has passed (the last try was made at or after it). */
bool vs_deadline_wait(struct vs_deadline *d);
