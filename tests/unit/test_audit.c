/* Unit tests for daemon/security/audit.c: the hash chain across reopenings and rotations, a
 * partial last line (a write cut by a crash) cut off before the next append, an edited record
 * found by the verifier, queries newest first across the rotated files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <unistd.h>

#include "daemon/security/audit.h"

static char dir[64], path[128];

static int setup(void **state)
{
        snprintf(dir, sizeof(dir), "/tmp/cmsd-unit-audit.XXXXXX");
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/audit.log", dir);
        return 0;
}

static int teardown(void **state)
{
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
        return 0;
}

static void write_n(struct cms_audit *a, int n, int from)
{
        for (int i = 0; i < n; i++) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "request_id", json_object_new_int(from + i));
                json_object_object_add(o, "status", json_object_new_int(200));
                assert_int_equal(cms_audit_write(a, o), 0);
        }
}

static void expect_verify(const char *p, int rc, const char *needle)
{
        char msg[600];
        int r = cms_audit_verify(p, msg, sizeof(msg));
        if (r != rc || !strstr(msg, needle))
                fail_msg("verify %s: %d '%s', want %d and '%s'", p, r, msg, rc, needle);
}

static void append(const char *p, const char *text)
{
        int fd = open(p, O_WRONLY | O_APPEND);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
}

static void test_chain_and_reopen(void **state)
{
        struct cms_audit *a;
        struct cms_error err = {0};
        assert_int_equal(cms_audit_open(dir, 1 << 20, 3, &a, &err), 0);
        write_n(a, 5, 1);
        expect_verify(path, 0, "5 records, chain intact");
        cms_audit_close(a);
        assert_int_equal(cms_audit_open(dir, 1 << 20, 3, &a, &err), 0);
        write_n(a, 1, 6);
        cms_audit_close(a);
        expect_verify(path, 0, "6 records, chain intact");
        /* A crash cut the last write short: not a record, and gone before the next append. */
        append(path, "{\"seq\":7,\"time\":\"x\",\"prev\":\"ab");
        expect_verify(path, 0, "partial record");
        assert_int_equal(cms_audit_open(dir, 1 << 20, 3, &a, &err), 0);
        write_n(a, 1, 7);
        cms_audit_close(a);
        expect_verify(path, 0, "7 records, chain intact");
}

/* A log longer than the window a start reads from its end: the chain still picks up. */
static void test_long_log_reopen(void **state)
{
        struct cms_audit *a;
        struct cms_error err = {0};
        assert_int_equal(cms_audit_open(dir, 1 << 24, 3, &a, &err), 0);
        write_n(a, 600, 1); /* ~100 bytes a line: past 64 KiB */
        cms_audit_close(a);
        append(path, "{\"seq\":601,\"partial");
        assert_int_equal(cms_audit_open(dir, 1 << 24, 3, &a, &err), 0);
        write_n(a, 1, 601);
        cms_audit_close(a);
        expect_verify(path, 0, "601 records, chain intact");
}

static void test_tamper(void **state)
{
        struct cms_audit *a;
        struct cms_error err = {0};
        assert_int_equal(cms_audit_open(dir, 1 << 20, 3, &a, &err), 0);
        write_n(a, 4, 1);
        cms_audit_close(a);
        /* Edit record 2: record 3 no longer follows from it. */
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "sed -i '2s/\"status\":200/\"status\":201/' '%s'", path);
        assert_int_equal(system(cmd), 0);
        expect_verify(path, -EBADMSG, "record 3 (line 3, seq 3) is broken");
        /* Removing a record breaks it too. */
        snprintf(cmd, sizeof(cmd), "sed -i '2d' '%s'", path);
        assert_int_equal(system(cmd), 0);
        expect_verify(path, -EBADMSG, "record 2 (line 2, seq 3) is broken");
}

static bool keep_all(json_object *rec, void *ud)
{
        return true;
}

/* The last line of a file, without its newline. */
static void last_line(const char *p, char *out, size_t n)
{
        FILE *f = fopen(p, "r");
        assert_non_null(f);
        char line[4096];
        while (fgets(line, sizeof(line), f))
                snprintf(out, n, "%.*s", (int)strcspn(line, "\n"), line);
        fclose(f);
}

static void test_rotation(void **state)
{
        struct cms_audit *a;
        struct cms_error err = {0};
        assert_int_equal(cms_audit_open(dir, 600, 2, &a, &err), 0);
        write_n(a, 30, 1);
        char p1[160], p2[160], p3[160];
        snprintf(p1, sizeof(p1), "%s.1", path);
        snprintf(p2, sizeof(p2), "%s.2", path);
        snprintf(p3, sizeof(p3), "%s.3", path);
        assert_int_equal(access(p1, F_OK), 0);
        assert_int_equal(access(p2, F_OK), 0);
        assert_true(access(p3, F_OK) < 0); /* keep: 2 */
        /* Each file verifies alone, and the chain runs on from .1 into the current one. */
        expect_verify(p1, 0, "chain intact");
        expect_verify(path, 0, "chain intact");
        char last[4096], hex[65];
        unsigned char d[CMS_SHA256_LEN];
        last_line(p1, last, sizeof(last));
        cms_sha256(last, strlen(last), d);
        for (int i = 0; i < CMS_SHA256_LEN; i++)
                snprintf(hex + 2 * i, 3, "%02x", d[i]);
        FILE *f = fopen(path, "r");
        char first[4096];
        assert_non_null(fgets(first, sizeof(first), f));
        fclose(f);
        assert_non_null(strstr(first, hex));
        /* Newest first, across the files, in sequence. */
        json_object *recs = cms_audit_query(a, keep_all, NULL, 5);
        assert_int_equal(json_object_array_length(recs), 5);
        for (int i = 0; i < 5; i++)
                assert_int_equal(json_object_get_int(cms_json_get(json_object_array_get_idx(recs, i),
                                                                  "seq")),
                                 30 - i);
        json_object_put(recs);
        recs = cms_audit_query(a, keep_all, NULL, 1000);
        size_t n = json_object_array_length(recs);
        assert_true(n > 5 && n < 30); /* the oldest rotated away */
        json_object_put(recs);
        cms_audit_close(a);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_chain_and_reopen, setup, teardown),
            cmocka_unit_test_setup_teardown(test_long_log_reopen, setup, teardown),
            cmocka_unit_test_setup_teardown(test_tamper, setup, teardown),
            cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
