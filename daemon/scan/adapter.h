/* The trivy and grype adapters: the command line that scans a saved image (a docker-archive
 * tar), and each tool's JSON report mapped into the builtin scanner's finding shape (match.h),
 * so that the route answers the same document whichever scanner ran. Pure; the process itself
 * is run by tool.c, the image saved by daemon/images/scan.c. */
#pragma once

#include <json-c/json.h>

#include "../util.h"

enum cms_scanner {
        CMS_SCANNER_BUILTIN,
        CMS_SCANNER_TRIVY,
        CMS_SCANNER_GRYPE,
};

/* "builtin", "trivy", "grype" (NULL: builtin); -1 for anything else. */
int cms_scanner_parse(const char *s);
const char *cms_scanner_name(enum cms_scanner s);

/* The argv (NULL-terminated, into argv[cap]) that scans the tar at tar with the tool at bin:
 *   trivy image --input TAR --format json --offline-scan --skip-db-update --quiet
 *   grype docker-archive:TAR -o json --quiet
 * The strings are borrowed from bin and tar, or static; scratch holds grype's argument. */
int cms_scan_adapter_argv(enum cms_scanner s, const char *bin, const char *tar, char *scratch,
                          size_t scratch_cap, const char **argv, size_t cap);

/* A tool's JSON report (len bytes at text) into an array of findings {"id","aliases",
 * "package","version","fixed_version","severity","ecosystem","summary","source"?,"purl"?}
 * (not yet sorted or filtered: cms_scan_shape does that), one per (id, package, version).
 * A report that is not JSON or not the tool's shape is 502 naming the tool. */
int cms_scan_adapter_findings(enum cms_scanner s, const char *text, size_t len, json_object **out,
                              struct cms_error *err);
