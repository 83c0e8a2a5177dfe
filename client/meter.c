/* Progress of pull, push and build. On a terminal: one line per layer (or step), redrawn in
 * place as the engine reports, with a bar when sizes are known; free text (build output)
 * scrolls above them. Piped: a plain line each time an item's status changes (byte counts
 * alone print nothing), so logs stay readable. */
#include <stdlib.h>
#include <string.h>

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
        if (p) {
                p->out = out;
                p->tty = c->tty;
                p->color = c->color;
                p->width = c->width > 0 ? c->width : 80;
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
        int filled = (int)(cur * 30 / total);
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
        char bar[96], line[512];
        ctl_meter_bar(it->cur, it->total, bar, sizeof(bar));
        const char *on = "", *off = "";
        if (p->color && (strstr(it->status, "complete") || strstr(it->status, "Pushed") ||
                         strstr(it->status, "exists") || strstr(it->status, "Done")))
                on = "\033[32m", off = "\033[0m";
        int k = snprintf(line, sizeof(line), "%s%s%s%s %s", it->id, *it->id ? ": " : "", on,
                         it->status, bar);
        /* never wrap: a wrapped line breaks the cursor arithmetic */
        if (k > p->width - 1 && p->width > 1)
                line[p->width - 1] = 0;
        fprintf(p->out, "\033[2K%s%s\n", line, *on ? off : "");
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
                it->id = strdup(id ? id : "");
                it->status = strdup("");
        }
        if (changed) {
                free(it->status);
                it->status = strdup(status);
        }
        it->cur = cur;
        it->total = total;
        if (p->tty)
                redraw(p);
        else if (changed)
                fprintf(p->out, "%s%s%s\n", id ? id : "", id && *id ? ": " : "", status);
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
