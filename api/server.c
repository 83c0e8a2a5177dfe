/* The HTTP server: libmicrohttpd daemons (one per listener, epoll thread pool), the per-request
 * context, limits on URL/headers/body, auth, dispatch through the route table, and the access
 * log line written when a request completes. */
#include <arpa/inet.h>
#include <malloc.h>
#include <pthread.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "api.h"
#include "daemon/log.h"

#define MAX_URL 8192
/* What is still read (and dropped) of a body past its cap before the connection is closed. */
#define MAX_DRAIN   (1024 * 1024)
#define MAX_HEADERS (32 * 1024)
#define JSON_DEPTH  64

struct listener {
        struct MHD_Daemon *d;
        int fd;
        char *unix_path;
};

struct cms_api {
        struct cms_manager *m;
        struct listener ls[CMS_MAX_LISTEN];
        size_t n;
        struct cms_api_stats stats;
        struct cms_workers *workers;
        struct cms_deadlines *deadlines;
        char *tls_cert, *tls_key, *tls_ca; /* file contents, kept for MHD's lifetime */
};

static void request_free(struct cms_request *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->n_params; i++)
                free(r->params[i]);
        cms_buf_free(&r->body);
        if (r->pending) /* a reply the client left before */
                MHD_destroy_response(r->pending);
        cms_upload_unref(r->upload);
        if (r->json)
                json_object_put(r->json);
        free(r->url);
        free(r);
}

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
        size_t *n = cls;
        *n += strlen(key) + (value ? strlen(value) : 0) + 4;
        return MHD_YES;
}

static void reply_preflight(struct cms_request *r)
{
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
        MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                                "Authorization, Content-Type, Accept, If-None-Match");
        MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
        cms_reply_decorate(r, resp);
        cms_reply_queue(r, 204, resp);
}

static void run_handler(struct cms_request *r);

/* ---- ROUTE_RAW_BODY: the body is streamed to the handler while it arrives (upload.c) ---- */

static bool is_archive_type(const char *ct)
{
        static const char *const types[] = {"application/x-tar",        "application/tar",
                                            "application/gzip",         "application/x-gzip",
                                            "application/x-xz",         "application/x-bzip2",
                                            "application/zstd",         "application/zip",
                                            "application/octet-stream", NULL};
        while (ct && *ct == ' ')
                ct++;
        for (size_t i = 0; ct && types[i]; i++) {
                size_t n = strlen(types[i]);
                if (!strncasecmp(ct, types[i], n) && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' '))
                        return true;
        }
        return false;
}

static void raw_job(void *arg)
{
        struct cms_request *r = arg;
        run_handler(r);
        /* From here the connection may be resumed and the reply queued. */
        cms_upload_handler_done(r->upload);
}

/* Starts the handler at once, with the body still to come: it reads it through r->upload. */
static void raw_begin(struct cms_request *r)
{
        const struct cms_config *c = cms_manager_config_rdlock(r->m);
        int64_t max = c->max_build_context;
        cms_manager_config_unlock(r->m);
        const char *cl = cms_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
        int64_t len = 0;
        if (cl && cms_parse_int(cl, 0, INT64_MAX, &len) == 0 && len > max) {
                cms_reply_errorf(r, 413,
                                 "request body of %" PRId64 " bytes exceeds the limit of %" PRId64
                                 " bytes (limits.max_build_context)",
                                 len, max);
                return;
        }
        if (!is_archive_type(cms_header(r, MHD_HTTP_HEADER_CONTENT_TYPE)) &&
            (r->route->flags & ROUTE_JSON_BODY)) {
                cms_reply_errorf(r, 415,
                                 "expected Content-Type: application/json, or an archive"
                                 " (application/x-tar, application/gzip, application/zip...)");
                return;
        }
        if (!is_archive_type(cms_header(r, MHD_HTTP_HEADER_CONTENT_TYPE))) {
                cms_reply_errorf(r, 415,
                                 "expected Content-Type: application/x-tar (a tar of the "
                                 "build context, optionally gzip, bzip2, xz or zstd compressed)");
                return;
        }
        if (cms_upload_new(r->conn, &r->m->draining, max, &r->upload) < 0) {
                cms_reply_errorf(r, 500, "out of memory");
                return;
        }
        r->async = true;
        if (cms_workers_submit(r->api->workers, raw_job, r) < 0) {
                r->async = false;
                cms_upload_unref(r->upload);
                r->upload = NULL;
                cms_reply_errorf(r, 503, "too busy: no thread for the request");
        }
}

/* The whole body is in and the handler has returned: its reply, or 413 when the body went over
 * the cap (the handler saw the body cut short). */
static void raw_reply(struct cms_request *r)
{
        struct MHD_Response *resp = r->pending;
        r->pending = NULL;
        r->async = false;
        if (cms_upload_too_large(r->upload) || !resp) {
                if (resp)
                        MHD_destroy_response(resp);
                r->replied = false;
                if (cms_upload_too_large(r->upload))
                        cms_reply_errorf(r, 413,
                                         "request body exceeds the limit of %" PRId64
                                         " bytes (limits.max_build_context)",
                                         cms_upload_max(r->upload));
                else
                        cms_reply_errorf(r, 500, "handler gave no reply");
                return;
        }
        MHD_queue_response(r->conn, r->pending_status, resp);
        MHD_destroy_response(resp);
}

static void raw_request(struct cms_request *r, const char *upload, size_t *upload_size)
{
        if (*upload_size) {
                *upload_size -= cms_upload_feed(r->upload, upload, *upload_size);
                return;
        }
        if (r->raw_replied || !cms_upload_finish(r->upload))
                return; /* suspended until the handler has replied */
        r->raw_replied = true;
        raw_reply(r);
}

/* Everything decided from the request line and headers, before any body is read. */
static void request_begin(struct cms_request *r)
{
        const char *origin = cms_header(r, "Origin");
        if (origin)
                snprintf(r->origin, sizeof(r->origin), "%s", origin);
        if (!strcmp(r->method, "OPTIONS") && origin) {
                reply_preflight(r);
                return;
        }
        if (atomic_load(&r->m->draining)) {
                /* A keep-alive connection still sending after SIGTERM: close it. */
                cms_reply_errorf(r, 503, "cmsd is shutting down");
                return;
        }
        if (strlen(r->url) > MAX_URL) {
                cms_reply_errorf(r, 400, "URL longer than %d bytes", MAX_URL);
                return;
        }
        size_t qbytes = strlen(r->url), hbytes = 0;
        MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, count_header, &qbytes);
        if (qbytes > MAX_URL) {
                cms_reply_errorf(r, 400, "URL longer than %d bytes", MAX_URL);
                return;
        }
        MHD_get_connection_values(r->conn, MHD_HEADER_KIND, count_header, &hbytes);
        if (hbytes > MAX_HEADERS) {
                cms_reply_errorf(r, 400, "request headers larger than %d bytes", MAX_HEADERS);
                return;
        }
        int k = cms_router_match(r->method, r->url, &r->route, r->params, &r->n_params, r->allow,
                                 sizeof(r->allow));
        if (k == -ENOENT) {
                cms_reply_errorf(r, 404, "no route for %s %s", r->method, r->url);
                return;
        }
        if (k == -EOPNOTSUPP) {
                cms_reply_errorf(r, 405, "method %s not allowed on %s (allowed: %s)", r->method,
                                 r->url, r->allow);
                return;
        }
        if (cms_auth_check(r) < 0 || cms_auth_engine(r) < 0)
                return;
        /* A route taking an archive or JSON (POST /v1/vulndb): JSON is read as usual. */
        if ((r->route->flags & ROUTE_RAW_BODY) &&
            !((r->route->flags & ROUTE_JSON_BODY) && cms_request_is_json(r))) {
                raw_begin(r);
                return;
        }
        const struct cms_config *c = cms_manager_config_rdlock(r->m);
        int64_t max_body = c->max_body;
        cms_manager_config_unlock(r->m);
        cms_buf_init(&r->body, (size_t)max_body);
        const char *cl = cms_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
        int64_t len = 0;
        if (cl && cms_parse_int(cl, 0, INT64_MAX, &len) == 0 && len > max_body) {
                cms_reply_errorf(r, 413,
                                 "request body of %" PRId64 " bytes exceeds the limit of %" PRId64,
                                 len, max_body);
                return;
        }
        const char *te = cms_header(r, MHD_HTTP_HEADER_TRANSFER_ENCODING);
        bool has_body = len > 0 || te;
        if ((r->route->flags & ROUTE_JSON_BODY) && has_body && !cms_request_is_json(r) &&
            !cms_request_is_yaml(r)) {
                cms_reply_errorf(r, 415, "expected Content-Type: application/json%s",
                                 (r->route->flags & ROUTE_YAML_BODY) ? " or application/yaml" : "");
                return;
        }
}

static void run_handler(struct cms_request *r)
{
        r->route->handler(r);
        if (!r->replied)
                cms_reply_errorf(r, 500, "handler gave no reply");
}

static void handler_job(void *arg)
{
        struct cms_request *r = arg;
        run_handler(r);
        /* The reply is in r->pending; libmicrohttpd calls on_request again after the resume. */
        MHD_resume_connection(r->conn);
}

static void request_dispatch(struct cms_request *r)
{
        cms_deadlines_headers_in(r->conn); /* the whole request is in */
        if (r->body_too_large) {
                cms_reply_errorf(r, 413, "request body exceeds the limit of %zu bytes",
                                 r->body.max);
                return;
        }
        if ((r->route->flags & ROUTE_JSON_BODY) && r->body.len > 0 && !cms_request_is_yaml(r)) {
                json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
                if (!tok) {
                        cms_reply_errorf(r, 500, "out of memory");
                        return;
                }
                /* Standard JSON only (no NaN, no trailing commas) in valid UTF-8. */
                json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
                r->json = json_tokener_parse_ex(tok, r->body.data, (int)r->body.len);
                enum json_tokener_error je = json_tokener_get_error(tok);
                size_t off = json_tokener_get_parse_end(tok);
                json_tokener_free(tok);
                if (je == json_tokener_success && !r->json) {
                        cms_reply_errorf(r, 400, "the JSON body is null: send an object");
                        return;
                }
                if (je != json_tokener_success) {
                        cms_reply_errorf(r, 400, "malformed JSON body: %s (at byte %zu)",
                                         json_tokener_error_desc(je), off);
                        return;
                }
                while (off < r->body.len && strchr(" \t\r\n", r->body.data[off]))
                        off++;
                if (off != r->body.len) {
                        cms_reply_errorf(r, 400, "malformed JSON body: trailing data at byte %zu",
                                         off);
                        return;
                }
        }
        if (r->route->flags & ROUTE_INLINE) {
                run_handler(r);
                return;
        }
        /* Engine calls block: run the handler on a worker and park the connection meanwhile. */
        r->async = true;
        MHD_suspend_connection(r->conn);
        if (cms_workers_submit(r->api->workers, handler_job, r) < 0) {
                r->async = false;
                MHD_resume_connection(r->conn);
                cms_reply_errorf(r, 503, "too busy: no thread for the request");
        }
}

/* "127.0.0.1:54321", "[::1]:54321", or "unix" for a unix-socket client. */
static void peer_name(struct MHD_Connection *conn, char *out, size_t n)
{
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const struct sockaddr *sa = ci ? ci->client_addr : NULL;
        char ip[INET6_ADDRSTRLEN] = "";
        snprintf(out, n, "unix");
        if (sa && sa->sa_family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
                inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
                snprintf(out, n, "%s:%u", ip, ntohs(in->sin_port));
        } else if (sa && sa->sa_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
                inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
                snprintf(out, n, "[%s]:%u", ip, ntohs(in6->sin6_port));
        }
}

/* The request's id (unique in this process, ordered) and who it comes from. */
static void request_ids(struct cms_request *r)
{
        static atomic_uint_fast64_t counter;
        static int64_t boot;
        if (!boot)
                boot = cms_wall_ms() / 1000;
        uint64_t n = atomic_fetch_add(&counter, 1) + 1;
        snprintf(r->id, sizeof(r->id), "%08" PRIx64 "-%06" PRIx64, (uint64_t)boot, n);
        peer_name(r->conn, r->peer, sizeof(r->peer));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
        struct cms_api *a = cls;
        struct cms_request *r = *con_cls;
        if (!r) {
                r = calloc(1, sizeof(*r));
                if (!r)
                        return MHD_NO;
                r->api = a;
                r->m = a->m;
                r->conn = conn;
                r->start_ms = cms_now_ms();
                r->url = strdup(url);
                snprintf(r->method, sizeof(r->method), "%s", method);
                request_ids(r);
                cms_buf_init(&r->body, 1024 * 1024);
                *con_cls = r;
                atomic_fetch_add(&a->stats.in_flight, 1);
                atomic_fetch_add(&a->stats.requests, 1);
                if (!r->url)
                        return MHD_NO;
                request_begin(r);
                /* The header deadline covers a JSON body too (it is small); a build context
                 * streams for as long as it is big, so its clock stops with the headers. */
                if (r->replied || r->upload || !r->route || !(r->route->flags & ROUTE_JSON_BODY))
                        cms_deadlines_headers_in(conn);
                return MHD_YES;
        }
        if (r->upload) {
                raw_request(r, upload, upload_size);
                return cms_upload_overrun(r->upload, MAX_DRAIN) ? MHD_NO : MHD_YES;
        }
        if (*upload_size) {
                if (!r->replied && !r->body_too_large &&
                    cms_buf_append(&r->body, upload, *upload_size) < 0) {
                        r->body_too_large = true;
                        cms_buf_free(&r->body);
                }
                /* Over the cap the rest is read and dropped so that a client that was only a
                 * little over still gets its 413; past MAX_DRAIN more the connection is closed
                 * (libmicrohttpd 0.9 sends no reply before the body has ended). */
                if (r->body_too_large && (r->drained += *upload_size) > MAX_DRAIN)
                        return MHD_NO;
                *upload_size = 0;
                return MHD_YES;
        }
        if (r->pending) {
                struct MHD_Response *resp = r->pending;
                r->pending = NULL;
                r->async = false;
                MHD_queue_response(conn, r->pending_status, resp);
                MHD_destroy_response(resp);
                return MHD_YES;
        }
        if (!r->replied && !r->async)
                request_dispatch(r);
        return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
        struct cms_api *a = cls;
        struct cms_request *r = *con_cls;
        if (!r)
                return;
        int64_t ms = cms_now_ms() - r->start_ms;
        const char *tok = r->token_name[0] ? r->token_name : "-";
        char status[16], dur[24], path[1024], method[64];
        snprintf(status, sizeof(status), "%d", r->status);
        snprintf(dur, sizeof(dur), "%" PRId64, ms);
        /* The decoded URL and method are the client's bytes: escaped, they cannot forge a line. */
        cms_log_escape(r->url, path, sizeof(path));
        cms_log_escape(r->method, method, sizeof(method));
        const struct cms_log_field f[] = {
            {"METHOD", method},    {"PATH", path},
            {"STATUS", status},    {"DURATION_MS", dur},
            {"TOKEN_NAME", tok},   {"PEER", r->peer},
            {"REQUEST_ID", r->id}, {"POLICY_RULE", r->deny_rule[0] ? r->deny_rule : "-"},
        };
        log_fields(CMS_LOG_INFO, f, ELEMENTSOF(f), "%s %s %d %" PRId64 "ms token=%s peer=%s%s",
                   method, path, r->status, ms, tok, r->peer,
                   toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (client gone)");
        cms_deadlines_request_done(conn);
        if (r->upload) /* its handler may still run: let it finish with the request */
                cms_upload_client_gone(r->upload);
        atomic_fetch_sub(&a->stats.in_flight, 1);
        request_free(r);
        *con_cls = NULL;
}

static int listen_unix(const char *path, struct cms_error *err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return cms_err(err, 400, "unix socket path too long: %s", path);
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return cms_err(err, 500, "socket: %s", strerror(errno));
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
                unlink(path); /* a stale socket from an earlier run */
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0660) < 0 ||
            listen(fd, 512) < 0) {
                int e = errno;
                close(fd);
                return cms_err(err, 500, "listen on unix:%s: %s", path, strerror(e));
        }
        return fd;
}

static int listen_tcp(const char *addr, struct cms_error *err)
{
        char host[256];
        const char *colon = strrchr(addr, ':');
        if (!colon || colon == addr)
                return cms_err(err, 400, "listen address %s: expected host:port", addr);
        size_t hl = (size_t)(colon - addr);
        if (addr[0] == '[' && hl >= 2 && addr[hl - 1] == ']') {
                addr++;
                hl -= 2;
        }
        if (hl >= sizeof(host))
                return cms_err(err, 400, "listen address %s: host too long", addr);
        memcpy(host, addr, hl);
        host[hl] = 0;
        struct addrinfo hints = {.ai_family = AF_UNSPEC,
                                 .ai_socktype = SOCK_STREAM,
                                 .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
                        *res = NULL;
        int g = getaddrinfo(hl ? host : NULL, colon + 1, &hints, &res);
        if (g)
                return cms_err(err, 400, "listen address %s: %s", addr, gai_strerror(g));
        int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        if (fd >= 0)
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (fd >= 0 && res->ai_family == AF_INET6)
                setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 512) < 0) {
                int e = errno;
                if (fd >= 0)
                        close(fd);
                freeaddrinfo(res);
                return cms_err(err, 500, "listen on %s: %s", addr, strerror(e));
        }
        freeaddrinfo(res);
        return fd;
}

static char *read_file(const char *path, struct cms_error *err)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f) {
                cms_err(err, 500, "cannot read %s: %s", path, strerror(errno));
                return NULL;
        }
        struct cms_buf b;
        cms_buf_init(&b, 1024 * 1024);
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                if (cms_buf_append(&b, chunk, n) < 0) {
                        cms_buf_free(&b);
                        cms_err(err, 500, "%s is too large", path);
                        return NULL;
                }
        return cms_buf_take(&b);
}

static int load_tls(struct cms_api *a, const struct cms_config *c, struct cms_error *err)
{
        if (!c->tls_cert || !*c->tls_cert)
                return 0;
        if (!c->tls_key || !*c->tls_key)
                return cms_err(err, 400, "tls.cert is set but tls.key is not");
        if (!(a->tls_cert = read_file(c->tls_cert, err)) ||
            !(a->tls_key = read_file(c->tls_key, err)))
                return -EINVAL;
        if (c->tls_client_ca && *c->tls_client_ca &&
            !(a->tls_ca = read_file(c->tls_client_ca, err)))
                return -EINVAL;
        return 0;
}

/* libmicrohttpd's own messages (a client that broke off, a connection closed for an overrun
 * body) go to cmsd's log, at debug: they describe clients, not cmsd. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
        char msg[512];
        vsnprintf(msg, sizeof(msg), fmt, ap);
        msg[strcspn(msg, "\n")] = 0;
        log_debug("libmicrohttpd: %s", msg);
}

/* Runs a libmicrohttpd daemon on a listening socket. unix_path: a socket file cmsd made, removed
 * at shutdown (NULL for a socket systemd owns). */
static int serve_fd(struct cms_api *a, const struct cms_config *c, int fd, bool is_unix,
                    const char *what, const char *unix_path, struct cms_error *err)
{
        if (a->n == CMS_MAX_LISTEN)
                return cms_err(err, 400, "more than %d listeners", CMS_MAX_LISTEN);
        struct listener *l = &a->ls[a->n];
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        unsigned pool = (unsigned)(ncpu > 0 ? ncpu : 2) * 4;
        if (pool < 8)
                pool = 8;
        unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC |
                         MHD_USE_ERROR_LOG;
        bool tls = a->tls_cert && !is_unix;
        if (tls)
                flags |= MHD_USE_TLS;
        struct MHD_OptionItem opts[] = {
            {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL},
            {MHD_OPTION_LISTEN_SOCKET, fd, NULL},
            {MHD_OPTION_THREAD_POOL_SIZE, pool, NULL},
            /* The pool's threads run only the inline handlers (health, whoami, the policy
             * list, /metrics: small frames; the rest runs on the workers' 512 KB stacks):
             * 512 KB instead of the 8 MB default. */
            {MHD_OPTION_THREAD_STACK_SIZE, 512 * 1024, NULL},
            {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)c->max_connections, NULL},
            {MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t)c->max_connections_per_ip, NULL},
            {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)(c->request_timeout_ms / 1000), NULL},
            {MHD_OPTION_CONNECTION_MEMORY_LIMIT, 128 * 1024, NULL},
            {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, a},
            {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)cms_deadlines_notify, a->deadlines},
            /* The TLS options come last: the first one that does not apply ends the list. TLS
             * 1.2 at the least: 1.0 and 1.1 are refused at the handshake. */
            {tls ? MHD_OPTION_HTTPS_PRIORITIES : MHD_OPTION_END, 0,
             (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"},
            {tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, a->tls_key},
            {tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, a->tls_cert},
            {tls && a->tls_ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, a->tls_ca},
            {MHD_OPTION_END, 0, NULL},
        };
        l->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, a, MHD_OPTION_ARRAY, opts,
                                MHD_OPTION_END);
        if (!l->d)
                return cms_err(err, 500, "cannot start the HTTP server on %s", what);
        l->fd = fd;
        l->unix_path = unix_path ? strdup(unix_path) : NULL;
        a->n++;
        log_info("listening on %s%s", what, tls ? " (TLS)" : "");
        return 0;
}

static int start_one(struct cms_api *a, const struct cms_config *c, const char *addr,
                     struct cms_error *err)
{
        bool is_unix = cms_str_has_prefix(addr, "unix:");
        int fd = is_unix ? listen_unix(addr + 5, err) : listen_tcp(addr, err);
        if (fd < 0)
                return fd;
        int r = serve_fd(a, c, fd, is_unix, addr, is_unix ? addr + 5 : NULL, err);
        if (r < 0) {
                close(fd);
                if (is_unix)
                        unlink(addr + 5);
        }
        return r;
}

/* "unix:/run/cmsd/cmsd.sock", "127.0.0.1:8080", "[::1]:8080" for a bound socket; its family in
 * *family. */
static void describe_socket(int fd, int *family, char *out, size_t len)
{
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        char host[INET6_ADDRSTRLEN];
        *family = AF_UNSPEC;
        snprintf(out, len, "fd %d", fd);
        if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
                return;
        *family = ss.ss_family;
        if (ss.ss_family == AF_UNIX) {
                const struct sockaddr_un *su = (const struct sockaddr_un *)&ss;
                size_t pl = sl > offsetof(struct sockaddr_un, sun_path)
                                ? sl - offsetof(struct sockaddr_un, sun_path)
                                : 0;
                if (pl > 0 && su->sun_path[0] == 0) /* abstract */
                        snprintf(out, len, "unix:@%.*s", (int)(pl - 1), su->sun_path + 1);
                else
                        snprintf(out, len, "unix:%.*s", (int)strnlen(su->sun_path, pl),
                                 su->sun_path);
        } else if (ss.ss_family == AF_INET) {
                const struct sockaddr_in *si = (const struct sockaddr_in *)&ss;
                inet_ntop(AF_INET, &si->sin_addr, host, sizeof(host));
                snprintf(out, len, "%s:%u", host, ntohs(si->sin_port));
        } else if (ss.ss_family == AF_INET6) {
                const struct sockaddr_in6 *si = (const struct sockaddr_in6 *)&ss;
                inet_ntop(AF_INET6, &si->sin6_addr, host, sizeof(host));
                snprintf(out, len, "[%s]:%u", host, ntohs(si->sin6_port));
        }
}

/* Socket activation: serves the listening sockets systemd passed (LISTEN_FDS) instead of the
 * configured ones. Returns how many were passed (0: none), or a negative errno. Anything but a
 * listening unix/TCP stream socket is a unit misconfiguration and refused. */
static int start_passed(struct cms_api *a, const struct cms_config *c, struct cms_error *err)
{
        char **names = NULL;
        int n = sd_listen_fds_with_names(1, &names);
        if (n < 0)
                return cms_err(err, 500, "LISTEN_FDS: %s", strerror(-n));
        int r = 0;
        for (int i = 0; i < n; i++) {
                int fd = SD_LISTEN_FDS_START + i, family;
                char what[160], desc[220];
                describe_socket(fd, &family, what, sizeof(what));
                snprintf(desc, sizeof(desc), "%s (from systemd%s%s)", what,
                         names && names[i] ? ", " : "", names && names[i] ? names[i] : "");
                if (r == 0 && (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0 ||
                               (family != AF_UNIX && family != AF_INET && family != AF_INET6)))
                        r = cms_err(err, 400,
                                    "socket %s passed by systemd is not a listening unix or TCP "
                                    "stream socket",
                                    desc);
                if (r == 0)
                        r = serve_fd(a, c, fd, family == AF_UNIX, desc, NULL, err);
                if (r < 0 && (a->n == 0 || a->ls[a->n - 1].fd != fd))
                        close(fd); /* not (yet) owned by a running server */
        }
        for (int i = 0; names && i < n; i++)
                free(names[i]);
        free(names);
        if (r == 0 && n > 0 && c->n_listen > 0)
                log_info("socket activation: serving the %d sockets systemd passed, not the "
                         "configured listen addresses",
                         n);
        return r < 0 ? r : n;
}

int cms_api_start(struct cms_manager *m, struct cms_api **out, struct cms_error *err)
{
        struct cms_api *a = calloc(1, sizeof(*a));
        if (!a)
                return cms_err(err, 500, "out of memory");
        a->m = m;
        /* Every thread that allocates while another holds the heap gets a malloc arena of its own
         * (up to 8 per core), each keeping a few hundred KB: with the HTTP pool and the workers
         * that was ~5 MB of RSS after load. Two arenas are enough for two cores' worth of
         * request work (issue 16); MALLOC_ARENA_MAX in the environment still decides. */
        if (!getenv("MALLOC_ARENA_MAX"))
                mallopt(M_ARENA_MAX, 2);
        size_t n_routes;
        const struct cms_route *routes = cms_router_table(&n_routes);
        cms_http_counters_init(routes, n_routes);
        if (cms_deadlines_new(m, &a->deadlines) < 0) {
                free(a);
                return cms_err(err, 500, "cannot start the header-deadline thread");
        }
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        /* 16 workers (8 a core on bigger hosts), and at most 256 more threads for slow requests
         * at once: past that a request gets 503 with Retry-After. */
        if (cms_workers_new(ncpu > 2 ? (unsigned)ncpu * 8 : 16, 256, &a->workers) < 0) {
                cms_deadlines_free(a->deadlines);
                free(a);
                return cms_err(err, 500, "out of memory");
        }
        const struct cms_config *c = cms_manager_config_rdlock(m);
        int r = load_tls(a, c, err);
        if (r == 0)
                r = start_passed(a, c, err);
        if (r == 0)
                for (size_t i = 0; r == 0 && i < c->n_listen; i++)
                        r = start_one(a, c, c->listen[i], err);
        else if (r > 0)
                r = 0;
        if (r == 0 && a->n == 0)
                r = cms_err(err, 400,
                            "nothing to listen on: no listen address and no socket "
                            "from systemd");
        cms_manager_config_unlock(m);
        if (r < 0) {
                cms_api_stop(a);
                return r;
        }
        *out = a;
        return 0;
}

void cms_api_quiesce(struct cms_api *a)
{
        for (size_t i = 0; a && i < a->n; i++) {
                MHD_socket s = MHD_quiesce_daemon(a->ls[i].d);
                if (s != MHD_INVALID_SOCKET)
                        close(s);
                if (a->ls[i].unix_path) {
                        unlink(a->ls[i].unix_path);
                        free(a->ls[i].unix_path);
                        a->ls[i].unix_path = NULL;
                }
        }
}

size_t cms_api_listeners(struct cms_api *a)
{
        return a ? a->n : 0;
}

long cms_api_requests(struct cms_api *a)
{
        return a ? atomic_load(&a->stats.requests) : 0;
}

int cms_api_busy(struct cms_api *a)
{
        return (a ? atomic_load(&a->stats.in_flight) : 0) + atomic_load(&cms_stream_producers);
}

void cms_api_stop(struct cms_api *a)
{
        if (!a)
                return;
        /* Running jobs end by resuming their connection: let them, before the server goes. */
        cms_workers_free(a->workers);
        for (size_t i = 0; i < a->n; i++) {
                MHD_stop_daemon(a->ls[i].d);
                if (a->ls[i].unix_path) {
                        unlink(a->ls[i].unix_path);
                        free(a->ls[i].unix_path);
                }
        }
        cms_deadlines_free(a->deadlines);
        free(a->tls_cert);
        free(a->tls_key);
        free(a->tls_ca);
        free(a);
}
