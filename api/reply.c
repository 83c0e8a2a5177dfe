/* Replies: the JSON envelope of API.md, the error map, the common headers. Below it only
 * counters.c; what a handler reads from its request is request.c's. */
#include "api.h"

static const char *const json_ctype = "application/json";

void cms_reply_decorate(struct cms_request *r, struct MHD_Response *resp)
{
        MHD_add_response_header(resp, "Server", "cmsd/" CMS_VERSION);
        MHD_add_response_header(resp, "Cache-Control", "no-store");
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
        if (!r->origin[0])
                return;
        const struct cms_config *c = cms_manager_config_rdlock(r->m);
        bool any = false, listed = false;
        for (size_t i = 0; i < c->n_cors_origins; i++) {
                any = any || !strcmp(c->cors_origins[i], "*");
                listed = listed || !strcmp(c->cors_origins[i], r->origin);
        }
        cms_manager_config_unlock(r->m);
        /* "*" is answered with "*", never with the caller's origin echoed back: an echo would
         * read as that origin being trusted in particular. */
        if (listed || any) {
                MHD_add_response_header(resp, "Access-Control-Allow-Origin",
                                        listed ? r->origin : "*");
                if (listed)
                        MHD_add_response_header(resp, "Vary", "Origin");
                MHD_add_response_header(resp, "Access-Control-Expose-Headers",
                                        "ETag, Retry-After, Content-Disposition");
        }
}

void cms_reply_queue(struct cms_request *r, int status, struct MHD_Response *resp)
{
        r->status = status;
        r->replied = true;
        cms_http_count(r->route, r->method, status);
        if (r->async) {
                r->pending = resp;
                r->pending_status = (unsigned)status;
                return;
        }
        MHD_queue_response(r->conn, (unsigned)status, resp);
        MHD_destroy_response(resp);
}

static void queue(struct cms_request *r, int status, struct MHD_Response *resp)
{
        if (!resp) {
                r->status = 500;
                r->replied = true;
                return;
        }
        cms_reply_decorate(r, resp);
        cms_reply_queue(r, status, resp);
}

void cms_reply_raw(struct cms_request *r, int status, const char *content_type, const void *data,
                   size_t len, bool copy)
{
        if (r->replied)
                return;
        struct MHD_Response *resp = MHD_create_response_from_buffer(
                len, (void *)data, copy ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
        if (resp && content_type)
                MHD_add_response_header(resp, "Content-Type", content_type);
        queue(r, status, resp);
}

static void reply_doc(struct cms_request *r, int status, json_object *doc,
                      const struct cms_error *err)
{
        size_t len = 0;
        const char *s = json_object_to_json_string_length(doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        struct MHD_Response *resp =
                MHD_create_response_from_buffer(len, (void *)s, MHD_RESPMEM_MUST_COPY);
        if (resp) {
                MHD_add_response_header(resp, "Content-Type", json_ctype);
                if (err && (err->status == 503 || err->status == 429)) {
                        char ra[16];
                        snprintf(ra, sizeof(ra), "%d", err->retry_after > 0 ? err->retry_after : 5);
                        MHD_add_response_header(resp, "Retry-After", ra);
                }
                if (atomic_load(&r->m->draining))
                        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
                if (err && err->status == 405 && r->allow[0])
                        MHD_add_response_header(resp, "Allow", r->allow);
                if (err && err->status == 401)
                        MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"cmsd\"");
        }
        queue(r, status, resp);
        json_object_put(doc);
}

void cms_reply_json(struct cms_request *r, int status, json_object *data)
{
        if (r->replied) {
                json_object_put(data);
                return;
        }
        /* What a role may see is decided here, once: below operator, no secret values. */
        if (data && r->role < CMS_ROLE_OPERATOR)
                cms_redact_for_viewer(data);
        json_object *doc = json_object_new_object();
        json_object_object_add(doc, "success", json_object_new_boolean(1));
        json_object_object_add(doc, "data", data ? data : json_object_new_object());
        reply_doc(r, status, doc, NULL);
}

void cms_reply_error(struct cms_request *r, const struct cms_error *err)
{
        if (r->replied)
                return;
        struct cms_error fallback;
        if (!err || err->status < 400) {
                cms_err(&fallback, 500, "internal error");
                err = &fallback;
        }
        json_object *e = json_object_new_object();
        json_object_object_add(e, "code", json_object_new_string(err->code ? err->code
                                                                           : "internal"));
        json_object_object_add(e, "message", json_object_new_string(err->message));
        json_object_object_add(e, "status", json_object_new_int(err->status));
        if (err->rule[0]) {
                json_object_object_add(e, "rule", json_object_new_string(err->rule));
                json_object_object_add(e, "field", json_object_new_string(err->field));
        }
        json_object *doc = json_object_new_object();
        json_object_object_add(doc, "success", json_object_new_boolean(0));
        json_object_object_add(doc, "error", e);
        reply_doc(r, err->status, doc, err);
}

void cms_reply_result(struct cms_request *r, int rc, int status, json_object *out,
                      const struct cms_error *err)
{
        if (rc < 0) {
                json_object_put(out);
                cms_reply_error(r, err);
        } else {
                cms_reply_json(r, status, out);
        }
}

void cms_reply_errorf(struct cms_request *r, int status, const char *fmt, ...)
{
        struct cms_error err = {0};
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err.message, sizeof(err.message), fmt, ap);
        va_end(ap);
        err.status = status;
        err.code = cms_status_code(status);
        if (status == 503 || status == 429)
                err.retry_after = 5;
        cms_reply_error(r, &err);
}

void cms_reply_call_id(struct cms_request *r, int status, cms_call_id fn)
{
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = fn(r->m, r->params[0], &out, &err);
        cms_reply_result(r, rc, status, out, &err);
}

void cms_reply_call_body(struct cms_request *r, int status, cms_call_body fn)
{
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = fn(r->m, r->json, &out, &err);
        cms_reply_result(r, rc, status, out, &err);
}

void cms_reply_call_id_body(struct cms_request *r, int status, cms_call_id_body fn)
{
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = fn(r->m, r->params[0], r->json, &out, &err);
        cms_reply_result(r, rc, status, out, &err);
}
