/* Logging with levels: plain lines on stderr, or structured journal entries (PRIORITY,
 * CODE_FILE/CODE_LINE/CODE_FUNC and caller-given fields) when systemd connected stderr to the
 * journal (JOURNAL_STREAM names stderr). The boundary (main, handlers) logs; library-style code
 * returns errors. */
#pragma once

#include <sys/types.h>

#include "util.h"

enum cms_log_level { CMS_LOG_ERROR, CMS_LOG_WARN, CMS_LOG_INFO, CMS_LOG_DEBUG };

/* One structured field for the journal: key in journal form ("STATUS", "CONTAINER_ID"). On
 * stderr fields are not printed: the message must carry what a reader needs. */
struct cms_log_field {
        const char *key;
        const char *value;
};

void cms_log_set_level(enum cms_log_level level);
enum cms_log_level cms_log_get_level(void);
/* "error|warn|warning|info|debug" -> level; -EINVAL otherwise. */
int cms_log_parse_level(const char *s, enum cms_log_level *out);
const char *cms_log_level_name(enum cms_log_level level);

/* True when lines go to the journal (decided once, on first use, from JOURNAL_STREAM). */
bool cms_log_to_journal(void);
/* Whether a JOURNAL_STREAM value ("DEV:INO", decimal) names the file with that dev and inode. */
bool cms_log_journal_stream_matches(const char *env, dev_t dev, ino_t ino);

void cms_log_at(enum cms_log_level level, const char *file, int line, const char *func,
                const char *fmt, ...) CMS_PRINTF(5, 6);
void cms_log_fields_at(enum cms_log_level level, const char *file, int line, const char *func,
                       const struct cms_log_field *fields, size_t n_fields, const char *fmt, ...)
        CMS_PRINTF(7, 8);
/* Without a source location (kept for callers outside the macros). */
void cms_log(enum cms_log_level level, const char *fmt, ...) CMS_PRINTF(2, 3);

#define log_error(...) cms_log_at(CMS_LOG_ERROR, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define log_warn(...)  cms_log_at(CMS_LOG_WARN, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define log_info(...)  cms_log_at(CMS_LOG_INFO, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define log_debug(...)                                                                             \
        do {                                                                                       \
                if (cms_log_get_level() >= CMS_LOG_DEBUG)                                          \
                        cms_log_at(CMS_LOG_DEBUG, __FILE__, __LINE__, __func__, __VA_ARGS__);      \
        } while (0)
/* log_fields(CMS_LOG_INFO, fields, n, "fmt", ...): a message plus structured fields. */
#define log_fields(level, fields, n, ...)                                                          \
        cms_log_fields_at(level, __FILE__, __LINE__, __func__, fields, n, __VA_ARGS__)
