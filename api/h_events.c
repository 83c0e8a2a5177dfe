/* Handlers for the two monitoring streams: GET /v1/events (the engine's events, normalized and
 * filtered) and GET /v1/monitor (a sample of the selected containers every interval for a
 * duration, from the sampler's memory). With Accept: text/event-stream or application/x-ndjson
 * they stream from a producer thread; without, they gather and answer one envelope. */
#include "api.h"
#include "daemon/monitor/sampler.h"

#define MAX_EVENTS     10000
#define MAX_EVENT_LINE (1024 * 1024)
#define MAX_WAIT_MS    60000 /* the longest a non-streaming call may run */

/* ---- events ---- */

static const char *const event_types[] = {"container", "image",  "volume",  "network", "daemon",
                                          "plugin",    "node",   "service", "secret",  "config",
                                          "pod",       "system", NULL};

struct events {
        struct cms_manager *m;
        char *path;
        struct cms_stream *s; /* NULL: gathering into arr */
        json_object *arr;
        struct cms_buf line;
        int64_t until_ms; /* 0: none; events after it are dropped and the stream ends there */
        bool full;
};

static void events_free(void *p)
{
        struct events *e = p;
        free(e->path);
        cms_buf_free(&e->line);
        json_object_put(e->arr);
        free(e);
}

static const char *jstr(json_object *o, const char *k)
{
        json_object *v = cms_json_get(o, k);
        return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int64_t wall_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t event_ms(json_object *ev)
{
        int64_t ns = json_object_get_int64(cms_json_get(ev, "timeNano"));
        return ns ? ns / 1000000 : json_object_get_int64(cms_json_get(ev, "time")) * 1000;
}

/* The engine's event, in cmsd's shape: {time, type, action, id, name, image, attributes}. */
static json_object *normalize(json_object *ev)
{
        json_object *actor = cms_json_get(ev, "Actor"), *attrs = cms_json_get(actor, "Attributes");
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
        struct events *e = ud;
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
                if (e->until_ms && event_ms(ev) > e->until_ms) {
                        json_object_put(ev);
                        continue;
                }
                json_object *o = normalize(ev);
                json_object_put(ev);
                if (e->s) {
                        if (cms_stream_emit(e->s, "event", o))
                                return 1;
                } else if (json_object_array_length(e->arr) < MAX_EVENTS) {
                        json_object_array_add(e->arr, o);
                } else {
                        json_object_put(o);
                        e->full = true;
                        return 1;
                }
        }
        return 0;
}

static int events_should_stop(void *ud)
{
        struct events *e = ud;
        if (e->until_ms && wall_ms() > e->until_ms + 1000)
                return 1;
        return e->s ? cms_stream_should_stop(e->s) : atomic_load(&e->m->draining);
}

static int run_events(struct events *e, struct cms_error *err)
{
        struct cms_engine_req req = {
            .method = "GET", .path = e->path, .timeout_ms = e->s ? -1 : MAX_WAIT_MS};
        return cms_engine_stream(e->m->engine, &req, on_event_data, events_should_stop, e, err);
}

static void events_produce(struct cms_stream *s, void *ud)
{
        struct events *e = ud;
        struct cms_error err = {0};
        e->s = s;
        if (run_events(e, &err) < 0) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "reason", json_object_new_string("error"));
                json_object_object_add(o, "message", json_object_new_string(err.message));
                cms_stream_emit(s, "error", o);
        }
}

/* Adds filter values (a query key, repeatable) to the engine's filters object. */
static int add_filter(struct cms_request *r, json_object *filters, const char *key)
{
        const char **vals = cms_query_all(r, key);
        json_object *arr = NULL;
        for (size_t i = 0; vals && vals[i]; i++) {
                if (!strcmp(key, "type")) {
                        bool ok = false;
                        for (size_t k = 0; event_types[k] && !ok; k++)
                                ok = !strcmp(vals[i], event_types[k]);
                        if (!ok) {
                                cms_reply_errorf(r, 400, "type: unknown event type '%s'", vals[i]);
                                free(vals);
                                return -EINVAL;
                        }
                }
                if (!arr) {
                        arr = json_object_new_array();
                        json_object_object_add(filters, key, arr);
                }
                json_object_array_add(arr, json_object_new_string(vals[i]));
        }
        free(vals);
        return 0;
}

static int time_param(struct cms_request *r, const char *key, int64_t *out_ms)
{
        const char *v = cms_query(r, key);
        *out_ms = 0;
        if (v && cms_parse_time_ms(v, out_ms) < 0) {
                cms_reply_errorf(r, 400, "%s: expected RFC 3339 or unix seconds, got '%s'", key, v);
                return -EINVAL;
        }
        return 0;
}

/* The engine path. Docker ends a report at until (exclusive, so given to the millisecond);
 * Podman 4.3's compat API returns nothing at all when until is set, but ends a report of past
 * events with stream=false; there cmsd applies until itself. */
static char *events_path(struct cms_request *r, struct events *e, bool stream)
{
        static const char *const keys[] = {"type", "container", "event", "label"};
        _cleanup_json_ json_object *filters = json_object_new_object();
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (add_filter(r, filters, keys[i]) < 0)
                        return NULL;
        int64_t since, until;
        if (time_param(r, "since", &since) < 0 || time_param(r, "until", &until) < 0)
                return NULL;
        /* Without a stream the call must end: by default it reports the last hour up to now. */
        if (!stream && !until)
                until = wall_ms();
        if (!stream && !since)
                since = until - 3600 * 1000;
        e->until_ms = until;
        bool podman = cms_engine_runtime(r->m->engine) == CMS_RUNTIME_PODMAN;
        _cleanup_free_ char *fj =
            cms_url_escape(json_object_to_json_string_ext(filters, JSON_C_TO_STRING_PLAIN));
        char tail[96] = "";
        if (since)
                snprintf(tail, sizeof(tail), "&since=%" PRId64, since / 1000);
        if (until && !podman)
                snprintf(tail + strlen(tail), sizeof(tail) - strlen(tail),
                         "&until=%" PRId64 ".%03d000000", until / 1000, (int)(until % 1000));
        if (!stream && podman)
                snprintf(tail + strlen(tail), sizeof(tail) - strlen(tail), "&stream=false");
        char *p = fj ? cms_strdup_printf("/events?filters=%s%s", fj, tail) : NULL;
        if (!p)
                cms_reply_errorf(r, 500, "out of memory");
        return p;
}

void h_events(struct cms_request *r)
{
        enum cms_stream_format fmt = cms_stream_wanted(r);
        struct events *e = calloc(1, sizeof(*e));
        if (!e) {
                cms_reply_errorf(r, 500, "out of memory");
                return;
        }
        e->m = r->m;
        cms_buf_init(&e->line, MAX_EVENT_LINE);
        /* The runtime decides the path's form: know it first (503 when the engine is down). */
        struct cms_error perr = {0};
        if (cms_engine_ready(r->m->engine, &perr) < 0) {
                events_free(e);
                cms_reply_error(r, &perr);
                return;
        }
        if (!(e->path = events_path(r, e, fmt != CMS_STREAM_NONE))) {
                events_free(e);
                return;
        }
        struct cms_error err = {0};
        if (fmt != CMS_STREAM_NONE) {
                cms_stream_start(r, fmt, events_produce, e, events_free);
                return;
        }
        e->arr = json_object_new_array();
        if (run_events(e, &err) < 0) {
                cms_reply_error(r, &err);
        } else {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "events", json_object_get(e->arr));
                json_object_object_add(o, "truncated", json_object_new_boolean(e->full));
                cms_reply_json(r, 200, o);
        }
        events_free(e);
}

/* ---- monitor ---- */

struct monitor {
        struct cms_manager *m;
        char **keys; /* container= values; NULL: all running */
        size_t n_keys;
        int64_t duration_ms, every_ms;
};

static void monitor_free(void *p)
{
        struct monitor *mo = p;
        for (size_t i = 0; i < mo->n_keys; i++)
                free(mo->keys[i]);
        free(mo->keys);
        free(mo);
}

/* {"time":..,"containers":[{meta.., point..}]} for the selected containers' latest samples. */
static json_object *monitor_sample(struct monitor *mo)
{
        struct cms_sampler *s = mo->m->sampler;
        struct cms_sampler_ctr **v = NULL;
        size_t n = 0;
        if (mo->n_keys) {
                v = calloc(mo->n_keys + 1, sizeof(*v));
                for (size_t i = 0; v && i < mo->n_keys; i++)
                        if ((v[n] = cms_sampler_find(s, mo->keys[i])))
                                n++;
        } else if (cms_sampler_list(s, true, &v, &n) < 0) {
                return NULL;
        }
        struct cms_buf b, pt;
        cms_buf_init(&b, 0);
        cms_buf_init(&pt, 0);
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        char t[32];
        cms_format_time_ms((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, t, sizeof(t));
        int rc = cms_buf_printf(&b, "{\"time\":\"%s\",\"containers\":[", t);
        struct cms_ctr_info *in = malloc(sizeof(*in));
        bool first = true;
        for (size_t i = 0; i < n && rc == 0 && in; i++) {
                cms_sampler_ctr_read(v[i], in, NULL);
                if (!in->has_latest)
                        continue;
                pt.len = 0;
                rc =
                    cms_export_json_point(&pt, in->has_prev ? &in->prev : &in->latest, &in->latest);
                rc = rc ?: cms_buf_printf(&b, "%s{", first ? "" : ",");
                rc = rc ?: cms_export_json_meta(&b, in);
                rc = rc ?: cms_buf_printf(&b, ",%s", pt.data + 1); /* the point's fields */
                first = false;
        }
        free(in);
        cms_sampler_list_free(v, n);
        rc = rc ?: cms_buf_printf(&b, "]}");
        json_object *o = rc == 0 ? json_tokener_parse(b.data) : NULL;
        cms_buf_free(&b);
        cms_buf_free(&pt);
        return o;
}

/* Calls emit for a sample every every_ms (on the sampler's rounds) until duration is over. */
static void monitor_loop(struct monitor *mo, int (*emit)(json_object *, void *), void *ud)
{
        int64_t end = cms_now_ms() + mo->duration_ms, next = cms_now_ms();
        uint64_t gen = 0;
        for (;;) {
                int64_t now = cms_now_ms();
                if (now >= end || atomic_load(&mo->m->draining))
                        return;
                /* Wait for a fresh round at or after the next due time. */
                if (now < next) {
                        struct timespec ts = {(next - now) / 1000, ((next - now) % 1000) * 1000000};
                        nanosleep(&ts, NULL);
                        continue;
                }
                gen = cms_sampler_wait(mo->m->sampler, gen, end - now < 2000 ? end - now : 2000);
                json_object *o = monitor_sample(mo);
                if (o && emit(o, ud))
                        return;
                next += mo->every_ms;
                if (next < cms_now_ms())
                        next = cms_now_ms() + mo->every_ms / 2;
        }
}

static int emit_stream(json_object *o, void *ud)
{
        return cms_stream_emit(ud, "sample", o) || cms_stream_should_stop(ud);
}

static int emit_array(json_object *o, void *ud)
{
        json_object_array_add(ud, o);
        return 0;
}

static void monitor_produce(struct cms_stream *s, void *ud)
{
        struct monitor *mo = ud;
        monitor_loop(mo, emit_stream, s);
        if (cms_stream_is_sse(s) && !cms_stream_should_stop(s)) {
                json_object *end = json_object_new_object();
                json_object_object_add(end, "reason", json_object_new_string("duration reached"));
                cms_stream_emit(s, "end", end);
        }
}

static int monitor_opts(struct cms_request *r, struct monitor *mo, bool stream, int64_t interval)
{
        const char *d = cms_query(r, "duration"), *iv = cms_query(r, "interval");
        mo->duration_ms = stream ? 3600000 : 10000;
        mo->every_ms = interval;
        if (d && (cms_parse_duration_ms(d, &mo->duration_ms) < 0 || mo->duration_ms <= 0 ||
                  mo->duration_ms > 7 * 24 * 3600000LL)) {
                cms_reply_errorf(r, 400, "duration: expected a duration up to 168h, got '%s'", d);
                return -EINVAL;
        }
        if (iv && (cms_parse_duration_ms(iv, &mo->every_ms) < 0 || mo->every_ms < interval ||
                   mo->every_ms > 3600000)) {
                cms_reply_errorf(r, 400,
                                 "interval: expected a duration from the sampler's "
                                 "interval (%" PRId64 " ms) up to 1h, got '%s'",
                                 interval, iv);
                return -EINVAL;
        }
        if (!stream && mo->duration_ms > MAX_WAIT_MS) {
                cms_reply_errorf(r, 400,
                                 "duration over 60s needs a stream (Accept: "
                                 "text/event-stream or application/x-ndjson)");
                return -EINVAL;
        }
        const char **keys = cms_query_all(r, "container");
        for (size_t i = 0; keys && keys[i]; i++) {
                struct cms_sampler_ctr *c = cms_sampler_find(r->m->sampler, keys[i]);
                if (!c) {
                        cms_reply_errorf(r, 404, "container %s is not being sampled", keys[i]);
                        free(keys);
                        return -ENOENT;
                }
                cms_sampler_ctr_unref(c);
                char **p = realloc(mo->keys, (mo->n_keys + 1) * sizeof(*p));
                if (!p || !(p[mo->n_keys] = strdup(keys[i]))) {
                        mo->keys = p ? p : mo->keys;
                        free(keys);
                        cms_reply_errorf(r, 500, "out of memory");
                        return -ENOMEM;
                }
                mo->keys = p;
                mo->n_keys++;
        }
        free(keys);
        return 0;
}

void h_monitor(struct cms_request *r)
{
        if (!r->m->sampler) {
                cms_reply_errorf(r, 503, "the metrics sampler is not running");
                return;
        }
        struct cms_sampler_status st;
        cms_sampler_status(r->m->sampler, &st);
        enum cms_stream_format fmt = cms_stream_wanted(r);
        struct monitor *mo = calloc(1, sizeof(*mo));
        if (!mo) {
                cms_reply_errorf(r, 500, "out of memory");
                return;
        }
        mo->m = r->m;
        if (monitor_opts(r, mo, fmt != CMS_STREAM_NONE, st.interval_ms) < 0) {
                monitor_free(mo);
                return;
        }
        if (fmt != CMS_STREAM_NONE) {
                cms_stream_start(r, fmt, monitor_produce, mo, monitor_free);
                return;
        }
        json_object *samples = json_object_new_array();
        monitor_loop(mo, emit_array, samples);
        monitor_free(mo);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "samples", samples);
        cms_reply_json(r, 200, o);
}
