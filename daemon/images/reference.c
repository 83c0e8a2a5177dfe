/* The one image-reference grammar and the object-name rule (see reference.h for the grammar). */
#include <arpa/inet.h>
#include <ctype.h>

#include "reference.h"

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

/* Dot-separated labels of [a-z0-9-], no label empty or starting or ending with '-'. Upper case is
 * refused: Podman refuses it, and one grammar for both engines is the point. */
static bool host_valid(const char *s, size_t n)
{
        size_t label = 0;
        if (n == 0)
                return false;
        for (size_t i = 0; i <= n; i++) {
                if (i == n || s[i] == '.') {
                        if (label == 0 || s[i - 1] == '-')
                                return false;
                        label = 0;
                } else if (lower_alnum(s[i]) || (s[i] == '-' && label > 0)) {
                        label++;
                } else {
                        return false;
                }
        }
        return true;
}

/* "[" IPv6 "]", exactly as inet_pton reads it. */
static bool ipv6_literal_valid(const char *s, size_t n)
{
        char ip[INET6_ADDRSTRLEN + 1];
        unsigned char bin[16];
        if (n < 3 || s[0] != '[' || s[n - 1] != ']' || n - 2 > INET6_ADDRSTRLEN)
                return false;
        memcpy(ip, s + 1, n - 2);
        ip[n - 2] = 0;
        return inet_pton(AF_INET6, ip, bin) == 1;
}

/* host[:port] or [IPv6][:port], the port 1..65535. */
static bool domain_valid(const char *s, size_t n)
{
        const char *close = n && s[0] == '[' ? memchr(s, ']', n) : NULL;
        const char *colon = memchr(close ? close : s, ':', n - (size_t)((close ? close : s) - s));
        size_t hl = colon ? (size_t)(colon - s) : n;
        if (s[0] == '[' ? !ipv6_literal_valid(s, hl) : !host_valid(s, hl))
                return false;
        if (colon) {
                size_t pl = n - hl - 1;
                char tmp[8];
                int64_t port;
                if (pl == 0 || pl > 5 || strspn(colon + 1, "0123456789") < pl)
                        return false;
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

/* Docker's rule: the first of several components is a registry when it has a '.' or a ':' or is
 * "localhost"; "[" starts an IPv6 one. */
static bool is_domain(const char *s, size_t n)
{
        return memchr(s, '.', n) || memchr(s, ':', n) || (n == 9 && !memcmp(s, "localhost", 9)) ||
               s[0] == '[';
}

static int split_name(const char *name, struct cms_image_ref *out, const char *s,
                      struct cms_error *err)
{
        const char *slash = strchr(name, '/');
        const char *path = name;
        if (slash && is_domain(name, (size_t)(slash - name))) {
                if (!domain_valid(name, (size_t)(slash - name)))
                        return cms_err(err, 400,
                                       "image reference '%.200s': invalid registry host '%.*s'", s,
                                       (int)(slash - name), name);
                snprintf(out->domain, sizeof(out->domain), "%.*s", (int)(slash - name), name);
                path = slash + 1;
        }
        for (const char *c = path;;) {
                const char *e = strchr(c, '/');
                size_t n = e ? (size_t)(e - c) : strlen(c);
                if (!path_component_valid(c, n))
                        return cms_err(
                            err, 400,
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

/* The tag's ':' comes after the last '/', so a registry's port or [IPv6] colons never count. */
static char *tag_colon(char *name)
{
        char *slash = strrchr(name, '/');
        return strrchr(slash ? slash : name, ':');
}

int cms_image_ref_parse(const char *s, struct cms_image_ref *out, struct cms_error *err)
{
        struct cms_image_ref scratch;
        if (!out)
                out = &scratch;
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
                        return cms_err(err, 400,
                                       "image reference '%.200s': invalid digest '%.100s' "
                                       "(expected algorithm:hex, e.g. sha256:<64 hex>)",
                                       s, at + 1);
                snprintf(out->digest, sizeof(out->digest), "%.*s", (int)sizeof(out->digest) - 1,
                         at + 1);
        }
        char *colon = tag_colon(buf);
        if (colon) {
                *colon = 0;
                if (!tag_valid(colon + 1))
                        return cms_err(err, 400,
                                       "image reference '%.200s': invalid tag '%.130s' "
                                       "(up to 128 of [A-Za-z0-9_.-], not starting with . or -)",
                                       s, colon + 1);
                snprintf(out->tag, sizeof(out->tag), "%.*s", (int)sizeof(out->tag) - 1, colon + 1);
        }
        if (!*buf)
                return cms_err(err, 400, "image reference '%.200s': no repository name", s);
        if (strlen(buf) > 255)
                return cms_err(err, 400,
                               "image reference '%.200s': repository name longer than 255 "
                               "characters",
                               s);
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
        return cms_image_ref_parse(s, NULL, err);
}

bool cms_object_name_valid(const char *name)
{
        if (!name || !isalnum((unsigned char)name[0]) || strlen(name) > 255)
                return false;
        for (const char *p = name; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
                        return false;
        return true;
}
