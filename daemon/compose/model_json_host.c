/* The host-side service keys (struct cms_compose_host) in the normalized model: written only
 * when set, so the config hash of a service that does not use them is what it was before cmsd
 * read them, and both spellings of a key (ulimits nofile: 10 vs {soft: 10, hard: 10}, a sysctls
 * list vs a mapping) give the same document. */
#include "internal.h"

static void add_str(json_object *o, const char *key, const char *v)
{
        if (v)
                json_object_object_add(o, key, json_object_new_string(v));
}

static void add_strv(json_object *o, const char *key, const struct cms_compose_strv *v)
{
        if (!v->n)
                return;
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < v->n; i++)
                json_object_array_add(a, json_object_new_string(v->v[i]));
        json_object_object_add(o, key, a);
}

static void add_kvs(json_object *o, const char *key, const struct cms_compose_kvs *m)
{
        if (!m->n)
                return;
        json_object *obj = json_object_new_object();
        for (size_t i = 0; i < m->n; i++)
                json_object_object_add(obj, m->v[i].key, json_object_new_string(m->v[i].value));
        json_object_object_add(o, key, obj);
}

static void add_int(json_object *o, const char *key, int64_t v, bool set)
{
        if (set)
                json_object_object_add(o, key, json_object_new_int64(v));
}

static void add_blkio(json_object *o, const struct cms_compose_blkio *b)
{
        json_object *e = json_object_new_object();
        add_int(e, "weight", b->weight, b->weight != 0);
        for (int k = 0; k < CMS_COMPOSE_BLKIO_N; k++) {
                if (!b->n[k])
                        continue;
                json_object *a = json_object_new_array();
                for (size_t i = 0; i < b->n[k]; i++) {
                        json_object *d = json_object_new_object();
                        add_str(d, "path", b->devs[k][i].path);
                        add_int(d, k == CMS_COMPOSE_BLKIO_WEIGHT_DEVICE ? "weight" : "rate",
                                b->devs[k][i].value, true);
                        json_object_array_add(a, d);
                }
                json_object_object_add(e, cms_compose_blkio_key(k), a);
        }
        if (json_object_object_length(e))
                json_object_object_add(o, "blkio_config", e);
        else
                json_object_put(e);
}

static void add_ulimits(json_object *o, const struct cms_compose_host *h)
{
        if (!h->n_ulimits)
                return;
        json_object *e = json_object_new_object();
        for (size_t i = 0; i < h->n_ulimits; i++) {
                json_object *u = json_object_new_object();
                add_int(u, "soft", h->ulimits[i].soft, true);
                add_int(u, "hard", h->ulimits[i].hard, true);
                json_object_object_add(e, h->ulimits[i].name, u);
        }
        json_object_object_add(o, "ulimits", e);
}

void cms_compose_host_to_json(json_object *o, const struct cms_compose_host *h)
{
        add_str(o, "cgroup", h->cgroup);
        add_str(o, "cgroup_parent", h->cgroup_parent);
        add_str(o, "ipc", h->ipc);
        add_str(o, "isolation", h->isolation);
        add_str(o, "mac_address", h->mac_address);
        add_str(o, "pid", h->pid);
        add_str(o, "runtime", h->runtime);
        add_str(o, "userns_mode", h->userns_mode);
        add_str(o, "uts", h->uts);
        add_kvs(o, "annotations", &h->annotations);
        add_kvs(o, "storage_opt", &h->storage_opt);
        add_kvs(o, "sysctls", &h->sysctls);
        add_strv(o, "devices", &h->devices);
        add_strv(o, "device_cgroup_rules", &h->device_cgroup_rules);
        add_strv(o, "external_links", &h->external_links);
        add_strv(o, "group_add", &h->group_add);
        add_strv(o, "security_opt", &h->security_opt);
        add_strv(o, "volumes_from", &h->volumes_from);
        add_int(o, "mem_swappiness", h->mem_swappiness, h->mem_swappiness >= 0);
        if (h->oom_kill_disable)
                json_object_object_add(o, "oom_kill_disable", json_object_new_boolean(true));
        add_int(o, "oom_score_adj", h->oom_score_adj, h->oom_score_adj_set);
        add_int(o, "cpu_count", h->cpu_count, h->cpu_count != 0);
        add_int(o, "cpu_percent", h->cpu_percent, h->cpu_percent != 0);
        add_int(o, "cpu_rt_period", h->cpu_rt_period, h->cpu_rt_period != 0);
        add_int(o, "cpu_rt_runtime", h->cpu_rt_runtime, h->cpu_rt_runtime != 0);
        add_blkio(o, &h->blkio);
        add_ulimits(o, h);
        if (h->no_attach)
                json_object_object_add(o, "attach", json_object_new_boolean(false));
        if (h->log_driver || h->log_options.n) {
                json_object *l = json_object_new_object();
                add_str(l, "driver", h->log_driver);
                add_kvs(l, "options", &h->log_options);
                json_object_object_add(o, "logging", l);
        }
}
