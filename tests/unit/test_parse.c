/* Unit tests for the value parsers of daemon/util.c that config, models and query strings share:
 * integers, booleans, Go-style durations and sizes (and their JSON forms). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "daemon/util.h"

#define KIB 1024LL
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)
#define TIB (1024 * GIB)

static void test_int(void **state)
{
        static const struct {
                const char *in;
                int64_t min, max;
                int r;
                int64_t v;
        } cases[] = {
            {"0", 0, 10, 0, 0},
            {"10", 0, 10, 0, 10},
            {"-5", -5, 5, 0, -5},
            {"05", 0, 10, 0, 5},
            {"9223372036854775807", 0, INT64_MAX, 0, INT64_MAX},
            {"-9223372036854775808", INT64_MIN, 0, 0, INT64_MIN},
            {"11", 0, 10, -ERANGE, 0},
            {"-6", -5, 5, -ERANGE, 0},
            {"", 0, 10, -EINVAL, 0},
            {" 5", 0, 10, -EINVAL, 0},
            {"5 ", 0, 10, -EINVAL, 0},
            {"0x10", 0, 100, -EINVAL, 0},
            {"1.0", 0, 10, -EINVAL, 0},
            {"1e3", 0, 10000, -EINVAL, 0},
            {"5a", 0, 10, -EINVAL, 0},
            {"-", 0, 10, -EINVAL, 0},
            {"abc", 0, 10, -EINVAL, 0},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int64_t v = 4242;
                int r = cms_parse_int(cases[i].in, cases[i].min, cases[i].max, &v);
                if (r != cases[i].r)
                        fail_msg("cms_parse_int(\"%s\") = %d, want %d", cases[i].in, r, cases[i].r);
                assert_int_equal(v, r == 0 ? cases[i].v : 4242); /* untouched on error */
        }
        int64_t v;
        assert_int_equal(cms_parse_int(NULL, 0, 1, &v), -EINVAL);
}

static void test_bool(void **state)
{
        static const char *const yes[] = {"1", "true", "TRUE", "True", "yes", "YES"};
        static const char *const no[] = {"0", "false", "FALSE", "no", "No"};
        static const char *const bad[] = {"",      "2",     "on",    "off", "y", "n",
                                          "truex", " true", "true ", "-1",  "t"};
        bool b;
        for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
                b = false;
                assert_int_equal(cms_parse_bool(yes[i], &b), 0);
                assert_true(b);
        }
        for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
                b = true;
                assert_int_equal(cms_parse_bool(no[i], &b), 0);
                assert_false(b);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                b = true;
                if (cms_parse_bool(bad[i], &b) != -EINVAL)
                        fail_msg("cms_parse_bool(\"%s\") accepted", bad[i]);
                assert_true(b);
        }
        assert_int_equal(cms_parse_bool(NULL, &b), -EINVAL);
}

static void test_duration(void **state)
{
        static const struct {
                const char *in;
                int64_t ms;
        } good[] = {
            {"0", 0},
            {"30", 30000},
            {"30s", 30000},
            {"1m30s", 90000},
            {"500ms", 500},
            {"2h", 7200000},
            {"1.5h", 5400000},
            {"1h2m3s4ms", 3723004},
            {".5s", 500},
            {"1.s", 1000},
            {"0s", 0},
            {"1h1h", 7200000},
            {"1500us", 2},
            {"1500µs", 2},
            {"2000000ns", 2},
            {"1.5ms", 2},
            {"168h", 604800000},
            {"2500000000h", 9000000000000000LL},
        };
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                int64_t v = -1;
                int r = cms_parse_duration_ms(good[i].in, &v);
                if (r != 0 || v != good[i].ms)
                        fail_msg("cms_parse_duration_ms(\"%s\") = %d, %" PRId64 "; want %" PRId64,
                                 good[i].in, r, v, good[i].ms);
        }
        static const char *const bad[] = {
            "",    "s",     "ms",     "h1", "1x",  "1.5",  "-1s", "-1",  "1 s",   " 1s", "1s ",
            "1s2", "1..5s", "1.5.5s", "1d", "nan", "infs", "1S",  "+5s", "1h-1m", ".",   ".s"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int64_t v = 4242;
                if (cms_parse_duration_ms(bad[i], &v) != -EINVAL)
                        fail_msg("cms_parse_duration_ms(\"%s\") accepted (%" PRId64 ")", bad[i], v);
                assert_int_equal(v, 4242);
        }
        int64_t v;
        assert_int_equal(cms_parse_duration_ms(NULL, &v), -EINVAL);
        assert_int_equal(cms_parse_duration_ms("2600000000h", &v), -ERANGE);
        assert_int_equal(cms_parse_duration_ms("99999999999999999999s", &v), -ERANGE);
}

static void test_size(void **state)
{
        static const struct {
                const char *in;
                int64_t v;
        } good[] = {
            {"0", 0},
            {"512", 512},
            {"1b", 1},
            {"1B", 1},
            {"64k", 64 * KIB},
            {"64K", 64 * KIB},
            {"512m", 512 * MIB},
            {"512mb", 512 * MIB},
            {"512MB", 512 * MIB},
            {"512MiB", 512 * MIB},
            {"5ki", 5 * KIB},
            {"2g", 2 * GIB},
            {"2G", 2 * GIB},
            {"1.5g", 3 * GIB / 2},
            {".5k", 512},
            {"1t", TIB},
            {"9223372036854775807", INT64_MAX},
        };
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                int64_t v = -1;
                int r = cms_parse_size(good[i].in, &v);
                if (r != 0 || v != good[i].v)
                        fail_msg("cms_parse_size(\"%s\") = %d, %" PRId64 "; want %" PRId64,
                                 good[i].in, r, v, good[i].v);
        }
        static const char *const bad[] = {"",     "k",   "m",   "-5",    "-5m", "+5m",
                                          "5kk",  "1p",  "5m ", "5 m",   "abc", "nanm",
                                          "infm", "1.5", "5bb", "5mib5", "m5",  "1,5g"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int64_t v = 4242;
                if (cms_parse_size(bad[i], &v) != -EINVAL)
                        fail_msg("cms_parse_size(\"%s\") accepted (%" PRId64 ")", bad[i], v);
                assert_int_equal(v, 4242);
        }
        int64_t v;
        assert_int_equal(cms_parse_size(NULL, &v), -EINVAL);
        assert_int_equal(cms_parse_size("8388608t", &v), -ERANGE);
}

static void test_json_forms(void **state)
{
        int64_t v;
        json_object *o = json_object_new_int64(30);
        assert_int_equal(cms_json_duration_ms(o, &v), 0);
        assert_int_equal(v, 30000);
        assert_int_equal(cms_json_size(o, &v), 0);
        assert_int_equal(v, 30);
        json_object_put(o);
        o = json_object_new_int64(-1);
        assert_int_equal(cms_json_duration_ms(o, &v), -ERANGE);
        assert_int_equal(cms_json_size(o, &v), -ERANGE);
        json_object_put(o);
        o = json_object_new_string("1m30s");
        assert_int_equal(cms_json_duration_ms(o, &v), 0);
        assert_int_equal(v, 90000);
        json_object_put(o);
        o = json_object_new_string("2g");
        assert_int_equal(cms_json_size(o, &v), 0);
        assert_int_equal(v, 2 * GIB);
        assert_int_equal(cms_json_duration_ms(o, &v), -EINVAL);
        json_object_put(o);
        o = json_object_new_double(1.5);
        assert_int_equal(cms_json_duration_ms(o, &v), -EINVAL);
        assert_int_equal(cms_json_size(o, &v), -EINVAL);
        json_object_put(o);
        o = json_object_new_boolean(1);
        assert_int_equal(cms_json_size(o, &v), -EINVAL);
        json_object_put(o);
}

static void test_format_duration(void **state)
{
        static const struct {
                int64_t ms;
                const char *s;
        } cases[] = {
            {0, "0s"},           {1, "1ms"},
            {1500, "1500ms"},    {1000, "1s"},
            {59000, "59s"},      {60000, "1m0s"},
            {90000, "1m30s"},    {3600000, "1h0m0s"},
            {3661000, "1h1m1s"}, {604800000, "168h0m0s"},
        };
        char buf[32];
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int64_t back;
                cms_format_duration(cases[i].ms, buf, sizeof(buf));
                assert_string_equal(buf, cases[i].s);
                /* what is printed parses back to the same value */
                assert_int_equal(cms_parse_duration_ms(buf, &back), 0);
                assert_int_equal(back, cases[i].ms);
        }
}

/* Inputs that util.c accepts today although they are not the documented syntax (C float syntax
 * leaking through strtod, a '+' sign, leading blanks) or that misreport an overflow. */
static void test_strict_syntax(void **state)
{
        static const char *const bad_durations[] = {"1e3s", "0x10s", "1E1s", "+5"};
        static const char *const bad_sizes[] = {" 5m", "\t5m", "0x10m", "1e3k", "+5", "1.5b"};
        static const char *const bad_ints[] = {"+5"};
        int64_t v;
        for (size_t i = 0; i < sizeof(bad_durations) / sizeof(bad_durations[0]); i++)
                if (cms_parse_duration_ms(bad_durations[i], &v) != -EINVAL)
                        fail_msg("cms_parse_duration_ms(\"%s\") accepted", bad_durations[i]);
        for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++)
                if (cms_parse_size(bad_sizes[i], &v) != -EINVAL)
                        fail_msg("cms_parse_size(\"%s\") accepted", bad_sizes[i]);
        for (size_t i = 0; i < sizeof(bad_ints) / sizeof(bad_ints[0]); i++)
                if (cms_parse_int(bad_ints[i], 0, 10, &v) != -EINVAL)
                        fail_msg("cms_parse_int(\"%s\") accepted", bad_ints[i]);
        /* too big for an int64_t is out of range, not malformed */
        assert_int_equal(cms_parse_int("9223372036854775808", 0, INT64_MAX, &v), -ERANGE);
        assert_int_equal(cms_parse_size("99999999999999999999", &v), -ERANGE);
        assert_int_equal(cms_parse_duration_ms("9223372036854776", &v), -ERANGE);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_int),           cmocka_unit_test(test_bool),
            cmocka_unit_test(test_duration),      cmocka_unit_test(test_size),
            cmocka_unit_test(test_json_forms),    cmocka_unit_test(test_format_duration),
            cmocka_unit_test(test_strict_syntax),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
