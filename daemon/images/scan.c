/* The image scanner's manager: POST/GET /v1/images/{ref}/scan and the vulnerability database
 * routes (GET/POST /v1/vulndb). The builtin scanner matches the image's SBOM (images/sbom.c,
 * cached per image id) against the database under state_dir/vulndb (daemon/scan/db*.c); results
 * are cached per image id under state_dir/scan/, written atomically, for GET. */
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "../scan/match.h"
#include "internal.h"

static char *state_path(struct cms_manager *m, const char *sub)
{
        const struct cms_config *c = cms_manager_config_rdlock(m);
        char *d = cms_strdup_printf("%s/%s", c->state_dir ? c->state_dir : "", sub);
        cms_manager_config_unlock(m);
        return d;
}

int cms_images_vulndb_status(struct cms_manager *m, json_object **out, struct cms_error *err)
{
        _cleanup_free_ char *dir = state_path(m, "vulndb");
        if (!dir)
                return cms_err(err, 500, "out of memory");
        return cms_vulndb_status(dir, out, err);
}

int cms_images_vulndb_import_stream(struct cms_manager *m, cms_archive_read_cb read, void *ud,
                                    json_object **out, struct cms_error *err)
{
        _cleanup_free_ char *dir = state_path(m, "vulndb");
        if (!dir)
                return cms_err(err, 500, "out of memory");
        return cms_vulndb_import_stream(dir, read, ud, NULL, out, err);
}

int cms_images_vulndb_import(struct cms_manager *m, json_object *body, json_object **out,
                             struct cms_error *err)
{
        static const char *const keys[] = {"path", NULL};
        const char *path = NULL;
        if (cms_json_check_keys(body, "body", keys, err) < 0 ||
            cms_json_get_string(body, "body", "path", &path, err) < 0)
                return -EINVAL;
        if (!path)
                return cms_err(err, 400,
                               "body: path is required (or send the records as a zip "
                               "or tar body)");
        _cleanup_free_ char *dir = state_path(m, "vulndb");
        if (!dir)
                return cms_err(err, 500, "out of memory");
        return cms_vulndb_import_path(dir, path, NULL, out, err);
}

/* The image's id ("sha256:<64 hex>") from the engine's inspect. */
static int image_id(struct cms_manager *m, const char *ref, char id[72], struct cms_error *err)
{
        _cleanup_json_ json_object *raw = NULL;
        int r = cms_image_path_ref_check(ref, err);
        _cleanup_free_ char *ipath = r < 0 ? NULL : cms_res_path("/images", ref, "/json");
        if (r < 0 || (r = cms_res_call(m, CMS_RES_READ, "GET", ipath, NULL, NULL, &raw, err)) < 0)
                return r;
        const char *s = json_object_get_string(cms_json_get(raw, "Id"));
        if (!s || strncmp(s, "sha256:", 7) || strlen(s) != 71 ||
            strspn(s + 7, "0123456789abcdef") != 64)
                return cms_err(err, 502, "the engine's inspect of image %s has no sha256 Id", ref);
        memcpy(id, s, 72);
        return 0;
}

static char *cache_path(struct cms_manager *m, const char *id)
{
        _cleanup_free_ char *dir = state_path(m, "scan");
        return dir ? cms_strdup_printf("%s/%s.json", dir, id + 7) : NULL;
}

/* Written to a temporary file and renamed over: a reader sees a whole result. A failure only
 * costs GET its cached answer. */
static void cache_store(struct cms_manager *m, const char *id, json_object *doc)
{
        _cleanup_free_ char *dir = state_path(m, "scan"), *dst = cache_path(m, id);
        size_t len;
        const char *text = json_object_to_json_string_length(doc, JSON_C_TO_STRING_PLAIN, &len);
        if (dir && dst && cms_mkdir_p(dir, 0700) == 0)
                cms_write_file_atomic(dst, text, len, 0600);
}

int cms_images_scan_get(struct cms_manager *m, const char *ref, json_object **out,
                        struct cms_error *err)
{
        char id[72];
        *out = NULL;
        int r = image_id(m, ref, id, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *p = cache_path(m, id);
        if (!p)
                return cms_err(err, 500, "out of memory");
        json_object *doc = access(p, F_OK) == 0 ? json_object_from_file(p) : NULL;
        if (!json_object_is_type(doc, json_type_object)) {
                json_object_put(doc);
                return cms_err(err, 404, "no scan of image %s yet (POST /v1/images/%s/scan)", ref,
                               ref);
        }
        json_object_object_add(doc, "image", json_object_new_string(ref));
        *out = doc;
        return 0;
}

static const char *sbom_prop(json_object *sbom, const char *name)
{
        json_object *props =
            cms_json_get(cms_json_get(cms_json_get(sbom, "metadata"), "component"), "properties");
        for (size_t i = 0; i < json_object_array_length(props); i++) {
                json_object *p = json_object_array_get_idx(props, i);
                const char *n = json_object_get_string(cms_json_get(p, "name"));
                if (n && !strcmp(n, name))
                        return json_object_get_string(cms_json_get(p, "value"));
        }
        return NULL;
}

static int scan_opts(json_object *body, struct cms_scan_opts *o, const char **scanner,
                     struct cms_error *err)
{
        static const char *const keys[] = {"severity", "scanner", "ignore_unfixed", NULL};
        const char *sev = NULL;
        *o = (struct cms_scan_opts){0};
        *scanner = NULL;
        if (cms_json_check_keys(body, "body", keys, err) < 0 ||
            cms_json_get_string(body, "body", "severity", &sev, err) < 0 ||
            cms_json_get_string(body, "body", "scanner", scanner, err) < 0 ||
            cms_json_get_bool(body, "body", "ignore_unfixed", false, &o->ignore_unfixed, err) < 0 ||
            cms_scan_severities(sev, &o->severities, err) < 0)
                return -EINVAL;
        if (!*scanner)
                *scanner = "builtin";
        if (!strcmp(*scanner, "trivy") || !strcmp(*scanner, "grype"))
                return cms_err(err, 501,
                               "scanner \"%s\": this cmsd has no %s adapter yet; use \"builtin\" "
                               "(OSV data imported with POST /v1/vulndb)",
                               *scanner, *scanner);
        if (strcmp(*scanner, "builtin"))
                return cms_err(err, 400, "body.scanner: \"%s\" is not one of builtin, trivy, grype",
                               *scanner);
        return 0;
}

int cms_images_scan(struct cms_manager *m, const char *ref, json_object *body, json_object **out,
                    struct cms_error *err)
{
        struct cms_scan_opts o;
        const char *scanner;
        *out = NULL;
        int r = scan_opts(body, &o, &scanner, err);
        _cleanup_free_ char *dir = state_path(m, "vulndb");
        struct cms_vulndb *db = NULL;
        if (r < 0 || !dir || (r = cms_vulndb_open(dir, &db, err)) < 0)
                return r < 0 ? r : cms_err(err, 500, "out of memory");
        _cleanup_json_ json_object *sbom = NULL;
        bool cached;
        json_object *res = NULL;
        if ((r = cms_images_sbom(m, ref, &sbom, &cached, err)) == 0)
                r = cms_scan_match(db, sbom, &o, &res, err);
        if (r < 0) {
                cms_vulndb_free(db);
                return r;
        }
        const char *id = json_object_get_string(
            cms_json_get(cms_json_get(cms_json_get(sbom, "metadata"), "component"), "bom-ref"));
        const char *digest = sbom_prop(sbom, "cmsd:image:repo_digest");
        const char *at = digest ? strchr(digest, '@') : NULL;
        char ts[32];
        time_t now = time(NULL);
        struct tm tm;
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        json_object_object_add(res, "image", json_object_new_string(ref));
        json_object_object_add(res, "id", id ? json_object_new_string(id) : NULL);
        json_object_object_add(res, "digest", json_object_new_string(at ? at + 1 : id ? id : ""));
        json_object_object_add(res, "scanner", json_object_new_string(scanner));
        json_object_object_add(res, "db", json_object_get(cms_vulndb_info(db)));
        json_object_object_add(res, "scanned_at", json_object_new_string(ts));
        cms_vulndb_free(db);
        if (id && strlen(id) == 71)
                cache_store(m, id, res);
        *out = res;
        return 0;
}
