/* Planning on a parsed project: the start order in dependency levels (cycle and unknown-dependency
 * detection), container names, the labels Docker Compose puts on containers, networks and volumes
 * (so `docker compose ps` and `docker-compose ps` see cmsd's projects, and cmsd sees theirs), and
 * the config hash that decides whether a container must be recreated. */
#include "internal.h"

static int index_cmp(const void *key, const void *elem)
{
        return strcmp(key, ((const struct cms_compose_service *)elem)->name);
}

/* Services are sorted by name (cms_compose_parse); the index of name, or -1. */
static long service_index(const struct cms_compose_project *p, const char *name)
{
        const struct cms_compose_service *s =
            bsearch(name, p->services, p->n_services, sizeof(*p->services), index_cmp);
        return s ? (long)(s - p->services) : -1;
}

void cms_compose_plan_free(struct cms_compose_plan *pl)
{
        if (!pl)
                return;
        for (size_t i = 0; i < pl->n_levels; i++)
                free(pl->levels[i].services);
        free(pl->levels);
        free(pl->level_of);
        free(pl);
}

/* Walks dependencies among the services left over by the level pass (each still has one left
 * over) until one repeats: that loop is a cycle, named in the message. */
static int report_cycle(const struct cms_compose_project *p, const size_t *level_of,
                        struct cms_error *err)
{
        size_t n = p->n_services, start = 0, len = 0;
        _cleanup_free_ size_t *path = calloc(n + 1, sizeof(*path));
        _cleanup_free_ long *pos = calloc(n, sizeof(*pos));
        if (!path || !pos)
                return cms_err(err, 500, "out of memory");
        while (start < n && level_of[start] != SIZE_MAX)
                start++;
        for (size_t i = 0; i < n; i++)
                pos[i] = -1;
        size_t cur = start;
        while (pos[cur] < 0) {
                pos[cur] = (long)len;
                path[len++] = cur;
                const struct cms_compose_service *s = &p->services[cur];
                for (size_t d = 0; d < s->n_depends_on; d++) {
                        long j = service_index(p, s->depends_on[d].service);
                        if (j >= 0 && level_of[j] == SIZE_MAX) {
                                cur = (size_t)j;
                                break;
                        }
                }
        }
        char msg[400] = "";
        size_t off = 0;
        for (size_t i = (size_t)pos[cur]; i <= len && off < sizeof(msg); i++) {
                size_t k = i < len ? path[i] : cur;
                off += (size_t)snprintf(msg + off, sizeof(msg) - off, "%s%s", off ? " -> " : "",
                                        p->services[k].name);
        }
        return cms_err(err, 400, "dependency cycle between services: %s", msg);
}

static int add_to_level(struct cms_compose_plan *pl, size_t level, size_t svc)
{
        if (level >= pl->n_levels) {
                struct cms_compose_level *l = realloc(pl->levels, (level + 1) * sizeof(*l));
                if (!l)
                        return -ENOMEM;
                pl->levels = l;
                memset(&l[pl->n_levels], 0, (level + 1 - pl->n_levels) * sizeof(*l));
                pl->n_levels = level + 1;
        }
        struct cms_compose_level *l = &pl->levels[level];
        size_t *ns = realloc(l->services, (l->n + 1) * sizeof(*ns));
        if (!ns)
                return -ENOMEM;
        l->services = ns;
        l->services[l->n++] = svc;
        pl->level_of[svc] = level;
        return 0;
}

static int check_unknown(const struct cms_compose_project *p, struct cms_error *err)
{
        for (size_t i = 0; i < p->n_services; i++) {
                const struct cms_compose_service *s = &p->services[i];
                for (size_t d = 0; d < s->n_depends_on; d++)
                        if (service_index(p, s->depends_on[d].service) < 0)
                                return cms_err(err, 400,
                                               "service \"%s\" depends on undefined service "
                                               "\"%.64s\"",
                                               s->name, s->depends_on[d].service);
        }
        return 0;
}

/* Level of a service = 1 + the highest level among its dependencies. Passes over the services
 * until nothing changes: at most one pass per level, and levels <= services. */
int cms_compose_plan_new(const struct cms_compose_project *p, struct cms_compose_plan **out,
                         struct cms_error *err)
{
        *out = NULL;
        int r = check_unknown(p, err);
        if (r < 0)
                return r;
        struct cms_compose_plan *pl = calloc(1, sizeof(*pl));
        if (!pl || !(pl->level_of = calloc(p->n_services + 1, sizeof(*pl->level_of)))) {
                free(pl);
                return cms_err(err, 500, "out of memory");
        }
        size_t placed = 0, n = p->n_services;
        for (size_t i = 0; i < n; i++)
                pl->level_of[i] = SIZE_MAX;
        for (bool progress = true; progress && placed < n;) {
                progress = false;
                _cleanup_free_ size_t *now = calloc(n, sizeof(*now));
                size_t n_now = 0;
                if (!now) {
                        cms_compose_plan_free(pl);
                        return cms_err(err, 500, "out of memory");
                }
                /* decide the whole level from the previous levels only, then place it */
                for (size_t i = 0; i < n; i++) {
                        const struct cms_compose_service *s = &p->services[i];
                        bool ready = pl->level_of[i] == SIZE_MAX;
                        for (size_t d = 0; ready && d < s->n_depends_on; d++)
                                ready = pl->level_of[service_index(p, s->depends_on[d].service)] !=
                                        SIZE_MAX;
                        if (ready)
                                now[n_now++] = i;
                }
                size_t level = pl->n_levels;
                for (size_t k = 0; k < n_now && r == 0; k++)
                        r = add_to_level(pl, level, now[k]);
                if (r < 0) {
                        cms_compose_plan_free(pl);
                        return cms_err(err, 500, "out of memory");
                }
                placed += n_now;
                progress = n_now > 0;
        }
        if (placed < n) {
                r = report_cycle(p, pl->level_of, err);
                cms_compose_plan_free(pl);
                return r;
        }
        *out = pl;
        return 0;
}

/* ---- names, hash, labels ---- */

int cms_compose_config_hash(const struct cms_compose_service *s, char out[CMS_COMPOSE_HASH_LEN + 1])
{
        /* what Docker Compose v2 leaves out too: none of these changes the container itself */
        static const char *const excluded[] = {"build",    "pull_policy", "scale",   "depends_on",
                                               "profiles", "post_start",  "pre_stop"};
        json_object *o = cms_compose_service_to_json(s);
        if (!o)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(excluded); i++)
                json_object_object_del(o, excluded[i]);
        /* what a secret or config holds changes the container, though its JSON names only the
         * source: the content's sha256 counts */
        if (s->n_secrets || s->n_configs)
                json_object_object_add(o, "mounted_content", cms_compose_filerefs_digests(s));
        if (s->host.seccomp_profile) { /* likewise the seccomp profile a path names */
                unsigned char d[CMS_SHA256_LEN];
                char hex[2 * CMS_SHA256_LEN + 1];
                cms_sha256(s->host.seccomp_profile, strlen(s->host.seccomp_profile), d);
                cms_sha256_hex(d, hex);
                json_object_object_add(o, "seccomp_profile", json_object_new_string(hex));
        }
        const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                 JSON_C_TO_STRING_NOSLASHESCAPE);
        unsigned char digest[CMS_SHA256_LEN];
        if (text)
                cms_sha256(text, strlen(text), digest);
        json_object_put(o);
        if (!text)
                return -ENOMEM;
        cms_sha256_hex(digest, out);
        return 0;
}

char *cms_compose_container_name(const struct cms_compose_project *p,
                                 const struct cms_compose_service *s, int number)
{
        if (s->container_name)
                return strdup(s->container_name);
        return cms_strdup_printf("%s-%s-%d", p->name, s->name, number);
}

char *cms_compose_depends_on_label(const struct cms_compose_service *s)
{
        static const char *const conds[] = {"service_started", "service_healthy",
                                            "service_completed_successfully"};
        struct cms_buf b;
        cms_buf_init(&b, 0);
        int r = cms_buf_append(&b, "", 0);
        for (size_t i = 0; r == 0 && i < s->n_depends_on; i++)
                r = cms_buf_printf(&b, "%s%s:%s:%s", i ? "," : "", s->depends_on[i].service,
                                   conds[s->depends_on[i].condition],
                                   s->depends_on[i].restart ? "true" : "false");
        if (r < 0) {
                cms_buf_free(&b);
                return NULL;
        }
        return cms_buf_take(&b);
}

static json_object *user_labels(const struct cms_compose_kvs *m)
{
        json_object *o = json_object_new_object();
        for (size_t i = 0; o && i < m->n; i++)
                json_object_object_add(o, m->v[i].key,
                                       json_object_new_string(m->v[i].value ? m->v[i].value : ""));
        return o;
}

json_object *cms_compose_service_labels(const struct cms_compose_project *p,
                                        const struct cms_compose_service *s, int number)
{
        char hash[CMS_COMPOSE_HASH_LEN + 1], num[16];
        _cleanup_free_ char *deps = cms_compose_depends_on_label(s);
        json_object *o = user_labels(&s->labels);
        if (!o || !deps || cms_compose_config_hash(s, hash) < 0) {
                json_object_put(o);
                return NULL;
        }
        snprintf(num, sizeof(num), "%d", number);
        json_object_object_add(o, CMS_COMPOSE_LABEL_PROJECT, json_object_new_string(p->name));
        json_object_object_add(o, CMS_COMPOSE_LABEL_SERVICE, json_object_new_string(s->name));
        json_object_object_add(o, CMS_COMPOSE_LABEL_NUMBER, json_object_new_string(num));
        json_object_object_add(o, CMS_COMPOSE_LABEL_ONEOFF, json_object_new_string("False"));
        json_object_object_add(o, CMS_COMPOSE_LABEL_HASH, json_object_new_string(hash));
        json_object_object_add(o, CMS_COMPOSE_LABEL_WORKING_DIR,
                               json_object_new_string(p->working_dir ? p->working_dir : ""));
        json_object_object_add(o, CMS_COMPOSE_LABEL_DEPENDS_ON, json_object_new_string(deps));
        return o;
}

json_object *cms_compose_network_labels(const struct cms_compose_project *p,
                                        const struct cms_compose_network *n)
{
        json_object *o = user_labels(&n->labels);
        if (o) {
                json_object_object_add(o, CMS_COMPOSE_LABEL_PROJECT,
                                       json_object_new_string(p->name));
                json_object_object_add(o, CMS_COMPOSE_LABEL_NETWORK,
                                       json_object_new_string(n->key));
        }
        return o;
}

json_object *cms_compose_volume_labels(const struct cms_compose_project *p,
                                       const struct cms_compose_volume *v)
{
        json_object *o = user_labels(&v->labels);
        if (o) {
                json_object_object_add(o, CMS_COMPOSE_LABEL_PROJECT,
                                       json_object_new_string(p->name));
                json_object_object_add(o, CMS_COMPOSE_LABEL_VOLUME, json_object_new_string(v->key));
        }
        return o;
}
