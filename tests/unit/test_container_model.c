/* Unit tests for daemon/containers/model*.c: ContainerConfig -> create body (a table of good
 * configs and a table of bad ones), the summary / list item / health views on real inspect and
 * list documents saved from Docker 20.10 and Podman 4.3 (tests/unit/fixtures); the health view
 * and the signal and restart-policy parsers are in test_container_views.c. Fixtures are found
 * beside this file (via __FILE__) or in $CMS_TEST_FIXTURES. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <json-c/json_pointer.h>

#include "daemon/compose/model.h"
#include "daemon/containers/model.h"

#include "container_test_helpers.h"

/* ---- helpers ---- */

static int build(const char *cfg_text, enum cms_runtime rt, struct cms_create_spec *s,
                 struct cms_error *err)
{
        json_object *cfg = parse(cfg_text);
        cms_error_clear(err);
        int r = cms_container_spec_from_config(cfg, rt, s, err);
        json_object_put(cfg);
        return r;
}

/* ---- good and bad configs: tables in fixtures/config_cases.json ---- */

static enum cms_runtime runtime_of(json_object *c)
{
        json_object *rt = json_object_object_get(c, "runtime");
        return rt && !strcmp(json_object_get_string(rt), "podman") ? CMS_RUNTIME_PODMAN
                                                                   : CMS_RUNTIME_DOCKER;
}

static void test_good_configs(void **state)
{
        json_object *cases = fixture("config_cases.json"), *good;
        assert_true(json_object_object_get_ex(cases, "good", &good));
        assert_true(json_object_array_length(good) >= 10);
        for (size_t i = 0; i < json_object_array_length(good); i++) {
                json_object *c = json_object_array_get_idx(good, i);
                struct cms_create_spec s;
                struct cms_error err = {0};
                char ctx[32];
                snprintf(ctx, sizeof(ctx), "good case %zu", i);
                if (cms_container_spec_from_config(json_object_object_get(c, "config"),
                                                   runtime_of(c), &s, &err) < 0)
                        fail_msg("%s refused: %s", ctx, err.message);
                assert_non_null(s.body);
                assert_non_null(s.image);
                assert_non_null(s.warnings);
                json_object_object_foreach(json_object_object_get(c, "expect"), ptr, want)
                {
                        const char *text = json_object_is_type(want, json_type_string) &&
                                                   !strcmp(json_object_get_string(want), ABSENT)
                                               ? ABSENT
                                               : json_object_to_json_string(want);
                        expect_at(s.body, ptr, text, ctx);
                }
                cms_create_spec_done(&s);
                cms_create_spec_done(&s); /* idempotent */
        }
        json_object_put(cases);
}

static void test_spec_name_image_warnings(void **state)
{
        struct cms_create_spec s;
        struct cms_error err;
        assert_int_equal(build("{\"image\":\"busybox\",\"name\":\"web\",\"resources\":"
                               "{\"kernel_memory\":\"64m\"}}",
                               CMS_RUNTIME_DOCKER, &s, &err),
                         0);
        assert_string_equal(s.name, "web");
        assert_string_equal(s.image, "busybox");
        expect_at(s.warnings, "",
                  "[\"resources.kernel_memory is not supported by docker and was ignored\"]",
                  "warnings");
        expect_at(s.body, "/HostConfig/KernelMemory", ABSENT, "kernel_memory");
        cms_create_spec_done(&s);

        assert_int_equal(build("{\"image\":\"busybox\",\"resources\":{\"kernel_memory\":1048576,"
                               "\"memory\":\"64m\",\"memory_swap\":-1}}",
                               CMS_RUNTIME_PODMAN, &s, &err),
                         0);
        assert_null(s.name);
        assert_int_equal(json_object_array_length(s.warnings), 2);
        const char *w0 = json_object_get_string(json_object_array_get_idx(s.warnings, 0));
        const char *w1 = json_object_get_string(json_object_array_get_idx(s.warnings, 1));
        assert_string_equal(w0,
                            "resources.kernel_memory is not supported by podman and was ignored");
        assert_non_null(strstr(w1, "resources.memory_swap"));
        cms_create_spec_done(&s);

        assert_int_equal(build("{\"image\":\"busybox\"}", CMS_RUNTIME_DOCKER, &s, &err), 0);
        assert_int_equal(json_object_array_length(s.warnings), 0);
        cms_create_spec_done(&s);
        cms_create_spec_done(NULL);
}

static void test_spec_extra_keys(void **state)
{
        static const char *const deploy_keys[] = {"replace", "wait_healthy", "pull", NULL};
        json_object *cfg = parse("{\"image\":\"busybox\",\"replace\":true,\"wait_healthy\":\"30s\","
                                 "\"pull\":false}");
        struct cms_create_spec s;
        struct cms_error err = {0};
        assert_int_equal(
            cms_container_spec_from_config_ex(cfg, CMS_RUNTIME_DOCKER, deploy_keys, &s, &err), 0);
        expect_at(s.body, "/replace", ABSENT, "extra");
        cms_create_spec_done(&s);
        assert_int_equal(cms_container_spec_from_config(cfg, CMS_RUNTIME_DOCKER, &s, &err),
                         -EINVAL);
        assert_int_equal(err.status, 400);
        assert_string_equal(err.code, "bad_request");
        assert_null(s.body);
        json_object_put(cfg);
}

/* "pull" and "registry_auth" say how the route gets the image; the body never carries them. */
static void test_spec_pull(void **state)
{
        static const struct {
                const char *cfg;
                enum cms_pull_policy want;
                bool auth;
        } cases[] = {
            {"{\"image\":\"busybox\"}", CMS_IMAGE_PULL_MISSING, false},
            {"{\"image\":\"busybox\",\"pull\":null}", CMS_IMAGE_PULL_MISSING, false},
            {"{\"image\":\"busybox\",\"pull\":\"missing\"}", CMS_IMAGE_PULL_MISSING, false},
            {"{\"image\":\"busybox\",\"pull\":\"always\",\"registry_auth\":{\"username\":\"u\","
             "\"password\":\"p\",\"serveraddress\":\"r.example:5000\"}}",
             CMS_IMAGE_PULL_ALWAYS, true},
            {"{\"image\":\"busybox\",\"pull\":\"never\"}", CMS_IMAGE_PULL_NEVER, false},
            {"{\"image\":\"0123456789ab\",\"pull\":\"always\"}", CMS_IMAGE_PULL_ALWAYS, false},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct cms_create_spec s;
                struct cms_error err;
                if (build(cases[i].cfg, CMS_RUNTIME_PODMAN, &s, &err) < 0)
                        fail_msg("pull case %zu refused: %s", i, err.message);
                assert_int_equal(s.pull, cases[i].want);
                assert_int_equal(s.registry_auth != NULL, cases[i].auth);
                if (cases[i].auth)
                        expect_at(s.registry_auth, "/username", "\"u\"", "registry_auth");
                expect_at(s.body, "/pull", ABSENT, "body");
                expect_at(s.body, "/registry_auth", ABSENT, "body");
                cms_create_spec_done(&s);
                assert_null(s.registry_auth);
        }
        enum cms_pull_policy p = CMS_IMAGE_PULL_NEVER;
        assert_int_equal(cms_pull_policy_parse("always", &p), 0);
        assert_int_equal(p, CMS_IMAGE_PULL_ALWAYS);
        assert_int_equal(cms_pull_policy_parse("Always", &p), -EINVAL);
        assert_int_equal(cms_pull_policy_parse(NULL, &p), -EINVAL);
        assert_true(cms_container_image_is_id(
            "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
        assert_true(cms_container_image_is_id(
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
        /* A short hex name is also a repository name: docker run pulls it too. */
        assert_false(cms_container_image_is_id("0123456789ab"));
        assert_false(cms_container_image_is_id("busybox:latest"));
}

/* Compose's healthcheck goes through the same model: start_period 0s (the engine's default)
 * is accepted there too, as 0 in the create body. */
static void test_compose_zero_start_period(void **state)
{
        static const char yaml[] = "services:\n"
                                   "  web:\n"
                                   "    image: busybox\n"
                                   "    healthcheck: {test: [CMD, \"true\"], interval: 0s, "
                                   "timeout: 2s, start_period: 0s}\n";
        struct cms_compose_project *p = NULL;
        struct cms_compose_container c = {0};
        struct cms_create_spec spec;
        struct cms_error err = {0};
        struct cms_compose_parse_opts o = {.name = "proj", .working_dir = "/tmp"};
        if (cms_compose_parse(yaml, strlen(yaml), &o, &p, NULL, &err) < 0)
                fail_msg("parse: %s", err.message);
        const struct cms_compose_service *s = cms_compose_service_find(p, "web");
        assert_non_null(s);
        if (cms_compose_translate(p, s, 1, &c, &err) < 0)
                fail_msg("translate: %s", err.message);
        if (cms_container_spec_from_config(c.config, CMS_RUNTIME_PODMAN, &spec, &err) < 0)
                fail_msg("ContainerConfig refused: %s", err.message);
        expect_at(spec.body, "/Healthcheck/StartPeriod", "0", "compose start_period");
        expect_at(spec.body, "/Healthcheck/Interval", "0", "compose interval");
        expect_at(spec.body, "/Healthcheck/Timeout", "2000000000", "compose timeout");
        cms_create_spec_done(&spec);
        cms_compose_container_done(&c);
        cms_compose_project_free(p);
}

static void test_bad_configs(void **state)
{
        json_object *cases = fixture("config_cases.json"), *bad;
        assert_true(json_object_object_get_ex(cases, "bad", &bad));
        assert_true(json_object_array_length(bad) >= 40);
        for (size_t i = 0; i < json_object_array_length(bad); i++) {
                json_object *c = json_object_array_get_idx(bad, i);
                json_object *cfg = json_object_object_get(c, "config");
                const char *want = json_object_get_string(json_object_object_get(c, "error"));
                struct cms_create_spec s;
                struct cms_error err = {0};
                int r = cms_container_spec_from_config(cfg, runtime_of(c), &s, &err);
                const char *shown = json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PLAIN);
                if (r != -EINVAL || err.status != 400)
                        fail_msg("bad case %zu (%s) accepted or wrong status (r=%d, %d: %s)", i,
                                 shown, r, err.status, err.message);
                if (strncmp(err.message, want, strlen(want)))
                        fail_msg("bad case %zu (%s):\n  got  '%s'\n  want '%s...'", i, shown,
                                 err.message, want);
                assert_string_equal(err.code, "bad_request");
                assert_null(s.body);
                assert_null(s.name);
                assert_null(s.image);
                assert_null(s.warnings);
        }
        json_object_put(cases);
}

/* A message quoting a cut multi-byte value stays valid UTF-8. */
static void test_error_message_utf8(void **state)
{
        struct cms_create_spec s;
        struct cms_error err;
        char cfg[512];
        char label[200] = "a"; /* odd offset: the cut falls inside a character */
        for (int i = 0; i < 40; i++)
                strcat(label, "\xc3\xa9"); /* é */
        snprintf(cfg, sizeof(cfg), "{\"image\":\"x\",\"labels\":{\"%s\":1}}", label);
        assert_int_equal(build(cfg, CMS_RUNTIME_DOCKER, &s, &err), -EINVAL);
        assert_true(cms_str_has_prefix(err.message, "labels."));
        json_object *m = json_object_new_string(err.message);
        const char *text = json_object_to_json_string(m);
        json_object *back = json_tokener_parse(text);
        assert_non_null(back);
        for (const unsigned char *p = (const unsigned char *)err.message; *p; p++)
                if (*p >= 0x80)
                        assert_true((*p & 0xC0) == 0x80 || *p == 0xC3);
        assert_non_null(strstr(err.message, "?: must be a string"));
        json_object_put(back);
        json_object_put(m);
}

/* ---- engine documents -> cmsd views ---- */

static json_object *summary_of(const char *fixture_name, json_object **raw)
{
        *raw = fixture(fixture_name);
        json_object *s = cms_container_summary(*raw);
        assert_non_null(s);
        return s;
}

static const char *sget(json_object *o, const char *ptr)
{
        json_object *v = NULL;
        if (json_pointer_get(o, ptr, &v) < 0 || !json_object_is_type(v, json_type_string))
                fail_msg("%s is not a string in %s", ptr, json_object_to_json_string(o));
        return json_object_get_string(v);
}

static void expect_keys(json_object *o, const char *const *keys, size_t n)
{
        assert_int_equal(json_object_object_length(o), n);
        for (size_t i = 0; i < n; i++)
                if (!json_object_object_get_ex(o, keys[i], NULL))
                        fail_msg("key %s missing", keys[i]);
}

static const char *const summary_keys[] = {
    "id",           "name",   "image",         "state",          "status",     "created",
    "ports",        "labels", "health",        "image_id",       "started_at", "finished_at",
    "exit_code",    "pid",    "restart_count", "restart_policy", "command",    "entrypoint",
    "environment",  "user",   "workdir",       "hostname",       "networks",   "mounts",
    "resources",    "dns",    "extra_hosts",   "privileged",     "read_only",  "auto_remove",
    "capabilities", "raw",    "health_check"};

static void test_summary_docker_full(void **state)
{
        json_object *raw, *s = summary_of("docker_inspect_full.json", &raw);
        const char *c = "docker full";
        expect_keys(s, summary_keys, ELEMENTSOF(summary_keys));
        expect_at(s, "/id", "\"5a9a4414098c55de01af459a72a22d5204c93f5071e5236bbbc8e7260aadc57f\"",
                  c);
        expect_at(s, "/name", "\"model-full\"", c);
        expect_at(s, "/image", "\"cmsd-test/busybox:latest\"", c);
        expect_at(s, "/state", "\"running\"", c);
        assert_true(cms_str_has_prefix(sget(s, "/status"), "Up "));
        assert_non_null(strstr(sget(s, "/status"), "(health: starting)"));
        expect_at(s, "/created", "\"2026-11-29T01:28:09.803595917Z\"", c);
        expect_at(s, "/health", "\"starting\"", c);
        expect_at(s, "/health_check",
                  "{\"test\":[\"CMD\",\"true\"],\"interval\":\"30s\",\"timeout\":\"10s\","
                  "\"start_period\":\"5s\",\"retries\":3}",
                  c);
        expect_at(s, "/labels", "{\"app\":\"web\",\"cmsd.test\":\"model\"}", c);
        expect_at(
            s, "/ports",
            "[{\"container_port\":53,\"protocol\":\"udp\",\"host_ip\":\"127.0.0.1\",\"host_port\":"
            "15353},"
            "{\"container_port\":80,\"protocol\":\"tcp\",\"host_ip\":\"0.0.0.0\",\"host_port\":"
            "18080},"
            "{\"container_port\":80,\"protocol\":\"tcp\",\"host_ip\":\"::\",\"host_port\":18080},"
            "{\"container_port\":81,\"protocol\":\"tcp\",\"host_ip\":\"127.0.0.1\",\"host_port\":"
            "32770},"
            "{\"container_port\":82,\"protocol\":\"tcp\",\"host_ip\":\"0.0.0.0\",\"host_port\":"
            "32769},"
            "{\"container_port\":82,\"protocol\":\"tcp\",\"host_ip\":\"::\",\"host_port\":32768},"
            "{\"container_port\":83,\"protocol\":\"tcp\",\"host_ip\":\"::1\",\"host_port\":18083}]",
            c);
        assert_true(cms_str_has_prefix(sget(s, "/image_id"), "sha256:"));
        expect_at(s, "/finished_at", "null", c);
        assert_true(cms_str_has_prefix(sget(s, "/started_at"), "2026-11-29T01:28:"));
        expect_at(s, "/exit_code", "0", c);
        expect_at(s, "/restart_count", "0", c);
        expect_at(s, "/restart_policy", "\"on-failure:5\"", c);
        expect_at(s, "/command", "[\"sleep\",\"3600\"]", c);
        expect_at(s, "/entrypoint", "[\"/bin/sh\",\"-c\",\"exec \\\"$0\\\" \\\"$@\\\"\"]", c);
        expect_at(s, "/environment", "{\"ENV\":\"production\",\"N\":\"5\",\"B\":\"true\"}", c);
        expect_at(s, "/user", "\"0:0\"", c);
        expect_at(s, "/workdir", "\"/srv\"", c);
        expect_at(s, "/hostname", "\"web\"", c);
        expect_at(s, "/networks/model-net/ip_address", "\"172.31.250.10\"", c);
        expect_at(s, "/networks/model-net/gateway", "\"172.31.250.1\"", c);
        expect_at(s, "/networks/model-net/aliases/0", "\"db\"", c);
        expect_at(
            s, "/mounts",
            "[{\"type\":\"volume\",\"source\":\"model-data\",\"target\":\"/"
            "data\",\"read_only\":false},"
            "{\"type\":\"bind\",\"source\":\"/tmp/model/bind\",\"target\":\"/"
            "bind\",\"read_only\":true},"
            "{\"type\":\"tmpfs\",\"source\":\"\",\"target\":\"/scratch\",\"read_only\":false}]",
            c);
        expect_at(s, "/resources",
                  "{\"memory\":536870912,\"memory_swap\":1073741824,\"cpu_shares\":512,"
                  "\"cpu_quota\":50000,\"cpu_period\":100000,\"nano_cpus\":0,"
                  "\"cpuset_cpus\":\"0,1\",\"pids_limit\":100}",
                  c);
        expect_at(s, "/dns", "[\"1.1.1.1\",\"2606:4700:4700::1111\"]", c);
        expect_at(s, "/extra_hosts", "[\"db:172.20.0.10\",\"v6host:::1\"]", c);
        expect_at(s, "/privileged", "false", c);
        expect_at(s, "/read_only", "true", c);
        expect_at(s, "/auto_remove", "false", c);
        expect_at(s, "/capabilities", "{\"add\":[\"NET_ADMIN\",\"SYS_TIME\"],\"drop\":[\"MKNOD\"]}",
                  c);
        assert_ptr_equal(json_object_object_get(s, "raw"), raw);
        json_object_put(s);
        json_object_put(raw); /* the summary held its own reference; ASan checks the counts */
}

static void test_summary_podman_full(void **state)
{
        json_object *raw, *s = summary_of("podman_inspect_full.json", &raw);
        const char *c = "podman full";
        expect_keys(s, summary_keys, ELEMENTSOF(summary_keys));
        expect_at(s, "/name", "\"model-full\"", c);
        expect_at(s, "/health_check/start_period", "\"5s\"", c);
        expect_at(s, "/health_check/retries", "3", c);
        expect_at(s, "/image", "\"cmsd-test/busybox:latest\"", c);
        expect_at(s, "/state", "\"running\"", c);
        expect_at(s, "/health", "\"starting\"", c);
        expect_at(s, "/ports/1",
                  "{\"container_port\":80,\"protocol\":\"tcp\",\"host_ip\":\"0.0.0.0\",\"host_"
                  "port\":28080}",
                  c);
        expect_at(
            s, "/ports/4",
            "{\"container_port\":83,\"protocol\":\"tcp\",\"host_ip\":\"::1\",\"host_port\":28083}",
            c);
        expect_at(s, "/networks/model-net/ip_address", "\"172.31.251.10\"", c);
        expect_at(s, "/restart_policy", "\"on-failure:5\"", c);
        expect_at(s, "/environment/ENV", "\"production\"", c);
        expect_at(s, "/environment/container", "\"podman\"", c);
        /* Podman leaves tmpfs mounts out of inspect's Mounts */
        expect_at(s, "/mounts",
                  "[{\"type\":\"volume\",\"source\":\"model-data\",\"target\":\"/"
                  "data\",\"read_only\":false},"
                  "{\"type\":\"bind\",\"source\":\"/tmp/model/bind\",\"target\":\"/"
                  "bind\",\"read_only\":true}]",
                  c);
        expect_at(s, "/resources/nano_cpus", "500000000", c);
        expect_at(s, "/resources/memory", "536870912", c);
        expect_at(s, "/resources/pids_limit", "100", c);
        expect_at(s, "/capabilities",
                  "{\"add\":[\"NET_ADMIN\",\"SYS_TIME\"],\"drop\":[\"AUDIT_WRITE\",\"MKNOD\",\"NET_"
                  "RAW\"]}",
                  c);
        expect_at(s, "/read_only", "true", c);
        json_object_put(s);
        json_object_put(raw);
}

static void test_summary_states(void **state)
{
        static const struct {
                const char *file, *state, *status_prefix, *health, *entrypoint;
                int exit_code;
                bool finished;
        } cases[] = {
            {"docker_inspect_created.json", "created", "Created", "none", "null", 0, false},
            {"podman_inspect_created.json", "created", "Created", "none", "null", 0, false},
            {"docker_inspect_paused.json", "paused", "Up ", "unhealthy", "null", 0, false},
            {"podman_inspect_paused.json", "paused", "Up ", "starting", "null", 0, false},
            {"docker_inspect_exited.json", "exited", "Exited (137) ", "unhealthy", NULL, 137, true},
            {"podman_inspect_exited.json", "exited", "Exited (137) ", "starting", NULL, 137, true},
            {"docker_inspect_healthy.json", "running", "Up ", "healthy", "null", 0, false},
            {"podman_inspect_healthy.json", "running", "Up ", "healthy", "null", 0, false},
            {"docker_inspect_unhealthy.json", "running", "Up ", "unhealthy", "null", 0, false},
            {"podman_inspect_starting.json", "running", "Up ", "starting", "null", 0, false},
            {"docker_inspect_alt.json", "running", "Up ", "healthy", "null", 0, false},
            {"podman_inspect_alt.json", "running", "Up ", "starting", "null", 0, false},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                json_object *raw, *s = summary_of(cases[i].file, &raw);
                char want[32];
                expect_keys(s, summary_keys, ELEMENTSOF(summary_keys));
                snprintf(want, sizeof(want), "\"%s\"", cases[i].state);
                expect_at(s, "/state", want, cases[i].file);
                snprintf(want, sizeof(want), "\"%s\"", cases[i].health);
                expect_at(s, "/health", want, cases[i].file);
                if (!cms_str_has_prefix(sget(s, "/status"), cases[i].status_prefix))
                        fail_msg("%s: status '%s'", cases[i].file, sget(s, "/status"));
                if (cases[i].entrypoint)
                        expect_at(s, "/entrypoint", cases[i].entrypoint, cases[i].file);
                snprintf(want, sizeof(want), "%d", cases[i].exit_code);
                expect_at(s, "/exit_code", want, cases[i].file);
                json_object *fin = json_object_object_get(s, "finished_at");
                assert_int_equal(fin != NULL, cases[i].finished);
                if (!strcmp(cases[i].state, "created")) {
                        expect_at(s, "/started_at", "null", cases[i].file);
                        expect_at(s, "/pid", "0", cases[i].file);
                }
                if (!strcmp(cases[i].state, "paused"))
                        assert_non_null(strstr(sget(s, "/status"), "(Paused)"));
                assert_true(sget(s, "/name")[0] != '/' && sget(s, "/name")[0] != 0);
                json_object_put(s);
                json_object_put(raw);
        }
}

static void test_summary_docker_alt(void **state)
{
        json_object *raw, *s = summary_of("docker_inspect_alt.json", &raw);
        const char *c = "docker alt";
        expect_at(
            s, "/ports",
            "[{\"container_port\":9000,\"protocol\":\"tcp\",\"host_ip\":null,\"host_port\":null}]",
            c);
        expect_at(s, "/restart_policy", "\"unless-stopped\"", c);
        expect_at(s, "/resources/memory_swap", "-1", c);
        expect_at(s, "/resources/nano_cpus", "500000000", c);
        expect_at(s, "/resources/pids_limit", "0", c); /* Docker reports unlimited as null */
        expect_at(s, "/capabilities", "{\"add\":[\"CHOWN\"],\"drop\":[\"ALL\"]}", c);
        expect_at(s, "/mounts/0/type", "\"volume\"", c);
        expect_at(s, "/mounts/0/target", "\"/anon\"", c);
        assert_int_equal(strlen(sget(s, "/mounts/0/source")), 64); /* anonymous volume name */
        expect_at(s, "/hostname", "\"alt\"", c);
        expect_at(s, "/dns", "[]", c);
        expect_at(s, "/extra_hosts", "[]", c);
        expect_at(s, "/networks/bridge/aliases", "[]", c);
        json_object_put(s);
        json_object_put(raw);
}

/* Missing, null and wrongly typed keys never crash and give the neutral values. */
/* The health check as the engine holds it: Docker leaves zero durations out, Podman fills its
 * defaults in; either way the summary says what the engine will use, 0s for "the default". */
static void test_summary_health_check(void **state)
{
        static const struct {
                const char *config, *want;
        } cases[] = {
            {"{\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"]}}",
             "{\"test\":[\"CMD\",\"true\"],\"interval\":\"0s\",\"timeout\":\"0s\","
             "\"start_period\":\"0s\",\"retries\":0}"},
            {"{\"Healthcheck\":{\"Test\":[\"CMD-SHELL\",\"exit 0\"],\"Interval\":1500000,"
             "\"Timeout\":90000000000,\"StartPeriod\":0,\"Retries\":2}}",
             "{\"test\":[\"CMD-SHELL\",\"exit 0\"],\"interval\":\"1ms\",\"timeout\":\"1m30s\","
             "\"start_period\":\"0s\",\"retries\":2}"},
            {"{\"Healthcheck\":{\"Test\":null,\"Interval\":-5,\"Timeout\":\"x\",\"Retries\":-1}}",
             "{\"test\":[],\"interval\":\"0s\",\"timeout\":\"0s\",\"start_period\":\"0s\","
             "\"retries\":0}"},
            {"{\"Healthcheck\":null}", "null"},
            {"{\"Healthcheck\":[1]}", "null"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char doc[512], ctx[32];
                snprintf(doc, sizeof(doc), "{\"Id\":\"x\",\"Config\":%s}", cases[i].config);
                snprintf(ctx, sizeof(ctx), "health_check case %zu", i);
                json_object *raw = parse(doc), *s = cms_container_summary(raw);
                expect_at(s, "/health_check", cases[i].want, ctx);
                json_object_put(s);
                json_object_put(raw);
        }
}

static void test_summary_defensive(void **state)
{
        static const char *const docs[] = {
            "{}",
            "null",
            "\"text\"",
            "[1,2]",
            "{\"Id\":5,\"Name\":null,\"State\":\"running\",\"Config\":[],\"HostConfig\":7,"
            "\"NetworkSettings\":{\"Ports\":{\"80/tcp\":7,\"x\":[5,{\"HostPort\":\"\"}]},"
            "\"Networks\":{\"n\":null}},\"Mounts\":[null,5,{}]}",
            "{\"State\":{\"Status\":\"weird\",\"Health\":{\"Status\":5,\"Log\":{}}},"
            "\"Config\":{\"Env\":[\"=x\",\"NOVALUE\",\"\",7,\"A=b=c\"],\"Cmd\":\"sh\","
            "\"Entrypoint\":\"sh\"},\"Created\":\"0001-01-01T00:00:00Z\"}",
        };
        for (size_t i = 0; i < ELEMENTSOF(docs); i++) {
                json_object *doc = json_tokener_parse(docs[i]);
                json_object *s = cms_container_summary(doc);
                assert_non_null(s);
                expect_keys(s, summary_keys, ELEMENTSOF(summary_keys));
                json_object *l = cms_container_list_item(doc), *h = cms_container_health(doc);
                assert_non_null(l);
                assert_non_null(h);
                expect_at(h, "/status", "\"none\"", "health");
                json_object_put(s);
                json_object_put(l);
                json_object_put(h);
                json_object_put(doc);
        }
        json_object *doc = json_tokener_parse(docs[0]);
        json_object *s = cms_container_summary(doc);
        expect_at(s, "/id", "\"\"", "empty");
        expect_at(s, "/state", "\"created\"", "empty");
        expect_at(s, "/health", "\"none\"", "empty");
        expect_at(s, "/created", "null", "empty");
        expect_at(s, "/ports", "[]", "empty");
        expect_at(s, "/labels", "{}", "empty");
        expect_at(s, "/entrypoint", "null", "empty");
        expect_at(s, "/health_check", "null", "empty");
        expect_at(s, "/restart_policy", "\"no\"", "empty");
        expect_at(s, "/resources/memory", "0", "empty");
        expect_at(s, "/resources/cpuset_cpus", "\"\"", "empty");
        expect_at(s, "/capabilities", "{\"add\":[],\"drop\":[]}", "empty");
        json_object_put(s);
        json_object_put(doc);
        doc = json_tokener_parse(docs[5]);
        s = cms_container_summary(doc);
        expect_at(s, "/state", "\"dead\"", "weird");
        expect_at(s, "/created", "null", "zero time");
        expect_at(s, "/environment", "{\"NOVALUE\":\"\",\"A\":\"b=c\"}", "env");
        expect_at(s, "/command", "[\"sh\"]", "cmd string");
        expect_at(s, "/entrypoint", "[\"sh\"]", "entrypoint string");
        json_object_put(s);
        json_object_put(doc);
}

static json_object *list_item(json_object *list, const char *name)
{
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *item = cms_container_list_item(json_object_array_get_idx(list, i));
                if (!strcmp(sget(item, "/name"), name))
                        return item;
                json_object_put(item);
        }
        fail_msg("no %s in list", name);
        return NULL;
}

static void test_list_items(void **state)
{
        static const char *const keys[] = {"id",      "name",  "image",  "state", "status",
                                           "created", "ports", "labels", "health"};
        json_object *dl = fixture("docker_list.json"), *pl = fixture("podman_list.json");
        for (size_t i = 0; i < json_object_array_length(dl); i++) {
                json_object *item = cms_container_list_item(json_object_array_get_idx(dl, i));
                expect_keys(item, keys, ELEMENTSOF(keys));
                json_object_put(item);
        }
        json_object *it = list_item(dl, "model-probe1");
        expect_at(it, "/id", "\"db3254fa86c81dc76f789fdd9a9a525d55973841f0eda2c3c322bd1f964abb89\"",
                  "dl");
        expect_at(it, "/image", "\"cmsd-test/busybox:latest\"", "dl");
        expect_at(it, "/state", "\"running\"", "dl");
        expect_at(it, "/status", "\"Up 4 minutes (healthy)\"", "dl");
        expect_at(it, "/created", "\"2026-11-29T01:24:27Z\"", "dl");
        expect_at(it, "/health", "\"healthy\"", "dl");
        expect_at(it, "/labels", "{}", "dl");
        expect_at(it, "/ports",
                  "[{\"container_port\":80,\"protocol\":\"tcp\",\"host_ip\":\"127.0.0.1\",\"host_"
                  "port\":32768}]",
                  "dl");
        json_object_put(it);
        it = list_item(dl, "model-alt");
        expect_at(it, "/state", "\"paused\"", "dl alt");
        expect_at(it, "/health", "\"none\"", "dl alt");
        expect_at(
            it, "/ports",
            "[{\"container_port\":9000,\"protocol\":\"tcp\",\"host_ip\":null,\"host_port\":null}]",
            "dl alt");
        json_object_put(it);
        it = list_item(dl, "model-full");
        expect_at(it, "/state", "\"exited\"", "dl full");
        expect_at(it, "/labels", "{\"app\":\"web\",\"cmsd.test\":\"model\"}", "dl full");
        json_object_put(it);

        it = list_item(pl, "model-full");
        expect_at(it, "/image", "\"cmsd-test/busybox:latest\"", "pl"); /* "localhost/" dropped */
        expect_at(it, "/state", "\"exited\"", "pl");
        expect_at(it, "/status", "\"Exited (137) 1 second ago\"", "pl");
        expect_at(
            it, "/ports",
            "[{\"container_port\":53,\"protocol\":\"udp\",\"host_ip\":\"127.0.0.1\",\"host_port\":"
            "25353},"
            "{\"container_port\":80,\"protocol\":\"tcp\",\"host_ip\":\"0.0.0.0\",\"host_port\":"
            "28080},"
            "{\"container_port\":81,\"protocol\":\"tcp\",\"host_ip\":\"127.0.0.1\",\"host_port\":"
            "34561},"
            "{\"container_port\":82,\"protocol\":\"tcp\",\"host_ip\":\"0.0.0.0\",\"host_port\":"
            "36801},"
            "{\"container_port\":83,\"protocol\":\"tcp\",\"host_ip\":\"::1\",\"host_port\":28083}]",
            "pl");
        json_object_put(it);
        it = list_item(pl, "model-probe1");
        expect_at(it, "/health", "\"none\"", "pl"); /* Podman's compat status has no health */
        expect_at(it, "/created", "\"2026-11-29T01:24:27Z\"", "pl");
        json_object_put(it);
        json_object_put(dl);
        json_object_put(pl);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_good_configs),
            cmocka_unit_test(test_spec_name_image_warnings),
            cmocka_unit_test(test_spec_extra_keys),
            cmocka_unit_test(test_spec_pull),
            cmocka_unit_test(test_compose_zero_start_period),
            cmocka_unit_test(test_bad_configs),
            cmocka_unit_test(test_error_message_utf8),
            cmocka_unit_test(test_summary_docker_full),
            cmocka_unit_test(test_summary_podman_full),
            cmocka_unit_test(test_summary_states),
            cmocka_unit_test(test_summary_docker_alt),
            cmocka_unit_test(test_summary_health_check),
            cmocka_unit_test(test_summary_defensive),
            cmocka_unit_test(test_list_items),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
