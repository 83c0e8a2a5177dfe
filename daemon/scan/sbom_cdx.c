/* The inventory (sbom.h) as a CycloneDX 1.5 document, with package URLs in the forms of the
 * purl specification's types (deb, apk, pypi, npm, gem) and the qualifiers scanners use
 * (arch, distro, epoch), so that a consumer matching on purls sees what it expects. */
#include <ctype.h>
#include <sys/random.h>
#include <time.h>

#include "sbom.h"

/* Percent-encodes s into b: unreserved characters stay as they are, and in a version (or a
 * qualifier's value) "+" and ":" too, as packageurl-go writes them ("libstdc%2B%2B6@12.2.0-14+
 * deb12u1"). */
static int purl_esc(struct cms_buf *b, const char *s, bool version)
{
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                bool keep = isalnum(*p) || strchr("-._~", *p) || (version && strchr("+:", *p));
                int r = keep ? cms_buf_append(b, p, 1) : cms_buf_printf(b, "%%%02X", *p);
                if (r < 0)
                        return -1;
        }
        return 0;
}

static int purl_escape(struct cms_buf *b, const char *s)
{
        return purl_esc(b, s, false);
}

static const char *str(json_object *o, const char *key)
{
        const char *s = json_object_get_string(cms_json_get(o, key));
        return s && *s ? s : NULL;
}

/* "debian-12.12": the distro qualifier of a deb purl (Debian's point release when known). */
static void deb_distro(json_object *os, char *out, size_t cap)
{
        const char *id = str(os, "id"), *ver = str(os, "version_id");
        const char *dv = str(os, "debian_version");
        if (id && !strcmp(id, "debian") && dv && isdigit((unsigned char)dv[0]))
                ver = dv;
        snprintf(out, cap, "%s%s%s", id ? id : "", id && ver ? "-" : "", ver ? ver : "");
}

static int purl_qualifiers(struct cms_buf *b, const char *const *kv)
{
        char sep = '?';
        for (size_t i = 0; kv[i]; i += 2) {
                if (!kv[i + 1] || !*kv[i + 1])
                        continue;
                if (cms_buf_printf(b, "%c%s=", sep, kv[i]) < 0 || purl_esc(b, kv[i + 1], true) < 0)
                        return -1;
                sep = '&';
        }
        return 0;
}

/* deb and apk: pkg:<type>/<distro id>/<name>@<version>?arch=..&distro=..[&epoch=N], the epoch
 * out of the version as trivy and syft write it. */
static int purl_os(struct cms_buf *b, const char *type, json_object *pkg, json_object *os)
{
        const char *name = str(pkg, "name"), *version = str(pkg, "version");
        const char *id = str(os, "id");
        char distro[200], epoch[16] = "";
        const char *colon = strchr(version, ':');
        if (!strcmp(type, "deb") && colon && colon - version < (ptrdiff_t)sizeof(epoch)) {
                memcpy(epoch, version, (size_t)(colon - version));
                epoch[colon - version] = 0;
                version = colon + 1;
        }
        if (!strcmp(type, "deb"))
                deb_distro(os, distro, sizeof(distro));
        else
                snprintf(distro, sizeof(distro), "%s", str(os, "version_id") ?: "");
        const char *q[] = {"arch", str(pkg, "arch"), "distro", distro, "epoch", epoch, NULL};
        if (cms_buf_printf(b, "pkg:%s/", type) < 0 ||
            purl_escape(b, id ? id : (!strcmp(type, "deb") ? "debian" : "alpine")) < 0 ||
            cms_buf_append(b, "/", 1) < 0 || purl_escape(b, name) < 0 ||
            cms_buf_append(b, "@", 1) < 0 || purl_esc(b, version, true) < 0)
                return -1;
        return purl_qualifiers(b, q);
}

char *cms_sbom_purl(json_object *pkg, json_object *os)
{
        const char *type = str(pkg, "type"), *name = str(pkg, "name"), *ver = str(pkg, "version");
        _cleanup_buf_ struct cms_buf b;
        cms_buf_init(&b, 8192);
        if (!type || !name || !ver)
                return NULL;
        int r;
        if (!strcmp(type, "deb") || !strcmp(type, "apk")) {
                r = purl_os(&b, type, pkg, os);
        } else if (!strcmp(type, "pypi")) {
                char norm[512];
                cms_sbom_pep503(name, norm, sizeof(norm));
                r = cms_buf_printf(&b, "pkg:pypi/") < 0 || purl_escape(&b, norm) < 0 ? -1 : 0;
        } else if (!strcmp(type, "npm") && name[0] == '@' && strchr(name, '/')) {
                /* A scope is the namespace: "@types/node" -> pkg:npm/%40types/node */
                const char *slash = strchr(name, '/');
                _cleanup_free_ char *scope = strndup(name, (size_t)(slash - name));
                r = !scope || cms_buf_printf(&b, "pkg:npm/") < 0 || purl_escape(&b, scope) < 0 ||
                            cms_buf_append(&b, "/", 1) < 0 || purl_escape(&b, slash + 1) < 0
                        ? -1
                        : 0;
        } else {
                r = cms_buf_printf(&b, "pkg:%s/", type) < 0 || purl_escape(&b, name) < 0 ? -1 : 0;
        }
        if (r == 0 && strcmp(type, "deb") && strcmp(type, "apk"))
                r = cms_buf_append(&b, "@", 1) < 0 || purl_esc(&b, ver, true) < 0 ? -1 : 0;
        if (r < 0)
                return NULL;
        return cms_buf_take(&b);
}

static void prop(json_object *props, const char *name, const char *value)
{
        if (!value || !*value)
                return;
        json_object *p = json_object_new_object();
        json_object_object_add(p, "name", json_object_new_string(name));
        json_object_object_add(p, "value", json_object_new_string(value));
        json_object_array_add(props, p);
}

static void uuid_v4(char out[37])
{
        unsigned char u[16] = {0};
        if (getrandom(u, sizeof(u), 0) != (ssize_t)sizeof(u))
                for (size_t i = 0; i < sizeof(u); i++)
                        u[i] = (unsigned char)(rand() ^ (int)time(NULL) >> (i % 8));
        u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
        u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
        snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
                 u[13], u[14], u[15]);
}

static json_object *library(json_object *pkg, json_object *os, json_object *refs)
{
        _cleanup_free_ char *purl = cms_sbom_purl(pkg, os);
        if (!purl)
                return NULL;
        json_object *c = json_object_new_object(), *props = json_object_new_array();
        /* bom-refs are unique: the same package found twice (two site-packages) gets "#2". */
        int seen = json_object_get_int(cms_json_get(refs, purl)) + 1;
        json_object_object_add(refs, purl, json_object_new_int(seen));
        _cleanup_free_ char *ref = seen > 1 ? cms_strdup_printf("%s#%d", purl, seen) : NULL;
        json_object_object_add(c, "bom-ref", json_object_new_string(ref ? ref : purl));
        json_object_object_add(c, "type", json_object_new_string("library"));
        json_object_object_add(c, "name", json_object_get(cms_json_get(pkg, "name")));
        json_object_object_add(c, "version", json_object_get(cms_json_get(pkg, "version")));
        json_object_object_add(c, "purl", json_object_new_string(purl));
        prop(props, "cmsd:package:type", str(pkg, "type"));
        _cleanup_free_ char *path =
            str(pkg, "path") ? cms_strdup_printf("/%s", str(pkg, "path")) : NULL;
        prop(props, "cmsd:package:path", path);
        prop(props, "cmsd:package:arch", str(pkg, "arch"));
        prop(props, "cmsd:package:source", str(pkg, "source"));
        prop(props, "cmsd:package:source_version", str(pkg, "source_version"));
        json_object_object_add(c, "properties", props);
        return c;
}

static json_object *os_component(json_object *os)
{
        const char *id = str(os, "id");
        if (!id)
                return NULL;
        const char *ver = str(os, "version_id");
        if (!strcmp(id, "debian") && str(os, "debian_version") &&
            isdigit((unsigned char)str(os, "debian_version")[0]))
                ver = str(os, "debian_version");
        json_object *c = json_object_new_object(), *props = json_object_new_array();
        _cleanup_free_ char *ref = cms_strdup_printf("os:%s-%s", id, ver ? ver : "");
        json_object_object_add(c, "bom-ref", json_object_new_string(ref ? ref : id));
        json_object_object_add(c, "type", json_object_new_string("operating-system"));
        json_object_object_add(c, "name", json_object_new_string(id));
        if (ver)
                json_object_object_add(c, "version", json_object_new_string(ver));
        if (str(os, "name"))
                json_object_object_add(c, "description", json_object_new_string(str(os, "name")));
        prop(props, "cmsd:os:version_id", str(os, "version_id"));
        prop(props, "cmsd:os:codename", str(os, "codename"));
        json_object_object_add(c, "properties", props);
        return c;
}

static json_object *metadata(const struct cms_sbom_image *img, json_object *inv)
{
        char ts[32];
        time_t now = time(NULL);
        struct tm tm;
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        json_object *md = json_object_new_object(), *tools = json_object_new_object();
        json_object *tool = json_object_new_object(), *list = json_object_new_array();
        json_object_object_add(tool, "type", json_object_new_string("application"));
        json_object_object_add(tool, "name", json_object_new_string("cmsd"));
        json_object_object_add(tool, "version", json_object_new_string(CMS_VERSION));
        json_object_array_add(list, tool);
        json_object_object_add(tools, "components", list);
        json_object *img_c = json_object_new_object(), *props = json_object_new_array();
        json_object_object_add(img_c, "bom-ref", json_object_new_string(img->id));
        json_object_object_add(img_c, "type", json_object_new_string("container"));
        json_object_object_add(img_c, "name", json_object_new_string(img->name));
        const char *at = img->digest ? strchr(img->digest, '@') : NULL;
        json_object_object_add(img_c, "version", json_object_new_string(at ? at + 1 : img->id));
        prop(props, "cmsd:image:id", img->id);
        prop(props, "cmsd:image:repo_digest", img->digest);
        _cleanup_free_ char *layers =
            cms_strdup_printf("%d", json_object_get_int(cms_json_get(inv, "layers")));
        prop(props, "cmsd:image:layers", layers);
        json_object_object_add(img_c, "properties", props);
        json_object_object_add(md, "timestamp", json_object_new_string(ts));
        json_object_object_add(md, "tools", tools);
        json_object_object_add(md, "component", img_c);
        return md;
}

int cms_sbom_cyclonedx(json_object *inv, const struct cms_sbom_image *img, json_object **out,
                       struct cms_error *err)
{
        char uuid[37], serial[48];
        uuid_v4(uuid);
        snprintf(serial, sizeof(serial), "urn:uuid:%s", uuid);
        json_object *os = cms_json_get(inv, "os"), *pkgs = cms_json_get(inv, "packages");
        json_object *doc = json_object_new_object(), *comps = json_object_new_array();
        _cleanup_json_ json_object *refs = json_object_new_object();
        if (!doc || !comps || !refs) {
                json_object_put(doc);
                json_object_put(comps);
                return cms_err(err, 500, "out of memory");
        }
        json_object_object_add(doc, "bomFormat", json_object_new_string("CycloneDX"));
        json_object_object_add(doc, "specVersion", json_object_new_string("1.5"));
        json_object_object_add(doc, "serialNumber", json_object_new_string(serial));
        json_object_object_add(doc, "version", json_object_new_int(1));
        json_object_object_add(doc, "metadata", metadata(img, inv));
        json_object *osc = os_component(os);
        if (osc)
                json_object_array_add(comps, osc);
        for (size_t i = 0; i < json_object_array_length(pkgs); i++) {
                json_object *c = library(json_object_array_get_idx(pkgs, i), os, refs);
                if (c)
                        json_object_array_add(comps, c);
        }
        json_object_object_add(doc, "components", comps);
        *out = doc;
        return 0;
}
