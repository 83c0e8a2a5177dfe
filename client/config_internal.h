/* The config file's model, shared by config.c (reading, writing, using a context) and
 * cmd_context.c (the context commands). Private to those two. */
#pragma once

#include <limits.h>

#include "cmd.h"

enum { K_NAME, K_URL, K_TOKEN, K_TOKEN_FILE, K_CACERT, K_CERT, K_KEY, K_N };
extern const char *const ctl_ctx_keys[K_N];

struct ctx {
        char *v[K_N];
        int line;
};

struct cfg {
        char path[PATH_MAX];
        char *current;
        int current_line;
        struct ctx *ctx;
        size_t n;
        struct cfg *kept; /* applied configs stay reachable: c's strings point into them */
};

void cfg_free(struct cfg *f);
struct ctx *cfg_find(struct cfg *f, const char *name);
/* Reads and checks the file (a missing one is an empty config): CTL_OK or the exit code of
 * what it printed. */
int cfg_load(struct cfg *f);
/* Writes f atomically: CTL_OK or the exit code of what it printed. */
int cfg_write(const struct cfg *f);
/* Why value v is no good for key k, or NULL. */
const char *cfg_value_problem(int k, const char *v);
bool cfg_name_ok(const char *s);
/* A token from fd (one line, visible ASCII, at most 1024 bytes), malloc'd; NULL if none. */
char *cfg_read_token(int fd);
