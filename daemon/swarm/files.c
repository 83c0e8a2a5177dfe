/* A stack's secrets and configs as swarm objects (docker stack deploy's way): one per compose
 * definition a service uses, named as the file says (`name:`, else <stack>_<key>), labelled
 * with the stack and the content's sha256, its bytes those cmsd read under the caller's policy.
 * Swarm secrets and configs cannot change: a definition whose content changed since the stack's
 * last deploy is a 409 before any service is touched. The services reference them by name in
 * their spec (spec.c); their ids are filled in here once the objects exist. */
#include "swarm.h"

static bool used(const struct cms_compose_project *p, const char *key, bool config)
{
        for (size_t i = 0; i < p->n_services; i++) {
                const struct cms_compose_service *s = &p->services[i];
                const struct cms_compose_fileref *refs = config ? s->configs : s->secrets;
                size_t n = config ? s->n_configs : s->n_secrets;
                for (size_t k = 0; k < n; k++)
                        if (!strcmp(refs[k].source, key))
                                return true;
        }
        return false;
}

/* The object of that name, if any (the engine's name filter matches prefixes too). */
static int find(struct cms_manager *m, const char *kind, const char *name, json_object **found,
                struct cms_error *err)
{
        _cleanup_json_ json_object *f = json_object_new_object(), *list = NULL;
        json_object *a = json_object_new_array();
        json_object_array_add(a, json_object_new_string(name));
        json_object_object_add(f, "name", a);
        _cleanup_free_ char *q = cms_url_escape(json_object_to_json_string_ext(f, 0));
        _cleanup_free_ char *path = cms_strdup_printf("/%s?filters=%s", kind, q ? q : "");
        int r = cms_engine_json(m->engine, "GET", path, NULL, &list, err);
        *found = NULL;
        for (size_t i = 0; r == 0 && i < cms_jlen(list); i++) {
                json_object *o = json_object_array_get_idx(list, i);
                const char *n =
                    json_object_get_string(cms_json_get(cms_json_get(o, "Spec"), "Name"));
                if (n && !strcmp(n, name))
                        *found = json_object_get(o);
        }
        return r;
}

static int ensure_one(struct cms_manager *m, const char *stack, const struct cms_compose_filedef *d,
                      bool config, json_object *ids, json_object *warnings, struct cms_error *err)
{
        const char *kind = config ? "configs" : "secrets", *what = config ? "config" : "secret";
        _cleanup_json_ json_object *have = NULL;
        int r = find(m, kind, d->name, &have, err);
        if (r < 0)
                return r;
        if (have) {
                const char *dg = json_object_get_string(cms_json_get(
                    cms_json_get(cms_json_get(have, "Spec"), "Labels"), CMS_STACK_DIGEST_LABEL));
                if (dg && strcmp(dg, d->digest))
                        return cms_err(err, 409,
                                       "%ss.%s: %s %s changed since it was made, and a swarm %s "
                                       "cannot change: remove the stack first, or name it anew",
                                       what, d->key, what, d->name, what);
                if (!dg) {
                        char msg[300];
                        snprintf(msg, sizeof(msg),
                                 "%ss.%s: %s %s was made elsewhere: kept as it is", what, d->key,
                                 what, d->name);
                        cms_compose_warn(warnings, msg);
                }
                json_object_object_add(ids, d->key, json_object_get(cms_json_get(have, "ID")));
                return 0;
        }
        if (!d->resolved)
                return cms_err(err, 400, "%ss.%s: its content is not known", what, d->key);
        _cleanup_free_ char *data = cms_base64_encode(d->data ? d->data : "", d->len);
        _cleanup_json_ json_object *body = json_object_new_object(), *reply = NULL;
        json_object *labels = json_object_new_object();
        if (!data)
                return cms_err(err, 500, "out of memory");
        json_object_object_add(labels, CMS_STACK_LABEL, json_object_new_string(stack));
        json_object_object_add(labels, CMS_STACK_DIGEST_LABEL, json_object_new_string(d->digest));
        json_object_object_add(body, "Name", json_object_new_string(d->name));
        json_object_object_add(body, "Labels", labels);
        json_object_object_add(body, "Data", json_object_new_string(data));
        _cleanup_free_ char *path = cms_strdup_printf("/%s/create", kind);
        if ((r = cms_engine_json(m->engine, "POST", path, body, &reply, err)) < 0)
                return r;
        json_object_object_add(ids, d->key, json_object_get(cms_json_get(reply, "ID")));
        return 0;
}

int cms_stack_files(struct cms_manager *m, const struct cms_compose_project *p, const char *stack,
                    json_object *secret_ids, json_object *config_ids, json_object *warnings,
                    struct cms_error *err)
{
        int r = 0;
        for (size_t i = 0; r == 0 && i < p->n_secrets; i++)
                if (used(p, p->secrets[i].key, false))
                        r = ensure_one(m, stack, &p->secrets[i], false, secret_ids, warnings, err);
        for (size_t i = 0; r == 0 && i < p->n_configs; i++)
                if (used(p, p->configs[i].key, true))
                        r = ensure_one(m, stack, &p->configs[i], true, config_ids, warnings, err);
        return r;
}

/* Each {"File", "SecretName"|"ConfigName", "_key"} of the spec gets its object's id. */
static void fill(json_object *refs, const char *id_key, json_object *ids)
{
        for (size_t i = 0; i < cms_jlen(refs); i++) {
                json_object *o = json_object_array_get_idx(refs, i);
                const char *key = json_object_get_string(cms_json_get(o, "_key"));
                json_object *id = key ? cms_json_get(ids, key) : NULL;
                if (id)
                        json_object_object_add(o, id_key, json_object_get(id));
                json_object_object_del(o, "_key");
        }
}

void cms_stack_fill_ids(json_object *spec, json_object *secret_ids, json_object *config_ids)
{
        json_object *cs = cms_json_get(cms_json_get(spec, "TaskTemplate"), "ContainerSpec");
        fill(cms_json_get(cs, "Secrets"), "SecretID", secret_ids);
        fill(cms_json_get(cs, "Configs"), "ConfigID", config_ids);
}

int cms_stack_remove_files(struct cms_manager *m, const char *stack, json_object *gone_secrets,
                           json_object *gone_configs, struct cms_error *err)
{
        json_object *gone[] = {gone_secrets, gone_configs};
        const char *kinds[] = {"secrets", "configs"};
        _cleanup_free_ char *f = cms_stack_filter("label", stack);
        for (size_t k = 0; k < 2; k++) {
                _cleanup_free_ char *path =
                    cms_strdup_printf("/%s?filters=%s", kinds[k], f ? f : "");
                _cleanup_json_ json_object *list = NULL;
                int r = cms_engine_json(m->engine, "GET", path, NULL, &list, err);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < cms_jlen(list); i++) {
                        json_object *o = json_object_array_get_idx(list, i);
                        _cleanup_free_ char *p = cms_strdup_printf(
                            "/%s/%s", kinds[k], json_object_get_string(cms_json_get(o, "ID")));
                        struct cms_error e = {0};
                        if ((r = cms_engine_json(m->engine, "DELETE", p, NULL, NULL, &e)) < 0 &&
                            e.status != 404) {
                                *err = e;
                                return r;
                        }
                        json_object_array_add(gone[k], json_object_get(cms_json_get(
                                                           cms_json_get(o, "Spec"), "Name")));
                }
        }
        return 0;
}
