/* The image manager's local operations: list, inspect, history, tag, remove and prune. Pulls and
 * pushes are in transfer.c, builds in build.c. Several label filters mean "all of
 * them" as on Docker; Podman's compat API answers several label filters with nothing, so there
 * the engine gets the first and cmsd checks the rest. */
#include "internal.h"

static bool podman(struct cms_manager *m)
{
        return cms_engine_runtime(m->engine) == CMS_RUNTIME_PODMAN;
}

/* The label filters the engine is given: all of them, or the first one on Podman. */
static int engine_filters(struct cms_manager *m, const char *const *labels, json_object *extra,
                          char **out, struct cms_error *err)
{
        const char *first[2] = {labels ? labels[0] : NULL, NULL};
        bool cut = podman(m) && labels && labels[0] && labels[1];
        return cms_label_filters(cut ? first : labels, extra, out, err);
}

int cms_images_list(struct cms_manager *m, const struct cms_images_list_opts *o, json_object **out,
                    struct cms_error *err)
{
        _cleanup_json_ json_object *extra = json_object_new_object();
        if (o->dangling >= 0) {
                json_object *d = json_object_new_array();
                json_object_array_add(d, json_object_new_string(o->dangling ? "true" : "false"));
                json_object_object_add(extra, "dangling", d);
        }
        if (o->reference) {
                if (!*o->reference || strlen(o->reference) > 512)
                        return cms_err(err, 400, "query parameter reference: expected repo or repo:tag");
                json_object *d = json_object_new_array();
                json_object_array_add(d, json_object_new_string(o->reference));
                json_object_object_add(extra, "reference", d);
        }
        cms_engine_ready(m->engine, NULL);
        _cleanup_free_ char *f = NULL;
        int r = engine_filters(m, o->labels, extra, &f, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = cms_strdup_printf("/images/json?all=%d&filters=%s", o->all ? 1 : 0, f);
        _cleanup_json_ json_object *list = NULL;
        if ((r = cms_res_call(m, CMS_RES_READ, "GET", path, NULL, NULL, &list, err)) < 0)
                return r;
        if (!json_object_is_type(list, json_type_array))
                return cms_err(err, 502, "engine returned an image list that is not an array");
        json_object *arr = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *it = json_object_array_get_idx(list, i);
                if (cms_labels_match(cms_json_get(it, "Labels"), o->labels))
                        json_object_array_add(arr, cms_image_list_item(it));
        }
        *out = arr;
        return 0;
}

/* Podman reports removed image ids as bare hex, Docker as "sha256:<hex>": the API says the
 * latter, as inspect does. Rewrites arr's items in place. */
static json_object *full_ids(json_object *arr)
{
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
                const char *id = json_object_get_string(json_object_array_get_idx(arr, i));
                if (id && strlen(id) == 64 && strspn(id, "0123456789abcdef") == 64) {
                        _cleanup_free_ char *full = cms_strdup_printf("sha256:%s", id);
                        if (full)
                                json_object_array_put_idx(arr, i, json_object_new_string(full));
                }
        }
        return arr;
}

static int inspect_raw(struct cms_manager *m, const char *ref, json_object **raw,
                       struct cms_error *err)
{
        int r = cms_image_path_ref_check(ref, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = cms_res_path("/images", ref, "/json");
        if ((r = cms_res_call(m, CMS_RES_READ, "GET", path, NULL, NULL, raw, err)) < 0)
                return r;
        if (!json_object_is_type(*raw, json_type_object) || !cms_json_get(*raw, "Id")) {
                json_object_put(*raw);
                *raw = NULL;
                return cms_err(err, 502, "the engine's inspect of image %s has no Id", ref);
        }
        return 0;
}

int cms_images_inspect(struct cms_manager *m, const char *ref, json_object **out,
                       struct cms_error *err)
{
        _cleanup_json_ json_object *raw = NULL;
        int r = inspect_raw(m, ref, &raw, err);
        if (r < 0)
                return r;
        json_object *o = cms_image_inspect_summary(raw);
        json_object_object_add(o, "raw", TAKE_PTR(raw));
        *out = o;
        return 0;
}

int cms_images_history(struct cms_manager *m, const char *ref, json_object **out,
                       struct cms_error *err)
{
        int r = cms_image_path_ref_check(ref, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = cms_res_path("/images", ref, "/history");
        _cleanup_json_ json_object *list = NULL;
        if ((r = cms_res_call(m, CMS_RES_READ, "GET", path, NULL, NULL, &list, err)) < 0)
                return r;
        if (!json_object_is_type(list, json_type_array))
                return cms_err(err, 502, "engine returned an image history that is not an array");
        json_object *arr = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(list); i++)
                json_object_array_add(arr, cms_image_history_item(json_object_array_get_idx(list, i)));
        *out = arr;
        return 0;
}

int cms_images_tag(struct cms_manager *m, const char *ref, json_object *body, json_object **out,
                   struct cms_error *err)
{
        static const char *const keys[] = {"target", NULL};
        const char *target;
        int r;
        if (!json_object_is_type(body, json_type_object))
                return cms_err(err, 400, "body: expected a JSON object {\"target\": \"repo:tag\"}");
        if ((r = cms_json_check_keys(body, "body", keys, err)) < 0 ||
            (r = cms_json_get_string(body, "body", "target", &target, err)) < 0)
                return r;
        if (!target)
                return cms_err(err, 400, "body.target: required (\"repo:tag\")");
        struct cms_image_ref t;
        if ((r = cms_image_ref_parse(target, &t, err)) < 0)
                return r;
        if (*t.digest)
                return cms_err(err, 400, "body.target: a tag cannot carry a digest ('%.200s')", target);
        _cleanup_json_ json_object *raw = NULL;
        if ((r = inspect_raw(m, ref, &raw, err)) < 0)
                return r;
        char repo[520];
        cms_image_ref_repo(&t, repo, sizeof(repo));
        const char *tag = *t.tag ? t.tag : "latest";
        _cleanup_free_ char *er = cms_url_escape(repo), *et = cms_url_escape(tag);
        _cleanup_free_ char *q = er && et ? cms_strdup_printf("/tag?repo=%s&tag=%s", er, et) : NULL;
        _cleanup_free_ char *path = q ? cms_res_path("/images", ref, q) : NULL;
        if ((r = cms_res_call(m, CMS_RES_CREATE, "POST", path, NULL, NULL, NULL, err)) < 0)
                return r;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "source", json_object_new_string(ref));
        _cleanup_free_ char *full = cms_strdup_printf("%s:%s", repo, tag);
        json_object_object_add(o, "target", json_object_new_string(full ? full : repo));
        json_object_object_add(o, "id", json_object_get(cms_json_get(raw, "Id")));
        *out = o;
        return 0;
}

int cms_images_remove(struct cms_manager *m, const char *ref, bool force, bool noprune,
                      json_object **out, struct cms_error *err)
{
        int r = cms_image_path_ref_check(ref, err);
        if (r < 0)
                return r;
        char q[40];
        snprintf(q, sizeof(q), "?force=%d&noprune=%d", force ? 1 : 0, noprune ? 1 : 0);
        _cleanup_free_ char *path = cms_res_path("/images", ref, q);
        _cleanup_json_ json_object *doc = NULL;
        _cleanup_json_ json_object *wrap = json_object_new_object();
        if ((r = cms_res_call(m, CMS_RES_CHANGE, "DELETE", path, NULL, NULL, &doc, err)) < 0)
                return r;
        json_object_object_add(wrap, "list", json_object_get(doc));
        json_object *o = json_object_new_object();
        json_object_object_add(o, "untagged", cms_res_strings(wrap, "list", "Untagged"));
        json_object_object_add(o, "deleted", full_ids(cms_res_strings(wrap, "list", "Deleted")));
        *out = o;
        return 0;
}

/* Podman with several labels: the candidates (dangling, or all unused with all) that carry every
 * label are removed one by one; those in use stay, as a prune would leave them. */
static int prune_each(struct cms_manager *m, bool all, const char *const *labels, json_object *o,
                      struct cms_error *err)
{
        struct cms_images_list_opts lo = {.dangling = all ? -1 : 1, .labels = labels};
        _cleanup_json_ json_object *list = NULL;
        int r = cms_images_list(m, &lo, &list, err);
        if (r < 0)
                return r;
        json_object *deleted = json_object_new_array(), *untagged = json_object_new_array();
        json_object_object_add(o, "images", deleted);
        json_object_object_add(o, "untagged", untagged);
        int64_t space = 0;
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *it = json_object_array_get_idx(list, i), *rm = NULL;
                const char *id = json_object_get_string(cms_json_get(it, "id"));
                struct cms_error e = {0};
                if (cms_images_remove(m, id, false, false, &rm, &e) < 0) {
                        if (e.status == 409 || e.status == 404)
                                continue;
                        if (err)
                                *err = e;
                        return -EIO;
                }
                space += json_object_get_int64(cms_json_get(it, "size"));
                json_object *d = cms_json_get(rm, "deleted"), *u = cms_json_get(rm, "untagged");
                for (size_t k = 0; k < json_object_array_length(d); k++)
                        json_object_array_add(deleted, json_object_get(json_object_array_get_idx(d, k)));
                for (size_t k = 0; k < json_object_array_length(u); k++)
                        json_object_array_add(untagged, json_object_get(json_object_array_get_idx(u, k)));
                json_object_put(rm);
        }
        json_object_object_add(o, "space_reclaimed", json_object_new_int64(space));
        return 0;
}

int cms_images_prune(struct cms_manager *m, json_object *body, const char *const *labels,
                     json_object **out, struct cms_error *err)
{
        static const char *const keys[] = {"all", NULL};
        bool all;
        int r;
        if ((r = cms_json_check_keys(body, "body", keys, err)) < 0 ||
            (r = cms_json_get_bool(body, "body", "all", false, &all, err)) < 0)
                return r;
        cms_engine_ready(m->engine, NULL);
        _cleanup_json_ json_object *o = json_object_new_object();
        if (podman(m) && labels && labels[0] && labels[1]) {
                if ((r = prune_each(m, all, labels, o, err)) < 0)
                        return r;
                *out = TAKE_PTR(o);
                return 0;
        }
        _cleanup_json_ json_object *extra = json_object_new_object();
        if (all) {
                json_object *d = json_object_new_array();
                json_object_array_add(d, json_object_new_string("false"));
                json_object_object_add(extra, "dangling", d);
        }
        _cleanup_json_ json_object *doc = NULL;
        r = cms_res_filtered(m, CMS_RES_CHANGE, "POST", "/images/prune", labels, extra, &doc,
                             err);
        if (r < 0)
                return r;
        json_object_object_add(o, "images", full_ids(cms_res_strings(doc, "ImagesDeleted", "Deleted")));
        json_object_object_add(o, "untagged", cms_res_strings(doc, "ImagesDeleted", "Untagged"));
        json_object_object_add(o, "space_reclaimed",
                               json_object_new_int64(json_object_get_int64(cms_json_get(doc, "SpaceReclaimed"))));
        *out = TAKE_PTR(o);
        return 0;
}

int cms_image_present(struct cms_manager *m, const char *ref, struct cms_error *err)
{
        _cleanup_free_ char *e = cms_url_escape(ref);
        _cleanup_free_ char *path = e ? cms_strdup_printf("/images/%s/json", e) : NULL;
        if (!path)
                return cms_err(err, 500, "out of memory");
        struct cms_error probe = {0};
        int r = cms_engine_json(m->engine, "GET", path, NULL, NULL, &probe);
        if (r == 0)
                return 1;
        if (probe.status == 404)
                return 0;
        if (err)
                *err = probe;
        return r;
}
