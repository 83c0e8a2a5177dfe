/* The normalized model as JSON: what GET /v1/projects/{name}/config returns and what the config
 * hash is computed from. Keys come in a fixed order and maps sorted, whatever the file's order;
 * a member equal to its default (false, empty, unset, restart "no") is left out, so both
 * spellings of a default give the same document, and a field added to the model later does not
 * change the hash of services that do not use it. */
#include "internal.h"

static void add_str(json_object *o, const char *key, const char *v)
{
        if (v)
                json_object_object_add(o, key, json_object_new_string(v));
}

static void add_bool(json_object *o, const char *key, bool v)
{
        if (v)
                json_object_object_add(o, key, json_object_new_boolean(true));
}

static void add_int(json_object *o, const char *key, int64_t v, int64_t unset)
{
        if (v != unset)
                json_object_object_add(o, key, json_object_new_int64(v));
}

static void add_duration(json_object *o, const char *key, int64_t ms)
{
        char buf[64];
        if (ms < 0)
                return;
        cms_format_duration(ms, buf, sizeof(buf));
        json_object_object_add(o, key, json_object_new_string(buf));
}

static json_object *strv_json(const struct cms_compose_strv *v)
{
        json_object *a = json_object_new_array();
        for (size_t i = 0; a && i < v->n; i++)
                json_object_array_add(a, json_object_new_string(v->v[i]));
        return a;
}

static void add_strv(json_object *o, const char *key, const struct cms_compose_strv *v)
{
        if (v && v->n)
                json_object_object_add(o, key, strv_json(v));
}

static void add_kvs(json_object *o, const char *key, const struct cms_compose_kvs *m)
{
        if (!m->n)
                return;
        json_object *obj = json_object_new_object();
        for (size_t i = 0; i < m->n; i++)
                json_object_object_add(
                    obj, m->v[i].key, m->v[i].value ? json_object_new_string(m->v[i].value) : NULL);
        json_object_object_add(o, key, obj);
}

static void add_ports(json_object *o, const struct cms_compose_service *s)
{
        if (!s->n_ports)
                return;
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < s->n_ports; i++) {
                const struct cms_compose_port *p = &s->ports[i];
                json_object *e = json_object_new_object();
                json_object_object_add(e, "target", json_object_new_int(p->target));
                add_str(e, "published", p->published);
                add_str(e, "host_ip", p->host_ip);
                add_str(e, "protocol", p->protocol);
                add_str(e, "mode", p->mode);
                add_str(e, "name", p->name);
                add_str(e, "app_protocol", p->app_protocol);
                json_object_array_add(a, e);
        }
        json_object_object_add(o, "ports", a);
}

static json_object *mount_json(const struct cms_compose_mount *m)
{
        static const char *const types[] = {"volume", "bind", "tmpfs"};
        json_object *e = json_object_new_object(), *sub;
        add_str(e, "type", types[m->type]);
        add_str(e, "source", m->source);
        add_str(e, "target", m->target);
        add_bool(e, "read_only", m->read_only);
        add_str(e, "consistency", m->consistency);
        if (m->type == CMS_COMPOSE_MOUNT_BIND) {
                sub = json_object_new_object();
                add_str(sub, "propagation", m->propagation);
                json_object_object_add(sub, "create_host_path",
                                       json_object_new_boolean(m->create_host_path));
                add_str(sub, "selinux", m->selinux);
                json_object_object_add(e, "bind", sub);
        } else if (m->type == CMS_COMPOSE_MOUNT_VOLUME && (m->nocopy || m->subpath)) {
                sub = json_object_new_object();
                add_bool(sub, "nocopy", m->nocopy);
                add_str(sub, "subpath", m->subpath);
                json_object_object_add(e, "volume", sub);
        } else if (m->type == CMS_COMPOSE_MOUNT_TMPFS && (m->tmpfs_size || m->tmpfs_mode >= 0)) {
                sub = json_object_new_object();
                add_int(sub, "size", m->tmpfs_size, 0);
                add_int(sub, "mode", m->tmpfs_mode, -1);
                json_object_object_add(e, "tmpfs", sub);
        }
        return e;
}

static void add_mounts(json_object *o, const struct cms_compose_service *s)
{
        if (!s->n_volumes)
                return;
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < s->n_volumes; i++)
                json_object_array_add(a, mount_json(&s->volumes[i]));
        json_object_object_add(o, "volumes", a);
}

static void add_networks(json_object *o, const struct cms_compose_service *s)
{
        if (!s->n_networks)
                return;
        json_object *obj = json_object_new_object();
        for (size_t i = 0; i < s->n_networks; i++) {
                const struct cms_compose_service_network *n = &s->networks[i];
                json_object *e = json_object_new_object();
                add_strv(e, "aliases", &n->aliases);
                add_str(e, "ipv4_address", n->ipv4_address);
                add_str(e, "ipv6_address", n->ipv6_address);
                add_int(e, "priority", n->priority, 0);
                json_object_object_add(obj, n->name, e);
        }
        json_object_object_add(o, "networks", obj);
}

static void add_depends_on(json_object *o, const struct cms_compose_service *s)
{
        static const char *const conds[] = {"service_started", "service_healthy",
                                            "service_completed_successfully"};
        if (!s->n_depends_on)
                return;
        json_object *obj = json_object_new_object();
        for (size_t i = 0; i < s->n_depends_on; i++) {
                const struct cms_compose_dep *d = &s->depends_on[i];
                json_object *e = json_object_new_object();
                add_str(e, "condition", conds[d->condition]);
                json_object_object_add(e, "restart", json_object_new_boolean(d->restart));
                json_object_object_add(e, "required", json_object_new_boolean(d->required));
                add_bool(e, "implicit", d->implicit);
                json_object_object_add(obj, d->service, e);
        }
        json_object_object_add(o, "depends_on", obj);
}

static void add_health(json_object *o, const struct cms_compose_health *h)
{
        if (!h->set)
                return;
        json_object *e = json_object_new_object();
        add_strv(e, "test", &h->test);
        add_duration(e, "interval", h->interval_ms);
        add_duration(e, "timeout", h->timeout_ms);
        add_int(e, "retries", h->retries, -1);
        add_duration(e, "start_period", h->start_period_ms);
        add_duration(e, "start_interval", h->start_interval_ms);
        json_object_object_add(o, "healthcheck", e);
}

static void add_build(json_object *o, const struct cms_compose_build *b)
{
        if (!b)
                return;
        json_object *e = json_object_new_object();
        add_str(e, "context", b->context);
        add_str(e, "dockerfile", b->dockerfile);
        add_str(e, "target", b->target);
        add_kvs(e, "args", &b->args);
        if (b->no_cache)
                json_object_object_add(e, "no_cache", json_object_new_boolean(true));
        add_kvs(e, "labels", &b->labels);
        add_kvs(e, "additional_contexts", &b->additional_contexts);
        json_object_object_add(o, "build", e);
}

static void add_resources(json_object *o, const struct cms_compose_resources *r)
{
        if (r->cpus > 0)
                json_object_object_add(o, "cpus", json_object_new_double(r->cpus));
        add_str(o, "cpuset", r->cpuset);
        add_int(o, "cpu_shares", r->cpu_shares, 0);
        add_int(o, "cpu_quota", r->cpu_quota, 0);
        add_int(o, "cpu_period", r->cpu_period, 0);
        add_int(o, "mem_limit", r->memory, 0);
        add_int(o, "memswap_limit", r->memory_swap, 0);
        add_int(o, "mem_reservation", r->memory_reservation, 0);
        add_int(o, "shm_size", r->shm_size, 0);
        add_int(o, "pids_limit", r->pids_limit, 0);
}

static void add_env_files(json_object *o, const struct cms_compose_service *s)
{
        if (!s->n_env_files)
                return;
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < s->n_env_files; i++) {
                json_object *e = json_object_new_object();
                add_str(e, "path", s->env_files[i].path);
                json_object_object_add(e, "required",
                                       json_object_new_boolean(s->env_files[i].required));
                json_object_array_add(a, e);
        }
        json_object_object_add(o, "env_file", a);
}

json_object *cms_compose_service_to_json(const struct cms_compose_service *s)
{
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        add_build(o, s->build);
        add_strv(o, "cap_add", &s->cap_add);
        add_strv(o, "cap_drop", &s->cap_drop);
        if (s->command)
                json_object_object_add(o, "command", strv_json(s->command));
        add_str(o, "container_name", s->container_name);
        add_depends_on(o, s);
        add_strv(o, "dns", &s->dns);
        add_strv(o, "dns_opt", &s->dns_opt);
        add_strv(o, "dns_search", &s->dns_search);
        add_str(o, "domainname", s->domainname);
        if (s->entrypoint)
                json_object_object_add(o, "entrypoint", strv_json(s->entrypoint));
        add_env_files(o, s);
        add_kvs(o, "environment", &s->environment);
        add_strv(o, "expose", &s->expose);
        add_strv(o, "extra_hosts", &s->extra_hosts);
        add_health(o, &s->healthcheck);
        add_str(o, "hostname", s->hostname);
        add_str(o, "image", s->image);
        add_bool(o, "init", s->init);
        add_kvs(o, "labels", &s->labels);
        add_str(o, "network_mode", s->network_mode);
        add_networks(o, s);
        add_str(o, "platform", s->platform);
        add_ports(o, s);
        add_bool(o, "privileged", s->privileged);
        add_strv(o, "profiles", &s->profiles);
        add_str(o, "pull_policy", s->pull_policy);
        add_bool(o, "read_only", s->read_only);
        add_resources(o, &s->resources);
        if (s->restart && strcmp(s->restart, "no"))
                add_str(o, "restart", s->restart);
        json_object_object_add(o, "scale", json_object_new_int(s->replicas));
        add_bool(o, "stdin_open", s->stdin_open);
        add_duration(o, "stop_grace_period", s->stop_grace_period_ms);
        add_str(o, "stop_signal", s->stop_signal);
        add_strv(o, "tmpfs", &s->tmpfs);
        add_bool(o, "tty", s->tty);
        add_str(o, "user", s->user);
        add_mounts(o, s);
        add_str(o, "working_dir", s->working_dir);
        cms_compose_host_to_json(o, &s->host);
        cms_compose_filerefs_to_json(o, s);
        cms_compose_hooks_to_json(o, s);
        return o;
}

static json_object *network_json(const struct cms_compose_network *n)
{
        json_object *e = json_object_new_object();
        add_str(e, "name", n->name);
        add_bool(e, "external", n->external);
        add_str(e, "driver", n->driver);
        add_kvs(e, "driver_opts", &n->driver_opts);
        add_bool(e, "internal", n->internal);
        add_bool(e, "attachable", n->attachable);
        add_bool(e, "enable_ipv6", n->enable_ipv6);
        add_kvs(e, "labels", &n->labels);
        if (n->ipam_driver || n->n_ipam) {
                json_object *ipam = json_object_new_object(), *cfg = json_object_new_array();
                add_str(ipam, "driver", n->ipam_driver);
                for (size_t i = 0; i < n->n_ipam; i++) {
                        json_object *p = json_object_new_object();
                        add_str(p, "subnet", n->ipam[i].subnet);
                        add_str(p, "ip_range", n->ipam[i].ip_range);
                        add_str(p, "gateway", n->ipam[i].gateway);
                        json_object_array_add(cfg, p);
                }
                json_object_object_add(ipam, "config", cfg);
                json_object_object_add(e, "ipam", ipam);
        }
        return e;
}

json_object *cms_compose_project_to_json(const struct cms_compose_project *p)
{
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        json_object *svcs = json_object_new_object(), *nets = json_object_new_object(),
                    *vols = json_object_new_object();
        add_str(o, "name", p->name);
        json_object_object_add(o, "services", svcs);
        json_object_object_add(o, "networks", nets);
        json_object_object_add(o, "volumes", vols);
        cms_compose_filedefs_to_json(o, p);
        for (size_t i = 0; i < p->n_services; i++)
                json_object_object_add(svcs, p->services[i].name,
                                       cms_compose_service_to_json(&p->services[i]));
        for (size_t i = 0; i < p->n_networks; i++)
                json_object_object_add(nets, p->networks[i].key, network_json(&p->networks[i]));
        for (size_t i = 0; i < p->n_volumes; i++) {
                const struct cms_compose_volume *v = &p->volumes[i];
                json_object *e = json_object_new_object();
                add_str(e, "name", v->name);
                add_bool(e, "external", v->external);
                add_str(e, "driver", v->driver);
                add_kvs(e, "driver_opts", &v->driver_opts);
                add_kvs(e, "labels", &v->labels);
                json_object_object_add(vols, v->key, e);
        }
        return o;
}
