/* Fuzzes the configuration loader as --check-config and a reload run it: the input is a cmsd.yaml
 * read on top of the defaults (tokens, policies, limits, listeners, TLS and sampler settings);
 * an accepted config is then asked what the daemon asks of it (policies by name and as JSON,
 * token lookups). The command line parser takes the input's lines as arguments too. */
#include "fuzz.h"

#include "daemon/config.h"

static void cli(const char *s)
{
        char *copy = strdup(s);
        char *argv[34] = {"cmsd"};
        int argc = 1;
        for (char *save = NULL, *t = strtok_r(copy, "\n", &save); t && argc < 33;
             t = strtok_r(NULL, "\n", &save))
                argv[argc++] = t;
        argv[argc] = NULL;
        struct cms_cli c;
        struct cms_config_error cerr = {0};
        memset(&c, 0, sizeof(c));
        if (cms_cli_parse(argc, argv, &c, &cerr) < 0)
                FUZZ_CHECK(cerr.message[0]);
        free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = fuzz_strndup(data, size);
        struct cms_config *c = NULL;
        struct cms_config_error cerr = {0};
        if (cms_config_load_string(s, size, "fuzz.yaml", &c, &cerr) == 0) {
                FUZZ_CHECK(c);
                const char *names[] = {"restricted", "unrestricted", "ops", "x"};
                for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                        const struct cms_policy *p = cms_config_policy(c, names[i]);
                        if (p)
                                json_object_put(cms_policy_json(p));
                }
                for (size_t i = 0; i < c->n_policies; i++)
                        json_object_put(cms_policy_json(c->policies[i]));
                cms_config_find_token(c, "secret-token-0123456789");
                cms_config_has_token(c, "admin");
                cms_config_free(c);
        } else {
                char line[1024];
                cms_config_error_format(&cerr, line, sizeof(line));
                FUZZ_CHECK(cerr.message[0]);
        }
        if (size && s[0] == '-')
                cli(s);
        free(s);
        return 0;
}
