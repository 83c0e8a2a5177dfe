/* What a handler reads from its request: query parameters (typed, with a 400 when malformed),
 * headers, the body's content type, and the logs query that container and project logs share.
 * Calls only reply.c (for the 400s) below it. */
#include <ctype.h>
#include <strings.h>
#include <time.h>

#include "api.h"

const char *cms_query(struct cms_request *r, const char *key)
{
        return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

struct collect {
        const char *key;
        const char **vals;
        size_t n, cap;
};

static enum MHD_Result collect_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
        struct collect *c = cls;
        if (strcmp(key, c->key) || !value)
                return MHD_YES;
        if (c->n + 2 > c->cap) {
                size_t ncap = c->cap ? c->cap * 2 : 8;
                const char **p = realloc(c->vals, ncap * sizeof(*p));
                if (!p)
                        return MHD_NO;
                c->vals = p;
                c->cap = ncap;
        }
        c->vals[c->n++] = value;
        c->vals[c->n] = NULL;
        return MHD_YES;
}

const char **cms_query_all(struct cms_request *r, const char *key)
{
        struct collect c = {.key = key};
        MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect_cb, &c);
        if (!c.vals)
                c.vals = calloc(1, sizeof(*c.vals));
        return c.vals;
}

struct known {
        const char *const *keys;
        const char *bad;
};

static enum MHD_Result known_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
        struct known *k = cls;
        if (!strcmp(key, "engine")) /* every per-engine route's (auth.c read it) */
                return MHD_YES;
        for (size_t i = 0; k->keys[i]; i++)
                if (!strcmp(key, k->keys[i]))
                        return MHD_YES;
        k->bad = key;
        return MHD_NO;
}

int cms_query_known(struct cms_request *r, const char *const *keys)
{
        struct known k = {.keys = keys};
        MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, known_cb, &k);
        if (!k.bad)
                return 0;
        cms_reply_errorf(r, 400, "unknown query parameter '%.64s'", k.bad);
        return -EINVAL;
}

int cms_prune_args(struct cms_request *r)
{
        static const char *const keys[] = {"label", NULL};
        if (r->json && (!json_object_is_type(r->json, json_type_object) ||
                        json_object_object_length(r->json) > 0)) {
                cms_reply_errorf(r, 400,
                                 "this prune takes no body: filter with ?label=KEY[=VALUE]");
                return -EINVAL;
        }
        return cms_query_known(r, keys);
}

int cms_query_bool(struct cms_request *r, const char *key, bool def, bool *out)
{
        const char *v = cms_query(r, key);
        *out = def;
        if (!v)
                return 0;
        if (!*v) { /* "?force" alone means true */
                *out = true;
                return 0;
        }
        if (cms_parse_bool(v, out) < 0) {
                cms_reply_errorf(r, 400, "query parameter %s: expected 1|true|0|false, got '%s'",
                                 key, v);
                return -EINVAL;
        }
        return 0;
}

int cms_query_int(struct cms_request *r, const char *key, int64_t min, int64_t max, int64_t def,
                  int64_t *out)
{
        const char *v = cms_query(r, key);
        *out = def;
        if (!v)
                return 0;
        if (cms_parse_int(v, min, max, out) < 0) {
                cms_reply_errorf(r, 400,
                                 "query parameter %s: expected an integer in [%" PRId64 ", %" PRId64
                                 "], got '%s'",
                                 key, min, max, v);
                return -EINVAL;
        }
        return 0;
}

const char *cms_header(struct cms_request *r, const char *name)
{
        return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static bool is_type(const char *ct, const char *type)
{
        if (!ct)
                return false;
        while (*ct == ' ')
                ct++;
        size_t l = strlen(type);
        return !strncasecmp(ct, type, l) && (ct[l] == 0 || ct[l] == ';' || ct[l] == ' ');
}

bool cms_request_is_json(struct cms_request *r)
{
        return is_type(cms_header(r, MHD_HTTP_HEADER_CONTENT_TYPE), "application/json");
}

bool cms_request_is_yaml(struct cms_request *r)
{
        const char *ct = cms_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
        return (r->route->flags & ROUTE_YAML_BODY) &&
               (is_type(ct, "application/yaml") || is_type(ct, "application/x-yaml") ||
                is_type(ct, "text/yaml"));
}

/* since/until: RFC 3339 or unix seconds. */
static int parse_time(const char *s, int64_t *out)
{
        if (cms_parse_int(s, 0, INT64_MAX, out) == 0)
                return 0;
        struct tm tm = {0};
        const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!end)
                return -EINVAL;
        if (*end == '.')
                for (end++; *end >= '0' && *end <= '9'; end++)
                        ;
        int64_t off = 0;
        if (*end == '+' || *end == '-') {
                /* Exactly [+-]HH:MM: check every byte before stepping over them. */
                const char *z = end + 1;
                if (!isdigit((unsigned char)z[0]) || !isdigit((unsigned char)z[1]) || z[2] != ':' ||
                    !isdigit((unsigned char)z[3]) || !isdigit((unsigned char)z[4]))
                        return -EINVAL;
                int hh = (z[0] - '0') * 10 + (z[1] - '0'), mm = (z[3] - '0') * 10 + (z[4] - '0');
                if (hh > 23 || mm > 59)
                        return -EINVAL;
                off = (int64_t)(hh * 3600 + mm * 60) * (*end == '+' ? 1 : -1);
                end += 6;
        } else if (*end == 'Z' || *end == 'z') {
                end++;
        }
        if (*end)
                return -EINVAL;
        *out = (int64_t)timegm(&tm) - off;
        return 0;
}

int cms_logs_query(struct cms_request *r, struct cms_logs_opts *o)
{
        const char *tail = cms_query(r, "tail");
        o->tail = -1;
        if (tail && strcmp(tail, "all") && cms_parse_int(tail, 0, 1000000, &o->tail) < 0) {
                cms_reply_errorf(
                    r, 400, "query parameter tail: expected a number or 'all', got '%s'", tail);
                return -EINVAL;
        }
        const char *keys[] = {"since", "until"};
        int64_t *vals[] = {&o->since, &o->until};
        for (int i = 0; i < 2; i++) {
                const char *v = cms_query(r, keys[i]);
                if (v && parse_time(v, vals[i]) < 0) {
                        cms_reply_errorf(
                            r, 400,
                            "query parameter %s: expected RFC 3339 or unix seconds, got '%s'",
                            keys[i], v);
                        return -EINVAL;
                }
        }
        if (cms_query_bool(r, "timestamps", false, &o->timestamps) < 0 ||
            cms_query_bool(r, "stdout", true, &o->stdout_) < 0 ||
            cms_query_bool(r, "stderr", true, &o->stderr_) < 0 ||
            cms_query_bool(r, "follow", false, &o->follow) < 0)
                return -EINVAL;
        if (!o->stdout_ && !o->stderr_) {
                cms_reply_errorf(r, 400, "stdout and stderr are both false: nothing to show");
                return -EINVAL;
        }
        return 0;
}

struct cms_caller cms_request_caller(struct cms_request *r)
{
        return (struct cms_caller){.token = r->token_name, .role = r->role, .policy = r->policy};
}

void cms_reply_call_who_body(struct cms_request *r, int status, cms_call_who_body fn)
{
        struct cms_error err = {0};
        json_object *out = NULL;
        struct cms_caller who = cms_request_caller(r);
        int rc = fn(r->m, &who, r->json, &out, &err);
        cms_reply_result(r, rc, status, out, &err);
}

void cms_reply_call_who_id_body(struct cms_request *r, int status, cms_call_who_id_body fn)
{
        struct cms_error err = {0};
        json_object *out = NULL;
        struct cms_caller who = cms_request_caller(r);
        int rc = fn(r->m, &who, r->params[0], r->json, &out, &err);
        cms_reply_result(r, rc, status, out, &err);
}
