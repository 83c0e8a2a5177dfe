/* Unit tests for the compose parser (daemon/compose/parse*.c, model*.c): every file of the corpus
 * in tests/unit/fixtures/compose (good_*.yaml must parse to the model their header comments
 * describe, bad_*.yaml must fail with the message theirs give, line included), and the caps that
 * keep hostile documents cheap: size, depth, alias count and expansion ("billion laughs"),
 * anchors, interpolated size, warning count. Fixtures are found beside this file (via __FILE__)
 * or in $CMS_TEST_FIXTURES. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <json-c/json_pointer.h>

#include "daemon/compose/internal.h"

/* ---- corpus ---- */

static void fixture_dir(char *buf, size_t n)
{
        const char *dir = getenv("CMS_TEST_FIXTURES");
        if (dir) {
                snprintf(buf, n, "%s/compose", dir);
                return;
        }
        const char *slash = strrchr(__FILE__, '/');
        int len = slash ? (int)(slash - __FILE__) : 1;
        snprintf(buf, n, "%.*s/fixtures/compose", len, slash ? __FILE__ : ".");
}

static char *read_all(const char *path, size_t *len)
{
        FILE *f = fopen(path, "rb");
        if (!f)
                fail_msg("cannot open %s", path);
        struct cms_buf b;
        cms_buf_init(&b, 0);
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                assert_int_equal(cms_buf_append(&b, chunk, n), 0);
        fclose(f);
        assert_int_equal(cms_buf_append(&b, "", 0), 0);
        *len = b.len;
        return cms_buf_take(&b);
}

/* What a fixture's header asks for. */
struct spec {
        char name[64], working_dir[128], levels[256];
        char *profiles[8];
        size_t n_profiles;
        json_object *env;
        bool expect_error, no_warnings;
        char error[512];
        struct cms_compose_strv expects, absents, warnings, no_warning_about;
};

static void spec_line(struct spec *sp, const char *line)
{
        const char *v;
#define TAG(t) (cms_str_has_prefix(line, t) ? (v = line + strlen(t)) : NULL)
        if (TAG("# name: ")) {
                snprintf(sp->name, sizeof(sp->name), "%s", v);
        } else if (TAG("# working_dir: ")) {
                snprintf(sp->working_dir, sizeof(sp->working_dir), "%s", v);
        } else if (TAG("# profiles: ")) {
                char *copy = strdup(v), *save = NULL;
                for (char *t = strtok_r(copy, ",", &save); t && sp->n_profiles < 7;
                     t = strtok_r(NULL, ",", &save))
                        sp->profiles[sp->n_profiles++] = strdup(t);
                free(copy);
        } else if (TAG("# env: ")) {
                const char *eq = strchr(v, '=');
                char key[128];
                snprintf(key, sizeof(key), "%.*s", (int)(eq - v), v);
                json_object_object_add(sp->env, key, json_object_new_string(eq + 1));
        } else if (TAG("# expect-error: ")) {
                sp->expect_error = true;
                snprintf(sp->error, sizeof(sp->error), "%s", v);
        } else if (TAG("# expect: ")) {
                cms_compose_strv_add(&sp->expects, v);
        } else if (TAG("# expect-absent: ")) {
                cms_compose_strv_add(&sp->absents, v);
        } else if (TAG("# expect-warning: ")) {
                cms_compose_strv_add(&sp->warnings, v);
        } else if (TAG("# expect-no-warning-about: ")) {
                cms_compose_strv_add(&sp->no_warning_about, v);
        } else if (TAG("# expect-levels: ")) {
                snprintf(sp->levels, sizeof(sp->levels), "%s", v);
        } else if (!strcmp(line, "# expect-no-warnings")) {
                sp->no_warnings = true;
        }
#undef TAG
}

static void spec_read(struct spec *sp, const char *text)
{
        memset(sp, 0, sizeof(*sp));
        sp->env = json_object_new_object();
        for (const char *p = text; *p == '#';) {
                const char *nl = strchr(p, '\n');
                size_t l = nl ? (size_t)(nl - p) : strlen(p);
                char *line = strndup(p, l);
                spec_line(sp, line);
                free(line);
                if (!nl)
                        break;
                p = nl + 1;
        }
}

static void spec_done(struct spec *sp)
{
        json_object_put(sp->env);
        for (size_t i = 0; i < sp->n_profiles; i++)
                free(sp->profiles[i]);
        cms_compose_strv_done(&sp->expects);
        cms_compose_strv_done(&sp->absents);
        cms_compose_strv_done(&sp->warnings);
        cms_compose_strv_done(&sp->no_warning_about);
}

static bool warned(json_object *warnings, const char *text)
{
        for (size_t i = 0; i < json_object_array_length(warnings); i++)
                if (strstr(json_object_get_string(json_object_array_get_idx(warnings, i)), text))
                        return true;
        return false;
}

/* "a,b|c": the plan's levels, service names joined by "," and levels by "|". */
static void levels_text(const struct cms_compose_project *p, char *buf, size_t n)
{
        struct cms_compose_plan *pl = NULL;
        struct cms_error err = {0};
        size_t off = 0;
        buf[0] = 0;
        assert_int_equal(cms_compose_plan_new(p, &pl, &err), 0);
        for (size_t l = 0; l < pl->n_levels; l++)
                for (size_t k = 0; k < pl->levels[l].n; k++)
                        off += (size_t)snprintf(buf + off, n - off, "%s%s",
                                                k   ? ","
                                                : l ? "|"
                                                    : "",
                                                p->services[pl->levels[l].services[k]].name);
        cms_compose_plan_free(pl);
}

static void check_model(const char *file, const struct spec *sp,
                        const struct cms_compose_project *p, json_object *warnings)
{
        json_object *doc = cms_compose_project_to_json(p);
        const char *shown = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
        for (size_t i = 0; i < sp->expects.n; i++) {
                const char *e = sp->expects.v[i], *sp_at = strchr(e, ' ');
                char ptr[256];
                snprintf(ptr, sizeof(ptr), "%.*s", (int)(sp_at - e), e);
                json_object *got = NULL, *want = json_tokener_parse(sp_at + 1);
                if (!want && strcmp(sp_at + 1, "null"))
                        fail_msg("%s: bad JSON in expectation: %s", file, e);
                if (json_pointer_get(doc, ptr, &got) < 0)
                        fail_msg("%s: %s missing in %s", file, ptr, shown);
                if (!json_object_equal(got, want))
                        fail_msg("%s: %s is %s, expected %s", file, ptr,
                                 json_object_to_json_string_ext(got, JSON_C_TO_STRING_PLAIN),
                                 sp_at + 1);
                json_object_put(want);
        }
        for (size_t i = 0; i < sp->absents.n; i++) {
                json_object *got = NULL;
                if (json_pointer_get(doc, sp->absents.v[i], &got) == 0)
                        fail_msg("%s: %s should be absent, is %s", file, sp->absents.v[i],
                                 json_object_to_json_string(got));
        }
        const char *ws = json_object_to_json_string(warnings);
        for (size_t i = 0; i < sp->warnings.n; i++)
                if (!warned(warnings, sp->warnings.v[i]))
                        fail_msg("%s: no warning '%s' in %s", file, sp->warnings.v[i], ws);
        for (size_t i = 0; i < sp->no_warning_about.n; i++)
                if (warned(warnings, sp->no_warning_about.v[i]))
                        fail_msg("%s: unexpected warning about '%s' in %s", file,
                                 sp->no_warning_about.v[i], ws);
        if (sp->no_warnings && json_object_array_length(warnings))
                fail_msg("%s: unexpected warnings %s", file, ws);
        if (sp->levels[0]) {
                char got[512];
                levels_text(p, got, sizeof(got));
                if (strcmp(got, sp->levels))
                        fail_msg("%s: levels %s, expected %s", file, got, sp->levels);
        }
        json_object_put(doc);
}

static void run_fixture(const char *dir, const char *file)
{
        char path[1400];
        size_t len;
        struct spec sp;
        snprintf(path, sizeof(path), "%s/%s", dir, file);
        char *text = read_all(path, &len);
        spec_read(&sp, text);
        sp.profiles[sp.n_profiles] = NULL;
        struct cms_compose_parse_opts o = {
            .name = sp.name[0] ? sp.name : NULL,
            .env = sp.env,
            .working_dir = sp.working_dir[0] ? sp.working_dir : NULL,
            .profiles = sp.n_profiles ? (const char *const *)sp.profiles : NULL,
        };
        struct cms_compose_project *p = NULL;
        struct cms_error err = {0};
        json_object *warnings = json_object_new_array();
        int r = cms_compose_parse(text, len, &o, &p, warnings, &err);
        bool good = cms_str_has_prefix(file, "good_");
        if (good && sp.expect_error)
                fail_msg("%s: a good_ fixture expects an error", file);
        if (sp.expect_error) {
                if (r == 0)
                        fail_msg("%s: parsed, expected error '%s'", file, sp.error);
                if (err.status != 400 || !strstr(err.message, sp.error))
                        fail_msg("%s: error %d '%s', expected 400 '%s'", file, err.status,
                                 err.message, sp.error);
                assert_null(p);
        } else {
                if (r < 0)
                        fail_msg("%s: %s", file, err.message);
                check_model(file, &sp, p, warnings);
        }
        cms_compose_project_free(p);
        json_object_put(warnings);
        spec_done(&sp);
        free(text);
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t run_corpus(const char *prefix)
{
        char dir[1024];
        fixture_dir(dir, sizeof(dir));
        DIR *d = opendir(dir);
        if (!d)
                fail_msg("cannot open fixture directory %s", dir);
        struct cms_compose_strv files = {0};
        for (struct dirent *e; (e = readdir(d));) {
                size_t l = strlen(e->d_name);
                if (cms_str_has_prefix(e->d_name, prefix) && l > 5 &&
                    !strcmp(e->d_name + l - 5, ".yaml"))
                        cms_compose_strv_add(&files, e->d_name);
        }
        closedir(d);
        qsort(files.v, files.n, sizeof(*files.v), name_cmp);
        for (size_t i = 0; i < files.n; i++)
                run_fixture(dir, files.v[i]);
        size_t n = files.n;
        cms_compose_strv_done(&files);
        return n;
}

static void test_corpus_good(void **state)
{
        (void)state;
        /* the count guards against a corpus that silently went missing */
        assert_true(run_corpus("good_") >= 20);
}

static void test_corpus_bad(void **state)
{
        (void)state;
        assert_true(run_corpus("bad_") >= 50);
}

/* ---- caps and hostile documents ---- */

static int parse_text(const char *yaml, size_t len, const struct cms_compose_parse_opts *o,
                      struct cms_error *err, json_object *warnings)
{
        struct cms_compose_project *p = NULL;
        int r = cms_compose_parse(yaml, len, o, &p, warnings, err);
        if (r == 0)
                assert_non_null(p);
        else
                assert_null(p);
        cms_compose_project_free(p);
        return r;
}

static void expect_refused(const char *yaml, size_t len, const char *message)
{
        struct cms_error err = {0};
        int r = parse_text(yaml, len, NULL, &err, NULL);
        if (r == 0)
                fail_msg("parsed, expected '%s'", message);
        if (err.status != 400 || !strstr(err.message, message))
                fail_msg("error %d '%s', expected '%s'", err.status, err.message, message);
}

static void test_billion_laughs(void **state)
{
        (void)state;
        /* Fully expanded this is 10^9 nodes; it must stop at the first alias of the level that
         * crosses the cap (line 6), having expanded nothing. */
        static const char doc[] = "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n"
                                  "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                                  "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                                  "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                                  "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                                  "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                                  "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
                                  "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
                                  "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
                                  "services: {web: {image: busybox}}\n";
        expect_refused(doc, sizeof(doc) - 1,
                       "more than 100000 YAML nodes after alias expansion (line 6)");
}

static void test_merge_bomb(void **state)
{
        (void)state;
        /* the same growth through merge keys instead of sequences */
        struct cms_buf b;
        cms_buf_init(&b, 0);
        cms_buf_printf(&b, "x0: &x0 {");
        for (int k = 0; k < 10; k++)
                cms_buf_printf(&b, "%sk%d: v", k ? ", " : "", k);
        cms_buf_printf(&b, "}\n");
        for (int lvl = 1; lvl < 12; lvl++) {
                cms_buf_printf(&b, "x%d: &x%d {", lvl, lvl);
                for (int k = 0; k < 10; k++)
                        cms_buf_printf(&b, "%sm%d: *x%d", k ? ", " : "", k, lvl - 1);
                cms_buf_printf(&b, "}\n");
        }
        cms_buf_printf(&b, "services: {web: {image: busybox}}\n");
        expect_refused(b.data, b.len, "YAML nodes after alias expansion");
        cms_buf_free(&b);
}

static void test_depth(void **state)
{
        (void)state;
        char doc[512];
        int n = snprintf(doc, sizeof(doc), "x: ");
        for (int i = 0; i < 40; i++)
                n += snprintf(doc + n, sizeof(doc) - (size_t)n, "[");
        for (int i = 0; i < 40; i++)
                n += snprintf(doc + n, sizeof(doc) - (size_t)n, "]");
        snprintf(doc + n, sizeof(doc) - (size_t)n, "\nservices: {web: {image: busybox}}\n");
        expect_refused(doc, strlen(doc), "nested more than 32 levels deep (line 1)");
        /* 20 deep, aliased 20 deep: each fine alone, 40 together */
        n = snprintf(doc, sizeof(doc), "a: &deep ");
        for (int i = 0; i < 20; i++)
                n += snprintf(doc + n, sizeof(doc) - (size_t)n, "[");
        for (int i = 0; i < 20; i++)
                n += snprintf(doc + n, sizeof(doc) - (size_t)n, "]");
        n += snprintf(doc + n, sizeof(doc) - (size_t)n, "\nb: ");
        for (int i = 0; i < 20; i++)
                n += snprintf(doc + n, sizeof(doc) - (size_t)n, "[");
        n += snprintf(doc + n, sizeof(doc) - (size_t)n, "*deep");
        for (int i = 0; i < 20; i++)
                n += snprintf(doc + n, sizeof(doc) - (size_t)n, "]");
        snprintf(doc + n, sizeof(doc) - (size_t)n, "\nservices: {web: {image: busybox}}\n");
        expect_refused(doc, strlen(doc), "(through alias *deep) (line 2)");
}

static void test_size_and_counts(void **state)
{
        (void)state;
        size_t big = CMS_COMPOSE_MAX_BYTES + 1;
        char *doc = malloc(big + 1);
        memset(doc, ' ', big);
        doc[big] = 0;
        expect_refused(doc, big, "larger than 1048576 bytes");
        free(doc);
        struct cms_buf b;
        cms_buf_init(&b, 0);
        cms_buf_printf(&b, "s: &s x\nl: [");
        for (int i = 0; i <= CMS_COMPOSE_MAX_ALIASES; i++)
                cms_buf_printf(&b, "%s*s", i ? "," : "");
        cms_buf_printf(&b, "]\nservices: {web: {image: busybox}}\n");
        expect_refused(b.data, b.len, "more than 10000 aliases (line 2)");
        cms_buf_free(&b);
        cms_buf_init(&b, 0);
        cms_buf_printf(&b, "l: [");
        for (int i = 0; i <= CMS_COMPOSE_MAX_ANCHORS; i++)
                cms_buf_printf(&b, "%s&a%d x", i ? "," : "", i);
        cms_buf_printf(&b, "]\nservices: {web: {image: busybox}}\n");
        expect_refused(b.data, b.len, "more than 1000 anchors (line 1)");
        cms_buf_free(&b);
}

/* Issue 15's amplification: a 12 KB file whose one anchored service publishes a port range,
 * aliased as 1,000 services, stayed under every cap and expanded to 4.1 million ports (0.65 s
 * and 494 MB to parse, 5 GB with hashing); a large anchored scalar aliased as many services'
 * command did the same with bytes. Both are now 400s, refused fast. */
static void test_amplification(void **state)
{
        (void)state;
        struct cms_buf b;
        cms_buf_init(&b, 0);
        cms_buf_printf(&b, "name: p\nx-svc: &svc {image: busybox, ports: [\"1-4096\"]}\n"
                           "services:\n");
        for (int i = 0; i < 1000; i++)
                cms_buf_printf(&b, "  s%d: *svc\n", i);
        assert_true(b.len < 16 * 1024);
        expect_refused(b.data, b.len, "more than 65536 ports once ranges and aliases");
        cms_buf_free(&b);
        cms_buf_init(&b, 0);
        cms_buf_printf(&b, "name: p\nx-svc: &svc {image: busybox, expose: [\"1-4000\"]}\n"
                           "services:\n");
        for (int i = 0; i < 20; i++)
                cms_buf_printf(&b, "  s%d: *svc\n", i);
        expect_refused(b.data, b.len, "more than 65536 ports once ranges and aliases");
        cms_buf_free(&b);
        /* 600 KB of text, aliased 100 times: 60 MB of model */
        cms_buf_init(&b, 0);
        cms_buf_printf(&b, "name: p\nx-cmd: &cmd \"");
        for (int i = 0; i < 600 * 1024 / 8; i++)
                cms_buf_printf(&b, "abcdefgh");
        cms_buf_printf(&b, "\"\nservices:\n");
        for (int i = 0; i < 100; i++)
                cms_buf_printf(&b, "  s%d: {image: busybox, command: *cmd}\n", i);
        expect_refused(b.data, b.len, "expands to more than 16 MiB once aliases");
        cms_buf_free(&b);
        /* under the caps: 15 services of one 4096-port range each */
        cms_buf_init(&b, 0);
        cms_buf_printf(&b, "name: p\nx-svc: &svc {image: busybox, ports: [\"1-4096\"]}\n"
                           "services:\n");
        for (int i = 0; i < 15; i++)
                cms_buf_printf(&b, "  s%d: *svc\n", i);
        struct cms_error err = {0};
        if (parse_text(b.data, b.len, NULL, &err, NULL) < 0)
                fail_msg("refused: %s", err.message);
        cms_buf_free(&b);
}

static void test_interpolated_size(void **state)
{
        (void)state;
        char *val = malloc(200 * 1024 + 1);
        memset(val, 'x', 200 * 1024);
        val[200 * 1024] = 0;
        json_object *env = json_object_new_object();
        json_object_object_add(env, "BIG", json_object_new_string(val));
        struct cms_compose_parse_opts o = {.env = env};
        struct cms_error err = {0};
        static const char one[] = "name: p\nservices: {web: {image: busybox, "
                                  "command: \"${BIG}${BIG}\"}}\n";
        assert_true(parse_text(one, sizeof(one) - 1, &o, &err, NULL) < 0);
        assert_non_null(strstr(err.message, "longer than 262144 bytes after interpolation"));
        /* each value fits, all together do not */
        struct cms_buf b;
        cms_buf_init(&b, 0);
        cms_buf_printf(&b, "name: p\nx-many:\n");
        for (int i = 0; i < 50; i++)
                cms_buf_printf(&b, "  - ${BIG}\n");
        cms_buf_printf(&b, "services: {web: {image: busybox}}\n");
        assert_true(parse_text(b.data, b.len, &o, &err, NULL) < 0);
        assert_non_null(strstr(err.message, "longer than 8388608 bytes after interpolation"));
        cms_buf_free(&b);
        json_object_put(env);
        free(val);
}

static void test_warning_cap(void **state)
{
        (void)state;
        struct cms_buf b;
        cms_buf_init(&b, 0);
        cms_buf_printf(&b, "name: p\nservices:\n  web:\n    image: busybox\n");
        for (int i = 0; i < 300; i++)
                cms_buf_printf(&b, "    unknown%d: 1\n", i);
        json_object *w = json_object_new_array();
        struct cms_error err = {0};
        assert_int_equal(parse_text(b.data, b.len, NULL, &err, w), 0);
        assert_int_equal(json_object_array_length(w), 101);
        assert_string_equal(json_object_get_string(json_object_array_get_idx(w, 100)),
                            "further warnings were left out");
        json_object_put(w);
        cms_buf_free(&b);
}

/* ---- behaviours beside the corpus ---- */

static struct cms_compose_project *
parse_ok(const char *yaml, const struct cms_compose_parse_opts *o, json_object *warnings)
{
        struct cms_compose_project *p = NULL;
        struct cms_error err = {0};
        if (cms_compose_parse(yaml, strlen(yaml), o, &p, warnings, &err) < 0)
                fail_msg("%s", err.message);
        return p;
}

static void test_name_and_defaults(void **state)
{
        (void)state;
        static const char doc[] = "name: fromfile\nservices:\n  Web.1:\n    build: .\n";
        struct cms_compose_parse_opts o = {.name = "fromrequest"};
        struct cms_compose_project *p = parse_ok(doc, &o, NULL);
        assert_string_equal(p->name, "fromrequest");
        assert_null(p->working_dir);
        /* a build-only service gets "<project>-<service>" lowercased, as Docker Compose names it */
        assert_string_equal(p->services[0].image, "fromrequest-web.1");
        assert_string_equal(p->networks[0].name, "fromrequest_default");
        assert_true(p->networks[0].implicit);
        cms_compose_project_free(p);
        /* no options, no warnings array: both optional */
        p = parse_ok("name: x\nservices: {a: {image: busybox, volumes: ['./d:/d']}}\n", NULL, NULL);
        /* without a working_dir a relative bind stays relative (translate refuses it) */
        assert_string_equal(p->services[0].volumes[0].source, "./d");
        cms_compose_project_free(p);
        static const char *const names[] = {"a", "my-app", "app_2", "0x"};
        static const char *const bad[] = {"", "App", "-a", "_a", "a.b", "a b"};
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                assert_true(cms_compose_project_name_valid(names[i]));
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_false(cms_compose_project_name_valid(bad[i]));
        char long_name[80];
        memset(long_name, 'a', 64);
        long_name[64] = 0;
        assert_false(cms_compose_project_name_valid(long_name));
}

static void test_shared_alias_interpolated_once(void **state)
{
        (void)state;
        static const char doc[] = "name: p\n"
                                  "x-env: &env {A: \"${MISSING}\", B: \"${SET}\"}\n"
                                  "services:\n"
                                  "  one: {image: busybox, environment: *env}\n"
                                  "  two: {image: busybox, environment: *env}\n";
        json_object *env = json_object_new_object(), *w = json_object_new_array();
        json_object_object_add(env, "SET", json_object_new_string("v"));
        struct cms_compose_parse_opts o = {.env = env};
        struct cms_compose_project *p = parse_ok(doc, &o, w);
        for (size_t i = 0; i < 2; i++) {
                assert_int_equal(p->services[i].environment.n, 2);
                assert_string_equal(p->services[i].environment.v[0].value, "");
                assert_string_equal(p->services[i].environment.v[1].value, "v");
        }
        assert_int_equal(json_object_array_length(w), 1);
        assert_string_equal(json_object_get_string(json_object_array_get_idx(w, 0)),
                            "The \"MISSING\" variable is not set. Defaulting to a blank string.");
        cms_compose_project_free(p);
        json_object_put(env);
        json_object_put(w);
}

static void test_dotenv_in_parse(void **state)
{
        (void)state;
        static const char doc[] = "name: p\nservices: {web: {image: \"busybox:${TAG}\", "
                                  "environment: [FROM_DOTENV, OVERRIDDEN]}}\n";
        json_object *env = json_object_new_object();
        json_object_object_add(env, "OVERRIDDEN", json_object_new_string("request"));
        struct cms_compose_parse_opts o = {
            .env = env, .dotenv = "TAG=1.36\nFROM_DOTENV=dot\nOVERRIDDEN=dotenv\n"};
        struct cms_compose_project *p = parse_ok(doc, &o, NULL);
        assert_string_equal(p->services[0].image, "busybox:1.36");
        assert_string_equal(cms_compose_kvs_get(&p->services[0].environment, "FROM_DOTENV")->value,
                            "dot");
        assert_string_equal(cms_compose_kvs_get(&p->services[0].environment, "OVERRIDDEN")->value,
                            "request");
        cms_compose_project_free(p);
        json_object_put(env);
}

static void test_split_words(void **state)
{
        (void)state;
        static const struct {
                const char *in;
                const char *out; /* words joined by | */
        } cases[] = {
            {"", ""},
            {"  a   b\tc ", "a|b|c"},
            {"sh -c 'echo a; echo b'", "sh|-c|echo a; echo b"},
            {"echo \"a \\\"q\\\" $x\"", "echo|a \"q\" $x"},
            {"a\\ b c", "a b|c"},
            {"''", ""},
            {"x'y'\"z\"", "xyz"},
            {"\"\\n\"", "\\n"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct cms_compose_strv v = {0};
                char got[256] = "";
                size_t off = 0;
                assert_int_equal(cms_compose_split_words(cases[i].in, &v), 0);
                for (size_t k = 0; k < v.n; k++)
                        off += (size_t)snprintf(got + off, sizeof(got) - off, "%s%s", k ? "|" : "",
                                                v.v[k]);
                if (strcmp(got, cases[i].out))
                        fail_msg("split(%s) = %s, expected %s", cases[i].in, got, cases[i].out);
                cms_compose_strv_done(&v);
        }
        struct cms_compose_strv v = {0};
        assert_int_equal(cms_compose_split_words("a 'b", &v), -EINVAL);
        cms_compose_strv_done(&v);
        assert_int_equal(cms_compose_split_words("a \"b", &v), -EINVAL);
        cms_compose_strv_done(&v);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_corpus_good),
            cmocka_unit_test(test_corpus_bad),
            cmocka_unit_test(test_billion_laughs),
            cmocka_unit_test(test_merge_bomb),
            cmocka_unit_test(test_depth),
            cmocka_unit_test(test_size_and_counts),
            cmocka_unit_test(test_interpolated_size),
            cmocka_unit_test(test_amplification),
            cmocka_unit_test(test_warning_cap),
            cmocka_unit_test(test_name_and_defaults),
            cmocka_unit_test(test_shared_alias_interpolated_once),
            cmocka_unit_test(test_dotenv_in_parse),
            cmocka_unit_test(test_split_words),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
