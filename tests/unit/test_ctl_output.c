/* Unit tests for cmsctl's output helpers (client/output.c): table widths, cutting to the
 * terminal with an ellipsis (never wrapping), wide and multi-byte characters, human sizes and
 * ages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "client/cmsctl.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>

/* The table printed at width, as a string. */
static char *render(struct ctl_table *t, int width)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        ctl_table_print(t, width, f);
        fclose(f);
        return out;
}

static void test_widths_and_cutting(void **state)
{
        static const char *const h[] = {"ID", "NAME", "STATUS"};
        struct ctl_table *t = ctl_table_new(h, 3);
        const char *r1[] = {"abc", "a-rather-long-container-name", "Up 3 minutes"};
        const char *r2[] = {"d", NULL, "Exited (0)"};
        ctl_table_add(t, r1);
        ctl_table_add(t, r2);
        char *s = render(t, 0); /* not a terminal: nothing cut */
        assert_string_equal(s, "ID   NAME                          STATUS\n"
                               "abc  a-rather-long-container-name  Up 3 minutes\n"
                               "d                                  Exited (0)\n");
        free(s);
        s = render(t, 30); /* the widest column gives way, cut with an ellipsis */
        assert_string_equal(s, "ID   NAME         STATUS\n" /* 30 columns exactly */
                               "abc  a-rather-l\xe2\x80\xa6  Up 3 minutes\n"
                               "d                 Exited (0)\n");
        free(s);
        s = render(t, 5); /* every column down to 4, headers cut too: still three lines */
        assert_string_equal(s, "ID   NAME  STA\xe2\x80\xa6\n"
                               "abc  a-r\xe2\x80\xa6  Up \xe2\x80\xa6\n"
                               "d          Exi\xe2\x80\xa6\n");
        free(s);
        ctl_table_free(t);
}

static void test_wide_characters(void **state)
{
        assert_int_equal(ctl_display_width("abc"), 3);
        assert_int_equal(ctl_display_width("\xc3\xbc"
                                           "ber"),
                         4); /* ü: two bytes, one column */
        assert_int_equal(ctl_display_width("\xe6\x97\xa5\xe6\x9c\xac"), 4); /* 日本: wide */
        assert_int_equal(ctl_display_width("\xff"), 1);                     /* a bad byte */
        static const char *const h[] = {"N", "X"};
        struct ctl_table *t = ctl_table_new(h, 2);
        const char *r[] = {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "x"}; /* 日本語: 6 columns */
        ctl_table_add(t, r);
        char *s = render(t, 8); /* N may shrink to 5: two wide characters and the ellipsis */
        assert_string_equal(s, "N      X\n\xe6\x97\xa5\xe6\x9c\xac\xe2\x80\xa6  x\n");
        free(s);
        ctl_table_free(t);
}

static void test_sizes_and_ages(void **state)
{
        char b[64];
        ctl_human_size(512, b, sizeof(b));
        assert_string_equal(b, "512B");
        ctl_human_size(1984323, b, sizeof(b));
        assert_string_equal(b, "1.98MB");
        ctl_human_size(1500000000, b, sizeof(b));
        assert_string_equal(b, "1.5GB");
        int64_t t0 = 1700000000; /* 2023-11-14T22:13:20Z */
        ctl_human_age("2023-11-14T22:13:20Z", t0 + 30, b, sizeof(b));
        assert_string_equal(b, "30 seconds ago");
        ctl_human_age("2023-11-14T22:13:20.123456789Z", t0 + 90, b, sizeof(b));
        assert_string_equal(b, "About a minute ago");
        ctl_human_age("2023-11-14T22:13:20Z", t0 + 3 * 3600, b, sizeof(b));
        assert_string_equal(b, "3 hours ago");
        ctl_human_age("2023-11-14T22:13:20Z", t0 + 3 * 86400, b, sizeof(b));
        assert_string_equal(b, "3 days ago");
        ctl_human_age("", t0, b, sizeof(b));
        assert_string_equal(b, "-");
        ctl_human_age("not a time", t0, b, sizeof(b));
        assert_string_equal(b, "-");
}

static void test_colour_and_control_characters(void **state)
{
        assert_int_equal(ctl_display_width("\033[32mUp 3 minutes\033[0m"), 12);
        assert_int_equal(ctl_display_width("\033[1;31mX"), 1);
        assert_int_equal(ctl_display_width("\033[32"), 4); /* not a whole sequence: bytes count */
        static const char *const h[] = {"STATUS", "NAME"};
        struct ctl_table *t = ctl_table_new(h, 2);
        const char *row[] = {"Up 3 minutes (healthy)", "web"};
        const char *colours[] = {"32", NULL};
        ctl_table_add_coloured(t, row, colours);
        char *out = render(t, 16);
        /* cut to fit, the colour ended after the ellipsis so it does not run on */
        assert_non_null(strstr(out, "\033[32mUp 3 minu\xe2\x80\xa6\033[0m"));
        free(out);
        out = render(t, 0);
        assert_non_null(strstr(out, "\033[32mUp 3 minutes (healthy)\033[0m  web\n"));
        free(out);
        /* a server's control characters never reach the terminal: shown as '?' */
        const char *evil[] = {"\033]0;pwned\a\033[2J", "a\x7f\xc2\x9b b\tc\xc3\xa9"};
        ctl_table_add(t, evil);
        out = render(t, 0);
        assert_non_null(strstr(out, "?]0;pwned??[2J"));
        assert_non_null(strstr(out, "a?? b\tc\xc3\xa9"));
        assert_null(strstr(out, "\033]"));
        free(out);
        ctl_table_free(t);
        assert_string_equal(ctl_safe("ok\033[31m\r\n"), "ok?[31m??");
        char b[16];
        ctl_human_size(999700, b, sizeof(b));
        assert_string_equal(b, "1MB");
        ctl_human_size(999400, b, sizeof(b));
        assert_string_equal(b, "999kB");
}

int main(void)
{
        setlocale(LC_CTYPE, "C.UTF-8");
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_widths_and_cutting),
            cmocka_unit_test(test_wide_characters),
            cmocka_unit_test(test_sizes_and_ages),
            cmocka_unit_test(test_colour_and_control_characters),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
