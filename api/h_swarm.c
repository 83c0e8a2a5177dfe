/* Swarm routes: nodes and stacks (a compose file deployed on a swarm manager). The stack body
 * is POST /v1/projects's: JSON {"name", "compose", ...} or the raw YAML with the options in the
 * query (name, working_dir, prune). */
#include "api.h"

void h_nodes_list(struct cms_request *r)
{
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = cms_nodes_list(r->m, &out, &err);
        cms_reply_result(r, rc, 200, out, &err);
}

void h_node_update(struct cms_request *r)
{
        if (!r->json) {
                cms_reply_errorf(r, 400,
                                 "a body is required: {\"availability\": "
                                 "\"active\"|\"pause\"|\"drain\"}");
                return;
        }
        cms_reply_call_id_body(r, 200, cms_nodes_update);
}

static int list_part(struct cms_manager *m, void *ud, json_object **out, struct cms_error *err)
{
        (void)ud;
        return cms_stacks_list(m, out, err);
}

void h_stacks_list(struct cms_request *r)
{
        if (r->fanout) {
                cms_fanout_reply(r, list_part, NULL, true);
                return;
        }
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = cms_stacks_list(r->m, &out, &err);
        cms_reply_result(r, rc, 200, out, &err);
}

/* A raw YAML body: the options from the query string. NULL: replied. */
static json_object *yaml_body(struct cms_request *r)
{
        bool prune = false;
        if (r->body.len == 0) {
                cms_reply_errorf(r, 400, "an empty compose file");
                return NULL;
        }
        if (cms_query_bool(r, "prune", false, &prune) < 0)
                return NULL;
        json_object *b = json_object_new_object();
        json_object_object_add(b, "compose",
                               json_object_new_string_len(r->body.data, (int)r->body.len));
        json_object_object_add(b, "prune", json_object_new_boolean(prune));
        const char *strs[] = {"name", "working_dir"};
        for (size_t i = 0; i < ELEMENTSOF(strs); i++)
                if (cms_query(r, strs[i]))
                        json_object_object_add(b, strs[i],
                                               json_object_new_string(cms_query(r, strs[i])));
        return b;
}

void h_stacks_deploy(struct cms_request *r)
{
        _cleanup_json_ json_object *yaml = NULL;
        json_object *body = r->json;
        if (cms_request_is_yaml(r) && !(body = yaml = yaml_body(r)))
                return;
        if (!body) {
                cms_reply_errorf(r, 400,
                                 "a body is required: JSON {\"name\",\"compose\",...} or the YAML "
                                 "with Content-Type: application/yaml and ?name=");
                return;
        }
        struct cms_error err = {0};
        struct cms_caller who = cms_request_caller(r);
        json_object *out = NULL;
        int status = 200;
        int rc = cms_stacks_deploy(r->m, &who, body, &status, &out, &err);
        cms_reply_result(r, rc, status, out, &err);
}

void h_stack_inspect(struct cms_request *r)
{
        cms_reply_call_id(r, 200, cms_stacks_inspect);
}

void h_stack_remove(struct cms_request *r)
{
        cms_reply_call_id(r, 200, cms_stacks_remove);
}

void h_stack_scale(struct cms_request *r)
{
        if (!r->json) {
                cms_reply_errorf(r, 400, "a body is required: {\"service\": replicas, ...}");
                return;
        }
        cms_reply_call_id_body(r, 200, cms_stacks_scale);
}

void h_stack_logs(struct cms_request *r)
{
        cms_logs_route(r, cms_stacks_logs, cms_stacks_inspect);
}
