/* Unit tests for the trivy and grype adapters (daemon/scan/adapter.c) and the process runner
 * (daemon/scan/tool.c): reports written by hand in the tools' documented JSON shapes
 * (tests/scan/fixtures/) mapped into exact finding lists (ecosystems named as OSV names them,
 * duplicates folded, empty or unfixed fix versions as null, grype's Negligible as LOW), then
 * filtered and summed as the builtin scanner's results are; reports that are not the tool's
 * are 502 scanner_failed; the command lines; a child's stdout, stderr tail, exit status,
 * timeout, output cap and environment; PATH lookup; the fail_on gate's parsing and count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "daemon/scan/adapter.h"
#include "daemon/scan/match.h"
#include "daemon/scan/tool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fixture of tests/scan/fixtures/, found from this file's path (as test_cgroup.c does). */
static char *slurp(const char *name, size_t *len)
{
        char path[4096];
        const char *slash = strrchr(__FILE__, '/');
        snprintf(path, sizeof(path), "%.*s/../scan/fixtures/%s",
                 slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".", name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        static char buf[1 << 16];
        *len = fread(buf, 1, sizeof(buf) - 1, f);
        buf[*len] = 0;
        fclose(f);
        return buf;
}

/* One line per finding: "SEVERITY id package version fixed ecosystem [aliases] summary
 * source purl" (absent values as "-"). */
static char *lines(json_object *found)
{
        static char out[8192];
        size_t o = 0;
        out[0] = 0;
        for (size_t i = 0; i < json_object_array_length(found); i++) {
                json_object *f = json_object_array_get_idx(found, i), *v;
                const char *k[] = {"severity",  "id",      "package", "version", "fixed_version",
                                   "ecosystem", "aliases", "summary", "source",  "purl"};
                for (size_t j = 0; j < sizeof(k) / sizeof(k[0]); j++) {
                        v = json_object_object_get(f, k[j]);
                        const char *s =
                            !v ? "-"
                            : json_object_is_type(v, json_type_array)
                                ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN)
                                : json_object_get_string(v);
                        o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", j ? "|" : "", s);
                }
                o += (size_t)snprintf(out + o, sizeof(out) - o, "\n");
        }
        return out;
}

static void test_trivy_mapping(void **state)
{
        (void)state;
        size_t len;
        char *text = slurp("trivy-report.json", &len);
        json_object *found = NULL;
        struct cms_error err = {0};
        assert_int_equal(cms_scan_adapter_findings(CMS_SCANNER_TRIVY, text, len, &found, &err), 0);
        assert_string_equal(
            lines(found),
            "CRITICAL|CVE-2099-0001|libc6|2.36-9+deb12u4|2.36-9+deb12u7|Debian:12|"
            "[\"DSA-9999-1\"]|glibc: made-up overflow in a made-up function|-|"
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12.5\n"
            "LOW|CVE-2099-0002|zlib1g|1:1.2.13.dfsg-1|-|Debian:12|[]|"
            "zlib: first line of the description|-|-\n"
            "LOW|TEMP-0000001-ABCDEF|tar|1.34+dfsg-1.2|-|Debian:12|[]|-|-|-\n"
            "MEDIUM|GHSA-xxxx-yyyy-zzzz|requests|2.28.1|2.31.0|PyPI|[]|"
            "requests: made-up header leak|-|-\n"
            "HIGH|CVE-2099-0003|semver|7.3.5|7.5.2, 6.3.1|npm|[]|semver: made-up ReDoS|-|-\n");
        /* The builtin scanner's order, filter and summary over them. */
        struct cms_scan_opts o = {.severities = (1u << CMS_SEV_CRITICAL) | (1u << CMS_SEV_HIGH)};
        json_object *res = cms_scan_shape(found, &o);
        assert_non_null(res);
        json_object *list = json_object_object_get(res, "vulnerabilities");
        assert_int_equal(json_object_array_length(list), 2);
        assert_string_equal(json_object_get_string(
                                json_object_object_get(json_object_array_get_idx(list, 1), "id")),
                            "CVE-2099-0003");
        assert_string_equal(json_object_to_json_string_ext(json_object_object_get(res, "summary"),
                                                           JSON_C_TO_STRING_PLAIN),
                            "{\"CRITICAL\":1,\"HIGH\":1,\"MEDIUM\":1,\"LOW\":2,\"UNKNOWN\":0}");
        o = (struct cms_scan_opts){.ignore_unfixed = true};
        json_object_put(res);
        res = cms_scan_shape(found, &o);
        assert_string_equal(json_object_to_json_string_ext(json_object_object_get(res, "summary"),
                                                           JSON_C_TO_STRING_PLAIN),
                            "{\"CRITICAL\":1,\"HIGH\":1,\"MEDIUM\":1,\"LOW\":0,\"UNKNOWN\":0}");
        json_object_put(res);
        json_object_put(found);
}

static void test_grype_mapping(void **state)
{
        (void)state;
        size_t len;
        char *text = slurp("grype-report.json", &len);
        json_object *found = NULL;
        struct cms_error err = {0};
        assert_int_equal(cms_scan_adapter_findings(CMS_SCANNER_GRYPE, text, len, &found, &err), 0);
        assert_string_equal(
            lines(found),
            "CRITICAL|CVE-2099-0001|libc6|2.36-9+deb12u4|2.36-9+deb12u7|Debian:12|[]|"
            "glibc: made-up overflow in a made-up function|glibc|"
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12\n"
            "LOW|CVE-2099-0004|tar|1.34+dfsg-1.2|-|Debian:12|[]|-|-|"
            "pkg:deb/debian/tar@1.34%2Bdfsg-1.2?arch=amd64&distro=debian-12\n"
            "MEDIUM|GHSA-xxxx-yyyy-zzzz|requests|2.28.1|2.31.0|PyPI|[\"CVE-2099-0005\"]|"
            "requests: made-up header leak|-|pkg:pypi/requests@2.28.1\n"
            "UNKNOWN|CVE-2099-0006|bash|5.2.15-2+b2|-|Debian:12|[]|-|-|-\n");
        json_object_put(found);
}

static void expect_bad(enum cms_scanner s, const char *text, const char *msg)
{
        json_object *found = (json_object *)1;
        struct cms_error err = {0};
        assert_true(cms_scan_adapter_findings(s, text, strlen(text), &found, &err) < 0);
        assert_null(found);
        assert_int_equal(err.status, 502);
        assert_string_equal(err.code, "scanner_failed");
        if (!strstr(err.message, msg))
                fail_msg("message \"%s\" lacks \"%s\"", err.message, msg);
}

static void test_bad_reports(void **state)
{
        (void)state;
        expect_bad(CMS_SCANNER_TRIVY, "", "empty output");
        expect_bad(CMS_SCANNER_TRIVY, "{\"SchemaVersion\": 2, \"Results\": [", "not JSON");
        expect_bad(CMS_SCANNER_TRIVY, "FATAL no DB", "trivy's JSON report: not JSON");
        expect_bad(CMS_SCANNER_TRIVY, "{\"Results\": []}", "no SchemaVersion");
        expect_bad(CMS_SCANNER_TRIVY, "{\"SchemaVersion\": 2, \"Results\": {}}", "SchemaVersion");
        expect_bad(CMS_SCANNER_TRIVY,
                   "{\"SchemaVersion\": 2, \"Results\": [{\"Class\": \"os-pkgs\", "
                   "\"Vulnerabilities\": [{\"VulnerabilityID\": \"X\", \"InstalledVersion\": "
                   "\"1\"}]}]}",
                   "PkgName");
        expect_bad(CMS_SCANNER_GRYPE, "{\"matches\": null}", "grype's JSON report");
        expect_bad(CMS_SCANNER_GRYPE, "[]", "no matches array");
        expect_bad(CMS_SCANNER_GRYPE,
                   "{\"matches\": [{\"vulnerability\": {\"id\": \"X\"}, \"artifact\": {}}]}",
                   "artifact.name");
        /* Nothing found is an empty list, not an error. */
        json_object *found = NULL;
        struct cms_error err = {0};
        const char *none = "{\"SchemaVersion\": 2, \"ArtifactName\": \"x\"}";
        assert_int_equal(
            cms_scan_adapter_findings(CMS_SCANNER_TRIVY, none, strlen(none), &found, &err), 0);
        assert_int_equal(json_object_array_length(found), 0);
        json_object_put(found);
}

static void test_argv_and_names(void **state)
{
        (void)state;
        const char *argv[16];
        char scratch[64];
        assert_int_equal(cms_scan_adapter_argv(CMS_SCANNER_TRIVY, "/opt/trivy", "/s/i.tar", scratch,
                                               sizeof(scratch), argv, 16),
                         0);
        const char *want_t[] = {"/opt/trivy", "image", "--input",        "/s/i.tar",
                                "--format",   "json",  "--offline-scan", "--skip-db-update",
                                "--quiet",    NULL};
        for (size_t i = 0; i < sizeof(want_t) / sizeof(want_t[0]); i++)
                assert_true(want_t[i] ? !strcmp(argv[i], want_t[i]) : argv[i] == NULL);
        assert_int_equal(cms_scan_adapter_argv(CMS_SCANNER_GRYPE, "/g", "/s/i.tar", scratch,
                                               sizeof(scratch), argv, 16),
                         0);
        const char *want_g[] = {"/g", "docker-archive:/s/i.tar", "-o", "json", "--quiet", NULL};
        for (size_t i = 0; i < sizeof(want_g) / sizeof(want_g[0]); i++)
                assert_true(want_g[i] ? !strcmp(argv[i], want_g[i]) : argv[i] == NULL);
        assert_true(
            cms_scan_adapter_argv(CMS_SCANNER_GRYPE, "/g", "/s/i.tar", scratch, 8, argv, 16) < 0);
        assert_true(cms_scan_adapter_argv(CMS_SCANNER_BUILTIN, "/g", "/t", scratch, sizeof(scratch),
                                          argv, 16) < 0);
        assert_int_equal(cms_scanner_parse(NULL), CMS_SCANNER_BUILTIN);
        assert_int_equal(cms_scanner_parse("grype"), CMS_SCANNER_GRYPE);
        assert_int_equal(cms_scanner_parse("Trivy"), -1);
        assert_int_equal(cms_scanner_parse("snyk"), -1);
}

static void test_tool_run(void **state)
{
        (void)state;
        char sh[256];
        struct cms_tool_result t;
        struct cms_error err = {0};
        assert_int_equal(cms_tool_find("sh", "/nonexistent:/usr/bin:/bin", sh, sizeof(sh)), 0);
        assert_int_equal(cms_tool_find("no-such-tool-cmsd", "/usr/bin:/bin", sh, 256), -ENOENT);
        assert_int_equal(cms_tool_find("../sh", "/bin", sh, sizeof(sh)), -ENOENT);
        assert_int_equal(cms_tool_find("sh", "/bin", sh, sizeof(sh)), 0);

        const char *a1[] = {sh, "-c",
                            "echo out; printf 'x%.0s' $(seq 3000) >&2; "
                            "echo ' last words' >&2; echo \"$CMS_T\"; exit 3",
                            NULL};
        const char *env[] = {"CMS_T=from-env", NULL};
        assert_int_equal(cms_tool_run(a1, env, 10000, 1024, &t, &err), 0);
        assert_int_equal(t.exit_status, 3);
        assert_string_equal(t.out, "out\nfrom-env\n");
        assert_int_equal(t.out_len, 13);
        assert_false(t.timed_out || t.out_too_big);
        assert_int_equal(strlen(t.err), sizeof(t.err) - 1); /* the tail, not the head */
        assert_non_null(strstr(t.err, "xxx last words\n"));
        cms_tool_result_done(&t);

        /* stdin is /dev/null; the child leads its own group (a grandchild dies with it). */
        const char *a2[] = {sh, "-c", "cat; sleep 30 & sleep 30", NULL};
        int64_t t0 = cms_now_ms();
        assert_int_equal(cms_tool_run(a2, NULL, 300, 1024, &t, &err), 0);
        assert_true(t.timed_out);
        assert_int_equal(t.exit_status, 128 + 9);
        assert_true(cms_now_ms() - t0 < 5000);
        cms_tool_result_done(&t);

        const char *a3[] = {sh, "-c", "while :; do echo yyyyyyyyyyyyyyyy; done", NULL};
        assert_int_equal(cms_tool_run(a3, NULL, 10000, 4096, &t, &err), 0);
        assert_true(t.out_too_big);
        assert_false(t.timed_out);
        assert_true(t.out_len <= 4096);
        cms_tool_result_done(&t);

        const char *a4[] = {"/nonexistent/tool", NULL};
        assert_true(cms_tool_run(a4, NULL, 1000, 1024, &t, &err) < 0);
        assert_int_equal(err.status, 500);
}

static void test_gate(void **state)
{
        (void)state;
        struct cms_scan_gate g;
        struct cms_error err = {0};
        json_object *sum = json_tokener_parse(
            "{\"CRITICAL\": 0, \"HIGH\": 2, \"MEDIUM\": 1, \"LOW\": 4, \"UNKNOWN\": 7}");
        assert_int_equal(cms_scan_gate_parse(NULL, "body.scan", &g, &err), 0);
        assert_int_equal(g.fail_on, CMS_SEV_UNKNOWN);
        assert_int_equal(cms_scan_gate_count(&g, sum), 0);
        const struct {
                const char *json;
                int64_t count; /* -1: refused */
                const char *msg;
        } cases[] = {
            {"{\"fail_on\": \"CRITICAL\"}", 0, NULL},
            {"{\"fail_on\": \"high\"}", 2, NULL},
            {"{\"fail_on\": \"MODERATE\", \"ignore_unfixed\": true}", 3, NULL},
            {"{\"fail_on\": \"LOW\", \"scanner\": \"trivy\"}", 7, NULL},
            {"{\"fail_on\": \"UNKNOWN\"}", -1, "body.scan.fail_on: expected CRITICAL"},
            {"{\"fail_on\": \"SEVERE\"}", -1, "got \"SEVERE\""},
            {"{}", -1, "body.scan.fail_on"},
            {"{\"fail_on\": 3}", -1, "body.scan.fail_on"},
            {"{\"fail_on\": \"LOW\", \"failon\": 1}", -1, "failon"},
            {"{\"fail_on\": \"LOW\", \"scanner\": \"snyk\"}", -1, "body.scan.scanner"},
            {"\"CRITICAL\"", -1, "body.scan: expected an object"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                json_object *j = json_tokener_parse(cases[i].json);
                err = (struct cms_error){0};
                int r = cms_scan_gate_parse(j, "body.scan", &g, &err);
                if (cases[i].count < 0) {
                        assert_true(r < 0);
                        assert_int_equal(err.status, 400);
                        if (!strstr(err.message, cases[i].msg))
                                fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].json, err.message,
                                         cases[i].msg);
                } else {
                        assert_int_equal(r, 0);
                        assert_int_equal(cms_scan_gate_count(&g, sum), cases[i].count);
                }
                json_object_put(j);
        }
        json_object *j = json_tokener_parse("{\"fail_on\": \"LOW\", \"scanner\": \"grype\", "
                                            "\"ignore_unfixed\": true}");
        assert_int_equal(cms_scan_gate_parse(j, "body.scan", &g, &err), 0);
        assert_int_equal(g.scanner, CMS_SCANNER_GRYPE);
        assert_true(g.ignore_unfixed);
        json_object_put(j);
        json_object_put(sum);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_trivy_mapping), cmocka_unit_test(test_grype_mapping),
            cmocka_unit_test(test_bad_reports),   cmocka_unit_test(test_argv_and_names),
            cmocka_unit_test(test_tool_run),      cmocka_unit_test(test_gate),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
