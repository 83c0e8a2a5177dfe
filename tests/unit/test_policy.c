/* Unit tests for daemon/security/policy.c and the config's policies: section: a table of engine
 * create bodies (as the container model builds them) against policies read from YAML, each row
 * allowed or denied with the rule and the field path; path normalization and the spellings an
 * attacker would try (.., //, symlinks, capability aliases, the engine socket and the
 * directories above it); volume and network bodies; config errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon/config.h"
#include "daemon/security/redact.h"

static const char *const yaml = "listen: ['127.0.0.1:1']\n"
                                "tokens:\n"
                                "  - {name: a, role: admin, token: t1}\n"
                                "  - {name: o, role: operator, token: t2}\n"
                                "  - {name: ci, role: operator, token: t3, policy: ci}\n"
                                "policies:\n"
                                "  ci:\n"
                                "    cap_add: [net_bind_service, CAP_CHOWN]\n"
                                "    bind_paths: [/srv/ci/, /run/docker.sock]\n"
                                "    images: ['127.0.0.1:5000/*', 'busybox:*']\n"
                                "    build_paths: [/srv/build]\n"
                                "  wide:\n"
                                "    privileged: true\n"
                                "    host_namespaces: true\n"
                                "    driver_options: true\n"
                                "    bind_paths: [/]\n"
                                "  empty:\n";

static struct cms_config *load(void)
{
        struct cms_config *c = NULL;
        struct cms_config_error e = {0};
        if (cms_config_load_string(yaml, strlen(yaml), "test", &c, &e) < 0)
                fail_msg("config: %s: %s", e.key, e.message);
        return c;
}

static json_object *parse(const char *text)
{
        json_object *o = json_tokener_parse(text);
        if (!o)
                fail_msg("bad JSON in test: %s", text);
        return o;
}

/* A link farm: /tmp/x/ok -> /srv/ci/data, /tmp/x/out -> / (as a resolver would report). */
static char *fake_resolve(const char *path)
{
        if (!strcmp(path, "/srv/ci/link"))
                return strdup("/etc");
        if (!strcmp(path, "/srv/ci/sock"))
                return strdup("/run/podman/podman.sock");
        return NULL;
}

struct row {
        const char *policy, *body, *rule, *field; /* rule NULL: allowed */
};

static const struct row rows[] = {
    /* privileged */
    {"restricted", "{\"Image\":\"x\",\"HostConfig\":{\"Privileged\":true}}", "privileged",
     "privileged"},
    {"restricted", "{\"Image\":\"x\",\"HostConfig\":{\"Privileged\":false}}", NULL, NULL},
    {"wide", "{\"Image\":\"x\",\"HostConfig\":{\"Privileged\":true}}", NULL, NULL},
    {"unrestricted", "{\"Image\":\"x\",\"HostConfig\":{\"Privileged\":true}}", NULL, NULL},
    /* capabilities, in every spelling */
    {"restricted", "{\"HostConfig\":{\"CapAdd\":[\"CAP_NET_BIND_SERVICE\"]}}", "cap_add",
     "capabilities.add[0]"},
    {"ci", "{\"HostConfig\":{\"CapAdd\":[\"CAP_NET_BIND_SERVICE\",\"CAP_CHOWN\"]}}", NULL, NULL},
    {"ci", "{\"HostConfig\":{\"CapAdd\":[\"chown\",\"Cap_Net_Bind_Service\"]}}", NULL, NULL},
    {"ci", "{\"HostConfig\":{\"CapAdd\":[\"CAP_CHOWN\",\"CAP_SYS_ADMIN\"]}}", "cap_add",
     "capabilities.add[1]"},
    {"ci", "{\"HostConfig\":{\"CapAdd\":[\"ALL\"]}}", "cap_add", "capabilities.add[0]"},
    {"ci", "{\"HostConfig\":{\"CapAdd\":[\"all\"]}}", "cap_add", "capabilities.add[0]"},
    {"ci", "{\"HostConfig\":{\"CapAdd\":[\"sys_module\"]}}", "cap_add", "capabilities.add[0]"},
    {"ci", "{\"HostConfig\":{\"CapAdd\":[\"CAP_BOGUS\"]}}", "cap_add", "capabilities.add[0]"},
    {"ci", "{\"HostConfig\":{\"CapDrop\":[\"ALL\"]}}", NULL, NULL},
    /* bind mounts */
    {"restricted", "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/srv/ci\"}]}}",
     "bind_paths", "volumes[0].source"},
    {"ci", "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/srv/ci/data\"}]}}", NULL,
     NULL},
    {"ci", "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/srv/ci\"}]}}", NULL,
     NULL},
    {"ci", "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/srv/cix\"}]}}",
     "bind_paths", "volumes[0].source"},
    {"ci", "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/srv/ci/../../etc\"}]}}",
     "bind_paths", "volumes[0].source"},
    {"ci", "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"//srv//ci/./x\"}]}}", NULL,
     NULL},
    {"ci", "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/srv/ci/link\"}]}}",
     "bind_paths", "volumes[0].source"},
    {"ci",
     "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"volume\",\"Source\":\"v\"},{\"Type\":\"bind\","
     "\"Source\":\"/\"}]}}",
     "engine_socket", "volumes[1].source"},
    {"ci", "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/srv/ci/sock\"}]}}",
     "engine_socket", "volumes[0].source"},
    {"ci", "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/run/docker.sock\"}]}}",
     NULL, NULL},
    {"wide", "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/etc\"}]}}", NULL, NULL},
    {"wide", "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/var/run\"}]}}",
     "engine_socket", "volumes[0].source"},
    {"wide",
     "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/var/run/docker.sock\"}]}}",
     "engine_socket", "volumes[0].source"},
    {"wide", "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/run/podman\"}]}}",
     "engine_socket", "volumes[0].source"},
    {"restricted", "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"relative\"}]}}",
     "bind_paths", "volumes[0].source"},
    {"restricted", "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"tmpfs\",\"Target\":\"/t\"}]}}", NULL,
     NULL},
    {"restricted", "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"npipe\",\"Source\":\"x\"}]}}",
     "unknown_field", "volumes[0].source"},
    {"restricted", "{\"HostConfig\":{\"Binds\":[\"/etc:/x:ro\"]}}", "bind_paths",
     "HostConfig.Binds[0]"},
    {"restricted", "{\"HostConfig\":{\"Binds\":[\"named:/x\"]}}", NULL, NULL},
    /* namespaces */
    {"restricted", "{\"HostConfig\":{\"NetworkMode\":\"host\"}}", "host_namespaces",
     "network.network"},
    {"restricted", "{\"HostConfig\":{\"NetworkMode\":\"container:abc\"}}", "host_namespaces",
     "network.network"},
    {"restricted", "{\"HostConfig\":{\"NetworkMode\":\"bridge\"}}", NULL, NULL},
    {"restricted", "{\"HostConfig\":{\"NetworkMode\":\"mynet\"}}", NULL, NULL},
    {"restricted", "{\"HostConfig\":{\"PidMode\":\"host\"}}", "host_namespaces", "pid"},
    {"restricted", "{\"HostConfig\":{\"IpcMode\":\"host\"}}", "host_namespaces", "ipc"},
    {"restricted", "{\"HostConfig\":{\"UTSMode\":\"host\"}}", "host_namespaces", "uts"},
    {"restricted", "{\"HostConfig\":{\"UsernsMode\":\"host\"}}", "host_namespaces", "userns_mode"},
    {"restricted", "{\"NetworkingConfig\":{\"EndpointsConfig\":{\"host\":{}}}}", "host_namespaces",
     "network.network"},
    {"wide", "{\"HostConfig\":{\"NetworkMode\":\"host\",\"PidMode\":\"host\"}}", NULL, NULL},
    /* devices and friends, and what the evaluator does not know */
    {"restricted", "{\"HostConfig\":{\"Devices\":[{\"PathOnHost\":\"/dev/sda\"}]}}", "privileged",
     "devices[0]"},
    {"restricted", "{\"HostConfig\":{\"SecurityOpt\":[\"seccomp=unconfined\"]}}", "privileged",
     "security_opt[0]"},
    {"restricted", "{\"HostConfig\":{\"Sysctls\":{\"kernel.x\":\"1\"}}}", "sysctls",
     "sysctls.kernel.x"},
    {"wide", "{\"HostConfig\":{\"Sysctls\":{\"vm.swappiness\":\"1\"}}}", "sysctls",
     "sysctls.vm.swappiness"},
    {"restricted",
     "{\"HostConfig\":{\"Sysctls\":{\"net.ipv4.ip_forward\":\"1\","
     "\"kernel.shmmax\":\"1\",\"fs.mqueue.msg_max\":\"9\"}}}",
     NULL, NULL},
    {"restricted",
     "{\"HostConfig\":{\"NetworkMode\":\"bridge\",\"Sysctls\":{"
     "\"net.core.somaxconn\":\"1\"}}}",
     NULL, NULL},
    {"wide",
     "{\"HostConfig\":{\"NetworkMode\":\"host\",\"Sysctls\":{"
     "\"net.core.somaxconn\":\"1\"}}}",
     "sysctls", "sysctls.net.core.somaxconn"},
    {"wide",
     "{\"HostConfig\":{\"IpcMode\":\"host\",\"Sysctls\":{"
     "\"kernel.shmmax\":\"1\"}}}",
     "sysctls", "sysctls.kernel.shmmax"},
    {"restricted",
     "{\"HostConfig\":{\"Devices\":[{\"PathOnHost\":\"/dev/zero\"},"
     "{\"PathOnHost\":\"/dev/sda\"}]}}",
     "privileged", "devices[0]"},
    {"restricted", "{\"HostConfig\":{\"DeviceCgroupRules\":[\"c 1:3 mr\"]}}", "privileged",
     "device_cgroup_rules[0]"},
    {"restricted",
     "{\"HostConfig\":{\"SecurityOpt\":[\"no-new-privileges\","
     "\"apparmor=unconfined\"]}}",
     "privileged", "security_opt[1]"},
    {"restricted", "{\"HostConfig\":{\"SecurityOpt\":[\"no-new-privileges:true\"]}}", NULL, NULL},
    {"restricted", "{\"HostConfig\":{\"CgroupnsMode\":\"host\"}}", "host_namespaces", "cgroup"},
    {"restricted", "{\"HostConfig\":{\"CgroupnsMode\":\"private\"}}", NULL, NULL},
    {"restricted", "{\"HostConfig\":{\"CgroupParent\":\"x.slice\"}}", "privileged",
     "cgroup_parent"},
    {"restricted", "{\"HostConfig\":{\"Runtime\":\"runc\"}}", "privileged", "runtime"},
    {"restricted", "{\"HostConfig\":{\"OomKillDisable\":true}}", "privileged", "oom_kill_disable"},
    {"restricted", "{\"HostConfig\":{\"OomKillDisable\":false,\"OomScoreAdj\":500}}", NULL, NULL},
    {"restricted", "{\"HostConfig\":{\"OomScoreAdj\":-500}}", "privileged", "oom_score_adj"},
    {"restricted", "{\"HostConfig\":{\"VolumesFrom\":[\"stranger:ro\"]}}", "privileged",
     "volumes_from[0]"},
    {"restricted",
     "{\"HostConfig\":{\"Annotations\":{\"run.oci.keep_original_groups\":"
     "\"1\"}}}",
     "privileged", "annotations.run.oci.keep_original_groups"},
    {"restricted", "{\"HostConfig\":{\"Annotations\":{\"com.example.team\":\"a\"}}}", NULL, NULL},
    {"restricted",
     "{\"HostConfig\":{\"LogConfig\":{\"Type\":\"json-file\",\"Config\":{"
     "\"max-size\":\"1m\",\"max-file\":\"2\"}}}}",
     NULL, NULL},
    {"restricted", "{\"HostConfig\":{\"LogConfig\":{\"Type\":\"syslog\",\"Config\":{}}}}",
     "driver_options", "logging.driver"},
    {"restricted",
     "{\"HostConfig\":{\"LogConfig\":{\"Type\":\"k8s-file\",\"Config\":{"
     "\"path\":\"/etc/x\"}}}}",
     "driver_options", "logging.options.path"},
    {"restricted",
     "{\"MacAddress\":\"02:42:ac:11:00:09\",\"HostConfig\":{\"Ulimits\":[],"
     "\"GroupAdd\":[\"1\"],\"MemorySwappiness\":0,\"BlkioWeight\":300,\"CpuCount\":1,"
     "\"CpuPercent\":1,\"CpuRealtimePeriod\":1,\"CpuRealtimeRuntime\":1,\"Isolation\":"
     "\"default\",\"StorageOpt\":{},\"Links\":[\"a:b\"]}}",
     NULL, NULL},
    {"wide", "{\"HostConfig\":{\"Devices\":[]}}", NULL, NULL},
    {"restricted", "{\"HostConfig\":{\"VolumeDriver\":\"x\"}}", "unknown_field",
     "HostConfig.VolumeDriver"},
    {"restricted", "{\"Volumes\":{\"/x\":{}}}", "unknown_field", "Volumes"},
    {"restricted",
     "{\"Image\":\"x\",\"Cmd\":[\"sh\"],\"Env\":[\"A=1\"],\"HostConfig\":{\"Memory\":1,"
     "\"RestartPolicy\":{},\"PortBindings\":{},\"Init\":true}}",
     NULL, NULL},
    /* images */
    {"ci", "{\"Image\":\"busybox\"}", NULL, NULL},
    {"ci", "{\"Image\":\"busybox:1.36\"}", NULL, NULL},
    {"ci", "{\"Image\":\"127.0.0.1:5000/team/app:1\"}", NULL, NULL},
    {"ci", "{\"Image\":\"evil.example/busybox:latest\"}", "images", "image"},
    {"ci", "{\"Image\":\"sha256:0123456789abcdef0123456789abcdef\"}", "images", "image"},
    {"restricted", "{\"Image\":\"anything:else\"}", NULL, NULL},
};

static void test_create_table(void **state)
{
        struct cms_config *c = load();
        struct cms_policy_env env = {.resolve = fake_resolve};
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                const struct cms_policy *p = cms_config_policy(c, rows[i].policy);
                assert_non_null(p);
                json_object *body = parse(rows[i].body), *d = json_object_new_array();
                int n = cms_policy_check_create(p, &env, body, "", d);
                assert_int_equal(n, (int)json_object_array_length(d));
                if (!rows[i].rule && n)
                        fail_msg("row %zu (%s): denied: %s", i, rows[i].body,
                                 json_object_to_json_string(d));
                if (rows[i].rule) {
                        json_object *first = json_object_array_get_idx(d, 0);
                        if (!first)
                                fail_msg("row %zu (%s): allowed", i, rows[i].body);
                        const char *rule = json_object_get_string(cms_json_get(first, "rule"));
                        const char *field = json_object_get_string(cms_json_get(first, "field"));
                        if (strcmp(rule, rows[i].rule) || strcmp(field, rows[i].field))
                                fail_msg("row %zu (%s): got %s at %s, want %s at %s", i,
                                         rows[i].body, rule, field, rows[i].rule, rows[i].field);
                }
                json_object_put(body);
                json_object_put(d);
        }
        cms_config_free(c);
}

static void test_prefix_and_own_containers(void **state)
{
        json_object *body = parse("{\"HostConfig\":{\"NetworkMode\":\"container:proj-db-1\","
                                  "\"PidMode\":\"container:proj-db-1\",\"VolumesFrom\":"
                                  "[\"proj-db-1:ro\"],\"Privileged\":true}}");
        const char *const own[] = {"proj-db-1", NULL};
        struct cms_policy_env env = {.own_containers = own};
        json_object *d = json_object_new_array();
        assert_int_equal(
            cms_policy_check_create(cms_policy_restricted(), &env, body, "services.web.", d), 1);
        assert_string_equal(
            json_object_get_string(cms_json_get(json_object_array_get_idx(d, 0), "field")),
            "services.web.privileged");
        json_object_put(d);
        json_object_put(body);
}

static void test_volumes_and_networks(void **state)
{
        struct cms_config *c = load();
        const struct cms_policy *ci = cms_config_policy(c, "ci"), *r = cms_policy_restricted();
        static const struct {
                bool network;
                const char *policy, *body, *rule, *field;
        } v[] = {
            {false, "restricted", "{\"name\":\"a\"}", NULL, NULL},
            {false, "restricted",
             "{\"name\":\"a\",\"options\":{\"type\":\"tmpfs\",\"device\":\"tmpfs\",\"o\":"
             "\"size=1m\"}}",
             NULL, NULL},
            {false, "restricted",
             "{\"name\":\"a\",\"options\":{\"type\":\"tmpfs\",\"device\":\"/etc\"}}",
             "driver_options", "options"},
            {false, "restricted",
             "{\"name\":\"a\",\"options\":{\"type\":\"none\",\"o\":\"bind\",\"device\":\"/\"}}",
             "engine_socket", "options.device"},
            {false, "ci",
             "{\"name\":\"a\",\"options\":{\"type\":\"none\",\"o\":\"bind\",\"device\":\"/etc\"}}",
             "bind_paths", "options.device"},
            {false, "ci",
             "{\"name\":\"a\",\"options\":{\"type\":\"none\",\"o\":\"bind\",\"device\":\"/srv/ci/"
             "v\"}}",
             NULL, NULL},
            {false, "ci", "{\"name\":\"a\",\"options\":{\"o\":\"rw,rbind\",\"device\":\"/etc\"}}",
             "bind_paths", "options.device"},
            {false, "ci",
             "{\"name\":\"a\",\"options\":{\"type\":\"ext4\",\"device\":\"/dev/sda1\"}}",
             "driver_options", "options"},
            {false, "wide",
             "{\"name\":\"a\",\"options\":{\"type\":\"ext4\",\"device\":\"/dev/sda1\"}}", NULL,
             NULL},
            {false, "ci", "{\"name\":\"a\",\"driver\":\"x\",\"options\":{\"o\":\"bind\"}}",
             "driver_options", "options"},
            {true, "restricted", "{\"name\":\"n\",\"subnet\":\"10.9.0.0/24\"}", NULL, NULL},
            {true, "restricted", "{\"name\":\"n\",\"driver\":\"macvlan\"}", "driver_options",
             "driver"},
            {true, "restricted",
             "{\"name\":\"n\",\"options\":{\"com.docker.network.bridge.name\":\"docker0\"}}",
             "driver_options", "options"},
            {true, "wide",
             "{\"name\":\"n\",\"driver\":\"macvlan\",\"options\":{\"parent\":\"eth0\"}}", NULL,
             NULL},
        };
        for (size_t i = 0; i < ELEMENTSOF(v); i++) {
                const struct cms_policy *p = cms_config_policy(c, v[i].policy);
                json_object *body = parse(v[i].body), *d = json_object_new_array();
                int n = v[i].network ? cms_policy_check_network(p, NULL, body, "", d)
                                     : cms_policy_check_volume(p, NULL, body, "", d);
                if (!v[i].rule && n)
                        fail_msg("%zu: denied %s", i, json_object_to_json_string(d));
                if (v[i].rule) {
                        json_object *f = json_object_array_get_idx(d, 0);
                        if (!f)
                                fail_msg("%zu: allowed", i);
                        assert_string_equal(json_object_get_string(cms_json_get(f, "rule")),
                                            v[i].rule);
                        assert_string_equal(json_object_get_string(cms_json_get(f, "field")),
                                            v[i].field);
                }
                json_object_put(body);
                json_object_put(d);
        }
        json_object *d = json_object_new_array();
        assert_int_equal(cms_policy_check_host_read(ci, NULL, "/srv/build/app", "b", d), 0);
        assert_int_equal(cms_policy_check_host_read(ci, NULL, "/srv/build/../../etc", "b", d), 1);
        assert_int_equal(cms_policy_check_host_read(r, NULL, "/srv/build/app", "b", d), 1);
        assert_int_equal(
            cms_policy_check_host_read(cms_policy_unrestricted(), NULL, "/etc", "b", d), 0);
        json_object_put(d);
        cms_config_free(c);
}

static void test_normalize(void **state)
{
        static const char *const cases[][2] = {
            {"/", "/"},           {"/a/b", "/a/b"},       {"//a//b/", "/a/b"}, {"/a/./b", "/a/b"},
            {"/a/../b", "/b"},    {"/../..", "/"},        {"/a/b/..", "/a"},   {"/a/..b", "/a/..b"},
            {"/.../x", "/.../x"}, {"/a/b/../../..", "/"},
        };
        char out[64];
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                assert_true(cms_path_normalize(cases[i][0], out, sizeof(out)));
                assert_string_equal(out, cases[i][1]);
        }
        assert_false(cms_path_normalize("rel", out, sizeof(out)));
        assert_false(cms_path_normalize("", out, sizeof(out)));
        assert_false(cms_path_normalize(NULL, out, sizeof(out)));
        assert_false(cms_path_normalize("/aaaaaaaaaa/bbbbbbbbbb", out, 8));
        char cap[64];
        assert_true(cms_cap_canonical("net_admin", cap, sizeof(cap)));
        assert_string_equal(cap, "CAP_NET_ADMIN");
        assert_true(cms_cap_canonical("cap_sys_admin", cap, sizeof(cap)));
        assert_string_equal(cap, "CAP_SYS_ADMIN");
        assert_false(cms_cap_canonical("CAP_", cap, sizeof(cap)));
}

static void test_config(void **state)
{
        struct cms_config *c = load();
        const struct cms_token *o = cms_config_find_token(c, "t2"),
                               *a = cms_config_find_token(c, "t1"),
                               *ci = cms_config_find_token(c, "t3");
        assert_string_equal(cms_token_policy(o), "restricted");
        assert_string_equal(cms_token_policy(a), "unrestricted");
        assert_string_equal(cms_token_policy(ci), "ci");
        const struct cms_policy *p = cms_config_policy(c, "ci");
        assert_int_equal(p->n_cap_add, 2);
        assert_string_equal(p->cap_add[0], "CAP_NET_BIND_SERVICE");
        assert_string_equal(p->bind_paths[0], "/srv/ci");
        assert_null(cms_config_policy(c, "nope"));
        assert_true(cms_config_policy(c, "empty")->images_any);
        cms_config_free(c);
        /* A certificate-bound token without a secret: found by the certificate, never by a
         * bearer (not even its fingerprint, nor an empty one). */
        const char *y = "tokens:\n  - {name: r, role: viewer, client_cert_sha256: "
                        "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"}\n";
        struct cms_config_error e = {0};
        assert_int_equal(cms_config_load_string(y, strlen(y), "t", &c, &e), 0);
        unsigned char fp[32];
        for (int i = 0; i < 32; i++)
                sscanf("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" + 2 * i,
                       "%2hhx", &fp[i]);
        assert_non_null(cms_config_find_cert_token(c, fp));
        fp[0] ^= 1;
        assert_null(cms_config_find_cert_token(c, fp));
        assert_null(cms_config_find_token(
            c, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        assert_null(cms_config_find_token(c, "abc"));
        cms_config_free(c);
        static const struct {
                const char *yaml, *key;
        } bad[] = {
            {"tokens: [{name: a, role: operator, token: x, policy: nope}]", "tokens[0].policy"},
            {"policies: {p: {cap_add: [CAP_NOPE]}}", "policies.p.cap_add[0]"},
            {"policies: {p: {bind_paths: [relative]}}", "policies.p.bind_paths[0]"},
            {"policies: {p: {privileged: maybe}}", "policies.p.privileged"},
            {"policies: {p: {bogus: 1}}", "policies.p.bogus"},
            {"policies: {restricted: {}}", "policies.restricted"},
            {"policies: {p: {images: {a: b}}}", "policies.p.images"},
            {"policies: [a]", "policies"},
            {"tokens: [{name: r, role: viewer, client_cert_sha256: xyz}]",
             "tokens[0].client_cert_sha256"},
            {"tokens: [{name: r, role: viewer}]", "tokens[0]"},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct cms_config_error e = {0};
                c = NULL;
                if (cms_config_load_string(bad[i].yaml, strlen(bad[i].yaml), "t", &c, &e) == 0)
                        fail_msg("accepted: %s", bad[i].yaml);
                if (strcmp(e.key, bad[i].key))
                        fail_msg("%s: key %s (%s), want %s", bad[i].yaml, e.key, e.message,
                                 bad[i].key);
        }
}

static void test_redact(void **state)
{
        json_object *o = parse(
            "{\"environment\":{\"A\":\"1\",\"U\":null},\"raw\":{\"Config\":{\"Env\":[\"P=x=y\","
            "\"BARE\"]}},\"services\":[{\"build\":{\"args\":{\"T\":\"t\"}},\"env\":{\"E\":\"e\"}}],"
            "\"dotenv\":\"S=1\\n\",\"labels\":{\"l\":\"v\"},\"Args\":[\"-x\"]}");
        cms_redact_for_viewer(o);
        assert_string_equal(
            json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
            "{\"environment\":{\"A\":\"<redacted>\",\"U\":null},\"raw\":{\"Config\":"
            "{\"Env\":[\"P=<redacted>\",\"BARE\"]}},\"services\":[{\"build\":{\"args\":"
            "{\"T\":\"<redacted>\"}},\"env\":{\"E\":\"<redacted>\"}}],\"dotenv\":"
            "\"<redacted>\",\"labels\":{\"l\":\"v\"},\"Args\":[\"-x\"]}");
        json_object_put(o);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_create_table),
            cmocka_unit_test(test_prefix_and_own_containers),
            cmocka_unit_test(test_volumes_and_networks),
            cmocka_unit_test(test_normalize),
            cmocka_unit_test(test_config),
            cmocka_unit_test(test_redact),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
