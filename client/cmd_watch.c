/* cmsctl stats (a live table from cmsd's rings, sorted by CPU like top; never the engine's
 * stats call) and events (the engine's events as they happen). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"

struct row {
        char id[13], name[128], mem[64], memp[16], net[64], blk[64], cpu[16], pids[16];
        double cpu_pct;
};

static double dnum(json_object *o, const char *k)
{
        json_object *v = NULL;
        return json_object_object_get_ex(o, k, &v) && v ? json_object_get_double(v) : 0;
}

/* A figure from the server as bytes: negative, NaN or huge ones do not become undefined casts. */
static uint64_t bytes_of(double v)
{
        return !(v > 0) ? 0 : v >= 1.8e19 ? UINT64_MAX : (uint64_t)llround(v);
}

static void rate_pair(double a, double b, char *out, size_t n)
{
        char x[16], y[16];
        ctl_human_size(bytes_of(a), x, sizeof(x));
        ctl_human_size(bytes_of(b), y, sizeof(y));
        snprintf(out, n, "%s/s / %s/s", x, y);
}

static void row_of(json_object *it, uint64_t host_mem, struct row *r)
{
        json_object *pts = NULL, *p = NULL;
        json_object_object_get_ex(it, "points", &pts);
        size_t np = json_object_is_type(pts, json_type_array) ? json_object_array_length(pts) : 0;
        p = np ? json_object_array_get_idx(pts, np - 1) : NULL;
        snprintf(r->id, sizeof(r->id), "%.12s", ctl_str(it, "id"));
        snprintf(r->name, sizeof(r->name), "%s", ctl_str(it, "name"));
        if (!p) {
                r->cpu_pct = -1;
                snprintf(r->cpu, sizeof(r->cpu), "--");
                snprintf(r->mem, sizeof(r->mem), "-- / --");
                snprintf(r->memp, sizeof(r->memp), "--");
                snprintf(r->net, sizeof(r->net), "--");
                snprintf(r->blk, sizeof(r->blk), "--");
                snprintf(r->pids, sizeof(r->pids), "--");
                return;
        }
        double mem = dnum(p, "memory_bytes"), lim = dnum(p, "memory_limit_bytes");
        char a[16], b[16];
        if (lim <= 0)
                lim = (double)host_mem;
        r->cpu_pct = dnum(p, "cpu_percent");
        snprintf(r->cpu, sizeof(r->cpu), "%.2f%%", r->cpu_pct);
        ctl_human_size(bytes_of(mem), a, sizeof(a));
        ctl_human_size(bytes_of(lim), b, sizeof(b));
        snprintf(r->mem, sizeof(r->mem), "%s / %s", a, lim > 0 ? b : "--");
        snprintf(r->memp, sizeof(r->memp), lim > 0 ? "%.2f%%" : "--", mem * 100 / lim);
        rate_pair(dnum(p, "net_rx_bytes_per_s"), dnum(p, "net_tx_bytes_per_s"), r->net,
                  sizeof(r->net));
        rate_pair(dnum(p, "blk_read_bytes_per_s"), dnum(p, "blk_write_bytes_per_s"), r->blk,
                  sizeof(r->blk));
        snprintf(r->pids, sizeof(r->pids), "%.0f", dnum(p, "pids"));
}

static int by_cpu(const void *a, const void *b)
{
        const struct row *x = a, *y = b;
        return x->cpu_pct < y->cpu_pct   ? 1
               : x->cpu_pct > y->cpu_pct ? -1
                                         : strcmp(x->name, y->name);
}

static void stats_table(struct ctl *c, json_object *list, uint64_t host_mem)
{
        static const char *const h[] = {"CONTAINER ID",      "NAME",  "CPU %",
                                        "MEM USAGE / LIMIT", "MEM %", "NET I/O (rx / tx)",
                                        "BLOCK I/O (r / w)", "PIDS"};
        size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
        struct row *rows = calloc(n ? n : 1, sizeof(*rows));
        struct ctl_table *t = ctl_table_new(h, 8);
        for (size_t i = 0; rows && i < n; i++)
                row_of(json_object_array_get_idx(list, i), host_mem, &rows[i]);
        if (rows)
                qsort(rows, n, sizeof(*rows), by_cpu);
        for (size_t i = 0; rows && i < n; i++) {
                const struct row *r = &rows[i];
                const char *cells[] = {r->id,   r->name, r->cpu, r->mem,
                                       r->memp, r->net,  r->blk, r->pids};
                ctl_table_add(t, cells);
        }
        if (c->tty)
                fputs("\033[H\033[J", stdout); /* home, clear: redrawn in place */
        ctl_table_print(t, c->width, stdout);
        fflush(stdout);
        ctl_table_free(t);
        free(rows);
}

static uint64_t host_memory(struct ctl *c)
{
        json_object *d = NULL, *h = NULL, *m = NULL;
        uint64_t mem = 0;
        if (ctl_call(c, "GET", "/v1/system/info", NULL, &d) == CTL_OK &&
            json_object_object_get_ex(d, "host", &h) && json_object_object_get_ex(h, "memory", &m))
                mem = (uint64_t)json_object_get_int64(m);
        json_object_put(d);
        return mem;
}

int cmd_stats(struct ctl *c, int argc, char **argv)
{
        bool once = false;
        char path[4096] = "/v1/metrics?points=1";
        size_t len = strlen(path);
        for (int i = 0; i < argc; i++) {
                if (!strcmp(argv[i], "--no-stream")) {
                        once = true;
                } else if (!strcmp(argv[i], "--format") && i + 1 < argc) {
                        ctl_set_format(c, argv[++i]);
                } else if (argv[i][0] != '-') {
                        char *e = ctl_escape(argv[i]);
                        len += (size_t)snprintf(path + len,
                                                len < sizeof(path) ? sizeof(path) - len : 0,
                                                "&container=%s", e ? e : "");
                        free(e);
                } else {
                        return ctl_usage("stats [--no-stream] [--format F] [CONTAINER...]");
                }
        }
        if (len >= sizeof(path))
                return ctl_usage("stats: too many containers");
        uint64_t host_mem = c->format == CTL_TABLE ? host_memory(c) : 0;
        for (;;) {
                json_object *d = NULL, *list = NULL, *iv = NULL;
                int r = ctl_call(c, "GET", path, NULL, &d);
                if (r != CTL_OK)
                        return r;
                json_object_object_get_ex(d, "containers", &list);
                /* json: the API's data; a template: one line per container; else the table */
                if (!ctl_structured(c, c->format == CTL_TEMPLATE ? list : d))
                        stats_table(c, list, host_mem);
                json_object_object_get_ex(d, "interval_ms", &iv);
                int64_t ms = iv ? json_object_get_int64(iv) : 1000;
                json_object_put(d);
                if (once)
                        return CTL_OK;
                fflush(stdout);
                ms = ms < 500 ? 500 : ms > 60000 ? 60000 : ms;
                nanosleep(&(struct timespec){.tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000},
                          NULL);
        }
}

static int event_line(json_object *o, void *ud)
{
        struct ctl *c = ud;
        if (c->format == CTL_JSON) {
                puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE));
        } else if (!ctl_structured(c, o)) {
                json_object *attrs = NULL;
                printf("%s %s %s %s", ctl_safe(ctl_str(o, "time")), ctl_safe(ctl_str(o, "type")),
                       ctl_safe(ctl_str(o, "action")), ctl_safe(ctl_str(o, "id")));
                json_object_object_get_ex(o, "attributes", &attrs);
                const char *sep = " (";
                if (json_object_is_type(attrs, json_type_object)) {
                        json_object_object_foreach(attrs, k, v)
                        {
                                printf("%s%s=%s", sep, ctl_safe(k),
                                       ctl_safe(v ? json_object_get_string(v) : ""));
                                sep = ", ";
                        }
                }
                puts(*sep == ',' ? ")" : "");
        }
        fflush(stdout);
        return 0;
}

int cmd_events(struct ctl *c, int argc, char **argv)
{
        char path[4096] = "/v1/events";
        size_t len = strlen(path);
        for (int i = 0; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL, *key = NULL;
                const char *eq = v ? strchr(v, '=') : NULL;
                char k[32];
                if (v && (!strcmp(a, "--since") || !strcmp(a, "--until"))) {
                        key = a + 2;
                } else if (v && (!strcmp(a, "--filter") || !strcmp(a, "-f")) && eq &&
                           (size_t)(eq - v) < sizeof(k)) {
                        snprintf(k, sizeof(k), "%.*s", (int)(eq - v), v);
                        if (strcmp(k, "type") && strcmp(k, "container") && strcmp(k, "event") &&
                            strcmp(k, "label"))
                                return ctl_usage(
                                    "events: filters are type, container, event, label");
                        key = k;
                        v = eq + 1;
                } else if (v && !strcmp(a, "--format")) {
                        ctl_set_format(c, argv[++i]);
                        continue;
                } else {
                        return ctl_usage(
                            "events [--since T] [--until T] [--filter K=V]... [--format F]");
                }
                char *e = ctl_escape(v);
                len += (size_t)snprintf(path + len, len < sizeof(path) ? sizeof(path) - len : 0,
                                        "%s%s=%s", strchr(path, '?') ? "&" : "?", key, e ? e : "");
                free(e);
                i++;
        }
        if (len >= sizeof(path))
                return ctl_usage("events: options too long");
        return ctl_ndjson(c, &(struct ctl_req){.path = path}, event_line, c);
}
