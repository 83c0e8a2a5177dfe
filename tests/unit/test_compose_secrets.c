/* Unit tests for daemon/compose/parse_secrets.c and parse_hooks.c: secrets and configs (top
 * level from file, environment, content; service references short and long, defaults written
 * out, octal modes), the normalized JSON naming sources and never contents, the config hash
 * following the content's digest (not its spelling), the refusals (undefined, external, two
 * sources, bad mode or uid, duplicate target, unset variable); post_start/pre_stop hooks parsed
 * and shown but outside the hash; and the policy letting a service mount only its own
 * materialized files read-only without bind_paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon/compose/model.h"
#include "daemon/security/policy.h"

static const char base[] = "services:\n"
                           "  db:\n"
                           "    image: busybox\n"
                           "    secrets:\n"
                           "      - db_password\n"
                           "      - {source: api_key, target: api.key, uid: \"1000\", gid: "
                           "\"1001\", mode: 0440}\n"
                           "    configs:\n"
                           "      - app_conf\n"
                           "      - {source: app_conf, target: /etc/app.ini, mode: 0o400}\n"
                           "secrets:\n"
                           "  db_password: {file: ./pw.txt}\n"
                           "  api_key: {environment: API_KEY}\n"
                           "configs:\n"
                           "  app_conf: {content: \"port=${PORT}\"}\n";

static struct cms_compose_project *parse(const char *yaml, const char *key, struct cms_error *err)
{
        struct cms_compose_project *p = NULL;
        char env[200];
        snprintf(env, sizeof(env), "{\"API_KEY\":\"%s\",\"PORT\":\"5432\"}", key);
        json_object *e = json_tokener_parse(env);
        struct cms_compose_parse_opts o = {.name = "proj", .working_dir = "/srv/app", .env = e};
        int r = cms_compose_parse(yaml, strlen(yaml), &o, &p, NULL, err);
        json_object_put(e);
        return r < 0 ? NULL : p;
}

static struct cms_compose_project *ok(const char *yaml, const char *key)
{
        struct cms_error err = {0};
        struct cms_compose_project *p = parse(yaml, key, &err);
        if (!p)
                fail_msg("parse: %s", err.message);
        return p;
}

static void hash_of(const struct cms_compose_project *p, char out[CMS_COMPOSE_HASH_LEN + 1])
{
        assert_int_equal(cms_compose_config_hash(cms_compose_service_find(p, "db"), out), 0);
}

static void test_parse_and_json(void **state)
{
        (void)state;
        struct cms_compose_project *p = ok(base, "k-SECRET-1");
        const struct cms_compose_service *s = cms_compose_service_find(p, "db");
        assert_int_equal(s->n_secrets, 2);
        /* sorted by target, defaults written out, relative targets under /run/secrets */
        assert_string_equal(s->secrets[0].target, "/run/secrets/api.key");
        assert_string_equal(s->secrets[0].uid, "1000");
        assert_int_equal(s->secrets[0].mode, 0440);
        assert_string_equal(s->secrets[1].target, "/run/secrets/db_password");
        assert_string_equal(s->secrets[1].gid, "0");
        assert_int_equal(s->secrets[1].mode, 0444);
        assert_int_equal(s->n_configs, 2);
        assert_string_equal(s->configs[0].target, "/app_conf");
        assert_string_equal(s->configs[1].target, "/etc/app.ini");
        assert_int_equal(s->configs[1].mode, 0400);
        /* environment and content are known at parse time, a file is not */
        assert_true(p->secrets[0].resolved); /* api_key */
        assert_int_equal(p->secrets[0].len, strlen("k-SECRET-1"));
        assert_false(p->secrets[1].resolved);
        assert_string_equal(p->secrets[1].file, "/srv/app/pw.txt");
        assert_string_equal(p->configs[0].data, "port=5432");
        json_object *j = cms_compose_project_to_json(p);
        const char *text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
        assert_null(strstr(text, "k-SECRET-1"));
        assert_null(strstr(text, "port=5432"));
        assert_non_null(strstr(text, "\"from\":\"content\""));
        assert_non_null(strstr(text, "\"environment\":\"API_KEY\""));
        assert_non_null(strstr(text, "\"file\":\"\\/srv\\/app\\/pw.txt\""));
        json_object_put(j);
        cms_compose_project_free(p);
}

static void test_hash_follows_content(void **state)
{
        (void)state;
        char h1[CMS_COMPOSE_HASH_LEN + 1], h2[CMS_COMPOSE_HASH_LEN + 1],
            h3[CMS_COMPOSE_HASH_LEN + 1];
        struct cms_compose_project *a = ok(base, "one"), *b = ok(base, "two");
        hash_of(a, h1);
        hash_of(b, h2);
        assert_string_not_equal(h1, h2);
        /* the file's content, once read by projects/, counts too */
        char *d1 = strdup("pw-1"), *d2 = strdup("pw-2");
        assert_int_equal(cms_compose_filedef_resolve(a, false, 1, d1, 4), 0);
        assert_string_equal(cms_compose_service_find(a, "db")->secrets[1].digest,
                            a->secrets[1].digest);
        hash_of(a, h2);
        assert_string_not_equal(h1, h2);
        assert_int_equal(cms_compose_filedef_resolve(a, false, 1, d2, 4), 0);
        hash_of(a, h3);
        assert_string_not_equal(h2, h3);
        cms_compose_project_free(a);
        cms_compose_project_free(b);
        /* the long form with the defaults spelled out hashes like the short one */
        const char *shrt = "services:\n  db:\n    image: busybox\n    secrets: [s]\n"
                           "secrets:\n  s: {content: x}\n";
        const char *lng = "services:\n  db:\n    image: busybox\n    secrets:\n"
                          "      - {source: s, target: /run/secrets/s, uid: \"0\", gid: \"0\","
                          " mode: 292}\nsecrets:\n  s: {content: x}\n";
        a = ok(shrt, "k");
        b = ok(lng, "k");
        hash_of(a, h1);
        hash_of(b, h2);
        assert_string_equal(h1, h2);
        cms_compose_project_free(a);
        cms_compose_project_free(b);
}

static void refused(const char *yaml, const char *want)
{
        struct cms_error err = {0};
        struct cms_compose_project *p = parse(yaml, "k", &err);
        if (p)
                fail_msg("accepted: %s", yaml);
        assert_int_equal(err.status, 400);
        if (!strstr(err.message, want))
                fail_msg("'%s' lacks '%s'", err.message, want);
}

static void test_refused(void **state)
{
        (void)state;
        refused("services:\n  a:\n    image: x\n    secrets: [nope]\n",
                "refers to undefined secret \"nope\"");
        refused("services:\n  a:\n    image: x\nsecrets:\n  s: {external: true}\n",
                "secrets.s.external: external secrets and configs need Swarm");
        refused("services:\n  a:\n    image: x\nsecrets:\n  s: {file: a, content: b}\n",
                "secrets.s: give exactly one of file, environment, content");
        refused("services:\n  a:\n    image: x\nsecrets:\n  s: {environment: UNSET_VAR}\n",
                "the variable UNSET_VAR is not set");
        refused("services:\n  a:\n    image: x\n    secrets: [{source: s, mode: 0999}]\n"
                "secrets:\n  s: {content: x}\n",
                "invalid mode '0999'");
        refused("services:\n  a:\n    image: x\n    secrets: [{source: s, uid: root}]\n"
                "secrets:\n  s: {content: x}\n",
                "a numeric id is required");
        refused("services:\n  a:\n    image: x\n    secrets: [s, {source: t, target: s}]\n"
                "secrets:\n  s: {content: x}\n  t: {content: y}\n",
                "two entries mount at /run/secrets/s");
        refused("services:\n  a:\n    image: x\n    post_start: [{user: root}]\n",
                "command is required");
}

static void test_hooks(void **state)
{
        (void)state;
        const char *y = "services:\n  db:\n    image: busybox\n"
                        "    post_start:\n      - command: \"sh -c 'echo hi > /tmp/x'\"\n"
                        "        user: root\n        environment: {A: b}\n"
                        "    pre_stop:\n      - {command: [sync], privileged: true}\n";
        struct cms_compose_project *p = ok(y, "k");
        const struct cms_compose_service *s = cms_compose_service_find(p, "db");
        assert_int_equal(s->n_post_start, 1);
        assert_int_equal(s->post_start[0].command.n, 3);
        assert_string_equal(s->post_start[0].command.v[2], "echo hi > /tmp/x");
        assert_string_equal(s->post_start[0].user, "root");
        assert_int_equal(s->n_pre_stop, 1);
        assert_true(s->pre_stop[0].privileged);
        json_object *j = cms_compose_service_to_json(s);
        assert_non_null(cms_json_get(j, "post_start"));
        assert_non_null(cms_json_get(j, "pre_stop"));
        json_object_put(j);
        /* hooks do not change the container: the hash is the one without them */
        char h1[CMS_COMPOSE_HASH_LEN + 1], h2[CMS_COMPOSE_HASH_LEN + 1];
        hash_of(p, h1);
        struct cms_compose_project *q = ok("services:\n  db:\n    image: busybox\n", "k");
        hash_of(q, h2);
        assert_string_equal(h1, h2);
        cms_compose_project_free(p);
        cms_compose_project_free(q);
}

static int own_check(const char *src, bool ro)
{
        char body[512];
        snprintf(body, sizeof(body),
                 "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":"
                 "\"%s\",\"Target\":\"/run/secrets/s\",\"ReadOnly\":%s}]}}",
                 src, ro ? "true" : "false");
        json_object *b = json_tokener_parse(body), *denials = json_object_new_array();
        struct cms_policy p = {0};
        struct cms_policy_env env = {.own_files = "/var/lib/cmsd/compose-files/proj/db"};
        int n = cms_policy_check_create(&p, &env, b, "services.db.", denials);
        json_object_put(b);
        json_object_put(denials);
        return n;
}

static void test_policy_own_files(void **state)
{
        (void)state;
        assert_int_equal(own_check("/var/lib/cmsd/compose-files/proj/db/s-0-s", true), 0);
        /* writable, nested, another service's or a path that climbs out: bind_paths decides */
        assert_int_equal(own_check("/var/lib/cmsd/compose-files/proj/db/s-0-s", false), 1);
        assert_int_equal(own_check("/var/lib/cmsd/compose-files/proj/db/x/y", true), 1);
        assert_int_equal(own_check("/var/lib/cmsd/compose-files/proj/web/s-0-s", true), 1);
        assert_int_equal(
            own_check("/var/lib/cmsd/compose-files/proj/db/../../../../etc/shadow", true), 1);
        assert_int_equal(own_check("/var/lib/cmsd/compose-files/proj/db", true), 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_parse_and_json),   cmocka_unit_test(test_hash_follows_content),
            cmocka_unit_test(test_refused),          cmocka_unit_test(test_hooks),
            cmocka_unit_test(test_policy_own_files),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
