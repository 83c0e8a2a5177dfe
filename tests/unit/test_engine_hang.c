/* Unit test for the engine client against an engine that accepts and never answers (issue #15):
 * a unix socket that listens and never accepts (the kernel completes the connections in the
 * backlog, nobody reads). Many callers at once, with the runtime still unknown (each call would
 * probe first), must each get 504 within about one call timeout - before the fix they queued on
 * the probe lock and were answered one probe timeout after the other. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/engine/engine.h"

#define CALLERS    12
#define TIMEOUT_MS 600L

static char dir[64], sock[108];
static int lfd = -1;

static int setup(void **state)
{
        snprintf(dir, sizeof(dir), "/tmp/cmsd-unit-hang.XXXXXX");
        assert_non_null(mkdtemp(dir));
        snprintf(sock, sizeof(sock), "%s/e.sock", dir);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
        lfd = socket(AF_UNIX, SOCK_STREAM, 0);
        assert_true(lfd >= 0);
        assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(listen(lfd, 256), 0);
        return 0;
}

static int teardown(void **state)
{
        close(lfd);
        unlink(sock);
        rmdir(dir);
        return 0;
}

struct caller {
        struct cms_engine *e;
        int rc, status;
        int64_t ms;
};

static void *call_main(void *arg)
{
        struct caller *c = arg;
        struct cms_error err = {0};
        json_object *out = NULL;
        int64_t t0 = cms_now_ms();
        c->rc = cms_engine_json(c->e, "GET", "/containers/json", NULL, &out, &err);
        c->ms = cms_now_ms() - t0;
        c->status = err.status;
        json_object_put(out);
        return NULL;
}

static void test_concurrent_callers_each_time_out_once(void **state)
{
        char url[160];
        snprintf(url, sizeof(url), "unix://%s", sock);
        struct cms_engine *e = NULL;
        struct cms_error err = {0};
        assert_int_equal(cms_engine_new(url, TIMEOUT_MS, &e, &err), 0);
        struct caller c[CALLERS];
        pthread_t t[CALLERS];
        int64_t t0 = cms_now_ms();
        for (int i = 0; i < CALLERS; i++) {
                c[i] = (struct caller){.e = e};
                assert_int_equal(pthread_create(&t[i], NULL, call_main, &c[i]), 0);
        }
        for (int i = 0; i < CALLERS; i++)
                pthread_join(t[i], NULL);
        int64_t all = cms_now_ms() - t0;
        for (int i = 0; i < CALLERS; i++) {
                if (c[i].rc >= 0 || c[i].status != 504)
                        fail_msg("caller %d: rc %d status %d, want 504", i, c[i].rc, c[i].status);
                /* One timeout, and scheduling: never two (a probe, then the call). */
                if (c[i].ms > 2 * TIMEOUT_MS - 100)
                        fail_msg("caller %d: 504 after %lld ms (timeout %ld)", i,
                                 (long long)c[i].ms, TIMEOUT_MS);
        }
        if (all > 2 * TIMEOUT_MS)
                fail_msg("%d callers took %lld ms in all (timeout %ld)", CALLERS, (long long)all,
                         TIMEOUT_MS);
        cms_engine_free(e);
}

/* A stream (no total timeout) whose reply header never comes ends with 504 after the timeout. */
static int on_data(const char *d, size_t n, void *ud)
{
        return 0;
}

static void test_stream_without_header(void **state)
{
        char url[160];
        snprintf(url, sizeof(url), "unix://%s", sock);
        struct cms_engine *e = NULL;
        struct cms_error err = {0};
        assert_int_equal(cms_engine_new(url, TIMEOUT_MS, &e, &err), 0);
        struct cms_engine_req req = {.path = "/events", .timeout_ms = -1};
        int64_t t0 = cms_now_ms();
        int r = cms_engine_stream(e, &req, on_data, NULL, NULL, &err);
        int64_t ms = cms_now_ms() - t0;
        assert_true(r < 0);
        assert_int_equal(err.status, 504);
        if (ms > 3 * TIMEOUT_MS)
                fail_msg("stream gave up after %lld ms", (long long)ms);
        cms_engine_free(e);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_concurrent_callers_each_time_out_once, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_stream_without_header, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
