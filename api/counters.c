/* cmsd_http_requests_total: one lock-free counter per route and status, counted by reply.c for
 * every reply and read by the /metrics handler. The lowest file of api/: it calls nothing here. */
#include "api.h"
#include "daemon/monitor/export.h"

#define MAX_ROUTES 128

static atomic_uint_fast64_t http_counts[MAX_ROUTES + 2][500];
enum { SLOT_NONE = MAX_ROUTES, SLOT_PREFLIGHT };

/* The route table, handed down once by the server before it serves (counters.c never calls up
 * into the router). */
static const struct cms_route *table;
static size_t table_n;

void cms_http_counters_init(const struct cms_route *t, size_t n)
{
        table = t;
        table_n = n < MAX_ROUTES ? n : MAX_ROUTES;
}

void cms_http_count(const struct cms_route *route, const char *method, int status)
{
        size_t n = table_n, slot = SLOT_NONE;
        const struct cms_route *t = table;
        if (route && route >= t && route < t + n && (size_t)(route - t) < MAX_ROUTES)
                slot = (size_t)(route - t);
        else if (!route && method && !strcmp(method, "OPTIONS"))
                slot = SLOT_PREFLIGHT;
        if (status >= 100 && status < 600)
                atomic_fetch_add_explicit(&http_counts[slot][status - 100], 1,
                                          memory_order_relaxed);
}

size_t cms_http_counts(struct cms_http_count **out)
{
        size_t n = table_n, k = 0, cap = 64;
        const struct cms_route *t = table;
        struct cms_http_count *v = malloc(cap * sizeof(*v));
        for (size_t slot = 0; v && slot < MAX_ROUTES + 2; slot++) {
                if (slot < SLOT_NONE && slot >= n)
                        continue;
                const char *name = slot == SLOT_NONE        ? "none"
                                   : slot == SLOT_PREFLIGHT ? "preflight"
                                                            : t[slot].name;
                for (int code = 0; code < 500; code++) {
                        uint64_t c =
                            atomic_load_explicit(&http_counts[slot][code], memory_order_relaxed);
                        if (!c)
                                continue;
                        if (k == cap) {
                                void *p = realloc(v, (cap *= 2) * sizeof(*v));
                                if (!p)
                                        break;
                                v = p;
                        }
                        v[k++] = (struct cms_http_count){name, code + 100, c};
                }
        }
        *out = v;
        return v ? k : 0;
}
