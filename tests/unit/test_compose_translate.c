/* Unit tests for daemon/compose/translate.c: a compose service -> ContainerConfig + further
 * networks + create-body extras, and that every translated config passes the same validation as
 * POST /v1/containers (cms_container_spec_from_config), which is the point of translating. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <json-c/json_pointer.h>

#include "daemon/compose/model.h"
#include "daemon/containers/model.h"

static struct cms_compose_project *parse(const char *yaml, const char *working_dir)
{
        struct cms_compose_project *p = NULL;
        struct cms_error err = {0};
        struct cms_compose_parse_opts o = {.name = "proj", .working_dir = working_dir};
        if (cms_compose_parse(yaml, strlen(yaml), &o, &p, NULL, &err) < 0)
                fail_msg("%s", err.message);
        return p;
}

static void expect_at(json_object *doc, const char *ptr, const char *json)
{
        json_object *got = NULL, *want = json_tokener_parse(json);
        if (!want && strcmp(json, "null"))
                fail_msg("bad JSON in test: %s", json);
        if (json_pointer_get(doc, ptr, &got) < 0)
                fail_msg("%s missing in %s", ptr, json_object_to_json_string(doc));
        if (!json_object_equal(got, want))
                fail_msg("%s is %s, expected %s", ptr,
                         json_object_to_json_string_ext(got, JSON_C_TO_STRING_PLAIN), json);
        json_object_put(want);
}

static void expect_absent(json_object *doc, const char *ptr)
{
        json_object *got = NULL;
        if (json_pointer_get(doc, ptr, &got) == 0)
                fail_msg("%s should be absent, is %s", ptr, json_object_to_json_string(got));
}

/* Translates and validates; returns the container (caller: cms_compose_container_done). */
static void translate_ok(const struct cms_compose_project *p, const char *svc, int number,
                         struct cms_compose_container *c, struct cms_create_spec *spec)
{
        struct cms_error err = {0};
        const struct cms_compose_service *s = cms_compose_service_find(p, svc);
        assert_non_null(s);
        if (cms_compose_translate(p, s, number, c, &err) < 0)
                fail_msg("translate %s: %s", svc, err.message);
        if (cms_container_spec_from_config(c->config, CMS_RUNTIME_DOCKER, spec, &err) < 0)
                fail_msg("%s: ContainerConfig refused: %s\n%s", svc, err.message,
                         json_object_to_json_string(c->config));
}

static const char rich[] =
    "services:\n"
    "  web:\n"
    "    image: nginx:1.25\n"
    "    command: nginx -g 'daemon off;'\n"
    "    entrypoint: [/docker-entrypoint.sh]\n"
    "    environment: {A: \"1\", B: two}\n"
    "    labels: {team: shop}\n"
    "    user: \"101:101\"\n"
    "    working_dir: /usr/share/nginx\n"
    "    hostname: web\n"
    "    domainname: example.com\n"
    "    restart: on-failure:3\n"
    "    read_only: true\n"
    "    init: true\n"
    "    tty: true\n"
    "    cap_add: [NET_ADMIN]\n"
    "    cap_drop: [ALL]\n"
    "    ports: [\"8080:80\", \"127.0.0.1:8443:443\", \"[::1]:9000:9000/udp\", \"7000\","
    " \"8081:80\"]\n"
    "    expose: [\"3000\"]\n"
    "    volumes: [\"data:/data:ro\", \"./html:/usr/share/nginx/html\","
    " {type: tmpfs, target: /cache, tmpfs: {size: 16m, mode: 1777}}]\n"
    "    tmpfs: [\"/run:size=1m,mode=755,uid=1\"]\n"
    "    networks:\n"
    "      front: {aliases: [www]}\n"
    "      back: {priority: 10, ipv4_address: 172.28.0.10, aliases: [api, web]}\n"
    "    dns: [1.1.1.1]\n"
    "    dns_search: [example.com]\n"
    "    extra_hosts: [\"db=10.0.0.5\"]\n"
    "    mem_limit: 256m\n"
    "    memswap_limit: -1\n"
    "    mem_reservation: 64m\n"
    "    shm_size: 32m\n"
    "    cpus: 0.5\n"
    "    pids_limit: 100\n"
    "    healthcheck: {test: curl -f localhost, interval: 5s, timeout: 2s, retries: 3,"
    " start_period: 1m}\n"
    "    stop_signal: SIGQUIT\n"
    "    stop_grace_period: 1500ms\n"
    "    depends_on: [cache]\n"
    "  cache: {image: busybox}\n"
    "  db: {image: busybox, network_mode: \"service:web\"}\n"
    "  host: {image: busybox, network_mode: host, entrypoint: [], command: []}\n"
    "networks:\n"
    "  front: {}\n"
    "  back: {name: shared-back}\n"
    "volumes: {data: {}}\n";

static void test_rich_service(void **state)
{
        (void)state;
        struct cms_compose_project *p = parse(rich, "/srv/proj");
        struct cms_compose_container c;
        struct cms_create_spec spec;
        translate_ok(p, "web", 2, &c, &spec);
        json_object *cfg = c.config;
        expect_at(cfg, "/name", "\"proj-web-2\"");
        expect_at(cfg, "/image", "\"nginx:1.25\"");
        expect_at(cfg, "/command", "[\"nginx\",\"-g\",\"daemon off;\"]");
        expect_at(cfg, "/entrypoint", "[\"/docker-entrypoint.sh\"]");
        expect_at(cfg, "/environment", "{\"A\":\"1\",\"B\":\"two\"}");
        expect_at(cfg, "/labels/team", "\"shop\"");
        expect_at(cfg, "/labels/com.docker.compose.project", "\"proj\"");
        expect_at(cfg, "/labels/com.docker.compose.service", "\"web\"");
        expect_at(cfg, "/labels/com.docker.compose.container-number", "\"2\"");
        expect_at(cfg, "/labels/com.docker.compose.depends_on", "\"cache:service_started:false\"");
        expect_at(cfg, "/user", "\"101:101\"");
        expect_at(cfg, "/workdir", "\"/usr/share/nginx\"");
        expect_at(cfg, "/hostname", "\"web\"");
        expect_at(cfg, "/restart_policy", "\"on-failure:3\"");
        expect_at(cfg, "/read_only", "true");
        expect_absent(cfg, "/privileged");
        expect_at(cfg, "/capabilities", "{\"add\":[\"NET_ADMIN\"],\"drop\":[\"ALL\"]}");
        expect_at(cfg, "/volumes",
                  "[{\"type\":\"volume\",\"target\":\"/data\",\"read_only\":true,"
                  "\"source\":\"proj_data\"},"
                  "{\"type\":\"bind\",\"target\":\"/usr/share/nginx/html\","
                  "\"source\":\"/srv/proj/html\"},"
                  "{\"type\":\"tmpfs\",\"target\":\"/cache\",\"tmpfs\":{\"size\":16777216,"
                  "\"mode\":\"1777\"}},"
                  "{\"type\":\"tmpfs\",\"target\":\"/run\",\"tmpfs\":{\"size\":1048576,"
                  "\"mode\":\"755\"}}]");
        /* the highest priority network goes in the config, the other is connected after */
        expect_at(cfg, "/network/network", "\"shared-back\"");
        expect_at(cfg, "/network/aliases", "[\"web\",\"api\"]");
        expect_at(cfg, "/network/ip_address", "\"172.28.0.10\"");
        expect_at(cfg, "/network/ports",
                  "{\"80/tcp\":[\"8080\",\"8081\"],\"443/tcp\":[\"127.0.0.1:8443\"],"
                  "\"9000/udp\":[\"[::1]:9000\"],\"7000/tcp\":[\"\"],\"3000/tcp\":null}");
        expect_at(cfg, "/network/dns", "[\"1.1.1.1\"]");
        expect_at(cfg, "/network/extra_hosts", "{\"db\":\"10.0.0.5\"}");
        expect_at(c.networks, "", "[{\"network\":\"proj_front\",\"aliases\":[\"web\",\"www\"]}]");
        expect_at(cfg, "/resources",
                  "{\"memory\":268435456,\"memory_swap\":-1,\"pids_limit\":100,\"cpus\":0.5}");
        expect_at(cfg, "/health_check",
                  "{\"test\":[\"CMD-SHELL\",\"curl -f localhost\"],\"interval\":\"5000ms\","
                  "\"timeout\":\"2000ms\",\"start_period\":\"60000ms\",\"retries\":3}");
        expect_at(c.create_extras, "",
                  "{\"StopSignal\":\"SIGQUIT\",\"StopTimeout\":2,\"Tty\":true,"
                  "\"Domainname\":\"example.com\",\"HostConfig\":{\"Init\":true,"
                  "\"DnsSearch\":[\"example.com\"],\"ShmSize\":33554432,"
                  "\"MemoryReservation\":67108864}}");
        expect_at(c.warnings, "",
                  "[\"services.web.tmpfs: options other than size and mode are "
                  "ignored\"]");
        /* the engine body the daemon will send */
        expect_at(
            spec.body, "/HostConfig/PortBindings/80~1tcp",
            "[{\"HostIp\":\"\",\"HostPort\":\"8080\"},{\"HostIp\":\"\",\"HostPort\":\"8081\"}]");
        expect_at(spec.body, "/NetworkingConfig/EndpointsConfig/shared-back/Aliases",
                  "[\"web\",\"api\"]");
        expect_at(spec.body, "/HostConfig/RestartPolicy",
                  "{\"Name\":\"on-failure\",\"MaximumRetryCount\":3}");
        assert_string_equal(spec.name, "proj-web-2");
        cms_create_spec_done(&spec);
        cms_compose_container_done(&c);
        cms_compose_project_free(p);
}

static void test_network_modes(void **state)
{
        (void)state;
        struct cms_compose_project *p = parse(rich, "/srv/proj");
        struct cms_compose_container c;
        struct cms_create_spec spec;
        translate_ok(p, "db", 1, &c, &spec);
        expect_at(c.config, "/network", "{\"network\":\"container:proj-web-1\"}");
        expect_at(c.networks, "", "[]");
        expect_at(spec.body, "/HostConfig/NetworkMode", "\"container:proj-web-1\"");
        cms_create_spec_done(&spec);
        cms_compose_container_done(&c);
        translate_ok(p, "host", 1, &c, &spec);
        expect_at(c.config, "/network", "{\"network\":\"host\"}");
        /* [] clears the image's entrypoint the way the engine API spells it; [] command stays */
        expect_at(c.config, "/entrypoint", "[\"\"]");
        expect_at(c.config, "/command", "[]");
        expect_at(c.config, "/restart_policy", "\"no\"");
        expect_at(c.create_extras, "", "{}");
        cms_create_spec_done(&spec);
        cms_compose_container_done(&c);
        cms_compose_project_free(p);
}

static void test_fixture_app_validates(void **state)
{
        (void)state;
        char path[1024];
        const char *dir = getenv("CMS_TEST_FIXTURES");
        const char *slash = strrchr(__FILE__, '/');
        if (dir)
                snprintf(path, sizeof(path), "%s/compose/good_full_app.yaml", dir);
        else
                snprintf(path, sizeof(path), "%.*s/fixtures/compose/good_full_app.yaml",
                         slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
        FILE *f = fopen(path, "r");
        if (!f)
                fail_msg("cannot open %s", path);
        static char text[65536];
        size_t n = fread(text, 1, sizeof(text) - 1, f);
        fclose(f);
        text[n] = 0;
        struct cms_compose_project *p = NULL;
        struct cms_error err = {0};
        struct cms_compose_parse_opts o = {.name = "shop"};
        if (cms_compose_parse(text, n, &o, &p, NULL, &err) < 0)
                fail_msg("%s", err.message);
        for (size_t i = 0; i < p->n_services; i++)
                for (int num = 1; num <= p->services[i].replicas; num++) {
                        struct cms_compose_container c;
                        struct cms_create_spec spec;
                        translate_ok(p, p->services[i].name, num, &c, &spec);
                        expect_at(c.warnings, "", "[]");
                        cms_create_spec_done(&spec);
                        cms_compose_container_done(&c);
                }
        cms_compose_project_free(p);
}

static void test_refused(void **state)
{
        (void)state;
        static const struct {
                const char *yaml, *svc, *err;
                int number;
        } bad[] = {
            {"services: {a: {image: x, volumes: [\"./d:/d\"]}}", "a",
             "services.a.volumes: relative bind source './d' needs the project's working_dir", 1},
            {"services: {a: {image: x, volumes: [\"~/d:/d\"]}}", "a",
             "services.a.volumes: bind source '~/d' must be an absolute path", 1},
            {"services: {a: {image: x, ports: [\"8000-8010:80\"]}}", "a",
             "services.a.ports: publishing on a host port range ('8000-8010') is not supported", 1},
            {"services: {a: {image: x, env_file: [a.env]}}", "a",
             "services.a.env_file: 'a.env': env files must be read into environment", 1},
            {"services: {a: {image: x}}", "a", "services.a: no replica number 0", 0},
            {"services: {a: {image: x, container_name: solo}}", "a",
             "services.a: no replica number 2", 2},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct cms_compose_project *p = parse(bad[i].yaml, NULL);
                struct cms_compose_container c;
                struct cms_error err = {0};
                assert_true(cms_compose_translate(p, cms_compose_service_find(p, bad[i].svc),
                                                  bad[i].number, &c, &err) < 0);
                assert_null(c.config);
                assert_int_equal(err.status, 400);
                if (!strstr(err.message, bad[i].err))
                        fail_msg("'%s', expected '%s'", err.message, bad[i].err);
                cms_compose_project_free(p);
        }
}

static void test_warned(void **state)
{
        (void)state;
        struct cms_compose_project *p =
            parse("services: {a: {image: x, platform: linux/arm64, "
                  "env_file: [{path: opt.env, required: false}], "
                  "volumes: [\"/h:/c:rshared,z\", \"v:/v:nocopy\"], "
                  "healthcheck: {test: [CMD, \"true\"], start_interval: 1s}}}\n"
                  "volumes: {v: {}}\n",
                  NULL);
        struct cms_compose_container c;
        struct cms_create_spec spec;
        translate_ok(p, "a", 1, &c, &spec);
        expect_at(c.warnings, "",
                  "[\"services.a.env_file: optional env files not read before translation, ignored\","
                  "\"services.a.platform: not supported by cmsd, ignored\","
                  "\"services.a.volumes: bind propagation and SELinux options are not supported "
                  "by cmsd, ignored\","
                  "\"services.a.volumes: volume nocopy and subpath are not supported by cmsd, "
                  "ignored\","
                  "\"services.a.healthcheck.start_interval: not supported by the engine API cmsd "
                  "uses, ignored\"]");
        cms_create_spec_done(&spec);
        cms_compose_container_done(&c);
        cms_compose_project_free(p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_rich_service),
            cmocka_unit_test(test_network_modes),
            cmocka_unit_test(test_fixture_app_validates),
            cmocka_unit_test(test_refused),
            cmocka_unit_test(test_warned),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
