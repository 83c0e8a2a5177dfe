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

enum fake_mode {
        FAKE_DOCKER,
        FAKE_DOCKER_OLD,
        FAKE_DOCKER_NEW,
        FAKE_PODMAN,
        FAKE_PODMAN_NOHDR,
        FAKE_PING_FAILS
};

#define MAX_CONNS 256

struct fake {
        char dir[64], path[108];
        int lfd;
        pthread_t accept_thr, conns[MAX_CONNS];
        int nconns;
        atomic_int stop, mode, pings;
};

static struct fake *srv; /* the group's server */

static void send_str(int fd, const char *s, size_t n)
{
        while (n) {
                ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
                if (w <= 0)
                        return;
                s += w;
                n -= (size_t)w;
        }
}

static void reply(int fd, int status, const char *reason, const char *extra, const char *body)
{
        char head[512];
        int n = snprintf(head, sizeof(head),
                         "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n%s"
                         "Content-Length: %zu\r\n\r\n",
                         status, reason, extra ? extra : "", strlen(body));
        send_str(fd, head, (size_t)n);
        send_str(fd, body, strlen(body));
}

static void wait_stop(struct fake *f, int fd)
{
        while (!atomic_load(&f->stop))
                usleep(20000);
}

static const char *version_doc(int mode)
{
        switch (mode) {
        case FAKE_DOCKER_OLD:
                return "{\"Version\":\"19.03.1\",\"ApiVersion\":\"1.9\",\"Components\":[]}";
        case FAKE_DOCKER_NEW:
                return "{\"Version\":\"24.0.7\",\"ApiVersion\":\"1.43\"}";
        case FAKE_PODMAN:
        case FAKE_PODMAN_NOHDR:
                return "{\"Version\":\"4.3.1\",\"ApiVersion\":\"1.41\",\"Components\":["
                       "{\"Name\":\"Conmon\"},{\"Name\":\"Podman Engine\",\"Version\":\"4.3.1\"}]}";
        default:
                return "{\"Version\":\"20.10.24\",\"ApiVersion\":\"1.41\",\"Components\":["
                       "{\"Name\":\"Engine\",\"Version\":\"20.10.24\"}]}";
        }
}

/* 101, then every byte received comes back as a stdout frame; closes after the client's EOF. */
static void hijack_echo(int fd, const char *early, size_t n)
{
        const char *h = "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream"
                        "\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n";
        send_str(fd, h, strlen(h));
        char buf[8 + 65536] = {1};
        ssize_t r = (ssize_t)(n < 65536 ? n : 65536);
        memcpy(buf + 8, early, (size_t)r);
        do {
                uint32_t be = htonl((uint32_t)r);
                memcpy(buf + 4, &be, 4);
                if (r > 0)
                        send_str(fd, buf, (size_t)r + 8);
        } while ((r = recv(fd, buf + 8, 65536, 0)) > 0);
        send_str(fd,
                 "\x02\0\0\0\0\0\0\x04"
                 "done",
                 12);
}

struct request {
        char method[16], path[512], ct[128];
        size_t head_len, body_len;
};

#define OK_BODY "{\"ok\":true}"
static const struct {
        const char *path;
        int status; /* 0: body is the whole raw reply */
        const char *body;
} canned[] = {
    {"/v1.41/containers/x/json", 404, "{\"message\":\"No such container: x\"}"},
    {"/v1.41/boom", 500, "{\"message\":\"driver failed\"}"},
    {"/v1.41/conflict", 409, "{\"message\":\"name is in use\"}"},
    {"/v1.41/bad", 400, "plain text complaint\n"},
    {"/v1.41/empty500", 500, ""},
    {"/v1.41/gone", 503, "{\"message\":\"busy\"}"},
    {"/v1.41/notjson", 200, "hello"},
    {"/v4.0.0/libpod/info", 200, "{\"libpod\":true}"},
    {"/verbatim", 200, OK_BODY},
    {"/v1.9/old", 200, OK_BODY},
    {"/v1.41/ok", 200, OK_BODY},
    {"/v1.41/notmod", 0, "HTTP/1.1 304 Not Modified\r\n\r\n"},
    {"/v1.41/nocontent", 0, "HTTP/1.1 204 No Content\r\n\r\n"},
    {"/v1.41/hijack404chunked", 0,
     "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
     "c\r\n{\"message\":\"\r\n13\r\nno such exec: e1\"}\n\r\n0\r\n\r\n"},
};

static void ping(struct fake *f, int fd, int mode)
{
        char extra[128];
        atomic_fetch_add(&f->pings, 1);
        if (mode == FAKE_PING_FAILS) {
                reply(fd, 500, "Internal Server Error", NULL, "{}");
                return;
        }
        snprintf(extra, sizeof(extra), "Api-Version: %s\r\n%s",
                 mode == FAKE_DOCKER_OLD ? "1.9" : "1.41",
                 mode == FAKE_PODMAN ? "Libpod-Api-Version: 4.3.1\r\n" : "");
        reply(fd, 200, "OK", extra, "OK");
}

/* Handles one request; returns false when the connection must close. */
static bool route(struct fake *f, int fd, const struct request *rq, const char *body,
                  const char *rest, size_t rest_len)
{
        const char *path = rq->path;
        int mode = atomic_load(&f->mode);
        for (size_t i = 0; i < ELEMENTSOF(canned); i++) {
                if (strcmp(path, canned[i].path))
                        continue;
                if (canned[i].status)
                        reply(fd, canned[i].status, "Reason", NULL, canned[i].body);
                else
                        send_str(fd, canned[i].body, strlen(canned[i].body));
                return true;
        }
        if (!strcmp(path, "/_ping")) {
                ping(f, fd, mode);
        } else if (!strcmp(path, "/version")) {
                reply(fd, 200, "OK", NULL, version_doc(mode));
        } else if (!strcmp(path, "/v1.41/big")) {
                char *b = calloc(1, 100001);
                memset(b, 'a', 100000);
                reply(fd, 200, "OK", NULL, b);
                free(b);
        } else if (!strcmp(path, "/v1.41/echo")) {
                json_object *j = json_object_new_object();
                json_object_object_add(j, "method", json_object_new_string(rq->method));
                json_object_object_add(j, "body", json_object_new_string(body));
                json_object_object_add(j, "ct", json_object_new_string(rq->ct));
                reply(fd, 200, "OK", NULL, json_object_to_json_string(j));
                json_object_put(j);
        } else if (!strcmp(path, "/v1.41/stream")) {
                const char *h = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n";
                send_str(fd, h, strlen(h));
                wait_stop(f, fd);
                return false;
        } else if (!strcmp(path, "/v1.41/hijack")) {
                hijack_echo(fd, rest, rest_len);
                return false;
        } else if (!strcmp(path, "/v1.41/hang")) {
                wait_stop(f, fd);
                return false;
        } else {
                reply(fd, 404, "Not Found", NULL, "{\"message\":\"page not found\"}");
        }
        return true;
}

/* Reads one request (head + Content-Length body); false at EOF or on stop. */
static bool read_request(struct fake *f, int fd, char *buf, size_t cap, size_t *have,
                         struct request *rq)
{
        for (;;) {
                buf[*have] = 0;
                char *end = strstr(buf, "\r\n\r\n");
                if (end) {
                        rq->head_len = (size_t)(end - buf) + 4;
                        const char *cl = strcasestr(buf, "\r\nContent-Length:");
                        rq->body_len = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
                        const char *ct = strcasestr(buf, "\r\nContent-Type:");
                        rq->ct[0] = 0;
                        if (ct && ct < end)
                                sscanf(ct + 15, " %127[^\r]", rq->ct);
                        if (*have >= rq->head_len + rq->body_len)
                                return sscanf(buf, "%15s %511s", rq->method, rq->path) == 2;
                }
                struct pollfd p = {.fd = fd, .events = POLLIN};
                while (poll(&p, 1, 50) == 0)
                        if (atomic_load(&f->stop))
                                return false;
                ssize_t n = *have < cap - 1 ? recv(fd, buf + *have, cap - 1 - *have, 0) : 0;
                if (n <= 0 || atomic_load(&f->stop))
                        return false;
                *have += (size_t)n;
        }
}

static void *conn_main(void *arg)
{
        int fd = (int)(intptr_t)((void **)arg)[1];
        struct fake *f = ((void **)arg)[0];
        free(arg);
        const size_t cap = 256 * 1024;
        char *buf = malloc(cap);
        size_t have = 0;
        struct request rq;
        while (buf && read_request(f, fd, buf, cap, &have, &rq)) {
                char *body = strndup(buf + rq.head_len, rq.body_len);
                size_t used = rq.head_len + rq.body_len;
                bool keep = route(f, fd, &rq, body, buf + used, have - used);
                free(body);
                if (!keep)
                        break;
                memmove(buf, buf + used, have - used);
                have -= used;
        }
        free(buf);
        close(fd);
        return NULL;
}

static void *accept_main(void *arg)
{
        struct fake *f = arg;
        while (!atomic_load(&f->stop)) {
                struct pollfd p = {.fd = f->lfd, .events = POLLIN};
                if (poll(&p, 1, 50) <= 0)
                        continue;
                int fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0)
                        continue;
                void **a = malloc(2 * sizeof(void *));
                a[0] = f;
                a[1] = (void *)(intptr_t)fd;
                if (f->nconns == MAX_CONNS ||
                    pthread_create(&f->conns[f->nconns], NULL, conn_main, a) != 0) {
                        close(fd);
                        free(a);
                        continue;
                }
                f->nconns++;
        }
        return NULL;
}

static struct fake *fake_start(const char *dir, int mode)
{
        struct fake *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        if (dir) {
                snprintf(f->dir, sizeof(f->dir), "%s", dir);
        } else {
                snprintf(f->dir, sizeof(f->dir), "/tmp/cmsd-engine-test-XXXXXX");
                assert_non_null(mkdtemp(f->dir));
        }
        snprintf(f->path, sizeof(f->path), "%s/engine.sock", f->dir);
        atomic_store(&f->mode, mode);
        f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
        assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(f->lfd, 64), 0);
        assert_int_equal(pthread_create(&f->accept_thr, NULL, accept_main, f), 0);
        return f;
}

static void fake_stop(struct fake *f)
{
        atomic_store(&f->stop, 1);
        pthread_join(f->accept_thr, NULL);
        for (int i = 0; i < f->nconns; i++)
                pthread_join(f->conns[i], NULL);
        close(f->lfd);
        unlink(f->path);
        rmdir(f->dir);
        free(f);
}

static struct cms_engine *engine_for(struct fake *f, long timeout_ms)
{
        _cleanup_free_ char *url = cms_strdup_printf("unix://%s", f->path);
        struct cms_engine *e = NULL;
        struct cms_error err = {0};
        assert_int_equal(cms_engine_new(url, timeout_ms, &e, &err), 0);
        return e;
}

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
