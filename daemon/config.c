/* cmsd's configuration: the key table and the typed setters that every layer goes through
 * (defaults, YAML file, flags, environment). Loading is in config_load.c, the YAML walk in
 * config_yaml.c. */
#include "config_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <sys/un.h>

#define OFF(f)     offsetof(struct cms_config, f)
#define SECOND_MS  1000LL
#define HOUR_MS    (3600 * SECOND_MS)
#define DAY_MS     (24 * HOUR_MS)
#define MAX_STRING 4096

static const char *const role_names[] = {"none", "viewer", "operator", "admin"};

const char *cms_role_name(enum cms_role r)
{
        return (unsigned)r < ELEMENTSOF(role_names) ? role_names[r] : "none";
}

int cms_role_parse(const char *s, enum cms_role *out)
{
        for (size_t i = CMS_ROLE_VIEWER; s && i < ELEMENTSOF(role_names); i++)
                if (!strcmp(s, role_names[i])) {
                        *out = (enum cms_role)i;
                        return 0;
                }
        return -EINVAL;
}

static int check_port(const char *p, bool required, char *msg, size_t n)
{
        int64_t port;
        if (!p) {
                if (!required)
                        return 0;
                snprintf(msg, n, "a port is required");
                return -EINVAL;
        }
        if (cms_parse_int(p, 1, 65535, &port) < 0) {
                snprintf(msg, n, "port must be a number from 1 to 65535");
                return -EINVAL;
        }
        return 0;
}

static int hostport_bad(char *msg, size_t n)
{
        snprintf(msg, n, "expected host:port or [ipv6]:port");
        return -EINVAL;
}

/* "host:port", "[v6]:port" (port optional unless required). */
static int check_hostport(const char *v, bool port_required, char *msg, size_t n)
{
        char host[256];
        const char *port = NULL;
        size_t hl;
        if (v[0] == '[') {
                const char *close = strchr(v, ']');
                if (!close || (close[1] && close[1] != ':') ||
                    (size_t)(close - v - 1) >= sizeof(host))
                        return hostport_bad(msg, n);
                hl = (size_t)(close - v - 1);
                memcpy(host, v + 1, hl);
                host[hl] = 0;
                struct in6_addr a6;
                if (inet_pton(AF_INET6, host, &a6) != 1) {
                        snprintf(msg, n, "'%s' is not an IPv6 address", host);
                        return -EINVAL;
                }
                port = close[1] ? close + 2 : NULL;
                return check_port(port, port_required, msg, n);
        }
        const char *colon = strchr(v, ':');
        if (colon && strchr(colon + 1, ':')) {
                snprintf(msg, n, "IPv6 addresses need brackets, e.g. [::1]:8080");
                return -EINVAL;
        }
        hl = colon ? (size_t)(colon - v) : strlen(v);
        if (hl == 0 || hl > 253)
                return hostport_bad(msg, n);
        for (size_t i = 0; i < hl; i++)
                if (!isalnum((unsigned char)v[i]) && v[i] != '.' && v[i] != '-' && v[i] != '_')
                        return hostport_bad(msg, n);
        port = colon ? colon + 1 : NULL;
        return check_port(port, port_required, msg, n);
}

static int check_socket_path(const char *p, char *msg, size_t n)
{
        if (p[0] != '/') {
                snprintf(msg, n, "the socket path must be absolute");
                return -EINVAL;
        }
        if (strlen(p) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
                snprintf(msg, n, "the socket path is too long");
                return -EINVAL;
        }
        return 0;
}

static int check_listen(const char *v, char *msg, size_t n)
{
        if (cms_str_has_prefix(v, "unix:"))
                return check_socket_path(v + 5, msg, n);
        if (!strchr(v, ':')) {
                snprintf(msg, n, "expected host:port, [::1]:port or unix:/path");
                return -EINVAL;
        }
        return check_hostport(v, true, msg, n);
}

static int engine_bad(char *msg, size_t n)
{
        snprintf(msg, n, "expected auto, unix:///path/to/engine.sock or tcp://host:port");
        return -EINVAL;
}

int cms_cfg_check_engine(const char *v, char *msg, size_t n)
{
        if (!strcmp(v, "auto"))
                return 0;
        if (cms_str_has_prefix(v, "unix://"))
                return check_socket_path(v + 7, msg, n);
        if (cms_str_has_prefix(v, "tcp://")) {
                const char *hp = v + 6;
                size_t l = strlen(hp);
                char buf[300];
                if (l && hp[l - 1] == '/')
                        l--;
                if (l == 0 || l >= sizeof(buf))
                        return engine_bad(msg, n);
                memcpy(buf, hp, l);
                buf[l] = 0;
                return check_hostport(buf, false, msg, n);
        }
        return engine_bad(msg, n);
}

static int check_abs_path(const char *v, char *msg, size_t n)
{
        if (v[0] != '/') {
                snprintf(msg, n, "must be an absolute path");
                return -EINVAL;
        }
        return 0;
}

/* An Origin header value: "*" or scheme://host[:port], nothing else. */
static int check_origin(const char *v, char *msg, size_t n)
{
        if (!strcmp(v, "*"))
                return 0;
        const char *rest = cms_str_has_prefix(v, "https://")  ? v + 8
                           : cms_str_has_prefix(v, "http://") ? v + 7
                                                              : NULL;
        if (rest && *rest && check_hostport(rest, false, msg, n) == 0)
                return 0;
        snprintf(msg, n, "expected \"*\" or an origin such as https://dash.example.com:8443");
        return -EINVAL;
}

const struct cms_cfg_key cms_cfg_keys[] = {
    {.key = "listen",
     .type = CMS_CFG_LISTEN_LIST,
     .offset = OFF(listen),
     .count_offset = OFF(n_listen),
     .def = "127.0.0.1:8080",
     .min = 1,
     .max = CMS_MAX_LISTEN,
     .flag = "--listen",
     .check = check_listen},
    {.key = "engine",
     .type = CMS_CFG_STRING,
     .offset = OFF(engine),
     .def = "auto",
     .min = 1,
     .max = MAX_STRING,
     .env = "DOCKER_HOST",
     .flag = "--engine",
     .check = cms_cfg_check_engine},
    {.key = "tokens",
     .type = CMS_CFG_TOKENS,
     .offset = OFF(tokens),
     .count_offset = OFF(n_tokens),
     .def = "",
     .min = 0,
     .max = CMS_MAX_TOKENS},
    {.key = "policies",
     .type = CMS_CFG_POLICIES,
     .offset = OFF(policies),
     .count_offset = OFF(n_policies),
     .def = "",
     .min = 0,
     .max = CMS_POLICY_MAX_LIST},
    {.key = "engines",
     .type = CMS_CFG_ENGINES,
     .offset = OFF(engines),
     .count_offset = OFF(n_engines),
     .def = "",
     .min = 0,
     .max = CMS_MAX_ENGINES},
    {.key = "metrics_public", .type = CMS_CFG_BOOL, .offset = OFF(metrics_public), .def = "false"},
    {.key = "cors_origins",
     .type = CMS_CFG_STRING_LIST,
     .offset = OFF(cors_origins),
     .count_offset = OFF(n_cors_origins),
     .def = "",
     .min = 0,
     .max = 64,
     .check = check_origin},
    {.key = "sampler.interval",
     .type = CMS_CFG_DURATION,
     .offset = OFF(sampler_interval_ms),
     .def = "1s",
     .min = 100,
     .max = HOUR_MS},
    {.key = "sampler.history",
     .type = CMS_CFG_DURATION,
     .offset = OFF(sampler_history_ms),
     .def = "1h",
     .min = 100,
     .max = 7 * DAY_MS},
    {.key = "sampler.container_labels",
     .type = CMS_CFG_BOOL,
     .offset = OFF(sampler_container_labels),
     .def = "true"},
    {.key = "sampler.max_container_labels",
     .type = CMS_CFG_INT,
     .offset = OFF(sampler_max_container_labels),
     .def = "32",
     .min = 0,
     .max = 256},
    {.key = "sampler.fs_interval",
     .type = CMS_CFG_DURATION,
     .offset = OFF(sampler_fs_interval_ms),
     .def = "60s",
     .min = 0,
     .max = DAY_MS},
    {.key = "sampler.fs_timeout",
     .type = CMS_CFG_DURATION,
     .offset = OFF(sampler_fs_timeout_ms),
     .def = "30s",
     .min = 1000,
     .max = 10 * 60 * 1000},
    {.key = "audit.max_size",
     .type = CMS_CFG_SIZE,
     .offset = OFF(audit_max_size),
     .def = "64m",
     .min = 4096,
     .max = INT64_C(64) * 1024 * 1024 * 1024},
    {.key = "audit.keep",
     .type = CMS_CFG_INT,
     .offset = OFF(audit_keep),
     .def = "8",
     .min = 0,
     .max = 1000},
    {.key = "state_dir",
     .type = CMS_CFG_STRING,
     .offset = OFF(state_dir),
     .def = "/var/lib/cmsd",
     .min = 1,
     .max = MAX_STRING,
     .check = check_abs_path},
    {.key = "log_level",
     .type = CMS_CFG_LOG_LEVEL,
     .offset = OFF(log_level),
     .def = "info",
     .env = "LOG_LEVEL",
     .flag = "--log-level"},
    {.key = "limits.max_body",
     .type = CMS_CFG_SIZE,
     .offset = OFF(max_body),
     .def = "1m",
     .min = 1024,
     .max = 1024 * 1024 * 1024},
    {.key = "limits.max_build_context",
     .type = CMS_CFG_SIZE,
     .offset = OFF(max_build_context),
     .def = "512m",
     .min = 1024,
     .max = INT64_C(64) * 1024 * 1024 * 1024},
    {.key = "limits.max_connections",
     .type = CMS_CFG_INT,
     .offset = OFF(max_connections),
     .def = "1024",
     .min = 1,
     .max = 65535},
    {.key = "limits.max_connections_per_ip",
     .type = CMS_CFG_INT,
     .offset = OFF(max_connections_per_ip),
     .def = "64",
     .min = 1,
     .max = 65535},
    {.key = "limits.max_streams",
     .type = CMS_CFG_INT,
     .offset = OFF(max_streams),
     .def = "256",
     .min = 1,
     .max = 65535},
    {.key = "limits.max_streams_per_token",
     .type = CMS_CFG_INT,
     .offset = OFF(max_streams_per_token),
     .def = "16",
     .min = 1,
     .max = 65535},
    {.key = "limits.max_stream_duration",
     .type = CMS_CFG_DURATION,
     .offset = OFF(max_stream_duration_ms),
     .def = "24h",
     .min = SECOND_MS,
     .max = 7 * DAY_MS},
    {.key = "limits.header_deadline",
     .type = CMS_CFG_DURATION,
     .offset = OFF(header_deadline_ms),
     .def = "10s",
     .min = SECOND_MS,
     .max = HOUR_MS},
    {.key = "limits.request_timeout",
     .type = CMS_CFG_DURATION,
     .offset = OFF(request_timeout_ms),
     .def = "30s",
     .min = SECOND_MS,
     .max = HOUR_MS},
    {.key = "tls.cert",
     .type = CMS_CFG_STRING,
     .offset = OFF(tls_cert),
     .def = "",
     .max = MAX_STRING},
    {.key = "tls.key",
     .type = CMS_CFG_STRING,
     .offset = OFF(tls_key),
     .def = "",
     .max = MAX_STRING},
    {.key = "tls.client_ca",
     .type = CMS_CFG_STRING,
     .offset = OFF(tls_client_ca),
     .def = "",
     .max = MAX_STRING},
};
const size_t cms_cfg_n_keys = ELEMENTSOF(cms_cfg_keys);
_Static_assert(ELEMENTSOF(cms_cfg_keys) <= CMS_CFG_MAX_KEYS, "raise CMS_CFG_MAX_KEYS");

const struct cms_cfg_key *cms_cfg_key_find(const char *dotted)
{
        for (size_t i = 0; i < cms_cfg_n_keys; i++)
                if (!strcmp(cms_cfg_keys[i].key, dotted))
                        return &cms_cfg_keys[i];
        return NULL;
}

bool cms_cfg_is_section(const char *prefix)
{
        size_t l = strlen(prefix);
        for (size_t i = 0; i < cms_cfg_n_keys; i++)
                if (!strncmp(cms_cfg_keys[i].key, prefix, l) && cms_cfg_keys[i].key[l] == '.')
                        return true;
        return false;
}

void cms_cfg_mark(struct cms_cfg_ctx *x, const struct cms_cfg_key *k, int line)
{
        size_t i = (size_t)(k - cms_cfg_keys);
        x->lines[i] = line;
        x->set[i] = true;
}

const char *cms_cfg_expected(enum cms_cfg_type t)
{
        switch (t) {
        case CMS_CFG_STRING:
                return "a string";
        case CMS_CFG_BOOL:
                return "true or false";
        case CMS_CFG_DURATION:
                return "a duration such as 500ms, 30s or 1m30s";
        case CMS_CFG_SIZE:
                return "a size such as 512k, 1m or 2g";
        case CMS_CFG_INT:
                return "an integer";
        case CMS_CFG_LOG_LEVEL:
                return "one of error, warn, info, debug";
        case CMS_CFG_STRING_LIST:
                return "a list of strings";
        case CMS_CFG_LISTEN_LIST:
                return "a list of addresses (host:port, [::1]:port, unix:/path)";
        case CMS_CFG_TOKENS:
                return "a list of {name, role, token | sha256, policy} mappings";
        case CMS_CFG_POLICIES:
                return "a mapping of policy names to their rules";
        case CMS_CFG_ENGINES:
                return "a list of {name, url, default, tls} mappings";
        }
        return "a value";
}

int cms_cfg_fail(struct cms_cfg_ctx *x, int line, const char *key, const char *fmt, ...)
{
        struct cms_config_error *e = x->cerr;
        va_list ap;
        memset(e, 0, sizeof(*e));
        if (line > 0 && x->file) {
                snprintf(e->file, sizeof(e->file), "%s", x->file);
                e->line = line;
        }
        snprintf(e->key, sizeof(e->key), "%s", key ? key : "");
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof(e->message), fmt, ap);
        va_end(ap);
        if (x->origin) {
                size_t l = strlen(e->message);
                snprintf(e->message + l, sizeof(e->message) - l, " (from %s)", x->origin);
        }
        return -EINVAL;
}

static int fail_oom(struct cms_cfg_ctx *x, const char *key)
{
        cms_cfg_fail(x, 0, key, "out of memory");
        return -ENOMEM;
}

static void format_size(int64_t v, char *buf, size_t n)
{
        static const struct {
                int64_t mult;
                char unit;
        } u[] = {{1LL << 30, 'g'}, {1LL << 20, 'm'}, {1LL << 10, 'k'}};
        for (size_t i = 0; i < ELEMENTSOF(u); i++)
                if (v && v % u[i].mult == 0) {
                        snprintf(buf, n, "%" PRId64 "%c", v / u[i].mult, u[i].unit);
                        return;
                }
        snprintf(buf, n, "%" PRId64, v);
}

static void format_value(enum cms_cfg_type t, int64_t v, char *buf, size_t n)
{
        if (t == CMS_CFG_DURATION)
                cms_format_duration(v, buf, n);
        else if (t == CMS_CFG_SIZE)
                format_size(v, buf, n);
        else
                snprintf(buf, n, "%" PRId64, v);
}

static int set_number(struct cms_cfg_ctx *x, const struct cms_cfg_key *k, const char *text,
                      const char *errkey, int line)
{
        int64_t v = 0;
        int r;
        if (k->type == CMS_CFG_DURATION)
                r = cms_parse_duration_ms(text, &v);
        else if (k->type == CMS_CFG_SIZE)
                r = cms_parse_size(text, &v);
        else
                r = cms_parse_int(text, INT64_MIN, INT64_MAX, &v);
        if (r < 0 && r != -ERANGE)
                return cms_cfg_fail(x, line, errkey, "invalid value '%.64s': expected %s", text,
                                    cms_cfg_expected(k->type));
        if (r < 0 || v < k->min || v > k->max) {
                char lo[32], hi[32];
                format_value(k->type, k->min, lo, sizeof(lo));
                format_value(k->type, k->max, hi, sizeof(hi));
                return cms_cfg_fail(x, line, errkey, "'%.64s' is out of range (%s..%s)", text, lo,
                                    hi);
        }
        *(int64_t *)((char *)x->c + k->offset) = v;
        return 0;
}

static int set_string(struct cms_cfg_ctx *x, const struct cms_cfg_key *k, const char *text,
                      const char *errkey, int line)
{
        char msg[160];
        size_t l = strlen(text);
        if ((int64_t)l < k->min)
                return cms_cfg_fail(x, line, errkey, "must not be empty");
        if ((int64_t)l > k->max)
                return cms_cfg_fail(x, line, errkey, "too long (at most %" PRId64 " bytes)",
                                    k->max);
        if (k->check && k->check(text, msg, sizeof(msg)) < 0)
                return cms_cfg_fail(x, line, errkey, "invalid value '%.64s': %s", text, msg);
        char *dup = strdup(text);
        if (!dup)
                return fail_oom(x, errkey);
        char **field = (char **)((char *)x->c + k->offset);
        free(*field);
        *field = dup;
        return 0;
}

/* A comma-separated list replaces the current one (defaults; flags add one at a time). */
static int set_list(struct cms_cfg_ctx *x, const struct cms_cfg_key *k, const char *text,
                    const char *errkey, int line)
{
        cms_cfg_list_clear(x->c, k);
        if (!*text)
                return 0;
        _cleanup_free_ char *copy = strdup(text);
        if (!copy)
                return fail_oom(x, errkey);
        char *save = NULL;
        for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
                int r = cms_cfg_list_add(x, k, item, errkey, line);
                if (r < 0)
                        return r;
        }
        return 0;
}

int cms_cfg_set(struct cms_cfg_ctx *x, const struct cms_cfg_key *k, const char *text,
                const char *errkey, int line)
{
        void *field = (char *)x->c + k->offset;
        switch (k->type) {
        case CMS_CFG_STRING:
                return set_string(x, k, text, errkey, line);
        case CMS_CFG_DURATION:
        case CMS_CFG_SIZE:
        case CMS_CFG_INT:
                return set_number(x, k, text, errkey, line);
        case CMS_CFG_BOOL:
                if (cms_parse_bool(text, (bool *)field) < 0)
                        break;
                return 0;
        case CMS_CFG_LOG_LEVEL:
                if (cms_log_parse_level(text, (enum cms_log_level *)field) < 0)
                        break;
                return 0;
        case CMS_CFG_STRING_LIST:
        case CMS_CFG_LISTEN_LIST:
                return set_list(x, k, text, errkey, line);
        case CMS_CFG_TOKENS:
        case CMS_CFG_POLICIES:
        case CMS_CFG_ENGINES:
                if (*text)
                        return cms_cfg_fail(x, line, errkey, "%s are set in the config file only",
                                            k->key);
                cms_cfg_list_clear(x->c, k);
                return 0;
        }
        return cms_cfg_fail(x, line, errkey, "invalid value '%.64s': expected %s", text,
                            cms_cfg_expected(k->type));
}

void cms_cfg_list_clear(struct cms_config *c, const struct cms_cfg_key *k)
{
        size_t *count = (size_t *)((char *)c + k->count_offset);
        if (k->type == CMS_CFG_LISTEN_LIST) {
                char **items = (char **)((char *)c + k->offset);
                for (size_t i = 0; i < *count; i++) {
                        free(items[i]);
                        items[i] = NULL;
                }
        } else if (k->type == CMS_CFG_STRING_LIST) {
                char ***items = (char ***)((char *)c + k->offset);
                for (size_t i = 0; *items && i < *count; i++)
                        free((*items)[i]);
                free(*items);
                *items = NULL;
        } else if (k->type == CMS_CFG_TOKENS) {
                struct cms_token *t = (struct cms_token *)((char *)c + k->offset);
                for (size_t i = 0; i < *count; i++) {
                        free(t[i].name);
                        free(t[i].policy);
                        for (size_t j = 0; t[i].engines && t[i].engines[j]; j++)
                                free(t[i].engines[j]);
                        free(t[i].engines);
                        if (t[i].plain) {
                                explicit_bzero(t[i].plain, strlen(t[i].plain));
                                free(t[i].plain);
                        }
                        explicit_bzero(&t[i], sizeof(t[i]));
                }
        } else if (k->type == CMS_CFG_ENGINES) {
                struct cms_engine_conf *e = (struct cms_engine_conf *)((char *)c + k->offset);
                for (size_t i = 0; i < *count; i++) {
                        free(e[i].name);
                        free(e[i].url);
                        free(e[i].tls_ca);
                        free(e[i].tls_cert);
                        free(e[i].tls_key);
                        memset(&e[i], 0, sizeof(e[i]));
                }
        } else if (k->type == CMS_CFG_POLICIES) {
                struct cms_policy ***v = (struct cms_policy ***)((char *)c + k->offset);
                for (size_t i = 0; *v && i < *count; i++)
                        cms_policy_free((*v)[i]);
                free(*v);
                *v = NULL;
        }
        *count = 0;
}

int cms_cfg_list_add(struct cms_cfg_ctx *x, const struct cms_cfg_key *k, const char *text,
                     const char *errkey, int line)
{
        size_t *count = (size_t *)((char *)x->c + k->count_offset);
        char msg[160];
        if (*count >= (size_t)k->max)
                return cms_cfg_fail(x, line, errkey, "too many entries (at most %" PRId64 ")",
                                    k->max);
        if (!*text || strlen(text) > MAX_STRING)
                return cms_cfg_fail(x, line, errkey, "expected a non-empty string");
        if (k->check && k->check(text, msg, sizeof(msg)) < 0)
                return cms_cfg_fail(x, line, errkey, "invalid value '%.64s': %s", text, msg);
        char **items = k->type == CMS_CFG_LISTEN_LIST ? (char **)((char *)x->c + k->offset)
                                                      : *(char ***)((char *)x->c + k->offset);
        for (size_t i = 0; i < *count; i++)
                if (!strcmp(items[i], text))
                        return cms_cfg_fail(x, line, errkey, "'%.64s' is listed twice", text);
        if (k->type == CMS_CFG_STRING_LIST) {
                items = realloc(items, (*count + 2) * sizeof(char *));
                if (!items)
                        return fail_oom(x, errkey);
                *(char ***)((char *)x->c + k->offset) = items;
                items[*count + 1] = NULL;
        }
        if (!(items[*count] = strdup(text)))
                return fail_oom(x, errkey);
        (*count)++;
        return 0;
}

const char *cms_cfg_kind_name(const struct cms_cfg_node *v)
{
        return v->kind == YAML_SEQUENCE_NODE  ? "a list"
               : v->kind == YAML_MAPPING_NODE ? "a mapping"
                                              : "a scalar";
}

bool cms_cfg_is_null(const struct cms_cfg_node *v)
{
        return v->kind == YAML_SCALAR_NODE && v->null;
}

bool cms_cfg_name_ok(const char *s)
{
        size_t l = strlen(s);
        if (l == 0 || l > CMS_CFG_MAX_NAME)
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && !strchr("._@-", *s))
                        return false;
        return true;
}
