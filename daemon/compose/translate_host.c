/* The host-side service keys (struct cms_compose_host) -> engine create-body members, in the
 * Docker Engine API's names (API 1.41, which Podman's compat API reads too): HostConfig.Ulimits,
 * Sysctls, Devices, DeviceCgroupRules, SecurityOpt, the namespace modes, CgroupParent, GroupAdd,
 * the memory, OOM, CPU and blkio knobs, Runtime, Isolation, StorageOpt, Annotations, LogConfig,
 * VolumesFrom, Links, and MacAddress beside them in the body. ContainerConfig has no field for
 * them, so they go into create_extras, which the policy sees as a whole (security/policy.c
 * names each denial by its compose key: services.web.devices[0]). */
#include "internal.h"

struct trh {
        const struct cms_compose_project *p;
        const struct cms_compose_service *s;
        json_object *hc;
        struct cms_error *err;
};

static void put(json_object *o, const char *k, json_object *v)
{
        json_object_object_add(o, k, v);
}

static json_object *strv(const struct cms_compose_strv *v)
{
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < v->n; i++)
                json_object_array_add(a, json_object_new_string(v->v[i]));
        return a;
}

static json_object *kvs(const struct cms_compose_kvs *m)
{
        json_object *o = json_object_new_object();
        for (size_t i = 0; i < m->n; i++)
                put(o, m->v[i].key, json_object_new_string(m->v[i].value));
        return o;
}

/* "service:x[:mode]" -> the first container of x; "container:x" -> x. NULL: OOM or no such. */
static char *other_container(struct trh *t, const char *ref, size_t len)
{
        if (cms_str_has_prefix(ref, "container:"))
                return strndup(ref + 10, len - 10);
        _cleanup_free_ char *name = strndup(ref + 8, len - 8);
        const struct cms_compose_service *o = name ? cms_compose_service_find(t->p, name) : NULL;
        if (!o) {
                cms_err(t->err, 400, "services.%s: no such service: '%.64s'", t->s->name,
                        name ? name : "?");
                return NULL;
        }
        return cms_compose_container_name(t->p, o, 1);
}

static int mode(struct trh *t, const char *key, const char *v)
{
        if (!v)
                return 0;
        if (!cms_str_has_prefix(v, "service:")) {
                put(t->hc, key, json_object_new_string(v));
                return 0;
        }
        _cleanup_free_ char *c = other_container(t, v, strlen(v));
        _cleanup_free_ char *m = c ? cms_strdup_printf("container:%s", c) : NULL;
        if (!m)
                return t->err->status ? -EINVAL : cms_err(t->err, 500, "out of memory");
        put(t->hc, key, json_object_new_string(m));
        return 0;
}

static int volumes_from(struct trh *t)
{
        const struct cms_compose_strv *v = &t->s->host.volumes_from;
        if (!v->n)
                return 0;
        json_object *a = json_object_new_array();
        put(t->hc, "VolumesFrom", a);
        for (size_t i = 0; i < v->n; i++) {
                const char *e = v->v[i], *kind_end = strchr(e, ':'), *m = strchr(kind_end + 1, ':');
                _cleanup_free_ char *c = other_container(t, e, m ? (size_t)(m - e) : strlen(e));
                _cleanup_free_ char *x = c ? cms_strdup_printf("%s%s", c, m ? m : "") : NULL;
                if (!x)
                        return t->err->status ? -EINVAL : cms_err(t->err, 500, "out of memory");
                json_object_array_add(a, json_object_new_string(x));
        }
        return 0;
}

static void devices(struct trh *t)
{
        const struct cms_compose_strv *v = &t->s->host.devices;
        if (!v->n)
                return;
        json_object *a = json_object_new_array();
        put(t->hc, "Devices", a);
        for (size_t i = 0; i < v->n; i++) {
                /* "host:container:perms", each part without ':' (absolute paths) */
                const char *e = v->v[i], *c1 = strchr(e, ':'), *c2 = strrchr(e, ':');
                json_object *d = json_object_new_object();
                put(d, "PathOnHost", json_object_new_string_len(e, (int)(c1 - e)));
                put(d, "PathInContainer", json_object_new_string_len(c1 + 1, (int)(c2 - c1 - 1)));
                put(d, "CgroupPermissions", json_object_new_string(c2 + 1));
                json_object_array_add(a, d);
        }
}

static void blkio(struct trh *t)
{
        static const char *const names[CMS_COMPOSE_BLKIO_N] = {
            "BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps", "BlkioDeviceReadIOps",
            "BlkioDeviceWriteIOps"};
        const struct cms_compose_blkio *b = &t->s->host.blkio;
        if (b->weight)
                put(t->hc, "BlkioWeight", json_object_new_int64(b->weight));
        for (int k = 0; k < CMS_COMPOSE_BLKIO_N; k++) {
                if (!b->n[k])
                        continue;
                json_object *a = json_object_new_array();
                put(t->hc, names[k], a);
                for (size_t i = 0; i < b->n[k]; i++) {
                        json_object *d = json_object_new_object();
                        put(d, "Path", json_object_new_string(b->devs[k][i].path));
                        put(d, k == CMS_COMPOSE_BLKIO_WEIGHT_DEVICE ? "Weight" : "Rate",
                            json_object_new_int64(b->devs[k][i].value));
                        json_object_array_add(a, d);
                }
        }
}

static void ulimits(struct trh *t)
{
        const struct cms_compose_host *h = &t->s->host;
        if (!h->n_ulimits)
                return;
        json_object *a = json_object_new_array();
        put(t->hc, "Ulimits", a);
        for (size_t i = 0; i < h->n_ulimits; i++) {
                json_object *u = json_object_new_object();
                put(u, "Name", json_object_new_string(h->ulimits[i].name));
                put(u, "Soft", json_object_new_int64(h->ulimits[i].soft));
                put(u, "Hard", json_object_new_int64(h->ulimits[i].hard));
                json_object_array_add(a, u);
        }
}

static void numbers(struct trh *t)
{
        const struct cms_compose_host *h = &t->s->host;
        const struct {
                const char *key;
                int64_t v;
                bool set;
        } n[] = {
            {"MemorySwappiness", h->mem_swappiness, h->mem_swappiness >= 0},
            {"OomScoreAdj", h->oom_score_adj, h->oom_score_adj_set},
            {"CpuCount", h->cpu_count, h->cpu_count != 0},
            {"CpuPercent", h->cpu_percent, h->cpu_percent != 0},
            {"CpuRealtimePeriod", h->cpu_rt_period, h->cpu_rt_period != 0},
            {"CpuRealtimeRuntime", h->cpu_rt_runtime, h->cpu_rt_runtime != 0},
        };
        for (size_t i = 0; i < ELEMENTSOF(n); i++)
                if (n[i].set)
                        put(t->hc, n[i].key, json_object_new_int64(n[i].v));
        if (h->oom_kill_disable)
                put(t->hc, "OomKillDisable", json_object_new_boolean(true));
}

static void strings_and_maps(struct trh *t)
{
        const struct cms_compose_host *h = &t->s->host;
        const struct {
                const char *key;
                const char *v;
        } strs[] = {
            {"UTSMode", h->uts},         {"UsernsMode", h->userns_mode},
            {"CgroupnsMode", h->cgroup}, {"CgroupParent", h->cgroup_parent},
            {"Runtime", h->runtime},     {"Isolation", h->isolation},
        };
        for (size_t i = 0; i < ELEMENTSOF(strs); i++)
                if (strs[i].v)
                        put(t->hc, strs[i].key, json_object_new_string(strs[i].v));
        const struct {
                const char *key;
                const struct cms_compose_strv *v;
        } lists[] = {
            {"DeviceCgroupRules", &h->device_cgroup_rules},
            {"SecurityOpt", &h->security_opt},
            {"GroupAdd", &h->group_add},
            {"Links", &h->external_links},
        };
        for (size_t i = 0; i < ELEMENTSOF(lists); i++)
                if (lists[i].v->n)
                        put(t->hc, lists[i].key, strv(lists[i].v));
        if (h->sysctls.n)
                put(t->hc, "Sysctls", kvs(&h->sysctls));
        if (h->storage_opt.n)
                put(t->hc, "StorageOpt", kvs(&h->storage_opt));
        if (h->annotations.n)
                put(t->hc, "Annotations", kvs(&h->annotations));
        if (h->log_driver || h->log_options.n) {
                json_object *l = json_object_new_object();
                put(l, "Type", json_object_new_string(h->log_driver ? h->log_driver : ""));
                put(l, "Config", kvs(&h->log_options));
                put(t->hc, "LogConfig", l);
        }
}

int cms_compose_translate_host(const struct cms_compose_project *p,
                               const struct cms_compose_service *s, json_object *extras,
                               struct cms_error *err)
{
        json_object *hc = cms_json_get(extras, "HostConfig");
        bool fresh = !hc;
        if (fresh)
                hc = json_object_new_object();
        struct trh t = {.p = p, .s = s, .hc = hc, .err = err};
        int r = mode(&t, "PidMode", s->host.pid);
        if (r == 0)
                r = mode(&t, "IpcMode", s->host.ipc);
        if (r == 0)
                r = volumes_from(&t);
        if (r == 0) {
                devices(&t);
                blkio(&t);
                ulimits(&t);
                numbers(&t);
                strings_and_maps(&t);
        }
        if (s->host.mac_address)
                put(extras, "MacAddress", json_object_new_string(s->host.mac_address));
        if (fresh && json_object_object_length(hc))
                put(extras, "HostConfig", hc);
        else if (fresh)
                json_object_put(hc);
        return r;
}

/* What each engine was seen to drop (create + inspect + the container's own view, Docker 20.10
 * API 1.41 and Podman 4.3's compat API): said, never dropped silently. */
struct note {
        const char *key;
        bool docker, podman;
        const char *why;
};

static bool note_applies(const struct cms_compose_service *s, const char *key)
{
        const struct cms_compose_host *h = &s->host;
        if (!strcmp(key, "annotations"))
                return h->annotations.n;
        if (!strcmp(key, "cpu_count"))
                return h->cpu_count;
        if (!strcmp(key, "cpu_percent"))
                return h->cpu_percent;
        if (!strcmp(key, "mac_address"))
                return h->mac_address;
        if (!strcmp(key, "runtime"))
                return h->runtime;
        if (!strcmp(key, "isolation"))
                return h->isolation;
        if (!strcmp(key, "device_cgroup_rules"))
                return h->device_cgroup_rules.n;
        if (!strcmp(key, "cgroup"))
                return h->cgroup;
        if (!strcmp(key, "blkio_config.weight"))
                return h->blkio.weight;
        if (!strcmp(key, "build.additional_contexts"))
                return s->build && s->build->additional_contexts.n;
        if (!strcmp(key, "logging.options"))
                for (size_t i = 0; i < h->log_options.n; i++)
                        if (strcmp(h->log_options.v[i].key, "max-size") &&
                            strcmp(h->log_options.v[i].key, "tag"))
                                return true;
        return false;
}

void cms_compose_engine_notes(const struct cms_compose_service *s, bool podman, const char *engine,
                              json_object *warnings)
{
        static const struct note notes[] = {
            {"annotations", true, true,
             "not applied: Docker's API 1.41 has no annotations, Podman's compat API drops them"},
            {"cpu_count", true, true, "Windows-only: not applied on Linux"},
            {"cpu_percent", true, true, "Windows-only: not applied on Linux"},
            {"mac_address", false, true, "ignored by the compat API (a random address is used)"},
            {"runtime", false, true, "ignored by the compat API (the default runtime runs it)"},
            {"isolation", false, true, "ignored by the compat API (Linux has only 'default')"},
            {"device_cgroup_rules", false, true, "ignored by the compat API"},
            {"cgroup", false, true, "ignored by the compat API (the engine's default is used)"},
            {"blkio_config.weight", false, true,
             "dropped without a word when the kernel has no blkio weight (Docker says so)"},
            {"logging.options", false, true,
             "only max-size and tag are applied by the compat API, the others are dropped"},
            {"build.additional_contexts", true, true,
             "the engine's build API (classic builder) has none: a Dockerfile using them fails"},
        };
        for (size_t i = 0; i < ELEMENTSOF(notes); i++) {
                const struct note *n = &notes[i];
                if (!(podman ? n->podman : n->docker) || !note_applies(s, n->key))
                        continue;
                char msg[400];
                snprintf(msg, sizeof(msg), "services.%s.%s: %s: %s", s->name, n->key, engine,
                         n->why);
                cms_compose_warn(warnings, msg);
        }
}
