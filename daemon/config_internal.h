/* Private to the config module (config.c, config_load.c, config_yaml.c, config_policy.c): the key table and the setters through
 * which defaults, the YAML file, the flags and the environment all pass. Other modules use
 * config.h only. */
#pragma once

#include "config.h"

enum cms_cfg_type {
        CMS_CFG_STRING,
        CMS_CFG_BOOL,
        CMS_CFG_DURATION,    /* int64_t milliseconds */
        CMS_CFG_SIZE,        /* int64_t bytes */
        CMS_CFG_INT,         /* int64_t */
        CMS_CFG_LOG_LEVEL,   /* enum cms_log_level */
        CMS_CFG_STRING_LIST, /* char ** (NULL-terminated) + size_t count */
        CMS_CFG_LISTEN_LIST, /* char *[CMS_MAX_LISTEN] + size_t count */
        CMS_CFG_TOKENS,      /* struct cms_token[CMS_MAX_TOKENS] + size_t count; file only */
        CMS_CFG_POLICIES,    /* struct cms_policy ** + size_t count; file only */
        CMS_CFG_ENGINES,     /* struct cms_engine_conf[CMS_MAX_ENGINES] + size_t count; file only */
};

struct cms_cfg_key {
        const char *key; /* dotted path, e.g. "limits.max_body" */
        enum cms_cfg_type type;
        size_t offset;       /* into struct cms_config */
        size_t count_offset; /* lists and tokens: the size_t element count */
        const char *def;     /* default as text; lists: comma-separated */
        /* numbers: the allowed range (milliseconds for durations); strings: the length range;
         * lists: the element count range */
        int64_t min, max;
        const char *env;  /* environment variable that sets it, or NULL */
        const char *flag; /* command-line flag that sets it, or NULL */
        /* Extra validation of a string or of each list element; fills msg on failure. */
        int (*check)(const char *v, char *msg, size_t n);
};

#define CMS_CFG_MAX_KEYS  32
#define CMS_CFG_MAX_DOC   (1024 * 1024)
#define CMS_CFG_MAX_DEPTH 16

/* One load in progress: where values come from, for error messages and precedence. */
struct cms_cfg_ctx {
        struct cms_config *c;
        struct cms_config_error *cerr;
        const char *file;            /* name for messages while reading the file */
        const char *origin;          /* "--engine", "LOG_LEVEL"... while applying those */
        int lines[CMS_CFG_MAX_KEYS]; /* file line that set key i; 0 when not from the file */
        bool set[CMS_CFG_MAX_KEYS];  /* set by the file or a flag: the environment must not override
                                      */
};

extern const struct cms_cfg_key cms_cfg_keys[];
extern const size_t cms_cfg_n_keys;

const struct cms_cfg_key *cms_cfg_key_find(const char *dotted);
/* True when some key lives under "prefix." (a YAML mapping such as limits:). */
bool cms_cfg_is_section(const char *prefix);
/* Records that k was set at line (0: not from the file). */
void cms_cfg_mark(struct cms_cfg_ctx *x, const struct cms_cfg_key *k, int line);
/* What a value of this type looks like, for "expected ..." messages. */
const char *cms_cfg_expected(enum cms_cfg_type t);

/* Sets k from text (lists: comma-separated, replacing the list; tokens: only "" to clear).
 * errkey names the key in messages ("listen[2]"); line is the file line or 0. */
int cms_cfg_set(struct cms_cfg_ctx *x, const struct cms_cfg_key *k, const char *text,
                const char *errkey, int line);
void cms_cfg_list_clear(struct cms_config *c, const struct cms_cfg_key *k);
int cms_cfg_list_add(struct cms_cfg_ctx *x, const struct cms_cfg_key *k, const char *text,
                     const char *errkey, int line);

/* Fills x->cerr (file only when line > 0) and returns -EINVAL. key may be NULL. */
int cms_cfg_fail(struct cms_cfg_ctx *x, int line, const char *key, const char *fmt, ...)
    CMS_PRINTF(4, 5);

/* The file's tree (config_yaml.c builds it): line numbers kept, aliases refused. */
#include <yaml.h>
struct cms_cfg_node {
        yaml_node_type_t kind;
        int line;
        bool null;                  /* a plain scalar spelled as YAML null: "", ~, null */
        char *value;                /* scalars */
        struct cms_cfg_node **kids; /* sequences: items; mappings: key, value, key, value... */
        size_t n, cap;
};
const char *cms_cfg_kind_name(const struct cms_cfg_node *v);
bool cms_cfg_is_null(const struct cms_cfg_node *v);
/* Token and policy names: 1 to 64 letters, digits or . _ @ - */
bool cms_cfg_name_ok(const char *s);
#define CMS_CFG_MAX_NAME 64

/* policies: {name: {privileged, host_namespaces, driver_options, cap_add, bind_paths, images,
 * build_paths}} (config_policy.c). */
int cms_cfg_parse_policies(struct cms_cfg_ctx *x, const struct cms_cfg_key *e,
                           const struct cms_cfg_node *v);
/* Every token's policy names a policy (after the whole file was read). */
int cms_cfg_check_token_policies(struct cms_cfg_ctx *x);

/* An engine URL: auto, unix:///path or tcp://host[:port] (msg says what is wrong). */
int cms_cfg_check_engine(const char *v, char *msg, size_t n);
/* engines: [{name, url, default, tls: {ca, cert, key}}] (config_engines.c). */
int cms_cfg_parse_engines(struct cms_cfg_ctx *x, const struct cms_cfg_key *e,
                          const struct cms_cfg_node *v);
/* A token's `engines: [names]` (config_engines.c). */
int cms_cfg_parse_token_engines(struct cms_cfg_ctx *x, const struct cms_cfg_node *v, const char *key,
                                struct cms_token *t);
/* After every layer: the engine list (made from `engine` when `engines:` is absent; a --engine
 * flag sets the default's URL), the default first, and every token's engines named there. */
int cms_cfg_check_engines(struct cms_cfg_ctx *x);

/* Parses a YAML document (at most CMS_CFG_MAX_DOC bytes) into x->c through the table. */
int cms_cfg_load_yaml(struct cms_cfg_ctx *x, const char *yaml, size_t len);
