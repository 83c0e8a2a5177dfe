/* Unit test for the engine client's watch of quiet streams (issue #15): a stream's bytes cannot
 * tell a quiet engine from a hung one, so a stream quiet for the call timeout asks the engine's
 * /_ping beside it. A small engine on a unix socket answers /_ping and /version, and gives an
 * /events request its reply header and one event, then nothing more. While /_ping is answered the
 * quiet stream stays open (its caller ends it); once the engine hangs for good after the event,
 * the stream ends with 504 within about two timeouts - before, it stayed open for ever. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/engine/engine.h"

#define TIMEOUT_MS 500L

static char dir[64], sock[108];
static int lfd = -1;
static pthread_t acceptor;
static atomic_bool hang_after_event; /* the engine hangs once it sent the event */
static atomic_bool hung;
static atomic_int pings;

static void send_str(int fd, const char *s)
{
        size_t n = strlen(s), off = 0;
        while (off < n) {
                ssize_t k = send(fd, s + off, n - off, MSG_NOSIGNAL);
                if (k <= 0)
                        return;
                off += (size_t)k;
        }
}

static void reply(int fd, const char *body)
{
        char head[256];
        snprintf(head, sizeof(head),
                 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nApi-Version: 1.41\r\n"
                 "Content-Length: %zu\r\n\r\n",
                 strlen(body));
        send_str(fd, head);
        send_str(fd, body);
}

/* One connection: answers request after request until it meets one to stay silent on. */
static void *conn_main(void *arg)
{
        int fd = (int)(intptr_t)arg;
        char buf[4096];
        size_t len = 0;
        for (;;) {
                ssize_t k = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
                if (k <= 0)
                        break;
                len += (size_t)k;
                buf[len] = 0;
                char *end = strstr(buf, "\r\n\r\n");
                if (!end)
                        continue;
                bool is_ping = strstr(buf, "/_ping") && strstr(buf, "/_ping") < end;
                bool is_events = strstr(buf, "/events") && strstr(buf, "/events") < end;
                len = 0;
                if (atomic_load(&hung)) {
                        continue; /* reads on, answers nothing */
                } else if (is_ping) {
                        atomic_fetch_add(&pings, 1);
                        reply(fd, "OK");
                } else if (is_events) {
                        send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                     "Transfer-Encoding: chunked\r\n\r\n");
                        send_str(fd, "f\r\n{\"Action\":\"x\"}\n\r\n");
                        if (atomic_load(&hang_after_event))
                                atomic_store(&hung, true);
                } else {
                        reply(fd, "{\"Version\":\"20.10.24\",\"ApiVersion\":\"1.41\"}");
                }
        }
        close(fd);
        return NULL;
}

static void *accept_main(void *arg)
{
        (void)arg;
        for (;;) {
                int fd = accept(lfd, NULL, NULL);
                if (fd < 0)
                        return NULL;
                pthread_t t;
                if (pthread_create(&t, NULL, conn_main, (void *)(intptr_t)fd) == 0)
                        pthread_detach(t);
                else
                        close(fd);
        }
}

static int setup(void **state)
{
        (void)state;
        snprintf(dir, sizeof(dir), "/tmp/cmsd-unit-quiet.XXXXXX");
        assert_non_null(mkdtemp(dir));
        snprintf(sock, sizeof(sock), "%s/e.sock", dir);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
        lfd = socket(AF_UNIX, SOCK_STREAM, 0);
        assert_true(lfd >= 0);
        assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(listen(lfd, 64), 0);
        atomic_store(&hung, false);
        atomic_store(&pings, 0);
        assert_int_equal(pthread_create(&acceptor, NULL, accept_main, NULL), 0);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        shutdown(lfd, SHUT_RDWR); /* ends accept() */
        pthread_join(acceptor, NULL);
        close(lfd);
        unlink(sock);
        rmdir(dir);
        return 0;
}

struct seen {
        int events;
        int64_t stop_at; /* the caller ends the stream then */
};

static int on_data(const char *d, size_t n, void *ud)
{
        struct seen *s = ud;
        for (size_t i = 0; i < n; i++)
                s->events += d[i] == '\n';
        return 0;
}

static int should_stop(void *ud)
{
        struct seen *s = ud;
        return cms_now_ms() >= s->stop_at;
}

static int run_stream(struct seen *s, int64_t *ms, struct cms_error *err)
{
        char url[160];
        snprintf(url, sizeof(url), "unix://%s", sock);
        struct cms_engine *e = NULL;
        assert_int_equal(cms_engine_new(url, TIMEOUT_MS, &e, err), 0);
        struct cms_engine_req req = {.path = "/events", .timeout_ms = -1};
        int64_t t0 = cms_now_ms();
        int r = cms_engine_stream(e, &req, on_data, should_stop, s, err);
        *ms = cms_now_ms() - t0;
        cms_engine_free(e);
        return r;
}

/* An engine that answers /_ping: a stream quiet for several timeouts stays open. */
static void test_quiet_stream_stays_open(void **state)
{
        (void)state;
        atomic_store(&hang_after_event, false);
        struct seen s = {.stop_at = cms_now_ms() + 5 * TIMEOUT_MS};
        struct cms_error err = {0};
        int64_t ms;
        int r = run_stream(&s, &ms, &err);
        if (r != 0)
                fail_msg("quiet stream ended with %d (%d %s) after %lld ms", r, err.status,
                         err.message, (long long)ms);
        assert_int_equal(s.events, 1);
        if (ms < 5 * TIMEOUT_MS - 50)
                fail_msg("quiet stream ended after %lld ms, before its caller ended it",
                         (long long)ms);
        /* Asked while quiet (not only the probe's), about once a timeout. */
        if (atomic_load(&pings) < 3)
                fail_msg("only %d pings in %lld ms of quiet", atomic_load(&pings), (long long)ms);
}

/* An engine that hangs after the event: the stream ends with 504 within about two timeouts. */
static void test_hung_engine_ends_stream(void **state)
{
        (void)state;
        atomic_store(&hang_after_event, true);
        struct seen s = {.stop_at = cms_now_ms() + 20 * TIMEOUT_MS};
        struct cms_error err = {0};
        int64_t ms;
        int r = run_stream(&s, &ms, &err);
        assert_true(r < 0);
        assert_int_equal(s.events, 1);
        assert_int_equal(err.status, 504);
        assert_non_null(strstr(err.message, "engine stopped answering"));
        if (ms < 2 * TIMEOUT_MS - 50 || ms > 2 * TIMEOUT_MS + 1000)
                fail_msg("hung engine: stream ended after %lld ms (timeout %ld)", (long long)ms,
                         TIMEOUT_MS);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_quiet_stream_stays_open, setup, teardown),
            cmocka_unit_test_setup_teardown(test_hung_engine_ends_stream, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
