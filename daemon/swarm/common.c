/* What the swarm files share, below all of them: the stack label filter, the "is this engine a
 * swarm manager" check, and a stack's services. */
#include "swarm.h"

char *cms_stack_filter(const char *key, const char *value)
{
        _cleanup_json_ json_object *f = json_object_new_object();
        json_object *a = json_object_new_array();
        char *kv =
            value ? cms_strdup_printf("%s=%s", CMS_STACK_LABEL, value) : strdup(CMS_STACK_LABEL);
        if (!kv)
                return NULL;
        json_object_array_add(a, json_object_new_string(kv));
        free(kv);
        json_object_object_add(f, key, a);
        return cms_url_escape(json_object_to_json_string_ext(f, JSON_C_TO_STRING_PLAIN));
}

int cms_swarm_manager_check(struct cms_manager *m, struct cms_error *err)
{
        _cleanup_json_ json_object *info = NULL;
        int r = cms_engine_json(m->engine, "GET", "/info", NULL, &info, err);
        if (r < 0)
                return r;
        json_object *sw = cms_json_get(info, "Swarm");
        const char *state = json_object_get_string(cms_json_get(sw, "LocalNodeState"));
        if (cms_engine_runtime(m->engine) != CMS_RUNTIME_DOCKER)
                return cms_err(err, 409,
                               "engine %s is %s: swarm stacks need a Docker swarm manager", m->name,
                               cms_runtime_name(cms_engine_runtime(m->engine)));
        if (!state || strcmp(state, "active") ||
            !json_object_get_boolean(cms_json_get(sw, "ControlAvailable")))
                return cms_err(err, 409,
                               "engine %s is not a swarm manager (docker swarm init, or name one "
                               "that is with ?engine=)",
                               m->name);
        return 0;
}

/* The stack's services as the engine lists them (with their task counts); stack NULL: every
 * stack's. */
int cms_stack_services(struct cms_manager *m, const char *stack, json_object **out,
                       struct cms_error *err)
{
        _cleanup_free_ char *f = cms_stack_filter("label", stack);
        _cleanup_free_ char *path =
            f ? cms_strdup_printf("/services?status=true&filters=%s", f) : NULL;
        if (!path)
                return cms_err(err, 500, "out of memory");
        return cms_engine_json(m->engine, "GET", path, NULL, out, err);
}

int cms_stack_get(struct cms_manager *m, const char *name, json_object **services,
                  struct cms_error *err)
{
        *services = NULL;
        int r = cms_swarm_manager_check(m, err);
        r = r ?: cms_stack_services(m, name, services, err);
        if (r == 0 && !cms_jlen(*services))
                r = cms_err(err, 404, "no stack named %s", name);
        if (r < 0) {
                json_object_put(*services);
                *services = NULL;
        }
        return r;
}
