/* api/: the HTTP layer and nothing else. It may call the managers declared in daemon/manager.h
 * (and read the sampler for metrics), never the engine; only daemon/main.c calls into it. Inside:
 * counters.c < reply.c < request.c < auth.c, stream.c, upload.c, workers.c < fanout.c < h_*.c <
 * router.c < server.c.
 *
 * This header: the HTTP layer's shared types: the per-request context, the route table entry,
 * replies and streams. Only files in api/ include it. */
#pragma once

#include <arpa/inet.h>
#include <microhttpd.h>

#include "daemon/manager.h"
#include "daemon/security/redact.h"

struct cms_api;
struct cms_request;
struct cms_stream;

typedef void (*cms_handler_fn)(struct cms_request *r);

enum {
        ROUTE_JSON_BODY = 1 << 0, /* the body, if any, must be JSON (415 otherwise) and is parsed */
        ROUTE_OPEN = 1 << 1,      /* no token needed */
        ROUTE_RAW_BODY = 1 << 2,  /* an archive body streamed to the handler (r->upload) */
        ROUTE_INLINE = 1 << 3,    /* cheap, never blocks: runs on the server thread */
        ROUTE_METRICS = 1 << 4,   /* no token needed when the config says metrics_public */
        ROUTE_YAML_BODY = 1 << 5, /* with ROUTE_JSON_BODY: a YAML body is taken as is (r->body) */
        ROUTE_GLOBAL = 1 << 6,    /* not about one engine: ?engine= is refused */
        ROUTE_FANOUT = 1 << 7,    /* a list that takes ?engine=* (every engine the token may use) */
};

struct cms_route {
        const char *method;
        const char *pattern; /* "/v1/containers/{id}/logs"; "{x*}" matches greedily */
        cms_handler_fn handler;
        enum cms_role role;  /* least role allowed */
        unsigned flags;
        const char *name;    /* stable route name for metrics/logs */
};

#define CMS_MAX_PARAMS 4

struct cms_request {
        struct cms_api *api;
        struct cms_manager *m;
        struct MHD_Connection *conn;
        const struct cms_route *route;
        char method[16];
        char *url;
        char *params[CMS_MAX_PARAMS];
        size_t n_params;
        struct cms_buf body;
        bool body_too_large;
        size_t drained;         /* bytes dropped past the cap */
        json_object *json;      /* parsed body for ROUTE_JSON_BODY routes (NULL when empty) */
        char token_name[64];
        char policy[72];        /* the token's policy name */
        enum cms_role role;
        int status;             /* the status sent, for the access log */
        bool replied;
        int64_t start_ms;
        struct cms_stream *stream;
        struct cms_upload *upload; /* ROUTE_RAW_BODY: the body streamed to the handler */
        bool raw_replied;
        /* Handlers that may block run in a thread of their own with the connection suspended;
         * their response waits here until libmicrohttpd calls us back after the resume. */
        bool async;
        struct MHD_Response *pending;
        unsigned pending_status;
        char origin[256];       /* for CORS */
        char id[24];            /* X-Request-Id, and in the audit trail */
        char peer[INET6_ADDRSTRLEN + 16]; /* "127.0.0.1:54321", "[::1]:54321" or "unix" */
        char deny_rule[32];     /* a policy_denied reply: its rule and field, for the audit */
        char deny_field[256];
        char allow[128];        /* the Allow header of a 405 */
        /* ?engine=: r->m is the named engine's manager (the default's without it); engine=*
         * on a ROUTE_FANOUT route sets fanout, and engines_ok says which of the root's
         * managers (bit i: all[i]) the token may use. */
        bool fanout;
        uint32_t engines_ok;
};

/* ---- router.c ---- */
/* Finds the route for method+path. 0: found (*route, params filled). -ENOENT: no such path.
 * -EOPNOTSUPP: path exists with other methods (allow gets "GET, POST"). */
int cms_router_match(const char *method, const char *path, const struct cms_route **route,
                     char **params, size_t *n_params, char *allow, size_t allow_len);
const struct cms_route *cms_router_table(size_t *n);

/* ---- auth.c (more below) ---- */
/* After cms_auth_check: ?engine= picks r->m (400 on a route that is not per engine or for *
 * where a list is not, 404 for an unknown engine, 403 for one the token may not use). */
int cms_auth_engine(struct cms_request *r);

/* ---- fanout.c: engine=* lists ---- */
/* One engine's part of a list: its items (a JSON array) or an error. ud: the list's options,
 * parsed by the handler beforehand (the parts run in threads of their own). */
typedef int (*cms_fanout_fn)(struct cms_manager *m, void *ud, json_object **out,
                             struct cms_error *err);
/* Asks every engine the token may use at once (a thread each; each call bounded by the engine
 * timeout) and replies 200 with the items of all (with mark, each gets "engine": its name),
 * and the envelope's "warnings": [{engine, status, code, message}] for each engine that
 * failed. */
void cms_fanout_reply(struct cms_request *r, cms_fanout_fn fn, void *ud, bool mark);

/* ---- reply.c ---- */
/* Queues resp now, or, for a request running in its own thread, keeps it for the resume. Takes
 * over resp. */
void cms_reply_queue(struct cms_request *r, int status, struct MHD_Response *resp);
void cms_reply_json(struct cms_request *r, int status, json_object *data); /* steals data */
void cms_reply_error(struct cms_request *r, const struct cms_error *err);
/* cms_reply_json with the envelope's "warnings" (an array; steals both). */
void cms_reply_json_warnings(struct cms_request *r, int status, json_object *data,
                             json_object *warnings);
/* A manager call's outcome: rc < 0 replies err (and drops out), else status with out. */
void cms_reply_result(struct cms_request *r, int rc, int status, json_object *out,
                      const struct cms_error *err);
void cms_reply_errorf(struct cms_request *r, int status, const char *fmt, ...) CMS_PRINTF(3, 4);
/* A route that is one manager call, on the path's first parameter, the JSON body or both:
 * status with what it returns, or its error. */
typedef int (*cms_call_id)(struct cms_manager *m, const char *id, json_object **out,
                           struct cms_error *err);
typedef int (*cms_call_body)(struct cms_manager *m, json_object *body, json_object **out,
                             struct cms_error *err);
typedef int (*cms_call_id_body)(struct cms_manager *m, const char *id, json_object *body,
                                json_object **out, struct cms_error *err);
void cms_reply_call_id(struct cms_request *r, int status, cms_call_id fn);
void cms_reply_call_body(struct cms_request *r, int status, cms_call_body fn);
void cms_reply_call_id_body(struct cms_request *r, int status, cms_call_id_body fn);
/* The same for the calls that create, which take the caller (its policy decides; request.c). */
typedef int (*cms_call_who_body)(struct cms_manager *m, const struct cms_caller *who,
                                 json_object *body, json_object **out, struct cms_error *err);
typedef int (*cms_call_who_id_body)(struct cms_manager *m, const struct cms_caller *who,
                                    const char *id, json_object *body, json_object **out,
                                    struct cms_error *err);
void cms_reply_call_who_body(struct cms_request *r, int status, cms_call_who_body fn);
void cms_reply_call_who_id_body(struct cms_request *r, int status, cms_call_who_id_body fn);
void cms_reply_raw(struct cms_request *r, int status, const char *content_type, const void *data,
                   size_t len, bool copy);
/* Adds the common headers (CORS, server) to a response before it is queued. */
void cms_reply_decorate(struct cms_request *r, struct MHD_Response *resp);

/* ---- request.c: what handlers read from a request ---- */
/* A ROUTE_YAML_BODY request whose Content-Type is application/yaml, application/x-yaml or
 * text/yaml. */
bool cms_request_is_yaml(struct cms_request *r);
/* Content-Type application/json (parameters such as charset allowed). */
bool cms_request_is_json(struct cms_request *r);
/* Who r comes from (auth filled it), for the managers; borrows r's strings. */
struct cms_caller cms_request_caller(struct cms_request *r);
/* The logs query (tail, since, until, timestamps, stdout, stderr, follow) of container and
 * project logs; replies 400 and returns <0 when malformed. */
int cms_logs_query(struct cms_request *r, struct cms_logs_opts *o);
const char *cms_query(struct cms_request *r, const char *key);
/* All values of a repeatable query key, NULL-terminated; free the array (not the strings). */
const char **cms_query_all(struct cms_request *r, const char *key);
/* Replies 400 and returns -EINVAL when the query has a key not in keys (NULL-terminated; engine
 * is always known): for routes where a misspelt filter would widen what they do (prunes). */
int cms_query_known(struct cms_request *r, const char *const *keys);
/* The volume and network prunes: only ?label= filters, no body (or {}): else 400, since a
 * filter the prune did not read would remove everything. */
int cms_prune_args(struct cms_request *r);
/* Parses a boolean query parameter; replies 400 and returns -EINVAL when malformed. */
int cms_query_bool(struct cms_request *r, const char *key, bool def, bool *out);
int cms_query_int(struct cms_request *r, const char *key, int64_t min, int64_t max, int64_t def,
                  int64_t *out);
const char *cms_header(struct cms_request *r, const char *name);

/* ---- counters.c: cmsd_http_requests_total ---- */
/* The route table the counters are kept for (the server's, before it serves). */
void cms_http_counters_init(const struct cms_route *table, size_t n);
/* Counts one reply by route (the table entry; NULL for none) and status. Lock-free. */
void cms_http_count(const struct cms_route *route, const char *method, int status);
/* Every non-zero counter as {route name, status, count}; *out to be freed. */
struct cms_http_count;
size_t cms_http_counts(struct cms_http_count **out);

/* ---- tls.c ---- */
enum cms_peer_cert {
        CMS_PEER_NOT_TLS,   /* a plain or unix-socket connection */
        CMS_PEER_NO_CERT,   /* TLS, no client certificate */
        CMS_PEER_UNTRUSTED, /* a certificate tls.client_ca does not vouch for (or none is set) */
        CMS_PEER_VERIFIED,  /* sha256 filled: the SHA-256 of its DER form */
};
enum cms_peer_cert cms_tls_peer(struct MHD_Connection *conn, unsigned char sha256[32]);

/* ---- auth.c ---- */
/* Authenticates r (fills token_name, role, policy). Replies 401/403 and returns <0 when
 * refused. */
int cms_auth_check(struct cms_request *r);


/* ---- stream.c: SSE / NDJSON replies fed by a producer thread ---- */
enum cms_stream_format { CMS_STREAM_NONE = 0, CMS_STREAM_SSE, CMS_STREAM_NDJSON };
/* From the Accept header. */
enum cms_stream_format cms_stream_wanted(struct cms_request *r);
/* The same for a request that only makes sense as a stream (what says which part of it): a 400
 * naming the Accept values and CMS_STREAM_NONE when it asked for none. */
enum cms_stream_format cms_stream_required(struct cms_request *r, const char *what);
/* The start of a follow=true: a stream format (400 without one), and the path's {id} resolved
 * by probe first, so that an unknown one is a plain 404 rather than a stream. CMS_STREAM_NONE
 * when it replied. */
enum cms_stream_format cms_follow_begin(struct cms_request *r, cms_call_id probe);
typedef void (*cms_stream_producer)(struct cms_stream *s, void *userdata);
/* Suspends the request and runs producer in its own thread; the producer emits events and
 * returns; userdata is freed with free_ud after the producer returns. */
int cms_stream_start(struct cms_request *r, enum cms_stream_format fmt, cms_stream_producer fn,
                     void *userdata, void (*free_ud)(void *));
/* Emits one event (SSE "event: <name>" + data, or one NDJSON line of data). Steals data.
 * Returns nonzero when the client has gone (producer should return). Blocks while the client's
 * buffer is full, so a slow reader slows the producer instead of growing memory. */
int cms_stream_emit(struct cms_stream *s, const char *event, json_object *data);
bool cms_stream_is_sse(struct cms_stream *s);
/* The last event of a follow: "error" {reason, message} when rc < 0; else, on SSE and unless
 * the client left, "end" {reason} ("shutdown" when cmsd is draining). */
void cms_stream_finish(struct cms_stream *s, int rc, const struct cms_error *err,
                       const char *reason);
/* Nonzero once the client has gone or cmsd is draining. */
int cms_stream_should_stop(void *stream);
/* The same for a producer's state whose first member is its struct cms_stream *. */
int cms_stream_holder_should_stop(void *holder);

/* ---- upload.c: a request body streamed to a consumer thread (ROUTE_RAW_BODY) ---- */
struct cms_upload;
int cms_upload_new(struct MHD_Connection *conn, atomic_bool *draining, int64_t max,
                   struct cms_upload **out);
void cms_upload_unref(struct cms_upload *u);
/* libmicrohttpd side. feed takes what fits and returns how much; when that is less than n the
 * connection has been suspended and is resumed once there is room. Past the cap everything is
 * taken and dropped (too_large). finish marks the end of the body: true when the handler has
 * replied, else the connection is suspended until it has. */
size_t cms_upload_feed(struct cms_upload *u, const char *data, size_t n);
bool cms_upload_finish(struct cms_upload *u);
bool cms_upload_too_large(struct cms_upload *u);
/* More than slack bytes were dropped (over the cap, or after the handler stopped reading): time
 * to close the connection rather than read on for as long as the client sends. */
bool cms_upload_overrun(struct cms_upload *u, int64_t slack);
int64_t cms_upload_max(struct cms_upload *u);
/* The connection closed: consumers abort; waits until the handler has returned. */
void cms_upload_client_gone(struct cms_upload *u);
/* The handler returned (its reply is pending). */
void cms_upload_handler_done(struct cms_upload *u);
/* Consumer side: claim before reading (also a reference), release when done; once no consumer
 * is left the rest of the body is dropped. read is a cms_engine_read_cb: blocks for data,
 * 0 at the end, -1 when the client left, the body is over the cap or cmsd drains. */
void cms_upload_claim(struct cms_upload *u);
void cms_upload_release(struct cms_upload *u);
ssize_t cms_upload_read(char *buf, size_t max, void *userdata);

/* ---- deadline.c: limits.header_deadline ---- */
struct cms_deadlines;
int cms_deadlines_new(struct cms_manager *m, struct cms_deadlines **out);
/* After every listener has stopped. */
void cms_deadlines_free(struct cms_deadlines *d);
/* MHD_OPTION_NOTIFY_CONNECTION's callback; cls: the deadlines. */
void cms_deadlines_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code);
/* A request's headers are in (its first access-handler call) / it was answered. */
void cms_deadlines_headers_in(struct MHD_Connection *c);
void cms_deadlines_request_done(struct MHD_Connection *c);

/* ---- workers.c: the threads that run blocking handlers ---- */
struct cms_workers;
int cms_workers_new(unsigned n, unsigned max_extra, struct cms_workers **out);
/* Runs fn(arg) on an idle worker, or on a thread of its own when none is idle (at most max_extra
 * of those at once: -EBUSY past that). */
int cms_workers_submit(struct cms_workers *w, void (*fn)(void *), void *arg);
/* Waits for the running jobs, then stops the workers. */
void cms_workers_free(struct cms_workers *w);

/* ---- server.c ---- */
struct cms_api_stats {
        atomic_long requests;
        atomic_int in_flight;
};
/* Stream producer threads still running (they use the manager until they return). */
extern atomic_int cms_stream_producers;
/* Serves the sockets systemd passed (LISTEN_FDS) when there are any, else the configured listen
 * addresses. */
int cms_api_start(struct cms_manager *m, struct cms_api **out, struct cms_error *err);
/* Stops accepting new connections; in-flight requests continue. */
void cms_api_quiesce(struct cms_api *a);
/* Requests not completed plus stream producers still running: 0 means the manager and the
 * server can be freed. */
int cms_api_busy(struct cms_api *a);
void cms_api_stop(struct cms_api *a);
/* For the service STATUS line: sockets served, requests received since start. */
size_t cms_api_listeners(struct cms_api *a);
long cms_api_requests(struct cms_api *a);

/* ---- handlers (one file per resource) ---- */
void h_health(struct cms_request *r);
void h_openapi(struct cms_request *r);
void h_ui(struct cms_request *r); /* h_ui.c: the dashboard's files */
void h_whoami(struct cms_request *r);
void h_engines(struct cms_request *r);
void h_nodes_list(struct cms_request *r);
void h_node_update(struct cms_request *r);
void h_stacks_list(struct cms_request *r);
void h_stacks_deploy(struct cms_request *r);
void h_stack_inspect(struct cms_request *r);
void h_stack_remove(struct cms_request *r);
void h_stack_scale(struct cms_request *r);
void h_stack_logs(struct cms_request *r);
/* h_projects.c: GET .../logs of a project or a stack: `service`, the logs query (tail, since,
 * until, timestamps, follow: a stream after check says the name exists) -> {"lines": [...]}. */
typedef int (*cms_logs_fn)(struct cms_manager *m, const char *name, const char *service,
                           const struct cms_logs_opts *o, cms_project_log_cb cb,
                           cms_engine_stop_cb should_stop, void *ud, struct cms_error *err);
void cms_logs_route(struct cms_request *r, cms_logs_fn fn, cms_call_id check);
void h_policy_list(struct cms_request *r);
void h_audit(struct cms_request *r);
void h_policy_check(struct cms_request *r);
void h_system_info(struct cms_request *r);
void h_system_df(struct cms_request *r);
void h_system_prune(struct cms_request *r);
void h_containers_list(struct cms_request *r);
void h_containers_create(struct cms_request *r);
void h_deploy(struct cms_request *r);
void h_container_inspect(struct cms_request *r);
void h_container_remove(struct cms_request *r);
void h_container_action(struct cms_request *r);
void h_container_logs(struct cms_request *r);
void h_container_exec(struct cms_request *r);
void h_container_health(struct cms_request *r);
void h_container_stats(struct cms_request *r);
void h_metrics_prometheus(struct cms_request *r);
void h_metrics_json(struct cms_request *r);
void h_metrics_export(struct cms_request *r);
void h_monitor(struct cms_request *r);
void h_events(struct cms_request *r);
void h_networks_list(struct cms_request *r);
void h_networks_create(struct cms_request *r);
void h_network_inspect(struct cms_request *r);
void h_network_remove(struct cms_request *r);
void h_network_connect(struct cms_request *r); /* connect and disconnect, by route name */
void h_networks_prune(struct cms_request *r);
void h_volumes_list(struct cms_request *r);
void h_volumes_create(struct cms_request *r);
void h_volume_inspect(struct cms_request *r);
void h_volume_remove(struct cms_request *r);
void h_volumes_prune(struct cms_request *r);
/* h_projects.c */
void h_projects_list(struct cms_request *r);
void h_projects_up(struct cms_request *r);
void h_projects_config_dry(struct cms_request *r);
void h_project_ps(struct cms_request *r);
void h_project_config(struct cms_request *r);
void h_project_up(struct cms_request *r);
void h_project_down(struct cms_request *r);
void h_project_action(struct cms_request *r);
void h_project_scale(struct cms_request *r);
void h_project_images(struct cms_request *r);
void h_project_logs(struct cms_request *r);
void h_images_list(struct cms_request *r);
void h_image_inspect(struct cms_request *r);
void h_image_history(struct cms_request *r);
void h_image_sbom(struct cms_request *r);
void h_image_scan(struct cms_request *r);
void h_image_scan_get(struct cms_request *r);
void h_vulndb_status(struct cms_request *r);
void h_vulndb_import(struct cms_request *r);
void h_image_tag(struct cms_request *r);
void h_image_remove(struct cms_request *r);
void h_images_prune(struct cms_request *r);
void h_images_pull(struct cms_request *r);
void h_image_push(struct cms_request *r);
void h_images_build(struct cms_request *r);
