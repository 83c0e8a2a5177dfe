/* One OSV record (https://ossf.github.io/osv-schema/) read into what matching needs, and the
 * question a scan asks of it: is this installed package version affected, and by which version
 * is it fixed. Pure: the caller reads the JSON; strings are borrowed from the parsed document,
 * which the record keeps a reference to. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "daemon/scan/cvss.h"

enum cms_osv_event_kind { CMS_OSV_INTRODUCED, CMS_OSV_FIXED, CMS_OSV_LAST_AFFECTED, CMS_OSV_LIMIT };
enum cms_osv_range_type { CMS_OSV_ECOSYSTEM, CMS_OSV_SEMVER };

struct cms_osv_event {
        enum cms_osv_event_kind kind;
        const char *version; /* "0" for an introduced event means "since the beginning" */
};

struct cms_osv_range {
        enum cms_osv_range_type type;
        struct cms_osv_event *events;
        size_t nevents;
};

struct cms_osv_affected {
        const char *ecosystem; /* "Debian" of "Debian:12" */
        const char *release;   /* "12", or NULL when the record names no release */
        const char *name;
        struct cms_osv_range *ranges; /* GIT ranges are left out (counted in the record) */
        size_t nranges;
        const char **versions; /* the explicit versions[] list */
        size_t nversions;
};

struct cms_osv {
        json_object *doc;                    /* owned reference: every string below lives in it */
        const char *id, *modified, *summary; /* summary may be NULL */
        const char **aliases;
        size_t naliases;
        bool withdrawn;
        enum cms_severity severity; /* database_specific.severity, else the highest CVSS v3 */
        int cvss10;                 /* highest CVSS v3 base score times ten, -1 when none */
        struct cms_osv_affected *affected;
        size_t naffected;
        size_t git_ranges; /* GIT ranges seen and ignored */
        char *ecosystems;  /* storage for the split "Ecosystem:release" strings */
};

/* Parses doc (a reference is taken). A record that breaks the schema in a way matching cares
 * about is -EINVAL with *why set to a static reason (the caller skips and counts it). */
int cms_osv_parse(json_object *doc, struct cms_osv **out, const char **why);
void cms_osv_free(struct cms_osv *rec);

/* 1 when version of (ecosystem, release, name) is affected, 0 when not, -EOPNOTSUPP when an
 * ECOSYSTEM range of an ecosystem without a known version order would decide, -EINVAL when
 * version is not a valid version of that ecosystem. *fixed_version (may be NULL) gets the
 * version that fixes it (NULL when none is known). Withdrawn records never match; a record
 * without a release matches every release, one with a release only that one ("v3.18" and
 * "3.18" are the same Alpine release). Ecosystems: Debian, Ubuntu (dpkg order), Alpine, npm
 * (SemVer), PyPI (PEP 440); SEMVER ranges use SemVer whatever the ecosystem. */
int cms_osv_affects(const struct cms_osv *rec, const char *ecosystem, const char *release,
                    const char *name, const char *version, const char **fixed_version);
