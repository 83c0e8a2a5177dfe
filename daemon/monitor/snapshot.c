/* The rings on disk, so that history survives a restart or an upgrade. Written when the sampler
 * stops: a temp file in state_dir, fsync, rename over <state_dir>/metrics.snapshot, fsync of the
 * directory. Read when it starts, and trusted only when everything checks: magic, version, field
 * count, a SHA-256 of the whole content, bounded lengths, and every ring's records decoding to
 * exactly their length. Anything else is refused as a whole.
 *
 * A kill -9 during a save leaves the previous snapshot whole and, at most, the temp file,
 * which the next start removes.
 *
 * Layout (little-endian): "CMSDSNAP" u32 version u32 fields i64 interval_ms i64 saved_ms
 * u32 containers, then per container: id name image project service cg_path (u16 length +
 * bytes each), i64 started_at, i32 health, u32 samples, i64 base time, fields x u64 base
 * values, u32 record bytes, the records; then the SHA-256 of all that. */
#include "sampler_internal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC       "CMSDSNAP"
#define VERSION     1
#define FILE_NAME   "metrics.snapshot"
#define MAX_FILE    (1024u * 1024 * 1024)
#define MAX_SAMPLES 10000000u

/* ---- writing ---- */

static int put_le(struct cms_buf *b, uint64_t v, int bytes)
{
        unsigned char x[8];
        for (int i = 0; i < bytes; i++)
                x[i] = (unsigned char)(v >> (8 * i));
        return cms_buf_append(b, x, (size_t)bytes);
}

static int put_str(struct cms_buf *b, const char *s)
{
        size_t n = strlen(s);
        int r = put_le(b, n, 2);
        return r < 0 ? r : cms_buf_append(b, s, n);
}

static int put_ctr(struct cms_buf *b, const struct cms_ctr_info *in, const struct cms_ring_snap *sn)
{
        int r = 0;
        const char *strs[] = {in->id, in->name, in->image, in->project, in->service, in->cg_path};
        for (size_t i = 0; i < ELEMENTSOF(strs) && r == 0; i++)
                r = put_str(b, strs[i]);
        r = r ?: put_le(b, (uint64_t)in->started_at, 8);
        r = r ?: put_le(b, (uint64_t)(uint32_t)in->health, 4);
        r = r ?: put_le(b, sn->count, 4);
        r = r ?: put_le(b, (uint64_t)sn->base.t_ms, 8);
        for (int f = 0; f < CMS_F_COUNT && r == 0; f++)
                r = put_le(b, sn->base.v[f], 8);
        r = r ?: put_le(b, sn->len, 4);
        return r ?: cms_buf_append(b, sn->data, sn->len);
}

static int build(struct cms_sampler *s, struct cms_buf *b, size_t *count)
{
        struct cms_sampler_ctr **v = NULL;
        size_t n = 0;
        int r = cms_sampler_list(s, false, &v, &n);
        if (r < 0)
                return r;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        r = cms_buf_append(b, MAGIC, 8);
        r = r ?: put_le(b, VERSION, 4);
        r = r ?: put_le(b, CMS_F_COUNT, 4);
        r = r ?: put_le(b, (uint64_t)s->interval_ms, 8);
        r = r ?: put_le(b, (uint64_t)now.tv_sec * 1000, 8);
        size_t count_at = b->len;
        r = r ?: put_le(b, 0, 4);
        *count = 0;
        for (size_t i = 0; i < n && r == 0; i++) {
                struct cms_ctr_info *in = malloc(sizeof(*in));
                struct cms_ring_snap sn = {0};
                r = in ? cms_sampler_ctr_read(v[i], in, &sn) : -ENOMEM;
                if (r == 0 && sn.count > 0) {
                        r = put_ctr(b, in, &sn);
                        (*count)++;
                }
                cms_ring_snap_free(&sn);
                free(in);
        }
        cms_sampler_list_free(v, n);
        if (r < 0)
                return r;
        for (int i = 0; i < 4; i++)
                b->data[count_at + (size_t)i] = (char)(*count >> (8 * i));
        unsigned char digest[CMS_SHA256_LEN];
        cms_sha256(b->data, b->len, digest);
        return cms_buf_append(b, digest, sizeof(digest));
}

int cms_sampler_snapshot_save(struct cms_sampler *s, struct cms_error *err)
{
        if (!s->state_dir[0])
                return 0;
        struct cms_buf b;
        cms_buf_init(&b, MAX_FILE);
        size_t count = 0;
        int r = build(s, &b, &count);
        if (r < 0) {
                cms_buf_free(&b);
                return cms_err(err, 500, "cannot build the snapshot: %s", strerror(-r));
        }
        _cleanup_free_ char *dst = cms_strdup_printf("%s/%s", s->state_dir, FILE_NAME);
        if (count == 0) {
                /* Nothing held: write nothing (a process that never saw a container, such as a
                 * test, must not touch a state_dir it may share). An older file stays; what it
                 * restores is dropped at the first reconcile if those containers are gone. */
                cms_buf_free(&b);
                return 0;
        }
        _cleanup_free_ char *tmp = cms_strdup_printf("%s/%s.tmp", s->state_dir, FILE_NAME);
        int fd = -1;
        if (!tmp || !dst)
                r = -ENOMEM;
        else if ((r = cms_mkdir_p(s->state_dir, 0750)) == 0 &&
                 (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
                r = -errno;
        if (r == 0 && (r = cms_write_all(fd, b.data, b.len)) == 0 && fsync(fd) < 0)
                r = -errno;
        if (fd >= 0 && close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, dst) < 0)
                r = -errno;
        cms_buf_free(&b);
        if (r < 0) {
                if (tmp)
                        unlink(tmp);
                return cms_err(err, 500, "%s: %s", dst ? dst : s->state_dir, strerror(-r));
        }
        /* The rename itself must reach the disk too. */
        int dfd = open(s->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
                fsync(dfd);
                close(dfd);
        }
        return 0;
}

int cms_sampler_save(struct cms_sampler *s, struct cms_error *err)
{
        return s ? cms_sampler_snapshot_save(s, err) : 0;
}

/* ---- reading ---- */

struct rd {
        const unsigned char *p;
        size_t len, off;
        bool bad;
};

static uint64_t get_le(struct rd *r, int bytes)
{
        uint64_t v = 0;
        if (r->bad || r->len - r->off < (size_t)bytes) {
                r->bad = true;
                return 0;
        }
        for (int i = 0; i < bytes; i++)
                v |= (uint64_t)r->p[r->off + (size_t)i] << (8 * i);
        r->off += (size_t)bytes;
        return v;
}

static void get_str(struct rd *r, char *out, size_t cap)
{
        size_t n = get_le(r, 2);
        if (r->bad || n >= cap || r->len - r->off < n) {
                r->bad = true;
                out[0] = 0;
                return;
        }
        memcpy(out, r->p + r->off, n);
        out[n] = 0;
        if (strlen(out) != n)
                r->bad = true; /* an embedded NUL */
        r->off += n;
}

static bool hex64(const char *s)
{
        size_t n = 0;
        for (; s[n]; n++)
                if (!strchr("0123456789abcdef", s[n]))
                        return false;
        return n == 64;
}

/* Reads one container into in/sn (sn->data points into the file buffer). */
static int read_ctr(struct rd *r, struct cms_ctr_info *in, struct cms_ring_snap *sn,
                    int64_t interval_ms)
{
        memset(in, 0, sizeof(*in));
        memset(sn, 0, sizeof(*sn));
        get_str(r, in->id, sizeof(in->id));
        get_str(r, in->name, sizeof(in->name));
        get_str(r, in->image, sizeof(in->image));
        get_str(r, in->project, sizeof(in->project));
        get_str(r, in->service, sizeof(in->service));
        get_str(r, in->cg_path, sizeof(in->cg_path));
        in->started_at = (int64_t)get_le(r, 8);
        in->health = (int)(int32_t)get_le(r, 4);
        sn->interval_ms = interval_ms;
        sn->count = get_le(r, 4);
        sn->base.t_ms = (int64_t)get_le(r, 8);
        for (int f = 0; f < CMS_F_COUNT; f++)
                sn->base.v[f] = get_le(r, 8);
        sn->len = get_le(r, 4);
        if (r->bad || !hex64(in->id) || sn->count == 0 || sn->count > MAX_SAMPLES ||
            in->health < 0 || in->health > CMS_HEALTH_UNHEALTHY || r->len - r->off < sn->len)
                return -EBADMSG;
        sn->data = (uint8_t *)(r->p + r->off);
        r->off += sn->len;
        return cms_ring_snap_validate(sn);
}

/* Puts a validated container into the set (not running until the engine says so). */
static void commit(struct cms_sampler *s, const struct cms_ctr_info *in,
                   const struct cms_ring_snap *sn)
{
        struct cms_sampler_ctr *c = cms_sampler_get_or_add(s, in->id);
        if (!c)
                return;
        struct cms_ring_iter it;
        struct cms_sample x;
        pthread_mutex_lock(&c->lock);
        c->info = *in;
        c->info.state = CMS_CTR_STOPPED;
        c->info.cg_path[0] = 0; /* found again when the container is seen running */
        cms_ring_iter_init(&it, sn);
        while (cms_ring_iter_next(&it, &x) > 0) {
                if (cms_ring_push(c->ring, &x) < 0)
                        continue;
                c->info.prev = c->info.latest;
                c->info.has_prev = c->info.has_latest;
                c->info.latest = x;
                c->info.has_latest = true;
        }
        pthread_mutex_unlock(&c->lock);
        cms_sampler_ctr_unref(c);
}

static int cmp_id(const void *a, const void *b)
{
        return strcmp(a, b);
}

/* cmsd writes each container once; a file naming one twice was not written by it and would
 * feed two histories into one ring. */
static bool has_duplicate(char (*ids)[65], size_t n)
{
        qsort(ids, n, sizeof(*ids), cmp_id);
        for (size_t i = 1; i < n; i++)
                if (!strcmp(ids[i - 1], ids[i]))
                        return true;
        return false;
}

/* Two passes over the same bytes: check everything, then (only if all is well) commit. */
static int parse(struct cms_sampler *s, const unsigned char *p, size_t len, bool apply,
                 size_t *loaded, struct cms_error *err)
{
        struct rd r = {p, len, 8, false};
        uint32_t version = (uint32_t)get_le(&r, 4), fields = (uint32_t)get_le(&r, 4);
        int64_t interval = (int64_t)get_le(&r, 8);
        get_le(&r, 8); /* saved at */
        uint32_t n = (uint32_t)get_le(&r, 4);
        if (version != VERSION)
                return cms_err(err, 400, "snapshot version %u, this cmsd reads %d", version,
                               VERSION);
        if (fields != CMS_F_COUNT)
                return cms_err(err, 400, "snapshot has %u fields per sample, expected %d", fields,
                               CMS_F_COUNT);
        if (r.bad || interval <= 0 || n > CMS_SAMPLER_MAX_CONTAINERS)
                return cms_err(err, 400, "malformed snapshot header");
        struct cms_ctr_info *in = malloc(sizeof(*in));
        char(*ids)[65] = apply ? NULL : calloc(n ? n : 1, sizeof(*ids));
        if (!in || (!apply && !ids)) {
                free(in);
                return cms_err(err, 500, "out of memory");
        }
        int rc = 0;
        for (uint32_t i = 0; i < n && rc == 0; i++) {
                struct cms_ring_snap sn;
                if (read_ctr(&r, in, &sn, interval) < 0)
                        rc = cms_err(err, 400, "malformed record for container %u of %u", i + 1, n);
                else if (apply)
                        commit(s, in, &sn);
                else
                        memcpy(ids[i], in->id, sizeof(ids[i]));
        }
        free(in);
        if (rc == 0 && r.off != len)
                rc =
                    cms_err(err, 400, "%zu unexpected bytes after the last container", len - r.off);
        if (rc == 0 && !apply && has_duplicate(ids, n))
                rc = cms_err(err, 400, "a container is listed twice");
        free(ids);
        if (rc == 0)
                *loaded = n;
        return rc;
}

static int read_file(const char *path, unsigned char **out, size_t *len, struct cms_error *err)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 1 : cms_err(err, 500, "%s: %s", path, strerror(errno));
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)MAX_FILE) {
                close(fd);
                return cms_err(err, 400, "%s: not a regular file of at most 1 GiB", path);
        }
        unsigned char *p = malloc((size_t)st.st_size + 1);
        size_t got = 0;
        while (p && got < (size_t)st.st_size) {
                ssize_t k = read(fd, p + got, (size_t)st.st_size - got);
                if (k <= 0)
                        break;
                got += (size_t)k;
        }
        close(fd);
        if (!p || got != (size_t)st.st_size) {
                free(p);
                return cms_err(err, 500, "%s: short read", path);
        }
        *out = p;
        *len = got;
        return 0;
}

int cms_sampler_snapshot_load(struct cms_sampler *s, size_t *loaded, struct cms_error *err)
{
        *loaded = 0;
        if (!s->state_dir[0])
                return 0;
        _cleanup_free_ char *path = cms_strdup_printf("%s/%s", s->state_dir, FILE_NAME);
        _cleanup_free_ char *tmp = cms_strdup_printf("%s/%s.tmp", s->state_dir, FILE_NAME);
        _cleanup_free_ unsigned char *p = NULL;
        size_t len = 0;
        if (!path || !tmp)
                return cms_err(err, 500, "out of memory");
        /* What a save killed before its rename left behind (up to the size of a snapshot): never
         * read, only removed; the snapshot beside it is the previous whole one. */
        unlink(tmp);
        int r = read_file(path, &p, &len, err);
        if (r != 0)
                return r > 0 ? 0 : r;
        if (len < 8 + 28 + CMS_SHA256_LEN || memcmp(p, MAGIC, 8) != 0)
                return cms_err(err, 400, "%s is not a cmsd metrics snapshot", path);
        unsigned char digest[CMS_SHA256_LEN];
        len -= CMS_SHA256_LEN;
        cms_sha256(p, len, digest);
        if (memcmp(digest, p + len, CMS_SHA256_LEN) != 0)
                return cms_err(err, 400, "%s: checksum mismatch (corrupt or truncated)", path);
        if ((r = parse(s, p, len, false, loaded, err)) < 0) {
                char why[sizeof(err->message)];
                memcpy(why, err->message, sizeof(why));
                return cms_err(err, 400, "%s: %.300s", path, why);
        }
        return parse(s, p, len, true, loaded, err);
}
