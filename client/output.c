/* cmsctl's output forms: aligned tables that fit the terminal (cells cut with an ellipsis, never
 * wrapped), human sizes and ages as docker prints them, and the envelope's data as JSON. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "cmsctl.h"

struct ctl_table {
        size_t ncols, nrows, cap;
        char **cells;         /* nrows * ncols, row 0 the headers */
        const char **colours; /* per cell: an SGR code ("32") or NULL */
};

/* Control characters from the server (C0 but tab, DEL, C1 as UTF-8) would reach the terminal
 * as commands (a title change, a cursor move, a fake prompt): shown as '?' instead. */
static size_t safe_copy(const char *s, char *out, size_t n)
{
        size_t k = 0;
        for (const unsigned char *p = (const unsigned char *)s; *p && k + 1 < n; p++) {
                bool c1 = p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f;
                if ((*p < 0x20 && *p != '\t') || *p == 0x7f || c1) {
                        out[k++] = '?';
                        p += c1;
                } else {
                        out[k++] = (char)*p;
                }
        }
        out[k] = 0;
        return k;
}

static char *safe_dup(const char *s)
{
        size_t n = strlen(s) + 1;
        char *d = malloc(n);
        if (d)
                safe_copy(s, d, n);
        return d;
}

const char *ctl_safe(const char *s)
{
        static char ring[8][1024];
        static unsigned next;
        char *b = ring[next++ % 8];
        safe_copy(s ? s : "", b, sizeof(ring[0]));
        return b;
}

const char *ctl_str(json_object *o, const char *key)
{
        json_object *v = NULL;
        if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
                return json_object_get_string(v);
        return "";
}

/* The next UTF-8 character of s: its length in bytes and its display width. */
static size_t next_char(const char *s, size_t *w)
{
        const unsigned char *p = (const unsigned char *)s;
        if (p[0] == 0x1b && p[1] == '[') { /* a colour (SGR) sequence takes no column */
                size_t n = 2 + strspn(s + 2, "0123456789;");
                if (p[n] == 'm') {
                        *w = 0;
                        return n + 1;
                }
        }
        size_t len = p[0] < 0x80 ? 1 : p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC0 ? 2 : 1;
        uint32_t cp = len == 1 ? p[0] : p[0] & (0x7F >> len);
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xC0) != 0x80) { /* cut short: the lead byte alone */
                        *w = 1;
                        return 1;
                }
                cp = cp << 6 | (p[i] & 0x3F);
        }
        int cw = len == 1 ? 1 : wcwidth((wchar_t)cp);
        /* East Asian wide ranges when the locale cannot say (cmsctl may run in C). */
        if (cw < 0)
                cw = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                             (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                             (cp >= 0xFF00 && cp <= 0xFF60) || (cp >= 0x1F300 && cp <= 0x1FAFF)
                         ? 2
                         : 1;
        *w = (size_t)cw;
        return len;
}

size_t ctl_display_width(const char *s)
{
        size_t total = 0, w;
        while (*s) {
                s += next_char(s, &w);
                total += w;
        }
        return total;
}

/* Writes s cut to at most w columns (an ellipsis in the last one when cut), padded to pad,
 * in colour when given one. */
static void put_cell(FILE *out, const char *s, size_t w, size_t pad, const char *colour)
{
        size_t used = 0, cw, full = ctl_display_width(s);
        if (colour)
                fprintf(out, "\033[%sm", colour);
        if (full <= w) {
                fputs(s, out);
                used = full;
        } else {
                while (*s) {
                        size_t len = next_char(s, &cw);
                        if (used + cw + 1 > w)
                                break;
                        fwrite(s, 1, len, out);
                        used += cw;
                        s += len;
                }
                fputs("\xe2\x80\xa6", out); /* … */
                used++;
        }
        if (colour)
                fputs("\033[0m", out);
        for (; used < pad; used++)
                fputc(' ', out);
}

struct ctl_table *ctl_table_new(const char *const *headers, size_t ncols)
{
        struct ctl_table *t = calloc(1, sizeof(*t));
        if (!t)
                return NULL;
        t->ncols = ncols;
        ctl_table_add(t, headers);
        return t;
}

void ctl_table_add_coloured(struct ctl_table *t, const char *const *cells,
                            const char *const *colours)
{
        if (!t)
                return;
        if (t->nrows == t->cap) {
                size_t cap = t->cap ? t->cap * 2 : 16;
                char **c = realloc(t->cells, cap * t->ncols * sizeof(*c));
                if (c)
                        t->cells = c;
                const char **k = c ? realloc(t->colours, cap * t->ncols * sizeof(*k)) : NULL;
                if (!k)
                        return;
                t->colours = k;
                t->cap = cap;
        }
        for (size_t i = 0; i < t->ncols; i++) {
                t->cells[t->nrows * t->ncols + i] = safe_dup(cells[i] ? cells[i] : "");
                t->colours[t->nrows * t->ncols + i] = colours ? colours[i] : NULL;
        }
        t->nrows++;
}

void ctl_table_add(struct ctl_table *t, const char *const *cells)
{
        ctl_table_add_coloured(t, cells, NULL);
}

void ctl_table_print(struct ctl_table *t, int width, FILE *out)
{
        if (!t || !t->ncols)
                return;
        size_t *w = calloc(t->ncols, sizeof(*w)), total = 0;
        if (!w)
                return;
        for (size_t r = 0; r < t->nrows; r++)
                for (size_t i = 0; i < t->ncols; i++) {
                        size_t cw = ctl_display_width(t->cells[r * t->ncols + i]);
                        w[i] = cw > w[i] ? cw : w[i];
                }
        for (size_t i = 0; i < t->ncols; i++)
                total += w[i] + (i ? 2 : 0);
        /* Too wide for the terminal: shrink the widest column, one at a time, headers too,
         * down to 4 columns (three characters and the ellipsis). */
        while (width > 0 && total > (size_t)width) {
                size_t wi = 0;
                for (size_t i = 1; i < t->ncols; i++)
                        if (w[i] > w[wi])
                                wi = i;
                if (w[wi] <= 4)
                        break;
                size_t second = 4; /* the next widest: shrink no further than it at once */
                for (size_t i = 0; i < t->ncols; i++)
                        if (i != wi && w[i] > second)
                                second = w[i];
                size_t cut = total - (size_t)width, room = w[wi] - (second < w[wi] ? second : 4);
                room = room ? room : 1;
                cut = cut < room ? cut : room;
                w[wi] -= cut;
                total -= cut;
        }
        for (size_t r = 0; r < t->nrows; r++) {
                for (size_t i = 0; i < t->ncols; i++) {
                        bool last = i + 1 == t->ncols;
                        put_cell(out, t->cells[r * t->ncols + i], w[i], last ? 0 : w[i],
                                 t->colours[r * t->ncols + i]);
                        fputs(last ? "\n" : "  ", out);
                }
        }
        free(w);
}

void ctl_table_free(struct ctl_table *t)
{
        if (!t)
                return;
        for (size_t i = 0; i < t->nrows * t->ncols; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t->colours);
        free(t);
}

void ctl_human_size(uint64_t b, char *out, size_t n)
{
        static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
        double v = (double)b;
        int u = 0;
        while (v >= 1000 && u < 5) {
                v /= 1000;
                u++;
        }
        if (u > 0 && u < 5 && v >= 999.5) { /* 999.7kB shows as 1MB, never as "1e+03kB" */
                v /= 1000;
                u++;
        }
        if (u == 0)
                snprintf(out, n, "%lluB", (unsigned long long)b);
        else
                snprintf(out, n, "%.3g%s", v, units[u]);
}

void ctl_human_age(const char *t, int64_t now, char *out, size_t n)
{
        struct tm tm = {0};
        if (!t || !*t || !strptime(t, "%Y-%m-%dT%H:%M:%S", &tm)) {
                snprintf(out, n, "-");
                return;
        }
        int64_t d = now - (int64_t)timegm(&tm);
        if (d < 1)
                snprintf(out, n, "Less than a second ago");
        else if (d < 60)
                snprintf(out, n, "%lld second%s ago", (long long)d, d == 1 ? "" : "s");
        else if (d < 120)
                snprintf(out, n, "About a minute ago");
        else if (d < 3600)
                snprintf(out, n, "%lld minutes ago", (long long)(d / 60));
        else if (d < 7200)
                snprintf(out, n, "About an hour ago");
        else if (d < 86400)
                snprintf(out, n, "%lld hours ago", (long long)(d / 3600));
        else if (d < 86400 * 14)
                snprintf(out, n, "%lld days ago", (long long)(d / 86400));
        else if (d < 86400 * 60)
                snprintf(out, n, "%lld weeks ago", (long long)(d / (86400 * 7)));
        else if (d < 86400 * 365 * 2)
                snprintf(out, n, "%lld months ago", (long long)(d / (86400 * 30)));
        else
                snprintf(out, n, "%lld years ago", (long long)(d / (86400 * 365)));
}

void ctl_print_json(json_object *data)
{
        const char *s =
            json_object_to_json_string_ext(data, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                     JSON_C_TO_STRING_NOSLASHESCAPE);
        puts(s ? s : "null");
}

void ctl_set_format(struct ctl *c, const char *v)
{
        if (!strcmp(v, "json") || !strcmp(v, "table")) {
                c->format = !strcmp(v, "json") ? CTL_JSON : CTL_TABLE;
                return;
        }
        if (ctl_template_check(v) < 0) {
                fprintf(stderr,
                        "cmsctl: --format: not table, json or a template cmsctl knows: "
                        "%s\n(fields as {{.name}} or {{.host.memory}}, {{json .labels}})\n",
                        v);
                exit(CTL_USAGE);
        }
        c->format = CTL_TEMPLATE;
        c->tmpl = v;
}

bool ctl_structured(struct ctl *c, json_object *data)
{
        if (c->format == CTL_JSON)
                ctl_print_json(data);
        else if (c->format == CTL_TEMPLATE)
                ctl_template_print(c->tmpl, data, stdout);
        return c->format == CTL_JSON || c->format == CTL_TEMPLATE;
}

char *ctl_read_file(const char *path, size_t max, bool quiet_missing)
{
        FILE *f = fopen(path, "re");
        if (!f) {
                if (!(quiet_missing && errno == ENOENT))
                        fprintf(stderr, "cmsctl: %s: %s\n", path, strerror(errno));
                return NULL;
        }
        char *b = malloc(max + 1);
        size_t n = b ? fread(b, 1, max + 1, f) : 0;
        bool err = ferror(f);
        fclose(f);
        const char *why = !b                ? "out of memory"
                          : err             ? "read error"
                          : n > max         ? "file too large"
                          : memchr(b, 0, n) ? "not a text file"
                                            : NULL;
        if (why) {
                fprintf(stderr, "cmsctl: %s: %s\n", path, why);
                free(b);
                return NULL;
        }
        b[n] = 0;
        return b;
}

void ctl_put_cut(FILE *out, const char *s, size_t w)
{
        put_cell(out, s, w, 0, NULL);
}
