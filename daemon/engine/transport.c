/* libcurl transport: a small pool of handles (each an easy handle driven by its own multi
 * handle, whose connection cache survives between calls, so keep-alive connections to the
 * engine are reused), a timeout on every call, a hard cap on gathered replies, and a driving loop
 * that wakes at least every 200 ms so a stream can be stopped even when no bytes flow.
 *
 * A stream's bytes cannot tell a quiet engine from a hung one (an events stream is quiet most of
 * the time). So when a stream has had nothing for the default call timeout and no other call has
 * heard from the engine meanwhile, the driving loop sends GET /_ping beside it, on the same multi
 * handle, with that timeout: an answer keeps the stream open, no answer ends it with 504 (a
 * refused or reset connection: 503), so a hung engine ends every stream within two timeouts. */
#include "internal.h"

#include <curl/curl.h>
#include <strings.h>

#define STOP_POLL_MS 200

struct cms_eng_handle {
        CURL *easy;
        CURLM *multi;
};

struct xfer {
        CURL *easy;
        struct cms_buf *body;
        cms_engine_data_cb on_data;
        void *userdata;
        struct cms_eng_result *res;
        bool status_known, pass_through, too_big, oom, cb_stopped;
        bool headers_in;    /* the status line came (on_header) */
        bool no_headers;    /* a stream gave up waiting for it */
        int64_t last_rx_ms; /* when a header line or body bytes last came */
        CURLcode ping_rc;   /* the failed liveness /_ping's verdict (drive() returned -EPIPE) */
        char ping_err[CURL_ERROR_SIZE];
};

/* The liveness /_ping of a quiet stream, run beside it on the stream's multi handle. */
struct ping {
        CURL *easy;
        char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
        curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void handle_destroy(struct cms_eng_handle *h)
{
        if (!h)
                return;
        if (h->easy)
                curl_easy_cleanup(h->easy);
        if (h->multi)
                curl_multi_cleanup(h->multi);
        free(h);
}

int cms_eng_global_init(void)
{
        pthread_once(&curl_once, curl_init);
        return curl_init_rc == CURLE_OK ? 0 : -EIO;
}

static struct cms_eng_handle *handle_get(struct cms_engine *e)
{
        if (cms_eng_global_init() < 0)
                return NULL;
        struct cms_eng_handle *h = NULL;
        pthread_mutex_lock(&e->lock);
        if (e->npool)
                h = e->pool[--e->npool];
        pthread_mutex_unlock(&e->lock);
        if (h)
                return h;
        h = calloc(1, sizeof(*h));
        if (!h)
                return NULL;
        h->easy = curl_easy_init();
        h->multi = curl_multi_init();
        if (!h->easy || !h->multi) {
                handle_destroy(h);
                return NULL;
        }
        curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, 2L);
        return h;
}

/* curl_easy_reset keeps the live connections (they belong to the multi handle anyway). */
static void handle_put(struct cms_engine *e, struct cms_eng_handle *h)
{
        curl_easy_reset(h->easy);
        pthread_mutex_lock(&e->lock);
        if (e->npool < CMS_ENG_POOL_MAX) {
                e->pool[e->npool++] = h;
                h = NULL;
        }
        pthread_mutex_unlock(&e->lock);
        handle_destroy(h);
}

void cms_eng_pool_free(struct cms_engine *e)
{
        for (size_t i = 0; i < e->npool; i++)
                handle_destroy(e->pool[i]);
        e->npool = 0;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
        struct xfer *x = ud;
        size_t n = size * nmemb;
        x->last_rx_ms = cms_now_ms();
        if (!x->status_known) {
                long code = 0;
                curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
                x->pass_through = x->on_data && code >= 200 && code < 300;
                x->status_known = true;
        }
        if (x->pass_through) {
                if (n && x->on_data(ptr, n, x->userdata) != 0) {
                        x->cb_stopped = true;
                        return 0;
                }
                return n;
        }
        int r = cms_buf_append(x->body, ptr, n);
        if (r == -E2BIG)
                x->too_big = true;
        else if (r < 0)
                x->oom = true;
        return r < 0 ? 0 : n;
}

/* Copies a header's value when the line is "name: value". */
static bool header_value(const char *line, size_t n, const char *name, char *out, size_t outlen)
{
        size_t nl = strlen(name);
        if (n <= nl || strncasecmp(line, name, nl) || line[nl] != ':')
                return false;
        const char *v = line + nl + 1;
        const char *end = line + n;
        while (v < end && (*v == ' ' || *v == '\t'))
                v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
                end--;
        size_t len = (size_t)(end - v) < outlen - 1 ? (size_t)(end - v) : outlen - 1;
        memcpy(out, v, len);
        out[len] = 0;
        return true;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *ud)
{
        struct xfer *x = ud;
        size_t n = size * nmemb;
        char tmp[64];
        x->headers_in = true;
        x->last_rx_ms = cms_now_ms();
        if (header_value(line, n, "Libpod-Api-Version", tmp, sizeof(tmp)))
                x->res->libpod = true;
        header_value(line, n, "Api-Version", x->res->api_hdr, sizeof(x->res->api_hdr));
        return n;
}

static int set_method(CURL *h, const struct cms_engine_req *req, struct curl_slist **hdrs)
{
        const char *m = req->method ? req->method : "GET";
        bool has_body = req->body && req->body_len;
        if (!strcmp(m, "GET") && !has_body) {
                curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
                return 0;
        }
        if (!strcmp(m, "HEAD")) {
                curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
                return 0;
        }
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
        if (!has_body && strcmp(m, "POST") && strcmp(m, "PUT"))
                return 0;
        /* POST/PUT always carry a length (0 when empty) so the engine never waits for a body. */
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, has_body ? req->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(has_body ? req->body_len : 0));
        _cleanup_free_ char *ct = cms_strdup_printf(
            "Content-Type:%s%s", has_body ? " " : "",
            has_body ? (req->content_type ? req->content_type : "application/json") : "");
        struct curl_slist *n = ct ? curl_slist_append(*hdrs, ct) : NULL;
        if (!n)
                return -ENOMEM;
        *hdrs = n;
        return 0;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
        struct cms_eng_upload *u = ud;
        ssize_t n = u->read(buf, size * nitems, u->ud);
        if (n < 0) {
                u->aborted = true;
                return CURL_READFUNC_ABORT;
        }
        return (size_t)n;
}

/* A POST whose body comes from the read callback, sent chunked as it is produced. */
static int set_upload(CURL *h, const struct cms_engine_req *req, struct cms_eng_upload *up,
                      struct curl_slist **hdrs)
{
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, up);
        _cleanup_free_ char *ct = cms_strdup_printf(
            "Content-Type: %s", req->content_type ? req->content_type : "application/octet-stream");
        struct curl_slist *n = ct ? curl_slist_append(*hdrs, ct) : NULL;
        if (n)
                *hdrs = n;
        n = n ? curl_slist_append(*hdrs, "Transfer-Encoding: chunked") : NULL;
        if (!n)
                return -ENOMEM;
        *hdrs = n;
        return 0;
}

void cms_eng_conn_opts(struct cms_engine *e, CURL *h)
{
        if (e->socket_path)
                curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, e->socket_path);
        if (!e->tls_ca)
                return;
        curl_easy_setopt(h, CURLOPT_CAINFO, e->tls_ca);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
        if (e->tls_cert) {
                curl_easy_setopt(h, CURLOPT_SSLCERT, e->tls_cert);
                curl_easy_setopt(h, CURLOPT_SSLKEY, e->tls_key);
        }
}

static int setup(struct cms_engine *e, CURL *h, const struct cms_engine_req *req, const char *path,
                 struct xfer *x, struct cms_eng_upload *up, struct curl_slist **hdrs, char *errbuf)
{
        _cleanup_free_ char *url = cms_strdup_printf("%s%s", e->base, path);
        if (!url)
                return -ENOMEM;
        long timeout = cms_eng_timeout(e, req);
        long connect = CMS_ENG_CONNECT_TIMEOUT_MS;
        if (timeout > 0 && timeout < connect)
                connect = timeout;
        curl_easy_setopt(h, CURLOPT_URL, url); /* curl copies it */
        cms_eng_conn_opts(e, h);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout > 0 ? timeout : 0L);
        curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(h, CURLOPT_USERAGENT, "cmsd/" CMS_VERSION);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
        *hdrs = curl_slist_append(NULL, "Expect:");
        if (!*hdrs || (up ? set_upload(h, req, up, hdrs) : set_method(h, req, hdrs)) < 0)
                return -ENOMEM;
        for (const char *const *hl = req->headers; hl && *hl; hl++) {
                struct curl_slist *n = curl_slist_append(*hdrs, *hl);
                if (!n)
                        return -ENOMEM;
                *hdrs = n;
        }
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
        return 0;
}

static size_t ping_discard(char *ptr, size_t size, size_t nmemb, void *ud)
{
        (void)ptr;
        (void)ud;
        return size * nmemb;
}

/* Starts the liveness /_ping on the stream's multi handle; false when it could not start (the
 * stream then goes on as before and tries again after the next quiet period). It reaches the
 * engine as setup() does: a connection option added there (TLS...) belongs here too. */
static bool ping_start(struct cms_engine *e, struct cms_eng_handle *h, struct ping *p, long ms)
{
        _cleanup_free_ char *url = cms_strdup_printf("%s/_ping", e->base);
        p->easy = url ? curl_easy_init() : NULL;
        if (!p->easy)
                return false;
        p->errbuf[0] = 0;
        curl_easy_setopt(p->easy, CURLOPT_URL, url);
        cms_eng_conn_opts(e, p->easy);
        curl_easy_setopt(p->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(p->easy, CURLOPT_ERRORBUFFER, p->errbuf);
        curl_easy_setopt(p->easy, CURLOPT_CONNECTTIMEOUT_MS,
                         ms < CMS_ENG_CONNECT_TIMEOUT_MS ? ms : CMS_ENG_CONNECT_TIMEOUT_MS);
        curl_easy_setopt(p->easy, CURLOPT_TIMEOUT_MS, ms);
        curl_easy_setopt(p->easy, CURLOPT_USERAGENT, "cmsd/" CMS_VERSION);
        curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, ping_discard);
        /* Closed after the answer: a quiet stream must not hold a second idle connection. */
        curl_easy_setopt(p->easy, CURLOPT_FORBID_REUSE, 1L);
        if (curl_multi_add_handle(h->multi, p->easy) != CURLM_OK) {
                curl_easy_cleanup(p->easy);
                p->easy = NULL;
                return false;
        }
        return true;
}

static void ping_stop(struct cms_eng_handle *h, struct ping *p)
{
        if (!p->easy)
                return;
        curl_multi_remove_handle(h->multi, p->easy);
        curl_easy_cleanup(p->easy);
        p->easy = NULL;
}

/* The ping finished with rc: true when the engine answered (any HTTP status). */
static bool ping_done(struct cms_engine *e, struct cms_eng_handle *h, struct ping *p, CURLcode rc,
                      struct xfer *x)
{
        long code = 0;
        curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &code);
        bool alive = rc == CURLE_OK && code > 0;
        if (alive) {
                atomic_store(&e->alive_ms, cms_now_ms());
        } else {
                x->ping_rc = rc;
                snprintf(x->ping_err, sizeof(x->ping_err), "%s",
                         *p->errbuf ? p->errbuf : curl_easy_strerror(rc));
        }
        ping_stop(h, p);
        return alive;
}

/* A watched stream is quiet: nothing on it and no call's reply for quiet_ms. */
static bool quiet_for(struct cms_engine *e, const struct xfer *x, long quiet_ms, int64_t now)
{
        int64_t heard = atomic_load(&e->alive_ms);
        if (x->last_rx_ms > heard)
                heard = x->last_rx_ms;
        return now - heard >= quiet_ms;
}

/* Runs the transfer (curl's verdict in *rc); -1 when should_stop ended it early, which is
 * asked at once and then every STOP_POLL_MS however quiet the connection is. A stream has no
 * total timeout, but its reply header must come within head_ms (> 0): an engine that accepts
 * and never answers would otherwise hold the stream, its thread and its connection for ever.
 * quiet_ms > 0: the stream is watched (see the top of this file); -EPIPE when the engine did
 * not answer the liveness /_ping (its verdict in x). */
static int drive(struct cms_engine *e, struct cms_eng_handle *h, struct xfer *x, long head_ms,
                 long quiet_ms, cms_engine_stop_cb should_stop, void *ud, CURLcode *rc)
{
        *rc = CURLE_OK;
        if (curl_multi_add_handle(h->multi, h->easy) != CURLM_OK)
                return -ENOMEM;
        int ret = 0, running = 1;
        int64_t next_check = cms_now_ms();
        int64_t head_deadline = head_ms > 0 ? next_check + head_ms : 0;
        x->last_rx_ms = next_check;
        struct ping p = {0};
        bool done = false;
        while (!done && ret == 0) {
                if (curl_multi_perform(h->multi, &running) != CURLM_OK) {
                        ret = -EIO;
                        break;
                }
                int q;
                for (CURLMsg *m; (m = curl_multi_info_read(h->multi, &q));) {
                        if (m->msg == CURLMSG_DONE && m->easy_handle == h->easy) {
                                *rc = m->data.result;
                                done = true;
                        } else if (m->msg == CURLMSG_DONE && p.easy && m->easy_handle == p.easy &&
                                   !ping_done(e, h, &p, m->data.result, x)) {
                                ret = -EPIPE;
                        }
                }
                if (done || ret < 0 || !running)
                        break;
                if (quiet_ms > 0 && !p.easy && quiet_for(e, x, quiet_ms, cms_now_ms()))
                        ping_start(e, h, &p, quiet_ms);
                if (head_deadline && !x->headers_in && cms_now_ms() >= head_deadline) {
                        x->no_headers = true;
                        ret = -ETIMEDOUT;
                        break;
                }
                if (should_stop && cms_now_ms() >= next_check) {
                        if (should_stop(ud)) {
                                ret = -1;
                                break;
                        }
                        next_check = cms_now_ms() + STOP_POLL_MS;
                }
                if (curl_multi_poll(h->multi, NULL, 0, STOP_POLL_MS, NULL) != CURLM_OK) {
                        ret = -EIO;
                        break;
                }
        }
        ping_stop(h, &p);
        curl_multi_remove_handle(h->multi, h->easy);
        return ret;
}

/* The liveness /_ping got no answer: 504 when it timed out (a hung engine), else the engine is
 * gone (503, marked down). */
static int map_ping(struct cms_engine *e, const struct xfer *x, long quiet_ms,
                    struct cms_error *err)
{
        if (x->ping_rc == CURLE_OPERATION_TIMEDOUT)
                return cms_err(err, 504,
                               "engine stopped answering: nothing on this stream for %ld ms and "
                               "/_ping got no answer within %ld ms",
                               quiet_ms, quiet_ms);
        cms_eng_set_up(e, false);
        return cms_eng_unavailable(err, "engine unavailable at %s: /_ping failed: %s", e->url,
                                   x->ping_err);
}

static int map_curl(struct cms_engine *e, CURL *h, CURLcode rc, long timeout, const char *errbuf,
                    struct cms_error *err)
{
        const char *why = *errbuf ? errbuf : curl_easy_strerror(rc);
        long oserr = 0;
        char ebuf[128];
        /* curl's text names "localhost port 80" for a unix socket; the errno is clearer. */
        if (rc == CURLE_COULDNT_CONNECT &&
            curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr) == CURLE_OK && oserr > 0)
                why = strerror_r((int)oserr, ebuf, sizeof(ebuf));
        curl_off_t connected_us = 0, pre_us = 0;
        long sent = 0;
        switch (rc) {
        case CURLE_OPERATION_TIMEDOUT:
                /* A reused connection reports no connect time, but it did get as far as
                 * sending the request: that engine is slow, not gone. */
                curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connected_us);
                curl_easy_getinfo(h, CURLINFO_PRETRANSFER_TIME_T, &pre_us);
                curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &sent);
                if (connected_us > 0 || pre_us > 0 || sent > 0) {
                        cms_eng_set_up(e, true);
                        return cms_err(err, 504, "engine did not answer within %ld ms", timeout);
                }
                break;
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_GOT_NOTHING:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_PARTIAL_FILE:
                break;
        case CURLE_URL_MALFORMAT:
                /* A caller's bug (a path that is not URL-encoded), not the engine's. */
                return cms_err(err, 500, "engine request path is not a valid URL: %s", why);
        default:
                return cms_err(err, 502, "engine transfer failed: %s", why);
        }
        cms_eng_set_up(e, false);
        return cms_eng_unavailable(err, "engine unavailable at %s: %s", e->url, why);
}

int cms_eng_transfer(struct cms_engine *e, const struct cms_engine_req *req, const char *path,
                     struct cms_buf *body, cms_engine_data_cb on_data,
                     cms_engine_stop_cb should_stop, void *userdata, struct cms_eng_result *res,
                     struct cms_eng_upload *up, struct cms_error *err)
{
        struct cms_eng_handle *h = handle_get(e);
        if (!h)
                return cms_err(err, 500, "cannot initialise libcurl");
        struct xfer x = {
            .easy = h->easy, .body = body, .on_data = on_data, .userdata = userdata, .res = res};
        struct curl_slist *hdrs = NULL;
        char errbuf[CURL_ERROR_SIZE] = "";
        CURLcode rc = CURLE_OK;
        int r = setup(e, h->easy, req, path, &x, up, &hdrs, errbuf);
        /* A stream (no total timeout): its reply header within the default call timeout. A
         * stream that may outlast that timeout is watched for an engine that hangs. */
        long def_ms = atomic_load(&e->timeout_ms), total_ms = cms_eng_timeout(e, req);
        long head_ms = total_ms < 0 ? def_ms : 0;
        long quiet_ms = on_data && def_ms > 0 && (total_ms < 0 || total_ms > def_ms) ? def_ms : 0;
        if (r == 0)
                r = drive(e, h, &x, head_ms, quiet_ms, should_stop, userdata, &rc);
        curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &res->status);
        if (r == -ENOMEM)
                r = cms_err(err, 500, "out of memory");
        else if (r == -EIO)
                r = cms_err(err, 500, "libcurl multi interface failed");
        else if (r == -ETIMEDOUT)
                r = cms_err(err, 504, "engine sent no reply header within %ld ms", head_ms);
        else if (r == -EPIPE)
                r = map_ping(e, &x, quiet_ms, err);
        else if (r == -1 || x.cb_stopped)
                r = 0; /* the caller ended it */
        else if (up && up->aborted)
                r = cms_err(err, 400, "request body aborted");
        else if (x.too_big)
                r = cms_err(err, 502, "engine reply too large (over %zu bytes)", body->max);
        else if (x.oom)
                r = cms_err(err, 500, "out of memory");
        else if (rc != CURLE_OK)
                r = map_curl(e, h->easy, rc, cms_eng_timeout(e, req), errbuf, err);
        if (res->status > 0 && r != -ECONNREFUSED && x.ping_rc == CURLE_OK)
                cms_eng_set_up(e, true);
        if (rc == CURLE_OK && res->status > 0 && r == 0)
                atomic_store(&e->alive_ms, cms_now_ms());
        curl_easy_setopt(h->easy, CURLOPT_ERRORBUFFER, NULL);
        curl_easy_setopt(h->easy, CURLOPT_HTTPHEADER, NULL);
        curl_slist_free_all(hdrs);
        handle_put(e, h);
        return r;
}
