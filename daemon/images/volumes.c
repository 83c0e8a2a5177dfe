/* The volume manager: list, create, inspect, remove and prune. Both engines answer a create
 * with an existing name by returning the existing volume; cmsd makes that a 409 so that a
 * create never silently adopts someone else's data. */
#include "internal.h"

static int check_name(const char *name, struct cms_error *err)
{
        if (!name || !cms_object_name_valid(name))
                return cms_err(err, 400, "invalid volume name '%.64s'", name ? name : "");
        return 0;
}

int cms_volumes_list(struct cms_manager *m, const char *const *labels, bool dangling_only,
                     json_object **out, struct cms_error *err)
{
        _cleanup_json_ json_object *extra = json_object_new_object();
        if (dangling_only) {
                json_object *d = json_object_new_array();
                json_object_array_add(d, json_object_new_string("true"));
                json_object_object_add(extra, "dangling", d);
        }
        _cleanup_json_ json_object *doc = NULL;
        int r = cms_res_filtered(m, CMS_RES_READ, "GET", "/volumes", labels, extra, &doc,
                             err);
        if (r < 0)
                return r;
        json_object *list = cms_json_get(doc, "Volumes");
        json_object *arr = json_object_new_array();
        size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *v = json_object_array_get_idx(list, i);
                /* Podman ORs several label filters; the API ANDs them, as Docker does. */
                if (cms_labels_match(cms_json_get(v, "Labels"), labels))
                        json_object_array_add(arr, cms_volume_summary(v));
        }
        *out = arr;
        return 0;
}

static int inspect_raw(struct cms_manager *m, const char *name, json_object **raw,
                       struct cms_error *err)
{
        int r = check_name(name, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = cms_res_path("/volumes", name, NULL);
        if ((r = cms_res_call(m, CMS_RES_READ, "GET", path, NULL, NULL, raw, err)) < 0)
                return r;
        if (!json_object_is_type(*raw, json_type_object) || !cms_json_get(*raw, "Name")) {
                json_object_put(*raw);
                *raw = NULL;
                return cms_err(err, 502, "the engine's inspect of volume %s has no Name", name);
        }
        return 0;
}

int cms_volumes_create(struct cms_manager *m, const struct cms_caller *who, json_object *body,
                       json_object **out, struct cms_error *err)
{
        _cleanup_json_ json_object *doc = NULL, *raw = NULL;
        struct cms_policy_req q = {.kind = CMS_PQ_VOLUME, .body = body};
        int r = cms_volume_create_body(body, &doc, err);
        if (r < 0 || (r = cms_policy_enforce(m, who, &q, err)) < 0)
                return r;
        const char *name = json_object_get_string(cms_json_get(doc, "Name"));
        if (name) {
                struct cms_error probe = {0};
                if (inspect_raw(m, name, &raw, &probe) == 0)
                        return cms_err(err, 409, "volume %s already exists", name);
                if (probe.status != 404) {
                        if (err)
                                *err = probe;
                        return -EIO;
                }
        }
        if ((r = cms_res_call(m, CMS_RES_CREATE, "POST", "/volumes/create", doc, NULL, &raw, err)) < 0)
                return r;
        *out = cms_volume_summary(raw);
        return 0;
}

int cms_volumes_inspect(struct cms_manager *m, const char *name, json_object **out,
                        struct cms_error *err)
{
        _cleanup_json_ json_object *raw = NULL;
        int r = inspect_raw(m, name, &raw, err);
        if (r < 0)
                return r;
        json_object *o = cms_volume_summary(raw);
        json_object_object_add(o, "raw", TAKE_PTR(raw));
        *out = o;
        return 0;
}

int cms_volumes_remove(struct cms_manager *m, const char *name, bool force, json_object **out,
                       struct cms_error *err)
{
        int r = check_name(name, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = cms_res_path("/volumes", name, force ? "?force=1" : "");
        if ((r = cms_res_call(m, CMS_RES_CHANGE, "DELETE", path, NULL, NULL, NULL, err)) < 0)
                return r;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(name));
        json_object_object_add(o, "removed", json_object_new_boolean(1));
        *out = o;
        return 0;
}

/* Podman's volume prune ORs several label filters, which would remove far more than asked:
 * there, the volumes that carry every label are removed one by one (those in use stay). */
static int prune_each(struct cms_manager *m, const char *const *labels, json_object **out,
                      struct cms_error *err)
{
        _cleanup_json_ json_object *list = NULL;
        int r = cms_volumes_list(m, labels, false, &list, err);
        if (r < 0)
                return r;
        json_object *names = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                const char *name = json_object_get_string(
                    cms_json_get(json_object_array_get_idx(list, i), "name"));
                _cleanup_free_ char *path = cms_res_path("/volumes", name, NULL);
                struct cms_error e = {0};
                if (cms_res_call(m, CMS_RES_CHANGE, "DELETE", path, NULL, NULL, NULL, &e) == 0)
                        json_object_array_add(names, json_object_new_string(name));
                else if (e.status != 409 && e.status != 404) {
                        json_object_put(names);
                        if (err)
                                *err = e;
                        return -EIO;
                }
        }
        json_object *o = json_object_new_object();
        json_object_object_add(o, "volumes", names);
        json_object_object_add(o, "space_reclaimed", json_object_new_int64(0));
        *out = o;
        return 0;
}

int cms_volumes_prune(struct cms_manager *m, const char *const *labels, json_object **out,
                      struct cms_error *err)
{
        if (labels && labels[0] && labels[1] && cms_engine_runtime(m->engine) == CMS_RUNTIME_PODMAN)
                return prune_each(m, labels, out, err);
        _cleanup_json_ json_object *doc = NULL;
        int r = cms_res_filtered(m, CMS_RES_CHANGE, "POST", "/volumes/prune", labels, NULL, &doc,
                             err);
        if (r < 0)
                return r;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "volumes", cms_res_strings(doc, "VolumesDeleted", NULL));
        json_object_object_add(o, "space_reclaimed",
                               json_object_new_int64(json_object_get_int64(cms_json_get(doc, "SpaceReclaimed"))));
        *out = o;
        return 0;
}
