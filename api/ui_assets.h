/* The dashboard's files as scripts/embed-ui.sh compiles them into cmsd (the generated ui_blob.c
 * defines the table); api/h_ui.c serves them. */
#pragma once

#include <stddef.h>

struct cms_ui_asset {
        const char *path;  /* below /ui/, e.g. "index.html", "js/app.js" */
        const char *ctype; /* Content-Type */
        const unsigned char *data;
        size_t len;
        const unsigned char *gz; /* the same, gzip -9 -n */
        size_t gz_len;
        const char *etag; /* quoted, strong: "\"<16 hex of sha256>\"" */
};

extern const struct cms_ui_asset cms_ui_assets[];
extern const size_t cms_ui_n_assets;
