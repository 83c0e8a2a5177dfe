/* The engine side of compose projects that every operation shares: finding a project's
 * containers from their labels (so projects made by docker compose are found too), ordering them
 * by their depends_on labels, waiting for dependency conditions, and running work on several
 * threads at once. */
#include <pthread.h>
#include <time.h>

#include "internal.h"

void cms_project_warn(json_object *warnings, const char *fmt, ...)
{
        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        cms_compose_warn(warnings, buf);
}

void cms_pctrs_done(struct cms_pctrs *c)
{
        for (size_t i = 0; i < c->n; i++) {
                struct cms_pctr *x = &c->v[i];
                free(x->id);
                free(x->name);
                free(x->service);
                free(x->hash);
                free(x->state);
                json_object_put(x->depends_on);
        }
        free(c->v);
        memset(c, 0, sizeof(*c));
}

/* "db:service_healthy:false,redis:service_started:true" -> [{"service","condition"}]. */
static json_object *parse_depends_on(const char *label)
{
        json_object *a = json_object_new_array();
        for (const char *p = label; p && *p;) {
                size_t l = strcspn(p, ",");
                _cleanup_free_ char *item = strndup(p, l);
                char *c1 = item ? strchr(item, ':') : NULL;
                if (item && *item) {
                        json_object *d = json_object_new_object();
                        if (c1)
                                *c1 = 0;
                        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                        if (c2)
                                *c2 = 0;
                        json_object_object_add(d, "service", json_object_new_string(item));
                        json_object_object_add(
                            d, "condition",
                            json_object_new_string(c1 && c1[1] ? c1 + 1 : "service_started"));
                        json_object_array_add(a, d);
                }
                p += l + (p[l] == ',');
        }
        return a;
}

static int pctr_cmp(const void *a, const void *b)
{
        const struct cms_pctr *x = a, *y = b;
        int c = strcmp(x->service, y->service);
        return c ? c : (x->number > y->number) - (x->number < y->number);
}

static const char *label_of(json_object *labels, const char *k)
{
        return json_object_get_string(cms_json_get(labels, k));
}

static int fill_pctr(json_object *it, struct cms_pctr *x)
{
        json_object *labels = cms_json_get(it, "Labels");
        json_object *names = cms_json_get(it, "Names");
        const char *name = json_object_get_string(json_object_array_get_idx(names, 0));
        const char *state = json_object_get_string(cms_json_get(it, "State"));
        const char *num = label_of(labels, CMS_COMPOSE_LABEL_NUMBER);
        const char *hash = label_of(labels, CMS_COMPOSE_LABEL_HASH);
        int64_t n = 0;
        if (num && cms_parse_int(num, 1, INT32_MAX, &n) < 0)
                n = 0;
        x->number = (int)n;
        x->id = strdup(json_object_get_string(cms_json_get(it, "Id")));
        x->name = strdup(name ? name + (*name == '/') : "");
        x->service = strdup(label_of(labels, CMS_COMPOSE_LABEL_SERVICE));
        x->hash = hash ? strdup(hash) : NULL;
        x->state = strdup(cms_container_state_name(state ? state : ""));
        x->running = state && !strcmp(state, "running");
        x->depends_on = parse_depends_on(label_of(labels, CMS_COMPOSE_LABEL_DEPENDS_ON));
        return x->id && x->name && x->service && x->state && (!hash || x->hash) ? 0 : -ENOMEM;
}

int cms_project_containers(struct cms_manager *m, const char *project, struct cms_pctrs *out,
                           struct cms_error *err)
{
        memset(out, 0, sizeof(*out));
        _cleanup_json_ json_object *filters = json_object_new_object(), *list = NULL;
        json_object *lab = json_object_new_array();
        json_object_object_add(filters, "label", lab);
        _cleanup_free_ char *pl = cms_strdup_printf("%s=%s", CMS_COMPOSE_LABEL_PROJECT, project);
        if (!pl)
                return cms_err(err, 500, "out of memory");
        json_object_array_add(lab, json_object_new_string(pl));
        _cleanup_free_ char *f =
            cms_url_escape(json_object_to_json_string_ext(filters, JSON_C_TO_STRING_PLAIN));
        _cleanup_free_ char *path =
            f ? cms_strdup_printf("/containers/json?all=1&filters=%s", f) : NULL;
        if (!path)
                return cms_err(err, 500, "out of memory");
        int r = cms_engine_json(m->engine, "GET", path, NULL, &list, err);
        if (r < 0)
                return r;
        size_t n = json_object_is_type(list, json_type_array) ? cms_jlen(list) : 0;
        out->v = calloc(n + 1, sizeof(*out->v));
        if (!out->v)
                return cms_err(err, 500, "out of memory");
        for (size_t i = 0; i < n; i++) {
                json_object *it = json_object_array_get_idx(list, i);
                json_object *labels = cms_json_get(it, "Labels");
                const char *svc = label_of(labels, CMS_COMPOSE_LABEL_SERVICE);
                const char *oneoff = label_of(labels, CMS_COMPOSE_LABEL_ONEOFF);
                /* `run` containers are not part of the project's services. */
                if (!svc || !*svc || (oneoff && !strcasecmp(oneoff, "true")) ||
                    !json_object_get_string(cms_json_get(it, "Id")))
                        continue;
                if (fill_pctr(it, &out->v[out->n++]) < 0) {
                        cms_pctrs_done(out);
                        return cms_err(err, 500, "out of memory");
                }
        }
        qsort(out->v, out->n, sizeof(*out->v), pctr_cmp);
        return 0;
}

/* The level of a service: 1 + the highest level of what it depends on. */
static int level_of(const struct cms_pctrs *cs, const char *svc, int depth)
{
        if (depth > 64)
                return -1;
        int lv = 0;
        for (size_t i = 0; i < cs->n; i++) {
                if (strcmp(cs->v[i].service, svc))
                        continue;
                json_object *d = cs->v[i].depends_on;
                for (size_t k = 0; k < cms_jlen(d); k++) {
                        const char *dep = json_object_get_string(
                            cms_json_get(json_object_array_get_idx(d, k), "service"));
                        if (!dep || !strcmp(dep, svc))
                                continue;
                        int l = level_of(cs, dep, depth + 1);
                        if (l < 0)
                                return -1;
                        if (l + 1 > lv)
                                lv = l + 1;
                }
                break; /* one container's label speaks for the service */
        }
        return lv;
}

size_t cms_pctrs_levels(const struct cms_pctrs *cs, int **levels)
{
        *levels = calloc(cs->n + 1, sizeof(int));
        if (!*levels)
                return 0;
        int max = 0;
        for (size_t i = 0; i < cs->n; i++) {
                int l = level_of(cs, cs->v[i].service, 0);
                (*levels)[i] = l < 0 ? 0 : l;
                if ((*levels)[i] > max)
                        max = (*levels)[i];
        }
        return cs->n ? (size_t)max + 1 : 0;
}

/* 1: met, 0: not yet, <0: can no longer be met. */
static int gate_one(struct cms_manager *m, const char *service, const char *id,
                    const char *condition, struct cms_error *err)
{
        _cleanup_json_ json_object *raw = NULL;
        int r = cms_container_inspect_raw(m, id, &raw, err);
        if (r < 0)
                return r;
        json_object *st = cms_json_get(raw, "State");
        bool running = json_object_get_boolean(cms_json_get(st, "Running"));
        const char *status = json_object_get_string(cms_json_get(st, "Status"));
        int code = json_object_get_int(cms_json_get(st, "ExitCode"));
        if (!strcmp(condition, "service_completed_successfully")) {
                if (running || (status && !strcmp(status, "created")))
                        return 0;
                if (code != 0)
                        return cms_err(err, 409,
                                       "service \"%s\" didn't complete successfully: "
                                       "exited with code %d",
                                       service, code);
                return 1;
        }
        if (!strcmp(condition, "ready")) {
                /* up's wait: healthy where there is a health check, else running; a one-shot
                 * service that has exited 0 is done. */
                const char *h = cms_container_health_status(raw);
                if (!strcmp(h, "healthy") || (!strcmp(h, "none") && running))
                        return 1;
                if (!strcmp(h, "unhealthy"))
                        return cms_err(err, 409, "service \"%s\" is unhealthy", service);
                if (!running && status && strcmp(status, "created")) {
                        if (code == 0)
                                return 1;
                        return cms_err(err, 409, "service \"%s\" exited with code %d", service,
                                       code);
                }
                return 0;
        }
        if (!strcmp(condition, "service_healthy")) {
                const char *h = cms_container_health_status(raw);
                if (!strcmp(h, "healthy"))
                        return 1;
                if (!strcmp(h, "none"))
                        return cms_err(err, 409, "service \"%s\" has no healthcheck configured",
                                       service);
                if (!strcmp(h, "unhealthy"))
                        return cms_err(err, 409, "service \"%s\" is unhealthy", service);
                if (!running)
                        return cms_err(err, 409,
                                       "service \"%s\" exited with code %d before it "
                                       "was healthy",
                                       service, code);
                return 0;
        }
        /* service_started: created and started is enough, even if it has exited since. */
        return 1;
}

int cms_project_gate(struct cms_manager *m, const char *service, const char *const *ids, size_t n,
                     const char *condition, int64_t deadline, struct cms_error *err)
{
        size_t done = 0;
        bool *ok = calloc(n + 1, sizeof(bool));
        if (!ok)
                return cms_err(err, 500, "out of memory");
        int r = 0;
        while (r == 0 && done < n) {
                for (size_t i = 0; i < n && r == 0; i++) {
                        if (ok[i])
                                continue;
                        int g = gate_one(m, service, ids[i], condition, err);
                        if (g < 0)
                                r = g;
                        else if (g > 0) {
                                ok[i] = true;
                                done++;
                        }
                }
                if (r < 0 || done == n)
                        break;
                if (atomic_load(&m->draining))
                        r = cms_err(err, 503, "cmsd is shutting down");
                else if (cms_now_ms() >= deadline)
                        r = cms_err(err, 504, "service \"%s\" didn't meet %s in time", service,
                                    condition);
                else {
                        struct timespec ts = {0, 200 * 1000 * 1000};
                        nanosleep(&ts, NULL);
                }
        }
        free(ok);
        return r;
}

int cms_project_ctr_remove(struct cms_manager *m, const char *id, bool volumes,
                           struct cms_error *err)
{
        _cleanup_free_ char *p = cms_container_path(id, volumes ? "?force=1&v=1" : "?force=1");
        if (!p)
                return cms_err(err, 500, "out of memory");
        struct cms_error e = {0};
        int r = cms_engine_json(m->engine, "DELETE", p, NULL, NULL, &e);
        if (r < 0 && e.status != 404) {
                if (err)
                        *err = e;
                return r;
        }
        return 0;
}

struct par {
        pthread_mutex_t mu;
        size_t next, n;
        void (*fn)(size_t, void *);
        void *ud;
};

static void *par_run(void *arg)
{
        struct par *p = arg;
        for (;;) {
                pthread_mutex_lock(&p->mu);
                size_t i = p->next < p->n ? p->next++ : SIZE_MAX;
                pthread_mutex_unlock(&p->mu);
                if (i == SIZE_MAX)
                        return NULL;
                p->fn(i, p->ud);
        }
}

void cms_project_parallel(size_t n, unsigned width, void (*fn)(size_t i, void *ud), void *ud)
{
        struct par p = {.mu = PTHREAD_MUTEX_INITIALIZER, .n = n, .fn = fn, .ud = ud};
        if (width > 256)
                width = 256;
        pthread_t *t = n > 1 ? calloc(width, sizeof(pthread_t)) : NULL;
        size_t nt = 0;
        if (t) {
                pthread_attr_t a;
                pthread_attr_init(&a);
                pthread_attr_setstacksize(&a, 256 * 1024);
                for (; nt + 1 < width && nt + 1 < n; nt++)
                        if (pthread_create(&t[nt], &a, par_run, &p) != 0)
                                break;
                pthread_attr_destroy(&a);
        }
        par_run(&p); /* this thread works too, so the work gets done even without threads */
        for (size_t i = 0; i < nt; i++)
                pthread_join(t[i], NULL);
        free(t);
        pthread_mutex_destroy(&p.mu);
}

char **cms_project_own_containers(const struct cms_compose_project *p)
{
        char **v = calloc(p->n_services + 1, sizeof(char *));
        for (size_t i = 0; v && i < p->n_services; i++)
                if (!(v[i] = cms_compose_container_name(p, &p->services[i], 1))) {
                        cms_strv_free(v);
                        return NULL;
                }
        return v;
}
