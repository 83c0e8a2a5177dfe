/* Compose project operations that need only the containers' labels: list, ps, down, start, stop
 * and restart. Order comes from the com.docker.compose.depends_on labels (start in dependency
 * order, stop and down in reverse), so projects made by docker compose or by another cmsd are
 * handled the same way as cmsd's own. */
#include "internal.h"

/* ---- list ---- */

static const char *label(json_object *item, const char *k)
{
        return json_object_get_string(cms_json_get(cms_json_get(item, "labels"), k));
}

static bool oneoff(json_object *item)
{
        const char *o = label(item, CMS_COMPOSE_LABEL_ONEOFF);
        return o && !strcasecmp(o, "true");
}

static json_object *project_entry(json_object *projects, const char *name)
{
        json_object *p = cms_json_get(projects, name);
        if (p)
                return p;
        p = json_object_new_object();
        json_object_object_add(p, "name", json_object_new_string(name));
        json_object_object_add(p, "status", json_object_new_string("down"));
        json_object_object_add(p, "containers", json_object_new_int(0));
        json_object_object_add(p, "running", json_object_new_int(0));
        json_object_object_add(p, "services", json_object_new_array());
        json_object_object_add(p, "stored", json_object_new_boolean(false));
        json_object_object_add(p, "working_dir", NULL);
        json_object_object_add(p, "_created", json_object_new_int(0)); /* for status, dropped */
        json_object_object_add(projects, name, p);
        return p;
}

static void add_unique(json_object *arr, const char *s)
{
        for (size_t i = 0; i < cms_jlen(arr); i++)
                if (!strcmp(json_object_get_string(json_object_array_get_idx(arr, i)), s))
                        return;
        json_object_array_add(arr, json_object_new_string(s));
}

static int str_cmp(const void *a, const void *b)
{
        return strcmp(json_object_get_string(*(json_object *const *)a),
                      json_object_get_string(*(json_object *const *)b));
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(json_object_get_string(cms_json_get(*(json_object *const *)a, "name")),
                      json_object_get_string(cms_json_get(*(json_object *const *)b, "name")));
}

static void count_container(json_object *p, json_object *item)
{
        const char *state = json_object_get_string(cms_json_get(item, "state"));
        json_object_int_inc(cms_json_get(p, "containers"), 1);
        if (state && !strcmp(state, "running"))
                json_object_int_inc(cms_json_get(p, "running"), 1);
        if (state && !strcmp(state, "created"))
                json_object_int_inc(cms_json_get(p, "_created"), 1);
        const char *svc = label(item, CMS_COMPOSE_LABEL_SERVICE);
        if (svc)
                add_unique(cms_json_get(p, "services"), svc);
        const char *wd = label(item, CMS_COMPOSE_LABEL_WORKING_DIR);
        if (wd && *wd && !cms_json_get(p, "working_dir"))
                json_object_object_add(p, "working_dir", json_object_new_string(wd));
}

static const char *status_of(json_object *p)
{
        int created = json_object_get_int(cms_json_get(p, "_created"));
        int n = json_object_get_int(cms_json_get(p, "containers"));
        int run = json_object_get_int(cms_json_get(p, "running"));
        if (n == 0)
                return "down";
        if (run == n)
                return "running";
        if (run > 0)
                return "partial";
        return created == n ? "created" : "exited";
}

int cms_projects_list(struct cms_manager *m, json_object **out, struct cms_error *err)
{
        const char *labels[] = {CMS_COMPOSE_LABEL_PROJECT, NULL};
        struct cms_list_opts lo = {.all = true, .labels = labels};
        _cleanup_json_ json_object *list = NULL, *projects = json_object_new_object();
        int r = cms_containers_list(m, &lo, &list, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < cms_jlen(list); i++) {
                json_object *it = json_object_array_get_idx(list, i);
                const char *name = label(it, CMS_COMPOSE_LABEL_PROJECT);
                if (!name || !*name || oneoff(it))
                        continue;
                count_container(project_entry(projects, name), it);
        }
        _cleanup_json_ json_object *stored = cms_project_store_names(m);
        for (size_t i = 0; i < cms_jlen(stored); i++) {
                json_object *p = project_entry(
                    projects, json_object_get_string(json_object_array_get_idx(stored, i)));
                json_object_object_add(p, "stored", json_object_new_boolean(true));
        }
        json_object *arr = json_object_new_array();
        json_object_object_foreach(projects, k, p)
        {
                (void)k;
                json_object_object_add(p, "status", json_object_new_string(status_of(p)));
                json_object_object_del(p, "_created");
                json_object_array_sort(cms_json_get(p, "services"), str_cmp);
                json_object_array_add(arr, json_object_get(p));
        }
        json_object_array_sort(arr, name_cmp);
        *out = arr;
        return 0;
}

/* ---- ps ---- */

static json_object *service_entry(json_object *services, const char *name)
{
        json_object *s = cms_json_get(services, name);
        if (!s) {
                s = json_object_new_object();
                json_object_object_add(s, "name", json_object_new_string(name));
                json_object_object_add(s, "containers", json_object_new_array());
                json_object_object_add(services, name, s);
        }
        return s;
}

static int number_cmp(const void *a, const void *b)
{
        int x = json_object_get_int(cms_json_get(*(json_object *const *)a, "number"));
        int y = json_object_get_int(cms_json_get(*(json_object *const *)b, "number"));
        return (x > y) - (x < y);
}

int cms_projects_ps(struct cms_manager *m, const char *name, json_object **out,
                    struct cms_error *err)
{
        if (!cms_compose_project_name_valid(name))
                return cms_err(err, 400, "invalid project name '%.64s'", name);
        _cleanup_free_ char *pl = cms_strdup_printf("%s=%s", CMS_COMPOSE_LABEL_PROJECT, name);
        const char *labels[] = {pl, NULL};
        struct cms_list_opts lo = {.all = true, .labels = labels};
        _cleanup_json_ json_object *list = NULL, *services = json_object_new_object();
        if (!pl)
                return cms_err(err, 500, "out of memory");
        int r = cms_containers_list(m, &lo, &list, err);
        if (r < 0)
                return r;
        size_t n = 0;
        for (size_t i = 0; i < cms_jlen(list); i++) {
                json_object *it = json_object_array_get_idx(list, i);
                const char *svc = label(it, CMS_COMPOSE_LABEL_SERVICE);
                if (!svc || oneoff(it))
                        continue;
                const char *num = label(it, CMS_COMPOSE_LABEL_NUMBER);
                int64_t nr = 0;
                if (!num || cms_parse_int(num, 0, INT32_MAX, &nr) < 0)
                        nr = 0;
                json_object_object_add(it, "service", json_object_new_string(svc));
                json_object_object_add(it, "number", json_object_new_int((int)nr));
                json_object_array_add(cms_json_get(service_entry(services, svc), "containers"),
                                      json_object_get(it));
                n++;
        }
        /* A stored project also shows its services that have no container now. */
        struct cms_project_record rec = {0};
        struct cms_compose_project *p = NULL;
        bool stored = cms_project_store_load(m, name, &rec, NULL) == 0;
        if (stored && cms_project_parse(m, NULL, &rec, &p, NULL, NULL) == 0)
                for (size_t i = 0; i < p->n_services; i++)
                        service_entry(services, p->services[i].name);
        cms_compose_project_free(p);
        if (n == 0 && !stored)
                return cms_err(err, 404, "no such project: %s", name);
        json_object *o = json_object_new_object(), *arr = json_object_new_array();
        json_object_object_add(o, "name", json_object_new_string(name));
        json_object_object_add(o, "stored", json_object_new_boolean(stored));
        json_object_object_add(o, "working_dir",
                               rec.working_dir ? json_object_new_string(rec.working_dir) : NULL);
        cms_project_record_done(&rec);
        json_object_object_foreach(services, k, s)
        {
                (void)k;
                json_object_array_sort(cms_json_get(s, "containers"), number_cmp);
                json_object_array_add(arr, json_object_get(s));
        }
        json_object_array_sort(arr, name_cmp);
        json_object_object_add(o, "services", arr);
        *out = o;
        return 0;
}

/* ---- down, start, stop, restart ---- */

struct ctl {
        struct cms_manager *m;
        const struct cms_pctrs *cs;
        const char *verb; /* "start", "stop", "restart", "down" */
        int timeout_s;
        bool volumes;
        bool *skip; /* per container: left alone (orphans without remove_orphans) */
        int64_t deadline;
        pthread_mutex_t mu;
        json_object *done; /* reply entries */
        int rc;
        struct cms_error err;
        size_t *todo; /* the containers of the level being worked */
        /* down and stop: the stored model, for the services' pre_stop hooks (may be NULL) */
        struct cms_compose_project *p;
        json_object *warnings; /* where failing hooks are reported (may be NULL) */
};

/* The stored project's model without reading any file (its hooks are in the compose text), or
 * NULL when there is none. */
static struct cms_compose_project *stored_model(struct cms_manager *m, const char *name)
{
        struct cms_project_record rec = {0};
        struct cms_compose_project *p = NULL;
        if (cms_project_store_load(m, name, &rec, NULL) == 0)
                cms_project_parse(m, NULL, &rec, &p, NULL, NULL);
        cms_project_record_done(&rec);
        return p;
}

static void pre_stop(struct ctl *c, const struct cms_pctr *x)
{
        const struct cms_compose_service *s = cms_compose_service_find(c->p, x->service);
        if (s && s->n_pre_stop && x->running)
                cms_project_hooks_run(c->m, s, true, x->id, &c->mu, c->warnings);
}

static void ctl_fail(struct ctl *c, int r, const struct cms_error *e)
{
        pthread_mutex_lock(&c->mu);
        if (c->rc == 0) {
                c->rc = r;
                c->err = *e;
        }
        pthread_mutex_unlock(&c->mu);
}

/* start waits for what the container depends on, as up does. */
static int ctl_gate(struct ctl *c, const struct cms_pctr *x, struct cms_error *err)
{
        for (size_t k = 0; k < cms_jlen(x->depends_on); k++) {
                json_object *d = json_object_array_get_idx(x->depends_on, k);
                const char *svc = json_object_get_string(cms_json_get(d, "service"));
                const char *cond = json_object_get_string(cms_json_get(d, "condition"));
                const char *ids[64];
                size_t n = 0;
                for (size_t i = 0; i < c->cs->n && n < ELEMENTSOF(ids); i++)
                        if (svc && !strcmp(c->cs->v[i].service, svc))
                                ids[n++] = c->cs->v[i].id;
                int r = n ? cms_project_gate(c->m, svc, ids, n, cond, c->deadline, err) : 0;
                if (r < 0)
                        return r;
        }
        return 0;
}

static void ctl_one(size_t i, void *ud)
{
        struct ctl *c = ud;
        const struct cms_pctr *x = &c->cs->v[c->todo[i]];
        struct cms_error e = {0};
        char q[64];
        long tmo = (c->timeout_s + 30) * 1000L;
        const char *action;
        int r = 0;
        if (!strcmp(c->verb, "start")) {
                r = ctl_gate(c, x, &e);
                r = r ?: cms_container_post(c->m, x->id, "/start", 0, &e);
                action = "started";
        } else if (!strcmp(c->verb, "restart")) {
                snprintf(q, sizeof(q), "/restart?t=%d", c->timeout_s);
                r = cms_container_post(c->m, x->id, q, tmo, &e);
                action = "restarted";
        } else if (!strcmp(c->verb, "down")) {
                /* A graceful stop first; the forced remove ends it whatever the stop said. */
                pre_stop(c, x);
                snprintf(q, sizeof(q), "/stop?t=%d", c->timeout_s);
                cms_container_post(c->m, x->id, q, tmo, NULL);
                r = cms_project_ctr_remove(c->m, x->id, c->volumes, &e);
                action = "removed";
        } else {
                pre_stop(c, x);
                snprintf(q, sizeof(q), "/stop?t=%d", c->timeout_s);
                r = cms_container_post(c->m, x->id, q, tmo, &e);
                action = "stopped";
        }
        if (r < 0) {
                ctl_fail(c, r, &e);
                return;
        }
        json_object *o = json_object_new_object();
        json_object_object_add(o, "service", json_object_new_string(x->service));
        json_object_object_add(o, "number", json_object_new_int(x->number));
        json_object_object_add(o, "name", json_object_new_string(x->name));
        json_object_object_add(o, "id", json_object_new_string(x->id));
        json_object_object_add(o, "action", json_object_new_string(action));
        pthread_mutex_lock(&c->mu);
        json_object_array_add(c->done, o);
        pthread_mutex_unlock(&c->mu);
}

/* Runs the verb level by level: upwards for start and restart, downwards for stop and down. */
static int ctl_run(struct ctl *c, struct cms_error *err)
{
        int *levels = NULL;
        size_t nl = cms_pctrs_levels(c->cs, &levels);
        c->todo = calloc(c->cs->n + 1, sizeof(size_t));
        if (!levels || !c->todo) {
                free(levels);
                free(c->todo);
                return cms_err(err, 500, "out of memory");
        }
        bool up = !strcmp(c->verb, "start") || !strcmp(c->verb, "restart");
        for (size_t k = 0; k < nl && c->rc == 0; k++) {
                int l = up ? (int)k : (int)(nl - 1 - k);
                size_t n = 0;
                for (size_t i = 0; i < c->cs->n; i++)
                        if (levels[i] == l && !(c->skip && c->skip[i]))
                                c->todo[n++] = i;
                cms_project_parallel(n, 16, ctl_one, c);
        }
        free(levels);
        free(c->todo);
        if (c->rc < 0 && err)
                *err = c->err;
        return c->rc;
}

static int ctl_timeout(json_object *body, int def, int *out, struct cms_error *err)
{
        json_object *t = cms_json_get(body, "timeout");
        int64_t ms;
        *out = def;
        if (!t)
                return 0;
        if (cms_json_duration_ms(t, &ms) < 0 || ms < 0 || ms > 3600 * 1000)
                return cms_err(err, 400, "body.timeout: expected a duration up to 1h");
        *out = (int)(ms / 1000);
        return 0;
}

int cms_projects_action(struct cms_manager *m, const char *name, enum cms_action a, int timeout_s,
                        json_object **out, struct cms_error *err)
{
        static const char *const verbs[] = {[CMS_ACTION_START] = "start",
                                            [CMS_ACTION_STOP] = "stop",
                                            [CMS_ACTION_RESTART] = "restart"};
        if (a != CMS_ACTION_START && a != CMS_ACTION_STOP && a != CMS_ACTION_RESTART)
                return cms_err(err, 400, "projects can be started, stopped or restarted");
        if (!cms_compose_project_name_valid(name))
                return cms_err(err, 400, "invalid project name '%.64s'", name);
        struct cms_pctrs cs = {0};
        struct ctl c = {.m = m,
                        .cs = &cs,
                        .verb = verbs[a],
                        .timeout_s = timeout_s < 0 ? 10 : timeout_s,
                        .deadline = cms_now_ms() + 120000,
                        .done = json_object_new_array(),
                        .warnings = json_object_new_array()};
        pthread_mutex_init(&c.mu, NULL);
        int r = cms_project_lock(m, name, err);
        if (r == 0) {
                r = cms_project_containers(m, name, &cs, err);
                if (r == 0 && cs.n == 0)
                        r = cms_err(err, 404, "no such project: %s (it has no containers)", name);
                if (r == 0 && a == CMS_ACTION_STOP)
                        c.p = stored_model(m, name);
                r = r ?: ctl_run(&c, err);
                cms_project_unlock(m, name);
        }
        cms_pctrs_done(&cs);
        cms_compose_project_free(c.p);
        pthread_mutex_destroy(&c.mu);
        if (r < 0) {
                json_object_put(c.done);
                json_object_put(c.warnings);
                return r;
        }
        *out = json_object_new_object();
        json_object_object_add(*out, "name", json_object_new_string(name));
        json_object_object_add(*out, "containers", c.done);
        json_object_object_add(*out, "warnings", c.warnings);
        return 0;
}

/* The project's networks and (with volumes) volumes, by their project label. */
static void down_resources(struct cms_manager *m, const char *name, bool volumes,
                           json_object *reply)
{
        _cleanup_free_ char *pl = cms_strdup_printf("%s=%s", CMS_COMPOSE_LABEL_PROJECT, name);
        const char *labels[] = {pl, NULL};
        json_object *warnings = cms_json_get(reply, "warnings");
        _cleanup_json_ json_object *nets = NULL, *vols = NULL;
        if (pl && cms_networks_list(m, labels, &nets, NULL) == 0)
                for (size_t i = 0; i < cms_jlen(nets); i++) {
                        const char *n = json_object_get_string(
                            cms_json_get(json_object_array_get_idx(nets, i), "name"));
                        _cleanup_json_ json_object *o = NULL;
                        struct cms_error e = {0};
                        if (n && cms_networks_remove(m, n, &o, &e) == 0)
                                json_object_array_add(cms_json_get(reply, "networks"),
                                                      json_object_new_string(n));
                        else if (n)
                                json_object_array_add(warnings, json_object_new_string(e.message));
                }
        if (volumes && pl && cms_volumes_list(m, labels, false, &vols, NULL) == 0)
                for (size_t i = 0; i < cms_jlen(vols); i++) {
                        const char *n = json_object_get_string(
                            cms_json_get(json_object_array_get_idx(vols, i), "name"));
                        _cleanup_json_ json_object *o = NULL;
                        struct cms_error e = {0};
                        if (n && cms_volumes_remove(m, n, false, &o, &e) == 0)
                                json_object_array_add(cms_json_get(reply, "volumes"),
                                                      json_object_new_string(n));
                        else if (n)
                                json_object_array_add(warnings, json_object_new_string(e.message));
                }
}

/* With a stored file, containers of services no longer in it are orphans: down leaves them
 * unless remove_orphans (and says so). */
static int mark_orphans(struct cms_manager *m, const char *name, const struct cms_pctrs *cs,
                        bool remove_orphans, bool **skip, json_object *warnings)
{
        struct cms_project_record rec = {0};
        struct cms_compose_project *p = NULL;
        *skip = calloc(cs->n + 1, sizeof(bool));
        if (!*skip)
                return -ENOMEM;
        if (remove_orphans || cms_project_store_load(m, name, &rec, NULL) < 0)
                return 0;
        if (cms_project_parse(m, NULL, &rec, &p, NULL, NULL) == 0)
                for (size_t i = 0; i < cs->n; i++)
                        if (!cms_compose_service_find(p, cs->v[i].service)) {
                                (*skip)[i] = true;
                                char buf[400];
                                snprintf(buf, sizeof(buf),
                                         "orphan container %s left running "
                                         "(remove_orphans removes it)",
                                         cs->v[i].name);
                                json_object_array_add(warnings, json_object_new_string(buf));
                        }
        cms_compose_project_free(p);
        cms_project_record_done(&rec);
        return 0;
}

int cms_projects_down(struct cms_manager *m, const char *name, json_object *body, json_object **out,
                      struct cms_error *err)
{
        static const char *const keys[] = {"volumes", "remove_orphans", "timeout", NULL};
        bool volumes = false, orphans = false;
        int timeout_s = 10;
        if (!cms_compose_project_name_valid(name))
                return cms_err(err, 400, "invalid project name '%.64s'", name);
        if (body && !json_object_is_type(body, json_type_object))
                return cms_err(err, 400, "body: expected a JSON object");
        int r = cms_json_check_keys(body, "body", keys, err);
        r = r ?: cms_json_get_bool(body, "body", "volumes", false, &volumes, err);
        r = r ?: cms_json_get_bool(body, "body", "remove_orphans", false, &orphans, err);
        r = r ?: ctl_timeout(body, 10, &timeout_s, err);
        if (r < 0)
                return r;
        struct cms_pctrs cs = {0};
        json_object *reply = json_object_new_object();
        json_object_object_add(reply, "name", json_object_new_string(name));
        json_object_object_add(reply, "networks", json_object_new_array());
        json_object_object_add(reply, "volumes", json_object_new_array());
        json_object_object_add(reply, "warnings", json_object_new_array());
        struct ctl c = {.m = m,
                        .cs = &cs,
                        .verb = "down",
                        .timeout_s = timeout_s,
                        .volumes = volumes,
                        .done = json_object_new_array(),
                        .warnings = cms_json_get(reply, "warnings")};
        json_object_object_add(reply, "containers", c.done);
        pthread_mutex_init(&c.mu, NULL);
        r = cms_project_lock(m, name, err);
        if (r == 0) {
                r = cms_project_containers(m, name, &cs, err);
                if (r == 0 && mark_orphans(m, name, &cs, orphans, &c.skip,
                                           cms_json_get(reply, "warnings")) < 0)
                        r = cms_err(err, 500, "out of memory");
                if (r == 0)
                        c.p = stored_model(m, name);
                r = r ?: ctl_run(&c, err);
                if (r == 0)
                        down_resources(m, name, volumes, reply);
                if (r == 0)
                        cms_project_files_remove(m, name);
                cms_project_unlock(m, name);
        }
        bool nothing = r == 0 && !cs.n && !cms_jlen(cms_json_get(reply, "networks")) &&
                       !cms_jlen(cms_json_get(reply, "volumes"));
        cms_pctrs_done(&cs);
        cms_compose_project_free(c.p);
        free(c.skip);
        pthread_mutex_destroy(&c.mu);
        if (r == 0 && nothing) {
                struct cms_project_record rec = {0};
                if (cms_project_store_load(m, name, &rec, NULL) < 0)
                        r = cms_err(err, 404, "no such project: %s", name);
                cms_project_record_done(&rec);
        }
        if (r < 0) {
                json_object_put(reply);
                return r;
        }
        *out = reply;
        return 0;
}
