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
