/* cmsctl pull, push, build and scan, with the engine's progress as it comes (client/meter.c);
 * sbom and vulndb. build sends a local directory as a tar (the daemon's own deterministic
 * writer, .dockerignore honoured, streamed in pieces: never the whole context in memory), or a
 * tar read from stdin; vulndb import sends an archive of OSV records the same way. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* ---- scan: progress on stderr while it runs, then the findings ---- */

static void print_summary(json_object *sum, FILE *out)
{
        static const char *const sev[] = {"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"};
        json_object *v = NULL;
        fputs("summary:", out);
        for (size_t i = 0; i < sizeof(sev) / sizeof(sev[0]); i++)
                fprintf(out, " %s %lld", sev[i],
                        json_object_object_get_ex(sum, sev[i], &v)
                            ? (long long)json_object_get_int64(v)
                            : 0LL);
        fputc('\n', out);
}

static void print_findings(struct ctl *c, json_object *res)
{
        static const char *const h[] = {"SEVERITY", "ID",        "PACKAGE", "VERSION",
                                        "FIXED",    "ECOSYSTEM", "SUMMARY"};
        json_object *list = NULL, *sum = NULL;
        json_object_object_get_ex(res, "vulnerabilities", &list);
        json_object_object_get_ex(res, "summary", &sum);
        struct ctl_table *t = ctl_table_new(h, 7);
        size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *f = json_object_array_get_idx(list, i);
                const char *fixed = ctl_str(f, "fixed_version");
                const char *row[] = {ctl_str(f, "severity"), ctl_str(f, "id"),
                                     ctl_str(f, "package"),  ctl_str(f, "version"),
                                     *fixed ? fixed : "-",   ctl_str(f, "ecosystem"),
                                     ctl_str(f, "summary")};
                ctl_table_add(t, row);
        }
        if (c->format == CTL_QUIET) {
                for (size_t i = 0; i < n; i++)
                        printf("%s\n", ctl_safe(ctl_str(json_object_array_get_idx(list, i), "id")));
        } else {
                ctl_table_print(t, c->width, stdout);
                print_summary(sum, stdout);
        }
        ctl_table_free(t);
}

int cmd_scan(struct ctl *c, int argc, char **argv)
{
        const char *ref = NULL;
        json_object *body = json_object_new_object(), *done = NULL;
        for (int i = 0; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
                if ((!strcmp(a, "--severity") || !strcmp(a, "--scanner")) && v) {
                        json_object_object_add(body, a + 2, json_object_new_string(v));
                        i++;
                } else if (!strcmp(a, "--ignore-unfixed")) {
                        json_object_object_add(body, "ignore_unfixed", json_object_new_boolean(1));
                } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
                        c->format = c->format == CTL_TABLE ? CTL_QUIET : c->format;
                } else if (a[0] != '-' && !ref) {
                        ref = a;
                } else {
                        ref = NULL;
                        break;
                }
        }
        if (!ref) {
                json_object_put(body);
                return ctl_usage("scan [--severity LIST] [--scanner builtin|trivy|grype] "
                                 "[--ignore-unfixed] [-q] [--format json|TEMPLATE] IMAGE");
        }
        char *e = ctl_ref_path(ref), path[2048];
        snprintf(path, sizeof(path), "/v1/images/%s/scan", e ? e : "");
        free(e);
        const char *js = json_object_to_json_string(body);
        struct ctl_req q = {.method = "POST", .path = path, .body = js, .body_len = strlen(js)};
        int r = watched(c, &q, &done);
        json_object_put(body);
        if (r == CTL_OK && !ctl_structured(c, done))
                print_findings(c, done);
        json_object_put(done);
        return r;
}

/* ---- vulndb: import OSV records, say what is loaded ---- */

static size_t file_read(char *buf, size_t n, void *ud)
{
        ssize_t k;
        while ((k = read(*(int *)ud, buf, n)) < 0 && errno == EINTR)
                ;
        if (k < 0)
                fprintf(stderr, "cmsctl: vulndb import: %s\n", strerror(errno));
        return k < 0 ? (size_t)-1 : (size_t)k;
}

/* An archive of OSV records (zip, tar, compressed or not) from a file here or stdin, sent as it
 * is read; or --path DIR, a directory or archive on the daemon's host. */
int cmd_vulndb_import(struct ctl *c, int argc, char **argv)
{
        json_object *data = NULL;
        int r;
        if (argc == 2 && !strcmp(argv[0], "--path")) {
                json_object *body = json_object_new_object();
                json_object_object_add(body, "path", json_object_new_string(argv[1]));
                r = ctl_call(c, "POST", "/v1/vulndb", body, &data);
                json_object_put(body);
        } else if (argc == 1 && (argv[0][0] != '-' || !strcmp(argv[0], "-"))) {
                struct stat st;
                int fd = strcmp(argv[0], "-") ? open(argv[0], O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
                if (fd < 0 || fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
                        int e = fd < 0 ? errno : 0;
                        fprintf(stderr, "cmsctl: vulndb import: %s: %s\n", argv[0],
                                e ? strerror(e)
                                  : "a directory: send a zip or tar of it, or use --path for a "
                                    "directory on the daemon's host");
                        if (fd > STDIN_FILENO)
                                close(fd);
                        return e == ENOENT ? CTL_NOT_FOUND : CTL_USAGE;
                }
                struct doc d = {0};
                struct ctl_req q = {.method = "POST",
                                    .path = "/v1/vulndb",
                                    .content_type = "application/octet-stream",
                                    .read = file_read,
                                    .read_ud = &fd};
                r = ctl_stream_req(c, &q, collect, &d);
                if (fd > STDIN_FILENO)
                        close(fd);
                json_object *env = r == CTL_OK && d.buf ? json_tokener_parse(d.buf) : NULL;
                free(d.buf);
                json_object_object_get_ex(env, "data", &data);
                data = json_object_get(data);
                json_object_put(env);
                if (r == CTL_OK && !data) {
                        fprintf(stderr, "cmsctl: vulndb import: the reply has no data\n");
                        r = CTL_ERR;
                }
        } else {
                return ctl_usage("vulndb import FILE|-|--path DIR");
        }
        if (r == CTL_OK && !ctl_structured(c, data)) {
                json_object *v = NULL;
                printf("imported %lld records (%lld skipped)",
                       json_object_object_get_ex(data, "records", &v)
                           ? (long long)json_object_get_int64(v)
                           : 0LL,
                       json_object_object_get_ex(data, "skipped", &v)
                           ? (long long)json_object_get_int64(v)
                           : 0LL);
                printf(", newest modified %s\n", ctl_safe(ctl_str(data, "newest_modified")));
        }
        json_object_put(data);
        return r;
}

int cmd_vulndb_show(struct ctl *c, int argc, char **argv)
{
        (void)argv;
        json_object *data = NULL, *eco = NULL, *v = NULL;
        if (argc != 0)
                return ctl_usage("vulndb show [--format json|TEMPLATE]");
        int r = ctl_call(c, "GET", "/v1/vulndb", NULL, &data);
        if (r != CTL_OK || ctl_structured(c, data)) {
                json_object_put(data);
                return r;
        }
        if (!json_object_object_get_ex(data, "loaded", &v) || !json_object_get_boolean(v)) {
                printf("no vulnerability data loaded (cmsctl vulndb import)\n");
                json_object_put(data);
                return CTL_OK;
        }
        printf("records:         %lld\n", json_object_object_get_ex(data, "records", &v)
                                              ? (long long)json_object_get_int64(v)
                                              : 0LL);
        printf("skipped:         %lld\n", json_object_object_get_ex(data, "skipped", &v)
                                              ? (long long)json_object_get_int64(v)
                                              : 0LL);
        printf("newest modified: %s\n", ctl_safe(ctl_str(data, "newest_modified")));
        printf("imported at:     %s\n\n", ctl_safe(ctl_str(data, "imported_at")));
        static const char *const h[] = {"ECOSYSTEM", "RECORDS"};
        struct ctl_table *t = ctl_table_new(h, 2);
        json_object_object_get_ex(data, "ecosystems", &eco);
        if (json_object_is_type(eco, json_type_object)) {
                json_object_object_foreach(eco, k, n)
                {
                        const char *row[] = {k, json_object_get_string(n)};
                        ctl_table_add(t, row);
                }
        }
        ctl_table_print(t, c->width, stdout);
        ctl_table_free(t);
        json_object_put(data);
        return CTL_OK;
}
