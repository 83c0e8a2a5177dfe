/* Unit tests for daemon/config*.c: defaults, every key type good and bad with the exact message
 * and line, block and flow YAML, tokens, precedence of flags > file > environment, the command
 * line, and token lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "daemon/config.h"

#include <ctype.h>
#include <unistd.h>

static char tmpdir[64];

static int setup(void **state)
{
        unsetenv("CMSD_CONFIG");
        unsetenv("DOCKER_HOST");
        unsetenv("LOG_LEVEL");
        return 0;
}

static struct cms_config *load_ok(const char *yaml)
{
        struct cms_config *c = NULL;
        struct cms_config_error e;
        char buf[1024];
        if (cms_config_load_string(yaml, strlen(yaml), "cmsd.yaml", &c, &e) < 0) {
                cms_config_error_format(&e, buf, sizeof(buf));
                fail_msg("unexpected error for <<%s>>: %s", yaml, buf);
        }
        assert_non_null(c);
        return c;
}

static void check_err(const char *yaml, size_t len, const char *want)
{
        struct cms_config *c = (struct cms_config *)1;
        struct cms_config_error e;
        char buf[1024];
        int r = cms_config_load_string(yaml, len, "cmsd.yaml", &c, &e);
        assert_true(r < 0);
        assert_null(c);
        cms_config_error_format(&e, buf, sizeof(buf));
        if (strcmp(buf, want))
                fail_msg("for <<%s>>\n  got:  %s\n  want: %s", yaml, buf, want);
}

static void test_defaults(void **state)
{
        static const char *const empties[] = {"", "# only a comment\n", "---\n", "~\n", "{}\n"};
        for (size_t i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
                struct cms_config *c = load_ok(empties[i]);
                assert_int_equal(c->n_listen, 1);
                assert_string_equal(c->listen[0], "127.0.0.1:8080");
                assert_string_equal(c->engine, "auto");
                assert_int_equal(c->n_tokens, 0);
                assert_false(c->metrics_public);
                assert_int_equal(c->n_cors_origins, 0);
                assert_non_null(c->cors_origins);
                assert_null(c->cors_origins[0]);
                assert_int_equal(c->sampler_interval_ms, 1000);
                assert_int_equal(c->sampler_history_ms, 3600 * 1000);
                assert_string_equal(c->state_dir, "/var/lib/cmsd");
                assert_int_equal(c->log_level, CMS_LOG_INFO);
                assert_int_equal(c->max_body, 1024 * 1024);
                assert_int_equal(c->max_connections, 1024);
                assert_int_equal(c->request_timeout_ms, 30000);
                assert_string_equal(c->tls_cert, "");
                assert_string_equal(c->tls_key, "");
                assert_string_equal(c->tls_client_ca, "");
                assert_null(c->config_path);
                cms_config_free(c);
        }
}

/* The example of API.md, verbatim apart from the hash. */
static void test_api_example(void **state)
{
        const char *yaml = "listen: [\"127.0.0.1:8080\", \"unix:/run/cmsd/cmsd.sock\"]\n"
                           "engine: auto                      # or an engine URL as above\n"
                           "tokens:\n"
                           "  - {name: ops, role: admin, sha256: "
                           "\"77a4e206296282b0c1acebc0bebff60856cf558f731762d241cb9be07b60119a\"}\n"
                           "  - {name: grafana, role: viewer, token: \"plain-text-token\"}\n"
                           "metrics_public: false\n"
                           "cors_origins: []\n"
                           "sampler: {interval: 1s, history: 1h}\n"
                           "state_dir: /var/lib/cmsd\n"
                           "log_level: info\n"
                           "limits: {max_body: 1m, max_connections: 1024, request_timeout: 30s}\n"
                           "tls: {cert: \"\", key: \"\", client_ca: \"\"}\n";
        struct cms_config *c = load_ok(yaml);
        assert_int_equal(c->n_listen, 2);
        assert_string_equal(c->listen[1], "unix:/run/cmsd/cmsd.sock");
        assert_int_equal(c->n_tokens, 2);
        assert_string_equal(c->tokens[0].name, "ops");
        assert_int_equal(c->tokens[0].role, CMS_ROLE_ADMIN);
        assert_true(c->tokens[0].hashed);
        assert_null(c->tokens[0].plain);
        assert_int_equal(c->tokens[0].digest[0], 0x77);
        assert_int_equal(c->tokens[0].digest[31], 0x9a);
        assert_string_equal(c->tokens[1].name, "grafana");
        assert_int_equal(c->tokens[1].role, CMS_ROLE_VIEWER);
        assert_false(c->tokens[1].hashed);
        assert_string_equal(c->tokens[1].plain, "plain-text-token");
        assert_int_equal(c->max_body, 1 << 20);
        assert_int_equal(c->request_timeout_ms, 30000);
        cms_config_free(c);
}

static void test_block_style(void **state)
{
        const char *yaml = "listen:\n"
                           "  - \"[::1]:9090\"\n"
                           "  - unix:/tmp/cmsd.sock\n"
                           "engine: unix:///run/podman/podman.sock\n"
                           "metrics_public: yes\n"
                           "cors_origins:\n"
                           "  - https://dash.example.com\n"
                           "  - \"*\"\n"
                           "sampler:\n"
                           "  interval: 500ms\n"
                           "  history: 2h30m\n"
                           "log_level: DEBUG\n"
                           "limits:\n"
                           "  max_body: 64k\n"
                           "  max_connections: 10\n"
                           "  request_timeout: 90   # bare integers are seconds\n"
                           "tls:\n"
                           "  cert: /etc/cmsd/cert.pem\n"
                           "  key: /etc/cmsd/key.pem\n"
                           "  client_ca: /etc/cmsd/ca.pem\n";
        struct cms_config *c = load_ok(yaml);
        assert_int_equal(c->n_listen, 2);
        assert_string_equal(c->listen[0], "[::1]:9090");
        assert_string_equal(c->engine, "unix:///run/podman/podman.sock");
        assert_true(c->metrics_public);
        assert_int_equal(c->n_cors_origins, 2);
        assert_string_equal(c->cors_origins[1], "*");
        assert_null(c->cors_origins[2]);
        assert_int_equal(c->sampler_interval_ms, 500);
        assert_int_equal(c->sampler_history_ms, 9000 * 1000);
        assert_int_equal(c->log_level, CMS_LOG_DEBUG);
        assert_int_equal(c->max_body, 64 * 1024);
        assert_int_equal(c->max_connections, 10);
        assert_int_equal(c->request_timeout_ms, 90000);
        assert_string_equal(c->tls_client_ca, "/etc/cmsd/ca.pem");
        cms_config_free(c);
}

static void test_flow_style(void **state)
{
        struct cms_config *c = load_ok("{listen: [0.0.0.0:1], engine: 'tcp://10.0.0.2:2376',\n"
                                       " limits: {max_body: 1g, max_connections: 65535},\n"
                                       " tokens: [{name: a, role: operator, token: t1}]}\n");
        assert_string_equal(c->listen[0], "0.0.0.0:1");
        assert_string_equal(c->engine, "tcp://10.0.0.2:2376");
        assert_int_equal(c->max_body, 1LL << 30);
        assert_int_equal(c->max_connections, 65535);
        assert_int_equal(c->tokens[0].role, CMS_ROLE_OPERATOR);
        cms_config_free(c);
        /* a lone address is a list of one; an empty value keeps the default */
        c = load_ok("listen: localhost:80\nengine:\nlimits:\nsampler: {interval: ~}\n");
        assert_int_equal(c->n_listen, 1);
        assert_string_equal(c->listen[0], "localhost:80");
        assert_string_equal(c->engine, "auto");
        assert_int_equal(c->sampler_interval_ms, 1000);
        cms_config_free(c);
}

static void test_bad_scalars(void **state)
{
        static const char *const cases[][2] = {
            {"limits: {max_body: abc}\n",
             "cmsd.yaml:1: limits.max_body: invalid value 'abc': expected a size such as 512k, "
             "1m or 2g"},
            {"\n\nlimits:\n  max_body: [1]\n",
             "cmsd.yaml:4: limits.max_body: expected a size such as 512k, 1m or 2g, got a list"},
            {"limits: {max_body: 100}\n",
             "cmsd.yaml:1: limits.max_body: '100' is out of range (1k..1g)"},
            {"limits: {max_body: 2g}\n",
             "cmsd.yaml:1: limits.max_body: '2g' is out of range (1k..1g)"},
            {"limits:\n  max_connections: 0\n",
             "cmsd.yaml:2: limits.max_connections: '0' is out of range (1..65535)"},
            {"limits: {max_connections: 65536}\n",
             "cmsd.yaml:1: limits.max_connections: '65536' is out of range (1..65535)"},
            {"limits: {max_connections: ten}\n",
             "cmsd.yaml:1: limits.max_connections: invalid value 'ten': expected an integer"},
            {"limits: {request_timeout: 500ms}\n",
             "cmsd.yaml:1: limits.request_timeout: '500ms' is out of range (1s..1h0m0s)"},
            {"sampler: {interval: 1x}\n",
             "cmsd.yaml:1: sampler.interval: invalid value '1x': expected a duration such as "
             "500ms, 30s or 1m30s"},
            {"sampler: {interval: 50ms}\n",
             "cmsd.yaml:1: sampler.interval: '50ms' is out of range (100ms..1h0m0s)"},
            {"sampler: {history: 169h}\n",
             "cmsd.yaml:1: sampler.history: '169h' is out of range (100ms..168h0m0s)"},
            {"metrics_public: maybe\n",
             "cmsd.yaml:1: metrics_public: invalid value 'maybe': expected true or false"},
            {"metrics_public: {a: 1}\n",
             "cmsd.yaml:1: metrics_public: expected true or false, got a mapping"},
            {"log_level: verbose\n",
             "cmsd.yaml:1: log_level: invalid value 'verbose': expected one of error, warn, "
             "info, debug"},
            {"engine: ftp://x\n", "cmsd.yaml:1: engine: invalid value 'ftp://x': expected auto, "
                                  "unix:///path/to/engine.sock or tcp://host:port"},
            {"engine: [auto]\n", "cmsd.yaml:1: engine: expected a string, got a list"},
            {"engine: unix://docker.sock\n", "cmsd.yaml:1: engine: invalid value "
                                             "'unix://docker.sock': the socket path must be "
                                             "absolute"},
            {"engine: tcp://h:99999\n", "cmsd.yaml:1: engine: invalid value 'tcp://h:99999': "
                                        "port must be a number from 1 to 65535"},
            {"state_dir: var/lib\n",
             "cmsd.yaml:1: state_dir: invalid value 'var/lib': must be an absolute path"},
            {"state_dir: ''\n", "cmsd.yaml:1: state_dir: must not be empty"},
            {"tls: {cert: [a]}\n", "cmsd.yaml:1: tls.cert: expected a string, got a list"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                check_err(cases[i][0], strlen(cases[i][0]), cases[i][1]);
}

static void test_bad_lists(void **state)
{
        static const char *const cases[][2] = {
            {"listen: ['127.0.0.1:0']\n", "cmsd.yaml:1: listen[0]: invalid value '127.0.0.1:0': "
                                          "port must be a number from 1 to 65535"},
            {"listen: [a:1, 'b:x']\n",
             "cmsd.yaml:1: listen[1]: invalid value 'b:x': port must be a number from 1 to 65535"},
            {"listen:\n  - a:1\n  - '::1:8080'\n", "cmsd.yaml:3: listen[1]: invalid value "
                                                   "'::1:8080': IPv6 addresses need brackets, "
                                                   "e.g. [::1]:8080"},
            {"listen: ['[zz]:80']\n",
             "cmsd.yaml:1: listen[0]: invalid value '[zz]:80': 'zz' is not an IPv6 address"},
            {"listen: ['[::1]']\n",
             "cmsd.yaml:1: listen[0]: invalid value '[::1]': a port is required"},
            {"listen: [unix:run/x.sock]\n", "cmsd.yaml:1: listen[0]: invalid value "
                                            "'unix:run/x.sock': the socket path must be absolute"},
            {"listen: [localhost]\n", "cmsd.yaml:1: listen[0]: invalid value 'localhost': "
                                      "expected host:port, [::1]:port or unix:/path"},
            {"listen: ['bad host:80']\n", "cmsd.yaml:1: listen[0]: invalid value 'bad host:80': "
                                          "expected host:port or [ipv6]:port"},
            {"listen: []\n", "cmsd.yaml:1: listen: at least one address is needed"},
            {"listen: [a:1, a:1]\n", "cmsd.yaml:1: listen[1]: 'a:1' is listed twice"},
            {"listen: [[a]]\n", "cmsd.yaml:1: listen[0]: expected a string, got a list"},
            {"listen: [~]\n", "cmsd.yaml:1: listen[0]: expected a string, got null"},
            {"listen: {a: 1}\n", "cmsd.yaml:1: listen: expected a list of addresses (host:port, "
                                 "[::1]:port, unix:/path), got a mapping"},
            {"listen: [a:1, a:2, a:3, a:4, a:5, a:6, a:7, a:8, a:9, a:10, a:11, a:12, a:13,\n"
             "         a:14, a:15, a:16, a:17]\n",
             "cmsd.yaml:2: listen[16]: too many entries (at most 16)"},
            {"cors_origins: ['ftp://x']\n",
             "cmsd.yaml:1: cors_origins[0]: invalid value 'ftp://x': expected \"*\" or an "
             "origin such as https://dash.example.com:8443"},
            {"cors_origins: ['https://a/path']\n",
             "cmsd.yaml:1: cors_origins[0]: invalid value 'https://a/path': expected \"*\" or "
             "an origin such as https://dash.example.com:8443"},
            {"cors_origins: ['']\n", "cmsd.yaml:1: cors_origins[0]: expected a non-empty string"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                check_err(cases[i][0], strlen(cases[i][0]), cases[i][1]);
}

static void test_structure_errors(void **state)
{
        static const char *const cases[][2] = {
            {"engine: auto\nlimits:\n  max_body: 1m\n  max_bodyy: 2m\n",
             "cmsd.yaml:4: limits.max_bodyy: unknown key (did you mean limits.max_body?)"},
            {"foo: 1\n", "cmsd.yaml:1: foo: unknown key"},
            {"tls: {certificate: x}\n", "cmsd.yaml:1: tls.certificate: unknown key"},
            {"limits.max_body: 1m\n",
             "cmsd.yaml:1: limits.max_body: unknown key (dotted keys are not read: nest them)"},
            {"limits: 5\n", "cmsd.yaml:1: limits: expected a mapping, got a scalar"},
            {"engine: auto\nengine: auto\n",
             "cmsd.yaml:2: engine: duplicate key (first at line 1)"},
            {"- a\n- b\n",
             "cmsd.yaml:1: expected a mapping of settings at the top level, got a list"},
            {"just text\n",
             "cmsd.yaml:1: expected a mapping of settings at the top level, got a scalar"},
            {"{[a]: 1}\n", "cmsd.yaml:1: keys must be strings, got a list"},
            {"engine: &e auto\nstate_dir: *e\n",
             "cmsd.yaml:2: YAML aliases (*e) are not supported"},
            {"---\nengine: auto\n---\nengine: auto\n",
             "cmsd.yaml:3: only one YAML document is allowed"},
            {"engine: auto\nlimits: {max_body: 1m\nlog_level: info\n",
             "cmsd.yaml:3: invalid YAML: did not find expected ',' or '}' while parsing a flow "
             "mapping (line 2)"},
            {"engine: auto\n  bad indent: 1\n",
             "cmsd.yaml:2: invalid YAML: mapping values are not allowed in this context"},
            {"a: [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]\n",
             "cmsd.yaml:1: nested more than 16 levels deep"},
            {"tls: {cert: /a.pem}\n", "cmsd.yaml:1: tls.key: needed when tls.cert is set"},
            {"tls:\n  key: /a.pem\n", "cmsd.yaml:2: tls.cert: needed when tls.key is set"},
            {"tls: {client_ca: /ca.pem}\n",
             "cmsd.yaml:1: tls.client_ca: needs tls.cert and tls.key"},
            {"sampler: {interval: 10s, history: 5s}\n",
             "cmsd.yaml:1: sampler.history: must be at least sampler.interval (10s)"},
            {"sampler:\n  interval: 100ms\n  history: 168h\n",
             "cmsd.yaml:3: sampler.history: 168h0m0s at 100ms is more than 1000000 samples "
             "per container"},
            {"engine: \"a\\0b\"\n", "cmsd.yaml:1: NUL byte in a value"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                check_err(cases[i][0], strlen(cases[i][0]), cases[i][1]);
        /* NUL in the raw text is a YAML reader error, with its line */
        check_err("engine: auto\nx: a\0b\n", 18,
                  "cmsd.yaml:2: invalid YAML: control characters are not allowed");
}

static void test_document_cap(void **state)
{
        size_t n = 1024 * 1024 + 2;
        char *big = malloc(n + 1);
        assert_non_null(big);
        /* many small nodes within the size cap */
        strcpy(big, "cors_origins: [");
        for (size_t i = 0; i < 70000; i++)
                strcat(big + 15 + 2 * i, "a,");
        strcat(big, "a]\n");
        check_err(big, strlen(big), "cmsd.yaml:1: more than 65536 YAML nodes");
        memset(big, '#', n);
        big[n] = 0;
        check_err(big, n, "cmsd.yaml: larger than 1048576 bytes");
        /* just under the cap: a long comment is fine */
        struct cms_config *c = NULL;
        struct cms_config_error e;
        assert_int_equal(cms_config_load_string(big, 1024 * 1024, "cmsd.yaml", &c, &e), 0);
        cms_config_free(c);
        free(big);
}

static void test_tokens(void **state)
{
        char yaml[512], hex[65];
        unsigned char d[CMS_SHA256_LEN];
        cms_sha256("s3cret-admin", 12, d);
        cms_sha256_hex(d, hex);
        snprintf(yaml, sizeof(yaml),
                 "tokens:\n"
                 "  - name: ops\n"
                 "    role: admin\n"
                 "    sha256: %s\n"
                 "  - {name: deploy-bot, role: operator, token: op-token}\n"
                 "  - {name: graf@na.v1, role: viewer, token: view-token}\n",
                 hex);
        struct cms_config *c = load_ok(yaml);
        assert_int_equal(c->n_tokens, 3);
        const struct cms_token *t = cms_config_find_token(c, "s3cret-admin");
        assert_ptr_equal(t, &c->tokens[0]);
        assert_string_equal(t->name, "ops");
        assert_int_equal(t->role, CMS_ROLE_ADMIN);
        t = cms_config_find_token(c, "op-token");
        assert_non_null(t);
        assert_string_equal(t->name, "deploy-bot");
        assert_int_equal(t->role, CMS_ROLE_OPERATOR);
        t = cms_config_find_token(c, "view-token");
        assert_non_null(t);
        assert_int_equal(t->role, CMS_ROLE_VIEWER);
        assert_null(cms_config_find_token(c, "op-toke"));
        assert_null(cms_config_find_token(c, "op-tokenx"));
        assert_null(cms_config_find_token(c, "OP-TOKEN"));
        assert_null(cms_config_find_token(c, hex)); /* the hash is not the token */
        assert_null(cms_config_find_token(c, ""));
        assert_null(cms_config_find_token(c, NULL));
        assert_null(cms_config_find_token(NULL, "op-token"));
        cms_config_free(c);
        /* upper-case hex is accepted */
        for (char *p = hex; *p; p++)
                *p = (char)toupper((unsigned char)*p);
        snprintf(yaml, sizeof(yaml), "tokens: [{name: a, role: admin, sha256: %s}]\n", hex);
        c = load_ok(yaml);
        assert_non_null(cms_config_find_token(c, "s3cret-admin"));
        cms_config_free(c);
}

static void test_bad_tokens(void **state)
{
        static const char *const cases[][2] = {
            {"tokens: {name: a}\n", "cmsd.yaml:1: tokens: expected a list of {name, role, "
                                    "token | sha256, policy} mappings, got a mapping"},
            {"tokens: [abc]\n",
             "cmsd.yaml:1: tokens[0]: expected {name, role, token | sha256}, got a scalar"},
            {"tokens:\n  - {name: a, role: root, token: x}\n",
             "cmsd.yaml:2: tokens[0].role: invalid role 'root': expected viewer, operator or "
             "admin"},
            {"tokens:\n  - name: ops\n    role: admin\n    token: a\n"
             "  - name: viewer\n    role: boss\n    token: b\n",
             "cmsd.yaml:6: tokens[1].role: invalid role 'boss': expected viewer, operator or "
             "admin"},
            {"tokens:\n  - {name: a, role: admin, token: x}\n  - {name: b, role: viewer}\n",
             "cmsd.yaml:3: tokens[1]: needs one of token or sha256, or client_cert_sha256"},
            {"tokens: [{name: a, role: admin, token: x, sha256: "
             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad}]\n",
             "cmsd.yaml:1: tokens[0]: needs one of token or sha256, or client_cert_sha256"},
            {"tokens:\n  - {role: admin, token: x}\n", "cmsd.yaml:2: tokens[0].name: missing"},
            {"tokens:\n  - {name: a, token: x}\n", "cmsd.yaml:2: tokens[0].role: missing"},
            {"tokens: [{name: 'a b', role: admin, token: x}]\n",
             "cmsd.yaml:1: tokens[0].name: expected 1 to 64 letters, digits or . _ @ -"},
            {"tokens: [{name: a, role: admin, sha256: abc}]\n",
             "cmsd.yaml:1: tokens[0].sha256: expected 64 hex digits (the sha256 of the token)"},
            {"tokens: [{name: a, role: admin, sha256: "
             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ag}]\n",
             "cmsd.yaml:1: tokens[0].sha256: expected 64 hex digits (the sha256 of the token)"},
            {"tokens: [{name: a, role: admin, sha256: "
             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0}]\n",
             "cmsd.yaml:1: tokens[0].sha256: expected 64 hex digits (the sha256 of the token)"},
            {"tokens:\n  - {name: a, role: admin, token: x}\n  - {name: a, role: viewer, token: "
             "y}\n",
             "cmsd.yaml:3: tokens[1].name: duplicate token name 'a' (also tokens[0])"},
            /* sha256("abc") given hashed and "abc" given in clear: the same secret twice */
            {"tokens:\n  - {name: a, role: admin, sha256: "
             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad}\n"
             "  - {name: b, role: viewer, token: abc}\n",
             "cmsd.yaml:3: tokens[1]: same secret as tokens[0]"},
            {"tokens: [{name: a, role: admin, secret: x}]\n",
             "cmsd.yaml:1: tokens[0].secret: unknown key (expected name, role, token, sha256, policy, "
             "client_cert_sha256 or engines)"},
            {"tokens: [{name: a, name: b, role: admin, token: x}]\n",
             "cmsd.yaml:1: tokens[0].name: duplicate key"},
            {"tokens: [{name: [a], role: admin, token: x}]\n",
             "cmsd.yaml:1: tokens[0].name: expected a string, got a list"},
            {"tokens: [{name: a, role: admin, token: ''}]\n",
             "cmsd.yaml:1: tokens[0].token: must not be empty"},
            {"tokens: \"abc\"\n", "cmsd.yaml:1: tokens: expected a list of {name, role, "
                                  "token | sha256, policy} mappings, got a scalar"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                check_err(cases[i][0], strlen(cases[i][0]), cases[i][1]);
}

static void test_roles(void **state)
{
        enum cms_role r;
        assert_string_equal(cms_role_name(CMS_ROLE_NONE), "none");
        assert_string_equal(cms_role_name(CMS_ROLE_VIEWER), "viewer");
        assert_string_equal(cms_role_name(CMS_ROLE_OPERATOR), "operator");
        assert_string_equal(cms_role_name(CMS_ROLE_ADMIN), "admin");
        assert_string_equal(cms_role_name((enum cms_role)42), "none");
        assert_int_equal(cms_role_parse("operator", &r), 0);
        assert_int_equal(r, CMS_ROLE_OPERATOR);
        assert_int_equal(cms_role_parse("admin", &r), 0);
        assert_int_equal(r, CMS_ROLE_ADMIN);
        assert_int_equal(cms_role_parse("none", &r), -EINVAL);
        assert_int_equal(cms_role_parse("Admin", &r), -EINVAL);
        assert_int_equal(cms_role_parse(NULL, &r), -EINVAL);
        assert_true(CMS_ROLE_VIEWER < CMS_ROLE_OPERATOR && CMS_ROLE_OPERATOR < CMS_ROLE_ADMIN);
}

static void test_error_format(void **state)
{
        struct cms_config_error e = {.line = 7};
        char buf[600];
        strcpy(e.file, "cmsd.yaml");
        strcpy(e.key, "limits.max_bodyy");
        strcpy(e.message, "unknown key");
        cms_config_error_format(&e, buf, sizeof(buf));
        assert_string_equal(buf, "cmsd.yaml:7: limits.max_bodyy: unknown key");
        e.line = 0;
        e.file[0] = 0;
        cms_config_error_format(&e, buf, sizeof(buf));
        assert_string_equal(buf, "limits.max_bodyy: unknown key");
        e.key[0] = 0;
        cms_config_error_format(&e, buf, sizeof(buf));
        assert_string_equal(buf, "unknown key");
        cms_config_error_format(&e, buf, 4);
        assert_string_equal(buf, "unk");
}

/* ---- the command line, files and the environment ---- */

static char *write_tmp(const char *name, const char *text)
{
        if (!tmpdir[0]) {
                strcpy(tmpdir, "/tmp/cmsd-test-config-XXXXXX");
                assert_non_null(mkdtemp(tmpdir));
        }
        char *path = cms_strdup_printf("%s/%s", tmpdir, name);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
        return path;
}

static int parse(struct cms_cli *cli, struct cms_config_error *e, ...)
{
        char *argv[32] = {"cmsd"};
        int argc = 1;
        va_list ap;
        va_start(ap, e);
        for (char *a; (a = va_arg(ap, char *));)
                argv[argc++] = a;
        va_end(ap);
        return cms_cli_parse(argc, argv, cli, e);
}

static void format_err(const struct cms_config_error *e, char *buf, size_t n)
{
        cms_config_error_format(e, buf, n);
}

static void test_cli(void **state)
{
        struct cms_cli cli;
        struct cms_config_error e;
        char buf[600];
        assert_int_equal(parse(&cli, &e, NULL), 0);
        assert_string_equal(cli.config_path, "/etc/cmsd/cmsd.yaml");
        assert_false(cli.config_path_given);
        assert_int_equal(parse(&cli, &e, "--config", "/x.yaml", "--listen=127.0.0.1:1", "--listen",
                               "unix:/tmp/s", "--engine=tcp://h:1", "--log-level", "debug",
                               "--check-config", "--version", "-h", NULL),
                         0);
        assert_string_equal(cli.config_path, "/x.yaml");
        assert_true(cli.config_path_given);
        assert_int_equal(cli.n_listen, 2);
        assert_string_equal(cli.listen[0], "127.0.0.1:1");
        assert_string_equal(cli.listen[1], "unix:/tmp/s");
        assert_string_equal(cli.engine, "tcp://h:1");
        assert_string_equal(cli.log_level, "debug");
        assert_true(cli.check_config && cli.version && cli.help);

        static const struct {
                const char *args[3], *want;
        } bad[] = {
            {{"--bogus"}, "--bogus: unknown option (see --help)"},
            {{"--bogus=1"}, "--bogus: unknown option (see --help)"},
            {{"--config"}, "--config: needs a value (PATH)"},
            {{"--engine="}, "--engine: needs a value (URL)"},
            {{"--help=yes"}, "--help: takes no value"},
            {{"extra"}, "unexpected argument 'extra' (see --help)"},
            {{"-v"}, "unexpected argument '-v' (see --help)"},
            {{"--"}, "unexpected argument '--' (see --help)"},
            {{"--conf", "x"}, "--conf: unknown option (see --help)"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(parse(&cli, &e, bad[i].args[0], bad[i].args[1], NULL), -EINVAL);
                format_err(&e, buf, sizeof(buf));
                assert_string_equal(buf, bad[i].want);
        }
        char *argv[40] = {"cmsd"};
        for (int i = 0; i < 17; i++) {
                argv[1 + 2 * i] = "--listen";
                argv[2 + 2 * i] = "a:1";
        }
        assert_int_equal(cms_cli_parse(35, argv, &cli, &e), -EINVAL);
        format_err(&e, buf, sizeof(buf));
        assert_string_equal(buf, "--listen: given more than 16 times");
        FILE *f = fopen("/dev/null", "w");
        cms_cli_usage(f);
        fclose(f);
}

static void test_missing_files(void **state)
{
        struct cms_cli cli;
        struct cms_config_error e;
        struct cms_config *c = NULL;
        char buf[600];
        /* no command line at all: the file comes from CMSD_CONFIG */
        char *path = write_tmp("nocli.yaml", "engine: tcp://nocli:1\n");
        setenv("CMSD_CONFIG", path, 1);
        assert_int_equal(cms_config_load(NULL, &c, &e), 0);
        assert_string_equal(c->engine, "tcp://nocli:1");
        cms_config_free(c);
        unsetenv("CMSD_CONFIG");
        unlink(path);
        free(path);
        /* the default path missing: defaults */
        memset(&cli, 0, sizeof(cli));
        cli.config_path = "/nonexistent/cmsd.yaml";
        assert_int_equal(cms_config_load(&cli, &c, &e), 0);
        assert_null(c->config_path);
        assert_string_equal(c->engine, "auto");
        cms_config_free(c);
        /* a named file missing: an error */
        assert_int_equal(parse(&cli, &e, "--config", "/nonexistent/cmsd.yaml", NULL), 0);
        assert_int_equal(cms_config_load(&cli, &c, &e), -ENOENT);
        assert_null(c);
        format_err(&e, buf, sizeof(buf));
        assert_string_equal(buf, "/nonexistent/cmsd.yaml: cannot open config file: No such file "
                                 "or directory");
        /* so is one named by CMSD_CONFIG */
        setenv("CMSD_CONFIG", "/nonexistent/env.yaml", 1);
        assert_int_equal(parse(&cli, &e, NULL), 0);
        assert_true(cli.config_path_given);
        assert_int_equal(cms_config_load(&cli, &c, &e), -ENOENT);
        unsetenv("CMSD_CONFIG");
        /* a directory is not a config file */
        assert_int_equal(parse(&cli, &e, "--config", "/tmp", NULL), 0);
        assert_true(cms_config_load(&cli, &c, &e) < 0);
        assert_null(c);
}

static void test_file_and_flags(void **state)
{
        struct cms_cli cli;
        struct cms_config_error e;
        struct cms_config *c = NULL;
        char buf[600];
        char *path = write_tmp("a.yaml", "listen: [127.0.0.1:1, 127.0.0.1:2]\n"
                                         "engine: unix:///var/run/docker.sock\n"
                                         "log_level: warn\n"
                                         "limits: {max_body: 2m}\n");
        assert_int_equal(parse(&cli, &e, "--config", path, NULL), 0);
        assert_int_equal(cms_config_load(&cli, &c, &e), 0);
        assert_string_equal(c->config_path, path);
        assert_int_equal(c->n_listen, 2);
        assert_string_equal(c->engine, "unix:///var/run/docker.sock");
        assert_int_equal(c->log_level, CMS_LOG_WARN);
        assert_int_equal(c->max_body, 2 << 20);
        cms_config_free(c);
        /* flags win over the file; keys without a flag keep the file's value */
        assert_int_equal(parse(&cli, &e, "--config", path, "--listen", "[::1]:9", "--engine",
                               "tcp://127.0.0.1:2375", "--log-level=error", NULL),
                         0);
        assert_int_equal(cms_config_load(&cli, &c, &e), 0);
        assert_int_equal(c->n_listen, 1);
        assert_string_equal(c->listen[0], "[::1]:9");
        assert_string_equal(c->engine, "tcp://127.0.0.1:2375");
        assert_int_equal(c->log_level, CMS_LOG_ERROR);
        assert_int_equal(c->max_body, 2 << 20);
        cms_config_free(c);
        /* a bad flag value names the key and the flag */
        assert_int_equal(parse(&cli, &e, "--config", path, "--log-level", "loud", NULL), 0);
        assert_int_equal(cms_config_load(&cli, &c, &e), -EINVAL);
        format_err(&e, buf, sizeof(buf));
        assert_string_equal(buf, "log_level: invalid value 'loud': expected one of error, warn, "
                                 "info, debug (from --log-level)");
        assert_int_equal(parse(&cli, &e, "--listen", "nohost", NULL), 0);
        assert_int_equal(cms_config_load(&cli, &c, &e), -EINVAL);
        format_err(&e, buf, sizeof(buf));
        assert_string_equal(buf, "listen: invalid value 'nohost': expected host:port, [::1]:port "
                                 "or unix:/path (from --listen)");
        /* an error in the file names the file's path and line */
        char *bad = write_tmp("bad.yaml", "engine: auto\nlimits:\n  max_bodyy: 1m\n");
        assert_int_equal(parse(&cli, &e, "--config", bad, NULL), 0);
        assert_int_equal(cms_config_load(&cli, &c, &e), -EINVAL);
        assert_string_equal(e.file, bad);
        assert_int_equal(e.line, 3);
        assert_string_equal(e.key, "limits.max_bodyy");
        unlink(bad);
        free(bad);
        unlink(path);
        free(path);
}

static void test_environment(void **state)
{
        struct cms_cli cli;
        struct cms_config_error e;
        struct cms_config *c = NULL;
        char buf[600];
        char *with = write_tmp("with.yaml", "engine: unix:///from/file.sock\nlog_level: warn\n");
        char *without = write_tmp("without.yaml", "state_dir: /srv/cmsd\n");
        setenv("DOCKER_HOST", "tcp://from-env:2376", 1);
        setenv("LOG_LEVEL", "debug", 1);
        /* environment over defaults */
        assert_int_equal(parse(&cli, &e, "--config", without, NULL), 0);
        assert_int_equal(cms_config_load(&cli, &c, &e), 0);
        assert_string_equal(c->engine, "tcp://from-env:2376");
        assert_int_equal(c->log_level, CMS_LOG_DEBUG);
        assert_string_equal(c->state_dir, "/srv/cmsd");
        cms_config_free(c);
        /* the file over the environment */
        assert_int_equal(parse(&cli, &e, "--config", with, NULL), 0);
        assert_int_equal(cms_config_load(&cli, &c, &e), 0);
        assert_string_equal(c->engine, "unix:///from/file.sock");
        assert_int_equal(c->log_level, CMS_LOG_WARN);
        cms_config_free(c);
        /* flags over the environment */
        assert_int_equal(
            parse(&cli, &e, "--config", without, "--engine", "auto", "--log-level", "info", NULL),
            0);
        assert_int_equal(cms_config_load(&cli, &c, &e), 0);
        assert_string_equal(c->engine, "auto");
        assert_int_equal(c->log_level, CMS_LOG_INFO);
        cms_config_free(c);
        /* a bad environment value only matters when it is used */
        setenv("DOCKER_HOST", "ssh://user@host", 1);
        assert_int_equal(parse(&cli, &e, "--config", with, NULL), 0);
        assert_int_equal(cms_config_load(&cli, &c, &e), 0);
        cms_config_free(c);
        assert_int_equal(parse(&cli, &e, "--config", without, NULL), 0);
        assert_int_equal(cms_config_load(&cli, &c, &e), -EINVAL);
        format_err(&e, buf, sizeof(buf));
        assert_string_equal(buf,
                            "engine: invalid value 'ssh://user@host': expected auto, "
                            "unix:///path/to/engine.sock or tcp://host:port (from DOCKER_HOST)");
        /* an empty variable counts as unset */
        setenv("DOCKER_HOST", "", 1);
        setenv("LOG_LEVEL", "", 1);
        assert_int_equal(cms_config_load(&cli, &c, &e), 0);
        assert_string_equal(c->engine, "auto");
        assert_int_equal(c->log_level, CMS_LOG_INFO);
        cms_config_free(c);
        /* CMSD_CONFIG names the file when --config does not */
        setenv("CMSD_CONFIG", with, 1);
        assert_int_equal(parse(&cli, &e, NULL), 0);
        assert_string_equal(cli.config_path, with);
        assert_int_equal(cms_config_load(&cli, &c, &e), 0);
        assert_string_equal(c->engine, "unix:///from/file.sock");
        assert_string_equal(c->config_path, with);
        cms_config_free(c);
        assert_int_equal(parse(&cli, &e, "--config", without, NULL), 0);
        assert_int_equal(cms_config_load(&cli, &c, &e), 0);
        assert_string_equal(c->state_dir, "/srv/cmsd");
        cms_config_free(c);
        setup(NULL);
        unlink(with);
        unlink(without);
        free(with);
        free(without);
        rmdir(tmpdir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup(test_defaults, setup),
            cmocka_unit_test_setup(test_api_example, setup),
            cmocka_unit_test_setup(test_block_style, setup),
            cmocka_unit_test_setup(test_flow_style, setup),
            cmocka_unit_test_setup(test_bad_scalars, setup),
            cmocka_unit_test_setup(test_bad_lists, setup),
            cmocka_unit_test_setup(test_structure_errors, setup),
            cmocka_unit_test_setup(test_document_cap, setup),
            cmocka_unit_test_setup(test_tokens, setup),
            cmocka_unit_test_setup(test_bad_tokens, setup),
            cmocka_unit_test_setup(test_roles, setup),
            cmocka_unit_test_setup(test_error_format, setup),
            cmocka_unit_test_setup(test_cli, setup),
            cmocka_unit_test_setup(test_missing_files, setup),
            cmocka_unit_test_setup(test_file_and_flags, setup),
            cmocka_unit_test_setup(test_environment, setup),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
