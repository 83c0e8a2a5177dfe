/* Bearer-token authentication and role checks. Tokens live in the live config (swapped on
 * SIGHUP), so the name, role and policy name are copied into the request under the config lock;
 * the policy itself is looked up by name at each check, so a reload applies to it at once. */
#include <strings.h>

#include "api.h"

int cms_auth_check(struct cms_request *r)
{
        if (r->route->flags & ROUTE_OPEN)
                return 0;
        if (r->route->flags & ROUTE_METRICS) {
                const struct cms_config *c = cms_manager_config_rdlock(r->m);
                bool open = c->metrics_public;
                cms_manager_config_unlock(r->m);
                if (open)
                        return 0;
        }
        const char *h = cms_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
        if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
                cms_reply_errorf(r, 401, "missing bearer token (Authorization: Bearer <token>)");
                return -EACCES;
        }
        const char *tok = h + 7;
        while (*tok == ' ')
                tok++;
        const struct cms_config *c = cms_manager_config_rdlock(r->m);
        const struct cms_token *t = cms_config_find_token(c, tok);
        if (t) {
                snprintf(r->token_name, sizeof(r->token_name), "%s", t->name);
                snprintf(r->policy, sizeof(r->policy), "%s", cms_token_policy(t));
                r->role = t->role;
        }
        cms_manager_config_unlock(r->m);
        if (!t) {
                cms_reply_errorf(r, 401, "invalid token");
                return -EACCES;
        }
        if (r->role < r->route->role) {
                cms_reply_errorf(r, 403, "role %s may not %s %s (needs %s)", cms_role_name(r->role),
                                 r->method, r->url, cms_role_name(r->route->role));
                return -EPERM;
        }
        return 0;
}
