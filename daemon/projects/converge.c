/* The containers of an `up`, in two phases as Docker Compose v2 does: first every container to
 * make is created (and every one to replace is stopped and set aside), level by level with the
 * services of a level in parallel; then they are started, each service as soon as its own
 * dependencies are through and their conditions hold. Creation needs no waiting, so a chain of
 * dependencies costs one start per link instead of a create and a start. What is not started
 * when something fails is undone: new containers go, set-aside ones come back as they were. */
#include <sys/stat.h>

#include "internal.h"

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
                if (create && stat(src, &st) < 0)
                        cms_mkdir_p(src, 0755);
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

/* Docker takes a seccomp profile's content in SecurityOpt, not its path (Podman opens the path on
 * its host, which is this one): the "seccomp=<path>" entry becomes "seccomp=<profile>". */
static void seccomp_content(json_object *body, const char *profile)
{
        json_object *opts = cms_json_get(cms_json_get(body, "HostConfig"), "SecurityOpt");
        for (size_t i = 0; i < cms_jlen(opts); i++) {
                const char *o = json_object_get_string(json_object_array_get_idx(opts, i));
                if (!o || !cms_str_has_prefix(o, "seccomp=/"))
                        continue;
                char *v = cms_strdup_printf("seccomp=%s", profile);
                if (v)
                        json_object_array_put_idx(opts, i, json_object_new_string(v));
                free(v);
        }
}

static void add_warnings(struct cms_up_run *u, json_object *list)
{
        pthread_mutex_lock(&u->mu);
        for (size_t i = 0; i < cms_jlen(list); i++)
                cms_project_warn(u->warnings, "%s",
                                 json_object_get_string(json_object_array_get_idx(list, i)));
        pthread_mutex_unlock(&u->mu);
}

int cms_project_prepare(const struct cms_compose_project *p, enum cms_runtime rt,
                        const struct cms_compose_service *s, int number,
                        struct cms_compose_container *c, struct cms_create_spec *spec,
                        struct cms_error *err)
{
        memset(spec, 0, sizeof(*spec));
        int r = cms_compose_translate(p, s, number, c, err);
        if (r == 0 && (r = cms_container_spec_from_config(c->config, rt, spec, err)) < 0)
                cms_project_prefix_error(err, "services.", s->name);
        if (r < 0) {
                cms_compose_container_done(c);
                return r;
        }
        merge_extras(spec->body, c->create_extras);
        if (rt != CMS_RUNTIME_PODMAN && s->host.seccomp_profile)
                seccomp_content(spec->body, s->host.seccomp_profile);
        cms_compose_engine_notes(s, rt == CMS_RUNTIME_PODMAN, cms_runtime_name(rt), c->warnings);
        return 0;
}

static bool anonymous_volume(const char *name)
{
        return name && strlen(name) == 64 && strspn(name, "0123456789abcdef") == 64;
}

/* The new container's mount at target, or NULL. */
static json_object *mount_at(json_object *mounts, const char *target)
{
        for (size_t i = 0; i < cms_jlen(mounts); i++) {
                json_object *m = json_object_array_get_idx(mounts, i);
                const char *t = json_object_get_string(cms_json_get(m, "Target"));
                if (t && !strcmp(t, target))
                        return m;
        }
        return NULL;
}

/* A replacement keeps its predecessor's anonymous volumes (an image's VOLUME, a bare "/data"),
 * as Compose does: their data would otherwise be left behind in a dangling volume. */
static void keep_anonymous_volumes(struct cms_up_run *u, const char *old_id, json_object *body)
{
        _cleanup_json_ json_object *raw = NULL;
        if (!old_id || cms_container_inspect_raw(u->m, old_id, &raw, NULL) < 0)
                return;
        json_object *hc = cms_json_get(body, "HostConfig");
        if (!hc) {
                hc = json_object_new_object();
                json_object_object_add(body, "HostConfig", hc);
        }
        json_object *mounts = cms_json_get(hc, "Mounts");
        json_object *tmpfs = cms_json_get(hc, "Tmpfs");
        json_object *old = cms_json_get(raw, "Mounts");
        for (size_t i = 0; i < cms_jlen(old); i++) {
                json_object *m = json_object_array_get_idx(old, i);
                const char *type = json_object_get_string(cms_json_get(m, "Type"));
                const char *name = json_object_get_string(cms_json_get(m, "Name"));
                const char *dst = json_object_get_string(cms_json_get(m, "Destination"));
                if (!type || strcmp(type, "volume") || !anonymous_volume(name) || !dst ||
                    json_object_object_get_ex(tmpfs, dst, NULL))
                        continue;
                json_object *same = mount_at(mounts, dst);
                const char *st = json_object_get_string(cms_json_get(same, "Type"));
                const char *ss = json_object_get_string(cms_json_get(same, "Source"));
                if (same) {
                        /* The file's own anonymous volume ("/data"): the old one fills it. */
                        if (st && !strcmp(st, "volume") && (!ss || !*ss))
                                json_object_object_add(same, "Source",
                                                       json_object_new_string(name));
                        continue;
                }
                if (!mounts) {
                        mounts = json_object_new_array();
                        json_object_object_add(hc, "Mounts", mounts);
                }
                json_object *n = json_object_new_object();
                json_object_object_add(n, "Type", json_object_new_string("volume"));
                json_object_object_add(n, "Source", json_object_new_string(name));
                json_object_object_add(n, "Target", json_object_new_string(dst));
                json_object_array_add(mounts, n);
        }
}

/* Create (not start) one container and join its further networks; old_id: the container it
 * replaces (may be NULL). */
static int create_one(struct cms_up_run *u, const struct cms_compose_service *s, int number,
                      const char *old_id, char **id, struct cms_error *err)
{
        struct cms_compose_container c;
        struct cms_create_spec spec;
        int r = cms_project_prepare(u->p, u->rt, s, number, &c, &spec, err);
        if (r < 0)
                return r;
        char prefix[200];
        snprintf(prefix, sizeof(prefix), "services.%s.", s->name);
        spec.policy_prefix = prefix;
        spec.own_containers = (const char *const *)u->own;
        make_bind_sources(s, c.config);
        keep_anonymous_volumes(u, old_id, spec.body);
        _cleanup_json_ json_object *made = NULL;
        r = cms_project_files_mount(u->m, u->p, s, spec.body, err);
        r = r ?: cms_container_create_spec(u->m, u->o->who, &spec, false, &made, err);
        const char *cid = made ? json_object_get_string(cms_json_get(made, "id")) : NULL;
        for (size_t i = 0; r == 0 && i < cms_jlen(c.networks); i++) {
                json_object *n = json_object_array_get_idx(c.networks, i), *o = NULL;
                _cleanup_json_ json_object *body = json_object_new_object();
                json_object_object_add(body, "container", json_object_new_string(cid));
                json_object_object_add(body, "aliases",
                                       json_object_get(cms_json_get(n, "aliases")));
                if (cms_json_get(n, "ip_address"))
                        json_object_object_add(body, "ip_address",
                                               json_object_get(cms_json_get(n, "ip_address")));
                r = cms_networks_connect(u->m, json_object_get_string(cms_json_get(n, "network")),
                                         body, &o, err);
                json_object_put(o);
        }
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

static const struct cms_pctr *existing_by_id(struct cms_up_run *u, const char *id)
{
        for (size_t i = 0; id && i < u->existing->n; i++)
                if (!strcmp(u->existing->v[i].id, id))
                        return &u->existing->v[i];
        return NULL;
}

static int stop_ctr(struct cms_up_run *u, const struct cms_compose_service *s, const char *id,
                    struct cms_error *err)
{
        int64_t grace = s && s->stop_grace_period_ms >= 0 ? s->stop_grace_period_ms : 10000;
        char q[64];
        snprintf(q, sizeof(q), "/stop?t=%lld", (long long)(grace / 1000));
        return cms_container_post(u->m, id, q, (long)grace + 30000, err);
}

static int rename_ctr(struct cms_up_run *u, const char *id, const char *name, struct cms_error *err)
{
        _cleanup_free_ char *esc = cms_url_escape(name);
        _cleanup_free_ char *q = esc ? cms_strdup_printf("/rename?name=%s", esc) : NULL;
        return q ? cms_container_post(u->m, id, q, 0, err) : cms_err(err, 500, "out of memory");
}

/* Stop the old container and rename it aside, so the new one can take its name. */
static int set_aside(struct cms_up_run *u, const struct cms_compose_service *s,
                     const struct cms_compose_action *a, struct cms_up_job *j,
                     struct cms_error *err)
{
        const struct cms_pctr *old = existing_by_id(u, a->id);
        j->old_running = old && old->running;
        j->old_name = strdup(old ? old->name : s->name);
        _cleanup_free_ char *aside =
            cms_strdup_printf("%.12s_%s", a->id, j->old_name ? j->old_name : "");
        if (!j->old_name || !aside)
                return cms_err(err, 500, "out of memory");
        if (j->old_running && s->n_pre_stop)
                cms_project_hooks_run(u->m, s, true, a->id, &u->mu, u->warnings);
        int r = stop_ctr(u, s, a->id, err);
        r = r ?: rename_ctr(u, a->id, aside, err);
        if (r == 0)
                j->aside = true;
        else if (j->old_running)
                cms_container_post(u->m, a->id, "/start", 0, NULL);
        return r;
}

/* Undoes a job that was not started: the new container goes, the old one comes back. */
static void undo(struct cms_up_run *u, size_t k)
{
        struct cms_up_job *j = &u->jobs[k];
        if (j->started)
                return;
        if (j->id)
                cms_project_ctr_remove(u->m, j->id, true, NULL);
        free(j->id);
        j->id = NULL;
        if (j->aside) {
                rename_ctr(u, u->acts[k].id, j->old_name, NULL);
                if (j->old_running)
                        cms_container_post(u->m, u->acts[k].id, "/start", 0, NULL);
                j->aside = false;
        }
}

static void add_result(struct cms_up_run *u, size_t svc, int number, const char *id,
                       const char *action)
{
        const struct cms_compose_service *s = &u->p->services[svc];
        const struct cms_pctr *x = existing_by_id(u, id);
        _cleanup_free_ char *name =
            x ? strdup(x->name) : cms_compose_container_name(u->p, s, number);
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

/* Progress: a container of service svc (number: its name when id is not an existing one). */
static void note(struct cms_up_run *u, size_t svc, int number, const char *id, const char *status)
{
        if (!u->o->progress)
                return;
        const struct cms_compose_service *s = &u->p->services[svc];
        const struct cms_pctr *x = existing_by_id(u, id);
        _cleanup_free_ char *name = x ? NULL : cms_compose_container_name(u->p, s, number);
        cms_up_note(u->o, &(struct cms_up_event){.service = s->name,
                                                 .container = x ? x->name : name,
                                                 .status = status});
}

/* ---- phase 1: create ---- */

static int create_action(struct cms_up_run *u, size_t k, struct cms_error *err)
{
        const struct cms_compose_action *a = &u->acts[k];
        const struct cms_compose_service *s = &u->p->services[a->service];
        struct cms_up_job *j = &u->jobs[k];
        int r = 0;
        switch (a->kind) {
        case CMS_COMPOSE_ACTION_RECREATE:
                note(u, a->service, a->number, NULL, "recreating");
                if ((r = set_aside(u, s, a, j, err)) < 0)
                        return r;
                return create_one(u, s, a->number, a->id, &j->id, err);
        case CMS_COMPOSE_ACTION_CREATE:
                note(u, a->service, a->number, NULL, "creating");
                return create_one(u, s, a->number, NULL, &j->id, err);
        case CMS_COMPOSE_ACTION_REMOVE:
                note(u, a->service, a->number, a->id, "removing");
                stop_ctr(u, s, a->id, NULL);
                if ((r = cms_project_ctr_remove(u->m, a->id, false, err)) == 0) {
                        add_result(u, a->service, a->number, a->id, "removed");
                        note(u, a->service, a->number, a->id, "removed");
                }
                return r;
        default:
                return 0;
        }
}

static void service_create(size_t i, void *ud)
{
        struct cms_up_run *u = ud;
        size_t svc = u->level[i];
        int r = 0;
        for (size_t k = 0; r == 0 && k < u->n_acts; k++)
                if (u->acts[k].service == svc)
                        r = create_action(u, k, &u->errs[svc]);
        u->rc[svc] = r;
        u->failed[svc] = r < 0;
}

/* ---- phase 2: start ---- */

static size_t svc_index(const struct cms_compose_project *p, const char *name)
{
        const struct cms_compose_service *s = cms_compose_service_find(p, name);
        return s ? (size_t)(s - p->services) : SIZE_MAX;
}

static bool touched(const struct cms_up_run *u, const struct cms_compose_service *s)
{
        return !u->o->only || json_object_object_get_ex(u->o->only, s->name, NULL);
}

static int gate_one_dep(struct cms_up_run *u, const struct cms_compose_dep *d, size_t di,
                        struct cms_error *err)
{
        static const char *const cond[] = {"service_started", "service_healthy",
                                           "service_completed_successfully"};
        if (u->failed[di])
                return cms_err(err, 409, "dependency failed to start: service \"%s\"", d->service);
        pthread_mutex_lock(&u->mu);
        json_object *ids = json_object_get(u->ids[di]);
        pthread_mutex_unlock(&u->mu);
        size_t n = cms_jlen(ids);
        const char **v = calloc(n + 1, sizeof(*v));
        for (size_t i = 0; v && i < n; i++)
                v[i] = json_object_get_string(json_object_array_get_idx(ids, i));
        static const char *const reached[] = {NULL, "healthy", "exited"};
        if (reached[d->condition])
                cms_up_note(u->o,
                            &(struct cms_up_event){.service = d->service, .status = "waiting"});
        int r = v ? cms_project_gate(u->m, d->service, v, n, cond[d->condition], u->deadline, err)
                  : cms_err(err, 500, "out of memory");
        if (r == 0 && reached[d->condition])
                cms_up_note(u->o, &(struct cms_up_event){.service = d->service,
                                                         .status = reached[d->condition]});
        free(v);
        json_object_put(ids);
        return r;
}

static int gate_deps(struct cms_up_run *u, const struct cms_compose_service *s,
                     struct cms_error *err)
{
        for (size_t k = 0; k < s->n_depends_on; k++) {
                const struct cms_compose_dep *d = &s->depends_on[k];
                size_t di = svc_index(u->p, d->service);
                struct cms_error e = {0};
                int r = di == SIZE_MAX ? 0 : gate_one_dep(u, d, di, &e);
                if (r < 0 && !d->required) {
                        pthread_mutex_lock(&u->mu);
                        cms_project_warn(u->warnings, "%s: optional dependency %s: %s", s->name,
                                         d->service, e.message);
                        pthread_mutex_unlock(&u->mu);
                } else if (r < 0) {
                        if (err)
                                *err = e;
                        return r;
                }
        }
        return 0;
}

static void post_start(struct cms_up_run *u, const struct cms_compose_action *a, const char *id)
{
        const struct cms_compose_service *s = &u->p->services[a->service];
        if (s->n_post_start)
                cms_project_hooks_run(u->m, s, false, id, &u->mu, u->warnings);
}

static int start_action(struct cms_up_run *u, size_t k, struct cms_error *err)
{
        const struct cms_compose_action *a = &u->acts[k];
        struct cms_up_job *j = &u->jobs[k];
        int r = 0;
        switch (a->kind) {
        case CMS_COMPOSE_ACTION_CREATE:
        case CMS_COMPOSE_ACTION_RECREATE:
                note(u, a->service, a->number, j->id, "starting");
                if ((r = cms_container_post(u->m, j->id, "/start", 0, err)) < 0)
                        return r;
                j->started = true;
                post_start(u, a, j->id);
                /* The old container is only needed to go back to. */
                if (j->aside)
                        cms_project_ctr_remove(u->m, a->id, false, NULL);
                add_result(u, a->service, a->number, j->id,
                           a->kind == CMS_COMPOSE_ACTION_CREATE ? "created" : "recreated");
                note(u, a->service, a->number, j->id,
                     a->kind == CMS_COMPOSE_ACTION_CREATE ? "started" : "recreated");
                return 0;
        case CMS_COMPOSE_ACTION_START:
                note(u, a->service, a->number, a->id, "starting");
                if ((r = cms_container_post(u->m, a->id, "/start", 0, err)) == 0) {
                        post_start(u, a, a->id);
                        add_result(u, a->service, a->number, a->id, "started");
                        note(u, a->service, a->number, a->id, "started");
                }
                return r;
        case CMS_COMPOSE_ACTION_KEEP:
                add_result(u, a->service, a->number, a->id, "kept");
                note(u, a->service, a->number, a->id, "running");
                return 0;
        default:
                return 0;
        }
}

/* Waits until every dependency this up works on is through its start phase. The services are
 * taken in level order, so what one waits for has been taken by another thread already. */
static void wait_for_deps(struct cms_up_run *u, const struct cms_compose_service *s)
{
        pthread_mutex_lock(&u->mu);
        for (;;) {
                bool ready = true;
                for (size_t k = 0; ready && k < s->n_depends_on; k++) {
                        size_t di = svc_index(u->p, s->depends_on[k].service);
                        ready = di == SIZE_MAX || !touched(u, &u->p->services[di]) || u->done[di];
                }
                if (ready)
                        break;
                pthread_cond_wait(&u->cv, &u->mu);
        }
        pthread_mutex_unlock(&u->mu);
}

static void service_start(size_t i, void *ud)
{
        struct cms_up_run *u = ud;
        size_t svc = u->level[i];
        const struct cms_compose_service *s = &u->p->services[svc];
        wait_for_deps(u, s);
        int r = gate_deps(u, s, &u->errs[svc]);
        for (size_t k = 0; r == 0 && k < u->n_acts; k++)
                if (u->acts[k].service == svc)
                        r = start_action(u, k, &u->errs[svc]);
        pthread_mutex_lock(&u->mu);
        u->rc[svc] = r;
        u->failed[svc] = r < 0;
        u->done[svc] = true;
        pthread_cond_broadcast(&u->cv);
        pthread_mutex_unlock(&u->mu);
}

/* Containers of services up leaves alone still count for their dependents' gates. */
static void ids_of_untouched(struct cms_up_run *u)
{
        for (size_t i = 0; i < u->existing->n; i++) {
                const struct cms_pctr *x = &u->existing->v[i];
                size_t svc = svc_index(u->p, x->service);
                if (svc != SIZE_MAX && !touched(u, &u->p->services[svc]))
                        json_object_array_add(u->ids[svc], json_object_new_string(x->id));
        }
}

/* The first of the services just run (todo[0..n)) that failed: its rc, its error in err. */
static int first_failure(struct cms_up_run *u, const size_t *todo, size_t n, struct cms_error *err)
{
        for (size_t k = 0; k < n; k++)
                if (u->rc[todo[k]] < 0) {
                        if (err)
                                *err = u->errs[todo[k]];
                        return u->rc[todo[k]];
                }
        return 0;
}

/* The start phase: all services in one pool, in level order, each starting as soon as its own
 * dependencies are through (not its whole level: one slow start holds back only what depends
 * on it). The first failure in level order is returned. */
static int start_phase(struct cms_up_run *u, struct cms_error *err)
{
        _cleanup_free_ size_t *todo = calloc(u->p->n_services + 1, sizeof(size_t));
        u->done = calloc(u->p->n_services + 1, sizeof(bool));
        if (!todo || !u->done)
                return cms_err(err, 500, "out of memory");
        size_t n = 0;
        for (size_t l = 0; l < u->pl->n_levels; l++)
                for (size_t k = 0; k < u->pl->levels[l].n; k++)
                        if (touched(u, &u->p->services[u->pl->levels[l].services[k]]))
                                todo[n++] = u->pl->levels[l].services[k];
        u->level = todo;
        pthread_cond_init(&u->cv, NULL);
        cms_project_parallel(n, 16, service_start, u);
        pthread_cond_destroy(&u->cv);
        return first_failure(u, todo, n, err);
}

/* The create phase, level by level (network_mode service:x needs x's container to exist); the
 * first failure ends it and is returned. */
static int create_phase(struct cms_up_run *u, struct cms_error *err)
{
        _cleanup_free_ size_t *todo = calloc(u->p->n_services + 1, sizeof(size_t));
        if (!todo)
                return cms_err(err, 500, "out of memory");
        for (size_t l = 0; l < u->pl->n_levels; l++) {
                const struct cms_compose_level *lv = &u->pl->levels[l];
                size_t n = 0;
                for (size_t k = 0; k < lv->n; k++)
                        if (touched(u, &u->p->services[lv->services[k]]))
                                todo[n++] = lv->services[k];
                u->level = todo;
                cms_project_parallel(n, 16, service_create, u);
                int r = first_failure(u, todo, n, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int remove_orphans(struct cms_up_run *u, struct cms_error *err)
{
        for (size_t k = 0; k < u->n_acts; k++) {
                const struct cms_compose_action *a = &u->acts[k];
                if (a->service != SIZE_MAX)
                        continue;
                const struct cms_pctr *x = existing_by_id(u, a->id);
                stop_ctr(u, NULL, a->id, NULL);
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
                cms_up_note(u->o, &(struct cms_up_event){.service = x ? x->service : "",
                                                         .container = x ? x->name : a->id,
                                                         .status = "removed"});
        }
        return 0;
}

static int wait_ready(struct cms_up_run *u, struct cms_error *err)
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
                cms_up_note(u->o, &(struct cms_up_event){.service = u->p->services[i].name,
                                                         .status = "waiting"});
                int r =
                    cms_project_gate(u->m, u->p->services[i].name, v, n, "ready", u->deadline, err);
                free(v);
                if (r < 0)
                        return r;
                cms_up_note(u->o, &(struct cms_up_event){.service = u->p->services[i].name,
                                                         .status = "ready"});
        }
        return 0;
}

int cms_project_converge(struct cms_up_run *u, struct cms_error *err)
{
        ids_of_untouched(u);
        int r = create_phase(u, err);
        r = r ?: start_phase(u, err);
        for (size_t k = 0; k < u->n_acts; k++) {
                if (r < 0)
                        undo(u, k);
                free(u->jobs[k].id);
                free(u->jobs[k].old_name);
        }
        free(u->done);
        u->done = NULL;
        r = r ?: remove_orphans(u, err);
        if (r == 0 && u->o->wait)
                r = wait_ready(u, err);
        return r;
}
