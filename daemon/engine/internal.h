/* What the engine client's own files share and nothing else may use: the engine object, the
 * state bookkeeping (up/down, negotiated version), request-path building, error mapping and the
 * pure detection helpers that the unit tests exercise directly. */
#pragma once

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>

#include "engine.h"

#define CMS_ENG_DEFAULT_TIMEOUT_MS 30000L
#define CMS_ENG_CONNECT_TIMEOUT_MS 3000L
#define CMS_ENG_PROBE_TIMEOUT_MS   5000L
#define CMS_ENG_MAX_REPLY          ((size_t)64 << 20)
#define CMS_ENG_POOL_MAX           32
#define CMS_ENG_LIBPOD_PREFIX      "/v4.0.0"
/* Auto-probes (a call made while the engine is unknown or down) are at most this frequent. */
#define CMS_ENG_REPROBE_MS 1000

struct cms_eng_handle; /* a pooled libcurl easy + multi pair, see transport.c */

struct cms_engine {
        char *url;         /* resolved, as the user would write it */
        char *socket_path; /* unix:// only */
        char *base;        /* what curl's URL starts with: "http://localhost" or "http://h:p" */
        char *host;        /* tcp:// only, for the raw hijack socket */
        char *port;
        char *tls_ca, *tls_cert, *tls_key; /* tcp:// with TLS: the CA and the client pair */
        _Atomic long timeout_ms; /* the default call timeout (cms_engine_set_timeout) */

        pthread_mutex_t lock; /* pool and state below; never held across I/O */
        struct cms_eng_handle *pool[CMS_ENG_POOL_MAX];
        size_t npool;
        bool up;
        enum cms_runtime runtime;
        char version[64];
        char api[16];
        int64_t last_probe_ms; /* last automatic probe attempt */
        /* When a call last got a whole reply (cms_now_ms): a quiet stream asks the engine's
         * /_ping only when nothing else has heard from the engine for a while. */
        _Atomic int64_t alive_ms;
        bool stale; /* went down since the last successful probe: may be another engine now */

        /* One probe at a time (probing, under lock). A caller that finds one running waits
         * for its verdict, never longer than the probe's own timeout, instead of probing again
         * after it: against an engine that accepts and never answers, 20 callers serialized on
         * a probe lock answered one probe timeout after the other. */
        pthread_cond_t probe_cv;
        bool probing;
        uint64_t probe_gen; /* probes finished */
        int probe_rc;       /* the last probe's verdict */
        struct cms_error probe_err;
};

/* What one transfer observed, besides the body. */
struct cms_eng_result {
        long status;
        bool libpod;      /* the reply carried a Libpod-Api-Version header */
        char api_hdr[16]; /* the reply's Api-Version header, if any */
};

/* A request body read from a callback (cms_engine_upload). */
struct cms_eng_upload {
        cms_engine_read_cb read;
        void *ud;
        bool aborted;
};

/* transport.c: what reaches the engine on any easy handle (unix socket path, TLS files). */
void cms_eng_conn_opts(struct cms_engine *e, CURL *h);

/* The files' order, lowest first; a file calls only those before it:
 *   errors.c  state.c  transport.c  detect.c  engine.c  calls.c  hijack.c  (demux.c: pure) */

/* transport.c: one request on a pooled handle, path already final (prefix included). The reply
 * body is gathered into *body (cap from req) unless on_data is set and the status is 2xx; up,
 * when set, supplies the request body. Maps transport failures (503/504/502) but not HTTP
 * statuses; updates the up/down state. */
int cms_eng_transfer(struct cms_engine *e, const struct cms_engine_req *req, const char *path,
                     struct cms_buf *body, cms_engine_data_cb on_data,
                     cms_engine_stop_cb should_stop, void *userdata, struct cms_eng_result *res,
                     struct cms_eng_upload *up, struct cms_error *err);
void cms_eng_pool_free(struct cms_engine *e);
/* curl_global_init, once per process (pthread_once). */
int cms_eng_global_init(void);

/* state.c */
void cms_eng_set_up(struct cms_engine *e, bool up);
/* The path to send: versioned, libpod or verbatim (see engine.h). Owned by the caller. */
char *cms_eng_build_path(struct cms_engine *e, const char *path);
long cms_eng_timeout(struct cms_engine *e, const struct cms_engine_req *req);

/* engine.c */
/* Probes first when the runtime is unknown or the engine was marked down (rate-limited). Fails
 * only when that probe could not reach the engine. */
int cms_eng_ensure_ready(struct cms_engine *e, struct cms_error *err);
/* Every call's start: ensure_ready, then the path to send (*path owned by the caller). */
int cms_eng_begin(struct cms_engine *e, const struct cms_engine_req *req, char **path,
                  struct cms_error *err);

/* detect.c: probes, or waits for the verdict of the probe already running. force: probe (or
 * wait) even when the state does not call for it (cms_engine_probe); else only when the runtime
 * is unknown or the engine was down (rate-limited), returning 0 at once otherwise. */
int cms_eng_probe(struct cms_engine *e, bool force, struct cms_error *err);

/* errors.c: an engine HTTP error status and body -> err, keeping the engine's message. Returns
 * 0 for 1xx/2xx/3xx. */
int cms_eng_map_status(long status, const char *body, size_t len, struct cms_error *err);
int cms_eng_unavailable(struct cms_error *err, const char *fmt, ...) CMS_PRINTF(2, 3);
/* Parses a JSON reply body with a depth cap; an empty body gives NULL. 502 when not JSON. */
int cms_eng_parse_json(const char *body, size_t len, json_object **out, struct cms_error *err);

/* detect.c: pure helpers. */
/* Numeric compare of "major.minor" API versions: <0, 0, >0. Unparsable sorts lowest. */
int cms_eng_api_cmp(const char *a, const char *b);
/* From the /_ping Libpod header flag and the /version document: the runtime, the engine
 * version and the API version to use (min with CMS_ENGINE_MAX_API). api_hdr may be NULL. */
int cms_eng_detect(bool libpod_hdr, const char *api_hdr, json_object *version_doc,
                   enum cms_runtime *rt, char *version, size_t vlen, char *api, size_t alen,
                   struct cms_error *err);
