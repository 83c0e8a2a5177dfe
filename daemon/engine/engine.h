/* daemon/engine/: the engine client, the only code that speaks to the Docker or Podman socket.
 * It may call daemon/util.c and nothing else of cmsd; every other folder reaches an engine
 * through this header. Inside, files call only those below them (internal.h lists the order).
 *
 * libcurl over a unix socket or TCP, pooled handles (connection reuse), a timeout on every call,
 * runtime detection (docker vs podman), API-version negotiation, error mapping that keeps the
 * engine's own message, and the demultiplexer for the engine's stdout/stderr stream format. */
#pragma once

#include <sys/types.h>

#include "../util.h"

enum cms_runtime { CMS_RUNTIME_UNKNOWN = 0, CMS_RUNTIME_DOCKER, CMS_RUNTIME_PODMAN };

struct cms_engine;

/* url: "unix:///var/run/docker.sock", "tcp://host:2376", or NULL/"auto" for detection in the
 * order of DESIGN.md (DOCKER_HOST, /var/run/docker.sock, /run/podman/podman.sock,
 * $XDG_RUNTIME_DIR/podman/podman.sock). Does no I/O beyond stat(); never fails because the engine
 * is down. timeout_ms is the default per-call timeout. */
int cms_engine_new(const char *url, long timeout_ms, struct cms_engine **out,
                   struct cms_error *err);
/* The same for tcp://host:port over TLS: ca verifies the engine's certificate, cert and key (both
 * or neither) are the client's. The files must be readable now (400 naming the one that is not);
 * they are read again at each connection, so a renewed certificate is taken without a restart. */
struct cms_engine_tls {
        const char *ca, *cert, *key;
};
int cms_engine_new_tls(const char *url, const struct cms_engine_tls *tls, long timeout_ms,
                       struct cms_engine **out, struct cms_error *err);
void cms_engine_free(struct cms_engine *e);
/* The default per-call timeout from now on (limits.request_timeout; a reload may change it). */
void cms_engine_set_timeout(struct cms_engine *e, long timeout_ms);

/* The resolved URL, e.g. "unix:///var/run/docker.sock". */
const char *cms_engine_url(const struct cms_engine *e);

/* GET /_ping and /version: decides docker vs podman and the API version to use
 * (min(engine's ApiVersion, CMS_ENGINE_MAX_API)). Thread-safe. 503 when unreachable. */
int cms_engine_probe(struct cms_engine *e, struct cms_error *err);
#define CMS_ENGINE_MAX_API "1.41"

/* Probes now if the runtime is not known yet or the engine was down (rate-limited as for calls),
 * so that cms_engine_runtime() is current before work that depends on it. 503 when unreachable. */
int cms_engine_ready(struct cms_engine *e, struct cms_error *err);

/* Last known state: true after a successful call, false after a transport failure. */
bool cms_engine_is_up(struct cms_engine *e);
enum cms_runtime cms_engine_runtime(struct cms_engine *e);
const char *cms_runtime_name(enum cms_runtime rt); /* "docker", "podman", "unknown" */
/* Copies the engine's version ("20.10.24", "4.3.1") and the negotiated API version ("1.41"). */
void cms_engine_versions(struct cms_engine *e, char *version, size_t vlen, char *api, size_t alen);

/* One request. path is relative to the versioned prefix: "/containers/json?all=1" is sent as
 * "/v1.41/containers/json?all=1". A path starting with "/libpod/" is sent to Podman's native API
 * ("/v4.0.0/libpod/..."). A path starting with "//" is sent verbatim without the prefix. */
struct cms_engine_req {
        const char *method; /* "GET" when NULL */
        const char *path;
        const char *body; /* may be NULL */
        size_t body_len;
        const char *content_type;   /* "application/json" when body is set and this is NULL */
        const char *const *headers; /* extra "Name: value" lines, NULL-terminated, may be NULL */
        long timeout_ms;            /* 0: the engine's default; -1: no total timeout (streams) */
        size_t max_reply;           /* 0: 64 MiB */
};

struct cms_engine_reply {
        long status;
        char *body; /* NUL-terminated, owned */
        size_t len;
};
void cms_engine_reply_free(struct cms_engine_reply *r);

/* Performs the call. 2xx/3xx -> 0 with reply filled. 4xx/5xx -> negative errno and err filled
 * from the engine's {"message": ...} (400 -> 400 bad_request, 401/403 -> same, 404 -> not_found,
 * 409 -> conflict, 304 is success, 500 and others -> 502 engine_error); reply is still filled.
 * Connection failure -> 503 engine_unavailable (engine marked down); timeout -> 504. */
int cms_engine_call(struct cms_engine *e, const struct cms_engine_req *req,
                    struct cms_engine_reply *reply, struct cms_error *err);

/* Convenience around cms_engine_call: body serialized from JSON (may be NULL), reply parsed into
 * *out (may be NULL; an empty reply gives NULL). A reply that is not JSON -> 502. */
int cms_engine_json(struct cms_engine *e, const char *method, const char *path, json_object *body,
                    json_object **out, struct cms_error *err);
/* The same with the request's other fields (headers, timeout, cap); req's body is set from
 * body. *status (may be NULL): the engine's HTTP status, 0 when none came back. */
int cms_engine_json_req(struct cms_engine *e, struct cms_engine_req *req, json_object *body,
                        json_object **out, long *status, struct cms_error *err);

/* Streaming call: each chunk of a 2xx reply is handed to on_data as it arrives; a non-2xx reply
 * is gathered and mapped to err as above instead. on_data returning nonzero ends the transfer
 * (returns 0). should_stop (may be NULL) is polled about every 200 ms even when no data flows,
 * so a stream can end when its HTTP client leaves; nonzero ends the transfer (returns 0). */
typedef int (*cms_engine_data_cb)(const char *data, size_t len, void *userdata);
typedef int (*cms_engine_stop_cb)(void *userdata);
int cms_engine_stream(struct cms_engine *e, const struct cms_engine_req *req,
                      cms_engine_data_cb on_data, cms_engine_stop_cb should_stop, void *userdata,
                      struct cms_error *err);

/* Upload source for cms_engine_upload: fills buf with up to max bytes and returns how many;
 * 0 at the end of the body; < 0 aborts the transfer. May block. */
typedef ssize_t (*cms_engine_read_cb)(char *buf, size_t max, void *userdata);
/* A streaming call whose request body is produced by read_cb while it is sent (chunked), so a
 * large body never sits in memory. The reply is handled as by cms_engine_stream. A read_cb
 * abort ends the call with 400 "request body aborted" unless the reply already failed. */
int cms_engine_upload(struct cms_engine *e, const struct cms_engine_req *req,
                      cms_engine_read_cb read_cb, void *read_ud, cms_engine_data_cb on_data,
                      cms_engine_stop_cb should_stop, void *userdata, struct cms_error *err);

/* Engine stream format: 8-byte header {stream, 0, 0, 0, size32be} then payload. With raw (a TTY
 * container) the bytes are passed through as stdout. Frames may be split across feeds. */
enum { CMS_STREAM_STDIN = 0, CMS_STREAM_STDOUT = 1, CMS_STREAM_STDERR = 2 };
typedef int (*cms_demux_cb)(int stream, const char *data, size_t len, void *userdata);
struct cms_demux {
        bool raw;
        unsigned char hdr[8];
        size_t hdr_len;   /* header bytes gathered so far */
        size_t remaining; /* payload bytes left in the current frame */
        int stream;
};
void cms_demux_init(struct cms_demux *d, bool raw);
/* Returns 0, the callback's nonzero value, or -EBADMSG on a malformed header (stream byte > 2). */
int cms_demux_feed(struct cms_demux *d, const char *data, size_t len, cms_demux_cb cb, void *ud);
/* -EBADMSG when the input ended inside a frame, 0 otherwise. */
int cms_demux_finish(const struct cms_demux *d);

/* Hijacked call (exec start with stdin): sends req with "Connection: Upgrade" / "Upgrade: tcp",
 * writes send_data (may be empty) after the reply header, half-closes the write side so the
 * process sees EOF, then hands every byte read until the engine closes to on_data (the caller
 * demultiplexes). Engine errors map as in cms_engine_call. Honours req->timeout_ms. */
int cms_engine_hijack(struct cms_engine *e, const struct cms_engine_req *req, const char *send_data,
                      size_t send_len, cms_engine_data_cb on_data, void *userdata,
                      struct cms_error *err);
