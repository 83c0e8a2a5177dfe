/* Logs of a compose project: every container's lines merged and tagged with their service, and
 * the same merge for any set of sources (a swarm stack's services: cms_logs_merged). Without
 * follow the lines are gathered and merged in time order (the engine's timestamps are always
 * asked for, and dropped again unless wanted); with follow, one thread per source feeds the
 * caller as lines come, until every source has ended or the caller leaves. */
#include <pthread.h>

#include "internal.h"

#define MAX_FOLLOWED  128
#define MAX_COLLECTED 1000000

struct plogs {
        struct cms_manager *m;
        const struct cms_log_source *src;
        size_t n_src;
        struct cms_logs_opts o;
        bool want_time;
        cms_project_log_cb cb;
        cms_engine_stop_cb should_stop;
        void *ud;
        pthread_mutex_t mu;
        bool stop;
        int rc;
        struct cms_error err;
        json_object *lines; /* without follow: [[key, time, seq, svc, ctr, stream, text]] */
};

struct one {
        struct plogs *pl;
        const struct cms_log_source *x;
};

/* A sort key for an RFC 3339 time: the fraction padded to nine digits (RFC3339Nano drops
 * trailing zeros, so the texts alone do not sort). Zones are UTC from both engines. */
static void time_key(const char *t, char *key, size_t n)
{
        size_t dot = strcspn(t, ".Z+");
        const char *frac = t[dot] == '.' ? t + dot + 1 : "";
        size_t fl = strspn(frac, "0123456789");
        if (fl > 9)
                fl = 9;
        snprintf(key, n, "%.*s.%.*s%.*s", (int)dot, t, (int)fl, frac, (int)(9 - fl), "000000000");
}

static int collect(const char *stream, const char *time, const char *text, void *ud)
{
        struct one *w = ud;
        struct plogs *pl = w->pl;
        pthread_mutex_lock(&pl->mu);
        size_t n = cms_jlen(pl->lines);
        int r = 0;
        if (n >= MAX_COLLECTED) {
                r = -E2BIG;
        } else {
                json_object *l = json_object_new_array();
                char key[80];
                time_key(time ? time : "", key, sizeof(key));
                json_object_array_add(l, json_object_new_string(key));
                json_object_array_add(l, json_object_new_string(time ? time : ""));
                json_object_array_add(l, json_object_new_int64((int64_t)n));
                json_object_array_add(l, json_object_new_string(w->x->service));
                json_object_array_add(l, json_object_new_string(w->x->name));
                json_object_array_add(l, json_object_new_string(stream));
                json_object_array_add(l, json_object_new_string(text));
                json_object_array_add(pl->lines, l);
        }
        pthread_mutex_unlock(&pl->mu);
        return r;
}

static int forward(const char *stream, const char *time, const char *text, void *ud)
{
        struct one *w = ud;
        struct plogs *pl = w->pl;
        pthread_mutex_lock(&pl->mu);
        int r = pl->stop ? 1
                         : pl->cb(w->x->service, w->x->name, stream, pl->want_time ? time : NULL,
                                  text, pl->ud);
        if (r)
                pl->stop = true;
        pthread_mutex_unlock(&pl->mu);
        return r;
}

static int stop_cb(void *ud)
{
        struct one *w = ud;
        struct plogs *pl = w->pl;
        pthread_mutex_lock(&pl->mu);
        bool s = pl->stop;
        pthread_mutex_unlock(&pl->mu);
        if (s)
                return 1;
        if (pl->should_stop && pl->should_stop(pl->ud)) {
                pthread_mutex_lock(&pl->mu);
                pl->stop = true;
                pthread_mutex_unlock(&pl->mu);
                return 1;
        }
        return 0;
}

static void one_container(size_t i, void *ud)
{
        struct plogs *pl = ud;
        struct one w = {pl, &pl->src[i]};
        struct cms_error e = {0};
        int r = (w.x->swarm_service ? cms_service_logs : cms_containers_logs)(
            pl->m, w.x->id, &pl->o, pl->o.follow ? forward : collect, stop_cb, &w, &e);
        if (r < 0 && e.status != 404) { /* a container removed meanwhile has no more lines */
                pthread_mutex_lock(&pl->mu);
                if (pl->rc == 0) {
                        pl->rc = r == -E2BIG ? cms_err(&pl->err, 413,
                                                       "more than %d log lines: "
                                                       "ask for a tail",
                                                       MAX_COLLECTED)
                                             : r;
                        if (r != -E2BIG)
                                pl->err = e;
                }
                pthread_mutex_unlock(&pl->mu);
        }
}

static int line_cmp(const void *a, const void *b)
{
        json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
        int c = strcmp(json_object_get_string(json_object_array_get_idx(x, 0)),
                       json_object_get_string(json_object_array_get_idx(y, 0)));
        if (c)
                return c;
        int64_t i = json_object_get_int64(json_object_array_get_idx(x, 2));
        int64_t j = json_object_get_int64(json_object_array_get_idx(y, 2));
        return (i > j) - (i < j);
}

static int deliver(struct plogs *pl)
{
        /* RFC 3339 with the engine's fixed nanosecond width sorts as text. */
        json_object_array_sort(pl->lines, line_cmp);
        for (size_t i = 0; i < cms_jlen(pl->lines); i++) {
                json_object *l = json_object_array_get_idx(pl->lines, i);
#define F(k) json_object_get_string(json_object_array_get_idx(l, k))
                const char *t = F(1);
                if (pl->cb(F(3), F(4), F(5), pl->want_time && *t ? t : NULL, F(6), pl->ud))
                        break;
#undef F
        }
        return 0;
}

int cms_logs_merged(struct cms_manager *m, const struct cms_log_source *src, size_t n,
                    const struct cms_logs_opts *o, cms_project_log_cb cb,
                    cms_engine_stop_cb should_stop, void *ud, struct cms_error *err)
{
        if (o->follow && n > MAX_FOLLOWED)
                return cms_err(err, 400,
                               "following more than %d sources at once: choose a service",
                               MAX_FOLLOWED);
        struct plogs pl = {.m = m,
                           .src = src,
                           .n_src = n,
                           .o = *o,
                           .want_time = o->timestamps,
                           .cb = cb,
                           .should_stop = should_stop,
                           .ud = ud,
                           .lines = json_object_new_array()};
        pl.o.timestamps = true;
        pthread_mutex_init(&pl.mu, NULL);
        /* Followers all run at once; gathering needs no more than a few at a time. */
        cms_project_parallel(n, o->follow ? MAX_FOLLOWED : 8, one_container, &pl);
        pthread_mutex_destroy(&pl.mu);
        int r = pl.rc;
        if (r < 0 && err)
                *err = pl.err;
        if (r == 0 && !o->follow)
                deliver(&pl);
        json_object_put(pl.lines);
        return r;
}

int cms_projects_logs(struct cms_manager *m, const char *name, const char *service,
                      const struct cms_logs_opts *o, cms_project_log_cb cb,
                      cms_engine_stop_cb should_stop, void *ud, struct cms_error *err)
{
        if (!cms_compose_project_name_valid(name))
                return cms_err(err, 400, "invalid project name '%.64s'", name);
        struct cms_pctrs cs = {0};
        int r = cms_project_containers(m, name, &cs, err);
        if (r < 0)
                return r;
        struct cms_log_source *src = calloc(cs.n + 1, sizeof(*src));
        size_t n = 0;
        for (size_t i = 0; src && i < cs.n; i++)
                if (!service || !strcmp(cs.v[i].service, service))
                        src[n++] = (struct cms_log_source){cs.v[i].id, cs.v[i].name,
                                                           cs.v[i].service, false};
        if (!src)
                r = cms_err(err, 500, "out of memory");
        else if (cs.n == 0)
                r = cms_err(err, 404, "no such project: %s (it has no containers)", name);
        else if (n == 0)
                r = cms_err(err, 404, "project %s has no containers of service %.64s", name,
                            service);
        else
                r = cms_logs_merged(m, src, n, o, cb, should_stop, ud, err);
        free(src);
        cms_pctrs_done(&cs);
        return r;
}
