/* Unit tests for the merge of several compose files (daemon/compose/merge.c, through
 * cms_compose_parse's overrides): the compose specification's rules (mappings merged, scalars
 * replaced, sequences appended; command/entrypoint/healthcheck.test replaced; environment and
 * labels merged by key whichever spelling each file uses; ports, volumes and expose unique by
 * their key with the later entry in the earlier place; depends_on and networks lists read as
 * mappings; build as a string or a mapping), the !reset and !override tags, a kind mismatch
 * named by its key path and file, interpolation per file, and the caps (file count, merged
 * size) that keep hostile inputs cheap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <json-c/json_pointer.h>

#include "daemon/compose/internal.h"

/* Parses base + overrides (NULL-terminated) as project "p"; on success the model as JSON. */
static json_object *parse(const char *base, const char *const *over, json_object *env,
                          struct cms_error *err)
{
        struct cms_compose_parse_opts o = {.name = "p", .env = env, .overrides = over};
        struct cms_compose_project *p = NULL;
        json_object *warnings = json_object_new_array();
        int r = cms_compose_parse(base, strlen(base), &o, &p, warnings, err);
        json_object_put(warnings);
        if (r < 0)
                return NULL;
        json_object *j = cms_compose_project_to_json(p);
        cms_compose_project_free(p);
        return j;
}

static json_object *ok(const char *base, const char *const *over)
{
        struct cms_error err = {0};
        json_object *j = parse(base, over, NULL, &err);
        if (!j)
                fail_msg("parse failed: %s", err.message);
        return j;
}

/* The JSON at pointer ptr, as compact text ("<missing>" when absent). */
static const char *at(json_object *j, const char *ptr)
{
        json_object *v = NULL;
        if (json_pointer_get(j, ptr, &v) < 0)
                return "<missing>";
        return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
                                                     JSON_C_TO_STRING_NOSLASHESCAPE);
}

static void test_mappings_scalars_sequences(void **state)
{
        (void)state;
        const char *base = "services:\n"
                           "  web:\n"
                           "    image: a:1\n"
                           "    user: \"1000\"\n"
                           "    dns: [1.1.1.1]\n"
                           "    cap_add: [CHOWN]\n"
                           "  db:\n"
                           "    image: db:1\n";
        const char *over[] = {"services:\n"
                              "  web:\n"
                              "    image: a:2\n"
                              "    dns: 8.8.8.8\n"
                              "    cap_add: [CHOWN, NET_ADMIN]\n"
                              "  cache:\n"
                              "    image: c:1\n",
                              NULL};
        json_object *j = ok(base, over);
        assert_string_equal(at(j, "/services/web/image"), "\"a:2\"");
        assert_string_equal(at(j, "/services/web/user"), "\"1000\"");
        assert_string_equal(at(j, "/services/web/dns"), "[\"1.1.1.1\",\"8.8.8.8\"]");
        assert_string_equal(at(j, "/services/web/cap_add"), "[\"CHOWN\",\"NET_ADMIN\"]");
        assert_string_equal(at(j, "/services/db/image"), "\"db:1\"");
        assert_string_equal(at(j, "/services/cache/image"), "\"c:1\"");
        json_object_put(j);
}

static void test_commands_replaced(void **state)
{
        (void)state;
        const char *base = "services:\n"
                           "  web:\n"
                           "    image: a\n"
                           "    command: [echo, foo]\n"
                           "    entrypoint: [/bin/sh, -c]\n"
                           "    healthcheck: {test: [CMD, a], retries: 3}\n";
        const char *over[] = {"services:\n"
                              "  web:\n"
                              "    command: echo bar\n"
                              "    entrypoint: [/bin/ash]\n"
                              "    healthcheck: {test: [CMD, b]}\n",
                              NULL};
        json_object *j = ok(base, over);
        assert_string_equal(at(j, "/services/web/command"), "[\"echo\",\"bar\"]");
        assert_string_equal(at(j, "/services/web/entrypoint"), "[\"/bin/ash\"]");
        assert_string_equal(at(j, "/services/web/healthcheck/test"), "[\"CMD\",\"b\"]");
        assert_string_equal(at(j, "/services/web/healthcheck/retries"), "3");
        json_object_put(j);
}

/* A mapping in one file and a KEY=VALUE list in the other merge by key; null keeps. */
static void test_environment_and_labels_by_key(void **state)
{
        (void)state;
        const char *base = "services:\n"
                           "  web:\n"
                           "    image: a\n"
                           "    environment: {A: one, B: two}\n"
                           "    labels: [x=1, y=2]\n";
        const char *over[] = {"services:\n"
                              "  web:\n"
                              "    environment: [B=zwei, C=drei]\n"
                              "    labels: {y: \"20\", z: \"30\"}\n",
                              "services:\n"
                              "  web:\n"
                              "    environment: {C: trois}\n"
                              "    labels:\n",
                              NULL};
        json_object *j = ok(base, over);
        assert_string_equal(at(j, "/services/web/environment/A"), "\"one\"");
        assert_string_equal(at(j, "/services/web/environment/B"), "\"zwei\"");
        assert_string_equal(at(j, "/services/web/environment/C"), "\"trois\"");
        assert_string_equal(at(j, "/services/web/labels"),
                            "{\"x\":\"1\",\"y\":\"20\",\"z\":\"30\"}");
        json_object_put(j);
}

/* Unique resources: the later entry takes the earlier one's place, new ones are appended. */
static void test_unique_ports_volumes_expose(void **state)
{
        (void)state;
        const char *base = "services:\n"
                           "  web:\n"
                           "    image: a\n"
                           "    ports: [\"8080:80\", \"127.0.0.1:9090:90\"]\n"
                           "    volumes: [\"/srv/a:/data\", \"/srv/logs:/logs\"]\n"
                           "    expose: [\"3000\"]\n";
        const char *over[] = {"services:\n"
                              "  web:\n"
                              "    ports:\n"
                              "      - \"8080:80\"\n"
                              "      - {target: 90, published: \"9090\", host_ip: 127.0.0.1}\n"
                              "      - \"7070:70/udp\"\n"
                              "    volumes:\n"
                              "      - {type: bind, source: /srv/b, target: /data}\n"
                              "      - /srv/c:/c:ro\n"
                              "    expose: [\"3000\", \"4000\"]\n",
                              NULL};
        json_object *j = ok(base, over);
        json_object *ports = NULL, *vols = NULL;
        assert_int_equal(json_pointer_get(j, "/services/web/ports", &ports), 0);
        assert_int_equal(json_object_array_length(ports), 3);
        assert_string_equal(at(j, "/services/web/ports/0/target"), "80");
        assert_string_equal(at(j, "/services/web/ports/1/target"), "90");
        assert_string_equal(at(j, "/services/web/ports/2/protocol"), "\"udp\"");
        assert_int_equal(json_pointer_get(j, "/services/web/volumes", &vols), 0);
        assert_int_equal(json_object_array_length(vols), 3);
        assert_string_equal(at(j, "/services/web/volumes/0/source"), "\"/srv/b\"");
        assert_string_equal(at(j, "/services/web/volumes/0/target"), "\"/data\"");
        assert_string_equal(at(j, "/services/web/volumes/1/target"), "\"/logs\"");
        assert_string_equal(at(j, "/services/web/volumes/2/read_only"), "true");
        assert_string_equal(at(j, "/services/web/expose"), "[\"3000/tcp\",\"4000/tcp\"]");
        json_object_put(j);
}

static void test_depends_on_networks_build(void **state)
{
        (void)state;
        const char *base = "services:\n"
                           "  web:\n"
                           "    build: ./app\n"
                           "    depends_on: [db]\n"
                           "    networks: [front]\n"
                           "  db:\n"
                           "    image: db\n"
                           "  cache:\n"
                           "    image: c\n"
                           "networks:\n"
                           "  front: {}\n"
                           "  back: {}\n";
        const char *over[] = {"services:\n"
                              "  web:\n"
                              "    build: {dockerfile: Other.Dockerfile, no_cache: true}\n"
                              "    depends_on: {cache: {condition: service_healthy}}\n"
                              "    networks: {back: {aliases: [w]}}\n",
                              NULL};
        json_object *j = ok(base, over);
        assert_string_equal(at(j, "/services/web/build/context"), "\"./app\"");
        assert_string_equal(at(j, "/services/web/build/dockerfile"), "\"Other.Dockerfile\"");
        assert_string_equal(at(j, "/services/web/build/no_cache"), "true");
        assert_string_equal(at(j, "/services/web/depends_on/db/condition"), "\"service_started\"");
        assert_string_equal(at(j, "/services/web/depends_on/cache/condition"),
                            "\"service_healthy\"");
        assert_string_not_equal(at(j, "/services/web/networks/front"), "<missing>");
        assert_string_equal(at(j, "/services/web/networks/back/aliases"), "[\"w\"]");
        json_object_put(j);
}

static void test_reset_and_override_tags(void **state)
{
        (void)state;
        const char *base = "services:\n"
                           "  web:\n"
                           "    image: a\n"
                           "    ports: [\"8080:80\", \"8443:443\"]\n"
                           "    environment: {FOO: bar, KEEP: yes}\n"
                           "    dns: [1.1.1.1]\n";
        const char *over[] = {"services:\n"
                              "  web:\n"
                              "    ports: !override [\"9000:90\"]\n"
                              "    environment: !reset {}\n"
                              "    dns: !reset []\n",
                              NULL};
        json_object *j = ok(base, over);
        assert_string_equal(at(j, "/services/web/ports/0/target"), "90");
        assert_string_equal(at(j, "/services/web/ports/1"), "<missing>");
        assert_string_equal(at(j, "/services/web/environment"), "<missing>");
        assert_string_equal(at(j, "/services/web/dns"), "<missing>");
        json_object_put(j);
        /* One file: a !reset key is simply gone; without tags nothing changes. */
        j = ok("services:\n  web:\n    image: a\n    dns: !reset [1.1.1.1]\n", NULL);
        assert_string_equal(at(j, "/services/web/dns"), "<missing>");
        json_object_put(j);
}

static void test_errors_name_path_and_file(void **state)
{
        (void)state;
        struct cms_error err = {0};
        const char *base = "services:\n  web:\n    image: a\n    ports: [\"80\"]\n";
        const char *over[] = {"services:\n  web:\n    ports: {a: b}\n", NULL};
        assert_null(parse(base, over, NULL, &err));
        assert_int_equal(err.status, 400);
        assert_non_null(strstr(err.message, "services.web.ports"));
        assert_non_null(strstr(err.message, "file 2, line 3"));
        /* A later file that is not a mapping. */
        const char *notmap[] = {"- a\n- b\n", NULL};
        memset(&err, 0, sizeof(err));
        assert_null(parse(base, notmap, NULL, &err));
        assert_non_null(strstr(err.message, "file 2"));
        /* A bad value in the later file is reported with its file. */
        const char *badport[] = {"services:\n  web:\n\n    ports: [\"80:x\"]\n", NULL};
        memset(&err, 0, sizeof(err));
        assert_null(parse(base, badport, NULL, &err));
        assert_non_null(strstr(err.message, "file 2, line 4"));
        /* The merged model must still make sense: an override may not bring a service
         * without an image. */
        const char *noimage[] = {"services:\n  other:\n    user: x\n", NULL};
        memset(&err, 0, sizeof(err));
        assert_null(parse(base, noimage, NULL, &err));
        assert_int_equal(err.status, 400);
}

/* Each file is interpolated with the same variables before the merge. */
static void test_interpolation_per_file(void **state)
{
        (void)state;
        struct cms_error err = {0};
        json_object *env = json_object_new_object();
        json_object_object_add(env, "TAG", json_object_new_string("7"));
        const char *over[] = {"services:\n  web:\n    image: \"a:${TAG}\"\n    user: $$HOME\n",
                              NULL};
        json_object *j = parse("services:\n  web:\n    image: a:1\n", over, env, &err);
        assert_non_null(j);
        assert_string_equal(at(j, "/services/web/image"), "\"a:7\"");
        assert_string_equal(at(j, "/services/web/user"), "\"$HOME\"");
        json_object_put(j);
        json_object_put(env);
}

static void test_caps(void **state)
{
        (void)state;
        struct cms_error err = {0};
        const char *many[CMS_COMPOSE_MAX_FILES + 1];
        for (int i = 0; i < CMS_COMPOSE_MAX_FILES; i++)
                many[i] = "services: {}\n";
        many[CMS_COMPOSE_MAX_FILES] = NULL;
        assert_null(parse("services:\n  a:\n    image: a\n", many, NULL, &err));
        assert_int_equal(err.status, 400);
        assert_non_null(strstr(err.message, "more than"));
        /* Two files of 40,000 extension keys each: each alone is under the node cap, the
         * merge is over it, and is refused (the lookups sort, so this costs n log n). */
        struct cms_buf a, b;
        cms_buf_init(&a, 0);
        cms_buf_init(&b, 0);
        cms_buf_printf(&a, "services:\n  w:\n    image: x\nx-big:\n");
        cms_buf_printf(&b, "x-big:\n");
        for (int i = 0; i < 40000; i++) {
                cms_buf_printf(&a, "  a%d: v\n", i);
                cms_buf_printf(&b, "  b%d: v\n", i);
        }
        cms_buf_append(&a, "", 0);
        cms_buf_append(&b, "", 0);
        char *big[] = {b.data, NULL};
        memset(&err, 0, sizeof(err));
        assert_null(parse(a.data, (const char *const *)big, NULL, &err));
        assert_int_equal(err.status, 400);
        assert_non_null(strstr(err.message, "nodes"));
        cms_buf_free(&a);
        cms_buf_free(&b);
}

/* The trees themselves: a merged node shares the inputs' unchanged parts and leaves the
 * inputs as they were. */
static void test_inputs_unchanged(void **state)
{
        (void)state;
        struct cms_error err = {0};
        struct cms_ynode *a = NULL, *b = NULL, *m = NULL;
        const char *ta = "services:\n  w:\n    image: x\n    dns: [a]\n";
        const char *tb = "services:\n  w:\n    dns: [b]\n";
        assert_int_equal(cms_ytree_parse_file(ta, strlen(ta), 1, &a, &err), 0);
        assert_int_equal(cms_ytree_parse_file(tb, strlen(tb), 2, &b, &err), 0);
        assert_int_equal(cms_ytree_merge(a, b, &m, &err), 0);
        struct cms_ynode *dns = cms_ymap_get(cms_ymap_get(cms_ymap_get(m, "services"), "w"), "dns");
        assert_int_equal(dns->n, 2);
        struct cms_ynode *adns =
            cms_ymap_get(cms_ymap_get(cms_ymap_get(a, "services"), "w"), "dns");
        assert_int_equal(adns->n, 1);
        assert_ptr_equal(cms_ymap_get(cms_ymap_get(cms_ymap_get(m, "services"), "w"), "image"),
                         cms_ymap_get(cms_ymap_get(cms_ymap_get(a, "services"), "w"), "image"));
        cms_ynode_unref(m);
        cms_ynode_unref(a);
        cms_ynode_unref(b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_mappings_scalars_sequences),
            cmocka_unit_test(test_commands_replaced),
            cmocka_unit_test(test_environment_and_labels_by_key),
            cmocka_unit_test(test_unique_ports_volumes_expose),
            cmocka_unit_test(test_depends_on_networks_build),
            cmocka_unit_test(test_reset_and_override_tags),
            cmocka_unit_test(test_errors_name_path_and_file),
            cmocka_unit_test(test_interpolation_per_file),
            cmocka_unit_test(test_caps),
            cmocka_unit_test(test_inputs_unchanged),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
