/* The builtin scanner (match.h): each package of the SBOM looked up in the vulnerability
 * database under the name and ecosystem OSV uses for it, each record found asked whether the
 * installed version is affected (osv_match.c), findings deduplicated, sorted and summed. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "match.h"
#include "sbom.h"

struct pkg {
        const char *type, *name, *version, *purl;
        const char *ecosystem, *release; /* OSV's */
        const char *qname, *qversion;    /* what is looked up and compared */
};

struct scan {
        struct pkg *p; /* the packages looked up together (one source, one version) */
        size_t np;
        json_object *found; /* all findings */
        json_object *seen;  /* "id\x1fpackage\x1fversion" */
};

int cms_scan_severities(const char *s, unsigned *mask, struct cms_error *err)
{
        *mask = 0;
        if (!s)
                return 0;
        char buf[256];
        if (strlen(s) >= sizeof(buf))
                return cms_err(err, 400, "severity: too long");
        snprintf(buf, sizeof(buf), "%s", s);
        for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                while (isspace((unsigned char)*t))
                        t++;
                size_t n = strlen(t);
                while (n && isspace((unsigned char)t[n - 1]))
                        t[--n] = 0;
                if (!n)
                        continue;
                enum cms_severity v = cms_severity_parse(t);
                if (v == CMS_SEV_UNKNOWN && strcasecmp(t, "UNKNOWN"))
                        return cms_err(err, 400,
                                       "severity: unknown severity \"%s\" (CRITICAL, HIGH, MEDIUM, "
                                       "LOW, UNKNOWN)",
                                       t);
                *mask |= 1u << v;
        }
        return 0;
}

static const char *prop(json_object *c, const char *name)
{
        json_object *props = cms_json_get(c, "properties");
        for (size_t i = 0; i < json_object_array_length(props); i++) {
                json_object *p = json_object_array_get_idx(props, i);
                const char *n = json_object_get_string(cms_json_get(p, "name"));
                if (n && !strcmp(n, name))
                        return json_object_get_string(cms_json_get(p, "value"));
        }
        return NULL;
}

/* The OS's ecosystem and release as OSV spells them, from the SBOM's operating-system
 * component: Debian "12" (the major of VERSION_ID), Ubuntu "22.04", Alpine "v3.18". */
static void os_ecosystem(json_object *sbom, const char **eco, char *release, size_t cap)
{
        json_object *comps = cms_json_get(sbom, "components");
        *eco = NULL;
        release[0] = 0;
        for (size_t i = 0; i < json_object_array_length(comps); i++) {
                json_object *c = json_object_array_get_idx(comps, i);
                const char *type = json_object_get_string(cms_json_get(c, "type"));
                if (!type || strcmp(type, "operating-system"))
                        continue;
                const char *id = json_object_get_string(cms_json_get(c, "name"));
                const char *v = prop(c, "cmsd:os:version_id");
                v = v ? v : "";
                if (id && !strcmp(id, "debian")) {
                        *eco = "Debian";
                        snprintf(release, cap, "%.*s", (int)strcspn(v, "."), v);
                } else if (id && !strcmp(id, "ubuntu")) {
                        *eco = "Ubuntu";
                        snprintf(release, cap, "%s", v);
                } else if (id && !strcmp(id, "alpine")) {
                        const char *dot = strchr(v, '.');
                        size_t n = dot ? strcspn(dot + 1, ".") + (size_t)(dot + 1 - v) : strlen(v);
                        *eco = "Alpine";
                        snprintf(release, cap, "v%.*s", (int)n, v);
                }
                return;
        }
}

static void add_finding(struct scan *s, const struct pkg *p, const struct cms_osv *rec,
                        const char *fixed)
{
        char key[1024];
        snprintf(key, sizeof(key), "%s\x1f%s\x1f%s", rec->id, p->name, p->version);
        if (json_object_object_get_ex(s->seen, key, NULL))
                return;
        json_object_object_add(s->seen, key, NULL);
        json_object *f = json_object_new_object(), *al = json_object_new_array();
        for (size_t i = 0; i < rec->naliases; i++)
                json_object_array_add(al, json_object_new_string(rec->aliases[i]));
        char eco[128];
        snprintf(eco, sizeof(eco), "%s%s%s", p->ecosystem, p->release ? ":" : "",
                 p->release ? p->release : "");
        json_object_object_add(f, "id", json_object_new_string(rec->id));
        json_object_object_add(f, "aliases", al);
        json_object_object_add(f, "package", json_object_new_string(p->name));
        json_object_object_add(f, "version", json_object_new_string(p->version));
        json_object_object_add(f, "fixed_version", fixed ? json_object_new_string(fixed) : NULL);
        json_object_object_add(f, "severity",
                               json_object_new_string(cms_severity_name(rec->severity)));
        json_object_object_add(f, "ecosystem", json_object_new_string(eco));
        json_object_object_add(f, "summary",
                               rec->summary ? json_object_new_string(rec->summary) : NULL);
        if (strcmp(p->qname, p->name))
                json_object_object_add(f, "source", json_object_new_string(p->qname));
        if (p->purl)
                json_object_object_add(f, "purl", json_object_new_string(p->purl));
        json_object_array_add(s->found, f);
}

static int on_record(const struct cms_osv *rec, void *ud)
{
        struct scan *s = ud;
        const struct pkg *p = s->p;
        const char *name = p->qname;
        char want[512], have[512];
        if (!strcmp(p->ecosystem, "PyPI")) { /* the record's spelling of the name */
                cms_sbom_pep503(p->qname, want, sizeof(want));
                for (size_t i = 0; i < rec->naffected; i++) {
                        cms_sbom_pep503(rec->affected[i].name, have, sizeof(have));
                        if (!strcmp(rec->affected[i].ecosystem, "PyPI") && !strcmp(want, have)) {
                                name = rec->affected[i].name;
                                break;
                        }
                }
        }
        const char *fixed = NULL;
        int r = cms_osv_affects(rec, p->ecosystem, p->release, name, p->qversion, &fixed);
        for (size_t i = 0; r == 1 && i < s->np; i++)
                add_finding(s, &s->p[i], rec, fixed);
        return 0; /* a version the ecosystem's order refuses, or no order: not a finding */
}

/* Fills p from a library component; false when it is not a package OSV knows. */
static bool package_of(json_object *c, const char *os_eco, const char *os_rel, struct pkg *p)
{
        *p = (struct pkg){.type = prop(c, "cmsd:package:type"),
                          .name = json_object_get_string(cms_json_get(c, "name")),
                          .version = json_object_get_string(cms_json_get(c, "version")),
                          .purl = json_object_get_string(cms_json_get(c, "purl"))};
        if (!p->type || !p->name || !p->version)
                return false;
        p->qname = p->name;
        p->qversion = p->version;
        if (!strcmp(p->type, "deb") || !strcmp(p->type, "apk")) {
                bool deb = !strcmp(p->type, "deb");
                if (!os_eco || deb == !strcmp(os_eco, "Alpine"))
                        return false;
                p->ecosystem = os_eco;
                p->release = os_rel && *os_rel ? os_rel : NULL;
                p->qname = prop(c, "cmsd:package:source") ?: p->name;
                if (deb) /* Debian's tracker versions the source package */
                        p->qversion = prop(c, "cmsd:package:source_version") ?: p->version;
                return true;
        }
        if (!strcmp(p->type, "pypi"))
                p->ecosystem = "PyPI";
        else if (!strcmp(p->type, "npm"))
                p->ecosystem = "npm";
        else if (!strcmp(p->type, "gem"))
                p->ecosystem = "RubyGems";
        return p->ecosystem != NULL;
}

static int finding_cmp(const void *pa, const void *pb)
{
        json_object *a = *(json_object *const *)pa, *b = *(json_object *const *)pb;
        const char *f[] = {"id", "package", "version"};
        int c = (int)cms_severity_parse(json_object_get_string(cms_json_get(b, "severity"))) -
                (int)cms_severity_parse(json_object_get_string(cms_json_get(a, "severity")));
        for (size_t i = 0; !c && i < sizeof(f) / sizeof(f[0]); i++)
                c = strcmp(json_object_get_string(cms_json_get(a, f[i])) ?: "",
                           json_object_get_string(cms_json_get(b, f[i])) ?: "");
        return c;
}

json_object *cms_scan_shape(json_object *found, const struct cms_scan_opts *o)
{
        static const enum cms_severity order[] = {CMS_SEV_CRITICAL, CMS_SEV_HIGH, CMS_SEV_MEDIUM,
                                                  CMS_SEV_LOW, CMS_SEV_UNKNOWN};
        int64_t count[5] = {0};
        json_object_array_sort(found, finding_cmp);
        json_object *list = json_object_new_array(), *sum = json_object_new_object();
        for (size_t i = 0; i < json_object_array_length(found); i++) {
                json_object *f = json_object_array_get_idx(found, i);
                if (o->ignore_unfixed && !cms_json_get(f, "fixed_version"))
                        continue;
                enum cms_severity s =
                    cms_severity_parse(json_object_get_string(cms_json_get(f, "severity")));
                count[s]++;
                if (!o->severities || (o->severities & (1u << s)))
                        json_object_array_add(list, json_object_get(f));
        }
        for (size_t i = 0; i < 5; i++)
                json_object_object_add(sum, cms_severity_name(order[i]),
                                       json_object_new_int64(count[order[i]]));
        json_object *out = json_object_new_object();
        json_object_object_add(out, "vulnerabilities", list);
        json_object_object_add(out, "summary", sum);
        return out;
}

static int nz_cmp(const char *a, const char *b)
{
        return strcmp(a ? a : "", b ? b : "");
}

/* Packages that are looked up and compared alike (binary packages of one source package at one
 * version) sort together, so that their records are read and judged once. */
static int lookup_cmp(const void *pa, const void *pb)
{
        const struct pkg *a = pa, *b = pb;
        int c = nz_cmp(a->ecosystem, b->ecosystem);
        c = c ? c : nz_cmp(a->release, b->release);
        c = c ? c : nz_cmp(a->qname, b->qname);
        return c ? c : nz_cmp(a->qversion, b->qversion);
}

int cms_scan_match(struct cms_vulndb *db, json_object *sbom, const struct cms_scan_opts *opts,
                   json_object **out, struct cms_error *err)
{
        const char *os_eco;
        char os_rel[64];
        *out = NULL;
        os_ecosystem(sbom, &os_eco, os_rel, sizeof(os_rel));
        json_object *comps = cms_json_get(sbom, "components");
        size_t n = 0, ncomps = cms_jlen(comps);
        _cleanup_json_ json_object *found = json_object_new_array();
        _cleanup_json_ json_object *seen = json_object_new_object();
        _cleanup_free_ struct pkg *pkgs = calloc(ncomps ? ncomps : 1, sizeof(*pkgs));
        if (!found || !seen || !pkgs)
                return cms_err(err, 500, "out of memory");
        for (size_t i = 0; i < ncomps; i++) {
                json_object *c = json_object_array_get_idx(comps, i);
                const char *type = json_object_get_string(cms_json_get(c, "type"));
                if (type && !strcmp(type, "library") && package_of(c, os_eco, os_rel, &pkgs[n]))
                        n++;
        }
        qsort(pkgs, n, sizeof(*pkgs), lookup_cmp);
        for (size_t i = 0, k; i < n; i = k) {
                for (k = i + 1; k < n && !lookup_cmp(&pkgs[i], &pkgs[k]);)
                        k++;
                struct scan s = {.p = &pkgs[i], .np = k - i, .found = found, .seen = seen};
                int r = cms_vulndb_lookup(db, pkgs[i].ecosystem, pkgs[i].release, pkgs[i].qname,
                                          on_record, &s, err);
                if (r < 0)
                        return r;
        }
        *out = cms_scan_shape(found, opts);
        return *out ? 0 : cms_err(err, 500, "out of memory");
}

int cms_scan_gate_parse(json_object *scan, const char *what, struct cms_scan_gate *g,
                        struct cms_error *err)
{
        static const char *const keys[] = {"fail_on", "ignore_unfixed", "scanner", NULL};
        const char *f = NULL, *scanner = NULL;
        *g = (struct cms_scan_gate){0};
        if (!scan)
                return 0;
        if (!json_object_is_type(scan, json_type_object))
                return cms_err(err, 400, "%s: expected an object {\"fail_on\": \"CRITICAL\"}",
                               what);
        if (cms_json_check_keys(scan, what, keys, err) < 0 ||
            cms_json_get_string(scan, what, "fail_on", &f, err) < 0 ||
            cms_json_get_bool(scan, what, "ignore_unfixed", false, &g->ignore_unfixed, err) < 0 ||
            cms_json_get_string(scan, what, "scanner", &scanner, err) < 0)
                return -EINVAL;
        if ((g->scanner = cms_scanner_parse(scanner)) < 0)
                return cms_err(err, 400,
                               "%s.scanner: \"%.64s\" is not one of builtin, trivy, grype", what,
                               scanner);
        g->fail_on = f ? cms_severity_parse(f) : CMS_SEV_UNKNOWN;
        if (g->fail_on == CMS_SEV_UNKNOWN)
                return cms_err(err, 400,
                               "%s.fail_on: expected CRITICAL, HIGH, MEDIUM or LOW, got \"%.32s\"",
                               what, f ? f : "");
        return 0;
}

int64_t cms_scan_gate_count(const struct cms_scan_gate *g, json_object *summary)
{
        int64_t n = 0;
        for (int s = g->fail_on; g->fail_on != CMS_SEV_UNKNOWN && s <= CMS_SEV_CRITICAL; s++)
                n += json_object_get_int64(cms_json_get(summary, cms_severity_name(s)));
        return n;
}
