/* daemon/scan/sbom*: the software bill of materials of an image, read from the image as the
 * engine exports it (a docker-archive tar: manifest.json and one tar per layer, plain or
 * compressed, as "<id>/layer.tar", "<digest>.tar" or "blobs/sha256/<digest>"). Pure of engine
 * calls: the caller hands over the export as a stream (daemon/images/sbom.c does the engine side
 * and the cache); this folder may call daemon/archive.c and daemon/util.c only.
 *
 * The export is read in one pass: engines write manifest.json last, so each layer is read as it
 * comes, and only its package-metadata files (parsed at once, each capped) and its whiteouts are
 * kept, keyed by the layer's path; at the end manifest.json gives the order, and the layers are
 * applied over each other (whiteouts, opaque directories, overwrites) into the final view. No
 * layer is ever held whole, in memory or on disk.
 *
 * The inventory (cms_sbom_read's result):
 *   {"os": {"id","version_id","codename","name","debian_version"} or null,
 *    "packages": [{"type": "deb"|"apk"|"pypi"|"npm"|"gem", "name", "version", "arch"?,
 *                  "source"?, "source_version"?, "path"}],
 *    "layers": n, "skipped": [{"path","reason"}]} */
#pragma once

#include "../archive.h"

struct cms_sbom_limits {
        size_t max_os_db;     /* a dpkg status or apk installed file; 0: 64 MiB */
        size_t max_lang_file; /* a METADATA, package.json, gemspec, os-release; 0: 4 MiB */
        int64_t max_files;    /* metadata files kept over all layers; 0: 200,000 */
        int64_t max_packages; /* packages over all layers; 0: 1,000,000 */
        size_t max_whiteouts; /* bytes of whiteout paths kept over all layers; 0: 32 MiB */
        int64_t max_layers;   /* 0: 512 */
        int64_t max_entries;  /* entries of a layer (and of the export); 0: 2,000,000 */
        int64_t max_total;    /* decompressed bytes over the whole export; 0: 64 GiB */
};

/* Reads an export from read(ud) into the inventory above. A malformed export or one over a
 * limit: 422 with the reason (a huge status file, a tar bomb, a deep path); a failing source:
 * the status the source's error had (502 by default). */
int cms_sbom_read(cms_archive_read_cb read, void *ud, const struct cms_sbom_limits *limits,
                  json_object **out, struct cms_error *err);

/* ---- sbom_parse.c: the metadata files ---- */
enum cms_sbom_kind {
        CMS_SBOM_NONE = 0,
        CMS_SBOM_DPKG,   /* var/lib/dpkg/status, var/lib/dpkg/status.d/<pkg> */
        CMS_SBOM_APK,    /* lib/apk/db/installed */
        CMS_SBOM_OS,     /* etc/os-release, usr/lib/os-release */
        CMS_SBOM_DEBVER, /* etc/debian_version */
        CMS_SBOM_PYPI,   /* *.dist-info/METADATA, *.egg-info/PKG-INFO, *.egg-info (a file) */
        CMS_SBOM_NPM,    /* node_modules/<name>/package.json, node_modules/@s/<n>/package.json */
        CMS_SBOM_GEM,    /* specifications/<name>.gemspec */
};
/* What kind of metadata the path (normalized, relative to the root) holds. */
enum cms_sbom_kind cms_sbom_kind(const char *path);
/* Parses one file's text (NUL-terminated) into *out: a JSON array of packages for the package
 * kinds, an object of fields for CMS_SBOM_OS, {"debian_version"} for CMS_SBOM_DEBVER. 0, or
 * -1 with err (422) when the file is not what its name says and that cannot be skipped. */
int cms_sbom_parse(enum cms_sbom_kind kind, const char *path, const char *text, size_t len,
                   json_object **out, struct cms_error *err);
/* PEP 503: lower case, runs of "-", "_", "." as one "-". */
void cms_sbom_pep503(const char *name, char *out, size_t cap);

/* ---- sbom_cdx.c: CycloneDX 1.5 ---- */
struct cms_sbom_image {
        const char *name;   /* the reference asked for */
        const char *id;     /* "sha256:..." (the image's config digest) */
        const char *digest; /* a repo digest "repo@sha256:..." or NULL */
};
/* The package URL of an inventory package (os: the inventory's "os"), or NULL (OOM, or a
 * package without a name or version). */
char *cms_sbom_purl(json_object *pkg, json_object *os);
/* The CycloneDX 1.5 document for an inventory. */
int cms_sbom_cyclonedx(json_object *inventory, const struct cms_sbom_image *img, json_object **out,
                       struct cms_error *err);
