/* Unit tests for daemon/compose/interpolate.c: the interpolation table (every form of the Compose
 * Specification, unset vs empty, lazy operands, $$, what is not a reference, bad templates,
 * nesting and size caps, the once-per-variable warning), the .env reader (comments, export,
 * quoting, escapes, inline comments, multi-line values, interpolation inside .env) and the
 * precedence of the request's env over .env. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon/compose/model.h"

static struct cms_compose_env *env_new(const char *json, const char *dotenv)
{
        json_object *j = json ? json_tokener_parse(json) : NULL;
        struct cms_compose_env *e = NULL;
        struct cms_error err = {0};
        if (json && !j)
                fail_msg("bad JSON in test: %s", json);
        if (cms_compose_env_new(j, dotenv, &e, NULL, &err) < 0)
                fail_msg("env: %s", err.message);
        json_object_put(j);
        return e;
}

#define ERR "\x01" /* expected output starting with this: an error containing the rest */

static const struct {
        const char *in, *out;
} table[] = {
    {"plain text", "plain text"},
    {"", ""},
    {"$FOO", "foo"},
    {"${FOO}", "foo"},
    {"x${FOO}y$FOO.z", "xfooyfoo.z"},
    {"$FOO_BAR", ""}, /* the name is the longest run: FOO_BAR, unset */
    {"${FOO}_BAR", "foo_BAR"},
    {"$$FOO", "$FOO"},
    {"$$$FOO", "$foo"},
    {"$$", "$"},
    {"$", "$"},
    {"a$", "a$"},
    {"$1 and $- and $ alone", "$1 and $- and $ alone"},
    {"${NESTED}", "$NOT"}, /* values are not interpolated again */
    /* default: ":-" when unset or empty, "-" when unset */
    {"${UNSET:-d}", "d"},
    {"${EMPTY:-d}", "d"},
    {"${FOO:-d}", "foo"},
    {"${UNSET-d}", "d"},
    {"${EMPTY-d}", ""},
    {"${FOO-d}", "foo"},
    {"${UNSET:-}", ""},
    {"${UNSET:-a b  c}", "a b  c"},
    {"${UNSET:-$$}", "$"},
    {"${UNSET:-a}}", "a}"},
    {"${UNSET:-{x}", "{x"},
    /* alternative: ":+" when set and non-empty, "+" when set */
    {"${FOO:+alt}", "alt"},
    {"${EMPTY:+alt}", ""},
    {"${UNSET:+alt}", ""},
    {"${FOO+alt}", "alt"},
    {"${EMPTY+alt}", "alt"},
    {"${UNSET+alt}", ""},
    {"${FOO:+${NUM}}", "42"},
    /* required: ":?" when unset or empty, "?" when unset */
    {"${FOO:?msg}", "foo"},
    {"${FOO?msg}", "foo"},
    {"${EMPTY?msg}", ""},
    {"${EMPTY:?must be set}", ERR "required variable EMPTY is missing a value: must be set"},
    {"${UNSET?must be set}", ERR "required variable UNSET is missing a value: must be set"},
    {"${UNSET:?}", ERR "required variable UNSET is missing a value (where)"},
    {"${UNSET?$FOO is the hint}", ERR "missing a value: foo is the hint (where)"},
    /* nesting, evaluated only when chosen */
    {"${UNSET:-${FOO}}", "foo"},
    {"${UNSET:-${UNSET2:-deep}}", "deep"},
    {"${UNSET:-pre-${NUM}-post}", "pre-42-post"},
    {"${FOO:-${UNSET:?never evaluated}}", "foo"},
    {"${FOO:+${UNSET:?evaluated}}", ERR "required variable UNSET is missing a value: evaluated"},
    {"${UNSET:-$FOO}", "foo"},
    /* bad templates */
    {"${", ERR "invalid interpolation format for where: \"${\""},
    {"${FOO", ERR "invalid interpolation format"},
    {"x ${FOO:-${BAR}", ERR "invalid interpolation format"},
    {"${}", ERR "invalid interpolation format"},
    {"${ FOO}", ERR "invalid interpolation format"},
    {"${FOO/a/b}", ERR "invalid interpolation format"},
    {"${FOO:x}", ERR "invalid interpolation format"},
    {"${FOO:}", ERR "invalid interpolation format"},
    {"${1}", ERR "invalid interpolation format"},
    {"${FOO.BAR}", ERR "invalid interpolation format"},
};

static void test_table(void **state)
{
        (void)state;
        struct cms_compose_env *e =
            env_new("{\"FOO\": \"foo\", \"EMPTY\": \"\", \"NUM\": 42, \"NESTED\": \"$NOT\"}", NULL);
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                struct cms_error err = {0};
                char *out = NULL;
                int r = cms_compose_interpolate(e, table[i].in, "where", &out, NULL, &err);
                if (table[i].out[0] == ERR[0]) {
                        if (r == 0)
                                fail_msg("'%s' gave '%s', expected an error", table[i].in, out);
                        if (err.status != 400 || !strstr(err.message, table[i].out + 1))
                                fail_msg("'%s': error '%s', expected '%s'", table[i].in,
                                         err.message, table[i].out + 1);
                        assert_null(out);
                        continue;
                }
                if (r < 0)
                        fail_msg("'%s': %s", table[i].in, err.message);
                if (strcmp(out, table[i].out))
                        fail_msg("'%s' gave '%s', expected '%s'", table[i].in, out, table[i].out);
                free(out);
        }
        cms_compose_env_free(e);
}

static void test_warnings(void **state)
{
        (void)state;
        struct cms_compose_env *e = env_new("{\"SET\": \"1\"}", NULL);
        json_object *w = json_object_new_array();
        struct cms_error err = {0};
        char *out = NULL;
        static const char *const silent[] = {"${A:-x}", "${A-x}", "${A:+x}",
                                             "${A+x}",  "$$A",    "$SET"};
        for (size_t i = 0; i < ELEMENTSOF(silent); i++) {
                assert_int_equal(cms_compose_interpolate(e, silent[i], NULL, &out, w, &err), 0);
                free(out);
        }
        assert_int_equal(json_object_array_length(w), 0);
        assert_int_equal(cms_compose_interpolate(e, "$A ${A} $B", NULL, &out, w, &err), 0);
        assert_string_equal(out, "  ");
        free(out);
        assert_int_equal(json_object_array_length(w), 2); /* once per variable */
        assert_string_equal(json_object_get_string(json_object_array_get_idx(w, 0)),
                            "The \"A\" variable is not set. Defaulting to a blank string.");
        assert_string_equal(json_object_get_string(json_object_array_get_idx(w, 1)),
                            "The \"B\" variable is not set. Defaulting to a blank string.");
        json_object_put(w);
        /* no env at all: everything unset */
        assert_int_equal(cms_compose_interpolate(NULL, "[${X:-d}]", NULL, &out, NULL, &err), 0);
        assert_string_equal(out, "[d]");
        free(out);
        cms_compose_env_free(e);
}

static void test_caps(void **state)
{
        (void)state;
        struct cms_error err = {0};
        char *out = NULL, tmpl[512] = "";
        /* 17 nested defaults: over the nesting cap, refused, not recursed into */
        for (int i = 0; i < 17; i++)
                strcat(tmpl, "${U:-");
        strcat(tmpl, "x");
        for (int i = 0; i < 17; i++)
                strcat(tmpl, "}");
        assert_true(cms_compose_interpolate(NULL, tmpl, "here", &out, NULL, &err) < 0);
        assert_non_null(strstr(err.message, "here: interpolation nested more than 16 levels"));
        assert_null(out);
        /* a value over CMS_COMPOSE_MAX_VALUE once substituted */
        char *big = malloc(150 * 1024 + 1);
        memset(big, 'b', 150 * 1024);
        big[150 * 1024] = 0;
        json_object *j = json_object_new_object();
        json_object_object_add(j, "BIG", json_object_new_string(big));
        struct cms_compose_env *e = NULL;
        assert_int_equal(cms_compose_env_new(j, NULL, &e, NULL, &err), 0);
        assert_int_equal(cms_compose_interpolate(e, "${BIG}", NULL, &out, NULL, &err), 0);
        assert_int_equal(strlen(out), 150 * 1024);
        free(out);
        out = NULL;
        assert_true(cms_compose_interpolate(e, "${BIG}$BIG", "here", &out, NULL, &err) < 0);
        assert_non_null(strstr(err.message, "here: value longer than 262144 bytes"));
        assert_null(out);
        cms_compose_env_free(e);
        json_object_put(j);
        free(big);
}

static void test_env_json(void **state)
{
        (void)state;
        struct cms_compose_env *e =
            env_new("{\"S\": \"s\", \"I\": 42, \"D\": 1.5, \"B\": true, \"N\": null}", NULL);
        assert_string_equal(cms_compose_env_get(e, "S"), "s");
        assert_string_equal(cms_compose_env_get(e, "I"), "42");
        assert_string_equal(cms_compose_env_get(e, "D"), "1.5");
        assert_string_equal(cms_compose_env_get(e, "B"), "true");
        assert_null(cms_compose_env_get(e, "N"));
        assert_null(cms_compose_env_get(e, "missing"));
        assert_null(cms_compose_env_get(NULL, "S"));
        cms_compose_env_free(e);
        cms_compose_env_free(NULL);
        static const struct {
                const char *json, *err;
        } bad[] = {
            {"[1]", "env: must be an object of strings"},
            {"{\"X\": {\"a\": 1}}", "env.X: must be a string"},
            {"{\"X\": [1]}", "env.X: must be a string"},
            {"{\"A=B\": \"1\"}", "env: invalid variable name 'A=B'"},
            {"{\"\": \"1\"}", "env: invalid variable name ''"},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                json_object *j = json_tokener_parse(bad[i].json);
                struct cms_error err = {0};
                e = NULL;
                assert_true(cms_compose_env_new(j, NULL, &e, NULL, &err) < 0);
                assert_null(e);
                assert_int_equal(err.status, 400);
                if (!strstr(err.message, bad[i].err))
                        fail_msg("%s: '%s', expected '%s'", bad[i].json, err.message, bad[i].err);
                json_object_put(j);
        }
}

static void test_dotenv(void **state)
{
        (void)state;
        static const char text[] = "# a comment\n"
                                   "\n"
                                   "FOO=bar\n"
                                   "export EXPORTED=yes\n"
                                   "  SPACED = value with spaces   # comment\n"
                                   "HASH=a#b\n"
                                   "QUOTED=\"double \\\"quoted\\\" \\t tab \\n nl\" # comment\n"
                                   "SINGLE='single $FOO \\n'\n"
                                   "INTERP=${FOO}-x\n"
                                   "DQINTERP=\"${FOO} in dq\"\n"
                                   "EMPTY=\n"
                                   "BARE\n"
                                   "MULTI=\"line1\n"
                                   "line2\"\n"
                                   "ESC='it\\'s'\n"
                                   "CRLF=yes\r\n"
                                   "dotted.name-x=ok\n"
                                   "LATER=${MULTI_NOT_SET:-fallback}\n"
                                   "FOO=overridden-later";
        struct cms_compose_env *e = env_new(NULL, text);
        static const struct {
                const char *key, *value;
        } want[] = {
            {"FOO", "overridden-later"},
            {"EXPORTED", "yes"},
            {"SPACED", "value with spaces"},
            {"HASH", "a#b"},
            {"QUOTED", "double \"quoted\" \t tab \n nl"},
            {"SINGLE", "single $FOO \\n"},
            {"INTERP", "bar-x"},
            {"DQINTERP", "bar in dq"},
            {"EMPTY", ""},
            {"MULTI", "line1\nline2"},
            {"ESC", "it's"},
            {"CRLF", "yes"},
            {"dotted.name-x", "ok"},
            {"LATER", "fallback"},
        };
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                const char *got = cms_compose_env_get(e, want[i].key);
                if (!got || strcmp(got, want[i].value))
                        fail_msg("%s = '%s', expected '%s'", want[i].key, got ? got : "(unset)",
                                 want[i].value);
        }
        assert_null(cms_compose_env_get(e, "BARE"));
        cms_compose_env_free(e);
}

static void test_dotenv_errors(void **state)
{
        (void)state;
        static const struct {
                const char *text, *err;
        } bad[] = {
            {"1BAD=x", ".env line 1: expected NAME=VALUE"},
            {"OK=1\nNO SPACE=x", ".env line 2: expected NAME=VALUE"},
            {"A=1\n\nB='unterminated\nC=2", ".env line 3: unterminated quoted value"},
            {"A=\"x\" junk", ".env line 1: unexpected text after the closing quote"},
            {"A=1\nB=${NEED:?set NEED}", "required variable NEED is missing a value: set NEED "
                                         "(.env line 2)"},
            {"A=${", "invalid interpolation format for .env line 1"},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct cms_compose_env *e = NULL;
                struct cms_error err = {0};
                assert_true(cms_compose_env_new(NULL, bad[i].text, &e, NULL, &err) < 0);
                assert_null(e);
                assert_int_equal(err.status, 400);
                if (!strstr(err.message, bad[i].err))
                        fail_msg("'%s': '%s', expected '%s'", bad[i].text, err.message, bad[i].err);
        }
}

static void test_precedence(void **state)
{
        (void)state;
        /* the request's env wins, and .env's own interpolation already sees it */
        struct cms_compose_env *e =
            env_new("{\"FOO\": \"request\"}", "FOO=dotenv\nBAR=${FOO}-bar\nONLY=dot\n");
        assert_string_equal(cms_compose_env_get(e, "FOO"), "request");
        assert_string_equal(cms_compose_env_get(e, "BAR"), "request-bar");
        assert_string_equal(cms_compose_env_get(e, "ONLY"), "dot");
        char *out = NULL;
        struct cms_error err = {0};
        assert_int_equal(cms_compose_interpolate(e, "$FOO/$ONLY", NULL, &out, NULL, &err), 0);
        assert_string_equal(out, "request/dot");
        free(out);
        cms_compose_env_free(e);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_table),      cmocka_unit_test(test_warnings),
            cmocka_unit_test(test_caps),       cmocka_unit_test(test_env_json),
            cmocka_unit_test(test_dotenv),     cmocka_unit_test(test_dotenv_errors),
            cmocka_unit_test(test_precedence),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
