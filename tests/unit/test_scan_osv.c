/* Unit tests for OSV records (daemon/scan/osv_parse.c, osv_match.c): parsing of the fields
 * matching needs, refusal of malformed records with a reason, and the OSV evaluation of ranges
 * (introduced "0", fixed, last_affected, limit, several intervals, SEMVER ranges, GIT ranges
 * counted and ignored), versions[] lists, releases, withdrawn records and severities. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/scan/osv.h"

static struct cms_osv *load(const char *json)
{
        json_object *d = json_tokener_parse(json);
        assert_non_null(d);
        struct cms_osv *rec = NULL;
        const char *why = NULL;
        int r = cms_osv_parse(d, &rec, &why);
        json_object_put(d);
        if (r != 0)
                fail_msg("parse: %d %s", r, why ? why : "");
        return rec;
}

static const char *refuse(const char *json)
{
        json_object *d = json_tokener_parse(json);
        assert_non_null(d);
        struct cms_osv *rec = NULL;
        const char *why = NULL;
        assert_int_equal(cms_osv_parse(d, &rec, &why), -EINVAL);
        assert_null(rec);
        assert_non_null(why);
        json_object_put(d);
        return why;
}

static const char *DEB =
    "{\"id\":\"CMS-2024-0001\",\"modified\":\"2024-05-01T00:00:00Z\",\"aliases\":[\"CVE-2024-1\"],"
    "\"summary\":\"overflow\",\"severity\":[{\"type\":\"CVSS_V3\",\"score\":"
    "\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"}],"
    "\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"openssl\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},"
    "{\"fixed\":\"3.0.11-1~deb12u2\"}]},{\"type\":\"GIT\",\"repo\":\"https://x\","
    "\"events\":[{\"introduced\":\"0\"}]}]},"
    "{\"package\":{\"ecosystem\":\"Debian:11\",\"name\":\"openssl\"},\"versions\":[\"1.1.1w-0+"
    "deb11u1\"]}]}";

static void parse_fields(void **state)
{
        struct cms_osv *r = load(DEB);
        assert_string_equal(r->id, "CMS-2024-0001");
        assert_string_equal(r->modified, "2024-05-01T00:00:00Z");
        assert_string_equal(r->summary, "overflow");
        assert_int_equal(r->naliases, 1);
        assert_string_equal(r->aliases[0], "CVE-2024-1");
        assert_false(r->withdrawn);
        assert_int_equal(r->cvss10, 98);
        assert_int_equal(r->severity, CMS_SEV_CRITICAL);
        assert_int_equal(r->naffected, 2);
        assert_string_equal(r->affected[0].ecosystem, "Debian");
        assert_string_equal(r->affected[0].release, "12");
        assert_string_equal(r->affected[0].name, "openssl");
        assert_int_equal(r->affected[0].nranges, 1);
        assert_int_equal(r->affected[0].ranges[0].nevents, 2);
        assert_int_equal(r->affected[0].ranges[0].events[1].kind, CMS_OSV_FIXED);
        assert_int_equal(r->git_ranges, 1);
        assert_int_equal(r->affected[1].nversions, 1);
        cms_osv_free(r);
        cms_osv_free(NULL);
}

static void debian(void **state)
{
        struct cms_osv *r = load(DEB);
        const char *f = NULL;
        assert_int_equal(cms_osv_affects(r, "Debian", "12", "openssl", "3.0.11-1~deb12u1", &f), 1);
        assert_string_equal(f, "3.0.11-1~deb12u2");
        assert_int_equal(cms_osv_affects(r, "Debian", "12", "openssl", "3.0.11-1~deb12u2", &f), 0);
        assert_null(f);
        assert_int_equal(cms_osv_affects(r, "Debian", "12", "openssl", "3.0.11-1", &f), 0);
        assert_int_equal(cms_osv_affects(r, "Debian", "12", "openssl", "1:0.1", &f), 0);
        assert_int_equal(cms_osv_affects(r, "Debian", "12", "libssl3", "1.0", &f), 0);
        assert_int_equal(cms_osv_affects(r, "Debian", "13", "openssl", "1.0", &f), 0);
        assert_int_equal(cms_osv_affects(r, "Ubuntu", "12", "openssl", "1.0", &f), 0);
        /* Debian:11 lists one version only. */
        assert_int_equal(cms_osv_affects(r, "Debian", "11", "openssl", "1.1.1w-0+deb11u1", &f), 1);
        assert_null(f);
        assert_int_equal(cms_osv_affects(r, "Debian", "11", "openssl", "1.1.1w-0+deb11u2", &f), 0);
        assert_int_equal(cms_osv_affects(r, "Debian", "12", "openssl", "1.0-", &f), -EINVAL);
        cms_osv_free(r);
}

static void events(void **state)
{
        /* Two intervals [1.0, 1.2) and [2.0, 2.3], a last_affected and a limit elsewhere. */
        struct cms_osv *r = load(
            "{\"id\":\"X-2\",\"modified\":\"2024-01-01T00:00:00Z\",\"database_specific\":"
            "{\"severity\":\"moderate\"},\"affected\":[{\"package\":{\"ecosystem\":\"PyPI\","
            "\"name\":\"demo\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":["
            "{\"fixed\":\"1.2\"},{\"introduced\":\"2.0\"},{\"last_affected\":\"2.3\"},"
            "{\"introduced\":\"1.0\"}]}]},{\"package\":{\"ecosystem\":\"npm\",\"name\":\"lib\"},"
            "\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"0\"},"
            "{\"fixed\":\"1.4.2\"},{\"limit\":\"1.3.0\"}]}]}]}");
        assert_int_equal(r->severity, CMS_SEV_MEDIUM);
        assert_int_equal(r->cvss10, -1);
        static const struct {
                const char *v;
                int want;
                const char *fixed;
        } py[] = {
            {"0.9", 0, NULL}, {"1.0rc1", 0, NULL},    {"1.0", 1, "1.2"}, {"1.1.post1", 1, "1.2"},
            {"1.2", 0, NULL}, {"1.2.dev1", 1, "1.2"}, {"1.9", 0, NULL},  {"2.0", 1, NULL},
            {"2.3", 1, NULL}, {"2.3.post1", 0, NULL}, {"3", 0, NULL},
        };
        for (size_t i = 0; i < sizeof(py) / sizeof(py[0]); i++) {
                const char *f = "x";
                int got = cms_osv_affects(r, "PyPI", NULL, "demo", py[i].v, &f);
                if (got != py[i].want || (py[i].fixed ? !f || strcmp(f, py[i].fixed) : f != NULL))
                        fail_msg("PyPI %s: want %d %s, got %d %s", py[i].v, py[i].want,
                                 py[i].fixed ? py[i].fixed : "-", got, f ? f : "-");
        }
        const char *f;
        assert_int_equal(cms_osv_affects(r, "npm", NULL, "lib", "1.2.9", &f), 1);
        assert_string_equal(f, "1.4.2");
        /* at or above the limit: outside the range even though below the fix */
        assert_int_equal(cms_osv_affects(r, "npm", NULL, "lib", "1.3.0", &f), 0);
        assert_int_equal(cms_osv_affects(r, "npm", NULL, "lib", "v1.0.0-beta.1", &f), 1);
        assert_int_equal(cms_osv_affects(r, "npm", NULL, "lib", "1.0", &f), -EINVAL);
        cms_osv_free(r);
}

static void alpine_and_withdrawn(void **state)
{
        const char *rec =
            "{\"id\":\"X-3\",\"modified\":\"2024-01-01T00:00:00Z\",%s\"affected\":[{\"package\":"
            "{\"ecosystem\":\"Alpine:v3.18\",\"name\":\"busybox\"},\"ranges\":[{\"type\":"
            "\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"1.36.1-r2\"}]}]}]}";
        char buf[1024];
        snprintf(buf, sizeof(buf), rec, "");
        struct cms_osv *r = load(buf);
        const char *f;
        assert_int_equal(r->severity, CMS_SEV_UNKNOWN);
        assert_int_equal(cms_osv_affects(r, "Alpine", "v3.18", "busybox", "1.36.1-r1", &f), 1);
        assert_string_equal(f, "1.36.1-r2");
        assert_int_equal(cms_osv_affects(r, "Alpine", "3.18", "busybox", "1.36.1_rc1-r9", &f), 1);
        assert_int_equal(cms_osv_affects(r, "Alpine", "3.18", "busybox", "1.36.1-r2", &f), 0);
        assert_int_equal(cms_osv_affects(r, "Alpine", "3.19", "busybox", "1.36.1-r1", &f), 0);
        cms_osv_free(r);
        snprintf(buf, sizeof(buf), rec, "\"withdrawn\":\"2024-02-01T00:00:00Z\",");
        r = load(buf);
        assert_true(r->withdrawn);
        assert_int_equal(cms_osv_affects(r, "Alpine", "v3.18", "busybox", "1.36.1-r1", &f), 0);
        cms_osv_free(r);
        /* An ecosystem without a known order decides nothing by ECOSYSTEM ranges. */
        r = load("{\"id\":\"X-4\",\"modified\":\"2024-01-01T00:00:00Z\",\"affected\":[{"
                 "\"package\":{\"ecosystem\":\"Maven\",\"name\":\"a:b\"},\"ranges\":[{\"type\":"
                 "\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"}]}],\"versions\":[\"1.0\"]}]}");
        assert_int_equal(cms_osv_affects(r, "Maven", NULL, "a:b", "1.0", &f), -EOPNOTSUPP);
        cms_osv_free(r);
}

static void malformed(void **state)
{
        assert_string_equal(refuse("[]"), "the record is not a JSON object");
        assert_string_equal(refuse("{\"modified\":\"x\"}"), "no id");
        assert_string_equal(refuse("{\"id\":\"A\"}"), "no modified date");
        assert_string_equal(refuse("{\"id\":\"A\",\"modified\":\"x\",\"withdrawn\":1}"),
                            "withdrawn is not a string");
        assert_string_equal(refuse("{\"id\":\"A\",\"modified\":\"x\",\"aliases\":[1]}"),
                            "an alias is not a string");
        assert_string_equal(refuse("{\"id\":\"A\",\"modified\":\"x\",\"affected\":{}}"),
                            "affected is not an array");
        assert_string_equal(refuse("{\"id\":\"A\",\"modified\":\"x\",\"affected\":[{\"package\":"
                                   "{\"name\":\"n\"}}]}"),
                            "a package has no ecosystem or name");
#define AFF(r)                                                                                     \
        "{\"id\":\"A\",\"modified\":\"x\",\"affected\":[{\"package\":{\"ecosystem\":\"npm\","      \
        "\"name\":\"n\"},\"ranges\":[" r "]}]}"
        assert_string_equal(refuse(AFF("{\"type\":\"SEMVER\",\"events\":[]}")),
                            "a range has no events");
        assert_string_equal(refuse(AFF("{\"type\":\"X\",\"events\":[{\"introduced\":\"0\"}]}")),
                            "a range type is not ECOSYSTEM, SEMVER or GIT");
        assert_string_equal(refuse(AFF("{\"type\":\"SEMVER\",\"events\":[{\"fixed\":\"1.0.0\"}]}")),
                            "a range has no introduced event");
        assert_string_equal(
            refuse(AFF("{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"1.0\"}]}")),
            "an event's version is not valid in its ecosystem");
        assert_string_equal(
            refuse(AFF(
                "{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"0\",\"fixed\":\"1.0.0\"}]}")),
            "an event has not exactly one key");
        assert_string_equal(refuse(AFF("{\"type\":\"SEMVER\",\"events\":[{\"fixed\":1}]}")),
                            "an event has no known string key");
        assert_string_equal(
            refuse("{\"id\":\"A\",\"modified\":\"x\",\"severity\":[{\"type\":\"CVSS_V3\"}]}"),
            "severity entry without type and score");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(parse_fields), cmocka_unit_test(debian),
            cmocka_unit_test(events),       cmocka_unit_test(alpine_and_withdrawn),
            cmocka_unit_test(malformed),
        };
        return cmocka_run_group_tests_name("scan_osv", tests, NULL, NULL);
}
