/* GET /v1/images/{ref}/sbom's manager: the image's export read from the engine (the compat
 * GET /images/{name}/get on both Docker and Podman) and handed to daemon/scan/'s reader while
 * it streams, and the CycloneDX document cached per image id (the digest of the image's config,
 * so a re-tag hits and a rebuild misses) under state_dir/sbom/, written atomically.
 *
 * The engine client pushes the export through a callback and the archive reader pulls, so the
 * export runs in a thread of its own that writes into a socket pair the reader reads: at most
 * the socket's buffer is in flight, and a reader that stops early (an error, a limit) closes its
 * end, which ends the export. */
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../scan/sbom.h"
#include "internal.h"

#define EXPORT_TIMEOUT_MS (30L * 60 * 1000)

/* Bytes of an export as progress events ("id": what, current/total), at most one a second. */
struct export_meter {
        cms_progress_cb cb;
        void *ud;
        const char *what;
        int64_t done, total, last_ms;
};

static int meter_add(struct export_meter *mt, size_t n, bool last)
{
        mt->done += (int64_t)n;
        if (!mt->cb)
                return 0;
        int64_t now = cms_now_ms();
        if (!last && now - mt->last_ms < 1000)
                return 0;
        mt->last_ms = now;
        struct cms_progress p = {.id = mt->what,
                                 .status = last ? "Done"
                                           : strcmp(mt->what, "sbom")
                                               ? "Saving the image"
                                               : "Reading the image's export",
                                 .current = mt->done,
                                 .total = mt->total > 0 ? mt->total : -1};
        return mt->cb(&p, mt->ud);
}

struct export_pipe {
        struct cms_manager *m;
        const char *path;
        int fd[2];
        int rc;
        struct cms_error err;
        struct export_meter *meter;
};

static int pipe_feed(const char *data, size_t len, void *userdata)
{
        struct export_pipe *x = userdata;
        if (meter_add(x->meter, len, false))
                return 1; /* the client of a progress stream left */
        while (len > 0) {
                ssize_t w = send(x->fd[1], data, len, MSG_NOSIGNAL);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return 1; /* the reader is gone: end the export */
                data += w;
                len -= (size_t)w;
        }
        return 0;
}

static int pipe_should_stop(void *userdata)
{
        struct export_pipe *x = userdata;
        return atomic_load(&x->m->draining);
}

static void *exporter(void *userdata)
{
        struct export_pipe *x = userdata;
        struct cms_engine_req req = {.path = x->path, .timeout_ms = EXPORT_TIMEOUT_MS};
        x->rc = cms_engine_stream(x->m->engine, &req, pipe_feed, pipe_should_stop, x, &x->err);
        shutdown(x->fd[1], SHUT_WR);
        return NULL;
}

static ssize_t pipe_read(char *buf, size_t max, void *userdata)
{
        struct export_pipe *x = userdata;
        for (;;) {
                ssize_t n = recv(x->fd[0], buf, max, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                return n < 0 ? -1 : n;
        }
}

/* The export of image id read into an inventory. */
static int read_export(struct cms_manager *m, const char *id, struct export_meter *mt,
                       json_object **inv, struct cms_error *err)
{
        _cleanup_free_ char *path = cms_res_path("/images", id, "/get");
        struct export_pipe x = {.m = m, .path = path, .fd = {-1, -1}, .meter = mt};
        pthread_t t;
        if (!path)
                return cms_err(err, 500, "out of memory");
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, x.fd) < 0)
                return cms_err(err, 500, "socketpair: %s", strerror(errno));
        if (pthread_create(&t, NULL, exporter, &x) != 0) {
                close(x.fd[0]);
                close(x.fd[1]);
                return cms_err(err, 500, "cannot start the export thread");
        }
        struct cms_error rerr = {0};
        int r = cms_sbom_read(pipe_read, &x, NULL, inv, &rerr);
        shutdown(x.fd[0], SHUT_RDWR);
        pthread_join(t, NULL);
        close(x.fd[0]);
        close(x.fd[1]);
        if (x.rc < 0) { /* the engine's failure explains the reader's */
                json_object_put(*inv);
                *inv = NULL;
                *err = x.err;
                return -1;
        }
        if (r < 0 && atomic_load(&m->draining))
                return cms_err(err, 503, "the SBOM of %s stopped: cmsd is shutting down", id);
        if (r < 0)
                *err = rerr;
        return r;
}

static char *cache_dir(struct cms_manager *m)
{
        const struct cms_config *c = cms_manager_config_rdlock(m);
        char *d = cms_strdup_printf("%s/sbom", c->state_dir ? c->state_dir : "");
        cms_manager_config_unlock(m);
        return d;
}

/* Written to a temporary file in the same directory and renamed over, so that a reader sees
 * the old document or the new one, never a part. A failure only costs the next call a read. */
static void cache_store(const char *dir, const char *file, json_object *doc)
{
        _cleanup_free_ char *dst = cms_strdup_printf("%s/%s", dir, file);
        size_t len;
        const char *text = json_object_to_json_string_length(doc, JSON_C_TO_STRING_PLAIN, &len);
        if (dst && cms_mkdir_p(dir, 0700) == 0)
                cms_write_file_atomic(dst, text, len, 0600);
}

static const char *first_string(json_object *arr)
{
        return cms_jlen(arr) ? json_object_get_string(json_object_array_get_idx(arr, 0)) : NULL;
}

int cms_images_sbom(struct cms_manager *m, const char *ref, json_object **out, bool *cached,
                    struct cms_error *err)
{
        return cms_images_sbom_progress(m, ref, NULL, NULL, out, cached, err);
}

int cms_images_sbom_progress(struct cms_manager *m, const char *ref, cms_progress_cb cb, void *ud,
                             json_object **out, bool *cached, struct cms_error *err)
{
        _cleanup_json_ json_object *raw = NULL, *inv = NULL;
        *out = NULL;
        *cached = false;
        int r = cms_image_path_ref_check(ref, err);
        _cleanup_free_ char *ipath = r < 0 ? NULL : cms_res_path("/images", ref, "/json");
        if (r < 0 || (r = cms_res_call(m, CMS_RES_READ, "GET", ipath, NULL, NULL, &raw, err)) < 0)
                return r;
        const char *id = json_object_get_string(cms_json_get(raw, "Id"));
        if (!id || strncmp(id, "sha256:", 7) || strlen(id) != 71 ||
            strspn(id + 7, "0123456789abcdef") != 64)
                return cms_err(err, 502, "the engine's inspect of image %s has no sha256 Id", ref);
        _cleanup_free_ char *dir = cache_dir(m);
        _cleanup_free_ char *file = cms_strdup_printf("%s.json", id + 7);
        _cleanup_free_ char *cpath = dir && file ? cms_strdup_printf("%s/%s", dir, file) : NULL;
        if (!cpath)
                return cms_err(err, 500, "out of memory");
        json_object *hit = access(cpath, F_OK) == 0 ? json_object_from_file(cpath) : NULL;
        if (json_object_is_type(hit, json_type_object)) {
                /* The same image under another name: the document names what was asked. */
                json_object *c = cms_json_get(cms_json_get(hit, "metadata"), "component");
                if (c)
                        json_object_object_add(c, "name", json_object_new_string(ref));
                *out = hit;
                *cached = true;
                return 0;
        }
        json_object_put(hit);
        struct export_meter mt = {.cb = cb,
                                  .ud = ud,
                                  .what = "sbom",
                                  .total = json_object_get_int64(cms_json_get(raw, "Size"))};
        if ((r = read_export(m, id, &mt, &inv, err)) < 0)
                return r;
        meter_add(&mt, 0, true);
        struct cms_sbom_image img = {
            .name = ref, .id = id, .digest = first_string(cms_json_get(raw, "RepoDigests"))};
        if ((r = cms_sbom_cyclonedx(inv, &img, out, err)) < 0)
                return r;
        cache_store(dir, file, *out);
        return 0;
}

struct save_file {
        int fd;
        int werr;
        struct export_meter *meter;
        struct cms_manager *m;
};

static int save_feed(const char *data, size_t len, void *userdata)
{
        struct save_file *sf = userdata;
        if (meter_add(sf->meter, len, false))
                return 1;
        while (len > 0) {
                ssize_t w = write(sf->fd, data, len);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0) {
                        sf->werr = w < 0 ? errno : ENOSPC;
                        return 1;
                }
                data += w;
                len -= (size_t)w;
        }
        return 0;
}

static int save_should_stop(void *userdata)
{
        struct save_file *sf = userdata;
        return atomic_load(&sf->m->draining);
}

int cms_images_save_fd(struct cms_manager *m, const char *id, int64_t size, int fd,
                       cms_progress_cb cb, void *ud, struct cms_error *err)
{
        _cleanup_free_ char *path = cms_res_path("/images", id, "/get");
        struct export_meter mt = {.cb = cb, .ud = ud, .what = "export", .total = size};
        struct save_file sf = {.fd = fd, .meter = &mt, .m = m};
        if (!path)
                return cms_err(err, 500, "out of memory");
        struct cms_engine_req req = {.path = path, .timeout_ms = EXPORT_TIMEOUT_MS};
        struct cms_error e = {0};
        int r = cms_engine_stream(m->engine, &req, save_feed, save_should_stop, &sf, &e);
        if (sf.werr)
                return cms_err(err, 500, "writing the image's export: %s", strerror(sf.werr));
        if (r < 0 && atomic_load(&m->draining))
                return cms_err(err, 503, "the export of %s stopped: cmsd is shutting down", id);
        if (r < 0) {
                *err = e;
                return r;
        }
        meter_add(&mt, 0, true);
        return fsync(fd) < 0 ? cms_err(err, 500, "fsync: %s", strerror(errno)) : 0;
}
