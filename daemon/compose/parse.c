/* cms_compose_parse(): the whole document. YAML tree (parse_tree.c) -> interpolation of every
 * value -> top-level keys (name, services, networks, volumes) -> profiles -> defaults that depend
 * on the whole project (the implicit default network, images of build-only services) -> reference
 * checks -> cycle check. Services are read by parse_service*.c and parse_ports.c. */
#include "internal.h"

#include <ctype.h>

static bool key_name_valid(const char *s)
{
        if (!*s || strlen(s) > 200)
                return false;
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
                        return false;
        return true;
}

static int check_reserved_labels(struct cms_cp *c, const struct cms_ynode *n, const char *path,
                                 const struct cms_compose_kvs *labels)
{
        for (size_t i = 0; i < labels->n; i++)
                if (cms_str_has_prefix(labels->v[i].key, "com.docker.compose."))
                        return cms_cp_fail(c, n, path,
                                           "label '%.64s': the com.docker.compose. prefix is "
                                           "reserved",
                                           labels->v[i].key);
        return 0;
}

/* external: true | false | {name: x} (the legacy form). */
static int read_external(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                         bool *external, char **name)
{
        if (v->kind != CMS_Y_MAP)
                return cms_cp_bool(c, v, path, external);
        static const char *const keys[] = {"name", NULL};
        cms_cp_check_keys(c, v, path, keys, NULL);
        *external = true;
        cms_cp_warn(c, v, path, "external.name is deprecated, use name");
        char sub[256];
        cms_cp_sub(sub, sizeof(sub), "%s.name", path);
        return cms_cp_str(c, cms_ymap_get(v, "name"), sub, name);
}

/* The entries an external network/volume may not have: they belong to whoever made it. */
static int external_conflicts(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                              const char *const *keys)
{
        for (size_t i = 0; keys[i]; i++)
                if (cms_ymap_get(v, keys[i]))
                        return cms_cp_fail(c, cms_ymap_get(v, keys[i]), path,
                                           "conflicting parameters \"external\" and \"%s\"",
                                           keys[i]);
        return 0;
}

static int ipam_config(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                       struct cms_compose_network *n)
{
        static const char *const keys[] = {"subnet", "ip_range", "gateway", NULL};
        static const char *const ignored[] = {"aux_addresses", NULL};
        int r = cms_cp_need(c, v, path, CMS_Y_SEQ);
        if (r < 0 || !(n->ipam = calloc(v->n + 1, sizeof(*n->ipam))))
                return r < 0 ? r : cms_cp_oom(c);
        for (size_t i = 0; r == 0 && i < v->n; i++) {
                char sub[256], sub2[300];
                const struct cms_ynode *e = v->kids[i];
                struct cms_compose_ipam_pool *pool = &n->ipam[n->n_ipam++];
                cms_cp_sub(sub, sizeof(sub), "%s[%zu]", path, i);
                if ((r = cms_cp_need(c, e, sub, CMS_Y_MAP)) < 0)
                        break;
                cms_cp_check_keys(c, e, sub, keys, ignored);
                cms_cp_sub(sub2, sizeof(sub2), "%s.subnet", sub);
                r = cms_cp_str(c, cms_ymap_get(e, "subnet"), sub2, &pool->subnet);
                cms_cp_sub(sub2, sizeof(sub2), "%s.ip_range", sub);
                if (r == 0)
                        r = cms_cp_str(c, cms_ymap_get(e, "ip_range"), sub2, &pool->ip_range);
                cms_cp_sub(sub2, sizeof(sub2), "%s.gateway", sub);
                if (r == 0)
                        r = cms_cp_str(c, cms_ymap_get(e, "gateway"), sub2, &pool->gateway);
        }
        return r;
}

/* What networks and volumes share: external, name, driver, driver_opts, labels. */
struct common_body {
        bool *external;
        char **name, **driver;
        struct cms_compose_kvs *driver_opts, *labels;
};

static int read_common(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                       const char *const *conflicts, struct common_body *b)
{
        char sub[256];
        const struct cms_ynode *x;
        int r = 0;
#define SUB(k) (cms_cp_sub(sub, sizeof(sub), "%.200s.%s", path, k), sub)
        if ((x = cms_ymap_get(v, "external")))
                r = read_external(c, x, SUB("external"), b->external, b->name);
        if (r == 0 && *b->external)
                r = external_conflicts(c, v, path, conflicts);
        if (r == 0)
                r = cms_cp_str(c, cms_ymap_get(v, "name"), SUB("name"), b->name);
        if (r == 0)
                r = cms_cp_str(c, cms_ymap_get(v, "driver"), SUB("driver"), b->driver);
        if (r == 0)
                r = cms_cp_kvs(c, cms_ymap_get(v, "driver_opts"), SUB("driver_opts"),
                               b->driver_opts);
        if (r == 0)
                r = cms_cp_kvs(c, cms_ymap_get(v, "labels"), SUB("labels"), b->labels);
        if (r == 0)
                r = check_reserved_labels(c, cms_ymap_get(v, "labels"), SUB("labels"), b->labels);
#undef SUB
        return r;
}

static int network_body(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                        struct cms_compose_network *n)
{
        static const char *const keys[] = {"name",   "external", "driver",     "driver_opts",
                                           "ipam",   "internal", "attachable", "enable_ipv6",
                                           "labels", NULL};
        static const char *const conflicts[] = {"driver",     "driver_opts", "ipam", "internal",
                                                "attachable", "enable_ipv6", NULL};
        char sub[256];
        cms_cp_check_keys(c, v, path, keys, NULL);
        const struct cms_ynode *x;
        struct common_body cb = {&n->external, &n->name, &n->driver, &n->driver_opts, &n->labels};
        int r = read_common(c, v, path, conflicts, &cb);
#define SUB(k) (cms_cp_sub(sub, sizeof(sub), "%.200s.%s", path, k), sub)
        if (r == 0)
                r = cms_cp_bool(c, cms_ymap_get(v, "internal"), SUB("internal"), &n->internal);
        if (r == 0)
                r = cms_cp_bool(c, cms_ymap_get(v, "attachable"), SUB("attachable"),
                                &n->attachable);
        if (r == 0)
                r = cms_cp_bool(c, cms_ymap_get(v, "enable_ipv6"), SUB("enable_ipv6"),
                                &n->enable_ipv6);
        if (r == 0 && (x = cms_ymap_get(v, "ipam")) && !x->null) {
                static const char *const ikeys[] = {"driver", "config", NULL};
                static const char *const iignored[] = {"options", NULL};
                if ((r = cms_cp_need(c, x, SUB("ipam"), CMS_Y_MAP)) < 0)
                        return r;
                cms_cp_check_keys(c, x, sub, ikeys, iignored);
                r = cms_cp_str(c, cms_ymap_get(x, "driver"), SUB("ipam.driver"), &n->ipam_driver);
                if (r == 0 && cms_ymap_get(x, "config"))
                        r = ipam_config(c, cms_ymap_get(x, "config"), SUB("ipam.config"), n);
        }
#undef SUB
        return r;
}

static int volume_body(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                       struct cms_compose_volume *vol)
{
        static const char *const keys[] = {"name",        "external", "driver",
                                           "driver_opts", "labels",   NULL};
        static const char *const conflicts[] = {"driver", "driver_opts", NULL};
        cms_cp_check_keys(c, v, path, keys, NULL);
        struct common_body cb = {&vol->external, &vol->name, &vol->driver, &vol->driver_opts,
                                 &vol->labels};
        return read_common(c, v, path, conflicts, &cb);
}

/* "<project>_<key>" unless named; external ones keep their name or key. */
static char *engine_name(const char *project, const char *key, char **name, bool external)
{
        if (*name)
                return *name;
        *name = external ? strdup(key) : cms_strdup_printf("%s_%s", project, key);
        return *name;
}

static int top_networks(struct cms_cp *c, const struct cms_ynode *v, struct cms_compose_project *p)
{
        if (!v || v->null)
                return 0;
        int r = cms_cp_need(c, v, "networks", CMS_Y_MAP);
        if (r < 0 || !(p->networks = calloc(v->n / 2 + 2, sizeof(*p->networks))))
                return r < 0 ? r : cms_cp_oom(c);
        for (size_t i = 0; i + 1 < v->n; i += 2) {
                const struct cms_ynode *k = v->kids[i], *b = v->kids[i + 1];
                char path[256];
                cms_cp_sub(path, sizeof(path), "networks.%.64s", k->value);
                if (!key_name_valid(k->value))
                        return cms_cp_fail(c, k, path, "invalid network name");
                struct cms_compose_network *n = &p->networks[p->n_networks++];
                if (!(n->key = strdup(k->value)))
                        return cms_cp_oom(c);
                if (!b->null && (r = cms_cp_need(c, b, path, CMS_Y_MAP)) < 0)
                        return r;
                if (!b->null && (r = network_body(c, b, path, n)) < 0)
                        return r;
                if (!engine_name(p->name, n->key, &n->name, n->external))
                        return cms_cp_oom(c);
        }
        return 0;
}

static int top_volumes(struct cms_cp *c, const struct cms_ynode *v, struct cms_compose_project *p)
{
        if (!v || v->null)
                return 0;
        int r = cms_cp_need(c, v, "volumes", CMS_Y_MAP);
        if (r < 0 || !(p->volumes = calloc(v->n / 2 + 1, sizeof(*p->volumes))))
                return r < 0 ? r : cms_cp_oom(c);
        for (size_t i = 0; i + 1 < v->n; i += 2) {
                const struct cms_ynode *k = v->kids[i], *b = v->kids[i + 1];
                char path[256];
                cms_cp_sub(path, sizeof(path), "volumes.%.64s", k->value);
                if (!key_name_valid(k->value))
                        return cms_cp_fail(c, k, path, "invalid volume name");
                struct cms_compose_volume *vol = &p->volumes[p->n_volumes++];
                if (!(vol->key = strdup(k->value)))
                        return cms_cp_oom(c);
                if (!b->null && (r = cms_cp_need(c, b, path, CMS_Y_MAP)) < 0)
                        return r;
                if (!b->null && (r = volume_body(c, b, path, vol)) < 0)
                        return r;
                if (!engine_name(p->name, vol->key, &vol->name, vol->external))
                        return cms_cp_oom(c);
        }
        return 0;
}

/* ---- services, profiles, references ---- */

static bool profile_active(const struct cms_compose_strv *active, const struct cms_compose_strv *p)
{
        if (p->n == 0 || cms_compose_strv_has(active, "*"))
                return true;
        for (size_t i = 0; i < p->n; i++)
                if (cms_compose_strv_has(active, p->v[i]))
                        return true;
        return false;
}

static int active_profiles(struct cms_cp *c, const struct cms_compose_parse_opts *o,
                           struct cms_compose_strv *out)
{
        if (o->profiles) {
                for (size_t i = 0; o->profiles[i]; i++)
                        if (cms_compose_strv_add(out, o->profiles[i]) < 0)
                                return cms_cp_oom(c);
                return 0;
        }
        const char *env = cms_compose_env_get(c->env, "COMPOSE_PROFILES");
        for (const char *p = env; p && *p;) {
                size_t n = strcspn(p, ",");
                while (n && isspace((unsigned char)*p))
                        p++, n--;
                if (n && cms_compose_strv_take(out, strndup(p, n)) < 0)
                        return cms_cp_oom(c);
                p += n + (p[n] == ',');
        }
        return 0;
}

static int network_cmp(const void *a, const void *b)
{
        return strcmp(((const struct cms_compose_network *)a)->key,
                      ((const struct cms_compose_network *)b)->key);
}

static int volume_cmp(const void *a, const void *b)
{
        return strcmp(((const struct cms_compose_volume *)a)->key,
                      ((const struct cms_compose_volume *)b)->key);
}

static int service_cmp(const void *a, const void *b)
{
        return strcmp(((const struct cms_compose_service *)a)->name,
                      ((const struct cms_compose_service *)b)->name);
}

/* Reads every service (disabled ones too: a broken one is an error wherever it is), then keeps
 * the enabled ones; *disabled receives the names of the others. */
static int top_services(struct cms_cp *c, const struct cms_ynode *v,
                        const struct cms_compose_strv *active, struct cms_compose_project *p,
                        struct cms_compose_strv *disabled)
{
        if (!v || v->null || (v->kind == CMS_Y_MAP && v->n == 0))
                return cms_cp_fail(c, v, "services", "at least one service must be defined");
        int r = cms_cp_need(c, v, "services", CMS_Y_MAP);
        if (r < 0)
                return r;
        if (v->n / 2 > CMS_COMPOSE_MAX_SERVICES)
                return cms_cp_fail(c, v, "services", "more than %d services",
                                   CMS_COMPOSE_MAX_SERVICES);
        if (!(p->services = calloc(v->n / 2, sizeof(*p->services))))
                return cms_cp_oom(c);
        for (size_t i = 0; i + 1 < v->n; i += 2) {
                const struct cms_ynode *k = v->kids[i];
                char path[256];
                cms_cp_sub(path, sizeof(path), "services.%.64s", k->value);
                if (!key_name_valid(k->value))
                        return cms_cp_fail(c, k, path,
                                           "invalid service name (allowed: [a-zA-Z0-9._-]+)");
                struct cms_compose_service *s = &p->services[p->n_services++];
                s->line = k->line;
                if (!(s->name = strdup(k->value)))
                        return cms_cp_oom(c);
                if ((r = cms_cp_service(c, v->kids[i + 1], s)) < 0)
                        return r;
                if (profile_active(active, &s->profiles))
                        continue;
                if (cms_compose_strv_add(disabled, s->name) < 0)
                        return cms_cp_oom(c);
                cms_compose_service_done(s);
                p->n_services--;
        }
        if (p->n_services == 0)
                return cms_cp_fail(c, v, "services",
                                   "no service is enabled by the active "
                                   "profiles");
        qsort(p->services, p->n_services, sizeof(*p->services), service_cmp);
        return 0;
}

static int add_default_network(struct cms_cp *c, struct cms_compose_project *p)
{
        if (cms_compose_network_find(p, "default"))
                return 0;
        struct cms_compose_network *nn = realloc(p->networks, (p->n_networks + 1) * sizeof(*nn));
        if (!nn)
                return cms_cp_oom(c);
        p->networks = nn;
        struct cms_compose_network *n = &p->networks[p->n_networks++];
        memset(n, 0, sizeof(*n));
        n->implicit = true;
        if (!(n->key = strdup("default")) || !engine_name(p->name, "default", &n->name, false))
                return cms_cp_oom(c);
        return 0;
}

static int check_service_refs(struct cms_cp *c, struct cms_compose_project *p,
                              struct cms_compose_service *s, const struct cms_compose_strv *dis)
{
        for (size_t i = 0; i < s->n_depends_on; i++) {
                const struct cms_compose_dep *d = &s->depends_on[i];
                if (cms_compose_service_find(p, d->service))
                        continue;
                return cms_err(c->err, 400,
                               "service \"%s\" depends on %s service \"%.64s\" "
                               "(line %d)",
                               s->name,
                               cms_compose_strv_has(dis, d->service) ? "disabled (by profiles)"
                                                                     : "undefined",
                               d->service, d->line);
        }
        for (size_t i = 0; i < s->n_networks; i++) {
                const char *key = s->networks[i].name;
                if (!strcmp(key, "default") && add_default_network(c, p) < 0)
                        return -ENOMEM;
                if (!cms_compose_network_find(p, key))
                        return cms_err(c->err, 400,
                                       "service \"%s\" refers to undefined network \"%.64s\" "
                                       "(line %d)",
                                       s->name, key, s->line);
        }
        for (size_t i = 0; i < s->n_volumes; i++) {
                const struct cms_compose_mount *m = &s->volumes[i];
                if (m->type != CMS_COMPOSE_MOUNT_VOLUME || !m->source ||
                    cms_compose_volume_find(p, m->source))
                        continue;
                return cms_err(c->err, 400,
                               "service \"%s\" refers to undefined volume \"%.64s\" (line %d)",
                               s->name, m->source, s->line);
        }
        return 0;
}

/* Project-wide defaults and checks, once every service is read. */
static int finish_services(struct cms_cp *c, struct cms_compose_project *p,
                           const struct cms_compose_strv *disabled)
{
        for (size_t i = 0; i < p->n_services; i++) {
                struct cms_compose_service *s = &p->services[i];
                if (!s->image && s->build) {
                        s->image = cms_strdup_printf("%s-%s", p->name, s->name);
                        for (char *q = s->image; q && *q; q++)
                                *q = (char)tolower((unsigned char)*q);
                        if (!s->image)
                                return cms_cp_oom(c);
                }
                if (!s->network_mode && s->n_networks == 0) {
                        s->networks = calloc(1, sizeof(*s->networks));
                        if (!s->networks || !(s->networks[0].name = strdup("default")))
                                return cms_cp_oom(c);
                        s->n_networks = 1;
                }
                int r = check_service_refs(c, p, s, disabled);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int project_name(struct cms_cp *c, const struct cms_ynode *root,
                        const struct cms_compose_parse_opts *o, struct cms_compose_project *p)
{
        const struct cms_ynode *n = cms_ymap_get(root, "name");
        int r = 0;
        if (o->name)
                p->name = strdup(o->name);
        else if (n && (r = cms_cp_str(c, n, "name", &p->name)) < 0)
                return r;
        if ((o->name && !p->name) || (o->working_dir && !(p->working_dir = strdup(o->working_dir))))
                return cms_cp_oom(c);
        if (!p->name || !*p->name)
                return cms_err(c->err, 400,
                               "a project name is required (give \"name\" in the "
                               "request or at the top of the compose file)");
        if (!cms_compose_project_name_valid(p->name))
                return cms_cp_fail(c, o->name ? NULL : n, "name",
                                   "invalid project name '%.64s': it must contain only lowercase "
                                   "letters, digits, dashes and underscores, start with a letter "
                                   "or digit, and be at most 63 characters",
                                   p->name);
        return 0;
}

/* The bytes of every scalar under n as the model will hold them, a node shared through an alias
 * counted each time it is used: aliases, merges, includes and extends can make a small file
 * expand to a huge model. Visits at most CMS_COMPOSE_MAX_NODES nodes (the expanded size is
 * capped before this), stops early past the cap. */
static size_t expanded_bytes(const struct cms_ynode *n, size_t sum)
{
        if (n->kind == CMS_Y_SCALAR)
                return sum + (n->value ? strlen(n->value) : 0) + 1;
        for (size_t i = 0; i < n->n && sum <= CMS_COMPOSE_MAX_MODEL; i++)
                sum = expanded_bytes(n->kids[i], sum);
        return sum;
}

static int top_level(struct cms_cp *c, const struct cms_ynode *root,
                     const struct cms_compose_parse_opts *o, struct cms_compose_project *p)
{
        static const char *const keys[] = {"version", "name",    "services", "networks", "volumes",
                                           "configs", "secrets", "include",  NULL};
        cms_cp_check_keys(c, root, "", keys, NULL);
        const struct cms_ynode *x;
        if ((x = cms_ymap_get(root, "version")))
                cms_cp_warn(c, x, "version", "the attribute is obsolete, it was ignored");
        int r = project_name(c, root, o, p);
        c->project = p->name;
        if (r == 0)
                r = cms_cp_top_files(c, cms_ymap_get(root, "secrets"), false, p);
        if (r == 0)
                r = cms_cp_top_files(c, cms_ymap_get(root, "configs"), true, p);
        if (r == 0)
                r = top_networks(c, cms_ymap_get(root, "networks"), p);
        if (r == 0)
                r = top_volumes(c, cms_ymap_get(root, "volumes"), p);
        return r;
}

/* Every file parsed and interpolated on its own (a variable's warning or error names its file),
 * then merged in order; one file goes through the merge too, which only takes !reset keys out. */
static int load_files(struct cms_cp *c, const char *yaml, size_t len,
                      const struct cms_compose_parse_opts *o, struct cms_ynode **out)
{
        size_t n = 0;
        while (o->overrides && o->overrides[n])
                n++;
        if (n + 1 > CMS_COMPOSE_MAX_FILES)
                return cms_err(c->err, 400, "invalid compose files: more than %d files",
                               CMS_COMPOSE_MAX_FILES);
        struct cms_ynode *merged = NULL;
        int r = 0;
        for (size_t i = 0; r == 0 && i <= n; i++) {
                const char *text = i ? o->overrides[i - 1] : yaml;
                struct cms_ynode *root = NULL, *next = NULL;
                r = cms_ytree_parse_file(text, i ? strlen(text) : len, n ? (int)i + 1 : 0, &root,
                                         c->err);
                if (r == 0 && (!root || root->kind != CMS_Y_MAP))
                        r = n ? cms_err(c->err, 400,
                                        "invalid compose file %zu: the document must be a mapping",
                                        i + 1)
                              : cms_err(c->err, 400,
                                        "invalid compose file: the document must be a mapping "
                                        "with a \"services\" key");
                r = r ?: cms_cp_interpolate_tree(c, root, "");
                r = r ?: cms_ytree_merge(merged, root, &next, c->err);
                cms_ynode_unref(root);
                if (r == 0) {
                        cms_ynode_unref(merged);
                        merged = next;
                }
        }
        if (r < 0) {
                cms_ynode_unref(merged);
                return r;
        }
        *out = merged;
        return 0;
}

int cms_compose_parse(const char *yaml, size_t len, const struct cms_compose_parse_opts *opts,
                      struct cms_compose_project **out, json_object *warnings,
                      struct cms_error *err)
{
        static const struct cms_compose_parse_opts none = {0};
        const struct cms_compose_parse_opts *o = opts ? opts : &none;
        struct cms_ynode *root = NULL;
        struct cms_compose_env *env = NULL;
        struct cms_compose_strv active = {0}, disabled = {0};
        struct cms_compose_project *p = calloc(1, sizeof(*p));
        struct cms_cp c = {
            .err = err, .warnings = warnings, .working_dir = o->working_dir, .swarm = o->swarm};
        *out = NULL;
        int r = p ? cms_compose_env_new(o->env, o->dotenv, &env, warnings, err)
                  : cms_err(err, 500, "out of memory");
        c.env = env;
        if (r == 0)
                r = load_files(&c, yaml, len, o, &root);
        if (r == 0)
                r = cms_cp_include(&c, o, root);
        if (r == 0)
                r = cms_cp_extends(&c, o, root);
        if (r == 0 && expanded_bytes(root, 0) > CMS_COMPOSE_MAX_MODEL)
                r = cms_err(err, 400,
                            "invalid compose file: it expands to more than %d MiB once aliases, "
                            "includes and extends are applied",
                            CMS_COMPOSE_MAX_MODEL >> 20);
        if (r == 0)
                r = top_level(&c, root, o, p);
        c.project = p ? p->name : NULL;
        if (r == 0)
                r = active_profiles(&c, o, &active);
        if (r == 0)
                r = top_services(&c, cms_ymap_get(root, "services"), &active, p, &disabled);
        if (r == 0)
                r = finish_services(&c, p, &disabled);
        if (r == 0)
                r = cms_cp_files_finish(&c, p);
        if (r == 0) {
                if (p->n_networks > 1)
                        qsort(p->networks, p->n_networks, sizeof(*p->networks), network_cmp);
                if (p->n_volumes > 1)
                        qsort(p->volumes, p->n_volumes, sizeof(*p->volumes), volume_cmp);
                struct cms_compose_plan *plan = NULL;
                r = cms_compose_plan_new(p, &plan, err);
                cms_compose_plan_free(plan);
        }
        cms_ynode_unref(root);
        cms_compose_env_free(env);
        cms_compose_strv_done(&active);
        cms_compose_strv_done(&disabled);
        if (r < 0) {
                cms_compose_project_free(p);
                return r;
        }
        *out = p;
        return 0;
}
