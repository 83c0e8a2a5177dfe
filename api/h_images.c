/* Handlers for the image routes. Pull, push and build report progress as SSE or NDJSON when the
 * client asks for a stream (every object carries "type": progress, output, done or error), and
 * otherwise answer one envelope when the work is done. Everything that can be checked before
 * the work starts is, so that those failures are plain error envelopes, never a stream. */
#include "api.h"

static void reply_result(struct cms_request *r, int rc, int status, json_object *out,
                         const struct cms_error *err)
{
        if (rc < 0) {
                json_object_put(out);
                cms_reply_error(r, err);
        } else {
                cms_reply_json(r, status, out);
        }
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
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = cms_images_list(r->m, &o, &out, &err);
        free(labels);
        reply_result(r, rc, 200, out, &err);
}

void h_image_inspect(struct cms_request *r)
{
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = cms_images_inspect(r->m, r->params[0], &out, &err);
        reply_result(r, rc, 200, out, &err);
}

void h_image_history(struct cms_request *r)
{
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = cms_images_history(r->m, r->params[0], &out, &err);
        reply_result(r, rc, 200, out, &err);
}

void h_image_tag(struct cms_request *r)
{
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = cms_images_tag(r->m, r->params[0], r->json, &out, &err);
        reply_result(r, rc, 201, out, &err);
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
        reply_result(r, rc, 200, out, &err);
}

void h_images_prune(struct cms_request *r)
{
        const char **labels = cms_query_all(r, "label");
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = cms_images_prune(r->m, r->json, labels, &out, &err);
        free(labels);
        reply_result(r, rc, 200, out, &err);
}

/* ---- pull, push, build: one envelope, or a stream of progress ---- */

enum job_kind { JOB_PULL, JOB_PUSH, JOB_BUILD };

struct job {
        enum job_kind kind;
        struct cms_manager *m;
        json_object *body;
        char *ref;
        struct cms_build_opts bo;
        char **tags, **buildargs, **labels, *dockerfile; /* owned copies behind bo */
        struct cms_upload *upload;                       /* build: claimed */
        struct cms_stream *s;
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

static int job_progress(const struct cms_progress *p, void *ud)
{
        struct job *j = ud;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "type", json_object_new_string(p->output ? "output" : "progress"));
        if (p->output) {
                json_object_object_add(o, "text", json_object_new_string(p->status));
        } else {
                json_object_object_add(o, "id", p->id ? json_object_new_string(p->id) : NULL);
                json_object_object_add(o, "status", json_object_new_string(p->status));
                json_object_object_add(o, "current", p->current >= 0 ? json_object_new_int64(p->current) : NULL);
                json_object_object_add(o, "total", p->total >= 0 ? json_object_new_int64(p->total) : NULL);
        }
        return cms_stream_emit(j->s, p->output ? "output" : "progress", o);
}

static int job_stop(void *ud)
{
        struct job *j = ud;
        return j->s ? cms_stream_should_stop(j->s) : 0;
}

static int job_run(struct job *j, json_object **out, struct cms_error *err)
{
        cms_progress_cb cb = j->s ? job_progress : NULL;
        cms_engine_stop_cb stop = j->s ? job_stop : NULL;
        switch (j->kind) {
        case JOB_PULL:
                return cms_images_pull(j->m, j->body, cb, stop, j, out, err);
        case JOB_PUSH:
                return cms_images_push(j->m, j->ref, j->body, cb, stop, j, out, err);
        default:
                return cms_images_build(j->m, &j->bo, cms_upload_read, j->upload, cb, stop, j, out, err);
        }
}

static void job_stream(struct cms_stream *s, void *ud)
{
        struct job *j = ud;
        struct cms_error err = {0};
        json_object *out = NULL;
        j->s = s;
        int rc = job_run(j, &out, &err);
        if (j->upload) {
                cms_upload_release(j->upload);
                j->upload = NULL;
        }
        if (cms_stream_should_stop(s)) {
                json_object_put(out);
                return;
        }
        if (rc < 0) {
                json_object *e = json_object_new_object(), *o = json_object_new_object();
                json_object_object_add(e, "code", json_object_new_string(err.code ? err.code : "internal"));
                json_object_object_add(e, "message", json_object_new_string(err.message));
                json_object_object_add(e, "status", json_object_new_int(err.status));
                json_object_object_add(o, "type", json_object_new_string("error"));
                json_object_object_add(o, "error", e);
                cms_stream_emit(s, "error", o);
                return;
        }
        json_object_object_add(out, "type", json_object_new_string("done"));
        cms_stream_emit(s, "done", out);
}

/* Runs j here (one envelope) or hands it to a stream producer. Takes j. */
static void job_start(struct cms_request *r, struct job *j)
{
        enum cms_stream_format fmt = cms_stream_wanted(r);
        if (fmt != CMS_STREAM_NONE) {
                cms_stream_start(r, fmt, job_stream, j, job_free);
                return;
        }
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = job_run(j, &out, &err);
        job_free(j);
        reply_result(r, rc, 200, out, &err);
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

void h_image_push(struct cms_request *r)
{
        struct cms_error err = {0};
        if (cms_images_push_check(r->m, r->params[0], r->json, &err) < 0) {
                cms_reply_error(r, &err);
                return;
        }
        struct job *j = job_new(r, JOB_PUSH);
        if (j && !(j->ref = strdup(r->params[0]))) {
                job_free(j);
                cms_reply_errorf(r, 500, "out of memory");
                return;
        }
        if (j)
                job_start(r, j);
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
        j->bo = (struct cms_build_opts){(const char *const *)j->tags, j->dockerfile,
                                        (const char *const *)j->buildargs,
                                        (const char *const *)j->labels, o.nocache, o.pull};
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
