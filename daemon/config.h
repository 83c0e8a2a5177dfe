/* cmsd's configuration: one table {key, type, offset, default, min, max} drives the YAML file
 * (libyaml), the environment and the flags. Precedence: flags > file > environment > defaults.
 * See API.md "Binaries, flags and configuration". */
#pragma once

#include "log.h"
#include "security/policy.h"
#include "util.h"

enum cms_role { CMS_ROLE_NONE = 0, CMS_ROLE_VIEWER, CMS_ROLE_OPERATOR, CMS_ROLE_ADMIN };
const char *cms_role_name(enum cms_role r);
int cms_role_parse(const char *s, enum cms_role *out);

struct cms_token {
        char *name;
        enum cms_role role;
        char *policy;           /* NULL: the role's default (restricted; unrestricted for admins) */
        int policy_line;
        bool hashed;            /* true: digest holds sha256(token); false: plain holds the token */
        bool has_secret;        /* a bearer secret is configured (token or sha256) */
        unsigned char digest[32];
        /* Bound to a client certificate (the SHA-256 of its DER form): with a secret, the bearer
         * counts only over a TLS connection with that certificate; without one, the certificate
         * alone authenticates. */
        bool cert_bound;
        unsigned char cert_sha256[32];
        char *plain;
        char **engines;         /* engines it may use, NULL-terminated; NULL: every engine */
        int engines_line;
};

/* One engine of `engines:` (or the one `engine:` names, as "default"). */
struct cms_engine_conf {
        char *name;
        char *url;
        char *tls_ca, *tls_cert, *tls_key; /* tcp:// with TLS client certificates; NULL: none */
        bool is_default;
        int line;
};

#define CMS_MAX_LISTEN 16
#define CMS_MAX_TOKENS 256
#define CMS_MAX_ENGINES 16

struct cms_config {
        char *config_path;      /* the file it came from; NULL when none */
        char *listen[CMS_MAX_LISTEN];
        size_t n_listen;
        char *engine;           /* "auto" or an engine URL */
        /* The engines cmsd drives, the default first once loaded: `engines:`, or one entry named
         * "default" made from `engine` (which a --engine flag then sets for the default). */
        struct cms_engine_conf engines[CMS_MAX_ENGINES];
        size_t n_engines;
        struct cms_token tokens[CMS_MAX_TOKENS];
        size_t n_tokens;
        struct cms_policy **policies; /* the file's, beside the built-ins */
        size_t n_policies;
        bool metrics_public;
        char **cors_origins;    /* NULL-terminated */
        size_t n_cors_origins;
        int64_t sampler_interval_ms;
        int64_t sampler_history_ms;
        bool sampler_container_labels;      /* engine labels as container_label_* on /metrics */
        int64_t sampler_max_container_labels;
        int64_t sampler_fs_interval_ms; /* writable layer sizes asked of the engine; 0: never */
        int64_t sampler_fs_timeout_ms;
        char *state_dir;
        int64_t audit_max_size; /* rotate state_dir/audit.log past this */
        int64_t audit_keep;     /* rotated audit files kept */
        enum cms_log_level log_level;
        int64_t max_body;       /* bytes */
        int64_t max_build_context; /* bytes: the streamed body of POST /v1/images/build */
        int64_t max_connections;
        int64_t max_connections_per_ip;
        int64_t max_streams;           /* open streams (follows, events, monitor, progress) */
        int64_t max_streams_per_token;
        int64_t max_stream_duration_ms;
        int64_t request_timeout_ms;
        int64_t header_deadline_ms;    /* a request's headers must be in within this */
        char *tls_cert, *tls_key, *tls_client_ca;
};

/* Where a problem was found, for --check-config and reload refusals. */
struct cms_config_error {
        char file[256];
        int line;               /* 0 when not from the file */
        char key[128];          /* dotted key path, e.g. "limits.max_body" */
        char message[384];
};

/* Parsed command line: what main needs besides the config itself. */
struct cms_cli {
        const char *config_path;        /* --config, else CMSD_CONFIG, else /etc/cmsd/cmsd.yaml */
        bool config_path_given;         /* explicitly named: a missing file is then an error */
        const char *listen[CMS_MAX_LISTEN];
        size_t n_listen;
        const char *engine;
        const char *log_level;
        bool check_config, version, help;
        const char *verify_audit; /* --verify-audit FILE */
};

/* Parses argv. -EINVAL with a message in cerr for an unknown flag or a missing argument. */
int cms_cli_parse(int argc, char **argv, struct cms_cli *cli, struct cms_config_error *cerr);
void cms_cli_usage(FILE *f);

/* Defaults, then the environment, then the file at cli->config_path (a missing default file is
 * fine), then the flags. Any bad key -> -EINVAL with cerr naming the key and its line. */
int cms_config_load(const struct cms_cli *cli, struct cms_config **out, struct cms_config_error *cerr);
/* Parses a YAML document from memory on top of defaults (for tests and reload). name is used in
 * error messages. */
int cms_config_load_string(const char *yaml, size_t len, const char *name, struct cms_config **out,
                           struct cms_config_error *cerr);
void cms_config_free(struct cms_config *c);
/* One-line human form of an error: "file:line: key: message". */
void cms_config_error_format(const struct cms_config_error *e, char *buf, size_t n);

/* A policy by name: the file's or a built-in (restricted, unrestricted); NULL when none. */
const struct cms_policy *cms_config_policy(const struct cms_config *c, const char *name);
/* The name of the policy a token works under. */
const char *cms_token_policy(const struct cms_token *t);

/* Whether a token may use the engine of that name (its `engines:` list, or every engine). */
bool cms_token_may_use_engine(const struct cms_token *t, const char *engine);

/* True while a token of that name is configured (streams of a removed token end). */
bool cms_config_has_token(const struct cms_config *c, const char *name);
/* The token bound to a client certificate with this SHA-256 (DER) that has no bearer secret, or
 * NULL. */
const struct cms_token *cms_config_find_cert_token(const struct cms_config *c,
                                                   const unsigned char sha256[32]);
/* Looks a bearer token up: returns the matching entry or NULL. Constant-time per comparison. */
const struct cms_token *cms_config_find_token(const struct cms_config *c, const char *token);
