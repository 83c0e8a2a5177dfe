/* Loading cmsd's configuration: defaults, then the file, then the flags, then the environment
 * for whatever neither set (which gives flags > file > environment > defaults), then the rules
 * that span keys. Also token lookup, error formatting and the command line. */
#include "config_internal.h"

/* A ring holds history/interval samples per container: keep that bounded. */
#define MAX_SAMPLES 1000000

static int fail_oom(struct cms_cfg_ctx *x, const char *key)
{
        cms_cfg_fail(x, 0, key, "out of memory");
        return -ENOMEM;
}

static int key_line(const struct cms_cfg_ctx *x, const char *key)
{
        return x->lines[cms_cfg_key_find(key) - cms_cfg_keys];
}

static int apply_defaults(struct cms_cfg_ctx *x)
{
        for (size_t i = 0; i < cms_cfg_n_keys; i++) {
                int r =
                    cms_cfg_set(x, &cms_cfg_keys[i], cms_cfg_keys[i].def, cms_cfg_keys[i].key, 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int apply_env(struct cms_cfg_ctx *x)
{
        for (size_t i = 0; i < cms_cfg_n_keys; i++) {
                const struct cms_cfg_key *k = &cms_cfg_keys[i];
                const char *v = k->env ? getenv(k->env) : NULL;
                if (!v || !*v || x->set[i])
                        continue;
                x->origin = k->env;
                int r = cms_cfg_set(x, k, v, k->key, 0);
                x->origin = NULL;
                if (r < 0)
                        return r;
        }
        return 0;
}

static int apply_flag(struct cms_cfg_ctx *x, const char *key, const char *v)
{
        const struct cms_cfg_key *k = cms_cfg_key_find(key);
        x->origin = k->flag;
        int r = cms_cfg_set(x, k, v, k->key, 0);
        x->origin = NULL;
        cms_cfg_mark(x, k, 0);
        return r;
}

static int apply_flags(struct cms_cfg_ctx *x, const struct cms_cli *cli)
{
        int r = 0;
        if (cli->n_listen) {
                const struct cms_cfg_key *k = cms_cfg_key_find("listen");
                cms_cfg_list_clear(x->c, k);
                cms_cfg_mark(x, k, 0);
                x->origin = k->flag;
                for (size_t i = 0; r == 0 && i < cli->n_listen; i++)
                        r = cms_cfg_list_add(x, k, cli->listen[i], k->key, 0);
                x->origin = NULL;
        }
        if (r == 0 && cli->engine)
                r = apply_flag(x, "engine", cli->engine);
        if (r == 0 && cli->log_level)
                r = apply_flag(x, "log_level", cli->log_level);
        return r;
}

/* Rules that span keys, checked once every layer is in. */
static int finish(struct cms_cfg_ctx *x)
{
        struct cms_config *c = x->c;
        char a[32], b[32];
        if (c->n_listen == 0)
                return cms_cfg_fail(x, key_line(x, "listen"), "listen",
                                    "at least one address is needed");
        if (c->sampler_history_ms < c->sampler_interval_ms) {
                cms_format_duration(c->sampler_interval_ms, a, sizeof(a));
                return cms_cfg_fail(x, key_line(x, "sampler.history"), "sampler.history",
                                    "must be at least sampler.interval (%s)", a);
        }
        if (c->sampler_history_ms / c->sampler_interval_ms > MAX_SAMPLES) {
                cms_format_duration(c->sampler_history_ms, a, sizeof(a));
                cms_format_duration(c->sampler_interval_ms, b, sizeof(b));
                return cms_cfg_fail(x, key_line(x, "sampler.history"), "sampler.history",
                                    "%s at %s is more than %d samples per container", a, b,
                                    MAX_SAMPLES);
        }
        if (!*c->tls_cert != !*c->tls_key) {
                const char *missing = *c->tls_cert ? "tls.key" : "tls.cert";
                const char *given = *c->tls_cert ? "tls.cert" : "tls.key";
                return cms_cfg_fail(x, key_line(x, given), missing, "needed when %s is set", given);
        }
        if (*c->tls_client_ca && !*c->tls_cert)
                return cms_cfg_fail(x, key_line(x, "tls.client_ca"), "tls.client_ca",
                                    "needs tls.cert and tls.key");
        if (!c->cors_origins && !(c->cors_origins = calloc(1, sizeof(char *))))
                return fail_oom(x, "cors_origins");
        int r = cms_cfg_check_engines(x);
        return r < 0 ? r : cms_cfg_check_token_policies(x);
}

static int fail_file(struct cms_cfg_ctx *x, const char *path, int r, const char *what)
{
        cms_cfg_fail(x, 0, NULL, "%s", what);
        snprintf(x->cerr->file, sizeof(x->cerr->file), "%s", path);
        return r;
}

/* Reads the whole file (capped). *out stays NULL when a file that may be absent is absent. */
static int read_file(struct cms_cfg_ctx *x, const char *path, bool required, char **out,
                     size_t *len)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char msg[300];
        *out = NULL;
        if (!f) {
                int e = errno;
                if (e == ENOENT && !required)
                        return 0;
                snprintf(msg, sizeof(msg), "cannot open config file: %s", strerror(e));
                return fail_file(x, path, -e, msg);
        }
        _cleanup_free_ char *buf = malloc(CMS_CFG_MAX_DOC + 1);
        if (!buf)
                return fail_oom(x, NULL);
        size_t n = fread(buf, 1, CMS_CFG_MAX_DOC + 1, f);
        if (ferror(f)) {
                int e = errno ? errno : EIO;
                snprintf(msg, sizeof(msg), "cannot read config file: %s", strerror(e));
                return fail_file(x, path, -e, msg);
        }
        if (n > CMS_CFG_MAX_DOC) {
                snprintf(msg, sizeof(msg), "config file larger than %d bytes", CMS_CFG_MAX_DOC);
                return fail_file(x, path, -EFBIG, msg);
        }
        buf[n] = 0;
        *len = n;
        *out = TAKE_PTR(buf);
        return 0;
}

static const char *default_config_path(bool *given)
{
        const char *env = getenv("CMSD_CONFIG");
        *given = env && *env;
        return *given ? env : "/etc/cmsd/cmsd.yaml";
}

static int load_file(struct cms_cfg_ctx *x, const struct cms_cli *cli)
{
        bool given = cli->config_path_given;
        const char *path = cli->config_path;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        if (!path)
                path = default_config_path(&given);
        int r = read_file(x, path, given, &text, &len);
        if (r < 0 || !text)
                return r;
        if (!(x->c->config_path = strdup(path)))
                return fail_oom(x, NULL);
        x->file = path;
        r = cms_cfg_load_yaml(x, text, len);
        explicit_bzero(text, len); /* it may hold tokens in clear */
        return r;
}

int cms_config_load(const struct cms_cli *cli, struct cms_config **out,
                    struct cms_config_error *cerr)
{
        static const struct cms_cli no_flags;
        struct cms_config_error dummy;
        struct cms_cfg_ctx x = {.cerr = cerr ? cerr : &dummy};
        if (!cli)
                cli = &no_flags;
        memset(x.cerr, 0, sizeof(*x.cerr));
        *out = NULL;
        if (!(x.c = calloc(1, sizeof(*x.c))))
                return fail_oom(&x, NULL);
        int r = apply_defaults(&x);
        if (r == 0)
                r = load_file(&x, cli);
        if (r == 0)
                r = apply_flags(&x, cli);
        if (r == 0)
                r = apply_env(&x);
        if (r == 0)
                r = finish(&x);
        if (r < 0) {
                cms_config_free(x.c);
                return r;
        }
        *out = x.c;
        return 0;
}

int cms_config_load_string(const char *yaml, size_t len, const char *name, struct cms_config **out,
                           struct cms_config_error *cerr)
{
        struct cms_config_error dummy;
        struct cms_cfg_ctx x = {.cerr = cerr ? cerr : &dummy, .file = name};
        memset(x.cerr, 0, sizeof(*x.cerr));
        *out = NULL;
        if (!(x.c = calloc(1, sizeof(*x.c))))
                return fail_oom(&x, NULL);
        int r = apply_defaults(&x);
        if (r == 0)
                r = cms_cfg_load_yaml(&x, yaml, len);
        if (r == 0)
                r = finish(&x);
        if (r < 0) {
                cms_config_free(x.c);
                return r;
        }
        *out = x.c;
        return 0;
}

void cms_config_free(struct cms_config *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < cms_cfg_n_keys; i++) {
                const struct cms_cfg_key *k = &cms_cfg_keys[i];
                if (k->type == CMS_CFG_STRING)
                        free(*(char **)((char *)c + k->offset));
                else if (k->type >= CMS_CFG_STRING_LIST)
                        cms_cfg_list_clear(c, k);
        }
        free(c->config_path);
        free(c);
}

void cms_config_error_format(const struct cms_config_error *e, char *buf, size_t n)
{
        char where[300] = "";
        if (e->file[0] && e->line > 0)
                snprintf(where, sizeof(where), "%s:%d: ", e->file, e->line);
        else if (e->file[0])
                snprintf(where, sizeof(where), "%s: ", e->file);
        snprintf(buf, n, "%s%s%s%s", where, e->key, e->key[0] ? ": " : "", e->message);
}

const struct cms_token *cms_config_find_token(const struct cms_config *c, const char *token)
{
        unsigned char d[CMS_SHA256_LEN];
        const struct cms_token *hit = NULL;
        if (!c || !token || !*token)
                return NULL;
        /* Every token's digest is compared, match or not, so the time taken says nothing about
         * which entry (if any) matched; comparing digests also hides the secret's length. */
        cms_sha256(token, strlen(token), d);
        for (size_t i = 0; i < c->n_tokens; i++) {
                bool eq = cms_digest_eq(d, c->tokens[i].digest);
                if (eq && !hit && c->tokens[i].has_secret)
                        hit = &c->tokens[i];
        }
        explicit_bzero(d, sizeof(d));
        return hit;
}

bool cms_config_has_token(const struct cms_config *c, const char *name)
{
        for (size_t i = 0; c && name && i < c->n_tokens; i++)
                if (!strcmp(c->tokens[i].name, name))
                        return true;
        return false;
}

const struct cms_token *cms_config_find_cert_token(const struct cms_config *c,
                                                   const unsigned char sha256[32])
{
        for (size_t i = 0; c && i < c->n_tokens; i++)
                if (c->tokens[i].cert_bound && !c->tokens[i].has_secret &&
                    !memcmp(c->tokens[i].cert_sha256, sha256, CMS_SHA256_LEN))
                        return &c->tokens[i];
        return NULL;
}

enum cli_opt {
        OPT_CONFIG,
        OPT_LISTEN,
        OPT_ENGINE,
        OPT_LOG_LEVEL,
        OPT_CHECK,
        OPT_VERIFY_AUDIT,
        OPT_VERSION,
        OPT_HELP
};

static const struct {
        const char *name;
        enum cli_opt id;
        const char *arg; /* NULL: takes no value */
        const char *help;
} cli_opts[] = {
    {"config", OPT_CONFIG, "PATH", "config file (default $CMSD_CONFIG, else /etc/cmsd/cmsd.yaml)"},
    {"listen", OPT_LISTEN, "ADDR", "host:port, [::1]:port or unix:/path; repeatable"},
    {"engine", OPT_ENGINE, "URL", "auto, unix:///var/run/docker.sock or tcp://host:2376"},
    {"log-level", OPT_LOG_LEVEL, "LEVEL", "error, warn, info or debug"},
    {"check-config", OPT_CHECK, NULL, "validate the configuration and exit"},
    {"verify-audit", OPT_VERIFY_AUDIT, "FILE", "check an audit log's hash chain and exit"},
    {"version", OPT_VERSION, NULL, "print the version and exit"},
    {"help", OPT_HELP, NULL, "show this help and exit"},
};

void cms_cli_usage(FILE *f)
{
        fprintf(f, "Usage: cmsd [OPTIONS]\n\ncmsd %s, a container-management daemon.\n\n",
                CMS_VERSION);
        for (size_t i = 0; i < ELEMENTSOF(cli_opts); i++) {
                char left[32];
                snprintf(left, sizeof(left), "--%s%s%s", cli_opts[i].name,
                         cli_opts[i].arg ? " " : "", cli_opts[i].arg ? cli_opts[i].arg : "");
                fprintf(f, "  %-22s %s\n", left, cli_opts[i].help);
        }
        fprintf(f, "\nFlags override the config file, which overrides the environment\n"
                   "(CMSD_CONFIG, DOCKER_HOST, LOG_LEVEL).\n");
}

static int cli_fail(struct cms_config_error *cerr, const char *key, size_t keylen, const char *fmt,
                    const char *arg)
{
        memset(cerr, 0, sizeof(*cerr));
        snprintf(cerr->key, sizeof(cerr->key), "%.*s", (int)keylen, key);
        snprintf(cerr->message, sizeof(cerr->message), fmt, arg);
        return -EINVAL;
}

static int cli_store(struct cms_cli *cli, enum cli_opt id, const char *v,
                     struct cms_config_error *cerr)
{
        switch (id) {
        case OPT_CONFIG:
                cli->config_path = v;
                cli->config_path_given = true;
                break;
        case OPT_LISTEN:
                if (cli->n_listen >= CMS_MAX_LISTEN)
                        return cli_fail(cerr, "--listen", 8, "given more than %s times", "16");
                cli->listen[cli->n_listen++] = v;
                break;
        case OPT_ENGINE:
                cli->engine = v;
                break;
        case OPT_LOG_LEVEL:
                cli->log_level = v;
                break;
        case OPT_CHECK:
                cli->check_config = true;
                break;
        case OPT_VERIFY_AUDIT:
                cli->verify_audit = v;
                break;
        case OPT_VERSION:
                cli->version = true;
                break;
        case OPT_HELP:
                cli->help = true;
                break;
        }
        return 0;
}

int cms_cli_parse(int argc, char **argv, struct cms_cli *cli, struct cms_config_error *cerr)
{
        struct cms_config_error dummy;
        if (!cerr)
                cerr = &dummy;
        memset(cerr, 0, sizeof(*cerr));
        memset(cli, 0, sizeof(*cli));
        for (int i = 1; i < argc; i++) {
                const char *a = !strcmp(argv[i], "-h") ? "--help" : argv[i];
                if (!cms_str_has_prefix(a, "--") || !a[2])
                        return cli_fail(cerr, "", 0, "unexpected argument '%.200s' (see --help)",
                                        a);
                const char *eq = strchr(a, '=');
                size_t nl = eq ? (size_t)(eq - a) : strlen(a);
                size_t o = 0;
                while (o < ELEMENTSOF(cli_opts) && (strlen(cli_opts[o].name) != nl - 2 ||
                                                    strncmp(cli_opts[o].name, a + 2, nl - 2)))
                        o++;
                if (o == ELEMENTSOF(cli_opts))
                        return cli_fail(cerr, a, nl, "unknown option%s", " (see --help)");
                const char *v = NULL;
                if (!cli_opts[o].arg && eq)
                        return cli_fail(cerr, a, nl, "takes no value%s", "");
                if (cli_opts[o].arg) {
                        v = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
                        if (!v || !*v)
                                return cli_fail(cerr, a, nl, "needs a value (%s)", cli_opts[o].arg);
                }
                int r = cli_store(cli, cli_opts[o].id, v, cerr);
                if (r < 0)
                        return r;
        }
        if (!cli->config_path)
                cli->config_path = default_config_path(&cli->config_path_given);
        return 0;
}
