/* GET /ui/...: the web dashboard's static files, compiled in at build time (ui_assets.h). Open
 * routes, for the files only: everything the page shows comes from API calls that carry the
 * user's token. Each file is served as it is or precompressed (gzip) as Accept-Encoding allows,
 * with a strong ETag per representation (304 on If-None-Match), Cache-Control: no-cache (a new
 * cmsd serves its own files at once; a revalidation costs a 304) and a Content-Security-Policy
 * that allows only this origin, with no inline script or style and no eval. */
#include <strings.h>

#include "api.h"
#include "api/ui_assets.h"

static const char *const csp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'none'";

static const struct cms_ui_asset *find(const char *path)
{
        for (size_t i = 0; i < cms_ui_n_assets; i++)
                if (!strcmp(cms_ui_assets[i].path, path))
                        return &cms_ui_assets[i];
        return NULL;
}

/* True when the Accept-Encoding list names gzip (or "*") with a q above zero. */
static bool accepts_gzip(const char *ae)
{
        bool star = false;
        while (ae && *ae) {
                while (*ae == ' ' || *ae == ',')
                        ae++;
                size_t n = strcspn(ae, ",;");
                bool gz = (n == 4 && !strncasecmp(ae, "gzip", 4)) ||
                          (n == 6 && !strncasecmp(ae, "x-gzip", 6));
                bool any = n == 1 && *ae == '*';
                const char *end = ae + strcspn(ae, ",");
                const char *q = strstr(ae, "q=");
                bool zero = false;
                if (q && q < end) {
                        double v = strtod(q + 2, NULL);
                        zero = v <= 0.0;
                }
                if (gz)
                        return !zero;
                star = star || (any && !zero);
                ae = end;
        }
        return star;
}

/* If-None-Match: a list of quoted tags, weak ones (W/) compared by their tag. */
static bool etag_matches(const char *inm, const char *etag)
{
        if (!inm)
                return false;
        if (!strcmp(inm, "*"))
                return true;
        size_t el = strlen(etag);
        for (const char *p = strstr(inm, etag); p; p = strstr(p + 1, etag)) {
                char after = p[el];
                if (after == 0 || after == ',' || after == ' ')
                        return true;
        }
        return false;
}

static void ui_headers(struct cms_request *r, struct MHD_Response *resp,
                       const struct cms_ui_asset *a, const char *etag, bool gz)
{
        MHD_add_response_header(resp, "Content-Type", a->ctype);
        MHD_add_response_header(resp, "ETag", etag);
        MHD_add_response_header(resp, "Vary", "Accept-Encoding");
        if (gz)
                MHD_add_response_header(resp, "Content-Encoding", "gzip");
        MHD_add_response_header(resp, "Content-Security-Policy", csp);
        MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
        MHD_add_response_header(resp, "X-Frame-Options", "DENY");
        MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
        MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
        cms_reply_decorate(r, resp);
        /* The API's replies are no-store; the dashboard's files may be kept and revalidated. */
        MHD_del_response_header(resp, "Cache-Control", "no-store");
        MHD_add_response_header(resp, "Cache-Control", "no-cache");
}

/* "/ui" has no slash: the page's relative URLs would resolve against "/", so send it to "/ui/". */
static void redirect(struct cms_request *r)
{
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
        if (!resp) {
                cms_reply_errorf(r, 500, "out of memory");
                return;
        }
        MHD_add_response_header(resp, "Location", "/ui/");
        cms_reply_decorate(r, resp);
        cms_reply_queue(r, 308, resp);
}

void h_ui(struct cms_request *r)
{
        if (!strcmp(r->url, "/ui")) {
                redirect(r);
                return;
        }
        const char *path = r->n_params ? r->params[0] : "index.html";
        const struct cms_ui_asset *a = find(path);
        if (!a) {
                cms_reply_errorf(r, 404, "no dashboard file %s", r->url);
                return;
        }
        bool gz = a->gz_len < a->len && accepts_gzip(cms_header(r, "Accept-Encoding"));
        /* One strong tag per representation: the compressed bytes are not the plain ones. */
        char etag[40];
        size_t el = strlen(a->etag);
        snprintf(etag, sizeof(etag), "%.*s%s", (int)(el - 1), a->etag, gz ? "-gz\"" : "\"");
        bool fresh = etag_matches(cms_header(r, "If-None-Match"), etag);
        struct MHD_Response *resp =
            fresh ? MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT)
                  : MHD_create_response_from_buffer(gz ? a->gz_len : a->len,
                                                    (void *)(gz ? a->gz : a->data),
                                                    MHD_RESPMEM_PERSISTENT);
        if (!resp) {
                cms_reply_errorf(r, 500, "out of memory");
                return;
        }
        ui_headers(r, resp, a, etag, gz);
        cms_reply_queue(r, fresh ? 304 : 200, resp);
}
