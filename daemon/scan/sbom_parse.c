/* The package-metadata files an SBOM is made of (see sbom.h): which paths hold them, and their
 * text parsed into inventory packages. Pure: text in, JSON out. The formats are the package
 * managers' own: dpkg's status (RFC 822-like stanzas; dpkg's field names are case-insensitive),
 * apk's installed database ("P:name" lines, blank-line separated), os-release(5), the Python
 * core-metadata headers, npm's package.json and a RubyGems specification file. A file that does
 * not parse gives no packages (a package manager would not see it either); only running out of
 * memory is an error. */
#include <ctype.h>
#include <strings.h>

#include "sbom.h"

static bool ends_with(const char *s, size_t n, const char *suffix)
{
        size_t k = strlen(suffix);
        return n >= k && !memcmp(s + n - k, suffix, k);
}

/* The n-th path component counted from the end (0: the base name) as [*s, *s + *len). */
static bool component(const char *path, int nth, const char **s, size_t *len)
{
        const char *end = path + strlen(path);
        for (int i = 0;; i++) {
                const char *start = end;
                while (start > path && start[-1] != '/')
                        start--;
                if (i == nth) {
                        *s = start;
                        *len = (size_t)(end - start);
                        return true;
                }
                if (start == path)
                        return false;
                end = start - 1;
        }
}

static bool component_is(const char *path, int nth, const char *want)
{
        const char *s;
        size_t n;
        return component(path, nth, &s, &n) && n == strlen(want) && !memcmp(s, want, n);
}

static enum cms_sbom_kind lang_kind(const char *p)
{
        const char *b, *d;
        size_t bn, dn;
        component(p, 0, &b, &bn);
        bool parent = component(p, 1, &d, &dn);
        if (parent && !strcmp(b, "METADATA") && ends_with(d, dn, ".dist-info"))
                return CMS_SBOM_PYPI;
        if (parent && !strcmp(b, "PKG-INFO") && ends_with(d, dn, ".egg-info"))
                return CMS_SBOM_PYPI;
        if (ends_with(b, bn, ".egg-info") && bn > strlen(".egg-info"))
                return CMS_SBOM_PYPI;
        /* Only a package's own manifest: node_modules/<name>/ or node_modules/@scope/<name>/,
         * not the package.json files of a package's tests or fixtures. */
        if (parent && !strcmp(b, "package.json") && dn > 0) {
                if (component_is(p, 2, "node_modules") && d[0] != '@')
                        return CMS_SBOM_NPM;
                const char *s;
                size_t sn;
                if (component(p, 2, &s, &sn) && sn > 1 && s[0] == '@' &&
                    component_is(p, 3, "node_modules"))
                        return CMS_SBOM_NPM;
        }
        if (parent && ends_with(b, bn, ".gemspec") && bn > strlen(".gemspec") && dn == 14 &&
            !memcmp(d, "specifications", 14))
                return CMS_SBOM_GEM;
        return CMS_SBOM_NONE;
}

enum cms_sbom_kind cms_sbom_kind(const char *p)
{
        static const char statusd[] = "var/lib/dpkg/status.d/";
        if (!strcmp(p, "var/lib/dpkg/status"))
                return CMS_SBOM_DPKG;
        if (!strncmp(p, statusd, sizeof(statusd) - 1)) {
                const char *rest = p + sizeof(statusd) - 1;
                return *rest && !strchr(rest, '/') && !ends_with(rest, strlen(rest), ".md5sums")
                           ? CMS_SBOM_DPKG
                           : CMS_SBOM_NONE;
        }
        if (!strcmp(p, "lib/apk/db/installed"))
                return CMS_SBOM_APK;
        if (!strcmp(p, "etc/os-release") || !strcmp(p, "usr/lib/os-release"))
                return CMS_SBOM_OS;
        if (!strcmp(p, "etc/debian_version"))
                return CMS_SBOM_DEBVER;
        return lang_kind(p);
}

/* Line iteration over text: the next line (without its "\n") in line and len; false at the end. */
static bool next_line(const char **cur, const char *end, const char **line, size_t *len)
{
        if (*cur >= end)
                return false;
        const char *nl = memchr(*cur, '\n', (size_t)(end - *cur));
        *line = *cur;
        *len = (size_t)((nl ? nl : end) - *cur);
        if (*len && (*line)[*len - 1] == '\r')
                (*len)--;
        *cur = nl ? nl + 1 : end;
        return true;
}

static char *trimmed(const char *s, size_t n)
{
        while (n && isspace((unsigned char)*s))
                s++, n--;
        while (n && isspace((unsigned char)s[n - 1]))
                n--;
        return strndup(s, n);
}

/* A "Key: value" header line (no leading blank): the value, trimmed, when the key matches. */
static bool header(const char *line, size_t len, const char *key, char **val)
{
        size_t k = strlen(key);
        if (len <= k || line[k] != ':' || strncasecmp(line, key, k))
                return false;
        free(*val);
        *val = trimmed(line + k + 1, len - k - 1);
        return true;
}

static int add_pkg(json_object *arr, const char *type, const char *path, const char *name,
                   const char *version)
{
        json_object *p = json_object_new_object();
        if (!p || json_object_array_add(arr, p) < 0) {
                json_object_put(p);
                return -1;
        }
        json_object_object_add(p, "type", json_object_new_string(type));
        json_object_object_add(p, "name", json_object_new_string(name));
        json_object_object_add(p, "version", json_object_new_string(version));
        json_object_object_add(p, "path", json_object_new_string(path));
        return 0;
}

static void put(json_object *p, const char *key, const char *v)
{
        if (v && *v)
                json_object_object_add(p, key, json_object_new_string(v));
}

struct stanza {
        char *name, *version, *arch, *source, *status, *origin;
};

static void stanza_clear(struct stanza *s)
{
        free(s->name), free(s->version), free(s->arch);
        free(s->source), free(s->status), free(s->origin);
        memset(s, 0, sizeof(*s));
}

/* dpkg's "want flag state": installed means state "installed" and want install or hold.
 * status.d stanzas (distroless) carry no Status at all: each file is an installed package. */
static bool dpkg_installed(const char *status)
{
        char want[32], flag[32], state[32];
        if (!status)
                return true;
        if (sscanf(status, "%31s %31s %31s", want, flag, state) != 3)
                return false;
        return (!strcmp(want, "install") || !strcmp(want, "hold")) && !strcmp(flag, "ok") &&
               !strcmp(state, "installed");
}

static int dpkg_emit(json_object *arr, const char *path, struct stanza *s)
{
        int r = 0;
        if (s->name && s->version && *s->name && *s->version && dpkg_installed(s->status)) {
                r = add_pkg(arr, "deb", path, s->name, s->version);
                json_object *p =
                    r ? NULL : json_object_array_get_idx(arr, json_object_array_length(arr) - 1);
                if (p) {
                        put(p, "arch", s->arch);
                        /* "Source: name" or "Source: name (version)"; absent: the binary's. */
                        char *src = s->source, *open = src ? strchr(src, '(') : NULL;
                        _cleanup_free_ char *sname = NULL, *sver = NULL;
                        if (open) {
                                char *close = strchr(open, ')');
                                sname = trimmed(src, (size_t)(open - src));
                                sver = close ? trimmed(open + 1, (size_t)(close - open - 1)) : NULL;
                        } else if (src)
                                sname = strdup(src);
                        put(p, "source", sname && *sname ? sname : s->name);
                        put(p, "source_version", sver && *sver ? sver : s->version);
                }
        }
        stanza_clear(s);
        return r;
}

/* A database of stanzas separated by blank lines (dpkg's status, apk's installed): field() takes
 * each other line into the stanza, emit() turns a finished stanza into a package. */
static int parse_stanzas(const char *path, const char *text, size_t len, json_object *arr,
                         void (*field)(struct stanza *, const char *, size_t),
                         int (*emit)(json_object *, const char *, struct stanza *))
{
        const char *cur = text, *end = text + len, *line;
        size_t n;
        struct stanza s = {0};
        int r = 0;
        while (r == 0 && next_line(&cur, end, &line, &n)) {
                if (n == 0)
                        r = emit(arr, path, &s);
                else
                        field(&s, line, n);
        }
        if (r == 0)
                r = emit(arr, path, &s);
        stanza_clear(&s);
        return r;
}

static void dpkg_field(struct stanza *s, const char *line, size_t n)
{
        if (line[0] == ' ' || line[0] == '\t')
                return; /* a continuation of a multi-line field */
        (void)(header(line, n, "Package", &s->name) || header(line, n, "Version", &s->version) ||
               header(line, n, "Architecture", &s->arch) || header(line, n, "Source", &s->source) ||
               header(line, n, "Status", &s->status));
}

static int parse_dpkg(const char *path, const char *text, size_t len, json_object *arr)
{
        return parse_stanzas(path, text, len, arr, dpkg_field, dpkg_emit);
}

/* apk: "P:" name, "V:" version, "A:" arch, "o:" origin (the source package). */
static int apk_emit(json_object *arr, const char *path, struct stanza *s)
{
        int r = 0;
        if (s->name && s->version && *s->name && *s->version) {
                r = add_pkg(arr, "apk", path, s->name, s->version);
                json_object *p =
                    r ? NULL : json_object_array_get_idx(arr, json_object_array_length(arr) - 1);
                if (p) {
                        put(p, "arch", s->arch);
                        put(p, "source", s->origin ? s->origin : s->name);
                        put(p, "source_version", s->version);
                }
        }
        stanza_clear(s);
        return r;
}

static void apk_field(struct stanza *s, const char *line, size_t n)
{
        if (n < 2 || line[1] != ':')
                return;
        char **slot = line[0] == 'P'   ? &s->name
                      : line[0] == 'V' ? &s->version
                      : line[0] == 'A' ? &s->arch
                      : line[0] == 'o' ? &s->origin
                                       : NULL;
        if (slot) {
                free(*slot);
                *slot = trimmed(line + 2, n - 2);
        }
}

static int parse_apk(const char *path, const char *text, size_t len, json_object *arr)
{
        return parse_stanzas(path, text, len, arr, apk_field, apk_emit);
}

/* Core metadata (METADATA, PKG-INFO): headers up to the first blank line. */
static int parse_pypi(const char *path, const char *text, size_t len, json_object *arr)
{
        const char *cur = text, *end = text + len, *line;
        size_t n;
        struct stanza s = {0};
        while (next_line(&cur, end, &line, &n) && n > 0)
                if (line[0] != ' ' && line[0] != '\t')
                        (void)(header(line, n, "Name", &s.name) ||
                               header(line, n, "Version", &s.version));
        int r = 0;
        if (s.name && s.version && *s.name && *s.version)
                r = add_pkg(arr, "pypi", path, s.name, s.version);
        stanza_clear(&s);
        return r;
}

static int parse_npm(const char *path, const char *text, size_t len, json_object *arr)
{
        json_tokener *tok = json_tokener_new_ex(64);
        if (!tok)
                return -1;
        json_object *doc = json_tokener_parse_ex(tok, text, (int)len);
        json_tokener_free(tok);
        json_object *name = cms_json_get(doc, "name"), *ver = cms_json_get(doc, "version");
        int r = 0;
        if (json_object_is_type(name, json_type_string) &&
            json_object_is_type(ver, json_type_string) && json_object_get_string_len(name) > 0 &&
            json_object_get_string_len(ver) > 0)
                r = add_pkg(arr, "npm", path, json_object_get_string(name),
                            json_object_get_string(ver));
        json_object_put(doc);
        return r;
}

/* A gemspec's `<x>.name = "rake"` / `<x>.version = "13.0.6".freeze` lines (the form that
 * RubyGems writes into specifications/): the first quoted string after the "=". */
static bool gem_field(const char *line, size_t n, const char *field, char **out)
{
        const char *at = memmem(line, n, field, strlen(field));
        if (!at || *out)
                return false;
        const char *p = at + strlen(field), *e = line + n;
        while (p < e && *p == ' ')
                p++;
        if (p >= e || *p != '=' || (p + 1 < e && p[1] == '='))
                return false;
        const char *q = p + 1;
        while (q < e && *q != '"' && *q != '\'')
                q++;
        if (q >= e)
                return false;
        const char *close = memchr(q + 1, *q, (size_t)(e - q - 1));
        if (!close || close == q + 1)
                return false;
        *out = strndup(q + 1, (size_t)(close - q - 1));
        return true;
}

static int parse_gem(const char *path, const char *text, size_t len, json_object *arr)
{
        const char *cur = text, *end = text + len, *line;
        size_t n;
        struct stanza s = {0};
        while (next_line(&cur, end, &line, &n))
                (void)(gem_field(line, n, ".name", &s.name) ||
                       gem_field(line, n, ".version", &s.version));
        int r = 0;
        if (s.name && s.version)
                r = add_pkg(arr, "gem", path, s.name, s.version);
        stanza_clear(&s);
        return r;
}

/* os-release(5): KEY=value, the value maybe quoted ("..." with \-escapes, or '...'). */
static void os_field(json_object *o, const char *key, const char *v, size_t n)
{
        char buf[256];
        size_t k = 0;
        char q = n && (v[0] == '"' || v[0] == '\'') ? v[0] : 0;
        for (size_t i = q ? 1 : 0; i < n && k + 1 < sizeof(buf); i++) {
                if (q && v[i] == q)
                        break;
                if (q == '"' && v[i] == '\\' && i + 1 < n)
                        i++;
                buf[k++] = v[i];
        }
        buf[k] = 0;
        if (k)
                json_object_object_add(o, key, json_object_new_string(buf));
}

static int parse_os(const char *text, size_t len, json_object *o)
{
        static const char *const keys[][2] = {{"ID", "id"},
                                              {"VERSION_ID", "version_id"},
                                              {"VERSION_CODENAME", "codename"},
                                              {"PRETTY_NAME", "name"}};
        const char *cur = text, *end = text + len, *line;
        size_t n;
        while (next_line(&cur, end, &line, &n)) {
                const char *eq = memchr(line, '=', n);
                if (!eq)
                        continue;
                for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
                        if ((size_t)(eq - line) == strlen(keys[i][0]) &&
                            !memcmp(line, keys[i][0], (size_t)(eq - line)))
                                os_field(o, keys[i][1], eq + 1, n - (size_t)(eq - line) - 1);
        }
        return 0;
}

int cms_sbom_parse(enum cms_sbom_kind kind, const char *path, const char *text, size_t len,
                   json_object **out, struct cms_error *err)
{
        bool obj = kind == CMS_SBOM_OS || kind == CMS_SBOM_DEBVER;
        json_object *o = obj ? json_object_new_object() : json_object_new_array();
        int r = o ? 0 : -1;
        const char *nl;
        switch (o ? kind : CMS_SBOM_NONE) {
        case CMS_SBOM_DPKG:
                r = parse_dpkg(path, text, len, o);
                break;
        case CMS_SBOM_APK:
                r = parse_apk(path, text, len, o);
                break;
        case CMS_SBOM_PYPI:
                r = parse_pypi(path, text, len, o);
                break;
        case CMS_SBOM_NPM:
                r = parse_npm(path, text, len, o);
                break;
        case CMS_SBOM_GEM:
                r = parse_gem(path, text, len, o);
                break;
        case CMS_SBOM_OS:
                r = parse_os(text, len, o);
                break;
        case CMS_SBOM_DEBVER:
                nl = memchr(text, '\n', len);
                os_field(o, "debian_version", text, nl ? (size_t)(nl - text) : len);
                break;
        case CMS_SBOM_NONE:
                break;
        }
        if (r < 0) {
                json_object_put(o);
                *out = NULL;
                return cms_err(err, 500, "out of memory");
        }
        *out = o;
        return 0;
}

void cms_sbom_pep503(const char *name, char *out, size_t cap)
{
        size_t k = 0;
        bool sep = false;
        for (const char *p = name; *p && k + 2 < cap; p++) {
                if (*p == '-' || *p == '_' || *p == '.') {
                        sep = true;
                        continue;
                }
                if (sep && k > 0)
                        out[k++] = '-';
                sep = false;
                out[k++] = (char)tolower((unsigned char)*p);
        }
        out[k] = 0;
}
