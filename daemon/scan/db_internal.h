/* What db_write.c, db_import.c and db_read.c share: the builder of a generation and the index's
 * on-disk entry (layout in db.h). */
#pragma once

#include <limits.h>
#include <stdint.h>

#include "db.h"

#define CMS_VDB_MAGIC "CMSVDB1"

struct cms_vdb_disk {
        uint64_t key_off; /* into keys.dat */
        uint64_t rec_off; /* into records.dat */
        uint32_t rec_len; /* the record's JSON, without its newline */
        uint32_t reserved;
};

struct cms_vdb_entry {
        char *key;
        uint64_t off;
        uint32_t len;
};

struct cms_vdb_builder {
        struct cms_vulndb_limits lim;
        char dir[PATH_MAX / 2], tmp[PATH_MAX / 2], gen[96];
        int rec_fd, lock_fd;
        uint64_t rec_off;
        struct cms_vdb_entry *e;
        size_t n, cap;
        int64_t records, skipped, total;
        json_object *ecos, *examples;
        char newest[64];
        json_tokener *tok;
};

/* Takes the lock and opens a temporary generation; on failure call cms_vdb_abort. */
int cms_vdb_begin(struct cms_vdb_builder *b, const char *dir,
                  const struct cms_vulndb_limits *limits, struct cms_error *err);
/* One file's text: a record added, or skipped and counted; -1 only for a limit or I/O. */
int cms_vdb_add(struct cms_vdb_builder *b, const char *path, const char *text, size_t len,
                struct cms_error *err);
void cms_vdb_skip(struct cms_vdb_builder *b, const char *path, const char *reason);
/* Writes the index and meta and makes the generation live. cms_vdb_abort after, either way. */
int cms_vdb_commit(struct cms_vdb_builder *b, const char *source, json_object **info,
                   struct cms_error *err);
/* Frees the builder, removes what is left of the temporary generation, drops the lock. */
void cms_vdb_abort(struct cms_vdb_builder *b);
void cms_vulndb_rmdir(const char *path);
