/* Reading the live generation of the vulnerability database (layout in db.h): the index and its
 * keys mapped read-only (the page cache holds what a scan touches, not the whole set), records
 * read with pread when a lookup finds them. The generation is opened through its directory once,
 * so a concurrent import swapping "current" does not mix two generations. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db_internal.h"

#define MAX_META (16u << 20)

struct cms_vulndb {
        int rec_fd;
        uint64_t rec_size;
        const struct cms_vdb_disk *idx;
        uint64_t n;
        void *idx_map, *key_map;
        size_t idx_len, key_len;
        json_object *meta;
        json_tokener *tok;
};

void cms_vulndb_free(struct cms_vulndb *db)
{
        if (!db)
                return;
        if (db->rec_fd >= 0)
                close(db->rec_fd);
        if (db->idx_map)
                munmap(db->idx_map, db->idx_len);
        if (db->key_map)
                munmap(db->key_map, db->key_len);
        json_object_put(db->meta);
        if (db->tok)
                json_tokener_free(db->tok);
        free(db);
}

/* Maps a whole file (an empty one is a NULL map of length 0). */
static int map_file(int dfd, const char *name, void **map, size_t *len)
{
        int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
                int e = errno;
                if (fd >= 0)
                        close(fd);
                return -e;
        }
        *len = (size_t)st.st_size;
        *map = NULL;
        if (*len)
                *map = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (*map == MAP_FAILED) {
                *map = NULL;
                return -errno;
        }
        return 0;
}

static json_object *read_meta(int dfd)
{
        int fd = openat(dfd, "meta.json", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        struct cms_buf b;
        cms_buf_init(&b, MAX_META);
        char chunk[8192];
        ssize_t n;
        while ((n = read(fd, chunk, sizeof(chunk))) > 0)
                if (cms_buf_append(&b, chunk, (size_t)n) < 0)
                        break;
        close(fd);
        json_object *m = n == 0 && b.data ? json_tokener_parse(b.data) : NULL;
        cms_buf_free(&b);
        if (!json_object_is_type(m, json_type_object)) {
                json_object_put(m);
                return NULL;
        }
        return m;
}

static int open_gen(struct cms_vulndb *db, int dfd)
{
        int r = map_file(dfd, "index.dat", &db->idx_map, &db->idx_len);
        if (r == 0)
                r = map_file(dfd, "keys.dat", &db->key_map, &db->key_len);
        if (r < 0)
                return r;
        if (db->idx_len < 16 || memcmp(db->idx_map, CMS_VDB_MAGIC, 8))
                return -EBADMSG;
        memcpy(&db->n, (const char *)db->idx_map + 8, 8);
        if (db->n > (db->idx_len - 16) / sizeof(struct cms_vdb_disk) ||
            db->idx_len != 16 + db->n * sizeof(struct cms_vdb_disk))
                return -EBADMSG;
        db->idx = (const struct cms_vdb_disk *)((const char *)db->idx_map + 16);
        db->rec_fd = openat(dfd, "records.dat", O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (db->rec_fd < 0 || fstat(db->rec_fd, &st) < 0)
                return -errno;
        db->rec_size = (uint64_t)st.st_size;
        if (!(db->meta = read_meta(dfd)) || !(db->tok = json_tokener_new_ex(64)))
                return -EBADMSG;
        return 0;
}

int cms_vulndb_open(const char *dir, struct cms_vulndb **out, struct cms_error *err)
{
        *out = NULL;
        char cur[PATH_MAX];
        snprintf(cur, sizeof(cur), "%s/current", dir);
        int dfd = open(cur, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 && errno == ENOENT) {
                cms_err(err, 409,
                        "no vulnerability data: import OSV records first (POST "
                        "/v1/vulndb or cmsd --import-vulndb PATH)");
                return -ENOENT;
        }
        if (dfd < 0)
                return cms_err(err, 500, "cannot open %s: %s", cur, strerror(errno));
        struct cms_vulndb *db = calloc(1, sizeof(*db));
        if (!db) {
                close(dfd);
                return cms_err(err, 500, "out of memory");
        }
        db->rec_fd = -1;
        int r = open_gen(db, dfd);
        close(dfd);
        if (r < 0) {
                cms_vulndb_free(db);
                return cms_err(err, 500,
                               "the vulnerability database under %s is unreadable (%s):"
                               " import it again",
                               dir, strerror(-r));
        }
        *out = db;
        return 0;
}

json_object *cms_vulndb_info(const struct cms_vulndb *db)
{
        return db->meta;
}

int cms_vulndb_status(const char *dir, json_object **out, struct cms_error *err)
{
        struct cms_vulndb *db = NULL;
        *out = NULL;
        int r = cms_vulndb_open(dir, &db, err);
        if (r == -ENOENT) {
                cms_error_clear(err);
                json_object *o = json_object_new_object();
                json_object_object_add(o, "loaded", json_object_new_boolean(false));
                json_object_object_add(o, "records", json_object_new_int(0));
                json_object_object_add(o, "ecosystems", json_object_new_object());
                *out = o;
                return 0;
        }
        if (r < 0)
                return r;
        *out = json_object_get(db->meta);
        json_object_object_add(*out, "loaded", json_object_new_boolean(true));
        cms_vulndb_free(db);
        return 0;
}

static const char *key_at(const struct cms_vulndb *db, uint64_t i)
{
        uint64_t off = db->idx[i].key_off;
        if (off >= db->key_len || !memchr((const char *)db->key_map + off, 0, db->key_len - off))
                return NULL;
        return (const char *)db->key_map + off;
}

/* The first index entry whose key is >= key. */
static int lower_bound(const struct cms_vulndb *db, const char *key, uint64_t *at)
{
        uint64_t lo = 0, hi = db->n;
        while (lo < hi) {
                uint64_t mid = lo + (hi - lo) / 2;
                const char *k = key_at(db, mid);
                if (!k)
                        return -EBADMSG;
                if (strcmp(k, key) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *at = lo;
        return 0;
}

static int record_at(struct cms_vulndb *db, const struct cms_vdb_disk *d, struct cms_osv **rec)
{
        if (d->rec_off > db->rec_size || d->rec_len > db->rec_size - d->rec_off ||
            d->rec_len > INT32_MAX)
                return -EBADMSG;
        _cleanup_free_ char *buf = malloc(d->rec_len + 1);
        if (!buf)
                return -ENOMEM;
        ssize_t n = pread(db->rec_fd, buf, d->rec_len, (off_t)d->rec_off);
        if (n != (ssize_t)d->rec_len)
                return -EBADMSG;
        json_tokener_reset(db->tok);
        json_object *doc = json_tokener_parse_ex(db->tok, buf, (int)d->rec_len);
        int r = doc ? cms_osv_parse(doc, rec, NULL) : -EBADMSG;
        json_object_put(doc);
        return r < 0 ? -EBADMSG : 0;
}

static int lookup_key(struct cms_vulndb *db, const char *key, cms_vulndb_cb cb, void *ud,
                      struct cms_error *err)
{
        uint64_t i;
        int r = lower_bound(db, key, &i);
        for (; r == 0 && i < db->n; i++) {
                const char *k = key_at(db, i);
                if (!k) {
                        r = -EBADMSG;
                        break;
                }
                if (strcmp(k, key))
                        break;
                struct cms_osv *rec = NULL;
                if ((r = record_at(db, &db->idx[i], &rec)) < 0)
                        break;
                r = cb(rec, ud);
                cms_osv_free(rec);
                if (r)
                        return r;
        }
        if (r < 0)
                return cms_err(err, 500,
                               "the vulnerability database is corrupt (%s): import it"
                               " again",
                               strerror(-r));
        return 0;
}

int cms_vulndb_lookup(struct cms_vulndb *db, const char *ecosystem, const char *release,
                      const char *name, cms_vulndb_cb cb, void *ud, struct cms_error *err)
{
        char key[1024];
        if (!cms_vulndb_key(ecosystem, NULL, name, key, sizeof(key)))
                return 0; /* no record names a package that long */
        int r = lookup_key(db, key, cb, ud, err);
        if (r || !release || !*release)
                return r;
        if (!cms_vulndb_key(ecosystem, release, name, key, sizeof(key)))
                return 0;
        return lookup_key(db, key, cb, ud, err);
}
