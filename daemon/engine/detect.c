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

/* One unversioned GET on the probe's own terms: default timeout, small reply cap. */
static int probe_get(struct cms_engine *e, const char *path, struct cms_buf *body,
                     struct cms_eng_result *res, struct cms_error *err)
{
        /* Short: calls that wait for a probe should not wait a whole call timeout for it. */
        long timeout =
            e->timeout_ms < CMS_ENG_PROBE_TIMEOUT_MS ? e->timeout_ms : CMS_ENG_PROBE_TIMEOUT_MS;
        struct cms_engine_req req = {
            .method = "GET", .path = path, .max_reply = 1 << 20, .timeout_ms = timeout};
        cms_buf_init(body, req.max_reply);
        int r = cms_eng_transfer(e, &req, path, body, NULL, NULL, NULL, res, NULL, err);
        if (r < 0)
                return r;
        return cms_eng_map_status(res->status, body->data, body->len, err);
}

int cms_eng_probe_locked(struct cms_engine *e, struct cms_error *err)
{
        pthread_mutex_lock(&e->lock);
        e->last_probe_ms = cms_now_ms();
        pthread_mutex_unlock(&e->lock);

        _cleanup_buf_ struct cms_buf ping = {0};
        struct cms_eng_result pres = {0};
        int r = probe_get(e, "/_ping", &ping, &pres, err);
        if (r < 0)
                return r;
        _cleanup_buf_ struct cms_buf ver = {0};
        struct cms_eng_result vres = {0};
        r = probe_get(e, "/version", &ver, &vres, err);
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

int cms_engine_probe(struct cms_engine *e, struct cms_error *err)
{
        pthread_mutex_lock(&e->probe_lock);
        int r = cms_eng_probe_locked(e, err);
        pthread_mutex_unlock(&e->probe_lock);
        return r;
}
