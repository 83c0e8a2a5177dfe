/* cmsctl: the command-line client of cmsd. It speaks only cmsd's public HTTP API (libcurl,
 * json-c); nothing of the daemon is linked in. One file per command group, a commands[] table
 * in main.c, the HTTP calls in http.c, tables and the other output forms in output.c. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes (listed by `cmsctl --help`). */
enum {
        CTL_OK = 0,
        CTL_ERR = 1,         /* the server refused or failed (4xx other than below, 5xx) */
        CTL_USAGE = 2,       /* bad command line */
        CTL_NOT_FOUND = 3,   /* 404 */
        CTL_DENIED = 4,      /* 401, 403 (role or policy) */
        CTL_UNAVAILABLE = 5, /* cmsd or its engine cannot be reached (connect error, 502-504) */
};

enum ctl_format { CTL_TABLE, CTL_JSON, CTL_QUIET };

struct ctl {
        const char *url;    /* http://host:port, https://..., unix:/path */
        char *token;        /* from --token-file or CMSD_TOKEN; never from argv */
        const char *cacert; /* https: a CA bundle, a client certificate and key */
        const char *cert, *key;
        enum ctl_format format;
        bool all;  /* -a on list commands */
        int width; /* the terminal's columns; 0: not a terminal (no truncation) */
};

/* ---- http.c ---- */
/* One call: body (may be NULL) is JSON. On 2xx: 0 and *data = the envelope's data (owned by the
 * caller; may be NULL). Otherwise prints "cmsctl: <message> (<code>)" to stderr and returns the
 * exit code for it. */
int ctl_call(struct ctl *c, const char *method, const char *path, json_object *body,
             json_object **data);
/* A streamed GET (follow=true, NDJSON): each chunk of the 2xx body goes to out as it arrives;
 * out returning nonzero ends the stream. */
int ctl_stream(struct ctl *c, const char *path, int (*out)(const char *, size_t, void *), void *ud);
/* %-escapes s for a path segment or a query value; malloc'd. */
char *ctl_escape(const char *s);

/* ---- output.c ---- */
struct ctl_table;
struct ctl_table *ctl_table_new(const char *const *headers, size_t ncols);
/* Adds a row of ncols cells (copied; NULL shows as ""). */
void ctl_table_add(struct ctl_table *t, const char *const *cells);
/* Prints aligned columns: two spaces between them; when width > 0 and the table is wider, the
 * widest column shrinks (cells, headers too, cut with "…") until it fits or every column is
 * down to 4. Display width counts UTF-8 characters, wide ones as two. */
void ctl_table_print(struct ctl_table *t, int width, FILE *out);
void ctl_table_free(struct ctl_table *t);
/* The display width of a UTF-8 string (a wide character counts two, a bad byte one). */
size_t ctl_display_width(const char *s);
/* "12.3MB", "1.5GB", "512B" (decimal units, as docker prints sizes). */
void ctl_human_size(uint64_t bytes, char *out, size_t n);
/* "3 minutes ago", "About an hour ago", "2 days ago" for an RFC 3339 time and now (unix s). */
void ctl_human_age(const char *rfc3339, int64_t now, char *out, size_t n);
/* The envelope's data as pretty JSON on stdout. */
void ctl_print_json(json_object *data);
/* A string member, or "" (never NULL). */
const char *ctl_str(json_object *o, const char *key);
