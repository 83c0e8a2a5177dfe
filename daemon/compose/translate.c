/* A compose service (one replica) -> cmsd's ContainerConfig (API.md), so a compose service goes
 * through exactly the validation and policy of POST /v1/containers
 * (cms_container_spec_from_config). What ContainerConfig has no field for is returned beside it:
 * the further networks to connect after create, and a few harmless create-body members (stop
 * signal and timeout, tty, init, ...) to merge after validation. Nothing that widens privileges
 * goes that way: privileged, capabilities, binds and the network mode are all in the config. */
#include "internal.h"

#include <stddef.h>

struct tr {
        const struct cms_compose_project *p;
        const struct cms_compose_service *s;
        struct cms_compose_container *out;
        struct cms_error *err;
};

static int bad(struct tr *t, const char *key, const char *fmt, ...) CMS_PRINTF(3, 4);
static int bad(struct tr *t, const char *key, const char *fmt, ...)
{
        char msg[400];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return cms_err(t->err, 400, "services.%s.%s: %s", t->s->name, key, msg);
}

static void warn(struct tr *t, const char *key, const char *what)
{
        char msg[300];
        snprintf(msg, sizeof(msg), "services.%s.%s: %s", t->s->name, key, what);
        cms_compose_warn(t->out->warnings, msg);
}

static json_object *strv_json(const struct cms_compose_strv *v)
{
        json_object *a = json_object_new_array();
        for (size_t i = 0; a && i < v->n; i++)
                json_object_array_add(a, json_object_new_string(v->v[i]));
        return a;
}

static void put_str(json_object *o, const char *key, const char *v)
{
        if (v)
                json_object_object_add(o, key, json_object_new_string(v));
}

/* ---- volumes and tmpfs ---- */

static int mount_entry(struct tr *t, const struct cms_compose_mount *m, json_object *list)
{
        static const char *const types[] = {"volume", "bind", "tmpfs"};
        json_object *e = json_object_new_object();
        json_object_array_add(list, e);
        put_str(e, "type", types[m->type]);
        put_str(e, "target", m->target);
        if (m->read_only)
                json_object_object_add(e, "read_only", json_object_new_boolean(true));
        if (m->type == CMS_COMPOSE_MOUNT_BIND) {
                if (m->source[0] == '.')
                        return bad(t, "volumes",
                                   "relative bind source '%.64s' needs the project's working_dir",
                                   m->source);
                if (m->source[0] != '/')
                        return bad(t, "volumes", "bind source '%.64s' must be an absolute path",
                                   m->source);
                put_str(e, "source", m->source);
                if (m->propagation || m->selinux)
                        warn(t, "volumes",
                             "bind propagation and SELinux options are not "
                             "supported by cmsd, ignored");
        } else if (m->type == CMS_COMPOSE_MOUNT_VOLUME && m->source) {
                const struct cms_compose_volume *v = cms_compose_volume_find(t->p, m->source);
                put_str(e, "source", v ? v->name : m->source);
        }
        if (m->nocopy || m->subpath)
                warn(t, "volumes", "volume nocopy and subpath are not supported by cmsd, ignored");
        if (m->type == CMS_COMPOSE_MOUNT_TMPFS && (m->tmpfs_size || m->tmpfs_mode >= 0)) {
                json_object *o = json_object_new_object();
                if (m->tmpfs_size)
                        json_object_object_add(o, "size", json_object_new_int64(m->tmpfs_size));
                if (m->tmpfs_mode >= 0) {
                        char mode[16];
                        snprintf(mode, sizeof(mode), "%o", (unsigned)m->tmpfs_mode);
                        json_object_object_add(o, "mode", json_object_new_string(mode));
                }
                json_object_object_add(e, "tmpfs", o);
        }
        return 0;
}

/* tmpfs: "/run" or "/data:mode=755,size=64m,uid=1000" -> a tmpfs volume entry. */
static int tmpfs_entry(struct tr *t, const char *spec, json_object *list)
{
        const char *colon = strchr(spec, ':');
        _cleanup_free_ char *target = colon ? strndup(spec, (size_t)(colon - spec)) : strdup(spec);
        if (!target)
                return cms_err(t->err, 500, "out of memory");
        json_object *e = json_object_new_object(), *o = json_object_new_object();
        json_object_array_add(list, e);
        put_str(e, "type", "tmpfs");
        put_str(e, "target", target);
        for (const char *w = colon ? colon + 1 : NULL; w && *w;) {
                size_t l = strcspn(w, ",");
                int64_t size;
                if (!strncmp(w, "size=", 5) && l > 5) {
                        _cleanup_free_ char *v = strndup(w + 5, l - 5);
                        if (!v || cms_parse_size(v, &size) < 0) {
                                json_object_put(o);
                                return bad(t, "tmpfs", "bad size in '%.64s'", spec);
                        }
                        json_object_object_add(o, "size", json_object_new_int64(size));
                } else if (!strncmp(w, "mode=", 5) && l > 5) {
                        json_object_object_add(o, "mode",
                                               json_object_new_string_len(w + 5, (int)l - 5));
                } else {
                        warn(t, "tmpfs", "options other than size and mode are ignored");
                }
                w += l + (w[l] == ',');
        }
        if (json_object_object_length(o))
                json_object_object_add(e, "tmpfs", o);
        else
                json_object_put(o);
        return 0;
}

static int tr_volumes(struct tr *t, json_object *cfg)
{
        const struct cms_compose_service *s = t->s;
        if (!s->n_volumes && !s->tmpfs.n)
                return 0;
        json_object *list = json_object_new_array();
        json_object_object_add(cfg, "volumes", list);
        for (size_t i = 0; i < s->n_volumes; i++) {
                int r = mount_entry(t, &s->volumes[i], list);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < s->tmpfs.n; i++) {
                int r = tmpfs_entry(t, s->tmpfs.v[i], list);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- network ---- */

/* Networks in connection order: highest priority first, then by name (as Docker Compose). */
static int net_order_cmp(const void *a, const void *b)
{
        const struct cms_compose_service_network *x = *(const void *const *)a,
                                                 *y = *(const void *const *)b;
        if (x->priority != y->priority)
                return x->priority > y->priority ? -1 : 1;
        return strcmp(x->name, y->name);
}

static json_object *aliases_json(const struct tr *t, const struct cms_compose_service_network *n)
{
        json_object *a = json_object_new_array();
        json_object_array_add(a, json_object_new_string(t->s->name));
        for (size_t i = 0; i < n->aliases.n; i++)
                if (strcmp(n->aliases.v[i], t->s->name))
                        json_object_array_add(a, json_object_new_string(n->aliases.v[i]));
        return a;
}

static int tr_ports(struct tr *t, json_object *net)
{
        const struct cms_compose_service *s = t->s;
        json_object *ports = json_object_new_object();
        json_object_object_add(net, "ports", ports);
        for (size_t i = 0; i < s->n_ports; i++) {
                const struct cms_compose_port *p = &s->ports[i];
                char key[32];
                snprintf(key, sizeof(key), "%d/%s", p->target, p->protocol);
                if (p->published && strchr(p->published, '-'))
                        return bad(t, "ports",
                                   "publishing on a host port range ('%.32s') is not "
                                   "supported by cmsd",
                                   p->published);
                if (p->mode && !strcmp(p->mode, "host"))
                        warn(t, "ports", "mode host is the same as ingress on a single engine");
                _cleanup_free_ char *bind = cms_strdup_printf(
                    "%s%s%s%s%s", p->host_ip && strchr(p->host_ip, ':') ? "[" : "",
                    p->host_ip ? p->host_ip : "", p->host_ip && strchr(p->host_ip, ':') ? "]" : "",
                    p->host_ip ? ":" : "", p->published ? p->published : "");
                if (!bind)
                        return cms_err(t->err, 500, "out of memory");
                json_object *list = json_object_object_get(ports, key);
                if (!list || !json_object_is_type(list, json_type_array)) {
                        list = json_object_new_array();
                        json_object_object_add(ports, key, list);
                }
                json_object_array_add(list, json_object_new_string(bind));
        }
        for (size_t i = 0; i < s->expose.n; i++)
                if (!json_object_object_get_ex(ports, s->expose.v[i], NULL))
                        json_object_object_add(ports, s->expose.v[i], NULL);
        return 0;
}

static int tr_extra_hosts(struct tr *t, json_object *net)
{
        if (!t->s->extra_hosts.n)
                return 0;
        json_object *hosts = json_object_new_object();
        json_object_object_add(net, "extra_hosts", hosts);
        for (size_t i = 0; i < t->s->extra_hosts.n; i++) {
                const char *e = t->s->extra_hosts.v[i], *eq = strchr(e, '=');
                _cleanup_free_ char *host = strndup(e, (size_t)(eq - e));
                if (!host)
                        return cms_err(t->err, 500, "out of memory");
                if (json_object_object_get_ex(hosts, host, NULL))
                        warn(t, "extra_hosts", "a host with several addresses keeps the last");
                json_object_object_add(hosts, host, json_object_new_string(eq + 1));
        }
        return 0;
}

/* The network mode: host, none, bridge, container:x, or service:x -> its first container. */
static int tr_network_mode(struct tr *t, json_object *net)
{
        const char *mode = t->s->network_mode;
        if (!cms_str_has_prefix(mode, "service:")) {
                put_str(net, "network", mode);
                return 0;
        }
        const struct cms_compose_service *other = cms_compose_service_find(t->p, mode + 8);
        if (!other)
                return bad(t, "network_mode", "no such service: '%.64s'", mode + 8);
        _cleanup_free_ char *name = cms_compose_container_name(t->p, other, 1);
        _cleanup_free_ char *v = name ? cms_strdup_printf("container:%s", name) : NULL;
        if (!v)
                return cms_err(t->err, 500, "out of memory");
        put_str(net, "network", v);
        return 0;
}

static int tr_networks(struct tr *t, json_object *net)
{
        const struct cms_compose_service *s = t->s;
        _cleanup_free_ const struct cms_compose_service_network **order =
            calloc(s->n_networks + 1, sizeof(*order));
        if (!order)
                return cms_err(t->err, 500, "out of memory");
        for (size_t i = 0; i < s->n_networks; i++)
                order[i] = &s->networks[i];
        qsort(order, s->n_networks, sizeof(*order), net_order_cmp);
        for (size_t i = 0; i < s->n_networks; i++) {
                const struct cms_compose_service_network *n = order[i];
                const struct cms_compose_network *top = cms_compose_network_find(t->p, n->name);
                const char *ip = n->ipv4_address ? n->ipv4_address : n->ipv6_address;
                json_object *dst = net;
                if (i > 0) {
                        dst = json_object_new_object();
                        json_object_array_add(t->out->networks, dst);
                }
                put_str(dst, "network", top ? top->name : n->name);
                json_object_object_add(dst, "aliases", aliases_json(t, n));
                put_str(dst, "ip_address", ip);
                if (n->ipv4_address && n->ipv6_address)
                        warn(t, "networks",
                             "only one static address per network is set (the "
                             "IPv4 one)");
        }
        return 0;
}

static int tr_network(struct tr *t, json_object *cfg)
{
        const struct cms_compose_service *s = t->s;
        json_object *net = json_object_new_object();
        json_object_object_add(cfg, "network", net);
        int r = s->network_mode ? tr_network_mode(t, net) : tr_networks(t, net);
        if (r == 0 && (s->n_ports || s->expose.n))
                r = tr_ports(t, net);
        if (r == 0 && s->dns.n)
                json_object_object_add(net, "dns", strv_json(&s->dns));
        if (r == 0)
                r = tr_extra_hosts(t, net);
        return r;
}

/* ---- resources, health, extras ---- */

static void tr_resources(struct tr *t, json_object *cfg)
{
        const struct cms_compose_resources *r = &t->s->resources;
        json_object *o = json_object_new_object();
        static const struct {
                const char *key;
                size_t off;
        } ints[] = {
            {"memory", offsetof(struct cms_compose_resources, memory)},
            {"memory_swap", offsetof(struct cms_compose_resources, memory_swap)},
            {"cpu_shares", offsetof(struct cms_compose_resources, cpu_shares)},
            {"cpu_quota", offsetof(struct cms_compose_resources, cpu_quota)},
            {"cpu_period", offsetof(struct cms_compose_resources, cpu_period)},
            {"pids_limit", offsetof(struct cms_compose_resources, pids_limit)},
        };
        for (size_t i = 0; i < ELEMENTSOF(ints); i++) {
                int64_t v = *(const int64_t *)((const char *)r + ints[i].off);
                if (v)
                        json_object_object_add(o, ints[i].key, json_object_new_int64(v));
        }
        if (r->cpus > 0)
                json_object_object_add(o, "cpus", json_object_new_double(r->cpus));
        put_str(o, "cpuset_cpus", r->cpuset);
        if (json_object_object_length(o))
                json_object_object_add(cfg, "resources", o);
        else
                json_object_put(o);
}

static void put_duration(json_object *o, const char *key, int64_t ms)
{
        char buf[40];
        if (ms < 0)
                return;
        snprintf(buf, sizeof(buf), "%" PRId64 "ms", ms);
        json_object_object_add(o, key, json_object_new_string(buf));
}

static void tr_health(struct tr *t, json_object *cfg)
{
        const struct cms_compose_health *h = &t->s->healthcheck;
        if (!h->set)
                return;
        json_object *o = json_object_new_object();
        json_object_object_add(cfg, "health_check", o);
        if (h->test.n)
                json_object_object_add(o, "test", strv_json(&h->test));
        put_duration(o, "interval", h->interval_ms);
        put_duration(o, "timeout", h->timeout_ms);
        put_duration(o, "start_period", h->start_period_ms);
        if (h->retries >= 0)
                json_object_object_add(o, "retries", json_object_new_int(h->retries));
        if (h->start_interval_ms >= 0)
                warn(t, "healthcheck.start_interval",
                     "not supported by the engine API cmsd "
                     "uses, ignored");
}

static void tr_extras(struct tr *t)
{
        const struct cms_compose_service *s = t->s;
        json_object *x = t->out->create_extras, *hc = json_object_new_object();
        put_str(x, "StopSignal", s->stop_signal);
        if (s->stop_grace_period_ms >= 0)
                json_object_object_add(
                    x, "StopTimeout",
                    json_object_new_int64((s->stop_grace_period_ms + 999) / 1000));
        if (s->tty)
                json_object_object_add(x, "Tty", json_object_new_boolean(true));
        if (s->stdin_open)
                json_object_object_add(x, "OpenStdin", json_object_new_boolean(true));
        put_str(x, "Domainname", s->domainname);
        if (s->init)
                json_object_object_add(hc, "Init", json_object_new_boolean(true));
        if (s->dns_search.n)
                json_object_object_add(hc, "DnsSearch", strv_json(&s->dns_search));
        if (s->dns_opt.n)
                json_object_object_add(hc, "DnsOptions", strv_json(&s->dns_opt));
        if (s->resources.shm_size)
                json_object_object_add(hc, "ShmSize", json_object_new_int64(s->resources.shm_size));
        if (s->resources.memory_reservation)
                json_object_object_add(hc, "MemoryReservation",
                                       json_object_new_int64(s->resources.memory_reservation));
        if (json_object_object_length(hc))
                json_object_object_add(x, "HostConfig", hc);
        else
                json_object_put(hc);
}

/* ---- the config ---- */

static int tr_top(struct tr *t, json_object *cfg, int number)
{
        const struct cms_compose_service *s = t->s;
        _cleanup_free_ char *name = cms_compose_container_name(t->p, s, number);
        json_object *labels = cms_compose_service_labels(t->p, s, number);
        if (!name || !labels) {
                json_object_put(labels);
                return cms_err(t->err, 500, "out of memory");
        }
        put_str(cfg, "name", name);
        put_str(cfg, "image", s->image);
        if (s->command)
                json_object_object_add(cfg, "command", strv_json(s->command));
        if (s->entrypoint && s->entrypoint->n) {
                json_object_object_add(cfg, "entrypoint", strv_json(s->entrypoint));
        } else if (s->entrypoint) { /* [""] is how the engine API clears the image's entrypoint */
                json_object *e = json_object_new_array();
                json_object_array_add(e, json_object_new_string(""));
                json_object_object_add(cfg, "entrypoint", e);
        }
        if (s->environment.n) {
                json_object *env = json_object_new_object();
                for (size_t i = 0; i < s->environment.n; i++)
                        json_object_object_add(env, s->environment.v[i].key,
                                               json_object_new_string(s->environment.v[i].value));
                json_object_object_add(cfg, "environment", env);
        }
        json_object_object_add(cfg, "labels", labels);
        put_str(cfg, "user", s->user);
        put_str(cfg, "workdir", s->working_dir);
        put_str(cfg, "hostname", s->hostname);
        put_str(cfg, "restart_policy", s->restart);
        if (s->privileged)
                json_object_object_add(cfg, "privileged", json_object_new_boolean(true));
        if (s->read_only)
                json_object_object_add(cfg, "read_only", json_object_new_boolean(true));
        if (s->cap_add.n || s->cap_drop.n) {
                json_object *caps = json_object_new_object();
                json_object_object_add(caps, "add", strv_json(&s->cap_add));
                json_object_object_add(caps, "drop", strv_json(&s->cap_drop));
                json_object_object_add(cfg, "capabilities", caps);
        }
        return 0;
}

/* What the service asks that a container cannot get from cmsd, refused or warned. */
static int tr_unsupported(struct tr *t)
{
        const struct cms_compose_service *s = t->s;
        for (size_t i = 0; i < s->n_env_files; i++) {
                /* Reading files is I/O: the project manager resolves env_file into
                 * environment before it translates (projects/store.c). */
                if (s->env_files[i].required)
                        return bad(t, "env_file",
                                   "'%.64s': env files must be read into environment before "
                                   "translation",
                                   s->env_files[i].path);
                warn(t, "env_file", "optional env files not read before translation, ignored");
        }
        if (s->platform)
                warn(t, "platform", "not supported by cmsd, ignored");
        return 0;
}

int cms_compose_translate(const struct cms_compose_project *p, const struct cms_compose_service *s,
                          int number, struct cms_compose_container *out, struct cms_error *err)
{
        memset(out, 0, sizeof(*out));
        struct tr t = {.p = p, .s = s, .out = out, .err = err};
        out->config = json_object_new_object();
        out->networks = json_object_new_array();
        out->create_extras = json_object_new_object();
        out->warnings = json_object_new_array();
        int r = 0;
        if (!out->config || !out->networks || !out->create_extras || !out->warnings)
                r = cms_err(err, 500, "out of memory");
        else if (number < 1 || (s->container_name && number != 1))
                r = cms_err(err, 400, "services.%s: no replica number %d", s->name, number);
        if (r == 0)
                r = tr_unsupported(&t);
        if (r == 0)
                r = tr_top(&t, out->config, number);
        if (r == 0)
                r = tr_volumes(&t, out->config);
        if (r == 0)
                r = tr_network(&t, out->config);
        if (r == 0) {
                tr_resources(&t, out->config);
                tr_health(&t, out->config);
                tr_extras(&t);
                r = cms_compose_translate_host(p, s, out->create_extras, err);
        }
        if (r < 0)
                cms_compose_container_done(out);
        return r;
}

void cms_compose_container_done(struct cms_compose_container *c)
{
        json_object_put(c->config);
        json_object_put(c->networks);
        json_object_put(c->create_extras);
        json_object_put(c->warnings);
        memset(c, 0, sizeof(*c));
}
