/* daemon/images/: the image, network and volume managers (images.c, transfer.c, build.c,
 * networks.c, volumes.c), their pure model (model*.c), the tar of a build context with its
 * .dockerignore, and reference.c, the one image-reference grammar. It may call engine/ and
 * daemon's helpers only; containers/, projects/, compose/ (reference.c alone) and the handlers
 * call it.
 *
 * This header: what the managers share, engine calls whose errors are put in the API's terms
 * where the engines disagree (Docker's 403s and Podman's 500s for conflicts). */
#pragma once

#include "../manager.h"
#include "../security/enforce.h"
#include "model.h"

/* How an engine failure should read for the operation that made it. */
enum cms_res_op {
        CMS_RES_READ,   /* 404 stays 404 */
        CMS_RES_CREATE, /* 404 (an unknown driver or plugin) is the caller's mistake: 400 */
        CMS_RES_CHANGE, /* remove, connect, disconnect: 403/500 conflicts -> 409 */
};

/* A JSON call (body may be NULL, headers NULL-terminated or NULL); *out may be NULL. Engine
 * errors keep the engine's message; statuses are remapped as enum cms_res_op says. */
int cms_res_call(struct cms_manager *m, enum cms_res_op op, const char *method, const char *path,
                 json_object *body, const char *const *headers, json_object **out,
                 struct cms_error *err);
/* method "<prefix>?filters=<labels and extra, as the engines' filters JSON>" -> *out. */
int cms_res_filtered(struct cms_manager *m, enum cms_res_op op, const char *method,
                     const char *prefix, const char *const *labels, json_object *extra,
                     json_object **out, struct cms_error *err);
/* "<prefix>/<escaped name><suffix>"; NULL on OOM. */
char *cms_res_path(const char *prefix, const char *name, const char *suffix);
/* Array member of a prune reply's strings into a new array. */
json_object *cms_res_strings(json_object *doc, const char *member, const char *field);

/* progress.c: the engine's NDJSON progress stream (pull, push, build) read line by line
 * with a capped line buffer: progress goes to the caller's callback, and what decides the
 * outcome is kept: the first error, the digest, the built image id, and for builds the last
 * step's header and the tail of its output. */
struct cms_img_progress {
        struct cms_buf line;
        bool skipping;        /* inside an over-long line: dropped up to its newline */
        cms_progress_cb cb;
        cms_engine_stop_cb stop; /* the caller's, with the same userdata as cb */
        void *ud;
        bool stopped;         /* the callback asked to stop */
        char error[480];
        char digest[160];
        int64_t size;
        char id[160];
        char step[240];
        char tail[1024];      /* the last bytes of the current step's output */
        size_t tail_len;
};
void cms_img_progress_init(struct cms_img_progress *p, cms_progress_cb cb,
                           cms_engine_stop_cb stop, void *ud);
/* A cms_engine_stop_cb over the caller's: userdata is the struct cms_img_progress. */
int cms_img_progress_should_stop(void *userdata);
void cms_img_progress_done(struct cms_img_progress *p);
/* A cms_engine_data_cb: userdata is the struct cms_img_progress. */
int cms_img_progress_feed(const char *data, size_t len, void *userdata);
/* Flushes a last line that had no newline. */
void cms_img_progress_finish(struct cms_img_progress *p);
