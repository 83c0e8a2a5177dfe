/* Reading the engine's progress stream (one JSON object per line) for pulls, pushes and builds.
 * Engines report failures inside a 200 stream ({"error": ...}); this is where they are caught,
 * so that the API can answer them as errors instead of a success that hides them. */
#include "internal.h"

#define MAX_LINE (1024 * 1024)
#define get cms_json_get

void cms_img_progress_init(struct cms_img_progress *p, cms_progress_cb cb,
                           cms_engine_stop_cb stop, void *ud)
{
        memset(p, 0, sizeof(*p));
        cms_buf_init(&p->line, MAX_LINE);
        p->cb = cb;
        p->stop = stop;
        p->ud = ud;
        p->size = -1;
}

int cms_img_progress_should_stop(void *userdata)
{
        struct cms_img_progress *p = userdata;
        return p->stopped || (p->stop && p->stop(p->ud));
}

void cms_img_progress_done(struct cms_img_progress *p)
{
        cms_buf_free(&p->line);
}

static void emit(struct cms_img_progress *p, const struct cms_progress *pr)
{
        if (p->cb && !p->stopped && p->cb(pr, p->ud) != 0)
                p->stopped = true;
}

/* Keeps the last bytes of output (whole lines are what a reader wants, bytes are what fits). */
static void tail_add(struct cms_img_progress *p, const char *s, size_t n)
{
        size_t cap = sizeof(p->tail) - 1;
        if (n >= cap) {
                memcpy(p->tail, s + n - cap, cap);
                p->tail_len = cap;
        } else {
                if (p->tail_len + n > cap) {
                        size_t drop = p->tail_len + n - cap;
                        memmove(p->tail, p->tail + drop, p->tail_len - drop);
                        p->tail_len -= drop;
                }
                memcpy(p->tail + p->tail_len, s, n);
                p->tail_len += n;
        }
        p->tail[p->tail_len] = 0;
}

/* Build output: "Step 2/5 : RUN ..." (Docker) and "STEP 2/5: RUN ..." (Podman) start a step. */
static void build_text(struct cms_img_progress *p, const char *text)
{
        for (const char *s = text; *s;) {
                const char *nl = strchr(s, '\n');
                size_t n = nl ? (size_t)(nl - s) : strlen(s);
                if (n) {
                        char line[4096];
                        snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) - 1 ? n : sizeof(line) - 1), s);
                        if (cms_str_has_prefix(line, "Step ") || cms_str_has_prefix(line, "STEP ")) {
                                snprintf(p->step, sizeof(p->step), "%.*s", (int)sizeof(p->step) - 1, line);
                                p->tail_len = 0;
                                p->tail[0] = 0;
                        } else if (!cms_str_has_prefix(line, " ---> ") &&
                                   !cms_str_has_prefix(line, "--> ") &&
                                   !cms_str_has_prefix(line, "Removing intermediate container")) {
                                /* The engine's own bookkeeping is no help in an error message. */
                                tail_add(p, line, strlen(line));
                                tail_add(p, "\n", 1);
                        }
                        struct cms_progress pr = {.status = line, .current = -1, .total = -1, .output = true};
                        emit(p, &pr);
                }
                s += n + (nl ? 1 : 0);
        }
}

static void status_line(struct cms_img_progress *p, json_object *o, const char *status)
{
        const char *d = strstr(status, "digest: ");
        if (d && !p->digest[0]) {
                d += 8;
                size_t n = strcspn(d, " ");
                snprintf(p->digest, sizeof(p->digest), "%.*s", (int)(n < 159 ? n : 159), d);
        }
        json_object *pd = get(o, "progressDetail");
        json_object *cur = get(pd, "current"), *tot = get(pd, "total");
        struct cms_progress pr = {
            .id = json_object_get_string(get(o, "id")),
            .status = status,
            .current = cur ? json_object_get_int64(cur) : -1,
            .total = tot ? json_object_get_int64(tot) : -1,
        };
        emit(p, &pr);
}

static void handle(struct cms_img_progress *p, json_object *o)
{
        const char *e = json_object_get_string(get(get(o, "errorDetail"), "message"));
        if (!e)
                e = json_object_get_string(get(o, "error"));
        if (e && *e) {
                if (!p->error[0]) {
                        snprintf(p->error, sizeof(p->error), "%s", e);
                        size_t n = strlen(p->error);
                        while (n && (p->error[n - 1] == '\n' || p->error[n - 1] == ' '))
                                p->error[--n] = 0;
                }
                return;
        }
        json_object *aux = get(o, "aux");
        if (aux) {
                const char *id = json_object_get_string(get(aux, "ID"));
                const char *dg = json_object_get_string(get(aux, "Digest"));
                if (id)
                        snprintf(p->id, sizeof(p->id), "%s", id);
                if (dg)
                        snprintf(p->digest, sizeof(p->digest), "%s", dg);
                if (get(aux, "Size"))
                        p->size = json_object_get_int64(get(aux, "Size"));
        }
        const char *stream = json_object_get_string(get(o, "stream"));
        if (stream)
                build_text(p, stream);
        const char *status = json_object_get_string(get(o, "status"));
        if (status)
                status_line(p, o, status);
}

static void line_done(struct cms_img_progress *p)
{
        if (p->line.len && !p->skipping) {
                json_tokener *tok = json_tokener_new_ex(32);
                json_object *o = tok ? json_tokener_parse_ex(tok, p->line.data, (int)p->line.len) : NULL;
                if (json_object_is_type(o, json_type_object))
                        handle(p, o);
                json_object_put(o);
                if (tok)
                        json_tokener_free(tok);
        }
        p->line.len = 0;
        p->skipping = false;
}

int cms_img_progress_feed(const char *data, size_t len, void *userdata)
{
        struct cms_img_progress *p = userdata;
        while (len) {
                const char *nl = memchr(data, '\n', len);
                size_t n = nl ? (size_t)(nl - data) : len;
                if (!p->skipping && cms_buf_append(&p->line, data, n) < 0) {
                        p->skipping = true; /* a line over 1 MiB is no progress report */
                        p->line.len = 0;
                }
                if (nl) {
                        line_done(p);
                        n++;
                }
                data += n;
                len -= n;
        }
        return p->stopped ? 1 : 0;
}

void cms_img_progress_finish(struct cms_img_progress *p)
{
        line_done(p);
}
