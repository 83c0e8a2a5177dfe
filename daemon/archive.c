/* Archive reading through libarchive (see archive.h): the formats and filters asked for, paths
 * normalized and checked, and every count bounded. libarchive converts names through the
 * thread's locale; cmsd runs in the C locale, so the calls that touch names run in C.UTF-8 (in
 * the calling thread only), where UTF-8 names pass as they are. */
#include <archive.h>
#include <archive_entry.h>
#include <pthread.h>
#include <sys/stat.h>

#include "archive.h"

#define CHUNK       (64 * 1024)
#define MAX_PATH_AR 4096

struct cms_archive {
        struct archive *ar;
        cms_archive_read_cb read;
        void *ud;
        char *chunk;
        bool stream_failed;
        int64_t entries, total, max_entries, max_total;
        int bad;
        char path[MAX_PATH_AR + 1], link[MAX_PATH_AR + 1];
        struct cms_error err; /* what cms_archive_entry_reader failed with */
};

static locale_t utf8_locale;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void utf8_init(void)
{
        utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

locale_t cms_archive_utf8_begin(void)
{
        pthread_once(&utf8_once, utf8_init);
        return utf8_locale ? uselocale(utf8_locale) : (locale_t)0;
}

void cms_archive_utf8_end(locale_t old)
{
        if (old)
                uselocale(old);
}

static int ar_error(struct cms_archive *a, struct cms_error *err, const char *what)
{
        const char *why = archive_error_string(a->ar);
        if (archive_errno(a->ar) == ENOMEM)
                return cms_err(err, 500, "out of memory");
        if (a->stream_failed)
                return cms_err(err, 502, "archive: %s: reading its source failed", what);
        return cms_err(err, a->bad, "archive: %s: %.300s", what, why ? why : "malformed");
}

static la_ssize_t stream_read(struct archive *ar, void *userdata, const void **buf)
{
        struct cms_archive *a = userdata;
        *buf = a->chunk;
        ssize_t n = a->read(a->chunk, CHUNK, a->ud);
        if (n < 0) {
                a->stream_failed = true;
                archive_set_error(ar, EIO, "reading the source failed");
                return -1;
        }
        return n;
}

static int setup(unsigned formats, bool streamed, const struct cms_archive_limits *l,
                 struct cms_archive **out, struct cms_error *err)
{
        struct cms_archive *a = calloc(1, sizeof(*a));
        *out = NULL;
        if (!a || !(a->ar = archive_read_new())) {
                free(a);
                return cms_err(err, 500, "out of memory");
        }
        a->max_entries = l && l->max_entries > 0 ? l->max_entries : 1000000;
        a->max_total = l && l->max_total > 0 ? l->max_total : (int64_t)4 << 30;
        a->bad = l && l->bad_status ? l->bad_status : 400;
        if (formats & CMS_ARCHIVE_TAR) {
                archive_read_support_filter_gzip(a->ar);
                archive_read_support_filter_bzip2(a->ar);
                archive_read_support_filter_xz(a->ar);
                archive_read_support_filter_zstd(a->ar);
                archive_read_support_format_tar(a->ar);
        }
        if (formats & CMS_ARCHIVE_ZIP) {
                if (streamed)
                        archive_read_support_format_zip_streamable(a->ar);
                else
                        archive_read_support_format_zip_seekable(a->ar);
        }
        if (!(formats & (CMS_ARCHIVE_TAR | CMS_ARCHIVE_ZIP))) {
                cms_archive_free(a);
                return cms_err(err, 500, "archive: no format asked for");
        }
        *out = a;
        return 0;
}

static int opened(struct cms_archive *a, int r, struct cms_archive **out, struct cms_error *err)
{
        if (r != ARCHIVE_OK) {
                r = ar_error(a, err, "cannot open");
                cms_archive_free(a);
                *out = NULL;
                return r;
        }
        return 0;
}

int cms_archive_open_stream(cms_archive_read_cb read, void *userdata, unsigned formats,
                            const struct cms_archive_limits *limits, struct cms_archive **out,
                            struct cms_error *err)
{
        int r = setup(formats, true, limits, out, err);
        if (r < 0)
                return r;
        struct cms_archive *a = *out;
        a->read = read;
        a->ud = userdata;
        if (!(a->chunk = malloc(CHUNK))) {
                cms_archive_free(a);
                *out = NULL;
                return cms_err(err, 500, "out of memory");
        }
        locale_t old = cms_archive_utf8_begin();
        r = archive_read_open(a->ar, a, NULL, stream_read, NULL);
        cms_archive_utf8_end(old);
        return opened(a, r, out, err);
}

int cms_archive_open_file(const char *path, unsigned formats,
                          const struct cms_archive_limits *limits, struct cms_archive **out,
                          struct cms_error *err)
{
        struct stat st;
        if (stat(path, &st) < 0)
                return cms_err(err, errno == ENOENT ? 404 : 500, "archive '%.300s': %s", path,
                               strerror(errno));
        if (!S_ISREG(st.st_mode))
                return cms_err(err, 400, "archive '%.300s': not a regular file", path);
        int r = setup(formats, false, limits, out, err);
        if (r < 0)
                return r;
        /* libarchive opens, reads (seeking, for a zip's central directory) and closes it. */
        locale_t old = cms_archive_utf8_begin();
        r = archive_read_open_filename((*out)->ar, path, CHUNK);
        cms_archive_utf8_end(old);
        return opened(*out, r, out, err);
}

/* Copies in to out (cap bytes with the NUL), normalized: no leading "/", no empty or "."
 * parts. -1 when a part is "..", -2 when too long. */
static int normalize(const char *in, char *out, size_t cap)
{
        size_t n = 0;
        while (*in) {
                while (*in == '/')
                        in++;
                size_t len = strcspn(in, "/");
                if (len == 0 || (len == 1 && in[0] == '.')) {
                        in += len;
                        continue;
                }
                if (len == 2 && in[0] == '.' && in[1] == '.')
                        return -1;
                if (n + (n > 0) + len + 1 > cap)
                        return -2;
                if (n > 0)
                        out[n++] = '/';
                memcpy(out + n, in, len);
                n += len;
                in += len;
        }
        out[n] = 0;
        return 0;
}

static int fill(struct cms_archive *a, struct archive_entry *ae, struct cms_archive_entry *e,
                struct cms_error *err)
{
        const char *p = archive_entry_pathname(ae), *hl = archive_entry_hardlink(ae);
        const char *sl = archive_entry_symlink(ae);
        int r = p ? normalize(p, a->path, sizeof(a->path)) : -3;
        if (r == 0 && hl)
                r = normalize(hl, a->link, sizeof(a->link));
        if (r == -1)
                return cms_err(err, a->bad, "archive: entry '%.300s' leads out of its root", p);
        if (r == -2)
                return cms_err(err, a->bad, "archive: an entry's path is longer than %d bytes",
                               MAX_PATH_AR);
        if (r < 0)
                return cms_err(err, a->bad, "archive: an entry has no path");
        if (sl && strlen(sl) > MAX_PATH_AR)
                return cms_err(err, a->bad, "archive: the link target of '%.300s' is too long", p);
        if (sl)
                memcpy(a->link, sl, strlen(sl) + 1);
        mode_t ft = archive_entry_filetype(ae);
        *e = (struct cms_archive_entry){
            .path = a->path,
            .type = hl               ? CMS_ARCHIVE_HARDLINK
                    : ft == AE_IFREG ? CMS_ARCHIVE_FILE
                    : ft == AE_IFDIR ? CMS_ARCHIVE_DIR
                    : ft == AE_IFLNK ? CMS_ARCHIVE_SYMLINK
                                     : CMS_ARCHIVE_OTHER,
            .link = hl || sl ? a->link : NULL,
            .size = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : -1,
            .mode = archive_entry_perm(ae),
        };
        return 1;
}

int cms_archive_next(struct cms_archive *a, struct cms_archive_entry *e, struct cms_error *err)
{
        struct archive_entry *ae;
        locale_t old = cms_archive_utf8_begin();
        int r;
        for (;;) {
                r = archive_read_next_header(a->ar, &ae);
                if (r == ARCHIVE_EOF) {
                        r = 0;
                        break;
                }
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
                        r = ar_error(a, err, "cannot read the next entry");
                        break;
                }
                if (++a->entries > a->max_entries) {
                        r = cms_err(err, a->bad, "archive: more than %" PRId64 " entries",
                                    a->max_entries);
                        break;
                }
                const char *p = archive_entry_pathname(ae);
                char probe[2];
                /* The root itself ("./", "/") is not an entry of its own. */
                if (p && normalize(p, probe, sizeof(probe)) == 0 && !probe[0] &&
                    archive_entry_filetype(ae) == AE_IFDIR)
                        continue;
                r = fill(a, ae, e, err);
                break;
        }
        cms_archive_utf8_end(old);
        return r;
}

ssize_t cms_archive_read(struct cms_archive *a, void *buf, size_t max, struct cms_error *err)
{
        la_ssize_t n = archive_read_data(a->ar, buf, max);
        if (n < 0)
                return ar_error(a, err, "cannot read an entry's data");
        if (n > a->max_total - a->total)
                return cms_err(err, a->bad, "archive: more than %" PRId64 " bytes of data",
                               a->max_total);
        a->total += n;
        return n;
}

int cms_archive_read_all(struct cms_archive *a, size_t max, char **out, size_t *len,
                         struct cms_error *err)
{
        struct cms_buf b;
        char piece[16384];
        ssize_t n;
        *out = NULL;
        *len = 0;
        cms_buf_init(&b, max + 1);
        while ((n = cms_archive_read(a, piece, sizeof(piece), err)) > 0)
                if (cms_buf_append(&b, piece, (size_t)n) < 0) {
                        cms_buf_free(&b);
                        return cms_err(err, 413, "archive: '%.300s' is larger than %zu bytes",
                                       a->path, max);
                }
        if (n < 0 || cms_buf_append(&b, "", 1) < 0) {
                cms_buf_free(&b);
                return n < 0 ? -1 : cms_err(err, 500, "out of memory");
        }
        *len = b.len - 1;
        *out = cms_buf_take(&b);
        return 0;
}

ssize_t cms_archive_entry_reader(char *buf, size_t max, void *userdata)
{
        struct cms_archive *a = userdata;
        return cms_archive_read(a, buf, max, &a->err);
}

const struct cms_error *cms_archive_error(const struct cms_archive *a)
{
        return &a->err;
}

void cms_archive_free(struct cms_archive *a)
{
        if (!a)
                return;
        archive_read_free(a->ar);
        free(a->chunk);
        free(a);
}
