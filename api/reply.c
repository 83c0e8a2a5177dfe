/* Replies: the JSON envelope of API.md, the error map, the common headers. Below it only
 * counters.c; what a handler reads from its request is request.c's. */
#include "api.h"
#include "daemon/log.h"
#include "daemon/security/audit.h"

static const char *const json_ctype = "application/json";

void cms_reply_decorate(struct cms_request *r, struct MHD_Response *resp)
{
        MHD_add_response_header(resp, "Server", "cmsd/" CMS_VERSION);
        MHD_add_response_header(resp, "Cache-Control", "no-store");
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
        if (r->id[0])
                MHD_add_response_header(resp, "X-Request-Id", r->id);
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

/* Mutating requests, policy denials and failed authentications go to the audit trail. */
static bool audited(const struct cms_request *r, int status)
{
        return status == 401 || r->deny_rule[0] ||
               (strcmp(r->method, "GET") && strcmp(r->method, "HEAD") &&
                strcmp(r->method, "OPTIONS"));
}

static json_object *str_or_null(const char *s)
{
        return s && *s ? json_object_new_string(s) : NULL;
}

/* Under systemd the record also goes to the journal, as an entry with its fields (AUDIT=1). */
static void audit_journal(struct cms_request *r, int status, const char *target)
{
        char st[16], dur[24];
        snprintf(st, sizeof(st), "%d", status);
        snprintf(dur, sizeof(dur), "%" PRId64, cms_now_ms() - r->start_ms);
        const char *tok = r->token_name[0] ? r->token_name : "-";
        const struct cms_log_field f[] = {
            {"AUDIT", "1"},
            {"REQUEST_ID", r->id},
            {"TOKEN_NAME", tok},
            {"ROLE", r->token_name[0] ? cms_role_name(r->role) : "-"},
            {"PEER", r->peer},
            {"METHOD", r->method},
            {"ROUTE", r->route ? r->route->name : "-"},
            {"TARGET", target ? target : "-"},
            {"STATUS", st},
            {"POLICY", r->policy[0] ? r->policy : "-"},
            {"POLICY_DECISION", r->deny_rule[0] ? "denied" : "allowed"},
            {"POLICY_RULE", r->deny_rule[0] ? r->deny_rule : "-"},
            {"POLICY_FIELD", r->deny_rule[0] ? r->deny_field : "-"},
            {"DURATION_MS", dur},
        };
        log_fields(CMS_LOG_INFO, f, ELEMENTSOF(f), "audit: %s %s -> %d (token %s)", r->method,
                   r->route ? r->route->name : "-", status, tok);
}

/* Written before the reply is queued: no acknowledged change goes unrecorded. */
static void audit(struct cms_request *r, int status)
{
        json_object *o = json_object_new_object(), *pol = json_object_new_object();
        if (!o || !pol) {
                json_object_put(o);
                json_object_put(pol);
                log_error("audit: out of memory; %s %s %d not recorded", r->method, r->id, status);
                return;
        }
        json_object_object_add(o, "request_id", json_object_new_string(r->id));
        json_object_object_add(o, "token", str_or_null(r->token_name));
        json_object_object_add(
            o, "role", r->token_name[0] ? json_object_new_string(cms_role_name(r->role)) : NULL);
        json_object_object_add(o, "peer", json_object_new_string(r->peer));
        json_object_object_add(o, "method", json_object_new_string(r->method));
        json_object_object_add(o, "route", str_or_null(r->route ? r->route->name : NULL));
        /* The engine it went to ("*": every engine the token may use); none for global routes. */
        bool per_engine = r->route && !(r->route->flags & (ROUTE_GLOBAL | ROUTE_OPEN));
        json_object_object_add(o, "engine",
                               str_or_null(per_engine ? r->fanout ? "*" : r->m->name : NULL));
        /* What it acted on: the path's {id}/{name}/{ref}, else the name a create gives. */
        const char *target = r->n_params ? r->params[0] : NULL;
        json_object *named = cms_json_get(r->json, "name");
        if (!target && json_object_is_type(named, json_type_string))
                target = json_object_get_string(named);
        json_object_object_add(o, "target", str_or_null(target));
        json_object_object_add(o, "status", json_object_new_int(status));
        json_object_object_add(pol, "name", str_or_null(r->policy));
        json_object_object_add(pol, "decision",
                               json_object_new_string(r->deny_rule[0] ? "denied" : "allowed"));
        if (r->deny_rule[0]) {
                json_object_object_add(pol, "rule", json_object_new_string(r->deny_rule));
                json_object_object_add(pol, "field", json_object_new_string(r->deny_field));
        }
        json_object_object_add(o, "policy", r->token_name[0] ? pol : NULL);
        if (!r->token_name[0])
                json_object_put(pol);
        json_object_object_add(o, "duration_ms", json_object_new_int64(cms_now_ms() - r->start_ms));
        if (cms_log_to_journal())
                audit_journal(r, status, target);
        if (cms_audit_write(r->m->audit, o) < 0)
                log_error("audit: %s %s (%s) -> %d could not be recorded", r->method, r->url, r->id,
                          status);
}

void cms_reply_queue(struct cms_request *r, int status, struct MHD_Response *resp)
{
        r->status = status;
        r->replied = true;
        cms_http_count(r->route, r->method, status);
        if (audited(r, status))
                audit(r, status);
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
        const char *s = json_object_to_json_string_length(
            doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
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

/* The success envelope; with_warnings adds "warnings" (an engine=* list's). */
static void reply_success(struct cms_request *r, int status, json_object *data, bool with_warnings,
                          json_object *warnings)
{
        if (r->replied) {
                json_object_put(data);
                json_object_put(warnings);
                return;
        }
        /* What a role may see is decided here, once: below operator, no secret values. */
        if (data && r->role < CMS_ROLE_OPERATOR)
                cms_redact_for_viewer(data);
        json_object *doc = json_object_new_object();
        json_object_object_add(doc, "success", json_object_new_boolean(1));
        json_object_object_add(doc, "data", data ? data : json_object_new_object());
        if (with_warnings)
                json_object_object_add(doc, "warnings",
                                       warnings ? warnings : json_object_new_array());
        reply_doc(r, status, doc, NULL);
}

void cms_reply_json(struct cms_request *r, int status, json_object *data)
{
        reply_success(r, status, data, false, NULL);
}

void cms_reply_json_warnings(struct cms_request *r, int status, json_object *data,
                             json_object *warnings)
{
        reply_success(r, status, data, true, warnings);
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
        json_object_object_add(e, "code",
                               json_object_new_string(err->code ? err->code : "internal"));
        json_object_object_add(e, "message", json_object_new_string(err->message));
        json_object_object_add(e, "status", json_object_new_int(err->status));
        if (err->rule[0]) {
                snprintf(r->deny_rule, sizeof(r->deny_rule), "%s", err->rule);
                snprintf(r->deny_field, sizeof(r->deny_field), "%s", err->field);
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
