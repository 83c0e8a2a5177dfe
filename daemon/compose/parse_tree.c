/* libyaml events -> a tree of cms_ynode with line numbers, for one compose document. Compose
 * files use anchors, aliases and merge keys (x-common: &c ... <<: *c), so unlike the config
 * parser this one supports them; an alias shares the anchored node instead of copying it, and
 * every node knows its expanded size and height, so the caps on expanded nodes, aliases and depth
 * are checked as each alias is met: a "billion laughs" document fails on its first alias that
 * crosses the cap, after a few microseconds, having allocated almost nothing. */
#include "internal.h"

#include <yaml.h>

struct anchor {
        char *name;
        struct cms_ynode *node; /* a reference */
};

struct ytree {
        struct cms_error *err;
        struct cms_ynode *root;
        struct cms_ynode *stack[CMS_COMPOSE_MAX_DEPTH];
        char *stack_anchor[CMS_COMPOSE_MAX_DEPTH];
        int depth;
        size_t expanded; /* nodes after expansion so far */
        size_t aliases;
        struct anchor *anchors;
        size_t n_anchors;
        int docs;
        int file; /* 1-based index among several files, 0 for one */
        bool done;
};

static int fail(struct ytree *t, int line, const char *fmt, ...) CMS_PRINTF(3, 4);
static int fail(struct ytree *t, int line, const char *fmt, ...)
{
        char msg[400];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (line > 0 && t->file > 0)
                return cms_err(t->err, 400, "invalid compose file: %s (file %d, line %d)", msg,
                               t->file, line);
        if (line > 0)
                return cms_err(t->err, 400, "invalid compose file: %s (line %d)", msg, line);
        return cms_err(t->err, 400, "invalid compose file: %s", msg);
}

void cms_ynode_unref(struct cms_ynode *n)
{
        if (!n || --n->refs > 0)
                return;
        for (size_t i = 0; i < n->n; i++)
                cms_ynode_unref(n->kids[i]);
        free(n->kids);
        free(n->value);
        free(n);
}

const char *cms_ykind_name(const struct cms_ynode *n)
{
        if (!n || (n->kind == CMS_Y_SCALAR && n->null))
                return "null";
        return n->kind == CMS_Y_SEQ ? "a list" : n->kind == CMS_Y_MAP ? "a mapping" : "a scalar";
}

struct cms_ynode *cms_ymap_get(const struct cms_ynode *map, const char *key)
{
        if (!map || map->kind != CMS_Y_MAP)
                return NULL;
        for (size_t i = 0; i + 1 < map->n; i += 2)
                if (!strcmp(map->kids[i]->value, key))
                        return map->kids[i + 1];
        return NULL;
}

static struct cms_ynode *node_new(const struct ytree *t, enum cms_ykind kind, int line)
{
        struct cms_ynode *n = calloc(1, sizeof(*n));
        if (n) {
                n->file = (unsigned char)t->file;
                n->kind = kind;
                n->line = line;
                n->refs = 1;
                n->size = 1;
                n->height = kind == CMS_Y_SCALAR ? 0 : 1;
        }
        return n;
}

static int push_kid(struct cms_ynode *p, struct cms_ynode *kid)
{
        if (p->n == p->cap) {
                size_t ncap = p->cap ? 2 * p->cap : 8;
                struct cms_ynode **k = realloc(p->kids, ncap * sizeof(*k));
                if (!k)
                        return -ENOMEM;
                p->kids = k;
                p->cap = ncap;
        }
        p->kids[p->n++] = kid;
        p->has_reset |= kid->has_reset;
        p->size += kid->size;
        if (kid->height + 1 > p->height)
                p->height = kid->height + 1;
        return 0;
}

/* Hangs n (a reference the caller hands over) under the open collection, or makes it the root. */
static int attach(struct ytree *t, struct cms_ynode *n)
{
        if (t->depth == 0) {
                cms_ynode_unref(t->root);
                t->root = n;
                return 0;
        }
        if (push_kid(t->stack[t->depth - 1], n) < 0) {
                cms_ynode_unref(n);
                return cms_err(t->err, 500, "out of memory");
        }
        return 0;
}

static int count(struct ytree *t, size_t nodes, int line)
{
        t->expanded += nodes;
        if (t->expanded > CMS_COMPOSE_MAX_NODES)
                return fail(t, line, "more than %d YAML nodes after alias expansion",
                            CMS_COMPOSE_MAX_NODES);
        return 0;
}

static int anchor_add(struct ytree *t, const char *name, struct cms_ynode *n, int line)
{
        if (t->n_anchors >= CMS_COMPOSE_MAX_ANCHORS)
                return fail(t, line, "more than %d anchors", CMS_COMPOSE_MAX_ANCHORS);
        struct anchor *a = realloc(t->anchors, (t->n_anchors + 1) * sizeof(*a));
        if (!a)
                return cms_err(t->err, 500, "out of memory");
        t->anchors = a;
        a[t->n_anchors].name = strdup(name);
        if (!a[t->n_anchors].name)
                return cms_err(t->err, 500, "out of memory");
        a[t->n_anchors].node = n;
        n->refs++;
        t->n_anchors++;
        return 0;
}

static int on_alias(struct ytree *t, const char *name, int line)
{
        struct cms_ynode *target = NULL;
        for (size_t i = t->n_anchors; i-- > 0 && !target;)
                if (!strcmp(t->anchors[i].name, name))
                        target = t->anchors[i].node;
        if (!target)
                return fail(t, line, "unknown alias *%.64s", name);
        if (++t->aliases > CMS_COMPOSE_MAX_ALIASES)
                return fail(t, line, "more than %d aliases", CMS_COMPOSE_MAX_ALIASES);
        if (t->depth + target->height > CMS_COMPOSE_MAX_DEPTH)
                return fail(t, line, "nested more than %d levels deep (through alias *%.64s)",
                            CMS_COMPOSE_MAX_DEPTH, name);
        int r = count(t, target->size, line);
        if (r < 0)
                return r;
        target->refs++;
        return attach(t, target);
}

/* The compose specification's merge tags; other tags (!!str, ...) change nothing here. */
static void set_tag(struct cms_ynode *n, const char *tag)
{
        n->reset = tag && !strcmp(tag, "!reset");
        n->override = tag && !strcmp(tag, "!override");
        n->has_reset = n->reset;
}

static int on_scalar(struct ytree *t, const yaml_event_t *ev, int line)
{
        const char *v = (const char *)ev->data.scalar.value;
        size_t len = ev->data.scalar.length;
        if (memchr(v, 0, len))
                return fail(t, line, "NUL byte in a value");
        int r = count(t, 1, line);
        if (r < 0)
                return r;
        struct cms_ynode *n = node_new(t, CMS_Y_SCALAR, line);
        if (!n || !(n->value = strndup(v, len))) {
                free(n);
                return cms_err(t->err, 500, "out of memory");
        }
        set_tag(n, (const char *)ev->data.scalar.tag);
        bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        n->null = plain && (!len || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
                            !strcmp(v, "NULL"));
        n->merge = plain && !strcmp(v, "<<");
        if (ev->data.scalar.anchor &&
            (r = anchor_add(t, (const char *)ev->data.scalar.anchor, n, line)) < 0) {
                cms_ynode_unref(n);
                return r;
        }
        return attach(t, n);
}

static int on_start(struct ytree *t, const yaml_event_t *ev, int line)
{
        bool map = ev->type == YAML_MAPPING_START_EVENT;
        const unsigned char *anchor =
            map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
        if (t->depth >= CMS_COMPOSE_MAX_DEPTH)
                return fail(t, line, "nested more than %d levels deep", CMS_COMPOSE_MAX_DEPTH);
        int r = count(t, 1, line);
        if (r < 0)
                return r;
        /* A block collection starts on the line after its key: messages about it name the key's
         * line, where a reader looks. */
        struct cms_ynode *parent = t->depth ? t->stack[t->depth - 1] : NULL;
        if (parent && parent->kind == CMS_Y_MAP && parent->n % 2 == 1)
                line = parent->kids[parent->n - 1]->line;
        struct cms_ynode *n = node_new(t, map ? CMS_Y_MAP : CMS_Y_SEQ, line);
        if (!n)
                return cms_err(t->err, 500, "out of memory");
        set_tag(n, (const char *)(map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag));
        char *a = anchor ? strdup((const char *)anchor) : NULL;
        if (anchor && !a) {
                free(n);
                return cms_err(t->err, 500, "out of memory");
        }
        /* Attached now (so it is freed with the tree on failure), anchored at its end: an alias
         * to an anchor whose node is still open would make a cycle, and is refused as unknown. */
        n->refs++;
        if ((r = attach(t, n)) < 0) {
                free(a);
                cms_ynode_unref(n);
                return r;
        }
        t->stack[t->depth] = n;
        t->stack_anchor[t->depth] = a;
        t->depth++;
        return 0;
}

struct pair {
        struct cms_ynode *key, *value;
        size_t rank; /* priority: explicit pairs first, then merge sources in order */
};

static int pair_cmp(const void *a, const void *b)
{
        const struct pair *x = a, *y = b;
        int c = strcmp(x->key->value, y->key->value);
        return c ? c : (x->rank > y->rank) - (x->rank < y->rank);
}

static int pair_rank_cmp(const void *a, const void *b)
{
        const struct pair *x = a, *y = b;
        return (x->rank > y->rank) - (x->rank < y->rank);
}

/* Appends the pairs of one merge source (a mapping) as candidates. */
static int merge_source(struct ytree *t, const struct cms_ynode *src, int line, struct pair *pairs,
                        size_t *np)
{
        if (src->kind != CMS_Y_MAP)
                return fail(t, line, "a merge key (<<) takes a mapping or a list of mappings");
        for (size_t i = 0; i + 1 < src->n; i += 2) {
                pairs[*np] = (struct pair){src->kids[i], src->kids[i + 1], *np};
                (*np)++;
        }
        return 0;
}

/* Builds the final pair list of a mapping: explicit keys (unique, scalar), then the pairs of the
 * merge sources whose keys are not there yet (the first source wins). */
static int collect_pairs(struct ytree *t, struct cms_ynode *m, struct pair **out, size_t *nout)
{
        size_t total = m->n / 2, np = 0, explicit_n = 0;
        for (size_t i = 0; i + 1 < m->n; i += 2) {
                struct cms_ynode *k = m->kids[i], *v = m->kids[i + 1];
                if (k->kind != CMS_Y_SCALAR)
                        return fail(t, k->line, "mapping keys must be scalars, not %s",
                                    cms_ykind_name(k));
                if (!k->merge)
                        continue;
                if (v->kind == CMS_Y_SEQ)
                        for (size_t j = 0; j < v->n; j++)
                                total += v->kids[j]->kind == CMS_Y_MAP ? v->kids[j]->n / 2 : 0;
                else if (v->kind == CMS_Y_MAP)
                        total += v->n / 2;
        }
        struct pair *pairs = calloc(total + 1, sizeof(*pairs));
        if (!pairs)
                return cms_err(t->err, 500, "out of memory");
        for (size_t i = 0; i + 1 < m->n; i += 2)
                if (!m->kids[i]->merge)
                        pairs[np] = (struct pair){m->kids[i], m->kids[i + 1], np}, np++;
        explicit_n = np;
        int r = 0;
        for (size_t i = 0; r == 0 && i + 1 < m->n; i += 2) {
                struct cms_ynode *v = m->kids[i + 1];
                if (!m->kids[i]->merge)
                        continue;
                if (v->kind != CMS_Y_SEQ)
                        r = merge_source(t, v, m->kids[i]->line, pairs, &np);
                for (size_t j = 0; r == 0 && v->kind == CMS_Y_SEQ && j < v->n; j++)
                        r = merge_source(t, v->kids[j], m->kids[i]->line, pairs, &np);
        }
        if (r < 0) {
                free(pairs);
                return r;
        }
        qsort(pairs, np, sizeof(*pairs), pair_cmp);
        size_t kept = 0;
        for (size_t i = 0; i < np; i++) {
                bool dup = kept && !strcmp(pairs[kept - 1].key->value, pairs[i].key->value);
                if (dup && pairs[i].rank < explicit_n) {
                        int line = pairs[i].key->line;
                        char key[80];
                        snprintf(key, sizeof(key), "%.64s", pairs[i].key->value);
                        free(pairs);
                        return fail(t, line, "duplicate key '%s'", key);
                }
                if (!dup)
                        pairs[kept++] = pairs[i];
        }
        qsort(pairs, kept, sizeof(*pairs), pair_rank_cmp);
        *out = pairs;
        *nout = kept;
        return 0;
}

static int finish_map(struct ytree *t, struct cms_ynode *m)
{
        struct pair *pairs = NULL;
        size_t np = 0;
        bool has_merge = false;
        for (size_t i = 0; i + 1 < m->n; i += 2)
                has_merge |= m->kids[i]->merge;
        int r = collect_pairs(t, m, &pairs, &np);
        if (r < 0 || !has_merge) {
                free(pairs);
                return r;
        }
        struct cms_ynode **kids = calloc(2 * np + 1, sizeof(*kids));
        if (!kids) {
                free(pairs);
                return cms_err(t->err, 500, "out of memory");
        }
        size_t old_size = m->size;
        m->size = 1;
        m->height = 1;
        struct cms_ynode **old = m->kids;
        size_t old_n = m->n;
        m->kids = kids;
        m->n = 0;
        m->cap = 2 * np + 1;
        for (size_t i = 0; i < np; i++) {
                pairs[i].key->refs++;
                pairs[i].value->refs++;
                push_kid(m, pairs[i].key); /* cannot fail: the array is large enough */
                push_kid(m, pairs[i].value);
        }
        free(pairs);
        for (size_t i = 0; i < old_n; i++)
                cms_ynode_unref(old[i]);
        free(old);
        return m->size > old_size ? count(t, m->size - old_size, m->line) : 0;
}

static int on_end(struct ytree *t, bool map)
{
        struct cms_ynode *n = t->stack[--t->depth];
        char *anchor = t->stack_anchor[t->depth];
        int r = map ? finish_map(t, n) : 0;
        /* The parent's size and height were taken when n was empty: bring them up to date. */
        if (t->depth > 0) {
                struct cms_ynode *p = t->stack[t->depth - 1];
                p->size += n->size - 1;
                p->has_reset |= n->has_reset;
                if (n->height + 1 > p->height)
                        p->height = n->height + 1;
        }
        if (r == 0 && anchor)
                r = anchor_add(t, anchor, n, n->line);
        free(anchor);
        cms_ynode_unref(n); /* the stack's reference */
        return r;
}

static int on_event(struct ytree *t, const yaml_event_t *ev)
{
        int line = (int)ev->start_mark.line + 1;
        switch (ev->type) {
        case YAML_STREAM_END_EVENT:
                t->done = true;
                return 0;
        case YAML_DOCUMENT_START_EVENT:
                if (++t->docs > 1)
                        return fail(t, line, "only one YAML document is allowed");
                return 0;
        case YAML_ALIAS_EVENT:
                return on_alias(t, (const char *)ev->data.alias.anchor, line);
        case YAML_SCALAR_EVENT:
                return on_scalar(t, ev, line);
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
                return on_start(t, ev, line);
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
                return on_end(t, ev->type == YAML_MAPPING_END_EVENT);
        default:
                return 0;
        }
}

static int syntax_error(struct ytree *t, const yaml_parser_t *p, const char *yaml, size_t len)
{
        int line = (int)p->problem_mark.line + 1;
        if (p->error == YAML_MEMORY_ERROR)
                return cms_err(t->err, 500, "out of memory");
        if (p->error == YAML_READER_ERROR) {
                line = 1;
                for (size_t i = 0; i < len && i < p->problem_offset; i++)
                        line += yaml[i] == '\n';
        }
        const char *problem = p->problem ? p->problem : "syntax error";
        if (p->context)
                return fail(t, line, "invalid YAML: %s %s (started at line %d)", problem,
                            p->context, (int)p->context_mark.line + 1);
        return fail(t, line, "invalid YAML: %s", problem);
}

static void tree_done(struct ytree *t)
{
        while (t->depth > 0) {
                t->depth--;
                free(t->stack_anchor[t->depth]);
                cms_ynode_unref(t->stack[t->depth]);
        }
        for (size_t i = 0; i < t->n_anchors; i++) {
                free(t->anchors[i].name);
                cms_ynode_unref(t->anchors[i].node);
        }
        free(t->anchors);
}

int cms_ytree_parse(const char *yaml, size_t len, struct cms_ynode **out, struct cms_error *err)
{
        return cms_ytree_parse_file(yaml, len, 0, out, err);
}

int cms_ytree_parse_file(const char *yaml, size_t len, int file, struct cms_ynode **out,
                         struct cms_error *err)
{
        struct ytree t = {.err = err, .file = file > 0 && file < 256 ? file : 0};
        yaml_parser_t p;
        int r = 0;
        *out = NULL;
        if (len > CMS_COMPOSE_MAX_BYTES)
                return cms_err(err, 400, "invalid compose file: larger than %d bytes",
                               CMS_COMPOSE_MAX_BYTES);
        if (!yaml_parser_initialize(&p))
                return cms_err(err, 500, "out of memory");
        yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
        while (r == 0 && !t.done) {
                yaml_event_t ev;
                if (!yaml_parser_parse(&p, &ev)) {
                        r = syntax_error(&t, &p, yaml, len);
                        break;
                }
                r = on_event(&t, &ev);
                yaml_event_delete(&ev);
        }
        yaml_parser_delete(&p);
        tree_done(&t);
        if (r < 0) {
                cms_ynode_unref(t.root);
                return r;
        }
        *out = t.root;
        return 0;
}
