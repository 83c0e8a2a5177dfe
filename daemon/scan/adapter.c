/* trivy's and grype's JSON reports into cmsd's findings (adapter.h). The fields read are those
 * of the tools' documented JSON output:
 *   trivy (SchemaVersion 2): {"Metadata": {"OS": {"Family", "Name"}}, "Results": [{"Target",
 *     "Class", "Type", "Vulnerabilities": [{"VulnerabilityID", "VendorIDs", "PkgName",
 *     "PkgIdentifier": {"PURL"}, "InstalledVersion", "FixedVersion", "Severity", "Title",
 *     "Description"}]}]}
 *   grype: {"matches": [{"vulnerability": {"id", "severity", "description", "fix": {"versions",
 *     "state"}}, "relatedVulnerabilities": [{"id"}], "artifact": {"name", "version", "type",
 *     "purl", "upstreams": [{"name"}]}}], "distro": {"name", "version"}}
 * Ecosystems are named as OSV (and the builtin scanner) name them: "Debian:12", "Alpine:v3.18",
 * "PyPI", "npm", "RubyGems"; a type the table does not know is passed on as the tool wrote it. */
#include "adapter.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cvss.h"

#define SUMMARY_MAX 240

int cms_scanner_parse(const char *s)
{
        if (!s || !strcmp(s, "builtin"))
                return CMS_SCANNER_BUILTIN;
        if (!strcmp(s, "trivy"))
                return CMS_SCANNER_TRIVY;
        if (!strcmp(s, "grype"))
                return CMS_SCANNER_GRYPE;
        return -1;
}

const char *cms_scanner_name(enum cms_scanner s)
{
        return s == CMS_SCANNER_TRIVY ? "trivy" : s == CMS_SCANNER_GRYPE ? "grype" : "builtin";
}

int cms_scan_adapter_argv(enum cms_scanner s, const char *bin, const char *tar, char *scratch,
                          size_t scratch_cap, const char **argv, size_t cap)
{
        size_t n = 0;
        if (cap < 12)
                return -EINVAL;
        argv[n++] = bin;
        if (s == CMS_SCANNER_TRIVY) {
                const char *rest[] = {
                    "image",          "--input",          tar,      "--format", "json",
                    "--offline-scan", "--skip-db-update", "--quiet"};
                for (size_t i = 0; i < ELEMENTSOF(rest); i++)
                        argv[n++] = rest[i];
        } else if (s == CMS_SCANNER_GRYPE) {
                if ((size_t)snprintf(scratch, scratch_cap, "docker-archive:%s", tar) >= scratch_cap)
                        return -ENAMETOOLONG;
                argv[n++] = scratch;
                argv[n++] = "-o";
                argv[n++] = "json";
                argv[n++] = "--quiet";
        } else {
                return -EINVAL;
        }
        argv[n] = NULL;
        return 0;
}

/* "Debian:12", "Ubuntu:22.04", "Alpine:v3.18" from an OS family and version; NULL otherwise. */
static const char *os_ecosystem(const char *family, const char *version, char *buf, size_t cap)
{
        const char *v = version ? version : "";
        if (!family)
                return NULL;
        if (!strcasecmp(family, "debian"))
                snprintf(buf, cap, "Debian%s%.*s", *v ? ":" : "", (int)strcspn(v, "."), v);
        else if (!strcasecmp(family, "ubuntu"))
                snprintf(buf, cap, "Ubuntu%s%s", *v ? ":" : "", v);
        else if (!strcasecmp(family, "alpine")) {
                const char *dot = strchr(v, '.');
                size_t n = dot ? (size_t)(dot + 1 - v) + strcspn(dot + 1, ".") : strlen(v);
                snprintf(buf, cap, "Alpine%s%.*s", *v ? ":v" : "", (int)n, v);
        } else
                return NULL;
        return buf;
}

/* A language package type of either tool as OSV's ecosystem; NULL when the table lacks it. */
static const char *lang_ecosystem(const char *type)
{
        static const struct {
                const char *type, *eco;
        } map[] = {
            {"python-pkg", "PyPI"},
            {"pip", "PyPI"},
            {"pipenv", "PyPI"},
            {"poetry", "PyPI"},
            {"python", "PyPI"},
            {"node-pkg", "npm"},
            {"npm", "npm"},
            {"yarn", "npm"},
            {"pnpm", "npm"},
            {"gemspec", "RubyGems"},
            {"bundler", "RubyGems"},
            {"gem", "RubyGems"},
            {"gobinary", "Go"},
            {"gomod", "Go"},
            {"go-module", "Go"},
            {"jar", "Maven"},
            {"pom", "Maven"},
            {"java-archive", "Maven"},
            {"cargo", "crates.io"},
            {"rust-crate", "crates.io"},
            {"composer", "Packagist"},
            {"php-composer", "Packagist"},
            {"nuget", "NuGet"},
            {"dotnet", "NuGet"},
        };
        for (size_t i = 0; type && i < ELEMENTSOF(map); i++)
                if (!strcmp(map[i].type, type))
                        return map[i].eco;
        return NULL;
}

/* The i-th element of a (possibly absent, possibly not an) array, or NULL. */
static json_object *nth(json_object *a, size_t i)
{
        return json_object_is_type(a, json_type_array) ? json_object_array_get_idx(a, i) : NULL;
}

static const char *jstr(json_object *o, const char *key)
{
        json_object *v = cms_json_get(o, key);
        return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* The first line of a text, cut at SUMMARY_MAX bytes. */
static json_object *summary_of(const char *title, const char *desc)
{
        const char *s = title && *title ? title : desc;
        if (!s || !*s)
                return NULL;
        size_t n = strcspn(s, "\r\n");
        return json_object_new_string_len(s, (int)(n > SUMMARY_MAX ? SUMMARY_MAX : n));
}

struct finding {
        const char *id, *package, *version, *fixed, *severity, *ecosystem, *source, *purl;
        json_object *aliases; /* stolen */
        json_object *summary; /* stolen */
};

static void add(json_object *found, json_object *seen, struct finding *f)
{
        char key[1024];
        snprintf(key, sizeof(key), "%s\x1f%s\x1f%s", f->id, f->package, f->version);
        if (json_object_object_get_ex(seen, key, NULL)) {
                json_object_put(f->aliases);
                json_object_put(f->summary);
                return;
        }
        json_object_object_add(seen, key, NULL);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(f->id));
        json_object_object_add(o, "aliases", f->aliases ? f->aliases : json_object_new_array());
        json_object_object_add(o, "package", json_object_new_string(f->package));
        json_object_object_add(o, "version", json_object_new_string(f->version));
        json_object_object_add(o, "fixed_version",
                               f->fixed && *f->fixed ? json_object_new_string(f->fixed) : NULL);
        enum cms_severity sev = cms_severity_parse(f->severity);
        if (f->severity && !strcasecmp(f->severity, "Negligible")) /* grype's lowest */
                sev = CMS_SEV_LOW;
        json_object_object_add(o, "severity", json_object_new_string(cms_severity_name(sev)));
        json_object_object_add(o, "ecosystem",
                               f->ecosystem ? json_object_new_string(f->ecosystem) : NULL);
        json_object_object_add(o, "summary", f->summary);
        if (f->source && strcmp(f->source, f->package))
                json_object_object_add(o, "source", json_object_new_string(f->source));
        if (f->purl && *f->purl)
                json_object_object_add(o, "purl", json_object_new_string(f->purl));
        json_object_array_add(found, o);
}

static json_object *string_list(json_object *arr, const char *skip)
{
        json_object *out = json_object_new_array();
        for (size_t i = 0; i < cms_jlen(arr); i++) {
                json_object *v = json_object_array_get_idx(arr, i);
                const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                                         : jstr(v, "id");
                if (s && (!skip || strcmp(s, skip)))
                        json_object_array_add(out, json_object_new_string(s));
        }
        return out;
}

static int bad_report(const char *tool, const char *what, struct cms_error *err)
{
        int r = cms_err(err, 502, "%s's JSON report: %s", tool, what);
        if (err)
                err->code = "scanner_failed";
        return r;
}

static int trivy_findings(json_object *doc, json_object *found, json_object *seen,
                          struct cms_error *err)
{
        json_object *results = cms_json_get(doc, "Results");
        json_object *os = cms_json_get(cms_json_get(doc, "Metadata"), "OS");
        char osbuf[64];
        if (!json_object_is_type(doc, json_type_object) || !cms_json_get(doc, "SchemaVersion") ||
            (results && !json_object_is_type(results, json_type_array)))
                return bad_report("trivy", "not trivy's JSON format (no SchemaVersion/Results)",
                                  err);
        const char *os_eco =
            os_ecosystem(jstr(os, "Family"), jstr(os, "Name"), osbuf, sizeof(osbuf));
        for (size_t i = 0; i < cms_jlen(results); i++) {
                json_object *res = json_object_array_get_idx(results, i);
                const char *cls = jstr(res, "Class"), *type = jstr(res, "Type");
                const char *eco = cls && !strcmp(cls, "os-pkgs") ? os_eco : lang_ecosystem(type);
                json_object *vulns = cms_json_get(res, "Vulnerabilities");
                for (size_t j = 0; j < cms_jlen(vulns); j++) {
                        json_object *v = json_object_array_get_idx(vulns, j);
                        struct finding f = {
                            .id = jstr(v, "VulnerabilityID"),
                            .package = jstr(v, "PkgName"),
                            .version = jstr(v, "InstalledVersion"),
                            .fixed = jstr(v, "FixedVersion"),
                            .severity = jstr(v, "Severity"),
                            .ecosystem = eco ? eco : type,
                            .purl = jstr(cms_json_get(v, "PkgIdentifier"), "PURL"),
                        };
                        if (!f.id || !f.package || !f.version)
                                return bad_report("trivy",
                                                  "a vulnerability without VulnerabilityID, "
                                                  "PkgName or InstalledVersion",
                                                  err);
                        f.aliases = string_list(cms_json_get(v, "VendorIDs"), f.id);
                        f.summary = summary_of(jstr(v, "Title"), jstr(v, "Description"));
                        add(found, seen, &f);
                }
        }
        return 0;
}

static int grype_findings(json_object *doc, json_object *found, json_object *seen,
                          struct cms_error *err)
{
        json_object *matches = cms_json_get(doc, "matches");
        json_object *distro = cms_json_get(doc, "distro");
        char osbuf[64];
        if (!json_object_is_type(matches, json_type_array))
                return bad_report("grype", "not grype's JSON format (no matches array)", err);
        const char *os_eco =
            os_ecosystem(jstr(distro, "name"), jstr(distro, "version"), osbuf, sizeof(osbuf));
        for (size_t i = 0; i < cms_jlen(matches); i++) {
                json_object *mt = json_object_array_get_idx(matches, i);
                json_object *v = cms_json_get(mt, "vulnerability");
                json_object *a = cms_json_get(mt, "artifact");
                json_object *fix = cms_json_get(v, "fix");
                const char *type = jstr(a, "type"), *state = jstr(fix, "state");
                bool os =
                    type && (!strcmp(type, "deb") || !strcmp(type, "apk") || !strcmp(type, "rpm"));
                const char *eco = os ? os_eco : lang_ecosystem(type);
                struct finding f = {
                    .id = jstr(v, "id"),
                    .package = jstr(a, "name"),
                    .version = jstr(a, "version"),
                    .severity = jstr(v, "severity"),
                    .ecosystem = eco ? eco : type,
                    .source = jstr(nth(cms_json_get(a, "upstreams"), 0), "name"),
                    .purl = jstr(a, "purl"),
                };
                if (state && !strcmp(state, "fixed"))
                        f.fixed = json_object_get_string(nth(cms_json_get(fix, "versions"), 0));
                if (!f.id || !f.package || !f.version)
                        return bad_report("grype",
                                          "a match without vulnerability.id, artifact.name or "
                                          "artifact.version",
                                          err);
                f.aliases = string_list(cms_json_get(mt, "relatedVulnerabilities"), f.id);
                f.summary = summary_of(NULL, jstr(v, "description"));
                add(found, seen, &f);
        }
        return 0;
}

int cms_scan_adapter_findings(enum cms_scanner s, const char *text, size_t len, json_object **out,
                              struct cms_error *err)
{
        const char *tool = cms_scanner_name(s);
        *out = NULL;
        json_tokener *tok = json_tokener_new_ex(64);
        if (!tok)
                return cms_err(err, 500, "out of memory");
        json_object *doc = json_tokener_parse_ex(tok, text, (int)len);
        enum json_tokener_error je = json_tokener_get_error(tok);
        json_tokener_free(tok);
        if (!doc || je != json_tokener_success) {
                json_object_put(doc);
                return bad_report(tool, len ? "not JSON" : "empty output", err);
        }
        json_object *found = json_object_new_array(), *seen = json_object_new_object();
        int r = s == CMS_SCANNER_TRIVY   ? trivy_findings(doc, found, seen, err)
                : s == CMS_SCANNER_GRYPE ? grype_findings(doc, found, seen, err)
                                         : cms_err(err, 500, "no adapter for %s", tool);
        json_object_put(doc);
        json_object_put(seen);
        if (r < 0) {
                json_object_put(found);
                return r;
        }
        *out = found;
        return 0;
}
