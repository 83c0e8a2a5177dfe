/* A compose project before the caller's policy, as a whole and before anything is made: every
 * service's container as the engine would receive it (field paths in the compose file's terms,
 * services.web.volumes[0].source), its build context, and the networks and volumes the project
 * would create. Used by up, scale, build and pull, and by POST /v1/policy/check. */
#include "internal.h"

static int check_service(struct cms_manager *m, const struct cms_caller *who,
                         const struct cms_compose_project *p, const struct cms_compose_service *s,
                         char **own, json_object *denials, struct cms_error *err)
{
        char prefix[200];
        snprintf(prefix, sizeof(prefix), "services.%s.", s->name);
        int n = 0;
        if (s->build) {
                _cleanup_free_ char *dir = NULL;
                char field[240];
                snprintf(field, sizeof(field), "%sbuild.context", prefix);
                int r = cms_project_context_dir(p, s, &dir, err);
                struct cms_policy_req q = {.kind = CMS_PQ_READ, .path = dir, .field = field};
                if (r < 0 || (r = cms_policy_collect(m, who, &q, denials, err)) < 0)
                        return r;
                n += r;
        }
        struct cms_compose_container c;
        struct cms_create_spec spec;
        int r = cms_project_prepare(p, cms_engine_runtime(m->engine), s, 1, &c, &spec, err);
        if (r < 0)
                return r;
        struct cms_policy_req q = {.kind = CMS_PQ_CREATE,
                                   .body = spec.body,
                                   .prefix = prefix,
                                   .own = (const char *const *)own};
        r = cms_policy_collect(m, who, &q, denials, err);
        cms_compose_container_done(&c);
        cms_create_spec_done(&spec);
        if (r >= 0) {
                n += r;
                r = cms_project_hooks_policy(m, who, s, denials, err);
        }
        return r < 0 ? r : n + r;
}

static int check_resources(struct cms_manager *m, const struct cms_caller *who,
                           const struct cms_compose_project *p, json_object *denials,
                           struct cms_error *err)
{
        int n = 0;
        for (size_t i = 0; i < p->n_networks; i++) {
                const struct cms_compose_network *net = &p->networks[i];
                if (net->external)
                        continue;
                char prefix[200];
                snprintf(prefix, sizeof(prefix), "networks.%s.", net->key);
                _cleanup_json_ json_object *body = cms_project_network_body(p, net, NULL);
                struct cms_policy_req q = {.kind = CMS_PQ_NETWORK, .body = body, .prefix = prefix};
                int r = cms_policy_collect(m, who, &q, denials, err);
                if (r < 0)
                        return r;
                n += r;
        }
        for (size_t i = 0; i < p->n_volumes; i++) {
                const struct cms_compose_volume *v = &p->volumes[i];
                if (v->external)
                        continue;
                char prefix[200];
                snprintf(prefix, sizeof(prefix), "volumes.%s.", v->key);
                _cleanup_json_ json_object *body = cms_project_volume_body(p, v);
                struct cms_policy_req q = {.kind = CMS_PQ_VOLUME, .body = body, .prefix = prefix};
                int r = cms_policy_collect(m, who, &q, denials, err);
                if (r < 0)
                        return r;
                n += r;
        }
        return n;
}

int cms_project_policy(struct cms_manager *m, const struct cms_caller *who,
                       const struct cms_compose_project *p, json_object *denials,
                       struct cms_error *err)
{
        char **own = cms_project_own_containers(p);
        if (!own)
                return cms_err(err, 500, "out of memory");
        int n = 0, r = 0;
        for (size_t i = 0; r >= 0 && i < p->n_services; i++)
                if ((r = check_service(m, who, p, &p->services[i], own, denials, err)) > 0)
                        n += r;
        cms_strv_free(own);
        if (r >= 0 && (r = check_resources(m, who, p, denials, err)) > 0)
                n += r;
        return r < 0 ? r : n;
}

int cms_project_policy_enforce(struct cms_manager *m, const struct cms_caller *who,
                               const struct cms_compose_project *p, struct cms_error *err)
{
        _cleanup_json_ json_object *denials = json_object_new_array();
        if (!denials)
                return cms_err(err, 500, "out of memory");
        int n = cms_project_policy(m, who, p, denials, err);
        return cms_policy_verdict(n, denials, who ? who->policy : "", err);
}
