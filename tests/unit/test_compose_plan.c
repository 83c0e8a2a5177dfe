/* Unit tests for daemon/compose/plan.c and plan_diff.c: dependency levels, cycle and unknown
 * dependency detection, container names, Docker Compose's labels, the config hash (stable under
 * key order, syntax variants and defaults; changed by what changes a container; pinned, since a
 * drift would recreate every container after an upgrade) and the up convergence (create, keep,
 * start, recreate, scale, orphans). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon/compose/internal.h"

static struct cms_compose_project *parse(const char *yaml)
{
        struct cms_compose_project *p = NULL;
        struct cms_error err = {0};
        struct cms_compose_parse_opts o = {.name = "proj", .working_dir = "/srv/proj"};
        if (cms_compose_parse(yaml, strlen(yaml), &o, &p, NULL, &err) < 0)
                fail_msg("%s\n%s", err.message, yaml);
        return p;
}

static void parse_fails(const char *yaml, const char *message)
{
        struct cms_compose_project *p = NULL;
        struct cms_error err = {0};
        struct cms_compose_parse_opts o = {.name = "proj"};
        if (cms_compose_parse(yaml, strlen(yaml), &o, &p, NULL, &err) == 0)
                fail_msg("parsed, expected '%s'", message);
        if (err.status != 400 || !strstr(err.message, message))
                fail_msg("error '%s', expected '%s'", err.message, message);
}

static void levels_of(const struct cms_compose_project *p, char *buf, size_t n)
{
        struct cms_compose_plan *pl = NULL;
        struct cms_error err = {0};
        size_t off = 0;
        if (cms_compose_plan_new(p, &pl, &err) < 0)
                fail_msg("%s", err.message);
        buf[0] = 0;
        for (size_t l = 0; l < pl->n_levels; l++)
                for (size_t k = 0; k < pl->levels[l].n; k++) {
                        size_t svc = pl->levels[l].services[k];
                        assert_int_equal(pl->level_of[svc], l);
                        off += (size_t)snprintf(buf + off, n - off, "%s%s",
                                                k   ? ","
                                                : l ? "|"
                                                    : "",
                                                p->services[svc].name);
                }
        cms_compose_plan_free(pl);
}

/* ---- order ---- */

static void test_levels(void **state)
{
        (void)state;
        static const struct {
                const char *yaml, *levels;
        } cases[] = {
            {"services: {a: {image: x}, b: {image: x}, c: {image: x}}", "a,b,c"},
            {"services: {a: {image: x, depends_on: [b]}, b: {image: x, depends_on: [c]},"
             " c: {image: x}}",
             "c|b|a"},
            /* diamond: d waits for b and c, both of which wait for a */
            {"services: {d: {image: x, depends_on: [b, c]}, b: {image: x, depends_on: [a]},"
             " c: {image: x, depends_on: {a: {condition: service_healthy}}}, a: {image: x}}",
             "a|b,c|d"},
            /* a level is the longest path: e depends on a (level 0) and c (level 2) */
            {"services: {e: {image: x, depends_on: [a, c]}, c: {image: x, depends_on: [b]},"
             " b: {image: x, depends_on: [a]}, a: {image: x}, z: {image: x}}",
             "a,z|b|c|e"},
            /* links and network_mode service:x order the start too */
            {"services: {web: {image: x, links: [db]}, side: {image: x, "
             "network_mode: \"service:web\"}, db: {image: x}}",
             "db|web|side"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char got[256];
                struct cms_compose_project *p = parse(cases[i].yaml);
                levels_of(p, got, sizeof(got));
                if (strcmp(got, cases[i].levels))
                        fail_msg("case %zu: levels %s, expected %s", i, got, cases[i].levels);
                cms_compose_project_free(p);
        }
}

static void test_wide_and_long(void **state)
{
        (void)state;
        /* 200 services in a chain and 200 independent ones: levels 200 deep, 1 wide */
        struct cms_buf b;
        cms_buf_init(&b, 0);
        cms_buf_printf(&b, "services:\n");
        for (int i = 0; i < 200; i++) {
                cms_buf_printf(&b, "  s%03d: {image: x%s", i, i ? ", depends_on: [" : "}\n");
                if (i)
                        cms_buf_printf(&b, "s%03d]}\n", i - 1);
                cms_buf_printf(&b, "  w%03d: {image: x}\n", i);
        }
        struct cms_compose_project *p = parse(b.data);
        struct cms_compose_plan *pl = NULL;
        struct cms_error err = {0};
        assert_int_equal(cms_compose_plan_new(p, &pl, &err), 0);
        assert_int_equal(pl->n_levels, 200);
        assert_int_equal(pl->levels[0].n, 201);
        for (size_t l = 1; l < 200; l++)
                assert_int_equal(pl->levels[l].n, 1);
        cms_compose_plan_free(pl);
        cms_compose_project_free(p);
        cms_buf_free(&b);
}

static void test_cycles(void **state)
{
        (void)state;
        parse_fails("services: {a: {image: x, depends_on: [b]}, b: {image: x, depends_on: [a]}}",
                    "dependency cycle between services: a -> b -> a");
        parse_fails("services: {ok: {image: x}, b: {image: x, depends_on: [c]},"
                    " c: {image: x, depends_on: [d]}, d: {image: x, depends_on: [b, ok]}}",
                    "dependency cycle between services: b -> c -> d -> b");
        /* a cycle downstream of an acyclic part is found too */
        parse_fails("services: {a: {image: x, depends_on: [b]}, b: {image: x, depends_on: [c]},"
                    " c: {image: x, depends_on: [b]}}",
                    "dependency cycle between services: b -> c -> b");
        /* through links and network_mode */
        parse_fails("services: {a: {image: x, links: [b]}, b: {image: x, "
                    "network_mode: \"service:a\"}}",
                    "dependency cycle between services: a -> b -> a");
        parse_fails("services: {a: {image: x, network_mode: \"service:nope\"}}",
                    "service \"a\" depends on undefined service \"nope\"");
}

/* A project built by hand, as the apply code will for projects known only from labels. */
static void test_unknown_dependency_by_hand(void **state)
{
        (void)state;
        struct cms_compose_project p = {0};
        struct cms_compose_service s[2] = {{0}};
        struct cms_compose_dep d = {.service = "ghost", .line = 3};
        s[0].name = "a";
        s[1].name = "b";
        s[1].depends_on = &d;
        s[1].n_depends_on = 1;
        p.name = "x";
        p.services = s;
        p.n_services = 2;
        struct cms_compose_plan *pl = NULL;
        struct cms_error err = {0};
        assert_true(cms_compose_plan_new(&p, &pl, &err) < 0);
        assert_null(pl);
        assert_string_equal(err.message, "service \"b\" depends on undefined service \"ghost\"");
        cms_compose_plan_free(NULL);
}

/* ---- names and labels ---- */

static void test_names_and_labels(void **state)
{
        (void)state;
        struct cms_compose_project *p =
            parse("services:\n"
                  "  web:\n"
                  "    image: x\n"
                  "    labels: {team: shop}\n"
                  "    depends_on:\n"
                  "      redis: {condition: service_started, restart: true}\n"
                  "      db: {condition: service_healthy}\n"
                  "      init: {condition: service_completed_successfully}\n"
                  "  db: {image: x, container_name: the-db}\n"
                  "  redis: {image: x}\n"
                  "  init: {image: x}\n"
                  "networks: {default: {labels: {net: yes}}}\n"
                  "volumes: {data: {labels: [vol=1]}, ext: {external: true}}\n");
        const struct cms_compose_service *web = cms_compose_service_find(p, "web");
        const struct cms_compose_service *db = cms_compose_service_find(p, "db");
        char *name = cms_compose_container_name(p, web, 3);
        assert_string_equal(name, "proj-web-3");
        free(name);
        name = cms_compose_container_name(p, db, 1);
        assert_string_equal(name, "the-db");
        free(name);
        char *deps = cms_compose_depends_on_label(web);
        assert_string_equal(deps, "db:service_healthy:false,init:service_completed_successfully:"
                                  "false,redis:service_started:true");
        free(deps);
        deps = cms_compose_depends_on_label(db);
        assert_string_equal(deps, "");
        free(deps);
        json_object *l = cms_compose_service_labels(p, web, 2);
        char hash[CMS_COMPOSE_HASH_LEN + 1];
        assert_int_equal(cms_compose_config_hash(web, hash), 0);
        json_object *want = json_object_new_object();
        json_object_object_add(want, "team", json_object_new_string("shop"));
        json_object_object_add(want, "com.docker.compose.project", json_object_new_string("proj"));
        json_object_object_add(want, "com.docker.compose.service", json_object_new_string("web"));
        json_object_object_add(want, "com.docker.compose.container-number",
                               json_object_new_string("2"));
        json_object_object_add(want, "com.docker.compose.oneoff", json_object_new_string("False"));
        json_object_object_add(want, "com.docker.compose.config-hash",
                               json_object_new_string(hash));
        json_object_object_add(want, "com.docker.compose.project.working_dir",
                               json_object_new_string("/srv/proj"));
        json_object_object_add(want, "com.docker.compose.depends_on",
                               json_object_new_string("db:service_healthy:false,init:service_"
                                                      "completed_successfully:false,redis:"
                                                      "service_started:true"));
        if (!json_object_equal(l, want))
                fail_msg("labels %s", json_object_to_json_string(l));
        json_object_put(l);
        json_object_put(want);
        l = cms_compose_network_labels(p, cms_compose_network_find(p, "default"));
        assert_string_equal(json_object_to_json_string_ext(l, JSON_C_TO_STRING_PLAIN),
                            "{\"net\":\"yes\",\"com.docker.compose.project\":\"proj\","
                            "\"com.docker.compose.network\":\"default\"}");
        json_object_put(l);
        l = cms_compose_volume_labels(p, cms_compose_volume_find(p, "data"));
        assert_string_equal(json_object_to_json_string_ext(l, JSON_C_TO_STRING_PLAIN),
                            "{\"vol\":\"1\",\"com.docker.compose.project\":\"proj\","
                            "\"com.docker.compose.volume\":\"data\"}");
        json_object_put(l);
        assert_string_equal(cms_compose_volume_find(p, "data")->name, "proj_data");
        assert_string_equal(cms_compose_volume_find(p, "ext")->name, "ext");
        cms_compose_project_free(p);
}

/* ---- config hash ---- */

static void hash_of(const char *body, char out[CMS_COMPOSE_HASH_LEN + 1])
{
        static const char *const all[] = {"*", NULL};
        char yaml[2048];
        snprintf(yaml, sizeof(yaml),
                 "x-base: &base {image: \"nginx:1\", environment: {A: \"1\"}}\n"
                 "services:\n  s: %s\n  other: {image: x}\nvolumes: {data: {}}\n",
                 body);
        struct cms_compose_project *p = NULL;
        struct cms_error err = {0};
        struct cms_compose_parse_opts o = {.name = "proj", .profiles = all};
        if (cms_compose_parse(yaml, strlen(yaml), &o, &p, NULL, &err) < 0)
                fail_msg("%s\n%s", err.message, yaml);
        assert_int_equal(cms_compose_config_hash(cms_compose_service_find(p, "s"), out), 0);
        cms_compose_project_free(p);
}

static const struct {
        int group;
        const char *body;
} hash_cases[] = {
    {1, "{image: \"nginx:1\", ports: [\"8080:80\"], environment: {A: \"1\", B: \"2\"}, "
        "command: run --fast}"},
    /* key order */
    {1, "{command: run --fast, environment: {B: \"2\", A: \"1\"}, ports: [\"8080:80\"], "
        "image: \"nginx:1\"}"},
    /* long/list forms and defaults written out */
    {1, "{image: \"nginx:1\", ports: [{target: 80, published: \"8080\", protocol: tcp, "
        "mode: ingress}], environment: [A=1, B=2], command: [run, --fast], restart: \"no\", "
        "privileged: false, read_only: false, init: false, networks: [default], labels: {}}"},
    /* what does not change a container: depends_on, build, pull_policy, replicas, profiles */
    {1, "{image: \"nginx:1\", ports: [\"8080:80\"], environment: {A: 1, B: 2}, "
        "command: run --fast, depends_on: [other], build: ., pull_policy: always, "
        "deploy: {replicas: 4}, profiles: [p]}"},
    /* anchors, merge keys and interpolation are resolved before hashing */
    {1, "{<<: *base, environment: {A: \"1\", B: \"2\"}, ports: [\"8080:80\"], "
        "command: [\"run\", \"--fast\"], networks: {default: {}}}"},
    {1, "{image: \"${UNSET:-nginx:1}\", ports: [\"${P:-8080}:80\"], environment: {A: \"1\", "
        "B: \"2\"}, command: run --fast}"},
    /* each of these changes the container */
    {2, "{image: \"nginx:2\", ports: [\"8080:80\"], environment: {A: \"1\", B: \"2\"}, "
        "command: run --fast}"},
    {3, "{image: \"nginx:1\", ports: [\"8080:80\"], environment: {A: \"1\", B: \"3\"}, "
        "command: run --fast}"},
    {4, "{image: \"nginx:1\", ports: [\"8081:80\"], environment: {A: \"1\", B: \"2\"}, "
        "command: run --fast}"},
    {5, "{image: \"nginx:1\", ports: [\"8080:80\"], environment: {A: \"1\", B: \"2\"}, "
        "command: run --fast, restart: always}"},
    {6, "{image: \"nginx:1\", ports: [\"8080:80\"], environment: {A: \"1\", B: \"2\"}, "
        "command: run --slow}"},
    {7, "{image: \"nginx:1\", ports: [\"8080:80\"], environment: {A: \"1\", B: \"2\"}, "
        "command: run --fast, labels: [k=v]}"},
    {8, "{image: x, volumes: [\"data:/data\"]}"},
    {8, "{image: x, volumes: [{type: volume, source: data, target: /data}]}"},
    {8, "{image: x, volumes: [\"data:/data:rw\"], networks: [default]}"},
    {9, "{image: x, volumes: [\"data:/data:ro\"]}"},
    {9, "{image: x, volumes: [{type: volume, source: data, target: /data, read_only: true}]}"},
    {10, "{image: x, volumes: [\"/h:/c\"]}"},
    {10, "{image: x, volumes: [{type: bind, source: /h, target: /c, "
         "bind: {create_host_path: true}}]}"},
    {11, "{image: x, healthcheck: {disable: true}}"},
    {11, "{image: x, healthcheck: {test: [NONE], interval: 5s}}"},
    {12, "{image: x, healthcheck: {test: \"curl -f localhost\", interval: 90s}}"},
    {12, "{image: x, healthcheck: {test: [CMD-SHELL, \"curl -f localhost\"], interval: 1m30s}}"},
    {13, "{image: x, extra_hosts: [\"a=1.2.3.4\", \"b:5.6.7.8\"], labels: [x=1, y=2]}"},
    {13, "{image: x, extra_hosts: {b: 5.6.7.8, a: 1.2.3.4}, labels: {y: \"2\", x: \"1\"}}"},
    {14, "{image: x, command: []}"}, /* empty command is not the image's command */
    {15, "{image: x}"},
    {15, "{image: x, command: null, scale: 2}"},
    {16, "{image: x, mem_limit: 512m, cpus: 0.5}"},
    {16, "{image: x, deploy: {resources: {limits: {memory: 536870912, cpus: \"0.50\"}}}}"},
};

static void test_hash_stability(void **state)
{
        (void)state;
        char hashes[ELEMENTSOF(hash_cases)][CMS_COMPOSE_HASH_LEN + 1];
        for (size_t i = 0; i < ELEMENTSOF(hash_cases); i++) {
                hash_of(hash_cases[i].body, hashes[i]);
                assert_int_equal(strlen(hashes[i]), 64);
                assert_int_equal(strspn(hashes[i], "0123456789abcdef"), 64);
        }
        for (size_t i = 0; i < ELEMENTSOF(hash_cases); i++)
                for (size_t j = i + 1; j < ELEMENTSOF(hash_cases); j++) {
                        bool same = !strcmp(hashes[i], hashes[j]);
                        if (same != (hash_cases[i].group == hash_cases[j].group))
                                fail_msg("%s\nand\n%s\nshould hash %s", hash_cases[i].body,
                                         hash_cases[j].body, same ? "differently" : "alike");
                }
}

/* The hashed document is pinned: changing its format would make every cmsd upgrade recreate
 * every compose container. */
static void test_hash_pinned(void **state)
{
        (void)state;
        struct cms_compose_project *p =
            parse("services: {app: {image: busybox, command: [sleep, \"1\"], "
                  "environment: {B: \"2\", A: \"1\"}, ports: [\"8080:80\"], depends_on: [db], "
                  "deploy: {replicas: 2}}, db: {image: busybox}}");
        const struct cms_compose_service *s = cms_compose_service_find(p, "app");
        static const char canonical[] =
            "{\"command\":[\"sleep\",\"1\"],\"environment\":{\"A\":\"1\",\"B\":\"2\"},"
            "\"image\":\"busybox\",\"networks\":{\"default\":{}},\"ports\":[{\"target\":80,"
            "\"published\":\"8080\",\"protocol\":\"tcp\",\"mode\":\"ingress\"}]}";
        unsigned char d[CMS_SHA256_LEN];
        char want[CMS_COMPOSE_HASH_LEN + 1], got[CMS_COMPOSE_HASH_LEN + 1];
        cms_sha256(canonical, strlen(canonical), d);
        cms_sha256_hex(d, want);
        assert_int_equal(cms_compose_config_hash(s, got), 0);
        assert_string_equal(got, want);
        cms_compose_project_free(p);
}

/* ---- convergence ---- */

static const char diff_yaml[] = "services:\n"
                                "  web: {image: x, depends_on: [db], deploy: {replicas: 2}}\n"
                                "  db: {image: y}\n"
                                "  one: {image: z, container_name: only-one}\n";

static void actions_text(const struct cms_compose_project *p, const struct cms_compose_action *a,
                         size_t n, char *buf, size_t size)
{
        static const char *const kinds[] = {"create", "recreate", "start", "keep", "remove"};
        size_t off = 0;
        buf[0] = 0;
        for (size_t i = 0; i < n; i++)
                off += (size_t)snprintf(
                    buf + off, size - off, "%s%s %s#%d%s%s", i ? "; " : "", kinds[a[i].kind],
                    a[i].service == SIZE_MAX ? "?" : p->services[a[i].service].name, a[i].number,
                    a[i].id ? " " : "", a[i].id ? a[i].id : "");
}

static void diff_case(const struct cms_compose_existing *ex, size_t n_ex,
                      const struct cms_compose_diff_opts *o, const char *want)
{
        struct cms_compose_project *p = parse(diff_yaml);
        struct cms_compose_plan *pl = NULL;
        struct cms_compose_action *a = NULL;
        struct cms_error err = {0};
        size_t n = 0;
        char got[1024];
        assert_int_equal(cms_compose_plan_new(p, &pl, &err), 0);
        if (cms_compose_diff(p, pl, ex, n_ex, o, &a, &n, &err) < 0)
                fail_msg("%s", err.message);
        actions_text(p, a, n, got, sizeof(got));
        if (strcmp(got, want))
                fail_msg("actions\n  %s\nexpected\n  %s", got, want);
        free(a);
        cms_compose_plan_free(pl);
        cms_compose_project_free(p);
}

static void test_diff(void **state)
{
        (void)state;
        struct cms_compose_project *p = parse(diff_yaml);
        char web[65], db[65], one[65];
        cms_compose_config_hash(cms_compose_service_find(p, "web"), web);
        cms_compose_config_hash(cms_compose_service_find(p, "db"), db);
        cms_compose_config_hash(cms_compose_service_find(p, "one"), one);
        cms_compose_project_free(p);
        /* nothing there yet */
        diff_case(NULL, 0, NULL, "create db#1; create one#1; create web#1; create web#2");
        /* all up to date: nothing is recreated */
        const struct cms_compose_existing same[] = {
            {"c1", "web", 1, web, true},
            {"c2", "web", 2, web, true},
            {"c3", "db", 1, db, true},
            {"c4", "one", 1, one, false},
        };
        diff_case(same, 4, NULL, "keep db#1 c3; start one#1 c4; keep web#1 c1; keep web#2 c2");
        struct cms_compose_diff_opts force = {.force_recreate = true};
        diff_case(same, 4, &force,
                  "recreate db#1 c3; recreate one#1 c4; recreate web#1 c1; recreate web#2 c2");
        /* a changed service, a scale-down, a duplicate number, a missing number, orphans */
        const struct cms_compose_existing mixed[] = {
            {"w1", "web", 1, "0ld", true}, {"w3", "web", 3, web, true},
            {"w1b", "web", 1, web, false}, {"d1", "db", 1, db, false},
            {"o1", "old", 1, "x", true},   {"nolabel", NULL, 0, NULL, true},
            {"w0", "web", 0, web, true},
        };
        diff_case(mixed, 7, NULL,
                  "start db#1 d1; create one#1; remove web#3 w3; remove web#1 w1b; "
                  "remove web#0 w0; recreate web#1 w1; create web#2");
        struct cms_compose_diff_opts orphans = {.remove_orphans = true};
        diff_case(mixed, 7, &orphans,
                  "start db#1 d1; create one#1; remove web#3 w3; remove web#1 w1b; "
                  "remove web#0 w0; recreate web#1 w1; create web#2; remove ?#1 o1; "
                  "remove ?#0 nolabel");
        /* a running duplicate is kept over a stopped one */
        const struct cms_compose_existing dup[] = {
            {"stopped", "db", 1, db, false},
            {"running", "db", 1, db, true},
        };
        diff_case(dup, 2, NULL,
                  "remove db#1 stopped; keep db#1 running; create one#1; create web#1; "
                  "create web#2");
        /* scale overrides replicas */
        json_object *scale = json_tokener_parse("{\"web\": 3, \"db\": 0}");
        struct cms_compose_diff_opts scaled = {.scale = scale};
        diff_case(same, 4, &scaled,
                  "remove db#1 c3; start one#1 c4; keep web#1 c1; keep web#2 c2; create web#3");
        json_object_put(scale);
}

static void test_diff_errors(void **state)
{
        (void)state;
        static const struct {
                const char *scale, *err;
        } bad[] = {
            {"{\"nope\": 1}", "scale: no such service: nope"},
            {"{\"web\": -1}", "scale.web: must be an integer in [0, 1000]"},
            {"{\"web\": \"2\"}", "scale.web: must be an integer in [0, 1000]"},
            {"{\"web\": 1001}", "scale.web: must be an integer in [0, 1000]"},
            {"{\"one\": 2}", "scale.one: container_name 'only-one' allows one container"},
            {"[1]", "scale: must be an object"},
        };
        struct cms_compose_project *p = parse(diff_yaml);
        struct cms_compose_plan *pl = NULL;
        struct cms_error err = {0};
        assert_int_equal(cms_compose_plan_new(p, &pl, &err), 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                json_object *scale = json_tokener_parse(bad[i].scale);
                struct cms_compose_diff_opts o = {.scale = scale};
                struct cms_compose_action *a = (void *)1;
                size_t n = 1;
                assert_true(cms_compose_diff(p, pl, NULL, 0, &o, &a, &n, &err) < 0);
                assert_null(a);
                assert_int_equal(n, 0);
                assert_int_equal(err.status, 400);
                if (!strstr(err.message, bad[i].err))
                        fail_msg("%s: '%s', expected '%s'", bad[i].scale, err.message, bad[i].err);
                json_object_put(scale);
        }
        cms_compose_plan_free(pl);
        cms_compose_project_free(p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_levels),
            cmocka_unit_test(test_wide_and_long),
            cmocka_unit_test(test_cycles),
            cmocka_unit_test(test_unknown_dependency_by_hand),
            cmocka_unit_test(test_names_and_labels),
            cmocka_unit_test(test_hash_stability),
            cmocka_unit_test(test_hash_pinned),
            cmocka_unit_test(test_diff),
            cmocka_unit_test(test_diff_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
