/*
 * util.h - small helpers every host module uses: status words, error
 * messages into caller-owned buffers, strings, whole-file I/O and atomic
 * writes.
 */
#ifndef BBT_UTIL_H
#define BBT_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <bbtbench/status.h>

#if defined(__GNUC__)
#define BBT_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define BBT_PRINTF(fmt, args)
#endif

/* bbt_status_str() and bbt_error(), the status words and the one error
 * helper, are in <bbtbench/status.h>, shared with the plugins. */

/* Prefix an existing message in err with "prefix: " (truncating if needed). */
void bbt_error_prefix(char *err, size_t errlen, const char *fmt, ...) BBT_PRINTF(3, 4);

/* malloc'ed copies; NULL on out of memory (or when s is NULL). */
char *bbt_strdup(const char *s);
char *bbt_strndup(const char *s, size_t n);
/* s without leading and trailing white space: trailing cut in place. */
char *bbt_trim(char *s);
/* malloc'ed printf; NULL on out of memory. */
char *bbt_asprintf(const char *fmt, ...) BBT_PRINTF(1, 2);

/* Path join "a/b" (b absolute: b alone). malloc'ed. */
char *bbt_path_join(const char *dir, const char *name);

/* Whole file into a malloc'ed, NUL-terminated buffer. BBT_EIO with
 * "path: strerror" on failure. */
int bbt_file_read(const char *path, char **data, size_t *len, char *err, size_t errlen);

/* Write data to path atomically: path.tmp.<pid> then rename(2), so a reader
 * (or a crash) never sees half a file. */
int bbt_file_write_atomic(const char *path, const void *data, size_t len,
                          char *err, size_t errlen);
/* The same without fsync(2): a killed process still leaves the old file or
 * the new one, but a machine crash may leave the new one short, so only for
 * files that are rewritten often and check themselves (a checkpoint). */
int bbt_file_write_atomic_nosync(const char *path, const void *data, size_t len,
                                 char *err, size_t errlen);

/* mkdir -p. */
int bbt_mkdir_p(const char *path, char *err, size_t errlen);

/* 1 if s is valid UTF-8 (no overlongs, no surrogates), else 0; *bad gets
 * the byte offset of the first invalid byte. */
int bbt_utf8_valid(const char *s, size_t len, size_t *bad);

/* Parse a whole string as a number; 0 on success, -1 if s is not entirely
 * a number (or out of range). */
int bbt_parse_long(const char *s, long *out);
int bbt_parse_double(const char *s, double *out);
int bbt_parse_bool(const char *s, int *out);

/* 1 if value is one of the '|'-separated words of choices ("ce|hinge|perf"). */
int bbt_choice_valid(const char *choices, const char *value);

/* 1 if name may be one folder of a results path (an experiment, a task):
 * letters, digits, '.', '_' and '-', not starting with '.', so that it can
 * never be "..", hidden, absolute or split by a '/'. BBT_PLAIN_WORD says
 * so in messages and --help. */
int bbt_name_is_plain(const char *name);
#define BBT_PLAIN_WORD "a plain word (letters, digits, '.', '_', '-'; not starting with '.')"

/* 1 if name is a stem of one or more characters followed by ext ("a.la"
 * with ".la"; not ".la" itself, which has no stem). */
int bbt_has_extension(const char *name, const char *ext);

/* s as one CSV field (RFC 4180): quoted when it holds a comma, a quote or
 * a line break, a quote doubled. */
void bbt_csv_field(FILE *f, const char *s);

/* 64-bit FNV-1a hash of a byte string. */
unsigned long long bbt_hash64(const void *data, size_t len, unsigned long long h);
#define BBT_HASH64_INIT 0xcbf29ce484222325ULL

/* Seconds since an arbitrary start (monotonic clock). */
double bbt_now(void);

#endif /* BBT_UTIL_H */
