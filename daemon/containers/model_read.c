/* The typed readers of a ContainerConfig that every part of the translation uses (model.c,
 * model_host.c, model_limits.c): strings, booleans, bounded integers, string arrays, allowed
 * keys, IP addresses and host names, each failing with a 400 that names the field's path. The
 * lowest file of the container model: it calls nothing above it. */
#define CMS_CONTAINER_MODEL_INTERNAL
#include "model.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>

/* Values quoted in messages are cut at a byte count, which can split a UTF-8 sequence: bytes
 * that do not form valid UTF-8 become '?', so the JSON error reply stays valid. */
static void utf8_sanitize(char *s)
{
        unsigned char *p = (unsigned char *)s;
        while (*p) {
                size_t n = *p < 0x80             ? 1
                           : (*p & 0xE0) == 0xC0 ? 2
                           : (*p & 0xF0) == 0xE0 ? 3
                           : (*p & 0xF8) == 0xF0 ? 4
                                                 : 0;
                size_t ok = n;
                for (size_t i = 1; i < n && ok; i++)
                        if ((p[i] & 0xC0) != 0x80)
                                ok = 0;
                if (!ok || (n == 2 && *p < 0xC2)) {
                        *p++ = '?';
                        continue;
                }
                p += n;
        }
}

int cms_cm_bad(struct cms_cm *c, const char *path, const char *fmt, ...)
{
        char msg[400];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        int r = cms_err(c->err, 400, "%s: %s", path, msg);
        if (c->err)
                utf8_sanitize(c->err->message);
        return r;
}

void cms_cm_warn(struct cms_cm *c, const char *fmt, ...)
{
        char msg[400];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        json_object_array_add(c->warnings, json_object_new_string(msg));
}

const char *cms_cm_show(json_object *v, char *buf, size_t n)
{
        const char *s = json_object_is_type(v, json_type_string)
                            ? json_object_get_string(v)
                            : json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
        bool quote = json_object_is_type(v, json_type_string);
        /* Long values are cut: the message names the field, the value is only a hint. */
        snprintf(buf, n, "%s%.60s%s%s", quote ? "'" : "", s ? s : "null",
                 s && strlen(s) > 60 ? "..." : "", quote ? "'" : "");
        return buf;
}

int cms_cm_check_keys(struct cms_cm *c, json_object *obj, const char *path,
                      const char *const *allowed)
{
        json_object_object_foreach(obj, key, val)
        {
                (void)val;
                bool ok = false;
                for (size_t i = 0; allowed[i] && !ok; i++)
                        ok = !strcmp(key, allowed[i]);
                if (!ok) {
                        char sub[160];
                        snprintf(sub, sizeof(sub), "%s.%.64s", path, key);
                        return cms_cm_bad(c, sub, "unknown field");
                }
        }
        return 0;
}

int cms_cm_object(struct cms_cm *c, json_object *v, const char *path)
{
        if (!json_object_is_type(v, json_type_object))
                return cms_cm_bad(c, path, "must be an object");
        return 0;
}

int cms_cm_string(struct cms_cm *c, json_object *v, const char *path, const char **out)
{
        if (!json_object_is_type(v, json_type_string))
                return cms_cm_bad(c, path, "must be a string");
        *out = json_object_get_string(v);
        return 0;
}

int cms_cm_bool(struct cms_cm *c, json_object *v, const char *path, bool *out)
{
        if (!json_object_is_type(v, json_type_boolean))
                return cms_cm_bad(c, path, "must be a boolean");
        *out = json_object_get_boolean(v);
        return 0;
}

int cms_cm_int(struct cms_cm *c, json_object *v, const char *path, int64_t min, int64_t max,
               int64_t *out)
{
        char shown[80];
        int64_t n;
        if (json_object_is_type(v, json_type_int)) {
                n = json_object_get_int64(v);
        } else if (json_object_is_type(v, json_type_double)) {
                double d = json_object_get_double(v);
                /* The cast is only defined for finite values inside int64's range. */
                if (!isfinite(d) || d < -9.2e18 || d > 9.2e18 || d != (double)(int64_t)d)
                        return cms_cm_bad(c, path, "must be an integer, not %s",
                                          cms_cm_show(v, shown, sizeof(shown)));
                n = (int64_t)d;
        } else {
                return cms_cm_bad(c, path, "must be an integer, not %s",
                                  cms_cm_show(v, shown, sizeof(shown)));
        }
        if (n < min && max == INT64_MAX)
                return cms_cm_bad(c, path, "%" PRId64 " is too small (minimum %" PRId64 ")", n,
                                  min);
        if (n < min || n > max)
                return cms_cm_bad(c, path, "%" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]",
                                  n, min, max);
        *out = n;
        return 0;
}

int cms_cm_string_array(struct cms_cm *c, json_object *v, const char *path, json_object **out)
{
        if (!json_object_is_type(v, json_type_array))
                return cms_cm_bad(c, path, "must be an array of strings");
        _cleanup_json_ json_object *a = json_object_new_array();
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(v, i);
                if (!json_object_is_type(e, json_type_string))
                        return cms_cm_bad(c, path, "element %zu must be a string", i);
                json_object_array_add(a, json_object_new_string(json_object_get_string(e)));
        }
        *out = TAKE_PTR(a);
        return 0;
}

bool cms_cm_ip_valid(const char *s, int *family)
{
        unsigned char buf[sizeof(struct in6_addr)];
        if (inet_pton(AF_INET, s, buf) == 1) {
                if (family)
                        *family = AF_INET;
                return true;
        }
        if (inet_pton(AF_INET6, s, buf) == 1) {
                if (family)
                        *family = AF_INET6;
                return true;
        }
        return false;
}

/* RFC 1123 labels; the kernel keeps at most 64 bytes of a hostname. */
bool cms_cm_hostname_valid(const char *s)
{
        size_t len = strlen(s), label = 0;
        if (len == 0 || len > 64)
                return false;
        for (size_t i = 0; i <= len; i++) {
                char ch = s[i];
                if (ch == '.' || ch == 0) {
                        if (label == 0 || s[i - 1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                if (!isalnum((unsigned char)ch) && ch != '-')
                        return false;
                if (label == 0 && ch == '-')
                        return false;
                if (++label > 63)
                        return false;
        }
        return true;
}

int cms_cm_object_keys(struct cms_cm *c, json_object *v, const char *path,
                       const char *const *allowed)
{
        int r = cms_cm_object(c, v, path);
        return r < 0 ? r : cms_cm_check_keys(c, v, path, allowed);
}
