/* The container manager: list, create, inspect, remove, lifecycle actions and health, as engine
 * calls around the pure translations of model.c. */
#include "internal.h"

char *cms_container_path(const char *id, const char *suffix)
{
        _cleanup_free_ char *e = id ? cms_url_escape(id) : NULL;
        return e ? cms_strdup_printf("/containers/%s%s", e, suffix ? suffix : "") : NULL;
}
#define ctr_path cms_container_path

int cms_container_post(struct cms_manager *m, const char *id, const char *suffix, long timeout_ms,
                       struct cms_error *err)
{
        _cleanup_free_ char *p = ctr_path(id, suffix);
        if (!p)
                return cms_err(err, 500, "out of memory");
        struct cms_engine_req req = {.method = "POST", .path = p, .timeout_ms = timeout_ms};
        struct cms_engine_reply reply = {0};
        int r = cms_engine_call(m->engine, &req, &reply, err);
        cms_engine_reply_free(&reply);
        return r;
}

int cms_action_parse(const char *s, enum cms_action *out)
{
        static const char *const names[] = {"start", "stop", "restart", "pause", "unpause", "kill"};
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (s && !strcmp(s, names[i])) {
                        *out = (enum cms_action)i;
                        return 0;
                }
        return -EINVAL;
}

/* Engine inspect document of a container. */
int cms_container_inspect_raw(struct cms_manager *m, const char *id, json_object **out,
                              struct cms_error *err)
{
        /* Names, ids and id prefixes all look like this; anything else ("." or "..") would
         * change the meaning of the engine path. */
        if (!id || !cms_object_name_valid(id))
                return cms_err(err, 400, "invalid container id or name '%s'", id ? id : "");
        _cleanup_free_ char *p = ctr_path(id, "/json");
        if (!p)
                return cms_err(err, 500, "out of memory");
        _cleanup_json_ json_object *doc = NULL;
        int r = cms_engine_json(m->engine, "GET", p, NULL, &doc, err);
        if (r < 0)
                return r;
        const char *full = json_object_get_string(cms_json_get(doc, "Id"));
        if (!json_object_is_type(doc, json_type_object) || !full || !*full)
                return cms_err(err, 502, "the engine's inspect of %s has no Id", id);
        *out = TAKE_PTR(doc);
        return 0;
}

int cms_containers_list_path(struct cms_manager *m, const struct cms_list_opts *o, char **path,
                             struct cms_error *err)
{
        _cleanup_json_ json_object *filters = json_object_new_object();
        if (o->name && *o->name) {
                json_object *a = json_object_new_array();
                json_object_array_add(a, json_object_new_string(o->name));
                json_object_object_add(filters, "name", a);
        }
        if (o->labels && o->labels[0]) {
                json_object *a = json_object_new_array();
                json_object_object_add(filters, "label", a);
                for (size_t i = 0; o->labels[i]; i++) {
                        if (!*o->labels[i] || o->labels[i][0] == '=')
                                return cms_err(err, 400, "label filter '%s': expected k or k=v",
                                               o->labels[i]);
                        json_object_array_add(a, json_object_new_string(o->labels[i]));
                }
        }
        _cleanup_free_ char *f =
            cms_url_escape(json_object_to_json_string_ext(filters, JSON_C_TO_STRING_PLAIN));
        /* Podman's compat list has no health in its status text; its native list has it and
         * is faster to produce, so on Podman that is the one to ask. */
        bool podman = cms_engine_runtime(m->engine) == CMS_RUNTIME_PODMAN;
        *path = f ? cms_strdup_printf("%s/containers/json?all=%d&filters=%s",
                                      podman ? "/libpod" : "", o->all ? 1 : 0, f)
                  : NULL;
        return *path ? 0 : cms_err(err, 500, "out of memory");
}

int cms_containers_list(struct cms_manager *m, const struct cms_list_opts *o, json_object **out,
                        struct cms_error *err)
{
        _cleanup_free_ char *path = NULL;
        int r = cms_containers_list_path(m, o, &path, err);
        if (r < 0)
                return r;
        bool native = cms_str_has_prefix(path, "/libpod");
        _cleanup_json_ json_object *list = NULL;
        r = cms_engine_json(m->engine, "GET", path, NULL, &list, err);
        if (r < 0)
                return r;
        if (!json_object_is_type(list, json_type_array))
                return cms_err(err, 502, "engine returned a container list that is not an array");
        json_object *arr = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *it = json_object_array_get_idx(list, i);
                json_object_array_add(arr, native ? cms_container_list_item_libpod(it)
                                                  : cms_container_list_item(it));
        }
        *out = arr;
        return 0;
}

static int start_container(struct cms_manager *m, const char *id, struct cms_error *err)
{
        _cleanup_free_ char *p = ctr_path(id, "/start");
        if (!p)
                return cms_err(err, 500, "out of memory");
        return cms_engine_json(m->engine, "POST", p, NULL, NULL, err);
}

static void remove_quietly(struct cms_manager *m, const char *id)
{
        _cleanup_free_ char *p = ctr_path(id, "?force=1&v=1");
        if (p)
                cms_engine_json(m->engine, "DELETE", p, NULL, NULL, NULL);
}

int cms_container_create_spec(struct cms_manager *m, const struct cms_caller *who,
                              struct cms_create_spec *spec, bool start, json_object **out,
                              struct cms_error *err)
{
        struct cms_policy_req q = {.kind = CMS_PQ_CREATE,
                                   .body = spec->body,
                                   .prefix = spec->policy_prefix,
                                   .own = spec->own_containers};
        int r = cms_policy_enforce(m, who, &q, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *name = spec->name ? cms_url_escape(spec->name) : NULL;
        _cleanup_free_ char *path = name ? cms_strdup_printf("/containers/create?name=%s", name)
                                         : strdup("/containers/create");
        if (!path)
                return cms_err(err, 500, "out of memory");
        _cleanup_json_ json_object *reply = NULL;
        r = cms_engine_json(m->engine, "POST", path, spec->body, &reply, err);
        if (r < 0)
                return r;
        const char *id = json_object_get_string(cms_json_get(reply, "Id"));
        if (!id || !*id)
                return cms_err(err, 502, "engine created a container but returned no id");
        json_object *warn = cms_json_get(reply, "Warnings");
        for (size_t i = 0;
             json_object_is_type(warn, json_type_array) && i < json_object_array_length(warn);
             i++) {
                json_object *w = json_object_array_get_idx(warn, i);
                if (json_object_is_type(w, json_type_string) && *json_object_get_string(w))
                        json_object_array_add(spec->warnings, json_object_get(w));
        }
        if (start && (r = start_container(m, id, err)) < 0) {
                /* Nothing half-made: a container that cannot start is removed again. */
                remove_quietly(m, id);
                return r;
        }
        _cleanup_json_ json_object *insp = NULL;
        const char *cname = spec->name;
        if (!cname && cms_container_inspect_raw(m, id, &insp, NULL) == 0) {
                cname = json_object_get_string(cms_json_get(insp, "Name"));
                if (cname && *cname == '/')
                        cname++;
        }
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(id));
        json_object_object_add(o, "name", cname ? json_object_new_string(cname) : NULL);
        json_object_object_add(o, "warnings", json_object_get(spec->warnings));
        *out = o;
        return 0;
}

int cms_container_ensure_image(struct cms_manager *m, const struct cms_caller *who,
                               const struct cms_create_spec *spec, bool *pulled,
                               struct cms_error *err)
{
        struct cms_policy_req q = {.kind = CMS_PQ_CREATE,
                                   .body = spec->body,
                                   .prefix = spec->policy_prefix,
                                   .own = spec->own_containers};
        if (pulled)
                *pulled = false;
        int r = cms_policy_enforce(m, who, &q, err);
        if (r < 0)
                return r;
        if (spec->pull != CMS_IMAGE_PULL_ALWAYS) {
                if ((r = cms_image_present(m, spec->image, err)) != 0)
                        return r < 0 ? r : 0;
                if (spec->pull == CMS_IMAGE_PULL_NEVER)
                        return cms_err(err, 404, "no such image: %s (and \"pull\" is \"never\")",
                                       spec->image);
                if (cms_container_image_is_id(spec->image))
                        return cms_err(err, 404,
                                       "image %s is not present (an image id cannot be pulled)",
                                       spec->image);
        }
        if ((r = cms_images_pull_ref_auth(m, spec->image, spec->registry_auth, err)) < 0)
                return r;
        if (pulled)
                *pulled = true;
        return 0;
}

int cms_containers_create(struct cms_manager *m, const struct cms_caller *who, json_object *config,
                          bool start, json_object **out, struct cms_error *err)
{
        struct cms_create_spec spec = {0};
        bool pulled = false;
        /* The translation depends on the runtime: learn it first if an outage hid it. A down
         * engine is not an error yet: bad input still gets its 400 before the 503. */
        cms_engine_ready(m->engine, NULL);
        int r = cms_container_spec_from_config(config, cms_engine_runtime(m->engine), &spec, err);
        if (r == 0)
                r = cms_container_ensure_image(m, who, &spec, &pulled, err);
        if (r == 0)
                r = cms_container_create_spec(m, who, &spec, start, out, err);
        if (r == 0)
                json_object_object_add(*out, "pulled", json_object_new_boolean(pulled));
        cms_create_spec_done(&spec);
        return r;
}

/* The engine's inspect document seen through one of the model's views. */
static int inspect_as(struct cms_manager *m, const char *id, json_object *(*view)(json_object *),
                      json_object **out, struct cms_error *err)
{
        _cleanup_json_ json_object *raw = NULL;
        int r = cms_container_inspect_raw(m, id, &raw, err);
        if (r < 0)
                return r;
        *out = view(raw);
        return 0;
}

int cms_containers_inspect(struct cms_manager *m, const char *id, json_object **out,
                           struct cms_error *err)
{
        return inspect_as(m, id, cms_container_summary, out, err);
}

int cms_containers_remove(struct cms_manager *m, const char *id, bool force, bool volumes,
                          json_object **out, struct cms_error *err)
{
        _cleanup_json_ json_object *raw = NULL;
        int r = cms_container_inspect_raw(m, id, &raw, err);
        if (r < 0)
                return r;
        const char *full = json_object_get_string(cms_json_get(raw, "Id"));
        char q[32];
        snprintf(q, sizeof(q), "?force=%d&v=%d", force, volumes);
        _cleanup_free_ char *p = ctr_path(full ? full : id, q);
        if (!p)
                return cms_err(err, 500, "out of memory");
        if ((r = cms_engine_json(m->engine, "DELETE", p, NULL, NULL, err)) < 0)
                return r;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(full ? full : id));
        json_object_object_add(o, "removed", json_object_new_boolean(1));
        *out = o;
        return 0;
}

static const char *state_of(json_object *raw)
{
        const char *s = json_object_get_string(cms_json_get(cms_json_get(raw, "State"), "Status"));
        return cms_container_state_name(s ? s : "");
}

int cms_containers_action(struct cms_manager *m, const char *id, enum cms_action a, int timeout_s,
                          const char *signal, json_object **out, struct cms_error *err)
{
        static const char *const verbs[] = {"start", "stop", "restart", "pause", "unpause", "kill"};
        _cleanup_json_ json_object *before = NULL;
        int r = cms_container_inspect_raw(m, id, &before, err);
        if (r < 0)
                return r;
        const char *full = json_object_get_string(cms_json_get(before, "Id"));
        char q[64] = "";
        const char *sname = NULL;
        int signum;
        if (a == CMS_ACTION_KILL && signal && cms_signal_parse(signal, &signum, &sname) < 0)
                return cms_err(err, 400, "unknown signal '%s'", signal);
        if (a == CMS_ACTION_KILL)
                snprintf(q, sizeof(q), "?signal=%s", sname ? sname : "SIGKILL");
        else if ((a == CMS_ACTION_STOP || a == CMS_ACTION_RESTART) && timeout_s >= 0)
                snprintf(q, sizeof(q), "?t=%d", timeout_s);
        _cleanup_free_ char *base = ctr_path(full, "/");
        _cleanup_free_ char *p = base ? cms_strdup_printf("%s%s%s", base, verbs[a], q) : NULL;
        if (!p)
                return cms_err(err, 500, "out of memory");
        /* A stop waits up to timeout_s for the process before killing it: the call must outlast
         * it. The engine's own default grace period is 10 s. */
        int grace = timeout_s;
        if (grace < 0) {
                json_object *st = cms_json_get(cms_json_get(before, "Config"), "StopTimeout");
                grace = st && json_object_get_int(st) > 0 ? json_object_get_int(st) : 10;
        }
        long budget = (grace + 30) * 1000L;
        struct cms_engine_req req = {.method = "POST", .path = p, .timeout_ms = budget};
        struct cms_engine_reply reply = {0};
        r = cms_engine_call(m->engine, &req, &reply, err);
        cms_engine_reply_free(&reply);
        if (r < 0)
                return r;
        _cleanup_json_ json_object *after = NULL;
        if ((r = cms_container_inspect_raw(m, full, &after, err)) < 0)
                return r;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(full));
        json_object_object_add(o, "state", json_object_new_string(state_of(after)));
        *out = o;
        return 0;
}

int cms_containers_health(struct cms_manager *m, const char *id, json_object **out,
                          struct cms_error *err)
{
        return inspect_as(m, id, cms_container_health, out, err);
}

int cms_containers_policy_check(struct cms_manager *m, const struct cms_caller *who,
                                json_object *config, json_object *denials, struct cms_error *err)
{
        struct cms_create_spec spec = {0};
        cms_engine_ready(m->engine, NULL);
        int r = cms_container_spec_from_config(config, cms_engine_runtime(m->engine), &spec, err);
        struct cms_policy_req q = {.kind = CMS_PQ_CREATE, .body = spec.body};
        if (r == 0)
                r = cms_policy_collect(m, who, &q, denials, err);
        cms_create_spec_done(&spec);
        return r;
}
