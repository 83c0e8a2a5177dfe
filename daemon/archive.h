/* Reading archives through libarchive: image layers (tar, plain or gzip, zstd, bzip2, xz
 * compressed) and vulnerability-database zips, for the image scanner; any other reader of an
 * archive that cmsd did not write itself. Entries come in archive order, one at a time, with
 * normalized paths; their data is read in pieces, never held whole unless asked (and then up to
 * a cap). Layer whiteouts (".wh.<name>", ".wh..wh..opq") come as the entries they are: applying
 * them is the caller's job. Everything is bounded: entries, path length, and the data bytes read
 * in all (a zip bomb ends in an error, not a full memory or disk). */
#pragma once

#include <locale.h>
#include <sys/types.h>

#include "util.h"

struct cms_archive;

enum cms_archive_formats {
        CMS_ARCHIVE_TAR = 1, /* tar (ustar, pax, GNU), plain or compressed */
        CMS_ARCHIVE_ZIP = 2,
};

enum cms_archive_type {
        CMS_ARCHIVE_FILE,
        CMS_ARCHIVE_DIR,
        CMS_ARCHIVE_SYMLINK,
        CMS_ARCHIVE_HARDLINK,
        CMS_ARCHIVE_OTHER, /* devices, fifos, sockets */
};

struct cms_archive_entry {
        const char
            *path; /* normalized: no leading "/" or "./", no "." or empty parts, never ".." */
        enum cms_archive_type type;
        const char *link; /* symlink target as stored, or a hardlink's normalized path; else NULL */
        int64_t size;     /* the data's size as the archive says (-1: not said, as in some zips) */
        unsigned mode;    /* permission bits */
};

struct cms_archive_limits {
        int64_t max_entries; /* 0: 1,000,000 */
        int64_t max_total;   /* data bytes cms_archive_read may return in all; 0: 4 GiB */
        int bad_status;      /* the status of a malformed archive's error; 0: 400 */
};

/* The signature of cms_engine_read_cb: the next bytes, 0 at the end, -1 on an error. */
typedef ssize_t (*cms_archive_read_cb)(char *buf, size_t max, void *userdata);

/* Opens a stream (an engine's export, another archive's entry) for reading; formats: a mask of
 * enum cms_archive_formats (a zip read from a stream must not rely on its central directory).
 * limits may be NULL. The first bytes are read here: a stream in none of the formats fails. */
int cms_archive_open_stream(cms_archive_read_cb read, void *userdata, unsigned formats,
                            const struct cms_archive_limits *limits, struct cms_archive **out,
                            struct cms_error *err);
/* Opens a file (seekable: a zip is read through its central directory). */
int cms_archive_open_file(const char *path, unsigned formats,
                          const struct cms_archive_limits *limits, struct cms_archive **out,
                          struct cms_error *err);
/* The next entry: 1 and *e filled (valid until the next call), 0 at the end, -1 with err set. An
 * entry whose path leaves the root ("..") or is longer than 4096 bytes is an error. */
int cms_archive_next(struct cms_archive *a, struct cms_archive_entry *e, struct cms_error *err);
/* The current entry's next data bytes: 0 at its end, -1 with err set. */
ssize_t cms_archive_read(struct cms_archive *a, void *buf, size_t max, struct cms_error *err);
/* The rest of the current entry, whole and NUL-terminated (for small files such as a package
 * database): -1 with a 413-status err when it is longer than max. */
int cms_archive_read_all(struct cms_archive *a, size_t max, char **out, size_t *len,
                         struct cms_error *err);
/* An adapter with cms_archive_read_cb's signature, reading the current entry of the archive
 * given as userdata: an archive inside another (a layer inside an image export) is opened with
 * cms_archive_open_stream(cms_archive_entry_reader, outer, ...). Errors stay in the outer. */
ssize_t cms_archive_entry_reader(char *buf, size_t max, void *userdata);
/* The error a failed cms_archive_entry_reader left. */
const struct cms_error *cms_archive_error(const struct cms_archive *a);
void cms_archive_free(struct cms_archive *a);

/* libarchive converts names through the calling thread's locale, and cmsd runs in the C locale,
 * where a name with a byte over 127 fails that (a writer then marks it "hdrcharset=BINARY", a
 * reader warns). Between begin and end the thread runs in C.UTF-8: UTF-8 names pass as they
 * are, others as their bytes. begin returns what end restores. */
locale_t cms_archive_utf8_begin(void);
void cms_archive_utf8_end(locale_t old);
