/* Unit tests for the route table matcher: literal and variable segments, greedy segments,
 * 404 vs 405 with the Allow list, and every route in the table reachable by its own pattern. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "api/api.h"

static int match(const char *method, const char *path, const struct cms_route **r, char **params,
                 size_t *n, char *allow)
{
        return cms_router_match(method, path, r, params, n, allow, 128);
}

static void free_params(char **p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(p[i]);
}

static void test_literal_and_params(void **state)
{
        const struct cms_route *r = NULL;
        char *p[CMS_MAX_PARAMS];
        size_t n = 0;
        char allow[128];
        assert_int_equal(match("GET", "/v1/health", &r, p, &n, allow), 0);
        assert_string_equal(r->name, "health");
        assert_int_equal(n, 0);

        assert_int_equal(match("GET", "/v1/containers/web-1/logs", &r, p, &n, allow), 0);
        assert_string_equal(r->name, "container_logs");
        assert_int_equal(n, 1);
        assert_string_equal(p[0], "web-1");
        free_params(p, n);

        assert_int_equal(match("POST", "/v1/containers/abc/kill", &r, p, &n, allow), 0);
        assert_string_equal(r->name, "kill");
        free_params(p, n);

        /* Trailing and doubled slashes do not make a different route. */
        assert_int_equal(match("GET", "/v1//containers/x/", &r, p, &n, allow), 0);
        assert_string_equal(r->name, "container_inspect");
        free_params(p, n);
}

static void test_not_found_and_method(void **state)
{
        const struct cms_route *r = NULL;
        char *p[CMS_MAX_PARAMS];
        size_t n = 0;
        char allow[128];
        assert_int_equal(match("GET", "/v1/nothing", &r, p, &n, allow), -ENOENT);
        assert_int_equal(match("GET", "/v1/containers/x/y/z", &r, p, &n, allow), -ENOENT);
        assert_int_equal(match("GET", "/", &r, p, &n, allow), -ENOENT);
        assert_int_equal(n, 0);

        assert_int_equal(match("PUT", "/v1/containers", &r, p, &n, allow), -EOPNOTSUPP);
        assert_non_null(strstr(allow, "GET"));
        assert_non_null(strstr(allow, "POST"));
        assert_int_equal(n, 0);

        assert_int_equal(match("GET", "/v1/containers/x/start", &r, p, &n, allow), -EOPNOTSUPP);
        assert_string_equal(allow, "POST");
        assert_int_equal(match("POST", "/v1/health", &r, p, &n, allow), -EOPNOTSUPP);
        assert_string_equal(allow, "GET");
}

static void test_head_is_get(void **state)
{
        const struct cms_route *r = NULL;
        char *p[CMS_MAX_PARAMS];
        size_t n = 0;
        char allow[128];
        assert_int_equal(match("HEAD", "/v1/health", &r, p, &n, allow), 0);
        assert_string_equal(r->method, "GET");
}

static void test_long_and_deep_paths(void **state)
{
        const struct cms_route *r = NULL;
        char *p[CMS_MAX_PARAMS];
        size_t n = 0;
        char allow[128];
        char big[5000];
        memset(big, 'a', sizeof(big) - 1);
        big[0] = '/';
        big[sizeof(big) - 1] = 0;
        assert_int_equal(match("GET", big, &r, p, &n, allow), -ENOENT);
        char deep[400] = "";
        for (int i = 0; i < 100; i++)
                strcat(deep, "/a");
        assert_int_equal(match("GET", deep, &r, p, &n, allow), -ENOENT);
}

/* Image refs: "{ref*}" takes every segment the rest of the pattern leaves, so refs with a
 * registry port, a path and a tag or digest work, with and without a literal suffix. */
static void test_greedy_image_refs(void **state)
{
        static const struct {
                const char *method, *path, *name, *param;
        } cases[] = {
            {"GET", "/v1/images/busybox", "image_inspect", "busybox"},
            {"GET", "/v1/images/127.0.0.1:5000/team/app:1.2", "image_inspect",
             "127.0.0.1:5000/team/app:1.2"},
            {"GET", "/v1/images/app@sha256:0123abcd", "image_inspect", "app@sha256:0123abcd"},
            {"DELETE", "/v1/images/127.0.0.1:5000/team/app:1.2", "image_remove",
             "127.0.0.1:5000/team/app:1.2"},
            {"GET", "/v1/images/127.0.0.1:5000/team/app:1.2/history", "image_history",
             "127.0.0.1:5000/team/app:1.2"},
            {"GET", "/v1/images/busybox/history", "image_history", "busybox"},
            {"POST", "/v1/images/127.0.0.1:5000/team/app:1.2/push", "image_push",
             "127.0.0.1:5000/team/app:1.2"},
            {"POST", "/v1/images/a/b/c/d/e/tag", "image_tag", "a/b/c/d/e"},
            {"POST", "/v1/images/pull", "images_pull", NULL},
            {"POST", "/v1/images/build", "images_build", NULL},
            {"POST", "/v1/images/prune", "images_prune", NULL},
            {"GET", "/v1/images", "images_list", NULL},
            {"POST", "/v1/networks/prune", "networks_prune", NULL},
            {"POST", "/v1/networks/n1/connect", "network_connect", "n1"},
            {"POST", "/v1/networks/n1/disconnect", "network_disconnect", "n1"},
            {"DELETE", "/v1/volumes/data", "volume_remove", "data"},
            {"POST", "/v1/volumes/prune", "volumes_prune", NULL},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const struct cms_route *r = NULL;
                char *p[CMS_MAX_PARAMS];
                size_t n = 0;
                char allow[128];
                if (match(cases[i].method, cases[i].path, &r, p, &n, allow) != 0)
                        fail_msg("%s %s did not match", cases[i].method, cases[i].path);
                assert_string_equal(r->name, cases[i].name);
                if (cases[i].param) {
                        assert_int_equal(n, 1);
                        assert_string_equal(p[0], cases[i].param);
                } else {
                        assert_int_equal(n, 0);
                }
                free_params(p, n);
        }
        /* A suffix route needs a ref before its suffix; the wrong method on one lists the others.
         */
        const struct cms_route *r = NULL;
        char *p[CMS_MAX_PARAMS];
        size_t n = 0;
        char allow[128];
        assert_int_equal(match("PUT", "/v1/images/x/push", &r, p, &n, allow), -EOPNOTSUPP);
        assert_non_null(strstr(allow, "POST"));
        assert_int_equal(match("POST", "/v1/images", &r, p, &n, allow), -EOPNOTSUPP);
        assert_int_equal(match("GET", "/v1/networks/a/b", &r, p, &n, allow), -ENOENT);
        assert_int_equal(n, 0);
}

/* Every route is reachable: its pattern with params filled in matches itself. */
static void test_table_self_match(void **state)
{
        size_t nr;
        const struct cms_route *t = cms_router_table(&nr);
        for (size_t i = 0; i < nr; i++) {
                char path[256] = "";
                const char *s = t[i].pattern;
                while (*s) {
                        if (*s == '{') {
                                strcat(path, "x1");
                                s = strchr(s, '}') + 1;
                        } else {
                                strncat(path, s++, 1);
                        }
                }
                const struct cms_route *r = NULL;
                char *p[CMS_MAX_PARAMS];
                size_t n = 0;
                char allow[128];
                assert_int_equal(match(t[i].method, path, &r, p, &n, allow), 0);
                assert_ptr_equal(r, &t[i]);
                free_params(p, n);
                /* Only the open routes skip auth, and no mutating route is open. A POST that
                 * only reads (a dry run: its body is too large for a query) may be a viewer's;
                 * each is named here on purpose. */
                bool reads_only = !strcmp(t[i].name, "projects_config_dry");
                if (t[i].flags & ROUTE_OPEN)
                        assert_string_equal(t[i].method, "GET");
                else if (strcmp(t[i].method, "GET") && !reads_only)
                        assert_true(t[i].role >= CMS_ROLE_OPERATOR);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_literal_and_params), cmocka_unit_test(test_not_found_and_method),
            cmocka_unit_test(test_head_is_get),        cmocka_unit_test(test_long_and_deep_paths),
            cmocka_unit_test(test_table_self_match),   cmocka_unit_test(test_greedy_image_refs),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
