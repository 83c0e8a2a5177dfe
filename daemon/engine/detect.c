/* Runtime detection and API-version negotiation: which engine is behind the socket (Docker or
 * Podman's Docker-compatible service) and which /vX.Y prefix both sides understand. */
#include "internal.h"

#include <ctype.h>
#include <limits.h>

static bool parse_api(const char *s, long *major, long *minor)
{
        if (!s || !isdigit((unsigned char)*s))
                return false;
        char *end;
        errno = 0;
        *major = strtol(s, &end, 10);
        if (errno || *end != '.' || !isdigit((unsigned char)end[1]))
                return false;
        *minor = strtol(end + 1, &end, 10);
        return !errno && *end == 0;
}

int cms_eng_api_cmp(const char *a, const char *b)
{
        long amaj = -1, amin = -1, bmaj = -1, bmin = -1;
        if (!parse_api(a, &amaj, &amin))
                amaj = amin = -1;
        if (!parse_api(b, &bmaj, &bmin))
                bmaj = bmin = -1;
        if (amaj != bmaj)
                return amaj < bmaj ? -1 : 1;
        if (amin != bmin)
                return amin < bmin ? -1 : 1;
        return 0;
}

static const char *json_str(json_object *o, const char *key)
{
        json_object *v;
        if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
                return json_object_get_string(v);
        return NULL;
}

static bool has_podman_component(json_object *doc)
{
        json_object *comps;
        if (!json_object_object_get_ex(doc, "Components", &comps) ||
            !json_object_is_type(comps, json_type_array))
                return false;
        for (size_t i = 0; i < json_object_array_length(comps); i++) {
                const char *name = json_str(json_object_array_get_idx(comps, i), "Name");
                if (name && !strcmp(name, "Podman Engine"))
                        return true;
        }
        return false;
}

int cms_eng_detect(bool libpod_hdr, const char *api_hdr, json_object *doc, enum cms_runtime *rt,
                   char *version, size_t vlen, char *api, size_t alen, struct cms_error *err)
{
        if (!json_object_is_type(doc, json_type_object))
                return cms_err(err, 502, "engine /version reply is not a JSON object");
        const char *engine_api = json_str(doc, "ApiVersion");
        long maj, min;
        if (!parse_api(engine_api, &maj, &min))
                engine_api = api_hdr;
        if (!parse_api(engine_api, &maj, &min))
                return cms_err(err, 502, "engine /version reply has no usable ApiVersion");
        const char *v = json_str(doc, "Version");
        *rt = libpod_hdr || has_podman_component(doc) ? CMS_RUNTIME_PODMAN : CMS_RUNTIME_DOCKER;
        snprintf(version, vlen, "%s", v ? v : "");
        if (cms_eng_api_cmp(engine_api, CMS_ENGINE_MAX_API) < 0)
                snprintf(api, alen, "%ld.%ld", maj, min);
        else
                snprintf(api, alen, "%s", CMS_ENGINE_MAX_API);
        return 0;
}

/* A call's probe may take the call's whole time: an engine starting up (a Podman service's first
 * answer on a loaded host) answers late but answers, and the call would have waited that long.
 * cmsd's own probes (start-up, housekeeping: forced) stay short. */
static long probe_timeout(struct cms_engine *e, bool forced)
{
        long timeout = atomic_load(&e->timeout_ms);
        return !forced || timeout < CMS_ENG_PROBE_TIMEOUT_MS ? timeout : CMS_ENG_PROBE_TIMEOUT_MS;
}

/* One unversioned GET on the probe's own terms: what is left of the probe's time, small reply
 * cap. */
static int probe_get(struct cms_engine *e, const char *path, int64_t deadline, struct cms_buf *body,
                     struct cms_eng_result *res, struct cms_error *err)
{
        long left = (long)(deadline - cms_now_ms());
        struct cms_engine_req req = {
            .method = "GET", .path = path, .max_reply = 1 << 20, .timeout_ms = left > 0 ? left : 1};
        cms_buf_init(body, req.max_reply);
        int r = cms_eng_transfer(e, &req, path, body, NULL, NULL, NULL, res, NULL, err);
        if (r < 0)
                return r;
        return cms_eng_map_status(res->status, body->data, body->len, err);
}

static int probe_run(struct cms_engine *e, long timeout, struct cms_error *err)
{
        /* Both GETs within one timeout: a call that waits for a probe must not wait two. */
        int64_t deadline = cms_now_ms() + timeout;
        _cleanup_buf_ struct cms_buf ping = {0};
        struct cms_eng_result pres = {0};
        int r = probe_get(e, "/_ping", deadline, &ping, &pres, err);
        if (r < 0)
                return r;
        _cleanup_buf_ struct cms_buf ver = {0};
        struct cms_eng_result vres = {0};
        r = probe_get(e, "/version", deadline, &ver, &vres, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_object *doc = NULL;
        r = cms_eng_parse_json(ver.data, ver.len, &doc, err);
        if (r < 0)
                return r;
        enum cms_runtime rt;
        char version[sizeof(e->version)], api[sizeof(e->api)];
        r = cms_eng_detect(pres.libpod || vres.libpod, *pres.api_hdr ? pres.api_hdr : NULL, doc,
                           &rt, version, sizeof(version), api, sizeof(api), err);
        if (r < 0)
                return r;
        pthread_mutex_lock(&e->lock);
        e->runtime = rt;
        memcpy(e->version, version, sizeof(version));
        memcpy(e->api, api, sizeof(api));
        e->up = true;
        e->stale = false;
        pthread_mutex_unlock(&e->lock);
        return 0;
}

/* Re-detect after an outage (it may be an upgraded or another engine now). While it is down,
 * probe at most once a second; once a call got through, probe right away. */
static bool wanted_locked(struct cms_engine *e, int64_t now)
{
        int64_t since = now - e->last_probe_ms;
        return (e->runtime == CMS_RUNTIME_UNKNOWN || e->stale || !e->up) &&
               (e->probing || since >= CMS_ENG_REPROBE_MS || (e->up && since >= 50));
}

/* The running probe's verdict; e->lock held. Waits at most the waiter's own probe timeout (and a
 * little: a probe of the same kind ends by its own timeout first). */
static int await_verdict(struct cms_engine *e, long timeout, struct cms_error *perr)
{
        uint64_t gen = e->probe_gen;
        struct timespec ts = cms_deadline(CLOCK_REALTIME, timeout + 250);
        while (e->probing && e->probe_gen == gen)
                if (pthread_cond_timedwait(&e->probe_cv, &e->lock, &ts) == ETIMEDOUT)
                        break;
        if (e->probe_gen == gen)
                return cms_err(perr, 504, "engine did not answer within %ld ms", timeout);
        *perr = e->probe_err;
        return e->probe_rc;
}

int cms_eng_probe(struct cms_engine *e, bool force, struct cms_error *err)
{
        struct cms_error perr = {0};
        long timeout = probe_timeout(e, force);
        int r = 0;
        pthread_mutex_lock(&e->lock);
        if (e->probing && (force || wanted_locked(e, cms_now_ms()))) {
                r = await_verdict(e, timeout, &perr);
                pthread_mutex_unlock(&e->lock);
        } else if (force || wanted_locked(e, cms_now_ms())) {
                e->probing = true;
                e->last_probe_ms = cms_now_ms();
                pthread_mutex_unlock(&e->lock);
                r = probe_run(e, timeout, &perr);
                pthread_mutex_lock(&e->lock);
                e->probing = false;
                e->probe_gen++;
                e->probe_rc = r;
                e->probe_err = perr;
                pthread_cond_broadcast(&e->probe_cv);
                pthread_mutex_unlock(&e->lock);
        } else {
                pthread_mutex_unlock(&e->lock);
        }
        if (err && r < 0)
                *err = perr;
        return r;
}

int cms_engine_probe(struct cms_engine *e, struct cms_error *err)
{
        return cms_eng_probe(e, true, err);
}
