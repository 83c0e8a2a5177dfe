/* Unit tests for the engine stream demultiplexer: frames split at every byte boundary, several
 * frames per feed, empty frames, malformed headers, raw (TTY) mode and input ending mid-frame. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "daemon/engine/engine.h"

struct sink {
        struct cms_buf out, err;
        int calls;
        int stop_after; /* return 1 from the callback after this many calls (0: never) */
        int bad_stream;
};

static int collect(int stream, const char *data, size_t len, void *ud)
{
        struct sink *s = ud;
        s->calls++;
        if (stream == CMS_STREAM_STDOUT)
                assert_int_equal(cms_buf_append(&s->out, data, len), 0);
        else if (stream == CMS_STREAM_STDERR)
                assert_int_equal(cms_buf_append(&s->err, data, len), 0);
        else
                s->bad_stream++;
        return s->stop_after && s->calls >= s->stop_after ? 1 : 0;
}

static void sink_init(struct sink *s)
{
        memset(s, 0, sizeof(*s));
        cms_buf_init(&s->out, 1 << 20);
        cms_buf_init(&s->err, 1 << 20);
}

static void sink_free(struct sink *s)
{
        cms_buf_free(&s->out);
        cms_buf_free(&s->err);
}

static size_t put_frame(char *p, int stream, const char *payload, uint32_t len)
{
        p[0] = (char)stream;
        p[1] = p[2] = p[3] = 0;
        p[4] = (char)(len >> 24);
        p[5] = (char)(len >> 16);
        p[6] = (char)(len >> 8);
        p[7] = (char)len;
        memcpy(p + 8, payload, len);
        return 8 + len;
}

/* stdout "hello\n", an empty stderr frame, stderr "err\n", stdout "world" */
static size_t sample(char *buf)
{
        size_t n = 0;
        n += put_frame(buf + n, 1, "hello\n", 6);
        n += put_frame(buf + n, 2, "", 0);
        n += put_frame(buf + n, 2, "err\n", 4);
        n += put_frame(buf + n, 1, "world", 5);
        return n;
}

static void check_sample(struct sink *s)
{
        assert_int_equal(s->out.len, 11);
        assert_memory_equal(s->out.data, "hello\nworld", 11);
        assert_int_equal(s->err.len, 4);
        assert_memory_equal(s->err.data, "err\n", 4);
        assert_int_equal(s->bad_stream, 0);
}

static void test_whole(void **state)
{
        char buf[128];
        size_t n = sample(buf);
        struct sink s;
        sink_init(&s);
        struct cms_demux d;
        cms_demux_init(&d, false);
        assert_int_equal(cms_demux_feed(&d, buf, n, collect, &s), 0);
        assert_int_equal(cms_demux_finish(&d), 0);
        check_sample(&s);
        assert_int_equal(s.calls, 3); /* the empty frame gives no callback */
        sink_free(&s);
}

static void test_split_every_boundary(void **state)
{
        char buf[128];
        size_t n = sample(buf);
        for (size_t cut = 0; cut <= n; cut++) {
                struct sink s;
                sink_init(&s);
                struct cms_demux d;
                cms_demux_init(&d, false);
                assert_int_equal(cms_demux_feed(&d, buf, cut, collect, &s), 0);
                assert_int_equal(cms_demux_feed(&d, buf + cut, n - cut, collect, &s), 0);
                assert_int_equal(cms_demux_finish(&d), 0);
                check_sample(&s);
                sink_free(&s);
        }
}

static void test_split_two_cuts(void **state)
{
        char buf[128];
        size_t n = sample(buf);
        for (size_t a = 0; a <= n; a++)
                for (size_t b = a; b <= n; b++) {
                        struct sink s;
                        sink_init(&s);
                        struct cms_demux d;
                        cms_demux_init(&d, false);
                        assert_int_equal(cms_demux_feed(&d, buf, a, collect, &s), 0);
                        assert_int_equal(cms_demux_feed(&d, buf + a, b - a, collect, &s), 0);
                        assert_int_equal(cms_demux_feed(&d, buf + b, n - b, collect, &s), 0);
                        assert_int_equal(cms_demux_finish(&d), 0);
                        check_sample(&s);
                        sink_free(&s);
                }
}

static void test_byte_by_byte(void **state)
{
        char buf[128];
        size_t n = sample(buf);
        struct sink s;
        sink_init(&s);
        struct cms_demux d;
        cms_demux_init(&d, false);
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(cms_demux_feed(&d, buf + i, 1, collect, &s), 0);
                if (i + 1 < n)
                        assert_int_equal(cms_demux_finish(&d) == 0,
                                         i + 1 == 14 || i + 1 == 22 || i + 1 == 34);
        }
        assert_int_equal(cms_demux_finish(&d), 0);
        check_sample(&s);
        sink_free(&s);
}

static void test_zero_length_only(void **state)
{
        char buf[32];
        size_t n = put_frame(buf, 1, "", 0);
        n += put_frame(buf + n, 2, "", 0);
        struct sink s;
        sink_init(&s);
        struct cms_demux d;
        cms_demux_init(&d, false);
        assert_int_equal(cms_demux_feed(&d, buf, n, collect, &s), 0);
        assert_int_equal(cms_demux_finish(&d), 0);
        assert_int_equal(s.calls, 0);
        assert_int_equal(cms_demux_feed(&d, buf, 0, collect, &s), 0);
        sink_free(&s);
}

static void test_malformed_header(void **state)
{
        char buf[32];
        size_t n = put_frame(buf, 1, "ok", 2);
        n += put_frame(buf + n, 3, "xx", 2);
        struct sink s;
        sink_init(&s);
        struct cms_demux d;
        cms_demux_init(&d, false);
        assert_int_equal(cms_demux_feed(&d, buf, n, collect, &s), -EBADMSG);
        assert_int_equal(s.out.len, 2); /* what came before the bad header was delivered */
        sink_free(&s);

        /* Raw text fed to a multiplexed demuxer ("hello..." starts with 0x68). */
        sink_init(&s);
        cms_demux_init(&d, false);
        assert_int_equal(cms_demux_feed(&d, "hello world", 11, collect, &s), -EBADMSG);
        assert_int_equal(s.calls, 0);
        sink_free(&s);
}

static void test_stdin_stream_accepted(void **state)
{
        char buf[32];
        size_t n = put_frame(buf, 0, "in", 2);
        struct sink s;
        sink_init(&s);
        struct cms_demux d;
        cms_demux_init(&d, false);
        assert_int_equal(cms_demux_feed(&d, buf, n, collect, &s), 0);
        assert_int_equal(s.bad_stream, 1); /* stream 0 is valid; it is handed over as such */
        sink_free(&s);
}

static void test_raw(void **state)
{
        char buf[128];
        size_t n = sample(buf); /* in raw mode even frame-like bytes are plain stdout */
        struct sink s;
        sink_init(&s);
        struct cms_demux d;
        cms_demux_init(&d, true);
        assert_int_equal(cms_demux_feed(&d, buf, 5, collect, &s), 0);
        assert_int_equal(cms_demux_feed(&d, buf + 5, 0, collect, &s), 0);
        assert_int_equal(cms_demux_feed(&d, buf + 5, n - 5, collect, &s), 0);
        assert_int_equal(cms_demux_finish(&d), 0);
        assert_int_equal(s.out.len, n);
        assert_memory_equal(s.out.data, buf, n);
        assert_int_equal(s.err.len, 0);
        assert_int_equal(s.calls, 2);
        sink_free(&s);
}

static void test_finish_inside_frame(void **state)
{
        char buf[32];
        size_t n = put_frame(buf, 1, "abcdef", 6);
        struct cms_demux d;
        struct sink s;
        /* Ending inside the header, inside the payload, or right after a header. */
        size_t cuts[] = {1, 7, 8, 10, n - 1};
        for (size_t i = 0; i < ELEMENTSOF(cuts); i++) {
                sink_init(&s);
                cms_demux_init(&d, false);
                assert_int_equal(cms_demux_feed(&d, buf, cuts[i], collect, &s), 0);
                assert_int_equal(cms_demux_finish(&d), -EBADMSG);
                sink_free(&s);
        }
        cms_demux_init(&d, false);
        assert_int_equal(cms_demux_finish(&d), 0); /* nothing fed at all */
}

static void test_callback_stops(void **state)
{
        char buf[128];
        size_t n = sample(buf);
        struct sink s;
        sink_init(&s);
        s.stop_after = 2;
        struct cms_demux d;
        cms_demux_init(&d, false);
        assert_int_equal(cms_demux_feed(&d, buf, n, collect, &s), 1);
        assert_int_equal(s.calls, 2);
        assert_int_equal(s.out.len, 6);
        assert_int_equal(s.err.len, 4);
        sink_free(&s);
}

static void test_large_frame(void **state)
{
        /* A frame longer than any single feed, with a size using all four length bytes. */
        size_t len = (1 << 24) + 3;
        char *buf = malloc(len + 8);
        assert_non_null(buf);
        memset(buf + 8, 'x', len);
        put_frame(buf, 2, buf + 8, (uint32_t)len);
        struct sink s;
        sink_init(&s);
        s.err.max = len;
        struct cms_demux d;
        cms_demux_init(&d, false);
        for (size_t off = 0; off < len + 8; off += 65536) {
                size_t k = len + 8 - off < 65536 ? len + 8 - off : 65536;
                assert_int_equal(cms_demux_feed(&d, buf + off, k, collect, &s), 0);
        }
        assert_int_equal(cms_demux_finish(&d), 0);
        assert_int_equal(s.err.len, len);
        free(buf);
        sink_free(&s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_whole),
            cmocka_unit_test(test_split_every_boundary),
            cmocka_unit_test(test_split_two_cuts),
            cmocka_unit_test(test_byte_by_byte),
            cmocka_unit_test(test_zero_length_only),
            cmocka_unit_test(test_malformed_header),
            cmocka_unit_test(test_stdin_stream_accepted),
            cmocka_unit_test(test_raw),
            cmocka_unit_test(test_finish_inside_frame),
            cmocka_unit_test(test_callback_stops),
            cmocka_unit_test(test_large_frame),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
