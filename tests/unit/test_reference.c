/* Unit tests for daemon/images/reference.c: the one image-reference grammar (one table with the
 * cases of every caller: containers' "image", image routes' paths and bodies, compose's
 * "image:") and the object-name rule of containers, networks and volumes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon/images/reference.h"

#define HEX64  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEX128 HEX64 HEX64

static char *repeat(char c, size_t n, const char *before, const char *after)
{
        size_t bl = strlen(before), al = strlen(after);
        char *s = malloc(bl + n + al + 1);
        assert_non_null(s);
        memcpy(s, before, bl);
        memset(s + bl, c, n);
        memcpy(s + bl + n, after, al + 1);
        return s;
}

static void test_good_refs(void **state)
{
        static const struct {
                const char *in, *domain, *path, *tag, *digest;
        } good[] = {
            {"busybox", "", "busybox", "", ""},
            {"busybox:1.36", "", "busybox", "1.36", ""},
            {"library/busybox:latest", "", "library/busybox", "latest", ""},
            {"cmsd-test/busybox:latest", "", "cmsd-test/busybox", "latest", ""},
            /* host:port registries, localhost with and without a port */
            {"127.0.0.1:5000/team/app:1.2", "127.0.0.1:5000", "team/app", "1.2", ""},
            {"localhost/app", "localhost", "app", "", ""},
            {"localhost/cmsd-test/busybox:latest", "localhost", "cmsd-test/busybox", "latest", ""},
            {"localhost:5000/a/b:c", "localhost:5000", "a/b", "c", ""},
            {"registry.example.com/team/app", "registry.example.com", "team/app", "", ""},
            {"reg:65535/app", "reg:65535", "app", "", ""},
            /* IPv6 registries */
            {"[::1]:5000/app:1", "[::1]:5000", "app", "1", ""},
            {"[fd00::1]/team/app", "[fd00::1]", "team/app", "", ""},
            /* upper case: only a tag may have it */
            {"registry.example.com/app:V1.0", "registry.example.com", "app", "V1.0", ""},
            {"my_repo__x/a-b--c.d:V_1.0-rc", "", "my_repo__x/a-b--c.d", "V_1.0-rc", ""},
            {"a-b--c/d.e", "", "a-b--c/d.e", "", ""},
            {"app:_tag", "", "app", "_tag", ""},
            /* greedy: several '/', the tag only after the last one */
            {"reg.io:443/a/b/c/d:t", "reg.io:443", "a/b/c/d", "t", ""},
            {"a/b/c/d/e", "", "a/b/c/d/e", "", ""},
            /* digests, alone and with a tag */
            {"app@sha256:" HEX64, "", "app", "", "sha256:" HEX64},
            {"h:5000/app:t@sha256:" HEX64, "h:5000", "app", "t", "sha256:" HEX64},
            {"app@sha512:" HEX128, "", "app", "", "sha512:" HEX128},
            {"app@a+b.c_d-e:" HEX64, "", "app", "", "a+b.c_d-e:" HEX64},
            /* an id reads as name "sha256" with a 64-hex tag, as Docker reads it */
            {"sha256:" HEX64, "", "sha256", HEX64, ""},
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                struct cms_image_ref r;
                struct cms_error err = {0};
                if (cms_image_ref_parse(good[i].in, &r, &err) < 0)
                        fail_msg("%s: %s", good[i].in, err.message);
                assert_string_equal(r.domain, good[i].domain);
                assert_string_equal(r.path, good[i].path);
                assert_string_equal(r.tag, good[i].tag);
                assert_string_equal(r.digest, good[i].digest);
                assert_int_equal(cms_image_path_ref_check(good[i].in, NULL), 0);
        }
        /* a 32-character algorithm with 128 hex digits is kept whole (it used to be cut) */
        char *longest = repeat('a', 32, "app@", ":" HEX128);
        struct cms_image_ref r;
        assert_int_equal(cms_image_ref_parse(longest, &r, NULL), 0);
        assert_string_equal(r.digest, longest + 4);
        free(longest);
}

static void test_bad_refs(void **state)
{
        static const struct {
                const char *in, *why;
        } bad[] = {
            {"", "empty"},
            {"UPPER", "invalid name component"},
            {"Busybox", "invalid name component"},
            {"team/App", "invalid name component"},
            {"UPPER/case", "invalid name component"},
            {"Myhost/app", "invalid name component"},
            {"Registry.Example.com/app", "invalid registry host"},
            {"REG:5000/app", "invalid registry host"},
            {"a..b", "invalid name component"},
            {"a___b", "invalid name component"},
            {"a/", "invalid name component"},
            {"/a", "invalid name component"},
            {"a//b", "invalid name component"},
            {"a/-b", "invalid name component"},
            {"-lead", "invalid name component"},
            {"trail-", "invalid name component"},
            {"a b", "invalid name component"},
            {"bad!", "invalid name component"},
            {"x:", "invalid tag"},
            {"busybox:-x", "invalid tag"},
            {"x:.tag", "invalid tag"},
            {"a:b:c", "invalid name component"},
            {":tag", "no repository name"},
            {"app@sha256:abc", "invalid digest"},
            {"app@sha256:XYZ0123456789abcdef0123456789abcdef", "invalid digest"},
            {"app@sha256:" HEX64 "0" HEX64, "invalid digest"},
            {"app@:" HEX64, "invalid digest"},
            {"app@SHA256:" HEX64, "invalid digest"},
            {"host:99999/app", "invalid registry host"},
            {"host:0/app", "invalid registry host"},
            {"host:port/a", "invalid registry host"},
            {"host:/a", "invalid registry host"},
            {"-reg.io/a", "invalid registry host"},
            {"reg-.io/a", "invalid registry host"},
            {"re_g.io/a", "invalid registry host"},
            {"[::1/app", "invalid registry host"},
            {"[not-v6]:5000/app", "invalid registry host"},
            {"[127.0.0.1]:5000/app", "invalid registry host"},
            {"[::1]x/app", "invalid registry host"},
            {"[::1]:5000", "invalid name component"},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct cms_image_ref r;
                struct cms_error err = {0};
                if (cms_image_ref_parse(bad[i].in, &r, &err) == 0)
                        fail_msg("'%s' accepted", bad[i].in);
                assert_int_equal(err.status, 400);
                if (!strstr(err.message, bad[i].why))
                        fail_msg("'%s': '%s' does not say '%s'", bad[i].in, err.message,
                                 bad[i].why);
        }
        assert_true(cms_image_ref_parse(NULL, NULL, NULL) < 0);
}

static void test_over_long_parts(void **state)
{
        struct cms_error err = {0};
        char *s = repeat('a', 129, "app:", "");
        assert_true(cms_image_ref_parse(s, NULL, &err) < 0);
        assert_non_null(strstr(err.message, "invalid tag"));
        free(s);
        s = repeat('a', 128, "app:", "");
        assert_int_equal(cms_image_ref_parse(s, NULL, NULL), 0);
        free(s);
        s = repeat('a', 256, "", ":t");
        assert_true(cms_image_ref_parse(s, NULL, &err) < 0);
        assert_non_null(strstr(err.message, "longer than 255"));
        free(s);
        s = repeat('a', 255, "", ":t");
        assert_int_equal(cms_image_ref_parse(s, NULL, NULL), 0);
        free(s);
        s = repeat('a', 1025, "", "");
        assert_true(cms_image_ref_parse(s, NULL, &err) < 0);
        assert_non_null(strstr(err.message, "longer than 1024"));
        free(s);
        s = repeat('a', 33, "app@", ":" HEX64);
        assert_true(cms_image_ref_parse(s, NULL, &err) < 0);
        assert_non_null(strstr(err.message, "invalid digest"));
        free(s);
        s = repeat('1', 40, "[", "]:5000/app");
        assert_true(cms_image_ref_parse(s, NULL, &err) < 0);
        free(s);
}

static void test_repo_and_ids(void **state)
{
        char repo[600];
        struct cms_image_ref r;
        assert_int_equal(cms_image_ref_parse("127.0.0.1:5000/team/app:1.2", &r, NULL), 0);
        cms_image_ref_repo(&r, repo, sizeof(repo));
        assert_string_equal(repo, "127.0.0.1:5000/team/app");
        assert_int_equal(cms_image_ref_parse("[::1]:5000/app@sha256:" HEX64, &r, NULL), 0);
        cms_image_ref_repo(&r, repo, sizeof(repo));
        assert_string_equal(repo, "[::1]:5000/app");
        assert_true(cms_image_id_like("sha256:" HEX64));
        assert_true(cms_image_id_like("fbb1b175715a"));
        assert_false(cms_image_id_like("fbb1b17"));
        assert_false(cms_image_id_like("FBB1B175715A"));
        assert_int_equal(cms_image_path_ref_check("fbb1b175715a", NULL), 0);
        assert_true(cms_image_path_ref_check("Nope", NULL) < 0);
        assert_true(cms_image_path_ref_check(NULL, NULL) < 0);
}

static void test_object_names(void **state)
{
        static const char *const good[] = {"a", "web-app", "A1_b.c-d", "0", "x.y_z"};
        static const char *const bad[] = {"", "-a", ".a", "_a", "a/b", "a b", "a:b", "/a", "a\n"};
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                if (!cms_object_name_valid(good[i]))
                        fail_msg("name '%s' refused", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (cms_object_name_valid(bad[i]))
                        fail_msg("name '%s' accepted", bad[i]);
        assert_false(cms_object_name_valid(NULL));
        char *s = repeat('a', 255, "", "");
        assert_true(cms_object_name_valid(s));
        free(s);
        s = repeat('a', 256, "", "");
        assert_false(cms_object_name_valid(s));
        free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_good_refs),       cmocka_unit_test(test_bad_refs),
            cmocka_unit_test(test_over_long_parts), cmocka_unit_test(test_repo_and_ids),
            cmocka_unit_test(test_object_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
