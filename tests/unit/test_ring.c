/* Unit tests for the sample ring (daemon/monitor/ring.c): exact round trips of 64-bit values
 * (resets and wrap-around of counters included), eviction when full, snapshots that stay valid
 * after the ring moves on, refusal of out-of-order samples and of malformed snapshot data, and
 * the compactness the design relies on. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/monitor/ring.h"

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void)
{
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return rng_state;
}

/* A plausible sample i: counters grow, gauges move, some fields jump around. */
static void make(struct cms_sample *s, int i, bool wild)
{
        memset(s, 0, sizeof(*s));
        s->t_ms = 1700000000000 + (int64_t)i * 1000 + (i % 3);
        for (int f = 0; f < CMS_F_COUNT; f++)
                s->v[f] = (uint64_t)i * (uint64_t)(f + 1) * 1000;
        s->v[CMS_F_MEM_USAGE] = 40u << 20 | (uint64_t)(i % 7) << 12;
        s->v[CMS_F_MEM_LIMIT] = 0;
        if (wild) {
                s->v[CMS_F_NET_RX_BYTES] = rnd();
                s->v[CMS_F_CPU_USAGE_US] = UINT64_MAX - (uint64_t)i; /* goes down: a "reset" */
        }
}

static void expect_same(const struct cms_sample *a, const struct cms_sample *b)
{
        assert_int_equal(a->t_ms, b->t_ms);
        for (int f = 0; f < CMS_F_COUNT; f++)
                assert_true(a->v[f] == b->v[f]);
}

static void roundtrip(void **state)
{
        struct cms_ring *r = NULL;
        assert_int_equal(cms_ring_new(100, 1000, &r), 0);
        struct cms_sample s, got;
        assert_false(cms_ring_latest(r, &got));
        for (int i = 0; i < 50; i++) {
                make(&s, i, true);
                assert_int_equal(cms_ring_push(r, &s), 0);
        }
        assert_int_equal(cms_ring_count(r), 50);
        assert_true(cms_ring_latest(r, &got));
        make(&s, 49, false);
        assert_int_equal(got.t_ms, s.t_ms);

        struct cms_ring_snap snap;
        assert_int_equal(cms_ring_snapshot(r, &snap), 0);
        assert_int_equal(cms_ring_snap_validate(&snap), 0);
        struct cms_ring_iter it;
        cms_ring_iter_init(&it, &snap);
        rng_state = 88172645463325252ull;
        for (int i = 0; i < 50; i++) {
                make(&s, i, true);
                assert_int_equal(cms_ring_iter_next(&it, &got), 1);
                expect_same(&got, &s);
        }
        assert_int_equal(cms_ring_iter_next(&it, &got), 0);
        cms_ring_snap_free(&snap);
        cms_ring_free(r);
}

/* More samples than the capacity: the newest `capacity` remain, exact, in order, and a snapshot
 * taken before the ring moved on still decodes to what it held. */
static void wraparound(void **state)
{
        struct cms_ring *r = NULL;
        assert_int_equal(cms_ring_new(10, 1000, &r), 0);
        struct cms_sample s, got;
        struct cms_ring_snap early = {0};
        rng_state = 1;
        for (int i = 0; i < 1000; i++) {
                make(&s, i, true);
                assert_int_equal(cms_ring_push(r, &s), 0);
                assert_true(cms_ring_count(r) == (size_t)(i < 10 ? i + 1 : 10));
                if (i == 14)
                        assert_int_equal(cms_ring_snapshot(r, &early), 0);
        }
        struct cms_ring_snap snap;
        assert_int_equal(cms_ring_snapshot(r, &snap), 0);
        assert_int_equal(snap.count, 10);
        struct cms_ring_iter it;
        cms_ring_iter_init(&it, &snap);
        /* Replay the generator to know samples 990..999. */
        rng_state = 1;
        struct cms_sample want[1000];
        for (int i = 0; i < 1000; i++)
                make(&want[i], i, true);
        for (int i = 990; i < 1000; i++) {
                assert_int_equal(cms_ring_iter_next(&it, &got), 1);
                expect_same(&got, &want[i]);
        }
        assert_int_equal(cms_ring_iter_next(&it, &got), 0);
        cms_ring_iter_init(&it, &early);
        for (int i = 5; i < 15; i++) {
                assert_int_equal(cms_ring_iter_next(&it, &got), 1);
                expect_same(&got, &want[i]);
        }
        /* Memory stays bounded by the capacity, whatever the uptime. */
        assert_true(cms_ring_mem_bytes(r) <= 10 * CMS_RING_MAX_RECORD + 1024);
        cms_ring_snap_free(&snap);
        cms_ring_snap_free(&early);
        cms_ring_free(r);
}

static void capacity_one(void **state)
{
        struct cms_ring *r = NULL;
        assert_int_equal(cms_ring_new(1, 1000, &r), 0);
        struct cms_sample s, got;
        for (int i = 0; i < 5; i++) {
                make(&s, i, false);
                assert_int_equal(cms_ring_push(r, &s), 0);
                assert_int_equal(cms_ring_count(r), 1);
        }
        struct cms_ring_snap snap;
        assert_int_equal(cms_ring_snapshot(r, &snap), 0);
        struct cms_ring_iter it;
        cms_ring_iter_init(&it, &snap);
        assert_int_equal(cms_ring_iter_next(&it, &got), 1);
        expect_same(&got, &s);
        assert_int_equal(cms_ring_iter_next(&it, &got), 0);
        cms_ring_snap_free(&snap);
        cms_ring_free(r);
        assert_int_equal(cms_ring_new(0, 1000, &r), -EINVAL);
}

static void out_of_order(void **state)
{
        struct cms_ring *r = NULL;
        assert_int_equal(cms_ring_new(4, 1000, &r), 0);
        struct cms_sample s;
        make(&s, 10, false);
        assert_int_equal(cms_ring_push(r, &s), 0);
        make(&s, 9, false);
        assert_int_equal(cms_ring_push(r, &s), -EINVAL);
        assert_int_equal(cms_ring_count(r), 1);
        cms_ring_free(r);
}

/* An idle container (nothing changes, on time) costs 2 bytes a sample; a busy one stays far
 * below the plain struct. */
static void compact(void **state)
{
        struct cms_ring *r = NULL;
        assert_int_equal(cms_ring_new(3600, 1000, &r), 0);
        struct cms_sample s;
        memset(&s, 0, sizeof(s));
        s.t_ms = 1700000000000;
        s.v[CMS_F_MEM_USAGE] = 323584;
        for (int i = 0; i < 3600; i++) {
                assert_int_equal(cms_ring_push(r, &s), 0);
                s.t_ms += 1000;
        }
        assert_int_equal(cms_ring_data_bytes(r), 3599 * 2);
        cms_ring_free(r);

        assert_int_equal(cms_ring_new(3600, 1000, &r), 0);
        for (int i = 0; i < 3600; i++) {
                s.t_ms += 1000 + (i % 5);
                s.v[CMS_F_CPU_USAGE_US] += 250000 + (uint64_t)(i % 1000);
                s.v[CMS_F_CPU_USER_US] += 200000;
                s.v[CMS_F_CPU_SYSTEM_US] += 50000;
                s.v[CMS_F_MEM_USAGE] = 100000000 + (uint64_t)(i % 50) * 4096;
                s.v[CMS_F_MEM_WORKING_SET] = 90000000 + (uint64_t)(i % 50) * 4096;
                s.v[CMS_F_NET_RX_BYTES] += 150000;
                s.v[CMS_F_NET_TX_BYTES] += 120000;
                s.v[CMS_F_NET_RX_PACKETS] += 100;
                s.v[CMS_F_NET_TX_PACKETS] += 90;
                s.v[CMS_F_BLK_WRITE_BYTES] += 4096;
                assert_int_equal(cms_ring_push(r, &s), 0);
        }
        size_t per = cms_ring_data_bytes(r) / 3599;
        assert_true(per <= 32);
        assert_true(per < sizeof(struct cms_sample) / 4);
        cms_ring_free(r);
}

static void malformed(void **state)
{
        struct cms_ring *r = NULL;
        assert_int_equal(cms_ring_new(8, 1000, &r), 0);
        struct cms_sample s;
        for (int i = 0; i < 5; i++) {
                make(&s, i, false);
                assert_int_equal(cms_ring_push(r, &s), 0);
        }
        struct cms_ring_snap snap;
        assert_int_equal(cms_ring_snapshot(r, &snap), 0);
        assert_int_equal(cms_ring_snap_validate(&snap), 0);
        /* Truncated. */
        snap.len--;
        assert_int_equal(cms_ring_snap_validate(&snap), -EBADMSG);
        snap.len++;
        /* Trailing garbage: more bytes than the records claim. */
        snap.count--;
        assert_int_equal(cms_ring_snap_validate(&snap), -EBADMSG);
        snap.count++;
        /* A varint that never ends, and a mask with bits beyond the fields. */
        memset(snap.data, 0xff, snap.len);
        assert_int_equal(cms_ring_snap_validate(&snap), -EBADMSG);
        uint8_t bad[] = {0, 0xff, 0xff, 0xff, 0xff, 0x0f};
        struct cms_ring_snap b = {.interval_ms = 1000, .count = 2, .data = bad, .len = sizeof(bad)};
        assert_int_equal(cms_ring_snap_validate(&b), -EBADMSG);
        struct cms_ring_snap empty = {.count = 0, .len = 3};
        assert_int_equal(cms_ring_snap_validate(&empty), -EBADMSG);
        cms_ring_snap_free(&snap);
        cms_ring_free(r);
}

/* Times as far apart as int64 allows (a restored snapshot can hold any stamps): the delta does
 * not fit in int64, yet the ring must keep both exactly and its snapshot must stay valid. Before
 * the delta was computed modulo 2^64 this overflowed (UBSan at encode) and the record decoded as
 * a step back in time: the ring no longer validated. */
static void far_apart(void **state)
{
        struct cms_ring *r = NULL;
        assert_int_equal(cms_ring_new(8, 1000, &r), 0);
        int64_t times[] = {INT64_MIN, -5000000000000000000, 5000000000000000000, INT64_MAX - 1,
                           INT64_MAX};
        struct cms_sample s;
        memset(&s, 0, sizeof(s));
        for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
                s.t_ms = times[i];
                s.v[CMS_F_CPU_USAGE_US] = (uint64_t)i * 77;
                assert_int_equal(cms_ring_push(r, &s), 0);
        }
        struct cms_ring_snap snap;
        assert_int_equal(cms_ring_snapshot(r, &snap), 0);
        assert_int_equal(cms_ring_snap_validate(&snap), 0);
        struct cms_ring_iter it;
        struct cms_sample got;
        size_t n = 0;
        cms_ring_iter_init(&it, &snap);
        while (cms_ring_iter_next(&it, &got) > 0) {
                assert_true(got.t_ms == times[n]);
                assert_true(got.v[CMS_F_CPU_USAGE_US] == (uint64_t)n * 77);
                n++;
        }
        assert_int_equal(n, 5);
        /* Eviction decodes the same records. */
        for (int i = 0; i < 8; i++)
                assert_int_equal(cms_ring_push(r, &s), 0);
        assert_int_equal(cms_ring_count(r), 8);
        cms_ring_snap_free(&snap);
        cms_ring_free(r);

        /* A record that would step past the end of int64 is malformed, not a wrap to the past. */
        uint8_t past[] = {0x02, 0x00}; /* +1 ms after the interval, no field changed */
        struct cms_ring_snap b = {.interval_ms = 1000,
                                  .count = 2,
                                  .base = {.t_ms = INT64_MAX - 10},
                                  .data = past,
                                  .len = sizeof(past)};
        assert_int_equal(cms_ring_snap_validate(&b), -EBADMSG);
        b.base.t_ms = INT64_MAX - 1001;
        assert_int_equal(cms_ring_snap_validate(&b), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(roundtrip),    cmocka_unit_test(wraparound),
            cmocka_unit_test(capacity_one), cmocka_unit_test(out_of_order),
            cmocka_unit_test(compact),      cmocka_unit_test(malformed),
            cmocka_unit_test(far_apart),
        };
        return cmocka_run_group_tests_name("ring", tests, NULL, NULL);
}
