/* The manager's housekeeping thread, once a second:
 * - give the engine client limits.request_timeout as its default call timeout (at start, and
 *   within a second of a reload that changes it), so that an engine that accepts and never
 *   answers costs a request that long and no longer;
 * - while the engine is down, probe it (every 2 s) so that cmsd notices the engine's return, and
 *   a new runtime or API version, without waiting for a request;
 * - run Podman's health checks where nobody else does. Podman schedules a container's health
 *   check with a systemd timer; on a host without systemd as init (containers, minimal hosts)
 *   the checks never run and every container stays "starting". Docker runs its own checks, so
 *   this only acts when the engine is Podman and /run/systemd/system is absent: it lists running
 *   containers that have a health check and, when one's interval has passed, asks Podman to run
 *   it (GET /libpod/containers/{id}/healthcheck). */
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "manager.h"

#define MAX_TRACKED 4096

struct tracked {
        char id[72];
        int64_t interval_ms, next_ms;
        bool seen;
};

struct cms_housekeeping {
        struct cms_manager *m;
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool stop, podman_checks;
        int64_t last_probe_ms;
        _Atomic int64_t last_tick_ms; /* monotonic; read by the watchdog in the main loop */
        struct tracked *t;
        size_t n;
};

static int64_t interval_of(struct cms_manager *m, const char *id)
{
        _cleanup_free_ char *p = cms_strdup_printf("/containers/%s/json", id);
        _cleanup_json_ json_object *raw = NULL;
        if (!p || cms_engine_json(m->engine, "GET", p, NULL, &raw, NULL) < 0)
                return 30000;
        json_object *hc = cms_json_get(cms_json_get(raw, "Config"), "Healthcheck");
        int64_t ns = json_object_get_int64(cms_json_get(hc, "Interval"));
        return ns > 0 ? ns / 1000000 : 30000;
}

static struct tracked *track(struct cms_housekeeping *h, const char *id)
{
        for (size_t i = 0; i < h->n; i++)
                if (!strcmp(h->t[i].id, id))
                        return &h->t[i];
        if (h->n == MAX_TRACKED)
                return NULL;
        struct tracked *t = &h->t[h->n++];
        memset(t, 0, sizeof(*t));
        snprintf(t->id, sizeof(t->id), "%s", id);
        t->interval_ms = interval_of(h->m, id);
        t->next_ms = cms_now_ms() + t->interval_ms;
        return t;
}

static void tick(struct cms_housekeeping *h)
{
        static const char path[] =
            "/libpod/containers/json?filters=%7B%22status%22%3A%5B%22running%22%5D%7D";
        _cleanup_json_ json_object *list = NULL;
        if (cms_engine_json(h->m->engine, "GET", path, NULL, &list, NULL) < 0 ||
            !json_object_is_type(list, json_type_array))
                return;
        for (size_t i = 0; i < h->n; i++)
                h->t[i].seen = false;
        int64_t now = cms_now_ms();
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *c = json_object_array_get_idx(list, i);
                const char *id = json_object_get_string(cms_json_get(c, "Id"));
                const char *st = json_object_get_string(cms_json_get(c, "Status"));
                /* libpod's list puts the health word in Status for containers that have a check. */
                if (!id || !st ||
                    (strcmp(st, "starting") && strcmp(st, "healthy") && strcmp(st, "unhealthy")))
                        continue;
                struct tracked *t = track(h, id);
                if (!t)
                        continue;
                t->seen = true;
                if (now < t->next_ms)
                        continue;
                _cleanup_free_ char *p = cms_strdup_printf("/libpod/containers/%s/healthcheck", id);
                struct cms_error err = {0};
                if (p && cms_engine_json(h->m->engine, "GET", p, NULL, NULL, &err) < 0)
                        log_debug("podman health check of %.12s: %s", id, err.message);
                t->next_ms = cms_now_ms() + t->interval_ms;
        }
        size_t k = 0; /* forget containers that stopped or went away */
        for (size_t i = 0; i < h->n; i++)
                if (h->t[i].seen)
                        h->t[k++] = h->t[i];
        h->n = k;
}

static void apply_timeout(struct cms_manager *m)
{
        const struct cms_config *c = cms_manager_config_rdlock(m);
        long timeout = (long)c->request_timeout_ms;
        cms_manager_config_unlock(m);
        cms_engine_set_timeout(m->engine, timeout);
}

static void *run(void *arg)
{
        struct cms_housekeeping *h = arg;
        pthread_mutex_lock(&h->lock);
        while (!h->stop) {
                pthread_mutex_unlock(&h->lock);
                atomic_store(&h->last_tick_ms, cms_now_ms());
                apply_timeout(h->m);
                struct cms_engine *e = h->m->engine;
                if (!cms_engine_is_up(e) && cms_now_ms() - h->last_probe_ms >= 2000) {
                        h->last_probe_ms = cms_now_ms();
                        cms_engine_probe(e, NULL);
                }
                if (h->podman_checks && cms_engine_runtime(e) == CMS_RUNTIME_PODMAN &&
                    cms_engine_is_up(e))
                        tick(h);
                pthread_mutex_lock(&h->lock);
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += 1;
                if (!h->stop)
                        pthread_cond_timedwait(&h->cond, &h->lock, &ts);
        }
        pthread_mutex_unlock(&h->lock);
        return NULL;
}

int cms_housekeeping_start(struct cms_manager *m, struct cms_housekeeping **out)
{
        struct stat st;
        *out = NULL;
        struct cms_housekeeping *h = calloc(1, sizeof(*h));
        if (!h || !(h->t = calloc(MAX_TRACKED, sizeof(*h->t)))) {
                free(h);
                return -ENOMEM;
        }
        h->m = m;
        apply_timeout(m);
        h->podman_checks =
            stat("/run/systemd/system", &st) != 0; /* else systemd's timers run them */
        h->last_probe_ms = cms_now_ms();
        atomic_store(&h->last_tick_ms, h->last_probe_ms);
        pthread_mutex_init(&h->lock, NULL);
        pthread_cond_init(&h->cond, NULL);
        if (pthread_create(&h->thread, NULL, run, h) != 0) {
                free(h->t);
                free(h);
                return -EAGAIN;
        }
        *out = h;
        return 0;
}

int64_t cms_housekeeping_last_tick(struct cms_housekeeping *h)
{
        return h ? atomic_load(&h->last_tick_ms) : cms_now_ms();
}

void cms_housekeeping_stop(struct cms_housekeeping *h)
{
        if (!h)
                return;
        pthread_mutex_lock(&h->lock);
        h->stop = true;
        pthread_cond_broadcast(&h->cond);
        pthread_mutex_unlock(&h->lock);
        pthread_join(h->thread, NULL);
        pthread_cond_destroy(&h->cond);
        pthread_mutex_destroy(&h->lock);
        free(h->t);
        free(h);
}
