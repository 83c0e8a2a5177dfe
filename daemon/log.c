/* Log lines on stderr with a timestamp and level, one write per line so threads don't interleave;
 * or, when systemd connected stderr to the journal, one journal entry per message with its
 * priority, source location and structured fields, so `journalctl -u cmsd STATUS=500` works. */
#include "log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION /* the location is the caller's, passed in */
#include <systemd/sd-journal.h>

#define MAX_LINE        2048
#define MAX_FIELDS      16
#define MAX_FIELD_VALUE 2048

static atomic_int current_level = CMS_LOG_INFO;
static const char *const names[] = {"error", "warn", "info", "debug"};
static pthread_once_t target_once = PTHREAD_ONCE_INIT;
static bool journal;

void cms_log_set_level(enum cms_log_level level)
{
        atomic_store(&current_level, (int)level);
}

enum cms_log_level cms_log_get_level(void)
{
        return (enum cms_log_level)atomic_load(&current_level);
}

const char *cms_log_level_name(enum cms_log_level level)
{
        return (unsigned)level < ELEMENTSOF(names) ? names[level] : "info";
}

int cms_log_parse_level(const char *s, enum cms_log_level *out)
{
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (!strcasecmp(s, names[i])) {
                        *out = (enum cms_log_level)i;
                        return 0;
                }
        if (!strcasecmp(s, "warning")) {
                *out = CMS_LOG_WARN;
                return 0;
        }
        return -EINVAL;
}

bool cms_log_journal_stream_matches(const char *env, dev_t dev, ino_t ino)
{
        if (!env || !*env)
                return false;
        char *end;
        errno = 0;
        unsigned long long d = strtoull(env, &end, 10);
        if (errno || end == env || *end != ':' || env[0] == '-')
                return false;
        const char *p = end + 1;
        if (*p < '0' || *p > '9')
                return false;
        unsigned long long i = strtoull(p, &end, 10);
        if (errno || *end)
                return false;
        return d == (unsigned long long)dev && i == (unsigned long long)ino;
}

/* systemd sets JOURNAL_STREAM for a unit whose stderr goes to the journal; the check on the inode
 * matters because the variable is inherited by children whose stderr may be elsewhere (a
 * terminal, a file): only then is a native journal entry the right place. */
static void pick_target(void)
{
        struct stat st;
        journal = fstat(STDERR_FILENO, &st) == 0 &&
                  cms_log_journal_stream_matches(getenv("JOURNAL_STREAM"), st.st_dev, st.st_ino);
}

bool cms_log_to_journal(void)
{
        pthread_once(&target_once, pick_target);
        return journal;
}

static void write_line(enum cms_log_level level, const char *msg)
{
        char line[MAX_LINE + 64];
        struct timeval tv;
        struct tm tm;
        gettimeofday(&tv, NULL);
        gmtime_r(&tv.tv_sec, &tm);
        int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                         tm.tm_sec, (long)(tv.tv_usec / 1000), cms_log_level_name(level), msg);
        size_t len = n < 0 ? 0 : (size_t)n;
        if (len > sizeof(line) - 2)
                len = sizeof(line) - 2;
        line[len++] = '\n';
        ssize_t w CMS_UNUSED = write(STDERR_FILENO, line, len);
}

static int priority_of(enum cms_log_level level)
{
        static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
        return (unsigned)level < ELEMENTSOF(prio) ? prio[level] : LOG_INFO;
}

/* Packs "KEY=value" into store at *used; returns the iovec entry (empty when out of room). */
static struct iovec pack(char *store, size_t cap, size_t *used, const char *key, const char *fmt,
                         ...) CMS_PRINTF(5, 6);
static struct iovec pack(char *store, size_t cap, size_t *used, const char *key, const char *fmt,
                         ...)
{
        struct iovec v = {NULL, 0};
        size_t room = cap - *used;
        int k = snprintf(store + *used, room, "%s=", key);
        if (k < 0 || (size_t)k >= room)
                return v;
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(store + *used + k, room - (size_t)k, fmt, ap);
        va_end(ap);
        if (m < 0)
                return v;
        size_t len = (size_t)k + (size_t)m;
        if (len >= room)
                len = room - 1; /* cut short: still one entry */
        v.iov_base = store + *used;
        v.iov_len = len;
        *used += len + 1;
        return v;
}

static int journal_send(enum cms_log_level level, const char *file, int line, const char *func,
                        const struct cms_log_field *f, size_t nf, const char *msg)
{
        char store[MAX_LINE + 4 * MAX_FIELD_VALUE + 1024];
        size_t used = 0, n = 0;
        struct iovec iov[6 + MAX_FIELDS];
        iov[n++] = pack(store, sizeof(store), &used, "MESSAGE", "%s", msg);
        iov[n++] = pack(store, sizeof(store), &used, "PRIORITY", "%d", priority_of(level));
        iov[n++] = pack(store, sizeof(store), &used, "SYSLOG_IDENTIFIER", "cmsd");
        for (size_t i = 0; i < nf && i < MAX_FIELDS; i++)
                if (f[i].key && f[i].value)
                        iov[n++] = pack(store, sizeof(store), &used, f[i].key, "%.*s",
                                        MAX_FIELD_VALUE, f[i].value);
        if (file) {
                iov[n++] = pack(store, sizeof(store), &used, "CODE_FILE", "%s", file);
                iov[n++] = pack(store, sizeof(store), &used, "CODE_LINE", "%d", line);
        }
        if (func)
                iov[n++] = pack(store, sizeof(store), &used, "CODE_FUNC", "%s", func);
        size_t k = 0; /* drop entries that did not fit */
        for (size_t i = 0; i < n; i++)
                if (iov[i].iov_len)
                        iov[k++] = iov[i];
        return sd_journal_sendv(iov, (int)k);
}

static void emit(enum cms_log_level level, const char *file, int line, const char *func,
                 const struct cms_log_field *f, size_t nf, const char *fmt, va_list ap)
{
        char msg[MAX_LINE];
        if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
                msg[0] = 0;
        /* A journal that refuses (gone, full) still gets the line through stderr. */
        if (cms_log_to_journal() && journal_send(level, file, line, func, f, nf, msg) >= 0)
                return;
        write_line(level, msg);
}

void cms_log_at(enum cms_log_level level, const char *file, int line, const char *func,
                const char *fmt, ...)
{
        if ((int)level > atomic_load(&current_level))
                return;
        va_list ap;
        va_start(ap, fmt);
        emit(level, file, line, func, NULL, 0, fmt, ap);
        va_end(ap);
}

void cms_log_fields_at(enum cms_log_level level, const char *file, int line, const char *func,
                       const struct cms_log_field *fields, size_t n_fields, const char *fmt, ...)
{
        if ((int)level > atomic_load(&current_level))
                return;
        va_list ap;
        va_start(ap, fmt);
        emit(level, file, line, func, fields, n_fields, fmt, ap);
        va_end(ap);
}

void cms_log(enum cms_log_level level, const char *fmt, ...)
{
        if ((int)level > atomic_load(&current_level))
                return;
        va_list ap;
        va_start(ap, fmt);
        emit(level, NULL, 0, NULL, NULL, 0, fmt, ap);
        va_end(ap);
}
