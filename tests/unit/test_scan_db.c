/* Unit tests for the vulnerability database (daemon/scan/db*.c): imports from a directory, a
 * tar.gz stream and a zip file; what the meta counts (records, skipped malformed records, per
 * ecosystem, newest modified); lookups through the index (with and without a release, PyPI
 * names, Alpine's "v"); atomic replacement (a reader of the old generation keeps reading it, a
 * failed import leaves the old data, old generations are removed); the limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "daemon/scan/db.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64], src[128], db_dir[128];

static void run(const char *fmt, ...)
{
        char cmd[8192];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        if (system(cmd) != 0)
                fail_msg("command failed: %s", cmd);
}

static void put(const char *name, const char *text)
{
        char p[256];
        snprintf(p, sizeof(p), "%s/%s", src, name);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

#define REC(id, mod, affected)                                                                     \
        "{\"schema_version\":\"1.6.0\",\"id\":\"" id "\",\"modified\":\"" mod "\","                \
        "\"summary\":\"s " id "\",\"affected\":[" affected "]}"
#define AFF(eco, name, fixed)                                                                      \
        "{\"package\":{\"ecosystem\":\"" eco "\",\"name\":\"" name "\"},\"ranges\":[{\"type\":"    \
        "\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"" fixed "\"}]}]}"

static int setup(void **state)
{
        snprintf(dir, sizeof(dir), "/tmp/test_scan_db.XXXXXX");
        assert_non_null(mkdtemp(dir));
        snprintf(src, sizeof(src), "%s/src", dir);
        snprintf(db_dir, sizeof(db_dir), "%s/state/vulndb", dir);
        run("mkdir -p %s/sub/deeper", src);
        put("a.json", REC("T-1", "2024-01-02T00:00:00Z", AFF("Debian:12", "foo", "1.2-1")));
        put("sub/b.json", REC("T-2", "2025-03-04T00:00:00Z",
                              AFF("Debian", "foo", "2.0-1") "," AFF("Debian:11", "foo", "1.0")));
        put("sub/deeper/c.json",
            REC("T-3", "2023-01-01T00:00:00Z",
                AFF("PyPI", "Py_Yaml", "6.0") "," AFF("Alpine:v3.18", "musl", "1.2.4-r2")));
        put("bad.json", "{\"id\": \"T-4\", \"affected\": [");         /* not JSON */
        put("noid.json", "{\"modified\": \"2024-01-01T00:00:00Z\"}"); /* not OSV */
        put("array.json", "[1, 2]");
        put("README.md", "not a record");
        return 0;
}

static int teardown(void **state)
{
        run("rm -rf %s", dir);
        return 0;
}

struct ids {
        char s[256];
};

static int collect(const struct cms_osv *rec, void *ud)
{
        struct ids *ids = ud;
        size_t n = strlen(ids->s);
        snprintf(ids->s + n, sizeof(ids->s) - n, "%s%s", n ? " " : "", rec->id);
        return 0;
}

static const char *lookup(struct cms_vulndb *db, const char *eco, const char *rel, const char *name)
{
        static struct ids ids;
        struct cms_error err = {0};
        ids.s[0] = 0;
        if (cms_vulndb_lookup(db, eco, rel, name, collect, &ids, &err) < 0)
                fail_msg("lookup: %s", err.message);
        return ids.s;
}

static int64_t meta_int(json_object *m, const char *k)
{
        return json_object_get_int64(json_object_object_get(m, k));
}

static int count_generations(void)
{
        DIR *d = opendir(db_dir);
        int n = 0;
        assert_non_null(d);
        for (struct dirent *e; (e = readdir(d));)
                n += !strncmp(e->d_name, "gen-", 4) || !strncmp(e->d_name, ".tmp", 4);
        closedir(d);
        return n;
}

static void test_import_dir_and_lookup(void **state)
{
        struct cms_error err = {0};
        json_object *info = NULL;
        assert_int_equal(cms_vulndb_import_path(db_dir, src, NULL, &info, &err), 0);
        assert_int_equal(meta_int(info, "records"), 3);
        assert_int_equal(meta_int(info, "skipped"), 3);
        assert_int_equal(json_object_array_length(json_object_object_get(info, "skipped_examples")),
                         3);
        json_object *ecos = json_object_object_get(info, "ecosystems");
        assert_int_equal(meta_int(ecos, "Debian:12"), 1);
        assert_int_equal(meta_int(ecos, "Debian"), 1);
        assert_int_equal(meta_int(ecos, "Debian:11"), 1);
        assert_int_equal(meta_int(ecos, "PyPI"), 1);
        assert_int_equal(meta_int(ecos, "Alpine:v3.18"), 1);
        assert_string_equal(json_object_get_string(json_object_object_get(info, "newest_modified")),
                            "2025-03-04T00:00:00Z");
        json_object_put(info);

        struct cms_vulndb *db = NULL;
        assert_int_equal(cms_vulndb_open(db_dir, &db, &err), 0);
        /* the record without a release comes first (looked up first), then Debian:12's */
        assert_string_equal(lookup(db, "Debian", "12", "foo"), "T-2 T-1");
        assert_string_equal(lookup(db, "Debian", "11", "foo"), "T-2 T-2");
        assert_string_equal(lookup(db, "Debian", "10", "foo"), "T-2");
        assert_string_equal(lookup(db, "Debian", NULL, "foo"), "T-2");
        assert_string_equal(lookup(db, "Debian", "12", "fo"), "");
        assert_string_equal(lookup(db, "Debian", "12", "fooo"), "");
        assert_string_equal(lookup(db, "Ubuntu", "12", "foo"), "");
        assert_string_equal(lookup(db, "PyPI", NULL, "py.yaml"), "T-3");
        assert_string_equal(lookup(db, "PyPI", NULL, "PY-YAML"), "T-3");
        assert_string_equal(lookup(db, "Alpine", "3.18", "musl"), "T-3");
        assert_string_equal(lookup(db, "Alpine", "v3.18", "musl"), "T-3");
        assert_string_equal(lookup(db, "Alpine", "v3.19", "musl"), "");
        cms_vulndb_free(db);

        json_object *st = NULL;
        assert_int_equal(cms_vulndb_status(db_dir, &st, &err), 0);
        assert_true(json_object_get_boolean(json_object_object_get(st, "loaded")));
        assert_int_equal(meta_int(st, "records"), 3);
        json_object_put(st);
        assert_int_equal(count_generations(), 1);
}

static ssize_t fd_read(char *buf, size_t max, void *ud)
{
        return read(*(int *)ud, buf, max);
}

static int import_file_stream(const char *path, json_object **info, struct cms_error *err)
{
        int fd = open(path, O_RDONLY);
        assert_true(fd >= 0);
        int r = cms_vulndb_import_stream(db_dir, fd_read, &fd, NULL, info, err);
        close(fd);
        return r;
}

static void test_replace_atomically(void **state)
{
        struct cms_error err = {0};
        struct cms_vulndb *old = NULL, *db = NULL;
        assert_int_equal(cms_vulndb_import_path(db_dir, src, NULL, NULL, &err), 0);
        assert_int_equal(cms_vulndb_open(db_dir, &old, &err), 0);

        /* A second set, as a tar.gz stream: one record only. */
        run("mkdir -p %s/two && cp %s/a.json %s/two/ && tar czf %s/two.tgz -C %s two", dir, src,
            dir, dir, dir);
        char p[256];
        snprintf(p, sizeof(p), "%s/two.tgz", dir);
        json_object *info = NULL;
        assert_int_equal(import_file_stream(p, &info, &err), 0);
        assert_int_equal(meta_int(info, "records"), 1);
        assert_int_equal(meta_int(info, "skipped"), 0);
        json_object_put(info);

        /* the old reader still sees the old generation, a new one the new */
        assert_string_equal(lookup(old, "Debian", "12", "foo"), "T-2 T-1");
        assert_int_equal(cms_vulndb_open(db_dir, &db, &err), 0);
        assert_string_equal(lookup(db, "Debian", "12", "foo"), "T-1");
        assert_string_equal(lookup(db, "PyPI", NULL, "py-yaml"), "");
        cms_vulndb_free(db);
        cms_vulndb_free(old);
        assert_int_equal(count_generations(), 1);

        /* garbage, and an archive over the record limit: errors, the data stays */
        snprintf(p, sizeof(p), "%s/garbage", dir);
        run("head -c 5000 /dev/urandom > %s", p);
        assert_int_not_equal(import_file_stream(p, NULL, &err), 0);
        assert_int_equal(err.status, 422);
        run("cd %s && python3 -c \"import zipfile; z = zipfile.ZipFile('all.zip', 'w'); "
            "[z.write(f) for f in ('a.json', 'sub/b.json', 'sub/deeper/c.json', 'bad.json')]\"",
            src);
        snprintf(p, sizeof(p), "%s/all.zip", src);
        struct cms_vulndb_limits lim = {.max_records = 2};
        err = (struct cms_error){0};
        assert_int_equal(cms_vulndb_import_path(db_dir, p, &lim, NULL, &err), -1);
        assert_int_equal(err.status, 413);
        assert_int_equal(cms_vulndb_open(db_dir, &db, &err), 0);
        assert_string_equal(lookup(db, "Debian", "12", "foo"), "T-1");
        assert_int_equal(meta_int(cms_vulndb_info(db), "records"), 1);
        cms_vulndb_free(db);
        assert_int_equal(count_generations(), 1);

        /* the zip file whole: 3 records, the malformed one skipped */
        assert_int_equal(cms_vulndb_import_path(db_dir, p, NULL, &info, &err), 0);
        assert_int_equal(meta_int(info, "records"), 3);
        assert_int_equal(meta_int(info, "skipped"), 1);
        json_object_put(info);
        run("rm -f %s", p);
}

static void test_limits_and_empty(void **state)
{
        struct cms_error err = {0};
        struct cms_vulndb *db = NULL;
        char empty[160];
        snprintf(empty, sizeof(empty), "%s/nothing", dir);
        assert_int_equal(cms_vulndb_open(empty, &db, &err), -ENOENT);
        assert_int_equal(err.status, 409);
        json_object *st = NULL;
        assert_int_equal(cms_vulndb_status(empty, &st, &err), 0);
        assert_false(json_object_get_boolean(json_object_object_get(st, "loaded")));
        json_object_put(st);
        /* a record over the per-record cap is skipped, not a failure */
        struct cms_vulndb_limits lim = {.max_record = 300};
        json_object *info = NULL;
        assert_int_equal(cms_vulndb_import_path(db_dir, src, &lim, &info, &err), 0);
        assert_int_equal(meta_int(info, "records"), 1); /* only a.json (233 bytes) is under 300 */
        assert_int_equal(meta_int(info, "skipped"), 5);
        json_object_put(info);
        assert_int_equal(cms_vulndb_import_path(db_dir, "relative", NULL, NULL, &err), -EINVAL);
        assert_int_equal(err.status, 400);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_import_dir_and_lookup),
            cmocka_unit_test(test_replace_atomically),
            cmocka_unit_test(test_limits_and_empty),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
