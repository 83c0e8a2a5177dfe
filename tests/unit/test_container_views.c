/* Unit tests for daemon/containers: the health view on real inspect documents saved from Docker
 * 20.10 and Podman 4.3 (tests/unit/fixtures), and the signal and restart-policy parsers (split
 * from test_container_model.c, which has the config, create-body and summary tests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon/containers/model.h"

#include "container_test_helpers.h"

static void test_health_docs(void **state)
{
        json_object *raw = fixture("docker_inspect_healthy.json");
        json_object *h = cms_container_health(raw);
        expect_at(h, "/status", "\"healthy\"", "dh");
        expect_at(h, "/failing_streak", "0", "dh");
        assert_int_equal(json_object_array_length(json_object_object_get(h, "log")), 5);
        expect_at(h, "/log/0",
                  "{\"start\":\"2026-11-29T01:24:49.278469267Z\",\"end\":\"2026-11-29T01:24:49."
                  "330342247Z\","
                  "\"exit_code\":1,\"output\":\"not-ok\\n\"}",
                  "dh");
        expect_at(h, "/log/4/exit_code", "0", "dh");
        json_object_put(h);
        json_object_put(raw);

        raw = fixture("docker_inspect_unhealthy.json");
        h = cms_container_health(raw);
        expect_at(h, "/status", "\"unhealthy\"", "du");
        expect_at(h, "/failing_streak", "4", "du");
        json_object_put(h);
        json_object_put(raw);

        raw = fixture("podman_inspect_healthy.json");
        h = cms_container_health(raw);
        expect_at(h, "/status", "\"healthy\"", "ph");
        expect_at(h, "/log/3/exit_code", "0", "ph");
        expect_at(h, "/log/0/output", "\"not-ok\"", "ph");
        json_object_put(h);
        json_object_put(raw);

        raw = fixture("podman_inspect_starting.json"); /* Log: null */
        h = cms_container_health(raw);
        expect_at(h, "", "{\"status\":\"starting\",\"failing_streak\":0,\"log\":[]}", "ps");
        json_object_put(h);
        json_object_put(raw);

        raw = fixture("docker_inspect_created.json"); /* no State.Health before the first start */
        h = cms_container_health(raw);
        expect_at(h, "", "{\"status\":\"none\",\"failing_streak\":0,\"log\":[]}", "dc");
        json_object_put(h);
        json_object_put(raw);

        raw = fixture("podman_inspect_created.json"); /* State.Health.Status "" */
        h = cms_container_health(raw);
        expect_at(h, "/status", "\"none\"", "pc");
        json_object_put(h);
        json_object_put(raw);

        /* the libpod spelling, State.Healthcheck, is read too */
        raw = parse("{\"State\":{\"Healthcheck\":{\"Status\":\"unhealthy\",\"FailingStreak\":3,"
                    "\"Log\":[{\"Start\":\"0001-01-01T00:00:00Z\",\"ExitCode\":2}]}}}");
        h = cms_container_health(raw);
        expect_at(h, "",
                  "{\"status\":\"unhealthy\",\"failing_streak\":3,\"log\":[{\"start\":null,"
                  "\"end\":null,\"exit_code\":2,\"output\":\"\"}]}",
                  "libpod");
        json_object_put(h);
        json_object_put(raw);
}

/* ---- parsers ---- */

static void test_signal_parse(void **state)
{
        static const struct {
                const char *in, *name;
                int num;
        } good[] = {
            {"SIGTERM", "SIGTERM", 15},
            {"TERM", "SIGTERM", 15},
            {"term", "SIGTERM", 15},
            {"15", "SIGTERM", 15},
            {"kill", "SIGKILL", 9},
            {"SIGKILL", "SIGKILL", 9},
            {"9", "SIGKILL", 9},
            {"sighup", "SIGHUP", 1},
            {"1", "SIGHUP", 1},
            {"IOT", "SIGABRT", 6},
            {"CLD", "SIGCHLD", 17},
            {"POLL", "SIGIO", 29},
            {"USR1", "SIGUSR1", 10},
            {"WINCH", "SIGWINCH", 28},
            {"31", "SIGSYS", 31},
            {"SIGRTMIN", "SIGRTMIN", 34},
            {"RTMIN+3", "SIGRTMIN+3", 37},
            {"SIGRTMAX-1", "SIGRTMAX-1", 63},
            {"rtmax", "SIGRTMAX", 64},
            {"64", "SIGRTMAX", 64},
            {"50", "SIGRTMAX-14", 50},
        };
        static const char *const bad[] = {"",      "0",        "65",      "32",         "33",
                                          "-9",    "9x",       " 9",      "SIG",        "SIGFOO",
                                          "TERM ", "RTMIN+31", "RTMIN-1", "SIGSIGTERM", "15.0"};
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                int num = 0;
                const char *name = NULL;
                if (cms_signal_parse(good[i].in, &num, &name) < 0)
                        fail_msg("signal '%s' refused", good[i].in);
                assert_int_equal(num, good[i].num);
                assert_string_equal(name, good[i].name);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (cms_signal_parse(bad[i], NULL, NULL) != -EINVAL)
                        fail_msg("signal '%s' accepted", bad[i]);
        assert_int_equal(cms_signal_parse(NULL, NULL, NULL), -EINVAL);
        assert_int_equal(cms_signal_parse("INT", NULL, NULL), 0);
}

static void test_restart_policy_parse(void **state)
{
        static const struct {
                const char *in, *name;
                int max;
        } good[] = {{"no", "no", 0},
                    {"always", "always", 0},
                    {"unless-stopped", "unless-stopped", 0},
                    {"on-failure", "on-failure", 0},
                    {"on-failure:5", "on-failure", 5},
                    {"on-failure:0", "on-failure", 0}};
        static const char *const bad[] = {
            "",         "On-failure", "on-failure:", "on-failure:-1",         "on-failure:x",
            "always:3", "never",      "no ",         "on-failure:99999999999"};
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                char *name = NULL;
                int max = -1;
                assert_int_equal(cms_restart_policy_parse(good[i].in, &name, &max), 0);
                assert_string_equal(name, good[i].name);
                assert_int_equal(max, good[i].max);
                free(name);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *name = NULL;
                if (cms_restart_policy_parse(bad[i], &name, NULL) != -EINVAL)
                        fail_msg("restart policy '%s' accepted", bad[i]);
                assert_null(name);
        }
        assert_int_equal(cms_restart_policy_parse(NULL, NULL, NULL), -EINVAL);
        assert_int_equal(cms_restart_policy_parse("always", NULL, NULL), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_health_docs),
            cmocka_unit_test(test_signal_parse),
            cmocka_unit_test(test_restart_policy_parse),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
