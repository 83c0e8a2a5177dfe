/* A tiny fake Docker/Podman HTTP server on a temporary unix socket, for the engine client's unit
 * tests: fixed replies per path, a hijack echo, a server that never answers. Included by
 * test_engine.c only (static functions). */
#pragma once

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
