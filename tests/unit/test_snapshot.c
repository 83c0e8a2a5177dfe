/* Unit tests for the metrics snapshot (daemon/monitor/snapshot.c) through a sampler built by hand
 * (no threads, no engine): what cmsd saves it loads again whole, whatever the sample times; a
 * file naming one container twice (which cmsd never writes) is refused as a whole; a file whose
 * checksum does not match is refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/monitor/sampler_internal.h"
#include "daemon/util.h"

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static char dir[64];

static struct cms_sampler *sampler_new(void)
{
        struct cms_sampler *s = calloc(1, sizeof(*s));
        assert_non_null(s);
        pthread_mutex_init(&s->lock, NULL);
        s->interval_ms = 1000;
        s->capacity = 16;
        s->state_dir = strdup(dir);
        assert_non_null(s->state_dir);
        return s;
}

static void sampler_free(struct cms_sampler *s)
{
        for (size_t i = 0; i < s->n; i++)
                cms_sampler_ctr_unref(s->v[i]);
        free(s->v);
        free(s->state_dir);
        pthread_mutex_destroy(&s->lock);
        free(s);
}

static int setup(void **state)
{
        const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        snprintf(dir, sizeof(dir), "%.40s/cmsd-snapshot-XXXXXX", tmp);
        return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
        char path[128];
        snprintf(path, sizeof(path), "%s/metrics.snapshot", dir);
        unlink(path);
        return rmdir(dir);
}

/* The samples of the one container held, oldest first; returns how many. */
static size_t history(struct cms_sampler *s, const char *id, int64_t *t, size_t max)
{
        struct cms_sampler_ctr *c = cms_sampler_find(s, id);
        assert_non_null(c);
        struct cms_ring_snap sn;
        struct cms_ring_iter it;
        struct cms_sample x;
        size_t n = 0;
        pthread_mutex_lock(&c->lock);
        assert_int_equal(cms_ring_snapshot(c->ring, &sn), 0);
        pthread_mutex_unlock(&c->lock);
        cms_ring_iter_init(&it, &sn);
        int r;
        while ((r = cms_ring_iter_next(&it, &x)) > 0)
                if (n < max)
                        t[n++] = x.t_ms;
        assert_int_equal(r, 0);
        cms_ring_snap_free(&sn);
        cms_sampler_ctr_unref(c);
        return n;
}

/* A history with a gap wider than int64 (what restoring two copies of one container did): the
 * snapshot cmsd saves of it must load again with every sample. Before the fix the ring's record
 * overflowed, history reads stopped early and the load refused cmsd's own file. */
static void far_apart_saved_and_loaded(void **state)
{
        int64_t times[] = {-6000000000000000000, -5999999999999999000, 4000000000000000000,
                           4000000000000001000};
        struct cms_sampler *s = sampler_new();
        struct cms_sampler_ctr *c = cms_sampler_get_or_add(s, ID_A);
        assert_non_null(c);
        struct cms_sample x;
        memset(&x, 0, sizeof(x));
        for (size_t i = 0; i < 4; i++) {
                x.t_ms = times[i];
                x.v[CMS_F_MEM_USAGE] = 4096 * (i + 1);
                assert_int_equal(cms_ring_push(c->ring, &x), 0);
        }
        cms_sampler_ctr_unref(c);
        int64_t got[8];
        assert_int_equal(history(s, ID_A, got, 8), 4);
        struct cms_error err = {0};
        assert_int_equal(cms_sampler_snapshot_save(s, &err), 0);
        sampler_free(s);

        s = sampler_new();
        size_t loaded = 0;
        assert_int_equal(cms_sampler_snapshot_load(s, &loaded, &err), 0);
        assert_int_equal(loaded, 1);
        assert_int_equal(history(s, ID_A, got, 8), 4);
        for (size_t i = 0; i < 4; i++)
                assert_true(got[i] == times[i]);
        sampler_free(s);
}

static void put_le(unsigned char **p, uint64_t v, int bytes)
{
        for (int i = 0; i < bytes; i++)
                *(*p)++ = (unsigned char)(v >> (8 * i));
}

/* One container record with a single sample at t and no string but the id. */
static void put_ctr(unsigned char **p, const char *id, int64_t t)
{
        put_le(p, strlen(id), 2);
        memcpy(*p, id, strlen(id));
        *p += strlen(id);
        for (int i = 0; i < 5; i++)
                put_le(p, 0, 2); /* name image project service cg_path */
        put_le(p, 0, 8);         /* started_at */
        put_le(p, 0, 4);         /* health */
        put_le(p, 1, 4);         /* samples */
        put_le(p, (uint64_t)t, 8);
        for (int f = 0; f < CMS_F_COUNT; f++)
                put_le(p, 7, 8);
        put_le(p, 0, 4); /* record bytes */
}

static void write_file(const unsigned char *buf, size_t len)
{
        char path[128];
        snprintf(path, sizeof(path), "%s/metrics.snapshot", dir);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(buf, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
}

/* The snapshot of the issue: one id twice, the second copy far later than the first. Refused as a
 * whole (nothing restored), and the sampler keeps working. */
static void duplicate_id_refused(void **state)
{
        static unsigned char buf[4096];
        unsigned char *p = buf;
        memcpy(p, "CMSDSNAP", 8);
        p += 8;
        put_le(&p, 1, 4);
        put_le(&p, CMS_F_COUNT, 4);
        put_le(&p, 1000, 8);
        put_le(&p, 0, 8);
        put_le(&p, 2, 4);
        put_ctr(&p, ID_A, -6000000000000000000);
        put_ctr(&p, ID_A, 4000000000000000000);
        size_t len = (size_t)(p - buf);
        cms_sha256(buf, len, buf + len);
        write_file(buf, len + CMS_SHA256_LEN);

        struct cms_sampler *s = sampler_new();
        size_t loaded = 0;
        struct cms_error err = {0};
        assert_true(cms_sampler_snapshot_load(s, &loaded, &err) < 0);
        assert_int_equal(loaded, 0);
        assert_non_null(strstr(err.message, "listed twice"));
        assert_int_equal(s->n, 0);
        sampler_free(s);

        /* The same file with the second copy under another id loads both. */
        memset(buf + len - (8 * CMS_F_COUNT + 4 + 8 + 4 + 4 + 8 + 10 + 64 + 2) + 2, 'b', 64);
        cms_sha256(buf, len, buf + len);
        write_file(buf, len + CMS_SHA256_LEN);
        s = sampler_new();
        assert_int_equal(cms_sampler_snapshot_load(s, &loaded, &err), 0);
        assert_int_equal(loaded, 2);
        assert_int_equal(s->n, 2);
        sampler_free(s);

        /* One byte changed without the checksum: refused. */
        buf[20] ^= 1;
        write_file(buf, len + CMS_SHA256_LEN);
        s = sampler_new();
        assert_true(cms_sampler_snapshot_load(s, &loaded, &err) < 0);
        assert_non_null(strstr(err.message, "checksum"));
        sampler_free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(far_apart_saved_and_loaded),
            cmocka_unit_test(duplicate_id_refused),
        };
        return cmocka_run_group_tests_name("snapshot", tests, setup, teardown);
}
