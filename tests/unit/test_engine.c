/* Unit tests for the engine client without an engine: a tiny fake HTTP server on a temporary
 * unix socket (one thread per connection, fixed replies) drives error mapping, reply caps,
 * timeouts, unreachable sockets, runtime detection, streams, hijacking and URL handling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/engine/engine.h"
#include "daemon/engine/internal.h"

#include "fake_engine.h"

static int group_setup(void **state)
{
        srv = fake_start(NULL, FAKE_DOCKER);
        return 0;
}

static int group_teardown(void **state)
{
        fake_stop(srv);
        return 0;
}

static int call(struct cms_engine *e, const char *method, const char *path, size_t max_reply,
                long timeout_ms, struct cms_engine_reply *rep, struct cms_error *err)
{
        struct cms_engine_req req = {
            .method = method, .path = path, .max_reply = max_reply, .timeout_ms = timeout_ms};
        cms_error_clear(err);
        return cms_engine_call(e, &req, rep, err);
}

static void expect_error(struct cms_engine *e, const char *path, int status, const char *code,
                         const char *msg)
{
        struct cms_engine_reply rep;
        struct cms_error err;
        int r = call(e, "GET", path, 0, 0, &rep, &err);
        assert_true(r < 0);
        assert_int_equal(err.status, status);
        assert_string_equal(err.code, code);
        assert_string_equal(err.message, msg);
        assert_non_null(rep.body); /* the reply is still there for the caller */
        assert_true(rep.status >= 400 && rep.status != 502 && rep.status != 504);
        cms_engine_reply_free(&rep);
}

static void test_error_mapping(void **state)
{
        atomic_store(&srv->mode, FAKE_DOCKER);
        struct cms_engine *e = engine_for(srv, 5000);
        expect_error(e, "/containers/x/json", 404, "not_found", "No such container: x");
        expect_error(e, "/boom", 502, "engine_error", "driver failed");
        expect_error(e, "/conflict", 409, "conflict", "name is in use");
        expect_error(e, "/bad", 400, "bad_request", "plain text complaint");
        expect_error(e, "/empty500", 502, "engine_error", "Internal Server Error");
        expect_error(e, "/gone", 502, "engine_error", "busy");

        struct cms_engine_reply rep;
        struct cms_error err;
        assert_int_equal(call(e, "GET", "/notmod", 0, 0, &rep, &err), 0);
        assert_int_equal(rep.status, 304);
        cms_engine_reply_free(&rep);

        json_object *j = (json_object *)1;
        assert_int_equal(cms_engine_json(e, "POST", "/nocontent", NULL, &j, &err), 0);
        assert_null(j);
        assert_int_equal(cms_engine_json(e, "GET", "/notjson", NULL, &j, &err), -EIO);
        assert_int_equal(err.status, 502);
        assert_null(j);
        assert_int_equal(cms_engine_json(e, "GET", "/ok", NULL, &j, &err), 0);
        assert_true(json_object_get_boolean(json_object_object_get(j, "ok")));
        json_object_put(j);
        assert_true(cms_engine_is_up(e));
        cms_engine_free(e);
}

static void test_reply_cap(void **state)
{
        struct cms_engine *e = engine_for(srv, 5000);
        struct cms_engine_reply rep;
        struct cms_error err;
        assert_int_equal(call(e, "GET", "/big", 1000, 0, &rep, &err), -EIO);
        assert_int_equal(err.status, 502);
        assert_non_null(strstr(err.message, "engine reply too large"));
        assert_null(rep.body);
        assert_true(cms_engine_is_up(e)); /* a big reply is not an unreachable engine */
        assert_int_equal(call(e, "GET", "/big", 0, 0, &rep, &err), 0);
        assert_int_equal(rep.len, 100000);
        assert_int_equal(strlen(rep.body), 100000);
        cms_engine_reply_free(&rep);
        cms_engine_free(e);
}

static void test_timeout(void **state)
{
        struct cms_engine *e = engine_for(srv, 5000);
        struct cms_engine_reply rep;
        struct cms_error err;
        int64_t t0 = cms_now_ms();
        assert_int_equal(call(e, "GET", "/hang", 0, 300, &rep, &err), -ETIMEDOUT);
        assert_int_equal(err.status, 504);
        assert_string_equal(err.code, "timeout");
        assert_true(cms_now_ms() - t0 < 2000);
        /* Again on a connection that is reused from the pool. */
        assert_int_equal(call(e, "GET", "/ok", 0, 0, &rep, &err), 0);
        cms_engine_reply_free(&rep);
        assert_int_equal(call(e, "GET", "/hang", 0, 300, &rep, &err), -ETIMEDOUT);
        assert_int_equal(err.status, 504);
        cms_engine_free(e);

        /* The engine's default timeout applies when the request gives none. */
        e = engine_for(srv, 250);
        t0 = cms_now_ms();
        assert_int_equal(call(e, "GET", "/hang", 0, 0, &rep, &err), -ETIMEDOUT);
        assert_true(cms_now_ms() - t0 < 2000);
        cms_engine_free(e);
}

static void test_unreachable(void **state)
{
        struct cms_engine *e = NULL;
        struct cms_error err = {0};
        assert_int_equal(
            cms_engine_new("unix:///tmp/cmsd-nobody-listens-here.sock", 1000, &e, &err), 0);
        struct cms_engine_reply rep;
        assert_int_equal(call(e, "GET", "/ok", 0, 0, &rep, &err), -ECONNREFUSED);
        assert_int_equal(err.status, 503);
        assert_string_equal(err.code, "engine_unavailable");
        assert_true(err.retry_after > 0);
        assert_false(cms_engine_is_up(e));
        cms_error_clear(&err);
        assert_int_equal(cms_engine_probe(e, &err), -ECONNREFUSED);
        assert_true(err.retry_after > 0);
        cms_error_clear(&err);
        struct cms_engine_req req = {.method = "POST", .path = "/exec/x/start"};
        assert_int_equal(cms_engine_hijack(e, &req, "x", 1, NULL, NULL, &err), -ECONNREFUSED);
        assert_int_equal(err.status, 503);
        assert_true(err.retry_after > 0);
        assert_int_equal(cms_engine_runtime(e), CMS_RUNTIME_UNKNOWN);
        cms_engine_free(e);
}

static void test_recovery(void **state)
{
        char dir[] = "/tmp/cmsd-engine-test-XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *url = cms_strdup_printf("unix://%s/engine.sock", dir);
        struct cms_engine *e = NULL;
        struct cms_error err = {0};
        assert_int_equal(cms_engine_new(url, 2000, &e, &err), 0);
        struct cms_engine_reply rep;
        assert_int_equal(call(e, "GET", "/ok", 0, 0, &rep, &err), -ECONNREFUSED);
        assert_false(cms_engine_is_up(e));

        struct fake *f = fake_start(dir, FAKE_PODMAN);
        assert_int_equal(call(e, "GET", "/ok", 0, 0, &rep, &err), 0);
        cms_engine_reply_free(&rep);
        assert_true(cms_engine_is_up(e));
        usleep(1100 * 1000); /* past the re-probe rate limit: the runtime gets detected */
        assert_int_equal(call(e, "GET", "/ok", 0, 0, &rep, &err), 0);
        cms_engine_reply_free(&rep);
        assert_int_equal(cms_engine_runtime(e), CMS_RUNTIME_PODMAN);
        cms_engine_free(e);
        fake_stop(f);
}

static void test_api_cmp(void **state)
{
        assert_true(cms_eng_api_cmp("1.9", "1.41") < 0);
        assert_true(cms_eng_api_cmp("1.41", "1.9") > 0);
        assert_true(cms_eng_api_cmp("1.41", "1.41") == 0);
        assert_true(cms_eng_api_cmp("1.43", "1.41") > 0);
        assert_true(cms_eng_api_cmp("2.0", "1.41") > 0);
        assert_true(cms_eng_api_cmp("1.40", "1.41") < 0);
        assert_true(cms_eng_api_cmp("junk", "1.0") < 0);
        assert_true(cms_eng_api_cmp(NULL, "1.0") < 0);
        assert_true(cms_eng_api_cmp("1.", "1.0") < 0);
}

static void detect_case(const char *doc, bool hdr, const char *api_hdr, int want_r,
                        enum cms_runtime want_rt, const char *want_v, const char *want_api)
{
        json_object *j = json_tokener_parse(doc);
        enum cms_runtime rt = CMS_RUNTIME_UNKNOWN;
        char v[64] = "", api[16] = "";
        struct cms_error err = {0};
        int r = cms_eng_detect(hdr, api_hdr, j, &rt, v, sizeof(v), api, sizeof(api), &err);
        json_object_put(j);
        assert_int_equal(r, want_r);
        if (r < 0) {
                assert_int_equal(err.status, 502);
                return;
        }
        assert_int_equal(rt, want_rt);
        assert_string_equal(v, want_v);
        assert_string_equal(api, want_api);
}

static void test_detect_pure(void **state)
{
        detect_case("{\"Version\":\"20.10.24\",\"ApiVersion\":\"1.41\"}", false, NULL, 0,
                    CMS_RUNTIME_DOCKER, "20.10.24", "1.41");
        detect_case("{\"Version\":\"4.3.1\",\"ApiVersion\":\"1.41\"}", true, NULL, 0,
                    CMS_RUNTIME_PODMAN, "4.3.1", "1.41");
        detect_case("{\"Version\":\"4.3.1\",\"ApiVersion\":\"1.41\",\"Components\":"
                    "[{\"Name\":\"Podman Engine\"}]}",
                    false, NULL, 0, CMS_RUNTIME_PODMAN, "4.3.1", "1.41");
        detect_case("{\"Version\":\"25.0\",\"ApiVersion\":\"1.44\"}", false, NULL, 0,
                    CMS_RUNTIME_DOCKER, "25.0", "1.41");
        detect_case("{\"Version\":\"1.0\",\"ApiVersion\":\"1.9\"}", false, NULL, 0,
                    CMS_RUNTIME_DOCKER, "1.0", "1.9");
        detect_case("{\"Version\":\"x\"}", false, "1.40", 0, CMS_RUNTIME_DOCKER, "x", "1.40");
        detect_case("{\"Version\":\"x\"}", false, NULL, -EIO, 0, NULL, NULL);
        detect_case("[1,2]", false, "1.41", -EIO, 0, NULL, NULL);
}

static void probe_case(int mode, enum cms_runtime rt, const char *version, const char *api)
{
        atomic_store(&srv->mode, mode);
        struct cms_engine *e = engine_for(srv, 5000);
        char v[64], a[16];
        cms_engine_versions(e, v, sizeof(v), a, sizeof(a));
        assert_string_equal(v, "");
        assert_int_equal(cms_engine_runtime(e), CMS_RUNTIME_UNKNOWN);
        struct cms_error err = {0};
        assert_int_equal(cms_engine_probe(e, &err), 0);
        assert_int_equal(cms_engine_runtime(e), rt);
        cms_engine_versions(e, v, sizeof(v), a, sizeof(a));
        assert_string_equal(v, version);
        assert_string_equal(a, api);
        assert_true(cms_engine_is_up(e));
        cms_engine_free(e);
}

static void test_detect_fake(void **state)
{
        probe_case(FAKE_DOCKER, CMS_RUNTIME_DOCKER, "20.10.24", "1.41");
        probe_case(FAKE_DOCKER_NEW, CMS_RUNTIME_DOCKER, "24.0.7", "1.41");
        probe_case(FAKE_DOCKER_OLD, CMS_RUNTIME_DOCKER, "19.03.1", "1.9");
        probe_case(FAKE_PODMAN, CMS_RUNTIME_PODMAN, "4.3.1", "1.41");
        probe_case(FAKE_PODMAN_NOHDR, CMS_RUNTIME_PODMAN, "4.3.1", "1.41");

        /* The negotiated version is the prefix of later calls. */
        atomic_store(&srv->mode, FAKE_DOCKER_OLD);
        struct cms_engine *e = engine_for(srv, 5000);
        struct cms_engine_reply rep;
        struct cms_error err;
        assert_int_equal(call(e, "GET", "/old", 0, 0, &rep, &err), 0);
        cms_engine_reply_free(&rep);
        cms_engine_free(e);
        atomic_store(&srv->mode, FAKE_DOCKER);
}

static void test_auto_probe(void **state)
{
        atomic_store(&srv->mode, FAKE_DOCKER);
        atomic_store(&srv->pings, 0);
        struct cms_engine *e = engine_for(srv, 5000);
        struct cms_engine_reply rep;
        struct cms_error err;
        for (int i = 0; i < 3; i++) {
                assert_int_equal(call(e, "GET", "/ok", 0, 0, &rep, &err), 0);
                cms_engine_reply_free(&rep);
        }
        assert_int_equal(atomic_load(&srv->pings), 1);
        assert_int_equal(cms_engine_runtime(e), CMS_RUNTIME_DOCKER);
        cms_engine_free(e);

        /* A probe that fails for another reason than reachability lets calls through, and is
         * retried at most once a second. */
        atomic_store(&srv->mode, FAKE_PING_FAILS);
        atomic_store(&srv->pings, 0);
        e = engine_for(srv, 5000);
        for (int i = 0; i < 5; i++) {
                assert_int_equal(call(e, "GET", "/ok", 0, 0, &rep, &err), 0);
                cms_engine_reply_free(&rep);
        }
        assert_int_equal(atomic_load(&srv->pings), 1);
        assert_int_equal(cms_engine_runtime(e), CMS_RUNTIME_UNKNOWN);
        usleep(1100 * 1000);
        assert_int_equal(call(e, "GET", "/ok", 0, 0, &rep, &err), 0);
        cms_engine_reply_free(&rep);
        assert_int_equal(atomic_load(&srv->pings), 2);
        cms_engine_free(e);
        atomic_store(&srv->mode, FAKE_DOCKER);
}

static void test_paths(void **state)
{
        struct cms_engine *e = engine_for(srv, 5000);
        struct cms_error err = {0};
        assert_int_equal(cms_engine_probe(e, &err), 0);
        _cleanup_free_ char *a = cms_eng_build_path(e, "/containers/json?all=1");
        _cleanup_free_ char *b = cms_eng_build_path(e, "/libpod/info");
        _cleanup_free_ char *c = cms_eng_build_path(e, "//_ping");
        assert_string_equal(a, "/v1.41/containers/json?all=1");
        assert_string_equal(b, "/v4.0.0/libpod/info");
        assert_string_equal(c, "/_ping");
        assert_null(cms_eng_build_path(e, "containers/json"));
        json_object *j = NULL;
        assert_int_equal(cms_engine_json(e, "GET", "/libpod/info", NULL, &j, &err), 0);
        assert_true(json_object_get_boolean(json_object_object_get(j, "libpod")));
        json_object_put(j);
        assert_int_equal(cms_engine_json(e, "GET", "//verbatim", NULL, &j, &err), 0);
        json_object_put(j);
        cms_engine_free(e);
}

static void expect_echo(struct cms_engine *e, const char *method, json_object *body,
                        const char *want_body, const char *want_ct)
{
        json_object *j = NULL;
        struct cms_error err = {0};
        assert_int_equal(cms_engine_json(e, method, "/echo", body, &j, &err), 0);
        assert_string_equal(json_object_get_string(json_object_object_get(j, "method")), method);
        assert_string_equal(json_object_get_string(json_object_object_get(j, "body")), want_body);
        assert_string_equal(json_object_get_string(json_object_object_get(j, "ct")), want_ct);
        json_object_put(j);
}

static void test_methods_and_bodies(void **state)
{
        struct cms_engine *e = engine_for(srv, 5000);
        json_object *body = json_tokener_parse("{\"a\":1}");
        expect_echo(e, "POST", body, "{\"a\":1}", "application/json");
        expect_echo(e, "PUT", body, "{\"a\":1}", "application/json");
        expect_echo(e, "POST", NULL, "", "");
        expect_echo(e, "DELETE", NULL, "", "");
        expect_echo(e, "GET", NULL, "", "");
        json_object_put(body);

        struct cms_engine_req req = {.method = "POST",
                                     .path = "/echo",
                                     .body = "tarbytes",
                                     .body_len = 8,
                                     .content_type = "application/x-tar"};
        struct cms_engine_reply rep;
        struct cms_error err = {0};
        assert_int_equal(cms_engine_call(e, &req, &rep, &err), 0);
        json_object *j = json_tokener_parse(rep.body);
        assert_string_equal(json_object_get_string(json_object_object_get(j, "ct")),
                            "application/x-tar");
        assert_string_equal(json_object_get_string(json_object_object_get(j, "body")), "tarbytes");
        json_object_put(j);
        cms_engine_reply_free(&rep);
        cms_engine_free(e);
}

struct stream_state {
        size_t bytes;
        int64_t start, stop_from;
        int stop_on_data;
};

static int stream_data(const char *p, size_t n, void *ud)
{
        struct stream_state *s = ud;
        s->bytes += n;
        return s->stop_on_data;
}

static int stream_stop(void *ud)
{
        struct stream_state *s = ud;
        return cms_now_ms() >= s->stop_from;
}

static void test_stream(void **state)
{
        struct cms_engine *e = engine_for(srv, 5000);
        struct cms_engine_req req = {.path = "/stream", .timeout_ms = -1};
        struct cms_error err = {0};
        /* No bytes flow after the first chunk; should_stop must still end it promptly. */
        struct stream_state s = {.start = cms_now_ms()};
        s.stop_from = s.start + 300;
        assert_int_equal(cms_engine_stream(e, &req, stream_data, stream_stop, &s, &err), 0);
        assert_int_equal(s.bytes, 3);
        assert_true(cms_now_ms() - s.stop_from < 500);

        struct stream_state s2 = {.stop_on_data = 1, .stop_from = INT64_MAX};
        int64_t t0 = cms_now_ms();
        assert_int_equal(cms_engine_stream(e, &req, stream_data, stream_stop, &s2, &err), 0);
        assert_int_equal(s2.bytes, 3);
        assert_true(cms_now_ms() - t0 < 1000);

        struct cms_engine_req bad = {.path = "/containers/x/json", .timeout_ms = -1};
        assert_int_equal(cms_engine_stream(e, &bad, stream_data, NULL, &s2, &err), -ENOENT);
        assert_string_equal(err.message, "No such container: x");
        cms_engine_free(e);
}

struct hj {
        struct cms_demux d;
        struct cms_buf out, err;
};

static int hj_frame(int stream, const char *p, size_t n, void *ud)
{
        struct hj *h = ud;
        return cms_buf_append(stream == CMS_STREAM_STDERR ? &h->err : &h->out, p, n);
}

static int hj_data(const char *p, size_t n, void *ud)
{
        struct hj *h = ud;
        return cms_demux_feed(&h->d, p, n, hj_frame, h);
}

static int hijack(struct cms_engine *e, const char *path, const char *data, size_t len,
                  long timeout, struct hj *h, struct cms_error *err)
{
        cms_demux_init(&h->d, false);
        cms_buf_init(&h->out, 4 << 20);
        cms_buf_init(&h->err, 4 << 20);
        struct cms_engine_req req = {
            .method = "POST", .path = path, .body = "{}", .body_len = 2, .timeout_ms = timeout};
        cms_error_clear(err);
        return cms_engine_hijack(e, &req, data, len, hj_data, h, err);
}

static void hj_free(struct hj *h)
{
        cms_buf_free(&h->out);
        cms_buf_free(&h->err);
}

static void test_hijack(void **state)
{
        struct cms_engine *e = engine_for(srv, 5000);
        struct cms_error err;
        struct hj h;
        assert_int_equal(hijack(e, "/hijack", "hello\n", 6, 0, &h, &err), 0);
        assert_int_equal(cms_demux_finish(&h.d), 0);
        assert_int_equal(h.out.len, 6);
        assert_memory_equal(h.out.data, "hello\n", 6);
        assert_int_equal(h.err.len, 4); /* the fake sends "done" after our EOF */
        hj_free(&h);

        assert_int_equal(hijack(e, "/hijack", NULL, 0, 0, &h, &err), 0);
        assert_int_equal(h.out.len, 0);
        assert_int_equal(h.err.len, 4);
        hj_free(&h);

        /* Larger than the socket buffers: writing and reading must interleave. */
        size_t big = 3 << 20;
        char *data = malloc(big);
        for (size_t i = 0; i < big; i++)
                data[i] = (char)('a' + i % 26);
        assert_int_equal(hijack(e, "/hijack", data, big, 10000, &h, &err), 0);
        assert_int_equal(h.out.len, big);
        assert_memory_equal(h.out.data, data, big);
        free(data);
        hj_free(&h);

        int64_t t0 = cms_now_ms();
        assert_int_equal(hijack(e, "/containers/x/json", "x", 1, 5000, &h, &err), -ENOENT);
        assert_string_equal(err.message, "No such container: x");
        assert_true(cms_now_ms() - t0 < 2000); /* framed by Content-Length, not by EOF */
        hj_free(&h);
        assert_int_equal(hijack(e, "/hijack404chunked", "x", 1, 5000, &h, &err), -ENOENT);
        assert_string_equal(err.message, "no such exec: e1");
        hj_free(&h);
        assert_int_equal(hijack(e, "/boom", NULL, 0, 5000, &h, &err), -EIO);
        assert_int_equal(err.status, 502);
        hj_free(&h);

        t0 = cms_now_ms();
        assert_int_equal(hijack(e, "/hang", "x", 1, 300, &h, &err), -ETIMEDOUT);
        assert_int_equal(err.status, 504);
        assert_true(cms_now_ms() - t0 < 2000);
        hj_free(&h);
        cms_engine_free(e);
}

static void test_urls(void **state)
{
        struct cms_engine *e = NULL;
        struct cms_error err = {0};
        assert_int_equal(cms_engine_new("tcp://build-host:2376", 0, &e, &err), 0);
        assert_string_equal(cms_engine_url(e), "tcp://build-host:2376");
        assert_string_equal(e->base, "http://build-host:2376");
        cms_engine_free(e);
        assert_int_equal(cms_engine_new("tcp://[::1]", 0, &e, &err), 0);
        assert_string_equal(e->base, "http://[::1]:2375");
        cms_engine_free(e);
        const char *bad[] = {"https://h:2376", "ftp://h", "unix://relative.sock", "tcp://h:0",
                             "tcp://h:99999",  "tcp://",  "tcp://h:1/x"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                e = NULL;
                assert_int_equal(cms_engine_new(bad[i], 0, &e, &err), -EINVAL);
                assert_int_equal(err.status, 400);
                assert_null(e);
        }
        assert_non_null(strstr((cms_engine_new("https://h", 0, &e, &err), err.message), "TLS"));

        setenv("DOCKER_HOST", "unix:///tmp/cmsd-from-env.sock", 1);
        assert_int_equal(cms_engine_new("auto", 0, &e, &err), 0);
        assert_string_equal(cms_engine_url(e), "unix:///tmp/cmsd-from-env.sock");
        cms_engine_free(e);
        assert_int_equal(cms_engine_new(NULL, 0, &e, &err), 0);
        assert_string_equal(cms_engine_url(e), "unix:///tmp/cmsd-from-env.sock");
        cms_engine_free(e);
        unsetenv("DOCKER_HOST");
        assert_int_equal(cms_engine_new("auto", 0, &e, &err), 0);
        assert_true(cms_str_has_prefix(cms_engine_url(e), "unix:///"));
        cms_engine_free(e);
        cms_engine_free(NULL);

        assert_string_equal(cms_runtime_name(CMS_RUNTIME_DOCKER), "docker");
        assert_string_equal(cms_runtime_name(CMS_RUNTIME_PODMAN), "podman");
        assert_string_equal(cms_runtime_name(CMS_RUNTIME_UNKNOWN), "unknown");
}

static void *hammer(void *arg)
{
        struct cms_engine *e = arg;
        for (int i = 0; i < 50; i++) {
                json_object *j = NULL;
                struct cms_error err = {0};
                if (cms_engine_json(e, "GET", "/ok", NULL, &j, &err) != 0)
                        return (void *)1;
                json_object_put(j);
        }
        return NULL;
}

static void test_concurrent(void **state)
{
        struct cms_engine *e = engine_for(srv, 5000);
        pthread_t t[8];
        for (int i = 0; i < 8; i++)
                assert_int_equal(pthread_create(&t[i], NULL, hammer, e), 0);
        for (int i = 0; i < 8; i++) {
                void *ret;
                pthread_join(t[i], &ret);
                assert_null(ret);
        }
        assert_true(e->npool <= CMS_ENG_POOL_MAX);
        cms_engine_free(e);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_error_mapping),
            cmocka_unit_test(test_reply_cap),
            cmocka_unit_test(test_timeout),
            cmocka_unit_test(test_unreachable),
            cmocka_unit_test(test_recovery),
            cmocka_unit_test(test_api_cmp),
            cmocka_unit_test(test_detect_pure),
            cmocka_unit_test(test_detect_fake),
            cmocka_unit_test(test_auto_probe),
            cmocka_unit_test(test_paths),
            cmocka_unit_test(test_methods_and_bodies),
            cmocka_unit_test(test_stream),
            cmocka_unit_test(test_hijack),
            cmocka_unit_test(test_urls),
            cmocka_unit_test(test_concurrent),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
