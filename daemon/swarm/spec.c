/* A compose service as a swarm ServiceSpec, by docker stack deploy's conventions (so that the
 * docker CLI and cmsd see the same stacks): service <stack>_<service>, the label
 * com.docker.stack.namespace on the service, its containers, networks and volumes, overlay
 * networks <stack>_<key>, volumes <stack>_<key>; deploy's replicas or global mode, resources,
 * restart policy, update and rollback configs, placement and labels; published ports through the
 * ingress mesh or in host mode; healthchecks. What a swarm service cannot do (privileged,
 * devices, network_mode, build, depends_on, ...) is named in the warnings, as the docker CLI
 * does, not refused. Pure: no engine call. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "swarm.h"

static void add_str(json_object *o, const char *k, const char *v)
{
        if (v && *v)
                json_object_object_add(o, k, json_object_new_string(v));
}

static json_object *strv_json(const struct cms_compose_strv *v)
{
        json_object *a = json_object_new_array();
        for (size_t i = 0; v && i < v->n; i++)
                json_object_array_add(a, json_object_new_string(v->v[i]));
        return a;
}

static json_object *kvs_json(const struct cms_compose_kvs *m, json_object *o)
{
        if (!o)
                o = json_object_new_object();
        for (size_t i = 0; i < m->n; i++)
                json_object_object_add(o, m->v[i].key,
                                       json_object_new_string(m->v[i].value ? m->v[i].value : ""));
        return o;
}

static json_object *ns_label(const char *stack, json_object *o)
{
        if (!o)
                o = json_object_new_object();
        json_object_object_add(o, CMS_STACK_LABEL, json_object_new_string(stack));
        return o;
}

/* A JSON string formatted as printf does. */
static json_object *jfmt(const char *fmt, ...) CMS_PRINTF(1, 2);
static json_object *jfmt(const char *fmt, ...)
{
        char *t = NULL;
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&t, fmt, ap);
        va_end(ap);
        json_object *o = n >= 0 ? json_object_new_string(t) : NULL;
        free(t);
        return o;
}

static void unsupported(const struct cms_compose_service *s, json_object *warnings)
{
        const struct {
                bool set;
                const char *key;
        } keys[] = {
            {s->build != NULL, "build"},
            {s->n_depends_on > 0, "depends_on"},
            {s->privileged, "privileged"},
            {s->container_name != NULL, "container_name"},
            {s->network_mode != NULL, "network_mode"},
            {s->host.devices.n > 0, "devices"},
            {s->host.security_opt.n > 0, "security_opt"},
            {s->host.pid != NULL, "pid"},
            {s->host.ipc != NULL, "ipc"},
            {s->host.cgroup_parent != NULL, "cgroup_parent"},
            {s->host.volumes_from.n > 0, "volumes_from"},
            {s->host.external_links.n > 0, "external_links"},
            {s->resources.memory_swap != 0, "memswap_limit"},
            {s->resources.shm_size != 0, "shm_size"},
            {s->resources.cpuset != NULL, "cpuset"},
            {s->n_post_start + s->n_pre_stop > 0, "post_start/pre_stop"},
            {s->expose.n > 0, "expose"},
            {s->tmpfs.n > 0, "tmpfs"},
        };
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (keys[i].set) {
                        char msg[256];
                        snprintf(msg, sizeof(msg),
                                 "services.%.64s.%s: not supported by a swarm service, ignored",
                                 s->name, keys[i].key);
                        cms_compose_warn(warnings, msg);
                }
}

static int healthcheck(const struct cms_compose_service *s, json_object *cs)
{
        const struct cms_compose_health *h = &s->healthcheck;
        if (!h->set)
                return 0;
        json_object *o = json_object_new_object();
        if (h->test.n)
                json_object_object_add(o, "Test", strv_json(&h->test));
        const struct {
                const char *k;
                int64_t ms;
        } d[] = {{"Interval", h->interval_ms},
                 {"Timeout", h->timeout_ms},
                 {"StartPeriod", h->start_period_ms}};
        for (size_t i = 0; i < ELEMENTSOF(d); i++)
                if (d[i].ms >= 0)
                        json_object_object_add(o, d[i].k, json_object_new_int64(d[i].ms * 1000000));
        if (h->retries >= 0)
                json_object_object_add(o, "Retries", json_object_new_int(h->retries));
        json_object_object_add(cs, "HealthCheck", o);
        return 0;
}

static int mounts(const char *stack, const struct cms_compose_project *p,
                  const struct cms_compose_service *s, json_object *cs, struct cms_error *err)
{
        json_object *a = json_object_new_array();
        json_object_object_add(cs, "Mounts", a);
        for (size_t i = 0; i < s->n_volumes; i++) {
                const struct cms_compose_mount *mt = &s->volumes[i];
                json_object *m = json_object_new_object();
                json_object_array_add(a, m);
                json_object_object_add(m, "Target", json_object_new_string(mt->target));
                if (mt->read_only)
                        json_object_object_add(m, "ReadOnly", json_object_new_boolean(true));
                if (mt->type == CMS_COMPOSE_MOUNT_BIND) {
                        json_object_object_add(m, "Type", json_object_new_string("bind"));
                        add_str(m, "Source", mt->source);
                        if (mt->propagation) {
                                json_object *bo = json_object_new_object();
                                add_str(bo, "Propagation", mt->propagation);
                                json_object_object_add(m, "BindOptions", bo);
                        }
                } else if (mt->type == CMS_COMPOSE_MOUNT_TMPFS) {
                        json_object *to = json_object_new_object();
                        json_object_object_add(m, "Type", json_object_new_string("tmpfs"));
                        if (mt->tmpfs_size > 0)
                                json_object_object_add(to, "SizeBytes",
                                                       json_object_new_int64(mt->tmpfs_size));
                        if (mt->tmpfs_mode >= 0)
                                json_object_object_add(to, "Mode",
                                                       json_object_new_int(mt->tmpfs_mode));
                        json_object_object_add(m, "TmpfsOptions", to);
                } else {
                        const struct cms_compose_volume *v =
                            mt->source ? cms_compose_volume_find(p, mt->source) : NULL;
                        json_object *vo = json_object_new_object();
                        json_object_object_add(m, "Type", json_object_new_string("volume"));
                        if (mt->source && !v)
                                return cms_err(err, 400,
                                               "services.%s.volumes: volume %s is not declared",
                                               s->name, mt->source);
                        if (v) {
                                add_str(m, "Source", v->name);
                                json_object *labels = kvs_json(&v->labels, NULL);
                                json_object_object_add(vo, "Labels", ns_label(stack, labels));
                                if (v->driver) {
                                        json_object *dc = json_object_new_object();
                                        add_str(dc, "Name", v->driver);
                                        json_object_object_add(dc, "Options",
                                                               kvs_json(&v->driver_opts, NULL));
                                        json_object_object_add(vo, "DriverConfig", dc);
                                }
                        }
                        if (mt->nocopy)
                                json_object_object_add(vo, "NoCopy", json_object_new_boolean(true));
                        json_object_object_add(m, "VolumeOptions", vo);
                }
        }
        return 0;
}

static json_object *container_spec(const char *stack, const struct cms_compose_service *s)
{
        json_object *cs = json_object_new_object();
        json_object_object_add(cs, "Image", json_object_new_string(s->image));
        json_object_object_add(cs, "Labels", ns_label(stack, kvs_json(&s->labels, NULL)));
        if (s->entrypoint)
                json_object_object_add(cs, "Command", strv_json(s->entrypoint));
        if (s->command)
                json_object_object_add(cs, "Args", strv_json(s->command));
        json_object *env = json_object_new_array();
        for (size_t i = 0; i < s->environment.n; i++)
                if (s->environment.v[i].value)
                        json_object_array_add(
                            env, jfmt("%s=%s", s->environment.v[i].key, s->environment.v[i].value));
        json_object_object_add(cs, "Env", env);
        add_str(cs, "Hostname", s->hostname);
        add_str(cs, "Dir", s->working_dir);
        add_str(cs, "User", s->user);
        add_str(cs, "StopSignal", s->stop_signal);
        if (s->stop_grace_period_ms >= 0)
                json_object_object_add(cs, "StopGracePeriod",
                                       json_object_new_int64(s->stop_grace_period_ms * 1000000));
        if (s->tty)
                json_object_object_add(cs, "TTY", json_object_new_boolean(true));
        if (s->stdin_open)
                json_object_object_add(cs, "OpenStdin", json_object_new_boolean(true));
        if (s->read_only)
                json_object_object_add(cs, "ReadOnly", json_object_new_boolean(true));
        if (s->init)
                json_object_object_add(cs, "Init", json_object_new_boolean(true));
        if (s->host.group_add.n)
                json_object_object_add(cs, "Groups", strv_json(&s->host.group_add));
        if (s->cap_add.n)
                json_object_object_add(cs, "CapabilityAdd", strv_json(&s->cap_add));
        if (s->cap_drop.n)
                json_object_object_add(cs, "CapabilityDrop", strv_json(&s->cap_drop));
        if (s->host.sysctls.n)
                json_object_object_add(cs, "Sysctls", kvs_json(&s->host.sysctls, NULL));
        if (s->dns.n || s->dns_search.n || s->dns_opt.n) {
                json_object *d = json_object_new_object();
                json_object_object_add(d, "Nameservers", strv_json(&s->dns));
                json_object_object_add(d, "Search", strv_json(&s->dns_search));
                json_object_object_add(d, "Options", strv_json(&s->dns_opt));
                json_object_object_add(cs, "DNSConfig", d);
        }
        if (s->extra_hosts.n) { /* "host=ip" -> "ip host", as /etc/hosts has it */
                json_object *h = json_object_new_array();
                for (size_t i = 0; i < s->extra_hosts.n; i++) {
                        const char *e = s->extra_hosts.v[i], *eq = strchr(e, '=');
                        json_object_array_add(h, eq ? jfmt("%s %.*s", eq + 1, (int)(eq - e), e)
                                                    : json_object_new_string(e));
                }
                json_object_object_add(cs, "Hosts", h);
        }
        if (s->host.n_ulimits) {
                json_object *u = json_object_new_array();
                for (size_t i = 0; i < s->host.n_ulimits; i++) {
                        json_object *o = json_object_new_object();
                        add_str(o, "Name", s->host.ulimits[i].name);
                        json_object_object_add(o, "Soft",
                                               json_object_new_int64(s->host.ulimits[i].soft));
                        json_object_object_add(o, "Hard",
                                               json_object_new_int64(s->host.ulimits[i].hard));
                        json_object_array_add(u, o);
                }
                json_object_object_add(cs, "Ulimits", u);
        }
        return cs;
}

static json_object *resources(const struct cms_compose_service *s)
{
        json_object *r = json_object_new_object(), *lim = json_object_new_object(),
                    *res = json_object_new_object();
        if (s->resources.cpus > 0)
                json_object_object_add(lim, "NanoCPUs",
                                       json_object_new_int64(llround(s->resources.cpus * 1e9)));
        if (s->resources.memory > 0)
                json_object_object_add(lim, "MemoryBytes",
                                       json_object_new_int64(s->resources.memory));
        if (s->resources.pids_limit > 0)
                json_object_object_add(lim, "Pids", json_object_new_int64(s->resources.pids_limit));
        if (s->deploy.reserve_cpus > 0)
                json_object_object_add(
                    res, "NanoCPUs", json_object_new_int64(llround(s->deploy.reserve_cpus * 1e9)));
        if (s->resources.memory_reservation > 0)
                json_object_object_add(res, "MemoryBytes",
                                       json_object_new_int64(s->resources.memory_reservation));
        json_object_object_add(r, "Limits", lim);
        json_object_object_add(r, "Reservations", res);
        return r;
}

/* deploy.restart_policy, else the service's own restart: when written, as docker stack deploy
 * maps it; else the engine's default (any: a task that ends, or whose node drains, is
 * replaced). */
static json_object *restart_policy(const struct cms_compose_service *s)
{
        const struct cms_compose_deploy *d = &s->deploy;
        const char *cond = d->restart_condition;
        int64_t attempts = d->restart_given ? d->restart_max_attempts : -1;
        int64_t delay = d->restart_given ? d->restart_delay_ms : -1;
        int64_t window = d->restart_given ? d->restart_window_ms : -1;
        if (!cond && s->restart && d->restart_set) {
                if (!strcmp(s->restart, "no"))
                        cond = "none";
                else if (cms_str_has_prefix(s->restart, "on-failure")) {
                        cond = "on-failure";
                        if (s->restart[10] == ':' && attempts < 0)
                                attempts = strtoll(s->restart + 11, NULL, 10);
                } else
                        cond = "any";
        }
        json_object *o = json_object_new_object();
        add_str(o, "Condition", cond);
        if (delay >= 0)
                json_object_object_add(o, "Delay", json_object_new_int64(delay * 1000000));
        if (attempts >= 0)
                json_object_object_add(o, "MaxAttempts", json_object_new_int64(attempts));
        if (window >= 0)
                json_object_object_add(o, "Window", json_object_new_int64(window * 1000000));
        return o;
}

static json_object *update_json(const struct cms_compose_update *u)
{
        json_object *o = json_object_new_object();
        if (u->parallelism >= 0)
                json_object_object_add(o, "Parallelism", json_object_new_int64(u->parallelism));
        if (u->delay_ms >= 0)
                json_object_object_add(o, "Delay", json_object_new_int64(u->delay_ms * 1000000));
        add_str(o, "FailureAction", u->failure_action);
        if (u->monitor_ms >= 0)
                json_object_object_add(o, "Monitor",
                                       json_object_new_int64(u->monitor_ms * 1000000));
        if (u->max_failure_ratio >= 0)
                json_object_object_add(o, "MaxFailureRatio",
                                       json_object_new_double(u->max_failure_ratio));
        add_str(o, "Order", u->order);
        return o;
}

static json_object *placement(const struct cms_compose_deploy *d)
{
        json_object *o = json_object_new_object();
        if (d->constraints.n)
                json_object_object_add(o, "Constraints", strv_json(&d->constraints));
        if (d->spread.n) {
                json_object *a = json_object_new_array();
                for (size_t i = 0; i < d->spread.n; i++) {
                        json_object *p = json_object_new_object(), *sp = json_object_new_object();
                        add_str(sp, "SpreadDescriptor", d->spread.v[i]);
                        json_object_object_add(p, "Spread", sp);
                        json_object_array_add(a, p);
                }
                json_object_object_add(o, "Preferences", a);
        }
        if (d->max_replicas_per_node > 0)
                json_object_object_add(o, "MaxReplicas",
                                       json_object_new_int64(d->max_replicas_per_node));
        return o;
}

static int endpoint(const struct cms_compose_service *s, json_object *spec, struct cms_error *err)
{
        json_object *e = json_object_new_object(), *ports = json_object_new_array();
        json_object_object_add(spec, "EndpointSpec", e);
        add_str(e, "Mode", s->deploy.endpoint_mode);
        json_object_object_add(e, "Ports", ports);
        for (size_t i = 0; i < s->n_ports; i++) {
                const struct cms_compose_port *pt = &s->ports[i];
                json_object *o = json_object_new_object();
                json_object_array_add(ports, o);
                add_str(o, "Protocol", pt->protocol ? pt->protocol : "tcp");
                json_object_object_add(o, "TargetPort", json_object_new_int(pt->target));
                if (pt->published) {
                        int64_t pub;
                        if (cms_parse_int(pt->published, 1, 65535, &pub) < 0)
                                return cms_err(err, 400,
                                               "services.%s.ports[%zu]: a stack publishes one port "
                                               "per entry, not the range '%s'",
                                               s->name, i, pt->published);
                        json_object_object_add(o, "PublishedPort", json_object_new_int64(pub));
                }
                add_str(o, "PublishMode", pt->mode ? pt->mode : "ingress");
                if (pt->host_ip)
                        return cms_err(err, 400,
                                       "services.%s.ports[%zu]: a swarm service cannot publish on "
                                       "one address (%s)",
                                       s->name, i, pt->host_ip);
        }
        return 0;
}

static json_object *networks(const struct cms_compose_project *p,
                             const struct cms_compose_service *s)
{
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < s->n_networks; i++) {
                const struct cms_compose_service_network *sn = &s->networks[i];
                const struct cms_compose_network *n = cms_compose_network_find(p, sn->name);
                json_object *o = json_object_new_object(), *al = json_object_new_array();
                add_str(o, "Target", n ? n->name : sn->name);
                json_object_array_add(al, json_object_new_string(s->name));
                for (size_t k = 0; k < sn->aliases.n; k++)
                        json_object_array_add(al, json_object_new_string(sn->aliases.v[k]));
                json_object_object_add(o, "Aliases", al);
                json_object_array_add(a, o);
        }
        return a;
}

/* Secrets (under /run/secrets/, as a swarm places them) or configs (anywhere): the reference by
 * name, its id filled in by files.c once the object exists ("_key" says which definition). */
static int file_refs(const struct cms_compose_project *p, const struct cms_compose_service *s,
                     bool config, json_object *cs, struct cms_error *err)
{
        const struct cms_compose_fileref *refs = config ? s->configs : s->secrets;
        const struct cms_compose_filedef *defs = config ? p->configs : p->secrets;
        size_t n = config ? s->n_configs : s->n_secrets, nd = config ? p->n_configs : p->n_secrets;
        const char *what = config ? "configs" : "secrets";
        if (!n)
                return 0;
        json_object *a = json_object_new_array();
        json_object_object_add(cs, config ? "Configs" : "Secrets", a);
        for (size_t i = 0; i < n; i++) {
                const struct cms_compose_fileref *f = &refs[i];
                const struct cms_compose_filedef *d = NULL;
                for (size_t k = 0; k < nd && !d; k++)
                        if (!strcmp(defs[k].key, f->source))
                                d = &defs[k];
                const char *target = f->target;
                if (!config && cms_str_has_prefix(target, "/run/secrets/"))
                        target += strlen("/run/secrets/");
                else if (!config)
                        return cms_err(err, 400,
                                       "services.%s.secrets[%zu].target: a swarm puts secrets in "
                                       "/run/secrets/, not at %s",
                                       s->name, i, f->target);
                if (!d || !*target)
                        return cms_err(err, 400, "services.%s.%s[%zu]: no such %s", s->name, what,
                                       i, what);
                json_object *o = json_object_new_object(), *file = json_object_new_object();
                add_str(file, "Name", target);
                add_str(file, "UID", f->uid ? f->uid : "0");
                add_str(file, "GID", f->gid ? f->gid : "0");
                json_object_object_add(file, "Mode", json_object_new_int(f->mode));
                json_object_object_add(o, "File", file);
                add_str(o, config ? "ConfigName" : "SecretName", d->name);
                add_str(o, "_key", d->key);
                json_object_array_add(a, o);
        }
        return 0;
}

int cms_stack_service_spec(const char *stack, const struct cms_compose_project *p,
                           const struct cms_compose_service *s, json_object **out,
                           json_object *warnings, struct cms_error *err)
{
        _cleanup_json_ json_object *spec = json_object_new_object();
        json_object *task = json_object_new_object(), *cs = container_spec(stack, s);
        char *name = cms_strdup_printf("%s_%s", stack, s->name);
        json_object_object_add(spec, "Name", json_object_new_string(name));
        free(name);
        json_object *labels = kvs_json(&s->deploy.labels, NULL);
        json_object_object_add(labels, "com.docker.stack.image", json_object_new_string(s->image));
        json_object_object_add(spec, "Labels", ns_label(stack, labels));
        int r = healthcheck(s, cs);
        if (r == 0)
                r = mounts(stack, p, s, cs, err);
        json_object_object_add(task, "ContainerSpec", cs);
        json_object_object_add(task, "Resources", resources(s));
        json_object_object_add(task, "RestartPolicy", restart_policy(s));
        json_object_object_add(task, "Placement", placement(&s->deploy));
        json_object_object_add(task, "Networks", networks(p, s));
        if (s->host.log_driver) {
                json_object *ld = json_object_new_object();
                add_str(ld, "Name", s->host.log_driver);
                json_object_object_add(ld, "Options", kvs_json(&s->host.log_options, NULL));
                json_object_object_add(task, "LogDriver", ld);
        }
        json_object_object_add(spec, "TaskTemplate", task);
        json_object *mode = json_object_new_object(), *rep = json_object_new_object();
        if (s->deploy.global) {
                json_object_object_add(mode, "Global", rep);
        } else {
                json_object_object_add(rep, "Replicas", json_object_new_int(s->replicas));
                json_object_object_add(mode, "Replicated", rep);
        }
        json_object_object_add(spec, "Mode", mode);
        if (s->deploy.update.set)
                json_object_object_add(spec, "UpdateConfig", update_json(&s->deploy.update));
        if (s->deploy.rollback.set)
                json_object_object_add(spec, "RollbackConfig", update_json(&s->deploy.rollback));
        if (r == 0)
                r = endpoint(s, spec, err);
        if (r < 0)
                return r;
        json_object *cs2 = cms_json_get(task, "ContainerSpec");
        if ((r = file_refs(p, s, false, cs2, err)) < 0 || (r = file_refs(p, s, true, cs2, err)) < 0)
                return r;
        unsupported(s, warnings);
        *out = json_object_get(spec);
        return 0;
}

int cms_stack_spec_hash(json_object *spec, char out[65])
{
        size_t len = 0;
        const char *txt = json_object_to_json_string_length(spec, JSON_C_TO_STRING_PLAIN, &len);
        if (!txt)
                return -ENOMEM;
        unsigned char d[CMS_SHA256_LEN];
        cms_sha256(txt, len, d);
        cms_sha256_hex(d, out);
        return 0;
}
