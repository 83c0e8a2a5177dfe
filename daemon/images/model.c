/* The pure helpers the image, network and volume managers share: the X-Registry-Auth header,
 * CIDR parsing and containment, "K=V" lists and label filters. */
#include <arpa/inet.h>
#include <ctype.h>
#include <sys/socket.h>
#include <time.h>

#include "model.h"

/* ---- registry auth ---- */

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
