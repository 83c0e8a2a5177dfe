/* The one const route table and the matcher. A pattern segment "{x}" matches one path segment,
 * "{x*}" matches one or more (image refs with '/' in them), literals match exactly. A path that
 * matches with another method gives 405 with the methods it does allow. */
#include "api.h"

#define OPEN_INLINE(m, p, h, n) {m, p, h, CMS_ROLE_NONE, ROUTE_OPEN | ROUTE_INLINE, n}

static const struct cms_route routes[] = {
        OPEN_INLINE("GET", "/v1/health", h_health, "health"),
        OPEN_INLINE("GET", "/openapi.yaml", h_openapi, "openapi"),
        {"GET", "/v1/auth/whoami", h_whoami, CMS_ROLE_VIEWER, ROUTE_INLINE, "whoami"},
        {"GET", "/v1/system/info", h_system_info, CMS_ROLE_VIEWER, 0, "system_info"},
        {"POST", "/v1/system/prune", h_system_prune, CMS_ROLE_ADMIN, ROUTE_JSON_BODY,
         "system_prune"},
        {"GET", "/v1/containers", h_containers_list, CMS_ROLE_VIEWER, 0, "containers_list"},
        {"POST", "/v1/containers", h_containers_create, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY,
         "containers_create"},
        {"POST", "/v1/deploy", h_deploy, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY, "deploy"},
        {"GET", "/v1/containers/{id}", h_container_inspect, CMS_ROLE_VIEWER, 0,
         "container_inspect"},
        {"DELETE", "/v1/containers/{id}", h_container_remove, CMS_ROLE_OPERATOR, 0,
         "container_remove"},
        {"POST", "/v1/containers/{id}/start", h_container_action, CMS_ROLE_OPERATOR,
         ROUTE_JSON_BODY, "start"},
        {"POST", "/v1/containers/{id}/stop", h_container_action, CMS_ROLE_OPERATOR,
         ROUTE_JSON_BODY, "stop"},
        {"POST", "/v1/containers/{id}/restart", h_container_action, CMS_ROLE_OPERATOR,
         ROUTE_JSON_BODY, "restart"},
        {"POST", "/v1/containers/{id}/pause", h_container_action, CMS_ROLE_OPERATOR,
         ROUTE_JSON_BODY, "pause"},
        {"POST", "/v1/containers/{id}/unpause", h_container_action, CMS_ROLE_OPERATOR,
         ROUTE_JSON_BODY, "unpause"},
        {"POST", "/v1/containers/{id}/kill", h_container_action, CMS_ROLE_OPERATOR,
         ROUTE_JSON_BODY, "kill"},
        {"GET", "/v1/containers/{id}/logs", h_container_logs, CMS_ROLE_VIEWER, 0,
         "container_logs"},
        {"POST", "/v1/containers/{id}/exec", h_container_exec, CMS_ROLE_OPERATOR, ROUTE_JSON_BODY,
         "container_exec"},
        {"GET", "/v1/containers/{id}/health", h_container_health, CMS_ROLE_VIEWER, 0,
         "container_health"},
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
        for (char *save = NULL, *t = strtok_r(path, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
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
                        snprintf(allow + l, allow_len - l, "%s%s", l ? ", " : "",
                                 routes[i].method);
                }
                path_found = true;
        }
        return path_found ? -EOPNOTSUPP : -ENOENT;
}
