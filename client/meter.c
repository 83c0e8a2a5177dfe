/* Progress of pull, push and build. On a terminal: one line per layer (or step), redrawn in
 * place as the engine reports, with a bar when sizes are known; free text (build output)
 * scrolls above them. Piped: a plain line each time an item's status changes (byte counts
 * alone print nothing), so logs stay readable. */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cmsctl.h"

#define MAX_ITEMS 256

struct item {
        char *id, *status;
        int64_t cur, total;
};

struct ctl_meter {
        FILE *out;
        bool tty, color;
        int width;
        struct item it[MAX_ITEMS];
        size_t n;
        size_t drawn; /* lines of the area on screen now */
};

struct ctl_meter *ctl_meter_new(const struct ctl *c, FILE *out)
{
        struct ctl_meter *p = calloc(1, sizeof(*p));
        struct winsize ws;
        if (p) { /* the stream it writes to decides: progress goes to stderr, data to stdout */
                p->out = out;
                p->tty = isatty(fileno(out));
                p->color = p->tty && !getenv("NO_COLOR");
                p->width = p->tty && ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col
                               ? ws.ws_col
                           : c->width > 0 ? c->width
                                          : 80;
        }
        return p;
}

void ctl_meter_bar(int64_t cur, int64_t total, char *out, size_t n)
{
        char a[32], b[32];
        out[0] = 0;
        if (total <= 0 || cur < 0)
                return;
        if (cur > total)
                cur = total;
        int filled = (int)((double)cur / (double)total * 30); /* no overflow at any size */
        char bar[33];
        for (int i = 0; i < 30; i++)
                bar[i] = i < filled ? '=' : i == filled ? '>' : ' ';
        bar[30] = 0;
        ctl_human_size((uint64_t)cur, a, sizeof(a));
        ctl_human_size((uint64_t)total, b, sizeof(b));
        snprintf(out, n, "[%s] %s/%s", bar, a, b);
}

static void line_of(const struct ctl_meter *p, const struct item *it)
{
        char bar[96], line[1024];
        ctl_meter_bar(it->cur, it->total, bar, sizeof(bar));
        bool done = strstr(it->status, "complete") || strstr(it->status, "Pushed") ||
                    strstr(it->status, "exists") || strstr(it->status, "Done");
        snprintf(line, sizeof(line), "%s%s%s %s", it->id, *it->id ? ": " : "", it->status, bar);
        fputs("\033[2K", p->out);
        if (p->color && done)
                fputs("\033[32m", p->out);
        /* never wrapped: a wrapped line breaks the cursor arithmetic */
        ctl_put_cut(p->out, line, p->width > 1 ? (size_t)p->width - 1 : 79);
        fputs(p->color && done ? "\033[0m\n" : "\n", p->out);
}

static void redraw(struct ctl_meter *p)
{
        if (p->drawn)
                fprintf(p->out, "\033[%zuA", p->drawn);
        for (size_t i = 0; i < p->n; i++)
                line_of(p, &p->it[i]);
        p->drawn = p->n;
        fflush(p->out);
}

void ctl_meter_update(struct ctl_meter *p, const char *id, const char *status, int64_t cur,
                      int64_t total)
{
        if (!p)
                return;
        struct item *it = NULL;
        for (size_t i = 0; i < p->n && !it; i++)
                if (!strcmp(p->it[i].id, id ? id : ""))
                        it = &p->it[i];
        bool changed = !it || strcmp(it->status, status);
        if (!it && p->n == MAX_ITEMS) { /* a pathological stream: the last line is reused */
                it = &p->it[MAX_ITEMS - 1];
        } else if (!it) {
                it = &p->it[p->n++];
                it->id = strdup(ctl_safe(id ? id : ""));
                it->status = strdup("");
        }
        if (changed) {
                free(it->status);
                it->status = strdup(ctl_safe(status));
        }
        it->cur = cur;
        it->total = total;
        if (p->tty)
                redraw(p);
        else if (changed)
                fprintf(p->out, "%s%s%s\n", ctl_safe(id ? id : ""), id && *id ? ": " : "",
                        ctl_safe(status));
}

void ctl_meter_text(struct ctl_meter *p, const char *text)
{
        if (!p)
                return;
        if (p->tty && p->drawn) { /* text goes above the area, which is drawn again below */
                fprintf(p->out, "\033[%zuA\033[J", p->drawn);
                p->drawn = 0;
        }
        fputs(text, p->out);
        if (!*text || text[strlen(text) - 1] != '\n')
                fputc('\n', p->out);
        if (p->tty && p->n)
                redraw(p);
        fflush(p->out);
}

void ctl_meter_free(struct ctl_meter *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n; i++) {
                free(p->it[i].id);
                free(p->it[i].status);
        }
        free(p);
}
