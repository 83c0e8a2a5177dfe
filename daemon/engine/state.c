/* The engine object's shared state, read and set under its lock and never across I/O: the URL,
 * up/down, runtime and versions, the path a request is sent to and its timeout. The lowest file
 * of the engine client above errors.c: everything else here may call it, it calls nothing here. */
#include "internal.h"

const char *cms_engine_url(const struct cms_engine *e)
{
        return e->url;
}

bool cms_engine_is_up(struct cms_engine *e)
{
        pthread_mutex_lock(&e->lock);
        bool up = e->up;
        pthread_mutex_unlock(&e->lock);
        return up;
}

enum cms_runtime cms_engine_runtime(struct cms_engine *e)
{
        pthread_mutex_lock(&e->lock);
        enum cms_runtime rt = e->runtime;
        pthread_mutex_unlock(&e->lock);
        return rt;
}

const char *cms_runtime_name(enum cms_runtime rt)
{
        switch (rt) {
        case CMS_RUNTIME_DOCKER:
                return "docker";
        case CMS_RUNTIME_PODMAN:
                return "podman";
        default:
                return "unknown";
        }
}

void cms_engine_versions(struct cms_engine *e, char *version, size_t vlen, char *api, size_t alen)
{
        pthread_mutex_lock(&e->lock);
        if (version && vlen)
                snprintf(version, vlen, "%s", e->version);
        if (api && alen)
                snprintf(api, alen, "%s", e->api);
        pthread_mutex_unlock(&e->lock);
}

void cms_eng_set_up(struct cms_engine *e, bool up)
{
        pthread_mutex_lock(&e->lock);
        e->up = up;
        if (!up)
                e->stale = true;
        pthread_mutex_unlock(&e->lock);
}

char *cms_eng_build_path(struct cms_engine *e, const char *path)
{
        if (!path || *path != '/')
                return NULL;
        if (path[1] == '/')
                return strdup(path + 1);
        if (cms_str_has_prefix(path, "/libpod/"))
                return cms_strdup_printf("%s%s", CMS_ENG_LIBPOD_PREFIX, path);
        char api[sizeof(e->api)];
        pthread_mutex_lock(&e->lock);
        snprintf(api, sizeof(api), "%s", *e->api ? e->api : CMS_ENGINE_MAX_API);
        pthread_mutex_unlock(&e->lock);
        return cms_strdup_printf("/v%s%s", api, path);
}

long cms_eng_timeout(struct cms_engine *e, const struct cms_engine_req *req)
{
        if (req->timeout_ms < 0)
                return -1;
        return req->timeout_ms > 0 ? req->timeout_ms : atomic_load(&e->timeout_ms);
}
