/* Replies: the JSON envelope of API.md, the error map, and request helpers (query, headers). */
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
        bool allowed = false;
        for (size_t i = 0; i < c->n_cors_origins; i++)
                if (!strcmp(c->cors_origins[i], "*") || !strcmp(c->cors_origins[i], r->origin))
                        allowed = true;
        cms_manager_config_unlock(r->m);
        if (allowed) {
                MHD_add_response_header(resp, "Access-Control-Allow-Origin", r->origin);
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
                if (err && err->status == 503) {
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
        if (status == 503)
                err.retry_after = 5;
        cms_reply_error(r, &err);
}

const char *cms_query(struct cms_request *r, const char *key)
{
        return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

struct collect {
        const char *key;
        const char **vals;
        size_t n, cap;
};

static enum MHD_Result collect_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
        struct collect *c = cls;
        if (strcmp(key, c->key) || !value)
                return MHD_YES;
        if (c->n + 2 > c->cap) {
                size_t ncap = c->cap ? c->cap * 2 : 8;
                const char **p = realloc(c->vals, ncap * sizeof(*p));
                if (!p)
                        return MHD_NO;
                c->vals = p;
                c->cap = ncap;
        }
        c->vals[c->n++] = value;
        c->vals[c->n] = NULL;
        return MHD_YES;
}

const char **cms_query_all(struct cms_request *r, const char *key)
{
        struct collect c = {.key = key};
        MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect_cb, &c);
        if (!c.vals)
                c.vals = calloc(1, sizeof(*c.vals));
        return c.vals;
}

int cms_query_bool(struct cms_request *r, const char *key, bool def, bool *out)
{
        const char *v = cms_query(r, key);
        *out = def;
        if (!v)
                return 0;
        if (!*v) { /* "?force" alone means true */
                *out = true;
                return 0;
        }
        if (cms_parse_bool(v, out) < 0) {
                cms_reply_errorf(r, 400, "query parameter %s: expected 1|true|0|false, got '%s'",
                                 key, v);
                return -EINVAL;
        }
        return 0;
}

int cms_query_int(struct cms_request *r, const char *key, int64_t min, int64_t max, int64_t def,
                  int64_t *out)
{
        const char *v = cms_query(r, key);
        *out = def;
        if (!v)
                return 0;
        if (cms_parse_int(v, min, max, out) < 0) {
                cms_reply_errorf(r, 400,
                                 "query parameter %s: expected an integer in [%" PRId64
                                 ", %" PRId64 "], got '%s'",
                                 key, min, max, v);
                return -EINVAL;
        }
        return 0;
}

const char *cms_header(struct cms_request *r, const char *name)
{
        return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}
