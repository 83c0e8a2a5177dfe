/* The pure helpers the image, network and volume managers share: image reference grammar,
 * base64url for X-Registry-Auth, CIDR parsing and containment, "K=V" lists and label filters. */
#include <arpa/inet.h>
#include <ctype.h>
#include <sys/socket.h>
#include <time.h>

#include "model.h"

/* ---- image references ---- */

static bool lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* A path component: [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)* */
static bool path_component_valid(const char *s, size_t n)
{
        if (n == 0 || !lower_alnum(s[0]) || !lower_alnum(s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++) {
                if (lower_alnum(s[i]))
                        continue;
                if (s[i] == '.' || s[i] == '_') {
                        size_t run = 1;
                        while (i + run < n && s[i + run] == s[i])
                                run++;
                        /* "." once, "_" once or twice */
                        if ((s[i] == '.' && run > 1) || run > 2)
                                return false;
                        i += run - 1;
                        continue;
                }
                if (s[i] != '-')
                        return false;
        }
        return true;
}

/* host[:port]: dot-separated labels of [A-Za-z0-9-] (no leading/trailing '-'), port digits. */
static bool domain_valid(const char *s, size_t n)
{
        const char *colon = memchr(s, ':', n);
        size_t hl = colon ? (size_t)(colon - s) : n, label = 0;
        if (hl == 0)
                return false;
        for (size_t i = 0; i <= hl; i++) {
                if (i == hl || s[i] == '.') {
                        if (label == 0 || s[i - 1] == '-')
                                return false;
                        label = 0;
                } else if (isalnum((unsigned char)s[i]) || (s[i] == '-' && label > 0)) {
                        label++;
                } else {
                        return false;
                }
        }
        if (colon) {
                size_t pl = n - hl - 1;
                if (pl == 0 || pl > 5 || strspn(colon + 1, "0123456789") < pl)
                        return false;
                int64_t port;
                char tmp[8];
                memcpy(tmp, colon + 1, pl);
                tmp[pl] = 0;
                if (cms_parse_int(tmp, 1, 65535, &port) < 0)
                        return false;
        }
        return true;
}

static bool digest_valid(const char *d)
{
        const char *colon = strchr(d, ':');
        if (!colon || colon == d || (size_t)(colon - d) > 32)
                return false;
        for (const char *p = d; p < colon; p++)
                if (!lower_alnum(*p) && !strchr("+._-", *p))
                        return false;
        size_t hl = strlen(colon + 1);
        if (hl < 32 || hl > 128)
                return false;
        return strspn(colon + 1, "0123456789abcdef") == hl;
}

static bool tag_valid(const char *t)
{
        size_t n = strlen(t);
        if (n == 0 || n > 128 || !(isalnum((unsigned char)t[0]) || t[0] == '_'))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!isalnum((unsigned char)t[i]) && !strchr("_.-", t[i]))
                        return false;
        return true;
}

/* The first component is a registry when it has a '.' or a ':' or is "localhost" and more
 * components follow (Docker's rule). */
static bool is_domain(const char *s, size_t n, bool more)
{
        return more && (memchr(s, '.', n) || memchr(s, ':', n) || (n == 9 && !memcmp(s, "localhost", 9)));
}

static int split_name(const char *name, struct cms_image_ref *out, const char *s,
                      struct cms_error *err)
{
        const char *slash = strchr(name, '/');
        const char *path = name;
        if (slash && is_domain(name, (size_t)(slash - name), true)) {
                if (!domain_valid(name, (size_t)(slash - name)))
                        return cms_err(err, 400, "image reference '%.200s': invalid registry host '%.*s'",
                                       s, (int)(slash - name), name);
                snprintf(out->domain, sizeof(out->domain), "%.*s", (int)(slash - name), name);
                path = slash + 1;
        }
        if (strlen(path) >= sizeof(out->path))
                return cms_err(err, 400, "image reference '%.200s': name longer than %zu characters",
                               s, sizeof(out->path) - 1);
        for (const char *c = path;;) {
                const char *e = strchr(c, '/');
                size_t n = e ? (size_t)(e - c) : strlen(c);
                if (!path_component_valid(c, n))
                        return cms_err(err, 400,
                                       "image reference '%.200s': invalid name component '%.*s' "
                                       "(lower-case letters, digits and single separators . _ __ -)",
                                       s, (int)n, c);
                if (!e)
                        break;
                c = e + 1;
        }
        snprintf(out->path, sizeof(out->path), "%.*s", (int)sizeof(out->path) - 1, path);
        return 0;
}

int cms_image_ref_parse(const char *s, struct cms_image_ref *out, struct cms_error *err)
{
        memset(out, 0, sizeof(*out));
        if (!s || !*s)
                return cms_err(err, 400, "image reference is empty");
        size_t len = strlen(s);
        if (len > 1024)
                return cms_err(err, 400, "image reference longer than 1024 characters");
        char buf[1025];
        memcpy(buf, s, len + 1);
        char *at = strchr(buf, '@');
        if (at) {
                *at = 0;
                if (!digest_valid(at + 1))
                        return cms_err(err, 400, "image reference '%.200s': invalid digest '%.100s' "
                                       "(expected algorithm:hex, e.g. sha256:<64 hex>)", s, at + 1);
                snprintf(out->digest, sizeof(out->digest), "%.*s", (int)sizeof(out->digest) - 1, at + 1);
        }
        char *slash = strrchr(buf, '/');
        char *colon = strrchr(slash ? slash : buf, ':');
        if (colon) {
                *colon = 0;
                if (!tag_valid(colon + 1))
                        return cms_err(err, 400, "image reference '%.200s': invalid tag '%.130s' "
                                       "(up to 128 of [A-Za-z0-9_.-], not starting with . or -)",
                                       s, colon + 1);
                snprintf(out->tag, sizeof(out->tag), "%.*s", (int)sizeof(out->tag) - 1, colon + 1);
        }
        if (!*buf)
                return cms_err(err, 400, "image reference '%.200s': no repository name", s);
        if (strlen(buf) > 255)
                return cms_err(err, 400, "image reference '%.200s': repository name longer than 255 characters", s);
        return split_name(buf, out, s, err);
}

void cms_image_ref_repo(const struct cms_image_ref *r, char *buf, size_t n)
{
        snprintf(buf, n, "%s%s%s", r->domain, *r->domain ? "/" : "", r->path);
}

bool cms_image_id_like(const char *s)
{
        if (cms_str_has_prefix(s, "sha256:"))
                s += 7;
        size_t n = strlen(s);
        return n >= 12 && n <= 64 && strspn(s, "0123456789abcdef") == n;
}

int cms_image_path_ref_check(const char *s, struct cms_error *err)
{
        if (s && cms_image_id_like(s))
                return 0;
        struct cms_image_ref r;
        return cms_image_ref_parse(s, &r, err);
}

/* ---- registry auth ---- */

char *cms_base64url_encode(const void *data, size_t len)
{
        static const char tbl[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        const unsigned char *p = data;
        char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;
        if (!out)
                return NULL;
        for (size_t i = 0; i < len; i += 3) {
                unsigned v = (unsigned)p[i] << 16;
                if (i + 1 < len)
                        v |= (unsigned)p[i + 1] << 8;
                if (i + 2 < len)
                        v |= p[i + 2];
                *o++ = tbl[(v >> 18) & 63];
                *o++ = tbl[(v >> 12) & 63];
                *o++ = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
                *o++ = i + 2 < len ? tbl[v & 63] : '=';
        }
        *o = 0;
        return out;
}

int cms_registry_auth_header(json_object *auth, const char *what, char **out,
                             struct cms_error *err)
{
        static const char *const keys[] = {"username", "password", "serveraddress",
                                           "identitytoken", "email", NULL};
        *out = NULL;
        int r = cms_json_check_keys(auth, what, keys, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_object *doc = json_object_new_object();
        for (size_t i = 0; auth && keys[i]; i++) {
                const char *v;
                char sub[64];
                snprintf(sub, sizeof(sub), "%s", what);
                if ((r = cms_json_get_string(auth, sub, keys[i], &v, err)) < 0)
                        return r;
                if (v && strlen(v) > 4096)
                        return cms_err(err, 400, "%s.%s: longer than 4096 characters", what, keys[i]);
                if (v)
                        json_object_object_add(doc, keys[i], json_object_new_string(v));
        }
        const char *js = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
        _cleanup_free_ char *b64 = js ? cms_base64url_encode(js, strlen(js)) : NULL;
        *out = b64 ? cms_strdup_printf("X-Registry-Auth: %s", b64) : NULL;
        return *out ? 0 : cms_err(err, 500, "out of memory");
}

/* ---- addresses ---- */

int cms_ip_parse(const char *s, int *family, unsigned char addr[16])
{
        memset(addr, 0, 16);
        if (!s || strlen(s) > 45)
                return -EINVAL;
        if (inet_pton(AF_INET, s, addr) == 1) {
                *family = AF_INET;
                return 0;
        }
        if (inet_pton(AF_INET6, s, addr) == 1) {
                *family = AF_INET6;
                return 0;
        }
        return -EINVAL;
}

static bool prefix_equal(const unsigned char *a, const unsigned char *b, int bits)
{
        int full = bits / 8, rest = bits % 8;
        if (memcmp(a, b, (size_t)full))
                return false;
        if (!rest)
                return true;
        unsigned char mask = (unsigned char)(0xff << (8 - rest));
        return (a[full] & mask) == (b[full] & mask);
}

int cms_cidr_parse(const char *s, struct cms_cidr *out)
{
        memset(out, 0, sizeof(*out));
        const char *slash = s ? strchr(s, '/') : NULL;
        if (!slash || slash == s || (size_t)(slash - s) > 45)
                return -EINVAL;
        char ip[46];
        memcpy(ip, s, (size_t)(slash - s));
        ip[slash - s] = 0;
        if (cms_ip_parse(ip, &out->family, out->addr) < 0)
                return -EINVAL;
        int64_t p;
        int max = out->family == AF_INET ? 32 : 128;
        if (cms_parse_int(slash + 1, 0, max, &p) < 0)
                return -EINVAL;
        out->prefix = (int)p;
        /* Host bits set means the caller wrote an address, not a network. */
        unsigned char masked[16];
        memcpy(masked, out->addr, 16);
        for (int bit = out->prefix; bit < max; bit++)
                masked[bit / 8] &= (unsigned char)~(0x80 >> (bit % 8));
        return memcmp(masked, out->addr, 16) ? -EDOM : 0;
}

bool cms_cidr_contains(const struct cms_cidr *net, int family, const unsigned char *addr)
{
        return net->family == family && prefix_equal(net->addr, addr, net->prefix);
}

bool cms_cidr_within(const struct cms_cidr *outer, const struct cms_cidr *inner)
{
        return outer->family == inner->family && inner->prefix >= outer->prefix &&
               prefix_equal(outer->addr, inner->addr, outer->prefix);
}

/* ---- lists and filters ---- */

int cms_kv_into(const char *const *kvs, const char *what, json_object *obj, struct cms_error *err)
{
        for (size_t i = 0; kvs && kvs[i]; i++) {
                const char *eq = strchr(kvs[i], '=');
                if (!eq || eq == kvs[i])
                        return cms_err(err, 400, "%s '%.100s': expected KEY=VALUE", what, kvs[i]);
                if (i >= 256)
                        return cms_err(err, 400, "%s: more than 256 entries", what);
                _cleanup_free_ char *k = strndup(kvs[i], (size_t)(eq - kvs[i]));
                if (!k)
                        return cms_err(err, 500, "out of memory");
                json_object_object_add(obj, k, json_object_new_string(eq + 1));
        }
        return 0;
}

bool cms_labels_match(json_object *labels, const char *const *filters)
{
        for (size_t i = 0; filters && filters[i]; i++) {
                const char *eq = strchr(filters[i], '=');
                size_t kl = eq ? (size_t)(eq - filters[i]) : strlen(filters[i]);
                bool hit = false;
                if (json_object_is_type(labels, json_type_object)) {
                        json_object_object_foreach(labels, k, v)
                        {
                                if (strlen(k) != kl || memcmp(k, filters[i], kl))
                                        continue;
                                hit = !eq || !strcmp(json_object_get_string(v) ? json_object_get_string(v) : "", eq + 1);
                        }
                }
                if (!hit)
                        return false;
        }
        return true;
}

void cms_rfc3339(int64_t t, char *buf, size_t n)
{
        struct tm tm;
        time_t tt = (time_t)t;
        gmtime_r(&tt, &tm);
        strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int cms_label_filters(const char *const *labels, json_object *extra, char **out,
                      struct cms_error *err)
{
        *out = NULL;
        _cleanup_json_ json_object *f = extra ? json_object_get(extra) : json_object_new_object();
        if (labels && labels[0]) {
                json_object *a = json_object_new_array();
                json_object_object_add(f, "label", a);
                for (size_t i = 0; labels[i]; i++) {
                        if (!*labels[i] || labels[i][0] == '=')
                                return cms_err(err, 400, "label filter '%.100s': expected k or k=v",
                                               labels[i]);
                        json_object_array_add(a, json_object_new_string(labels[i]));
                }
        }
        *out = cms_url_escape(json_object_to_json_string_ext(f, JSON_C_TO_STRING_PLAIN));
        return *out ? 0 : cms_err(err, 500, "out of memory");
}
