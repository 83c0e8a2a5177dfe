/* CVSS v3.0/v3.1 base scores from vector strings, and the severity words the scanner reports.
 * Pure. */
#pragma once

enum cms_severity {
        CMS_SEV_UNKNOWN,
        CMS_SEV_LOW,
        CMS_SEV_MEDIUM,
        CMS_SEV_HIGH,
        CMS_SEV_CRITICAL,
};

/* "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" -> 98 (the score times ten, 0..100). Every
 * base metric exactly once; temporal and environmental metrics are allowed and do not change
 * the base score; anything else is -EINVAL. 3.0 vectors use 3.0's round-up, 3.1 its Appendix A. */
int cms_cvss3_base(const char *vector, int *score10);
/* The qualitative rating of a score (times ten): 0 -> LOW (see cvss.c), 0.1-3.9 LOW, 4.0-6.9
 * MEDIUM, 7.0-8.9 HIGH, 9.0-10.0 CRITICAL. */
enum cms_severity cms_severity_of_score(int score10);
/* "CRITICAL"... "UNKNOWN". */
const char *cms_severity_name(enum cms_severity s);
/* The inverse, case-insensitive (MODERATE, as GitHub's advisories say, is MEDIUM); UNKNOWN for
 * anything else. */
enum cms_severity cms_severity_parse(const char *s);
