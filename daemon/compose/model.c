/* The compose model's plumbing: string lists and sorted string maps, freeing a project, lookups
 * by name, the project-name rule, the shell-like word splitter for command strings and the
 * capped warnings list that parsing, interpolation and translation all add to. */
#include "internal.h"

#include <ctype.h>

int cms_compose_strv_take(struct cms_compose_strv *v, char *s)
{
        if (!s)
                return -ENOMEM;
        /* Doubling, not one more slot a call: a 4,096-port expose range was quadratic in
         * realloc's copies (every one under ASan: 0.1 s an input for fuzz_compose). */
        if (v->n + 2 > v->cap) {
                size_t cap = v->n < 6 ? 8 : (v->n + 2) * 2;
                char **nv = realloc(v->v, cap * sizeof(*nv));
                if (!nv) {
                        free(s);
                        return -ENOMEM;
                }
                v->v = nv;
                v->cap = cap;
        }
        v->v[v->n++] = s;
        v->v[v->n] = NULL;
        return 0;
}

int cms_compose_strv_add(struct cms_compose_strv *v, const char *s)
{
        return cms_compose_strv_take(v, strdup(s));
}

void cms_compose_strv_done(struct cms_compose_strv *v)
{
        for (size_t i = 0; i < v->n; i++)
                free(v->v[i]);
        free(v->v);
        v->v = NULL;
        v->n = 0;
        v->cap = 0;
}

static int str_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

void cms_compose_strv_sort(struct cms_compose_strv *v)
{
        if (v->n > 1)
                qsort(v->v, v->n, sizeof(*v->v), str_cmp);
}

bool cms_compose_strv_has(const struct cms_compose_strv *v, const char *s)
{
        for (size_t i = 0; i < v->n; i++)
                if (!strcmp(v->v[i], s))
                        return true;
        return false;
}

/* Binary search: the index of key, or where it would go (found tells which). */
static size_t kvs_find(const struct cms_compose_kvs *m, const char *key, bool *found)
{
        size_t lo = 0, hi = m->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(m->v[mid].key, key);
                if (c == 0) {
                        *found = true;
                        return mid;
                }
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *found = false;
        return lo;
}

/* Room for one more entry (doubling); -ENOMEM. */
static int kvs_grow(struct cms_compose_kvs *m)
{
        if (m->n + 1 <= m->cap)
                return 0;
        size_t cap = m->n < 8 ? 8 : (m->n + 1) * 2;
        struct cms_compose_kv *nv = realloc(m->v, cap * sizeof(*nv));
        if (!nv)
                return -ENOMEM;
        m->v = nv;
        m->cap = cap;
        return 0;
}

int cms_compose_kvs_set(struct cms_compose_kvs *m, const char *key, const char *value)
{
        bool found;
        size_t at = kvs_find(m, key, &found);
        char *v = value ? strdup(value) : NULL;
        if (value && !v)
                return -ENOMEM;
        if (found) {
                free(m->v[at].value);
                m->v[at].value = v;
                return 0;
        }
        char *k = strdup(key);
        if (!k || kvs_grow(m) < 0) {
                free(k);
                free(v);
                return -ENOMEM;
        }
        memmove(m->v + at + 1, m->v + at, (m->n - at) * sizeof(*m->v));
        m->v[at] = (struct cms_compose_kv){k, v};
        m->n++;
        return 0;
}

int cms_compose_kvs_push(struct cms_compose_kvs *m, const char *key, const char *value)
{
        char *k = strdup(key), *v = value ? strdup(value) : NULL;
        if (!k || (value && !v) || kvs_grow(m) < 0) {
                free(k);
                free(v);
                return -ENOMEM;
        }
        m->v[m->n++] = (struct cms_compose_kv){k, v};
        return 0;
}

/* By key, then by place in the array (the order they were pushed in). */
static int kv_place_cmp(const void *a, const void *b)
{
        const struct cms_compose_kv *x = *(struct cms_compose_kv *const *)a,
                                    *y = *(struct cms_compose_kv *const *)b;
        int c = strcmp(x->key, y->key);
        return c ? c : (x > y) - (x < y);
}

int cms_compose_kvs_sort(struct cms_compose_kvs *m)
{
        if (m->n < 2)
                return 0;
        struct cms_compose_kv **by = malloc(m->n * sizeof(*by)), *nv = malloc(m->n * sizeof(*nv));
        if (!by || !nv) {
                free(by);
                free(nv);
                return -ENOMEM;
        }
        for (size_t i = 0; i < m->n; i++)
                by[i] = &m->v[i];
        qsort(by, m->n, sizeof(*by), kv_place_cmp);
        size_t kept = 0;
        for (size_t i = 0; i < m->n; i++) {
                if (i + 1 < m->n && !strcmp(by[i]->key, by[i + 1]->key)) {
                        free(by[i]->key); /* a later one of the same key wins */
                        free(by[i]->value);
                        continue;
                }
                nv[kept++] = *by[i];
        }
        free(by);
        free(m->v);
        m->v = nv;
        m->cap = m->n;
        m->n = kept;
        return 0;
}

const struct cms_compose_kv *cms_compose_kvs_get(const struct cms_compose_kvs *m, const char *key)
{
        bool found;
        size_t at = kvs_find(m, key, &found);
        return found ? &m->v[at] : NULL;
}

void cms_compose_kvs_done(struct cms_compose_kvs *m)
{
        for (size_t i = 0; i < m->n; i++) {
                free(m->v[i].key);
                free(m->v[i].value);
        }
        free(m->v);
        m->v = NULL;
        m->n = 0;
        m->cap = 0;
}

static void strv_free(struct cms_compose_strv *v)
{
        if (v) {
                cms_compose_strv_done(v);
                free(v);
        }
}

static void free_ports(struct cms_compose_service *s)
{
        for (size_t i = 0; i < s->n_ports; i++) {
                struct cms_compose_port *p = &s->ports[i];
                free(p->published);
                free(p->host_ip);
                free(p->protocol);
                free(p->mode);
                free(p->name);
                free(p->app_protocol);
        }
        free(s->ports);
        for (size_t i = 0; i < s->n_volumes; i++) {
                struct cms_compose_mount *m = &s->volumes[i];
                free(m->source);
                free(m->target);
                free(m->propagation);
                free(m->selinux);
                free(m->subpath);
                free(m->consistency);
        }
        free(s->volumes);
}

static void free_links(struct cms_compose_service *s)
{
        for (size_t i = 0; i < s->n_networks; i++) {
                free(s->networks[i].name);
                cms_compose_strv_done(&s->networks[i].aliases);
                free(s->networks[i].ipv4_address);
                free(s->networks[i].ipv6_address);
        }
        free(s->networks);
        for (size_t i = 0; i < s->n_depends_on; i++)
                free(s->depends_on[i].service);
        free(s->depends_on);
        for (size_t i = 0; i < s->n_env_files; i++)
                free(s->env_files[i].path);
        free(s->env_files);
        if (s->build) {
                free(s->build->context);
                free(s->build->dockerfile);
                free(s->build->target);
                cms_compose_kvs_done(&s->build->args);
                cms_compose_kvs_done(&s->build->labels);
                cms_compose_kvs_done(&s->build->additional_contexts);
                free(s->build);
        }
}

void cms_compose_host_done(struct cms_compose_host *h)
{
        char **strs[] = {&h->pid,
                         &h->ipc,
                         &h->uts,
                         &h->userns_mode,
                         &h->cgroup,
                         &h->cgroup_parent,
                         &h->mac_address,
                         &h->runtime,
                         &h->isolation,
                         &h->log_driver,
                         &h->seccomp_profile};
        struct cms_compose_strv *lists[] = {&h->devices,      &h->device_cgroup_rules,
                                            &h->security_opt, &h->group_add,
                                            &h->volumes_from, &h->external_links};
        struct cms_compose_kvs *maps[] = {&h->sysctls, &h->storage_opt, &h->annotations,
                                          &h->log_options};
        for (size_t i = 0; i < ELEMENTSOF(strs); i++)
                free(*strs[i]);
        for (size_t i = 0; i < ELEMENTSOF(lists); i++)
                cms_compose_strv_done(lists[i]);
        for (size_t i = 0; i < ELEMENTSOF(maps); i++)
                cms_compose_kvs_done(maps[i]);
        for (size_t i = 0; i < h->n_ulimits; i++)
                free(h->ulimits[i].name);
        free(h->ulimits);
        for (int k = 0; k < CMS_COMPOSE_BLKIO_N; k++) {
                for (size_t i = 0; i < h->blkio.n[k]; i++)
                        free(h->blkio.devs[k][i].path);
                free(h->blkio.devs[k]);
        }
        memset(h, 0, sizeof(*h));
}

/* secrets, configs and hooks (parse_secrets.c, parse_hooks.c) */
void cms_compose_filedefs_done(struct cms_compose_filedef *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(v[i].key);
                free(v[i].name);
                free(v[i].file);
                free(v[i].environment);
                if (v[i].data)
                        explicit_bzero(v[i].data, v[i].len);
                free(v[i].data);
        }
        free(v);
}

void cms_compose_filerefs_done(struct cms_compose_fileref *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(v[i].source);
                free(v[i].target);
                free(v[i].uid);
                free(v[i].gid);
        }
        free(v);
}

void cms_compose_hooks_done(struct cms_compose_hook *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                cms_compose_strv_done(&v[i].command);
                free(v[i].user);
                free(v[i].working_dir);
                cms_compose_kvs_done(&v[i].environment);
        }
        free(v);
}

static void update_done(struct cms_compose_update *u)
{
        free(u->failure_action);
        free(u->order);
}

static void deploy_done(struct cms_compose_deploy *d)
{
        cms_compose_kvs_done(&d->labels);
        cms_compose_strv_done(&d->constraints);
        cms_compose_strv_done(&d->spread);
        update_done(&d->update);
        update_done(&d->rollback);
        free(d->restart_condition);
        free(d->endpoint_mode);
        memset(d, 0, sizeof(*d));
}

void cms_compose_service_done(struct cms_compose_service *s)
{
        char **strs[] = {
            &s->name,        &s->image,       &s->network_mode,    &s->restart,        &s->user,
            &s->working_dir, &s->hostname,    &s->domainname,      &s->container_name, &s->platform,
            &s->pull_policy, &s->stop_signal, &s->resources.cpuset};
        struct cms_compose_strv *lists[] = {
            &s->expose,      &s->tmpfs,   &s->dns,      &s->dns_search, &s->dns_opt,
            &s->extra_hosts, &s->cap_add, &s->cap_drop, &s->profiles,   &s->healthcheck.test};
        for (size_t i = 0; i < ELEMENTSOF(strs); i++)
                free(*strs[i]);
        for (size_t i = 0; i < ELEMENTSOF(lists); i++)
                cms_compose_strv_done(lists[i]);
        strv_free(s->command);
        strv_free(s->entrypoint);
        cms_compose_kvs_done(&s->environment);
        cms_compose_kvs_done(&s->labels);
        free_ports(s);
        free_links(s);
        cms_compose_host_done(&s->host);
        cms_compose_filerefs_done(s->secrets, s->n_secrets);
        cms_compose_filerefs_done(s->configs, s->n_configs);
        cms_compose_hooks_done(s->post_start, s->n_post_start);
        cms_compose_hooks_done(s->pre_stop, s->n_pre_stop);
        deploy_done(&s->deploy);
        memset(s, 0, sizeof(*s));
}

void cms_compose_network_done(struct cms_compose_network *n)
{
        free(n->key);
        free(n->name);
        free(n->driver);
        free(n->ipam_driver);
        cms_compose_kvs_done(&n->driver_opts);
        cms_compose_kvs_done(&n->labels);
        for (size_t i = 0; i < n->n_ipam; i++) {
                free(n->ipam[i].subnet);
                free(n->ipam[i].ip_range);
                free(n->ipam[i].gateway);
        }
        free(n->ipam);
        memset(n, 0, sizeof(*n));
}

void cms_compose_volume_done(struct cms_compose_volume *v)
{
        free(v->key);
        free(v->name);
        free(v->driver);
        cms_compose_kvs_done(&v->driver_opts);
        cms_compose_kvs_done(&v->labels);
        memset(v, 0, sizeof(*v));
}

void cms_compose_project_free(struct cms_compose_project *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n_services; i++)
                cms_compose_service_done(&p->services[i]);
        for (size_t i = 0; i < p->n_networks; i++)
                cms_compose_network_done(&p->networks[i]);
        for (size_t i = 0; i < p->n_volumes; i++)
                cms_compose_volume_done(&p->volumes[i]);
        cms_compose_filedefs_done(p->secrets, p->n_secrets);
        cms_compose_filedefs_done(p->configs, p->n_configs);
        free(p->services);
        free(p->networks);
        free(p->volumes);
        free(p->name);
        free(p->working_dir);
        free(p);
}

const struct cms_compose_service *cms_compose_service_find(const struct cms_compose_project *p,
                                                           const char *name)
{
        for (size_t i = 0; p && i < p->n_services; i++)
                if (!strcmp(p->services[i].name, name))
                        return &p->services[i];
        return NULL;
}

const struct cms_compose_network *cms_compose_network_find(const struct cms_compose_project *p,
                                                           const char *key)
{
        for (size_t i = 0; p && i < p->n_networks; i++)
                if (!strcmp(p->networks[i].key, key))
                        return &p->networks[i];
        return NULL;
}

const struct cms_compose_volume *cms_compose_volume_find(const struct cms_compose_project *p,
                                                         const char *key)
{
        for (size_t i = 0; p && i < p->n_volumes; i++)
                if (!strcmp(p->volumes[i].key, key))
                        return &p->volumes[i];
        return NULL;
}

bool cms_compose_project_name_valid(const char *name)
{
        if (!name || !*name || strlen(name) > 63)
                return false;
        if (!islower((unsigned char)name[0]) && !isdigit((unsigned char)name[0]))
                return false;
        for (const char *p = name; *p; p++)
                if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && !strchr("_-", *p))
                        return false;
        return true;
}

/* One word starting at *pp (not at a blank): quotes and backslashes as a POSIX shell reads
 * them, without any expansion. */
static int split_one(const char **pp, struct cms_compose_strv *out)
{
        const char *p = *pp;
        struct cms_buf w;
        int r = 0;
        cms_buf_init(&w, CMS_COMPOSE_MAX_VALUE);
        while (r == 0 && *p && !isspace((unsigned char)*p)) {
                if (*p == '\'') {
                        const char *end = strchr(p + 1, '\'');
                        if (!end)
                                r = -EINVAL;
                        else
                                r = cms_buf_append(&w, p + 1, (size_t)(end - p - 1));
                        p = end ? end + 1 : p;
                } else if (*p == '"') {
                        for (p++; r == 0 && *p && *p != '"'; p++) {
                                if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
                                        p++;
                                r = cms_buf_append(&w, p, 1);
                        }
                        if (r == 0 && *p != '"')
                                r = -EINVAL;
                        p += *p == '"';
                } else {
                        if (*p == '\\' && p[1])
                                p++;
                        r = cms_buf_append(&w, p++, 1);
                }
        }
        if (r == 0)
                r = cms_buf_append(&w, "", 0);
        if (r == 0)
                r = cms_compose_strv_take(out, cms_buf_take(&w));
        cms_buf_free(&w);
        *pp = p;
        return r;
}

int cms_compose_split_words(const char *s, struct cms_compose_strv *out)
{
        const char *p = s;
        for (;;) {
                while (isspace((unsigned char)*p))
                        p++;
                if (!*p)
                        return 0;
                int r = split_one(&p, out);
                if (r < 0)
                        return r;
        }
}

/* A file with thousands of unknown keys must not cost thousands of linear scans: warnings stop at
 * a cap, the last one saying so. */
#define MAX_WARNINGS 100

void cms_compose_warn(json_object *warnings, const char *msg)
{
        if (!warnings)
                return;
        size_t n = json_object_array_length(warnings);
        if (n > MAX_WARNINGS)
                return;
        if (n == MAX_WARNINGS) {
                json_object_array_add(warnings,
                                      json_object_new_string("further warnings were left out"));
                return;
        }
        for (size_t i = 0; i < json_object_array_length(warnings); i++)
                if (!strcmp(json_object_get_string(json_object_array_get_idx(warnings, i)), msg))
                        return;
        json_object_array_add(warnings, json_object_new_string(msg));
}
