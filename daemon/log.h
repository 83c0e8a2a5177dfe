/* Logging with levels: plain lines on stderr (journald structured logging comes with the
 * systemd issue). The boundary (main, handlers) logs; library-style code returns errors. */
#pragma once

#include "util.h"

enum cms_log_level { CMS_LOG_ERROR, CMS_LOG_WARN, CMS_LOG_INFO, CMS_LOG_DEBUG };

void cms_log_set_level(enum cms_log_level level);
enum cms_log_level cms_log_get_level(void);
/* "error|warn|warning|info|debug" -> level; -EINVAL otherwise. */
int cms_log_parse_level(const char *s, enum cms_log_level *out);
const char *cms_log_level_name(enum cms_log_level level);
void cms_log(enum cms_log_level level, const char *fmt, ...) CMS_PRINTF(2, 3);

#define log_error(...) cms_log(CMS_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  cms_log(CMS_LOG_WARN, __VA_ARGS__)
#define log_info(...)  cms_log(CMS_LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
        do {                                                                                       \
                if (cms_log_get_level() >= CMS_LOG_DEBUG)                                          \
                        cms_log(CMS_LOG_DEBUG, __VA_ARGS__);                                       \
        } while (0)
