/* Unit tests for daemon/compose/extends.c: a service that extends another (same file, a chain,
 * other files through the loader, relative paths from the naming file's directory, a base
 * service's own bind sources and build context from its file's directory) gives the
 * same model and the same config hash as the service written out by hand; cycles, missing
 * services and files without a loader are 400s. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon/compose/model.h"

static const char *const files[][2] = {
    {"/srv/app/lib/common.yml", "services:\n"
                                "  base:\n"
                                "    extends: {file: more.yml, service: root}\n"
                                "    environment: {LEVEL: common, FROM: \"${WHO}\"}\n"
                                "    ports: [\"8080:80\"]\n"},
    {"/srv/app/lib/more.yml", "services:\n"
                              "  root:\n"
                              "    image: busybox\n"
                              "    command: [sleep, \"1\"]\n"
                              "    environment: {LEVEL: root, ROOT: \"1\"}\n"
                              "    labels: {tier: root}\n"
                              "    volumes: [\"./data:/data\"]\n"
                              "    build: {dockerfile: Dockerfile}\n"},
    {"/srv/app/lib/bad.yml", "services: [\n"},
};
static int loads;

static int fake_load(void *ud, const char *what, const char *path, char **text,
                     struct cms_error *err)
{
        (void)ud;
        (void)what;
        loads++;
        for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++)
                if (!strcmp(path, files[i][0]))
                        return (*text = strdup(files[i][1])) ? 0 : -ENOMEM;
        (void)err;
        return -ENOENT;
}

static struct cms_compose_project *parse(const char *yaml, bool loader, struct cms_error *err)
{
        struct cms_compose_project *p = NULL;
        json_object *env = json_tokener_parse("{\"WHO\":\"me\"}");
        struct cms_compose_parse_opts o = {.name = "proj",
                                           .working_dir = "/srv/app",
                                           .env = env,
                                           .load = loader ? fake_load : NULL};
        int r = cms_compose_parse(yaml, strlen(yaml), &o, &p, NULL, err);
        json_object_put(env);
        return r < 0 ? NULL : p;
}

/* services a and b of two files are the same model and hash. */
static void same(const char *with, const char *by_hand, const char *svc)
{
        struct cms_error err = {0};
        struct cms_compose_project *a = parse(with, true, &err);
        if (!a)
                fail_msg("extends: %s", err.message);
        struct cms_compose_project *b = parse(by_hand, false, &err);
        if (!b)
                fail_msg("by hand: %s", err.message);
        const struct cms_compose_service *sa = cms_compose_service_find(a, svc),
                                         *sb = cms_compose_service_find(b, svc);
        assert_non_null(sa);
        assert_non_null(sb);
        json_object *ja = cms_compose_service_to_json(sa), *jb = cms_compose_service_to_json(sb);
        if (!json_object_equal(ja, jb))
                fail_msg("%s differs:\n%s\n%s", svc, json_object_to_json_string(ja),
                         json_object_to_json_string(jb));
        char ha[CMS_COMPOSE_HASH_LEN + 1], hb[CMS_COMPOSE_HASH_LEN + 1];
        cms_compose_config_hash(sa, ha);
        cms_compose_config_hash(sb, hb);
        assert_string_equal(ha, hb);
        json_object_put(ja);
        json_object_put(jb);
        cms_compose_project_free(a);
        cms_compose_project_free(b);
}

static void test_same_file(void **state)
{
        same("services:\n"
             "  base:\n"
             "    image: busybox\n"
             "    command: [sleep, \"5\"]\n"
             "    environment: [A=1, B=2]\n"
             "    ports: [\"8080:80\", \"9090:90\"]\n"
             "    volumes: [\"/data\"]\n"
             "    ulimits: {nofile: 100}\n"
             "  mid:\n"
             "    extends: base\n"
             "    labels: {tier: mid}\n"
             "  web:\n"
             "    extends: {service: mid}\n"
             "    command: [sleep, \"9\"]\n"
             "    environment: {B: two, C: \"3\"}\n"
             "    ports: [\"8081:80\", \"9090:90\"]\n"
             "    volumes: [\"/srv:/data\"]\n",
             "services:\n"
             "  web:\n"
             "    image: busybox\n"
             "    command: [sleep, \"9\"]\n"
             "    environment: {A: \"1\", B: two, C: \"3\"}\n"
             "    labels: {tier: mid}\n"
             "    ports: [\"8080:80\", \"9090:90\", \"8081:80\"]\n"
             "    volumes: [\"/srv:/data\"]\n"
             "    ulimits: {nofile: 100}\n",
             "web");
}

static void test_other_files(void **state)
{
        loads = 0;
        same("services:\n"
             "  web:\n"
             "    extends: {file: lib/common.yml, service: base}\n"
             "    environment: {LEVEL: web}\n",
             "services:\n"
             "  web:\n"
             "    image: busybox\n"
             "    command: [sleep, \"1\"]\n"
             "    environment: {LEVEL: web, ROOT: \"1\", FROM: me}\n"
             "    labels: {tier: root}\n"
             "    volumes: [\"/srv/app/lib/data:/data\"]\n"
             "    build: {context: /srv/app/lib, dockerfile: Dockerfile}\n"
             "    ports: [\"8080:80\"]\n",
             "web");
        assert_int_equal(loads, 2); /* common.yml, then more.yml beside it */
}

static void refused(const char *yaml, bool loader, const char *msg)
{
        struct cms_error err = {0};
        struct cms_compose_project *p = parse(yaml, loader, &err);
        if (p)
                fail_msg("parsed: %s", yaml);
        if (!strstr(err.message, msg))
                fail_msg("'%s' lacks '%s'", err.message, msg);
        assert_int_equal(err.status, 400);
}

static void test_refused(void **state)
{
        refused("services:\n  a: {image: x, extends: b}\n  b: {image: x, extends: a}\n", true,
                "cycle through service");
        refused("services:\n  a: {image: x, extends: a}\n", true, "cycle through service");
        refused("services:\n  a: {image: x, extends: nothere}\n", true,
                "no service 'nothere' to extend");
        refused("services:\n  a: {extends: {file: lib/common.yml, service: base}}\n", false,
                "not read here");
        refused("services:\n  a: {extends: {file: lib/common.yml, service: zzz}}\n", true,
                "no service 'zzz' in /srv/app/lib/common.yml");
        refused("services:\n  a: {extends: {file: nope.yml, service: base}}\n", true,
                "/srv/app/nope.yml not found");
        refused("services:\n  a: {image: x, extends: {file: [x], service: b}}\n", true,
                "services.a.extends.file: expected a string");
        refused("services:\n  a: {extends: {file: lib/bad.yml, service: b}}\n", true,
                "extends.file /srv/app/lib/bad.yml: invalid compose file");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_same_file),
            cmocka_unit_test(test_other_files),
            cmocka_unit_test(test_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
