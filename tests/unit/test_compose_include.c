/* Unit tests for daemon/compose/include.c: a file that includes others (short and long syntax,
 * lists of files, nested includes, project_directory and env_file) gives the same project model
 * and the same config hashes as the resources written out by hand with absolute paths; the
 * included file's own .env is used and the including project's environment wins; conflicts,
 * cycles, missing files and files without a loader are 400s naming the file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon/compose/model.h"

static const char *const files[][2] = {
    {"/srv/app/db/compose.yaml",
     "name: ignored\n"
     "services:\n"
     "  db:\n"
     "    image: busybox:${DB_TAG}\n"
     "    build: {dockerfile: Dockerfile.db}\n"
     "    volumes: [\"./data:/var/lib/db:ro\", \"dbvol:/x\", {type: bind, source: ../shared, "
     "target: /shared}]\n"
     "    env_file: [db.env, {path: ./opt.env, required: false}]\n"
     "    secrets: [dbpass]\n"
     "    environment: {WHO: \"${WHO}\", LEVEL: \"${LEVEL}\"}\n"
     "volumes: {dbvol: {}}\n"
     "networks: {back: {}}\n"
     "secrets: {dbpass: {file: ./pass.txt}}\n"},
    {"/srv/app/db/.env", "DB_TAG=1.0\nWHO=dotenv\nLEVEL=db\n"},
    {"/srv/app/cache/one.yml", "services:\n"
                               "  cache:\n"
                               "    image: busybox\n"
                               "    build: ctx\n"
                               "    extends: {file: ../lib/base.yml, service: base}\n"},
    {"/srv/app/cache/two.yml", "services:\n  cache:\n    labels: {tier: \"${TIER}\"}\n"},
    {"/srv/app/env/cache.env", "TIER=cache\n"},
    {"/srv/app/lib/base.yml", "services:\n  base:\n    command: [sleep, \"1\"]\n"},
    {"/srv/app/nest/top.yml", "include: [inner/in.yml]\n"
                              "services:\n  top:\n    image: busybox\n"},
    {"/srv/app/nest/inner/in.yml", "services:\n  inner:\n    image: busybox\n"
                                   "    volumes: [\"./d:/d\"]\n"
                                   "    security_opt: [\"seccomp=p.json\"]\n"},
    {"/srv/app/cycle/a.yml", "include: [b.yml]\nservices: {a: {image: busybox}}\n"},
    {"/srv/app/cycle/b.yml", "include: [a.yml]\nservices: {b: {image: busybox}}\n"},
    {"/srv/app/web.yml", "services:\n  web:\n    image: busybox\n    command: [sleep, \"2\"]\n"},
};

static int fake_load(void *ud, const char *what, const char *path, char **text,
                     struct cms_error *err)
{
        (void)ud;
        (void)err;
        assert_true(!strcmp(what, "include") || !strcmp(what, "include.env_file") ||
                    !strcmp(what, "extends.file"));
        for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++)
                if (!strcmp(path, files[i][0]))
                        return (*text = strdup(files[i][1])) ? 0 : -ENOMEM;
        return -ENOENT;
}

static struct cms_compose_project *parse(const char *yaml, bool loader, const char *env_json,
                                         struct cms_error *err)
{
        struct cms_compose_project *p = NULL;
        json_object *env = json_tokener_parse(env_json ? env_json : "{}");
        struct cms_compose_parse_opts o = {.name = "proj",
                                           .working_dir = "/srv/app",
                                           .env = env,
                                           .load = loader ? fake_load : NULL};
        int r = cms_compose_parse(yaml, strlen(yaml), &o, &p, NULL, err);
        json_object_put(env);
        return r < 0 ? NULL : p;
}

/* The whole projects of two files are the same model, with the same hash per service. */
static void same(const char *with, const char *by_hand, const char *env)
{
        struct cms_error err = {0};
        struct cms_compose_project *a = parse(with, true, env, &err);
        if (!a)
                fail_msg("include: %s", err.message);
        struct cms_compose_project *b = parse(by_hand, false, env, &err);
        if (!b)
                fail_msg("by hand: %s", err.message);
        json_object *ja = cms_compose_project_to_json(a), *jb = cms_compose_project_to_json(b);
        if (!json_object_equal(ja, jb))
                fail_msg("the models differ:\n%s\n%s", json_object_to_json_string(ja),
                         json_object_to_json_string(jb));
        assert_int_equal(a->n_services, b->n_services);
        for (size_t i = 0; i < a->n_services; i++) {
                char ha[CMS_COMPOSE_HASH_LEN + 1], hb[CMS_COMPOSE_HASH_LEN + 1];
                cms_compose_config_hash(&a->services[i], ha);
                cms_compose_config_hash(cms_compose_service_find(b, a->services[i].name), hb);
                assert_string_equal(ha, hb);
        }
        json_object_put(ja);
        json_object_put(jb);
        cms_compose_project_free(a);
        cms_compose_project_free(b);
}

static void test_long_syntax(void **state)
{
        (void)state;
        /* The request's env wins over the included .env; paths from the included directory. */
        same("include:\n"
             "  - db/compose.yaml\n"
             "  - path: [cache/one.yml, ./cache/two.yml]\n"
             "    env_file: env/cache.env\n"
             "services:\n"
             "  app:\n"
             "    image: busybox\n"
             "    depends_on: [db, cache]\n"
             "    networks: [back]\n"
             "    volumes: [\"dbvol:/v\"]\n",
             "services:\n"
             "  app:\n"
             "    image: busybox\n"
             "    depends_on: [db, cache]\n"
             "    networks: [back]\n"
             "    volumes: [\"dbvol:/v\"]\n"
             "  db:\n"
             "    image: busybox:1.0\n"
             "    build: {context: /srv/app/db, dockerfile: Dockerfile.db}\n"
             "    volumes: [\"/srv/app/db/data:/var/lib/db:ro\", \"dbvol:/x\",\n"
             "              {type: bind, source: /srv/app/shared, target: /shared}]\n"
             "    env_file: [/srv/app/db/db.env, {path: /srv/app/db/opt.env, required: false}]\n"
             "    secrets: [dbpass]\n"
             "    environment: {WHO: request, LEVEL: db}\n"
             "  cache:\n"
             "    image: busybox\n"
             "    build: /srv/app/cache/ctx\n"
             "    command: [sleep, \"1\"]\n"
             "    labels: {tier: cache}\n"
             "volumes: {dbvol: {}}\n"
             "networks: {back: {}}\n"
             "secrets: {dbpass: {file: /srv/app/db/pass.txt}}\n",
             "{\"WHO\":\"request\"}");
}

static void test_nested_and_project_directory(void **state)
{
        (void)state;
        same("include: [nest/top.yml]\n",
             "services:\n  top: {image: busybox}\n"
             "  inner:\n    image: busybox\n"
             "    volumes: [\"/srv/app/nest/inner/d:/d\"]\n"
             "    security_opt: [\"seccomp=/srv/app/nest/inner/p.json\"]\n",
             NULL);
        /* project_directory moves where relative paths point, not where the file is. */
        same("include: [{path: nest/inner/in.yml, project_directory: other}]\n",
             "services:\n  inner:\n    image: busybox\n"
             "    volumes: [\"/srv/app/other/d:/d\"]\n"
             "    security_opt: [\"seccomp=/srv/app/other/p.json\"]\n",
             NULL);
        /* An identical definition in both is taken once. */
        same("include: [web.yml]\nservices:\n  web:\n    image: busybox\n"
             "    command: [sleep, \"2\"]\n",
             "services:\n  web:\n    image: busybox\n    command: [sleep, \"2\"]\n", NULL);
}

static void refused(const char *yaml, bool loader, const char *want)
{
        struct cms_error err = {0};
        struct cms_compose_project *p = parse(yaml, loader, NULL, &err);
        if (p)
                fail_msg("accepted: %s", yaml);
        assert_int_equal(err.status, 400);
        if (!strstr(err.message, want))
                fail_msg("'%s' lacks '%s'", err.message, want);
}

static void test_refused(void **state)
{
        (void)state;
        refused("include: [web.yml]\nservices:\n  web: {image: other}\n", true,
                "services.web is already defined differently");
        refused("include: [cycle/a.yml]\n", true, "a cycle through /srv/app/cycle/a.yml");
        refused("include: [nope.yml]\n", true, "include: /srv/app/nope.yml not found");
        refused("include: [{path: web.yml, env_file: missing.env}]\n", true,
                "include.env_file: /srv/app/missing.env not found");
        refused("include: [web.yml]\n", false, "files beside the compose file are not read here");
        refused("include: web.yml\n", true, "include: expected a list, got a scalar");
        refused("include: [{project_directory: x}]\n", true, "include[0].path: a path is required");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_long_syntax),
            cmocka_unit_test(test_nested_and_project_directory),
            cmocka_unit_test(test_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
