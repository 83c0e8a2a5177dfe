/* The network manager: list, create, inspect (with the containers attached), remove, connect,
 * disconnect and prune, as engine calls around the pure checks of model_docs.c. */
#include "internal.h"

static int check_id(const char *id, struct cms_error *err)
{
        if (!id || !cms_object_name_valid(id))
                return cms_err(err, 400, "invalid network id or name '%.64s'", id ? id : "");
        return 0;
}

int cms_networks_list(struct cms_manager *m, const char *const *labels, json_object **out,
                      struct cms_error *err)
{
        _cleanup_json_ json_object *list = NULL;
        int r = cms_res_filtered(m, CMS_RES_READ, "GET", "/networks", labels, NULL, &list,
                             err);
        if (r < 0)
                return r;
        if (!json_object_is_type(list, json_type_array))
                return cms_err(err, 502, "engine returned a network list that is not an array");
        json_object *arr = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(list); i++)
                json_object_array_add(arr, cms_network_summary(json_object_array_get_idx(list, i), false));
        *out = arr;
        return 0;
}

static int inspect_raw(struct cms_manager *m, const char *id, json_object **raw,
                       struct cms_error *err)
{
        int r = check_id(id, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = cms_res_path("/networks", id, NULL);
        if ((r = cms_res_call(m, CMS_RES_READ, "GET", path, NULL, NULL, raw, err)) < 0)
                return r;
        if (!json_object_is_type(*raw, json_type_object) || !cms_json_get(*raw, "Id")) {
                json_object_put(*raw);
                *raw = NULL;
                return cms_err(err, 502, "the engine's inspect of network %s has no Id", id);
        }
        return 0;
}

int cms_networks_create(struct cms_manager *m, const struct cms_caller *who, json_object *body,
                        json_object **out, struct cms_error *err)
{
        _cleanup_json_ json_object *doc = NULL, *reply = NULL, *raw = NULL;
        struct cms_policy_req q = {.kind = CMS_PQ_NETWORK, .body = body};
        int r = cms_network_create_body(body, &doc, err);
        if (r < 0 || (r = cms_policy_enforce(m, who, &q, err)) < 0)
                return r;
        const char *name = json_object_get_string(cms_json_get(doc, "Name"));
        /* Podman ignores CheckDuplicate on some paths: ask first so a duplicate is a clean 409. */
        struct cms_error probe = {0};
        if (inspect_raw(m, name, &raw, &probe) == 0) {
                const char *have = json_object_get_string(cms_json_get(raw, "Name"));
                if (have && !strcmp(have, name))
                        return cms_err(err, 409, "network with name %s already exists", name);
        } else if (probe.status != 404) {
                if (err)
                        *err = probe;
                return -EIO;
        }
        json_object_put(raw);
        raw = NULL;
        if ((r = cms_res_call(m, CMS_RES_CREATE, "POST", "/networks/create", doc, NULL, &reply, err)) < 0)
                return r;
        const char *id = json_object_get_string(cms_json_get(reply, "Id"));
        if (!id || inspect_raw(m, id, &raw, err) < 0)
                return cms_err(err, 502, "the engine created network %s but gave no usable id", name);
        json_object *o = cms_network_summary(raw, false);
        json_object *w = json_object_new_array();
        const char *warning = json_object_get_string(cms_json_get(reply, "Warning"));
        if (warning && *warning)
                json_object_array_add(w, json_object_new_string(warning));
        json_object_object_add(o, "warnings", w);
        *out = o;
        return 0;
}

int cms_networks_inspect(struct cms_manager *m, const char *id, json_object **out,
                         struct cms_error *err)
{
        _cleanup_json_ json_object *raw = NULL;
        int r = inspect_raw(m, id, &raw, err);
        if (r < 0)
                return r;
        json_object *o = cms_network_summary(raw, true);
        json_object_object_add(o, "raw", TAKE_PTR(raw));
        *out = o;
        return 0;
}

int cms_networks_remove(struct cms_manager *m, const char *id, json_object **out,
                        struct cms_error *err)
{
        _cleanup_json_ json_object *raw = NULL;
        int r = inspect_raw(m, id, &raw, err);
        if (r < 0)
                return r;
        const char *full = json_object_get_string(cms_json_get(raw, "Id"));
        _cleanup_free_ char *path = cms_res_path("/networks", id, NULL);
        if ((r = cms_res_call(m, CMS_RES_CHANGE, "DELETE", path, NULL, NULL, NULL, err)) < 0)
                return r;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(full));
        json_object_object_add(o, "name", json_object_get(cms_json_get(raw, "Name")));
        json_object_object_add(o, "removed", json_object_new_boolean(1));
        *out = o;
        return 0;
}

static json_object *link_reply(json_object *raw, const char *ctr, bool connected)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "network", json_object_get(cms_json_get(raw, "Name")));
        json_object_object_add(o, "container", json_object_new_string(ctr));
        json_object_object_add(o, "connected", json_object_new_boolean(connected));
        return o;
}

int cms_networks_connect(struct cms_manager *m, const char *id, json_object *body,
                         json_object **out, struct cms_error *err)
{
        _cleanup_json_ json_object *raw = NULL, *doc = NULL;
        int r = inspect_raw(m, id, &raw, err);
        if (r < 0 || (r = cms_network_connect_body(body, raw, &doc, err)) < 0)
                return r;
        const char *ctr = json_object_get_string(cms_json_get(doc, "Container"));
        _cleanup_free_ char *path = cms_res_path("/networks", id, "/connect");
        if ((r = cms_res_call(m, CMS_RES_CHANGE, "POST", path, doc, NULL, NULL, err)) < 0)
                return r;
        *out = link_reply(raw, ctr, true);
        return 0;
}

int cms_networks_disconnect(struct cms_manager *m, const char *id, json_object *body,
                            json_object **out, struct cms_error *err)
{
        static const char *const keys[] = {"container", "force", NULL};
        const char *ctr;
        bool force;
        int r;
        if (!json_object_is_type(body, json_type_object))
                return cms_err(err, 400, "body: expected a JSON object");
        if ((r = cms_json_check_keys(body, "body", keys, err)) < 0 ||
            (r = cms_json_get_string(body, "body", "container", &ctr, err)) < 0 ||
            (r = cms_json_get_bool(body, "body", "force", false, &force, err)) < 0)
                return r;
        if (!ctr || !cms_object_name_valid(ctr))
                return cms_err(err, 400, "body.container: %s", ctr ? "not a valid container id or name" : "required");
        _cleanup_json_ json_object *raw = NULL;
        if ((r = inspect_raw(m, id, &raw, err)) < 0)
                return r;
        _cleanup_json_ json_object *doc = json_object_new_object();
        json_object_object_add(doc, "Container", json_object_new_string(ctr));
        json_object_object_add(doc, "Force", json_object_new_boolean(force));
        _cleanup_free_ char *path = cms_res_path("/networks", id, "/disconnect");
        if ((r = cms_res_call(m, CMS_RES_CHANGE, "POST", path, doc, NULL, NULL, err)) < 0)
                return r;
        *out = link_reply(raw, ctr, false);
        return 0;
}

int cms_networks_prune(struct cms_manager *m, const char *const *labels, json_object **out,
                       struct cms_error *err)
{
        _cleanup_json_ json_object *doc = NULL;
        int r = cms_res_filtered(m, CMS_RES_CHANGE, "POST", "/networks/prune", labels, NULL, &doc,
                             err);
        if (r < 0)
                return r;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "networks", cms_res_strings(doc, "NetworksDeleted", NULL));
        *out = o;
        return 0;
}
