/* cmsctl pull, push and build, with the engine's progress as it comes (client/meter.c). build
 * sends a local directory as a tar (the daemon's own deterministic writer, .dockerignore
 * honoured, streamed in pieces: never the whole context in memory), or a tar read from stdin. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "daemon/images/tar_dir.h"

struct watch {
        struct ctl *c;
        struct ctl_meter *p;
        json_object *done; /* the last event's data */
};

static int64_t num(json_object *o, const char *k)
{
        json_object *v = NULL;
        return json_object_object_get_ex(o, k, &v) && v ? json_object_get_int64(v) : -1;
}

static int on_event(json_object *o, void *ud)
{
        struct watch *w = ud;
        const char *type = ctl_str(o, "type");
        if (!strcmp(type, "progress")) {
                if (w->c->format == CTL_TABLE)
                        ctl_meter_update(w->p, ctl_str(o, "id"), ctl_str(o, "status"),
                                         num(o, "current"), num(o, "total"));
        } else if (!strcmp(type, "output")) {
                if (w->c->format == CTL_TABLE)
                        ctl_meter_text(w->p, ctl_str(o, "text"));
        } else if (!strcmp(type, "done")) {
                json_object_put(w->done);
                w->done = json_object_get(o);
                json_object_object_del(o, "type");
        }
        return 0;
}

/* POST q as a stream of progress; on success the done event's data in *done. */
static int watched(struct ctl *c, const struct ctl_req *q, json_object **done)
{
        struct watch w = {.c = c, .p = ctl_meter_new(c, stderr)};
        *done = NULL;
        int r = ctl_ndjson(c, q, on_event, &w);
        ctl_meter_free(w.p);
        if (r == CTL_OK && !w.done) {
                fprintf(stderr, "cmsctl: the stream ended before the work was done\n");
                r = CTL_ERR;
        }
        if (r == CTL_OK)
                *done = w.done;
        else
                json_object_put(w.done);
        return r;
}

/* Options of pull/push: -q (no progress), --username U --password-stdin (the registry's
 * credentials: the password is read from stdin, never taken as an argument). */
static int ref_opts(struct ctl *c, int argc, char **argv, const char **ref, json_object *body)
{
        const char *user = NULL;
        bool pw_stdin = false;
        *ref = NULL;
        for (int i = 0; i < argc; i++) {
                if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
                        c->format = c->format == CTL_TABLE ? CTL_QUIET : c->format;
                else if ((!strcmp(argv[i], "-u") || !strcmp(argv[i], "--username")) && i + 1 < argc)
                        user = argv[++i];
                else if (!strcmp(argv[i], "--password-stdin"))
                        pw_stdin = true;
                else if (argv[i][0] != '-' && !*ref)
                        *ref = argv[i];
                else
                        *ref = NULL, i = argc;
        }
        if (!*ref || (pw_stdin != (user != NULL)))
                return ctl_usage("%s [-q] [--username USER --password-stdin] IMAGE[:TAG]", c->cmd);
        if (user) {
                char pw[1024] = "";
                if (pw_stdin && !fgets(pw, sizeof(pw), stdin)) {
                        fprintf(stderr, "cmsctl: --password-stdin: nothing on stdin\n");
                        return CTL_USAGE;
                }
                pw[strcspn(pw, "\r\n")] = 0;
                json_object *auth = json_object_new_object();
                json_object_object_add(auth, "username", json_object_new_string(user));
                json_object_object_add(auth, "password", json_object_new_string(pw));
                json_object_object_add(body, "auth", auth);
                memset(pw, 0, sizeof(pw));
        }
        return CTL_OK;
}

static int finish(struct ctl *c, json_object *done, const char *what)
{
        if (!ctl_structured(c, done))
                printf("%s\n", ctl_safe(what));
        json_object_put(done);
        return CTL_OK;
}

/* POST path with body as a progress stream; prints the image (or the data, --format). */
static int transfer(struct ctl *c, const char *path, json_object *body, const char *ref)
{
        json_object *done = NULL;
        const char *js = json_object_to_json_string(body);
        struct ctl_req q = {.method = "POST", .path = path, .body = js, .body_len = strlen(js)};
        int r = watched(c, &q, &done);
        json_object_put(body);
        if (r != CTL_OK)
                return r;
        return finish(c, done, *ctl_str(done, "image") ? ctl_str(done, "image") : ref);
}

int cmd_pull(struct ctl *c, int argc, char **argv)
{
        const char *ref;
        json_object *body = json_object_new_object();
        int r = ref_opts(c, argc, argv, &ref, body);
        if (r != CTL_OK) {
                json_object_put(body);
                return r;
        }
        json_object_object_add(body, "image", json_object_new_string(ref));
        return transfer(c, "/v1/images/pull", body, ref);
}

int cmd_push(struct ctl *c, int argc, char **argv)
{
        const char *ref;
        json_object *body = json_object_new_object();
        int r = ref_opts(c, argc, argv, &ref, body);
        if (r != CTL_OK) {
                json_object_put(body);
                return r;
        }
        char *e = ctl_ref_path(ref), path[2048];
        snprintf(path, sizeof(path), "/v1/images/%s/push", e ? e : "");
        free(e);
        return transfer(c, path, body, ref);
}

/* ---- build ---- */

struct build {
        char query[8192];
        size_t qlen;
        const char *dir, *dockerfile;
        struct cms_tar_dir *tar;
        int in; /* "-": stdin */
};

static bool add_q(struct build *b, const char *key, const char *v)
{
        char *e = ctl_escape(v);
        size_t n = b->qlen < sizeof(b->query) ? sizeof(b->query) - b->qlen : 0;
        int k = snprintf(b->query + b->qlen, n, "%s%s=%s", b->qlen ? "&" : "?", key, e ? e : "");
        free(e);
        if (k < 0 || (size_t)k >= n)
                return false;
        b->qlen += (size_t)k;
        return true;
}

static int build_opts(struct ctl *c, struct build *b, int argc, char **argv)
{
        static const char *const keyed[][2] = {
            {"-t", "tag"},        {"--tag", "tag"}, {"--build-arg", "buildarg"},
            {"--label", "label"}, {"-f", NULL},     {"--file", NULL}};
        for (int i = 0; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
                size_t k = 0;
                while (k < 6 && strcmp(a, keyed[k][0]))
                        k++;
                if (k < 6 && v) {
                        if (!keyed[k][1])
                                b->dockerfile = v;
                        else if (!add_q(b, keyed[k][1], v))
                                return ctl_usage("build: options too long");
                        i++;
                } else if (!strcmp(a, "--no-cache") || !strcmp(a, "--pull")) {
                        add_q(b, a[2] == 'n' ? "nocache" : "pull", "true");
                } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
                        c->format = c->format == CTL_TABLE ? CTL_QUIET : c->format;
                } else if ((a[0] != '-' || !strcmp(a, "-")) && !b->dir) {
                        b->dir = a;
                } else {
                        return CTL_USAGE;
                }
        }
        return b->dir ? CTL_OK : CTL_USAGE;
}

static size_t build_read(char *buf, size_t n, void *ud)
{
        struct build *b = ud;
        ssize_t k = b->tar ? cms_tar_dir_read(buf, n, b->tar) : read(b->in, buf, n);
        if (k < 0 && b->tar)
                fprintf(stderr, "cmsctl: build: %s\n", cms_tar_dir_error(b->tar)->message);
        else if (k < 0)
                fprintf(stderr, "cmsctl: build: reading stdin: %s\n", strerror(errno));
        return k < 0 ? (size_t)-1 : (size_t)k;
}

/* -f as docker takes it (a path from here) made relative to the context when it names a file
 * inside it; a path that exists here but outside the context is refused (it would not be sent,
 * and a same-named file in the context must not be built instead); anything else is taken as a
 * path inside the context. NULL after saying why. */
static const char *dockerfile_in(const char *dir, const char *df, char *out, size_t n)
{
        char rd[PATH_MAX], rf[PATH_MAX];
        if (!df || !realpath(dir, rd) || !realpath(df, rf))
                return df;
        size_t k = strlen(rd);
        if (strncmp(rf, rd, k) || rf[k] != '/') {
                fprintf(stderr, "cmsctl: build: the Dockerfile %s is outside the context %s\n", df,
                        dir);
                return NULL;
        }
        snprintf(out, n, "%s", rf + k + 1);
        return out;
}

int cmd_build(struct ctl *c, int argc, char **argv)
{
        struct build b = {.in = -1};
        char dfbuf[PATH_MAX], path[8400];
        json_object *done = NULL;
        if (build_opts(c, &b, argc, argv) != CTL_OK)
                return ctl_usage("build [-t NAME:TAG]... [--build-arg K=V]... [-f DOCKERFILE] "
                                 "[--no-cache] [--pull] [--label K=V]... [-q] DIR|-");
        if (!strcmp(b.dir, "-")) {
                b.in = STDIN_FILENO;
        } else {
                struct cms_error err = {0};
                const char *df = dockerfile_in(b.dir, b.dockerfile, dfbuf, sizeof(dfbuf));
                if (b.dockerfile && !df)
                        return CTL_USAGE;
                if (cms_tar_dir_new(b.dir, df, &b.tar, &err) < 0) {
                        fprintf(stderr, "cmsctl: build: %s\n", err.message);
                        return err.status == 404 ? CTL_NOT_FOUND : CTL_USAGE;
                }
                b.dockerfile = df;
        }
        if (b.dockerfile && !add_q(&b, "dockerfile", b.dockerfile))
                return ctl_usage("build: options too long");
        snprintf(path, sizeof(path), "/v1/images/build%s", b.query);
        struct ctl_req q = {.method = "POST",
                            .path = path,
                            .content_type = "application/x-tar",
                            .read = build_read,
                            .read_ud = &b};
        int r = watched(c, &q, &done);
        cms_tar_dir_free(b.tar);
        if (r != CTL_OK)
                return r;
        const char *id = ctl_str(done, "id");
        return finish(c, done, id + (strncmp(id, "sha256:", 7) ? 0 : 7));
}

/* ---- sbom: the route answers the bare CycloneDX document (no envelope) ---- */

struct doc {
        char *buf;
        size_t len;
        bool too_big;
};

static int collect(const char *data, size_t n, void *ud)
{
        struct doc *d = ud;
        if (d->len + n > 64u * 1024 * 1024) {
                d->too_big = true;
                return 1;
        }
        char *b = realloc(d->buf, d->len + n + 1);
        if (!b)
                return 1;
        memcpy(b + d->len, data, n);
        d->buf = b;
        d->len += n;
        b[d->len] = 0;
        return 0;
}

/* The property name's value of a CycloneDX component ("" when absent). */
static const char *cdx_prop(json_object *comp, const char *name)
{
        json_object *props = NULL;
        json_object_object_get_ex(comp, "properties", &props);
        size_t n =
            json_object_is_type(props, json_type_array) ? json_object_array_length(props) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *p = json_object_array_get_idx(props, i);
                if (!strcmp(ctl_str(p, "name"), name))
                        return ctl_str(p, "value");
        }
        return "";
}

int cmd_sbom(struct ctl *c, int argc, char **argv)
{
        if (argc != 1 || argv[0][0] == '-')
                return ctl_usage("sbom [--format json|TEMPLATE] IMAGE");
        char *e = ctl_ref_path(argv[0]), path[2048];
        snprintf(path, sizeof(path), "/v1/images/%s/sbom", e ? e : "");
        free(e);
        struct doc d = {0};
        int r = ctl_stream_req(c, &(struct ctl_req){.path = path}, collect, &d);
        json_object *doc = r == CTL_OK && d.buf ? json_tokener_parse(d.buf) : NULL, *comps = NULL;
        if (r == CTL_OK && !json_object_is_type(doc, json_type_object)) {
                fprintf(stderr, "cmsctl: the SBOM is %s\n",
                        d.too_big ? "larger than 64 MiB" : "not a JSON document");
                r = CTL_ERR;
        }
        free(d.buf);
        json_object_object_get_ex(doc, "components", &comps);
        if (r == CTL_OK && !ctl_structured(c, c->format == CTL_TEMPLATE ? comps : doc)) {
                static const char *const h[] = {"NAME", "VERSION", "TYPE", "PURL"};
                struct ctl_table *t = ctl_table_new(h, 4);
                size_t n = json_object_is_type(comps, json_type_array)
                               ? json_object_array_length(comps)
                               : 0;
                for (size_t i = 0; i < n; i++) {
                        json_object *it = json_object_array_get_idx(comps, i);
                        const char *kind = cdx_prop(it, "cmsd:package:type");
                        const char *row[] = {ctl_str(it, "name"), ctl_str(it, "version"),
                                             *kind ? kind : ctl_str(it, "type"),
                                             ctl_str(it, "purl")};
                        ctl_table_add(t, row);
                }
                ctl_table_print(t, c->width, stdout);
                ctl_table_free(t);
        }
        json_object_put(doc);
        return r;
}
