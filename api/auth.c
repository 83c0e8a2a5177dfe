/* Bearer-token authentication and role checks. Tokens live in the live config (swapped on
 * SIGHUP), so the name, role and policy name are copied into the request under the config lock;
 * the policy itself is looked up by name at each check, so a reload applies to it at once. */
#include <strings.h>

#include "api.h"

/* With tls.client_ca set, a TLS client without a certificate that CA vouches for is refused on
 * every route, open ones included. fp/peer: what the connection showed. */
static int client_cert_gate(struct cms_request *r, enum cms_peer_cert peer)
{
        const struct cms_config *c = cms_manager_config_rdlock(r->m);
        bool required = c->tls_client_ca && *c->tls_client_ca;
        cms_manager_config_unlock(r->m);
        if (!required || peer == CMS_PEER_NOT_TLS || peer == CMS_PEER_VERIFIED)
                return 0;
        cms_reply_errorf(r, 401,
                         peer == CMS_PEER_NO_CERT
                             ? "a client certificate signed by tls.client_ca is required"
                             : "the client certificate is not signed by tls.client_ca");
        return -EACCES;
}

/* No bearer: a verified certificate that a secret-less token is bound to authenticates. */
static const struct cms_token *by_cert(const struct cms_config *c, enum cms_peer_cert peer,
                                       const unsigned char fp[32])
{
        return peer == CMS_PEER_VERIFIED ? cms_config_find_cert_token(c, fp) : NULL;
}

int cms_auth_check(struct cms_request *r)
{
        unsigned char fp[32] = {0};
        enum cms_peer_cert peer = cms_tls_peer(r->conn, fp);
        if (client_cert_gate(r, peer) < 0)
                return -EACCES;
        r->engines_ok = UINT32_MAX; /* no token: every engine (open routes, public metrics) */
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
        bool bearer = h && strncasecmp(h, "Bearer ", 7) == 0;
        const char *tok = bearer ? h + 7 : NULL;
        while (tok && *tok == ' ')
                tok++;
        const struct cms_config *c = cms_manager_config_rdlock(r->m);
        const struct cms_token *t = bearer ? cms_config_find_token(c, tok) : by_cert(c, peer, fp);
        /* A bearer bound to a certificate counts only over TLS with that certificate. */
        bool wrong_cert = t && bearer && t->cert_bound &&
                          (peer != CMS_PEER_VERIFIED || memcmp(fp, t->cert_sha256, 32) != 0);
        if (t && !wrong_cert) {
                snprintf(r->token_name, sizeof(r->token_name), "%s", t->name);
                snprintf(r->policy, sizeof(r->policy), "%s", cms_token_policy(t));
                r->role = t->role;
                const struct cms_manager *root = r->m->root;
                r->engines_ok = 0;
                for (size_t i = 0; i < root->n_all; i++)
                        if (cms_token_may_use_engine(t, root->all[i]->name))
                                r->engines_ok |= 1u << i;
        }
        cms_manager_config_unlock(r->m);
        if (!bearer && !t) {
                cms_reply_errorf(r, 401, "missing bearer token (Authorization: Bearer <token>)");
                return -EACCES;
        }
        if (!t || wrong_cert) {
                cms_reply_errorf(r, 401, wrong_cert ? "this token needs its client certificate"
                                                    : "invalid token");
                return -EACCES;
        }
        if (r->role < r->route->role) {
                cms_reply_errorf(r, 403, "role %s may not %s %s (needs %s)", cms_role_name(r->role),
                                 r->method, r->url, cms_role_name(r->route->role));
                return -EPERM;
        }
        return 0;
}

int cms_auth_engine(struct cms_request *r)
{
        struct cms_manager *root = r->m->root;
        const char *q = cms_query(r, "engine");
        if (r->route->flags & ROUTE_OPEN)
                return 0;
        if (q && !*q) {
                cms_reply_errorf(r, 400, "engine: empty (name an engine, or * on a list)");
                return -EINVAL;
        }
        if (r->route->flags & ROUTE_GLOBAL) {
                if (!q)
                        return 0;
                cms_reply_errorf(r, 400, "%s %s is not about one engine: drop ?engine=",
                                 r->method, r->route->pattern);
                return -EINVAL;
        }
        if (q && !strcmp(q, "*")) {
                if (!(r->route->flags & ROUTE_FANOUT)) {
                        cms_reply_errorf(r, 400,
                                         "engine=* is for the lists (GET /v1/containers, "
                                         "/v1/images, /v1/networks, /v1/volumes, /v1/projects): "
                                         "name one engine here");
                        return -EINVAL;
                }
                r->fanout = true;
                return 0;
        }
        size_t i = 0;
        while (i < root->n_all && q && strcmp(root->all[i]->name, q))
                i++;
        if (i == root->n_all) {
                cms_reply_errorf(r, 404, "no engine named '%.64s' (GET /v1/engines lists them)", q);
                return -ENOENT;
        }
        if (!(r->engines_ok & (1u << i))) {
                cms_reply_errorf(r, 403, "token %s may not use engine %s%s", r->token_name,
                                 root->all[i]->name,
                                 q ? "" : " (the default): name one of its engines with ?engine=");
                return -EPERM;
        }
        r->m = root->all[i];
        return 0;
}
