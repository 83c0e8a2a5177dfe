/* Fuzzes the HTTP layer's reading of a request: the route table matcher on the method and path,
 * and request.c's typed query parameters (booleans, integers, repeatable keys, the logs query's
 * tail/since/until) and content-type checks. Input: "METHOD URL" on the first line, then header
 * lines "Name: value". The query string is split and %-decoded with libmicrohttpd's own
 * MHD_http_unescape, as libmicrohttpd does; the two lookups request.c makes on a connection are
 * answered from that table here (this harness defines them, so no socket is needed). Replies
 * (the 400s) are built as for a request in its own thread: kept, then dropped. */
#include "fuzz.h"

#include <strings.h>

#include "api/api.h"
#include "daemon/manager.h"

#define MAX_KV 64

struct kv {
        char *key, *value;
};
static struct kv query[MAX_KV], headers[MAX_KV];
static size_t n_query, n_headers;

const char *MHD_lookup_connection_value(struct MHD_Connection *c, enum MHD_ValueKind kind,
                                        const char *key)
{
        bool hdr = kind == MHD_HEADER_KIND;
        struct kv *t = hdr ? headers : query;
        size_t n = hdr ? n_headers : n_query;
        for (size_t i = 0; i < n; i++)
                if (hdr ? !strcasecmp(t[i].key, key) : !strcmp(t[i].key, key))
                        return t[i].value;
        return NULL;
}

int MHD_get_connection_values(struct MHD_Connection *c, enum MHD_ValueKind kind,
                              MHD_KeyValueIterator it, void *cls)
{
        bool hdr = kind == MHD_HEADER_KIND;
        struct kv *t = hdr ? headers : query;
        size_t n = hdr ? n_headers : n_query;
        int k = 0;
        for (size_t i = 0; i < n; i++, k++)
                if (it && it(cls, kind, t[i].key, t[i].value) != MHD_YES)
                        return k + 1;
        return k;
}

static void parse_query(char *q)
{
        for (char *save = NULL, *t = strtok_r(q, "&", &save); t && n_query < MAX_KV;
             t = strtok_r(NULL, "&", &save)) {
                char *eq = strchr(t, '=');
                if (eq)
                        *eq++ = 0;
                MHD_http_unescape(t);
                if (eq)
                        MHD_http_unescape(eq);
                query[n_query++] = (struct kv){t, eq ? eq : ""};
        }
}

static void parse_headers(char *h)
{
        for (char *save = NULL, *t = strtok_r(h, "\n", &save); t && n_headers < MAX_KV;
             t = strtok_r(NULL, "\n", &save)) {
                char *colon = strchr(t, ':');
                if (!colon)
                        continue;
                *colon++ = 0;
                while (*colon == ' ')
                        colon++;
                headers[n_headers++] = (struct kv){t, colon};
        }
}

static void drop_reply(struct cms_request *r)
{
        if (r->pending)
                MHD_destroy_response(r->pending);
        r->pending = NULL;
        r->replied = false;
}

static void read_request(struct cms_request *r)
{
        struct cms_logs_opts o;
        memset(&o, 0, sizeof(o));
        if (cms_logs_query(r, &o) < 0)
                FUZZ_CHECK(r->replied && r->pending_status == 400);
        else
                FUZZ_CHECK(o.tail >= -1 && (o.stdout_ || o.stderr_));
        drop_reply(r);
        bool b;
        if (cms_query_bool(r, "force", false, &b) < 0)
                FUZZ_CHECK(r->pending_status == 400);
        drop_reply(r);
        int64_t v;
        if (cms_query_int(r, "limit", 1, 1000, 100, &v) < 0)
                FUZZ_CHECK(r->pending_status == 400);
        else
                FUZZ_CHECK(v >= 1 && v <= 1000);
        drop_reply(r);
        const char **all = cms_query_all(r, "label");
        FUZZ_CHECK(all);
        free(all);
        cms_request_is_json(r);
        cms_request_is_yaml(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = fuzz_strndup(data, size);
        n_query = n_headers = 0;
        char *nl = strchr(s, '\n');
        if (nl)
                *nl = 0;
        char *sp = strchr(s, ' ');
        const char *method = sp ? s : "GET";
        char *url = sp ? sp + 1 : s;
        if (sp)
                *sp = 0;
        char *q = strchr(url, '?');
        if (q)
                *q++ = 0;

        const struct cms_route *route = NULL;
        char *params[CMS_MAX_PARAMS];
        size_t n = 0;
        char allow[128];
        int rc = cms_router_match(method, url, &route, params, &n, allow, sizeof(allow));
        FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -EOPNOTSUPP);
        FUZZ_CHECK(n <= CMS_MAX_PARAMS);
        if (rc == 0)
                FUZZ_CHECK(route && route->handler &&
                           (!strcmp(route->method, method) ||
                            (!strcmp(method, "HEAD") && !strcmp(route->method, "GET"))));
        else
                FUZZ_CHECK(n == 0);
        if (rc == -EOPNOTSUPP)
                FUZZ_CHECK(allow[0]);
        for (size_t i = 0; i < n; i++)
                free(params[i]);

        if (q)
                parse_query(q);
        if (nl)
                parse_headers(nl + 1);
        static struct cms_manager m;
        static char fake_conn;
        size_t nt;
        static bool counters;
        if (!counters) { /* as api_start does: the reply counters know the table */
                cms_http_counters_init(cms_router_table(&nt), nt);
                counters = true;
        }
        struct cms_request r;
        memset(&r, 0, sizeof(r));
        r.m = &m;
        r.conn = (struct MHD_Connection *)&fake_conn;
        r.route = rc == 0 ? route : &cms_router_table(&nt)[0];
        r.async = true; /* replies are kept in r.pending, never queued on the fake connection */
        snprintf(r.method, sizeof(r.method), "GET");
        read_request(&r);
        free(s);
        return 0;
}
