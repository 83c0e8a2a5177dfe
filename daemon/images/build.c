/* Image builds: the context tar is passed from the caller's reader straight into the engine's
 * /build upload (never held whole), after its first block has been checked to be an archive.
 * A failing step comes back as an error naming the step, the engine's reason and the tail of
 * the step's output. */
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

/* The reader the engine upload uses: the checked first block, then the rest from the caller. */
struct source {
        cms_engine_read_cb read;
        void *ud;
        char head[512];
        size_t head_len, head_off;
};

static ssize_t source_read(char *buf, size_t max, void *userdata)
{
        struct source *s = userdata;
        if (s->head_off < s->head_len) {
                size_t n = s->head_len - s->head_off < max ? s->head_len - s->head_off : max;
                memcpy(buf, s->head + s->head_off, n);
                s->head_off += n;
                return (ssize_t)n;
        }
        return s->read(buf, max, s->ud);
}

/* A tar header block: "ustar" magic, or (old formats) a matching header checksum. */
static bool tar_header(const unsigned char *h, size_t n)
{
        if (n < 512)
                return false;
        if (!memcmp(h + 257, "ustar", 5))
                return true;
        unsigned sum = 0, want = 0;
        for (size_t i = 0; i < 512; i++)
                sum += (i >= 148 && i < 156) ? ' ' : h[i];
        size_t i = 148;
        while (i < 156 && h[i] == ' ')
                i++;
        if (i == 156 || h[i] < '0' || h[i] > '7')
                return false;
        for (; i < 156 && h[i] >= '0' && h[i] <= '7'; i++)
                want = want * 8 + (unsigned)(h[i] - '0');
        return sum == want;
}

static bool compressed(const unsigned char *h, size_t n)
{
        return (n >= 2 && h[0] == 0x1f && h[1] == 0x8b) || (n >= 3 && !memcmp(h, "BZh", 3)) ||
               (n >= 6 && !memcmp(h, "\xfd" "7zXZ\0", 6));
}

/* Reads the first block and decides whether the body can be a build context. */
static int source_open(struct source *s, struct cms_error *err)
{
        while (s->head_len < sizeof(s->head)) {
                ssize_t n = s->read(s->head + s->head_len, sizeof(s->head) - s->head_len, s->ud);
                if (n < 0)
                        return cms_err(err, 400, "request body aborted");
                if (n == 0)
                        break;
                s->head_len += (size_t)n;
        }
        const unsigned char *h = (const unsigned char *)s->head;
        if (s->head_len == 0)
                return cms_err(err, 400, "the request body is empty: send a tar of the build context");
        if (!compressed(h, s->head_len) && !tar_header(h, s->head_len))
                return cms_err(err, 400, "the request body is not a tar archive (nor a gzip, bzip2 "
                               "or xz compressed one) of the build context");
        return 0;
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
        struct source src = {.read = read_cb, .ud = read_ud};
        if ((r = source_open(&src, err)) < 0)
                return r;
        struct cms_engine_req req = {.method = "POST", .path = path, .content_type = "application/x-tar",
                                     .timeout_ms = BUILD_TIMEOUT_MS};
        struct cms_img_progress p;
        struct cms_error e = {0};
        cms_img_progress_init(&p, cb, should_stop, userdata);
        r = cms_engine_upload(m->engine, &req, source_read, &src, cms_img_progress_feed,
                              cms_img_progress_should_stop, &p, &e);
        cms_img_progress_finish(&p);
        if (r < 0 && (e.status == 502 || e.status == 404))
                /* Before any progress: the context itself was refused (no Dockerfile in it, a
                 * truncated archive). Podman says nothing, Docker says what. */
                r = cms_err(err, 400, "the engine refused the build context: %s",
                            strcmp(e.message, "Internal Server Error") ? e.message : "not a readable archive");
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
