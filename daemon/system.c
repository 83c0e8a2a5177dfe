/* The system manager: liveness, the info document (engine, host, counts), one-call cleanup and
 * the engine's event feed in cmsd's shape. */
#include <sys/utsname.h>

#include "manager.h"
#include "monitor/sampler.h"
#include "security/audit.h"

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
        bool up = cms_manager_engine_up(m);
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

/* ---- disk use (GET /system/df, summed as docker system df sums it) ---- */

struct df_sum {
        int64_t count, active, size, reclaimable;
};

static json_object *df_json(const struct df_sum *s)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "count", json_object_new_int64(s->count));
        json_object_object_add(o, "active", json_object_new_int64(s->active));
        json_object_object_add(o, "size", json_object_new_int64(s->size));
        json_object_object_add(o, "reclaimable",
                               json_object_new_int64(s->reclaimable > 0 ? s->reclaimable : 0));
        return o;
}

static size_t df_len(json_object *a)
{
        return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/* Images: Podman lists an image once per tag, so ids are counted once. In use: Containers > 0. */
static void df_images(json_object *doc, struct df_sum *s)
{
        json_object *imgs = get(doc, "Images");
        int64_t used = 0, sum = 0;
        for (size_t i = 0; i < df_len(imgs); i++) {
                json_object *im = json_object_array_get_idx(imgs, i);
                const char *id = json_object_get_string(get(im, "Id"));
                bool seen = false;
                for (size_t k = 0; k < i && id && !seen; k++) {
                        const char *o = json_object_get_string(
                            get(json_object_array_get_idx(imgs, k), "Id"));
                        seen = o && !strcmp(o, id);
                }
                if (seen)
                        continue;
                s->count++;
                sum += get_i64(im, "Size");
                if (get_i64(im, "Containers") > 0) {
                        s->active++;
                        used += get_i64(im, "Size");
                }
        }
        int64_t layers = get_i64(doc, "LayersSize");
        s->size = layers > 0 ? layers : sum;
        s->reclaimable = s->size - used;
}

static void df_rest(json_object *doc, struct df_sum *ct, struct df_sum *vol, struct df_sum *bc)
{
        json_object *cs = get(doc, "Containers"), *vs = get(doc, "Volumes");
        json_object *bs = get(doc, "BuildCache");
        for (size_t i = 0; i < df_len(cs); i++) {
                json_object *c = json_object_array_get_idx(cs, i);
                const char *st = json_object_get_string(get(c, "State"));
                bool running = st && (!strcmp(st, "running") || !strcmp(st, "paused"));
                int64_t rw = get_i64(c, "SizeRw");
                ct->count++;
                ct->active += running;
                ct->size += rw;
                ct->reclaimable += running ? 0 : rw;
        }
        for (size_t i = 0; i < df_len(vs); i++) {
                json_object *u = get(json_object_array_get_idx(vs, i), "UsageData");
                int64_t size = get_i64(u, "Size"), refs = get_i64(u, "RefCount");
                size = size > 0 ? size : 0; /* -1: the engine did not measure it */
                vol->count++;
                vol->active += refs > 0;
                vol->size += size;
                vol->reclaimable += refs > 0 ? 0 : size;
        }
        for (size_t i = 0; i < df_len(bs); i++) {
                json_object *b = json_object_array_get_idx(bs, i);
                bool busy = json_object_get_boolean(get(b, "InUse"));
                bc->count++;
                bc->active += busy;
                bc->size += get_i64(b, "Size");
                bc->reclaimable += busy || json_object_get_boolean(get(b, "Shared"))
                                       ? 0
                                       : get_i64(b, "Size");
        }
}

int cms_system_df(struct cms_manager *m, json_object **out, struct cms_error *err)
{
        _cleanup_json_ json_object *doc = NULL;
        int r = cms_engine_json(m->engine, "GET", "/system/df", NULL, &doc, err);
        if (r < 0)
                return r;
        if (!json_object_is_type(doc, json_type_object))
                return cms_err(err, 502, "the engine's /system/df is not a JSON object");
        struct df_sum im = {0}, ct = {0}, vol = {0}, bc = {0};
        df_images(doc, &im);
        df_rest(doc, &ct, &vol, &bc);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "images", df_json(&im));
        json_object_object_add(o, "containers", df_json(&ct));
        json_object_object_add(o, "volumes", df_json(&vol));
        json_object_object_add(o, "build_cache", df_json(&bc));
        *out = o;
        return 0;
}

static int prune_one(struct cms_manager *m, const char *path, const char *member, const char *field,
                     json_object *arr, int64_t *space, struct cms_error *err)
{
        _cleanup_json_ json_object *doc = NULL;
        int r = cms_engine_json(m->engine, "POST", path, NULL, &doc, err);
        if (r < 0)
                return r;
        cms_json_strings_into(doc, member, field, arr);
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

/* ---- the engine's events ---- */

#define MAX_EVENT_LINE (1024 * 1024)
#define REPORT_WAIT_MS 60000 /* the longest a report (no stream) may run */

static const char *const event_types[] = {"container", "image",  "volume",  "network", "daemon",
                                          "plugin",    "node",   "service", "secret",  "config",
                                          "pod",       "system", NULL};

struct cms_events {
        struct cms_manager *m;
        char *path;
        bool stream;
        int64_t until_ms; /* 0: none; events after it are dropped and the feed ends there */
        struct cms_buf line;
        int (*cb)(json_object *, void *);
        int (*should_stop)(void *);
        void *stop_ud, *ud;
};

void cms_events_free(struct cms_events *e)
{
        if (!e)
                return;
        free(e->path);
        cms_buf_free(&e->line);
        free(e);
}

static const char *jstr(json_object *o, const char *k)
{
        json_object *v = get(o, k);
        return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}


static int64_t event_ms(json_object *ev)
{
        int64_t ns = get_i64(ev, "timeNano");
        return ns ? ns / 1000000 : get_i64(ev, "time") * 1000;
}

/* The engine's event, in cmsd's shape: {time, type, action, id, name, image, attributes}. */
static json_object *normalize(json_object *ev)
{
        json_object *actor = get(ev, "Actor"), *attrs = get(actor, "Attributes");
        char t[32];
        cms_format_time_ms(event_ms(ev), t, sizeof(t));
        const char *id = jstr(actor, "ID") ? jstr(actor, "ID") : jstr(ev, "id");
        const char *image = jstr(attrs, "image") ? jstr(attrs, "image") : jstr(ev, "from");
        const char *action = jstr(ev, "Action") ? jstr(ev, "Action") : jstr(ev, "status");
        json_object *o = json_object_new_object();
        json_object_object_add(o, "time", json_object_new_string(t));
        json_object_object_add(o, "type",
                               json_object_new_string(jstr(ev, "Type") ? jstr(ev, "Type") : ""));
        json_object_object_add(o, "action", json_object_new_string(action ? action : ""));
        json_object_object_add(o, "id", id ? json_object_new_string(id) : NULL);
        json_object_object_add(
            o, "name", jstr(attrs, "name") ? json_object_new_string(jstr(attrs, "name")) : NULL);
        json_object_object_add(o, "image", image ? json_object_new_string(image) : NULL);
        json_object_object_add(o, "attributes",
                               attrs ? json_object_get(attrs) : json_object_new_object());
        return o;
}

static int on_event_data(const char *data, size_t len, void *ud)
{
        struct cms_events *e = ud;
        for (size_t i = 0; i < len; i++) {
                if (data[i] != '\n') {
                        if (cms_buf_append(&e->line, &data[i], 1) < 0)
                                e->line.len = 0;
                        continue;
                }
                json_object *ev = e->line.len ? json_tokener_parse(e->line.data) : NULL;
                e->line.len = 0;
                if (!ev)
                        continue;
                bool late = e->until_ms && event_ms(ev) > e->until_ms;
                json_object *o = late ? NULL : normalize(ev);
                json_object_put(ev);
                if (o && e->cb(o, e->ud))
                        return 1;
        }
        return 0;
}

static int events_should_stop(void *ud)
{
        struct cms_events *e = ud;
        if (e->until_ms && cms_wall_ms() > e->until_ms + 1000)
                return 1;
        return e->should_stop ? e->should_stop(e->stop_ud) : atomic_load(&e->m->draining);
}

/* Adds a filter's values to the engine's filters object. */
static int add_filter(json_object *filters, const char *key, const char **vals,
                      struct cms_error *err)
{
        json_object *arr = NULL;
        for (size_t i = 0; vals && vals[i]; i++) {
                bool ok = strcmp(key, "type") != 0;
                for (size_t k = 0; event_types[k] && !ok; k++)
                        ok = !strcmp(vals[i], event_types[k]);
                if (!ok)
                        return cms_err(err, 400, "type: unknown event type '%.64s'", vals[i]);
                if (!arr) {
                        arr = json_object_new_array();
                        json_object_object_add(filters, key, arr);
                }
                json_object_array_add(arr, json_object_new_string(vals[i]));
        }
        return 0;
}

/* The engine path. Docker ends a report at until (exclusive, so given to the millisecond);
 * Podman 4.3's compat API returns nothing at all when until is set, but ends a report of past
 * events with stream=false; there cmsd applies until itself. */
static int events_path(struct cms_events *e, const struct cms_events_opts *o,
                       struct cms_error *err)
{
        _cleanup_json_ json_object *filters = json_object_new_object();
        int r;
        if ((r = add_filter(filters, "type", o->types, err)) < 0 ||
            (r = add_filter(filters, "container", o->containers, err)) < 0 ||
            (r = add_filter(filters, "event", o->events, err)) < 0 ||
            (r = add_filter(filters, "label", o->labels, err)) < 0)
                return r;
        int64_t since = o->since_ms, until = o->until_ms;
        if (!o->stream && !until)
                until = cms_wall_ms();
        if (!o->stream && !since)
                since = until - 3600 * 1000;
        e->until_ms = until;
        bool podman = cms_engine_runtime(e->m->engine) == CMS_RUNTIME_PODMAN;
        _cleanup_free_ char *fj =
            cms_url_escape(json_object_to_json_string_ext(filters, JSON_C_TO_STRING_PLAIN));
        char tail[96] = "";
        if (since)
                snprintf(tail, sizeof(tail), "&since=%" PRId64, since / 1000);
        if (until && !podman)
                snprintf(tail + strlen(tail), sizeof(tail) - strlen(tail),
                         "&until=%" PRId64 ".%03d000000", until / 1000, (int)(until % 1000));
        if (!o->stream && podman)
                snprintf(tail + strlen(tail), sizeof(tail) - strlen(tail), "&stream=false");
        e->path = fj ? cms_strdup_printf("/events?filters=%s%s", fj, tail) : NULL;
        return e->path ? 0 : cms_err(err, 500, "out of memory");
}

int cms_events_new(struct cms_manager *m, const struct cms_events_opts *o,
                   struct cms_events **out, struct cms_error *err)
{
        struct cms_events *e = calloc(1, sizeof(*e));
        if (!e)
                return cms_err(err, 500, "out of memory");
        e->m = m;
        e->stream = o->stream;
        cms_buf_init(&e->line, MAX_EVENT_LINE);
        /* The runtime decides the path's form: know it first. */
        int r = cms_engine_ready(m->engine, err);
        if (r == 0)
                r = events_path(e, o, err);
        if (r < 0) {
                cms_events_free(e);
                return r;
        }
        *out = e;
        return 0;
}

int cms_events_run(struct cms_events *e, int (*cb)(json_object *ev, void *ud),
                   int (*should_stop)(void *stop_ud), void *stop_ud, void *ud,
                   struct cms_error *err)
{
        e->cb = cb;
        e->should_stop = should_stop;
        e->stop_ud = stop_ud;
        e->ud = ud;
        e->line.len = 0;
        struct cms_engine_req req = {
            .method = "GET", .path = e->path, .timeout_ms = e->stream ? -1 : REPORT_WAIT_MS};
        return cms_engine_stream(e->m->engine, &req, on_event_data, events_should_stop, e, err);
}

/* ---- policy ---- */

int cms_policy_list(struct cms_manager *m, json_object **out, struct cms_error *err)
{
        json_object *o = json_object_new_object(), *pols = json_object_new_array(),
                    *toks = json_object_new_array();
        if (!o || !pols || !toks) {
                json_object_put(o);
                json_object_put(pols);
                json_object_put(toks);
                return cms_err(err, 500, "out of memory");
        }
        json_object_object_add(o, "policies", pols);
        json_object_object_add(o, "tokens", toks);
        const struct cms_config *c = cms_manager_config_rdlock(m);
        json_object_array_add(pols, cms_policy_json(cms_policy_restricted()));
        json_object_array_add(pols, cms_policy_json(cms_policy_unrestricted()));
        for (size_t i = 0; i < c->n_policies; i++)
                json_object_array_add(pols, cms_policy_json(c->policies[i]));
        for (size_t i = 0; i < c->n_tokens; i++) {
                json_object *t = json_object_new_object();
                json_object_object_add(t, "name", json_object_new_string(c->tokens[i].name));
                json_object_object_add(t, "role",
                                       json_object_new_string(cms_role_name(c->tokens[i].role)));
                json_object_object_add(t, "policy",
                                       json_object_new_string(cms_token_policy(&c->tokens[i])));
                json_object_array_add(toks, t);
        }
        cms_manager_config_unlock(m);
        *out = o;
        return 0;
}

int cms_policy_check(struct cms_manager *m, const struct cms_caller *who, json_object *body,
                     json_object **out, struct cms_error *err)
{
        if (!json_object_is_type(body, json_type_object))
                return cms_err(err, 400, "body: expected a ContainerConfig or {\"compose\": ...}");
        _cleanup_json_ json_object *denials = json_object_new_array();
        if (!denials)
                return cms_err(err, 500, "out of memory");
        int r = cms_json_get(body, "compose")
                    ? cms_projects_policy_check(m, who, body, denials, err)
                    : cms_containers_policy_check(m, who, body, denials, err);
        if (r < 0)
                return r;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "policy", json_object_new_string(who->policy));
        json_object_object_add(o, "allowed",
                               json_object_new_boolean(json_object_array_length(denials) == 0));
        json_object_object_add(o, "denials", json_object_get(denials));
        *out = o;
        return 0;
}

/* ---- the audit trail ---- */

struct audit_match {
        const struct cms_audit_filter *f;
        char since[40], until[40];
};

static bool audit_keep(json_object *rec, void *ud)
{
        struct audit_match *a = ud;
        const struct cms_audit_filter *f = a->f;
        const char *t = json_object_get_string(get(rec, "time"));
        const char *tok = json_object_get_string(get(rec, "token"));
        const char *route = json_object_get_string(get(rec, "route"));
        /* The times are all RFC 3339 UTC with milliseconds: they compare as strings. */
        if ((a->since[0] && (!t || strcmp(t, a->since) < 0)) ||
            (a->until[0] && (!t || strcmp(t, a->until) > 0)))
                return false;
        if ((f->token && (!tok || strcmp(tok, f->token))) ||
            (f->route && (!route || strcmp(route, f->route))))
                return false;
        return !f->status || json_object_get_int(get(rec, "status")) == f->status;
}

int cms_audit_list(struct cms_manager *m, const struct cms_audit_filter *f, json_object **out,
                   struct cms_error *err)
{
        if (!m->audit)
                return cms_err(err, 503, "no audit trail: state_dir/audit.log could not be opened");
        struct audit_match a = {.f = f};
        if (f->since_ms)
                cms_format_time_ms(f->since_ms, a.since, sizeof(a.since));
        if (f->until_ms)
                cms_format_time_ms(f->until_ms, a.until, sizeof(a.until));
        json_object *recs = cms_audit_query(m->audit, audit_keep, &a, f->limit);
        if (!recs)
                return cms_err(err, 500, "out of memory");
        json_object *o = json_object_new_object();
        json_object_object_add(o, "records", recs);
        *out = o;
        return 0;
}
