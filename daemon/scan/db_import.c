/* Where imported OSV records come from: an archive (tar, plain or compressed, or zip) read from a
 * stream or a file, or a directory tree on this host. Each "*.json" file is one record handed to
 * the builder (db_write.c); other files are ignored. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db_internal.h"

#define MAX_DEPTH 32

static bool is_json(const char *path)
{
        size_t n = strlen(path);
        return n > 5 && !strcmp(path + n - 5, ".json");
}

static int from_archive(struct cms_vdb_builder *b, struct cms_archive *a, struct cms_error *err)
{
        struct cms_archive_entry e;
        int r;
        while ((r = cms_archive_next(a, &e, err)) == 1) {
                if (e.type != CMS_ARCHIVE_FILE || !is_json(e.path))
                        continue;
                _cleanup_free_ char *path = strdup(e.path), *text = NULL;
                size_t len = 0;
                struct cms_error rerr = {0};
                if (!path)
                        return cms_err(err, 500, "out of memory");
                if (cms_archive_read_all(a, b->lim.max_record, &text, &len, &rerr) < 0) {
                        if (rerr.status != 413) {
                                *err = rerr;
                                return -1;
                        }
                        cms_vdb_skip(b, path, "the record is larger than the per-record limit");
                        continue;
                }
                if (cms_vdb_add(b, path, text, len, err) < 0)
                        return -1;
        }
        return r < 0 ? -1 : 0;
}

static void archive_limits(const struct cms_vdb_builder *b, struct cms_archive_limits *al)
{
        *al = (struct cms_archive_limits){.max_entries = b->lim.max_records * 2 + 1000,
                                          .max_total = b->lim.max_total,
                                          .bad_status = 422};
}

static int finish(struct cms_vdb_builder *b, int r, const char *source, json_object **info,
                  struct cms_error *err)
{
        if (r == 0)
                r = cms_vdb_commit(b, source, info, err);
        cms_vdb_abort(b);
        return r < 0 ? -1 : 0;
}

int cms_vulndb_import_stream(const char *dir, cms_archive_read_cb read, void *ud,
                             const struct cms_vulndb_limits *limits, json_object **info,
                             struct cms_error *err)
{
        struct cms_vdb_builder b;
        struct cms_archive *a = NULL;
        struct cms_archive_limits al;
        int r = cms_vdb_begin(&b, dir, limits, err);
        if (r == 0) {
                archive_limits(&b, &al);
                r = cms_archive_open_stream(read, ud, CMS_ARCHIVE_TAR | CMS_ARCHIVE_ZIP, &al, &a,
                                            err);
        }
        if (r == 0)
                r = from_archive(&b, a, err);
        cms_archive_free(a);
        return finish(&b, r, "upload", info, err);
}

/* One file of a directory tree: read whole when under the per-record cap. */
static int from_file(struct cms_vdb_builder *b, int dfd, const char *name, const char *path,
                     struct cms_error *err)
{
        int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
                int e = errno;
                if (fd >= 0)
                        close(fd);
                return cms_err(err, 422, "cannot read %s: %s", path, strerror(e));
        }
        if ((size_t)st.st_size > b->lim.max_record) {
                close(fd);
                cms_vdb_skip(b, path, "the record is larger than the per-record limit");
                return 0;
        }
        _cleanup_free_ char *text = malloc((size_t)st.st_size + 1);
        size_t len = 0;
        while (text && len < (size_t)st.st_size) {
                ssize_t n = read(fd, text + len, (size_t)st.st_size - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        close(fd);
        if (!text)
                return cms_err(err, 500, "out of memory");
        text[len] = 0;
        return cms_vdb_add(b, path, text, len, err);
}

static int walk(struct cms_vdb_builder *b, int dfd, const char *path, int depth,
                struct cms_error *err)
{
        if (depth > MAX_DEPTH)
                return cms_err(err, 422, "%s: directories nested deeper than %d", path, MAX_DEPTH);
        DIR *d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return cms_err(err, 422, "cannot read %s: %s", path, strerror(errno));
        }
        int r = 0;
        for (struct dirent *e; r == 0 && (e = readdir(d));) {
                if (e->d_name[0] == '.' &&
                    (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
                        continue;
                _cleanup_free_ char *sub = cms_strdup_printf("%s/%s", path, e->d_name);
                struct stat st;
                if (!sub)
                        r = cms_err(err, 500, "out of memory");
                else if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        r = cms_err(err, 422, "cannot read %s: %s", sub, strerror(errno));
                else if (S_ISDIR(st.st_mode)) {
                        int fd = openat(dirfd(d), e->d_name,
                                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        r = fd < 0 ? cms_err(err, 422, "cannot read %s: %s", sub, strerror(errno))
                                   : walk(b, fd, sub, depth + 1, err);
                } else if (S_ISREG(st.st_mode) && is_json(e->d_name))
                        r = from_file(b, dirfd(d), e->d_name, sub, err);
        }
        closedir(d);
        return r;
}

int cms_vulndb_import_path(const char *dir, const char *path,
                           const struct cms_vulndb_limits *limits, json_object **info,
                           struct cms_error *err)
{
        struct stat st;
        if (!path || path[0] != '/')
                return cms_err(err, 400, "path must be an absolute path on the daemon's host");
        if (stat(path, &st) < 0)
                return cms_err(err, 400, "%s: %s", path, strerror(errno));
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
                return cms_err(err, 400, "%s is neither a directory nor an archive file", path);
        struct cms_vdb_builder b;
        int r = cms_vdb_begin(&b, dir, limits, err);
        if (r == 0 && S_ISDIR(st.st_mode)) {
                int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                r = fd < 0 ? cms_err(err, 400, "%s: %s", path, strerror(errno))
                           : walk(&b, fd, path, 0, err);
        } else if (r == 0) {
                struct cms_archive *a = NULL;
                struct cms_archive_limits al;
                archive_limits(&b, &al);
                r = cms_archive_open_file(path, CMS_ARCHIVE_TAR | CMS_ARCHIVE_ZIP, &al, &a, err);
                if (r == 0)
                        r = from_archive(&b, a, err);
                cms_archive_free(a);
        }
        return finish(&b, r, path, info, err);
}
