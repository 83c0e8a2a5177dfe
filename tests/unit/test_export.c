/* Unit tests for the exports (daemon/monitor/export.c): CPU % and rates from counter deltas
 * (resets included), Prometheus rendering (cAdvisor names and labels, label-value escaping of
 * quotes, backslashes and newlines, which series appear when), and the JSON series with since
 * and points. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/monitor/export.h"

static void rates(void **state)
{
        struct cms_sample a = {0}, b = {0};
        struct cms_rates x;
        a.t_ms = 1000000;
        b.t_ms = 1002000; /* 2 s later */
        a.v[CMS_F_CPU_USAGE_US] = 5000000;
        b.v[CMS_F_CPU_USAGE_US] = 8000000; /* 3 s of CPU in 2 s: 150 % */
        a.v[CMS_F_NET_RX_BYTES] = 1000;
        b.v[CMS_F_NET_RX_BYTES] = 5000;
        b.v[CMS_F_BLK_WRITE_BYTES] = 41943040;
        cms_sample_rates(&a, &b, &x);
        assert_true(x.cpu_percent > 149.999 && x.cpu_percent < 150.001);
        assert_true(x.rx_bps > 1999.9 && x.rx_bps < 2000.1);
        assert_true(x.write_bps > 20971519 && x.write_bps < 20971521);
        assert_true(x.tx_bps == 0);

        /* A counter that went down (container restarted): counted from zero. */
        b.v[CMS_F_CPU_USAGE_US] = 1000000;
        cms_sample_rates(&a, &b, &x);
        assert_true(x.cpu_percent > 49.999 && x.cpu_percent < 50.001);
        /* No time between the samples: no rate rather than a division by zero. */
        b.t_ms = a.t_ms;
        cms_sample_rates(&a, &b, &x);
        assert_true(x.cpu_percent == 0 && x.rx_bps == 0);
}

static void fill(struct cms_ctr_info *c, const char *id, const char *name)
{
        memset(c, 0, sizeof(*c));
        snprintf(c->id, sizeof(c->id), "%s", id);
        snprintf(c->name, sizeof(c->name), "%s", name);
        snprintf(c->image, sizeof(c->image), "cmsd-test/busybox:latest");
        snprintf(c->cg_path, sizeof(c->cg_path), "/docker/%s", id);
        c->state = CMS_CTR_RUNNING;
        c->spec.cpu_quota_us = -1;
        c->spec.cpu_period_us = 100000;
        c->spec.cpu_shares = 1024;
        c->has_latest = true;
        c->latest.t_ms = 1700000000000;
        c->latest.v[CMS_F_CPU_USAGE_US] = 1234567;
        c->latest.v[CMS_F_MEM_USAGE] = 52428800;
        c->latest.v[CMS_F_MEM_WORKING_SET] = 44040192;
        c->latest.v[CMS_F_PIDS] = 3;
        c->n_ifs = 1;
        snprintf(c->ifs[0].name, sizeof(c->ifs[0].name), "eth0");
        c->ifs[0].v[0] = 866;
        c->ifs[0].v[4] = 42;
        c->started_at = 1700000000;
}

static bool has(const char *text, const char *needle)
{
        if (strstr(text, needle))
                return true;
        print_error("missing: %s\n", needle);
        return false;
}

static void prometheus(void **state)
{
        struct cms_ctr_info c[3];
        fill(&c[0], "aaaa", "web");
        snprintf(c[0].project, sizeof(c[0].project), "shop");
        snprintf(c[0].service, sizeof(c[0].service), "front");
        fill(&c[1], "bbbb", "we\"ird\\name\nx");
        c[1].spec.cpu_quota_us = 50000;
        c[1].latest.v[CMS_F_CPU_PERIODS] = 10;
        c[1].health = CMS_HEALTH_UNHEALTHY;
        fill(&c[2], "cccc", "stopped-one");
        c[2].state = CMS_CTR_STOPPED;
        struct cms_http_count http[] = {{"health", 200, 5}, {"metrics", 401, 1}};
        struct cms_self_metrics self = {.samples_total = 42,
                                        .cpu_seconds = 0.5,
                                        .containers = 2,
                                        .mode = "cgroup",
                                        .engine_up = true,
                                        .http = http,
                                        .n_http = 2};
        struct cms_buf b;
        cms_buf_init(&b, 0);
        assert_int_equal(cms_export_prometheus(c, 3, &self, &b), 0);
        const char *t = b.data;
        assert_true(has(t, "# TYPE container_cpu_usage_seconds_total counter\n"));
        assert_true(has(t,
                        "container_cpu_usage_seconds_total{id=\"/docker/aaaa\",image=\"cmsd-test/"
                        "busybox:latest\",name=\"web\",project=\"shop\",service=\"front\","
                        "cpu=\"total\"} 1.234567\n"));
        /* Quotes, backslashes and newlines in a label value are escaped. */
        assert_true(has(t, "name=\"we\\\"ird\\\\name\\nx\""));
        assert_true(has(t, "container_memory_working_set_bytes{id=\"/docker/aaaa\""));
        assert_true(has(t, "} 44040192\n"));
        assert_true(has(t, ",interface=\"eth0\"} 866\n"));
        assert_true(has(t, "container_network_transmit_bytes_total{id=\"/docker/aaaa\""));
        assert_true(has(t, "container_start_time_seconds{id=\"/docker/aaaa\""));
        /* CFS series only for the container with a quota. */
        assert_true(has(t, "container_spec_cpu_quota{id=\"/docker/bbbb\""));
        assert_null(strstr(t, "container_spec_cpu_quota{id=\"/docker/aaaa\""));
        assert_null(strstr(t, "container_cpu_cfs_periods_total{id=\"/docker/aaaa\""));
        /* Health: one-hot over the states, only for containers that have a check. */
        assert_true(has(t, "status=\"unhealthy\"} 1\n"));
        assert_true(has(t, "status=\"healthy\"} 0\n"));
        assert_null(strstr(t, "container_health_status{id=\"/docker/aaaa\""));
        /* Stopped containers are not exported. */
        assert_null(strstr(t, "cccc"));
        assert_true(has(t, "cmsd_sampler_samples_total 42\n"));
        assert_true(has(t, "cmsd_sampler_cpu_seconds_total 0.500000\n"));
        assert_true(has(t, "cmsd_http_requests_total{route=\"metrics\",code=\"401\"} 1\n"));
        assert_true(has(t, "cmsd_engine_up 1\n"));
        assert_true(has(t, "cmsd_sampler_mode{mode=\"cgroup\"} 1\n"));
        /* Every line is a comment or "name{...} value" / "name value". */
        for (const char *l = t; *l; l = strchr(l, '\n') + 1) {
                assert_true(l[0] == '#' || (l[0] >= 'a' && l[0] <= 'z'));
                assert_non_null(strchr(l, '\n'));
        }
        cms_buf_free(&b);

        /* A cap too small is an error, not a truncation. */
        cms_buf_init(&b, 100);
        assert_int_equal(cms_export_prometheus(c, 3, &self, &b), -E2BIG);
        cms_buf_free(&b);
}

static void escaping(void **state)
{
        struct cms_buf b;
        cms_buf_init(&b, 0);
        assert_int_equal(cms_prom_escape(&b, "a\"b\\c\nd"), 0);
        assert_string_equal(b.data, "a\\\"b\\\\c\\nd");
        b.len = 0;
        assert_int_equal(cms_json_quote(&b, "q\"\\\n\x01"), 0);
        assert_string_equal(b.data, "\"q\\\"\\\\\\n\\u0001\"");
        cms_buf_free(&b);
        char t[32];
        cms_format_time_ms(1700000000123, t, sizeof(t));
        assert_string_equal(t, "2023-11-14T22:13:20.123Z");
}

/* since= values: what the JSON gives back (RFC 3339 with milliseconds) and unix seconds. */
static void parse_time(void **state)
{
        int64_t ms = 0;
        assert_int_equal(cms_parse_time_ms("2023-11-14T22:13:20.123Z", &ms), 0);
        assert_true(ms == 1700000000123);
        assert_int_equal(cms_parse_time_ms("2023-11-14T23:13:20+01:00", &ms), 0);
        assert_true(ms == 1700000000000);
        assert_int_equal(cms_parse_time_ms("1700000000", &ms), 0);
        assert_true(ms == 1700000000000);
        assert_int_equal(cms_parse_time_ms("1700000000.5", &ms), 0);
        assert_true(ms == 1700000000500);
        assert_int_equal(cms_parse_time_ms("yesterday", &ms), -EINVAL);
        assert_int_equal(cms_parse_time_ms("2023-11-14T22:13:20", &ms), -EINVAL);
        assert_int_equal(cms_parse_time_ms("2023-11-14T22:13:20+1", &ms), -EINVAL);
        assert_int_equal(cms_parse_time_ms("", &ms), -EINVAL);
        assert_int_equal(cms_parse_time_ms("12abc", &ms), -EINVAL);
}

static void series(void **state)
{
        struct cms_ring *r = NULL;
        assert_int_equal(cms_ring_new(100, 1000, &r), 0);
        struct cms_sample s = {0};
        for (int i = 0; i < 10; i++) {
                s.t_ms = 1700000000000 + i * 1000;
                s.v[CMS_F_CPU_USAGE_US] = (uint64_t)i * 500000; /* 50 % */
                s.v[CMS_F_MEM_USAGE] = 1000 + (uint64_t)i;
                assert_int_equal(cms_ring_push(r, &s), 0);
        }
        struct cms_ring_snap snap;
        assert_int_equal(cms_ring_snapshot(r, &snap), 0);
        struct cms_ctr_info c;
        fill(&c, "aaaa", "web");
        struct cms_buf b;
        cms_buf_init(&b, 0);
        int64_t newest = 0;
        assert_int_equal(cms_export_json_series(&b, &c, &snap, 0, 0, &newest), 0);
        json_object *o = json_tokener_parse(b.data);
        assert_non_null(o);
        json_object *pts = json_object_object_get(o, "points");
        assert_int_equal(json_object_array_length(pts), 9); /* the oldest sample has no rate */
        json_object *p0 = json_object_array_get_idx(pts, 0);
        assert_true(json_object_get_double(json_object_object_get(p0, "cpu_percent")) == 50.0);
        assert_int_equal(json_object_get_int64(json_object_object_get(p0, "memory_bytes")), 1001);
        assert_true(newest == 1700000009000);
        json_object_put(o);

        /* since: only newer points; points: only the newest N of those. */
        b.len = 0;
        assert_int_equal(cms_export_json_series(&b, &c, &snap, 1700000005000, 0, NULL), 0);
        o = json_tokener_parse(b.data);
        assert_int_equal(json_object_array_length(json_object_object_get(o, "points")), 4);
        json_object_put(o);
        b.len = 0;
        assert_int_equal(cms_export_json_series(&b, &c, &snap, 0, 3, NULL), 0);
        o = json_tokener_parse(b.data);
        pts = json_object_object_get(o, "points");
        assert_int_equal(json_object_array_length(pts), 3);
        assert_string_equal(json_object_get_string(
                                json_object_object_get(json_object_array_get_idx(pts, 2), "time")),
                            "2023-11-14T22:13:29.000Z");
        json_object_put(o);

        b.len = 0;
        c.has_prev = true;
        c.prev = c.latest;
        c.prev.t_ms -= 1000;
        c.prev.v[CMS_F_CPU_USAGE_US] -= 250000;
        assert_int_equal(cms_export_json_latest(&b, &c), 0);
        o = json_tokener_parse(b.data);
        assert_non_null(o);
        assert_true(json_object_get_double(json_object_object_get(o, "cpu_percent")) == 25.0);
        json_object_put(o);
        cms_buf_free(&b);
        cms_ring_snap_free(&snap);
        cms_ring_free(r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(rates),      cmocka_unit_test(prometheus), cmocka_unit_test(escaping),
            cmocka_unit_test(parse_time), cmocka_unit_test(series),
        };
        return cmocka_run_group_tests_name("export", tests, NULL, NULL);
}
