/* daemon/scan/db*: the vulnerability database, OSV records imported by an admin and kept under
 * <dir> (state_dir/vulndb), indexed so that a scan reads only the records of the packages it
 * looks up. This folder may call daemon/archive.c and daemon/util.c only.
 *
 * On disk, one generation directory per import, "current" a symlink to the live one:
 *   gen-<time>-<pid>-<n>/records.dat  each record's JSON (compact), one after the other
 *   gen-.../keys.dat                  the index keys, NUL-terminated, in index order
 *   gen-.../index.dat                 "CMSVDB1\0", u64 count, then count entries of
 *                                     {u64 key_off, u64 rec_off, u32 rec_len, u32 0}, sorted
 *                                     by key (byte order), then by rec_off
 *   gen-.../meta.json                 what GET /v1/vulndb says
 * A key is "<ecosystem>\x1f<release>\x1f<name>" for each distinct affected[] entry of a record:
 * the ecosystem as written ("Debian"), the release after its ':' ("12", Alpine's without the
 * leading 'v', empty when none), the package name (PyPI's PEP 503-normalized). A lookup is two
 * binary searches (with the release and without) over the mmapped index.
 *
 * An import writes a new generation into a temporary directory, fsyncs it, renames it into
 * place and swaps the symlink (rename of a new symlink over it): readers see the old data or the
 * new, never a mix (a reader opens the generation directory once and reads files relative to
 * it); an import that fails leaves the old generation live. Imports are serialized by flock on
 * <dir>/lock, across processes (the daemon and `cmsd --import-vulndb`). */
#pragma once

#include <json-c/json.h>

#include "../archive.h"
#include "osv.h"

struct cms_vulndb_limits {
        size_t max_record;   /* one record's JSON; 0: 4 MiB */
        int64_t max_records; /* records in one import; 0: 2,000,000 */
        int64_t max_keys;    /* index entries; 0: 8,000,000 */
        int64_t max_total;   /* JSON bytes read in all; 0: 8 GiB */
};

/* Imports every "*.json" entry of an archive (tar, plain or compressed, or zip) read from a
 * stream. A record that is not JSON, not an object or breaks the OSV schema is skipped and
 * counted; a broken archive or a limit is an error (422, 413 for the limits) and nothing
 * changes. *info (may be NULL) gets the new meta (as cms_vulndb_info). */
int cms_vulndb_import_stream(const char *dir, cms_archive_read_cb read, void *ud,
                             const struct cms_vulndb_limits *limits, json_object **info,
                             struct cms_error *err);
/* The same from a path on this host: a directory (walked, "*.json" files, symlinks not
 * followed) or an archive file. */
int cms_vulndb_import_path(const char *dir, const char *path,
                           const struct cms_vulndb_limits *limits, json_object **info,
                           struct cms_error *err);

struct cms_vulndb;
/* Opens the live generation: -ENOENT with a 409 err when nothing was imported. */
int cms_vulndb_open(const char *dir, struct cms_vulndb **out, struct cms_error *err);
void cms_vulndb_free(struct cms_vulndb *db);
/* The meta (borrowed): {"ecosystems": {"Debian:12": n, ...}, "records", "skipped",
 * "skipped_examples": [{"path","reason"}], "newest_modified", "imported_at", "generation"}. */
json_object *cms_vulndb_info(const struct cms_vulndb *db);
/* What GET /v1/vulndb says: the meta with "loaded": true, or {"loaded": false, "records": 0}. */
int cms_vulndb_status(const char *dir, json_object **out, struct cms_error *err);

/* Called for each record indexed under (ecosystem, release or "", name); rec is freed after the
 * call. Nonzero stops the lookup (and is returned). */
typedef int (*cms_vulndb_cb)(const struct cms_osv *rec, void *ud);
/* Calls cb for the records of (ecosystem, release, name) and of (ecosystem, no release, name);
 * release may be NULL. A record stored corrupt is a 500 error. */
int cms_vulndb_lookup(struct cms_vulndb *db, const char *ecosystem, const char *release,
                      const char *name, cms_vulndb_cb cb, void *ud, struct cms_error *err);

/* ---- db_key.c ---- */
/* The index key of (ecosystem, release or NULL, name) into out; false when it does not fit. */
bool cms_vulndb_key(const char *ecosystem, const char *release, const char *name, char *out,
                    size_t cap);
