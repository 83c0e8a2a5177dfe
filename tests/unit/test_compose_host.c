/* Unit tests for the compose runtime keys that reach the host (daemon/compose/parse_host.c,
 * model_json_host.c, translate_host.c): each key parsed in the specification's forms,
 * normalized in the model, part of the config hash, translated into the engine's create-body
 * member, and the engine notes that say what an engine does not apply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <json-c/json_pointer.h>

#include "daemon/compose/model.h"

static struct cms_compose_project *parse_w(const char *yaml, json_object *warnings)
{
        struct cms_compose_project *p = NULL;
        struct cms_error err = {0};
        struct cms_compose_parse_opts o = {.name = "proj", .working_dir = "/srv"};
        json_object *env = json_tokener_parse("{\"NOFILE\":\"2048\",\"SOMAX\":\"512\"}");
        o.env = env;
        if (cms_compose_parse(yaml, strlen(yaml), &o, &p, warnings, &err) < 0)
                fail_msg("%s", err.message);
        json_object_put(env);
        return p;
}

static struct cms_compose_project *parse(const char *yaml)
{
        return parse_w(yaml, NULL);
}

static void parse_fails(const char *yaml, const char *msg)
{
        struct cms_compose_project *p = NULL;
        struct cms_error err = {0};
        struct cms_compose_parse_opts o = {.name = "proj"};
        if (cms_compose_parse(yaml, strlen(yaml), &o, &p, NULL, &err) == 0)
                fail_msg("parsed: %s", yaml);
        if (!strstr(err.message, msg))
                fail_msg("error '%s' lacks '%s'", err.message, msg);
        assert_int_equal(err.status, 400);
}

static void expect_at(json_object *doc, const char *ptr, const char *json)
{
        json_object *got = NULL, *want = json_tokener_parse(json);
        if (json_pointer_get(doc, ptr, &got) < 0)
                fail_msg("%s missing in %s", ptr, json_object_to_json_string(doc));
        if (!json_object_equal(got, want))
                fail_msg("%s is %s, expected %s", ptr,
                         json_object_to_json_string_ext(got, JSON_C_TO_STRING_PLAIN), json);
        json_object_put(want);
}

static const char kitchen[] =
    "services:\n"
    "  db:\n"
    "    image: busybox\n"
    "  web:\n"
    "    image: busybox\n"
    "    ulimits:\n"
    "      nofile: {soft: 1024, hard: \"${NOFILE}\"}\n"
    "      nproc: 512\n"
    "    sysctls: [\"net.core.somaxconn=${SOMAX}\", \"kernel.shmmax=1000\"]\n"
    "    devices: [\"/dev/zero:/dev/myzero\", \"/dev/null:r\",\n"
    "              {source: /dev/full, target: /dev/f, permissions: rw}]\n"
    "    device_cgroup_rules: [\"c 1:3 mr\"]\n"
    "    security_opt: [\"seccomp:unconfined\", \"no-new-privileges:true\"]\n"
    "    pid: service:db\n"
    "    ipc: shareable\n"
    "    uts: host\n"
    "    userns_mode: host\n"
    "    cgroup: private\n"
    "    cgroup_parent: /parent\n"
    "    group_add: [\"1234\", audio]\n"
    "    mem_swappiness: 10\n"
    "    oom_kill_disable: true\n"
    "    oom_score_adj: -200\n"
    "    cpu_count: 2\n"
    "    cpu_percent: 50\n"
    "    cpu_rt_period: 1000000\n"
    "    cpu_rt_runtime: 950ms\n"
    "    blkio_config:\n"
    "      weight: 300\n"
    "      weight_device: [{path: /dev/vda, weight: 400}]\n"
    "      device_read_bps: [{path: /dev/vda, rate: 1mb}]\n"
    "      device_write_iops: [{path: /dev/vda, rate: 120}]\n"
    "    mac_address: 02:42:ac:11:00:42\n"
    "    runtime: runc\n"
    "    isolation: default\n"
    "    storage_opt: {size: 1G}\n"
    "    annotations: [\"com.example.a=b\"]\n"
    "    attach: false\n"
    "    logging: {driver: json-file, options: {max-size: 1m, max-file: 3}}\n"
    "    volumes_from: [db, \"container:other:ro\"]\n"
    "    external_links: [\"outside\", \"far:alias\"]\n";

static void test_normalized(void **state)
{
        json_object *w = json_object_new_array();
        struct cms_compose_project *p = parse_w(kitchen, w);
        json_object *m = cms_compose_service_to_json(cms_compose_service_find(p, "web"));
        for (size_t i = 0; i < json_object_array_length(w); i++)
                if (strstr(json_object_get_string(json_object_array_get_idx(w, i)), "web."))
                        fail_msg("warning: %s", json_object_to_json_string(w));
        expect_at(m, "/ulimits",
                  "{\"nofile\":{\"soft\":1024,\"hard\":2048},"
                  "\"nproc\":{\"soft\":512,\"hard\":512}}");
        expect_at(m, "/sysctls", "{\"kernel.shmmax\":\"1000\",\"net.core.somaxconn\":\"512\"}");
        expect_at(m, "/devices",
                  "[\"/dev/zero:/dev/myzero:rwm\",\"/dev/null:/dev/null:r\","
                  "\"/dev/full:/dev/f:rw\"]");
        expect_at(m, "/security_opt", "[\"seccomp=unconfined\",\"no-new-privileges\"]");
        expect_at(m, "/pid", "\"service:db\"");
        expect_at(m, "/cgroup", "\"private\"");
        expect_at(m, "/group_add", "[\"1234\",\"audio\"]");
        expect_at(m, "/mem_swappiness", "10");
        expect_at(m, "/oom_kill_disable", "true");
        expect_at(m, "/oom_score_adj", "-200");
        expect_at(m, "/cpu_rt_runtime", "950000");
        expect_at(m, "/blkio_config",
                  "{\"weight\":300,\"weight_device\":[{\"path\":\"/dev/vda\","
                  "\"weight\":400}],\"device_read_bps\":[{\"path\":"
                  "\"/dev/vda\",\"rate\":1048576}],\"device_write_iops\":"
                  "[{\"path\":\"/dev/vda\",\"rate\":120}]}");
        expect_at(m, "/storage_opt", "{\"size\":\"1G\"}");
        expect_at(m, "/annotations", "{\"com.example.a\":\"b\"}");
        expect_at(m, "/attach", "false");
        expect_at(m, "/logging",
                  "{\"driver\":\"json-file\",\"options\":{\"max-file\":\"3\","
                  "\"max-size\":\"1m\"}}");
        expect_at(m, "/volumes_from", "[\"service:db\",\"container:other:ro\"]");
        expect_at(m, "/external_links", "[\"far:alias\",\"outside:outside\"]");
        /* volumes_from and pid service: order the start after db */
        expect_at(m, "/depends_on/db/implicit", "true");
        json_object_put(m);
        json_object_put(w);
        cms_compose_project_free(p);
}

static void test_translated(void **state)
{
        struct cms_compose_project *p = parse(kitchen);
        struct cms_compose_container c;
        struct cms_error err = {0};
        if (cms_compose_translate(p, cms_compose_service_find(p, "web"), 1, &c, &err) < 0)
                fail_msg("%s", err.message);
        json_object *x = c.create_extras;
        expect_at(x, "/MacAddress", "\"02:42:ac:11:00:42\"");
        expect_at(x, "/HostConfig/Ulimits",
                  "[{\"Name\":\"nofile\",\"Soft\":1024,\"Hard\":2048},"
                  "{\"Name\":\"nproc\",\"Soft\":512,\"Hard\":512}]");
        expect_at(x, "/HostConfig/Sysctls/net.core.somaxconn", "\"512\"");
        expect_at(x, "/HostConfig/Devices/0",
                  "{\"PathOnHost\":\"/dev/zero\",\"PathInContainer\":"
                  "\"/dev/myzero\",\"CgroupPermissions\":\"rwm\"}");
        expect_at(x, "/HostConfig/DeviceCgroupRules", "[\"c 1:3 mr\"]");
        expect_at(x, "/HostConfig/SecurityOpt", "[\"seccomp=unconfined\",\"no-new-privileges\"]");
        expect_at(x, "/HostConfig/PidMode", "\"container:proj-db-1\"");
        expect_at(x, "/HostConfig/IpcMode", "\"shareable\"");
        expect_at(x, "/HostConfig/UTSMode", "\"host\"");
        expect_at(x, "/HostConfig/UsernsMode", "\"host\"");
        expect_at(x, "/HostConfig/CgroupnsMode", "\"private\"");
        expect_at(x, "/HostConfig/CgroupParent", "\"/parent\"");
        expect_at(x, "/HostConfig/GroupAdd", "[\"1234\",\"audio\"]");
        expect_at(x, "/HostConfig/MemorySwappiness", "10");
        expect_at(x, "/HostConfig/OomKillDisable", "true");
        expect_at(x, "/HostConfig/OomScoreAdj", "-200");
        expect_at(x, "/HostConfig/CpuCount", "2");
        expect_at(x, "/HostConfig/CpuPercent", "50");
        expect_at(x, "/HostConfig/CpuRealtimePeriod", "1000000");
        expect_at(x, "/HostConfig/CpuRealtimeRuntime", "950000");
        expect_at(x, "/HostConfig/BlkioWeight", "300");
        expect_at(x, "/HostConfig/BlkioWeightDevice", "[{\"Path\":\"/dev/vda\",\"Weight\":400}]");
        expect_at(x, "/HostConfig/BlkioDeviceReadBps",
                  "[{\"Path\":\"/dev/vda\",\"Rate\":1048576}]");
        expect_at(x, "/HostConfig/BlkioDeviceWriteIOps", "[{\"Path\":\"/dev/vda\",\"Rate\":120}]");
        expect_at(x, "/HostConfig/Runtime", "\"runc\"");
        expect_at(x, "/HostConfig/Isolation", "\"default\"");
        expect_at(x, "/HostConfig/StorageOpt", "{\"size\":\"1G\"}");
        expect_at(x, "/HostConfig/Annotations", "{\"com.example.a\":\"b\"}");
        expect_at(x, "/HostConfig/LogConfig",
                  "{\"Type\":\"json-file\",\"Config\":{\"max-file\":"
                  "\"3\",\"max-size\":\"1m\"}}");
        expect_at(x, "/HostConfig/VolumesFrom", "[\"proj-db-1\",\"other:ro\"]");
        expect_at(x, "/HostConfig/Links", "[\"far:alias\",\"outside:outside\"]");
        cms_compose_container_done(&c);
        /* a service without the keys gets none of the members */
        assert_int_equal(cms_compose_translate(p, cms_compose_service_find(p, "db"), 1, &c, &err),
                         0);
        assert_null(cms_json_get(c.create_extras, "HostConfig"));
        cms_compose_container_done(&c);
        cms_compose_project_free(p);
}

/* Every key changes the hash; the spellings of one value do not. */
static void test_hash(void **state)
{
        static const char *const variants[] = {
            "ulimits: {nofile: 10}",
            "sysctls: {net.core.somaxconn: 5}",
            "devices: [/dev/zero]",
            "device_cgroup_rules: [a]",
            "security_opt: [label=disable]",
            "pid: host",
            "ipc: private",
            "uts: host",
            "userns_mode: host",
            "cgroup: host",
            "cgroup_parent: x",
            "group_add: [\"5\"]",
            "mem_swappiness: 0",
            "oom_kill_disable: true",
            "oom_score_adj: 0",
            "blkio_config: {weight: 10}",
            "cpu_count: 1",
            "cpu_percent: 1",
            "cpu_rt_period: 1",
            "cpu_rt_runtime: 1",
            "mac_address: 02:00:00:00:00:01",
            "runtime: runc",
            "isolation: default",
            "storage_opt: {size: 1G}",
            "annotations: {a: b}",
            "attach: false",
            "logging: {driver: local}",
            "volumes_from: [\"container:x\"]",
            "external_links: [x]",
        };
        char base[CMS_COMPOSE_HASH_LEN + 1], h[CMS_COMPOSE_HASH_LEN + 1], y[256];
        struct cms_compose_project *p = parse("services: {s: {image: busybox}}");
        assert_int_equal(cms_compose_config_hash(cms_compose_service_find(p, "s"), base), 0);
        cms_compose_project_free(p);
        for (size_t i = 0; i < sizeof(variants) / sizeof(*variants); i++) {
                snprintf(y, sizeof(y), "services: {s: {image: busybox, %s}}", variants[i]);
                p = parse(y);
                assert_int_equal(cms_compose_config_hash(cms_compose_service_find(p, "s"), h), 0);
                if (!strcmp(h, base))
                        fail_msg("%s does not change the hash", variants[i]);
                cms_compose_project_free(p);
        }
        static const char *const same[][2] = {
            {"ulimits: {nofile: 10}", "ulimits: {nofile: {hard: 10, soft: 10}}"},
            {"sysctls: {a.b: \"1\"}", "sysctls: [a.b=1]"},
            {"devices: [/dev/zero]", "devices: [{source: /dev/zero}]"},
            {"security_opt: [\"seccomp:unconfined\"]", "security_opt: [seccomp=unconfined]"},
            {"attach: true", "init: false"},
            {"volumes_from: [\"x\"]", "volumes_from: [\"service:x\"]"},
        };
        for (size_t i = 0; i < sizeof(same) / sizeof(*same); i++) {
                char a[CMS_COMPOSE_HASH_LEN + 1];
                for (int k = 0; k < 2; k++) {
                        snprintf(y, sizeof(y),
                                 "services: {x: {image: busybox}, s: {image: busybox, %s}}",
                                 same[i][k]);
                        p = parse(y);
                        cms_compose_config_hash(cms_compose_service_find(p, "s"), k ? h : a);
                        cms_compose_project_free(p);
                }
                if (strcmp(a, h))
                        fail_msg("%s and %s hash differently", same[i][0], same[i][1]);
        }
}

static void test_refused(void **state)
{
        parse_fails("services: {s: {image: b, ulimits: {nofiles: 1}}}", "unknown ulimit 'nofiles'");
        /* A bad entry after a good one: the list was sorted with the failed entry's NULL name
         * in it (strcmp(NULL): a viewer's POST /v1/projects/config took cmsd down). */
        parse_fails("services: {s: {image: b, ulimits: {nofile: 1, B: two}}}",
                    "unknown ulimit 'B'");
        parse_fails("services: {s: {image: b, ulimits: {core: 0, nofile: {soft: 5, hard: 2}}}}",
                    "soft limit above the hard limit");
        /* Its normalized name was leaked (make asan's LeakSanitizer). */
        parse_fails("services: {s: {image: b, volumes_from: [s]}}", "depends on itself");
        parse_fails("services: {s: {image: b, ulimits: {nofile: {soft: 5, hard: 2}}}}",
                    "soft limit above the hard limit");
        parse_fails("services: {s: {image: b, ulimits: {nofile: {soft: 5}}}}",
                    "needs both soft and hard");
        parse_fails("services: {s: {image: b, devices: [dev/zero]}}", "must be an absolute path");
        parse_fails("services: {s: {image: b, devices: [\"/dev/zero:/x:q\"]}}",
                    "not a set of r, w, m");
        parse_fails("services: {s: {image: b, sysctls: [a]}}", "'a' has no value");
        parse_fails("services: {s: {image: b, mem_swappiness: 101}}", "out of range");
        parse_fails("services: {s: {image: b, oom_score_adj: -1001}}", "out of range");
        parse_fails("services: {s: {image: b, pid: bogus}}", "not a mode cmsd knows");
        parse_fails("services: {s: {image: b, uts: private}}", "the only uts mode is host");
        parse_fails("services: {s: {image: b, cgroup: other}}", "is not host or private");
        parse_fails("services: {s: {image: b, blkio_config: {weight: 5}}}", "out of range");
        /* found by fuzzing: an entry without path parsed and crashed translation */
        parse_fails("services: {s: {image: b, blkio_config: {weight_device: [{}]}}}",
                    "weight_device[0].path");
        parse_fails("services: {s: {image: b, blkio_config: {device_read_bps: [{rate: 1}]}}}",
                    "device_read_bps[0].path");
        parse_fails("services: {s: {image: b, device_cgroup_rules: [\"x 1:3 r\"]}}",
                    "not a device cgroup rule");
        parse_fails("services: {s: {image: b, volumes_from: [nothere]}}", "undefined service");
        parse_fails("services: {s: {image: b, cpu_rt_runtime: soon}}", "not microseconds");
        parse_fails("services: {s: {image: b, external_links: [\"a:b:c\"]}}",
                    "not \"container[:alias]\"");
}

static bool has_warning(json_object *w, const char *text)
{
        for (size_t i = 0; i < json_object_array_length(w); i++)
                if (strstr(json_object_get_string(json_object_array_get_idx(w, i)), text))
                        return true;
        return false;
}

static void test_engine_notes(void **state)
{
        struct cms_compose_project *p = parse(kitchen);
        const struct cms_compose_service *s = cms_compose_service_find(p, "web");
        json_object *d = json_object_new_array(), *pm = json_object_new_array();
        cms_compose_engine_notes(s, false, "docker", d);
        cms_compose_engine_notes(s, true, "podman", pm);
        assert_true(has_warning(d, "services.web.cpu_count: docker: Windows-only"));
        assert_true(has_warning(d, "services.web.annotations: docker:"));
        assert_false(has_warning(d, "mac_address"));
        assert_false(has_warning(d, "runtime"));
        assert_true(has_warning(pm, "services.web.mac_address: podman: ignored"));
        assert_true(has_warning(pm, "services.web.runtime: podman:"));
        assert_true(has_warning(pm, "services.web.device_cgroup_rules: podman:"));
        assert_true(has_warning(pm, "services.web.cgroup: podman:"));
        assert_true(has_warning(pm, "services.web.isolation: podman:"));
        assert_true(has_warning(pm, "services.web.logging.options: podman:"));
        json_object_put(d);
        json_object_put(pm);
        d = json_object_new_array();
        cms_compose_engine_notes(cms_compose_service_find(p, "db"), true, "podman", d);
        assert_int_equal(json_object_array_length(d), 0);
        json_object_put(d);
        cms_compose_project_free(p);
}

static void test_build_keys(void **state)
{
        struct cms_compose_project *p =
            parse("services: {s: {build: {context: ., labels: [a=1, b], additional_contexts: "
                  "{base: /srv/base}}}}");
        const struct cms_compose_service *s = cms_compose_service_find(p, "s");
        json_object *m = cms_compose_service_to_json(s), *w = json_object_new_array();
        expect_at(m, "/build/labels", "{\"a\":\"1\",\"b\":\"\"}");
        expect_at(m, "/build/additional_contexts", "{\"base\":\"/srv/base\"}");
        cms_compose_engine_notes(s, false, "docker", w);
        assert_true(has_warning(w, "services.s.build.additional_contexts: docker:"));
        json_object_put(m);
        json_object_put(w);
        cms_compose_project_free(p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_normalized),   cmocka_unit_test(test_translated),
            cmocka_unit_test(test_hash),         cmocka_unit_test(test_refused),
            cmocka_unit_test(test_engine_notes), cmocka_unit_test(test_build_keys),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
