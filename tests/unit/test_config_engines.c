/* Unit tests for daemon/config_engines.c and the engine list's reload rule (config_live.c): the
 * one-entry `engine:` form, `engines:` with the default put first, --engine naming the default's
 * URL, a token's engines checked against the list, the refusals (with key and line), and a
 * SIGHUP keeping the running list while tokens change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <unistd.h>

#include "daemon/manager.h"

static struct cms_config *load(const char *yaml, struct cms_config_error *e)
{
        struct cms_config *c = NULL;
        memset(e, 0, sizeof(*e));
        return cms_config_load_string(yaml, strlen(yaml), "cmsd.yaml", &c, e) == 0 ? c : NULL;
}

static void test_forms(void **state)
{
        (void)state;
        struct cms_config_error e;
        struct cms_config *c = load("engine: unix:///run/x.sock\n", &e);
        assert_non_null(c);
        assert_int_equal(c->n_engines, 1);
        assert_string_equal(c->engines[0].name, "default");
        assert_string_equal(c->engines[0].url, "unix:///run/x.sock");
        assert_true(c->engines[0].is_default);
        cms_config_free(c);
        c = load("engines:\n"
                 "  - {name: a, url: \"unix:///a.sock\"}\n"
                 "  - {name: b, url: \"tcp://h:2376\", default: true,\n"
                 "     tls: {ca: /ca.pem, cert: /c.pem, key: /k.pem}}\n"
                 "tokens:\n"
                 "  - {name: t, role: viewer, token: x, engines: [a]}\n"
                 "  - {name: u, role: viewer, token: y}\n",
                 &e);
        assert_non_null(c);
        assert_int_equal(c->n_engines, 2);
        assert_string_equal(c->engines[0].name, "b"); /* the default first */
        assert_string_equal(c->engines[0].tls_key, "/k.pem");
        assert_string_equal(c->engine, "tcp://h:2376");
        assert_true(cms_token_may_use_engine(&c->tokens[0], "a"));
        assert_false(cms_token_may_use_engine(&c->tokens[0], "b"));
        assert_true(cms_token_may_use_engine(&c->tokens[1], "b"));
        cms_config_free(c);
        /* No default named: the first is. */
        c = load("engines: [{name: z, url: \"unix:///z\"}, {name: y, url: \"unix:///y\"}]\n", &e);
        assert_non_null(c);
        assert_string_equal(c->engines[0].name, "z");
        assert_true(c->engines[0].is_default);
        cms_config_free(c);
}

static void refused(const char *yaml, const char *key, int line)
{
        struct cms_config_error e;
        struct cms_config *c = load(yaml, &e);
        if (c)
                fail_msg("accepted: %s", yaml);
        if (strcmp(e.key, key) || e.line != line)
                fail_msg("%s: got %s line %d (%s), want %s line %d", yaml, e.key, e.line, e.message,
                         key, line);
}

static void test_refused(void **state)
{
        (void)state;
        refused("engines: []\n", "engines", 1);
        refused("engines: {a: b}\n", "engines", 1);
        refused("engines:\n  - {name: a, url: \"unix:///a\"}\n  - {name: a, url: \"unix:///b\"}\n",
                "engines[1].name", 3);
        refused("engines: [{url: \"unix:///a\"}]\n", "engines[0].name", 1);
        refused("engines: [{name: a, url: auto}]\n", "engines[0].url", 1);
        refused("engines: [{name: a, url: \"ftp://x\"}]\n", "engines[0].url", 1);
        refused("engines: [{name: a, url: \"unix:///a\", weight: 2}]\n", "engines[0].weight", 1);
        refused("engines: [{name: a, url: \"unix:///a\", default: yes}]\n", "engines[0].default",
                1);
        refused("engines: [{name: a, url: \"unix:///a\", tls: {ca: /c}}]\n", "engines[0].tls", 1);
        refused("engines: [{name: a, url: \"tcp://h:1\", tls: {cert: /c, key: /k}}]\n",
                "engines[0].tls", 1);
        refused("engines: [{name: a, url: \"tcp://h:1\", tls: {ca: c.pem}}]\n", "engines[0].tls.ca",
                1);
        refused("engine: unix:///x\nengines: [{name: a, url: \"unix:///a\"}]\n", "engine", 1);
        refused("engines: [{name: a, url: \"unix:///a\"}]\n"
                "tokens: [{name: t, role: viewer, token: x, engines: [b]}]\n",
                "tokens[0].engines", 2);
        refused("tokens: [{name: t, role: viewer, token: x, engines: []}]\n", "tokens[0].engines",
                1);
}

/* --engine names the default engine's URL; the other engines stay. */
static void test_flag(void **state)
{
        (void)state;
        char dir[] = "/tmp/cmsd-test-engines-XXXXXX";
        assert_non_null(mkdtemp(dir));
        char *path = cms_strdup_printf("%s/c.yaml", dir);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs("engines:\n  - {name: a, url: \"unix:///a\"}\n  - {name: b, url: \"unix:///b\"}\n",
              f);
        fclose(f);
        char *argv[] = {"cmsd", "--config", path, "--engine", "unix:///flag.sock"};
        struct cms_cli cli;
        struct cms_config_error e;
        struct cms_config *c = NULL;
        assert_int_equal(cms_cli_parse(5, argv, &cli, &e), 0);
        assert_int_equal(cms_config_load(&cli, &c, &e), 0);
        assert_string_equal(c->engines[0].url, "unix:///flag.sock");
        assert_string_equal(c->engines[1].url, "unix:///b");
        assert_string_equal(c->engine, "unix:///flag.sock");
        cms_config_free(c);
        unlink(path);
        rmdir(dir);
        free(path);
}

/* A reload keeps the running engines (the managers borrow their names) and says so. */
static void test_reload_keeps(void **state)
{
        (void)state;
        struct cms_config_error e;
        struct cms_manager m = {0};
        pthread_rwlock_init(&m.cfg_lock, NULL);
        m.cfg = load("engines: [{name: a, url: \"unix:///a\"}]\n", &e);
        assert_non_null(m.cfg);
        const char *name = m.cfg->engines[0].name;
        char note[160];
        struct cms_config *fresh = load("engines: [{name: c, url: \"unix:///c\"}]\n"
                                        "tokens: [{name: t, role: viewer, token: x}]\n",
                                        &e);
        assert_non_null(fresh);
        struct cms_config *old = cms_manager_swap_config(&m, fresh, note, sizeof(note));
        assert_ptr_equal(m.cfg->engines[0].name, name); /* the same string, still alive */
        assert_string_equal(m.cfg->engines[0].url, "unix:///a");
        assert_int_equal(m.cfg->n_tokens, 1);
        assert_non_null(strstr(note, "engines need a restart"));
        cms_config_free(old);
        /* The same list again: no note. */
        fresh = load("engines: [{name: a, url: \"unix:///a\"}]\n", &e);
        old = cms_manager_swap_config(&m, fresh, note, sizeof(note));
        assert_string_equal(note, "");
        assert_ptr_equal(m.cfg->engines[0].name, name);
        cms_config_free(old);
        cms_config_free(m.cfg);
        pthread_rwlock_destroy(&m.cfg_lock);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_forms),
            cmocka_unit_test(test_refused),
            cmocka_unit_test(test_flag),
            cmocka_unit_test(test_reload_keeps),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
