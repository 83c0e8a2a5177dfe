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
        struct cms_error e = {0};
        long status;
        int r = cms_engine_json_req(m->engine, &req, body, out, &status, &e);
        if (r < 0 && status >= 400)
                remap(op, status, &e);
        if (r < 0 && err)
                *err = e;
        return r;
}

int cms_res_filtered(struct cms_manager *m, enum cms_res_op op, const char *method,
                     const char *prefix, const char *const *labels, json_object *extra,
                     json_object **out, struct cms_error *err)
{
        _cleanup_free_ char *f = NULL;
        int r = cms_label_filters(labels, extra, &f, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = cms_strdup_printf("%s?filters=%s", prefix, f);
        return cms_res_call(m, op, method, path, NULL, NULL, out, err);
}

json_object *cms_res_strings(json_object *doc, const char *member, const char *field)
{
        json_object *arr = json_object_new_array();
        cms_json_strings_into(doc, member, field, arr);
        return arr;
}
