/* Unit tests for daemon/compose/parse_deploy.c and daemon/swarm/spec.c: a compose file parsed
 * for a swarm keeps deploy's swarm keys (a project still ignores them with a warning), bad values
 * are 400s naming the key, and a service becomes the ServiceSpec docker stack deploy would make
 * (names, labels, mode, resources, restart policy, update config, placement, networks, mounts,
 * ports); what a swarm cannot do is warned about, what cannot be deployed as written refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon/compose/model.h"
#include "daemon/swarm/swarm.h"

static const char *const file =
    "services:\n"
    "  web:\n"
    "    image: busybox:1\n"
    "    command: [httpd, -f]\n"
    "    environment: {A: \"1\", B: \"${MISSING:-x}\"}\n"
    "    labels: {c: d}\n"
    "    ports: [\"8080:80\", {target: 443, published: 8443, mode: host, protocol: tcp}]\n"
    "    volumes: [\"data:/data\", \"/srv/x:/x:ro\"]\n"
    "    networks: {front: {aliases: [www]}}\n"
    "    restart: on-failure:3\n"
    "    healthcheck: {test: [CMD, \"true\"], interval: 5s, retries: 2}\n"
    "    privileged: true\n"
    "    depends_on: [db]\n"
    "    deploy:\n"
    "      replicas: 3\n"
    "      labels: {tier: front}\n"
    "      resources: {limits: {cpus: \"0.5\", memory: 64m}, reservations: {cpus: \"0.25\"}}\n"
    "      update_config: {parallelism: 2, delay: 10s, order: start-first, "
    "failure_action: rollback, max_failure_ratio: 0.5}\n"
    "      rollback_config: {parallelism: 1}\n"
    "      placement: {constraints: [\"node.role==worker\"], preferences: [{spread: "
    "node.labels.zone}], max_replicas_per_node: 2}\n"
    "      endpoint_mode: vip\n"
    "  db:\n"
    "    image: busybox:1\n"
    "    deploy: {mode: global, restart_policy: {condition: any, delay: 2s, window: 1m}}\n"
    "networks: {front: {}}\n"
    "volumes: {data: {}}\n";

static struct cms_compose_project *parse(const char *yaml, bool swarm, json_object *warnings,
                                         struct cms_error *err)
{
        struct cms_compose_parse_opts o = {.name = "shop", .swarm = swarm};
        struct cms_compose_project *p = NULL;
        int r = cms_compose_parse(yaml, strlen(yaml), &o, &p, warnings, err);
        return r == 0 ? p : NULL;
}

static json_object *at(json_object *o, const char *path)
{
        char buf[256], *save = NULL;
        snprintf(buf, sizeof(buf), "%s", path);
        for (char *t = strtok_r(buf, ".", &save); t && o; t = strtok_r(NULL, ".", &save))
                o = json_object_is_type(o, json_type_array)
                        ? json_object_array_get_idx(o, (size_t)atoi(t))
                        : cms_json_get(o, t);
        return o;
}

static void is_str(json_object *spec, const char *path, const char *want)
{
        const char *got = json_object_get_string(at(spec, path));
        if (!got || strcmp(got, want))
                fail_msg("%s: got %s, want %s", path, got ? got : "(none)", want);
}

static void is_int(json_object *spec, const char *path, int64_t want)
{
        json_object *v = at(spec, path);
        if (!v || json_object_get_int64(v) != want)
                fail_msg("%s: got %s, want %lld", path,
                         v ? json_object_to_json_string(v) : "(none)", (long long)want);
}

static void test_spec(void **state)
{
        (void)state;
        struct cms_error err = {0};
        json_object *warnings = json_object_new_array(), *spec = NULL, *db = NULL;
        struct cms_compose_project *p = parse(file, true, warnings, &err);
        if (!p)
                fail_msg("parse: %s", err.message);
        const struct cms_compose_service *web = cms_compose_service_find(p, "web");
        assert_int_equal(cms_stack_service_spec("shop", p, web, &spec, warnings, &err), 0);
        is_str(spec, "Name", "shop_web");
        json_object *labels = cms_json_get(spec, "Labels");
        assert_string_equal(json_object_get_string(cms_json_get(labels, CMS_STACK_LABEL)), "shop");
        assert_string_equal(json_object_get_string(cms_json_get(labels, "tier")), "front");
        assert_string_equal(json_object_get_string(cms_json_get(labels, "com.docker.stack.image")),
                            "busybox:1");
        json_object *cl = at(spec, "TaskTemplate.ContainerSpec.Labels");
        assert_string_equal(json_object_get_string(cms_json_get(cl, CMS_STACK_LABEL)), "shop");
        assert_string_equal(json_object_get_string(cms_json_get(cl, "c")), "d");
        is_str(spec, "TaskTemplate.ContainerSpec.Image", "busybox:1");
        is_str(spec, "TaskTemplate.ContainerSpec.Args.0", "httpd");
        is_str(spec, "TaskTemplate.ContainerSpec.Env.0", "A=1");
        is_str(spec, "TaskTemplate.ContainerSpec.Env.1", "B=x");
        is_str(spec, "TaskTemplate.ContainerSpec.HealthCheck.Test.1", "true");
        is_int(spec, "TaskTemplate.ContainerSpec.HealthCheck.Interval", 5000000000LL);
        is_int(spec, "TaskTemplate.ContainerSpec.HealthCheck.Retries", 2);
        is_str(spec, "TaskTemplate.ContainerSpec.Mounts.0.Type", "volume");
        is_str(spec, "TaskTemplate.ContainerSpec.Mounts.0.Source", "shop_data");
        is_str(spec, "TaskTemplate.ContainerSpec.Mounts.1.Type", "bind");
        is_str(spec, "TaskTemplate.ContainerSpec.Mounts.1.Source", "/srv/x");
        assert_true(
            json_object_get_boolean(at(spec, "TaskTemplate.ContainerSpec.Mounts.1.ReadOnly")));
        is_int(spec, "TaskTemplate.Resources.Limits.NanoCPUs", 500000000);
        is_int(spec, "TaskTemplate.Resources.Limits.MemoryBytes", 64 << 20);
        is_int(spec, "TaskTemplate.Resources.Reservations.NanoCPUs", 250000000);
        /* The service's own restart, written, maps as docker stack deploy maps it. */
        is_str(spec, "TaskTemplate.RestartPolicy.Condition", "on-failure");
        is_int(spec, "TaskTemplate.RestartPolicy.MaxAttempts", 3);
        is_str(spec, "TaskTemplate.Placement.Constraints.0", "node.role==worker");
        is_str(spec, "TaskTemplate.Placement.Preferences.0.Spread.SpreadDescriptor",
               "node.labels.zone");
        is_int(spec, "TaskTemplate.Placement.MaxReplicas", 2);
        is_str(spec, "TaskTemplate.Networks.0.Target", "shop_front");
        is_str(spec, "TaskTemplate.Networks.0.Aliases.0", "web");
        is_str(spec, "TaskTemplate.Networks.0.Aliases.1", "www");
        is_int(spec, "Mode.Replicated.Replicas", 3);
        is_int(spec, "UpdateConfig.Parallelism", 2);
        is_int(spec, "UpdateConfig.Delay", 10000000000LL);
        is_str(spec, "UpdateConfig.Order", "start-first");
        is_str(spec, "UpdateConfig.FailureAction", "rollback");
        is_int(spec, "RollbackConfig.Parallelism", 1);
        is_str(spec, "EndpointSpec.Mode", "vip");
        is_int(spec, "EndpointSpec.Ports.0.TargetPort", 80);
        is_int(spec, "EndpointSpec.Ports.0.PublishedPort", 8080);
        is_str(spec, "EndpointSpec.Ports.0.PublishMode", "ingress");
        is_str(spec, "EndpointSpec.Ports.1.PublishMode", "host");
        const char *w = json_object_to_json_string(warnings);
        assert_non_null(strstr(w, "services.web.privileged: not supported by a swarm service"));
        assert_non_null(strstr(w, "services.web.depends_on"));
        assert_null(strstr(w, "placement")); /* read, not ignored */
        /* A global service; a written restart_policy; no restart written: the engine default. */
        const struct cms_compose_service *dbs = cms_compose_service_find(p, "db");
        assert_int_equal(cms_stack_service_spec("shop", p, dbs, &db, warnings, &err), 0);
        assert_non_null(at(db, "Mode.Global"));
        assert_null(at(db, "Mode.Replicated"));
        is_str(db, "TaskTemplate.RestartPolicy.Condition", "any");
        is_int(db, "TaskTemplate.RestartPolicy.Delay", 2000000000LL);
        is_int(db, "TaskTemplate.RestartPolicy.Window", 60000000000LL);
        is_str(db, "TaskTemplate.Networks.0.Target", "shop_default");
        /* The hash follows the spec. */
        char h1[65], h2[65];
        assert_int_equal(cms_stack_spec_hash(spec, h1), 0);
        assert_int_equal(cms_stack_spec_hash(db, h2), 0);
        assert_int_equal(strlen(h1), 64);
        assert_string_not_equal(h1, h2);
        json_object_put(spec);
        json_object_put(db);
        json_object_put(warnings);
        cms_compose_project_free(p);
}

/* Without swarm (a project): the swarm keys are warned about as before, never read. */
static void test_project_ignores(void **state)
{
        (void)state;
        struct cms_error err = {0};
        json_object *warnings = json_object_new_array();
        struct cms_compose_project *p = parse(file, false, warnings, &err);
        assert_non_null(p);
        const char *w = json_object_to_json_string(warnings);
        assert_non_null(strstr(w, "services.web.deploy.placement: not supported by cmsd, ignored"));
        assert_non_null(strstr(w, "global runs one container on this host"));
        assert_int_equal(cms_compose_service_find(p, "web")->deploy.constraints.n, 0);
        json_object_put(warnings);
        cms_compose_project_free(p);
}

static void refused_parse(const char *deploy, const char *want)
{
        char yaml[512];
        struct cms_error err = {0};
        snprintf(yaml, sizeof(yaml), "services:\n  a:\n    image: x\n    deploy: %s\n", deploy);
        struct cms_compose_project *p = parse(yaml, true, NULL, &err);
        if (p)
                fail_msg("accepted: %s", deploy);
        assert_int_equal(err.status, 400);
        if (!strstr(err.message, want))
                fail_msg("%s: '%s' does not name %s", deploy, err.message, want);
}

static void refused_spec(const char *svc, const char *want)
{
        char yaml[512];
        struct cms_error err = {0};
        json_object *spec = NULL;
        snprintf(yaml, sizeof(yaml), "services:\n  a:\n    image: x\n%s", svc);
        struct cms_compose_project *p = parse(yaml, true, NULL, &err);
        assert_non_null(p);
        int r = cms_stack_service_spec("s", p, &p->services[0], &spec, NULL, &err);
        if (r == 0)
                fail_msg("accepted: %s", svc);
        assert_int_equal(err.status, 400);
        if (!strstr(err.message, want))
                fail_msg("%s: '%s' does not name %s", svc, err.message, want);
        cms_compose_project_free(p);
}

static void test_refused(void **state)
{
        (void)state;
        refused_parse("{mode: everywhere}", "deploy.mode");
        refused_parse("{placement: {constraints: [\"node.role\"]}}", "constraints[0]");
        refused_parse("{placement: {preferences: [{spread: \"\"}]}}", "preferences[0].spread");
        refused_parse("{update_config: {order: sideways}}", "update_config.order");
        refused_parse("{update_config: {max_failure_ratio: 1.5}}", "max_failure_ratio");
        refused_parse("{update_config: {parallelism: -1}}", "parallelism");
        refused_parse("{update_config: {delay: soon}}", "update_config.delay");
        refused_parse("{rollback_config: {failure_action: rollback}}",
                      "rollback_config.failure_action");
        refused_parse("{restart_policy: {condition: sometimes}}", "restart_policy.condition");
        refused_parse("{restart_policy: {window: forever}}", "restart_policy.window");
        refused_parse("{endpoint_mode: anycast}", "endpoint_mode");
        refused_parse("{resources: {reservations: {cpus: lots}}}", "reservations.cpus");
        refused_spec("    ports: [\"8000-8002:80\"]\n", "ports[0]");
        refused_spec("    ports: [\"127.0.0.1:8000:80\"]\n", "one address");
        refused_spec("    secrets: [{source: s, target: /etc/s}]\nsecrets: {s: {content: x}}\n",
                     "/run/secrets/");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_spec),
            cmocka_unit_test(test_project_ignores),
            cmocka_unit_test(test_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
