/* deploy_application: pull the image when absent, refuse it when its scan has findings at or
 * above scan.fail_on, replace a same-named container when asked, create, start, and optionally
 * wait until the container's health check passes. Everything is
 * validated before anything changes on the engine. */
#include <time.h>

#include "../scan/match.h"
#include "internal.h"

const char *cms_container_health_status(json_object *raw)
{
        json_object *st = cms_json_get(raw, "State");
        json_object *h = cms_json_get(st, "Health");
        if (!h)
                h = cms_json_get(st, "Healthcheck"); /* Podman */
        const char *s = json_object_get_string(cms_json_get(h, "Status"));
        return s && *s ? s : "none";
}
#define health_of cms_container_health_status

/* The last health probe's output, for an error message. */
static const char *last_probe_output(json_object *raw)
{
        json_object *st = cms_json_get(raw, "State");
        json_object *h = cms_json_get(st, "Health");
        if (!h)
                h = cms_json_get(st, "Healthcheck");
        json_object *log = cms_json_get(h, "Log");
        size_t n = json_object_is_type(log, json_type_array) ? json_object_array_length(log) : 0;
        const char *o = n ? json_object_get_string(
                                cms_json_get(json_object_array_get_idx(log, n - 1), "Output"))
                          : NULL;
        return o ? o : "";
}

static int wait_healthy(struct cms_manager *m, const char *id, int64_t wait_ms,
                        struct cms_error *err)
{
        int64_t deadline = cms_now_ms() + wait_ms;
        for (;;) {
                _cleanup_json_ json_object *raw = NULL;
                int r = cms_container_inspect_raw(m, id, &raw, err);
                if (r < 0)
                        return r;
                json_object *st = cms_json_get(raw, "State");
                const char *h = health_of(raw);
                if (!strcmp(h, "healthy") || !strcmp(h, "none"))
                        return 0;
                if (!strcmp(h, "unhealthy"))
                        return cms_err(err, 409, "container %s became unhealthy: %s", id,
                                       last_probe_output(raw));
                if (!json_object_get_boolean(cms_json_get(st, "Running")))
                        return cms_err(err, 409,
                                       "container %s exited with code %d before it was healthy", id,
                                       json_object_get_int(cms_json_get(st, "ExitCode")));
                if (cms_now_ms() >= deadline)
                        return cms_err(err, 504, "container %s was not healthy within the wait",
                                       id);
                if (atomic_load(&m->draining))
                        return cms_err(err, 503, "cmsd is shutting down");
                struct timespec ts = {0, 250 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
}

/* The container that has exactly this name (the engine also matches id prefixes), or NULL. */
static int find_named(struct cms_manager *m, const char *name, json_object **out,
                      struct cms_error *err)
{
        _cleanup_json_ json_object *c = NULL;
        struct cms_error probe = {0};
        *out = NULL;
        int r = cms_container_inspect_raw(m, name, &c, &probe);
        if (r < 0) {
                if (probe.status == 404)
                        return 0;
                if (err)
                        *err = probe;
                return r;
        }
        const char *cname = json_object_get_string(cms_json_get(c, "Name"));
        if (cname && *cname == '/')
                cname++;
        if (cname && !strcmp(cname, name))
                *out = TAKE_PTR(c);
        return 0;
}

/* A container being replaced: renamed aside and stopped while its successor starts, so that it
 * can be put back as it was when the successor fails. */
struct aside {
        char id[80], name[256];
        bool running;
};

static int set_aside(struct cms_manager *m, json_object *old, struct aside *a,
                     struct cms_error *err)
{
        const char *id = json_object_get_string(cms_json_get(old, "Id"));
        snprintf(a->id, sizeof(a->id), "%s", id);
        a->running = json_object_get_boolean(cms_json_get(cms_json_get(old, "State"), "Running"));
        char q[128];
        snprintf(q, sizeof(q), "/rename?name=cmsd-replaced-%.12s", id);
        int r = cms_container_post(m, id, q, 0, err);
        if (r == 0 && a->running) {
                json_object *st = cms_json_get(cms_json_get(old, "Config"), "StopTimeout");
                int grace = st && json_object_get_int(st) > 0 ? json_object_get_int(st) : 10;
                snprintf(q, sizeof(q), "/stop?t=%d", grace);
                r = cms_container_post(m, id, q, (grace + 30) * 1000L, err);
        }
        return r;
}

/* Puts the old container back under its name and, if it ran, starts it again. */
static void restore(struct cms_manager *m, const struct aside *a)
{
        _cleanup_free_ char *n = cms_url_escape(a->name);
        _cleanup_free_ char *q = n ? cms_strdup_printf("/rename?name=%s", n) : NULL;
        if (q)
                cms_container_post(m, a->id, q, 0, NULL);
        if (a->running)
                cms_container_post(m, a->id, "/start", 0, NULL);
}

static int deploy_spec(struct cms_manager *m, const struct cms_caller *who,
                       struct cms_create_spec *spec, bool replace, int64_t wait_ms,
                       const struct cms_scan_gate *gate, json_object **out, struct cms_error *err)
{
        _cleanup_json_ json_object *made = NULL, *raw = NULL, *old = NULL;
        struct aside a = {0};
        bool pulled = false;
        /* Denied before anything happens: no pull, nothing set aside. */
        int r = cms_container_ensure_image(m, who, spec, &pulled, err);
        /* scan.fail_on: the image is judged before anything is set aside or made. */
        r = r ?: cms_images_scan_gate(m, spec->image, gate, err);
        if (r < 0)
                return r;
        if (spec->name && (r = find_named(m, spec->name, &old, err)) < 0)
                return r;
        if (old && !replace)
                return cms_err(err, 409, "a container named %s exists (set \"replace\": true)",
                               spec->name);
        if (old) {
                snprintf(a.name, sizeof(a.name), "%s", spec->name);
                if ((r = set_aside(m, old, &a, err)) < 0) {
                        restore(m, &a);
                        return r;
                }
        }
        r = cms_container_create_spec(m, who, spec, true, &made, err);
        const char *id = made ? json_object_get_string(cms_json_get(made, "id")) : NULL;
        if (r == 0 && wait_ms > 0)
                r = wait_healthy(m, id, wait_ms, err);
        if (r == 0)
                r = cms_container_inspect_raw(m, id, &raw, err);
        if (r < 0) {
                /* A failed deploy leaves things as they were: the new container goes, the old
                 * one comes back. */
                if (id) {
                        _cleanup_free_ char *p = cms_container_path(id, "?force=1&v=1");
                        cms_engine_json(m->engine, "DELETE", p, NULL, NULL, NULL);
                }
                if (old)
                        restore(m, &a);
                return r;
        }
        if (old) {
                _cleanup_free_ char *p = cms_container_path(a.id, "?force=1");
                cms_engine_json(m->engine, "DELETE", p, NULL, NULL, NULL);
        }
        const char *state =
            json_object_get_string(cms_json_get(cms_json_get(raw, "State"), "Status"));
        json_object *o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(id));
        json_object_object_add(o, "name", json_object_get(cms_json_get(made, "name")));
        json_object_object_add(
            o, "state", json_object_new_string(cms_container_state_name(state ? state : "")));
        json_object_object_add(o, "health", json_object_new_string(health_of(raw)));
        json_object_object_add(o, "warnings", json_object_get(cms_json_get(made, "warnings")));
        json_object_object_add(o, "replaced", old ? json_object_new_string(a.id) : NULL);
        json_object_object_add(o, "pulled", json_object_new_boolean(pulled));
        *out = o;
        return 0;
}

/* deploy's "pull": true (= "missing", the default), false (= "never"), or one of the create
 * route's words. */
static int deploy_pull(json_object *body, enum cms_pull_policy *out, struct cms_error *err)
{
        json_object *v = cms_json_get(body, "pull");
        *out = CMS_IMAGE_PULL_MISSING;
        if (!v)
                return 0;
        if (json_object_is_type(v, json_type_boolean)) {
                *out = json_object_get_boolean(v) ? CMS_IMAGE_PULL_MISSING : CMS_IMAGE_PULL_NEVER;
                return 0;
        }
        if (json_object_is_type(v, json_type_string) &&
            cms_pull_policy_parse(json_object_get_string(v), out) == 0)
                return 0;
        return cms_err(err, 400,
                       "body.pull: expected true, false, \"missing\", \"always\" or \"never\"");
}

int cms_deploy(struct cms_manager *m, const struct cms_caller *who, json_object *body,
               json_object **out, struct cms_error *err)
{
        if (!json_object_is_type(body, json_type_object))
                return cms_err(err, 400, "body: expected a JSON object");
        bool replace;
        enum cms_pull_policy pull;
        int r;
        struct cms_scan_gate gate;
        if ((r = cms_json_get_bool(body, "body", "replace", false, &replace, err)) < 0 ||
            (r = deploy_pull(body, &pull, err)) < 0 ||
            (r = cms_scan_gate_parse(cms_json_get(body, "scan"), "body.scan", &gate, err)) < 0)
                return r;
        int64_t wait_ms = 0;
        json_object *w = cms_json_get(body, "wait_healthy");
        if (w && (cms_json_duration_ms(w, &wait_ms) < 0 || wait_ms > 3600 * 1000L))
                return cms_err(err, 400, "body.wait_healthy: expected a duration up to 1h");
        /* The rest is a ContainerConfig: validate it all before touching the engine. */
        static const char *const deploy_keys[] = {"replace", "pull", "wait_healthy", "scan", NULL};
        struct cms_create_spec spec = {0};
        cms_engine_ready(m->engine, NULL);
        r = cms_container_spec_from_config_ex(body, cms_engine_runtime(m->engine), deploy_keys,
                                              &spec, err);
        if (r == 0 && spec.registry_auth && pull == CMS_IMAGE_PULL_NEVER)
                r = cms_err(err, 400,
                            "registry_auth: has no use with \"pull\": false or \"never\"");
        if (r == 0 && pull == CMS_IMAGE_PULL_ALWAYS && cms_container_image_is_id(spec.image))
                r = cms_err(err, 400, "pull: \"always\" needs an image reference, not an image id");
        spec.pull = pull;
        if (r == 0)
                r = deploy_spec(m, who, &spec, replace, wait_ms, &gate, out, err);
        cms_create_spec_done(&spec);
        return r;
}
