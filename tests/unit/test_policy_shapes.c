/* Unit tests for the policy evaluator (daemon/security/policy*.c) on create bodies whose members
 * have the wrong JSON type: a HostConfig that is a string, Sysctls or Annotations that are lists,
 * a LogConfig without Config or with a list for it, EndpointsConfig that is a number, Devices that
 * is an object. The evaluator walked them as objects and dereferenced NULL (found by
 * tests/fuzz/fuzz_policy.c); each is now refused with an unknown_field denial naming the member,
 * and JSON null stays nothing to judge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/security/policy.h"

/* The denials a restricted policy gives body (JSON text); their rules joined by commas. */
static int judge(const char *body, char *rules, size_t n)
{
        json_object *b = json_tokener_parse(body), *d = json_object_new_array();
        if (!b && strcmp(body, "null"))
                fail_msg("bad test JSON: %s", body);
        const char *own[] = {"web", NULL};
        struct cms_policy_env env = {.own_containers = own};
        int r = cms_policy_check_create(cms_policy_restricted(), &env, b, "services.web.", d);
        rules[0] = 0;
        for (size_t i = 0; i < json_object_array_length(d); i++) {
                json_object *x = json_object_array_get_idx(d, i), *rule = NULL, *field = NULL;
                json_object_object_get_ex(x, "rule", &rule);
                json_object_object_get_ex(x, "field", &field);
                size_t l = strlen(rules);
                snprintf(rules + l, n - l, "%s%s@%s", l ? "," : "", json_object_get_string(rule),
                         json_object_get_string(field));
        }
        assert_int_equal((size_t)r, json_object_array_length(d));
        json_object_put(d);
        json_object_put(b);
        return r;
}

static void wrong_types_refused(void **state)
{
        static const struct {
                const char *body, *rules;
        } cases[] = {
            {"\"Privileged\"", "unknown_field@services.web."},
            {"{\"HostConfig\": \"NetworkMode\"}", "unknown_field@services.web.HostConfig"},
            {"{\"HostConfig\": 1}", "unknown_field@services.web.HostConfig"},
            {"{\"NetworkingConfig\": []}", "unknown_field@services.web.NetworkingConfig"},
            {"{\"NetworkingConfig\": {\"EndpointsConfig\": 5}}",
             "unknown_field@services.web.network"},
            {"{\"HostConfig\": {\"Sysctls\": [{\"PathOnHost\": \"/dev/sda\"}]}}",
             "unknown_field@services.web.sysctls"},
            {"{\"HostConfig\": {\"Annotations\": \"run.oci.x\"}}",
             "unknown_field@services.web.annotations"},
            {"{\"HostConfig\": {\"LogConfig\": {\"Type\": \"json-file\"}}}", ""},
            {"{\"HostConfig\": {\"LogConfig\": {\"Type\": \"json-file\", \"Config\": [1]}}}",
             "unknown_field@services.web.logging.options"},
            {"{\"HostConfig\": {\"LogConfig\": \"syslog\"}}", "unknown_field@services.web.logging"},
            {"{\"HostConfig\": {\"Devices\": {\"PathOnHost\": \"/dev/sda\"}}}",
             "unknown_field@services.web.devices"},
            /* JSON null is absence. */
            {"{\"HostConfig\": null, \"NetworkingConfig\": null}", ""},
            {"{\"HostConfig\": {\"Sysctls\": null, \"LogConfig\": null, \"Devices\": null}}", ""},
        };
        char rules[512];
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                judge(cases[i].body, rules, sizeof(rules));
                if (strcmp(rules, cases[i].rules))
                        fail_msg("%s: denials '%s', expected '%s'", cases[i].body, rules,
                                 cases[i].rules);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(wrong_types_refused),
        };
        return cmocka_run_group_tests_name("policy_shapes", tests, NULL, NULL);
}
