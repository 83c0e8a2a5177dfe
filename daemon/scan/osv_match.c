/* Whether an OSV record affects one installed package version: the OSV schema's evaluation
 * (each range's events sorted by version, "introduced" opens, "fixed" closes at the version,
 * "last_affected" closes after it, "limit" bounds the whole range from above), the explicit
 * versions[] list, and the fixed version to report. Pure. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/scan/osv.h"
#include "daemon/scan/version.h"

typedef int (*cmp_fn)(const char *, const char *);

static cmp_fn order_of(const char *eco)
{
        if (!strcmp(eco, "Debian") || !strcmp(eco, "Ubuntu"))
                return cms_ver_cmp_deb;
        if (!strcmp(eco, "Alpine"))
                return cms_ver_cmp_apk;
        if (!strcmp(eco, "npm"))
                return cms_ver_cmp_semver;
        if (!strcmp(eco, "PyPI"))
                return cms_ver_cmp_pep440;
        if (!strcmp(eco, "RubyGems"))
                return cms_ver_cmp_gem;
        return NULL;
}

static bool valid_in(const char *eco, const char *v)
{
        if (!strcmp(eco, "Debian") || !strcmp(eco, "Ubuntu"))
                return !cms_ver_check_deb(v);
        if (!strcmp(eco, "Alpine"))
                return cms_ver_valid_apk(v);
        if (!strcmp(eco, "npm"))
                return cms_ver_valid_semver(v);
        if (!strcmp(eco, "PyPI"))
                return cms_ver_valid_pep440(v);
        if (!strcmp(eco, "RubyGems"))
                return cms_ver_valid_gem(v);
        return true;
}

/* An event's place in the order: introduced "0" before everything. */
static int event_cmp(cmp_fn cmp, const struct cms_osv_event *a, const struct cms_osv_event *b)
{
        bool za = a->kind == CMS_OSV_INTRODUCED && !strcmp(a->version, "0");
        bool zb = b->kind == CMS_OSV_INTRODUCED && !strcmp(b->version, "0");
        if (za || zb)
                return za == zb ? 0 : za ? -1 : 1;
        return cmp(a->version, b->version);
}

/* 1/0 for one range; *fixed gets the first fixed event above version, if any. */
static int range_affects(const struct cms_osv_range *rg, cmp_fn cmp, const char *version,
                         const char **fixed)
{
        const struct cms_osv_event *ev[rg->nevents ? rg->nevents : 1];
        size_t n = 0;
        bool limited = false, under_limit = false;
        for (size_t i = 0; i < rg->nevents; i++) {
                const struct cms_osv_event *e = &rg->events[i];
                if (e->kind == CMS_OSV_LIMIT) {
                        limited = true;
                        under_limit |= !strcmp(e->version, "*") || cmp(version, e->version) < 0;
                        continue;
                }
                /* insertion sort: stable, and a range has few events */
                size_t j = n++;
                while (j > 0 && event_cmp(cmp, ev[j - 1], e) > 0) {
                        ev[j] = ev[j - 1];
                        j--;
                }
                ev[j] = e;
        }
        if (limited && !under_limit)
                return 0;
        bool affected = false;
        *fixed = NULL;
        for (size_t i = 0; i < n; i++) {
                const struct cms_osv_event *e = ev[i];
                bool zero = e->kind == CMS_OSV_INTRODUCED && !strcmp(e->version, "0");
                int c = zero ? 1 : cmp(version, e->version);
                if (e->kind == CMS_OSV_INTRODUCED && c >= 0) {
                        affected = true;
                } else if (e->kind == CMS_OSV_FIXED && c >= 0) {
                        affected = false;
                } else if (e->kind == CMS_OSV_LAST_AFFECTED && c > 0) {
                        affected = false;
                } else if (c < 0) {
                        /* the first event above the version: a fix when it is one */
                        if (affected && e->kind == CMS_OSV_FIXED)
                                *fixed = e->version;
                        break;
                }
        }
        return affected;
}

static bool release_match(const char *want, const char *have)
{
        if (!want) /* the record names no release: every release */
                return true;
        if (!have)
                return false;
        if (*want == 'v')
                want++;
        if (*have == 'v')
                have++;
        return !strcmp(want, have);
}

static int affected_entry(const struct cms_osv_affected *a, const char *version, const char **fixed)
{
        cmp_fn eco_cmp = order_of(a->ecosystem);
        int hit = 0;
        for (size_t i = 0; i < a->nranges; i++) {
                const struct cms_osv_range *rg = &a->ranges[i];
                cmp_fn cmp = rg->type == CMS_OSV_SEMVER ? cms_ver_cmp_semver : eco_cmp;
                if (!cmp)
                        return -EOPNOTSUPP;
                if (rg->type == CMS_OSV_SEMVER && !cms_ver_valid_semver(version))
                        return -EINVAL;
                const char *f = NULL;
                if (range_affects(rg, cmp, version, &f)) {
                        if (!hit || (f && (!*fixed || cmp(f, *fixed) < 0)))
                                *fixed = f;
                        hit = 1;
                }
        }
        for (size_t i = 0; !hit && i < a->nversions; i++)
                if (eco_cmp ? eco_cmp(version, a->versions[i]) == 0
                            : !strcmp(version, a->versions[i]))
                        hit = 1;
        return hit;
}

int cms_osv_affects(const struct cms_osv *rec, const char *ecosystem, const char *release,
                    const char *name, const char *version, const char **fixed_version)
{
        const char *dummy;
        if (!fixed_version)
                fixed_version = &dummy;
        *fixed_version = NULL;
        if (rec->withdrawn)
                return 0;
        if (!valid_in(ecosystem, version))
                return -EINVAL;
        int any = 0;
        for (size_t i = 0; i < rec->naffected; i++) {
                const struct cms_osv_affected *a = &rec->affected[i];
                if (strcmp(a->ecosystem, ecosystem) || strcmp(a->name, name) ||
                    !release_match(a->release, release))
                        continue;
                const char *f = NULL;
                int r = affected_entry(a, version, &f);
                if (r < 0)
                        return r;
                if (r && (!any || (f && !*fixed_version)))
                        *fixed_version = f;
                any |= r;
        }
        return any;
}
