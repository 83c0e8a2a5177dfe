/* The caller's policy, looked up in the live config at each check, against what is about to be
 * sent to the engine; the engine's own socket joins the well-known ones, and host paths are
 * resolved on this host (cmsd and a local engine see the same paths) so a symlink cannot lead a
 * bind out of an allowed directory. */
#include "enforce.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

/* The real path of path, or of its longest existing ancestor with the rest appended (the
 * engine, or compose's create_host_path, would create the rest through the same links). */
static char *resolve(const char *path)
{
        char buf[PATH_MAX], *real = realpath(path, NULL);
        if (real || errno != ENOENT)
                return real;
        const char *slash = strrchr(path, '/');
        if (!slash || slash == path)
                return NULL;
        snprintf(buf, sizeof(buf), "%.*s", (int)(slash - path), path);
        _cleanup_free_ char *parent = resolve(buf);
        if (!parent)
                return NULL;
        return cms_strdup_printf("%s%s", strcmp(parent, "/") ? parent : "", slash);
}

char *cms_policy_compose_files_dir(struct cms_manager *m, const char *project, const char *service)
{
        _cleanup_free_ char *base = cms_manager_state_dir(m);
        if (!base)
                return NULL;
        return service ? cms_strdup_printf("%s/compose-files/%s/%s", base, project, service)
                       : cms_strdup_printf("%s/compose-files/%s", base, project);
}

/* A compose service's container (prefix "services.<name>.", the project in its labels): the
 * directory of the files cmsd materialized for it. */
static char *own_files(struct cms_manager *m, const struct cms_policy_req *q)
{
        const char *pre = q->prefix;
        if (q->kind != CMS_PQ_CREATE || !pre || !cms_str_has_prefix(pre, "services."))
                return NULL;
        const char *svc = pre + strlen("services."), *dot = strchr(svc, '.');
        json_object *labels = cms_json_get(q->body, "Labels");
        const char *proj =
            json_object_get_string(cms_json_get(labels, "com.docker.compose.project"));
        if (!dot || dot == svc || dot[1] || !proj || !*proj || strchr(proj, '/'))
                return NULL;
        _cleanup_free_ char *name = strndup(svc, (size_t)(dot - svc));
        return name && !strchr(name, '/') ? cms_policy_compose_files_dir(m, proj, name) : NULL;
}

static int evaluate(const struct cms_policy *p, const struct cms_policy_env *env,
                    const struct cms_policy_req *q, json_object *denials)
{
        const char *prefix = q->prefix ? q->prefix : "";
        switch (q->kind) {
        case CMS_PQ_CREATE:
                return cms_policy_check_create(p, env, q->body, prefix, denials);
        case CMS_PQ_VOLUME:
                return cms_policy_check_volume(p, env, q->body, prefix, denials);
        case CMS_PQ_NETWORK:
                return cms_policy_check_network(p, env, q->body, prefix, denials);
        case CMS_PQ_READ:
                return cms_policy_check_host_read(p, env, q->path, q->field, denials);
        case CMS_PQ_IMAGE:
                return cms_policy_check_image(p, q->path, q->field, denials);
        }
        return 0;
}

int cms_policy_collect(struct cms_manager *m, const struct cms_caller *who,
                       const struct cms_policy_req *q, json_object *denials, struct cms_error *err)
{
        if (!who || !who->policy)
                return cms_err(err, 500, "internal error: a create without a caller");
        /* The configured engine's socket joins the well-known ones. */
        const char *sockets[2] = {NULL, NULL};
        const char *url = m->engine ? cms_engine_url(m->engine) : NULL;
        if (url && cms_str_has_prefix(url, "unix://"))
                sockets[0] = url + strlen("unix://");
        _cleanup_free_ char *own = own_files(m, q);
        struct cms_policy_env env = {
            .sockets = sockets, .own_containers = q->own, .resolve = resolve, .own_files = own};
        /* A copy, so that resolving paths (file-system I/O) happens outside the config lock. */
        const struct cms_config *c = cms_manager_config_rdlock(m);
        const struct cms_policy *live = cms_config_policy(c, who->policy);
        struct cms_policy *p = live ? cms_policy_dup(live) : NULL;
        cms_manager_config_unlock(m);
        if (!live)
                return cms_err(err, 403, "policy '%s' is no longer configured", who->policy);
        if (!p)
                return cms_err(err, 500, "out of memory");
        int n = evaluate(p, &env, q, denials);
        cms_policy_free(p);
        return n;
}

int cms_policy_verdict(int n, json_object *denials, const char *policy, struct cms_error *err)
{
        if (n <= 0)
                return n;
        json_object *d = json_object_array_get_idx(denials, 0);
        const char *rule = json_object_get_string(cms_json_get(d, "rule"));
        const char *field = json_object_get_string(cms_json_get(d, "field"));
        const char *msg = json_object_get_string(cms_json_get(d, "message"));
        size_t more = json_object_array_length(denials) - 1;
        char tail[48] = "";
        if (more)
                snprintf(tail, sizeof(tail), " (and %zu more)", more);
        return cms_err_policy(err, rule ? rule : "", field ? field : "",
                              "%s: %s (policy %s, rule %s)%s", field ? field : "", msg ? msg : "",
                              policy, rule ? rule : "", tail);
}

int cms_policy_enforce(struct cms_manager *m, const struct cms_caller *who,
                       const struct cms_policy_req *q, struct cms_error *err)
{
        _cleanup_json_ json_object *denials = json_object_new_array();
        if (!denials)
                return cms_err(err, 500, "out of memory");
        int n = cms_policy_collect(m, who, q, denials, err);
        return cms_policy_verdict(n, denials, who ? who->policy : "", err);
}
