/* Unit tests for the engine-free parts of the compose project manager: the stored records in
 * state_dir (round trip, atomic file, mode, names, damaged and missing records), the
 * per-project lock, env_file resolution at parse time, and the start levels computed from the
 * containers' depends_on labels (projects made elsewhere are ordered by those alone). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "daemon/projects/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fx {
        char dir[64];
        struct cms_config cfg;
        struct cms_manager m;
};

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof(*f));
        snprintf(f->dir, sizeof(f->dir), "/tmp/cmsd-unit-store.XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        f->cfg.state_dir = f->dir;
        f->m.cfg = &f->cfg;
        pthread_rwlock_init(&f->m.cfg_lock, NULL);
        pthread_mutex_init(&f->m.projects_mu, NULL);
        f->m.projects_busy = json_object_new_object();
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        assert_int_equal(system(cmd), 0);
        json_object_put(f->m.projects_busy);
        free(f);
        return 0;
}

static void write_file(const char *path, const char *text)
{
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fputs(text, fp);
        fclose(fp);
}

static void test_round_trip(void **state)
{
        struct fx *f = *state;
        struct cms_project_record rec = {
            .name = "shop",
            .compose = "services: {web: {image: x}}\n",
            .dotenv = "A=1\n",
            .working_dir = "/srv/shop",
            .env = json_tokener_parse("{\"TAG\":\"1.2\"}"),
            .profiles = json_tokener_parse("[\"debug\"]"),
            .scale = json_tokener_parse("{\"web\":3}"),
        };
        struct cms_error err = {0};
        assert_int_equal(cms_project_store_save(&f->m, &rec, &err), 0);
        char path[128];
        snprintf(path, sizeof(path), "%s/projects/shop.json", f->dir);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600); /* env may hold secrets */
        snprintf(path, sizeof(path), "%s/projects/.shop.json.tmp", f->dir);
        assert_int_not_equal(access(path, F_OK), 0); /* no temp file left behind */

        struct cms_project_record got;
        assert_int_equal(cms_project_store_load(&f->m, "shop", &got, &err), 0);
        assert_string_equal(got.name, "shop");
        assert_string_equal(got.compose, rec.compose);
        assert_string_equal(got.dotenv, "A=1\n");
        assert_string_equal(got.working_dir, "/srv/shop");
        assert_string_equal(json_object_get_string(cms_json_get(got.env, "TAG")), "1.2");
        assert_int_equal(json_object_array_length(got.profiles), 1);
        assert_int_equal(json_object_get_int(cms_json_get(got.scale, "web")), 3);
        cms_project_record_done(&got);
        json_object_put(rec.env);
        json_object_put(rec.profiles);
        json_object_put(rec.scale);

        /* Saving again replaces the record. */
        struct cms_project_record rec2 = {.name = "shop", .compose = "services: {}\n"};
        assert_int_equal(cms_project_store_save(&f->m, &rec2, &err), 0);
        assert_int_equal(cms_project_store_load(&f->m, "shop", &got, &err), 0);
        assert_string_equal(got.compose, "services: {}\n");
        assert_null(got.dotenv);
        assert_null(got.env);
        cms_project_record_done(&got);
}

static void test_missing_damaged_invalid(void **state)
{
        struct fx *f = *state;
        struct cms_project_record got;
        struct cms_error err = {0};
        assert_true(cms_project_store_load(&f->m, "nope", &got, &err) < 0);
        assert_int_equal(err.status, 404);
        assert_true(cms_project_store_load(&f->m, "../etc", &got, &err) < 0);
        assert_int_equal(err.status, 400);

        struct cms_project_record rec = {.name = "a", .compose = "services: {}\n"};
        assert_int_equal(cms_project_store_save(&f->m, &rec, &err), 0);
        char path[128];
        snprintf(path, sizeof(path), "%s/projects/a.json", f->dir);
        write_file(path, "{\"name\":\"a\"");
        assert_true(cms_project_store_load(&f->m, "a", &got, &err) < 0);
        assert_int_equal(err.status, 500);
        write_file(path, "{\"name\":\"b\",\"compose\":\"x\"}"); /* someone else's record */
        assert_true(cms_project_store_load(&f->m, "a", &got, &err) < 0);
        assert_int_equal(err.status, 500);
}

static void test_names(void **state)
{
        struct fx *f = *state;
        struct cms_error err = {0};
        const char *names[] = {"web", "api", "db-1"};
        for (size_t i = 0; i < 3; i++) {
                struct cms_project_record rec = {.name = (char *)names[i],
                                                 .compose = "services: {}\n"};
                assert_int_equal(cms_project_store_save(&f->m, &rec, &err), 0);
        }
        char path[128];
        snprintf(path, sizeof(path), "%s/projects/Not-Valid.json", f->dir);
        write_file(path, "{}");
        json_object *n = cms_project_store_names(&f->m);
        assert_string_equal(json_object_to_json_string_ext(n, JSON_C_TO_STRING_PLAIN),
                            "[\"api\",\"db-1\",\"web\"]");
        json_object_put(n);
}

static void test_lock(void **state)
{
        struct fx *f = *state;
        struct cms_error err = {0};
        assert_int_equal(cms_project_lock(&f->m, "p", &err), 0);
        assert_true(cms_project_lock(&f->m, "p", &err) < 0);
        assert_int_equal(err.status, 409);
        assert_int_equal(cms_project_lock(&f->m, "q", &err), 0);
        cms_project_unlock(&f->m, "p");
        assert_int_equal(cms_project_lock(&f->m, "p", &err), 0);
        cms_project_unlock(&f->m, "p");
        cms_project_unlock(&f->m, "q");
}

static const char *env_of(const struct cms_compose_project *p, const char *svc, const char *k)
{
        const struct cms_compose_service *s = cms_compose_service_find(p, svc);
        const struct cms_compose_kv *kv = s ? cms_compose_kvs_get(&s->environment, k) : NULL;
        return kv ? kv->value : NULL;
}

static const struct cms_caller admin = {.token = "a", .role = CMS_ROLE_ADMIN,
                                        .policy = CMS_POLICY_UNRESTRICTED};

static void test_env_files(void **state)
{
        struct fx *f = *state;
        char path[128];
        snprintf(path, sizeof(path), "%s/one.env", f->dir);
        write_file(path, "A=one\nB=one\nC=one\n");
        snprintf(path, sizeof(path), "%s/two.env", f->dir);
        write_file(path, "B=two\n# comment\nexport D='two d'\n");
        struct cms_project_record rec = {
            .name = "e",
            .working_dir = f->dir,
            .compose = "services:\n  a:\n    image: x\n    env_file: [one.env, two.env, "
                       "{path: gone.env, required: false}]\n    environment: {C: env}\n",
        };
        struct cms_compose_project *p = NULL;
        struct cms_error err = {0};
        assert_int_equal(cms_project_parse(&f->m, &admin, &rec, &p, NULL, &err), 0);
        assert_string_equal(env_of(p, "a", "A"), "one");
        assert_string_equal(env_of(p, "a", "B"), "two"); /* later files win */
        assert_string_equal(env_of(p, "a", "C"), "env"); /* environment wins */
        assert_string_equal(env_of(p, "a", "D"), "two d");
        assert_int_equal(cms_compose_service_find(p, "a")->n_env_files, 0);
        cms_compose_project_free(p);

        rec.compose = "services: {a: {image: x, env_file: missing.env}}\n";
        assert_true(cms_project_parse(&f->m, &admin, &rec, &p, NULL, &err) < 0);
        assert_int_equal(err.status, 400);
        assert_non_null(strstr(err.message, "missing.env not found"));
        rec.working_dir = NULL;
        rec.compose = "services: {a: {image: x, env_file: one.env}}\n";
        assert_true(cms_project_parse(&f->m, &admin, &rec, &p, NULL, &err) < 0);
        assert_non_null(strstr(err.message, "needs the project's working_dir"));
        snprintf(path, sizeof(path), "%s/bad.env", f->dir);
        write_file(path, "OK=1\nnot a line\n");
        rec.working_dir = f->dir;
        rec.compose = "services: {a: {image: x, env_file: bad.env}}\n";
        assert_true(cms_project_parse(&f->m, &admin, &rec, &p, NULL, &err) < 0);
        assert_int_equal(err.status, 400);
        assert_non_null(strstr(err.message, "services.a"));
        /* Under the restricted policy cmsd reads no host file for the caller: 403, unread. */
        const struct cms_caller op = {.token = "o", .role = CMS_ROLE_OPERATOR,
                                      .policy = CMS_POLICY_RESTRICTED};
        rec.compose = "services: {a: {image: x, env_file: [one.env, two.env]}}\n";
        assert_true(cms_project_parse(&f->m, &op, &rec, &p, NULL, &err) < 0);
        assert_int_equal(err.status, 403);
        assert_string_equal(err.code, "policy_denied");
        assert_string_equal(err.field, "services.a.env_file[1]");
        assert_string_equal(err.rule, "build_paths");
        /* Without a caller (internal parses for names and order) no file is read at all. */
        assert_int_equal(cms_project_parse(&f->m, NULL, &rec, &p, NULL, &err), 0);
        assert_null(env_of(p, "a", "A"));
        cms_compose_project_free(p);
}

static void add_ctr(struct cms_pctrs *cs, const char *svc, const char *deps)
{
        struct cms_pctr *x = &cs->v[cs->n++];
        memset(x, 0, sizeof(*x));
        x->id = strdup(svc);
        x->name = strdup(svc);
        x->service = strdup(svc);
        x->state = strdup("running");
        x->depends_on = json_tokener_parse(deps);
}

static void test_levels(void **state)
{
        struct cms_pctrs cs = {.v = calloc(8, sizeof(struct cms_pctr))};
        add_ctr(&cs, "web", "[{\"service\":\"api\",\"condition\":\"service_started\"}]");
        add_ctr(&cs, "api",
                "[{\"service\":\"db\",\"condition\":\"service_healthy\"},"
                "{\"service\":\"cache\",\"condition\":\"service_started\"}]");
        add_ctr(&cs, "db", "[]");
        add_ctr(&cs, "cache", "[]");
        add_ctr(&cs, "loner", "[{\"service\":\"gone\",\"condition\":\"service_started\"}]");
        add_ctr(&cs, "x", "[{\"service\":\"y\",\"condition\":\"service_started\"}]");
        add_ctr(&cs, "y", "[{\"service\":\"x\",\"condition\":\"service_started\"}]");
        int *lv = NULL;
        size_t n = cms_pctrs_levels(&cs, &lv);
        assert_int_equal(n, 3);
        assert_int_equal(lv[0], 2); /* web */
        assert_int_equal(lv[1], 1); /* api */
        assert_int_equal(lv[2], 0); /* db */
        assert_int_equal(lv[3], 0); /* cache */
        assert_int_equal(lv[4], 1); /* a dependency without containers counts as level 0 */
        assert_int_equal(lv[5], 0); /* a cycle (labels edited by hand) is not followed forever */
        assert_int_equal(lv[6], 0);
        free(lv);
        cms_pctrs_done(&cs);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
            cmocka_unit_test_setup_teardown(test_missing_damaged_invalid, setup, teardown),
            cmocka_unit_test_setup_teardown(test_names, setup, teardown),
            cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
            cmocka_unit_test_setup_teardown(test_env_files, setup, teardown),
            cmocka_unit_test(test_levels),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
