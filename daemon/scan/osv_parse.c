/* Reads an OSV record (the OSV schema, ossf.github.io/osv-schema) into struct cms_osv: id,
 * aliases, modified, withdrawn, summary, severity (database_specific.severity, else the CVSS v3
 * vectors of severity[] and affected[].severity), affected[] packages with their ECOSYSTEM and
 * SEMVER ranges and versions[] lists. What matching relies on is checked, and a record that
 * fails is refused with a reason; fields matching does not use are not. Pure. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/scan/osv.h"
#include "daemon/util.h"
#include "daemon/scan/version.h"

#define OSV_MAX_EVENTS   1024
#define OSV_MAX_VERSIONS 100000

static const char *str_of(json_object *o, const char *key)
{
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static bool present(json_object *o, const char *key)
{
        return json_object_object_get_ex(o, key, NULL);
}

/* The highest CVSS v3 score of a severity[] array into *best (times ten). */
static int read_severity(json_object *arr, int *best, const char **why)
{
        if (!arr)
                return 0;
        if (!json_object_is_type(arr, json_type_array))
                return *why = "severity is not an array", -EINVAL;
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
                json_object *s = json_object_array_get_idx(arr, i);
                const char *type = str_of(s, "type"), *score = str_of(s, "score");
                if (!type || !score)
                        return *why = "severity entry without type and score", -EINVAL;
                int v;
                if (!strcmp(type, "CVSS_V3") && cms_cvss3_base(score, &v) == 0 && v > *best)
                        *best = v;
        }
        return 0;
}

static bool version_ok(enum cms_osv_range_type type, const char *eco, const char *v)
{
        if (type == CMS_OSV_SEMVER)
                return cms_ver_valid_semver(v);
        if (!strcmp(eco, "Debian") || !strcmp(eco, "Ubuntu"))
                return !cms_ver_check_deb(v);
        if (!strcmp(eco, "Alpine"))
                return cms_ver_valid_apk(v);
        if (!strcmp(eco, "PyPI"))
                return cms_ver_valid_pep440(v);
        return *v != 0;
}

static int read_event(json_object *e, enum cms_osv_range_type type, const char *eco,
                      struct cms_osv_event *out, const char **why)
{
        static const char *const keys[] = {"introduced", "fixed", "last_affected", "limit"};
        if (!json_object_is_type(e, json_type_object) || json_object_object_length(e) != 1)
                return *why = "an event has not exactly one key", -EINVAL;
        for (int k = 0; k < 4; k++) {
                const char *v = str_of(e, keys[k]);
                if (!v)
                        continue;
                out->kind = (enum cms_osv_event_kind)k;
                out->version = v;
                bool zero = k == CMS_OSV_INTRODUCED && !strcmp(v, "0");
                bool star = k == CMS_OSV_LIMIT && !strcmp(v, "*");
                if (!zero && !star && !version_ok(type, eco, v))
                        return *why = "an event's version is not valid in its ecosystem", -EINVAL;
                return 0;
        }
        return *why = "an event has no known string key", -EINVAL;
}

static int read_range(json_object *r, const char *eco, struct cms_osv_affected *a, size_t *git,
                      const char **why)
{
        const char *type = str_of(r, "type");
        json_object *evs = json_object_object_get(r, "events");
        if (!type)
                return *why = "a range has no type", -EINVAL;
        if (!json_object_is_type(evs, json_type_array) || json_object_array_length(evs) == 0)
                return *why = "a range has no events", -EINVAL;
        if (!strcmp(type, "GIT"))
                return (*git)++, 0;
        struct cms_osv_range *rg = &a->ranges[a->nranges];
        if (!strcmp(type, "ECOSYSTEM"))
                rg->type = CMS_OSV_ECOSYSTEM;
        else if (!strcmp(type, "SEMVER"))
                rg->type = CMS_OSV_SEMVER;
        else
                return *why = "a range type is not ECOSYSTEM, SEMVER or GIT", -EINVAL;
        size_t n = json_object_array_length(evs);
        if (n > OSV_MAX_EVENTS)
                return *why = "a range has too many events", -E2BIG;
        rg->events = calloc(n, sizeof(*rg->events));
        if (!rg->events)
                return -ENOMEM;
        a->nranges++;
        bool introduced = false;
        for (size_t i = 0; i < n; i++) {
                int r2 = read_event(json_object_array_get_idx(evs, i), rg->type, eco,
                                    &rg->events[i], why);
                if (r2 < 0)
                        return r2;
                introduced |= rg->events[i].kind == CMS_OSV_INTRODUCED;
                rg->nevents++;
        }
        return introduced ? 0 : (*why = "a range has no introduced event", -EINVAL);
}

static int read_versions(json_object *vs, struct cms_osv_affected *a, const char **why)
{
        if (!vs)
                return 0;
        if (!json_object_is_type(vs, json_type_array))
                return *why = "versions is not an array", -EINVAL;
        size_t n = json_object_array_length(vs);
        if (n > OSV_MAX_VERSIONS)
                return *why = "versions has too many entries", -E2BIG;
        a->versions = calloc(n ? n : 1, sizeof(*a->versions));
        if (!a->versions)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *v = json_object_array_get_idx(vs, i);
                if (!json_object_is_type(v, json_type_string))
                        return *why = "a versions entry is not a string", -EINVAL;
                a->versions[a->nversions++] = json_object_get_string(v);
        }
        return 0;
}

/* "Debian:12" -> ecosystem "Debian", release "12", copied into rec->ecosystems at *pos. */
static void split_ecosystem(struct cms_osv *rec, size_t *pos, const char *full,
                            struct cms_osv_affected *a)
{
        char *dst = rec->ecosystems + *pos;
        size_t n = strlen(full);
        memcpy(dst, full, n + 1);
        *pos += n + 1;
        a->ecosystem = dst;
        char *colon = strchr(dst, ':');
        if (colon) {
                *colon = 0;
                a->release = colon + 1;
        }
}

static int read_affected(struct cms_osv *rec, json_object *e, size_t *pos, int *best,
                         const char **why)
{
        struct cms_osv_affected *a = &rec->affected[rec->naffected];
        json_object *pkg = json_object_object_get(e, "package");
        json_object *ranges = json_object_object_get(e, "ranges");
        if (!json_object_is_type(e, json_type_object))
                return *why = "an affected entry is not an object", -EINVAL;
        if (ranges && !json_object_is_type(ranges, json_type_array))
                return *why = "ranges is not an array", -EINVAL;
        const char *eco = str_of(pkg, "ecosystem"), *name = str_of(pkg, "name");
        if (!pkg) {
                /* Only a repository's history (GIT ranges) can be named without a package. */
                for (size_t i = 0; i < cms_jlen(ranges); i++) {
                        const char *t = str_of(json_object_array_get_idx(ranges, i), "type");
                        if (!t || strcmp(t, "GIT"))
                                return *why = "an affected entry has no package", -EINVAL;
                        rec->git_ranges++;
                }
                return 0;
        }
        if (!eco || !name || !*eco || !*name)
                return *why = "a package has no ecosystem or name", -EINVAL;
        rec->naffected++;
        split_ecosystem(rec, pos, eco, a);
        a->name = name;
        a->ranges = calloc(cms_jlen(ranges) + 1, sizeof(*a->ranges));
        if (!a->ranges)
                return -ENOMEM;
        for (size_t i = 0; i < cms_jlen(ranges); i++) {
                int r = read_range(json_object_array_get_idx(ranges, i), a->ecosystem, a,
                                   &rec->git_ranges, why);
                if (r < 0)
                        return r;
        }
        int r = read_versions(json_object_object_get(e, "versions"), a, why);
        if (r < 0)
                return r;
        return read_severity(json_object_object_get(e, "severity"), best, why);
}

static int read_top(struct cms_osv *rec, const char **why)
{
        json_object *d = rec->doc;
        rec->id = str_of(d, "id");
        rec->modified = str_of(d, "modified");
        rec->summary = str_of(d, "summary");
        if (!rec->id || !*rec->id)
                return *why = "no id", -EINVAL;
        if (!rec->modified || !*rec->modified)
                return *why = "no modified date", -EINVAL;
        if (present(d, "withdrawn") && !str_of(d, "withdrawn"))
                return *why = "withdrawn is not a string", -EINVAL;
        rec->withdrawn = present(d, "withdrawn");
        json_object *al = json_object_object_get(d, "aliases");
        if (al && !json_object_is_type(al, json_type_array))
                return *why = "aliases is not an array", -EINVAL;
        rec->aliases = calloc(cms_jlen(al) + 1, sizeof(*rec->aliases));
        if (!rec->aliases)
                return -ENOMEM;
        for (size_t i = 0; i < cms_jlen(al); i++) {
                json_object *v = json_object_array_get_idx(al, i);
                if (!json_object_is_type(v, json_type_string))
                        return *why = "an alias is not a string", -EINVAL;
                rec->aliases[rec->naliases++] = json_object_get_string(v);
        }
        return 0;
}

static int parse_into(struct cms_osv *rec, const char **why)
{
        json_object *d = rec->doc;
        int r = read_top(rec, why);
        if (r < 0)
                return r;
        json_object *aff = json_object_object_get(d, "affected");
        if (aff && !json_object_is_type(aff, json_type_array))
                return *why = "affected is not an array", -EINVAL;
        size_t n = cms_jlen(aff), room = 1;
        for (size_t i = 0; i < n; i++) {
                const char *e =
                    str_of(json_object_object_get(json_object_array_get_idx(aff, i), "package"),
                           "ecosystem");
                room += e ? strlen(e) + 1 : 0;
        }
        rec->affected = calloc(n + 1, sizeof(*rec->affected));
        rec->ecosystems = malloc(room);
        if (!rec->affected || !rec->ecosystems)
                return -ENOMEM;
        size_t pos = 0;
        int best = -1;
        for (size_t i = 0; i < n; i++)
                if ((r = read_affected(rec, json_object_array_get_idx(aff, i), &pos, &best, why)) <
                    0)
                        return r;
        if ((r = read_severity(json_object_object_get(d, "severity"), &best, why)) < 0)
                return r;
        rec->cvss10 = best;
        json_object *dbs = json_object_object_get(d, "database_specific");
        rec->severity = cms_severity_parse(str_of(dbs, "severity"));
        if (rec->severity == CMS_SEV_UNKNOWN && best >= 0)
                rec->severity = cms_severity_of_score(best);
        return 0;
}

int cms_osv_parse(json_object *doc, struct cms_osv **out, const char **why)
{
        const char *dummy;
        if (!why)
                why = &dummy;
        *why = NULL;
        *out = NULL;
        if (!json_object_is_type(doc, json_type_object))
                return *why = "the record is not a JSON object", -EINVAL;
        struct cms_osv *rec = calloc(1, sizeof(*rec));
        if (!rec)
                return -ENOMEM;
        rec->doc = json_object_get(doc);
        int r = parse_into(rec, why);
        if (r < 0) {
                if (r == -ENOMEM)
                        *why = "out of memory";
                cms_osv_free(rec);
                return r;
        }
        *out = rec;
        return 0;
}

void cms_osv_free(struct cms_osv *rec)
{
        if (!rec)
                return;
        for (size_t i = 0; i < rec->naffected; i++) {
                for (size_t j = 0; j < rec->affected[i].nranges; j++)
                        free(rec->affected[i].ranges[j].events);
                free(rec->affected[i].ranges);
                free(rec->affected[i].versions);
        }
        free(rec->affected);
        free(rec->aliases);
        free(rec->ecosystems);
        json_object_put(rec->doc);
        free(rec);
}
