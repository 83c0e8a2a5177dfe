/* cms_sbom_read (see sbom.h): one pass over an image export. Each layer tar is opened inside the
 * export as it comes (daemon/archive.c's nested reader) and reduced to a record
 * {"files": {path: parsed metadata, or null where a non-file now stands}, "wh": {path: 1 for a
 * whiteout of that path, 2 for an opaque directory}}; manifest.json, which engines write last,
 * then orders the records, and applying them in turn (a layer's whiteouts hide only what lies
 * below it, then its files overwrite) gives the final filesystem's metadata. What is kept is
 * bounded by cms_sbom_limits; the layers' data is read only where it is metadata. */
#include "sbom.h"

#define MAX_MANIFEST (1 << 20)
#define MAX_SKIPPED  100

struct reader {
        struct cms_sbom_limits l;
        struct cms_archive *outer;
        json_object *layers;  /* export path -> layer record */
        json_object *aliases; /* export path -> the path it links to */
        json_object *manifest;
        json_object *skipped;
        int64_t files, packages, bytes, nlayers;
        size_t wh_bytes;
};

static void limits_resolve(const struct cms_sbom_limits *in, struct cms_sbom_limits *l)
{
        *l = in ? *in : (struct cms_sbom_limits){0};
        l->max_os_db = l->max_os_db ? l->max_os_db : (size_t)64 << 20;
        l->max_lang_file = l->max_lang_file ? l->max_lang_file : (size_t)4 << 20;
        l->max_files = l->max_files > 0 ? l->max_files : 200000;
        l->max_packages = l->max_packages > 0 ? l->max_packages : 1000000;
        l->max_whiteouts = l->max_whiteouts ? l->max_whiteouts : (size_t)32 << 20;
        l->max_layers = l->max_layers > 0 ? l->max_layers : 512;
        l->max_entries = l->max_entries > 0 ? l->max_entries : 2000000;
        l->max_total = l->max_total > 0 ? l->max_total : (int64_t)64 << 30;
}

static const char *base_name(const char *p)
{
        const char *s = strrchr(p, '/');
        return s ? s + 1 : p;
}

/* dir(from) + "/" + link with "." and ".." resolved, into out; false when it leaves the root. */
static bool link_join(const char *from, const char *link, char *out, size_t cap)
{
        char tmp[2 * 4096 + 2];
        size_t dl = (size_t)(base_name(from) - from);
        if (link[0] == '/')
                dl = 0;
        snprintf(tmp, sizeof(tmp), "%.*s%s", (int)dl, from, link);
        size_t n = 0;
        for (char *save = NULL, *part = strtok_r(tmp, "/", &save); part;
             part = strtok_r(NULL, "/", &save)) {
                if (!strcmp(part, "."))
                        continue;
                if (!strcmp(part, "..")) {
                        if (n == 0)
                                return false;
                        while (n > 0 && out[n - 1] != '/')
                                n--;
                        n = n > 0 ? n - 1 : 0;
                        continue;
                }
                size_t pl = strlen(part);
                if (n + pl + 2 > cap)
                        return false;
                if (n)
                        out[n++] = '/';
                memcpy(out + n, part, pl);
                n += pl;
        }
        out[n] = 0;
        return n > 0;
}

static void skip_note(struct reader *rd, const char *path, const char *reason)
{
        if (json_object_array_length(rd->skipped) >= MAX_SKIPPED)
                return;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "path", json_object_new_string(path));
        json_object_object_add(o, "reason", json_object_new_string(reason));
        json_object_array_add(rd->skipped, o);
}

static int whiteout(struct reader *rd, json_object *wh, const char *path, struct cms_error *err)
{
        const char *base = base_name(path);
        size_t dl = (size_t)(base - path);
        bool opaque = !strcmp(base, ".wh..wh..opq");
        if (!opaque && !strncmp(base, ".wh..wh.", 8))
                return 0; /* aufs' own bookkeeping (.wh..wh.plnk, .wh..wh.aufs) */
        _cleanup_free_ char *key = opaque ? strndup(path, dl ? dl - 1 : 0)
                                          : cms_strdup_printf("%.*s%s", (int)dl, path, base + 4);
        if (!key)
                return cms_err(err, 500, "out of memory");
        rd->wh_bytes += strlen(key) + 32;
        if (rd->wh_bytes > rd->l.max_whiteouts)
                return cms_err(err, 422, "image: its layers' whiteouts exceed %zu bytes of paths",
                               rd->l.max_whiteouts);
        int bits = json_object_get_int(cms_json_get(wh, key)) | (opaque ? 2 : 1);
        json_object_object_add(wh, key, json_object_new_int(bits));
        return 0;
}

static int keep_file(struct reader *rd, struct cms_archive *in, json_object *files,
                     const struct cms_archive_entry *e, enum cms_sbom_kind kind,
                     struct cms_error *err)
{
        bool os_db = kind == CMS_SBOM_DPKG || kind == CMS_SBOM_APK;
        size_t cap = os_db ? rd->l.max_os_db : rd->l.max_lang_file;
        if (++rd->files > rd->l.max_files)
                return cms_err(err, 422, "image: more than %" PRId64 " package-metadata files",
                               rd->l.max_files);
        _cleanup_free_ char *text = NULL;
        size_t len;
        struct cms_error e2 = {0};
        if (os_db && e->size > (int64_t)cap)
                return cms_err(err, 422, "image: /%.300s is larger than %zu bytes", e->path, cap);
        if (!os_db && e->size > (int64_t)cap) {
                skip_note(rd, e->path, "larger than the cap for a metadata file");
                return 0;
        }
        if (cms_archive_read_all(in, cap, &text, &len, &e2) < 0) {
                if (e2.status == 413 && !os_db) {
                        skip_note(rd, e->path, "larger than the cap for a metadata file");
                        return 0;
                }
                if (e2.status == 413)
                        return cms_err(err, 422, "image: /%.300s is larger than %zu bytes", e->path,
                                       cap);
                *err = e2;
                return -1;
        }
        json_object *parsed;
        if (cms_sbom_parse(kind, e->path, text, len, &parsed, err) < 0)
                return -1;
        if (json_object_is_type(parsed, json_type_array))
                rd->packages += (int64_t)json_object_array_length(parsed);
        json_object_object_add(files, e->path, parsed);
        if (rd->packages > rd->l.max_packages)
                return cms_err(err, 422, "image: more than %" PRId64 " packages",
                               rd->l.max_packages);
        return 0;
}

static int layer_entries(struct reader *rd, struct cms_archive *in, json_object *rec,
                         struct cms_error *err)
{
        json_object *files = cms_json_get(rec, "files"), *wh = cms_json_get(rec, "wh");
        struct cms_archive_entry e;
        int r;
        while ((r = cms_archive_next(in, &e, err)) == 1) {
                rd->bytes += e.size > 0 ? e.size : 0;
                if (rd->bytes > rd->l.max_total)
                        return cms_err(err, 422,
                                       "image: its layers hold more than %" PRId64 " bytes",
                                       rd->l.max_total);
                if (!strncmp(base_name(e.path), ".wh.", 4)) {
                        if (whiteout(rd, wh, e.path, err) < 0)
                                return -1;
                        continue;
                }
                enum cms_sbom_kind kind = cms_sbom_kind(e.path);
                if (kind == CMS_SBOM_NONE)
                        continue;
                if (e.type != CMS_ARCHIVE_FILE) {
                        /* A link or directory now stands where metadata was: it hides it. */
                        json_object_object_add(files, e.path, NULL);
                        continue;
                }
                if (keep_file(rd, in, files, &e, kind, err) < 0)
                        return -1;
        }
        return r;
}

/* An export entry that may be a layer: read it as a tar; one that is none (a config or
 * manifest blob in the OCI layout) is passed over. */
static int read_layer(struct reader *rd, const char *path, struct cms_error *err)
{
        struct cms_archive_limits il = {
            .max_entries = rd->l.max_entries, .max_total = rd->l.max_total, .bad_status = 422};
        struct cms_archive *in = NULL;
        struct cms_error e2 = {0};
        if (cms_archive_open_stream(cms_archive_entry_reader, rd->outer, CMS_ARCHIVE_TAR, &il, &in,
                                    &e2) < 0) {
                const struct cms_error *oe = cms_archive_error(rd->outer);
                if (oe->status) {
                        *err = *oe;
                        return -1;
                }
                return e2.status == 500 ? (*err = e2, -1) : 0;
        }
        if (++rd->nlayers > rd->l.max_layers) {
                cms_archive_free(in);
                return cms_err(err, 422, "image: more than %" PRId64 " layers", rd->l.max_layers);
        }
        json_object *rec = json_object_new_object();
        json_object_object_add(rec, "files", json_object_new_object());
        json_object_object_add(rec, "wh", json_object_new_object());
        json_object_object_add(rd->layers, path, rec);
        int r = layer_entries(rd, in, rec, err);
        cms_archive_free(in);
        const struct cms_error *oe = cms_archive_error(rd->outer);
        if (r < 0 && oe->status)
                *err = *oe; /* the export itself failed under the layer */
        if (r < 0 && err && err->status == 422 && strncmp(err->message, "image:", 6)) {
                char why[sizeof(err->message)];
                snprintf(why, sizeof(why), "%s", err->message);
                cms_err(err, 422, "image: layer %.200s: %.250s", path, why);
        }
        return r < 0 ? -1 : 0;
}

static int read_manifest(struct reader *rd, struct cms_error *err)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        if (cms_archive_read_all(rd->outer, MAX_MANIFEST, &text, &len, err) < 0)
                return -1;
        json_tokener *tok = json_tokener_new_ex(16);
        json_object_put(rd->manifest);
        rd->manifest = tok ? json_tokener_parse_ex(tok, text, (int)len) : NULL;
        json_tokener_free(tok);
        if (!json_object_is_type(rd->manifest, json_type_array))
                return cms_err(err, 422, "image: the export's manifest.json is not a JSON array");
        return 0;
}

static int read_export(struct reader *rd, struct cms_error *err)
{
        static const char *const not_layers[] = {"json", "VERSION", "repositories", "oci-layout",
                                                 NULL};
        struct cms_archive_entry e;
        int r;
        while ((r = cms_archive_next(rd->outer, &e, err)) == 1) {
                const char *base = base_name(e.path);
                char target[4097];
                if (e.type == CMS_ARCHIVE_SYMLINK || e.type == CMS_ARCHIVE_HARDLINK) {
                        /* Podman links "<id>/layer.tar" to "../<digest>.tar". */
                        if (e.type == CMS_ARCHIVE_HARDLINK)
                                snprintf(target, sizeof(target), "%s", e.link);
                        else if (!link_join(e.path, e.link, target, sizeof(target)))
                                continue;
                        json_object_object_add(rd->aliases, e.path, json_object_new_string(target));
                        continue;
                }
                if (e.type != CMS_ARCHIVE_FILE)
                        continue;
                if (!strcmp(e.path, "manifest.json")) {
                        if (read_manifest(rd, err) < 0)
                                return -1;
                        continue;
                }
                bool skip = strlen(base) > 5 && !strcmp(base + strlen(base) - 5, ".json");
                for (size_t i = 0; not_layers[i] && !skip; i++)
                        skip = !strcmp(base, not_layers[i]);
                if (!skip && read_layer(rd, e.path, err) < 0)
                        return -1;
        }
        return r;
}

/* Whether wh (a layer's whiteouts) hides path of a lower layer. */
static bool hidden(json_object *wh, const char *path)
{
        char buf[4097];
        snprintf(buf, sizeof(buf), "%s", path);
        if (json_object_get_int(cms_json_get(wh, "")) & 2)
                return true;
        for (size_t i = 0;; i++) {
                char c = buf[i];
                if (c != '/' && c != 0)
                        continue;
                buf[i] = 0;
                int bits = json_object_get_int(cms_json_get(wh, buf));
                buf[i] = c;
                if ((bits & 1) || ((bits & 2) && c))
                        return true;
                if (!c)
                        return false;
        }
}

static json_object *layer_for(struct reader *rd, const char *path)
{
        for (int hops = 0; path && hops < 8; hops++) {
                json_object *rec = cms_json_get(rd->layers, path);
                if (rec)
                        return rec;
                path = json_object_get_string(cms_json_get(rd->aliases, path));
        }
        return NULL;
}

/* Applies one layer over the view. */
static int apply(json_object *view, json_object *rec)
{
        json_object *wh = cms_json_get(rec, "wh");
        if (json_object_object_length(wh) > 0) {
                _cleanup_json_ json_object *gone = json_object_new_array();
                json_object_object_foreach(view, k, v)
                {
                        (void)v;
                        if (hidden(wh, k))
                                json_object_array_add(gone, json_object_new_string(k));
                }
                for (size_t i = 0; i < json_object_array_length(gone); i++)
                        json_object_object_del(
                            view, json_object_get_string(json_object_array_get_idx(gone, i)));
        }
        json_object_object_foreach(cms_json_get(rec, "files"), k, v)
        {
                if (v)
                        json_object_object_add(view, k, json_object_get(v));
                else
                        json_object_object_del(view, k);
        }
        return 0;
}

static int pkg_cmp(const void *a, const void *b)
{
        json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
        static const char *const keys[] = {"type", "name", "version", "path"};
        for (size_t i = 0; i < 4; i++) {
                int c = strcmp(json_object_get_string(cms_json_get(x, keys[i])),
                               json_object_get_string(cms_json_get(y, keys[i])));
                if (c)
                        return c;
        }
        return 0;
}

/* The view's metadata as the inventory of sbom.h. */
static json_object *inventory(json_object *view, int64_t layers, json_object *skipped)
{
        json_object *inv = json_object_new_object(), *pkgs = json_object_new_array();
        json_object *os = cms_json_get(view, "etc/os-release");
        if (!os)
                os = cms_json_get(view, "usr/lib/os-release");
        os = os ? json_object_get(os) : NULL;
        json_object *debver = cms_json_get(view, "etc/debian_version");
        if (os && cms_json_get(debver, "debian_version"))
                json_object_object_add(os, "debian_version",
                                       json_object_get(cms_json_get(debver, "debian_version")));
        json_object_object_foreach(view, k, v)
        {
                (void)k;
                if (!json_object_is_type(v, json_type_array))
                        continue;
                for (size_t i = 0; i < json_object_array_length(v); i++)
                        json_object_array_add(pkgs,
                                              json_object_get(json_object_array_get_idx(v, i)));
        }
        json_object_array_sort(pkgs, pkg_cmp);
        json_object_object_add(inv, "os", os);
        json_object_object_add(inv, "packages", pkgs);
        json_object_object_add(inv, "layers", json_object_new_int64(layers));
        json_object_object_add(inv, "skipped", json_object_get(skipped));
        return inv;
}

static int assemble(struct reader *rd, json_object **out, struct cms_error *err)
{
        if (!rd->manifest)
                return cms_err(err, 422, "image: the export has no manifest.json");
        json_object *order = cms_json_get(json_object_array_get_idx(rd->manifest, 0), "Layers");
        if (!json_object_is_type(order, json_type_array))
                return cms_err(err, 422, "image: manifest.json names no layers");
        _cleanup_json_ json_object *view = json_object_new_object();
        for (size_t i = 0; i < json_object_array_length(order); i++) {
                const char *p = json_object_get_string(json_object_array_get_idx(order, i));
                char norm[4097];
                json_object *rec =
                    p && link_join("", p, norm, sizeof(norm)) ? layer_for(rd, norm) : NULL;
                if (!rec)
                        return cms_err(err, 422, "image: the export lacks its layer '%.300s'",
                                       p ? p : "");
                apply(view, rec);
        }
        *out = inventory(view, (int64_t)json_object_array_length(order), rd->skipped);
        return *out ? 0 : cms_err(err, 500, "out of memory");
}

int cms_sbom_read(cms_archive_read_cb read, void *ud, const struct cms_sbom_limits *limits,
                  json_object **out, struct cms_error *err)
{
        struct reader rd = {0};
        limits_resolve(limits, &rd.l);
        *out = NULL;
        rd.layers = json_object_new_object();
        rd.aliases = json_object_new_object();
        rd.skipped = json_object_new_array();
        struct cms_archive_limits ol = {
            .max_entries = rd.l.max_entries, .max_total = rd.l.max_total, .bad_status = 422};
        int r = rd.layers && rd.aliases && rd.skipped ? 0 : cms_err(err, 500, "out of memory");
        if (r == 0)
                r = cms_archive_open_stream(read, ud, CMS_ARCHIVE_TAR, &ol, &rd.outer, err);
        if (r == 0)
                r = read_export(&rd, err);
        if (r == 0)
                r = assemble(&rd, out, err);
        cms_archive_free(rd.outer);
        json_object_put(rd.layers);
        json_object_put(rd.aliases);
        json_object_put(rd.manifest);
        json_object_put(rd.skipped);
        return r < 0 ? -1 : 0;
}
