/* Pulls and pushes: registry credentials as X-Registry-Auth, progress through the caller's
 * callback, and failures that the engine reports inside its 200 progress stream turned into
 * errors that carry the registry's reason (an unknown image is 404, the rest 502). */
#include <strings.h>

#include "internal.h"

#define TRANSFER_TIMEOUT_MS (60L * 60 * 1000)

struct xfer_ref {
        char repo[520];   /* "127.0.0.1:5000/team/app" */
        char tag[170];    /* a tag or a digest */
        char full[700];   /* "repo:tag" or "repo@digest" */
        char domain[256]; /* for the default serveraddress */
};

/* ref (+ a separate tag, which may not contradict it) -> repo, tag-or-digest, full name. */
static int xfer_ref_make(const char *ref, const char *tag, bool allow_digest, struct xfer_ref *x,
                         struct cms_error *err)
{
        struct cms_image_ref r;
        int rc = cms_image_ref_parse(ref, &r, err);
        if (rc < 0)
                return rc;
        if (*r.digest && !allow_digest)
                return cms_err(err, 400,
                               "image reference '%.200s': a digest cannot be pushed; name a tag",
                               ref);
        if (tag && (*r.tag || *r.digest))
                return cms_err(
                    err, 400,
                    "give the tag either in the reference ('%.200s') or as \"tag\", not both", ref);
        if (tag) {
                _cleanup_free_ char *t = cms_strdup_printf("x:%s", tag);
                struct cms_image_ref tr;
                if (!t || cms_image_ref_parse(t, &tr, NULL) < 0 || strcmp(tr.tag, tag))
                        return cms_err(err, 400, "body.tag: invalid tag '%.130s'", tag);
                snprintf(r.tag, sizeof(r.tag), "%s", tag);
        }
        memset(x, 0, sizeof(*x));
        cms_image_ref_repo(&r, x->repo, sizeof(x->repo));
        snprintf(x->domain, sizeof(x->domain), "%s", *r.domain ? r.domain : "docker.io");
        if (*r.digest) {
                snprintf(x->tag, sizeof(x->tag), "%s", r.digest);
                snprintf(x->full, sizeof(x->full), "%s@%s", x->repo, r.digest);
        } else {
                snprintf(x->tag, sizeof(x->tag), "%s", *r.tag ? r.tag : "latest");
                snprintf(x->full, sizeof(x->full), "%s:%s", x->repo, x->tag);
        }
        return 0;
}

/* The X-Registry-Auth header line for auth (may be NULL: an empty config), with the reference's
 * registry as serveraddress when the caller gave none. */
static int auth_line(json_object *auth, const struct xfer_ref *x, char **out, struct cms_error *err)
{
        *out = NULL;
        if (auth && !json_object_is_type(auth, json_type_object))
                return cms_err(
                    err, 400,
                    "body.auth: expected an object {\"username\",\"password\",\"serveraddress\"}");
        _cleanup_json_ json_object *a =
            auth ? json_tokener_parse(json_object_to_json_string(auth)) : NULL;
        if (a && !cms_json_get(a, "serveraddress"))
                json_object_object_add(a, "serveraddress", json_object_new_string(x->domain));
        return cms_registry_auth_header(a, "body.auth", out, err);
}

static bool says_missing(const char *msg)
{
        static const char *const words[] = {
            "manifest unknown",          "not found", "does not exist", "name unknown",
            "repository name not known", NULL};
        for (size_t i = 0; words[i]; i++)
                if (strcasestr(msg, words[i]))
                        return true;
        return false;
}

/* An engine or registry failure, named for the operation; unknown images are 404. */
static int transfer_error(const char *op, const char *name, const char *reason, int status,
                          struct cms_error *err)
{
        char msg[sizeof(err->message)];
        snprintf(msg, sizeof(msg), "%s", reason);
        if (status == 503 || status == 504 || status == 400 || status == 500)
                return cms_err(err, status, "%s", msg);
        return cms_err(err, says_missing(msg) ? 404 : 502, "%s of %s failed: %s", op, name, msg);
}

static int run_transfer(struct cms_manager *m, const char *op, const char *name, const char *path,
                        const char *auth, cms_progress_cb cb, cms_engine_stop_cb should_stop,
                        void *ud, struct cms_img_progress *p, struct cms_error *err)
{
        const char *hdrs[] = {auth, NULL};
        struct cms_engine_req req = {.method = "POST",
                                     .path = path,
                                     .headers = auth ? hdrs : NULL,
                                     .timeout_ms = TRANSFER_TIMEOUT_MS};
        struct cms_error e = {0};
        cms_img_progress_init(p, cb, should_stop, ud);
        int r = cms_engine_stream(m->engine, &req, cms_img_progress_feed,
                                  cms_img_progress_should_stop, p, &e);
        cms_img_progress_finish(p);
        if (r < 0)
                return transfer_error(op, name, e.message, e.status, err);
        if (p->error[0])
                return transfer_error(op, name, p->error, 502, err);
        if (cms_img_progress_should_stop(p))
                return cms_err(err, 503,
                               "%s of %s stopped: the client left or cmsd is shutting down", op,
                               name);
        return 0;
}

int cms_images_pull_check(json_object *body, struct cms_error *err)
{
        static const char *const keys[] = {"image", "tag", "auth", NULL};
        const char *image, *tag;
        int r;
        if (!json_object_is_type(body, json_type_object))
                return cms_err(err, 400, "body: expected a JSON object {\"image\": ...}");
        if ((r = cms_json_check_keys(body, "body", keys, err)) < 0 ||
            (r = cms_json_get_string(body, "body", "image", &image, err)) < 0 ||
            (r = cms_json_get_string(body, "body", "tag", &tag, err)) < 0)
                return r;
        if (!image)
                return cms_err(err, 400, "body.image: required");
        struct xfer_ref x;
        _cleanup_free_ char *auth = NULL;
        if ((r = xfer_ref_make(image, tag, true, &x, err)) < 0)
                return r;
        return auth_line(cms_json_get(body, "auth"), &x, &auth, err);
}

static int pull(struct cms_manager *m, const struct xfer_ref *x, const char *auth,
                cms_progress_cb cb, cms_engine_stop_cb should_stop, void *ud, struct cms_error *err)
{
        _cleanup_free_ char *er = cms_url_escape(x->repo), *et = cms_url_escape(x->tag);
        _cleanup_free_ char *path =
            er && et ? cms_strdup_printf("/images/create?fromImage=%s&tag=%s", er, et) : NULL;
        if (!path)
                return cms_err(err, 500, "out of memory");
        struct cms_img_progress p;
        int r = run_transfer(m, "pull", x->full, path, auth, cb, should_stop, ud, &p, err);
        cms_img_progress_done(&p);
        return r;
}

int cms_images_pull(struct cms_manager *m, json_object *body, cms_progress_cb cb,
                    cms_engine_stop_cb should_stop, void *userdata, json_object **out,
                    struct cms_error *err)
{
        int r = cms_images_pull_check(body, err);
        if (r < 0)
                return r;
        const char *image = json_object_get_string(cms_json_get(body, "image"));
        const char *tag = json_object_get_string(cms_json_get(body, "tag"));
        struct xfer_ref x;
        _cleanup_free_ char *auth = NULL;
        if ((r = xfer_ref_make(image, tag, true, &x, err)) < 0 ||
            (r = auth_line(cms_json_get(body, "auth"), &x, &auth, err)) < 0 ||
            (r = pull(m, &x, cms_json_get(body, "auth") ? auth : NULL, cb, should_stop, userdata,
                      err)) < 0)
                return r;
        _cleanup_json_ json_object *img = NULL;
        if ((r = cms_images_inspect(m, x.full, &img, err)) < 0)
                return r;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "image", json_object_new_string(x.full));
        json_object_object_add(o, "id", json_object_get(cms_json_get(img, "id")));
        json_object_object_add(o, "digests", json_object_get(cms_json_get(img, "digests")));
        *out = o;
        return 0;
}

int cms_images_pull_ref(struct cms_manager *m, const char *image, struct cms_error *err)
{
        return cms_images_pull_ref_auth(m, image, NULL, err);
}

/* A pull made on behalf of another request ends when cmsd shuts down. */
static int draining(void *userdata)
{
        struct cms_manager *m = userdata;
        return atomic_load(&m->draining);
}

int cms_images_pull_ref_auth(struct cms_manager *m, const char *image, json_object *auth,
                             struct cms_error *err)
{
        struct xfer_ref x;
        _cleanup_free_ char *hdr = NULL;
        int r = xfer_ref_make(image, NULL, true, &x, err);
        if (r == 0 && auth)
                r = auth_line(auth, &x, &hdr, err);
        return r < 0 ? r : pull(m, &x, hdr, NULL, draining, m, err);
}

static int push_prepare(const char *ref, json_object *body, struct xfer_ref *x, char **auth,
                        struct cms_error *err)
{
        static const char *const keys[] = {"tag", "auth", NULL};
        const char *tag = NULL;
        int r;
        if (body && !json_object_is_type(body, json_type_object))
                return cms_err(err, 400, "body: expected a JSON object {\"tag\"?, \"auth\"?}");
        if ((r = cms_json_check_keys(body, "body", keys, err)) < 0 ||
            (r = cms_json_get_string(body, "body", "tag", &tag, err)) < 0 ||
            (r = xfer_ref_make(ref, tag, false, x, err)) < 0)
                return r;
        return auth_line(cms_json_get(body, "auth"), x, auth, err);
}

int cms_images_push_check(struct cms_manager *m, const char *ref, json_object *body,
                          struct cms_error *err)
{
        struct xfer_ref x;
        _cleanup_free_ char *auth = NULL;
        _cleanup_json_ json_object *img = NULL;
        int r = push_prepare(ref, body, &x, &auth, err);
        return r < 0 ? r : cms_images_inspect(m, x.full, &img, err);
}

int cms_images_push(struct cms_manager *m, const char *ref, json_object *body, cms_progress_cb cb,
                    cms_engine_stop_cb should_stop, void *userdata, json_object **out,
                    struct cms_error *err)
{
        struct xfer_ref x;
        _cleanup_free_ char *auth = NULL;
        int r = cms_images_push_check(m, ref, body, err);
        if (r < 0 || (r = push_prepare(ref, body, &x, &auth, err)) < 0)
                return r;
        _cleanup_free_ char *er = cms_url_escape(x.repo), *et = cms_url_escape(x.tag);
        _cleanup_free_ char *path =
            er && et ? cms_strdup_printf("/images/%s/push?tag=%s", er, et) : NULL;
        if (!path)
                return cms_err(err, 500, "out of memory");
        struct cms_img_progress p;
        r = run_transfer(m, "push", x.full, path, auth, cb, should_stop, userdata, &p, err);
        if (r == 0) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "image", json_object_new_string(x.full));
                json_object_object_add(o, "digest",
                                       p.digest[0] ? json_object_new_string(p.digest) : NULL);
                json_object_object_add(o, "size",
                                       p.size >= 0 ? json_object_new_int64(p.size) : NULL);
                *out = o;
        }
        cms_img_progress_done(&p);
        return r;
}
