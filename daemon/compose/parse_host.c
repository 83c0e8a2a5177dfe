/* The service keys that reach the kernel or the engine's host side: ulimits, sysctls, devices,
 * device_cgroup_rules, security_opt, the namespace modes (pid, ipc, uts, userns_mode, cgroup),
 * cgroup_parent, group_add, the memory and CPU knobs (mem_swappiness, oom_*, cpu_count,
 * cpu_percent, cpu_rt_*), blkio_config, mac_address, runtime, isolation, storage_opt,
 * annotations, attach, logging, volumes_from and external_links. Each is read in the forms the
 * compose specification allows and normalized, so both spellings hash alike; what they may do
 * to the host is the policy's business once translated (translate_host.c, security/policy.c). */
#include "internal.h"

#include <ctype.h>

typedef struct cms_compose_host H;

static int need_str(struct cms_cp *c, const struct cms_ynode *v, const char *path, char **out)
{
        return v->null ? 0 : cms_cp_str_req(c, v, path, out);
}

/* ---- ulimits ---- */

static const char *const ulimit_names[] = {
    "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue", "nice",
    "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack",    NULL};

static int ulimit_cmp(const void *a, const void *b)
{
        return strcmp(((const struct cms_compose_ulimit *)a)->name,
                      ((const struct cms_compose_ulimit *)b)->name);
}

static int ulimit_one(struct cms_cp *c, const struct cms_ynode *k, const struct cms_ynode *v,
                      const char *path, struct cms_compose_ulimit *u)
{
        static const char *const keys[] = {"soft", "hard", NULL};
        char sub[320];
        int64_t soft = -2, hard = -2;
        int r = 0;
        size_t i = 0;
        while (ulimit_names[i] && strcmp(ulimit_names[i], k->value))
                i++;
        if (!ulimit_names[i])
                return cms_cp_fail(c, k, path, "unknown ulimit '%.64s'", k->value);
        if (v->kind == CMS_Y_MAP) {
                cms_cp_check_keys(c, v, path, keys, NULL);
                cms_cp_sub(sub, sizeof(sub), "%s.soft", path);
                r = cms_cp_int(c, cms_ymap_get(v, "soft"), sub, -1, INT64_MAX, &soft);
                cms_cp_sub(sub, sizeof(sub), "%s.hard", path);
                if (r == 0)
                        r = cms_cp_int(c, cms_ymap_get(v, "hard"), sub, -1, INT64_MAX, &hard);
                if (r == 0 && (soft == -2 || hard == -2))
                        r = cms_cp_fail(c, v, path, "needs both soft and hard");
        } else {
                r = cms_cp_int(c, v, path, -1, INT64_MAX, &soft);
                hard = soft;
                if (r == 0 && soft == -2)
                        r = cms_cp_fail(c, v, path, "needs a value");
        }
        /* -1 is unlimited to the engines */
        if (r == 0 && hard != -1 && (soft == -1 || soft > hard))
                r = cms_cp_fail(c, v, path, "soft limit above the hard limit");
        u->soft = soft;
        u->hard = hard;
        if (r == 0 && !(u->name = strdup(k->value)))
                r = cms_cp_oom(c);
        return r;
}

static int f_ulimits(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                     struct cms_compose_service *s)
{
        H *h = &s->host;
        if (v->null)
                return 0;
        int r = cms_cp_need(c, v, path, CMS_Y_MAP);
        if (r < 0)
                return r;
        if (!(h->ulimits = calloc(v->n / 2 + 1, sizeof(*h->ulimits))))
                return cms_cp_oom(c);
        for (size_t i = 0; r == 0 && i + 1 < v->n; i += 2) {
                char sub[320];
                cms_cp_sub(sub, sizeof(sub), "%s.%.64s", path, v->kids[i]->value);
                r = ulimit_one(c, v->kids[i], v->kids[i + 1], sub, &h->ulimits[h->n_ulimits++]);
        }
        /* Sorted only when whole: an entry that failed is counted (so freed) but has no name. */
        if (r == 0)
                qsort(h->ulimits, h->n_ulimits, sizeof(*h->ulimits), ulimit_cmp);
        return r;
}

/* ---- maps: sysctls, storage_opt, annotations ---- */

static int kvs_values(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                      struct cms_compose_kvs *m)
{
        int r = cms_cp_kvs(c, v, path, m);
        for (size_t i = 0; r == 0 && i < m->n; i++)
                if (!m->v[i].value)
                        r = cms_cp_fail(c, v, path, "'%.64s' has no value", m->v[i].key);
        return r;
}

static int f_sysctls(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                     struct cms_compose_service *s)
{
        int r = kvs_values(c, v, path, &s->host.sysctls);
        for (size_t i = 0; r == 0 && i < s->host.sysctls.n; i++) {
                const char *k = s->host.sysctls.v[i].key;
                for (const char *p = k; r == 0 && *p; p++)
                        if (!isalnum((unsigned char)*p) && !strchr("._-/", *p))
                                r = cms_cp_fail(c, v, path, "not a sysctl name: '%.64s'", k);
        }
        return r;
}

static int f_storage_opt(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                         struct cms_compose_service *s)
{
        return kvs_values(c, v, path, &s->host.storage_opt);
}

static int f_annotations(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                         struct cms_compose_service *s)
{
        struct cms_compose_kvs *m = &s->host.annotations;
        int r = cms_cp_kvs(c, v, path, m);
        for (size_t i = 0; r == 0 && i < m->n; i++)
                if (!m->v[i].value && !(m->v[i].value = strdup("")))
                        r = cms_cp_oom(c);
        return r;
}

/* ---- lists ---- */

/* "/dev/a[:/dev/b[:rwm]]" or {source, target, permissions} -> "/dev/a:/dev/b:rwm". */
static int device_add(struct cms_cp *c, const struct cms_ynode *n, const char *path,
                      struct cms_compose_service *s, const char *src, const char *dst,
                      const char *perms)
{
        if (!src || src[0] != '/')
                return cms_cp_fail(c, n, path, "the host device must be an absolute path");
        if (dst && dst[0] != '/')
                return cms_cp_fail(c, n, path, "the container path must be absolute");
        if (perms && (!*perms || strspn(perms, "rwm") != strlen(perms)))
                return cms_cp_fail(c, n, path, "permissions '%.16s' are not a set of r, w, m",
                                   perms);
        char *e = cms_strdup_printf("%s:%s:%s", src, dst ? dst : src, perms ? perms : "rwm");
        return cms_compose_strv_take(&s->host.devices, e) < 0 ? cms_cp_oom(c) : 0;
}

static int device_short(struct cms_cp *c, const struct cms_ynode *e, const char *path,
                        struct cms_compose_service *s)
{
        _cleanup_free_ char *d = strdup(e->value);
        if (!d)
                return cms_cp_oom(c);
        char *c1 = strchr(d, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (c1)
                *c1 = 0;
        if (c2)
                *c2 = 0;
        /* "/dev/x:rw": the second part is permissions when it is not a path */
        if (c1 && !c2 && c1[1] != '/')
                return device_add(c, e, path, s, d, NULL, c1 + 1);
        return device_add(c, e, path, s, d, c1 ? c1 + 1 : NULL, c2 ? c2 + 1 : NULL);
}

static int device_long(struct cms_cp *c, const struct cms_ynode *e, const char *path,
                       struct cms_compose_service *s)
{
        static const char *const keys[] = {"source", "target", "permissions", NULL};
        char *src = NULL, *dst = NULL, *perms = NULL, sub[340];
        cms_cp_check_keys(c, e, path, keys, NULL);
        cms_cp_sub(sub, sizeof(sub), "%s.source", path);
        int r = cms_cp_str_req(c, cms_ymap_get(e, "source"), sub, &src);
        cms_cp_sub(sub, sizeof(sub), "%s.target", path);
        if (r == 0)
                r = cms_cp_str(c, cms_ymap_get(e, "target"), sub, &dst);
        cms_cp_sub(sub, sizeof(sub), "%s.permissions", path);
        if (r == 0)
                r = cms_cp_str(c, cms_ymap_get(e, "permissions"), sub, &perms);
        if (r == 0)
                r = device_add(c, e, path, s, src, dst, perms);
        free(src);
        free(dst);
        free(perms);
        return r;
}

static int f_devices(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                     struct cms_compose_service *s)
{
        return cms_cp_short_or_long(c, v, path, s, device_short, device_long);
}

/* "c 1:3 mr", "b *:* rwm", "a" */
static int f_device_cgroup_rules(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                                 struct cms_compose_service *s)
{
        struct cms_compose_strv *l = &s->host.device_cgroup_rules;
        int r = cms_cp_strv(c, v, path, false, l);
        for (size_t i = 0; r == 0 && i < l->n; i++) {
                const char *x = l->v[i];
                if (!strchr("abc", x[0]) || (x[1] && x[1] != ' '))
                        r = cms_cp_fail(c, v, path, "not a device cgroup rule: '%.64s'", x);
        }
        return r;
}

/* "seccomp=<file>": a relative profile path is the project directory's, as other host paths. */
static int seccomp_path(struct cms_cp *c, const struct cms_ynode *v, const char *path, char **opt)
{
        const char *file = *opt + 8;
        if (!cms_str_has_prefix(*opt, "seccomp=") || !strcmp(file, "unconfined") ||
            file[0] == '{' || file[0] == '/')
                return 0;
        if (!c->working_dir)
                return cms_cp_fail(c, v, path,
                                   "the relative seccomp profile '%.100s' needs the project's "
                                   "working_dir",
                                   file);
        char *abs = cms_strdup_printf("seccomp=%s/%s", c->working_dir,
                                      cms_str_has_prefix(file, "./") ? file + 2 : file);
        if (!abs)
                return cms_cp_oom(c);
        free(*opt);
        *opt = abs;
        return 0;
}

/* "seccomp:unconfined" is the old spelling of "seccomp=unconfined"; the engines take both, the
 * model keeps one. */
static int f_security_opt(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                          struct cms_compose_service *s)
{
        static const char *const keys[] = {"seccomp", "apparmor", "label", NULL};
        struct cms_compose_strv *l = &s->host.security_opt;
        int r = cms_cp_strv(c, v, path, false, l);
        for (size_t i = 0; r == 0 && i < l->n; i++) {
                char *colon = strchr(l->v[i], ':'), *eq = strchr(l->v[i], '=');
                for (size_t k = 0; colon && (!eq || colon < eq) && keys[k]; k++)
                        if ((size_t)(colon - l->v[i]) == strlen(keys[k]) &&
                            !strncmp(l->v[i], keys[k], strlen(keys[k])))
                                *colon = '=';
                if (!strcmp(l->v[i], "no-new-privileges:true") ||
                    !strcmp(l->v[i], "no-new-privileges=true"))
                        l->v[i][17] = 0;
                r = seccomp_path(c, v, path, &l->v[i]);
        }
        return r;
}

static int f_group_add(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                       struct cms_compose_service *s)
{
        return cms_cp_strv(c, v, path, false, &s->host.group_add);
}

/* "web", "service:web", "container:x", each with ":ro" or ":rw"; services order the start. */
static int f_volumes_from(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                          struct cms_compose_service *s)
{
        struct cms_compose_strv raw = {0};
        int r = cms_cp_strv(c, v, path, false, &raw);
        for (size_t i = 0; r == 0 && i < raw.n; i++) {
                char *e = raw.v[i], *mode = strrchr(e, ':');
                bool container = cms_str_has_prefix(e, "container:");
                if (mode && (!strcmp(mode, ":ro") || !strcmp(mode, ":rw")))
                        *mode++ = 0;
                else
                        mode = NULL;
                const char *name = container                           ? e + 10
                                   : cms_str_has_prefix(e, "service:") ? e + 8
                                                                       : e;
                if (!*name || strchr(name, ':')) {
                        r = cms_cp_fail(c, v, path,
                                        "not \"[service:|container:]name[:ro|rw]\": "
                                        "'%.64s'",
                                        raw.v[i]);
                        break;
                }
                if (!container)
                        r = cms_cp_add_dep(c, s, name, CMS_COMPOSE_SERVICE_STARTED, true, v->line);
                char *n = cms_strdup_printf("%s:%s%s%s", container ? "container" : "service", name,
                                            mode ? ":" : "", mode ? mode : "");
                if (r < 0)
                        free(n); /* not taken: a service naming itself (400) */
                else if (cms_compose_strv_take(&s->host.volumes_from, n) < 0)
                        r = cms_cp_oom(c);
        }
        cms_compose_strv_done(&raw);
        return r;
}

/* "container" or "container:alias" -> "container:alias". */
static int f_external_links(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                            struct cms_compose_service *s)
{
        struct cms_compose_strv raw = {0};
        int r = cms_cp_strv(c, v, path, false, &raw);
        for (size_t i = 0; r == 0 && i < raw.n; i++) {
                const char *e = raw.v[i], *colon = strchr(e, ':');
                if (!*e || colon == e || (colon && (!colon[1] || strchr(colon + 1, ':')))) {
                        r = cms_cp_fail(c, v, path, "not \"container[:alias]\": '%.64s'", e);
                        break;
                }
                char *n = colon ? strdup(e) : cms_strdup_printf("%s:%s", e, e);
                if (cms_compose_strv_take(&s->host.external_links, n) < 0)
                        r = cms_cp_oom(c);
        }
        cms_compose_strv_done(&raw);
        cms_compose_strv_sort(&s->host.external_links);
        return r;
}

/* ---- namespace modes and strings ---- */

/* pid/ipc: host, container:x, service:x (a dependency), or the engine's own words. */
static int mode_str(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                    struct cms_compose_service *s, char **out, const char *const *words)
{
        int r = need_str(c, v, path, out);
        if (r < 0 || !*out)
                return r;
        const char *m = *out;
        if (cms_str_has_prefix(m, "service:") && words == NULL)
                return cms_cp_fail(c, v, path, "service: is not a mode of this key");
        if (cms_str_has_prefix(m, "service:"))
                return m[8]
                           ? cms_cp_add_dep(c, s, m + 8, CMS_COMPOSE_SERVICE_STARTED, true, v->line)
                           : cms_cp_fail(c, v, path, "service: needs a service name");
        if (cms_str_has_prefix(m, "container:"))
                return m[10] ? 0 : cms_cp_fail(c, v, path, "container: needs a container name");
        for (size_t i = 0; words && words[i]; i++)
                if (!strcmp(m, words[i]))
                        return 0;
        if (!strcmp(m, "host"))
                return 0;
        return cms_cp_fail(c, v, path, "'%.64s' is not a mode cmsd knows", m);
}

static int f_pid(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                 struct cms_compose_service *s)
{
        static const char *const w[] = {"private", NULL};
        return mode_str(c, v, path, s, &s->host.pid, w);
}

static int f_ipc(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                 struct cms_compose_service *s)
{
        static const char *const w[] = {"private", "shareable", "none", NULL};
        return mode_str(c, v, path, s, &s->host.ipc, w);
}

static int f_uts(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                 struct cms_compose_service *s)
{
        int r = need_str(c, v, path, &s->host.uts);
        if (r == 0 && s->host.uts && strcmp(s->host.uts, "host"))
                r = cms_cp_fail(c, v, path, "the only uts mode is host");
        return r;
}

static int f_userns(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                    struct cms_compose_service *s)
{
        return need_str(c, v, path, &s->host.userns_mode);
}

static int f_cgroup(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                    struct cms_compose_service *s)
{
        int r = need_str(c, v, path, &s->host.cgroup);
        if (r == 0 && s->host.cgroup && strcmp(s->host.cgroup, "host") &&
            strcmp(s->host.cgroup, "private"))
                r = cms_cp_fail(c, v, path, "'%.64s' is not host or private", s->host.cgroup);
        return r;
}

#define STR_KEY(fn, field)                                                                         \
        static int fn(struct cms_cp *c, const struct cms_ynode *v, const char *path,               \
                      struct cms_compose_service *s)                                               \
        {                                                                                          \
                return need_str(c, v, path, &s->host.field);                                       \
        }
STR_KEY(f_cgroup_parent, cgroup_parent)
STR_KEY(f_mac_address, mac_address)
STR_KEY(f_runtime, runtime)
STR_KEY(f_isolation, isolation)
#undef STR_KEY

/* ---- numbers ---- */

static int f_mem_swappiness(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                            struct cms_compose_service *s)
{
        return cms_cp_int(c, v, path, 0, 100, &s->host.mem_swappiness);
}

static int f_oom_kill_disable(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                              struct cms_compose_service *s)
{
        return cms_cp_bool(c, v, path, &s->host.oom_kill_disable);
}

static int f_oom_score_adj(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                           struct cms_compose_service *s)
{
        if (v->null)
                return 0;
        s->host.oom_score_adj_set = true;
        return cms_cp_int(c, v, path, -1000, 1000, &s->host.oom_score_adj);
}

static int f_cpu_count(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                       struct cms_compose_service *s)
{
        return cms_cp_int(c, v, path, 0, 4096, &s->host.cpu_count);
}

static int f_cpu_percent(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                         struct cms_compose_service *s)
{
        return cms_cp_int(c, v, path, 0, 100, &s->host.cpu_percent);
}

/* An integer is microseconds; a duration ("950ms") is converted. */
static int micros(struct cms_cp *c, const struct cms_ynode *v, const char *path, int64_t *out)
{
        int64_t ms;
        if (v->null)
                return 0;
        int r = cms_cp_need(c, v, path, CMS_Y_SCALAR);
        if (r < 0)
                return r;
        if (cms_parse_int(v->value, 0, 1000000000, out) == 0)
                return 0;
        if (cms_parse_duration_ms(v->value, &ms) < 0 || ms > 1000000)
                return cms_cp_fail(c, v, path, "not microseconds or a duration: '%.64s'", v->value);
        *out = ms * 1000;
        return 0;
}

static int f_cpu_rt_period(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                           struct cms_compose_service *s)
{
        return micros(c, v, path, &s->host.cpu_rt_period);
}

static int f_cpu_rt_runtime(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                            struct cms_compose_service *s)
{
        return micros(c, v, path, &s->host.cpu_rt_runtime);
}

static int f_attach(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                    struct cms_compose_service *s)
{
        bool attach = true;
        int r = cms_cp_bool(c, v, path, &attach);
        s->host.no_attach = !attach;
        return r;
}

/* ---- blkio_config ---- */

static int blkio_list(struct cms_cp *c, const struct cms_ynode *v, const char *path, int which,
                      struct cms_compose_blkio *b)
{
        const char *vk = which == CMS_COMPOSE_BLKIO_WEIGHT_DEVICE ? "weight" : "rate";
        static const char *const wkeys[] = {"path", "weight", NULL}, *const rkeys[] = {
                                                                         "path", "rate", NULL};
        if (v->null)
                return 0;
        int r = cms_cp_need(c, v, path, CMS_Y_SEQ);
        if (r == 0 && !(b->devs[which] = calloc(v->n + 1, sizeof(*b->devs[which]))))
                r = cms_cp_oom(c);
        for (size_t i = 0; r == 0 && i < v->n; i++) {
                const struct cms_ynode *e = v->kids[i], *x;
                struct cms_compose_blkio_dev *d = &b->devs[which][b->n[which]++];
                char sub[320], sub2[340];
                cms_cp_sub(sub, sizeof(sub), "%s[%zu]", path, i);
                if ((r = cms_cp_need(c, e, sub, CMS_Y_MAP)) < 0)
                        break;
                cms_cp_check_keys(c, e, sub, which ? rkeys : wkeys, NULL);
                cms_cp_sub(sub2, sizeof(sub2), "%s.path", sub);
                if ((r = cms_cp_str_req(c, cms_ymap_get(e, "path"), sub2, &d->path)) < 0)
                        break; /* a device without a path reached translation as NULL */
                cms_cp_sub(sub2, sizeof(sub2), "%s.%s", sub, vk);
                x = cms_ymap_get(e, vk);
                if ((r = cms_cp_need(c, x, sub2, CMS_Y_SCALAR)) < 0)
                        break;
                if (which == CMS_COMPOSE_BLKIO_WEIGHT_DEVICE)
                        r = cms_cp_int(c, x, sub2, 10, 1000, &d->value);
                else if (which == CMS_COMPOSE_BLKIO_READ_BPS ||
                         which == CMS_COMPOSE_BLKIO_WRITE_BPS)
                        r = cms_cp_size(c, x, sub2, &d->value);
                else
                        r = cms_cp_int(c, x, sub2, 0, INT64_MAX, &d->value);
        }
        return r;
}

static const char *const blkio_keys[CMS_COMPOSE_BLKIO_N + 2] = {"weight_device",
                                                                "device_read_bps",
                                                                "device_write_bps",
                                                                "device_read_iops",
                                                                "device_write_iops",
                                                                "weight",
                                                                NULL};

const char *cms_compose_blkio_key(int which)
{
        return blkio_keys[which];
}

static int f_blkio(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                   struct cms_compose_service *s)
{
        struct cms_compose_blkio *b = &s->host.blkio;
        char sub[320];
        if (v->null)
                return 0;
        int r = cms_cp_need(c, v, path, CMS_Y_MAP);
        if (r < 0)
                return r;
        cms_cp_check_keys(c, v, path, blkio_keys, NULL);
        cms_cp_sub(sub, sizeof(sub), "%s.weight", path);
        const struct cms_ynode *w = cms_ymap_get(v, "weight");
        r = cms_cp_int(c, w, sub, 10, 1000, &b->weight);
        for (int i = 0; r == 0 && i < CMS_COMPOSE_BLKIO_N; i++) {
                const struct cms_ynode *x = cms_ymap_get(v, blkio_keys[i]);
                cms_cp_sub(sub, sizeof(sub), "%s.%s", path, blkio_keys[i]);
                if (x)
                        r = blkio_list(c, x, sub, i, b);
        }
        return r;
}

/* ---- logging ---- */

static int f_logging(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                     struct cms_compose_service *s)
{
        static const char *const keys[] = {"driver", "options", NULL};
        char sub[320];
        if (v->null)
                return 0;
        int r = cms_cp_need(c, v, path, CMS_Y_MAP);
        if (r < 0)
                return r;
        cms_cp_check_keys(c, v, path, keys, NULL);
        cms_cp_sub(sub, sizeof(sub), "%s.driver", path);
        r = cms_cp_str(c, cms_ymap_get(v, "driver"), sub, &s->host.log_driver);
        cms_cp_sub(sub, sizeof(sub), "%s.options", path);
        if (r == 0)
                r = kvs_values(c, cms_ymap_get(v, "options"), sub, &s->host.log_options);
        return r;
}

/* ---- the table ---- */

static const struct {
        const char *key;
        cms_cp_entry_fn fn;
} host_fields[] = {
    {"ulimits", f_ulimits},
    {"sysctls", f_sysctls},
    {"storage_opt", f_storage_opt},
    {"annotations", f_annotations},
    {"devices", f_devices},
    {"device_cgroup_rules", f_device_cgroup_rules},
    {"security_opt", f_security_opt},
    {"group_add", f_group_add},
    {"volumes_from", f_volumes_from},
    {"external_links", f_external_links},
    {"pid", f_pid},
    {"ipc", f_ipc},
    {"uts", f_uts},
    {"userns_mode", f_userns},
    {"cgroup", f_cgroup},
    {"cgroup_parent", f_cgroup_parent},
    {"mac_address", f_mac_address},
    {"runtime", f_runtime},
    {"isolation", f_isolation},
    {"mem_swappiness", f_mem_swappiness},
    {"oom_kill_disable", f_oom_kill_disable},
    {"oom_score_adj", f_oom_score_adj},
    {"cpu_count", f_cpu_count},
    {"cpu_percent", f_cpu_percent},
    {"cpu_rt_period", f_cpu_rt_period},
    {"cpu_rt_runtime", f_cpu_rt_runtime},
    {"blkio_config", f_blkio},
    {"attach", f_attach},
    {"logging", f_logging},
};

cms_cp_entry_fn cms_cp_host_field(const char *key)
{
        for (size_t i = 0; i < ELEMENTSOF(host_fields); i++)
                if (!strcmp(key, host_fields[i].key))
                        return host_fields[i].fn;
        return NULL;
}
