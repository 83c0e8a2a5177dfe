/* Unit test: an import of 100,000 generated OSV records (daemon/scan/db*.c), streamed as a tar
 * made on the fly (ustar headers written here, nothing on disk but the database itself), with
 * ten malformed records among them: the meta's counts per ecosystem exactly, the malformed ones
 * skipped and counted, lookups in each ecosystem finding exactly the records generated for a
 * package (and a release the records do not name finding none), the newest modified date.
 * The import rate and the lookup time are printed (bench/scan.sh measures them properly). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "daemon/scan/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_RECORDS 100000
#define N_BAD     10
#define N_NAMES   2000

static const char *const ecos[] = {"Debian:12", "Alpine:v3.18", "PyPI", "npm"};

/* Record i: ecosystem ecos[i % 4], package "pkg<(i / 4) % N_NAMES>", modified in month
 * 1 + i % 12 of 2024, fixed at 1.<i>. Records N_RECORDS.. are malformed. */
static int record(int i, char *out, size_t cap)
{
        if (i >= N_RECORDS)
                return snprintf(out, cap, "{\"id\": \"CMSB-BAD-%d\", \"affected\": [", i);
        return snprintf(out, cap,
                        "{\"schema_version\":\"1.6.0\",\"id\":\"CMSB-%06d\","
                        "\"modified\":\"2024-%02d-01T00:00:00Z\",\"summary\":\"generated %d\","
                        "\"affected\":[{\"package\":{\"ecosystem\":\"%s\",\"name\":\"pkg%d\"},"
                        "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},"
                        "{\"fixed\":\"1.%d\"}]}]}],"
                        "\"database_specific\":{\"severity\":\"HIGH\"}}",
                        i, 1 + i % 12, i, ecos[i % 4], (i / 4) % N_NAMES, i);
}

/* A tar stream of the records, one block at a time. */
struct gen {
        int next;       /* the record to put in buf next */
        char buf[4096]; /* header + data + padding of the current entry */
        size_t len, off;
        int trailer; /* zero blocks still to send at the end */
};

static void ustar_entry(struct gen *g, int i)
{
        char data[1024];
        int n = record(i, data, sizeof(data));
        assert_true(n > 0 && (size_t)n < sizeof(data));
        char *h = g->buf;
        memset(h, 0, 512);
        snprintf(h, 100, "osv/%s/CMSB-%06d.json", i < N_RECORDS ? ecos[i % 4] : "bad", i);
        snprintf(h + 100, 8, "%07o", 0644);
        snprintf(h + 108, 8, "%07o", 0);
        snprintf(h + 116, 8, "%07o", 0);
        snprintf(h + 124, 12, "%011o", n);
        snprintf(h + 136, 12, "%011o", 1700000000);
        h[156] = '0';
        memcpy(h + 257, "ustar", 6);
        memcpy(h + 263, "00", 2);
        memset(h + 148, ' ', 8);
        unsigned sum = 0;
        for (int k = 0; k < 512; k++)
                sum += (unsigned char)h[k];
        snprintf(h + 148, 8, "%06o", sum);
        h[155] = ' ';
        size_t padded = ((size_t)n + 511) / 512 * 512;
        memset(h + 512, 0, padded);
        memcpy(h + 512, data, (size_t)n);
        g->len = 512 + padded;
        g->off = 0;
}

static ssize_t gen_read(char *buf, size_t max, void *ud)
{
        struct gen *g = ud;
        if (g->off == g->len) {
                if (g->next < N_RECORDS + N_BAD) {
                        ustar_entry(g, g->next++);
                } else if (g->trailer > 0) {
                        g->trailer--;
                        memset(g->buf, 0, 512);
                        g->len = 512;
                        g->off = 0;
                } else {
                        return 0;
                }
        }
        size_t n = g->len - g->off < max ? g->len - g->off : max;
        memcpy(buf, g->buf + g->off, n);
        g->off += n;
        return (ssize_t)n;
}

struct hits {
        int n;
        int bad; /* a record that is not one generated for the package */
        const char *eco;
        int name;
};

static int hit(const struct cms_osv *rec, void *ud)
{
        struct hits *h = ud;
        int i = atoi(rec->id + 5);
        h->n++;
        if (strncmp(rec->id, "CMSB-", 5) || strcmp(ecos[i % 4], h->eco) ||
            (i / 4) % N_NAMES != h->name)
                h->bad++;
        return 0;
}

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_import_100k(void **state)
{
        (void)state;
        char dir[64] = "/tmp/test_scan_bulk.XXXXXX", db_dir[128], cmd[256];
        assert_non_null(mkdtemp(dir));
        snprintf(db_dir, sizeof(db_dir), "%s/vulndb", dir);
        struct gen g = {.trailer = 2};
        struct cms_error err = {0};
        json_object *info = NULL;
        double t0 = now_s();
        int r = cms_vulndb_import_stream(db_dir, gen_read, &g, NULL, &info, &err);
        double took = now_s() - t0;
        if (r < 0)
                fail_msg("import: %s", err.message);
        assert_int_equal(json_object_get_int64(json_object_object_get(info, "records")), N_RECORDS);
        assert_int_equal(json_object_get_int64(json_object_object_get(info, "skipped")), N_BAD);
        json_object *e = json_object_object_get(info, "ecosystems");
        for (size_t k = 0; k < 4; k++)
                assert_int_equal(json_object_get_int64(json_object_object_get(e, ecos[k])),
                                 N_RECORDS / 4);
        assert_string_equal(json_object_get_string(json_object_object_get(info, "newest_modified")),
                            "2024-12-01T00:00:00Z");
        json_object_put(info);
        print_message("import: %d records in %.2f s (%.0f records/s)\n", N_RECORDS, took,
                      N_RECORDS / took);

        struct cms_vulndb *db = NULL;
        assert_int_equal(cms_vulndb_open(db_dir, &db, &err), 0);
        const struct {
                const char *eco, *rel;
                int name;
        } q[] = {
            {"Debian", "12", 7}, {"Alpine", "3.18", 1999}, {"PyPI", NULL, 0}, {"npm", NULL, 1234}};
        t0 = now_s();
        for (size_t k = 0; k < 4; k++) {
                char name[32];
                snprintf(name, sizeof(name), "pkg%d", q[k].name);
                struct hits h = {.eco = ecos[k], .name = q[k].name};
                assert_int_equal(cms_vulndb_lookup(db, q[k].eco, q[k].rel, name, hit, &h, &err), 0);
                int want = 0; /* the generator's records for (ecosystem k, name) */
                for (int i = (int)k; i < N_RECORDS; i += 4)
                        want += (i / 4) % N_NAMES == q[k].name;
                assert_int_equal(h.n, want);
                assert_int_equal(h.bad, 0);
        }
        print_message("4 lookups: %.3f ms\n", (now_s() - t0) * 1e3);
        struct hits none = {.eco = "Debian:12"};
        assert_int_equal(cms_vulndb_lookup(db, "Debian", "11", "pkg7", hit, &none, &err), 0);
        assert_int_equal(none.n, 0);
        assert_int_equal(cms_vulndb_lookup(db, "npm", NULL, "pkg2000", hit, &none, &err), 0);
        assert_int_equal(none.n, 0);
        cms_vulndb_free(db);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        assert_int_equal(system(cmd), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_import_100k)};
        return cmocka_run_group_tests(tests, NULL, NULL);
}
