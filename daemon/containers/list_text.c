/* GET /v1/containers without JSON trees: the engine's list reply is scanned once, only the keys
 * a list item shows are decoded (everything else is stepped over without being built), and the
 * reply document is written as text, byte for byte what json-c would print for the trees that
 * cms_container_list_item(_libpod) build (PLAIN, no slash escaping). Building, printing and
 * freeing those trees was most of the list's CPU. What this scanner does not take (bad JSON,
 * nesting deeper than json-c's, duplicate keys, numbers with fractions where a number is used,
 * \u0000, lone surrogates) gives -EAGAIN, and the caller takes the tree path, so the answer is
 * always the one that path gives. */
#include "list_text.h"
#include "list_scan.h"
#include "internal.h"

#define NONE ((size_t)-1)

/* One list item's fields, as offsets of NUL-terminated strings in the item's arena. */
struct port {
        int64_t cport, hport;
        size_t proto, ip;
};
struct item {
        struct cms_buf a; /* arena */
        size_t id, name, image, state, status, created_s;
        int64_t created, started, exited, exit_code;
        struct port *ports;
        size_t n_ports, cap_ports;
        size_t *labels; /* key, value offsets */
        size_t n_labels, cap_labels;
        unsigned seen;
};

static const char *at(const struct item *it, size_t off)
{
        return off == NONE ? "" : it->a.data + off;
}

static size_t keep_string(struct cms_jp *j, struct item *it)
{
        size_t off = it->a.len;
        return cms_jp_string(j, &it->a) ? off : NONE;
}

/* A string field: its offset, NONE for any other type (stepped over), as str() reads it. */
static size_t str_field(struct cms_jp *j, struct item *it, int depth)
{
        if (cms_jp_peek(j) == '"')
                return keep_string(j, it);
        cms_jp_skip(j, depth);
        return NONE;
}

/* A number field as num() reads it: integers only here (else the tree path), other types 0. */
static int64_t num_field(struct cms_jp *j, int depth)
{
        char c = cms_jp_peek(j);
        if (c == '-' || (c >= '0' && c <= '9')) {
                int64_t v = 0;
                bool integral;
                if (cms_jp_number(j, &v, &integral) && !integral)
                        cms_jp_fail(j);
                return v;
        }
        cms_jp_skip(j, depth);
        return 0;
}

static bool label_member(struct cms_jp *j, const char *key, void *ud, int depth)
{
        struct item *it = ud;
        /* Every key is remembered, one whose value is not a string too (as NONE): json-c keeps
         * the last of duplicate keys whatever its type, so any duplicate goes to the tree path. */
        for (size_t i = 0; i < it->n_labels; i++)
                if (!strcmp(at(it, it->labels[2 * i]), key))
                        return cms_jp_fail(j);
        if (it->n_labels == it->cap_labels) {
                size_t cap = it->cap_labels ? it->cap_labels * 2 : 16;
                size_t *v = realloc(it->labels, cap * 2 * sizeof(*v));
                if (!v)
                        return cms_jp_fail(j);
                it->labels = v;
                it->cap_labels = cap;
        }
        size_t koff = it->a.len;
        cms_jp_append(&it->a, key, strlen(key) + 1);
        bool is_str = cms_jp_peek(j) == '"';
        size_t voff = is_str ? keep_string(j, it) : NONE;
        if (!is_str && !cms_jp_skip(j, depth))
                return false;
        it->labels[2 * it->n_labels] = koff;
        it->labels[2 * it->n_labels + 1] = voff;
        it->n_labels++;
        return !is_str || voff != NONE;
}

static struct port *add_port(struct item *it)
{
        if (it->n_ports == it->cap_ports) {
                size_t cap = it->cap_ports ? it->cap_ports * 2 : 8;
                struct port *v = realloc(it->ports, cap * sizeof(*v));
                if (!v)
                        return NULL;
                it->ports = v;
                it->cap_ports = cap;
        }
        struct port *p = &it->ports[it->n_ports++];
        *p = (struct port){.proto = NONE, .ip = NONE};
        return p;
}

/* The ports of one engine port entry, as read from either list. */
struct port_in {
        struct item *it;
        int64_t cport, hport, range;
        size_t proto, ip;
        bool libpod;
        unsigned seen;
};

static bool port_member(struct cms_jp *j, const char *key, void *ud, int depth)
{
        struct port_in *p = ud;
        static const char *const dk[] = {"PrivatePort", "PublicPort", "Type", "IP", NULL};
        static const char *const lk[] = {"container_port", "host_port", "protocol", "host_ip",
                                         "range"};
        const char *const *k = p->libpod ? lk : dk;
        for (int i = 0; i < (p->libpod ? 5 : 4); i++) {
                if (strcmp(key, k[i]))
                        continue;
                if (p->seen & (1u << i))
                        return cms_jp_fail(j);
                p->seen |= 1u << i;
                if (i == 0)
                        p->cport = num_field(j, depth);
                else if (i == 1)
                        p->hport = num_field(j, depth);
                else if (i == 2)
                        p->proto = str_field(j, p->it, depth);
                else if (i == 3)
                        p->ip = str_field(j, p->it, depth);
                else
                        p->range = num_field(j, depth);
                return !j->bad;
        }
        return cms_jp_skip(j, depth);
}

static bool ports(struct cms_jp *j, struct item *it, bool libpod, int depth)
{
        if (cms_jp_peek(j) != '[')
                return cms_jp_skip(j, depth);
        j->p++;
        if (cms_jp_eat(j, ']'))
                return true;
        do {
                struct port_in in = {.it = it, .proto = NONE, .ip = NONE, .libpod = libpod};
                if (cms_jp_peek(j) == '{') {
                        if (!cms_jp_members(j, depth + 1, port_member, &in))
                                return false;
                } else if (!cms_jp_skip(j, depth + 1)) {
                        return false;
                }
                /* ports past 65535 are not expanded: cport + k could overflow (as summary.c) */
                int64_t n = !libpod || in.range < 1 || in.range > 65535 || in.cport > 65535 ||
                                    in.hport > 65535
                                ? 1
                                : in.range;
                for (int64_t k = 0; k < n; k++) {
                        struct port *p = add_port(it);
                        if (!p)
                                return cms_jp_fail(j);
                        p->cport = in.cport + k;
                        p->hport = libpod ? (in.hport > 0 ? in.hport + k : 0) : in.hport;
                        p->proto = in.proto;
                        p->ip = in.ip;
                }
        } while (cms_jp_eat(j, ','));
        return cms_jp_eat(j, ']') || cms_jp_fail(j);
}

/* Names: the first element (null: ""); not an array: "" as well. */
static size_t names(struct cms_jp *j, struct item *it, int depth)
{
        if (cms_jp_peek(j) != '[')
                return cms_jp_skip(j, depth), NONE;
        j->p++;
        if (cms_jp_eat(j, ']'))
                return NONE;
        size_t off = NONE;
        char c = cms_jp_peek(j);
        if (c == '"')
                off = keep_string(j, it);
        else if (c == 'n')
                cms_jp_literal(j, "null");
        else
                cms_jp_fail(j); /* json-c would print the element's JSON: the tree path */
        while (!j->bad && cms_jp_eat(j, ','))
                cms_jp_skip(j, depth + 1);
        if (!j->bad && !cms_jp_eat(j, ']'))
                cms_jp_fail(j);
        return off;
}

enum ikey {
        K_ID,
        K_NAMES,
        K_IMAGE,
        K_STATE,
        K_STATUS,
        K_CREATED,
        K_PORTS,
        K_LABELS,
        K_STARTED,
        K_EXITED,
        K_EXIT_CODE,
        K_COUNT
};
static const char *const ikeys[K_COUNT] = {"Id",        "Names",    "Image",   "State",
                                           "Status",    "Created",  "Ports",   "Labels",
                                           "StartedAt", "ExitedAt", "ExitCode"};

struct item_ctx {
        struct item *it;
        bool libpod;
};

static bool item_member(struct cms_jp *j, const char *key, void *ud, int depth)
{
        struct item_ctx *c = ud;
        struct item *it = c->it;
        int k = 0;
        while (k < K_COUNT && strcmp(key, ikeys[k]))
                k++;
        if (k == K_COUNT || (!c->libpod && k >= K_STARTED))
                return cms_jp_skip(j, depth);
        if (it->seen & (1u << k))
                return cms_jp_fail(j); /* a duplicate key: json-c keeps the last */
        it->seen |= 1u << k;
        switch (k) {
        case K_ID:
                it->id = str_field(j, it, depth);
                break;
        case K_NAMES:
                it->name = names(j, it, depth);
                break;
        case K_IMAGE:
                it->image = str_field(j, it, depth);
                break;
        case K_STATE:
                it->state = str_field(j, it, depth);
                break;
        case K_STATUS:
                it->status = str_field(j, it, depth);
                break;
        case K_CREATED:
                if (c->libpod)
                        it->created_s = str_field(j, it, depth);
                else
                        it->created = num_field(j, depth);
                break;
        case K_PORTS:
                ports(j, it, c->libpod, depth);
                break;
        case K_LABELS:
                if (cms_jp_peek(j) == '{')
                        cms_jp_members(j, depth, label_member, it);
                else
                        cms_jp_skip(j, depth);
                break;
        case K_STARTED:
                it->started = num_field(j, depth);
                break;
        case K_EXITED:
                it->exited = num_field(j, depth);
                break;
        default:
                it->exit_code = num_field(j, depth);
                break;
        }
        return !j->bad;
}

/* ---- writing, as json-c prints (PLAIN, NOSLASHESCAPE) ---- */

static void put(struct cms_buf *b, const char *s)
{
        cms_jp_append(b, s, strlen(s));
}

static void put_str(struct cms_buf *b, const char *s)
{
        static const char hex[] = "0123456789abcdef";
        cms_jp_append(b, "\"", 1);
        const char *run = s;
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c >= 0x20 && c != '"' && c != '\\')
                        continue;
                cms_jp_append(b, run, (size_t)(s - run));
                run = s + 1;
                char e[7] = {'\\', 0};
                switch (c) {
                case '"':
                        e[1] = '"';
                        break;
                case '\\':
                        e[1] = '\\';
                        break;
                case '\b':
                        e[1] = 'b';
                        break;
                case '\f':
                        e[1] = 'f';
                        break;
                case '\n':
                        e[1] = 'n';
                        break;
                case '\r':
                        e[1] = 'r';
                        break;
                case '\t':
                        e[1] = 't';
                        break;
                default:
                        memcpy(e + 1, "u00", 3);
                        e[4] = hex[c >> 4];
                        e[5] = hex[c & 15];
                }
                put(b, e);
        }
        cms_jp_append(b, run, (size_t)(s - run));
        cms_jp_append(b, "\"", 1);
}

static void put_key(struct cms_buf *b, const char *key, bool first)
{
        if (!first)
                cms_jp_append(b, ",", 1);
        put_str(b, key);
        cms_jp_append(b, ":", 1);
}

static void put_int(struct cms_buf *b, int64_t v)
{
        char n[24];
        int len = snprintf(n, sizeof(n), "%" PRId64, v);
        cms_jp_append(b, n, (size_t)len);
}

/* The host IP as the port item holds it: null without a binding. */
static const char *port_ip(const struct item *it, const struct port *p)
{
        const char *ip = at(it, p->ip);
        return p->hport > 0 ? (*ip ? ip : "0.0.0.0") : NULL;
}

/* summary.c's port_cmp on the values as printed. */
static int port_cmp(const void *a, const void *b, void *ud)
{
        const struct item *sort_item = ud;
        const struct port *x = a, *y = b;
        if (x->cport != y->cport) /* compared, not subtracted: any int64 may come */
                return x->cport < y->cport ? -1 : 1;
        const char *px = at(sort_item, x->proto), *py = at(sort_item, y->proto);
        int c = strcmp(*px ? px : "tcp", *py ? py : "tcp");
        if (c)
                return c;
        const char *ix = port_ip(sort_item, x), *iy = port_ip(sort_item, y);
        c = strcmp(ix ? ix : "", iy ? iy : "");
        int64_t hx = x->hport > 0 ? x->hport : 0, hy = y->hport > 0 ? y->hport : 0;
        return c ? c : (hx > hy) - (hx < hy);
}

static void put_ports(struct cms_buf *b, struct item *it)
{
        if (it->n_ports > 1)
                qsort_r(it->ports, it->n_ports, sizeof(*it->ports), port_cmp, it);
        cms_jp_append(b, "[", 1);
        for (size_t i = 0; i < it->n_ports; i++) {
                const struct port *p = &it->ports[i];
                const char *proto = at(it, p->proto), *ip = port_ip(it, p);
                put(b, i ? ",{" : "{");
                put_key(b, "container_port", true);
                put_int(b, p->cport);
                put_key(b, "protocol", false);
                put_str(b, *proto ? proto : "tcp");
                put_key(b, "host_ip", false);
                if (ip)
                        put_str(b, ip);
                else
                        put(b, "null");
                put_key(b, "host_port", false);
                if (p->hport > 0)
                        put_int(b, p->hport);
                else
                        put(b, "null");
                cms_jp_append(b, "}", 1);
        }
        cms_jp_append(b, "]", 1);
}

static void put_item(struct cms_buf *b, struct item *it, bool libpod, bool viewer)
{
        char created[40], status[128];
        const char *name = at(it, it->name), *image = at(it, it->image);
        const char *st = at(it, it->status), *health;
        const char *state = cms_container_state_name(at(it, it->state));
        if (!libpod && name[0] == '/')
                name++;
        if (cms_str_has_prefix(image, "localhost/") && image[10])
                image += 10;
        if (libpod) {
                health =
                    !strcmp(st, "healthy") || !strcmp(st, "unhealthy") || !strcmp(st, "starting")
                        ? st
                        : "none";
                cms_libpod_status(status, sizeof(status), state, health, it->started, it->exited,
                                  it->exit_code);
                st = status;
        } else {
                health = cms_health_from_status(st);
        }
        int64_t t = libpod ? cms_rfc3339_unix(at(it, it->created_s)) : it->created;
        put(b, "{");
        put_key(b, "id", true);
        put_str(b, at(it, it->id));
        put_key(b, "name", false);
        put_str(b, name);
        put_key(b, "image", false);
        put_str(b, image);
        put_key(b, "state", false);
        put_str(b, state);
        put_key(b, "status", false);
        put_str(b, st);
        put_key(b, "created", false);
        if (cms_unix_rfc3339(t, created, sizeof(created)))
                put_str(b, created);
        else
                put(b, "null");
        put_key(b, "ports", false);
        put_ports(b, it);
        put_key(b, "labels", false);
        cms_jp_append(b, "{", 1);
        bool first = true;
        for (size_t i = 0; i < it->n_labels; i++) {
                if (it->labels[2 * i + 1] == NONE)
                        continue; /* not a string: the tree path's string map leaves it out */
                const char *k = at(it, it->labels[2 * i]);
                put_key(b, k, first);
                first = false;
                /* What the viewer redaction walk does to a string under the key "dotenv". */
                put_str(b, viewer && !strcmp(k, "dotenv") ? "<redacted>"
                                                          : at(it, it->labels[2 * i + 1]));
        }
        cms_jp_append(b, "}", 1);
        put_key(b, "health", false);
        put_str(b, health);
        cms_jp_append(b, "}", 1);
}

static void item_reset(struct item *it)
{
        it->a.len = 0;
        it->id = it->name = it->image = it->state = it->status = it->created_s = NONE;
        it->created = it->started = it->exited = it->exit_code = 0;
        it->n_ports = it->n_labels = 0;
        it->seen = 0;
}

int cms_container_list_text(const char *body, size_t len, bool libpod, bool viewer,
                            struct cms_buf *out)
{
        struct cms_jp j = {.p = body, .end = body + len};
        struct item it = {0};
        cms_buf_init(&it.a, 0);
        out->len = 0;
        put(out, "{\"success\":true,\"data\":[");
        if (!cms_jp_eat(&j, '['))
                cms_jp_fail(&j);
        bool first = true;
        if (!j.bad && !cms_jp_eat(&j, ']')) {
                do {
                        item_reset(&it);
                        struct item_ctx c = {.it = &it, .libpod = libpod};
                        if (!cms_jp_members(&j, 1, item_member, &c))
                                break;
                        if (!first)
                                cms_jp_append(out, ",", 1);
                        first = false;
                        put_item(out, &it, libpod, viewer);
                } while (cms_jp_eat(&j, ','));
                if (!j.bad && !cms_jp_eat(&j, ']'))
                        cms_jp_fail(&j);
        }
        cms_jp_ws(&j);
        if (j.p != j.end)
                cms_jp_fail(&j);
        put(out, "]}");
        bool oom = cms_jp_oom(out) || cms_jp_oom(&it.a);
        cms_buf_free(&it.a);
        free(it.ports);
        free(it.labels);
        if (oom)
                return -ENOMEM;
        if (j.bad || !out->data)
                return -EAGAIN;
        return 0;
}

int cms_containers_list_text(struct cms_manager *m, const struct cms_list_opts *o, bool viewer,
                             struct cms_buf *out, struct cms_error *err)
{
        /* The same engine call as cms_containers_list. */
        _cleanup_free_ char *path = NULL;
        int r = cms_containers_list_path(m, o, &path, err);
        if (r < 0)
                return r;
        struct cms_engine_req req = {.method = "GET", .path = path};
        struct cms_engine_reply reply = {0};
        r = cms_engine_call(m->engine, &req, &reply, err);
        if (r == 0)
                r = cms_container_list_text(reply.body ? reply.body : "", reply.len,
                                            cms_str_has_prefix(path, "/libpod"), viewer, out);
        cms_engine_reply_free(&reply);
        return r == -ENOMEM ? cms_err(err, 500, "out of memory") : r;
}
