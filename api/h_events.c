/* Handlers for the two monitoring streams: GET /v1/events (the engine's events, normalized and
 * filtered by the system manager) and GET /v1/monitor (a sample of the selected containers every
 * interval for a duration, from the sampler's memory). With Accept: text/event-stream or
 * application/x-ndjson they stream from a producer thread; without, they gather and answer one
 * envelope. */
#include "api.h"
#include "daemon/monitor/sampler.h"

#define MAX_EVENTS  10000
#define MAX_WAIT_MS 60000 /* the longest a non-streaming monitor call may run */

/* ---- events ---- */

struct events {
        struct cms_events *feed;
        struct cms_stream *s; /* NULL: gathering into arr */
        json_object *arr;
        bool full;
};

static void events_free(void *p)
{
        struct events *e = p;
        cms_events_free(e->feed);
        json_object_put(e->arr);
        free(e);
}

static int on_event(json_object *o, void *ud)
{
        struct events *e = ud;
        if (e->s)
                return cms_stream_emit(e->s, "event", o);
        if (json_object_array_length(e->arr) < MAX_EVENTS) {
                json_object_array_add(e->arr, o);
                return 0;
        }
        json_object_put(o);
        e->full = true;
        return 1;
}

static void events_produce(struct cms_stream *s, void *ud)
{
        struct events *e = ud;
        struct cms_error err = {0};
        e->s = s;
        int rc = cms_events_run(e->feed, on_event, cms_stream_should_stop, s, e, &err);
        /* An error event, or (SSE) an end event saying why: the report ended, cmsd is shutting
         * down, the stream reached limits.max_stream_duration, its token was removed. */
        cms_stream_finish(s, rc, &err, "ended");
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

void h_events(struct cms_request *r)
{
        enum cms_stream_format fmt = cms_stream_wanted(r);
        struct cms_events_opts o = {.stream = fmt != CMS_STREAM_NONE};
        if (time_param(r, "since", &o.since_ms) < 0 || time_param(r, "until", &o.until_ms) < 0)
                return;
        o.types = cms_query_all(r, "type");
        o.containers = cms_query_all(r, "container");
        o.events = cms_query_all(r, "event");
        o.labels = cms_query_all(r, "label");
        struct events *e = calloc(1, sizeof(*e));
        struct cms_error err = {0};
        int rc = e ? cms_events_new(r->m, &o, &e->feed, &err) : cms_err(&err, 500, "out of memory");
        free(o.types);
        free(o.containers);
        free(o.events);
        free(o.labels);
        if (rc < 0) {
                if (e)
                        events_free(e);
                cms_reply_error(r, &err);
                return;
        }
        if (fmt != CMS_STREAM_NONE) {
                cms_stream_start(r, fmt, events_produce, e, events_free);
                return;
        }
        e->arr = json_object_new_array();
        if (cms_events_run(e->feed, on_event, NULL, NULL, e, &err) < 0) {
                cms_reply_error(r, &err);
        } else {
                json_object *res = json_object_new_object();
                json_object_object_add(res, "events", json_object_get(e->arr));
                json_object_object_add(res, "truncated", json_object_new_boolean(e->full));
                cms_reply_json(r, 200, res);
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
