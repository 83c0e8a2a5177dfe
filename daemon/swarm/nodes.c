/* Swarm nodes (GET /v1/nodes, POST /v1/nodes/{id}) and what a stack is made of now: its
 * services with desired and running replicas, their tasks with node and state (GET
 * /v1/stacks/{name}), and scaling its replicated services. */
#include "swarm.h"

static json_object *str_or_null(json_object *o)
{
        const char *s = json_object_get_string(o);
        return s && *s ? json_object_new_string(s) : NULL;
}

static json_object *node_summary(json_object *n)
{
        json_object *o = json_object_new_object(), *spec = cms_json_get(n, "Spec"),
                    *desc = cms_json_get(n, "Description"), *st = cms_json_get(n, "Status"),
                    *ms = cms_json_get(n, "ManagerStatus"), *res = cms_json_get(desc, "Resources");
        json_object_object_add(o, "id", str_or_null(cms_json_get(n, "ID")));
        json_object_object_add(o, "hostname", str_or_null(cms_json_get(desc, "Hostname")));
        json_object_object_add(o, "role", str_or_null(cms_json_get(spec, "Role")));
        json_object_object_add(o, "availability", str_or_null(cms_json_get(spec, "Availability")));
        json_object_object_add(o, "state", str_or_null(cms_json_get(st, "State")));
        json_object_object_add(o, "addr", str_or_null(cms_json_get(st, "Addr")));
        json_object_object_add(
            o, "leader",
            json_object_new_boolean(json_object_get_boolean(cms_json_get(ms, "Leader"))));
        json_object_object_add(o, "manager_reachability",
                               str_or_null(cms_json_get(ms, "Reachability")));
        json_object_object_add(
            o, "engine_version",
            str_or_null(cms_json_get(cms_json_get(desc, "Engine"), "EngineVersion")));
        json_object *r = json_object_new_object();
        json_object_object_add(
            r, "nano_cpus",
            json_object_new_int64(json_object_get_int64(cms_json_get(res, "NanoCPUs"))));
        json_object_object_add(
            r, "memory_bytes",
            json_object_new_int64(json_object_get_int64(cms_json_get(res, "MemoryBytes"))));
        json_object_object_add(o, "resources", r);
        json_object *labels = cms_json_get(spec, "Labels");
        json_object_object_add(o, "labels",
                               labels ? json_object_get(labels) : json_object_new_object());
        return o;
}

int cms_nodes_list(struct cms_manager *m, json_object **out, struct cms_error *err)
{
        _cleanup_json_ json_object *nodes = NULL;
        int r = cms_swarm_manager_check(m, err);
        r = r ?: cms_engine_json(m->engine, "GET", "/nodes", NULL, &nodes, err);
        if (r < 0)
                return r;
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < cms_jlen(nodes); i++)
                json_object_array_add(a, node_summary(json_object_array_get_idx(nodes, i)));
        *out = a;
        return 0;
}

json_object *cms_swarm_node_names(struct cms_manager *m)
{
        _cleanup_json_ json_object *nodes = NULL;
        json_object *o = json_object_new_object();
        if (cms_engine_json(m->engine, "GET", "/nodes", NULL, &nodes, NULL) < 0)
                return o;
        for (size_t i = 0; i < cms_jlen(nodes); i++) {
                json_object *n = json_object_array_get_idx(nodes, i);
                const char *id = json_object_get_string(cms_json_get(n, "ID"));
                json_object *h = cms_json_get(cms_json_get(n, "Description"), "Hostname");
                if (id)
                        json_object_object_add(o, id, json_object_get(h));
        }
        return o;
}

/* Reads an object's version and spec, lets edit change the spec, posts it back. */
static int update_spec(struct cms_manager *m, const char *kind, const char *id,
                       int (*edit)(json_object *spec, void *ud, struct cms_error *err), void *ud,
                       json_object **after, struct cms_error *err)
{
        _cleanup_free_ char *esc = cms_url_escape(id);
        _cleanup_free_ char *path = cms_strdup_printf("/%s/%s", kind, esc ? esc : "");
        _cleanup_json_ json_object *doc = NULL;
        int r = cms_engine_json(m->engine, "GET", path, NULL, &doc, err);
        if (r < 0)
                return r;
        json_object *spec = cms_json_get(doc, "Spec");
        if ((r = edit(spec, ud, err)) < 0)
                return r;
        _cleanup_free_ char *up = cms_strdup_printf(
            "/%s/%s/update?version=%" PRId64, kind, json_object_get_string(cms_json_get(doc, "ID")),
            json_object_get_int64(cms_json_get(cms_json_get(doc, "Version"), "Index")));
        if ((r = cms_engine_json(m->engine, "POST", up, spec, NULL, err)) < 0)
                return r;
        if (after)
                r = cms_engine_json(m->engine, "GET", path, NULL, after, err);
        return r;
}

static int set_availability(json_object *spec, void *ud, struct cms_error *err)
{
        (void)err;
        json_object_object_add(spec, "Availability", json_object_new_string(ud));
        return 0;
}

int cms_nodes_update(struct cms_manager *m, const char *id, json_object *body, json_object **out,
                     struct cms_error *err)
{
        const char *av = NULL;
        if (!json_object_is_type(body, json_type_object))
                return cms_err(err, 400,
                               "body: expected {\"availability\": \"active\"|"
                               "\"pause\"|\"drain\"}");
        int r = cms_json_get_string(body, "body", "availability", &av, err);
        if (r < 0)
                return r;
        if (json_object_object_length(body) != 1 || !av ||
            (strcmp(av, "active") && strcmp(av, "pause") && strcmp(av, "drain")))
                return cms_err(err, 400,
                               "body: expected {\"availability\": \"active\"|\"pause\"|\"drain\"}");
        _cleanup_json_ json_object *after = NULL;
        r = cms_swarm_manager_check(m, err);
        r = r ?: update_spec(m, "nodes", id, set_availability, (void *)av, &after, err);
        if (r < 0)
                return r;
        *out = node_summary(after);
        return 0;
}

static void add_task(json_object *tasks, json_object *t, const char *service, json_object *names)
{
        json_object *o = json_object_new_object(), *st = cms_json_get(t, "Status");
        const char *node = json_object_get_string(cms_json_get(t, "NodeID"));
        json_object_object_add(o, "id", str_or_null(cms_json_get(t, "ID")));
        json_object_object_add(o, "service", json_object_new_string(service));
        json_object *slot = cms_json_get(t, "Slot");
        json_object_object_add(o, "slot", slot ? json_object_get(slot) : NULL);
        json_object_object_add(o, "node_id", node ? json_object_new_string(node) : NULL);
        json_object_object_add(o, "node", node ? str_or_null(cms_json_get(names, node)) : NULL);
        json_object_object_add(o, "state", str_or_null(cms_json_get(st, "State")));
        json_object_object_add(o, "desired_state", str_or_null(cms_json_get(t, "DesiredState")));
        json_object_object_add(o, "message", str_or_null(cms_json_get(st, "Message")));
        json_object_object_add(o, "error", str_or_null(cms_json_get(st, "Err")));
        json_object_object_add(o, "updated", str_or_null(cms_json_get(st, "Timestamp")));
        json_object_object_add(
            o, "container_id",
            str_or_null(cms_json_get(cms_json_get(st, "ContainerStatus"), "ContainerID")));
        json_object_array_add(tasks, o);
}

static json_object *service_summary(json_object *s, const char *stack)
{
        json_object *o = json_object_new_object(), *spec = cms_json_get(s, "Spec"),
                    *st = cms_json_get(s, "ServiceStatus"), *mode = cms_json_get(spec, "Mode");
        const char *name = json_object_get_string(cms_json_get(spec, "Name"));
        size_t pl = strlen(stack) + 1;
        json_object_object_add(o, "name", json_object_new_string(name ? name : ""));
        json_object_object_add(o, "service",
                               json_object_new_string(name && strlen(name) > pl ? name + pl : ""));
        json_object_object_add(o, "id", str_or_null(cms_json_get(s, "ID")));
        json_object_object_add(
            o, "image",
            str_or_null(cms_json_get(
                cms_json_get(cms_json_get(spec, "TaskTemplate"), "ContainerSpec"), "Image")));
        json_object_object_add(
            o, "mode",
            json_object_new_string(cms_json_get(mode, "Global") ? "global" : "replicated"));
        json_object *rep = json_object_new_object();
        json_object_object_add(
            rep, "desired",
            json_object_new_int64(json_object_get_int64(cms_json_get(st, "DesiredTasks"))));
        json_object_object_add(
            rep, "running",
            json_object_new_int64(json_object_get_int64(cms_json_get(st, "RunningTasks"))));
        json_object_object_add(o, "replicas", rep);
        json_object *ports = json_object_new_array(),
                    *eps = cms_json_get(cms_json_get(s, "Endpoint"), "Ports");
        for (size_t i = 0; i < cms_jlen(eps); i++) {
                json_object *e = json_object_array_get_idx(eps, i), *p = json_object_new_object();
                json_object_object_add(p, "published",
                                       json_object_get(cms_json_get(e, "PublishedPort")));
                json_object_object_add(p, "target", json_object_get(cms_json_get(e, "TargetPort")));
                json_object_object_add(p, "protocol", str_or_null(cms_json_get(e, "Protocol")));
                json_object_object_add(p, "mode", str_or_null(cms_json_get(e, "PublishMode")));
                json_object_array_add(ports, p);
        }
        json_object_object_add(o, "ports", ports);
        json_object_object_add(o, "update_state",
                               str_or_null(cms_json_get(cms_json_get(s, "UpdateStatus"), "State")));
        json_object_object_add(o, "created", str_or_null(cms_json_get(s, "CreatedAt")));
        json_object_object_add(o, "updated", str_or_null(cms_json_get(s, "UpdatedAt")));
        return o;
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(json_object_get_string(cms_json_get(*(json_object *const *)a, "name")),
                      json_object_get_string(cms_json_get(*(json_object *const *)b, "name")));
}

static int task_cmp(const void *a, const void *b)
{
        json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
        int c = strcmp(json_object_get_string(cms_json_get(x, "service")),
                       json_object_get_string(cms_json_get(y, "service")));
        if (c)
                return c;
        int64_t sx = json_object_get_int64(cms_json_get(x, "slot")),
                sy = json_object_get_int64(cms_json_get(y, "slot"));
        if (sx != sy)
                return sx < sy ? -1 : 1;
        const char *ux = json_object_get_string(cms_json_get(x, "updated"));
        const char *uy = json_object_get_string(cms_json_get(y, "updated"));
        return -strcmp(ux ? ux : "", uy ? uy : ""); /* newest first */
}

int cms_stacks_inspect(struct cms_manager *m, const char *name, json_object **out,
                       struct cms_error *err)
{
        _cleanup_json_ json_object *services = NULL, *tasks = NULL, *names = NULL;
        int r = cms_stack_get(m, name, &services, err);
        if (r < 0)
                return r;
        /* The tasks of its services (a task's labels are its container's, not the service's). */
        _cleanup_json_ json_object *tf = json_object_new_object();
        json_object *ids = json_object_new_array();
        for (size_t i = 0; i < cms_jlen(services); i++)
                json_object_array_add(ids, json_object_get(cms_json_get(
                                               json_object_array_get_idx(services, i), "ID")));
        json_object_object_add(tf, "service", ids);
        _cleanup_free_ char *tq = cms_url_escape(json_object_to_json_string_ext(tf, 0));
        _cleanup_free_ char *tp = cms_strdup_printf("/tasks?filters=%s", tq ? tq : "");
        if ((r = cms_engine_json(m->engine, "GET", tp, NULL, &tasks, err)) < 0)
                return r;
        names = cms_swarm_node_names(m);
        json_object *svcs = json_object_new_array(), *tl = json_object_new_array();
        for (size_t i = 0; i < cms_jlen(services); i++)
                json_object_array_add(
                    svcs, service_summary(json_object_array_get_idx(services, i), name));
        json_object_array_sort(svcs, name_cmp);
        for (size_t i = 0; i < cms_jlen(tasks); i++) {
                json_object *t = json_object_array_get_idx(tasks, i);
                const char *sid = json_object_get_string(cms_json_get(t, "ServiceID"));
                const char *svc = "";
                for (size_t k = 0; sid && k < cms_jlen(svcs); k++) {
                        json_object *s = json_object_array_get_idx(svcs, k);
                        if (!strcmp(json_object_get_string(cms_json_get(s, "id")), sid))
                                svc = json_object_get_string(cms_json_get(s, "service"));
                }
                add_task(tl, t, svc, names);
        }
        json_object_array_sort(tl, task_cmp);
        *out = json_object_new_object();
        json_object_object_add(*out, "name", json_object_new_string(name));
        json_object_object_add(*out, "services", svcs);
        json_object_object_add(*out, "tasks", tl);
        return 0;
}

static int set_replicas(json_object *spec, void *ud, struct cms_error *err)
{
        json_object *rep = cms_json_get(cms_json_get(spec, "Mode"), "Replicated");
        if (!rep)
                return cms_err(err, 400, "service %s is global: it runs one task per node",
                               json_object_get_string(cms_json_get(spec, "Name")));
        json_object_object_add(rep, "Replicas", json_object_new_int64(*(int64_t *)ud));
        return 0;
}

int cms_stacks_scale(struct cms_manager *m, const char *name, json_object *body, json_object **out,
                     struct cms_error *err)
{
        if (!json_object_is_type(body, json_type_object) || !json_object_object_length(body))
                return cms_err(err, 400, "body: expected {\"service\": replicas, ...}");
        json_object_object_foreach(body, k, v)
        {
                int64_t n;
                if (!json_object_is_type(v, json_type_int) || (n = json_object_get_int64(v)) < 0 ||
                    n > CMS_COMPOSE_MAX_REPLICAS)
                        return cms_err(err, 400, "body.%.64s: expected replicas from 0 to %d", k,
                                       CMS_COMPOSE_MAX_REPLICAS);
        }
        _cleanup_json_ json_object *services = NULL;
        int r = cms_stack_get(m, name, &services, err);
        if (r < 0)
                return r;
        /* Every name checked before anything changes. */
        json_object *ids = json_object_new_object();
        json_object_object_foreach(body, k2, v2)
        {
                (void)v2;
                const char *id = NULL;
                _cleanup_free_ char *full = cms_strdup_printf("%s_%s", name, k2);
                for (size_t i = 0; full && i < cms_jlen(services); i++) {
                        json_object *s = json_object_array_get_idx(services, i);
                        const char *n =
                            json_object_get_string(cms_json_get(cms_json_get(s, "Spec"), "Name"));
                        if (n && !strcmp(n, full))
                                id = json_object_get_string(cms_json_get(s, "ID"));
                }
                if (!id) {
                        json_object_put(ids);
                        return cms_err(err, 404, "stack %s has no service %.64s", name, k2);
                }
                json_object_object_add(ids, k2, json_object_new_string(id));
        }
        json_object *done = json_object_new_object();
        json_object_object_foreach(body, k3, v3)
        {
                int64_t n = json_object_get_int64(v3);
                r = update_spec(m, "services", json_object_get_string(cms_json_get(ids, k3)),
                                set_replicas, &n, NULL, err);
                if (r < 0)
                        break;
                json_object_object_add(done, k3, json_object_new_int64(n));
        }
        json_object_put(ids);
        if (r < 0) {
                json_object_put(done);
                return r;
        }
        *out = json_object_new_object();
        json_object_object_add(*out, "name", json_object_new_string(name));
        json_object_object_add(*out, "replicas", done);
        return 0;
}
