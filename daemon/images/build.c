/* Image builds: the context tar is passed from the caller's reader straight into the engine's
 * /build upload (never held whole), after libarchive has found its first entry (through any
 * gzip, bzip2, xz or zstd compression) in the bytes it read first, which go on to the engine.
 * A failing step comes back as an error naming the step, the engine's reason and the tail of
 * the step's output. */
#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>

#include "internal.h"

#define BUILD_TIMEOUT_MS (2L * 60 * 60 * 1000)
#define MAX_TAGS 32

static bool buildarg_key_valid(const char *k, size_t n)
{
        if (n == 0 || (!isalpha((unsigned char)k[0]) && k[0] != '_'))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!isalnum((unsigned char)k[i]) && k[i] != '_')
                        return false;
        return true;
}

static int check_dockerfile(const char *d, struct cms_error *err)
{
        if (!*d || strlen(d) > 1024 || d[0] == '/')
                return cms_err(err, 400, "dockerfile: expected a relative path inside the context, got '%.100s'", d);
        for (const char *c = d; *c;) {
                size_t n = strcspn(c, "/");
                if (n == 2 && !strncmp(c, "..", 2))
                        return cms_err(err, 400, "dockerfile: '%.100s' leaves the build context", d);
                c += n + (c[n] == '/');
        }
        return 0;
}

int cms_images_build_check(const struct cms_build_opts *o, struct cms_error *err)
{
        size_t n = 0;
        int r;
        for (; o->tags && o->tags[n]; n++) {
                struct cms_image_ref ref;
                if ((r = cms_image_ref_parse(o->tags[n], &ref, err)) < 0)
                        return r;
                if (*ref.digest)
                        return cms_err(err, 400, "tag '%.200s': a tag cannot carry a digest", o->tags[n]);
        }
        if (n > MAX_TAGS)
                return cms_err(err, 400, "tag: at most %d tags", MAX_TAGS);
        if (o->dockerfile && (r = check_dockerfile(o->dockerfile, err)) < 0)
                return r;
        for (size_t i = 0; o->buildargs && o->buildargs[i]; i++) {
                const char *eq = strchr(o->buildargs[i], '=');
                if (!eq || !buildarg_key_valid(o->buildargs[i], (size_t)(eq - o->buildargs[i])))
                        return cms_err(err, 400, "buildarg '%.100s': expected NAME=VALUE with NAME of "
                                       "[A-Za-z_][A-Za-z0-9_]*", o->buildargs[i]);
        }
        _cleanup_json_ json_object *tmp = json_object_new_object();
        return cms_kv_into(o->labels, "label", tmp, err);
}

/* The engine's query string for o. */
static char *build_query(const struct cms_build_opts *o, struct cms_error *err)
{
        _cleanup_json_ json_object *args = json_object_new_object(), *labels = json_object_new_object();
        if (cms_kv_into(o->buildargs, "buildarg", args, err) < 0 || cms_kv_into(o->labels, "label", labels, err) < 0)
                return NULL;
        struct cms_buf q;
        cms_buf_init(&q, 256 * 1024);
        _cleanup_free_ char *ea = cms_url_escape(json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN));
        _cleanup_free_ char *el = cms_url_escape(json_object_to_json_string_ext(labels, JSON_C_TO_STRING_PLAIN));
        int r = cms_buf_printf(&q, "/build?rm=1&forcerm=1&nocache=%d&pull=%d&buildargs=%s&labels=%s",
                               o->nocache ? 1 : 0, o->pull ? 1 : 0, ea ? ea : "", el ? el : "");
        for (size_t i = 0; r == 0 && o->tags && o->tags[i]; i++) {
                _cleanup_free_ char *t = cms_url_escape(o->tags[i]);
                r = t ? cms_buf_printf(&q, "&t=%s", t) : -ENOMEM;
        }
        if (r == 0 && o->dockerfile) {
                _cleanup_free_ char *d = cms_url_escape(o->dockerfile);
                r = d ? cms_buf_printf(&q, "&dockerfile=%s", d) : -ENOMEM;
        }
        if (r == 0 && o->target) {
                _cleanup_free_ char *t = cms_url_escape(o->target);
                r = t ? cms_buf_printf(&q, "&target=%s", t) : -ENOMEM;
        }
        if (r < 0 || !ea || !el) {
                cms_buf_free(&q);
                cms_err(err, r == -E2BIG ? 400 : 500, "%s", r == -E2BIG ? "build options too long" : "out of memory");
                return NULL;
        }
        return cms_buf_take(&q);
}

/* How much of the body libarchive may read to find the first entry: a gzip, xz or zstd stream
 * shows it in the first kilobytes, a bzip2 one after its first block (900 kB at most). */
#define SNIFF_MAX   (4 * 1024 * 1024)
#define SNIFF_CHUNK (64 * 1024)

/* The reader the engine upload uses: what libarchive read to recognize the body, then the rest
 * from the caller. */
struct source {
        cms_engine_read_cb read;
        void *ud;
        struct cms_buf head; /* the bytes read while sniffing, replayed to the engine */
        size_t head_off;
        char chunk[SNIFF_CHUNK];
        bool aborted, capped;
        int filter; /* libarchive's code of the compression found (ARCHIVE_FILTER_NONE: none) */
};

static ssize_t source_read(char *buf, size_t max, void *userdata)
{
        struct source *s = userdata;
        if (s->head_off < s->head.len) {
                size_t n = s->head.len - s->head_off < max ? s->head.len - s->head_off : max;
                memcpy(buf, s->head.data + s->head_off, n);
                s->head_off += n;
                return (ssize_t)n;
        }
        return s->read(buf, max, s->ud);
}

/* libarchive's read callback while sniffing: the caller's bytes, kept for the engine. */
static la_ssize_t sniff_read(struct archive *a, void *userdata, const void **out)
{
        struct source *s = userdata;
        *out = s->chunk;
        if (s->head.len >= SNIFF_MAX) {
                s->capped = true;
                return 0;
        }
        ssize_t n = s->read(s->chunk, sizeof(s->chunk), s->ud);
        if (n < 0) {
                s->aborted = true;
                archive_set_error(a, EIO, "request body aborted");
                return -1;
        }
        if (n > 0 && cms_buf_append(&s->head, s->chunk, (size_t)n) < 0) {
                archive_set_error(a, ENOMEM, "out of memory");
                return -1;
        }
        return n;
}

/* Reads the start of the body and decides whether it can be a build context: a tar, maybe
 * compressed, with at least one entry. */
static int source_open(struct source *s, struct cms_error *err)
{
        struct archive *a = archive_read_new();
        struct archive_entry *e;
        if (!a)
                return cms_err(err, 500, "out of memory");
        archive_read_support_filter_gzip(a);
        archive_read_support_filter_bzip2(a);
        archive_read_support_filter_xz(a);
        archive_read_support_filter_zstd(a);
        archive_read_support_format_tar(a);
        int r = archive_read_open(a, s, NULL, sniff_read, NULL);
        if (r == ARCHIVE_OK)
                r = archive_read_next_header(a, &e);
        const char *msg = archive_error_string(a);
        int aerr = archive_errno(a);
        s->filter = archive_filter_count(a) > 1 ? archive_filter_code(a, 0) : ARCHIVE_FILTER_NONE;
        _cleanup_free_ char *why = cms_strdup_printf("%s", msg ? msg : "unrecognized data");
        archive_read_free(a);
        if (r == ARCHIVE_OK || r == ARCHIVE_WARN)
                return 0;
        if (s->aborted)
                return cms_err(err, 400, "request body aborted");
        if (aerr == ENOMEM || !why)
                return cms_err(err, 500, "out of memory");
        if (s->head.len == 0)
                return cms_err(err, 400,
                               "the request body is empty: send a tar of the build context");
        if (r == ARCHIVE_EOF)
                return cms_err(err, 400, "the build context archive holds no files");
        if (s->capped)
                return cms_err(err, 400, "no tar entry in the first %d MiB of the request body",
                               SNIFF_MAX >> 20);
        return cms_err(err, 400, "the request body is not a tar archive (nor a gzip, bzip2, xz or "
                       "zstd compressed one) of the build context: %.200s", why);
}

/* "build failed at STEP 2/3: RUN ...: <reason>; output: <tail>" within the message's size. */
static int build_error(const struct cms_img_progress *p, struct cms_error *err)
{
        char out[300] = "";
        size_t tl = p->tail_len;
        const char *t = p->tail;
        while (tl && (t[tl - 1] == '\n' || t[tl - 1] == ' '))
                tl--;
        if (tl > sizeof(out) - 1) {
                t += tl - (sizeof(out) - 1);
                tl = sizeof(out) - 1;
        }
        memcpy(out, t, tl);
        out[tl] = 0;
        return cms_err(err, 400, "build failed%s%.120s: %.200s%s%s", p->step[0] ? " at " : "", p->step,
                       p->error, out[0] ? "; output: " : "", out);
}

/* Docker reads zstd build contexts from 23.0 on; 20.10 takes them for plain tar and fails with
 * "unexpected EOF". Podman reads them. */
static int engine_reads(struct cms_manager *m, const struct source *s, struct cms_error *err)
{
        char version[64], api[16];
        if (s->filter != ARCHIVE_FILTER_ZSTD || cms_engine_runtime(m->engine) != CMS_RUNTIME_DOCKER)
                return 0;
        cms_engine_versions(m->engine, version, sizeof(version), api, sizeof(api));
        if (atoi(version) >= 23)
                return 0;
        return cms_err(err, 400, "Docker %s cannot read a zstd-compressed build context (23.0 "
                       "can): send it plain or gzip, bzip2 or xz compressed", version);
}

/* Streams the checked body to the engine's /build and follows its progress. */
static int upload(struct cms_manager *m, const struct cms_build_opts *o, const char *path,
                  struct source *src, cms_progress_cb cb, cms_engine_stop_cb should_stop,
                  void *userdata, json_object **out, struct cms_error *err)
{
        int r;
        struct cms_engine_req req = {.method = "POST",
                                     .path = path,
                                     .content_type = "application/x-tar",
                                     .timeout_ms = BUILD_TIMEOUT_MS};
        struct cms_img_progress p;
        struct cms_error e = {0};
        cms_img_progress_init(&p, cb, should_stop, userdata);
        r = cms_engine_upload(m->engine, &req, source_read, src, cms_img_progress_feed,
                              cms_img_progress_should_stop, &p, &e);
        cms_img_progress_finish(&p);
        if (r < 0 && (e.status == 502 || e.status == 404))
                /* Before any progress: the context itself was refused (no Dockerfile in it, a
                 * truncated archive). Podman says nothing, Docker says what. */
                r = cms_err(err, 400, "the engine refused the build context: %s",
                            strcmp(e.message, "Internal Server Error") ? e.message
                                                                       : "not a readable archive");
        else if (r < 0 && err)
                *err = e;
        else if (p.error[0])
                r = build_error(&p, err);
        else if (cms_img_progress_should_stop(&p))
                r = cms_err(err, 503, "build stopped: the client left or cmsd is shutting down");
        else if (!p.id[0])
                r = cms_err(err, 502, "the engine finished the build without naming the image");
        if (r == 0) {
                json_object *o2 = json_object_new_object(), *tags = json_object_new_array();
                for (size_t i = 0; o->tags && o->tags[i]; i++)
                        json_object_array_add(tags, json_object_new_string(o->tags[i]));
                json_object_object_add(o2, "id", json_object_new_string(p.id));
                json_object_object_add(o2, "tags", tags);
                *out = o2;
        }
        cms_img_progress_done(&p);
        return r;
}

int cms_images_build(struct cms_manager *m, const struct cms_build_opts *o,
                     cms_engine_read_cb read_cb, void *read_ud, cms_progress_cb cb,
                     cms_engine_stop_cb should_stop, void *userdata, json_object **out,
                     struct cms_error *err)
{
        int r = cms_images_build_check(o, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = build_query(o, err);
        if (!path)
                return -EINVAL;
        struct source *src = malloc(sizeof(*src));
        if (!src)
                return cms_err(err, 500, "out of memory");
        *src = (struct source){.read = read_cb, .ud = read_ud};
        cms_buf_init(&src->head, SNIFF_MAX + SNIFF_CHUNK);
        r = source_open(src, err);
        if (r == 0)
                r = engine_reads(m, src, err);
        if (r == 0)
                r = upload(m, o, path, src, cb, should_stop, userdata, out, err);
        cms_buf_free(&src->head);
        free(src);
        return r;
}
