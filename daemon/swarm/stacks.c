/* Stacks: a compose file deployed on a swarm manager through the services API, as docker stack
 * deploy does it (so either tool sees and removes the other's stacks): the stack's overlay
 * networks first, then one service per compose service, created, or updated only when its spec
 * changed (the engine then rolls it as update_config says). A stack is the set of services
 * labelled com.docker.stack.namespace=<name>. */
#include <pthread.h>
#include <unistd.h>

#include "swarm.h"

#include "../projects/projects.h"

/* The networks a stack's services use that cmsd must make: overlay unless a driver is given. */
static int ensure_networks(struct cms_manager *m, const struct cms_compose_project *p,
                           const char *stack, json_object *done, struct cms_error *err)
{
        for (size_t i = 0; i < p->n_networks; i++) {
                const struct cms_compose_network *n = &p->networks[i];
                bool used = false;
                for (size_t k = 0; !used && k < p->n_services; k++)
                        for (size_t j = 0; !used && j < p->services[k].n_networks; j++)
                                used = !strcmp(p->services[k].networks[j].name, n->key);
                if (!used)
                        continue;
                _cleanup_free_ char *esc = cms_url_escape(n->name);
                _cleanup_free_ char *path = cms_strdup_printf("/networks/%s", esc ? esc : "");
                struct cms_error e = {0};
                _cleanup_json_ json_object *have = NULL;
                int r = cms_engine_json(m->engine, "GET", path, NULL, &have, &e);
                if (r == 0 || e.status != 404) {
                        if (r < 0) {
                                *err = e;
                                return r;
                        }
                        continue;
                }
                if (n->external)
                        return cms_err(err, 400, "networks.%s: external network %s does not exist",
                                       n->key, n->name);
                _cleanup_json_ json_object *body = json_object_new_object();
                json_object *labels = json_object_new_object();
                for (size_t k = 0; k < n->labels.n; k++)
                        json_object_object_add(labels, n->labels.v[k].key,
                                               json_object_new_string(n->labels.v[k].value
                                                                          ? n->labels.v[k].value
                                                                          : ""));
                json_object_object_add(labels, CMS_STACK_LABEL, json_object_new_string(stack));
                json_object_object_add(body, "Name", json_object_new_string(n->name));
                json_object_object_add(body, "Driver",
                                       json_object_new_string(n->driver ? n->driver : "overlay"));
                json_object_object_add(body, "Labels", labels);
                json_object_object_add(body, "CheckDuplicate", json_object_new_boolean(true));
                json_object_object_add(body, "Attachable", json_object_new_boolean(n->attachable));
                json_object_object_add(body, "Internal", json_object_new_boolean(n->internal));
                json_object *opts = json_object_new_object();
                for (size_t k = 0; k < n->driver_opts.n; k++)
                        json_object_object_add(
                            opts, n->driver_opts.v[k].key,
                            json_object_new_string(
                                n->driver_opts.v[k].value ? n->driver_opts.v[k].value : ""));
                json_object_object_add(body, "Options", opts);
                if (n->n_ipam) {
                        json_object *ipam = json_object_new_object(),
                                    *cfg = json_object_new_array();
                        for (size_t k = 0; k < n->n_ipam; k++) {
                                json_object *c = json_object_new_object();
                                if (n->ipam[k].subnet)
                                        json_object_object_add(
                                            c, "Subnet", json_object_new_string(n->ipam[k].subnet));
                                if (n->ipam[k].ip_range)
                                        json_object_object_add(
                                            c, "IPRange",
                                            json_object_new_string(n->ipam[k].ip_range));
                                if (n->ipam[k].gateway)
                                        json_object_object_add(
                                            c, "Gateway",
                                            json_object_new_string(n->ipam[k].gateway));
                                json_object_array_add(cfg, c);
                        }
                        json_object_object_add(ipam, "Config", cfg);
                        json_object_object_add(body, "IPAM", ipam);
                }
                if ((r = cms_engine_json(m->engine, "POST", "/networks/create", body, NULL, err)) <
                    0)
                        return r;
                json_object *d = json_object_new_object();
                json_object_object_add(d, "name", json_object_new_string(n->name));
                json_object_object_add(d, "action", json_object_new_string("created"));
                json_object_array_add(done, d);
        }
        return 0;
}

static json_object *find_service(json_object *list, const char *name)
{
        for (size_t i = 0; i < cms_jlen(list); i++) {
                json_object *s = json_object_array_get_idx(list, i);
                const char *n =
                    json_object_get_string(cms_json_get(cms_json_get(s, "Spec"), "Name"));
                if (n && !strcmp(n, name))
                        return s;
        }
        return NULL;
}

static void engine_warnings(json_object *reply, json_object *warnings)
{
        json_object *w = cms_json_get(reply, "Warnings");
        for (size_t i = 0; i < cms_jlen(w); i++)
                cms_compose_warn(warnings, json_object_get_string(json_object_array_get_idx(w, i)));
}

/* Creates or updates one service (spec gets the hash label); the outcome into done. */
static int apply_service(struct cms_manager *m, json_object *existing, json_object *spec,
                         json_object *done, json_object *warnings, struct cms_error *err)
{
        char hash[65];
        if (cms_stack_spec_hash(spec, hash) < 0)
                return cms_err(err, 500, "out of memory");
        json_object_object_add(cms_json_get(spec, "Labels"), CMS_STACK_HASH_LABEL,
                               json_object_new_string(hash));
        const char *name = json_object_get_string(cms_json_get(spec, "Name"));
        json_object *have = find_service(existing, name);
        const char *action = "created", *id = NULL;
        _cleanup_json_ json_object *reply = NULL;
        int r = 0;
        if (have) {
                json_object *labels = cms_json_get(cms_json_get(have, "Spec"), "Labels");
                const char *old =
                    json_object_get_string(cms_json_get(labels, CMS_STACK_HASH_LABEL));
                id = json_object_get_string(cms_json_get(have, "ID"));
                action = old && !strcmp(old, hash) ? "unchanged" : "updated";
                if (!strcmp(action, "updated")) {
                        int64_t v = json_object_get_int64(
                            cms_json_get(cms_json_get(have, "Version"), "Index"));
                        _cleanup_free_ char *path =
                            cms_strdup_printf("/services/%s/update?version=%" PRId64, id, v);
                        r = cms_engine_json(m->engine, "POST", path, spec, &reply, err);
                }
        } else {
                r = cms_engine_json(m->engine, "POST", "/services/create", spec, &reply, err);
                id = json_object_get_string(cms_json_get(reply, "ID"));
        }
        if (r < 0) {
                cms_err(err, err->status, "service %s: %.400s", name, err->message);
                return r;
        }
        engine_warnings(reply, warnings);
        json_object *d = json_object_new_object();
        json_object_object_add(d, "name", json_object_new_string(name));
        json_object_object_add(d, "id", id ? json_object_new_string(id) : NULL);
        json_object_object_add(d, "action", json_object_new_string(action));
        json_object_array_add(done, d);
        return 0;
}

/* The services, several at once (the engine takes them in parallel); the outcomes in file
 * order, the first failure reported. */
struct apply_all {
        struct cms_manager *m;
        json_object *existing, *specs, **done, *warnings;
        int *rc;
        struct cms_error *errs;
        pthread_mutex_t mu;
};

static void apply_one(size_t i, void *ud)
{
        struct apply_all *a = ud;
        json_object *w = json_object_new_array();
        a->done[i] = json_object_new_array();
        a->rc[i] = apply_service(a->m, a->existing, json_object_array_get_idx(a->specs, i),
                                 a->done[i], w, &a->errs[i]);
        pthread_mutex_lock(&a->mu);
        for (size_t k = 0; k < cms_jlen(w); k++)
                cms_compose_warn(a->warnings,
                                 json_object_get_string(json_object_array_get_idx(w, k)));
        pthread_mutex_unlock(&a->mu);
        json_object_put(w);
}

static int apply_all(struct cms_manager *m, json_object *existing, json_object *specs,
                     json_object *svcs, json_object *warnings, struct cms_error *err)
{
        size_t n = cms_jlen(specs);
        struct apply_all a = {.m = m, .existing = existing, .specs = specs, .warnings = warnings};
        a.done = calloc(n + 1, sizeof(*a.done));
        a.rc = calloc(n + 1, sizeof(*a.rc));
        a.errs = calloc(n + 1, sizeof(*a.errs));
        int r = a.done && a.rc && a.errs ? 0 : cms_err(err, 500, "out of memory");
        if (r == 0) {
                pthread_mutex_init(&a.mu, NULL);
                cms_project_parallel(n, 8, apply_one, &a);
                pthread_mutex_destroy(&a.mu);
        }
        for (size_t i = 0; r == 0 && i < n; i++)
                if (a.rc[i] < 0) {
                        *err = a.errs[i];
                        r = a.rc[i];
                }
        for (size_t i = 0; a.done && i < n; i++) {
                for (size_t k = 0; r == 0 && k < cms_jlen(a.done[i]); k++)
                        json_object_array_add(
                            svcs, json_object_get(json_object_array_get_idx(a.done[i], k)));
                json_object_put(a.done[i]);
        }
        free(a.done);
        free(a.rc);
        free(a.errs);
        return r;
}

static int remove_service(struct cms_manager *m, const char *id, struct cms_error *err)
{
        _cleanup_free_ char *path = cms_strdup_printf("/services/%s", id);
        struct cms_error e = {0};
        int r = cms_engine_json(m->engine, "DELETE", path, NULL, NULL, &e);
        if (r < 0 && e.status != 404) {
                *err = e;
                return r;
        }
        return 0;
}

/* The services of the stack the file no longer has (body "prune": true). */
static int prune(struct cms_manager *m, const char *stack, json_object *existing, json_object *keep,
                 json_object *done, struct cms_error *err)
{
        for (size_t i = 0; i < cms_jlen(existing); i++) {
                json_object *s = json_object_array_get_idx(existing, i);
                const char *name =
                    json_object_get_string(cms_json_get(cms_json_get(s, "Spec"), "Name"));
                bool kept = false;
                for (size_t k = 0; !kept && k < cms_jlen(keep); k++)
                        kept = !strcmp(json_object_get_string(cms_json_get(
                                           json_object_array_get_idx(keep, k), "Name")),
                                       name ? name : "");
                if (kept)
                        continue;
                int r = remove_service(m, json_object_get_string(cms_json_get(s, "ID")), err);
                if (r < 0)
                        return r;
                json_object *d = json_object_new_object();
                json_object_object_add(d, "name", json_object_new_string(name ? name : ""));
                json_object_object_add(d, "action", json_object_new_string("removed"));
                json_object_array_add(done, d);
        }
        (void)stack;
        return 0;
}

int cms_stacks_deploy(struct cms_manager *m, const struct cms_caller *who, json_object *body,
                      int *status, json_object **out, struct cms_error *err)
{
        struct cms_compose_project *p = NULL;
        _cleanup_json_ json_object *warnings = json_object_new_array(),
                                   *specs = json_object_new_array(), *existing = NULL;
        bool prune_them = false;
        if (!json_object_is_type(body, json_type_object))
                return cms_err(err, 400, "body: expected {\"name\", \"compose\", ...}");
        int r = cms_json_get_bool(body, "body", "prune", false, &prune_them, err);
        /* The policy first: a refusal never depends on the engine's state. */
        r = r ?: cms_projects_parse_stack(m, who, body, &p, warnings, err);
        r = r ?: cms_swarm_manager_check(m, err);
        for (size_t i = 0; r == 0 && i < p->n_services; i++) {
                json_object *spec = NULL;
                r = cms_stack_service_spec(p->name, p, &p->services[i], &spec, warnings, err);
                if (r == 0)
                        json_object_array_add(specs, spec);
        }
        r = r ?: cms_stack_services(m, p->name, &existing, err);
        json_object *nets = json_object_new_array(), *svcs = json_object_new_array();
        r = r ?: ensure_networks(m, p, p->name, nets, err);
        _cleanup_json_ json_object *sids = json_object_new_object(),
                                   *cids = json_object_new_object();
        r = r ?: cms_stack_files(m, p, p->name, sids, cids, warnings, err);
        for (size_t i = 0; r == 0 && i < cms_jlen(specs); i++)
                cms_stack_fill_ids(json_object_array_get_idx(specs, i), sids, cids);
        if (r == 0)
                r = apply_all(m, existing, specs, svcs, warnings, err);
        if (r == 0 && prune_them)
                r = prune(m, p->name, existing, specs, svcs, err);
        if (r == 0) {
                *status = cms_jlen(existing) ? 200 : 201;
                *out = json_object_new_object();
                json_object_object_add(*out, "name", json_object_new_string(p->name));
                json_object_object_add(*out, "services", json_object_get(svcs));
                json_object_object_add(*out, "networks", json_object_get(nets));
                json_object_object_add(*out, "warnings", json_object_get(warnings));
        }
        json_object_put(nets);
        json_object_put(svcs);
        cms_compose_project_free(p);
        return r;
}

/* {stack: {services, desired, running}} of the services listed. */
static void tally(json_object *services, json_object *by)
{
        for (size_t i = 0; i < cms_jlen(services); i++) {
                json_object *s = json_object_array_get_idx(services, i);
                const char *ns = json_object_get_string(
                    cms_json_get(cms_json_get(cms_json_get(s, "Spec"), "Labels"), CMS_STACK_LABEL));
                if (!ns)
                        continue;
                json_object *e = cms_json_get(by, ns);
                if (!e) {
                        e = json_object_new_object();
                        json_object_object_add(e, "name", json_object_new_string(ns));
                        json_object_object_add(e, "services", json_object_new_int(0));
                        json_object_object_add(e, "desired", json_object_new_int(0));
                        json_object_object_add(e, "running", json_object_new_int(0));
                        json_object_object_add(by, ns, e);
                }
                json_object *st = cms_json_get(s, "ServiceStatus");
                const char *keys[] = {"services", "desired", "running"};
                int64_t add[] = {1, json_object_get_int64(cms_json_get(st, "DesiredTasks")),
                                 json_object_get_int64(cms_json_get(st, "RunningTasks"))};
                for (size_t k = 0; k < 3; k++)
                        json_object_object_add(
                            e, keys[k],
                            json_object_new_int64(json_object_get_int64(cms_json_get(e, keys[k])) +
                                                  add[k]));
        }
}

static int by_name(const void *a, const void *b)
{
        return strcmp(json_object_get_string(cms_json_get(*(json_object *const *)a, "name")),
                      json_object_get_string(cms_json_get(*(json_object *const *)b, "name")));
}

int cms_stacks_list(struct cms_manager *m, json_object **out, struct cms_error *err)
{
        _cleanup_json_ json_object *services = NULL, *by = json_object_new_object();
        int r = cms_swarm_manager_check(m, err);
        r = r ?: cms_stack_services(m, NULL, &services, err);
        if (r < 0)
                return r;
        tally(services, by);
        json_object *a = json_object_new_array();
        json_object_object_foreach(by, k, v)
        {
                (void)k;
                json_object_object_add(v, "orchestrator", json_object_new_string("swarm"));
                json_object_array_add(a, json_object_get(v));
        }
        json_object_array_sort(a, by_name);
        *out = a;
        return 0;
}

int cms_stacks_remove(struct cms_manager *m, const char *name, json_object **out,
                      struct cms_error *err)
{
        _cleanup_json_ json_object *services = NULL, *nets = NULL;
        int r = cms_swarm_manager_check(m, err);
        r = r ?: cms_stack_services(m, name, &services, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *f = cms_stack_filter("label", name);
        _cleanup_free_ char *np = cms_strdup_printf("/networks?filters=%s", f ? f : "");
        if ((r = cms_engine_json(m->engine, "GET", np, NULL, &nets, err)) < 0)
                return r;
        if (!cms_jlen(services) && !cms_jlen(nets))
                return cms_err(err, 404, "no stack named %s", name);
        json_object *gone = json_object_new_array(), *gone_nets = json_object_new_array();
        for (size_t i = 0; r == 0 && i < cms_jlen(services); i++) {
                json_object *s = json_object_array_get_idx(services, i);
                r = remove_service(m, json_object_get_string(cms_json_get(s, "ID")), err);
                json_object_array_add(gone, json_object_new_string(json_object_get_string(
                                                cms_json_get(cms_json_get(s, "Spec"), "Name"))));
        }
        json_object *gone_sec = json_object_new_array(), *gone_cfg = json_object_new_array();
        if (r == 0)
                r = cms_stack_remove_files(m, name, gone_sec, gone_cfg, err);
        /* A network goes once the services' tasks have left it: the engine takes a moment. */
        for (size_t i = 0; r == 0 && i < cms_jlen(nets); i++) {
                json_object *n = json_object_array_get_idx(nets, i);
                _cleanup_free_ char *p = cms_strdup_printf(
                    "/networks/%s", json_object_get_string(cms_json_get(n, "Id")));
                struct cms_error e = {0};
                int64_t until = cms_now_ms() + 30000;
                while ((r = cms_engine_json(m->engine, "DELETE", p, NULL, NULL, &e)) < 0 &&
                       e.status != 404 && cms_now_ms() < until && !atomic_load(&m->draining))
                        usleep(250 * 1000);
                if (r < 0 && e.status == 404)
                        r = 0;
                if (r < 0)
                        cms_err(err, e.status, "network %s: %.400s",
                                json_object_get_string(cms_json_get(n, "Name")), e.message);
                else
                        json_object_array_add(gone_nets,
                                              json_object_new_string(
                                                  json_object_get_string(cms_json_get(n, "Name"))));
        }
        if (r < 0) {
                json_object_put(gone);
                json_object_put(gone_nets);
                json_object_put(gone_sec);
                json_object_put(gone_cfg);
                return r;
        }
        *out = json_object_new_object();
        json_object_object_add(*out, "name", json_object_new_string(name));
        json_object_object_add(*out, "services", gone);
        json_object_object_add(*out, "networks", gone_nets);
        json_object_object_add(*out, "secrets", gone_sec);
        json_object_object_add(*out, "configs", gone_cfg);
        return 0;
}
