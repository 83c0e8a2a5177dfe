/* The system manager: liveness, the info document (engine, host, counts) and one-call cleanup. */
#include <sys/utsname.h>

#include "manager.h"
#include "monitor/sampler.h"

#define get cms_json_get

static int64_t get_i64(json_object *o, const char *key)
{
        return json_object_get_int64(get(o, key));
}

json_object *cms_system_health(struct cms_manager *m)
{
        json_object *o = json_object_new_object();
        /* The last known state, never a call: health must answer at once even when the engine
         * hangs. The housekeeping thread re-probes a down engine every 2 s. */
        bool up = cms_engine_is_up(m->engine);
        json_object_object_add(o, "status", json_object_new_string("ok"));
        json_object_object_add(o, "engine", json_object_new_string(up ? "up" : "down"));
        return o;
}

static int count_array(struct cms_manager *m, const char *path, const char *member, int64_t *out,
                       struct cms_error *err)
{
        _cleanup_json_ json_object *doc = NULL;
        int r = cms_engine_json(m->engine, "GET", path, NULL, &doc, err);
        if (r < 0)
                return r;
        json_object *arr = member ? get(doc, member) : doc;
        *out = json_object_is_type(arr, json_type_array) ? (int64_t)json_object_array_length(arr)
                                                         : 0;
        return 0;
}

static json_object *sampler_info(struct cms_manager *m)
{
        struct cms_sampler_status st;
        cms_sampler_status(m->sampler, &st);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "running", json_object_new_boolean(st.running));
        if (!st.running)
                return o;
        char iv[32];
        cms_format_duration(st.interval_ms, iv, sizeof(iv));
        json_object_object_add(o, "mode", json_object_new_string(st.mode));
        json_object_object_add(o, "containers", json_object_new_int64((int64_t)st.containers));
        json_object_object_add(o, "interval", json_object_new_string(iv));
        return o;
}

int cms_system_info(struct cms_manager *m, json_object **out, struct cms_error *err)
{
        _cleanup_json_ json_object *info = NULL;
        int r = cms_engine_json(m->engine, "GET", "/info", NULL, &info, err);
        if (r < 0)
                return r;
        int64_t networks = 0, volumes = 0;
        if ((r = count_array(m, "/networks", NULL, &networks, err)) < 0 ||
            (r = count_array(m, "/volumes", "Volumes", &volumes, err)) < 0)
                return r;
        char version[64] = "", api[16] = "";
        cms_engine_versions(m->engine, version, sizeof(version), api, sizeof(api));

        json_object *engine = json_object_new_object();
        json_object_object_add(engine, "url", json_object_new_string(cms_engine_url(m->engine)));
        json_object_object_add(engine, "version", json_object_new_string(version));
        json_object_object_add(engine, "api_version", json_object_new_string(api));

        struct utsname u;
        uname(&u);
        const char *os = json_object_get_string(get(info, "OperatingSystem"));
        const char *kernel = json_object_get_string(get(info, "KernelVersion"));
        json_object *host = json_object_new_object();
        json_object_object_add(host, "os", json_object_new_string(os ? os : u.sysname));
        json_object_object_add(host, "kernel", json_object_new_string(kernel ? kernel : u.release));
        json_object_object_add(host, "cpus", json_object_new_int64(get_i64(info, "NCPU")));
        json_object_object_add(host, "memory", json_object_new_int64(get_i64(info, "MemTotal")));

        json_object *ctr = json_object_new_object();
        json_object_object_add(ctr, "running", json_object_new_int64(get_i64(info, "ContainersRunning")));
        json_object_object_add(ctr, "paused", json_object_new_int64(get_i64(info, "ContainersPaused")));
        json_object_object_add(ctr, "stopped", json_object_new_int64(get_i64(info, "ContainersStopped")));
        json_object *counts = json_object_new_object();
        json_object_object_add(counts, "containers", ctr);
        json_object_object_add(counts, "images", json_object_new_int64(get_i64(info, "Images")));
        json_object_object_add(counts, "networks", json_object_new_int64(networks));
        json_object_object_add(counts, "volumes", json_object_new_int64(volumes));

        json_object *cmsd = json_object_new_object();
        json_object_object_add(cmsd, "version", json_object_new_string(CMS_VERSION));
        json_object_object_add(cmsd, "uptime_s",
                               json_object_new_int64((cms_now_ms() - m->started_ms) / 1000));
        json_object *sampler = sampler_info(m);

        json_object *o = json_object_new_object();
        json_object_object_add(o, "runtime",
                               json_object_new_string(cms_runtime_name(cms_engine_runtime(m->engine))));
        json_object_object_add(o, "engine", engine);
        json_object_object_add(o, "host", host);
        json_object_object_add(o, "counts", counts);
        json_object_object_add(o, "cmsd", cmsd);
        json_object_object_add(o, "sampler", sampler);
        *out = o;
        return 0;
}

/* Copies the strings of doc[member] (or, for images, each entry's Deleted/Untagged) into arr. */
static void collect(json_object *doc, const char *member, const char *field, json_object *arr)
{
        json_object *list = get(doc, member);
        size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *it = json_object_array_get_idx(list, i);
                if (field)
                        it = get(it, field);
                if (json_object_is_type(it, json_type_string))
                        json_object_array_add(arr, json_object_new_string(json_object_get_string(it)));
        }
}

static int prune_one(struct cms_manager *m, const char *path, const char *member, const char *field,
                     json_object *arr, int64_t *space, struct cms_error *err)
{
        _cleanup_json_ json_object *doc = NULL;
        int r = cms_engine_json(m->engine, "POST", path, NULL, &doc, err);
        if (r < 0)
                return r;
        collect(doc, member, field, arr);
        *space += get_i64(doc, "SpaceReclaimed");
        return 0;
}

int cms_system_prune(struct cms_manager *m, json_object *body, json_object **out,
                     struct cms_error *err)
{
        static const char *const keys[] = {"all", "volumes", NULL};
        bool all, volumes;
        int r;
        if ((r = cms_json_check_keys(body, "body", keys, err)) < 0 ||
            (r = cms_json_get_bool(body, "body", "all", false, &all, err)) < 0 ||
            (r = cms_json_get_bool(body, "body", "volumes", false, &volumes, err)) < 0)
                return r;
        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *c = json_object_new_array(), *n = json_object_new_array(),
                    *v = json_object_new_array();
        json_object_object_add(o, "containers", c);
        json_object_object_add(o, "networks", n);
        json_object_object_add(o, "volumes", v);
        int64_t space = 0;
        /* Containers first: what they held becomes unused for the later steps. */
        if ((r = prune_one(m, "/containers/prune", "ContainersDeleted", NULL, c, &space, err)) < 0 ||
            (r = prune_one(m, "/networks/prune", "NetworksDeleted", NULL, n, &space, err)) < 0)
                return r;
        if (volumes &&
            (r = prune_one(m, "/volumes/prune", "VolumesDeleted", NULL, v, &space, err)) < 0)
                return r;
        const char *img_path = all ? "/images/prune?filters=%7B%22dangling%22%3A%5B%22false%22%5D%7D"
                                   : "/images/prune";
        json_object *deleted = json_object_new_array();
        r = prune_one(m, img_path, "ImagesDeleted", "Deleted", deleted, &space, err);
        if (r < 0) {
                json_object_put(deleted);
                return r;
        }
        json_object_object_add(o, "images", deleted);
        json_object_object_add(o, "space_reclaimed", json_object_new_int64(space));
        *out = TAKE_PTR(o);
        return 0;
}
