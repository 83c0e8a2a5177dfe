/* `extends`: a service built on another one, of the same file (`extends: base` or
 * {service: base}) or of another file ({service, file}), as the compose specification says:
 * the base service, its own extends resolved first, is the earlier file and the extending
 * service the later one of a -f merge (cms_ytree_merge_service: mappings merged, command and
 * entrypoint replaced, environment and labels merged by key, ports and volumes unique by their
 * target). Done on the interpolated tree before anything is read into the model, so the model,
 * the config output and the hash are those of the service written out by hand. Another file is
 * read through the parse options' loader (the projects layer reads it on the daemon's host, under
 * the caller's policy), relative paths from the directory of the file that names them; a base
 * service from another file has its own relative paths (bind sources, build context, env_file)
 * made absolute against its file's directory, as docker compose does. */
#include "internal.h"

#define MAX_HOPS 16 /* extends chains across files */

struct xfile {
        struct cms_ynode *services; /* the file's services mapping */
        char *dir;                  /* for relative extends.file paths; may be NULL */
        unsigned char *state;       /* per service: 0 new, 1 being resolved, 2 done */
        int hops;
};

static int resolve(struct cms_cp *c, const struct cms_compose_parse_opts *o, struct xfile *f,
                   size_t i);

static size_t find(const struct cms_ynode *services, const char *name)
{
        for (size_t i = 0; i + 1 < services->n; i += 2)
                if (!strcmp(services->kids[i]->value, name))
                        return i / 2;
        return SIZE_MAX;
}

static char *join(const char *dir, const char *path)
{
        if (path[0] == '/')
                return strdup(path);
        return dir ? cms_strdup_printf("%s/%s", dir, path) : NULL;
}

/* Loads, parses and interpolates another file; *tree owned. */
static int load_file(struct cms_cp *c, const struct cms_compose_parse_opts *o, const char *path,
                     const struct cms_ynode *at, struct cms_ynode **tree)
{
        _cleanup_free_ char *text = NULL;
        if (!o->load)
                return cms_cp_fail(c, at, "extends.file",
                                   "'%.100s': files beside the compose file are not read here",
                                   path);
        int r = o->load(o->load_ud, "extends.file", path, &text, c->err);
        if (r == -ENOENT)
                r = cms_err(c->err, 400, "extends.file: %.200s not found", path);
        if (r == 0)
                r = cms_ytree_parse(text, strlen(text), tree, c->err);
        if (r == 0 && (!*tree || (*tree)->kind != CMS_Y_MAP))
                r = cms_cp_fail(c, at, "extends.file", "'%.100s' is not a compose mapping", path);
        if (r == 0)
                r = cms_cp_interpolate_tree(c, *tree, "");
        if (r < 0 && c->err && c->err->status == 400 && !strstr(c->err->message, path)) {
                char msg[sizeof(c->err->message)];
                snprintf(msg, sizeof(msg), "%s", c->err->message);
                cms_err(c->err, 400, "extends.file %.200s: %s", path, msg);
        }
        return r;
}

/* The base service in another file, resolved there; *base is a new reference. */
static int from_file(struct cms_cp *c, const struct cms_compose_parse_opts *o,
                     const struct xfile *f, const char *file, const char *svc,
                     const struct cms_ynode *at, struct cms_ynode **base)
{
        _cleanup_free_ char *path = join(f->dir, file);
        if (!path)
                return cms_cp_fail(c, at, "extends.file",
                                   "the relative path '%.100s' needs the project's working_dir",
                                   file);
        if (f->hops >= MAX_HOPS)
                return cms_cp_fail(c, at, "extends", "more than %d files deep", MAX_HOPS);
        struct cms_ynode *tree = NULL;
        int r = load_file(c, o, path, at, &tree);
        struct cms_ynode *services = r == 0 ? cms_ymap_get(tree, "services") : NULL;
        size_t k = services && services->kind == CMS_Y_MAP ? find(services, svc) : SIZE_MAX;
        if (r == 0 && k == SIZE_MAX)
                r = cms_cp_fail(c, at, "extends", "no service '%.64s' in %.100s", svc, path);
        struct xfile g = {.services = services, .hops = f->hops + 1};
        char *slash = path ? strrchr(path, '/') : NULL;
        if (r == 0 && slash && !(g.dir = strndup(path, (size_t)(slash - path))))
                r = cms_cp_oom(c);
        if (r == 0 && !(g.state = calloc(services->n / 2 + 1, 1)))
                r = cms_cp_oom(c);
        if (r == 0)
                r = resolve(c, o, &g, k);
        if (r == 0 && g.dir) /* its paths are relative to its own file, as docker compose has it */
                r = cms_cp_rebase_service(c, services->kids[2 * k + 1], g.dir);
        if (r == 0) {
                *base = services->kids[2 * k + 1];
                (*base)->refs++;
        }
        free(g.dir);
        free(g.state);
        cms_ynode_unref(tree);
        return r;
}

/* extends: "base" or {service: base, file: path}. */
static int read_extends(struct cms_cp *c, const struct cms_ynode *e, const char *path,
                        const char **svc, const char **file)
{
        static const char *const keys[] = {"service", "file", NULL};
        if (e->kind == CMS_Y_SCALAR && !e->null && *e->value) {
                *svc = e->value;
                return 0;
        }
        int r = cms_cp_need(c, e, path, CMS_Y_MAP);
        if (r < 0)
                return r;
        cms_cp_check_keys(c, e, path, keys, NULL);
        const struct cms_ynode *s = cms_ymap_get(e, "service"), *f = cms_ymap_get(e, "file");
        char sub[300];
        cms_cp_sub(sub, sizeof(sub), "%s.service", path);
        if ((r = cms_cp_need(c, s, sub, CMS_Y_SCALAR)) < 0)
                return r;
        *svc = s->value;
        cms_cp_sub(sub, sizeof(sub), "%s.file", path);
        if (f && !f->null && (r = cms_cp_need(c, f, sub, CMS_Y_SCALAR)) < 0)
                return r;
        *file = f && !f->null ? f->value : NULL;
        return 0;
}

static int resolve(struct cms_cp *c, const struct cms_compose_parse_opts *o, struct xfile *f,
                   size_t i)
{
        struct cms_ynode *svc = f->services->kids[2 * i + 1];
        const char *name = f->services->kids[2 * i]->value;
        const struct cms_ynode *e = svc->kind == CMS_Y_MAP ? cms_ymap_get(svc, "extends") : NULL;
        if (f->state[i] == 2 || !e) {
                f->state[i] = 2;
                return 0;
        }
        if (f->state[i] == 1)
                return cms_cp_fail(c, e, "extends", "cycle through service '%.64s'", name);
        f->state[i] = 1;
        char path[200];
        const char *base_name = NULL, *file = NULL;
        struct cms_ynode *base = NULL, *merged = NULL;
        cms_cp_sub(path, sizeof(path), "services.%.64s.extends", name);
        int r = read_extends(c, e, path, &base_name, &file);
        if (r == 0 && file) {
                r = from_file(c, o, f, file, base_name, e, &base);
        } else if (r == 0) {
                size_t k = find(f->services, base_name);
                if (k == SIZE_MAX)
                        return cms_cp_fail(c, e, path, "no service '%.64s' to extend", base_name);
                if ((r = resolve(c, o, f, k)) == 0) {
                        base = f->services->kids[2 * k + 1];
                        base->refs++;
                }
        }
        if (r == 0)
                r = cms_ytree_merge_service(base, svc, name, &merged, c->err);
        cms_ynode_unref(base);
        if (r < 0)
                return r;
        f->services->kids[2 * i + 1] = merged;
        cms_ynode_unref(svc);
        f->state[i] = 2;
        return 0;
}

int cms_cp_extends(struct cms_cp *c, const struct cms_compose_parse_opts *o, struct cms_ynode *root)
{
        struct cms_ynode *services = cms_ymap_get(root, "services");
        if (!services || services->kind != CMS_Y_MAP)
                return 0;
        bool any = false;
        for (size_t i = 1; i < services->n && !any; i += 2)
                any = services->kids[i]->kind == CMS_Y_MAP &&
                      cms_ymap_get(services->kids[i], "extends");
        if (!any)
                return 0;
        if (services->refs > 1)
                return cms_cp_fail(c, services, "services",
                                   "a services mapping shared through an alias cannot extend");
        struct xfile f = {.services = services, .dir = (char *)o->working_dir};
        if (!(f.state = calloc(services->n / 2 + 1, 1)))
                return cms_cp_oom(c);
        int r = 0;
        size_t total = 0;
        for (size_t i = 0; r == 0 && i < services->n / 2; i++)
                r = resolve(c, o, &f, i);
        for (size_t i = 1; r == 0 && i < services->n; i += 2)
                total += services->kids[i]->size;
        if (r == 0 && total > CMS_COMPOSE_MAX_NODES)
                r = cms_cp_fail(c, services, "services", "larger than %d nodes once extended",
                                CMS_COMPOSE_MAX_NODES);
        free(f.state);
        return r;
}
