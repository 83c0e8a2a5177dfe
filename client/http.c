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

volatile sig_atomic_t ctl_interrupted;

/* Ctrl-C: the transfer in progress ends at its next progress tick (the callback below). */
static int tick(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
        return ctl_interrupted ? 1 : 0;
}

/* Whether path is about one engine (cmsd refuses ?engine= on the others). */
static bool per_engine(const char *path)
{
        static const char *const global[] = {"/v1/engines", "/v1/auth/",  "/v1/audit",
                                             "/v1/vulndb",  "/v1/health", "/openapi.yaml",
                                             "/ui"};
        if (!strncmp(path, "/v1/policy", 10))
                return !strncmp(path, "/v1/policy/check", 16);
        for (size_t i = 0; i < sizeof(global) / sizeof(global[0]); i++)
                if (!strncmp(path, global[i], strlen(global[i])))
                        return false;
        return true;
}

/* A handle aimed at c's cmsd for path, with the token and TLS files set; NULL after saying why
 * (a token that cannot go in a header). --engine adds ?engine= where cmsd takes it. */
static CURL *handle(struct ctl *c, const char *path, struct curl_slist **hdrs)
{
        if (c->token && (strlen(c->token) > 1024 || strpbrk(c->token, "\r\n"))) {
                fprintf(stderr,
                        "cmsctl: the token is longer than 1024 bytes or holds a line end\n");
                return NULL;
        }
        CURL *h = curl_easy_init();
        if (!h)
                return NULL;
        char *url = NULL, *with = NULL;
        int k;
        if (c->engine && per_engine(path)) {
                char *e = curl_easy_escape(h, c->engine, 0);
                k = e ? asprintf(&with, "%s%cengine=%s", path, strchr(path, '?') ? '&' : '?', e)
                      : -1;
                curl_free(e);
                if (k < 0) {
                        curl_easy_cleanup(h);
                        return NULL;
                }
                path = with;
        }
        if (!strncmp(c->url, "unix:", 5)) {
                curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->url + 5);
                k = asprintf(&url, "http://localhost%s", path);
        } else {
                size_t n = strlen(c->url);
                k = asprintf(&url, "%.*s%s", (int)(n && c->url[n - 1] == '/' ? n - 1 : n), c->url,
                             path);
        }
        free(with);
        if (k < 0) {
                curl_easy_cleanup(h);
                return NULL;
        }
        curl_easy_setopt(h, CURLOPT_URL, url);
        free(url); /* libcurl keeps its own copy */
        /* only cmsd's schemes: never file://, ftp:// or a redirect elsewhere */
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, tick);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
        if (c->cacert)
                curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
        if (c->cert)
                curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert);
        if (c->key)
                curl_easy_setopt(h, CURLOPT_SSLKEY, c->key);
        if (c->token && *c->token) {
                char auth[1100];
                snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
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
                fprintf(stderr, "cmsctl: %s (%s)\n", ctl_safe(msg),
                        *code ? ctl_safe(code) : "error");
        else
                fprintf(stderr, "cmsctl: HTTP %ld from cmsd\n", status);
        json_object_put(doc);
        return code_of(status);
}

static int transport(struct ctl *c, CURLcode rc)
{
        if (rc == CURLE_ABORTED_BY_CALLBACK && ctl_interrupted)
                return CTL_INTERRUPTED;
        fprintf(stderr, "cmsctl: cannot reach cmsd at %s: %s\n", ctl_safe(c->url),
                curl_easy_strerror(rc));
        return CTL_UNAVAILABLE;
}

/* A 2xx reply must be cmsd's envelope; anything else (a proxy's page, another server) is an
 * error, never an empty success. */
static int envelope(struct ctl *c, long status, const struct reply *r, json_object **data)
{
        json_object *doc = r->data ? json_tokener_parse(r->data) : NULL, *ok = NULL, *d = NULL;
        bool good = json_object_is_type(doc, json_type_object) &&
                    json_object_object_get_ex(doc, "success", &ok) && json_object_get_boolean(ok);
        if (!good)
                fprintf(stderr, "cmsctl: %s did not answer as cmsd (HTTP %ld, not its envelope)\n",
                        ctl_safe(c->url), status);
        else if (data && json_object_object_get_ex(doc, "data", &d))
                *data = json_object_get(d);
        /* engine=* lists: an engine that failed is named, the others' items still come. */
        json_object *w = NULL;
        if (good && json_object_object_get_ex(doc, "warnings", &w))
                for (size_t i = 0;
                     json_object_is_type(w, json_type_array) && i < json_object_array_length(w);
                     i++) {
                        json_object *it = json_object_array_get_idx(w, i);
                        fprintf(stderr, "cmsctl: warning: engine %s: %s\n",
                                ctl_safe(ctl_str(it, "engine")), ctl_safe(ctl_str(it, "message")));
                }
        json_object_put(doc);
        return good ? CTL_OK : CTL_ERR;
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
        } else {
                ret = envelope(c, status, &r, data);
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

struct upload {
        const struct ctl_req *q;
        bool failed;
};

static size_t pull_body(char *buf, size_t size, size_t n, void *ud)
{
        struct upload *u = ud;
        size_t k = u->q->read(buf, size * n, u->q->read_ud);
        if (k == (size_t)-1) {
                u->failed = true;
                return CURL_READFUNC_ABORT;
        }
        return k;
}

int ctl_stream_req(struct ctl *c, const struct ctl_req *q, int (*out)(const char *, size_t, void *),
                   void *ud)
{
        struct curl_slist *hdrs = NULL;
        struct stream s = {.out = out, .ud = ud};
        struct upload up = {.q = q};
        CURL *h = handle(c, q->path, &hdrs);
        if (!h)
                return CTL_ERR;
        s.h = h;
        const char *method = q->method ? q->method : "GET";
        hdrs = curl_slist_append(hdrs, "Accept: application/x-ndjson");
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        if (q->read || q->body || strcmp(method, "GET")) {
                char ct[160];
                snprintf(ct, sizeof(ct), "Content-Type: %s",
                         q->content_type ? q->content_type : "application/json");
                hdrs = curl_slist_append(hdrs, ct);
        }
        if (q->read) { /* a body of unknown length: chunked */
                hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
                curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(h, CURLOPT_READFUNCTION, pull_body);
                curl_easy_setopt(h, CURLOPT_READDATA, &up);
        } else if (q->body || strcmp(method, "GET")) {
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                                 (curl_off_t)(q->body ? q->body_len : 2));
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, q->body ? q->body : "{}");
        }
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, pass);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
        CURLcode rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &s.status);
        curl_easy_cleanup(h);
        curl_slist_free_all(hdrs);
        int ret = CTL_OK;
        if (up.failed)
                ret = CTL_ERR; /* the reader said why */
        else if (s.status && (s.status < 200 || s.status > 299))
                ret = report(s.status, &s.err);
        else if (rc != CURLE_OK && rc != CURLE_WRITE_ERROR)
                ret = transport(c, rc);
        free(s.err.data);
        return ret;
}

#define MAX_LINE (16u * 1024 * 1024)

struct lines {
        int (*line)(json_object *, void *);
        void *ud;
        char *buf;
        size_t len, scanned; /* bytes held; how many of them hold no line end */
        int rc;              /* from an error event, or a line too long */
};

/* An error event ({"type":"error","error":{code,message,status}}) is printed and remembered. */
static int one_line(struct lines *l, const char *text)
{
        json_object *o = json_tokener_parse(text), *e = NULL;
        int r = 0;
        if (!o)
                return 0; /* not JSON (a keep-alive blank line): skipped */
        if (!strcmp(ctl_str(o, "type"), "error") && json_object_object_get_ex(o, "error", &e)) {
                json_object *st = NULL;
                const char *msg = ctl_str(e, "message"), *code = ctl_str(e, "code");
                json_object_object_get_ex(e, "status", &st);
                fprintf(stderr, "cmsctl: %s (%s)\n", *msg ? ctl_safe(msg) : "the server failed",
                        *code ? ctl_safe(code) : "error");
                l->rc = code_of(st ? json_object_get_int(st) : 500);
        } else {
                r = l->line(o, l->ud);
        }
        json_object_put(o);
        return r;
}

static int split(const char *data, size_t n, void *ud)
{
        struct lines *l = ud;
        if (l->len + n > MAX_LINE) {
                fprintf(stderr, "cmsctl: a line of the stream is longer than %u bytes\n", MAX_LINE);
                l->rc = CTL_ERR;
                return 1;
        }
        char *b = realloc(l->buf, l->len + n + 1);
        if (!b)
                return 1;
        l->buf = b;
        memcpy(b + l->len, data, n);
        l->len += n;
        b[l->len] = 0;
        char *nl;
        while ((nl = memchr(l->buf + l->scanned, '\n', l->len - l->scanned))) {
                *nl = 0;
                int r = one_line(l, l->buf);
                l->len -= (size_t)(nl + 1 - l->buf);
                memmove(l->buf, nl + 1, l->len + 1);
                l->scanned = 0;
                if (r)
                        return r;
        }
        l->scanned = l->len;
        return 0;
}

int ctl_ndjson(struct ctl *c, const struct ctl_req *q, int (*line)(json_object *, void *), void *ud)
{
        struct lines l = {.line = line, .ud = ud};
        int r = ctl_stream_req(c, q, split, &l);
        if (r == CTL_OK && l.len && !l.rc)
                one_line(&l, l.buf);
        free(l.buf);
        return r != CTL_OK ? r : l.rc;
}
