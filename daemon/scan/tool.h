/* An external scanner run as a child process (trivy, grype): found on PATH, started with an
 * argv (no shell), stdin from /dev/null, its stdout kept up to a cap, the tail of its stderr kept
 * for the error message, killed (its whole process group) at a deadline. This folder may call
 * daemon/archive.c and daemon/util.c only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util.h"

/* The first executable regular file called name in the directories of path (a PATH-style list;
 * NULL: the process's PATH); 0, or -ENOENT. */
int cms_tool_find(const char *name, const char *path, char *out, size_t cap);

struct cms_tool_result {
        char *out; /* stdout, NUL-terminated (owned) */
        size_t out_len;
        char err[2048];   /* the last bytes of stderr, NUL-terminated */
        int exit_status;  /* the exit code, or 128 + the signal */
        bool timed_out;   /* killed at the deadline */
        bool out_too_big; /* killed when stdout passed max_out */
};
void cms_tool_result_done(struct cms_tool_result *res);

/* Runs argv[0] (a path) with argv; the child gets the process's environment with the
 * assignments of env ("NAME=value", may be NULL) added, and its own process group. Waits until
 * it exits, timeout_ms passes or stdout passes max_out (then the group is killed). 0 when the
 * child ran (whatever its exit status); -1 with err (500) when it could not be started. */
int cms_tool_run(const char *const *argv, const char *const *env, int64_t timeout_ms,
                 size_t max_out, struct cms_tool_result *res, struct cms_error *err);
