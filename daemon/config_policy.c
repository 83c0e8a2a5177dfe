/* The config file's policies: section and the tokens' policy names. Each policy is read into a
 * struct cms_policy (security/policy.h) with its lists already in the form the evaluator
 * compares: capabilities canonical, paths normalized. Whatever is not said is denied, as in the
 * built-in restricted policy. */
#include "config_internal.h"

#include <limits.h>

enum { PK_PRIVILEGED, PK_HOST_NS, PK_DRIVER_OPTS, PK_CAP_ADD, PK_BIND, PK_IMAGES, PK_BUILD, PK_N };
static const char *const policy_keys[PK_N] = {
    "privileged", "host_namespaces", "driver_options", "cap_add",
    "bind_paths", "images",          "build_paths",
};

static int oom(struct cms_cfg_ctx *x, const char *key)
{
        return cms_cfg_fail(x, 0, key, "out of memory");
}

/* One list item, checked and put in the evaluator's form: into out (n bytes). */
static int list_item(struct cms_cfg_ctx *x, int which, const struct cms_cfg_node *it,
                     const char *key, char *out, size_t n)
{
        if (it->kind != YAML_SCALAR_NODE || it->null || !*it->value)
                return cms_cfg_fail(x, it->line, key, "expected a non-empty string, got %s",
                                    it->null ? "null" : cms_cfg_kind_name(it));
        const char *v = it->value;
        if (which == PK_CAP_ADD && !cms_cap_canonical(v, out, n))
                return cms_cfg_fail(x, it->line, key, "unknown capability '%.64s'", v);
        if ((which == PK_BIND || which == PK_BUILD) && !cms_path_normalize(v, out, n))
                return cms_cfg_fail(x, it->line, key, "expected an absolute host path, got '%.64s'",
                                    v);
        if (which == PK_IMAGES) {
                if (strlen(v) >= n || strpbrk(v, " \t\n"))
                        return cms_cfg_fail(x, it->line, key, "not an image pattern: '%.64s'", v);
                snprintf(out, n, "%s", v);
        }
        return 0;
}

static int read_list(struct cms_cfg_ctx *x, int which, const struct cms_cfg_node *v,
                     const char *key, char ***out, size_t *count)
{
        if (v->kind == YAML_MAPPING_NODE || v->kind == YAML_SCALAR_NODE)
                return cms_cfg_fail(x, v->line, key, "expected a list of strings, got %s",
                                    cms_cfg_kind_name(v));
        if (v->n > CMS_POLICY_MAX_LIST)
                return cms_cfg_fail(x, v->line, key, "more than %d entries", CMS_POLICY_MAX_LIST);
        if (!(*out = calloc(v->n + 1, sizeof(char *))))
                return oom(x, key);
        for (size_t i = 0; i < v->n; i++) {
                char item[PATH_MAX], ik[200];
                snprintf(ik, sizeof(ik), "%s[%zu]", key, i);
                int r = list_item(x, which, v->kids[i], ik, item, sizeof(item));
                if (r < 0)
                        return r;
                if (!((*out)[(*count)++] = strdup(item)))
                        return oom(x, ik);
        }
        return 0;
}

static int read_key(struct cms_cfg_ctx *x, struct cms_policy *p, int which,
                    const struct cms_cfg_node *v, const char *key)
{
        bool *flags[] = {&p->privileged, &p->host_namespaces, &p->driver_options};
        if (which <= PK_DRIVER_OPTS) {
                if (v->kind != YAML_SCALAR_NODE || cms_parse_bool(v->value, flags[which]) < 0)
                        return cms_cfg_fail(x, v->line, key, "expected true or false");
                return 0;
        }
        switch (which) {
        case PK_CAP_ADD:
                return read_list(x, which, v, key, &p->cap_add, &p->n_cap_add);
        case PK_BIND:
                return read_list(x, which, v, key, &p->bind_paths, &p->n_bind_paths);
        case PK_IMAGES:
                p->images_any = false;
                return read_list(x, which, v, key, &p->images, &p->n_images);
        default:
                return read_list(x, which, v, key, &p->build_paths, &p->n_build_paths);
        }
}

static int read_policy(struct cms_cfg_ctx *x, const struct cms_cfg_node *k,
                       const struct cms_cfg_node *v, struct cms_policy *p)
{
        char key[128];
        snprintf(key, sizeof(key), "policies.%.64s", k->value);
        if (!cms_cfg_name_ok(k->value))
                return cms_cfg_fail(x, k->line, key,
                                    "a policy name is 1 to %d letters, digits or "
                                    ". _ @ -",
                                    CMS_CFG_MAX_NAME);
        if (!strcmp(k->value, CMS_POLICY_RESTRICTED) || !strcmp(k->value, CMS_POLICY_UNRESTRICTED))
                return cms_cfg_fail(x, k->line, key, "the name of a built-in policy");
        if (!(p->name = strdup(k->value)))
                return oom(x, key);
        p->images_any = true;
        if (cms_cfg_is_null(v))
                return 0;
        if (v->kind != YAML_MAPPING_NODE)
                return cms_cfg_fail(x, v->line, key, "expected a mapping, got %s",
                                    cms_cfg_kind_name(v));
        bool seen[PK_N] = {false};
        for (size_t i = 0; i + 1 < v->n; i += 2) {
                const struct cms_cfg_node *pk = v->kids[i], *pv = v->kids[i + 1];
                char sub[200];
                int which = 0;
                while (which < PK_N &&
                       (pk->kind != YAML_SCALAR_NODE || strcmp(pk->value, policy_keys[which])))
                        which++;
                snprintf(sub, sizeof(sub), "%s.%.64s", key,
                         pk->kind == YAML_SCALAR_NODE ? pk->value : "?");
                if (which == PK_N)
                        return cms_cfg_fail(x, pk->line, sub,
                                            "unknown key (expected privileged, host_namespaces, "
                                            "driver_options, cap_add, bind_paths, images or "
                                            "build_paths)");
                if (seen[which])
                        return cms_cfg_fail(x, pk->line, sub, "duplicate key");
                seen[which] = true;
                if (cms_cfg_is_null(pv))
                        continue;
                int r = read_key(x, p, which, pv, sub);
                if (r < 0)
                        return r;
        }
        return 0;
}

int cms_cfg_parse_policies(struct cms_cfg_ctx *x, const struct cms_cfg_key *e,
                           const struct cms_cfg_node *v)
{
        struct cms_config *c = x->c;
        if (v->kind != YAML_MAPPING_NODE)
                return cms_cfg_fail(x, v->line, e->key, "expected %s, got %s",
                                    cms_cfg_expected(e->type), cms_cfg_kind_name(v));
        cms_cfg_list_clear(c, e);
        size_t n = v->n / 2;
        if (n > (size_t)e->max)
                return cms_cfg_fail(x, v->line, e->key, "more than %" PRId64 " policies", e->max);
        if (!(c->policies = calloc(n + 1, sizeof(*c->policies))))
                return oom(x, e->key);
        for (size_t i = 0; i + 1 < v->n; i += 2) {
                const struct cms_cfg_node *k = v->kids[i];
                if (k->kind != YAML_SCALAR_NODE)
                        return cms_cfg_fail(x, k->line, e->key, "policy names must be strings");
                for (size_t j = 0; j < c->n_policies; j++)
                        if (!strcmp(c->policies[j]->name, k->value))
                                return cms_cfg_fail(x, k->line, e->key, "duplicate policy '%.64s'",
                                                    k->value);
                struct cms_policy *p = calloc(1, sizeof(*p));
                if (!p)
                        return oom(x, e->key);
                c->policies[c->n_policies++] = p; /* freed with the config, also on error */
                int r = read_policy(x, k, v->kids[i + 1], p);
                if (r < 0)
                        return r;
        }
        return 0;
}

const struct cms_policy *cms_config_policy(const struct cms_config *c, const char *name)
{
        if (!name)
                return NULL;
        if (!strcmp(name, CMS_POLICY_RESTRICTED))
                return cms_policy_restricted();
        if (!strcmp(name, CMS_POLICY_UNRESTRICTED))
                return cms_policy_unrestricted();
        for (size_t i = 0; c && i < c->n_policies; i++)
                if (!strcmp(c->policies[i]->name, name))
                        return c->policies[i];
        return NULL;
}

const char *cms_token_policy(const struct cms_token *t)
{
        if (t->policy)
                return t->policy;
        return t->role == CMS_ROLE_ADMIN ? CMS_POLICY_UNRESTRICTED : CMS_POLICY_RESTRICTED;
}

int cms_cfg_check_token_policies(struct cms_cfg_ctx *x)
{
        const struct cms_config *c = x->c;
        for (size_t i = 0; i < c->n_tokens; i++) {
                const struct cms_token *t = &c->tokens[i];
                if (!t->policy || cms_config_policy(c, t->policy))
                        continue;
                char key[48];
                snprintf(key, sizeof(key), "tokens[%zu].policy", i);
                return cms_cfg_fail(x, t->policy_line, key,
                                    "no policy '%.64s' (define it under policies:, or use "
                                    "restricted or unrestricted)",
                                    t->policy);
        }
        return 0;
}
