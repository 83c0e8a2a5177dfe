/* The audit trail's writer, reader and verifier (see audit.h). A record is one write(2) of a
 * whole line to a file opened O_APPEND, so a kill -9 leaves at most an unacknowledged partial
 * last line, which the next start cuts off before it appends. */
#include "audit.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define MAX_READ  ((size_t)256 << 20)

struct cms_audit {
        pthread_mutex_t mu;
        char *dir, *path;
        int fd;
        int64_t size, max_size;
        int keep;
        char prev[65];
        int64_t seq;
};

static void hash_hex(const char *s, size_t n, char out[65])
{
        unsigned char d[CMS_SHA256_LEN];
        cms_sha256(s, n, d);
        for (size_t i = 0; i < CMS_SHA256_LEN; i++)
                snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The whole file (at most MAX_READ bytes); NULL when absent or unreadable. */
static char *slurp(const char *path, size_t *len)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        struct cms_buf b;
        cms_buf_init(&b, MAX_READ);
        char chunk[65536];
        ssize_t r;
        while ((r = read(fd, chunk, sizeof(chunk))) > 0)
                if (cms_buf_append(&b, chunk, (size_t)r) < 0)
                        break;
        close(fd);
        if (cms_buf_append(&b, "", 1) < 0) {
                cms_buf_free(&b);
                return NULL;
        }
        *len = b.len - 1;
        return cms_buf_take(&b);
}

/* The last size - off bytes of path into a buffer (NUL-terminated); NULL when unreadable. */
static char *read_tail(int fd, off_t off, size_t n)
{
        char *buf = malloc(n + 1);
        size_t got = 0;
        while (buf && got < n) {
                ssize_t r = pread(fd, buf + got, n - got, off + (off_t)got);
                if (r <= 0)
                        break;
                got += (size_t)r;
        }
        if (buf)
                buf[got] = 0;
        return buf;
}

/* The chain's state after the last complete line of path: 1 when there was one. Only the end
 * of the file is read (a window that grows until it holds the whole last line), so a start
 * does not read a log of many megabytes. *complete: the offset after the last complete line. */
static int last_record(const char *path, char prev[65], int64_t *seq, size_t *complete)
{
        *complete = 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
                if (fd >= 0)
                        close(fd);
                return 0;
        }
        size_t size = (size_t)st.st_size;
        for (size_t win = 65536;; win *= 2) {
                size_t n = win < size ? win : size;
                off_t off = (off_t)(size - n);
                _cleanup_free_ char *text = read_tail(fd, off, n);
                if (!text)
                        break;
                size_t end = n;
                while (end > 0 && text[end - 1] != '\n')
                        end--; /* a partial last line: not a record */
                size_t start = end ? end - 1 : 0;
                while (start > 0 && text[start - 1] != '\n')
                        start--;
                /* The window must hold the whole line (or reach the file's start). */
                if ((end == 0 || start == 0) && off > 0 && n < size && n < MAX_READ)
                        continue;
                close(fd);
                *complete = (size_t)off + end;
                if (end == 0)
                        return 0;
                hash_hex(text + start, end - 1 - start, prev);
                text[end - 1] = 0;
                _cleanup_json_ json_object *o = json_tokener_parse(text + start);
                *seq = json_object_get_int64(cms_json_get(o, "seq"));
                /* A seq no write could have made (json-c clamps to INT64_MAX): not an end to
                 * chain onto (the next seq would overflow); the log starts a new chain. */
                if (*seq < 0 || *seq >= INT64_MAX - 1) {
                        *seq = 0;
                        return 0;
                }
                return 1;
        }
        close(fd);
        return 0;
}

static int open_current(struct cms_audit *a, struct cms_error *err)
{
        size_t complete = 0;
        bool had = last_record(a->path, a->prev, &a->seq, &complete) == 1;
        if (!had) {
                /* An empty log continues the chain of the newest rotated one. */
                _cleanup_free_ char *older = cms_strdup_printf("%s.1", a->path);
                size_t ignored;
                if (!older || last_record(older, a->prev, &a->seq, &ignored) != 1) {
                        snprintf(a->prev, sizeof(a->prev), "%s", ZERO_HASH);
                        a->seq = 0;
                }
        }
        a->fd = open(a->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (a->fd < 0)
                return cms_err(err, 500, "cannot open %s: %s", a->path, strerror(errno));
        /* A line a crash cut short was never acknowledged: it goes, so the next one starts on
         * a line of its own. */
        struct stat st;
        if (fstat(a->fd, &st) == 0 && (size_t)st.st_size > complete &&
            ftruncate(a->fd, (off_t)complete) < 0)
                return cms_err(err, 500, "cannot cut the partial last line of %s", a->path);
        a->size = (int64_t)complete;
        return 0;
}

int cms_audit_open(const char *dir, int64_t max_size, int keep, struct cms_audit **out,
                   struct cms_error *err)
{
        struct cms_audit *a = calloc(1, sizeof(*a));
        if (!a)
                return cms_err(err, 500, "out of memory");
        pthread_mutex_init(&a->mu, NULL);
        a->fd = -1;
        a->max_size = max_size;
        a->keep = keep;
        a->dir = strdup(dir);
        a->path = cms_strdup_printf("%s/audit.log", dir);
        int r = a->dir && a->path ? cms_mkdir_p(dir, 0700) : -ENOMEM;
        if (r < 0)
                r = cms_err(err, 500, "cannot make %s", dir);
        else
                r = open_current(a, err);
        if (r < 0) {
                cms_audit_close(a);
                return r;
        }
        *out = a;
        return 0;
}

void cms_audit_close(struct cms_audit *a)
{
        if (!a)
                return;
        if (a->fd >= 0)
                close(a->fd);
        pthread_mutex_destroy(&a->mu);
        free(a->dir);
        free(a->path);
        free(a);
}

void cms_audit_set_limits(struct cms_audit *a, int64_t max_size, int keep)
{
        if (!a)
                return;
        pthread_mutex_lock(&a->mu);
        a->max_size = max_size;
        a->keep = keep;
        pthread_mutex_unlock(&a->mu);
}

/* audit.log -> .1 -> .2 ... (the oldest beyond keep removed); the chain goes on in a new file. */
static void rotate(struct cms_audit *a)
{
        char from[4200], to[4200];
        close(a->fd);
        a->fd = -1;
        snprintf(to, sizeof(to), "%s.%d", a->path, a->keep);
        unlink(to);
        for (int k = a->keep - 1; k >= 1; k--) {
                snprintf(from, sizeof(from), "%s.%d", a->path, k);
                snprintf(to, sizeof(to), "%s.%d", a->path, k + 1);
                rename(from, to);
        }
        snprintf(to, sizeof(to), "%s.1", a->path);
        if (a->keep > 0)
                rename(a->path, to);
        else
                unlink(a->path);
        a->fd = open(a->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        a->size = 0;
}

int cms_audit_write(struct cms_audit *a, json_object *rec)
{
        if (!a) {
                json_object_put(rec);
                return -EBADF;
        }
        char t[40];
        cms_format_time_ms(cms_wall_ms(), t, sizeof(t));
        pthread_mutex_lock(&a->mu);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "seq", json_object_new_int64(a->seq + 1));
        json_object_object_add(o, "time", json_object_new_string(t));
        json_object_object_foreach(rec, k, v) json_object_object_add(o, k, json_object_get(v));
        json_object_object_add(o, "prev", json_object_new_string(a->prev));
        size_t n;
        const char *js = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &n);
        char *line = js ? malloc(n + 1) : NULL;
        int r = line ? 0 : -ENOMEM;
        if (line) {
                memcpy(line, js, n);
                line[n] = '\n';
                if (a->size > 0 && a->size + (int64_t)n + 1 > a->max_size)
                        rotate(a);
                if (a->fd < 0) /* a rotation that could not make the new file: again */
                        a->fd = open(a->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                r = a->fd >= 0 ? cms_write_all(a->fd, line, n + 1) : -errno;
                /* A full disk takes part of the line: cut it off, or the next record (once
                 * there is room) would be glued to it and break the chain for good. */
                if (r < 0 && a->fd >= 0 && ftruncate(a->fd, (off_t)a->size) < 0) {
                        close(a->fd); /* reopened by the next write */
                        a->fd = -1;
                }
        }
        if (r == 0) {
                hash_hex(line, n, a->prev);
                a->seq++;
                a->size += (int64_t)n + 1;
        }
        pthread_mutex_unlock(&a->mu);
        free(line);
        json_object_put(o);
        json_object_put(rec);
        return r;
}

/* Adds the records of one file, newest first, until out holds limit. */
static void query_file(const char *path, bool (*keep)(json_object *, void *), void *ud,
                       size_t limit, json_object *out)
{
        size_t len = 0;
        _cleanup_free_ char *text = slurp(path, &len);
        size_t end = len;
        while (text && end > 0 && json_object_array_length(out) < limit) {
                if (text[end - 1] != '\n') { /* a partial last line */
                        while (end > 0 && text[end - 1] != '\n')
                                end--;
                        continue;
                }
                size_t start = end - 1;
                while (start > 0 && text[start - 1] != '\n')
                        start--;
                text[end - 1] = 0;
                json_object *o = json_tokener_parse(text + start);
                if (o && keep(o, ud))
                        json_object_array_add(out, o);
                else
                        json_object_put(o);
                end = start;
        }
}

json_object *cms_audit_query(struct cms_audit *a, bool (*keep)(json_object *rec, void *ud),
                             void *ud, size_t limit)
{
        json_object *out = json_object_new_array();
        if (!a || !out)
                return out;
        pthread_mutex_lock(&a->mu);
        int files = a->keep;
        pthread_mutex_unlock(&a->mu);
        query_file(a->path, keep, ud, limit, out);
        for (int k = 1; k <= files && json_object_array_length(out) < limit; k++) {
                _cleanup_free_ char *p = cms_strdup_printf("%s.%d", a->path, k);
                if (p)
                        query_file(p, keep, ud, limit, out);
        }
        return out;
}

int cms_audit_verify(const char *path, char *msg, size_t n)
{
        size_t len = 0;
        _cleanup_free_ char *text = slurp(path, &len);
        if (!text) {
                snprintf(msg, n, "%s: cannot read", path);
                return -ENOENT;
        }
        char prev[65] = "";
        int64_t count = 0, last_seq = 0, line = 0;
        for (size_t start = 0; start < len;) {
                char *nl = memchr(text + start, '\n', len - start);
                line++;
                if (!nl) {
                        snprintf(msg, n,
                                 "%s: %" PRId64 " records chained; line %" PRId64
                                 " is a partial record (a write cut short), not counted",
                                 path, count, line);
                        return 0;
                }
                *nl = 0;
                _cleanup_json_ json_object *o = json_tokener_parse(text + start);
                const char *p = json_object_get_string(cms_json_get(o, "prev"));
                int64_t seq = json_object_get_int64(cms_json_get(o, "seq"));
                bool linked =
                    p && (count ? !strcmp(p, prev) && last_seq < INT64_MAX && seq == last_seq + 1
                                : seq > 1 || !strcmp(p, ZERO_HASH));
                if (!o || !linked) {
                        snprintf(msg, n,
                                 "%s: record %" PRId64 " (line %" PRId64 ", seq %" PRId64
                                 ") is broken: %s",
                                 path, count + 1, line, seq,
                                 !o ? "not JSON" : "it does not follow from the record before it");
                        return -EBADMSG;
                }
                hash_hex(text + start, (size_t)(nl - (text + start)), prev);
                last_seq = seq;
                count++;
                start = (size_t)(nl - text) + 1;
        }
        snprintf(msg, n, "%s: %" PRId64 " records, chain intact", path, count);
        return 0;
}
