/* Unit tests for daemon/sdnotify.c and the journal detection in daemon/log.c: the watchdog's
 * decisions (when a ping is due, when a stuck housekeeping thread holds it back, how long the
 * main loop sleeps) on a made-up clock, the messages sent to a NOTIFY_SOCKET bound here, and
 * JOURNAL_STREAM parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "daemon/log.h"
#include "daemon/sdnotify.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void test_setup_halves_the_period(void **state)
{
        struct cms_watchdog w;
        cms_watchdog_setup(&w, 30 * 1000000ull, 1000);
        assert_int_equal(w.interval_ms, 15000);
        assert_int_equal(w.stale_ms, 30000);
        assert_int_equal(w.last_ping_ms, 1000);
        /* Short periods (tests) keep a floor on staleness: a healthy tick can take a probe. */
        cms_watchdog_setup(&w, 1000000ull, 0);
        assert_int_equal(w.interval_ms, 500);
        assert_int_equal(w.stale_ms, CMS_WATCHDOG_MIN_STALE_MS);
        cms_watchdog_setup(&w, 0, 0);
        assert_int_equal(w.interval_ms, 0);
        assert_false(cms_watchdog_due(&w, 1000000));
        cms_watchdog_setup(&w, 1000, 0); /* 1 ms: still pings, never every 0 ms */
        assert_int_equal(w.interval_ms, 1);
}

static void test_due_and_healthy(void **state)
{
        struct cms_watchdog w;
        cms_watchdog_setup(&w, 60 * 1000000ull, 0); /* ping every 30 s, stale after 60 s */
        assert_false(cms_watchdog_due(&w, 29999));
        assert_true(cms_watchdog_due(&w, 30000));
        assert_true(cms_watchdog_healthy(&w, 30000, 0));
        assert_true(cms_watchdog_healthy(&w, 60000, 0));
        assert_false(cms_watchdog_healthy(&w, 60001, 0));
}

static void test_tick_withholds_when_stuck(void **state)
{
        struct cms_watchdog w;
        cms_watchdog_setup(&w, 40 * 1000000ull, 0); /* every 20 s, stale after 40 s */
        assert_int_equal(cms_watchdog_tick(&w, 10000, 10000), 0);
        assert_int_equal(cms_watchdog_tick(&w, 20000, 19000), 1);
        assert_int_equal(w.last_ping_ms, 20000);
        assert_false(w.withheld);
        /* The housekeeping thread last ticked at 19 s: at 60 s it is 41 s old. */
        assert_int_equal(cms_watchdog_tick(&w, 60000, 19000), -EBUSY);
        assert_true(w.withheld);
        assert_int_equal(w.last_ping_ms, 20000);
        /* It recovers: the next look pings at once. */
        assert_int_equal(cms_watchdog_tick(&w, 61000, 60500), 1);
        assert_false(w.withheld);
        assert_int_equal(w.last_ping_ms, 61000);
}

static void test_sleep(void **state)
{
        struct cms_watchdog w;
        cms_watchdog_setup(&w, 0, 0);
        assert_int_equal(cms_watchdog_sleep_ms(&w, 5, 1000), 1000);
        cms_watchdog_setup(&w, 1000000ull, 0); /* every 500 ms */
        assert_int_equal(cms_watchdog_sleep_ms(&w, 0, 1000), 500);
        assert_int_equal(cms_watchdog_sleep_ms(&w, 300, 1000), 200);
        assert_int_equal(cms_watchdog_sleep_ms(&w, 300, 100), 100);
        assert_int_equal(cms_watchdog_sleep_ms(&w, 700, 1000), 1); /* overdue: look now */
        w.withheld = true; /* overdue and held back: no spinning */
        assert_int_equal(cms_watchdog_sleep_ms(&w, 700, 1000), 125);
}

/* ---- messages on a NOTIFY_SOCKET ---- */

static int bind_notify(char *path, size_t len)
{
        snprintf(path, len, "/tmp/cmsd-unit-notify-%ld.sock", (long)getpid());
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        strcpy(sa.sun_path, path);
        unlink(path);
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        setenv("NOTIFY_SOCKET", path, 1);
        return fd;
}

static void recv_msg(int fd, char *buf, size_t len)
{
        ssize_t n = recv(fd, buf, len - 1, MSG_DONTWAIT);
        assert_true(n > 0);
        buf[n] = 0;
}

static void test_notify_messages(void **state)
{
        char path[108], buf[512];
        int fd = bind_notify(path, sizeof(path));
        assert_true(cms_notify_ready("engine up") > 0);
        recv_msg(fd, buf, sizeof(buf));
        assert_string_equal(buf, "READY=1\nSTATUS=engine up");
        assert_true(cms_notify_reloading(NULL) > 0);
        recv_msg(fd, buf, sizeof(buf));
        assert_true(!strncmp(buf, "RELOADING=1\nMONOTONIC_USEC=", 27));
        assert_null(strchr(buf + 27, '\n')); /* no STATUS line */
        assert_true(cms_notify_stopping("draining") > 0);
        recv_msg(fd, buf, sizeof(buf));
        assert_string_equal(buf, "STOPPING=1\nSTATUS=draining");
        assert_true(cms_notify_status("x") > 0);
        recv_msg(fd, buf, sizeof(buf));
        assert_string_equal(buf, "STATUS=x");

        struct cms_watchdog w;
        cms_watchdog_setup(&w, 1000000ull, 0);
        assert_int_equal(cms_watchdog_tick(&w, 100, 100), 0);
        assert_true(recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0); /* nothing sent */
        assert_int_equal(cms_watchdog_tick(&w, 500, 400), 1);
        recv_msg(fd, buf, sizeof(buf));
        assert_string_equal(buf, "WATCHDOG=1");

        unsetenv("NOTIFY_SOCKET");
        assert_int_equal(cms_notify_ready("x"), 0); /* not under systemd: a no-op */
        close(fd);
        unlink(path);
}

static void test_watchdog_env(void **state)
{
        struct cms_watchdog w;
        char pid[32];
        setenv("WATCHDOG_USEC", "4000000", 1);
        unsetenv("WATCHDOG_PID");
        cms_watchdog_init(&w, 0);
        assert_int_equal(w.interval_ms, 2000);
        snprintf(pid, sizeof(pid), "%ld", (long)getpid());
        setenv("WATCHDOG_PID", pid, 1);
        cms_watchdog_init(&w, 0);
        assert_int_equal(w.interval_ms, 2000);
        /* Meant for another process (inherited by a child): no watchdog here. */
        snprintf(pid, sizeof(pid), "%ld", (long)getpid() + 1);
        setenv("WATCHDOG_PID", pid, 1);
        cms_watchdog_init(&w, 0);
        assert_int_equal(w.interval_ms, 0);
        unsetenv("WATCHDOG_PID");
        unsetenv("WATCHDOG_USEC");
        cms_watchdog_init(&w, 0);
        assert_int_equal(w.interval_ms, 0);
}

static void test_journal_stream(void **state)
{
        assert_true(cms_log_journal_stream_matches("8:12345", 8, 12345));
        assert_true(cms_log_journal_stream_matches("0:1", 0, 1));
        assert_false(cms_log_journal_stream_matches("8:12345", 8, 12346));
        assert_false(cms_log_journal_stream_matches("9:12345", 8, 12345));
        assert_false(cms_log_journal_stream_matches(NULL, 8, 12345));
        assert_false(cms_log_journal_stream_matches("", 8, 12345));
        assert_false(cms_log_journal_stream_matches("8", 8, 12345));
        assert_false(cms_log_journal_stream_matches("8:", 8, 0));
        assert_false(cms_log_journal_stream_matches(":12345", 0, 12345));
        assert_false(cms_log_journal_stream_matches("8:12345x", 8, 12345));
        assert_false(cms_log_journal_stream_matches("8:-1", 8, (ino_t)-1));
        assert_false(cms_log_journal_stream_matches("-8:1", (dev_t)-8, 1));
        assert_false(cms_log_journal_stream_matches("99999999999999999999999:1", 8, 1));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_setup_halves_the_period),
                cmocka_unit_test(test_due_and_healthy),
                cmocka_unit_test(test_tick_withholds_when_stuck),
                cmocka_unit_test(test_sleep),
                cmocka_unit_test(test_notify_messages),
                cmocka_unit_test(test_watchdog_env),
                cmocka_unit_test(test_journal_stream),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
