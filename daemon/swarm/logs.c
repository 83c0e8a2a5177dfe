/* GET /v1/stacks/{name}/logs: the stack's services' logs (each service's tasks, as the engine's
 * service logs give them) merged as a project's are: in time order, or followed. */
#include "swarm.h"

#include "../projects/projects.h"

int cms_stacks_logs(struct cms_manager *m, const char *name, const char *service,
                    const struct cms_logs_opts *o, cms_project_log_cb cb,
                    cms_engine_stop_cb should_stop, void *ud, struct cms_error *err)
{
        _cleanup_json_ json_object *services = NULL;
        int r = cms_stack_get(m, name, &services, err);
        if (r < 0)
                return r;
        size_t n = 0, pl = strlen(name) + 1;
        struct cms_log_source *src = calloc(cms_jlen(services) + 1, sizeof(*src));
        if (!src)
                return cms_err(err, 500, "out of memory");
        for (size_t i = 0; i < cms_jlen(services); i++) {
                json_object *s = json_object_array_get_idx(services, i);
                const char *full =
                    json_object_get_string(cms_json_get(cms_json_get(s, "Spec"), "Name"));
                const char *short_name = full && strlen(full) > pl ? full + pl : "";
                if (service && strcmp(short_name, service))
                        continue;
                src[n++] = (struct cms_log_source){json_object_get_string(cms_json_get(s, "ID")),
                                                   full, short_name, true};
        }
        if (n == 0)
                r = cms_err(err, 404, "stack %s has no service %.64s", name, service);
        else
                r = cms_logs_merged(m, src, n, o, cb, should_stop, ud, err);
        free(src);
        return r;
}
