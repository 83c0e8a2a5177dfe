/* The engine client's public calls: one JSON or raw request, a streamed reply, an upload. Each
 * makes sure the engine is known (engine.c), sends through the transport and maps an HTTP error
 * status into the API's terms (errors.c). */
#include "internal.h"

void cms_engine_reply_free(struct cms_engine_reply *r)
{
        if (!r)
                return;
        free(r->body);
        r->body = NULL;
        r->len = 0;
}

static size_t reply_cap(const struct cms_engine_req *req)
{
        return req->max_reply ? req->max_reply : CMS_ENG_MAX_REPLY;
}

/* Every call's body: know the engine, send, gather the reply (or, for a streamed 2xx, hand it to
 * on_data). *res says what came back. */
static int exchange(struct cms_engine *e, const struct cms_engine_req *req, struct cms_buf *body,
                    cms_engine_data_cb on_data, cms_engine_stop_cb should_stop, void *userdata,
                    struct cms_eng_upload *up, struct cms_eng_result *res, struct cms_error *err)
{
        _cleanup_free_ char *path = NULL;
        int r = cms_eng_begin(e, req, &path, err);
        if (r < 0)
                return r;
        cms_buf_init(body, reply_cap(req));
        return cms_eng_transfer(e, req, path, body, on_data, should_stop, userdata, res, up, err);
}

int cms_engine_call(struct cms_engine *e, const struct cms_engine_req *req,
                    struct cms_engine_reply *reply, struct cms_error *err)
{
        memset(reply, 0, sizeof(*reply));
        _cleanup_buf_ struct cms_buf body = {0};
        struct cms_eng_result res = {0};
        int r = exchange(e, req, &body, NULL, NULL, NULL, NULL, &res, err);
        if (r < 0)
                return r;
        reply->status = res.status;
        reply->len = body.len;
        reply->body = cms_buf_take(&body);
        if (!reply->body)
                return cms_err(err, 500, "out of memory");
        return cms_eng_map_status(res.status, reply->body, reply->len, err);
}

/* A streamed call's end: 0 for 2xx, else the gathered reply's error. */
static int stream_end(int r, const struct cms_eng_result *res, const struct cms_buf *body,
                      struct cms_error *err)
{
        if (r < 0 || (res->status >= 200 && res->status < 300))
                return r;
        return cms_eng_map_status(res->status, body->data, body->len, err);
}

int cms_engine_stream(struct cms_engine *e, const struct cms_engine_req *req,
                      cms_engine_data_cb on_data, cms_engine_stop_cb should_stop, void *userdata,
                      struct cms_error *err)
{
        _cleanup_buf_ struct cms_buf body = {0};
        struct cms_eng_result res = {0};
        int r = exchange(e, req, &body, on_data, should_stop, userdata, NULL, &res, err);
        return stream_end(r, &res, &body, err);
}

int cms_engine_upload(struct cms_engine *e, const struct cms_engine_req *req,
                      cms_engine_read_cb read_cb, void *read_ud, cms_engine_data_cb on_data,
                      cms_engine_stop_cb should_stop, void *userdata, struct cms_error *err)
{
        _cleanup_buf_ struct cms_buf body = {0};
        struct cms_eng_result res = {0};
        struct cms_eng_upload up = {.read = read_cb, .ud = read_ud};
        int r = exchange(e, req, &body, on_data, should_stop, userdata, &up, &res, err);
        return stream_end(r, &res, &body, err);
}

int cms_engine_json_req(struct cms_engine *e, struct cms_engine_req *req, json_object *body,
                        json_object **out, long *status, struct cms_error *err)
{
        if (out)
                *out = NULL;
        if (status)
                *status = 0;
        if (body) {
                size_t len;
                req->body = json_object_to_json_string_length(body, JSON_C_TO_STRING_PLAIN, &len);
                req->body_len = len;
                if (!req->body)
                        return cms_err(err, 500, "out of memory");
        }
        struct cms_engine_reply reply;
        int r = cms_engine_call(e, req, &reply, err);
        if (status)
                *status = reply.status;
        if (r == 0 && out)
                r = cms_eng_parse_json(reply.body, reply.len, out, err);
        cms_engine_reply_free(&reply);
        return r;
}

int cms_engine_json(struct cms_engine *e, const char *method, const char *path, json_object *body,
                    json_object **out, struct cms_error *err)
{
        struct cms_engine_req req = {.method = method, .path = path};
        return cms_engine_json_req(e, &req, body, out, NULL, err);
}
