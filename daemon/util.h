/* Small shared helpers: cleanup attributes, the error carrier, growable buffers and the
 * duration/size parsers that config, models and query strings all use. */
#pragma once

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <pthread.h>
#include <time.h>

#define CMS_VERSION "0.1.0"

#define ELEMENTSOF(x)    (sizeof(x) / sizeof((x)[0]))
#define CMS_UNUSED       __attribute__((unused))
#define CMS_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Hands an owned pointer out of a cleanup-guarded variable. */
#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) _tp_ = (p);                                                          \
                (p) = NULL;                                                                        \
                _tp_;                                                                              \
        })

static inline void cms_freep(void *p)
{
        free(*(void **)p);
}
static inline void cms_json_putp(json_object **p)
{
        if (*p)
                json_object_put(*p);
}
static inline void cms_fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}
#define _cleanup_free_   __attribute__((cleanup(cms_freep)))
#define _cleanup_json_   __attribute__((cleanup(cms_json_putp)))
#define _cleanup_fclose_ __attribute__((cleanup(cms_fclosep)))

/* The reason a call failed, in the API's terms: an HTTP status, its stable code, a message. */
struct cms_error {
        int status;
        const char *code;
        char message[512];
        int retry_after; /* seconds; set for 503 */
        /* policy_denied only: the policy rule and the request's field it refused */
        char rule[32];
        char field[256];
};

/* Fills err (may be NULL) and returns the negative errno matching status. */
int cms_err(struct cms_error *err, int status, const char *fmt, ...) CMS_PRINTF(3, 4);
/* The stable code for an HTTP status ("not_found" for 404...). */
const char *cms_status_code(int status);
void cms_error_clear(struct cms_error *err);
/* 403 policy_denied naming the rule and the field path; returns -EPERM. */
int cms_err_policy(struct cms_error *err, const char *rule, const char *field, const char *fmt, ...)
    CMS_PRINTF(4, 5);

/* A growable byte buffer with a hard cap; append fails with -E2BIG past the cap. */
struct cms_buf {
        char *data;
        size_t len, cap, max;
};
void cms_buf_init(struct cms_buf *b, size_t max);
/* Makes room for extra more bytes and the NUL after them (doubling, from 256): -E2BIG past the
 * cap, -ENOMEM. For writers that copy a piece in at once instead of appending. */
int cms_buf_reserve(struct cms_buf *b, size_t extra);
int cms_buf_append(struct cms_buf *b, const void *p, size_t n);
int cms_buf_printf(struct cms_buf *b, const char *fmt, ...) CMS_PRINTF(2, 3);
char *cms_buf_take(struct cms_buf *b); /* NUL-terminated, owned by caller */
void cms_buf_free(struct cms_buf *b);
static inline void cms_buf_freep(struct cms_buf *b)
{
        cms_buf_free(b);
}
#define _cleanup_buf_ __attribute__((cleanup(cms_buf_freep)))
/* A whole file of at most max bytes into *out (NUL-terminated; *len its length, len may be
 * NULL): -ENOENT (err untouched) when it is not there, else a 400 naming the file when it cannot
 * be read or is larger. The buffers it used are wiped (a file may hold a secret). */
int cms_read_file(const char *path, size_t max, char **out, size_t *len, struct cms_error *err);

/* Go-style durations ("1m30s", "500ms", "2h") or a bare integer (seconds) -> milliseconds. */
int cms_parse_duration_ms(const char *s, int64_t *out_ms);
/* Sizes: integer bytes or "512m", "2g", "64k", "1.5g" (binary units) -> bytes. */
int cms_parse_size(const char *s, int64_t *out);
/* A JSON value that is an integer or a string, through the parsers above. */
int cms_json_duration_ms(json_object *v, int64_t *out_ms);
int cms_json_size(json_object *v, int64_t *out);
/* "1|true|0|false" (also yes/no); -EINVAL otherwise. */
int cms_parse_bool(const char *s, bool *out);
/* Strict decimal integer in [min,max]. */
int cms_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);

/* Formats milliseconds back as a Go-style duration ("1m30s"). */
void cms_format_duration(int64_t ms, char *buf, size_t n);

char *cms_strdup_printf(const char *fmt, ...) CMS_PRINTF(1, 2);
bool cms_str_has_prefix(const char *s, const char *prefix);
/* SHA-256 (nettle's, the crypto library under GnuTLS and libarchive that cmsd links already):
 * token digests, config and snapshot checksums, the audit chain, certificate fingerprints. */
#define CMS_SHA256_LEN 32
void cms_sha256(const void *data, size_t n, unsigned char out[CMS_SHA256_LEN]);
/* Lower-case hex of a digest, NUL-terminated (65 bytes). */
void cms_sha256_hex(const unsigned char digest[CMS_SHA256_LEN], char out[2 * CMS_SHA256_LEN + 1]);
/* Constant-time comparison of two digests (nettle's memeql_sec): the time says nothing of where
 * they differ. */
bool cms_digest_eq(const unsigned char a[CMS_SHA256_LEN], const unsigned char b[CMS_SHA256_LEN]);
/* RFC 4648 base64url with padding (nettle's encoder), malloc'd; NULL when out of memory. */
char *cms_base64url_encode(const void *data, size_t len);
/* The same with the standard alphabet (+ and /), as JSON carries bytes for Go programs. */
char *cms_base64_encode(const void *data, size_t len);
/* Monotonic clock in milliseconds. */
int64_t cms_now_ms(void);

/* mkdir -p: the missing parents 0755, the last one `last`. 0 or -errno. */
int cms_mkdir_p(const char *dir, unsigned last);
/* write() until all of p is out (EINTR retried). 0 or -errno. */
int cms_write_all(int fd, const char *p, size_t n);
/* path replaced by n bytes of p, atomically: a temporary file (mode) in the same directory,
 * written, fsynced and renamed over path, so a reader sees the old file or the new, never a
 * part. 0 or -errno (the temporary file removed). */
int cms_write_file_atomic(const char *path, const char *p, size_t n, unsigned mode);

/* Checks that o is an object whose keys are all in allowed (NULL-terminated); what names it in
 * the 400 message ("body", "network"). o == NULL passes. */
int cms_json_check_keys(json_object *o, const char *what, const char *const *allowed,
                        struct cms_error *err);
/* Reads an optional boolean member; 400 naming what.key when it is not a boolean. */
int cms_json_get_bool(json_object *o, const char *what, const char *key, bool def, bool *out,
                      struct cms_error *err);
/* Reads a member as a string (NULL when absent); 400 when present but not a string. */
int cms_json_get_string(json_object *o, const char *what, const char *key, const char **out,
                        struct cms_error *err);

/* Percent-encodes everything but unreserved characters (RFC 3986); NULL on OOM. */
char *cms_url_escape(const char *s);
/* "since" values: RFC 3339 (fraction and offset allowed) or unix seconds (a fraction allowed). */
int cms_parse_time_ms(const char *s, int64_t *out);
/* RFC 3339 UTC with milliseconds: "2026-11-29T02:25:21.339Z" (buf of 32). */
void cms_format_time_ms(int64_t ms, char *buf, size_t n);
/* The wall clock in milliseconds since the epoch. */
int64_t cms_wall_ms(void);
/* The absolute time ms from now on clock (for pthread_cond_timedwait). */
struct timespec cms_deadline(clockid_t clock, int64_t ms);
/* pthread_cond_timedwait for at most ms from now (a CLOCK_REALTIME condition variable). */
void cms_cond_wait_ms(pthread_cond_t *cond, pthread_mutex_t *lock, int64_t ms);
/* in for a log line: control bytes, DEL and '\\' as \xNN, so a request cannot forge or break a
 * line (a %0a in a URL decodes to a newline). Cut to fit out (n bytes). */
void cms_log_escape(const char *in, char *out, size_t n);
/* Frees a NULL-terminated array of strings and the strings (NULL passes). */
void cms_strv_free(char **v);
/* The length of a JSON array; 0 for NULL or anything else (json-c asserts on those). */
static inline size_t cms_jlen(json_object *a)
{
        return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}
/* The member key of o, or NULL (no reference taken). */
json_object *cms_json_get(json_object *o, const char *key);
/* Appends the strings of doc[member] to arr; with field, each entry's doc[member][i][field]
 * (the engines' prune and remove reports). Anything that is not a string is skipped. */
void cms_json_strings_into(json_object *doc, const char *member, const char *field,
                           json_object *arr);
