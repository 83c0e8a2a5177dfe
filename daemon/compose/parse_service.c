/* One service: the table of the keys cmsd reads, the simple ones (strings, booleans, lists, maps,
 * resources) read here, the structured ones (ports, volumes, networks, depends_on, healthcheck,
 * deploy, build) in parse_ports.c and parse_service2.c; the keys Compose knows that cmsd does not
 * honour are warned about by name. */
#include "internal.h"

#include <ctype.h>
#include <math.h>
#include <stddef.h>

typedef int (*field_fn)(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                        struct cms_compose_service *s);

#define STR_FIELD(f) offsetof(struct cms_compose_service, f)

static bool simple_name_valid(const char *s, bool dots)
{
        if (!isalnum((unsigned char)s[0]))
                return false;
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr(dots ? "_.-" : "_-", *p))
                        return false;
        return strlen(s) <= 255;
}

static int f_image(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                   struct cms_compose_service *s)
{
        struct cms_error why = {0};
        int r = cms_cp_str_req(c, v, path, &s->image);
        if (r == 0 && cms_image_path_ref_check(s->image, &why) < 0)
                r = cms_cp_fail(c, v, path, "%s", why.message);
        return r;
}

static int f_words(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                   struct cms_compose_strv **out)
{
        if (v->null)
                return 0;
        struct cms_compose_strv *w = calloc(1, sizeof(*w));
        if (!w)
                return cms_cp_oom(c);
        *out = w;
        if (v->kind == CMS_Y_SCALAR) {
                int r = cms_compose_split_words(v->value, w);
                if (r == -EINVAL)
                        return cms_cp_fail(c, v, path, "unterminated quote in '%.64s'", v->value);
                return r < 0 ? cms_cp_oom(c) : 0;
        }
        return cms_cp_strv(c, v, path, false, w);
}

static int f_command(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                     struct cms_compose_service *s)
{
        return f_words(c, v, path, &s->command);
}

static int f_entrypoint(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                        struct cms_compose_service *s)
{
        return f_words(c, v, path, &s->entrypoint);
}

/* A key without a value takes the variable's value from the environment; unset: dropped. */
static int f_environment(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                         struct cms_compose_service *s)
{
        struct cms_compose_kvs *env = &s->environment;
        int r = cms_cp_kvs(c, v, path, env);
        size_t kept = 0;
        for (size_t i = 0; r == 0 && i < env->n; i++) {
                struct cms_compose_kv *kv = &env->v[i];
                const char *val = kv->value ? NULL : cms_compose_env_get(c->env, kv->key);
                if (!kv->value && val && !(kv->value = strdup(val)))
                        r = cms_cp_oom(c);
                if (!kv->value) {
                        free(kv->key);
                        continue;
                }
                env->v[kept++] = *kv;
        }
        if (r == 0)
                env->n = kept;
        return r;
}

static int f_labels(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                    struct cms_compose_service *s)
{
        int r = cms_cp_kvs(c, v, path, &s->labels);
        for (size_t i = 0; r == 0 && i < s->labels.n; i++) {
                struct cms_compose_kv *kv = &s->labels.v[i];
                if (cms_str_has_prefix(kv->key, "com.docker.compose."))
                        return cms_cp_fail(c, v, path,
                                           "label '%.64s': the com.docker.compose. prefix is "
                                           "reserved",
                                           kv->key);
                if (!kv->value && !(kv->value = strdup("")))
                        return cms_cp_oom(c);
        }
        return r;
}

static int f_env_file(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                      struct cms_compose_service *s)
{
        static const char *const keys[] = {"path", "required", "format", NULL};
        size_t n = v->kind == CMS_Y_SEQ ? v->n : 1;
        if (v->null)
                return 0;
        if (!(s->env_files = calloc(n, sizeof(*s->env_files))))
                return cms_cp_oom(c);
        for (size_t i = 0; i < n; i++) {
                const struct cms_ynode *e = v->kind == CMS_Y_SEQ ? v->kids[i] : v;
                struct cms_compose_env_file *f = &s->env_files[s->n_env_files++];
                char sub[256], sub2[300];
                int r;
                cms_cp_sub(sub, sizeof(sub), "%s[%zu]", path, i);
                f->required = true;
                if (e->kind != CMS_Y_MAP) {
                        if ((r = cms_cp_str_req(c, e, sub, &f->path)) < 0)
                                return r;
                        continue;
                }
                cms_cp_check_keys(c, e, sub, keys, NULL);
                cms_cp_sub(sub2, sizeof(sub2), "%s.path", sub);
                if ((r = cms_cp_str_req(c, cms_ymap_get(e, "path"), sub2, &f->path)) < 0)
                        return r;
                cms_cp_sub(sub2, sizeof(sub2), "%s.required", sub);
                if ((r = cms_cp_bool(c, cms_ymap_get(e, "required"), sub2, &f->required)) < 0)
                        return r;
        }
        return 0;
}

/* extra_hosts: ["host=ip", "host:ip"] or {host: ip} -> "host=ip", sorted. */
static int f_extra_hosts(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                         struct cms_compose_service *s)
{
        struct cms_compose_kvs m = {0};
        int r = 0;
        if (v->kind == CMS_Y_MAP) {
                r = cms_cp_kvs(c, v, path, &m);
                for (size_t i = 0; r == 0 && i < m.n; i++)
                        r = !m.v[i].value || !*m.v[i].value
                                ? cms_cp_fail(c, v, path, "'%.64s' has no address", m.v[i].key)
                                : cms_compose_strv_take(
                                      &s->extra_hosts,
                                      cms_strdup_printf("%s=%s", m.v[i].key, m.v[i].value));
                cms_compose_kvs_done(&m);
                r = r == -ENOMEM ? cms_cp_oom(c) : r;
        } else {
                struct cms_compose_strv raw = {0};
                r = cms_cp_strv(c, v, path, false, &raw);
                for (size_t i = 0; r == 0 && i < raw.n; i++) {
                        char *e = raw.v[i], *sep = strchr(e, '=');
                        if (!sep)
                                sep = strchr(e, ':');
                        if (!sep || sep == e || !sep[1]) {
                                r = cms_cp_fail(c, v->kids[i], path, "'%.64s' is not \"host=ip\"",
                                                e);
                                break;
                        }
                        *sep = '=';
                        r = cms_compose_strv_add(&s->extra_hosts, e) < 0 ? cms_cp_oom(c) : 0;
                }
                cms_compose_strv_done(&raw);
        }
        /* "[::1]" -> "::1": the engines want the bare address */
        for (size_t i = 0; r == 0 && i < s->extra_hosts.n; i++) {
                char *eq = strchr(s->extra_hosts.v[i], '=');
                size_t l = strlen(eq + 1);
                if (l > 2 && eq[1] == '[' && eq[l] == ']') {
                        memmove(eq + 1, eq + 2, l - 2);
                        eq[l - 1] = 0;
                }
        }
        cms_compose_strv_sort(&s->extra_hosts);
        return r;
}

static int f_restart(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                     struct cms_compose_service *s)
{
        int r = cms_cp_str_req(c, v, path, &s->restart);
        int64_t n;
        if (r < 0)
                return r;
        s->deploy.restart_set = true;
        const char *x = s->restart;
        if (!strcmp(x, "no") || !strcmp(x, "always") || !strcmp(x, "unless-stopped") ||
            !strcmp(x, "on-failure") ||
            (cms_str_has_prefix(x, "on-failure:") && cms_parse_int(x + 11, 0, INT32_MAX, &n) == 0))
                return 0;
        return cms_cp_fail(c, v, path,
                           "'%.64s' is not one of no, always, on-failure[:N], unless-stopped", x);
}

static int f_pull_policy(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                         struct cms_compose_service *s)
{
        static const char *const ok[] = {"always", "never", "missing", "build", "daily", "weekly"};
        int r = cms_cp_str_req(c, v, path, &s->pull_policy);
        int64_t ms;
        if (r < 0)
                return r;
        if (!strcmp(s->pull_policy, "if_not_present")) {
                free(s->pull_policy);
                return (s->pull_policy = strdup("missing")) ? 0 : cms_cp_oom(c);
        }
        for (size_t i = 0; i < ELEMENTSOF(ok); i++)
                if (!strcmp(s->pull_policy, ok[i]))
                        return 0;
        if (cms_str_has_prefix(s->pull_policy, "every_") &&
            cms_parse_duration_ms(s->pull_policy + 6, &ms) == 0)
                return 0;
        return cms_cp_fail(c, v, path,
                           "'%.64s' is not one of always, never, missing, build, daily, weekly, "
                           "every_<duration>",
                           s->pull_policy);
}

static int f_network_mode(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                          struct cms_compose_service *s)
{
        int r = cms_cp_str_req(c, v, path, &s->network_mode);
        if (r == 0 && cms_str_has_prefix(s->network_mode, "service:"))
                r = cms_cp_add_dep(c, s, s->network_mode + 8, CMS_COMPOSE_SERVICE_STARTED, true,
                                   v->line);
        return r;
}

/* links: ["db", "db:database"] order the start like depends_on; the aliases are not set up. */
static int f_links(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                   struct cms_compose_service *s)
{
        struct cms_compose_strv l = {0};
        int r = cms_cp_strv(c, v, path, false, &l);
        for (size_t i = 0; r == 0 && i < l.n; i++) {
                char *colon = strchr(l.v[i], ':');
                if (colon) {
                        *colon = 0;
                        cms_cp_warn(c, v, path,
                                    "link alias '%.64s' ignored: use the service "
                                    "name or networks.*.aliases",
                                    colon + 1);
                }
                r = cms_cp_add_dep(c, s, l.v[i], CMS_COMPOSE_SERVICE_STARTED, true, v->line);
        }
        cms_compose_strv_done(&l);
        return r;
}

static int f_profiles(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                      struct cms_compose_service *s)
{
        int r = cms_cp_strv(c, v, path, false, &s->profiles);
        for (size_t i = 0; r == 0 && i < s->profiles.n; i++)
                if (!simple_name_valid(s->profiles.v[i], true))
                        r = cms_cp_fail(c, v, path, "invalid profile name '%.64s'",
                                        s->profiles.v[i]);
        return r;
}

static int f_container_name(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                            struct cms_compose_service *s)
{
        int r = cms_cp_str_req(c, v, path, &s->container_name);
        if (r == 0 && !simple_name_valid(s->container_name, true))
                r = cms_cp_fail(c, v, path,
                                "invalid container name '%.64s' (allowed: "
                                "[a-zA-Z0-9][a-zA-Z0-9_.-]+)",
                                s->container_name);
        return r;
}

static int f_stop_signal(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                         struct cms_compose_service *s)
{
        int r = cms_cp_str_req(c, v, path, &s->stop_signal);
        for (const char *p = s->stop_signal; r == 0 && *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr("+-", *p))
                        r = cms_cp_fail(c, v, path, "not a signal: '%.64s'", s->stop_signal);
        return r;
}

static int f_stop_grace(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                        struct cms_compose_service *s)
{
        return cms_cp_duration(c, v, path, &s->stop_grace_period_ms);
}

/* ---- resources (service level; deploy.resources is reconciled in cms_cp_service) ---- */

static int read_cpus(struct cms_cp *c, const struct cms_ynode *v, const char *path, double *out)
{
        int r = cms_cp_need(c, v, path, CMS_Y_SCALAR);
        if (r < 0)
                return r;
        char *end;
        double d = isdigit((unsigned char)v->value[0]) || v->value[0] == '.'
                       ? strtod(v->value, &end)
                       : NAN;
        if (!isfinite(d) || *end || d > 1024)
                return cms_cp_fail(c, v, path, "not a number of CPUs: '%.64s'", v->value);
        *out = d;
        return 0;
}

static int f_resources(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                       struct cms_compose_service *s, const char *key)
{
        struct cms_compose_resources *res = &s->resources;
        if (!strcmp(key, "cpus"))
                return read_cpus(c, v, path, &res->cpus);
        if (!strcmp(key, "cpuset"))
                return cms_cp_str_req(c, v, path, &res->cpuset);
        if (!strcmp(key, "memswap_limit") && v->kind == CMS_Y_SCALAR && !strcmp(v->value, "-1")) {
                res->memory_swap = -1;
                return 0;
        }
        static const struct {
                const char *key;
                size_t off;
                bool size;
                int64_t min, max;
        } nums[] = {
            {"mem_limit", offsetof(struct cms_compose_resources, memory), true, 0, 0},
            {"memswap_limit", offsetof(struct cms_compose_resources, memory_swap), true, 0, 0},
            {"mem_reservation", offsetof(struct cms_compose_resources, memory_reservation), true, 0,
             0},
            {"shm_size", offsetof(struct cms_compose_resources, shm_size), true, 0, 0},
            {"cpu_shares", offsetof(struct cms_compose_resources, cpu_shares), false, 0, 262144},
            {"cpu_quota", offsetof(struct cms_compose_resources, cpu_quota), false, -1, INT64_MAX},
            {"cpu_period", offsetof(struct cms_compose_resources, cpu_period), false, 0, 1000000},
            {"pids_limit", offsetof(struct cms_compose_resources, pids_limit), false, -1,
             INT64_MAX},
        };
        for (size_t i = 0; i < ELEMENTSOF(nums); i++) {
                if (strcmp(key, nums[i].key))
                        continue;
                int64_t *dst = (int64_t *)((char *)res + nums[i].off);
                return nums[i].size ? cms_cp_size(c, v, path, dst)
                                    : cms_cp_int(c, v, path, nums[i].min, nums[i].max, dst);
        }
        return 0;
}

static int f_post_start(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                        struct cms_compose_service *s)
{
        return cms_cp_hooks(c, v, path, s, false);
}

static int f_pre_stop(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                      struct cms_compose_service *s)
{
        return cms_cp_hooks(c, v, path, s, true);
}

/* ---- the key table ---- */

static const struct {
        const char *key;
        field_fn fn;
} fields[] = {
    {"image", f_image},
    {"command", f_command},
    {"entrypoint", f_entrypoint},
    {"environment", f_environment},
    {"env_file", f_env_file},
    {"labels", f_labels},
    {"extra_hosts", f_extra_hosts},
    {"restart", f_restart},
    {"pull_policy", f_pull_policy},
    {"network_mode", f_network_mode},
    {"links", f_links},
    {"profiles", f_profiles},
    {"container_name", f_container_name},
    {"stop_signal", f_stop_signal},
    {"stop_grace_period", f_stop_grace},
    {"build", cms_cp_build},
    {"ports", cms_cp_ports},
    {"expose", cms_cp_expose},
    {"volumes", cms_cp_volumes},
    {"tmpfs", cms_cp_tmpfs},
    {"networks", cms_cp_service_networks},
    {"depends_on", cms_cp_depends_on},
    {"healthcheck", cms_cp_healthcheck},
    {"secrets", cms_cp_service_secrets},
    {"configs", cms_cp_service_configs},
    {"post_start", f_post_start},
    {"pre_stop", f_pre_stop},
};

static const struct {
        const char *key;
        size_t off;
} strings[] = {
    {"user", STR_FIELD(user)},         {"working_dir", STR_FIELD(working_dir)},
    {"hostname", STR_FIELD(hostname)}, {"domainname", STR_FIELD(domainname)},
    {"platform", STR_FIELD(platform)},
};

static const struct {
        const char *key;
        size_t off;
        bool single; /* a plain string is a list of one */
} lists[] = {
    {"dns", STR_FIELD(dns), true},
    {"dns_search", STR_FIELD(dns_search), true},
    {"dns_opt", STR_FIELD(dns_opt), false},
    {"cap_add", STR_FIELD(cap_add), false},
    {"cap_drop", STR_FIELD(cap_drop), false},
};

static const struct {
        const char *key;
        size_t off;
} bools[] = {
    {"privileged", STR_FIELD(privileged)},
    {"read_only", STR_FIELD(read_only)},
    {"init", STR_FIELD(init)},
    {"tty", STR_FIELD(tty)},
    {"stdin_open", STR_FIELD(stdin_open)},
};

static const char *const resource_keys[] = {
    "cpus",     "cpuset",     "mem_limit", "memswap_limit", "mem_reservation",
    "shm_size", "cpu_shares", "cpu_quota", "cpu_period",    "pids_limit"};

/* Keys Compose knows and cmsd does not act on: warned as "not supported", not as typos. */
static const char *const ignored_keys[] = {"credential_spec", "develop",   "gpus",
                                           "label_file",      "models",    "provider",
                                           "use_api_socket",  "lifecycle", NULL};

static int one_field(struct cms_cp *c, const struct cms_ynode *k, const struct cms_ynode *v,
                     const char *path, struct cms_compose_service *s)
{
        char *base = (char *)s;
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (!strcmp(k->value, fields[i].key))
                        return fields[i].fn(c, v, path, s);
        for (size_t i = 0; i < ELEMENTSOF(strings); i++)
                if (!strcmp(k->value, strings[i].key))
                        return cms_cp_str(c, v, path, (char **)(base + strings[i].off));
        for (size_t i = 0; i < ELEMENTSOF(lists); i++)
                if (!strcmp(k->value, lists[i].key))
                        return cms_cp_strv(c, v, path, lists[i].single,
                                           (struct cms_compose_strv *)(base + lists[i].off));
        for (size_t i = 0; i < ELEMENTSOF(bools); i++)
                if (!strcmp(k->value, bools[i].key))
                        return cms_cp_bool(c, v, path, (bool *)(base + bools[i].off));
        cms_cp_entry_fn host = cms_cp_host_field(k->value);
        if (host)
                return host(c, v, path, s);
        for (size_t i = 0; i < ELEMENTSOF(resource_keys); i++)
                if (!strcmp(k->value, resource_keys[i]))
                        return v->null ? 0 : f_resources(c, v, path, s, k->value);
        return 1; /* not ours */
}

/* scale vs deploy.replicas, restart vs deploy.restart_policy, limits vs deploy.resources. */
static int reconcile(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                     struct cms_compose_service *s)
{
        char sub[256];
        int64_t scale = -1, replicas = -1;
        char *restart = NULL;
        const struct cms_ynode *x;
        int r = 0;
        cms_cp_sub(sub, sizeof(sub), "%s.scale", path);
        if ((x = cms_ymap_get(v, "scale")))
                r = cms_cp_int(c, x, sub, 0, CMS_COMPOSE_MAX_REPLICAS, &scale);
        cms_cp_sub(sub, sizeof(sub), "%s.deploy", path);
        if (r == 0 && (x = cms_ymap_get(v, "deploy")) && !x->null)
                r = cms_cp_deploy(c, x, sub, s, &replicas, &restart);
        if (r == 0 && scale >= 0 && replicas >= 0 && scale != replicas)
                r = cms_cp_fail(c, v, path,
                                "scale (%" PRId64 ") and deploy.replicas (%" PRId64 ") differ",
                                scale, replicas);
        s->replicas = scale >= 0 ? (int)scale : replicas >= 0 ? (int)replicas : 1;
        if (r == 0 && !s->restart)
                s->restart = restart ? TAKE_PTR(restart) : strdup("no");
        free(restart);
        if (r == 0 && !s->restart)
                r = cms_cp_oom(c);
        if (r == 0 && s->container_name && s->replicas > 1)
                r = cms_cp_fail(c, v, path, "container_name '%.64s' allows one container, not %d",
                                s->container_name, s->replicas);
        return r;
}

int cms_cp_service(struct cms_cp *c, const struct cms_ynode *v, struct cms_compose_service *s)
{
        char path[256];
        cms_cp_sub(path, sizeof(path), "services.%.64s", s->name);
        s->stop_grace_period_ms = -1;
        s->healthcheck.interval_ms = s->healthcheck.timeout_ms = -1;
        s->healthcheck.start_period_ms = s->healthcheck.start_interval_ms = -1;
        s->healthcheck.retries = -1;
        s->host.mem_swappiness = -1;
        int r = cms_cp_need(c, v, path, CMS_Y_MAP);
        for (size_t i = 0; r == 0 && i + 1 < v->n; i += 2) {
                const struct cms_ynode *k = v->kids[i];
                char sub[340];
                if (!strcmp(k->value, "scale") || !strcmp(k->value, "deploy"))
                        continue;
                cms_cp_sub(sub, sizeof(sub), "%s.%.64s", path, k->value);
                r = one_field(c, k, v->kids[i + 1], sub, s);
                if (r != 1)
                        continue;
                r = 0;
                if (cms_str_has_prefix(k->value, "x-"))
                        continue;
                bool known = false;
                for (size_t j = 0; ignored_keys[j] && !known; j++)
                        known = !strcmp(k->value, ignored_keys[j]);
                cms_cp_warn(c, k, sub,
                            known ? "not supported by cmsd, ignored" : "unknown key, ignored");
        }
        if (r == 0 && s->network_mode && s->n_networks)
                r = cms_cp_fail(c, v, path, "network_mode and networks cannot both be set");
        if (r == 0)
                r = reconcile(c, v, path, s);
        if (r == 0 && !s->image && !s->build)
                r = cms_cp_fail(c, v, path, "has neither an image nor a build context specified");
        return r;
}
