/* Streams a directory as an uncompressed tar for an engine's /build (compose `build:` contexts).
 * The tree is walked in byte order so that an unchanged tree gives the same archive and the
 * engine's build cache hits; libarchive writes the archive (restricted pax: ustar headers, a pax
 * record only where ustar cannot hold a field), unblocked, into a small queue the engine's
 * upload drains. Memory stays bounded by the sorted listings of the directories on the current
 * path and one chunk of file data. .dockerignore applies as in Docker (dockerignore.c matches
 * it, a walk's directory at a time), and the Dockerfile and .dockerignore are sent even when
 * ignored. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../archive.h"
#include "dockerignore.h"
#include "tar_dir.h"

#define MAX_ENTRIES 1000000
#define MAX_DEPTH   256  /* directory levels below the root */
#define MAX_PATH    4095 /* an entry's path in the archive: what the engine can extract */
#define PATH_BUF    (MAX_PATH + 2)
#define CHUNK       (64 * 1024)

/* One level of the walk: a directory's sorted names and how far the walk got in them. */
struct frame {
        int fd;
        char **names;
        size_t n, next;
        size_t plen;   /* the directory's path length in path[], with its '/' (0: the root) */
        bool *matched; /* per pattern: matches the directory or one of its parents */
};

struct cms_tar_dir {
        struct cms_dockerignore *ig;
        char *dockerfile; /* cleaned, relative to the root */
        struct frame st[MAX_DEPTH + 1];
        size_t depth;
        size_t entries;
        char *path;    /* the entry being sent, relative to the root */
        bool *scratch; /* the match results of the directory being looked at */
        struct archive *ar;
        struct archive_entry *entry;
        struct cms_buf out; /* what libarchive wrote and the reader has not taken yet */
        size_t out_off;
        char *chunk; /* file data on its way into libarchive */
        int fd;      /* the file whose data is being sent */
        uint64_t left;
        bool ended, failed;
        bool freeing; /* the queue takes nothing more: libarchive must not pad an entry left open */
        struct cms_error err;
};

/* ---- the walk ---- */

static int fail(struct cms_tar_dir *t, int status, const char *fmt, ...) CMS_PRINTF(3, 4);
static int fail(struct cms_tar_dir *t, int status, const char *fmt, ...)
{
        char msg[sizeof(t->err.message)];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        cms_err(&t->err, status, "%s", msg);
        t->failed = true;
        return -1;
}

/* A system call on the entry t->path failed with errno. */
static int fail_errno(struct cms_tar_dir *t, const char *what)
{
        int e = errno;
        if (e == ENOENT)
                return fail(t, 400, "build context: '%.300s' vanished while being sent", t->path);
        bool user = e == ENOTDIR || e == ELOOP || e == EACCES || e == EPERM || e == ENAMETOOLONG;
        return fail(t, user ? 400 : 500, "build context: cannot %s '%.300s': %s", what, t->path,
                    strerror(e));
}

static int cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the directory open at fd (taken) as the next level of the walk, in byte order; t->scratch
 * holds its match results. */
static int frame_push(struct cms_tar_dir *t, int fd, size_t plen)
{
        struct frame *f = &t->st[t->depth++];
        size_t cap = 0, npat = cms_dockerignore_count(t->ig);
        struct dirent *de;
        *f = (struct frame){.fd = fd, .plen = plen, .matched = malloc(npat + 1)};
        if (!f->matched)
                return fail(t, 500, "out of memory");
        memcpy(f->matched, t->scratch, npat);
        int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        if (!d) {
                if (dfd >= 0)
                        close(dfd);
                return fail_errno(t, "list");
        }
        for (errno = 0; (de = readdir(d)); errno = 0) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (++t->entries > MAX_ENTRIES) {
                        closedir(d);
                        return fail(t, 400, "build context: more than %d entries", MAX_ENTRIES);
                }
                char **nn = f->n < cap
                                ? f->names
                                : realloc(f->names, (cap = cap ? cap * 2 : 16) * sizeof(*nn));
                if (nn)
                        f->names = nn;
                if (!nn || !(f->names[f->n] = strdup(de->d_name))) {
                        closedir(d);
                        return fail(t, 500, "out of memory");
                }
                f->n++;
        }
        int e = errno;
        closedir(d);
        if (e) {
                errno = e;
                return fail_errno(t, "list");
        }
        if (f->n > 1)
                qsort(f->names, f->n, sizeof(*f->names), cmp_names);
        return 0;
}

static void frame_pop(struct cms_tar_dir *t)
{
        struct frame *f = &t->st[--t->depth];
        for (size_t i = f->next; i < f->n; i++)
                free(f->names[i]);
        free(f->names);
        free(f->matched);
        close(f->fd);
}

/* Whether path (an entry of f) is left out of the context; *last: the deciding pattern. For a
 * directory, t->scratch receives what matches it or a parent. Docker sends the Dockerfile and
 * .dockerignore whatever the patterns say. */
static bool ignored(struct cms_tar_dir *t, const struct frame *f, const char *path, bool dir,
                    size_t *last)
{
        bool ign = cms_dockerignore_match(t->ig, path, f->matched, dir ? t->scratch : NULL, last);
        if (!strcmp(path, t->dockerfile) || !strcmp(path, ".dockerignore"))
                return false;
        return ign;
}

/* Whether something inside an ignored directory (dirslash ends in '/') may be re-included by a
 * "!" pattern after the one that ignores it, or is the Dockerfile. */
static bool may_reinclude(struct cms_tar_dir *t, const char *dirslash, size_t last)
{
        return cms_str_has_prefix(t->dockerfile, dirslash) ||
               cms_dockerignore_may_reinclude(t->ig, dirslash, last);
}

/* libarchive's output callback: everything it writes is queued for the reader. */
static la_ssize_t queue_out(struct archive *a, void *userdata, const void *buf, size_t n)
{
        struct cms_tar_dir *t = userdata;
        if (t->freeing) {
                archive_set_error(a, ECANCELED, "abandoned");
                return -1;
        }
        if (cms_buf_append(&t->out, buf, n) < 0) {
                archive_set_error(a, ENOMEM, "out of memory");
                return -1;
        }
        return (la_ssize_t)n;
}

static int archive_fail(struct cms_tar_dir *t)
{
        const char *why = archive_error_string(t->ar);
        return fail(t, archive_errno(t->ar) == ENOMEM ? 500 : 400,
                    "build context: cannot write '%.300s' to the archive: %.200s", t->path,
                    why ? why : "unknown error");
}

/* Queues the header of the entry t->path. Only what the engine keeps goes in: type, permission
 * bits, owner ids, mtime in whole seconds (no names, atime, ctime or xattrs), so that an
 * unchanged tree gives the same bytes. */
static int emit(struct cms_tar_dir *t, mode_t type, const struct stat *st, uint64_t size,
                const char *link)
{
        struct archive_entry *e = archive_entry_clear(t->entry);
        archive_entry_copy_pathname(e, t->path);
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, st->st_mode & 07777);
        archive_entry_set_uid(e, st->st_uid);
        archive_entry_set_gid(e, st->st_gid);
        archive_entry_set_mtime(e, st->st_mtime, 0);
        archive_entry_set_size(e, (la_int64_t)size);
        if (link)
                archive_entry_copy_symlink(e, link);
        int r = archive_write_header(t->ar, e);
        return r == ARCHIVE_OK || r == ARCHIVE_WARN ? 1 : archive_fail(t);
}

static int enter_dir(struct cms_tar_dir *t, struct frame *f, const char *name, size_t plen,
                     const struct stat *st, bool skip, size_t last)
{
        t->path[plen] = '/';
        t->path[plen + 1] = 0;
        if (skip && !may_reinclude(t, t->path, last))
                return 0;
        if (t->depth > MAX_DEPTH) /* st[] has room for the root and MAX_DEPTH levels */
                return fail(t, 400, "build context: '%.300s' is nested deeper than %d directories",
                            t->path, MAX_DEPTH);
        int fd = openat(f->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return fail_errno(t, "open");
        if (!skip && emit(t, AE_IFDIR, st, 0, NULL) < 0) {
                close(fd);
                return -1;
        }
        if (frame_push(t, fd, plen + 1) < 0)
                return -1;
        return skip ? 0 : 1;
}

static int emit_link(struct cms_tar_dir *t, struct frame *f, const char *name,
                     const struct stat *st)
{
        char target[PATH_MAX + 1];
        ssize_t n = readlinkat(f->fd, name, target, sizeof(target));
        if (n < 0)
                return fail_errno(t, "read the link");
        if ((size_t)n >= sizeof(target))
                return fail(t, 400, "build context: the target of '%.300s' is too long", t->path);
        target[n] = 0;
        return emit(t, AE_IFLNK, st, 0, target);
}

/* Opens a regular file and queues its header; its data follows as the reader pulls. */
static int open_file(struct cms_tar_dir *t, struct frame *f, const char *name)
{
        struct stat st;
        int fd = openat(f->fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return fail_errno(t, "open");
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return fail(t, 400, "build context: '%.300s' changed while being sent", t->path);
        }
        if (emit(t, AE_IFREG, &st, (uint64_t)st.st_size, NULL) < 0) {
                close(fd);
                return -1;
        }
        t->fd = fd;
        t->left = (uint64_t)st.st_size;
        return 1;
}

/* Looks at one name of f: 1 when it queued an entry, 0 when it sent nothing, -1 on failure. */
static int visit(struct cms_tar_dir *t, struct frame *f, const char *name)
{
        size_t nlen = strlen(name), plen = f->plen + nlen, last;
        struct stat st;
        /* Checked before the name is written: the path buffer holds MAX_PATH bytes, a
         * directory's '/' and the NUL, and nothing more. */
        if (nlen > 255 || plen + 1 > MAX_PATH)
                return fail(t, 400,
                            "build context: a path under '%.300s' is longer than %d bytes (or a "
                            "name than 255): the engine could not extract it",
                            f->plen ? t->path : "/", MAX_PATH);
        memcpy(t->path + f->plen, name, nlen + 1);
        if (fstatat(f->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return fail_errno(t, "stat");
        bool dir = S_ISDIR(st.st_mode);
        if (!dir && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
                return 0; /* sockets, fifos, devices have no place in an image */
        bool skip = ignored(t, f, t->path, dir, &last);
        if (dir)
                return enter_dir(t, f, name, plen, &st, skip, last);
        if (skip)
                return 0;
        return S_ISLNK(st.st_mode) ? emit_link(t, f, name, &st) : open_file(t, f, name);
}

/* Queues the next entry's header (after the padding of the one before), or the end of the
 * archive when the walk is over. */
static void walk(struct cms_tar_dir *t)
{
        t->out.len = t->out_off = 0;
        while (t->depth > 0) {
                struct frame *f = &t->st[t->depth - 1];
                if (f->next == f->n) {
                        frame_pop(t);
                        continue;
                }
                char *name = f->names[f->next];
                f->names[f->next++] = NULL;
                int r = visit(t, f, name);
                free(name);
                if (r != 0)
                        return;
        }
        if (archive_write_close(t->ar) != ARCHIVE_OK)
                archive_fail(t);
        t->ended = true;
}

/* Passes the next chunk of the open file through libarchive into the queue. */
static void file_chunk(struct cms_tar_dir *t)
{
        size_t want = CHUNK < t->left ? CHUNK : (size_t)t->left;
        ssize_t n;
        t->out.len = t->out_off = 0;
        do
                n = read(t->fd, t->chunk, want);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
                fail_errno(t, "read");
                return;
        }
        if (n == 0) {
                fail(t, 400, "build context: '%.300s' shrank while being sent", t->path);
                return;
        }
        t->left -= (uint64_t)n;
        if (archive_write_data(t->ar, t->chunk, (size_t)n) != n)
                archive_fail(t);
}

static ssize_t read_in_locale(struct cms_tar_dir *t, char *buf, size_t max);

ssize_t cms_tar_dir_read(char *buf, size_t max, void *userdata)
{
        locale_t old = cms_archive_utf8_begin(); /* names go into pax records as UTF-8 */
        ssize_t r = read_in_locale(userdata, buf, max);
        cms_archive_utf8_end(old);
        return r;
}

static ssize_t read_in_locale(struct cms_tar_dir *t, char *buf, size_t max)
{
        size_t done = 0;
        while (done < max && !t->failed) {
                size_t room = max - done, n;
                if (t->out_off < t->out.len) {
                        n = t->out.len - t->out_off < room ? t->out.len - t->out_off : room;
                        memcpy(buf + done, t->out.data + t->out_off, n);
                        t->out_off += n;
                } else if (t->left > 0) {
                        file_chunk(t);
                        n = 0;
                } else if (t->ended) {
                        break;
                } else {
                        if (t->fd >= 0)
                                close(t->fd);
                        t->fd = -1;
                        walk(t);
                        n = 0;
                }
                done += n;
        }
        return t->failed ? -1 : (ssize_t)done;
}

/* The Dockerfile must be a file inside the context, symlinks on its way included. */
static int dockerfile_check(struct cms_tar_dir *t, int root, const char *dir, const char *df,
                            struct cms_error *err)
{
        struct stat st;
        bool ok = *df && df[0] != '/' && strlen(df) <= PATH_MAX;
        for (const char *c = df; ok && *c; c += *c == '/') {
                ok = strncmp(c, "../", 3) && strcmp(c, "..");
                c += strcspn(c, "/");
        }
        if (ok && !(t->dockerfile = cms_path_clean(df)))
                return cms_err(err, 500, "out of memory");
        if (!ok || !strcmp(t->dockerfile, "."))
                return cms_err(err, 400, "dockerfile '%.200s': expected a path inside the context",
                               df);
        if (fstatat(root, t->dockerfile, &st, 0) < 0)
                return cms_err(err, 400, "dockerfile '%.200s' in the build context '%.200s': %s",
                               df, dir, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return cms_err(err, 400, "dockerfile '%.200s': not a regular file", df);
        _cleanup_free_ char *rdir = realpath(dir, NULL);
        _cleanup_free_ char *full = cms_strdup_printf("%s/%s", dir, t->dockerfile);
        _cleanup_free_ char *rfile = full ? realpath(full, NULL) : NULL;
        if (!rdir || !rfile)
                return cms_err(err, 400, "dockerfile '%.200s': %s", df, strerror(errno));
        size_t n = strlen(rdir);
        if (strcmp(rdir, "/") && (strncmp(rfile, rdir, n) || rfile[n] != '/'))
                return cms_err(err, 400, "dockerfile: '%.200s' leads out of the build context", df);
        return 0;
}

static int setup(struct cms_tar_dir *t, const char *dir, const char *dockerfile,
                 struct cms_error *err)
{
        if (!dir || !*dir)
                return cms_err(err, 400, "build context: no directory given");
        int root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return cms_err(err, 400, "build context '%.300s': %s", dir,
                               errno == ENOTDIR ? "not a directory" : strerror(errno));
        int r = dockerfile_check(t, root, dir, dockerfile ? dockerfile : "Dockerfile", err);
        if (r == 0)
                r = cms_dockerignore_load(root, &t->ig, err);
        if (r == 0 && (!(t->path = calloc(PATH_BUF, 1)) || !(t->chunk = malloc(CHUNK)) ||
                       !(t->scratch = calloc(cms_dockerignore_count(t->ig) + 1, 1)) ||
                       !(t->entry = archive_entry_new()) || !(t->ar = archive_write_new())))
                r = cms_err(err, 500, "out of memory");
        /* Unblocked (each write goes straight to the queue, no 10 KiB records, no padding of
         * the last one): the archive ends with its two zero blocks, as bsdtar's and GNU tar's
         * readers and the engines expect. */
        if (r == 0 && (archive_write_set_format_pax_restricted(t->ar) != ARCHIVE_OK ||
                       archive_write_add_filter_none(t->ar) != ARCHIVE_OK ||
                       archive_write_set_bytes_per_block(t->ar, 0) != ARCHIVE_OK ||
                       archive_write_open(t->ar, t, NULL, queue_out, NULL) != ARCHIVE_OK))
                r = cms_err(err, 500, "build context: libarchive: %.200s",
                            archive_error_string(t->ar));
        if (r < 0) {
                close(root);
                return r;
        }
        if (frame_push(t, root, 0) < 0) /* root is the frame's now */
                return cms_err(err, t->err.status, "%s", t->err.message);
        return 0;
}

int cms_tar_dir_new(const char *dir, const char *dockerfile, struct cms_tar_dir **out,
                    struct cms_error *err)
{
        struct cms_tar_dir *t = calloc(1, sizeof(*t));
        *out = NULL;
        if (!t)
                return cms_err(err, 500, "out of memory");
        t->fd = -1;
        cms_buf_init(&t->out, 4 * CHUNK); /* a chunk, a header and its pax records */
        int r = setup(t, dir, dockerfile, err);
        if (r < 0) {
                cms_tar_dir_free(t);
                return r;
        }
        *out = t;
        return 0;
}

const struct cms_error *cms_tar_dir_error(const struct cms_tar_dir *t)
{
        return &t->err;
}

void cms_tar_dir_free(struct cms_tar_dir *t)
{
        if (!t)
                return;
        while (t->depth > 0)
                frame_pop(t);
        if (t->fd >= 0)
                close(t->fd);
        t->freeing = true;
        if (t->ar)
                archive_write_free(t->ar);
        archive_entry_free(t->entry);
        cms_dockerignore_free(t->ig);
        free(t->dockerfile);
        free(t->chunk);
        free(t->path);
        free(t->scratch);
        cms_buf_free(&t->out);
        free(t);
}
