/* Writing a generation of the vulnerability database (layout in db.h): records appended to
 * records.dat as they are read, their index keys kept in memory (bounded by max_keys), sorted
 * and written at the end with the meta, then the generation renamed into place and "current"
 * swapped to it. The sources (archive, directory) are in db_import.c. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db_internal.h"

#define MAX_EXAMPLES   10
#define MAX_ECOSYSTEMS 10000

static void limits_resolve(const struct cms_vulndb_limits *in, struct cms_vulndb_limits *out)
{
        *out = in ? *in : (struct cms_vulndb_limits){0};
        if (!out->max_record)
                out->max_record = 4u << 20;
        if (!out->max_records)
                out->max_records = 2000000;
        if (!out->max_keys)
                out->max_keys = 8000000;
        if (!out->max_total)
                out->max_total = 8LL << 30;
}

/* Removes a flat directory (a generation holds files only). */
void cms_vulndb_rmdir(const char *path)
{
        DIR *d = opendir(path);
        if (d) {
                for (struct dirent *e; (e = readdir(d));)
                        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                                unlinkat(dirfd(d), e->d_name, 0);
                closedir(d);
        }
        rmdir(path);
}

int cms_vdb_begin(struct cms_vdb_builder *b, const char *dir,
                  const struct cms_vulndb_limits *limits, struct cms_error *err)
{
        static unsigned long counter;
        memset(b, 0, sizeof(*b));
        b->rec_fd = b->lock_fd = -1;
        limits_resolve(limits, &b->lim);
        snprintf(b->dir, sizeof(b->dir), "%s", dir);
        if (cms_mkdir_p(dir, 0700) < 0)
                return cms_err(err, 500, "cannot create %s: %s", dir, strerror(errno));
        char lock[PATH_MAX];
        snprintf(lock, sizeof(lock), "%s/lock", dir);
        b->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (b->lock_fd < 0)
                return cms_err(err, 500, "cannot open %s: %s", lock, strerror(errno));
        if (flock(b->lock_fd, LOCK_EX | LOCK_NB) < 0)
                return cms_err(err, 409, "another import of the vulnerability database is running");
        snprintf(b->gen, sizeof(b->gen), "gen-%lld-%ld-%lu", (long long)time(NULL), (long)getpid(),
                 __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
        snprintf(b->tmp, sizeof(b->tmp), "%s/.tmp-%s", dir, b->gen);
        if (mkdir(b->tmp, 0700) < 0)
                return cms_err(err, 500, "cannot create %s: %s", b->tmp, strerror(errno));
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/records.dat", b->tmp);
        b->rec_fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        b->ecos = json_object_new_object();
        b->examples = json_object_new_array();
        b->tok = json_tokener_new_ex(64);
        if (b->rec_fd < 0 || !b->ecos || !b->examples || !b->tok)
                return cms_err(err, 500, "cannot start the import: %s", strerror(errno));
        json_tokener_set_flags(b->tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        return 0;
}

void cms_vdb_abort(struct cms_vdb_builder *b)
{
        for (size_t i = 0; i < b->n; i++)
                free(b->e[i].key);
        free(b->e);
        b->e = NULL;
        b->n = 0;
        if (b->rec_fd >= 0)
                close(b->rec_fd);
        b->rec_fd = -1;
        if (b->tmp[0])
                cms_vulndb_rmdir(b->tmp);
        b->tmp[0] = 0;
        json_object_put(b->ecos);
        json_object_put(b->examples);
        b->ecos = b->examples = NULL;
        if (b->tok)
                json_tokener_free(b->tok);
        b->tok = NULL;
        if (b->lock_fd >= 0)
                close(b->lock_fd); /* releases the flock */
        b->lock_fd = -1;
}

void cms_vdb_skip(struct cms_vdb_builder *b, const char *path, const char *reason)
{
        b->skipped++;
        if (json_object_array_length(b->examples) >= MAX_EXAMPLES)
                return;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "path", json_object_new_string(path));
        json_object_object_add(o, "reason", json_object_new_string(reason));
        json_object_array_add(b->examples, o);
}

static int add_key(struct cms_vdb_builder *b, const char *key, uint64_t off, uint32_t len,
                   size_t first, struct cms_error *err)
{
        for (size_t i = first; i < b->n; i++) /* the same package twice in one record */
                if (!strcmp(b->e[i].key, key))
                        return 0;
        if ((int64_t)b->n >= b->lim.max_keys)
                return cms_err(err, 413, "more than %lld index entries (packages named by records)",
                               (long long)b->lim.max_keys);
        if (b->n == b->cap) {
                size_t cap = b->cap ? b->cap * 2 : 4096;
                struct cms_vdb_entry *e = realloc(b->e, cap * sizeof(*e));
                if (!e)
                        return cms_err(err, 500, "out of memory");
                b->e = e;
                b->cap = cap;
        }
        char *k = strdup(key);
        if (!k)
                return cms_err(err, 500, "out of memory");
        b->e[b->n++] = (struct cms_vdb_entry){.key = k, .off = off, .len = len};
        return 0;
}

static void count_ecosystems(struct cms_vdb_builder *b, const struct cms_osv *rec)
{
        for (size_t i = 0; i < rec->naffected; i++) {
                const struct cms_osv_affected *a = &rec->affected[i];
                char label[256];
                snprintf(label, sizeof(label), "%s%s%s", a->ecosystem, a->release ? ":" : "",
                         a->release ? a->release : "");
                bool seen = false;
                for (size_t j = 0; j < i && !seen; j++) {
                        const struct cms_osv_affected *o = &rec->affected[j];
                        seen = !strcmp(o->ecosystem, a->ecosystem) &&
                               !!o->release == !!a->release &&
                               (!a->release || !strcmp(o->release, a->release));
                }
                json_object *c = json_object_object_get(b->ecos, label);
                if (seen)
                        continue;
                if (c)
                        json_object_set_int64(c, json_object_get_int64(c) + 1);
                else if (json_object_object_length(b->ecos) < MAX_ECOSYSTEMS)
                        json_object_object_add(b->ecos, label, json_object_new_int64(1));
        }
}

/* Indexes and appends one parsed record. */
static int add_parsed(struct cms_vdb_builder *b, const struct cms_osv *rec, struct cms_error *err)
{
        if (b->records >= b->lim.max_records)
                return cms_err(err, 413, "more than %lld records", (long long)b->lim.max_records);
        size_t len;
        const char *s = json_object_to_json_string_length(rec->doc, JSON_C_TO_STRING_PLAIN, &len);
        if (!s || len + 1 > UINT32_MAX)
                return cms_err(err, 500, "out of memory");
        size_t first = b->n;
        for (size_t i = 0; i < rec->naffected; i++) {
                const struct cms_osv_affected *a = &rec->affected[i];
                char key[1024];
                if (!cms_vulndb_key(a->ecosystem, a->release, a->name, key, sizeof(key)))
                        continue; /* a name over 1 KiB names no installed package */
                int r = add_key(b, key, b->rec_off, (uint32_t)len, first, err);
                if (r < 0)
                        return r;
        }
        int r = cms_write_all(b->rec_fd, s, len);
        if (r == 0)
                r = cms_write_all(b->rec_fd, "\n", 1);
        if (r < 0)
                return cms_err(err, 500, "cannot write the records: %s", strerror(-r));
        b->rec_off += len + 1;
        b->records++;
        count_ecosystems(b, rec);
        if (rec->modified && strcmp(rec->modified, b->newest) > 0)
                snprintf(b->newest, sizeof(b->newest), "%s", rec->modified);
        return 0;
}

int cms_vdb_add(struct cms_vdb_builder *b, const char *path, const char *text, size_t len,
                struct cms_error *err)
{
        if ((b->total += (int64_t)len) > b->lim.max_total)
                return cms_err(err, 413, "more than %lld bytes of records",
                               (long long)b->lim.max_total);
        if (len > b->lim.max_record || len > INT32_MAX) {
                cms_vdb_skip(b, path, "the record is larger than the per-record limit");
                return 0;
        }
        json_tokener_reset(b->tok);
        json_object *doc = json_tokener_parse_ex(b->tok, text, (int)len);
        enum json_tokener_error je = json_tokener_get_error(b->tok);
        size_t end = json_tokener_get_parse_end(b->tok);
        while (end < len && strchr(" \t\r\n", text[end]))
                end++;
        if (je != json_tokener_success || !doc || end != len) {
                json_object_put(doc);
                cms_vdb_skip(b, path, "not a JSON document");
                return 0;
        }
        struct cms_osv *rec = NULL;
        const char *why = NULL;
        int r = cms_osv_parse(doc, &rec, &why);
        json_object_put(doc);
        if (r == -ENOMEM)
                return cms_err(err, 500, "out of memory");
        if (r < 0) {
                cms_vdb_skip(b, path, why ? why : "not an OSV record");
                return 0;
        }
        r = add_parsed(b, rec, err);
        cms_osv_free(rec);
        return r;
}

static int entry_cmp(const void *pa, const void *pb)
{
        const struct cms_vdb_entry *a = pa, *b = pb;
        int c = strcmp(a->key, b->key);
        return c ? c : (a->off > b->off) - (a->off < b->off);
}

static int sync_close(FILE *f)
{
        int r = fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -errno;
        if (fclose(f) != 0 && r == 0)
                r = -errno;
        return r;
}

/* keys.dat and index.dat from the sorted entries (equal keys share one string). */
static int write_index(struct cms_vdb_builder *b, struct cms_error *err)
{
        char kp[PATH_MAX], ip[PATH_MAX];
        snprintf(kp, sizeof(kp), "%s/keys.dat", b->tmp);
        snprintf(ip, sizeof(ip), "%s/index.dat", b->tmp);
        FILE *kf = fopen(kp, "we"), *xf = fopen(ip, "we");
        int r = kf && xf ? 0 : -errno;
        uint64_t koff = 0, n = b->n, last = 0;
        if (r == 0 && (fwrite(CMS_VDB_MAGIC, 8, 1, xf) != 1 || fwrite(&n, 8, 1, xf) != 1))
                r = -EIO;
        for (size_t i = 0; r == 0 && i < b->n; i++) {
                if (i == 0 || strcmp(b->e[i].key, b->e[i - 1].key)) {
                        size_t kl = strlen(b->e[i].key) + 1;
                        if (fwrite(b->e[i].key, kl, 1, kf) != 1)
                                r = -EIO;
                        last = koff;
                        koff += kl;
                }
                struct cms_vdb_disk d = {
                    .key_off = last, .rec_off = b->e[i].off, .rec_len = b->e[i].len};
                if (fwrite(&d, sizeof(d), 1, xf) != 1)
                        r = -EIO;
        }
        if (kf && sync_close(kf) < 0 && r == 0)
                r = -errno;
        if (xf && sync_close(xf) < 0 && r == 0)
                r = -errno;
        if (r < 0)
                return cms_err(err, 500, "cannot write the index: %s", strerror(-r));
        return 0;
}

static int write_meta(struct cms_vdb_builder *b, const char *source, json_object **info,
                      struct cms_error *err)
{
        char ts[32], p[PATH_MAX];
        time_t now = time(NULL);
        struct tm tm;
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        json_object *m = json_object_new_object();
        json_object_object_add(m, "ecosystems", json_object_get(b->ecos));
        json_object_object_add(m, "records", json_object_new_int64(b->records));
        json_object_object_add(m, "skipped", json_object_new_int64(b->skipped));
        json_object_object_add(m, "skipped_examples", json_object_get(b->examples));
        json_object_object_add(m, "newest_modified",
                               b->newest[0] ? json_object_new_string(b->newest) : NULL);
        json_object_object_add(m, "imported_at", json_object_new_string(ts));
        json_object_object_add(m, "source", json_object_new_string(source));
        json_object_object_add(m, "generation", json_object_new_string(b->gen));
        snprintf(p, sizeof(p), "%s/meta.json", b->tmp);
        size_t len;
        const char *s = json_object_to_json_string_length(m, JSON_C_TO_STRING_PLAIN, &len);
        int fd = s ? open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
        int r = fd < 0 ? -errno : cms_write_all(fd, s, len);
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (fd >= 0)
                close(fd);
        if (r < 0) {
                json_object_put(m);
                return cms_err(err, 500, "cannot write %s: %s", p, strerror(-r));
        }
        if (info)
                *info = m;
        else
                json_object_put(m);
        return 0;
}

/* Removes the generations other than keep, and temporary directories of imports that died
 * (the lock is held: no import is writing one). */
static void prune(const char *dir, const char *keep)
{
        DIR *d = opendir(dir);
        if (!d)
                return;
        for (struct dirent *e; (e = readdir(d));) {
                if (strncmp(e->d_name, "gen-", 4) && strncmp(e->d_name, ".tmp-gen-", 9))
                        continue;
                if (!strcmp(e->d_name, keep))
                        continue;
                char p[PATH_MAX];
                snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
                cms_vulndb_rmdir(p);
        }
        closedir(d);
}

static int fsync_dir(const char *dir)
{
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = fd >= 0 && fsync(fd) == 0 ? 0 : -errno;
        if (fd >= 0)
                close(fd);
        return r;
}

int cms_vdb_commit(struct cms_vdb_builder *b, const char *source, json_object **info,
                   struct cms_error *err)
{
        if (info)
                *info = NULL;
        if (fsync(b->rec_fd) < 0 || close(b->rec_fd) < 0) {
                b->rec_fd = -1;
                return cms_err(err, 500, "cannot write the records: %s", strerror(errno));
        }
        b->rec_fd = -1;
        if (b->n)
                qsort(b->e, b->n, sizeof(*b->e), entry_cmp);
        int r = write_index(b, err);
        if (r == 0)
                r = write_meta(b, source, info, err);
        if (r < 0)
                return r;
        char gen[PATH_MAX], link_tmp[PATH_MAX], cur[PATH_MAX];
        snprintf(gen, sizeof(gen), "%s/%s", b->dir, b->gen);
        snprintf(link_tmp, sizeof(link_tmp), "%s/.current-%s", b->dir, b->gen);
        snprintf(cur, sizeof(cur), "%s/current", b->dir);
        int e = 0;
        if (fsync_dir(b->tmp) < 0 || rename(b->tmp, gen) < 0) {
                e = errno;
                goto fail;
        }
        b->tmp[0] = 0;
        if (symlink(b->gen, link_tmp) < 0 || rename(link_tmp, cur) < 0) {
                e = errno;
                unlink(link_tmp);
                cms_vulndb_rmdir(gen);
                goto fail;
        }
        fsync_dir(b->dir);
        prune(b->dir, b->gen);
        return 0;
fail:
        r = cms_err(err, 500, "cannot put the new vulnerability data in place: %s", strerror(e));
        if (info) {
                json_object_put(*info);
                *info = NULL;
        }
        return r;
}
