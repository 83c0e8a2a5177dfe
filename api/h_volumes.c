/* Handlers for the volume routes: query and body plumbing only; the volume manager does the
 * work. */
#include "api.h"

struct list_opts {
        const char **labels;
        bool dangling;
};

static int list_part(struct cms_manager *m, void *ud, json_object **out, struct cms_error *err)
{
        const struct list_opts *o = ud;
        return cms_volumes_list(m, o->labels, o->dangling, out, err);
}

void h_volumes_list(struct cms_request *r)
{
        bool dangling;
        if (cms_query_bool(r, "dangling", false, &dangling) < 0)
                return;
        const char **labels = cms_query_all(r, "label");
        if (r->fanout) {
                struct list_opts o = {labels, dangling};
                cms_fanout_reply(r, list_part, &o, true);
                free(labels);
                return;
        }
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = cms_volumes_list(r->m, labels, dangling, &out, &err);
        free(labels);
        cms_reply_result(r, rc, 200, out, &err);
}

void h_volumes_create(struct cms_request *r)
{
        cms_reply_call_who_body(r, 201, cms_volumes_create);
}

void h_volume_inspect(struct cms_request *r)
{
        cms_reply_call_id(r, 200, cms_volumes_inspect);
}

void h_volume_remove(struct cms_request *r)
{
        bool force;
        if (cms_query_bool(r, "force", false, &force) < 0)
                return;
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = cms_volumes_remove(r->m, r->params[0], force, &out, &err);
        cms_reply_result(r, rc, 200, out, &err);
}

void h_volumes_prune(struct cms_request *r)
{
        if (cms_prune_args(r) < 0)
                return;
        const char **labels = cms_query_all(r, "label");
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = cms_volumes_prune(r->m, labels, &out, &err);
        free(labels);
        cms_reply_result(r, rc, 200, out, &err);
}
