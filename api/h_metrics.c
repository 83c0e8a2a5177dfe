/* Handlers for the metrics routes: GET /metrics (Prometheus), /v1/metrics (JSON series with
 * since + ETag), /v1/metrics/export (the whole history as a download, streamed container by
 * container) and /v1/containers/{id}/stats (the request counters are counters.c's). Everything
 * is read from the sampler's memory: no engine call, except to tell "not running" from "no such
 * container" on the stats route. */
#include <pthread.h>

#include "api.h"
#include "daemon/monitor/sampler.h"

#define MAX_PROM       (256u * 1024 * 1024)
#define MAX_JSON       (512u * 1024 * 1024)
#define DEFAULT_POINTS 60

/* ---- shared ---- */

static struct cms_sampler *sampler_or_503(struct cms_request *r)
{
        if (!r->m->sampler)
                cms_reply_errorf(r, 503, "the metrics sampler is not running");
        return r->m->sampler;
}

static void reply_buf(struct cms_request *r, int status, const char *ctype, struct cms_buf *b,
                      const char *etag, const char *disposition)
{
        size_t len = b->len;
        char *data = cms_buf_take(b);
        struct MHD_Response *resp =
            data ? MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE) : NULL;
        if (!resp) {
                free(data);
                cms_reply_errorf(r, 500, "out of memory");
                return;
        }
        MHD_add_response_header(resp, "Content-Type", ctype);
        if (etag)
                MHD_add_response_header(resp, "ETag", etag);
        if (disposition)
                MHD_add_response_header(resp, "Content-Disposition", disposition);
        cms_reply_decorate(r, resp);
        cms_reply_queue(r, status, resp);
}

/* since= and points= of the JSON routes. Replies 400 and returns <0 when malformed. */
static int series_opts(struct cms_request *r, size_t capacity, int64_t *since, size_t *points)
{
        const char *s = cms_query(r, "since");
        *since = 0;
        if (s && cms_parse_time_ms(s, since) < 0) {
                cms_reply_errorf(r, 400, "since: expected RFC 3339 or unix seconds, got '%s'", s);
                return -EINVAL;
        }
        int64_t p;
        if (cms_query_int(r, "points", 1, (int64_t)capacity, s ? (int64_t)capacity : DEFAULT_POINTS,
                          &p) < 0)
                return -EINVAL;
        *points = (size_t)p;
        return 0;
}

/* The containers named by container= (id, name or id prefix; repeatable), else all held. */
static int select_ctrs(struct cms_request *r, struct cms_sampler *s, bool live_only,
                       struct cms_sampler_ctr ***out, size_t *n)
{
        const char **keys = cms_query_all(r, "container");
        if (!keys || !keys[0]) {
                free(keys);
                return cms_sampler_list(s, live_only, out, n);
        }
        size_t k = 0;
        while (keys[k])
                k++;
        struct cms_sampler_ctr **v = calloc(k + 1, sizeof(*v));
        *n = 0;
        for (size_t i = 0; v && i < k; i++) {
                if (!(v[*n] = cms_sampler_find(s, keys[i]))) {
                        cms_reply_errorf(r, 404,
                                         "no metrics for container %s (not running, or "
                                         "not known to the sampler)",
                                         keys[i]);
                        cms_sampler_list_free(v, *n);
                        free(keys);
                        return -ENOENT;
                }
                (*n)++;
        }
        free(keys);
        if (!v) {
                cms_reply_errorf(r, 500, "out of memory");
                return -ENOMEM;
        }
        *out = v;
        return 0;
}

/* ---- GET /metrics ---- */

/* The rendering of the current sampling round, shared by the scrapes of that round. At 1,000
 * containers a rendering is ~10 MB and a few milliseconds, so:
 * - one rendering per round however many scrapes arrive (concurrent scrapers, several Prometheus,
 *   dashboards): the first renders under prom_render_lock, the others wait and take its text;
 *   before, every scrape that found the text stale rendered its own, and 8 connections of wrk at
 *   a round's start each built one;
 * - the cache keeps the text until the round after it (prom_expiry's thread drops it then), so
 *   nothing stays allocated once the scrapes end (a kept 10 MB text was idle memory as large as
 *   the rest of cmsd), and a text still being sent is freed by its last response;
 * - it is allocated in one piece at the size of the last one (plus a margin), not grown by
 *   doubling: one allocation, mapped on its own and returned to the system when freed
 *   (daemon/main.c keeps glibc's mmap threshold fixed). */
struct prom_text {
        int refs;        /* under prom_lock; the cache holds one */
        const void *key; /* the engine's sampler, or the root manager for all engines at once */
        uint64_t gen;
        int64_t expires_ms; /* monotonic: when the next round has replaced it */
        size_t len;
        char *data;
};

static pthread_mutex_t prom_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t prom_cond = PTHREAD_COND_INITIALIZER; /* a new text was cached */
static pthread_mutex_t prom_render_lock = PTHREAD_MUTEX_INITIALIZER;
static struct prom_text *prom_cached;
static size_t prom_last_len; /* under prom_render_lock */
static pthread_once_t prom_expiry_once = PTHREAD_ONCE_INIT;

/* Drops a reference; prom_lock held. Returns the text when it is to be freed. */
static struct prom_text *prom_drop_locked(struct prom_text *t)
{
        return t && --t->refs == 0 ? t : NULL;
}

static void prom_free(struct prom_text *t)
{
        if (t) {
                free(t->data);
                free(t);
        }
}

static void prom_unref(void *p)
{
        pthread_mutex_lock(&prom_lock);
        struct prom_text *t = prom_drop_locked(p);
        pthread_mutex_unlock(&prom_lock);
        prom_free(t);
}

/* Takes the cached text out of the cache once its round is over. */
static void *prom_expiry(void *arg)
{
        (void)arg;
        pthread_mutex_lock(&prom_lock);
        for (;;) {
                while (!prom_cached)
                        pthread_cond_wait(&prom_cond, &prom_lock);
                int64_t left = prom_cached->expires_ms - cms_now_ms();
                if (left > 0) {
                        struct timespec ts;
                        clock_gettime(CLOCK_REALTIME, &ts);
                        int64_t ns = ts.tv_nsec + (left % 1000) * 1000000;
                        ts.tv_sec += (time_t)(left / 1000 + ns / 1000000000);
                        ts.tv_nsec = (long)(ns % 1000000000);
                        pthread_cond_timedwait(&prom_cond, &prom_lock, &ts);
                        continue;
                }
                struct prom_text *t = prom_drop_locked(prom_cached);
                prom_cached = NULL;
                pthread_mutex_unlock(&prom_lock);
                prom_free(t);
                pthread_mutex_lock(&prom_lock);
        }
        return NULL;
}

static void prom_expiry_start(void)
{
        pthread_t th;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setstacksize(&a, 64 * 1024);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&th, &a, prom_expiry, NULL) != 0)
                log_warn("metrics: no expiry thread: the last /metrics text stays "
                         "cached until the next scrape");
        pthread_attr_destroy(&a);
}

/* A reference to the cached text of s's generation gen, or NULL. */
static struct prom_text *prom_lookup(const void *key, uint64_t gen)
{
        pthread_mutex_lock(&prom_lock);
        struct prom_text *t =
            prom_cached && prom_cached->key == key && prom_cached->gen == gen ? prom_cached : NULL;
        if (t)
                t->refs++;
        pthread_mutex_unlock(&prom_lock);
        return t;
}

/* cmsd_image_vulnerabilities{image,severity}: the summary of each image's last scan (the
 * cached results, images/scan.c), every severity written, zeros too. */
struct vuln_lines {
        struct cms_buf *b;
        int rc;
};

static void prom_label_value(struct cms_buf *b, const char *s, int *rc)
{
        for (; *s && *rc == 0; s++) {
                const char *esc = *s == '\\'   ? "\\\\"
                                  : *s == '"'  ? "\\\""
                                  : *s == '\n' ? "\\n"
                                               : NULL;
                *rc = esc ? cms_buf_append(b, esc, 2) : cms_buf_append(b, s, 1);
        }
}

static void vuln_image(const char *image, json_object *summary, void *ud)
{
        static const char *const sev[] = {"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"};
        struct vuln_lines *vl = ud;
        for (size_t i = 0; i < ELEMENTSOF(sev) && vl->rc == 0; i++) {
                vl->rc = cms_buf_append(vl->b, "cmsd_image_vulnerabilities{image=\"", 34);
                prom_label_value(vl->b, image, &vl->rc);
                if (vl->rc == 0)
                        vl->rc = cms_buf_printf(
                            vl->b, "\",severity=\"%s\"} %lld\n", sev[i],
                            (long long)json_object_get_int64(cms_json_get(summary, sev[i])));
        }
}

static int prom_vulnerabilities(struct cms_request *r, struct cms_buf *b)
{
        struct vuln_lines vl = {.b = b};
        vl.rc = cms_buf_printf(b, "# HELP cmsd_image_vulnerabilities Findings of the image's last "
                                  "scan (POST /v1/images/{ref}/scan), by severity.\n"
                                  "# TYPE cmsd_image_vulnerabilities gauge\n");
        if (vl.rc == 0)
                cms_images_scan_each(r->m, vuln_image, &vl);
        return vl.rc;
}

/* The engines a scrape covers: the one ?engine= names, else every engine with a sampler that the
 * token may use. With several engines configured every series carries an engine label; with one,
 * the text is what it always was. */
struct prom_set {
        struct cms_manager *m[CMS_MAX_ENGINES];
        size_t n;
        bool labelled;
        const void *key;
        uint64_t gen; /* the sum of their samplers' generations: changes with any of them */
};

static void prom_set_of(struct cms_request *r, struct prom_set *ps)
{
        struct cms_manager *root = r->m->root;
        memset(ps, 0, sizeof(*ps));
        if (root->n_all > 1 && !cms_query(r, "engine")) {
                for (size_t i = 0; i < root->n_all; i++)
                        if (root->all[i]->sampler && (r->engines_ok & (1u << i)))
                                ps->m[ps->n++] = root->all[i];
                ps->labelled = true;
                ps->key = root;
        } else {
                ps->m[ps->n++] = r->m;
                ps->labelled = root->n_all > 1; /* the same series names with ?engine= */
                ps->key = r->m->sampler;
        }
        for (size_t i = 0; i < ps->n; i++) {
                struct cms_sampler_status st;
                cms_sampler_status(ps->m[i]->sampler, &st);
                ps->gen += st.generation;
        }
}

static void self_of(struct cms_manager *m, const struct cms_sampler_status *st, bool labelled,
                    struct cms_self_metrics *self)
{
        *self = (struct cms_self_metrics){.cpu_cores = st->machine_cores,
                                          .memory_bytes = st->machine_memory,
                                          .boot_id = st->boot_id,
                                          .machine_id = st->machine_id,
                                          .fs_device = st->fs_device,
                                          .fs_limit = st->fs_limit,
                                          .samples_total = st->samples_total,
                                          .cpu_seconds = st->cpu_seconds,
                                          .containers = st->containers,
                                          .mode = st->mode,
                                          .ring_bytes = st->ring_bytes,
                                          .ring_data_bytes = st->ring_data_bytes,
                                          .ring_samples = st->ring_samples,
                                          .round_seconds = st->round_seconds,
                                          .engine_up = cms_manager_engine_up(m),
                                          .engine = labelled ? m->name : NULL};
}

static int prom_render(struct cms_request *r, const struct prom_set *ps, struct cms_buf *b)
{
        struct cms_sampler_ctr **v[CMS_MAX_ENGINES] = {0};
        size_t nv[CMS_MAX_ENGINES] = {0}, n = 0;
        struct cms_sampler_status st[CMS_MAX_ENGINES];
        struct cms_self_metrics self[CMS_MAX_ENGINES];
        int rc = 0;
        for (size_t e = 0; e < ps->n && rc == 0; e++) {
                rc = cms_sampler_list(ps->m[e]->sampler, true, &v[e], &nv[e]) < 0 ? -ENOMEM : 0;
                n += nv[e];
        }
        struct cms_ctr_info *infos = rc == 0 ? calloc(n + 1, sizeof(*infos)) : NULL;
        size_t k = 0;
        for (size_t e = 0; infos && e < ps->n; e++) {
                for (size_t i = 0; i < nv[e]; i++, k++) {
                        cms_sampler_ctr_read(v[e][i], &infos[k], NULL);
                        infos[k].engine = ps->labelled ? ps->m[e]->name : NULL;
                }
                cms_sampler_status(ps->m[e]->sampler, &st[e]);
                self_of(ps->m[e], &st[e], ps->labelled, &self[e]);
        }
        struct cms_http_count *http = NULL;
        self[0].n_http = cms_http_counts(&http);
        self[0].http = http;
        self[0].more = self + 1;
        self[0].n_more = ps->n - 1;
        rc = infos ? cms_export_prometheus(infos, n, &self[0], b) : -ENOMEM;
        if (rc == 0)
                rc = prom_vulnerabilities(r, b);
        for (size_t e = 0; e < ps->n; e++) /* held until now: the infos' strings are theirs */
                cms_sampler_list_free(v[e], nv[e]);
        free(infos);
        free(http);
        return rc;
}

/* The rendering for the current round, shared (a reference for the caller) or new. */
static struct prom_text *prom_get(struct cms_request *r, struct cms_sampler *s, int *rc)
{
        struct cms_sampler_status st;
        struct prom_set ps;
        cms_sampler_status(s, &st);
        prom_set_of(r, &ps);
        struct prom_text *t = prom_lookup(ps.key, ps.gen);
        if (t)
                return t;
        pthread_mutex_lock(&prom_render_lock);
        if ((t = prom_lookup(ps.key, ps.gen))) { /* rendered while this one waited */
                pthread_mutex_unlock(&prom_render_lock);
                return t;
        }
        struct cms_buf b;
        cms_buf_init(&b, MAX_PROM);
        size_t hint = prom_last_len + prom_last_len / 16 + 4096;
        if (hint <= MAX_PROM && (b.data = malloc(hint)))
                b.cap = hint;
        t = calloc(1, sizeof(*t));
        *rc = t ? prom_render(r, &ps, &b) : -ENOMEM;
        if (*rc < 0) {
                pthread_mutex_unlock(&prom_render_lock);
                cms_buf_free(&b);
                free(t);
                return NULL;
        }
        prom_last_len = b.len;
        t->len = b.len;
        t->data = cms_buf_take(&b);
        t->key = ps.key;
        t->gen = ps.gen;
        t->expires_ms = cms_now_ms() + (st.interval_ms > 0 ? st.interval_ms : 1000);
        t->refs = 2; /* the cache's and the caller's */
        pthread_once(&prom_expiry_once, prom_expiry_start);
        pthread_mutex_lock(&prom_lock);
        struct prom_text *old = prom_drop_locked(prom_cached);
        prom_cached = t;
        pthread_cond_signal(&prom_cond);
        pthread_mutex_unlock(&prom_lock);
        pthread_mutex_unlock(&prom_render_lock);
        prom_free(old);
        return t;
}

void h_metrics_prometheus(struct cms_request *r)
{
        struct cms_sampler *s = sampler_or_503(r);
        if (!s)
                return;
        int rc = -ENOMEM;
        struct prom_text *t = prom_get(r, s, &rc);
        if (!t || !t->data) {
                prom_unref(t);
                cms_reply_errorf(r, 500, "cannot render the metrics: %s", strerror(-rc));
                return;
        }
        struct MHD_Response *resp =
            MHD_create_response_from_buffer_with_free_callback_cls(t->len, t->data, prom_unref, t);
        if (!resp) {
                prom_unref(t);
                cms_reply_errorf(r, 500, "out of memory");
                return;
        }
        MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        cms_reply_decorate(r, resp);
        cms_reply_queue(r, 200, resp);
}

/* ---- GET /v1/metrics ---- */

static uint64_t fnv1a(const char *p, size_t n)
{
        uint64_t h = 1469598103934665603ull;
        for (size_t i = 0; i < n; i++)
                h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
        return h;
}

/* The document's head; with several engines it names the engine its containers are on. */
static int doc_head(struct cms_buf *b, struct cms_sampler *s, const struct cms_manager *m)
{
        struct cms_sampler_status st;
        cms_sampler_status(s, &st);
        char iv[32];
        cms_format_duration(st.interval_ms, iv, sizeof(iv));
        int r = cms_buf_append(b, "{", 1);
        if (r == 0 && m->root->n_all > 1 && !(r = cms_buf_printf(b, "\"engine\":")))
                r = cms_json_quote(b, m->name) ?: cms_buf_append(b, ",", 1);
        return r
                   ?: cms_buf_printf(
                          b, "\"interval\":\"%s\",\"interval_ms\":%" PRId64 ",\"containers\":[", iv,
                          st.interval_ms);
}

static int render_one(struct cms_buf *b, struct cms_sampler_ctr *c, int64_t since, size_t points,
                      int64_t *newest)
{
        struct cms_ctr_info *in = malloc(sizeof(*in));
        struct cms_ring_snap snap = {0};
        int rc = in ? cms_sampler_ctr_read(c, in, &snap) : -ENOMEM;
        if (rc == 0)
                rc = cms_export_json_series(b, in, &snap, since, points, newest);
        cms_ring_snap_free(&snap);
        free(in);
        return rc;
}

void h_metrics_json(struct cms_request *r)
{
        struct cms_sampler *s = sampler_or_503(r);
        struct cms_sampler_status st;
        int64_t since;
        size_t points, n = 0;
        struct cms_sampler_ctr **v = NULL;
        if (!s)
                return;
        cms_sampler_status(s, &st);
        if (series_opts(r, (size_t)(st.history_ms / st.interval_ms) + 1, &since, &points) < 0 ||
            select_ctrs(r, s, false, &v, &n) < 0)
                return;
        struct cms_buf b;
        cms_buf_init(&b, MAX_JSON);
        int64_t newest = since;
        int rc = cms_buf_printf(&b, "{\"success\":true,\"data\":");
        rc = rc ?: doc_head(&b, s, r->m);
        for (size_t i = 0; i < n && rc == 0; i++) {
                if (i)
                        rc = cms_buf_append(&b, ",", 1);
                rc = rc ?: render_one(&b, v[i], since, points, &newest);
        }
        cms_sampler_list_free(v, n);
        char t[32];
        cms_format_time_ms(newest, t, sizeof(t));
        /* A polling dashboard passes next_since back as since and gets only newer points. */
        rc = rc
                 ?: cms_buf_printf(&b, "],\"next_since\":%s%s%s}}", newest ? "\"" : "",
                                   newest ? t : "null", newest ? "\"" : "");
        if (rc < 0) {
                cms_buf_free(&b);
                cms_reply_errorf(r, rc == -E2BIG ? 400 : 500, "%s",
                                 rc == -E2BIG ? "result too large: narrow it with container=, "
                                                "since= or points="
                                              : "cannot render the metrics");
                return;
        }
        char etag[24];
        snprintf(etag, sizeof(etag), "\"%016" PRIx64 "\"", fnv1a(b.data, b.len));
        const char *inm = cms_header(r, "If-None-Match");
        if (inm && (strstr(inm, etag) || !strcmp(inm, "*"))) {
                cms_buf_free(&b);
                struct MHD_Response *resp =
                    MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
                MHD_add_response_header(resp, "ETag", etag);
                cms_reply_decorate(r, resp);
                cms_reply_queue(r, 304, resp);
                return;
        }
        reply_buf(r, 200, "application/json", &b, etag, NULL);
}

/* ---- GET /v1/metrics/export: rendered one container at a time as the client reads ---- */

struct export_cur {
        struct cms_sampler *s;
        const struct cms_manager *m;
        struct cms_sampler_ctr **v;
        size_t n, i, off;
        int stage;
        struct cms_buf buf;
};

static int export_fill(struct export_cur *x)
{
        x->buf.len = x->off = 0;
        if (x->stage == 0) {
                x->stage = 1;
                return doc_head(&x->buf, x->s, x->m);
        }
        if (x->stage == 1 && x->i < x->n) {
                int rc = x->i ? cms_buf_append(&x->buf, ",", 1) : 0;
                rc = rc ?: render_one(&x->buf, x->v[x->i], 0, 0, NULL);
                x->i++;
                return rc;
        }
        if (x->stage == 1) {
                x->stage = 2;
                return cms_buf_printf(&x->buf, "]}\n");
        }
        return 1;
}

static ssize_t export_reader(void *cls, uint64_t pos, char *out, size_t max)
{
        struct export_cur *x = cls;
        while (x->off == x->buf.len) {
                int rc = export_fill(x);
                if (rc > 0)
                        return MHD_CONTENT_READER_END_OF_STREAM;
                if (rc < 0)
                        return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        size_t k = x->buf.len - x->off < max ? x->buf.len - x->off : max;
        memcpy(out, x->buf.data + x->off, k);
        x->off += k;
        return (ssize_t)k;
}

static void export_free(void *cls)
{
        struct export_cur *x = cls;
        cms_sampler_list_free(x->v, x->n);
        cms_buf_free(&x->buf);
        free(x);
}

void h_metrics_export(struct cms_request *r)
{
        struct cms_sampler *s = sampler_or_503(r);
        if (!s)
                return;
        struct export_cur *x = calloc(1, sizeof(*x));
        if (!x) {
                cms_reply_errorf(r, 500, "out of memory");
                return;
        }
        x->s = s;
        x->m = r->m;
        cms_buf_init(&x->buf, MAX_JSON);
        if (select_ctrs(r, s, false, &x->v, &x->n) < 0) {
                free(x);
                return;
        }
        struct MHD_Response *resp = MHD_create_response_from_callback(
            MHD_SIZE_UNKNOWN, 64 * 1024, export_reader, x, export_free);
        if (!resp) {
                export_free(x);
                cms_reply_errorf(r, 500, "out of memory");
                return;
        }
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        struct tm tm;
        gmtime_r(&now.tv_sec, &tm);
        char disp[96];
        strftime(disp, sizeof(disp), "attachment; filename=\"cmsd-metrics-%Y%m%dT%H%M%SZ.json\"",
                 &tm);
        MHD_add_response_header(resp, "Content-Type", "application/json");
        MHD_add_response_header(resp, "Content-Disposition", disp);
        cms_reply_decorate(r, resp);
        cms_reply_queue(r, 200, resp);
}

/* ---- GET /v1/containers/{id}/stats ---- */

static void stats_not_sampled(struct cms_request *r)
{
        struct cms_error err = {0};
        json_object *doc = NULL;
        if (cms_containers_inspect(r->m, r->params[0], &doc, &err) < 0) {
                cms_reply_error(r, &err);
                return;
        }
        json_object *o = json_object_new_object();
        static const char *const keys[] = {"id", "name", "image", "state", "health"};
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                json_object_object_add(o, keys[i],
                                       json_object_get(json_object_object_get(doc, keys[i])));
        json_object_object_add(o, "sampled", json_object_new_boolean(0));
        json_object_object_add(o, "latest", NULL);
        json_object_object_add(o, "history", json_object_new_array());
        json_object_put(doc);
        cms_reply_json(r, 200, o);
}

void h_container_stats(struct cms_request *r)
{
        struct cms_sampler *s = sampler_or_503(r);
        struct cms_sampler_status st;
        int64_t since;
        size_t points;
        if (!s)
                return;
        cms_sampler_status(s, &st);
        if (series_opts(r, (size_t)(st.history_ms / st.interval_ms) + 1, &since, &points) < 0)
                return;
        struct cms_sampler_ctr *c = cms_sampler_find(s, r->params[0]);
        if (!c) {
                stats_not_sampled(r);
                return;
        }
        struct cms_ctr_info *in = malloc(sizeof(*in));
        struct cms_ring_snap snap = {0};
        int rc = in ? cms_sampler_ctr_read(c, in, &snap) : -ENOMEM;
        cms_sampler_ctr_unref(c);
        struct cms_buf b;
        cms_buf_init(&b, MAX_JSON);
        char iv[32];
        cms_format_duration(st.interval_ms, iv, sizeof(iv));
        rc = rc ?: cms_buf_printf(&b, "{\"success\":true,\"data\":{");
        rc = rc ?: cms_export_json_meta(&b, in);
        rc = rc ?: cms_buf_printf(&b, ",\"sampled\":true,\"interval\":\"%s\",\"latest\":", iv);
        rc = rc ?: cms_export_json_latest(&b, in);
        rc = rc ?: cms_buf_printf(&b, ",\"history\":");
        rc = rc ?: cms_export_json_points(&b, &snap, since, points, NULL);
        rc = rc ?: cms_buf_printf(&b, "}}");
        cms_ring_snap_free(&snap);
        free(in);
        if (rc < 0) {
                cms_buf_free(&b);
                cms_reply_errorf(r, 500, "cannot render the stats");
                return;
        }
        reply_buf(r, 200, "application/json", &b, NULL, NULL);
}
