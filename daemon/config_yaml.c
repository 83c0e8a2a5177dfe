/* The config file: libyaml events -> a small tree that keeps line numbers -> the key table.
 * Building our own tree (rather than libyaml's document API) lets us cap depth and node count
 * while parsing and refuse aliases before they can expand. */
#include "config_internal.h"

#include <ctype.h>
#include <yaml.h>

#define MAX_NODES      65536
#define MAX_TOKEN_LEN  4096


struct ytree {
        struct cms_cfg_node *root;
        struct cms_cfg_node *stack[CMS_CFG_MAX_DEPTH];
        int depth;
        size_t count;
        int docs;
        bool done;
};

static void ynode_free(struct cms_cfg_node *nd)
{
        if (!nd)
                return;
        for (size_t i = 0; i < nd->n; i++)
                ynode_free(nd->kids[i]);
        free(nd->kids);
        if (nd->value) {
                /* scalars may be tokens in clear */
                explicit_bzero(nd->value, strlen(nd->value));
                free(nd->value);
        }
        free(nd);
}


static int oom(struct cms_cfg_ctx *x)
{
        cms_cfg_fail(x, 0, NULL, "out of memory");
        return -ENOMEM;
}

/* Hangs nd under the open collection (or makes it the root); consumes nd. */
static int ytree_add(struct cms_cfg_ctx *x, struct ytree *t, struct cms_cfg_node *nd)
{
        if (++t->count > MAX_NODES) {
                int line = nd->line;
                ynode_free(nd);
                return cms_cfg_fail(x, line, NULL, "more than %d YAML nodes", MAX_NODES);
        }
        if (t->depth == 0) {
                ynode_free(t->root);
                t->root = nd;
                return 0;
        }
        struct cms_cfg_node *p = t->stack[t->depth - 1];
        if (p->n == p->cap) {
                size_t ncap = p->cap ? 2 * p->cap : 8;
                struct cms_cfg_node **k = realloc(p->kids, ncap * sizeof(*k));
                if (!k) {
                        ynode_free(nd);
                        return oom(x);
                }
                p->kids = k;
                p->cap = ncap;
        }
        p->kids[p->n++] = nd;
        return 0;
}

static int on_scalar(struct cms_cfg_ctx *x, struct ytree *t, const yaml_event_t *ev, int line)
{
        const char *v = (const char *)ev->data.scalar.value;
        size_t len = ev->data.scalar.length;
        if (memchr(v, 0, len))
                return cms_cfg_fail(x, line, NULL, "NUL byte in a value");
        struct cms_cfg_node *nd = calloc(1, sizeof(*nd));
        if (!nd || !(nd->value = strndup(v, len))) {
                free(nd);
                return oom(x);
        }
        nd->kind = YAML_SCALAR_NODE;
        nd->line = line;
        nd->null = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                   (!len || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
                    !strcmp(v, "NULL"));
        return ytree_add(x, t, nd);
}

static int on_event(struct cms_cfg_ctx *x, struct ytree *t, const yaml_event_t *ev)
{
        int line = (int)ev->start_mark.line + 1;
        switch (ev->type) {
        case YAML_STREAM_END_EVENT:
                t->done = true;
                return 0;
        case YAML_DOCUMENT_START_EVENT:
                if (++t->docs > 1)
                        return cms_cfg_fail(x, line, NULL, "only one YAML document is allowed");
                return 0;
        case YAML_ALIAS_EVENT:
                return cms_cfg_fail(x, line, NULL, "YAML aliases (*%.64s) are not supported",
                                    (const char *)ev->data.alias.anchor);
        case YAML_SCALAR_EVENT:
                return on_scalar(x, t, ev, line);
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
                if (t->depth >= CMS_CFG_MAX_DEPTH)
                        return cms_cfg_fail(x, line, NULL, "nested more than %d levels deep",
                                            CMS_CFG_MAX_DEPTH);
                struct cms_cfg_node *nd = calloc(1, sizeof(*nd));
                if (!nd)
                        return oom(x);
                nd->kind =
                    ev->type == YAML_MAPPING_START_EVENT ? YAML_MAPPING_NODE : YAML_SEQUENCE_NODE;
                nd->line = line;
                int r = ytree_add(x, t, nd);
                if (r == 0)
                        t->stack[t->depth++] = nd;
                return r;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
                t->depth--;
                return 0;
        default:
                return 0;
        }
}

static int syntax_error(struct cms_cfg_ctx *x, const yaml_parser_t *p, const char *yaml, size_t len)
{
        int line = (int)p->problem_mark.line + 1;
        if (p->error == YAML_MEMORY_ERROR)
                return oom(x);
        if (p->error == YAML_READER_ERROR) {
                line = 1;
                for (size_t i = 0; i < len && i < p->problem_offset; i++)
                        line += yaml[i] == '\n';
        }
        const char *problem = p->problem ? p->problem : "syntax error";
        if (p->context)
                return cms_cfg_fail(x, line, NULL, "invalid YAML: %s %s (line %d)", problem,
                                    p->context, (int)p->context_mark.line + 1);
        return cms_cfg_fail(x, line, NULL, "invalid YAML: %s", problem);
}

static int build_tree(struct cms_cfg_ctx *x, const char *yaml, size_t len, struct ytree *t)
{
        yaml_parser_t p;
        int r = 0;
        if (!yaml_parser_initialize(&p))
                return oom(x);
        yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
        while (r == 0 && !t->done) {
                yaml_event_t ev;
                if (!yaml_parser_parse(&p, &ev)) {
                        r = syntax_error(x, &p, yaml, len);
                        break;
                }
                r = on_event(x, t, &ev);
                yaml_event_delete(&ev);
        }
        yaml_parser_delete(&p);
        return r;
}

static size_t edit_distance(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b), row[128];
        if (la >= ELEMENTSOF(row) || lb >= ELEMENTSOF(row))
                return SIZE_MAX;
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t diag = row[0];
                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
                        if (up + 1 < best)
                                best = up + 1;
                        if (row[j - 1] + 1 < best)
                                best = row[j - 1] + 1;
                        row[j] = best;
                        diag = up;
                }
        }
        return row[lb];
}

static int unknown_key(struct cms_cfg_ctx *x, int line, const char *path)
{
        const char *best = NULL;
        size_t best_d = 3; /* suggest only near misses */
        for (size_t i = 0; i < cms_cfg_n_keys; i++) {
                size_t d = edit_distance(path, cms_cfg_keys[i].key);
                if (d < best_d) {
                        best_d = d;
                        best = cms_cfg_keys[i].key;
                }
        }
        if (best)
                return cms_cfg_fail(x, line, path, "unknown key (did you mean %s?)", best);
        return cms_cfg_fail(x, line, path, "unknown key");
}

/* Checks the i-th key of map (a string, not seen before in it) and builds its dotted path. */
static int map_key(struct cms_cfg_ctx *x, const struct cms_cfg_node *map, size_t i, const char *prefix,
                   char *path, size_t n)
{
        const struct cms_cfg_node *k = map->kids[i];
        if (k->kind != YAML_SCALAR_NODE)
                return cms_cfg_fail(x, k->line, prefix, "keys must be strings, got %s",
                                    cms_cfg_kind_name(k));
        int l = prefix ? snprintf(path, n, "%s.%s", prefix, k->value)
                       : snprintf(path, n, "%s", k->value);
        if (l < 0 || (size_t)l >= n)
                return cms_cfg_fail(x, k->line, NULL, "key '%.64s...' is too long", path);
        for (size_t j = 0; j < i; j += 2)
                if (map->kids[j]->kind == YAML_SCALAR_NODE &&
                    !strcmp(map->kids[j]->value, k->value))
                        return cms_cfg_fail(x, k->line, path, "duplicate key (first at line %d)",
                                            map->kids[j]->line);
        return 0;
}

static int apply_list(struct cms_cfg_ctx *x, const struct cms_cfg_key *e, const struct cms_cfg_node *v,
                      const char *path)
{
        if (v->kind == YAML_MAPPING_NODE)
                return cms_cfg_fail(x, v->line, path, "expected %s, got a mapping",
                                    cms_cfg_expected(e->type));
        cms_cfg_list_clear(x->c, e);
        if (v->kind == YAML_SCALAR_NODE) /* a lone value is a list of one */
                return cms_cfg_list_add(x, e, v->value, path, v->line);
        for (size_t i = 0; i < v->n; i++) {
                const struct cms_cfg_node *it = v->kids[i];
                char key[160];
                snprintf(key, sizeof(key), "%s[%zu]", path, i);
                if (it->kind != YAML_SCALAR_NODE || it->null)
                        return cms_cfg_fail(x, it->line, key, "expected a string, got %s",
                                            it->null ? "null" : cms_cfg_kind_name(it));
                int r = cms_cfg_list_add(x, e, it->value, key, it->line);
                if (r < 0)
                        return r;
        }
        return 0;
}


static int hex_digest(const char *s, unsigned char out[CMS_SHA256_LEN])
{
        if (strlen(s) != 2 * CMS_SHA256_LEN)
                return -EINVAL;
        for (size_t i = 0; i < CMS_SHA256_LEN; i++) {
                unsigned v = 0;
                for (size_t j = 0; j < 2; j++) {
                        int c = tolower((unsigned char)s[2 * i + j]);
                        if (!isxdigit(c))
                                return -EINVAL;
                        v = v * 16 + (unsigned)(isdigit(c) ? c - '0' : c - 'a' + 10);
                }
                out[i] = (unsigned char)v;
        }
        return 0;
}

enum { TF_NAME, TF_ROLE, TF_TOKEN, TF_SHA256, TF_POLICY, TF_CERT, TF_ENGINES, TF_COUNT };
static const char *const token_fields[TF_COUNT] = {
    "name", "role", "token", "sha256", "policy", "client_cert_sha256", "engines"};

/* Picks out the fields of one token mapping, refusing unknown, repeated or non-scalar ones. */
static int token_fields_get(struct cms_cfg_ctx *x, const struct cms_cfg_node *item, const char *key,
                            const struct cms_cfg_node *f[TF_COUNT])
{
        char fk[200];
        for (size_t i = 0; i + 1 < item->n; i += 2) {
                const struct cms_cfg_node *k = item->kids[i], *v = item->kids[i + 1];
                size_t j = 0;
                if (k->kind != YAML_SCALAR_NODE)
                        return cms_cfg_fail(x, k->line, key, "keys must be strings");
                while (j < TF_COUNT && strcmp(k->value, token_fields[j]))
                        j++;
                snprintf(fk, sizeof(fk), "%s.%.64s", key, k->value);
                if (j == TF_COUNT)
                        return cms_cfg_fail(x, k->line, fk,
                                            "unknown key (expected name, role, token, sha256, "
                                            "policy, client_cert_sha256 or engines)");
                for (size_t p = 0; p < i; p += 2)
                        if (!strcmp(item->kids[p]->value, k->value))
                                return cms_cfg_fail(x, k->line, fk, "duplicate key");
                if (cms_cfg_is_null(v))
                        continue;
                if (v->kind != YAML_SCALAR_NODE && j != TF_ENGINES)
                        return cms_cfg_fail(x, v->line, fk, "expected a string, got %s",
                                            cms_cfg_kind_name(v));
                f[j] = v;
        }
        return 0;
}

static int parse_token(struct cms_cfg_ctx *x, const struct cms_cfg_node *item, size_t idx,
                       struct cms_token *t)
{
        const struct cms_cfg_node *f[TF_COUNT] = {NULL};
        char key[32], fk[64];
        snprintf(key, sizeof(key), "tokens[%zu]", idx);
        if (item->kind != YAML_MAPPING_NODE)
                return cms_cfg_fail(x, item->line, key,
                                    "expected {name, role, token | sha256}, got %s",
                                    cms_cfg_kind_name(item));
        int r = token_fields_get(x, item, key, f);
        if (r < 0)
                return r;
        for (size_t j = TF_NAME; j <= TF_ROLE; j++)
                if (!f[j]) {
                        snprintf(fk, sizeof(fk), "%s.%s", key, token_fields[j]);
                        return cms_cfg_fail(x, item->line, fk, "missing");
                }
        snprintf(fk, sizeof(fk), "%s.name", key);
        if (!cms_cfg_name_ok(f[TF_NAME]->value))
                return cms_cfg_fail(x, f[TF_NAME]->line, fk,
                                    "expected 1 to %d letters, digits or . _ @ -", CMS_CFG_MAX_NAME);
        snprintf(fk, sizeof(fk), "%s.role", key);
        if (cms_role_parse(f[TF_ROLE]->value, &t->role) < 0)
                return cms_cfg_fail(x, f[TF_ROLE]->line, fk,
                                    "invalid role '%.32s': expected viewer, operator or admin",
                                    f[TF_ROLE]->value);
        if ((f[TF_TOKEN] && f[TF_SHA256]) || (!f[TF_TOKEN] && !f[TF_SHA256] && !f[TF_CERT]))
                return cms_cfg_fail(x, item->line, key,
                                    "needs one of token or sha256, or client_cert_sha256");
        if (f[TF_CERT]) {
                snprintf(fk, sizeof(fk), "%s.client_cert_sha256", key);
                if (hex_digest(f[TF_CERT]->value, t->cert_sha256) < 0)
                        return cms_cfg_fail(x, f[TF_CERT]->line, fk,
                                            "expected 64 hex digits (the sha256 of the client "
                                            "certificate's DER form)");
                t->cert_bound = true;
        }
        t->has_secret = f[TF_TOKEN] || f[TF_SHA256];
        if (!t->has_secret) {
                /* No secret: nothing a bearer could match (a random digest stands in). */
                cms_sha256(t->cert_sha256, sizeof(t->cert_sha256), t->digest);
                t->digest[0] ^= 0xa5;
        } else if (f[TF_SHA256]) {
                snprintf(fk, sizeof(fk), "%s.sha256", key);
                if (hex_digest(f[TF_SHA256]->value, t->digest) < 0)
                        return cms_cfg_fail(x, f[TF_SHA256]->line, fk,
                                            "expected 64 hex digits (the sha256 of the token)");
                t->hashed = true;
        } else {
                size_t l = strlen(f[TF_TOKEN]->value);
                snprintf(fk, sizeof(fk), "%s.token", key);
                if (l == 0)
                        return cms_cfg_fail(x, f[TF_TOKEN]->line, fk, "must not be empty");
                if (l > MAX_TOKEN_LEN)
                        return cms_cfg_fail(x, f[TF_TOKEN]->line, fk, "longer than %d bytes",
                                            MAX_TOKEN_LEN);
                if (!(t->plain = strdup(f[TF_TOKEN]->value)))
                        return oom(x);
                /* Plain tokens get a digest too: lookups then compare digests only. */
                cms_sha256(t->plain, l, t->digest);
        }
        if (f[TF_POLICY]) {
                snprintf(fk, sizeof(fk), "%s.policy", key);
                if (!cms_cfg_name_ok(f[TF_POLICY]->value))
                        return cms_cfg_fail(x, f[TF_POLICY]->line, fk,
                                            "expected the name of a policy");
                /* That it names one is checked once policies: has been read (finish). */
                if (!(t->policy = strdup(f[TF_POLICY]->value)))
                        return oom(x);
                t->policy_line = f[TF_POLICY]->line;
        }
        if (f[TF_ENGINES]) {
                snprintf(fk, sizeof(fk), "%s.engines", key);
                if ((r = cms_cfg_parse_token_engines(x, f[TF_ENGINES], fk, t)) < 0)
                        return r;
        }
        if (!(t->name = strdup(f[TF_NAME]->value)))
                return oom(x);
        return 0;
}

static int parse_tokens(struct cms_cfg_ctx *x, const struct cms_cfg_key *e, const struct cms_cfg_node *v)
{
        struct cms_config *c = x->c;
        if (v->kind != YAML_SEQUENCE_NODE)
                return cms_cfg_fail(x, v->line, e->key, "expected %s, got %s",
                                    cms_cfg_expected(e->type), cms_cfg_kind_name(v));
        cms_cfg_list_clear(c, e);
        if (v->n > CMS_MAX_TOKENS)
                return cms_cfg_fail(x, v->line, e->key, "more than %d tokens", CMS_MAX_TOKENS);
        for (size_t i = 0; i < v->n; i++) {
                /* counted before filling so that a half-filled entry is freed on error */
                int r = parse_token(x, v->kids[i], i, &c->tokens[c->n_tokens++]);
                if (r < 0)
                        return r;
        }
        for (size_t j = 1; j < c->n_tokens; j++)
                for (size_t i = 0; i < j; i++) {
                        if (!c->tokens[i].has_secret || !c->tokens[j].has_secret)
                                continue;
                        char key[48];
                        if (!strcmp(c->tokens[i].name, c->tokens[j].name)) {
                                snprintf(key, sizeof(key), "tokens[%zu].name", j);
                                return cms_cfg_fail(x, v->kids[j]->line, key,
                                                    "duplicate token name '%s' (also tokens[%zu])",
                                                    c->tokens[j].name, i);
                        }
                        if (!memcmp(c->tokens[i].digest, c->tokens[j].digest, CMS_SHA256_LEN)) {
                                snprintf(key, sizeof(key), "tokens[%zu]", j);
                                return cms_cfg_fail(x, v->kids[j]->line, key,
                                                    "same secret as tokens[%zu]", i);
                        }
                }
        return 0;
}

static int apply(struct cms_cfg_ctx *x, const struct cms_cfg_key *e, const struct cms_cfg_node *v,
                 const char *path)
{
        int r;
        if (cms_cfg_is_null(v)) /* "key:" with no value leaves the key as it was */
                return 0;
        if (e->type == CMS_CFG_TOKENS)
                r = parse_tokens(x, e, v);
        else if (e->type == CMS_CFG_POLICIES)
                r = cms_cfg_parse_policies(x, e, v);
        else if (e->type == CMS_CFG_ENGINES)
                r = cms_cfg_parse_engines(x, e, v);
        else if (e->type == CMS_CFG_STRING_LIST || e->type == CMS_CFG_LISTEN_LIST)
                r = apply_list(x, e, v, path);
        else if (v->kind != YAML_SCALAR_NODE)
                return cms_cfg_fail(x, v->line, path, "expected %s, got %s",
                                    cms_cfg_expected(e->type), cms_cfg_kind_name(v));
        else
                r = cms_cfg_set(x, e, v->value, path, v->line);
        if (r == 0)
                cms_cfg_mark(x, e, v->line);
        return r;
}

static int walk_map(struct cms_cfg_ctx *x, const struct cms_cfg_node *map, const char *prefix)
{
        for (size_t i = 0; i + 1 < map->n; i += 2) {
                const struct cms_cfg_node *k = map->kids[i], *v = map->kids[i + 1];
                char path[128];
                int r = map_key(x, map, i, prefix, path, sizeof(path));
                if (r < 0)
                        return r;
                if (strchr(k->value, '.'))
                        return cms_cfg_fail(x, k->line, path,
                                            "unknown key (dotted keys are not read: nest them)");
                const struct cms_cfg_key *e = cms_cfg_key_find(path);
                if (e)
                        r = apply(x, e, v, path);
                else if (*k->value && cms_cfg_is_section(path)) {
                        if (cms_cfg_is_null(v))
                                continue;
                        if (v->kind != YAML_MAPPING_NODE)
                                return cms_cfg_fail(x, v->line, path, "expected a mapping, got %s",
                                                    cms_cfg_kind_name(v));
                        r = walk_map(x, v, path);
                } else
                        return unknown_key(x, k->line, path);
                if (r < 0)
                        return r;
        }
        return 0;
}

int cms_cfg_load_yaml(struct cms_cfg_ctx *x, const char *yaml, size_t len)
{
        struct ytree t = {0};
        if (len > CMS_CFG_MAX_DOC) {
                int r = cms_cfg_fail(x, 0, NULL, "larger than %d bytes", CMS_CFG_MAX_DOC);
                snprintf(x->cerr->file, sizeof(x->cerr->file), "%s", x->file ? x->file : "");
                return r;
        }
        int r = build_tree(x, yaml, len, &t);
        if (r == 0 && t.root && !cms_cfg_is_null(t.root)) {
                if (t.root->kind != YAML_MAPPING_NODE)
                        r = cms_cfg_fail(x, t.root->line, NULL,
                                         "expected a mapping of settings at the top level, got %s",
                                         cms_cfg_kind_name(t.root));
                else
                        r = walk_map(x, t.root, NULL);
        }
        ynode_free(t.root);
        return r;
}
