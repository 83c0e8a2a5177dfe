/* Top-level `include`: other compose applications copied into this one, as the compose
 * specification says. Each entry (a path, or {path: one or a list, project_directory, env_file})
 * is loaded through the parse options' loader; its files are merged as -f files are, interpolated
 * with its own env files (the including project's environment winning, as docker compose does),
 * its relative paths (bind sources, build contexts, env_file, extends.file, seccomp profiles,
 * secret and config files) made absolute against its project directory (by default the directory of
 * its first file), and its own includes resolved in turn. Its services, networks, volumes, secrets
 * and configs are then copied into the including tree: a name both define differently is a 400 (the
 * specification says the resources are not merged), an identical definition is taken once. Done
 * on the tree, before extends and before anything is read into the model, so the model, the
 * config output and the hash are those of the resources written out by hand. */
#include "internal.h"

#define MAX_DEPTH 8  /* includes within includes */
#define MAX_FILES 64 /* files included in all */

static const char *const sections[] = {"services", "networks", "volumes",
                                       "secrets",  "configs",  NULL};

struct inc {
        struct cms_cp *c;
        const struct cms_compose_parse_opts *o;
        const char *stack[MAX_DEPTH + 1]; /* the files being included, for cycles */
        int depth;
        int files;
};

/* dir/rel with "." and ".." folded (rel absolute: rel alone); NULL on OOM. */
static char *join_clean(const char *dir, const char *rel)
{
        _cleanup_free_ char *s = rel[0] == '/' ? strdup(rel) : cms_strdup_printf("%s/%s", dir, rel);
        if (!s)
                return NULL;
        size_t len = strlen(s), n = 0;
        char *out = malloc(len + 2);
        if (!out)
                return NULL;
        bool abs = s[0] == '/';
        for (char *save = NULL, *p = strtok_r(s, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
                if (!strcmp(p, "."))
                        continue;
                if (!strcmp(p, "..")) {
                        char *last = n ? memrchr(out, '/', n) : NULL;
                        bool up = n && strcmp(last ? last + 1 : out, "..");
                        if (up) {
                                n = last ? (size_t)(last - out) : 0;
                                continue;
                        }
                        if (abs)
                                continue; /* /.. is / */
                }
                if (n || abs)
                        out[n++] = '/';
                size_t l = strlen(p);
                memcpy(out + n, p, l);
                n += l;
        }
        if (n == 0)
                out[n++] = abs ? '/' : '.';
        out[n] = 0;
        return out;
}

static char *dir_of(const char *path)
{
        const char *slash = strrchr(path, '/');
        return !slash ? strdup(".") : slash == path ? strdup("/") : strndup(path, slash - path);
}

static struct cms_ynode **slot_of(struct cms_ynode *map, const char *key)
{
        for (size_t i = 0; map && map->kind == CMS_Y_MAP && i + 1 < map->n; i += 2)
                if (!strcmp(map->kids[i]->value, key))
                        return &map->kids[i + 1];
        return NULL;
}

static struct cms_ynode *scalar_new(const struct cms_ynode *like, char *value)
{
        struct cms_ynode *n = calloc(1, sizeof(*n));
        if (!n) {
                free(value);
                return NULL;
        }
        n->kind = CMS_Y_SCALAR;
        n->line = like->line;
        n->file = like->file;
        n->refs = 1;
        n->size = 1;
        n->interpolated = true;
        n->value = value;
        return n;
}

/* Sets the scalar in *slot to value (consumed); a node shared through an alias is replaced. */
static int set_scalar(struct cms_cp *c, struct cms_ynode **slot, char *value)
{
        struct cms_ynode *n = *slot;
        if (!value)
                return cms_cp_oom(c);
        if (n->refs == 1) {
                free(n->value);
                n->value = value;
                return 0;
        }
        struct cms_ynode *m = scalar_new(n, value);
        if (!m)
                return cms_cp_oom(c);
        cms_ynode_unref(n);
        *slot = m;
        return 0;
}

/* A relative path scalar made absolute against dir; "~" and absolute paths stay. With
 * dot_only, only "./x" and "../x" are paths (a short volume's source; else a volume name), and
 * the text after the first ':' is kept. */
static int rebase(struct cms_cp *c, struct cms_ynode **slot, const char *dir, bool dot_only)
{
        const struct cms_ynode *n = slot ? *slot : NULL;
        if (!n || n->kind != CMS_Y_SCALAR || n->null || !n->value[0] || n->value[0] == '/' ||
            n->value[0] == '~' || (dot_only && n->value[0] != '.'))
                return 0;
        const char *colon = dot_only ? strchr(n->value, ':') : NULL;
        _cleanup_free_ char *src = colon ? strndup(n->value, colon - n->value) : strdup(n->value);
        _cleanup_free_ char *abs = src ? join_clean(dir, src) : NULL;
        if (!abs)
                return cms_cp_oom(c);
        return set_scalar(c, slot, colon ? cms_strdup_printf("%s%s", abs, colon) : TAKE_PTR(abs));
}

/* A build context that is a path (not a URL, an image or a service). */
static int rebase_context(struct cms_cp *c, struct cms_ynode **slot, const char *dir)
{
        const struct cms_ynode *n = slot ? *slot : NULL;
        if (!n || n->kind != CMS_Y_SCALAR || n->null || strstr(n->value, "://") ||
            cms_str_has_prefix(n->value, "service:") ||
            cms_str_has_prefix(n->value, "docker-image:"))
                return 0;
        return rebase(c, slot, dir, false);
}

/* "seccomp=<relative file>" of security_opt. */
static int rebase_seccomp(struct cms_cp *c, struct cms_ynode **slot, const char *dir)
{
        const struct cms_ynode *n = *slot;
        if (n->kind != CMS_Y_SCALAR || n->null || !cms_str_has_prefix(n->value, "seccomp=") ||
            !strcmp(n->value + 8, "unconfined") || strchr("/{~", n->value[8]))
                return 0;
        _cleanup_free_ char *abs = join_clean(dir, n->value + 8);
        return set_scalar(c, slot, abs ? cms_strdup_printf("seccomp=%s", abs) : NULL);
}

static int map_add(struct cms_ynode *map, struct cms_ynode *key, struct cms_ynode *value)
{
        if (map->n + 2 > map->cap) {
                size_t ncap = map->cap ? 2 * map->cap : 8;
                struct cms_ynode **k = realloc(map->kids, ncap * sizeof(*k));
                if (!k)
                        return -ENOMEM;
                map->kids = k;
                map->cap = ncap;
        }
        map->kids[map->n++] = key;
        map->kids[map->n++] = value;
        key->refs++;
        value->refs++;
        map->size += key->size + value->size;
        if (value->height + 1 > map->height)
                map->height = value->height + 1;
        return 0;
}

static int rebase_build(struct cms_cp *c, struct cms_ynode **slot, const char *dir)
{
        struct cms_ynode *b = *slot;
        if (b->kind == CMS_Y_SCALAR)
                return rebase_context(c, slot, dir);
        if (b->kind != CMS_Y_MAP)
                return 0; /* the parser names the mistake */
        struct cms_ynode **ctx = slot_of(b, "context");
        int r = 0;
        if (ctx) {
                r = rebase_context(c, ctx, dir);
        } else if (b->refs > 1) {
                return cms_cp_fail(c, b, "build",
                                   "a build shared through an alias needs a "
                                   "context in an included file");
        } else {
                struct cms_ynode *k = scalar_new(b, strdup("context"));
                struct cms_ynode *v = k ? scalar_new(b, strdup(dir)) : NULL;
                r = k && k->value && v && v->value ? map_add(b, k, v) : -ENOMEM;
                cms_ynode_unref(k);
                cms_ynode_unref(v);
                if (r < 0)
                        return cms_cp_oom(c);
        }
        struct cms_ynode *ac = r == 0 ? cms_ymap_get(b, "additional_contexts") : NULL;
        for (size_t i = 1; ac && ac->kind == CMS_Y_MAP && r == 0 && i < ac->n; i += 2)
                r = rebase_context(c, &ac->kids[i], dir);
        return r;
}

int cms_cp_rebase_service(struct cms_cp *c, struct cms_ynode *svc, const char *dir)
{
        if (svc->kind != CMS_Y_MAP)
                return 0;
        struct cms_ynode **b = slot_of(svc, "build"), *v = cms_ymap_get(svc, "volumes");
        int r = b ? rebase_build(c, b, dir) : 0;
        for (size_t i = 0; v && v->kind == CMS_Y_SEQ && r == 0 && i < v->n; i++) {
                struct cms_ynode *e = v->kids[i];
                const struct cms_ynode *type = cms_ymap_get(e, "type");
                if (e->kind == CMS_Y_SCALAR)
                        r = rebase(c, &v->kids[i], dir, true);
                else if (type && type->value && !strcmp(type->value, "bind"))
                        r = rebase(c, slot_of(e, "source"), dir, false);
        }
        struct cms_ynode **ef = r == 0 ? slot_of(svc, "env_file") : NULL;
        if (ef && (*ef)->kind == CMS_Y_SCALAR)
                r = rebase(c, ef, dir, false);
        for (size_t i = 0; ef && (*ef)->kind == CMS_Y_SEQ && r == 0 && i < (*ef)->n; i++)
                r = (*ef)->kids[i]->kind == CMS_Y_MAP
                        ? rebase(c, slot_of((*ef)->kids[i], "path"), dir, false)
                        : rebase(c, &(*ef)->kids[i], dir, false);
        struct cms_ynode *so = r == 0 ? cms_ymap_get(svc, "security_opt") : NULL;
        for (size_t i = 0; so && so->kind == CMS_Y_SEQ && r == 0 && i < so->n; i++)
                r = rebase_seccomp(c, &so->kids[i], dir);
        struct cms_ynode *ext = r == 0 ? cms_ymap_get(svc, "extends") : NULL;
        if (ext && ext->kind == CMS_Y_MAP)
                r = rebase(c, slot_of(ext, "file"), dir, false);
        return r;
}

/* Every relative path of an included tree made absolute against its project directory. */
static int rebase_tree(struct cms_cp *c, struct cms_ynode *root, const char *dir)
{
        struct cms_ynode *s = cms_ymap_get(root, "services");
        int r = 0;
        for (size_t i = 1; s && s->kind == CMS_Y_MAP && r == 0 && i < s->n; i += 2)
                r = cms_cp_rebase_service(c, s->kids[i], dir);
        for (int k = 0; k < 2 && r == 0; k++) {
                struct cms_ynode *defs = cms_ymap_get(root, k ? "configs" : "secrets");
                for (size_t i = 1; defs && defs->kind == CMS_Y_MAP && r == 0 && i < defs->n; i += 2)
                        r = rebase(c, slot_of(defs->kids[i], "file"), dir, false);
        }
        return r;
}

static bool same(const struct cms_ynode *a, const struct cms_ynode *b)
{
        if (a == b)
                return true;
        if (a->kind != b->kind || a->n != b->n || a->null != b->null)
                return false;
        if (a->kind == CMS_Y_SCALAR)
                return !strcmp(a->value ? a->value : "", b->value ? b->value : "");
        for (size_t i = 0; i < a->n; i++)
                if (!same(a->kids[i], b->kids[i]))
                        return false;
        return true;
}

/* The included tree's resources copied into root; conflicts refused. */
static int copy_into(struct inc *x, struct cms_ynode *root, const struct cms_ynode *inc,
                     const char *file)
{
        for (size_t k = 0; sections[k]; k++) {
                const struct cms_ynode *src = cms_ymap_get(inc, sections[k]);
                if (!src || src->null)
                        continue;
                if (src->kind != CMS_Y_MAP)
                        return cms_err(x->c->err, 400, "include %.200s: %s must be a mapping", file,
                                       sections[k]);
                struct cms_ynode **dst = slot_of(root, sections[k]);
                if (dst && (*dst)->null) {
                        cms_ynode_unref(*dst);
                        *dst = (struct cms_ynode *)src;
                        (*dst)->refs++;
                        continue;
                }
                if (!dst) {
                        size_t i = 0;
                        while (inc->kids[i + 1] != src)
                                i += 2;
                        if (map_add(root, inc->kids[i], (struct cms_ynode *)src) < 0)
                                return cms_cp_oom(x->c);
                        continue;
                }
                if ((*dst)->kind != CMS_Y_MAP)
                        return 0; /* the parser names the mistake */
                if ((*dst)->refs > 1)
                        return cms_cp_fail(x->c, *dst, sections[k],
                                           "a mapping shared through an alias cannot take "
                                           "included resources");
                for (size_t i = 0; i + 1 < src->n; i += 2) {
                        const char *name = src->kids[i]->value;
                        const struct cms_ynode *have = cms_ymap_get(*dst, name);
                        if (have && !same(have, src->kids[i + 1]))
                                return cms_err(x->c->err, 400,
                                               "include %.200s: %s.%.64s is already defined "
                                               "differently (included resources are not merged)",
                                               file, sections[k], name);
                        if (!have && map_add(*dst, src->kids[i], src->kids[i + 1]) < 0)
                                return cms_cp_oom(x->c);
                        root->size += have ? 0 : src->kids[i]->size + src->kids[i + 1]->size;
                }
        }
        return 0;
}

static int include_tree(struct inc *x, struct cms_ynode *root, const char *base,
                        const char *dotenv);

/* Reads one file through the loader; absent: a 400 naming what wanted it. */
static int load(struct inc *x, const char *what, const char *path, bool optional, char **text)
{
        const struct cms_compose_parse_opts *o = x->o;
        if (!o->load)
                return cms_err(x->c->err, 400,
                               "include: '%.200s': files beside the compose file are not read here",
                               path);
        int r = o->load(o->load_ud, what, path, text, x->c->err);
        if (r == -ENOENT && optional)
                return 0;
        if (r == -ENOENT)
                return cms_err(x->c->err, 400, "%s: %.200s not found", what, path);
        return r;
}

static void prefix_error(struct inc *x, const char *file)
{
        struct cms_error *err = x->c->err;
        if (!err || err->status != 400 || strstr(err->message, file))
                return;
        char msg[sizeof(err->message)];
        snprintf(msg, sizeof(msg), "%s", err->message);
        cms_err(err, 400, "include %.200s: %s", file, msg);
}

/* The env files' text (the including project's dotenv after them, so that it wins). */
static int env_text(struct inc *x, const struct cms_compose_strv *files, bool optional,
                    const char *parent, char **out)
{
        struct cms_buf b;
        cms_buf_init(&b, CMS_COMPOSE_MAX_BYTES);
        int r = 0;
        for (size_t i = 0; r == 0 && i < files->n; i++) {
                _cleanup_free_ char *t = NULL;
                r = load(x, "include.env_file", files->v[i], optional, &t);
                if (r == 0 && t &&
                    (cms_buf_append(&b, t, strlen(t)) < 0 || cms_buf_append(&b, "\n", 1) < 0))
                        r = cms_err(x->c->err, 400, "include.env_file: larger than %d bytes",
                                    CMS_COMPOSE_MAX_BYTES);
        }
        if (r == 0 && parent && cms_buf_append(&b, parent, strlen(parent)) < 0)
                r = cms_err(x->c->err, 400, "include.env_file: larger than %d bytes",
                            CMS_COMPOSE_MAX_BYTES);
        if (r == 0 && !(*out = cms_buf_take(&b)))
                r = cms_cp_oom(x->c);
        cms_buf_free(&b);
        return r;
}

struct entry {
        struct cms_compose_strv paths, env_files;
        char *project_dir;
};

static void entry_done(struct entry *e)
{
        cms_compose_strv_done(&e->paths);
        cms_compose_strv_done(&e->env_files);
        free(e->project_dir);
}

/* A list of paths made absolute against base. */
static int abs_paths(struct inc *x, const struct cms_ynode *n, const char *path, const char *base,
                     struct cms_compose_strv *out)
{
        struct cms_compose_strv v = {0};
        int r = cms_cp_strv(x->c, n, path, true, &v);
        for (size_t i = 0; r == 0 && i < v.n; i++) {
                if (v.v[i][0] != '/' && !base)
                        r = cms_cp_fail(x->c, n, path,
                                        "the relative path '%.100s' needs the project's "
                                        "working_dir",
                                        v.v[i]);
                else
                        r = cms_compose_strv_take(out, join_clean(base ? base : "/", v.v[i]))
                                ? cms_cp_oom(x->c)
                                : 0;
        }
        cms_compose_strv_done(&v);
        return r;
}

/* include[i]: "path" or {path, project_directory, env_file}; paths relative to base. */
static int read_entry(struct inc *x, const struct cms_ynode *n, const char *path, const char *base,
                      struct entry *e)
{
        static const char *const keys[] = {"path", "project_directory", "env_file", NULL};
        const struct cms_ynode *p = n, *pd = NULL, *ef = NULL;
        char sub[64];
        if (n->kind == CMS_Y_MAP) {
                cms_cp_check_keys(x->c, n, path, keys, NULL);
                p = cms_ymap_get(n, "path");
                pd = cms_ymap_get(n, "project_directory");
                ef = cms_ymap_get(n, "env_file");
                cms_cp_sub(sub, sizeof(sub), "%s.path", path);
                if (!p || p->null)
                        return cms_cp_fail(x->c, n, sub, "a path is required");
        } else {
                cms_cp_sub(sub, sizeof(sub), "%s", path);
        }
        int r = abs_paths(x, p, sub, base, &e->paths);
        if (r == 0 && e->paths.n == 0)
                r = cms_cp_fail(x->c, n, sub, "a path is required");
        if (r == 0 && ef && !ef->null) {
                cms_cp_sub(sub, sizeof(sub), "%s.env_file", path);
                r = abs_paths(x, ef, sub, base, &e->env_files);
        }
        _cleanup_free_ char *dir = NULL;
        if (r == 0 && pd && !pd->null) {
                cms_cp_sub(sub, sizeof(sub), "%s.project_directory", path);
                r = cms_cp_str_req(x->c, pd, sub, &dir);
                if (r == 0 && dir[0] != '/' && !base)
                        r = cms_cp_fail(x->c, pd, sub,
                                        "a relative path needs the project's "
                                        "working_dir");
                if (r == 0 && !(e->project_dir = join_clean(base ? base : "/", dir)))
                        r = cms_cp_oom(x->c);
        } else if (r == 0 && !(e->project_dir = dir_of(e->paths.v[0]))) {
                r = cms_cp_oom(x->c);
        }
        return r;
}

/* One file of an entry, read through the loader (before its env files: the policy names the
 * file first). */
static int read_file(struct inc *x, const char *file, char **text)
{
        for (int i = 0; i < x->depth; i++)
                if (!strcmp(x->stack[i], file))
                        return cms_err(x->c->err, 400, "include: a cycle through %.200s", file);
        if (++x->files > MAX_FILES)
                return cms_err(x->c->err, 400, "include: more than %d files", MAX_FILES);
        return load(x, "include", file, false, text);
}

/* One file's text parsed and interpolated with the entry's env. */
static int parse_file(struct inc *x, const char *file, const char *text,
                      const struct cms_compose_env *env, struct cms_ynode **tree)
{
        int r = cms_ytree_parse(text, strlen(text), tree, x->c->err);
        if (r == 0 && (!*tree || (*tree)->kind != CMS_Y_MAP))
                r = cms_err(x->c->err, 400, "include %.200s: not a compose mapping", file);
        const struct cms_compose_env *saved = x->c->env;
        x->c->env = env;
        if (r == 0)
                r = cms_cp_interpolate_tree(x->c, *tree, "");
        x->c->env = saved;
        if (r < 0)
                prefix_error(x, file);
        return r;
}

/* The entry's env: its env files (by default its project directory's .env, if there is one)
 * under the including project's dotenv and the request's env. */
static int entry_env(struct inc *x, const struct entry *e, const char *parent_dotenv, char **dotenv,
                     struct cms_compose_env **env)
{
        struct cms_compose_strv dflt = {0};
        bool optional = e->env_files.n == 0;
        if (optional &&
            cms_compose_strv_take(&dflt, cms_strdup_printf("%s/.env", e->project_dir)) < 0)
                return cms_cp_oom(x->c);
        int r = env_text(x, optional ? &dflt : &e->env_files, optional, parent_dotenv, dotenv);
        cms_compose_strv_done(&dflt);
        if (r == 0)
                r = cms_compose_env_new(x->o->env, *dotenv, env, x->c->warnings, x->c->err);
        if (r < 0)
                prefix_error(x, e->paths.v[0]);
        return r;
}

/* One entry: its files merged, rebased, their own includes resolved, copied into root. */
static int do_entry(struct inc *x, struct cms_ynode *root, const struct entry *e,
                    const char *parent_dotenv)
{
        _cleanup_free_ char *dotenv = NULL;
        struct cms_compose_env *env = NULL;
        struct cms_compose_strv texts = {0};
        struct cms_ynode *merged = NULL;
        int r = 0;
        for (size_t i = 0; r == 0 && i < e->paths.n; i++) {
                char *t = NULL;
                r = read_file(x, e->paths.v[i], &t);
                if (r == 0 && cms_compose_strv_take(&texts, t) < 0)
                        r = cms_cp_oom(x->c);
        }
        if (r == 0)
                r = entry_env(x, e, parent_dotenv, &dotenv, &env);
        for (size_t i = 0; r == 0 && i < e->paths.n; i++) {
                struct cms_ynode *tree = NULL, *next = NULL;
                r = parse_file(x, e->paths.v[i], texts.v[i], env, &tree);
                r = r ?: cms_ytree_merge(merged, tree, &next, x->c->err);
                cms_ynode_unref(tree);
                if (r == 0) {
                        cms_ynode_unref(merged);
                        merged = next;
                }
        }
        cms_compose_strv_done(&texts);
        cms_compose_env_free(env);
        if (r == 0)
                r = rebase_tree(x->c, merged, e->project_dir);
        if (r == 0) {
                x->stack[x->depth++] = e->paths.v[0];
                r = include_tree(x, merged, e->project_dir, dotenv);
                x->depth--;
        }
        if (r == 0)
                r = copy_into(x, root, merged, e->paths.v[0]);
        if (r < 0)
                prefix_error(x, e->paths.v[0]);
        cms_ynode_unref(merged);
        return r;
}

static int include_tree(struct inc *x, struct cms_ynode *root, const char *base, const char *dotenv)
{
        const struct cms_ynode *list = cms_ymap_get(root, "include");
        if (!list || list->null)
                return 0;
        if (x->depth >= MAX_DEPTH)
                return cms_cp_fail(x->c, list, "include", "more than %d levels deep", MAX_DEPTH);
        int r = cms_cp_need(x->c, list, "include", CMS_Y_SEQ);
        for (size_t i = 0; r == 0 && i < list->n; i++) {
                struct entry e = {0};
                char path[32];
                cms_cp_sub(path, sizeof(path), "include[%zu]", i);
                r = read_entry(x, list->kids[i], path, base, &e);
                if (r == 0)
                        r = do_entry(x, root, &e, dotenv);
                entry_done(&e);
        }
        return r;
}

int cms_cp_include(struct cms_cp *c, const struct cms_compose_parse_opts *o, struct cms_ynode *root)
{
        struct inc x = {.c = c, .o = o};
        int r = include_tree(&x, root, o->working_dir, o->dotenv);
        if (r == 0 && root->size > CMS_COMPOSE_MAX_NODES)
                r = cms_cp_fail(c, root, "include", "larger than %d nodes once included",
                                CMS_COMPOSE_MAX_NODES);
        return r;
}
