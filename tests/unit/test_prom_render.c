/* Unit tests for the Prometheus rendering of GET /metrics (daemon/monitor/export.c) at scale:
 * the text must stay byte for byte what the renderer wrote before it was made faster. A fixed
 * generator makes containers of every shape the renderer distinguishes (running, paused, stopped,
 * no sample yet; health; CPU quota; extras read or not; 0-3 interfaces; compose labels; engine
 * labels; label values that need escaping; unknown cgroup path), and the output is compared
 * with tests/unit/fixtures/prom_render_golden.txt (14 containers, written by the renderer of
 * commit 530504a) and with the length and FNV-1a hash of that renderer's text for 1,000 such
 * containers. The streamed rendering (a cursor filling caller buffers of any size) must give the
 * same bytes as the one-shot one. CMS_PROM_BENCH=N prints the time of a render of N containers
 * (a measurement, never asserted). CMS_PROM_WRITE=FILE writes the 14-container text to FILE. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "daemon/monitor/export.h"

/* The renderer of commit 530504a on gen_all(1000): its length and FNV-1a 64 hash. */
#define BIG_N    1000
#define BIG_LEN  8668715u
#define BIG_HASH 0x5816f6d053393a8cull

static uint64_t rnd_state;

static uint64_t rnd(void)
{
        rnd_state = rnd_state * 6364136223846793005ull + 1442695040888963407ull;
        return rnd_state >> 17;
}

static const char *const engine_labels[] = {
    NULL, ",container_label_cmsd_bench=\"1\"",
    ",container_label_com_example_team=\"a \\\"b\\\"\",container_label_tier=\"web\""};

static void gen_one(struct cms_ctr_info *c, size_t i)
{
        memset(c, 0, sizeof(*c));
        for (int k = 0; k < 64; k++)
                c->id[k] = "0123456789abcdef"[rnd() % 16];
        snprintf(c->name, sizeof(c->name), i % 17 == 5 ? "odd\"na\\me\n%zu" : "ctr-%zu", i);
        snprintf(c->image, sizeof(c->image), i % 3 ? "cmsd-test/busybox:latest" : "img%zu:1", i);
        if (i % 4 == 1) {
                snprintf(c->project, sizeof(c->project), "proj%zu", i % 7);
                snprintf(c->service, sizeof(c->service), "svc%zu", i % 5);
        }
        if (i % 11 != 10)
                snprintf(c->cg_path, sizeof(c->cg_path), "/docker/%s", c->id);
        c->state = i % 13 == 12 ? CMS_CTR_STOPPED : i % 9 == 8 ? CMS_CTR_PAUSED : CMS_CTR_RUNNING;
        c->health = (int)(i % 4 == 0 ? CMS_HEALTH_NONE : i % 4);
        c->started_at = i % 10 == 3 ? 0 : 1700000000 + (int64_t)(rnd() % 100000);
        c->spec.cpu_quota_us = i % 5 == 2 ? 50000 : -1;
        c->spec.cpu_period_us = 100000;
        c->spec.cpu_shares = 1024;
        c->spec.pids_limit = i % 2 ? 0 : 4096;
        c->spec.mem_swap_limit = rnd() % 3 ? 0 : rnd();
        c->spec.mem_reservation = rnd() % 5 ? 0 : rnd();
        c->has_latest = i % 19 != 7;
        c->latest.t_ms = 1700000000000 + (int64_t)(rnd() % 1000000);
        /* Each rnd() in a statement of its own: the operands of << are unsequenced, and gcc
         * called them in one order at -O2 (the golden file's) and the other at -O1 (make asan). */
        for (int f = 0; f < CMS_F_COUNT; f++) {
                uint64_t v;
                if (rnd() % 4) {
                        v = rnd() % 100000000;
                } else {
                        v = rnd();
                        v <<= rnd() % 20;
                }
                c->latest.v[f] = v;
        }
        c->latest.v[CMS_F_MEM_LIMIT] = i % 2 ? 0 : 536870912;
        c->n_ifs = i % 4;
        for (size_t k = 0; k < c->n_ifs; k++) {
                snprintf(c->ifs[k].name, sizeof(c->ifs[k].name), k ? "eth%zu" : "lo", k);
                for (int f = 0; f < 8; f++)
                        c->ifs[k].v[f] = rnd() % 1000000;
        }
        struct cms_ctr_extra *x = &c->extra;
        x->has_mem = i % 3 != 1;
        x->has_max_usage = i % 6 == 0;
        x->has_swap = i % 8 == 0;
        x->has_proc = i % 5 != 4;
        x->has_fs = i % 7 != 6;
        x->mem_swap = rnd() % 100000;
        x->mem_mapped_file = rnd() % 100000000;
        x->mem_max_usage = rnd();
        x->pgfault = rnd() % 1000000;
        x->pgmajfault = rnd() % 1000;
        x->total_pgfault = x->pgfault + rnd() % 1000;
        x->total_pgmajfault = x->pgmajfault + rnd() % 10;
        x->processes = rnd() % 50;
        x->threads = rnd() % 200;
        x->fds = rnd() % 1000;
        x->sockets = rnd() % 100;
        for (int t = 0; t < CMS_TASK_STATES; t++)
                x->tasks[t] = rnd() % 20;
        x->fs_usage = rnd() % 1000000000;
        c->prom_labels = engine_labels[i % 3];
}

static const struct cms_http_count http[] = {
    {"health", 200, 5}, {"metrics", 200, 123456}, {"metrics", 401, 1}, {"containers", 502, 2}};

static const struct cms_self_metrics self = {.cpu_cores = 2,
                                             .memory_bytes = 25769803776u,
                                             .boot_id = "b00t",
                                             .machine_id = "m4ch\"ine",
                                             .fs_device = "/dev/vda1",
                                             .fs_limit = 107374182400u,
                                             .samples_total = 987654321,
                                             .cpu_seconds = 12.345678,
                                             .containers = 1000,
                                             .mode = "cgroup",
                                             .ring_bytes = 230400,
                                             .ring_data_bytes = 27196,
                                             .ring_samples = 13487,
                                             .round_seconds = 0.0421,
                                             .engine_up = true,
                                             .http = http,
                                             .n_http = 4};

static struct cms_ctr_info *gen_all(size_t n)
{
        struct cms_ctr_info *c = calloc(n, sizeof(*c));
        assert_non_null(c);
        rnd_state = 42;
        for (size_t i = 0; i < n; i++)
                gen_one(&c[i], i);
        return c;
}

static uint64_t fnv1a(const char *p, size_t n)
{
        uint64_t h = 1469598103934665603ull;
        for (size_t i = 0; i < n; i++)
                h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
        return h;
}

static char *golden_path(void)
{
        static char path[512];
        const char *slash = strrchr(__FILE__, '/');
        snprintf(path, sizeof(path), "%.*s/fixtures/prom_render_golden.txt",
                 slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
        return path;
}

static char *slurp(const char *path, size_t *len)
{
        FILE *f = fopen(path, "rb");
        if (!f)
                return NULL;
        struct cms_buf b;
        cms_buf_init(&b, 0);
        char tmp[65536];
        size_t k;
        while ((k = fread(tmp, 1, sizeof(tmp), f)) > 0)
                assert_int_equal(cms_buf_append(&b, tmp, k), 0);
        fclose(f);
        *len = b.len;
        return cms_buf_take(&b);
}

/* The first differing line, for the failure message. */
static void show_diff(const char *want, size_t wn, const char *got, size_t gn)
{
        size_t i = 0, line = 1, start = 0;
        for (; i < wn && i < gn && want[i] == got[i]; i++)
                if (want[i] == '\n') {
                        line++;
                        start = i + 1;
                }
        print_error("first difference at byte %zu, line %zu:\n want: %.120s\n got:  %.120s\n", i,
                    line, want + start, got + start);
}

static void golden(void **state)
{
        (void)state;
        struct cms_ctr_info *c = gen_all(14);
        struct cms_buf b;
        cms_buf_init(&b, 0);
        assert_int_equal(cms_export_prometheus(c, 14, &self, &b), 0);
        const char *w = getenv("CMS_PROM_WRITE");
        if (w && *w) {
                FILE *f = fopen(w, "wb");
                assert_non_null(f);
                assert_int_equal(fwrite(b.data, 1, b.len, f), b.len);
                fclose(f);
        }
        size_t wn = 0;
        char *want = slurp(golden_path(), &wn);
        assert_non_null(want);
        if (wn != b.len || memcmp(want, b.data, wn))
                show_diff(want, wn, b.data, b.len);
        assert_int_equal(b.len, wn);
        assert_memory_equal(b.data, want, wn);
        free(want);
        cms_buf_free(&b);
        free(c);
}

static void big(void **state)
{
        (void)state;
        struct cms_ctr_info *c = gen_all(BIG_N);
        struct cms_buf b;
        cms_buf_init(&b, 0);
        assert_int_equal(cms_export_prometheus(c, BIG_N, &self, &b), 0);
        if (b.len != BIG_LEN || fnv1a(b.data, b.len) != BIG_HASH)
                print_error("1000 containers: %zu bytes, hash 0x%016llx\n", b.len,
                            (unsigned long long)fnv1a(b.data, b.len));
        assert_int_equal(b.len, BIG_LEN);
        assert_true(fnv1a(b.data, b.len) == BIG_HASH);
        cms_buf_free(&b);

        /* A cap too small is an error, not a truncation. */
        cms_buf_init(&b, BIG_LEN - 1);
        assert_int_equal(cms_export_prometheus(c, BIG_N, &self, &b), -E2BIG);
        cms_buf_free(&b);
        free(c);
}

static double now_ms(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* CMS_PROM_BENCH=N: the best of 20 renders of N containers, printed (not a test). */
static void bench(void **state)
{
        (void)state;
        const char *e = getenv("CMS_PROM_BENCH");
        size_t n = e ? (size_t)strtoul(e, NULL, 10) : 0;
        if (!n)
                skip();
        struct cms_ctr_info *c = gen_all(n);
        double best = 1e9;
        size_t len = 0;
        for (int k = 0; k < 20; k++) {
                struct cms_buf b;
                cms_buf_init(&b, 0);
                double t0 = now_ms();
                assert_int_equal(cms_export_prometheus(c, n, &self, &b), 0);
                double t = now_ms() - t0;
                best = t < best ? t : best;
                len = b.len;
                cms_buf_free(&b);
        }
        printf("render of %zu containers: %zu bytes, best of 20 %.2f ms\n", n, len, best);
        free(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(golden),
            cmocka_unit_test(big),
            cmocka_unit_test(bench),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
