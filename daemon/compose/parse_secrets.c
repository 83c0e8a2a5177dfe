/* Secrets and configs as Compose applies them without Swarm: the top-level definitions (file,
 * environment, content; external ones need Swarm and are refused) and each service's references
 * (short "name" or long {source, target, uid, gid, mode}). The content of an environment or
 * content definition is known here; a file's is read by projects/ on the daemon's host under the
 * caller's policy. The normalized JSON names where a content comes from, never the content; the
 * config hash covers the content through its sha256, copied into each reference. */
#include "internal.h"

#include <ctype.h>

#define DEFAULT_MODE 0444

static const char *what(bool config)
{
        return config ? "configs" : "secrets";
}

static int set_data(struct cms_compose_filedef *d, char *data, size_t len)
{
        unsigned char sum[CMS_SHA256_LEN];
        cms_sha256(data, len, sum);
        cms_sha256_hex(sum, d->digest);
        d->data = data;
        d->len = len;
        d->resolved = true;
        return 0;
}

/* The definition's source: exactly one of file, environment, content. */
static int def_source(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                      struct cms_compose_filedef *d)
{
        const struct cms_ynode *f = cms_ymap_get(v, "file"), *e = cms_ymap_get(v, "environment"),
                               *t = cms_ymap_get(v, "content"), *x = cms_ymap_get(v, "external");
        bool external = false;
        char sub[320];
        cms_cp_sub(sub, sizeof(sub), "%s.external", path);
        if (x && cms_cp_bool(c, x, sub, &external) < 0)
                return -EINVAL;
        if (external)
                return cms_cp_fail(c, x, sub,
                                   "external secrets and configs need Swarm; give file, "
                                   "environment or content");
        if (!!f + !!e + !!t != 1)
                return cms_cp_fail(c, v, path, "give exactly one of file, environment, content");
        int r;
        if (f) {
                cms_cp_sub(sub, sizeof(sub), "%s.file", path);
                char *file = NULL;
                if ((r = cms_cp_str_req(c, f, sub, &file)) < 0)
                        return r;
                if (file[0] != '/' && c->working_dir) {
                        const char *rest = file;
                        while (cms_str_has_prefix(rest, "./"))
                                rest += 2;
                        size_t wl = strlen(c->working_dir);
                        bool slash = wl && c->working_dir[wl - 1] == '/';
                        d->file =
                            cms_strdup_printf("%s%s%s", c->working_dir, slash ? "" : "/", rest);
                        free(file);
                } else {
                        d->file = file;
                }
                d->from = CMS_COMPOSE_FROM_FILE;
                return d->file ? 0 : cms_cp_oom(c);
        }
        char *data = NULL;
        if (e) {
                cms_cp_sub(sub, sizeof(sub), "%s.environment", path);
                if ((r = cms_cp_str_req(c, e, sub, &d->environment)) < 0)
                        return r;
                d->from = CMS_COMPOSE_FROM_ENVIRONMENT;
                const char *val = cms_compose_env_get(c->env, d->environment);
                if (!val)
                        return cms_cp_fail(c, e, sub, "the variable %.100s is not set",
                                           d->environment);
                data = strdup(val);
        } else {
                cms_cp_sub(sub, sizeof(sub), "%s.content", path);
                if ((r = cms_cp_need(c, t, sub, CMS_Y_SCALAR)) < 0)
                        return r;
                d->from = CMS_COMPOSE_FROM_CONTENT;
                data = strdup(t->null ? "" : t->value);
        }
        return data ? set_data(d, data, strlen(data)) : cms_cp_oom(c);
}

static int def_one(struct cms_cp *c, const struct cms_ynode *k, const struct cms_ynode *v,
                   bool config, struct cms_compose_filedef *d)
{
        static const char *const known[] = {
            "file",   "environment", "content",     "external",        "name",
            "labels", "driver",      "driver_opts", "template_driver", NULL};
        char path[320];
        cms_cp_sub(path, sizeof(path), "%s.%s", what(config), k->value);
        if (!(d->key = strdup(k->value)))
                return cms_cp_oom(c);
        int r = cms_cp_need(c, v, path, CMS_Y_MAP);
        if (r < 0)
                return r;
        cms_cp_check_keys(c, v, path, known, NULL);
        static const char *const swarm[] = {"labels", "driver", "driver_opts", "template_driver"};
        for (size_t i = 0; i < ELEMENTSOF(swarm); i++) {
                const struct cms_ynode *x = cms_ymap_get(v, swarm[i]);
                if (x && !x->null)
                        cms_cp_warn(c, x, path, "%s is a Swarm setting, ignored", swarm[i]);
        }
        const struct cms_ynode *n = cms_ymap_get(v, "name");
        char sub[340];
        cms_cp_sub(sub, sizeof(sub), "%s.name", path);
        if (n && (r = cms_cp_str_req(c, n, sub, &d->name)) < 0)
                return r;
        if (!d->name && !(d->name = cms_strdup_printf("%s_%s", c->project, k->value)))
                return cms_cp_oom(c);
        return def_source(c, v, path, d);
}

static int def_cmp(const void *a, const void *b)
{
        return strcmp(((const struct cms_compose_filedef *)a)->key,
                      ((const struct cms_compose_filedef *)b)->key);
}

int cms_cp_top_files(struct cms_cp *c, const struct cms_ynode *v, bool config,
                     struct cms_compose_project *p)
{
        if (!v || v->null)
                return 0;
        int r = cms_cp_need(c, v, what(config), CMS_Y_MAP);
        if (r < 0)
                return r;
        size_t n = v->n / 2;
        struct cms_compose_filedef *defs = calloc(n ? n : 1, sizeof(*defs));
        if (!defs)
                return cms_cp_oom(c);
        if (config) {
                p->configs = defs;
                p->n_configs = n;
        } else {
                p->secrets = defs;
                p->n_secrets = n;
        }
        for (size_t i = 0; r == 0 && i < n; i++)
                r = def_one(c, v->kids[2 * i], v->kids[2 * i + 1], config, &defs[i]);
        if (r == 0 && n > 1)
                qsort(defs, n, sizeof(*defs), def_cmp);
        return r;
}

/* ---- service references ---- */

static int add_ref(struct cms_cp *c, struct cms_compose_service *s, bool config,
                   struct cms_compose_fileref **out)
{
        struct cms_compose_fileref **v = config ? &s->configs : &s->secrets;
        size_t *n = config ? &s->n_configs : &s->n_secrets;
        struct cms_compose_fileref *nv = realloc(*v, (*n + 1) * sizeof(**v));
        if (!nv)
                return cms_cp_oom(c);
        *v = nv;
        *out = &nv[(*n)++];
        memset(*out, 0, sizeof(**out));
        (*out)->mode = DEFAULT_MODE;
        return 0;
}

static bool all_digits(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (!isdigit((unsigned char)*s))
                        return false;
        return true;
}

/* mode: 0440 and 0o440 are octal (YAML 1.1 and 1.2), 288 decimal. */
static int parse_mode(struct cms_cp *c, const struct cms_ynode *n, const char *path, int *out)
{
        int r = cms_cp_need(c, n, path, CMS_Y_SCALAR);
        if (r < 0)
                return r;
        const char *s = n->value;
        int base = 10;
        if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
                s += 2, base = 8;
        else if (s[0] == '0' && s[1])
                base = 8;
        char *end = NULL;
        errno = 0;
        long v = strtol(s, &end, base);
        if (!*s || errno || *end || v < 0 || v > 07777)
                return cms_cp_fail(c, n, path, "invalid mode '%.32s'", n->value);
        *out = (int)v;
        return 0;
}

static int ref_long(struct cms_cp *c, const struct cms_ynode *e, const char *path,
                    struct cms_compose_fileref *f)
{
        static const char *const known[] = {"source", "target", "uid", "gid", "mode", NULL};
        cms_cp_check_keys(c, e, path, known, NULL);
        char sub[360];
        cms_cp_sub(sub, sizeof(sub), "%s.source", path);
        const struct cms_ynode *x = cms_ymap_get(e, "source");
        if (!x)
                return cms_cp_fail(c, e, path, "source is required");
        int r = cms_cp_str_req(c, x, sub, &f->source);
        if (r == 0 && (x = cms_ymap_get(e, "target"))) {
                cms_cp_sub(sub, sizeof(sub), "%s.target", path);
                r = cms_cp_str(c, x, sub, &f->target);
        }
        const char *ids[] = {"uid", "gid"};
        char **dst[] = {&f->uid, &f->gid};
        for (size_t i = 0; r == 0 && i < 2; i++) {
                if (!(x = cms_ymap_get(e, ids[i])))
                        continue;
                cms_cp_sub(sub, sizeof(sub), "%s.%s", path, ids[i]);
                if ((r = cms_cp_str_req(c, x, sub, dst[i])) == 0 && !all_digits(*dst[i]))
                        r = cms_cp_fail(c, x, sub, "a numeric id is required, not '%.32s'",
                                        *dst[i]);
        }
        if (r == 0 && (x = cms_ymap_get(e, "mode"))) {
                cms_cp_sub(sub, sizeof(sub), "%s.mode", path);
                r = parse_mode(c, x, sub, &f->mode);
        }
        return r;
}

static int ref_entry(struct cms_cp *c, const struct cms_ynode *e, const char *path,
                     struct cms_compose_service *s, bool config)
{
        struct cms_compose_fileref *f = NULL;
        int r = add_ref(c, s, config, &f);
        if (r < 0)
                return r;
        if (e->kind == CMS_Y_MAP)
                return ref_long(c, e, path, f);
        return cms_cp_str_req(c, e, path, &f->source);
}

static int secret_entry(struct cms_cp *c, const struct cms_ynode *e, const char *path,
                        struct cms_compose_service *s)
{
        return ref_entry(c, e, path, s, false);
}

static int config_entry(struct cms_cp *c, const struct cms_ynode *e, const char *path,
                        struct cms_compose_service *s)
{
        return ref_entry(c, e, path, s, true);
}

int cms_cp_service_secrets(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                           struct cms_compose_service *s)
{
        return cms_cp_short_or_long(c, v, path, s, secret_entry, secret_entry);
}

int cms_cp_service_configs(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                           struct cms_compose_service *s)
{
        return cms_cp_short_or_long(c, v, path, s, config_entry, config_entry);
}

static const struct cms_compose_filedef *def_find(const struct cms_compose_project *p, bool config,
                                                  const char *key)
{
        const struct cms_compose_filedef *v = config ? p->configs : p->secrets;
        size_t n = config ? p->n_configs : p->n_secrets;
        for (size_t i = 0; i < n; i++)
                if (!strcmp(v[i].key, key))
                        return &v[i];
        return NULL;
}

static int ref_cmp(const void *a, const void *b)
{
        return strcmp(((const struct cms_compose_fileref *)a)->target,
                      ((const struct cms_compose_fileref *)b)->target);
}

/* Defaults written out, the definitions checked, two references to one target refused. */
static int finish_refs(struct cms_cp *c, const struct cms_compose_project *p,
                       struct cms_compose_service *s, bool config)
{
        struct cms_compose_fileref *v = config ? s->configs : s->secrets;
        size_t n = config ? s->n_configs : s->n_secrets;
        for (size_t i = 0; i < n; i++) {
                struct cms_compose_fileref *f = &v[i];
                const struct cms_compose_filedef *d = def_find(p, config, f->source);
                if (!d)
                        return cms_err(c->err, 400,
                                       "services.%s.%s: service \"%s\" refers to undefined %s "
                                       "\"%.100s\"",
                                       s->name, what(config), s->name, config ? "config" : "secret",
                                       f->source);
                const char *t = f->target ? f->target : f->source;
                char *abs = t[0] == '/'
                                ? strdup(t)
                                : cms_strdup_printf("%s/%s", config ? "" : "/run/secrets", t);
                if (!abs || (!f->uid && !(f->uid = strdup("0"))) ||
                    (!f->gid && !(f->gid = strdup("0"))))
                        return cms_cp_oom(c);
                free(f->target);
                f->target = abs;
                if (d->resolved)
                        memcpy(f->digest, d->digest, sizeof(f->digest));
        }
        if (n > 1)
                qsort(v, n, sizeof(*v), ref_cmp);
        for (size_t i = 1; i < n; i++)
                if (!strcmp(v[i - 1].target, v[i].target))
                        return cms_err(c->err, 400, "services.%s.%s: two entries mount at %.200s",
                                       s->name, what(config), v[i].target);
        return 0;
}

int cms_cp_files_finish(struct cms_cp *c, struct cms_compose_project *p)
{
        int r = 0;
        for (size_t i = 0; r == 0 && i < p->n_services; i++) {
                r = finish_refs(c, p, &p->services[i], false);
                r = r ?: finish_refs(c, p, &p->services[i], true);
        }
        return r;
}

int cms_compose_filedef_resolve(struct cms_compose_project *p, bool config, size_t i, char *data,
                                size_t len)
{
        struct cms_compose_filedef *d = &(config ? p->configs : p->secrets)[i];
        if (d->data) {
                explicit_bzero(d->data, d->len);
                free(d->data);
        }
        set_data(d, data, len);
        for (size_t k = 0; k < p->n_services; k++) {
                struct cms_compose_service *s = &p->services[k];
                struct cms_compose_fileref *v = config ? s->configs : s->secrets;
                size_t n = config ? s->n_configs : s->n_secrets;
                for (size_t j = 0; j < n; j++)
                        if (!strcmp(v[j].source, d->key))
                                memcpy(v[j].digest, d->digest, sizeof(v[j].digest));
        }
        return 0;
}

/* ---- normalized JSON ---- */

static json_object *refs_json(const struct cms_compose_fileref *v, size_t n)
{
        json_object *a = json_object_new_array();
        for (size_t i = 0; a && i < n; i++) {
                json_object *e = json_object_new_object();
                json_object_object_add(e, "source", json_object_new_string(v[i].source));
                json_object_object_add(e, "target", json_object_new_string(v[i].target));
                json_object_object_add(e, "uid", json_object_new_string(v[i].uid));
                json_object_object_add(e, "gid", json_object_new_string(v[i].gid));
                json_object_object_add(e, "mode", json_object_new_int(v[i].mode));
                json_object_array_add(a, e);
        }
        return a;
}

void cms_compose_filerefs_to_json(json_object *o, const struct cms_compose_service *s)
{
        if (s->n_secrets)
                json_object_object_add(o, "secrets", refs_json(s->secrets, s->n_secrets));
        if (s->n_configs)
                json_object_object_add(o, "configs", refs_json(s->configs, s->n_configs));
}

static const char *const from_names[] = {"file", "environment", "content"};

static json_object *defs_json(const struct cms_compose_filedef *v, size_t n)
{
        json_object *o = json_object_new_object();
        for (size_t i = 0; o && i < n; i++) {
                json_object *e = json_object_new_object();
                json_object_object_add(e, "name", json_object_new_string(v[i].name));
                json_object_object_add(e, "from", json_object_new_string(from_names[v[i].from]));
                if (v[i].file)
                        json_object_object_add(e, "file", json_object_new_string(v[i].file));
                if (v[i].environment)
                        json_object_object_add(e, "environment",
                                               json_object_new_string(v[i].environment));
                json_object_object_add(o, v[i].key, e);
        }
        return o;
}

void cms_compose_filedefs_to_json(json_object *o, const struct cms_compose_project *p)
{
        if (p->n_secrets)
                json_object_object_add(o, "secrets", defs_json(p->secrets, p->n_secrets));
        if (p->n_configs)
                json_object_object_add(o, "configs", defs_json(p->configs, p->n_configs));
}

/* The digests of what the service mounts, for the config hash: "secrets:<target>:<sha256>". */
json_object *cms_compose_filerefs_digests(const struct cms_compose_service *s)
{
        json_object *a = json_object_new_array();
        for (int config = 0; a && config < 2; config++) {
                const struct cms_compose_fileref *v = config ? s->configs : s->secrets;
                size_t n = config ? s->n_configs : s->n_secrets;
                for (size_t i = 0; i < n; i++) {
                        char *e =
                            cms_strdup_printf("%s:%s:%s", what(config), v[i].target, v[i].digest);
                        json_object_array_add(a, e ? json_object_new_string(e) : NULL);
                        free(e);
                }
        }
        return a;
}
