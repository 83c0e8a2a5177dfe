/* The engines cmsd drives: `engines:` (a list of {name, url, default, tls: {ca, cert, key}}),
 * the one-entry form `engine:` (named "default"), a token's `engines: [names]`, and the rules
 * that tie them together once every layer is in (config_load.c's finish calls them). */
#include "config_internal.h"

static int oom(struct cms_cfg_ctx *x, const char *key)
{
        cms_cfg_fail(x, 0, key, "out of memory");
        return -ENOMEM;
}

static int scalar(struct cms_cfg_ctx *x, const struct cms_cfg_node *v, const char *key, char **out)
{
        if (v->kind != YAML_SCALAR_NODE || v->null)
                return cms_cfg_fail(x, v->line, key, "expected a string, got %s",
                                    v->null ? "null" : cms_cfg_kind_name(v));
        free(*out);
        return (*out = strdup(v->value)) ? 0 : oom(x, key);
}

/* tls: {ca, cert, key}: absolute paths of PEM files (read when the engine is first used). */
static int parse_tls(struct cms_cfg_ctx *x, const struct cms_cfg_node *v, const char *key,
                     struct cms_engine_conf *e)
{
        if (v->kind != YAML_MAPPING_NODE)
                return cms_cfg_fail(x, v->line, key, "expected {ca, cert, key}, got %s",
                                    cms_cfg_kind_name(v));
        for (size_t i = 0; i + 1 < v->n; i += 2) {
                const struct cms_cfg_node *k = v->kids[i], *val = v->kids[i + 1];
                char fk[160];
                snprintf(fk, sizeof(fk), "%s.%.32s", key,
                         k->kind == YAML_SCALAR_NODE ? k->value : "?");
                char **dst = k->kind != YAML_SCALAR_NODE ? NULL
                             : !strcmp(k->value, "ca")   ? &e->tls_ca
                             : !strcmp(k->value, "cert") ? &e->tls_cert
                             : !strcmp(k->value, "key")  ? &e->tls_key
                                                         : NULL;
                if (!dst)
                        return cms_cfg_fail(x, k->line, fk,
                                            "unknown key (expected ca, cert or key)");
                if (*dst)
                        return cms_cfg_fail(x, k->line, fk, "duplicate key");
                int r = scalar(x, val, fk, dst);
                if (r < 0)
                        return r;
                if ((*dst)[0] != '/')
                        return cms_cfg_fail(x, val->line, fk, "must be an absolute path");
        }
        if (!e->tls_ca || !e->tls_cert != !e->tls_key)
                return cms_cfg_fail(x, v->line, key,
                                    "needs ca, and cert with key for a client certificate");
        return 0;
}

static int parse_field(struct cms_cfg_ctx *x, const struct cms_cfg_node *k,
                       const struct cms_cfg_node *v, const char *fk, struct cms_engine_conf *e)
{
        char msg[160];
        if (!strcmp(k->value, "name")) {
                int r = scalar(x, v, fk, &e->name);
                if (r == 0 && !cms_cfg_name_ok(e->name))
                        return cms_cfg_fail(x, v->line, fk,
                                            "expected 1 to %d letters, digits or . _ @ -",
                                            CMS_CFG_MAX_NAME);
                return r;
        }
        if (!strcmp(k->value, "url")) {
                int r = scalar(x, v, fk, &e->url);
                if (r == 0 && !strcmp(e->url, "auto"))
                        return cms_cfg_fail(x, v->line, fk,
                                            "name the engine: unix:///path or tcp://host:port");
                if (r == 0 && cms_cfg_check_engine(e->url, msg, sizeof(msg)) < 0)
                        return cms_cfg_fail(x, v->line, fk, "%s", msg);
                return r;
        }
        if (!strcmp(k->value, "default")) {
                if (v->kind != YAML_SCALAR_NODE ||
                    (strcmp(v->value, "true") && strcmp(v->value, "false")))
                        return cms_cfg_fail(x, v->line, fk, "expected true or false");
                e->is_default = !strcmp(v->value, "true");
                return 0;
        }
        if (!strcmp(k->value, "tls"))
                return parse_tls(x, v, fk, e);
        return cms_cfg_fail(x, k->line, fk, "unknown key (expected name, url, default or tls)");
}

static int parse_one(struct cms_cfg_ctx *x, const struct cms_cfg_node *item, size_t idx,
                     struct cms_engine_conf *e)
{
        char key[32], fk[96];
        snprintf(key, sizeof(key), "engines[%zu]", idx);
        if (item->kind != YAML_MAPPING_NODE)
                return cms_cfg_fail(x, item->line, key,
                                    "expected {name, url, default, tls}, got %s",
                                    cms_cfg_kind_name(item));
        e->line = item->line;
        for (size_t i = 0; i + 1 < item->n; i += 2) {
                const struct cms_cfg_node *k = item->kids[i];
                if (k->kind != YAML_SCALAR_NODE)
                        return cms_cfg_fail(x, k->line, key, "keys must be strings");
                snprintf(fk, sizeof(fk), "%s.%.32s", key, k->value);
                for (size_t p = 0; p < i; p += 2)
                        if (!strcmp(item->kids[p]->value, k->value))
                                return cms_cfg_fail(x, k->line, fk, "duplicate key");
                int r = parse_field(x, k, item->kids[i + 1], fk, e);
                if (r < 0)
                        return r;
        }
        for (int f = 0; f < 2; f++)
                if (!(f ? e->url : e->name)) {
                        snprintf(fk, sizeof(fk), "%s.%s", key, f ? "url" : "name");
                        return cms_cfg_fail(x, item->line, fk, "missing");
                }
        if ((e->tls_ca || e->tls_cert) && !cms_str_has_prefix(e->url, "tcp://")) {
                snprintf(fk, sizeof(fk), "%s.tls", key);
                return cms_cfg_fail(x, item->line, fk, "only for a tcp:// engine");
        }
        return 0;
}

int cms_cfg_parse_engines(struct cms_cfg_ctx *x, const struct cms_cfg_key *e,
                          const struct cms_cfg_node *v)
{
        struct cms_config *c = x->c;
        if (v->kind != YAML_SEQUENCE_NODE)
                return cms_cfg_fail(x, v->line, e->key, "expected %s, got %s",
                                    cms_cfg_expected(e->type), cms_cfg_kind_name(v));
        cms_cfg_list_clear(c, e);
        if (v->n == 0)
                return cms_cfg_fail(x, v->line, e->key, "at least one engine is needed");
        if (v->n > CMS_MAX_ENGINES)
                return cms_cfg_fail(x, v->line, e->key, "more than %d engines", CMS_MAX_ENGINES);
        size_t defaults = 0;
        for (size_t i = 0; i < v->n; i++) {
                int r = parse_one(x, v->kids[i], i, &c->engines[c->n_engines++]);
                if (r < 0)
                        return r;
                defaults += c->engines[i].is_default;
                for (size_t j = 0; j < i; j++)
                        if (!strcmp(c->engines[j].name, c->engines[i].name)) {
                                char key[48];
                                snprintf(key, sizeof(key), "engines[%zu].name", i);
                                return cms_cfg_fail(
                                    x, v->kids[i]->line, key,
                                    "duplicate engine name '%s' (also engines[%zu])",
                                    c->engines[i].name, j);
                        }
        }
        if (defaults > 1)
                return cms_cfg_fail(x, v->line, e->key, "more than one engine has default: true");
        return 0;
}

int cms_cfg_parse_token_engines(struct cms_cfg_ctx *x, const struct cms_cfg_node *v,
                                const char *key, struct cms_token *t)
{
        const struct cms_cfg_node *one = v->kind == YAML_SCALAR_NODE ? v : NULL;
        if (v->kind == YAML_MAPPING_NODE)
                return cms_cfg_fail(x, v->line, key, "expected a list of engine names");
        size_t n = one ? 1 : v->n;
        if (n == 0)
                return cms_cfg_fail(x, v->line, key,
                                    "an empty list would allow no engine: leave the key out");
        if (n > CMS_MAX_ENGINES)
                return cms_cfg_fail(x, v->line, key, "more than %d engines", CMS_MAX_ENGINES);
        if (!(t->engines = calloc(n + 1, sizeof(char *))))
                return oom(x, key);
        t->engines_line = v->line;
        for (size_t i = 0; i < n; i++) {
                const struct cms_cfg_node *it = one ? one : v->kids[i];
                if (it->kind != YAML_SCALAR_NODE || !cms_cfg_name_ok(it->value))
                        return cms_cfg_fail(x, it->line, key, "expected the name of an engine");
                if (!(t->engines[i] = strdup(it->value)))
                        return oom(x, key);
        }
        return 0;
}

/* engine: URL alone -> one engine named "default". */
static int from_engine_key(struct cms_cfg_ctx *x, struct cms_config *c)
{
        struct cms_engine_conf *e = &c->engines[0];
        if (!(e->name = strdup("default")) || !(e->url = strdup(c->engine)))
                return oom(x, "engine");
        e->is_default = true;
        c->n_engines = 1;
        return 0;
}

int cms_cfg_check_engines(struct cms_cfg_ctx *x)
{
        struct cms_config *c = x->c;
        size_t ki = (size_t)(cms_cfg_key_find("engine") - cms_cfg_keys);
        size_t ei = (size_t)(cms_cfg_key_find("engines") - cms_cfg_keys);
        if (c->n_engines == 0) {
                int r = from_engine_key(x, c);
                if (r < 0)
                        return r;
        } else if (x->lines[ki] > 0) {
                return cms_cfg_fail(x, x->lines[ki], "engine",
                                    "set engine or engines, not both (engine is the one-engine "
                                    "form; engines line %d)",
                                    x->lines[ei]);
        }
        size_t d = 0;
        while (d < c->n_engines && !c->engines[d].is_default)
                d = d + 1;
        if (d == c->n_engines)
                d = 0;
        c->engines[d].is_default = true;
        if (d) { /* the default first */
                struct cms_engine_conf t = c->engines[d];
                memmove(&c->engines[1], &c->engines[0], d * sizeof(t));
                c->engines[0] = t;
        }
        /* --engine (a flag, set without a file line) names the default engine's URL. */
        if (x->set[ki] && x->lines[ki] == 0 && strcmp(c->engines[0].url, c->engine)) {
                char *u = strdup(c->engine);
                if (!u)
                        return oom(x, "engine");
                free(c->engines[0].url);
                c->engines[0].url = u;
        }
        free(c->engine);
        if (!(c->engine = strdup(c->engines[0].url)))
                return oom(x, "engine");
        for (size_t i = 0; i < c->n_tokens; i++)
                for (size_t j = 0; c->tokens[i].engines && c->tokens[i].engines[j]; j++) {
                        const char *n = c->tokens[i].engines[j];
                        size_t k = 0;
                        while (k < c->n_engines && strcmp(c->engines[k].name, n))
                                k++;
                        if (k < c->n_engines)
                                continue;
                        char key[48];
                        snprintf(key, sizeof(key), "tokens[%zu].engines", i);
                        return cms_cfg_fail(x, c->tokens[i].engines_line, key,
                                            "no engine named '%.64s'", n);
                }
        return 0;
}

bool cms_token_may_use_engine(const struct cms_token *t, const char *engine)
{
        if (!t->engines)
                return true;
        for (size_t j = 0; t->engines[j]; j++)
                if (!strcmp(t->engines[j], engine))
                        return true;
        return false;
}
