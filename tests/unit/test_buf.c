/* Unit tests for the growing buffer of daemon/util.c: what cms_buf_take hands back is always a
 * NUL-terminated string, also for a buffer nothing was appended to (it used to hand back
 * uninitialized bytes then), and the cap is an error, never a truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon/util.h"

static void test_take_empty(void **state)
{
        (void)state;
        for (int i = 0; i < 50; i++) {
                /* fill the heap with non-zero bytes so a missing terminator shows */
                char *junk = malloc(256);
                memset(junk, 'x', 256);
                free(junk);
                struct cms_buf b;
                cms_buf_init(&b, 1024);
                char *s = cms_buf_take(&b);
                assert_non_null(s);
                assert_string_equal(s, "");
                free(s);
                cms_buf_free(&b);
        }
}

static void test_append_and_cap(void **state)
{
        (void)state;
        struct cms_buf b;
        cms_buf_init(&b, 8);
        assert_int_equal(cms_buf_append(&b, "abcd", 4), 0);
        assert_int_equal(cms_buf_append(&b, "efgh", 4), 0);
        assert_int_equal(cms_buf_append(&b, "i", 1), -E2BIG);
        char *s = cms_buf_take(&b);
        assert_string_equal(s, "abcdefgh");
        free(s);
        cms_buf_free(&b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_take_empty),
            cmocka_unit_test(test_append_and_cap),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
