/* Log lines on stderr with a timestamp and level; one write per line so threads don't interleave. */
#include "log.h"

#include <stdatomic.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static atomic_int current_level = CMS_LOG_INFO;
static const char *const names[] = {"error", "warn", "info", "debug"};

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

void cms_log(enum cms_log_level level, const char *fmt, ...)
{
        if ((int)level > atomic_load(&current_level))
                return;
        char line[2048];
        struct timeval tv;
        struct tm tm;
        gettimeofday(&tv, NULL);
        gmtime_r(&tv.tv_sec, &tm);
        int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                         tm.tm_sec, (long)(tv.tv_usec / 1000), cms_log_level_name(level));
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
        va_end(ap);
        size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
        if (len > sizeof(line) - 2)
                len = sizeof(line) - 2;
        line[len++] = '\n';
        ssize_t w CMS_UNUSED = write(STDERR_FILENO, line, len);
}
