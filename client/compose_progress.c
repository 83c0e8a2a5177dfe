/* The progress of `cmsctl compose up`, from the stream of cmsd's events: on a terminal one line
 * per container, image, network or volume, redrawn in place (the cursor moved up over the lines
 * already drawn) as each one moves on; piped, one plain line per event, as docker compose's
 * --progress plain writes them. */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "compose_opts.h"

#define MAX_ROWS 512

struct row {
        char *key, *status;
        bool done;
};

struct ctl_progress {
        bool tty, color;
        int width; /* the terminal's columns: a line is never wrapped (that breaks the redraw) */
        FILE *out;
        struct row rows[MAX_ROWS];
        size_t n, drawn; /* rows, and lines on screen from the last draw */
};

struct ctl_progress *ctl_progress_new(bool tty, bool color, FILE *out)
{
        struct ctl_progress *p = calloc(1, sizeof(*p));
        struct winsize ws;
        if (p) {
                p->tty = tty;
                p->color = color;
                p->out = out;
                p->width = tty && ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1
                               ? ws.ws_col
                               : 80;
        }
        return p;
}

void ctl_progress_free(struct ctl_progress *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n; i++) {
                free(p->rows[i].key);
                free(p->rows[i].status);
        }
        free(p);
}

/* "Container p-web-1", "Image app:1", "Network p_default", "Volume p_data", "Service db". */
static char *key_of(json_object *ev)
{
        static const char *const kinds[][2] = {{"container", "Container"},
                                               {"image", "Image"},
                                               {"network", "Network"},
                                               {"volume", "Volume"},
                                               {"service", "Service"}};
        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
                const char *v = ctl_str(ev, kinds[i][0]);
                if (*v) {
                        size_t n = strlen(kinds[i][1]) + strlen(v) + 2;
                        char *k = malloc(n);
                        if (k)
                                snprintf(k, n, "%s %s", kinds[i][1], v);
                        return k;
                }
        }
        return NULL;
}

/* "started" -> "Started". */
static char *status_of(json_object *ev)
{
        char *s = strdup(*ctl_str(ev, "status") ? ctl_str(ev, "status") : "working");
        if (s && *s >= 'a' && *s <= 'z')
                *s = (char)(*s - 'a' + 'A');
        return s;
}

static bool finished(const char *status)
{
        static const char *const done[] = {"Started", "Created", "Recreated", "Running", "Healthy",
                                           "Removed", "Pulled",  "Built",     "Ready",   "Exited"};
        for (size_t i = 0; i < sizeof(done) / sizeof(done[0]); i++)
                if (!strcmp(status, done[i]))
                        return true;
        return false;
}

char *ctl_progress_text(json_object *ev)
{
        if (strcmp(ctl_str(ev, "type"), "progress"))
                return NULL;
        char *k = key_of(ev), *s = status_of(ev), *out = NULL;
        if (k && s) {
                size_t n = strlen(k) + strlen(s) + 3;
                if ((out = malloc(n)))
                        snprintf(out, n, "%s  %s", k, s);
        }
        free(k);
        free(s);
        return out;
}

static void draw(struct ctl_progress *p)
{
        size_t w = 0;
        for (size_t i = 0; i < p->n; i++)
                if (ctl_display_width(p->rows[i].key) > w)
                        w = ctl_display_width(p->rows[i].key);
        if (p->drawn)
                fprintf(p->out, "\033[%zuA", p->drawn);
        for (size_t i = 0; i < p->n; i++) {
                const struct row *r = &p->rows[i];
                const char *mark = r->done ? "\xe2\x9c\x94" : "\xe2\xa0\xbf"; /* ✔ or ⠿ */
                const char *on = !p->color ? "" : r->done ? "\033[32m" : "\033[34m";
                char line[1024];
                snprintf(line, sizeof(line), " %s%s%s %-*s  %s%s", on, mark,
                         p->color ? "\033[0m" : "", (int)w, r->key, on, r->status);
                fputs("\033[2K", p->out);
                ctl_put_cut(p->out, line, (size_t)p->width - 1);
                fputs(p->color ? "\033[0m\n" : "\n", p->out);
        }
        p->drawn = p->n;
        fflush(p->out);
}

void ctl_progress_event(struct ctl_progress *p, json_object *ev)
{
        if (!p->tty) {
                char *t = ctl_progress_text(ev);
                if (t)
                        fprintf(p->out, "%s\n", ctl_safe(t));
                free(t);
                fflush(p->out);
                return;
        }
        if (strcmp(ctl_str(ev, "type"), "progress"))
                return;
        char *k = key_of(ev), *s = status_of(ev);
        if (k) /* the server's names and words, never its control characters */
                snprintf(k, strlen(k) + 1, "%s", ctl_safe(k));
        if (s)
                snprintf(s, strlen(s) + 1, "%s", ctl_safe(s));
        if (!k || !s) {
                free(k);
                free(s);
                return;
        }
        size_t i = 0;
        while (i < p->n && strcmp(p->rows[i].key, k))
                i++;
        if (i == p->n && p->n == MAX_ROWS) { /* a huge project: the rest as plain lines */
                fprintf(p->out, "%s  %s\n", k, s);
                free(k);
                free(s);
                return;
        }
        if (i == p->n) {
                p->rows[p->n++].key = k;
        } else {
                free(k);
                free(p->rows[i].status);
        }
        p->rows[i].status = s;
        p->rows[i].done = finished(s);
        draw(p);
}
