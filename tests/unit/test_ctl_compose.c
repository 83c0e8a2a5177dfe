/* Unit tests for cmsctl compose's client side (client/compose_opts.c, compose_progress.c):
 * compose's own options, the default file and its override, docker compose's project name
 * normalization and precedence (-p, COMPOSE_PROJECT_NAME, .env, name:, the directory), .env
 * values, the request body (only the environment variables the files name), and the progress
 * lines, plain and redrawn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "client/compose_opts.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_opts(void **state)
{
        (void)state;
        struct ctl_compose o;
        char *a[] = {"-f",   "a.yml",      "--file", "b.yml", "-p",
                     "proj", "--env-file", "x.env",  "up",    "-d"};
        assert_int_equal(ctl_compose_parse_opts(&o, 10, a), 8);
        assert_int_equal(o.n_files, 2);
        assert_string_equal(o.files[0], "a.yml");
        assert_string_equal(o.files[1], "b.yml");
        assert_string_equal(o.project, "proj");
        assert_string_equal(o.env_file, "x.env");
        char *b[] = {"ps"};
        assert_int_equal(ctl_compose_parse_opts(&o, 1, b), 0);
        assert_int_equal(o.n_files, 0);
        assert_null(o.project);
        char *bad[] = {"--nope", "up"};
        assert_int_equal(ctl_compose_parse_opts(&o, 2, bad), -CTL_USAGE);
        char *novalue[] = {"-f"};
        assert_int_equal(ctl_compose_parse_opts(&o, 1, novalue), -CTL_USAGE);
        char *nocmd[] = {"-p", "x"};
        assert_int_equal(ctl_compose_parse_opts(&o, 2, nocmd), -CTL_USAGE);
        char *many[2 * CTL_COMPOSE_MAX_FILES + 3];
        for (int i = 0; i < CTL_COMPOSE_MAX_FILES + 1; i++) {
                many[2 * i] = "-f";
                many[2 * i + 1] = "x.yml";
        }
        many[2 * CTL_COMPOSE_MAX_FILES + 2] = "up";
        assert_int_equal(ctl_compose_parse_opts(&o, 2 * CTL_COMPOSE_MAX_FILES + 3, many),
                         -CTL_USAGE);
}

static void test_normalize(void **state)
{
        (void)state;
        static const char *const cases[][2] = {
            {"MyApp", "myapp"},  {"my app.v2", "myappv2"}, {"__Proj-1", "proj-1"},
            {"-._x_y-", "x_y-"}, {"Ünïcode", "ncode"},     {"123", "123"},
            {"...", ""},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *n = ctl_compose_normalize(cases[i][0]);
                assert_string_equal(n, cases[i][1]);
                free(n);
        }
}

static const char *lookup(const char *name, void *ud)
{
        (void)ud;
        return !strcmp(name, "STAGE") ? "prod" : !strcmp(name, "EMPTY") ? "" : NULL;
}

static void test_file_name(void **state)
{
        (void)state;
        static const char *const cases[][2] = {
            {"name: plain\nservices: {a: {image: x}}\n", "plain"},
            {"services:\n  a:\n    name: inner\n    image: x\nname: last\n", "last"},
            {"services: {a: {image: x}}\n", NULL},
            {"name: app-${STAGE}\n", "app-prod"},
            {"name: app-${UNSET:-dev}\n", "app-dev"},
            {"name: app-${EMPTY:-dev}-${EMPTY-x}\n", "app-dev-"},
            {"x-name: {name: no}\nservices: {}\n", NULL},
            {"name: [not, a, scalar]\n", NULL},
            {": : bad yaml [\n", NULL},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *n = ctl_compose_file_name(cases[i][0], strlen(cases[i][0]), lookup, NULL);
                if (cases[i][1])
                        assert_string_equal(n, cases[i][1]);
                else
                        assert_null(n);
                free(n);
        }
}

static void test_dotenv(void **state)
{
        (void)state;
        const char *t = "# comment\n"
                        "A=1\n"
                        "export B = two words # a comment\n"
                        "C=\"quoted # kept\"\n"
                        "D='single'\n"
                        "AA=not-a\n"
                        "E=\n";
        static const char *const cases[][2] = {
            {"A", "1"},      {"B", "two words"}, {"C", "quoted # kept"},
            {"D", "single"}, {"E", ""},          {"F", NULL}};
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *v = ctl_dotenv_get(t, cases[i][0]);
                if (cases[i][1])
                        assert_string_equal(v, cases[i][1]);
                else
                        assert_null(v);
                free(v);
        }
        assert_true(ctl_word_in("image: ${TAG}", "TAG"));
        assert_true(ctl_word_in("- FOO\n", "FOO"));
        assert_false(ctl_word_in("${TAGS}", "TAG"));
        assert_false(ctl_word_in("MY_TAG", "TAG"));
        assert_false(ctl_word_in("x", ""));
}

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

/* A project directory: the default file and its override found, .env read, the name taken
 * from the files, else the directory; -p and COMPOSE_PROJECT_NAME win; the body's env holds
 * only the variables the files or .env name. */
static void test_load_and_body(void **state)
{
        (void)state;
        char tmpl[] = "/tmp/ctl-compose-XXXXXX", old[4096], path[4200];
        char *dir = mkdtemp(tmpl);
        assert_non_null(dir);
        assert_non_null(getcwd(old, sizeof(old)));
        snprintf(path, sizeof(path), "%s/My Project", dir);
        assert_int_equal(mkdir(path, 0700), 0);
        assert_int_equal(chdir(path), 0);
        write_file("docker-compose.yml", "services:\n  a:\n    image: \"x:${TAG}\"\n");
        write_file("compose.override.yaml", "services:\n  a:\n    environment: [FROM_ENV]\n");
        write_file(".env", "TAG=1\nCOMPOSE_PROJECT_NAME=\n");
        unsetenv("COMPOSE_PROJECT_NAME");
        struct ctl_compose o = {0};
        struct ctl_compose_project p;
        assert_int_equal(ctl_compose_load(&o, true, &p), CTL_OK);
        assert_int_equal(p.n_files, 2);
        assert_non_null(strstr(p.files[0], "/My Project/docker-compose.yml"));
        assert_non_null(strstr(p.files[1], "/My Project/compose.override.yaml"));
        assert_string_equal(p.name, "myproject");
        assert_string_equal(p.dotenv, "TAG=1\nCOMPOSE_PROJECT_NAME=\n");
        char *envp[] = {"TAG=9", "FROM_ENV=yes", "CMSD_TOKEN=secret", "HOMEX=1", NULL};
        json_object *b = ctl_compose_body(&p, envp);
        json_object *env = json_object_object_get(b, "env");
        assert_string_equal(json_object_get_string(json_object_object_get(env, "TAG")), "9");
        assert_string_equal(json_object_get_string(json_object_object_get(env, "FROM_ENV")), "yes");
        assert_null(json_object_object_get(env, "CMSD_TOKEN"));
        assert_null(json_object_object_get(env, "HOMEX"));
        assert_int_equal(json_object_array_length(json_object_object_get(b, "compose")), 2);
        assert_string_equal(json_object_get_string(json_object_object_get(b, "working_dir")),
                            p.dir);
        assert_string_equal(json_object_get_string(json_object_object_get(b, "name")), "myproject");
        json_object_put(b);
        ctl_compose_project_done(&p);
        /* name: in the file, then COMPOSE_PROJECT_NAME, then -p. */
        write_file("docker-compose.yml", "name: from-file\nservices: {a: {image: x}}\n");
        assert_int_equal(ctl_compose_load(&o, true, &p), CTL_OK);
        assert_string_equal(p.name, "from-file");
        ctl_compose_project_done(&p);
        setenv("COMPOSE_PROJECT_NAME", "from-env", 1);
        assert_int_equal(ctl_compose_load(&o, true, &p), CTL_OK);
        assert_string_equal(p.name, "from-env");
        ctl_compose_project_done(&p);
        unsetenv("COMPOSE_PROJECT_NAME");
        o.project = "from-p";
        assert_int_equal(ctl_compose_load(&o, true, &p), CTL_OK);
        assert_string_equal(p.name, "from-p");
        ctl_compose_project_done(&p);
        /* -f of a file elsewhere: its directory is the project's. */
        snprintf(path, sizeof(path), "%s/other.yaml", dir);
        write_file(path, "services: {b: {image: y}}\n");
        struct ctl_compose o2 = {.files = {path}, .n_files = 1};
        assert_int_equal(ctl_compose_load(&o2, true, &p), CTL_OK);
        assert_int_equal(p.n_files, 1);
        assert_null(p.dotenv);
        char *base = strrchr(dir, '/') + 1, *want = ctl_compose_normalize(base);
        assert_string_equal(p.name, want);
        free(want);
        ctl_compose_project_done(&p);
        /* No file where one is needed: a usage error. */
        assert_int_equal(chdir(dir), 0);
        assert_int_equal(ctl_compose_load(&(struct ctl_compose){0}, true, &p), CTL_USAGE);
        ctl_compose_project_done(&p);
        assert_int_equal(chdir(old), 0);
        snprintf(path, sizeof(path), "rm -rf '%s'", dir);
        assert_int_equal(system(path), 0);
}

static void test_progress(void **state)
{
        (void)state;
        json_object *ev = json_tokener_parse(
            "{\"type\":\"progress\",\"service\":\"web\",\"container\":\"p-web-1\","
            "\"status\":\"started\"}");
        char *t = ctl_progress_text(ev);
        assert_string_equal(t, "Container p-web-1  Started");
        free(t);
        json_object *net = json_tokener_parse(
            "{\"type\":\"progress\",\"network\":\"p_default\",\"status\":\"created\"}");
        json_object *done = json_tokener_parse("{\"type\":\"done\",\"name\":\"p\"}");
        assert_null(ctl_progress_text(done));
        /* Piped: one plain line per event. */
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        struct ctl_progress *p = ctl_progress_new(false, false, f);
        ctl_progress_event(p, net);
        ctl_progress_event(p, ev);
        ctl_progress_event(p, done);
        ctl_progress_free(p);
        fclose(f);
        assert_string_equal(buf, "Network p_default  Created\nContainer p-web-1  Started\n");
        free(buf);
        /* A terminal: the second event for the same container redraws over the first. */
        json_object *creating = json_tokener_parse(
            "{\"type\":\"progress\",\"service\":\"web\",\"container\":\"p-web-1\","
            "\"status\":\"creating\"}");
        f = open_memstream(&buf, &len);
        p = ctl_progress_new(true, false, f);
        ctl_progress_event(p, creating);
        ctl_progress_event(p, ev);
        ctl_progress_free(p);
        fclose(f);
        assert_non_null(strstr(buf, "Container p-web-1  Creating\n\033[1A"));
        assert_non_null(strstr(buf, "\033[1A\033[2K \xe2\x9c\x94 Container p-web-1  Started\n"));
        assert_null(strstr(buf, "\033[3")); /* no colour when not allowed */
        free(buf);
        json_object_put(ev);
        json_object_put(net);
        json_object_put(done);
        json_object_put(creating);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_opts),          cmocka_unit_test(test_normalize),
            cmocka_unit_test(test_file_name),     cmocka_unit_test(test_dotenv),
            cmocka_unit_test(test_load_and_body), cmocka_unit_test(test_progress),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
