/* The image scanner's manager: POST/GET /v1/images/{ref}/scan and the vulnerability database
 * routes (GET/POST /v1/vulndb). The builtin scanner matches the image's SBOM (images/sbom.c,
 * cached per image id) against the database under state_dir/vulndb (daemon/scan/db*.c); trivy
 * and grype (daemon/scan/adapter.c, tool.c) run on the image as the engine saves it. Results
 * are cached per image id under state_dir/scan/, written atomically, for GET, for the gate of
 * deploy and project up (scan.fail_on), and for /metrics. */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../scan/adapter.h"
#include "../scan/match.h"
#include "../scan/tool.h"
#include "internal.h"

#define TOOL_TIMEOUT_MIN 10 /* a first trivy run on a big image takes minutes */
#define TOOL_MAX_OUT_MIB 256

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

/* The engine's inspect of ref; id gets its Id ("sha256:<64 hex>"). */
static int image_inspect(struct cms_manager *m, const char *ref, char id[72], json_object **raw,
                         struct cms_error *err)
{
        int r = cms_image_path_ref_check(ref, err);
        _cleanup_free_ char *ipath = r < 0 ? NULL : cms_res_path("/images", ref, "/json");
        *raw = NULL;
        if (r < 0 || (r = cms_res_call(m, CMS_RES_READ, "GET", ipath, NULL, NULL, raw, err)) < 0)
                return r;
        const char *s = json_object_get_string(cms_json_get(*raw, "Id"));
        if (!s || strncmp(s, "sha256:", 7) || strlen(s) != 71 ||
            strspn(s + 7, "0123456789abcdef") != 64)
                return cms_err(err, 502, "the engine's inspect of image %s has no sha256 Id", ref);
        memcpy(id, s, 72);
        return 0;
}

static int image_id(struct cms_manager *m, const char *ref, char id[72], struct cms_error *err)
{
        _cleanup_json_ json_object *raw = NULL;
        return image_inspect(m, ref, id, &raw, err);
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
        for (size_t i = 0; i < cms_jlen(props); i++) {
                json_object *p = json_object_array_get_idx(props, i);
                const char *n = json_object_get_string(cms_json_get(p, "name"));
                if (n && !strcmp(n, name))
                        return json_object_get_string(cms_json_get(p, "value"));
        }
        return NULL;
}

struct scan_req {
        struct cms_scan_opts o;
        enum cms_scanner scanner;
};

static int scan_opts(json_object *body, struct scan_req *q, struct cms_error *err)
{
        static const char *const keys[] = {"severity", "scanner", "ignore_unfixed", NULL};
        const char *sev = NULL, *scanner = NULL;
        *q = (struct scan_req){0};
        if (body && !json_object_is_type(body, json_type_object))
                return cms_err(err, 400, "body: expected a JSON object");
        if (cms_json_check_keys(body, "body", keys, err) < 0 ||
            cms_json_get_string(body, "body", "severity", &sev, err) < 0 ||
            cms_json_get_string(body, "body", "scanner", &scanner, err) < 0 ||
            cms_json_get_bool(body, "body", "ignore_unfixed", false, &q->o.ignore_unfixed, err) <
                0 ||
            cms_scan_severities(sev, &q->o.severities, err) < 0)
                return -EINVAL;
        int s = cms_scanner_parse(scanner);
        if (s < 0)
                return cms_err(err, 400,
                               "body.scanner: \"%.64s\" is not one of builtin, trivy, grype",
                               scanner);
        q->scanner = (enum cms_scanner)s;
        return 0;
}

int cms_images_scan_check(json_object *body, struct cms_error *err)
{
        struct scan_req q;
        return scan_opts(body, &q, err);
}

static int note(cms_progress_cb cb, void *ud, const char *id, const char *status)
{
        struct cms_progress p = {.id = id, .status = status, .current = -1, .total = -1};
        return cb ? cb(&p, ud) : 0;
}

/* The builtin scanner: the SBOM (cached per image id) matched against the imported OSV data.
 * *db gets the database's meta for the reply. */
static int run_builtin(struct cms_manager *m, const char *ref, const struct scan_req *q,
                       cms_progress_cb cb, void *ud, json_object **res, json_object **sbom,
                       json_object **db, struct cms_error *err)
{
        _cleanup_free_ char *dir = state_path(m, "vulndb");
        struct cms_vulndb *vdb = NULL;
        bool cached;
        int r = dir ? cms_vulndb_open(dir, &vdb, err) : cms_err(err, 500, "out of memory");
        if (r < 0)
                return r;
        r = cms_images_sbom_progress(m, ref, cb, ud, sbom, &cached, err);
        if (r == 0 && cached)
                note(cb, ud, "sbom", "Cached");
        if (r == 0 && note(cb, ud, "match", "Matching the packages against the OSV records"))
                r = cms_err(err, 499, "the client left");
        if (r == 0)
                r = cms_scan_match(vdb, *sbom, &q->o, res, err);
        if (r == 0)
                *db = json_object_get(cms_vulndb_info(vdb));
        cms_vulndb_free(vdb);
        return r;
}

/* The tool's stderr tail as one line for a message: control characters and ANSI colour
 * sequences out, blank runs folded. */
static void one_line(const char *in, char *out, size_t cap)
{
        size_t o = 0;
        bool blank = true;
        for (const char *p = in; *p && o + 1 < cap; p++) {
                if (*p == '\x1b' && p[1] == '[') {
                        p += 2;
                        while (*p && !(*p >= '@' && *p <= '~'))
                                p++;
                        if (!*p)
                                break;
                        continue;
                }
                bool sp = (unsigned char)*p < 0x20 || *p == ' ';
                if (sp && blank)
                        continue;
                out[o++] = sp ? ' ' : *p;
                blank = sp;
        }
        while (o && out[o - 1] == ' ')
                o--;
        out[o] = 0;
}

static int tool_failed(const char *tool, const struct cms_tool_result *t, struct cms_error *err)
{
        char line[400];
        one_line(t->err, line, sizeof(line));
        if (t->timed_out) /* 504 keeps its own code, timeout */
                return cms_err(err, 504, "%s did not finish within %d minutes", tool,
                               TOOL_TIMEOUT_MIN);
        if (t->out_too_big)
                cms_err(err, 502, "%s's report is larger than %d MiB", tool, TOOL_MAX_OUT_MIB);
        else
                cms_err(err, 502, "%s exited with status %d: %s", tool, t->exit_status,
                        *line ? line : "(nothing on stderr)");
        err->code = "scanner_failed";
        return -EIO;
}

/* trivy or grype on the image as the engine saves it, in a private directory under
 * state_dir/scan that is removed afterwards. */
static int run_tool(struct cms_manager *m, const char *id, int64_t size, const struct scan_req *q,
                    cms_progress_cb cb, void *ud, json_object **res, json_object **db,
                    struct cms_error *err)
{
        const char *tool = cms_scanner_name(q->scanner);
        char bin[4096], scratch[4200], status[64];
        if (cms_tool_find(tool, NULL, bin, sizeof(bin)) < 0)
                return cms_err(
                    err, 501,
                    "scanner \"%s\": no %s on cmsd's PATH; install it, or use \"builtin\" "
                    "(OSV data imported with POST /v1/vulndb)",
                    tool, tool);
        _cleanup_free_ char *sdir = state_path(m, "scan");
        _cleanup_free_ char *tmpl = sdir ? cms_strdup_printf("%s/tool-XXXXXX", sdir) : NULL;
        if (!tmpl || cms_mkdir_p(sdir, 0700) < 0 || !mkdtemp(tmpl))
                return cms_err(err, 500, "cannot make a directory under %s: %s", sdir ? sdir : "",
                               strerror(errno));
        _cleanup_free_ char *tar = cms_strdup_printf("%s/image.tar", tmpl);
        int fd = tar ? open(tar, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1;
        int r = fd < 0 ? cms_err(err, 500, "cannot write the image's export: %s", strerror(errno))
                       : cms_images_save_fd(m, id, size, fd, cb, ud, err);
        if (fd >= 0)
                close(fd);
        const char *argv[16];
        struct cms_tool_result t = {0};
        if (r == 0 && cms_scan_adapter_argv(q->scanner, bin, tar, scratch, sizeof(scratch), argv,
                                            ELEMENTSOF(argv)) < 0)
                r = cms_err(err, 500, "the path of the export is too long");
        snprintf(status, sizeof(status), "Running %s", tool);
        if (r == 0 && note(cb, ud, tool, status))
                r = cms_err(err, 499, "the client left");
        if (r == 0)
                r = cms_tool_run(argv, NULL, TOOL_TIMEOUT_MIN * 60000L,
                                 (size_t)TOOL_MAX_OUT_MIB << 20, &t, err);
        if (tar)
                unlink(tar);
        rmdir(tmpl);
        if (r == 0 && (t.exit_status != 0 || t.timed_out || t.out_too_big))
                r = tool_failed(tool, &t, err);
        json_object *found = NULL;
        if (r == 0)
                r = cms_scan_adapter_findings(q->scanner, t.out, t.out_len, &found, err);
        cms_tool_result_done(&t);
        if (r < 0)
                return r;
        *res = cms_scan_shape(found, &q->o);
        json_object_put(found);
        *db = json_object_new_object();
        json_object_object_add(*db, "tool", json_object_new_string(tool));
        json_object_object_add(*db, "path", json_object_new_string(bin));
        return *res ? 0 : cms_err(err, 500, "out of memory");
}

static int scan_run(struct cms_manager *m, const char *ref, const struct scan_req *q,
                    cms_progress_cb cb, void *ud, json_object **out, struct cms_error *err)
{
        _cleanup_json_ json_object *raw = NULL, *sbom = NULL;
        json_object *res = NULL, *db = NULL;
        char id[72];
        *out = NULL;
        int r = image_inspect(m, ref, id, &raw, err);
        if (r == 0 && q->scanner == CMS_SCANNER_BUILTIN)
                r = run_builtin(m, ref, q, cb, ud, &res, &sbom, &db, err);
        else if (r == 0)
                r = run_tool(m, id, json_object_get_int64(cms_json_get(raw, "Size")), q, cb, ud,
                             &res, &db, err);
        if (r < 0)
                return r;
        json_object *rd = cms_json_get(raw, "RepoDigests");
        const char *digest = sbom ? sbom_prop(sbom, "cmsd:image:repo_digest")
                             : cms_jlen(rd)
                                 ? json_object_get_string(json_object_array_get_idx(rd, 0))
                                 : NULL;
        const char *at = digest ? strchr(digest, '@') : NULL;
        char ts[32];
        time_t now = time(NULL);
        struct tm tm;
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        json_object_object_add(res, "image", json_object_new_string(ref));
        json_object_object_add(res, "id", json_object_new_string(id));
        json_object_object_add(res, "digest", json_object_new_string(at ? at + 1 : id));
        json_object_object_add(res, "scanner",
                               json_object_new_string(cms_scanner_name(q->scanner)));
        json_object_object_add(res, "db", db);
        json_object_object_add(res, "scanned_at", json_object_new_string(ts));
        cache_store(m, id, res);
        *out = res;
        return 0;
}

int cms_images_scan_progress(struct cms_manager *m, const char *ref, json_object *body,
                             cms_progress_cb cb, void *ud, json_object **out, struct cms_error *err)
{
        struct scan_req q;
        *out = NULL;
        int r = scan_opts(body, &q, err);
        return r < 0 ? r : scan_run(m, ref, &q, cb, ud, out, err);
}

int cms_images_scan(struct cms_manager *m, const char *ref, json_object *body, json_object **out,
                    struct cms_error *err)
{
        return cms_images_scan_progress(m, ref, body, NULL, NULL, out, err);
}

int cms_images_scan_gate(struct cms_manager *m, const char *ref, const struct cms_scan_gate *g,
                         struct cms_error *err)
{
        if (!g || g->fail_on == CMS_SEV_UNKNOWN)
                return 0;
        struct scan_req q = {.o = {.ignore_unfixed = g->ignore_unfixed}, .scanner = g->scanner};
        _cleanup_json_ json_object *res = NULL;
        struct cms_error e = {0};
        int r = scan_run(m, ref, &q, NULL, NULL, &res, &e);
        if (r < 0) {
                cms_err(err, e.status, "scan.fail_on: the scan of %s failed: %s", ref, e.message);
                if (e.code)
                        err->code = e.code;
                return r;
        }
        json_object *sum = cms_json_get(res, "summary");
        int64_t n = cms_scan_gate_count(g, sum);
        if (n == 0)
                return 0;
        cms_err(err, 409,
                "image %s has %lld finding(s) at or above %s (scan.fail_on); summary %s; the list: "
                "GET /v1/images/%s/scan",
                ref, (long long)n, cms_severity_name(g->fail_on),
                json_object_to_json_string_ext(sum, JSON_C_TO_STRING_PLAIN), ref);
        err->code = "vulnerabilities_found";
        return -EEXIST;
}

/* ---- /metrics: the summaries of the cached results ----
 * Read from state_dir/scan/ (so results from before a restart count), each file parsed again
 * only when its mtime or size changed: a scrape costs a readdir and a stat per image. */
struct summary_entry {
        char file[80];
        struct timespec mtime;
        off_t size;
        char *image;
        json_object *summary;
        bool seen;
};

static pthread_mutex_t sum_lock = PTHREAD_MUTEX_INITIALIZER;
static struct summary_entry *sums;
static size_t n_sums;
static char *sums_dir;

static void sums_reset(const char *dir)
{
        for (size_t i = 0; i < n_sums; i++) {
                free(sums[i].image);
                json_object_put(sums[i].summary);
        }
        free(sums);
        sums = NULL;
        n_sums = 0;
        free(sums_dir);
        sums_dir = strdup(dir);
}

static void sums_update(int dfd, const char *file, const struct stat *st)
{
        size_t flen = strlen(file);
        if (flen >= sizeof(((struct summary_entry *)0)->file))
                return; /* not a name cmsd writes ("<digest>.json") */
        struct summary_entry *e = NULL;
        for (size_t i = 0; i < n_sums && !e; i++)
                if (!strcmp(sums[i].file, file))
                        e = &sums[i];
        if (e && e->size == st->st_size && e->mtime.tv_sec == st->st_mtim.tv_sec &&
            e->mtime.tv_nsec == st->st_mtim.tv_nsec) {
                e->seen = true;
                return;
        }
        int fd = openat(dfd, file, O_RDONLY | O_CLOEXEC);
        json_object *doc = fd >= 0 ? json_object_from_fd(fd) : NULL;
        if (fd >= 0)
                close(fd);
        const char *image = json_object_get_string(cms_json_get(doc, "image"));
        json_object *sum = cms_json_get(doc, "summary");
        if (!image || !json_object_is_type(sum, json_type_object)) {
                json_object_put(doc);
                return;
        }
        if (!e) {
                struct summary_entry *n = realloc(sums, (n_sums + 1) * sizeof(*n));
                if (!n) {
                        json_object_put(doc);
                        return;
                }
                sums = n;
                e = &sums[n_sums++];
                *e = (struct summary_entry){0};
                memcpy(e->file, file, flen + 1);
        }
        free(e->image);
        json_object_put(e->summary);
        e->image = strdup(image);
        e->summary = json_object_get(sum);
        e->mtime = st->st_mtim;
        e->size = st->st_size;
        e->seen = true;
        json_object_put(doc);
}

void cms_images_scan_each(struct cms_manager *m,
                          void (*fn)(const char *image, json_object *summary, void *ud), void *ud)
{
        _cleanup_free_ char *dir = state_path(m, "scan");
        if (!dir)
                return;
        pthread_mutex_lock(&sum_lock);
        if (!sums_dir || strcmp(sums_dir, dir))
                sums_reset(dir);
        for (size_t i = 0; i < n_sums; i++)
                sums[i].seen = false;
        DIR *d = opendir(dir);
        for (struct dirent *de; d && (de = readdir(d));) {
                size_t len = strlen(de->d_name);
                struct stat st;
                if (len != 69 || strcmp(de->d_name + 64, ".json") ||
                    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !S_ISREG(st.st_mode))
                        continue;
                sums_update(dirfd(d), de->d_name, &st);
        }
        if (d)
                closedir(d);
        size_t keep = 0; /* results removed from the directory are forgotten */
        for (size_t i = 0; i < n_sums; i++) {
                if (!sums[i].seen) {
                        free(sums[i].image);
                        json_object_put(sums[i].summary);
                        continue;
                }
                sums[keep++] = sums[i];
        }
        n_sums = keep;
        for (size_t i = 0; i < n_sums; i++)
                fn(sums[i].image, sums[i].summary, ud);
        pthread_mutex_unlock(&sum_lock);
}
