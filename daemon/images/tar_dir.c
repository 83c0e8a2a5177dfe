/* Streams a directory as an uncompressed tar for an engine's /build (compose `build:` contexts).
 * The tree is walked in byte order so that an unchanged tree gives the same archive and the
 * engine's build cache hits. Memory stays bounded by the sorted listings of the directories on
 * the current path: file data goes from the file straight into the reader's buffer as the engine
 * pulls it. .dockerignore applies as in Docker (dockerignore.c matches it, a walk's directory at
 * a time), and the Dockerfile and .dockerignore are sent even when ignored. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dockerignore.h"
#include "tar_dir.h"

#define MAX_ENTRIES 1000000
#define MAX_DEPTH   256
#define PATH_BUF    (MAX_DEPTH * 256 + 2) /* names are <= 255 bytes, each with its '/' */
#define MAX_PAX     (256 * 1024)
#define OCT11_MAX   077777777777ULL
#define OCT7_MAX    07777777ULL

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
        struct cms_buf out;
        size_t out_off; /* queued header bytes not yet read */
        int fd;         /* the file whose data is being sent */
        uint64_t left;
        size_t pad;
        bool ended, failed;
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

static void octal(char *field, size_t width, uint64_t v)
{
        char tmp[32];
        snprintf(tmp, sizeof(tmp), "%0*" PRIo64, (int)(width - 1), v);
        memcpy(field, tmp, width - 1);
}

static void ustar(char h[512], const char *name, size_t nlen, char type, const struct stat *st,
                  uint64_t size, const char *link)
{
        unsigned sum = 0;
        memset(h, 0, 512);
        memcpy(h, name, nlen < 100 ? nlen : 100);
        octal(h + 100, 8, st->st_mode & 07777);
        octal(h + 108, 8, (uint64_t)st->st_uid <= OCT7_MAX ? st->st_uid : 0);
        octal(h + 116, 8, (uint64_t)st->st_gid <= OCT7_MAX ? st->st_gid : 0);
        octal(h + 124, 12, size <= OCT11_MAX ? size : 0);
        octal(h + 136, 12,
              st->st_mtime >= 0 && (uint64_t)st->st_mtime <= OCT11_MAX ? (uint64_t)st->st_mtime
                                                                       : 0);
        h[156] = type;
        if (link)
                memcpy(h + 157, link, strlen(link) < 100 ? strlen(link) : 100);
        memcpy(h + 257, "ustar", 6);
        memcpy(h + 263, "00", 2);
        octal(h + 329, 8, 0);
        octal(h + 337, 8, 0);
        memset(h + 148, ' ', 8);
        for (size_t i = 0; i < 512; i++)
                sum += (unsigned char)h[i];
        octal(h + 148, 7, sum);
        h[154] = 0;
}

/* A PAX record: "<len> key=value\n", len counting itself. */
static int pax_add(struct cms_buf *b, const char *key, const char *val, size_t vlen)
{
        size_t base = strlen(key) + vlen + 3, len = base;
        for (;;) {
                char d[24];
                size_t nl = base + (size_t)snprintf(d, sizeof(d), "%zu", len);
                if (nl == len)
                        break;
                len = nl;
        }
        int r = cms_buf_printf(b, "%zu %s=", len, key);
        if (r == 0)
                r = cms_buf_append(b, val, vlen);
        return r ? r : cms_buf_append(b, "\n", 1);
}

static int pax_num(struct cms_buf *b, const char *key, long long v)
{
        char num[24];
        int n = snprintf(num, sizeof(num), "%lld", v);
        return pax_add(b, key, num, (size_t)n);
}

/* Queues the header of the entry t->path[0..nlen), after a PAX header when ustar cannot hold a
 * field. */
static int emit(struct cms_tar_dir *t, size_t nlen, char type, const struct stat *st, uint64_t size,
                const char *link)
{
        static const char zeros[512];
        _cleanup_buf_ struct cms_buf pax;
        char h[512];
        int r = 0;
        cms_buf_init(&pax, MAX_PAX);
        if (nlen > 100)
                r = pax_add(&pax, "path", t->path, nlen);
        if (r == 0 && link && strlen(link) > 100)
                r = pax_add(&pax, "linkpath", link, strlen(link));
        if (r == 0 && size > OCT11_MAX)
                r = pax_num(&pax, "size", (long long)size);
        if (r == 0 && (uint64_t)st->st_uid > OCT7_MAX)
                r = pax_num(&pax, "uid", (long long)st->st_uid);
        if (r == 0 && (uint64_t)st->st_gid > OCT7_MAX)
                r = pax_num(&pax, "gid", (long long)st->st_gid);
        if (r == 0 && (st->st_mtime < 0 || (uint64_t)st->st_mtime > OCT11_MAX))
                r = pax_num(&pax, "mtime", (long long)st->st_mtime);
        if (r == 0 && pax.len) {
                char pname[100];
                size_t b = nlen - 1; /* the base name, without a directory's '/' */
                while (b > 0 && t->path[b - 1] != '/')
                        b--;
                snprintf(pname, sizeof(pname), "PaxHeaders.0/%.*s",
                         (int)(nlen - b > 86 ? 86 : nlen - b), t->path + b);
                struct stat px = {.st_mode = 0644, .st_mtime = st->st_mtime};
                ustar(h, pname, strlen(pname), 'x', &px, pax.len, NULL);
                r = cms_buf_append(&t->out, h, sizeof(h));
                if (r == 0)
                        r = cms_buf_append(&t->out, pax.data, pax.len);
                if (r == 0)
                        r = cms_buf_append(&t->out, zeros, (512 - pax.len % 512) % 512);
        }
        ustar(h, t->path, nlen, type, st, size, link);
        if (r == 0)
                r = cms_buf_append(&t->out, h, sizeof(h));
        return r < 0 ? fail(t, r == -E2BIG ? 400 : 500, "build context: cannot describe '%.300s'",
                            t->path)
                     : 1;
}

static int enter_dir(struct cms_tar_dir *t, struct frame *f, const char *name, size_t plen,
                     const struct stat *st, bool skip, size_t last)
{
        t->path[plen] = '/';
        t->path[plen + 1] = 0;
        if (skip && !may_reinclude(t, t->path, last))
                return 0;
        int fd = openat(f->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return fail_errno(t, "open");
        if (!skip && emit(t, plen + 1, '5', st, 0, NULL) < 0) {
                close(fd);
                return -1;
        }
        if (frame_push(t, fd, plen + 1) < 0)
                return -1;
        return skip ? 0 : 1;
}

static int emit_link(struct cms_tar_dir *t, struct frame *f, const char *name, size_t plen,
                     const struct stat *st)
{
        char target[PATH_MAX + 1];
        ssize_t n = readlinkat(f->fd, name, target, sizeof(target));
        if (n < 0)
                return fail_errno(t, "read the link");
        if ((size_t)n >= sizeof(target))
                return fail(t, 400, "build context: the target of '%.300s' is too long", t->path);
        target[n] = 0;
        return emit(t, plen, '2', st, 0, target);
}

/* Opens a regular file and queues its header; its data follows as the reader pulls. */
static int open_file(struct cms_tar_dir *t, struct frame *f, const char *name, size_t plen)
{
        struct stat st;
        int fd = openat(f->fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return fail_errno(t, "open");
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return fail(t, 400, "build context: '%.300s' changed while being sent", t->path);
        }
        if (emit(t, plen, '0', &st, (uint64_t)st.st_size, NULL) < 0) {
                close(fd);
                return -1;
        }
        t->fd = fd;
        t->left = (uint64_t)st.st_size;
        t->pad = (512 - (size_t)(st.st_size % 512)) % 512;
        return 1;
}

/* Looks at one name of f: 1 when it queued an entry, 0 when it sent nothing, -1 on failure. */
static int visit(struct cms_tar_dir *t, struct frame *f, const char *name)
{
        size_t nlen = strlen(name), plen = f->plen + nlen, last;
        struct stat st;
        /* Checked before the name is written: the path buffer holds MAX_DEPTH names of up to
         * 255 bytes, each with its '/', and nothing more. */
        if (t->depth > MAX_DEPTH)
                return fail(t, 400, "build context: '%.300s' is nested deeper than %d directories",
                            t->path, MAX_DEPTH);
        if (nlen > 255 || plen + 2 > PATH_BUF)
                return fail(t, 400, "build context: a path under '%.300s' is too long", t->path);
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
        return S_ISLNK(st.st_mode) ? emit_link(t, f, name, plen, &st) : open_file(t, f, name, plen);
}

/* Queues the next entry's headers, or the end-of-archive blocks when the walk is over. */
static void walk(struct cms_tar_dir *t)
{
        static const char zeros[1024];
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
        if (cms_buf_append(&t->out, zeros, sizeof(zeros)) < 0)
                fail(t, 500, "out of memory");
        t->ended = true;
}

static ssize_t file_read(struct cms_tar_dir *t, char *buf, size_t max)
{
        size_t want = max < t->left ? max : (size_t)t->left;
        ssize_t n;
        do
                n = read(t->fd, buf, want);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return fail_errno(t, "read");
        if (n == 0)
                return fail(t, 400, "build context: '%.300s' shrank while being sent", t->path);
        t->left -= (uint64_t)n;
        return n;
}

ssize_t cms_tar_dir_read(char *buf, size_t max, void *userdata)
{
        struct cms_tar_dir *t = userdata;
        size_t done = 0;
        while (done < max && !t->failed) {
                size_t room = max - done, n;
                if (t->out_off < t->out.len) {
                        n = t->out.len - t->out_off < room ? t->out.len - t->out_off : room;
                        memcpy(buf + done, t->out.data + t->out_off, n);
                        t->out_off += n;
                } else if (t->left > 0) {
                        ssize_t got = file_read(t, buf + done, room);
                        n = got > 0 ? (size_t)got : 0;
                } else if (t->pad > 0) {
                        n = t->pad < room ? t->pad : room;
                        memset(buf + done, 0, n);
                        t->pad -= n;
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
        if (r == 0 && (!(t->path = calloc(PATH_BUF, 1)) ||
                       !(t->scratch = calloc(cms_dockerignore_count(t->ig) + 1, 1))))
                r = cms_err(err, 500, "out of memory");
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
        cms_buf_init(&t->out, MAX_PAX + 4096);
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
        cms_dockerignore_free(t->ig);
        free(t->dockerfile);
        free(t->path);
        free(t->scratch);
        cms_buf_free(&t->out);
        free(t);
}
