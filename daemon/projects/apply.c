/* `up` for a compose project: the plan (dependency levels) and the config-hash diff say what
 * to do per container (create, recreate, start, keep, remove); every container to make is
 * translated and validated before the engine is touched, so a bad service is a 400 with nothing
 * created; then the networks and volumes are made, and converge.c does the containers. */
#include <time.h>

#include "internal.h"

/* ---- networks and volumes ---- */

static void add_entry(json_object *arr, const char *key, const char *name, const char *action)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "key", json_object_new_string(key));
        json_object_object_add(o, "name", json_object_new_string(name));
        json_object_object_add(o, "action", json_object_new_string(action));
        json_object_array_add(arr, o);
}

json_object *cms_project_network_body(const struct cms_compose_project *p,
                                      const struct cms_compose_network *n, json_object *warnings)
{
        json_object *body = json_object_new_object();
        json_object_object_add(body, "name", json_object_new_string(n->name));
        if (n->driver)
                json_object_object_add(body, "driver", json_object_new_string(n->driver));
        if (n->internal)
                json_object_object_add(body, "internal", json_object_new_boolean(true));
        if (n->n_ipam > 0) {
                const struct cms_compose_ipam_pool *pool = &n->ipam[0];
                if (pool->subnet)
                        json_object_object_add(body, "subnet",
                                               json_object_new_string(pool->subnet));
                if (pool->gateway)
                        json_object_object_add(body, "gateway",
                                               json_object_new_string(pool->gateway));
                if (pool->ip_range)
                        json_object_object_add(body, "ip_range",
                                               json_object_new_string(pool->ip_range));
                if (n->n_ipam > 1)
                        cms_project_warn(warnings, "networks.%s: only the first ipam pool is used",
                                         n->key);
        }
        if (n->ipam_driver && strcmp(n->ipam_driver, "default"))
                cms_project_warn(warnings, "networks.%s: ipam driver %s ignored", n->key,
                                 n->ipam_driver);
        if (n->attachable || n->enable_ipv6)
                cms_project_warn(warnings, "networks.%s: attachable and enable_ipv6 are ignored",
                                 n->key);
        if (n->driver_opts.n) {
                json_object *o = json_object_new_object();
                for (size_t i = 0; i < n->driver_opts.n; i++)
                        json_object_object_add(
                            o, n->driver_opts.v[i].key,
                            json_object_new_string(
                                n->driver_opts.v[i].value ? n->driver_opts.v[i].value : ""));
                json_object_object_add(body, "options", o);
        }
        json_object_object_add(body, "labels", cms_compose_network_labels(p, n));
        return body;
}

json_object *cms_project_volume_body(const struct cms_compose_project *p,
                                     const struct cms_compose_volume *v)
{
        json_object *body = json_object_new_object();
        json_object_object_add(body, "name", json_object_new_string(v->name));
        if (v->driver)
                json_object_object_add(body, "driver", json_object_new_string(v->driver));
        if (v->driver_opts.n) {
                json_object *o = json_object_new_object();
                for (size_t i = 0; i < v->driver_opts.n; i++)
                        json_object_object_add(
                            o, v->driver_opts.v[i].key,
                            json_object_new_string(
                                v->driver_opts.v[i].value ? v->driver_opts.v[i].value : ""));
                json_object_object_add(body, "options", o);
        }
        json_object_object_add(body, "labels", cms_compose_volume_labels(p, v));
        return body;
}

/* 1: exists, 0: not found. */
static int exists(struct cms_manager *m, bool network, const char *name, struct cms_error *err)
{
        _cleanup_json_ json_object *o = NULL;
        struct cms_error e = {0};
        int r =
            network ? cms_networks_inspect(m, name, &o, &e) : cms_volumes_inspect(m, name, &o, &e);
        if (r == 0)
                return 1;
        if (e.status == 404)
                return 0;
        if (err)
                *err = e;
        return r;
}

static int ensure_network(struct cms_manager *m, const struct cms_up_opts *o,
                          const struct cms_compose_project *p, const struct cms_compose_network *n,
                          json_object *reply, struct cms_error *err)
{
        const struct cms_caller *who = o->who;
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
        _cleanup_json_ json_object *body = cms_project_network_body(p, n, warnings), *made = NULL;
        r = cms_networks_create(m, who, body, &made, err);
        /* Podman's interface scan can race with another container's start: once more. */
        if (r < 0 && err && err->status == 502 && strstr(err->message, "network interface")) {
                struct timespec ts = {0, 300 * 1000 * 1000};
                nanosleep(&ts, NULL);
                r = cms_networks_create(m, who, body, &made, err);
        }
        if (r < 0) {
                cms_project_prefix_error(err, "networks.", n->key);
                return r;
        }
        add_entry(cms_json_get(reply, "networks"), n->key, n->name, "created");
        cms_up_note(o, &(struct cms_up_event){.network = n->name, .status = "created"});
        return 0;
}

static int ensure_volume(struct cms_manager *m, const struct cms_up_opts *o,
                         const struct cms_compose_project *p, const struct cms_compose_volume *v,
                         json_object *reply, struct cms_error *err)
{
        const struct cms_caller *who = o->who;
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
        _cleanup_json_ json_object *body = cms_project_volume_body(p, v), *made = NULL;
        r = cms_volumes_create(m, who, body, &made, err);
        /* Another up of a project sharing the volume may have made it meanwhile. */
        if (r < 0 && err && err->status == 409 && exists(m, false, v->name, NULL) == 1)
                r = 0;
        if (r < 0) {
                cms_project_prefix_error(err, "volumes.", v->key);
                return r;
        }
        add_entry(cms_json_get(reply, "volumes"), v->key, v->name, "created");
        cms_up_note(o, &(struct cms_up_event){.volume = v->name, .status = "created"});
        return 0;
}

/* Every container the diff will make is translated and validated first. */
static int validate(struct cms_up_run *u, struct cms_error *err)
{
        for (size_t k = 0; k < u->n_acts; k++) {
                const struct cms_compose_action *a = &u->acts[k];
                if (a->kind != CMS_COMPOSE_ACTION_CREATE && a->kind != CMS_COMPOSE_ACTION_RECREATE)
                        continue;
                struct cms_compose_container c;
                struct cms_create_spec spec;
                int r = cms_project_prepare(u->p, u->rt, &u->p->services[a->service], a->number, &c,
                                            &spec, err);
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
                (*out)[i] =
                    (struct cms_compose_existing){cs->v[i].id, cs->v[i].service, cs->v[i].number,
                                                  cs->v[i].hash, cs->v[i].running};
        return 0;
}

static int plan_actions(struct cms_up_run *u, json_object *scale, struct cms_error *err)
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
                        cms_project_warn(u->warnings,
                                         "found orphan containers (%s) for this project; "
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

static void up_done(struct cms_up_run *u)
{
        for (size_t i = 0; u->ids && i < u->p->n_services; i++)
                json_object_put(u->ids[i]);
        free(u->ids);
        free(u->failed);
        free(u->rc);
        free(u->errs);
        free(u->acts);
        free(u->jobs);
        cms_strv_free(u->own);
        pthread_mutex_destroy(&u->mu);
}

int cms_project_apply(struct cms_manager *m, const struct cms_compose_project *p,
                      const struct cms_up_opts *o, json_object *scale, json_object *reply,
                      bool *had_containers, struct cms_error *err)
{
        struct cms_compose_plan *pl = NULL;
        struct cms_pctrs existing = {0};
        size_t n = p->n_services + 1;
        struct cms_up_run u = {.m = m,
                               .p = p,
                               .o = o,
                               .existing = &existing,
                               .reply = reply,
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
        u.own = cms_project_own_containers(p);
        if (r == 0 && (!u.ids || !u.failed || !u.rc || !u.errs || !u.own))
                r = cms_err(err, 500, "out of memory");
        for (size_t i = 0; r == 0 && i < p->n_services; i++)
                u.ids[i] = json_object_new_array();
        r = r ?: cms_project_containers(m, p->name, &existing, err);
        if (had_containers)
                *had_containers = existing.n > 0;
        r = r ?: plan_actions(&u, scale, err);
        r = r ?: validate(&u, err);
        for (size_t i = 0; r == 0 && i < p->n_networks; i++)
                if (network_used(p, p->networks[i].key))
                        r = ensure_network(m, o, p, &p->networks[i], reply, err);
        for (size_t i = 0; r == 0 && i < p->n_volumes; i++)
                if (volume_used(p, p->volumes[i].key))
                        r = ensure_volume(m, o, p, &p->volumes[i], reply, err);
        if (r == 0 && !(u.jobs = calloc(u.n_acts + 1, sizeof(*u.jobs))))
                r = cms_err(err, 500, "out of memory");
        r = r ?: cms_project_converge(&u, err);
        up_done(&u);
        cms_compose_plan_free(pl);
        cms_pctrs_done(&existing);
        return r;
}
