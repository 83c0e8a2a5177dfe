/* The merge of several compose files (docker compose -f a.yaml -f b.yaml), on the YAML trees
 * before any of them is read into the model, as the compose specification's "Merge and
 * override" section and compose-go say: a later file adds missing keys, replaces scalars,
 * merges mappings and appends to sequences, except where a key has a rule of its own (below).
 * The `extends` and `include` of a later issue need the same merge, so it lives here, pure.
 *
 * Input nodes are shared (aliases share them inside a file), so nothing of them is changed:
 * a merged mapping or sequence is a new node holding references to the unchanged parts. Every
 * lookup and de-duplication sorts first, so a hostile pair of files with 50,000 keys each costs
 * n log n, not n^2; the result is held to the parser's node and depth caps. */
#include "internal.h"

enum rule {
        R_DEFAULT,
        R_OVERRIDE, /* the later value replaces: command, entrypoint, healthcheck.test */
        R_TOSEQ,    /* KEY=VALUE lists or mappings: both as "K=V" lists, appended */
        R_TOMAP,    /* lists of names or mappings (networks): both as mappings */
        R_DEPENDS,  /* depends_on: a list is {name: {condition: service_started, required}} */
        R_BUILD,    /* build: a string is {context: s} */
        R_LOGGING,  /* options merge only when the driver stays the same */
};

enum index {
        I_NONE,
        I_STR,    /* the entry itself */
        I_KV,     /* the part before '=' */
        I_VOLUME, /* the target of "src:dst[:mode]" or of {target} */
        I_PORT,   /* {ip, published, target, protocol} */
        I_SECRET, /* target, else /run/secrets/<source> */
        I_CONFIG, /* target, else /<source> */
        I_PATH,   /* env_file: the string or {path} */
        I_TMPFS,  /* the path before ':' */
        I_SUBNET, /* ipam.config: {subnet} */
};

static const struct {
        const char *pattern;
        enum rule rule;
        enum index index;
} specials[] = {
    {"services.*.command", R_OVERRIDE, I_NONE},
    {"services.*.entrypoint", R_OVERRIDE, I_NONE},
    {"services.*.healthcheck.test", R_OVERRIDE, I_NONE},
    {"services.*.ulimits.*", R_OVERRIDE, I_NONE},
    {"services.*.build", R_BUILD, I_NONE},
    {"services.*.logging", R_LOGGING, I_NONE},
    {"services.*.depends_on", R_DEPENDS, I_NONE},
    {"services.*.networks", R_TOMAP, I_NONE},
    {"services.*.environment", R_TOSEQ, I_KV},
    {"services.*.labels", R_TOSEQ, I_KV},
    {"services.*.annotations", R_TOSEQ, I_KV},
    {"services.*.sysctls", R_TOSEQ, I_KV},
    {"services.*.tmpfs", R_TOSEQ, I_TMPFS},
    {"services.*.env_file", R_TOSEQ, I_PATH},
    {"services.*.dns", R_TOSEQ, I_STR},
    {"services.*.dns_opt", R_TOSEQ, I_STR},
    {"services.*.dns_search", R_TOSEQ, I_STR},
    {"services.*.extra_hosts", R_TOSEQ, I_STR},
    {"services.*.build.args", R_TOSEQ, I_KV},
    {"services.*.build.labels", R_TOSEQ, I_KV},
    {"services.*.build.extra_hosts", R_TOSEQ, I_STR},
    {"services.*.deploy.labels", R_TOSEQ, I_KV},
    {"networks.*.labels", R_TOSEQ, I_KV},
    {"volumes.*.labels", R_TOSEQ, I_KV},
    {"services.*.ports", R_DEFAULT, I_PORT},
    {"services.*.volumes", R_DEFAULT, I_VOLUME},
    {"services.*.devices", R_DEFAULT, I_VOLUME},
    {"services.*.expose", R_DEFAULT, I_STR},
    {"services.*.secrets", R_DEFAULT, I_SECRET},
    {"services.*.configs", R_DEFAULT, I_CONFIG},
    {"services.*.cap_add", R_DEFAULT, I_STR},
    {"services.*.cap_drop", R_DEFAULT, I_STR},
    {"services.*.links", R_DEFAULT, I_STR},
    {"services.*.profiles", R_DEFAULT, I_STR},
    {"services.*.build.tags", R_DEFAULT, I_STR},
    {"services.*.build.platforms", R_DEFAULT, I_STR},
    {"services.*.networks.*.aliases", R_DEFAULT, I_STR},
    {"networks.*.ipam.config", R_DEFAULT, I_SUBNET},
};

struct mctx {
        struct cms_error *err;
        const char *path[CMS_COMPOSE_MAX_DEPTH + 2];
        int depth;
};

/* ---- nodes ---- */

static struct cms_ynode *ref(struct cms_ynode *n)
{
        n->refs++;
        return n;
}

static struct cms_ynode *mk(enum cms_ykind kind, const struct cms_ynode *like)
{
        struct cms_ynode *n = calloc(1, sizeof(*n));
        if (!n)
                return NULL;
        n->kind = kind;
        n->line = like ? like->line : 0;
        n->file = like ? like->file : 0;
        n->refs = 1;
        n->size = 1;
        n->height = kind == CMS_Y_SCALAR ? 0 : 1;
        n->interpolated = true; /* made from values interpolated already */
        return n;
}

static struct cms_ynode *mk_scalar(const char *v, const struct cms_ynode *like)
{
        struct cms_ynode *n = mk(CMS_Y_SCALAR, like);
        if (n && !(n->value = strdup(v))) {
                free(n);
                return NULL;
        }
        return n;
}

/* Appends kid (a reference handed over, NULL for OOM) to p; -ENOMEM drops it. */
static int add(struct cms_ynode *p, struct cms_ynode *kid)
{
        if (!kid)
                return -ENOMEM;
        if (p->n == p->cap) {
                size_t ncap = p->cap ? 2 * p->cap : 8;
                struct cms_ynode **k = realloc(p->kids, ncap * sizeof(*k));
                if (!k) {
                        cms_ynode_unref(kid);
                        return -ENOMEM;
                }
                p->kids = k;
                p->cap = ncap;
        }
        p->kids[p->n++] = kid;
        p->size += kid->size;
        p->has_reset |= kid->has_reset;
        if (kid->height + 1 > p->height)
                p->height = kid->height + 1;
        return 0;
}

static bool is_null(const struct cms_ynode *n)
{
        return !n || (n->kind == CMS_Y_SCALAR && n->null);
}

/* ---- paths and messages ---- */

static bool path_is(const struct mctx *m, const char *pattern)
{
        const char *p = pattern;
        for (int i = 0; i < m->depth; i++) {
                size_t l = strcspn(p, ".");
                if (!l || (!(l == 1 && *p == '*') &&
                           (strlen(m->path[i]) != l || strncmp(m->path[i], p, l))))
                        return false;
                p += l;
                if (*p == '.')
                        p++;
                else if (i + 1 < m->depth)
                        return false;
        }
        return !*p;
}

static int special(const struct mctx *m)
{
        for (size_t i = 0; i < ELEMENTSOF(specials); i++)
                if (path_is(m, specials[i].pattern))
                        return (int)i;
        return -1;
}

static int fail(struct mctx *m, const struct cms_ynode *n, const char *what)
{
        char path[300] = "", at[48];
        size_t len = 0;
        for (int i = 0; i < m->depth && len < sizeof(path); i++)
                len += (size_t)snprintf(path + len, sizeof(path) - len, "%s%.64s", i ? "." : "",
                                        m->path[i]);
        cms_cp_at(n, at, sizeof(at));
        return cms_err(m->err, 400, "invalid compose files: cannot merge %s: %s%s",
                       *path ? path : "the top level", what, at);
}

static int oom(struct mctx *m)
{
        return cms_err(m->err, 500, "out of memory");
}

/* ---- !reset: a copy without the reset entries (the node itself when it has none) ---- */

static struct cms_ynode *strip(struct cms_ynode *n)
{
        if (!n->has_reset || n->kind == CMS_Y_SCALAR)
                return ref(n);
        struct cms_ynode *c = mk(n->kind, n);
        if (!c)
                return NULL;
        c->interpolated = n->interpolated;
        size_t step = n->kind == CMS_Y_MAP ? 2 : 1;
        for (size_t i = 0; i + step - 1 < n->n; i += step) {
                struct cms_ynode *v = n->kids[i + step - 1];
                if (v->reset)
                        continue;
                if ((step == 2 && add(c, ref(n->kids[i])) < 0) || add(c, strip(v)) < 0) {
                        cms_ynode_unref(c);
                        return NULL;
                }
        }
        return c;
}

/* ---- unique keys of sequence entries ---- */

/* The last ':'-separated field before an optional "/proto", or the only one. */
static char *volume_target(const char *s)
{
        const char *c1 = strchr(s, ':');
        if (!c1)
                return strdup(s);
        const char *c2 = strchr(c1 + 1, ':');
        return c2 ? strndup(c1 + 1, (size_t)(c2 - c1 - 1)) : strdup(c1 + 1);
}

/* "[ip:][published:]target[/protocol]" as "ip|published|target|protocol"; "[::1]:80:80" too. */
static char *port_key_str(const char *s)
{
        char buf[300], *rest = buf, *target, *pub = NULL;
        const char *ip = "";
        snprintf(buf, sizeof(buf), "%s", s);
        char *proto = strchr(buf, '/');
        if (proto)
                *proto++ = 0;
        if (buf[0] == '[' && strchr(buf, ']')) {
                rest = strchr(buf, ']');
                *rest++ = 0;
                ip = buf + 1;
                rest += *rest == ':';
        }
        if ((target = strrchr(rest, ':'))) {
                *target++ = 0;
                pub = rest;
                char *c = strrchr(pub, ':');
                if (c) {
                        *c = 0;
                        ip = pub;
                        pub = c + 1;
                }
        } else {
                target = rest;
        }
        return cms_strdup_printf("%s|%s|%s|%s", ip, pub ? pub : "", target,
                                 proto && *proto ? proto : "tcp");
}

static const char *sval(const struct cms_ynode *map, const char *key, const char *dflt)
{
        const struct cms_ynode *v = cms_ymap_get(map, key);
        return v && v->kind == CMS_Y_SCALAR && !v->null ? v->value : dflt;
}

/* The entry's unique key (malloc'd), or NULL when it has none (then it is simply kept). */
static char *entry_key(enum index ix, const struct cms_ynode *e)
{
        const char *s = e->kind == CMS_Y_SCALAR ? e->value : NULL;
        bool map = e->kind == CMS_Y_MAP;
        switch (ix) {
        case I_STR:
                return s ? strdup(s) : NULL;
        case I_KV:
                return s ? strndup(s, strcspn(s, "=")) : NULL;
        case I_TMPFS:
                return s ? strndup(s, strcspn(s, ":")) : NULL;
        case I_VOLUME:
                return s                                ? volume_target(s)
                       : map && sval(e, "target", NULL) ? strdup(sval(e, "target", NULL))
                                                        : NULL;
        case I_PORT:
                if (s)
                        return port_key_str(s);
                return map ? cms_strdup_printf("%s|%s|%s|%s", sval(e, "host_ip", ""),
                                               sval(e, "published", ""), sval(e, "target", ""),
                                               sval(e, "protocol", "tcp"))
                           : NULL;
        case I_SECRET:
        case I_CONFIG:
                if (map && sval(e, "target", NULL))
                        return strdup(sval(e, "target", NULL));
                s = s ? s : map ? sval(e, "source", NULL) : NULL;
                return s ? cms_strdup_printf("%s/%s", ix == I_SECRET ? "/run/secrets" : "", s)
                         : NULL;
        case I_PATH:
                s = s ? s : map ? sval(e, "path", NULL) : NULL;
                return s ? strdup(s) : NULL;
        case I_SUBNET:
                return map && sval(e, "subnet", NULL) ? strdup(sval(e, "subnet", NULL)) : NULL;
        default:
                return NULL;
        }
}

struct keyed {
        char *key;
        size_t pos;
};

static int keyed_cmp(const void *a, const void *b)
{
        const struct keyed *x = a, *y = b;
        int c = strcmp(x->key, y->key);
        return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/* Entries sharing a key: the later one takes the place of the first (compose-go's unicity).
 * Consumes seq; the result is a new node (or seq itself when nothing repeats). */
static int unique(struct mctx *m, enum index ix, struct cms_ynode **seq)
{
        struct cms_ynode *s = *seq;
        if (ix == I_NONE || s->n < 2)
                return 0;
        struct keyed *k = calloc(s->n, sizeof(*k));
        size_t *winner = calloc(s->n, sizeof(*winner));
        bool *drop = calloc(s->n, sizeof(*drop)), dup = false;
        int r = k && winner && drop ? 0 : -ENOMEM;
        size_t nk = 0;
        for (size_t i = 0; r == 0 && i < s->n; i++) {
                winner[i] = i;
                char *key = entry_key(ix, s->kids[i]);
                if (key)
                        k[nk++] = (struct keyed){key, i};
        }
        if (r == 0)
                qsort(k, nk, sizeof(*k), keyed_cmp);
        for (size_t a = 0; r == 0 && a < nk;) {
                size_t b = a;
                while (b + 1 < nk && !strcmp(k[b + 1].key, k[a].key))
                        drop[k[++b].pos] = dup = true;
                winner[k[a].pos] = k[b].pos;
                a = b + 1;
        }
        struct cms_ynode *out = r == 0 && dup ? mk(CMS_Y_SEQ, s) : NULL;
        if (r == 0 && dup && !out)
                r = -ENOMEM;
        for (size_t i = 0; out && r == 0 && i < s->n; i++)
                if (!drop[i])
                        r = add(out, ref(s->kids[winner[i]]));
        for (size_t i = 0; k && i < nk; i++)
                free(k[i].key);
        free(k);
        free(winner);
        free(drop);
        if (r < 0) {
                cms_ynode_unref(out);
                return oom(m);
        }
        if (out) {
                cms_ynode_unref(s);
                *seq = out;
        }
        return 0;
}

/* ---- conversions between the two spellings of a value ---- */

static int value_cmp(const void *a, const void *b)
{
        return strcmp((*(struct cms_ynode *const *)a)->value,
                      (*(struct cms_ynode *const *)b)->value);
}

/* A mapping {K: V} as "K=V" (sorted, K alone for null, one per item of a list value), a list as
 * it is, a scalar as a list of one. */
static int to_seq(struct mctx *m, struct cms_ynode *n, struct cms_ynode *out)
{
        if (is_null(n))
                return 0;
        if (n->kind == CMS_Y_SEQ || n->kind == CMS_Y_SCALAR) {
                for (size_t i = 0; n->kind == CMS_Y_SEQ && i < n->n; i++)
                        if (add(out, ref(n->kids[i])) < 0)
                                return oom(m);
                return n->kind == CMS_Y_SCALAR && add(out, ref(n)) < 0 ? oom(m) : 0;
        }
        struct cms_ynode *tmp = mk(CMS_Y_SEQ, n);
        int r = tmp ? 0 : -ENOMEM;
        for (size_t i = 0; r == 0 && i + 1 < n->n; i += 2) {
                const struct cms_ynode *k = n->kids[i], *v = n->kids[i + 1];
                if (is_null(v)) {
                        r = add(tmp, mk_scalar(k->value, v));
                        continue;
                }
                for (size_t j = 0; r == 0 && j < (v->kind == CMS_Y_SEQ ? v->n : 1); j++) {
                        const struct cms_ynode *x = v->kind == CMS_Y_SEQ ? v->kids[j] : v;
                        if (x->kind != CMS_Y_SCALAR) {
                                cms_ynode_unref(tmp);
                                return fail(m, x, "a KEY=VALUE entry's value is not a string");
                        }
                        char *kv = cms_strdup_printf("%s=%s", k->value, x->null ? "" : x->value);
                        r = add(tmp, kv ? mk_scalar(kv, x) : NULL);
                        free(kv);
                }
        }
        if (r == 0) /* sorted, as compose-go writes a mapping out */
                qsort(tmp->kids, tmp->n, sizeof(*tmp->kids), value_cmp);
        for (size_t i = 0; r == 0 && i < tmp->n; i++)
                r = add(out, ref(tmp->kids[i]));
        cms_ynode_unref(tmp);
        return r < 0 ? oom(m) : 0;
}

/* A list of names as a mapping (dep: each name to {condition: service_started, required:
 * true}, else to null); a mapping as it is. A new reference in *out. */
static int to_map(struct mctx *m, struct cms_ynode *n, bool dep, struct cms_ynode **out)
{
        if (n->kind == CMS_Y_MAP) {
                *out = ref(n);
                return 0;
        }
        if (n->kind == CMS_Y_SCALAR && !n->null)
                return fail(m, n, "expected a list or a mapping, got a string");
        struct cms_ynode *map = mk(CMS_Y_MAP, n);
        int r = map ? 0 : -ENOMEM;
        for (size_t i = 0; r == 0 && n->kind == CMS_Y_SEQ && i < n->n; i++) {
                struct cms_ynode *e = n->kids[i], *v = NULL;
                if (e->kind != CMS_Y_SCALAR || e->null) {
                        cms_ynode_unref(map);
                        return fail(m, e, "a list entry is not a name");
                }
                if (dep) {
                        v = mk(CMS_Y_MAP, e);
                        r = v ? 0 : -ENOMEM;
                        r = r ?: add(v, mk_scalar("condition", e));
                        r = r ?: add(v, mk_scalar("service_started", e));
                        r = r ?: add(v, mk_scalar("required", e));
                        r = r ?: add(v, mk_scalar("true", e));
                } else {
                        v = mk_scalar("", e);
                        if (v)
                                v->null = true;
                }
                r = r ?: add(map, ref(e));
                if (r == 0)
                        r = add(map, v);
                else
                        cms_ynode_unref(v);
        }
        if (r < 0) {
                cms_ynode_unref(map);
                return oom(m);
        }
        *out = map;
        return 0;
}

/* ---- the merge ---- */

static int merge(struct mctx *m, struct cms_ynode *b, struct cms_ynode *o, struct cms_ynode **out);

struct slot {
        const char *key;
        size_t i;
};

static int slot_cmp(const void *a, const void *b)
{
        return strcmp(((const struct slot *)a)->key, ((const struct slot *)b)->key);
}

static int merge_maps(struct mctx *m, struct cms_ynode *b, struct cms_ynode *o,
                      struct cms_ynode **out)
{
        size_t no = o->n / 2;
        struct slot *idx = calloc(no + 1, sizeof(*idx));
        bool *used = calloc(no + 1, sizeof(*used));
        struct cms_ynode *res = mk(CMS_Y_MAP, b);
        int r = idx && used && res ? 0 : oom(m);
        for (size_t i = 0; r == 0 && i < no; i++)
                idx[i] = (struct slot){o->kids[2 * i]->value, 2 * i};
        if (r == 0)
                qsort(idx, no, sizeof(*idx), slot_cmp);
        for (size_t i = 0; r == 0 && i + 1 < b->n; i += 2) {
                struct slot want = {b->kids[i]->value, 0};
                struct slot *hit = no ? bsearch(&want, idx, no, sizeof(*idx), slot_cmp) : NULL;
                struct cms_ynode *v = NULL;
                if (hit) {
                        used[hit - idx] = true;
                        if (o->kids[hit->i + 1]->reset)
                                continue;
                        if (m->depth >= CMS_COMPOSE_MAX_DEPTH) {
                                r = fail(m, o, "nested too deeply");
                                break;
                        }
                        m->path[m->depth++] = want.key;
                        r = merge(m, b->kids[i + 1], o->kids[hit->i + 1], &v);
                        m->depth--;
                } else {
                        v = ref(b->kids[i + 1]);
                }
                if (r == 0 && (add(res, ref(b->kids[i])) < 0 || add(res, v) < 0))
                        r = oom(m);
        }
        for (size_t k = 0; r == 0 && k < no; k++) {
                struct cms_ynode *v = o->kids[idx[k].i + 1];
                if (used[k] || v->reset)
                        continue;
                if (add(res, ref(o->kids[idx[k].i])) < 0 || add(res, strip(v)) < 0)
                        r = oom(m);
        }
        free(idx);
        free(used);
        if (r < 0) {
                cms_ynode_unref(res);
                return r;
        }
        *out = res;
        return 0;
}

static int merge_seqs(struct mctx *m, struct cms_ynode *b, struct cms_ynode *o, enum index ix,
                      bool convert, struct cms_ynode **out)
{
        struct cms_ynode *res = mk(CMS_Y_SEQ, is_null(b) ? o : b);
        if (!res)
                return oom(m);
        int r = 0;
        if (convert) {
                r = to_seq(m, b, res);
                r = r ?: to_seq(m, o, res);
        } else {
                for (size_t i = 0; r == 0 && i < b->n; i++)
                        r = add(res, ref(b->kids[i]));
                for (size_t i = 0; r == 0 && i < o->n; i++)
                        if (!o->kids[i]->reset)
                                r = add(res, strip(o->kids[i]));
                r = r < 0 ? oom(m) : 0;
        }
        r = r ?: unique(m, ix, &res);
        if (r < 0) {
                cms_ynode_unref(res);
                return r;
        }
        *out = res;
        return 0;
}

/* Both sides through to_map (or build's {context}), then merged as mappings. */
static int merge_as_maps(struct mctx *m, struct cms_ynode *b, struct cms_ynode *o, enum rule rule,
                         struct cms_ynode **out)
{
        struct cms_ynode *bm = NULL, *om = NULL;
        int r = 0;
        for (int side = 0; r == 0 && side < 2; side++) {
                struct cms_ynode *n = side ? o : b, **dst = side ? &om : &bm;
                if (rule == R_BUILD && n->kind == CMS_Y_SCALAR) {
                        struct cms_ynode *map = mk(CMS_Y_MAP, n);
                        r = map ? add(map, mk_scalar("context", n)) : -ENOMEM;
                        r = r ?: add(map, ref(n));
                        *dst = map;
                        r = r < 0 ? oom(m) : 0;
                } else {
                        r = to_map(m, n, rule == R_DEPENDS, dst);
                }
        }
        r = r ?: merge_maps(m, bm, om, out);
        cms_ynode_unref(bm);
        cms_ynode_unref(om);
        return r;
}

static const char *kind_name(const struct cms_ynode *n)
{
        return n->kind == CMS_Y_SEQ ? "a list" : n->kind == CMS_Y_MAP ? "a mapping" : "a string";
}

static int merge(struct mctx *m, struct cms_ynode *b, struct cms_ynode *o, struct cms_ynode **out)
{
        int sp = special(m);
        enum rule rule = sp < 0 ? R_DEFAULT : specials[sp].rule;
        enum index ix = sp < 0 ? I_NONE : specials[sp].index;
        if (o->override || rule == R_OVERRIDE || is_null(b)) {
                *out = strip(o);
                return *out ? 0 : oom(m);
        }
        if (is_null(o)) { /* an empty value in a later file keeps the earlier one */
                *out = ref(b);
                return 0;
        }
        if (rule == R_TOSEQ)
                return merge_seqs(m, b, o, ix, true, out);
        if (rule == R_TOMAP || rule == R_DEPENDS || rule == R_BUILD)
                return merge_as_maps(m, b, o, rule, out);
        if (rule == R_LOGGING && b->kind == CMS_Y_MAP && o->kind == CMS_Y_MAP &&
            strcmp(sval(b, "driver", ""), sval(o, "driver", "")) && *sval(b, "driver", "") &&
            *sval(o, "driver", "")) {
                *out = strip(o);
                return *out ? 0 : oom(m);
        }
        if (b->kind == CMS_Y_SCALAR) {
                *out = strip(o);
                return *out ? 0 : oom(m);
        }
        if (b->kind != o->kind) {
                char what[96];
                snprintf(what, sizeof(what), "%s in an earlier file, %s in a later one",
                         kind_name(b), kind_name(o));
                return fail(m, o, what);
        }
        return b->kind == CMS_Y_MAP ? merge_maps(m, b, o, out)
                                    : merge_seqs(m, b, o, ix, false, out);
}

int cms_ytree_merge(struct cms_ynode *base, struct cms_ynode *over, struct cms_ynode **out,
                    struct cms_error *err)
{
        struct mctx m = {.err = err};
        *out = NULL;
        if (!over || over->kind != CMS_Y_MAP)
                return cms_err(err, 400, "invalid compose file: the document must be a mapping");
        int r = 0;
        if (!base) {
                if (!(*out = strip(over)))
                        r = oom(&m);
        } else {
                r = merge(&m, base, over, out);
        }
        if (r == 0 &&
            ((*out)->size > CMS_COMPOSE_MAX_NODES || (*out)->height > CMS_COMPOSE_MAX_DEPTH)) {
                cms_ynode_unref(*out);
                *out = NULL;
                r = cms_err(err, 400,
                            "invalid compose files: merged, they are larger than %d nodes or "
                            "deeper than %d levels",
                            CMS_COMPOSE_MAX_NODES, CMS_COMPOSE_MAX_DEPTH);
        }
        return r;
}

int cms_ytree_merge_service(struct cms_ynode *base, struct cms_ynode *over, const char *name,
                            struct cms_ynode **out, struct cms_error *err)
{
        struct mctx m = {.err = err, .path = {"services", name}, .depth = 2};
        *out = NULL;
        if (base->kind != CMS_Y_MAP || over->kind != CMS_Y_MAP)
                return cms_err(err, 400, "services.%s: extends needs service mappings", name);
        /* the extending service without its extends key */
        struct cms_ynode *o = mk(CMS_Y_MAP, over);
        if (!o)
                return oom(&m);
        o->interpolated = over->interpolated;
        for (size_t i = 0; i + 1 < over->n; i += 2) {
                if (!strcmp(over->kids[i]->value, "extends"))
                        continue;
                if (add(o, ref(over->kids[i])) < 0 || add(o, ref(over->kids[i + 1])) < 0) {
                        cms_ynode_unref(o);
                        return oom(&m);
                }
        }
        struct cms_ynode *b = strip(base);
        int r = b ? merge(&m, b, o, out) : oom(&m);
        cms_ynode_unref(b);
        cms_ynode_unref(o);
        if (r == 0 && (*out)->size > CMS_COMPOSE_MAX_NODES) {
                cms_ynode_unref(*out);
                *out = NULL;
                r = cms_err(err, 400, "services.%s: extended, it is larger than %d nodes", name,
                            CMS_COMPOSE_MAX_NODES);
        }
        return r;
}
