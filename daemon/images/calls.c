/* Engine calls for the image, network and volume managers. Docker reports several conflicts as
 * 403 ("has active endpoints", "pre-defined network") and Podman as 500 with a cause; the API
 * promises 409 conflict for those, with the engine's own words as the message. */
#include <strings.h>

#include "internal.h"

char *cms_res_path(const char *prefix, const char *name, const char *suffix)
{
        _cleanup_free_ char *e = name ? cms_url_escape(name) : NULL;
        return e ? cms_strdup_printf("%s/%s%s", prefix, e, suffix ? suffix : "") : NULL;
}

static bool says(const char *msg, const char *const *words)
{
        for (size_t i = 0; words[i]; i++)
                if (strcasestr(msg, words[i]))
                        return true;
        return false;
}

static void remap(enum cms_res_op op, long status, struct cms_error *err)
{
        static const char *const conflicts[] = {"already exists", "already in use", "already used",
                                                "is being used", "in use", "not connected",
                                                "already connected", "cannot be removed",
                                                "active endpoints", "pre-defined", "overlaps",
                                                "conflict", NULL};
        static const char *const bad[] = {"user specified IP address", "invalid", NULL};
        static const char *const missing[] = {"no such", "not found", "plugin", NULL};
        /* The engine's own trouble, not the caller's: Podman's host-interface scan races with
         * veths coming and going ("route ip+net: no such network interface"). */
        static const char *const internal[] = {"network interface", NULL};
        const char *msg = err->message;
        int to = err->status;
        if ((status == 403 || status == 500) && !says(msg, internal)) {
                if (op != CMS_RES_READ && says(msg, bad))
                        to = 400;
                else if (says(msg, conflicts))
                        to = 409;
                else if (status == 403 && op == CMS_RES_CHANGE)
                        to = 409;
                else if (status == 500 && says(msg, missing))
                        to = op == CMS_RES_CREATE ? 400 : 404;
        }
        if (to == 404 && op == CMS_RES_CREATE)
                to = 400;
        if (to != err->status) {
                char msg[sizeof(err->message)];
                snprintf(msg, sizeof(msg), "%s", err->message);
                cms_err(err, to, "%s", msg);
        }
}

int cms_res_call(struct cms_manager *m, enum cms_res_op op, const char *method, const char *path,
                 json_object *body, const char *const *headers, json_object **out,
                 struct cms_error *err)
{
        if (out)
                *out = NULL;
        if (!path)
                return cms_err(err, 500, "out of memory");
        struct cms_engine_req req = {.method = method, .path = path, .headers = headers};
        if (body) {
                size_t len;
                req.body = json_object_to_json_string_length(body, JSON_C_TO_STRING_PLAIN, &len);
                req.body_len = len;
                if (!req.body)
                        return cms_err(err, 500, "out of memory");
        }
        struct cms_engine_reply reply;
        struct cms_error e = {0};
        int r = cms_engine_call(m->engine, &req, &reply, &e);
        if (r < 0 && reply.status >= 400)
                remap(op, reply.status, &e);
        if (r == 0 && out && reply.len) {
                *out = json_tokener_parse(reply.body);
                if (!*out)
                        r = cms_err(&e, 502, "the engine's reply to %s %s is not JSON", method, path);
        }
        cms_engine_reply_free(&reply);
        if (r < 0 && err)
                *err = e;
        return r;
}

json_object *cms_res_strings(json_object *doc, const char *member, const char *field)
{
        json_object *arr = json_object_new_array();
        json_object *list = cms_json_get(doc, member);
        size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *it = json_object_array_get_idx(list, i);
                if (field)
                        it = cms_json_get(it, field);
                if (json_object_is_type(it, json_type_string))
                        json_object_array_add(arr, json_object_new_string(json_object_get_string(it)));
        }
        return arr;
}
