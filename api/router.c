/* The one const route table and the matcher. A pattern segment "{x}" matches one path segment,
 * "{x*}" matches one or more (image refs with '/' in them), literals match exactly. A path that
 * matches with another method gives 405 with the methods it does allow. */
#include "api.h"

#define OPEN_INLINE(m, p, h, n)                                                                    \
        {                                                                                          \
                m, p, h, CMS_ROLE_NONE, ROUTE_OPEN | ROUTE_INLINE, n                               \
        }

static const struct cms_route routes[] = {
    OPEN_INLINE("GET", "/v1/health", h_health, "health"),
    OPEN_INLINE("GET", "/openapi.yaml", h_openapi, "openapi"),
    /* The dashboard's static files; its API calls carry the token like any client's. */
    OPEN_INLINE("GET", "/ui", h_ui, "ui"),
    OPEN_INLINE("GET", "/ui/{file*}", h_ui, "ui_file"),
    {"GET", "/v1/auth/whoami", h_whoami, CMS_ROLE_VIEWER, ROUTE_INLINE | ROUTE_GLOBAL, "whoami"},
    {"GET", "/v1/engines", h_engines, CMS_ROLE_VIEWER, ROUTE_GLOBAL, "engines"},
    {"GET", "/v1/policy", h_policy_list, CMS_ROLE_ADMIN, ROUTE_INLINE | ROUTE_GLOBAL,
     "policy_list"},
    {"GET", "/v1/audit", h_audit, CMS_ROLE_ADMIN, ROUTE_GLOBAL, "audit"},
    {"POST", "/v1/policy/check", h_policy_check, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY,
     "policy_check"},
    {"GET", "/v1/system/info", h_system_info, CMS_ROLE_VIEWER, 0, "system_info"},
    {"GET", "/v1/system/df", h_system_df, CMS_ROLE_VIEWER, 0, "system_df"},
    {"POST", "/v1/system/prune", h_system_prune, CMS_ROLE_ADMIN, ROUTE_JSON_BODY, "system_prune"},
    {"GET", "/v1/containers", h_containers_list, CMS_ROLE_VIEWER, ROUTE_FANOUT, "containers_list"},
    {"POST", "/v1/containers", h_containers_create, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY,
     "containers_create"},
    {"POST", "/v1/deploy", h_deploy, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY, "deploy"},
    {"GET", "/v1/containers/{id}", h_container_inspect, CMS_ROLE_VIEWER, 0, "container_inspect"},
    {"DELETE", "/v1/containers/{id}", h_container_remove, CMS_ROLE_OPERATOR, 0, "container_remove"},
    {"POST", "/v1/containers/{id}/start", h_container_action, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY,
     "start"},
    {"POST", "/v1/containers/{id}/stop", h_container_action, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY,
     "stop"},
    {"POST", "/v1/containers/{id}/restart", h_container_action, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY,
     "restart"},
    {"POST", "/v1/containers/{id}/pause", h_container_action, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY,
     "pause"},
    {"POST", "/v1/containers/{id}/unpause", h_container_action, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY,
     "unpause"},
    {"POST", "/v1/containers/{id}/kill", h_container_action, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY,
     "kill"},
    {"GET", "/v1/containers/{id}/logs", h_container_logs, CMS_ROLE_VIEWER, 0, "container_logs"},
    {"POST", "/v1/containers/{id}/exec", h_container_exec, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY,
     "container_exec"},
    {"GET", "/v1/containers/{id}/health", h_container_health, CMS_ROLE_VIEWER, 0,
     "container_health"},
    {"GET", "/v1/containers/{id}/stats", h_container_stats, CMS_ROLE_VIEWER, 0, "container_stats"},
    /* Served from the sampler's memory, no engine call: /metrics runs inline. */
    {"GET", "/metrics", h_metrics_prometheus, CMS_ROLE_VIEWER, ROUTE_INLINE | ROUTE_METRICS,
     "metrics"},
    {"GET", "/v1/metrics", h_metrics_json, CMS_ROLE_VIEWER, 0, "metrics_json"},
    {"GET", "/v1/metrics/export", h_metrics_export, CMS_ROLE_VIEWER, 0, "metrics_export"},
    {"GET", "/v1/monitor", h_monitor, CMS_ROLE_VIEWER, 0, "monitor"},
    {"GET", "/v1/events", h_events, CMS_ROLE_VIEWER, 0, "events"},
    /* Literal paths before the "{id}" ones that would also match them. */
    {"GET", "/v1/networks", h_networks_list, CMS_ROLE_VIEWER, ROUTE_FANOUT, "networks_list"},
    {"POST", "/v1/networks", h_networks_create, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY,
     "networks_create"},
    {"POST", "/v1/networks/prune", h_networks_prune, CMS_ROLE_ADMIN, ROUTE_JSON_BODY,
     "networks_prune"},
    {"GET", "/v1/networks/{id}", h_network_inspect, CMS_ROLE_VIEWER, 0, "network_inspect"},
    {"DELETE", "/v1/networks/{id}", h_network_remove, CMS_ROLE_OPERATOR, 0, "network_remove"},
    {"POST", "/v1/networks/{id}/connect", h_network_connect, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY,
     "network_connect"},
    {"POST", "/v1/networks/{id}/disconnect", h_network_connect, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY,
     "network_disconnect"},
    {"GET", "/v1/volumes", h_volumes_list, CMS_ROLE_VIEWER, ROUTE_FANOUT, "volumes_list"},
    {"POST", "/v1/volumes", h_volumes_create, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY, "volumes_create"},
    {"POST", "/v1/volumes/prune", h_volumes_prune, CMS_ROLE_ADMIN, ROUTE_JSON_BODY,
     "volumes_prune"},
    {"GET", "/v1/volumes/{name}", h_volume_inspect, CMS_ROLE_VIEWER, 0, "volume_inspect"},
    {"DELETE", "/v1/volumes/{name}", h_volume_remove, CMS_ROLE_OPERATOR, 0, "volume_remove"},
    {"GET", "/v1/projects", h_projects_list, CMS_ROLE_VIEWER, ROUTE_FANOUT, "projects_list"},
    {"POST", "/v1/projects", h_projects_up, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY | ROUTE_YAML_BODY,
     "projects_up"},
    {"POST", "/v1/projects/config", h_projects_config_dry, CMS_ROLE_VIEWER,
     ROUTE_JSON_BODY | ROUTE_YAML_BODY, "projects_config_dry"},
    {"GET", "/v1/projects/{name}", h_project_ps, CMS_ROLE_VIEWER, 0, "project_ps"},
    {"GET", "/v1/projects/{name}/config", h_project_config, CMS_ROLE_VIEWER, 0, "project_config"},
    {"GET", "/v1/projects/{name}/logs", h_project_logs, CMS_ROLE_VIEWER, 0, "project_logs"},
    {"POST", "/v1/projects/{name}/up", h_project_up, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY,
     "project_up"},
    {"POST", "/v1/projects/{name}/down", h_project_down, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY,
     "project_down"},
    {"POST", "/v1/projects/{name}/start", h_project_action, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY,
     "project_start"},
    {"POST", "/v1/projects/{name}/stop", h_project_action, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY,
     "project_stop"},
    {"POST", "/v1/projects/{name}/restart", h_project_action, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY,
     "project_restart"},
    {"POST", "/v1/projects/{name}/scale", h_project_scale, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY,
     "project_scale"},
    {"POST", "/v1/projects/{name}/build", h_project_images, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY,
     "project_build"},
    {"POST", "/v1/projects/{name}/pull", h_project_images, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY,
     "project_pull"},
    {"GET", "/v1/nodes", h_nodes_list, CMS_ROLE_VIEWER, 0, "nodes_list"},
    {"POST", "/v1/nodes/{id}", h_node_update, CMS_ROLE_ADMIN, ROUTE_JSON_BODY, "node_update"},
    {"GET", "/v1/stacks", h_stacks_list, CMS_ROLE_VIEWER, ROUTE_FANOUT, "stacks_list"},
    {"POST", "/v1/stacks", h_stacks_deploy, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY | ROUTE_YAML_BODY,
     "stacks_deploy"},
    {"GET", "/v1/stacks/{name}", h_stack_inspect, CMS_ROLE_VIEWER, 0, "stack_inspect"},
    {"DELETE", "/v1/stacks/{name}", h_stack_remove, CMS_ROLE_OPERATOR, 0, "stack_remove"},
    {"GET", "/v1/stacks/{name}/logs", h_stack_logs, CMS_ROLE_VIEWER, 0, "stack_logs"},
    {"POST", "/v1/stacks/{name}/scale", h_stack_scale, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY,
     "stack_scale"},
    /* Image refs contain '/': the literal routes first, then "{ref*}" with a suffix, then
     * the bare "{ref*}" (which would swallow the suffixes). */
    {"GET", "/v1/vulndb", h_vulndb_status, CMS_ROLE_VIEWER, ROUTE_GLOBAL, "vulndb_status"},
    {"POST", "/v1/vulndb", h_vulndb_import, CMS_ROLE_ADMIN,
     ROUTE_RAW_BODY | ROUTE_JSON_BODY | ROUTE_GLOBAL, "vulndb_import"},
    {"GET", "/v1/images", h_images_list, CMS_ROLE_VIEWER, ROUTE_FANOUT, "images_list"},
    {"POST", "/v1/images/pull", h_images_pull, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY, "images_pull"},
    {"POST", "/v1/images/build", h_images_build, CMS_ROLE_OPERATOR, ROUTE_RAW_BODY, "images_build"},
    {"POST", "/v1/images/prune", h_images_prune, CMS_ROLE_ADMIN, ROUTE_JSON_BODY, "images_prune"},
    {"GET", "/v1/images/{ref*}/history", h_image_history, CMS_ROLE_VIEWER, 0, "image_history"},
    {"GET", "/v1/images/{ref*}/sbom", h_image_sbom, CMS_ROLE_VIEWER, 0, "image_sbom"},
    {"GET", "/v1/images/{ref*}/scan", h_image_scan_get, CMS_ROLE_VIEWER, 0, "image_scan_get"},
    {"POST", "/v1/images/{ref*}/scan", h_image_scan, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY,
     "image_scan"},
    {"POST", "/v1/images/{ref*}/push", h_image_push, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY,
     "image_push"},
    {"POST", "/v1/images/{ref*}/tag", h_image_tag, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY, "image_tag"},
    {"GET", "/v1/images/{ref*}", h_image_inspect, CMS_ROLE_VIEWER, 0, "image_inspect"},
    {"DELETE", "/v1/images/{ref*}", h_image_remove, CMS_ROLE_OPERATOR, 0, "image_remove"},
};

const struct cms_route *cms_router_table(size_t *n)
{
        *n = ELEMENTSOF(routes);
        return routes;
}

/* Splits "/a/b/c" into segments in place of a copy; returns the count or -E2BIG. */
static int split(char *path, char **seg, int max)
{
        int n = 0;
        for (char *save = NULL, *t = strtok_r(path, "/", &save); t;
             t = strtok_r(NULL, "/", &save)) {
                if (n == max)
                        return -E2BIG;
                seg[n++] = t;
        }
        return n;
}

static void params_free(char **params, size_t *n)
{
        for (size_t i = 0; i < *n; i++) {
                free(params[i]);
                params[i] = NULL;
        }
        *n = 0;
}

/* Matches segments; fills params (owned copies). Greedy segments take as many as leave enough
 * for the rest of the pattern. */
static bool match(char **ps, int np, char **us, int nu, char **params, size_t *n_params)
{
        int u = 0;
        for (int p = 0; p < np; p++) {
                const char *pat = ps[p];
                size_t pl = strlen(pat);
                bool var = pat[0] == '{' && pat[pl - 1] == '}';
                bool greedy = var && pl > 2 && pat[pl - 2] == '*';
                if (u >= nu)
                        return false;
                if (!var) {
                        if (strcmp(pat, us[u]))
                                return false;
                        u++;
                        continue;
                }
                int take = 1;
                if (greedy)
                        take = nu - u - (np - p - 1);
                if (take < 1 || *n_params >= CMS_MAX_PARAMS)
                        return false;
                struct cms_buf b;
                cms_buf_init(&b, 0);
                for (int k = 0; k < take; k++) {
                        if (k)
                                cms_buf_append(&b, "/", 1);
                        cms_buf_append(&b, us[u + k], strlen(us[u + k]));
                }
                params[(*n_params)++] = cms_buf_take(&b);
                u += take;
        }
        return u == nu;
}

int cms_router_match(const char *method, const char *path, const struct cms_route **route,
                     char **params, size_t *n_params, char *allow, size_t allow_len)
{
        char ubuf[4096], pbuf[256];
        char *us[64], *ps[16];
        if (strlen(path) >= sizeof(ubuf))
                return -ENOENT;
        strcpy(ubuf, path);
        int nu = split(ubuf, us, (int)ELEMENTSOF(us));
        if (nu < 0)
                return -ENOENT;
        bool path_found = false;
        if (allow_len)
                allow[0] = 0;
        *n_params = 0;
        for (size_t i = 0; i < ELEMENTSOF(routes); i++) {
                snprintf(pbuf, sizeof(pbuf), "%s", routes[i].pattern);
                int np = split(pbuf, ps, (int)ELEMENTSOF(ps));
                if (!match(ps, np, us, nu, params, n_params)) {
                        params_free(params, n_params);
                        continue;
                }
                if (!strcmp(routes[i].method, method) ||
                    (!strcmp(method, "HEAD") && !strcmp(routes[i].method, "GET"))) {
                        *route = &routes[i];
                        return 0;
                }
                params_free(params, n_params);
                if (allow_len && !strstr(allow, routes[i].method)) {
                        size_t l = strlen(allow);
                        snprintf(allow + l, allow_len - l, "%s%s", l ? ", " : "", routes[i].method);
                }
                path_found = true;
        }
        return path_found ? -EOPNOTSUPP : -ENOENT;
}
