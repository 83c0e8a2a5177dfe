/* Version order per package ecosystem, as the vulnerability matcher needs it: each comparator
 * returns negative, 0 or positive like strcmp, and is pure (no I/O, no allocation, no locale).
 *
 * - Debian: dpkg's algorithm (epoch, upstream version, revision; '~' before everything, letters
 *   before other characters, digit runs numerically). dpkg compares any string; the check says
 *   which ones dpkg itself refuses (`dpkg --compare-versions` exits 2 on them).
 * - Alpine: apk-tools' rules (digit{.digit}{letter}{_suffix{N}}{~hash}{-rN}; _alpha _beta _pre
 *   _rc sort before the release, _cvs _svn _git _hg _p after).
 * - SemVer 2.0 (npm): precedence per semver.org section 11, build metadata ignored. Accepted as
 *   npm's semver.parse does without `loose`: one leading 'v' or '=' and surrounding blanks.
 * - PEP 440 (PyPI): epochs, release, pre/post/dev, local versions, with the PEP's normalization
 *   (alternate spellings, separators, implicit numbers).
 * - RubyGems: Gem::Version's (number and letter segments, letters make a pre-release that sorts
 *   before the release, trailing zeros ignored, "-" as ".pre.").
 * For SemVer, PEP 440 and RubyGems an invalid version sorts by plain byte order after every valid
 * one: callers check validity first (the matcher does). */
#pragma once

#include <stdbool.h>
#include <string.h>

int cms_ver_cmp_deb(const char *a, const char *b);
/* NULL when dpkg accepts v (possibly with a warning), else dpkg's reason in words. */
const char *cms_ver_check_deb(const char *v);

int cms_ver_cmp_apk(const char *a, const char *b);
bool cms_ver_valid_apk(const char *v);

/* The order when a or b is not a valid version (va, vb: which are): valid ones first, the
 * invalid ones by their bytes, so that the order stays total. For the formats that can be
 * invalid (SemVer, PEP 440); a negative, zero or positive result. */
static inline int cms_ver_cmp_invalid(bool va, bool vb, const char *a, const char *b)
{
        if (va != vb)
                return va ? -1 : 1;
        int c = strcmp(a, b);
        return c < 0 ? -1 : c > 0;
}

int cms_ver_cmp_semver(const char *a, const char *b);
bool cms_ver_valid_semver(const char *v);

int cms_ver_cmp_pep440(const char *a, const char *b);
bool cms_ver_valid_pep440(const char *v);

int cms_ver_cmp_gem(const char *a, const char *b);
bool cms_ver_valid_gem(const char *v);
