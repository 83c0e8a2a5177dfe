/* Shared helpers: errors, buffers, and the duration/size/bool parsers of the API contract. */
#include "util.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <nettle/base64.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const struct {
        int status;
        const char *code;
        int errnum;
} status_map[] = {
    {400, "bad_request", EINVAL},
    {401, "unauthorized", EACCES},
    {403, "forbidden", EPERM},
    {404, "not_found", ENOENT},
    {405, "method_not_allowed", EOPNOTSUPP},
    {409, "conflict", EEXIST},
    {413, "payload_too_large", E2BIG},
    {415, "unsupported_media_type", EPROTO},
    {422, "unprocessable_entity", EBADMSG},
    {429, "too_many_requests", EBUSY},
    {502, "engine_error", EIO},
    {503, "engine_unavailable", ECONNREFUSED},
    {504, "timeout", ETIMEDOUT},
    {501, "not_implemented", ENOSYS},
    {500, "internal", EFAULT},
};

const char *cms_status_code(int status)
{
        for (size_t i = 0; i < ELEMENTSOF(status_map); i++)
                if (status_map[i].status == status)
                        return status_map[i].code;
        return "internal";
}

int cms_err(struct cms_error *err, int status, const char *fmt, ...)
{
        int errnum = EFAULT;
        for (size_t i = 0; i < ELEMENTSOF(status_map); i++)
                if (status_map[i].status == status)
                        errnum = status_map[i].errnum;
        if (err) {
                va_list ap;
                err->status = status;
                err->code = cms_status_code(status);
                va_start(ap, fmt);
                vsnprintf(err->message, sizeof(err->message), fmt, ap);
                va_end(ap);
                if ((status == 503 || status == 429) && err->retry_after <= 0)
                        err->retry_after = 5;
        }
        return -errnum;
}

int cms_err_policy(struct cms_error *err, const char *rule, const char *field, const char *fmt, ...)
{
        if (err) {
                va_list ap;
                memset(err, 0, sizeof(*err));
                err->status = 403;
                err->code = "policy_denied";
                va_start(ap, fmt);
                vsnprintf(err->message, sizeof(err->message), fmt, ap);
                va_end(ap);
                snprintf(err->rule, sizeof(err->rule), "%s", rule);
                snprintf(err->field, sizeof(err->field), "%s", field);
        }
        return -EPERM;
}

void cms_error_clear(struct cms_error *err)
{
        if (err)
                memset(err, 0, sizeof(*err));
}

void cms_buf_init(struct cms_buf *b, size_t max)
{
        memset(b, 0, sizeof(*b));
        b->max = max ? max : SIZE_MAX / 2;
}

int cms_buf_reserve(struct cms_buf *b, size_t extra)
{
        if (extra > b->max || b->len > b->max - extra)
                return -E2BIG;
        size_t need = b->len + extra + 1;
        if (need <= b->cap)
                return 0;
        size_t ncap = b->cap ? b->cap : 256;
        while (ncap < need)
                ncap *= 2;
        char *p = realloc(b->data, ncap);
        if (!p)
                return -ENOMEM;
        b->data = p;
        b->cap = ncap;
        return 0;
}

int cms_buf_append(struct cms_buf *b, const void *p, size_t n)
{
        int r = cms_buf_reserve(b, n);
        if (r < 0)
                return r;
        if (n)
                memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = 0;
        return 0;
}

int cms_buf_printf(struct cms_buf *b, const char *fmt, ...)
{
        va_list ap, aq;
        va_start(ap, fmt);
        va_copy(aq, ap);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
                va_end(aq);
                return -EINVAL;
        }
        int r = cms_buf_reserve(b, (size_t)n);
        if (r < 0) {
                va_end(aq);
                return r;
        }
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, aq);
        va_end(aq);
        b->len += (size_t)n;
        return 0;
}

char *cms_buf_take(struct cms_buf *b)
{
        if (!b->data && cms_buf_reserve(b, 0) < 0)
                return NULL;
        if (!b->data)
                return NULL;
        b->data[b->len] = 0; /* a buffer never appended to is "" too */
        char *p = b->data;
        b->data = NULL;
        b->len = b->cap = 0;
        return p;
}

void cms_buf_free(struct cms_buf *b)
{
        free(b->data);
        b->data = NULL;
        b->len = b->cap = 0;
}

int cms_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
        /* strict: optional '-', then digits; no blanks, no '+' */
        if (!s || !*s || (!isdigit((unsigned char)*s) && *s != '-'))
                return -EINVAL;
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (end == s || *end || (errno && errno != ERANGE))
                return -EINVAL;
        if (errno == ERANGE || v < min || v > max)
                return -ERANGE;
        *out = v;
        return 0;
}

int cms_parse_bool(const char *s, bool *out)
{
        if (!s)
                return -EINVAL;
        if (!strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes")) {
                *out = true;
                return 0;
        }
        if (!strcmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no")) {
                *out = false;
                return 0;
        }
        return -EINVAL;
}

/* Reads digits with at most one '.' (no sign, exponent, hex or blanks, which strtod would
 * take) from *p; advances *p. */
static int parse_decimal(const char **p, double *out)
{
        size_t n = strspn(*p, "0123456789.");
        const char *dot = memchr(*p, '.', n);
        char num[64], *end;
        if (n == 0 || n >= sizeof(num) || (dot && memchr(dot + 1, '.', n - (size_t)(dot - *p) - 1)))
                return -EINVAL;
        memcpy(num, *p, n);
        num[n] = 0;
        *out = strtod(num, &end);
        if (*end) /* "." alone */
                return -EINVAL;
        *p += n;
        return 0;
}

int cms_parse_duration_ms(const char *s, int64_t *out_ms)
{
        static const struct {
                const char *unit;
                double ms;
        } units[] = {{"ms", 1},   {"us", 0.001}, {"µs", 0.001}, {"ns", 0.000001},
                     {"s", 1000}, {"m", 60000},  {"h", 3600000}};
        if (!s || !*s)
                return -EINVAL;
        int64_t secs;
        int r = cms_parse_int(s, 0, INT64_MAX / 1000, &secs);
        if (r == 0) {
                *out_ms = secs * 1000;
                return 0;
        }
        if (r == -ERANGE && *s != '-')
                return -ERANGE;
        double total = 0;
        const char *p = s;
        while (*p) {
                double v;
                if (parse_decimal(&p, &v) < 0)
                        return -EINVAL;
                size_t best = 0;
                double mult = 0;
                for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                        size_t l = strlen(units[i].unit);
                        if (!strncmp(p, units[i].unit, l) && l > best) {
                                best = l;
                                mult = units[i].ms;
                        }
                }
                if (!best)
                        return -EINVAL;
                p += best;
                total += v * mult;
                if (total > 9.2e15)
                        return -ERANGE;
        }
        *out_ms = (int64_t)llround(total);
        return 0;
}

int cms_parse_size(const char *s, int64_t *out)
{
        if (!s || !*s)
                return -EINVAL;
        int64_t v;
        int ir = cms_parse_int(s, 0, INT64_MAX, &v);
        if (ir == 0) {
                *out = v;
                return 0;
        }
        if (ir == -ERANGE && *s != '-')
                return -ERANGE;
        const char *end = s;
        double d;
        if (parse_decimal(&end, &d) < 0)
                return -EINVAL;
        double mult;
        switch (tolower((unsigned char)*end)) {
        case 'b':
                if (d != floor(d)) /* no fractions of a byte */
                        return -EINVAL;
                mult = 1;
                break;
        case 'k':
                mult = 1024.0;
                break;
        case 'm':
                mult = 1024.0 * 1024;
                break;
        case 'g':
                mult = 1024.0 * 1024 * 1024;
                break;
        case 't':
                mult = 1024.0 * 1024 * 1024 * 1024;
                break;
        default:
                return -EINVAL;
        }
        end++;
        /* Accept "512m", "512mb", "512MiB", "512MB". */
        if (mult > 1) {
                if (*end == 'i' || *end == 'I')
                        end++;
                if (*end == 'b' || *end == 'B')
                        end++;
        }
        if (*end)
                return -EINVAL;
        double r = d * mult;
        if (r > 9.2e18)
                return -ERANGE;
        *out = (int64_t)r;
        return 0;
}

int cms_json_duration_ms(json_object *v, int64_t *out_ms)
{
        if (json_object_is_type(v, json_type_int)) {
                int64_t s = json_object_get_int64(v);
                if (s < 0 || s > INT64_MAX / 1000)
                        return -ERANGE;
                *out_ms = s * 1000;
                return 0;
        }
        if (json_object_is_type(v, json_type_string))
                return cms_parse_duration_ms(json_object_get_string(v), out_ms);
        return -EINVAL;
}

int cms_json_size(json_object *v, int64_t *out)
{
        if (json_object_is_type(v, json_type_int)) {
                int64_t s = json_object_get_int64(v);
                if (s < 0)
                        return -ERANGE;
                *out = s;
                return 0;
        }
        if (json_object_is_type(v, json_type_string))
                return cms_parse_size(json_object_get_string(v), out);
        return -EINVAL;
}

void cms_format_duration(int64_t ms, char *buf, size_t n)
{
        if (ms % 1000) {
                snprintf(buf, n, "%" PRId64 "ms", ms);
                return;
        }
        int64_t s = ms / 1000, h = s / 3600, m = (s % 3600) / 60;
        s %= 60;
        if (h)
                snprintf(buf, n, "%" PRId64 "h%" PRId64 "m%" PRId64 "s", h, m, s);
        else if (m)
                snprintf(buf, n, "%" PRId64 "m%" PRId64 "s", m, s);
        else
                snprintf(buf, n, "%" PRId64 "s", s);
}

char *cms_strdup_printf(const char *fmt, ...)
{
        va_list ap;
        char *s = NULL;
        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        return s;
}

bool cms_str_has_prefix(const char *s, const char *prefix)
{
        return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

void cms_sha256(const void *data, size_t n, unsigned char out[CMS_SHA256_LEN])
{
        struct sha256_ctx c;
        sha256_init(&c);
        sha256_update(&c, n, data);
        sha256_digest(&c, CMS_SHA256_LEN, out);
}

void cms_sha256_hex(const unsigned char digest[CMS_SHA256_LEN], char out[2 * CMS_SHA256_LEN + 1])
{
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < CMS_SHA256_LEN; i++) {
                out[2 * i] = hex[digest[i] >> 4];
                out[2 * i + 1] = hex[digest[i] & 15];
        }
        out[2 * CMS_SHA256_LEN] = 0;
}

bool cms_digest_eq(const unsigned char a[CMS_SHA256_LEN], const unsigned char b[CMS_SHA256_LEN])
{
        return memeql_sec(a, b, CMS_SHA256_LEN);
}

/* Either alphabet: url true for base64url. */
static char *b64(const void *data, size_t len, bool url)
{
        struct base64_encode_ctx c;
        if (len > (SIZE_MAX - 16) / 4 * 3)
                return NULL;
        char *out = malloc(BASE64_ENCODE_LENGTH(len) + BASE64_ENCODE_FINAL_LENGTH + 1);
        if (!out)
                return NULL;
        if (url)
                base64url_encode_init(&c);
        else
                base64_encode_init(&c);
        size_t n = base64_encode_update(&c, out, len, data);
        n += base64_encode_final(&c, out + n);
        out[n] = 0;
        return out;
}

char *cms_base64url_encode(const void *data, size_t len)
{
        return b64(data, len, true);
}

char *cms_base64_encode(const void *data, size_t len)
{
        return b64(data, len, false);
}

int64_t cms_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cms_json_check_keys(json_object *o, const char *what, const char *const *allowed,
                        struct cms_error *err)
{
        if (!o)
                return 0;
        if (!json_object_is_type(o, json_type_object))
                return cms_err(err, 400, "%s: expected a JSON object", what);
        json_object_object_foreach(o, key, val)
        {
                (void)val;
                bool ok = false;
                for (size_t i = 0; allowed[i] && !ok; i++)
                        ok = !strcmp(allowed[i], key);
                if (!ok)
                        return cms_err(err, 400, "%s: unknown field '%s'", what, key);
        }
        return 0;
}

int cms_json_get_bool(json_object *o, const char *what, const char *key, bool def, bool *out,
                      struct cms_error *err)
{
        json_object *v;
        *out = def;
        if (!o || !json_object_object_get_ex(o, key, &v) || !v)
                return 0;
        if (!json_object_is_type(v, json_type_boolean))
                return cms_err(err, 400, "%s.%s: expected a boolean", what, key);
        *out = json_object_get_boolean(v);
        return 0;
}

int cms_json_get_string(json_object *o, const char *what, const char *key, const char **out,
                        struct cms_error *err)
{
        json_object *v;
        *out = NULL;
        if (!o || !json_object_object_get_ex(o, key, &v) || !v)
                return 0;
        if (!json_object_is_type(v, json_type_string))
                return cms_err(err, 400, "%s.%s: expected a string", what, key);
        *out = json_object_get_string(v);
        return 0;
}

char *cms_url_escape(const char *s)
{
        static const char hex[] = "0123456789ABCDEF";
        size_t n = strlen(s);
        char *out = malloc(n * 3 + 1), *p = out;
        if (!out)
                return NULL;
        for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
                if (isalnum(*c) || strchr("-._~", *c)) {
                        *p++ = (char)*c;
                } else {
                        *p++ = '%';
                        *p++ = hex[*c >> 4];
                        *p++ = hex[*c & 15];
                }
        }
        *p = 0;
        return out;
}

int cms_parse_time_ms(const char *s, int64_t *out)
{
        char *end;
        if (!s || !*s)
                return -EINVAL;
        if (s[0] >= '0' && s[0] <= '9' && !strchr(s, '-')) {
                errno = 0;
                double v = strtod(s, &end);
                if (*end || errno || v < 0 || v > 1e11)
                        return -EINVAL;
                *out = (int64_t)(v * 1000.0 + 0.5);
                return 0;
        }
        struct tm tm = {0};
        end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!end)
                return -EINVAL;
        int64_t ms = 0, scale = 100;
        if (*end == '.')
                for (end++; *end >= '0' && *end <= '9'; end++, scale /= 10)
                        ms += (*end - '0') * scale;
        int64_t off = 0;
        if (*end == '+' || *end == '-') {
                int hh, mm, n = 0;
                if (sscanf(end + 1, "%2d:%2d%n", &hh, &mm, &n) != 2 || n != 5 || end[6] ||
                    hh > 23 || mm > 59)
                        return -EINVAL;
                off = (int64_t)(hh * 3600 + mm * 60) * (*end == '+' ? 1 : -1);
        } else if (strcmp(end, "Z") && strcmp(end, "z")) {
                return -EINVAL;
        }
        *out = ((int64_t)timegm(&tm) - off) * 1000 + ms;
        return 0;
}

void cms_format_time_ms(int64_t ms, char *buf, size_t n)
{
        time_t t = (time_t)(ms / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        char base[24];
        strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, n, "%s.%03dZ", base, (int)(ms % 1000));
}

int64_t cms_wall_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct timespec cms_deadline(clockid_t clock, int64_t ms)
{
        struct timespec ts;
        clock_gettime(clock, &ts);
        int64_t ns = (int64_t)ts.tv_nsec + (ms % 1000) * 1000000;
        ts.tv_sec += (time_t)(ms / 1000 + ns / 1000000000);
        ts.tv_nsec = (long)(ns % 1000000000);
        return ts;
}

void cms_cond_wait_ms(pthread_cond_t *cond, pthread_mutex_t *lock, int64_t ms)
{
        struct timespec ts = cms_deadline(CLOCK_REALTIME, ms);
        pthread_cond_timedwait(cond, lock, &ts);
}

void cms_log_escape(const char *in, char *out, size_t n)
{
        size_t o = 0;
        for (const unsigned char *p = (const unsigned char *)(in ? in : ""); *p && o + 5 < n; p++) {
                if (*p < 0x20 || *p == 0x7f || *p == '\\')
                        o += (size_t)snprintf(out + o, n - o, "\\x%02x", *p);
                else
                        out[o++] = (char)*p;
        }
        if (n)
                out[o < n ? o : n - 1] = 0;
}

void cms_strv_free(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

json_object *cms_json_get(json_object *o, const char *key)
{
        json_object *v = NULL;
        return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

void cms_json_strings_into(json_object *doc, const char *member, const char *field,
                           json_object *arr)
{
        json_object *list = cms_json_get(doc, member);
        size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *it = json_object_array_get_idx(list, i);
                if (field)
                        it = cms_json_get(it, field);
                if (json_object_is_type(it, json_type_string))
                        json_object_array_add(arr,
                                              json_object_new_string(json_object_get_string(it)));
        }
}

int cms_mkdir_p(const char *dir, unsigned last)
{
        char p[4096];
        if (snprintf(p, sizeof(p), "%s", dir) >= (int)sizeof(p))
                return -ENAMETOOLONG;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        return mkdir(p, last) < 0 && errno != EEXIST ? -errno : 0;
}

int cms_write_file_atomic(const char *path, const char *p, size_t n, unsigned mode)
{
        _cleanup_free_ char *tmp = cms_strdup_printf("%s.%ld.%lx.tmp", path, (long)getpid(),
                                                     (unsigned long)pthread_self());
        if (!tmp)
                return -ENOMEM;
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
        if (fd < 0)
                return -errno;
        int r = cms_write_all(fd, p, n);
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                unlink(tmp);
        return r;
}

int cms_write_all(int fd, const char *p, size_t n)
{
        while (n) {
                ssize_t w = write(fd, p, n);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return w < 0 ? -errno : -EIO;
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

int cms_read_file(const char *path, size_t max, char **out, size_t *len, struct cms_error *err)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return errno == ENOENT
                           ? -ENOENT
                           : cms_err(err, 400, "cannot read %s: %s", path, strerror(errno));
        struct cms_buf b;
        cms_buf_init(&b, max);
        char chunk[4096];
        ssize_t n;
        int r = 0;
        while (r == 0 && (n = read(fd, chunk, sizeof(chunk))) > 0)
                r = cms_buf_append(&b, chunk, (size_t)n);
        if (r == 0 && n < 0)
                r = cms_err(err, 400, "cannot read %s: %s", path, strerror(errno));
        else if (r < 0)
                r = cms_err(err, 400, "%s: larger than %zu bytes", path, max);
        explicit_bzero(chunk, sizeof(chunk)); /* it may have held a secret */
        close(fd);
        if (len)
                *len = b.len;
        if (r == 0 && !(*out = cms_buf_take(&b)))
                r = cms_err(err, 500, "out of memory");
        if (r < 0 && b.data)
                explicit_bzero(b.data, b.len);
        cms_buf_free(&b);
        return r;
}
