/* The client certificate of a TLS connection: libmicrohttpd loaded tls.client_ca as GnuTLS's
 * trust list and asked the client for a certificate; here it is verified against that list and
 * named by the SHA-256 of its DER form (what a certificate-bound token names). */
#include <gnutls/gnutls.h>

#include "api.h"

enum cms_peer_cert cms_tls_peer(struct MHD_Connection *conn, unsigned char sha256[32])
{
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        gnutls_session_t s = ci ? (gnutls_session_t)ci->tls_session : NULL;
        if (!s)
                return CMS_PEER_NOT_TLS;
        unsigned n = 0;
        const gnutls_datum_t *certs = gnutls_certificate_get_peers(s, &n);
        if (!certs || n == 0)
                return CMS_PEER_NO_CERT;
        unsigned status = 0;
        if (gnutls_certificate_verify_peers2(s, &status) < 0 || status != 0)
                return CMS_PEER_UNTRUSTED;
        cms_sha256(certs[0].data, certs[0].size, sha256);
        return CMS_PEER_VERIFIED;
}
