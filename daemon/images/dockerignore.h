/* A build context's .dockerignore, read and matched as Docker does: Go filepath.Match patterns
 * plus "**", "!" lines re-include, and the last pattern matching a path or one of its parents
 * decides. Made for a walk of the tree, which tells the matcher what matched the parents. */
#pragma once

#include "../util.h"

struct cms_dockerignore;

/* Reads .dockerignore from the directory open at dirfd; no such file gives no patterns. 400 when
 * it is not a regular file or is over 1 MiB, for over 10000 patterns, a pattern over 4096 bytes,
 * one that does not parse and a "!" with nothing after it. */
int cms_dockerignore_load(int dirfd, struct cms_dockerignore **out, struct cms_error *err);
void cms_dockerignore_free(struct cms_dockerignore *ig);

/* How many patterns there are: the length of the per-pattern arrays match takes. */
size_t cms_dockerignore_count(const struct cms_dockerignore *ig);

/* Whether path (relative to the context, in cms_path_clean's form, no trailing '/') is ignored.
 * So that a walk runs each path through each pattern once, it carries per-pattern results down
 * the tree: parents[i] says whether pattern i matches the directory path is in or one above it
 * (all false for the context's own entries). For a directory, self (count() entries) receives
 * the same for path, to be its entries' parents; NULL for anything else. *last: the deciding
 * pattern, SIZE_MAX when none matches. Not reentrant: matching runs in buffers kept in ig. */
bool cms_dockerignore_match(struct cms_dockerignore *ig, const char *path, const bool *parents,
                            bool *self, size_t *last);

/* Whether something inside the ignored directory dirslash (its path and a '/') may be
 * re-included by a "!" pattern after last (the pattern match said ignores it), so that a walk
 * must look inside it after all. */
bool cms_dockerignore_may_reinclude(struct cms_dockerignore *ig, const char *dirslash, size_t last);

/* Go's path.Clean: single slashes, no "." names, ".." removes the name before it; "" gives ".".
 * Patterns are matched in this form, so paths compared with them need it too. NULL on OOM. */
char *cms_path_clean(const char *path);
