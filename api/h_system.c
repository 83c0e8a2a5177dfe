/* Handlers for the system routes: health, info, prune, whoami, the policies and the OpenAPI
 * document. */
#include "api.h"

extern const char cms_openapi_yaml[];
extern const size_t cms_openapi_yaml_len;

void h_health(struct cms_request *r)
{
        cms_reply_json(r, 200, cms_system_health(r->m));
}

void h_openapi(struct cms_request *r)
{
        cms_reply_raw(r, 200, "application/yaml", cms_openapi_yaml, cms_openapi_yaml_len, false);
}

void h_whoami(struct cms_request *r)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(r->token_name));
        json_object_object_add(o, "role", json_object_new_string(cms_role_name(r->role)));
        json_object_object_add(o, "policy", json_object_new_string(r->policy));
        cms_reply_json(r, 200, o);
}

void h_system_df(struct cms_request *r)
{
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = cms_system_df(r->m, &out, &err);
        cms_reply_result(r, rc, 200, out, &err);
}

void h_audit(struct cms_request *r)
{
        struct cms_audit_filter f = {.token = cms_query(r, "token"), .route = cms_query(r, "route")};
        int64_t status, limit;
        const char *keys[] = {"since", "until"};
        int64_t *vals[] = {&f.since_ms, &f.until_ms};
        for (int i = 0; i < 2; i++) {
                const char *v = cms_query(r, keys[i]);
                if (v && cms_parse_time_ms(v, vals[i]) < 0) {
                        cms_reply_errorf(r, 400, "%s: expected RFC 3339 or unix seconds, got '%.64s'",
                                         keys[i], v);
                        return;
                }
        }
        if (cms_query_int(r, "status", 100, 599, 0, &status) < 0)
                return;
        if (cms_query_int(r, "limit", 1, 10000, 100, &limit) < 0)
                return;
        f.status = (int)status;
        f.limit = (size_t)limit;
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = cms_audit_list(r->m, &f, &out, &err);
        cms_reply_result(r, rc, 200, out, &err);
}

void h_policy_list(struct cms_request *r)
{
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = cms_policy_list(r->m, &out, &err);
        cms_reply_result(r, rc, 200, out, &err);
}

void h_policy_check(struct cms_request *r)
{
        cms_reply_call_who_body(r, 200, cms_policy_check);
}

void h_system_info(struct cms_request *r)
{
        struct cms_error err = {0};
        json_object *out = NULL;
        if (cms_system_info(r->m, &out, &err) < 0)
                cms_reply_error(r, &err);
        else
                cms_reply_json(r, 200, out);
}

void h_system_prune(struct cms_request *r)
{
        struct cms_error err = {0};
        json_object *out = NULL;
        if (cms_system_prune(r->m, r->json, &out, &err) < 0)
                cms_reply_error(r, &err);
        else
                cms_reply_json(r, 200, out);
}
