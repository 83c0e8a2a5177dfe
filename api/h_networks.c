/* Handlers for the network routes: query and body plumbing only; the network manager does the
 * work. */
#include "api.h"

static int list_part(struct cms_manager *m, void *ud, json_object **out, struct cms_error *err)
{
        return cms_networks_list(m, ud, out, err);
}

void h_networks_list(struct cms_request *r)
{
        const char **labels = cms_query_all(r, "label");
        if (r->fanout) {
                cms_fanout_reply(r, list_part, labels, true);
                free(labels);
                return;
        }
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = cms_networks_list(r->m, labels, &out, &err);
        free(labels);
        cms_reply_result(r, rc, 200, out, &err);
}

void h_networks_create(struct cms_request *r)
{
        if (!r->json) {
                cms_reply_errorf(r, 400, "a network JSON body is required");
                return;
        }
        cms_reply_call_who_body(r, 201, cms_networks_create);
}

void h_network_inspect(struct cms_request *r)
{
        cms_reply_call_id(r, 200, cms_networks_inspect);
}

void h_network_remove(struct cms_request *r)
{
        cms_reply_call_id(r, 200, cms_networks_remove);
}

void h_network_connect(struct cms_request *r)
{
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc;
        if (!r->json) {
                cms_reply_errorf(r, 400, "a JSON body {\"container\": ...} is required");
                return;
        }
        if (!strcmp(r->route->name, "network_connect"))
                rc = cms_networks_connect(r->m, r->params[0], r->json, &out, &err);
        else
                rc = cms_networks_disconnect(r->m, r->params[0], r->json, &out, &err);
        cms_reply_result(r, rc, 200, out, &err);
}

void h_networks_prune(struct cms_request *r)
{
        if (cms_prune_args(r) < 0)
                return;
        const char **labels = cms_query_all(r, "label");
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = cms_networks_prune(r->m, labels, &out, &err);
        free(labels);
        cms_reply_result(r, rc, 200, out, &err);
}
