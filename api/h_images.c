/* Handlers for the image routes. Pull, push, build and scan report progress as SSE or NDJSON
 * when the client asks for a stream (every object carries "type": progress, output, done or
 * error), and otherwise answer one envelope when the work is done. Everything that can be checked
 * before the work starts is, so that those failures are plain error envelopes, never a stream. */
#include <pthread.h>
#include <time.h>

#include "api.h"

static int list_part(struct cms_manager *m, void *ud, json_object **out, struct cms_error *err)
{
        return cms_images_list(m, ud, out, err);
}

void h_images_list(struct cms_request *r)
{
        struct cms_images_list_opts o = {.dangling = -1};
        bool dangling = false;
        if (cms_query_bool(r, "all", false, &o.all) < 0)
                return;
        if (cms_query(r, "dangling")) {
                if (cms_query_bool(r, "dangling", false, &dangling) < 0)
                        return;
                o.dangling = dangling;
        }
        o.reference = cms_query(r, "reference");
        const char **labels = cms_query_all(r, "label");
        o.labels = labels;
        if (r->fanout) {
                cms_fanout_reply(r, list_part, &o, true);
                free(labels);
                return;
        }
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = cms_images_list(r->m, &o, &out, &err);
        free(labels);
        cms_reply_result(r, rc, 200, out, &err);
}

void h_image_inspect(struct cms_request *r)
{
        cms_reply_call_id(r, 200, cms_images_inspect);
}

void h_image_history(struct cms_request *r)
{
        cms_reply_call_id(r, 200, cms_images_history);
}

/* The CycloneDX document as it is (a file SBOM tools read), not inside the envelope; errors
 * are envelopes as everywhere. X-Cmsd-Sbom-Cache says whether the export was read. */
void h_image_sbom(struct cms_request *r)
{
        struct cms_error err = {0};
        _cleanup_json_ json_object *doc = NULL;
        bool cached = false;
        if (cms_images_sbom(r->m, r->params[0], &doc, &cached, &err) < 0) {
                cms_reply_error(r, &err);
                return;
        }
        size_t len;
        const char *s = json_object_to_json_string_length(
            doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(len, (void *)s, MHD_RESPMEM_MUST_COPY);
        if (!resp) {
                cms_reply_errorf(r, 500, "out of memory");
                return;
        }
        MHD_add_response_header(resp, "Content-Type",
                                "application/vnd.cyclonedx+json; version=1.5");
        MHD_add_response_header(resp, "X-Cmsd-Sbom-Cache", cached ? "hit" : "miss");
        cms_reply_decorate(r, resp);
        cms_reply_queue(r, 200, resp);
}

void h_image_scan_get(struct cms_request *r)
{
        cms_reply_call_id(r, 200, cms_images_scan_get);
}

void h_vulndb_status(struct cms_request *r)
{
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = cms_images_vulndb_status(r->m, &out, &err);
        cms_reply_result(r, rc, 200, out, &err);
}

/* An archive body (tar, compressed or not, or zip) is read while it arrives; a JSON body
 * {"path"} names records on the daemon's host. */
void h_vulndb_import(struct cms_request *r)
{
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc;
        if (r->upload) {
                cms_upload_claim(r->upload);
                rc = cms_images_vulndb_import_stream(r->m, cms_upload_read, r->upload, &out, &err);
                cms_upload_release(r->upload);
        } else {
                rc = cms_images_vulndb_import(r->m, r->json, &out, &err);
        }
        cms_reply_result(r, rc, 200, out, &err);
}

void h_image_tag(struct cms_request *r)
{
        cms_reply_call_id_body(r, 201, cms_images_tag);
}

void h_image_remove(struct cms_request *r)
{
        bool force, noprune;
        if (cms_query_bool(r, "force", false, &force) < 0 ||
            cms_query_bool(r, "noprune", false, &noprune) < 0)
                return;
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = cms_images_remove(r->m, r->params[0], force, noprune, &out, &err);
        cms_reply_result(r, rc, 200, out, &err);
}

void h_images_prune(struct cms_request *r)
{
        const char **labels = cms_query_all(r, "label");
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = cms_images_prune(r->m, r->json, labels, &out, &err);
        free(labels);
        cms_reply_result(r, rc, 200, out, &err);
}

/* ---- pull, push, build, scan: one envelope, or a stream of progress ---- */

enum job_kind { JOB_PULL, JOB_PUSH, JOB_BUILD, JOB_SCAN };

struct job {
        enum job_kind kind;
        struct cms_manager *m;
        json_object *body;
        char *ref;
        struct cms_build_opts bo;
        char **tags, **buildargs, **labels, *dockerfile; /* owned copies behind bo */
        struct cms_upload *upload;                       /* build: claimed */
};

static void strv_free(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

static char **strv_dup(const char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        char **c = calloc(n + 1, sizeof(*c));
        for (size_t i = 0; c && i < n; i++)
                if (!(c[i] = strdup(v[i]))) {
                        strv_free(c);
                        return NULL;
                }
        return c;
}

static void job_free(void *p)
{
        struct job *j = p;
        if (!j)
                return;
        json_object_put(j->body);
        free(j->ref);
        strv_free(j->tags);
        strv_free(j->buildargs);
        strv_free(j->labels);
        free(j->dockerfile);
        if (j->upload)
                cms_upload_release(j->upload);
        free(j);
}

/* ---- streaming: the job runs in a thread of its own and hands its events to a relay ----
 *
 * The 200 of a stream cannot be taken back, so it is not sent at once: the handler waits until
 * the work is clearly under way (an event with byte counts, a full relay, or COMMIT_MS after the
 * first event). A failure before that (no such image, refused credentials, a registry that is
 * down, a context the engine refuses: all reported within milliseconds) is answered as a plain
 * error envelope; one after it is the stream's last event, typed "error". */

#define RELAY_MAX 256
#define COMMIT_MS 2000

struct relay {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        struct {
                const char *event;
                json_object *data;
        } q[RELAY_MAX];
        size_t head, len;
        int refs;
        bool bytes_seen, finished, gone;
        int64_t first_ms; /* monotonic time of the first event, 0 before */
        int rc;
        struct cms_error err;
        struct job *j;
        atomic_bool *draining;
};

static void relay_unref(void *p)
{
        struct relay *rl = p;
        pthread_mutex_lock(&rl->lock);
        int left = --rl->refs;
        pthread_mutex_unlock(&rl->lock);
        if (left)
                return;
        for (size_t i = 0; i < rl->len; i++)
                json_object_put(rl->q[(rl->head + i) % RELAY_MAX].data);
        pthread_cond_destroy(&rl->cond);
        pthread_mutex_destroy(&rl->lock);
        free(rl);
}

/* Queues an event (blocks while the relay is full). Nonzero once the client has gone. */
static int relay_push(struct relay *rl, const char *event, json_object *data, bool bytes)
{
        pthread_mutex_lock(&rl->lock);
        while (rl->len == RELAY_MAX && !rl->gone && !atomic_load(rl->draining))
                pthread_cond_wait(&rl->cond, &rl->lock);
        int gone = rl->gone || atomic_load(rl->draining);
        if (!gone) {
                rl->q[(rl->head + rl->len) % RELAY_MAX].event = event;
                rl->q[(rl->head + rl->len) % RELAY_MAX].data = data;
                rl->len++;
                if (!rl->first_ms)
                        rl->first_ms = cms_now_ms();
                rl->bytes_seen |= bytes;
                pthread_cond_broadcast(&rl->cond);
        } else {
                json_object_put(data);
        }
        pthread_mutex_unlock(&rl->lock);
        return gone;
}

static int job_progress(const struct cms_progress *p, void *ud)
{
        struct relay *rl = ud;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "type",
                               json_object_new_string(p->output ? "output" : "progress"));
        if (p->output) {
                json_object_object_add(o, "text", json_object_new_string(p->status));
        } else {
                json_object_object_add(o, "id", p->id ? json_object_new_string(p->id) : NULL);
                json_object_object_add(o, "status", json_object_new_string(p->status));
                json_object_object_add(o, "current",
                                       p->current >= 0 ? json_object_new_int64(p->current) : NULL);
                json_object_object_add(o, "total",
                                       p->total >= 0 ? json_object_new_int64(p->total) : NULL);
        }
        return relay_push(rl, p->output ? "output" : "progress", o, p->current > 0 || p->total > 0);
}

static int job_stop(void *ud)
{
        struct relay *rl = ud;
        pthread_mutex_lock(&rl->lock);
        bool gone = rl->gone;
        pthread_mutex_unlock(&rl->lock);
        return gone || atomic_load(rl->draining);
}

static int job_run(struct job *j, struct relay *rl, json_object **out, struct cms_error *err)
{
        cms_progress_cb cb = rl ? job_progress : NULL;
        cms_engine_stop_cb stop = rl ? job_stop : NULL;
        switch (j->kind) {
        case JOB_PULL:
                return cms_images_pull(j->m, j->body, cb, stop, rl, out, err);
        case JOB_PUSH:
                return cms_images_push(j->m, j->ref, j->body, cb, stop, rl, out, err);
        case JOB_SCAN:
                return cms_images_scan_progress(j->m, j->ref, j->body, cb, rl, out, err);
        default:
                return cms_images_build(j->m, &j->bo, cms_upload_read, j->upload, cb, stop, rl, out,
                                        err);
        }
}

static json_object *error_event(const struct cms_error *err)
{
        json_object *e = json_object_new_object(), *o = json_object_new_object();
        json_object_object_add(e, "code",
                               json_object_new_string(err->code ? err->code : "internal"));
        json_object_object_add(e, "message", json_object_new_string(err->message));
        json_object_object_add(e, "status", json_object_new_int(err->status));
        json_object_object_add(o, "type", json_object_new_string("error"));
        json_object_object_add(o, "error", e);
        return o;
}

/* The job's own thread: runs it, queues the last event and marks the relay finished. The job
 * (and with it the manager) is let go before that, so nothing waits on it afterwards. */
static void *job_thread(void *arg)
{
        struct relay *rl = arg;
        json_object *out = NULL;
        struct cms_error err = {0};
        int rc = job_run(rl->j, rl, &out, &err);
        job_free(rl->j);
        rl->j = NULL;
        if (rc == 0)
                json_object_object_add(out, "type", json_object_new_string("done"));
        relay_push(rl, rc < 0 ? "error" : "done", rc < 0 ? error_event(&err) : out, false);
        pthread_mutex_lock(&rl->lock);
        rl->rc = rc;
        rl->err = err;
        rl->finished = true;
        pthread_cond_broadcast(&rl->cond);
        pthread_mutex_unlock(&rl->lock);
        atomic_fetch_sub(&cms_stream_producers, 1);
        relay_unref(rl);
        return NULL;
}

/* The stream's producer: passes the relay's events on until the last one. */
static void relay_drain(struct cms_stream *s, void *ud)
{
        struct relay *rl = ud;
        pthread_mutex_lock(&rl->lock);
        for (;;) {
                while (!rl->len && !rl->finished)
                        pthread_cond_wait(&rl->cond, &rl->lock);
                if (!rl->len)
                        break;
                const char *event = rl->q[rl->head].event;
                json_object *data = rl->q[rl->head].data;
                rl->head = (rl->head + 1) % RELAY_MAX;
                rl->len--;
                pthread_cond_broadcast(&rl->cond);
                pthread_mutex_unlock(&rl->lock);
                int gone = cms_stream_emit(s, event, data) || cms_stream_should_stop(s);
                pthread_mutex_lock(&rl->lock);
                if (gone) {
                        rl->gone = true;
                        pthread_cond_broadcast(&rl->cond);
                        break;
                }
        }
        pthread_mutex_unlock(&rl->lock);
}

/* Waits until the stream should start (true) or the job failed early (false, err filled). */
static bool relay_commit(struct relay *rl, struct cms_error *err)
{
        pthread_mutex_lock(&rl->lock);
        for (;;) {
                if (rl->finished || rl->bytes_seen || rl->len == RELAY_MAX ||
                    (rl->first_ms && cms_now_ms() - rl->first_ms >= COMMIT_MS))
                        break;
                cms_cond_wait_ms(&rl->cond, &rl->lock, 100);
        }
        bool failed_early = rl->finished && rl->rc < 0;
        if (failed_early)
                *err = rl->err;
        pthread_mutex_unlock(&rl->lock);
        return !failed_early;
}

static void job_stream(struct cms_request *r, enum cms_stream_format fmt, struct job *j)
{
        struct relay *rl = calloc(1, sizeof(*rl));
        if (!rl) {
                job_free(j);
                cms_reply_errorf(r, 500, "out of memory");
                return;
        }
        pthread_mutex_init(&rl->lock, NULL);
        pthread_cond_init(&rl->cond, NULL);
        rl->j = j;
        rl->draining = &r->m->draining;
        rl->refs = 2; /* this handler (then the stream) and the job thread */
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 512 * 1024);
        pthread_t t;
        /* Counted like a stream producer: shutdown waits for it, as it uses the manager. */
        atomic_fetch_add(&cms_stream_producers, 1);
        int pc = pthread_create(&t, &attr, job_thread, rl);
        pthread_attr_destroy(&attr);
        if (pc != 0) {
                atomic_fetch_sub(&cms_stream_producers, 1);
                job_free(j);
                rl->refs = 1;
                relay_unref(rl);
                cms_reply_errorf(r, 503, "too busy: no thread for the request");
                return;
        }
        struct cms_error err = {0};
        if (!relay_commit(rl, &err)) {
                relay_unref(rl);
                cms_reply_error(r, &err);
                return;
        }
        cms_stream_start(r, fmt, relay_drain, rl, relay_unref);
}

/* Runs j here (one envelope) or streams its progress. Takes j. */
static void job_start(struct cms_request *r, struct job *j)
{
        enum cms_stream_format fmt = cms_stream_wanted(r);
        if (fmt != CMS_STREAM_NONE) {
                job_stream(r, fmt, j);
                return;
        }
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = job_run(j, NULL, &out, &err);
        job_free(j);
        cms_reply_result(r, rc, 200, out, &err);
}

static struct job *job_new(struct cms_request *r, enum job_kind kind)
{
        struct job *j = calloc(1, sizeof(*j));
        if (!j) {
                cms_reply_errorf(r, 500, "out of memory");
                return NULL;
        }
        j->kind = kind;
        j->m = r->m;
        j->body = r->json ? json_object_get(r->json) : NULL;
        return j;
}

void h_images_pull(struct cms_request *r)
{
        struct cms_error err = {0};
        if (cms_images_pull_check(r->json, &err) < 0) {
                cms_reply_error(r, &err);
                return;
        }
        struct job *j = job_new(r, JOB_PULL);
        if (j)
                job_start(r, j);
}

/* A job on the image the route names ({ref}: push, scan). */
static void ref_job_start(struct cms_request *r, enum job_kind kind)
{
        struct job *j = job_new(r, kind);
        if (j && !(j->ref = strdup(r->params[0]))) {
                job_free(j);
                cms_reply_errorf(r, 500, "out of memory");
                return;
        }
        if (j)
                job_start(r, j);
}

void h_image_push(struct cms_request *r)
{
        struct cms_error err = {0};
        if (cms_images_push_check(r->m, r->params[0], r->json, &err) < 0) {
                cms_reply_error(r, &err);
                return;
        }
        ref_job_start(r, JOB_PUSH);
}

void h_images_build(struct cms_request *r)
{
        struct cms_build_opts o = {0};
        if (cms_query_bool(r, "nocache", false, &o.nocache) < 0 ||
            cms_query_bool(r, "pull", false, &o.pull) < 0)
                return;
        const char **tags = cms_query_all(r, "tag"), **args = cms_query_all(r, "buildarg"),
                   **labels = cms_query_all(r, "label");
        const char *df = cms_query(r, "dockerfile");
        struct job *j = job_new(r, JOB_BUILD);
        if (j) {
                j->tags = strv_dup(tags);
                j->buildargs = strv_dup(args);
                j->labels = strv_dup(labels);
                j->dockerfile = df ? strdup(df) : NULL;
        }
        free(tags);
        free(args);
        free(labels);
        if (!j || !j->tags || !j->buildargs || !j->labels || (df && !j->dockerfile)) {
                job_free(j);
                cms_reply_errorf(r, 500, "out of memory");
                return;
        }
        j->bo = (struct cms_build_opts){.tags = (const char *const *)j->tags,
                                        .dockerfile = j->dockerfile,
                                        .buildargs = (const char *const *)j->buildargs,
                                        .labels = (const char *const *)j->labels,
                                        .nocache = o.nocache,
                                        .pull = o.pull};
        struct cms_error err = {0};
        if (cms_images_build_check(&j->bo, &err) < 0 || !r->upload) {
                job_free(j);
                if (!r->upload)
                        cms_err(&err, 500, "the build body is not streamed");
                cms_reply_error(r, &err);
                return;
        }
        cms_upload_claim(r->upload);
        j->upload = r->upload;
        job_start(r, j);
}

/* A scan streams its steps (the export read for the SBOM or saved for trivy/grype, in bytes;
 * the match; the tool's run) and ends with the result typed "done". */
void h_image_scan(struct cms_request *r)
{
        struct cms_error err = {0};
        if (cms_images_scan_check(r->json, &err) < 0) {
                cms_reply_error(r, &err);
                return;
        }
        ref_job_start(r, JOB_SCAN);
}
