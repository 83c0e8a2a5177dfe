/* The builtin scanner: an image's CycloneDX SBOM (sbom_cdx.c's, with cmsd's properties) matched
 * against the vulnerability database (db.h). This folder may call daemon/archive.c and
 * daemon/util.c only. */
#pragma once

#include "cvss.h"
#include "adapter.h"
#include "db.h"

struct cms_scan_opts {
        unsigned severities; /* bit (1 << enum cms_severity) per severity listed; 0: all */
        bool ignore_unfixed; /* findings without a fixed version are left out (and not counted) */
};

/* "HIGH,CRITICAL" (case-insensitive, blanks allowed) into a mask; NULL or "" is 0 (all); an
 * unknown word is 400. */
int cms_scan_severities(const char *s, unsigned *mask, struct cms_error *err);

/* {"vulnerabilities": [...], "summary": {"CRITICAL": n, ..., "UNKNOWN": n}}: one finding per
 * (record, installed package): {"id","aliases","package","version","fixed_version","severity",
 * "ecosystem","summary","source"?,"purl"}, sorted by severity (highest first), id, package.
 * The summary counts every finding; the list holds those of the asked severities.
 *
 * What is looked up: Debian/Ubuntu packages by their source package and source version (OSV's
 * Debian records name source packages, as the security tracker does) in "Debian:<major of
 * VERSION_ID>" / "Ubuntu:<VERSION_ID>"; Alpine packages by origin in "Alpine:v<major.minor>";
 * PyPI (PEP 503 names), npm and RubyGems by name. */
int cms_scan_match(struct cms_vulndb *db, json_object *sbom, const struct cms_scan_opts *opts,
                   json_object **out, struct cms_error *err);

/* An array of findings (any scanner's) sorted, filtered by opts and summed, into
 * {"vulnerabilities", "summary"} as above; found is sorted in place. NULL when out of memory. */
json_object *cms_scan_shape(json_object *found, const struct cms_scan_opts *opts);

/* The gate of deploy and project up: {"fail_on": "CRITICAL"|"HIGH"|"MEDIUM"|"LOW",
 * "ignore_unfixed": bool, "scanner": "builtin"|"trivy"|"grype"} (what names it in messages:
 * "body.scan"). NULL scan: no gate (fail_on 0). 400 for anything else. */
struct cms_scan_gate {
        enum cms_severity fail_on; /* 0 (UNKNOWN): no gate */
        bool ignore_unfixed;
        int scanner; /* enum cms_scanner (adapter.h) */
};
int cms_scan_gate_parse(json_object *scan, const char *what, struct cms_scan_gate *g,
                        struct cms_error *err);
/* The number of findings at or above g->fail_on in a result's "summary". */
int64_t cms_scan_gate_count(const struct cms_scan_gate *g, json_object *summary);
