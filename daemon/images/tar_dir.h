/* Build contexts from a directory on the daemon host: a pull-driven, deterministic tar stream of
 * the tree (with .dockerignore applied as Docker applies it) for an engine's POST /build. */
#pragma once

#include <sys/types.h>

#include "../util.h"

struct cms_tar_dir;

/* Opens dir (must be an existing directory) for streaming as an uncompressed tar. dockerfile: the
 * Dockerfile's path relative to dir (NULL: "Dockerfile"); it must exist inside dir (400 otherwise,
 * and a path escaping dir with .. or an absolute path is 400). Reads dir/.dockerignore if present.
 */
int cms_tar_dir_new(const char *dir, const char *dockerfile, struct cms_tar_dir **out,
                    struct cms_error *err);
/* A cms_engine_read_cb: the next bytes of the archive; 0 at the end; -1 on an error (then
 * cms_tar_dir_error() says why, e.g. a file vanished or is unreadable). */
ssize_t cms_tar_dir_read(char *buf, size_t max, void *userdata);
const struct cms_error *cms_tar_dir_error(const struct cms_tar_dir *t);
void cms_tar_dir_free(struct cms_tar_dir *t);
