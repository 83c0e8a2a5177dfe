/* `up` for a compose project: networks and volumes first, then the services level by level
 * (the services of one level in parallel), each after its dependencies' conditions hold; what
 * the config-hash diff says is done per container: create, recreate, start, keep or remove.
 * Every service's containers are translated and validated before the engine is touched, so a
 * bad service is a 400 with nothing created. */
#include <sys/stat.h>

#include "projects_internal.h"

/* ---- networks and volumes ---- */

static void add_entry(json_object *arr, const char *key, const char *name, const char *action)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "key", json_object_new_string(key));
        json_object_object_add(o, "name", json_object_new_string(name));
        json_object_object_add(o, "action", json_object_new_string(action));
        json_object_array_add(arr, o);
}

static void warn(json_object *warnings, const char *fmt, ...) CMS_PRINTF(2, 3);
static void warn(json_object *warnings, const char *fmt, ...)
{
        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        for (size_t i = 0; i < cms_jlen(warnings); i++)
                if (!strcmp(json_object_get_string(json_object_array_get_idx(warnings, i)), buf))
                        return;
        json_object_array_add(warnings, json_object_new_string(buf));
}

/* 1: exists, 0: not found. */
static int exists(struct cms_manager *m, bool network, const char *name, struct cms_error *err)
{
        _cleanup_json_ json_object *o = NULL;
        struct cms_error e = {0};
        int r = network ? cms_networks_inspect(m, name, &o, &e) : cms_volumes_inspect(m, name, &o, &e);
        if (r == 0)
                return 1;
        if (e.status == 404)
                return 0;
        if (err)
                *err = e;
        return r;
}

static int ensure_network(struct cms_manager *m, const struct cms_compose_project *p,
                          const struct cms_compose_network *n, json_object *reply,
                          struct cms_error *err)
{
        json_object *warnings = cms_json_get(reply, "warnings");
        int r = exists(m, true, n->name, err);
        if (r < 0)
                return r;
        if (n->external) {
                if (!r)
                        return cms_err(err, 404, "external network %s not found", n->name);
                add_entry(cms_json_get(reply, "networks"), n->key, n->name, "external");
                return 0;
        }
        if (r) {
                add_entry(cms_json_get(reply, "networks"), n->key, n->name, "kept");
                return 0;
        }
        _cleanup_json_ json_object *body = json_object_new_object(), *made = NULL;
        json_object_object_add(body, "name", json_object_new_string(n->name));
        if (n->driver)
                json_object_object_add(body, "driver", json_object_new_string(n->driver));
        if (n->internal)
                json_object_object_add(body, "internal", json_object_new_boolean(true));
        if (n->n_ipam > 0) {
                const struct cms_compose_ipam_pool *pool = &n->ipam[0];
                if (pool->subnet)
                        json_object_object_add(body, "subnet", json_object_new_string(pool->subnet));
                if (pool->gateway)
                        json_object_object_add(body, "gateway", json_object_new_string(pool->gateway));
                if (pool->ip_range)
                        json_object_object_add(body, "ip_range", json_object_new_string(pool->ip_range));
                if (n->n_ipam > 1)
                        warn(warnings, "networks.%s: only the first ipam pool is used", n->key);
        }
        if (n->ipam_driver && strcmp(n->ipam_driver, "default"))
                warn(warnings, "networks.%s: ipam driver %s ignored", n->key, n->ipam_driver);
        if (n->attachable || n->enable_ipv6)
                warn(warnings, "networks.%s: attachable and enable_ipv6 are ignored", n->key);
        if (n->driver_opts.n) {
                json_object *o = json_object_new_object();
                for (size_t i = 0; i < n->driver_opts.n; i++)
                        json_object_object_add(o, n->driver_opts.v[i].key,
                                               json_object_new_string(n->driver_opts.v[i].value
                                                                          ? n->driver_opts.v[i].value
                                                                          : ""));
                json_object_object_add(body, "options", o);
        }
        json_object_object_add(body, "labels", cms_compose_network_labels(p, n));
        if ((r = cms_networks_create(m, body, &made, err)) < 0) {
                cms_project_prefix_error(err, "networks.", n->key);
                return r;
        }
        add_entry(cms_json_get(reply, "networks"), n->key, n->name, "created");
        return 0;
}

static int ensure_volume(struct cms_manager *m, const struct cms_compose_project *p,
                         const struct cms_compose_volume *v, json_object *reply,
                         struct cms_error *err)
{
        int r = exists(m, false, v->name, err);
        if (r < 0)
                return r;
        if (v->external) {
                if (!r)
                        return cms_err(err, 404, "external volume %s not found", v->name);
                add_entry(cms_json_get(reply, "volumes"), v->key, v->name, "external");
                return 0;
        }
        if (r) {
                add_entry(cms_json_get(reply, "volumes"), v->key, v->name, "kept");
                return 0;
        }
        _cleanup_json_ json_object *body = json_object_new_object(), *made = NULL;
        json_object_object_add(body, "name", json_object_new_string(v->name));
        if (v->driver)
                json_object_object_add(body, "driver", json_object_new_string(v->driver));
        if (v->driver_opts.n) {
                json_object *o = json_object_new_object();
                for (size_t i = 0; i < v->driver_opts.n; i++)
                        json_object_object_add(o, v->driver_opts.v[i].key,
                                               json_object_new_string(v->driver_opts.v[i].value
                                                                          ? v->driver_opts.v[i].value
                                                                          : ""));
                json_object_object_add(body, "options", o);
        }
        json_object_object_add(body, "labels", cms_compose_volume_labels(p, v));
        r = cms_volumes_create(m, body, &made, err);
        /* Another up of a project sharing the volume may have made it meanwhile. */
        if (r < 0 && err && err->status == 409 && exists(m, false, v->name, NULL) == 1)
                r = 0;
        if (r < 0) {
                cms_project_prefix_error(err, "volumes.", v->key);
                return r;
        }
        add_entry(cms_json_get(reply, "volumes"), v->key, v->name, "created");
        return 0;
}

/* ---- one container ---- */

struct up {
        struct cms_manager *m;
        const struct cms_compose_project *p;
        const struct cms_compose_plan *pl;
        const struct cms_up_opts *o;
        const struct cms_pctrs *existing;
        struct cms_compose_action *acts;
        size_t n_acts;
        int64_t deadline;
        enum cms_runtime rt;
        pthread_mutex_t mu; /* reply, warnings, ids */
        json_object *reply, *warnings;
        json_object **ids;   /* per service: the ids of its containers after up */
        bool *failed;        /* per service */
        int *rc;             /* per service */
        struct cms_error *errs;
        const size_t *level; /* the services of the level being applied */
};

/* Docker creates missing bind sources for -v but not for mounts; Compose's create_host_path
 * (the default) asks for them to be made. */
static void make_bind_sources(const struct cms_compose_service *s, json_object *cfg)
{
        json_object *vols = cms_json_get(cfg, "volumes");
        for (size_t i = 0; i < cms_jlen(vols); i++) {
                json_object *v = json_object_array_get_idx(vols, i);
                const char *type = json_object_get_string(cms_json_get(v, "type"));
                const char *src = json_object_get_string(cms_json_get(v, "source"));
                const char *dst = json_object_get_string(cms_json_get(v, "target"));
                if (!type || strcmp(type, "bind") || !src || *src != '/')
                        continue;
                bool create = true;
                for (size_t k = 0; k < s->n_volumes; k++)
                        if (s->volumes[k].target && dst && !strcmp(s->volumes[k].target, dst))
                                create = s->volumes[k].create_host_path;
                struct stat st;
                if (!create || stat(src, &st) == 0)
                        continue;
                char p[4096];
                snprintf(p, sizeof(p), "%s", src);
                for (char *c = p + 1; *c; c++)
                        if (*c == '/') {
                                *c = 0;
                                mkdir(p, 0755);
                                *c = '/';
                        }
                mkdir(p, 0755);
        }
}

/* Adds the create-body members ContainerConfig has no field for. */
static void merge_extras(json_object *body, json_object *extras)
{
        json_object_object_foreach(extras, k, v)
        {
                if (!strcmp(k, "HostConfig")) {
                        json_object *hc = cms_json_get(body, "HostConfig");
                        if (!hc) {
                                hc = json_object_new_object();
                                json_object_object_add(body, "HostConfig", hc);
                        }
                        json_object_object_foreach(v, hk, hv)
                            json_object_object_add(hc, hk, json_object_get(hv));
                } else {
                        json_object_object_add(body, k, json_object_get(v));
                }
        }
}

static void add_warnings(struct up *u, json_object *list)
{
        pthread_mutex_lock(&u->mu);
        for (size_t i = 0; i < cms_jlen(list); i++)
                warn(u->warnings, "%s", json_object_get_string(json_object_array_get_idx(list, i)));
        pthread_mutex_unlock(&u->mu);
}

/* Translates and validates one container: the same checks as POST /v1/containers. */
static int prepare(struct up *u, const struct cms_compose_service *s, int number,
                   struct cms_compose_container *c, struct cms_create_spec *spec,
                   struct cms_error *err)
{
        memset(spec, 0, sizeof(*spec));
        int r = cms_compose_translate(u->p, s, number, c, err);
        if (r == 0 && (r = cms_container_spec_from_config(c->config, u->rt, spec, err)) < 0)
                cms_project_prefix_error(err, "services.", s->name);
        if (r < 0) {
                cms_compose_container_done(c);
                return r;
        }
        merge_extras(spec->body, c->create_extras);
        return 0;
}

static int create_one(struct up *u, const struct cms_compose_service *s, int number, char **id,
                      struct cms_error *err)
{
        struct cms_compose_container c;
        struct cms_create_spec spec;
        int r = prepare(u, s, number, &c, &spec, err);
        if (r < 0)
                return r;
        make_bind_sources(s, c.config);
        _cleanup_json_ json_object *made = NULL;
        r = cms_container_create_spec(u->m, &spec, false, &made, err);
        const char *cid = made ? json_object_get_string(cms_json_get(made, "id")) : NULL;
        for (size_t i = 0; r == 0 && i < cms_jlen(c.networks); i++) {
                json_object *n = json_object_array_get_idx(c.networks, i), *o = NULL;
                _cleanup_json_ json_object *body = json_object_new_object();
                json_object_object_add(body, "container", json_object_new_string(cid));
                json_object_object_add(body, "aliases", json_object_get(cms_json_get(n, "aliases")));
                if (cms_json_get(n, "ip_address"))
                        json_object_object_add(body, "ip_address",
                                               json_object_get(cms_json_get(n, "ip_address")));
                r = cms_networks_connect(u->m, json_object_get_string(cms_json_get(n, "network")),
                                         body, &o, err);
                json_object_put(o);
        }
        if (r == 0)
                r = cms_project_ctr_post(u->m, cid, "/start", 0, err);
        if (r < 0 && cid)
                cms_project_ctr_remove(u->m, cid, true, NULL);
        if (r == 0 && !(*id = strdup(cid)))
                r = cms_err(err, 500, "out of memory");
        add_warnings(u, c.warnings);
        add_warnings(u, spec.warnings);
        cms_compose_container_done(&c);
        cms_create_spec_done(&spec);
        return r;
}

static long grace_ms(const struct cms_compose_service *s)
{
        int64_t g = s->stop_grace_period_ms >= 0 ? s->stop_grace_period_ms : 10000;
        return (long)g + 30000;
}

static const struct cms_pctr *existing_by_id(struct up *u, const char *id)
{
        for (size_t i = 0; i < u->existing->n; i++)
                if (!strcmp(u->existing->v[i].id, id))
                        return &u->existing->v[i];
        return NULL;
}

/* Stop the old one, put it aside under another name, make the new one; on failure the old one
 * comes back as it was. */
static int recreate(struct up *u, const struct cms_compose_service *s, int number,
                    const char *old_id, char **id, struct cms_error *err)
{
        const struct cms_pctr *old = existing_by_id(u, old_id);
        bool was_running = old && old->running;
        const char *name = old ? old->name : s->name;
        char q[600];
        int64_t secs = (s->stop_grace_period_ms >= 0 ? s->stop_grace_period_ms : 10000) / 1000;
        snprintf(q, sizeof(q), "/stop?t=%lld", (long long)secs);
        int r = cms_project_ctr_post(u->m, old_id, q, grace_ms(s), err);
        if (r < 0)
                return r;
        _cleanup_free_ char *aside = cms_strdup_printf("%.12s_%s", old_id, name);
        _cleanup_free_ char *esc = aside ? cms_url_escape(aside) : NULL;
        if (!esc)
                return cms_err(err, 500, "out of memory");
        snprintf(q, sizeof(q), "/rename?name=%s", esc);
        if ((r = cms_project_ctr_post(u->m, old_id, q, 0, err)) < 0)
                return r;
        if ((r = create_one(u, s, number, id, err)) == 0)
                return cms_project_ctr_remove(u->m, old_id, false, err);
        _cleanup_free_ char *back = cms_url_escape(name);
        if (back) {
                snprintf(q, sizeof(q), "/rename?name=%s", back);
                cms_project_ctr_post(u->m, old_id, q, 0, NULL);
        }
        if (was_running)
                cms_project_ctr_post(u->m, old_id, "/start", 0, NULL);
        return r;
}

static void add_result(struct up *u, size_t svc, int number, const char *id, const char *action)
{
        const struct cms_compose_service *s = &u->p->services[svc];
        _cleanup_free_ char *name = NULL;
        const struct cms_pctr *x = existing_by_id(u, id);
        if (x)
                name = strdup(x->name);
        else
                name = cms_compose_container_name(u->p, s, number);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "service", json_object_new_string(s->name));
        json_object_object_add(o, "number", json_object_new_int(number));
        json_object_object_add(o, "name", name ? json_object_new_string(name) : NULL);
        json_object_object_add(o, "id", json_object_new_string(id));
        json_object_object_add(o, "action", json_object_new_string(action));
        pthread_mutex_lock(&u->mu);
        json_object_array_add(cms_json_get(u->reply, "containers"), o);
        if (strcmp(action, "removed"))
                json_object_array_add(u->ids[svc], json_object_new_string(id));
        pthread_mutex_unlock(&u->mu);
}

static int do_action(struct up *u, const struct cms_compose_action *a, struct cms_error *err)
{
        const struct cms_compose_service *s = &u->p->services[a->service];
        _cleanup_free_ char *id = NULL;
        int r = 0;
        switch (a->kind) {
        case CMS_COMPOSE_ACTION_CREATE:
                if ((r = create_one(u, s, a->number, &id, err)) == 0)
                        add_result(u, a->service, a->number, id, "created");
                return r;
        case CMS_COMPOSE_ACTION_RECREATE:
                if ((r = recreate(u, s, a->number, a->id, &id, err)) == 0)
                        add_result(u, a->service, a->number, id, "recreated");
                return r;
        case CMS_COMPOSE_ACTION_START:
                if ((r = cms_project_ctr_post(u->m, a->id, "/start", 0, err)) == 0)
                        add_result(u, a->service, a->number, a->id, "started");
                return r;
        case CMS_COMPOSE_ACTION_KEEP:
                add_result(u, a->service, a->number, a->id, "kept");
                return 0;
        case CMS_COMPOSE_ACTION_REMOVE: {
                char q[64];
                snprintf(q, sizeof(q), "/stop?t=%lld",
                         (long long)(s->stop_grace_period_ms >= 0 ? s->stop_grace_period_ms / 1000 : 10));
                cms_project_ctr_post(u->m, a->id, q, grace_ms(s), NULL);
                if ((r = cms_project_ctr_remove(u->m, a->id, false, err)) == 0)
                        add_result(u, a->service, a->number, a->id, "removed");
                return r;
        }
        }
        return 0;
}

/* ---- services, level by level ---- */

static size_t svc_index(const struct cms_compose_project *p, const char *name)
{
        const struct cms_compose_service *s = cms_compose_service_find(p, name);
        return s ? (size_t)(s - p->services) : SIZE_MAX;
}

static bool touched(const struct up *u, const struct cms_compose_service *s)
{
        return !u->o->only || json_object_object_get_ex(u->o->only, s->name, NULL);
}

static int gate_deps(struct up *u, const struct cms_compose_service *s, struct cms_error *err)
{
        static const char *const cond[] = {"service_started", "service_healthy",
                                           "service_completed_successfully"};
        for (size_t k = 0; k < s->n_depends_on; k++) {
                const struct cms_compose_dep *d = &s->depends_on[k];
                size_t di = svc_index(u->p, d->service);
                if (di == SIZE_MAX)
                        continue;
                struct cms_error e = {0};
                int r;
                if (u->failed[di]) {
                        r = cms_err(&e, 409, "dependency failed to start: service \"%s\"",
                                    d->service);
                } else {
                        pthread_mutex_lock(&u->mu);
                        json_object *ids = json_object_get(u->ids[di]);
                        pthread_mutex_unlock(&u->mu);
                        size_t n = cms_jlen(ids);
                        const char **v = calloc(n + 1, sizeof(*v));
                        for (size_t i = 0; v && i < n; i++)
                                v[i] = json_object_get_string(json_object_array_get_idx(ids, i));
                        r = v ? cms_project_gate(u->m, d->service, v, n, cond[d->condition],
                                                 u->deadline, &e)
                              : cms_err(&e, 500, "out of memory");
                        free(v);
                        json_object_put(ids);
                }
                if (r < 0 && !d->required) {
                        pthread_mutex_lock(&u->mu);
                        warn(u->warnings, "%s: optional dependency %s: %s", s->name, d->service,
                             e.message);
                        pthread_mutex_unlock(&u->mu);
                        continue;
                }
                if (r < 0) {
                        if (err)
                                *err = e;
                        return r;
                }
        }
        return 0;
}

static void service_up(size_t i, void *ud)
{
        struct up *u = ud;
        size_t svc = u->level[i];
        const struct cms_compose_service *s = &u->p->services[svc];
        int r = gate_deps(u, s, &u->errs[svc]);
        for (size_t k = 0; r == 0 && k < u->n_acts; k++)
                if (u->acts[k].service == svc)
                        r = do_action(u, &u->acts[k], &u->errs[svc]);
        u->rc[svc] = r;
        u->failed[svc] = r < 0;
}

/* Containers of services up leaves alone still count for their dependents' gates. */
static void ids_of_untouched(struct up *u)
{
        for (size_t i = 0; i < u->existing->n; i++) {
                const struct cms_pctr *x = &u->existing->v[i];
                size_t svc = svc_index(u->p, x->service);
                if (svc != SIZE_MAX && !touched(u, &u->p->services[svc]))
                        json_object_array_add(u->ids[svc], json_object_new_string(x->id));
        }
}

static int run_levels(struct up *u, struct cms_error *err)
{
        for (size_t l = 0; l < u->pl->n_levels; l++) {
                const struct cms_compose_level *lv = &u->pl->levels[l];
                _cleanup_free_ size_t *todo = calloc(lv->n + 1, sizeof(size_t));
                size_t n = 0;
                if (!todo)
                        return cms_err(err, 500, "out of memory");
                for (size_t k = 0; k < lv->n; k++)
                        if (touched(u, &u->p->services[lv->services[k]]))
                                todo[n++] = lv->services[k];
                u->level = todo;
                cms_project_parallel(n, 16, service_up, u);
                for (size_t k = 0; k < n; k++)
                        if (u->rc[todo[k]] < 0) {
                                if (err)
                                        *err = u->errs[todo[k]];
                                return u->rc[todo[k]];
                        }
        }
        /* Orphans (remove_orphans) go last. */
        for (size_t k = 0; k < u->n_acts; k++) {
                const struct cms_compose_action *a = &u->acts[k];
                if (a->service != SIZE_MAX)
                        continue;
                const struct cms_pctr *x = existing_by_id(u, a->id);
                cms_project_ctr_post(u->m, a->id, "/stop?t=10", 40000, NULL);
                int r = cms_project_ctr_remove(u->m, a->id, false, err);
                if (r < 0)
                        return r;
                json_object *o = json_object_new_object();
                json_object_object_add(o, "service", json_object_new_string(x ? x->service : ""));
                json_object_object_add(o, "number", json_object_new_int(x ? x->number : 0));
                json_object_object_add(o, "name", json_object_new_string(x ? x->name : ""));
                json_object_object_add(o, "id", json_object_new_string(a->id));
                json_object_object_add(o, "action", json_object_new_string("removed"));
                json_object_array_add(cms_json_get(u->reply, "containers"), o);
        }
        return 0;
}

static int wait_ready(struct up *u, struct cms_error *err)
{
        for (size_t i = 0; i < u->p->n_services; i++) {
                size_t n = cms_jlen(u->ids[i]);
                if (!n || !touched(u, &u->p->services[i]))
                        continue;
                const char **v = calloc(n + 1, sizeof(*v));
                if (!v)
                        return cms_err(err, 500, "out of memory");
                for (size_t k = 0; k < n; k++)
                        v[k] = json_object_get_string(json_object_array_get_idx(u->ids[i], k));
                int r = cms_project_gate(u->m, u->p->services[i].name, v, n, "ready", u->deadline,
                                         err);
                free(v);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Every container the diff will make is translated and validated first. */
static int validate(struct up *u, struct cms_error *err)
{
        for (size_t k = 0; k < u->n_acts; k++) {
                const struct cms_compose_action *a = &u->acts[k];
                if (a->kind != CMS_COMPOSE_ACTION_CREATE && a->kind != CMS_COMPOSE_ACTION_RECREATE)
                        continue;
                struct cms_compose_container c;
                struct cms_create_spec spec;
                int r = prepare(u, &u->p->services[a->service], a->number, &c, &spec, err);
                if (r < 0)
                        return r;
                cms_compose_container_done(&c);
                cms_create_spec_done(&spec);
        }
        return 0;
}

static int existing_list(const struct cms_pctrs *cs, struct cms_compose_existing **out)
{
        *out = calloc(cs->n + 1, sizeof(**out));
        if (!*out)
                return -ENOMEM;
        for (size_t i = 0; i < cs->n; i++)
                (*out)[i] = (struct cms_compose_existing){cs->v[i].id, cs->v[i].service,
                                                          cs->v[i].number, cs->v[i].hash,
                                                          cs->v[i].running};
        return 0;
}

static int plan_actions(struct up *u, json_object *scale, struct cms_error *err)
{
        _cleanup_free_ struct cms_compose_existing *ex = NULL;
        if (existing_list(u->existing, &ex) < 0)
                return cms_err(err, 500, "out of memory");
        struct cms_compose_diff_opts d = {
            .force_recreate = u->o->force_recreate,
            .remove_orphans = u->o->remove_orphans && !u->o->only,
            .scale = scale,
        };
        int r = cms_compose_diff(u->p, u->pl, ex, u->existing->n, &d, &u->acts, &u->n_acts, err);
        if (r < 0)
                return r;
        /* Orphans that stay are worth a word, as Compose says. */
        for (size_t i = 0; !d.remove_orphans && i < u->existing->n; i++)
                if (!cms_compose_service_find(u->p, u->existing->v[i].service)) {
                        warn(u->warnings, "found orphan containers (%s) for this project; "
                                          "remove_orphans removes them",
                             u->existing->v[i].name);
                        break;
                }
        return 0;
}

/* Like Compose, only the networks and volumes some service uses are made. */
static bool network_used(const struct cms_compose_project *p, const char *key)
{
        for (size_t i = 0; i < p->n_services; i++)
                for (size_t k = 0; k < p->services[i].n_networks; k++)
                        if (!strcmp(p->services[i].networks[k].name, key))
                                return true;
        return false;
}

static bool volume_used(const struct cms_compose_project *p, const char *key)
{
        for (size_t i = 0; i < p->n_services; i++)
                for (size_t k = 0; k < p->services[i].n_volumes; k++) {
                        const struct cms_compose_mount *v = &p->services[i].volumes[k];
                        if (v->type == CMS_COMPOSE_MOUNT_VOLUME && v->source &&
                            !strcmp(v->source, key))
                                return true;
                }
        return false;
}

static void up_done(struct up *u)
{
        for (size_t i = 0; u->ids && i < u->p->n_services; i++)
                json_object_put(u->ids[i]);
        free(u->ids);
        free(u->failed);
        free(u->rc);
        free(u->errs);
        free(u->acts);
        pthread_mutex_destroy(&u->mu);
}

int cms_project_apply(struct cms_manager *m, const struct cms_compose_project *p,
                      const struct cms_up_opts *o, json_object *scale, json_object *reply,
                      struct cms_error *err)
{
        struct cms_compose_plan *pl = NULL;
        struct cms_pctrs existing = {0};
        size_t n = p->n_services + 1;
        struct up u = {.m = m, .p = p, .o = o, .existing = &existing, .reply = reply,
                       .warnings = cms_json_get(reply, "warnings"),
                       .rt = cms_engine_runtime(m->engine),
                       .deadline = cms_now_ms() + o->timeout_ms};
        pthread_mutex_init(&u.mu, NULL);
        int r = cms_compose_plan_new(p, &pl, err);
        u.pl = pl;
        u.ids = calloc(n, sizeof(*u.ids));
        u.failed = calloc(n, sizeof(*u.failed));
        u.rc = calloc(n, sizeof(*u.rc));
        u.errs = calloc(n, sizeof(*u.errs));
        if (r == 0 && (!u.ids || !u.failed || !u.rc || !u.errs))
                r = cms_err(err, 500, "out of memory");
        for (size_t i = 0; r == 0 && i < p->n_services; i++)
                u.ids[i] = json_object_new_array();
        r = r ?: cms_project_containers(m, p->name, &existing, err);
        r = r ?: plan_actions(&u, scale, err);
        r = r ?: validate(&u, err);
        for (size_t i = 0; r == 0 && i < p->n_networks; i++)
                if (network_used(p, p->networks[i].key))
                        r = ensure_network(m, p, &p->networks[i], reply, err);
        for (size_t i = 0; r == 0 && i < p->n_volumes; i++)
                if (volume_used(p, p->volumes[i].key))
                        r = ensure_volume(m, p, &p->volumes[i], reply, err);
        if (r == 0)
                ids_of_untouched(&u);
        r = r ?: run_levels(&u, err);
        if (r == 0 && o->wait)
                r = wait_ready(&u, err);
        up_done(&u);
        cms_compose_plan_free(pl);
        cms_pctrs_done(&existing);
        return r;
}
