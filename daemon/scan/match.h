/* The builtin scanner: an image's CycloneDX SBOM (sbom_cdx.c's, with cmsd's properties) matched
 * against the vulnerability database (db.h). This folder may call daemon/archive.c and
 * daemon/util.c only. */
#pragma once

#include "cvss.h"
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
