/* cmsctl's HTTP side: one libcurl easy handle per call, to a unix socket ("unix:/path") or an
 * http(s) URL; the bearer token in a header (never on a command line); the envelope read and
 * its error printed as "cmsctl: <message> (<code>)" with an exit code by kind. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmsctl.h"

#define MAX_REPLY (64u * 1024 * 1024)

struct reply {
        char *data;
        size_t len;
        bool too_big;
};

static size_t gather(char *p, size_t size, size_t n, void *ud)
{
        struct reply *r = ud;
        size_t k = size * n;
        if (r->len + k > MAX_REPLY) {
                r->too_big = true;
                return 0;
        }
        char *d = realloc(r->data, r->len + k + 1);
        if (!d)
                return 0;
        memcpy(d + r->len, p, k);
        r->data = d;
        r->len += k;
        d[r->len] = 0;
        return k;
}

char *ctl_escape(const char *s)
{
        char *e = curl_easy_escape(NULL, s, 0), *out = e ? strdup(e) : NULL;
        curl_free(e);
        return out;
}

/* A handle aimed at c's cmsd for path, with the token and TLS files set. */
static CURL *handle(struct ctl *c, const char *path, struct curl_slist **hdrs)
{
        CURL *h = curl_easy_init();
        if (!h)
                return NULL;
        char url[4096];
        if (!strncmp(c->url, "unix:", 5)) {
                curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->url + 5);
                snprintf(url, sizeof(url), "http://localhost%s", path);
        } else {
                size_t n = strlen(c->url);
                snprintf(url, sizeof(url), "%.*s%s", (int)(n && c->url[n - 1] == '/' ? n - 1 : n),
                         c->url, path);
        }
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
        if (c->cacert)
                curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
        if (c->cert)
                curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert);
        if (c->key)
                curl_easy_setopt(h, CURLOPT_SSLKEY, c->key);
        if (c->token && *c->token) {
                char auth[1100];
                snprintf(auth, sizeof(auth), "Authorization: Bearer %.1024s", c->token);
                *hdrs = curl_slist_append(*hdrs, auth);
        }
        return h;
}

static int code_of(long status)
{
        if (status == 404)
                return CTL_NOT_FOUND;
        if (status == 401 || status == 403)
                return CTL_DENIED;
        if (status >= 502 && status <= 504)
                return CTL_UNAVAILABLE;
        return CTL_ERR;
}

/* Prints the error of a non-2xx reply (the envelope's, or the status alone). */
static int report(long status, const struct reply *r)
{
        json_object *doc = r->data ? json_tokener_parse(r->data) : NULL;
        json_object *e = NULL;
        if (doc)
                json_object_object_get_ex(doc, "error", &e);
        const char *msg = ctl_str(e, "message"), *code = ctl_str(e, "code");
        if (*msg)
                fprintf(stderr, "cmsctl: %s (%s)\n", msg, *code ? code : "error");
        else
                fprintf(stderr, "cmsctl: HTTP %ld from cmsd\n", status);
        json_object_put(doc);
        return code_of(status);
}

static int transport(struct ctl *c, CURLcode rc)
{
        fprintf(stderr, "cmsctl: cannot reach cmsd at %s: %s\n", c->url, curl_easy_strerror(rc));
        return CTL_UNAVAILABLE;
}

int ctl_call(struct ctl *c, const char *method, const char *path, json_object *body,
             json_object **data)
{
        struct curl_slist *hdrs = NULL;
        struct reply r = {0};
        long status = 0;
        if (data)
                *data = NULL;
        CURL *h = handle(c, path, &hdrs);
        if (!h)
                return CTL_ERR;
        const char *js = body ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN) : NULL;
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        if (js || strcmp(method, "GET")) {
                hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, js ? js : "{}");
        }
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, gather);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
        CURLcode rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(h);
        curl_slist_free_all(hdrs);
        int ret = CTL_OK;
        if (r.too_big) {
                fprintf(stderr, "cmsctl: the reply is larger than %u bytes\n", MAX_REPLY);
                ret = CTL_ERR;
        } else if (rc != CURLE_OK) {
                ret = transport(c, rc);
        } else if (status < 200 || status > 299) {
                ret = report(status, &r);
        } else if (data && r.data) {
                json_object *doc = json_tokener_parse(r.data), *d = NULL;
                if (doc && json_object_object_get_ex(doc, "data", &d))
                        *data = json_object_get(d);
                json_object_put(doc);
        }
        free(r.data);
        return ret;
}

struct stream {
        int (*out)(const char *, size_t, void *);
        void *ud;
        long status;
        CURL *h;
        struct reply err; /* a non-2xx body, gathered for the message */
};

static size_t pass(char *p, size_t size, size_t n, void *ud)
{
        struct stream *s = ud;
        if (!s->status)
                curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &s->status);
        if (s->status < 200 || s->status > 299)
                return gather(p, size, n, &s->err);
        return s->out(p, size * n, s->ud) == 0 ? size * n : 0;
}

int ctl_stream(struct ctl *c, const char *path, int (*out)(const char *, size_t, void *), void *ud)
{
        struct curl_slist *hdrs = NULL;
        struct stream s = {.out = out, .ud = ud};
        CURL *h = handle(c, path, &hdrs);
        if (!h)
                return CTL_ERR;
        s.h = h;
        hdrs = curl_slist_append(hdrs, "Accept: application/x-ndjson");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, pass);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
        CURLcode rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &s.status);
        curl_easy_cleanup(h);
        curl_slist_free_all(hdrs);
        int ret = CTL_OK;
        if (s.status && (s.status < 200 || s.status > 299))
                ret = report(s.status, &s.err);
        else if (rc != CURLE_OK && rc != CURLE_WRITE_ERROR)
                ret = transport(c, rc);
        free(s.err.data);
        return ret;
}
