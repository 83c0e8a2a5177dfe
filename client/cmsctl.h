/* cmsctl: the command-line client of cmsd. It speaks only cmsd's public HTTP API (libcurl,
 * json-c); nothing of the daemon is linked in. One file per command group, a commands[] table
 * in main.c, the HTTP calls in http.c, tables and the other output forms in output.c. */
#pragma once

#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes (listed by `cmsctl --help`). */
enum {
        CTL_OK = 0,
        CTL_ERR = 1,           /* the server refused or failed (4xx other than below, 5xx) */
        CTL_USAGE = 2,         /* bad command line */
        CTL_NOT_FOUND = 3,     /* 404 */
        CTL_DENIED = 4,        /* 401, 403 (role or policy) */
        CTL_UNAVAILABLE = 5,   /* cmsd or its engine cannot be reached (connect error, 502-504) */
        CTL_INTERRUPTED = 130, /* Ctrl-C ended a stream (128 + SIGINT, as a shell reports it) */
};

/* Set by cmsctl's SIGINT handler: the transfer in progress ends (CTL_INTERRUPTED). */
extern volatile sig_atomic_t ctl_interrupted;

enum ctl_format { CTL_TABLE, CTL_JSON, CTL_QUIET, CTL_TEMPLATE };

struct ctl {
        const char *url;    /* http://host:port, https://..., unix:/path */
        char *token;        /* from --token-file or CMSD_TOKEN; never from argv */
        const char *cacert; /* https: a CA bundle, a client certificate and key */
        const char *cert, *key;
        const char *context; /* --context or CMSD_CONTEXT; NULL: the config file's current one */
        const char *engine;  /* --engine or CMSD_ENGINE: ?engine= on per-engine routes ("*": all) */
        enum ctl_format format;
        const char *tmpl;        /* --format '{{.Name}}': the template (format CTL_TEMPLATE) */
        bool all;                /* -a on list commands */
        bool color;              /* stdout is a terminal and NO_COLOR is unset */
        bool tty;                /* stdout is a terminal (progress redrawn in place) */
        int width;               /* the terminal's columns; 0: not a terminal (no truncation) */
        const char *group, *cmd; /* what runs: "network" "create", or NULL "stop" */
};

/* A command, or a group of subcommands (subs set, ended by {0}): dispatched by name when run is
 * NULL; with run set, run reads the group's own options and dispatches itself (compose -f F up).
 * A top-level entry with neither is a lifecycle verb, run by cmd_lifecycle under its name. args and
 * help are the usage lines; bash/zsh completion and the man page's check read the flags from args.
 */
struct ctl_command {
        const char *name, *args, *help;
        int (*run)(struct ctl *c, int argc, char **argv);
        const struct ctl_command *subs;
};
extern const struct ctl_command ctl_commands[];
/* Runs argv[0] from table (group: NULL at the top level); --help after a name prints its usage.
 * Returns the exit code. */
int ctl_dispatch(struct ctl *c, const struct ctl_command *table, const char *group, int argc,
                 char **argv);
/* The entry named name in table, or NULL. */
const struct ctl_command *ctl_command_find(const struct ctl_command *table, const char *name);

/* ---- http.c ---- */
/* One call: body (may be NULL) is JSON. On 2xx: 0 and *data = the envelope's data (owned by the
 * caller; may be NULL). Otherwise prints "cmsctl: <message> (<code>)" to stderr and returns the
 * exit code for it. */
int ctl_call(struct ctl *c, const char *method, const char *path, json_object *body,
             json_object **data);
/* A request with a body given whole (body, body_len) or read piece by piece and sent chunked
 * (read returns the bytes it put in buf, 0 at the end, (size_t)-1 on an error it printed). */
struct ctl_req {
        const char *method; /* NULL: GET */
        const char *path;
        const char *content_type; /* NULL: application/json */
        const char *body;
        size_t body_len;
        size_t (*read)(char *buf, size_t n, void *ud);
        void *read_ud;
};
int ctl_stream_req(struct ctl *c, const struct ctl_req *q, int (*out)(const char *, size_t, void *),
                   void *ud);
/* An NDJSON stream: line() gets each object (borrowed; nonzero ends the stream). An error event
 * ({"type":"error","error":{...}}) is printed as cmsctl's errors are and sets the exit code. */
int ctl_ndjson(struct ctl *c, const struct ctl_req *q, int (*line)(json_object *, void *),
               void *ud);
/* %-escapes s for a path segment or a query value; malloc'd. */
char *ctl_escape(const char *s);

/* ---- output.c ---- */
struct ctl_table;
struct ctl_table *ctl_table_new(const char *const *headers, size_t ncols);
/* Adds a row of ncols cells (copied, control characters shown as '?'; NULL shows as ""). */
void ctl_table_add(struct ctl_table *t, const char *const *cells);
/* The same with a colour per cell (an SGR code such as "32", or NULL; colours NULL: none). */
void ctl_table_add_coloured(struct ctl_table *t, const char *const *cells,
                            const char *const *colours);
/* Prints aligned columns: two spaces between them; when width > 0 and the table is wider, the
 * widest column shrinks (cells, headers too, cut with "…") until it fits or every column is
 * down to 4. Display width counts UTF-8 characters, wide ones as two. */
void ctl_table_print(struct ctl_table *t, int width, FILE *out);
void ctl_table_free(struct ctl_table *t);
/* The display width of a UTF-8 string (a wide character counts two, a bad byte one). */
size_t ctl_display_width(const char *s);
/* s (a string from the server) with control characters shown as '?', for printing to a
 * terminal; at most 1023 bytes, in one of 8 rotating buffers (so up to 8 in one printf). */
const char *ctl_safe(const char *s);
/* s cut to w columns with an ellipsis when longer (display width, as the tables cut). */
void ctl_put_cut(FILE *out, const char *s, size_t w);
/* "12.3MB", "1.5GB", "512B" (decimal units, as docker prints sizes). */
void ctl_human_size(uint64_t bytes, char *out, size_t n);
/* "3 minutes ago", "About an hour ago", "2 days ago" for an RFC 3339 time and now (unix s). */
void ctl_human_age(const char *rfc3339, int64_t now, char *out, size_t n);
/* The envelope's data as pretty JSON on stdout. */
void ctl_print_json(json_object *data);
/* --format VALUE: table, json, or a template (a usage error ends the program). */
void ctl_set_format(struct ctl *c, const char *v);
/* data as --format asks when that is json or a template: true when printed (the caller then
 * prints no table). */
bool ctl_structured(struct ctl *c, json_object *data);

/* ---- meter.c ---- */
struct ctl_meter;
/* Progress to out: redrawn in place when c->tty, plain lines otherwise. */
struct ctl_meter *ctl_meter_new(const struct ctl *c, FILE *out);
/* The item id (a layer, a step; "" for none) now has status, and bytes cur of total (-1: not
 * known). */
void ctl_meter_update(struct ctl_meter *p, const char *id, const char *status, int64_t cur,
                      int64_t total);
/* A free line (build output) above the items. */
void ctl_meter_text(struct ctl_meter *p, const char *text);
void ctl_meter_free(struct ctl_meter *p);
/* "[=====>    ] 1.2MB/4.5MB" for cur of total; "" when total is not known. */
void ctl_meter_bar(int64_t cur, int64_t total, char *out, size_t n);

/* ---- template.c ---- */
/* 0 when t is a template cmsctl can render, -1 otherwise. */
int ctl_template_check(const char *t);
/* t for each item of a list, or once for anything else, a newline after each: 0 or -1. */
int ctl_template_print(const char *t, json_object *data, FILE *out);

/* A whole text file of at most max bytes, NUL-ended, malloc'd; NULL after printing why (a
 * missing file silently when quiet_missing). */
char *ctl_read_file(const char *path, size_t max, bool quiet_missing);
/* A string member, or "" (never NULL). */
const char *ctl_str(json_object *o, const char *key);
