/* Unit tests for the HTTP layer's request handling, in-process and without an engine: the
 * envelope, 404/405, auth (401/403), body limits (413 by Content-Length and by chunked upload),
 * 415, malformed JSON, URL caps, CORS preflight, and 503 + Retry-After while the engine is down. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/api.h"

static struct cms_manager *mgr;
static struct cms_api *api;
static int port;

struct resp {
        long status;
        struct cms_buf body, headers;
        json_object *json;
};

static size_t on_body(char *p, size_t s, size_t n, void *ud)
{
        cms_buf_append(ud, p, s * n);
        return s * n;
}

static int free_port(void)
{
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t l = sizeof(sa);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        getsockname(fd, (struct sockaddr *)&sa, &l);
        close(fd);
        return ntohs(sa.sin_port);
}

static char *state_dir_of_test;

static int setup(void **state)
{
        cms_log_set_level(CMS_LOG_ERROR);
        port = free_port();
        /* The manager starts the sampler, which keeps its snapshot in state_dir: a private one. */
        static char dir[] = "/tmp/cmsd-test-http-XXXXXX";
        assert_non_null(mkdtemp(dir));
        state_dir_of_test = dir;
        char yaml[1024];
        snprintf(yaml, sizeof(yaml),
                 "listen: [\"127.0.0.1:%d\"]\n"
                 "state_dir: %s\n"
                 "engine: unix:///nonexistent/cmsd-test/engine.sock\n"
                 "cors_origins: [\"http://dash.example\"]\n"
                 "limits: {max_body: 1k}\n"
                 "tokens:\n"
                 "  - {name: a, role: admin, token: t-admin}\n"
                 "  - {name: v, role: viewer, token: t-view}\n",
                 port, dir);
        struct cms_config *cfg = NULL;
        struct cms_config_error cerr = {0};
        assert_int_equal(cms_config_load_string(yaml, strlen(yaml), "test", &cfg, &cerr), 0);
        struct cms_error err = {0};
        assert_int_equal(cms_manager_new(cfg, &mgr, &err), 0);
        assert_int_equal(cms_api_start(mgr, &api, &err), 0);
        return 0;
}

static int teardown(void **state)
{
        cms_api_stop(api);
        cms_manager_free(mgr);
        if (state_dir_of_test) {
                char cmd[128];
                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state_dir_of_test);
                if (system(cmd) != 0)
                        fprintf(stderr, "could not remove %s\n", state_dir_of_test);
        }
        return 0;
}

/* body_len < 0: no body. chunked: send with Transfer-Encoding: chunked. */
static void request(const char *method, const char *path, const char *token, const char *ctype,
                    const char *body, long body_len, bool chunked, const char *extra,
                    struct resp *r)
{
        CURL *c = curl_easy_init();
        char url[10000];
        snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
        struct curl_slist *h = NULL;
        char line[256];
        if (token) {
                snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
                h = curl_slist_append(h, line);
        }
        if (ctype) {
                snprintf(line, sizeof(line), "Content-Type: %s", ctype);
                h = curl_slist_append(h, line);
        }
        if (chunked)
                h = curl_slist_append(h, "Transfer-Encoding: chunked");
        if (extra)
                h = curl_slist_append(h, extra);
        memset(r, 0, sizeof(*r));
        cms_buf_init(&r->body, 0);
        cms_buf_init(&r->headers, 0);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        if (body_len >= 0) {
                /* With "Transfer-Encoding: chunked" set, curl sends these bytes chunked. */
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
                curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, body_len);
        }
        if (!strcmp(method, "HEAD"))
                curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->headers);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
        assert_int_equal(curl_easy_perform(c), CURLE_OK);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
        curl_easy_cleanup(c);
        curl_slist_free_all(h);
        if (r->body.len)
                r->json = json_tokener_parse(r->body.data);
}

static void resp_done(struct resp *r)
{
        cms_buf_free(&r->body);
        cms_buf_free(&r->headers);
        json_object_put(r->json);
}

static const char *code_of(struct resp *r)
{
        return json_object_get_string(cms_json_get(cms_json_get(r->json, "error"), "code"));
}

static void expect(const char *method, const char *path, const char *token, const char *ctype,
                   const char *body, long body_len, long status, const char *code)
{
        struct resp r;
        request(method, path, token, ctype, body, body_len, false, NULL, &r);
        if (r.status != status)
                fail_msg("%s %s: status %ld, want %ld (%s)", method, path, r.status, status,
                         r.body.data ? r.body.data : "");
        if (code) {
                assert_non_null(r.json);
                assert_false(json_object_get_boolean(cms_json_get(r.json, "success")));
                assert_string_equal(code_of(&r), code);
                assert_int_equal(json_object_get_int(cms_json_get(cms_json_get(r.json, "error"), "status")),
                                 status);
        }
        resp_done(&r);
}

static void test_routes_and_auth(void **state)
{
        struct resp r;
        request("GET", "/v1/health", NULL, NULL, NULL, -1, false, NULL, &r);
        assert_int_equal(r.status, 200);
        json_object *d = cms_json_get(r.json, "data");
        assert_true(json_object_get_boolean(cms_json_get(r.json, "success")));
        assert_string_equal(json_object_get_string(cms_json_get(d, "engine")), "down");
        resp_done(&r);

        expect("GET", "/v1/nope", "t-admin", NULL, NULL, -1, 404, "not_found");
        expect("GET", "/v1/containers", NULL, NULL, NULL, -1, 401, "unauthorized");
        expect("GET", "/v1/containers", "wrong", NULL, NULL, -1, 401, "unauthorized");
        expect("POST", "/v1/containers", "t-view", "application/json", "{}", 2, 403, "forbidden");
        expect("POST", "/v1/system/prune", "t-view", "application/json", "{}", 2, 403, "forbidden");

        request("DELETE", "/v1/health", NULL, NULL, NULL, -1, false, NULL, &r);
        assert_int_equal(r.status, 405);
        assert_string_equal(code_of(&r), "method_not_allowed");
        assert_non_null(strstr(r.headers.data, "Allow: GET"));
        resp_done(&r);

        request("GET", "/v1/auth/whoami", "t-view", NULL, NULL, -1, false, NULL, &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(json_object_get_string(cms_json_get(cms_json_get(r.json, "data"), "role")),
                            "viewer");
        resp_done(&r);

        request("GET", "/openapi.yaml", NULL, NULL, NULL, -1, false, NULL, &r);
        assert_int_equal(r.status, 200);
        assert_non_null(strstr(r.body.data, "openapi:"));
        resp_done(&r);
}

static void test_body_limits(void **state)
{
        char big[2048];
        memset(big, ' ', sizeof(big));
        big[0] = '{';
        big[sizeof(big) - 1] = '}';
        expect("POST", "/v1/containers", "t-admin", "application/json", big, sizeof(big), 413,
               "payload_too_large");
        struct resp r;
        request("POST", "/v1/containers", "t-admin", "application/json", big, sizeof(big), true,
                NULL, &r);
        assert_int_equal(r.status, 413);
        assert_string_equal(code_of(&r), "payload_too_large");
        resp_done(&r);
        expect("POST", "/v1/containers", "t-admin", "text/plain", "{}", 2, 415,
               "unsupported_media_type");
        expect("POST", "/v1/containers", "t-admin", "application/json", "{\"image\":", 9, 400,
               "bad_request");
        expect("POST", "/v1/containers", "t-admin", "application/json", "{} {}", 5, 400,
               "bad_request");
        char deep[400] = "";
        for (int i = 0; i < 100; i++)
                strcat(deep, "[");
        for (int i = 0; i < 100; i++)
                strcat(deep, "]");
        expect("POST", "/v1/containers", "t-admin", "application/json", deep, (long)strlen(deep),
               400, "bad_request");
        /* Validation happens before the engine is asked: a bad config is a 400 even now. */
        expect("POST", "/v1/containers", "t-admin", "application/json",
               "{\"image\":\"x\",\"bogus\":1}", 22, 400, "bad_request");
}

/* A chunked body that never ends: cmsd stops reading about 1 MiB past the cap and closes the
 * connection (it used to read and drop for as long as the client sent). */
static void test_endless_body_closed(void **state)
{
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        struct timeval tv = {.tv_sec = 5};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        const char *head = "POST /v1/containers HTTP/1.1\r\nHost: x\r\n"
                           "Authorization: Bearer t-admin\r\nContent-Type: application/json\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n";
        assert_true(send(fd, head, strlen(head), MSG_NOSIGNAL) > 0);
        static char chunk[8 + 65536 + 2];
        memcpy(chunk, "10000\r\n", 7);
        memset(chunk + 7, ' ', 65536);
        memcpy(chunk + 7 + 65536, "\r\n", 2);
        size_t sent = 0;
        bool closed = false;
        while (!closed && sent < (64u << 20)) {
                ssize_t w = send(fd, chunk, 7 + 65536 + 2, MSG_NOSIGNAL);
                if (w <= 0)
                        closed = true;
                else
                        sent += (size_t)w;
        }
        close(fd);
        if (!closed)
                fail_msg("cmsd read %zu bytes of an endless body over a 1k cap", sent);
        /* Closed within a few MiB: the cap, the drain allowance and the socket buffers. */
        assert_true(sent < (16u << 20));
}

static void test_url_cap(void **state)
{
        char path[9000] = "/v1/containers/";
        memset(path + strlen(path), 'a', 8500);
        path[8600] = 0;
        expect("GET", path, "t-admin", NULL, NULL, -1, 400, "bad_request");
}

static void test_engine_down(void **state)
{
        struct resp r;
        request("GET", "/v1/containers", "t-admin", NULL, NULL, -1, false, NULL, &r);
        assert_int_equal(r.status, 503);
        assert_string_equal(code_of(&r), "engine_unavailable");
        assert_non_null(strcasestr(r.headers.data, "Retry-After: "));
        resp_done(&r);
}

static void test_cors(void **state)
{
        struct resp r;
        request("OPTIONS", "/v1/containers", NULL, NULL, NULL, -1, false,
                "Origin: http://dash.example", &r);
        assert_int_equal(r.status, 204);
        assert_non_null(strstr(r.headers.data, "Access-Control-Allow-Origin: http://dash.example"));
        assert_non_null(strstr(r.headers.data, "Access-Control-Allow-Headers:"));
        resp_done(&r);
        request("GET", "/v1/health", NULL, NULL, NULL, -1, false, "Origin: http://evil.example", &r);
        assert_int_equal(r.status, 200);
        assert_null(strstr(r.headers.data, "Access-Control-Allow-Origin"));
        resp_done(&r);
        /* cors_origins ["*"] answers "*", not the caller's origin echoed back. */
        char yaml[512];
        snprintf(yaml, sizeof(yaml),
                 "listen: [\"127.0.0.1:%d\"]\nstate_dir: %s\ncors_origins: [\"*\"]\n"
                 "engine: unix:///nonexistent/cmsd-test/engine.sock\n",
                 port, state_dir_of_test);
        struct cms_config *star = NULL, *old;
        struct cms_config_error cerr = {0};
        assert_int_equal(cms_config_load_string(yaml, strlen(yaml), "star", &star, &cerr), 0);
        old = cms_manager_swap_config(mgr, star, NULL, 0);
        request("GET", "/v1/health", NULL, NULL, NULL, -1, false, "Origin: http://evil.example", &r);
        assert_non_null(strstr(r.headers.data, "Access-Control-Allow-Origin: *\r\n"));
        assert_null(strstr(r.headers.data, "evil.example"));
        assert_null(strcasestr(r.headers.data, "Vary: Origin"));
        resp_done(&r);
        cms_config_free(cms_manager_swap_config(mgr, old, NULL, 0));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_routes_and_auth), cmocka_unit_test(test_body_limits),
                cmocka_unit_test(test_url_cap),         cmocka_unit_test(test_engine_down),
                cmocka_unit_test(test_cors),            cmocka_unit_test(test_endless_body_closed),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
