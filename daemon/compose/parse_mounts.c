/* Service volumes (short "src:dst[:mode]" and the long mapping) and tmpfs. A short-syntax
 * source is a host path when it starts with "/", "." or "~" (Compose's rule), else a volume
 * name; relative host paths are resolved against the project's working_dir when there is one. */
#include "internal.h"

#include <ctype.h>

static struct cms_compose_mount *mount_new(struct cms_cp *c, struct cms_compose_service *s)
{
        struct cms_compose_mount *m = realloc(s->volumes, (s->n_volumes + 1) * sizeof(*m));
        if (!m)
                return NULL;
        s->volumes = m;
        m = &s->volumes[s->n_volumes++];
        memset(m, 0, sizeof(*m));
        m->tmpfs_mode = -1;
        m->create_host_path = true;
        return m;
}

static bool is_path(const char *s)
{
        return s[0] == '/' || s[0] == '.' || s[0] == '~';
}

/* "./data" -> "<working_dir>/data"; absolute paths and "~" stay as they are. */
static int host_path(struct cms_cp *c, const char *src, char **out)
{
        if (src[0] != '.' || !c->working_dir) {
                *out = strdup(src);
        } else {
                const char *rest = !strcmp(src, ".")               ? ""
                                   : cms_str_has_prefix(src, "./") ? src + 2
                                                                   : src;
                size_t wl = strlen(c->working_dir);
                bool slash = wl && c->working_dir[wl - 1] == '/';
                *out =
                    cms_strdup_printf("%s%s%s", c->working_dir, slash || !*rest ? "" : "/", rest);
        }
        return *out ? 0 : cms_cp_oom(c);
}

static int target_ok(struct cms_cp *c, const struct cms_ynode *n, const char *path,
                     const struct cms_compose_service *s, const char *target)
{
        if (target[0] != '/')
                return cms_cp_fail(c, n, path, "target '%.64s' must be an absolute path", target);
        for (size_t i = 0; i + 1 < s->n_volumes; i++)
                if (!strcmp(s->volumes[i].target, target))
                        return cms_cp_fail(c, n, path, "duplicate mount point '%.64s'", target);
        return 0;
}

/* One access-mode word of the short syntax. */
static int short_mode(struct cms_cp *c, const struct cms_ynode *n, const char *path,
                      struct cms_compose_mount *m, const char *w)
{
        static const char *const props[] = {"shared", "rshared", "slave",
                                            "rslave", "private", "rprivate"};
        static const char *const consistency[] = {"cached", "delegated", "consistent"};
        if (!strcmp(w, "ro") || !strcmp(w, "rw")) {
                m->read_only = w[1] == 'o';
                return 0;
        }
        if (!strcmp(w, "z") || !strcmp(w, "Z"))
                return (m->selinux = strdup(w)) ? 0 : cms_cp_oom(c);
        if (!strcmp(w, "nocopy") && m->type == CMS_COMPOSE_MOUNT_VOLUME) {
                m->nocopy = true;
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(props); i++)
                if (!strcmp(w, props[i]) && m->type == CMS_COMPOSE_MOUNT_BIND)
                        return (m->propagation = strdup(w)) ? 0 : cms_cp_oom(c);
        for (size_t i = 0; i < ELEMENTSOF(consistency); i++)
                if (!strcmp(w, consistency[i]))
                        return (m->consistency = strdup(w)) ? 0 : cms_cp_oom(c);
        return cms_cp_fail(c, n, path, "unknown volume option '%.32s' in '%.64s'", w, n->value);
}

static int volume_short(struct cms_cp *c, const struct cms_ynode *n, const char *path,
                        struct cms_compose_service *s)
{
        struct cms_compose_strv parts = {0};
        const char *p = n->value;
        int r = 0;
        for (;;) {
                size_t l = strcspn(p, ":");
                if (cms_compose_strv_take(&parts, strndup(p, l)) < 0) {
                        cms_compose_strv_done(&parts);
                        return cms_cp_oom(c);
                }
                if (!p[l])
                        break;
                p += l + 1;
        }
        struct cms_compose_mount *m = parts.n <= 3 ? mount_new(c, s) : NULL;
        if (parts.n > 3 || !*parts.v[0] || (parts.n > 1 && !*parts.v[1]))
                r = cms_cp_fail(c, n, path,
                                "invalid volume '%.64s' (expected "
                                "[source:]target[:mode])",
                                n->value);
        else if (!m)
                r = cms_cp_oom(c);
        const char *target = r == 0 ? parts.v[parts.n > 1] : NULL;
        if (r == 0 && parts.n > 1) {
                const char *src = parts.v[0];
                m->type = is_path(src) ? CMS_COMPOSE_MOUNT_BIND : CMS_COMPOSE_MOUNT_VOLUME;
                r = m->type == CMS_COMPOSE_MOUNT_BIND ? host_path(c, src, &m->source)
                    : (m->source = strdup(src))       ? 0
                                                      : cms_cp_oom(c);
        }
        if (r == 0 && !(m->target = strdup(target)))
                r = cms_cp_oom(c);
        if (r == 0)
                r = target_ok(c, n, path, s, target);
        for (const char *w = parts.n == 3 ? parts.v[2] : NULL; r == 0 && w && *w;) {
                size_t l = strcspn(w, ",");
                _cleanup_free_ char *word = strndup(w, l);
                r = word ? short_mode(c, n, path, m, word) : cms_cp_oom(c);
                w += l + (w[l] == ',');
        }
        cms_compose_strv_done(&parts);
        return r;
}

/* tmpfs mode: octal digits, as 1777, "1777", "0o1777" or "01777". */
static int octal_mode(struct cms_cp *c, const struct cms_ynode *n, const char *path, int *out)
{
        if (!n || n->null)
                return 0;
        int r = cms_cp_need(c, n, path, CMS_Y_SCALAR);
        if (r < 0)
                return r;
        const char *d = cms_str_has_prefix(n->value, "0o") ? n->value + 2 : n->value;
        char *end;
        long v = isdigit((unsigned char)*d) ? strtol(d, &end, 8) : -1;
        if (v < 0 || *end || v > 07777)
                return cms_cp_fail(c, n, path, "not an octal mode: '%.32s'", n->value);
        *out = (int)v;
        return 0;
}

/* The type-specific sub-mapping: bind {...}, volume {...}, tmpfs {...}. */
static int long_options(struct cms_cp *c, const struct cms_ynode *n, const char *path,
                        struct cms_compose_mount *m)
{
        static const char *const names[] = {"volume", "bind", "tmpfs"};
        static const char *const vkeys[] = {"nocopy", "subpath", NULL};
        static const char *const bkeys[] = {"propagation", "create_host_path", "selinux", NULL};
        static const char *const tkeys[] = {"size", "mode", NULL};
        static const char *const *const keys[] = {vkeys, bkeys, tkeys};
        char sub[320], sub2[360];
        for (size_t t = 0; t < ELEMENTSOF(names); t++) {
                const struct cms_ynode *o = cms_ymap_get(n, names[t]);
                int r = 0;
                cms_cp_sub(sub, sizeof(sub), "%s.%s", path, names[t]);
                if (!o || o->null)
                        continue;
                if (t != m->type)
                        return cms_cp_fail(c, o, sub, "only for type %s", names[t]);
                if ((r = cms_cp_need(c, o, sub, CMS_Y_MAP)) < 0)
                        return r;
                cms_cp_check_keys(c, o, sub, keys[t], NULL);
#define SUB(k) (cms_cp_sub(sub2, sizeof(sub2), "%.200s.%s", sub, k), sub2)
                if (t == CMS_COMPOSE_MOUNT_VOLUME) {
                        r = cms_cp_bool(c, cms_ymap_get(o, "nocopy"), SUB("nocopy"), &m->nocopy);
                        if (r == 0)
                                r = cms_cp_str(c, cms_ymap_get(o, "subpath"), SUB("subpath"),
                                               &m->subpath);
                } else if (t == CMS_COMPOSE_MOUNT_BIND) {
                        r = cms_cp_str(c, cms_ymap_get(o, "propagation"), SUB("propagation"),
                                       &m->propagation);
                        if (r == 0)
                                r = cms_cp_bool(c, cms_ymap_get(o, "create_host_path"),
                                                SUB("create_host_path"), &m->create_host_path);
                        if (r == 0)
                                r = cms_cp_str(c, cms_ymap_get(o, "selinux"), SUB("selinux"),
                                               &m->selinux);
                } else {
                        r = cms_cp_size(c, cms_ymap_get(o, "size"), SUB("size"), &m->tmpfs_size);
                        if (r == 0)
                                r = octal_mode(c, cms_ymap_get(o, "mode"), SUB("mode"),
                                               &m->tmpfs_mode);
                }
#undef SUB
                if (r < 0)
                        return r;
        }
        return 0;
}

static int volume_long(struct cms_cp *c, const struct cms_ynode *n, const char *path,
                       struct cms_compose_service *s)
{
        static const char *const keys[] = {"type",   "source", "target",      "read_only", "bind",
                                           "volume", "tmpfs",  "consistency", NULL};
        static const char *const types[] = {"volume", "bind", "tmpfs"};
        char sub[320];
        _cleanup_free_ char *type = NULL, *src = NULL;
        cms_cp_check_keys(c, n, path, keys, NULL);
#define SUB(k) (cms_cp_sub(sub, sizeof(sub), "%.200s.%s", path, k), sub)
        int r = cms_cp_str_req(c, cms_ymap_get(n, "type"), SUB("type"), &type);
        size_t t = 0;
        while (r == 0 && t < ELEMENTSOF(types) && strcmp(type, types[t]))
                t++;
        if (r == 0 && t == ELEMENTSOF(types))
                return cms_cp_fail(c, cms_ymap_get(n, "type"), sub,
                                   "'%.32s' is not supported (volume, bind or tmpfs)", type);
        struct cms_compose_mount *m = r == 0 ? mount_new(c, s) : NULL;
        if (r == 0 && !m)
                return cms_cp_oom(c);
        if (r == 0) {
                m->type = (enum cms_compose_mount_type)t;
                r = cms_cp_str(c, cms_ymap_get(n, "source"), SUB("source"), &src);
        }
        if (r == 0 && src && !*src) {
                free(src);
                src = NULL;
        }
        if (r == 0 && m->type == CMS_COMPOSE_MOUNT_BIND && !src)
                r = cms_cp_fail(c, n, sub, "a bind mount needs a source");
        else if (r == 0 && m->type == CMS_COMPOSE_MOUNT_TMPFS && src)
                r = cms_cp_fail(c, n, sub, "a tmpfs mount has no source");
        else if (r == 0 && src)
                r = m->type == CMS_COMPOSE_MOUNT_BIND ? host_path(c, src, &m->source)
                                                      : (m->source = TAKE_PTR(src), 0);
        if (r == 0)
                r = cms_cp_str_req(c, cms_ymap_get(n, "target"), SUB("target"), &m->target);
        if (r == 0)
                r = target_ok(c, n, path, s, m->target);
        if (r == 0)
                r = cms_cp_bool(c, cms_ymap_get(n, "read_only"), SUB("read_only"), &m->read_only);
        if (r == 0)
                r = cms_cp_str(c, cms_ymap_get(n, "consistency"), SUB("consistency"),
                               &m->consistency);
#undef SUB
        return r == 0 ? long_options(c, n, path, m) : r;
}

int cms_cp_volumes(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                   struct cms_compose_service *s)
{
        return cms_cp_short_or_long(c, v, path, s, volume_short, volume_long);
}

int cms_cp_tmpfs(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                 struct cms_compose_service *s)
{
        int r = cms_cp_strv(c, v, path, true, &s->tmpfs);
        for (size_t i = 0; r == 0 && i < s->tmpfs.n; i++)
                if (s->tmpfs.v[i][0] != '/')
                        r = cms_cp_fail(c, v, path, "'%.64s' is not an absolute path",
                                        s->tmpfs.v[i]);
        return r;
}
