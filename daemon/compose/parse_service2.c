/* The structured service keys: networks (list or map with aliases, ipv4_address, priority),
 * depends_on (list or map with condition / restart / required), healthcheck (test forms,
 * durations, disable), deploy (replicas, resources, restart_policy) and build (string or map). */
#include "internal.h"

#include <ctype.h>
#include <math.h>

/* ---- networks ---- */

static int svc_net_cmp(const void *a, const void *b)
{
        return strcmp(((const struct cms_compose_service_network *)a)->name,
                      ((const struct cms_compose_service_network *)b)->name);
}

static int svc_net_body(struct cms_cp *c, const struct cms_ynode *b, const char *path,
                        struct cms_compose_service_network *n)
{
        static const char *const keys[] = {"aliases", "ipv4_address", "ipv6_address", "priority",
                                           NULL};
        static const char *const ignored[] = {"link_local_ips", "mac_address",    "driver_opts",
                                              "gw_priority",    "interface_name", NULL};
        char sub[320];
        int64_t prio = 0;
        if (b->null)
                return 0;
        int r = cms_cp_need(c, b, path, CMS_Y_MAP);
        if (r < 0)
                return r;
        cms_cp_check_keys(c, b, path, keys, ignored);
        cms_cp_sub(sub, sizeof(sub), "%s.aliases", path);
        r = cms_cp_strv(c, cms_ymap_get(b, "aliases"), sub, false, &n->aliases);
        cms_cp_sub(sub, sizeof(sub), "%s.ipv4_address", path);
        if (r == 0)
                r = cms_cp_str(c, cms_ymap_get(b, "ipv4_address"), sub, &n->ipv4_address);
        cms_cp_sub(sub, sizeof(sub), "%s.ipv6_address", path);
        if (r == 0)
                r = cms_cp_str(c, cms_ymap_get(b, "ipv6_address"), sub, &n->ipv6_address);
        cms_cp_sub(sub, sizeof(sub), "%s.priority", path);
        if (r == 0)
                r = cms_cp_int(c, cms_ymap_get(b, "priority"), sub, INT32_MIN, INT32_MAX, &prio);
        n->priority = (int)prio;
        return r;
}

int cms_cp_service_networks(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                            struct cms_compose_service *s)
{
        if (v->null)
                return 0;
        if (v->kind != CMS_Y_SEQ && v->kind != CMS_Y_MAP)
                return cms_cp_fail(c, v, path, "expected a list or a mapping, got %s",
                                   cms_ykind_name(v));
        size_t n = v->kind == CMS_Y_SEQ ? v->n : v->n / 2;
        if (!(s->networks = calloc(n + 1, sizeof(*s->networks))))
                return cms_cp_oom(c);
        for (size_t i = 0; i < n; i++) {
                const struct cms_ynode *k = v->kind == CMS_Y_SEQ ? v->kids[i] : v->kids[2 * i];
                char sub[320];
                cms_cp_sub(sub, sizeof(sub), "%s[%zu]", path, i);
                int r = cms_cp_need(c, k, sub, CMS_Y_SCALAR);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < s->n_networks; j++)
                        if (!strcmp(s->networks[j].name, k->value))
                                return cms_cp_fail(c, k, path, "network '%.64s' listed twice",
                                                   k->value);
                struct cms_compose_service_network *sn = &s->networks[s->n_networks++];
                if (!(sn->name = strdup(k->value)))
                        return cms_cp_oom(c);
                cms_cp_sub(sub, sizeof(sub), "%s.%.64s", path, k->value);
                if (v->kind == CMS_Y_MAP && (r = svc_net_body(c, v->kids[2 * i + 1], sub, sn)) < 0)
                        return r;
        }
        qsort(s->networks, s->n_networks, sizeof(*s->networks), svc_net_cmp);
        return 0;
}

/* ---- depends_on ---- */

static int dep_cmp(const void *a, const void *b)
{
        return strcmp(((const struct cms_compose_dep *)a)->service,
                      ((const struct cms_compose_dep *)b)->service);
}

int cms_cp_add_dep(struct cms_cp *c, struct cms_compose_service *s, const char *name,
                   enum cms_compose_condition cond, bool implicit, int line)
{
        if (!strcmp(name, s->name))
                return cms_err(c->err, 400, "service \"%s\" depends on itself (line %d)", s->name,
                               line);
        for (size_t i = 0; i < s->n_depends_on; i++)
                if (!strcmp(s->depends_on[i].service, name)) {
                        /* an explicit depends_on entry wins over links / network_mode */
                        if (!implicit && s->depends_on[i].implicit)
                                s->depends_on[i] = (struct cms_compose_dep){
                                    s->depends_on[i].service, cond, false, true, false, line};
                        return 0;
                }
        struct cms_compose_dep *d =
            realloc(s->depends_on, (s->n_depends_on + 1) * sizeof(*s->depends_on));
        if (!d)
                return cms_cp_oom(c);
        s->depends_on = d;
        d[s->n_depends_on] =
            (struct cms_compose_dep){strdup(name), cond, false, true, implicit, line};
        if (!d[s->n_depends_on].service)
                return cms_cp_oom(c);
        s->n_depends_on++;
        qsort(s->depends_on, s->n_depends_on, sizeof(*d), dep_cmp);
        return 0;
}

static int dep_long(struct cms_cp *c, const struct cms_ynode *b, const char *path,
                    struct cms_compose_service *s, const char *name)
{
        static const char *const keys[] = {"condition", "restart", "required", NULL};
        static const char *const conds[] = {"service_started", "service_healthy",
                                            "service_completed_successfully"};
        char sub[320];
        const struct cms_ynode *x;
        int r = b->null ? 0 : cms_cp_need(c, b, path, CMS_Y_MAP);
        if (r < 0)
                return r;
        cms_cp_check_keys(c, b, path, keys, NULL);
        enum cms_compose_condition cond = CMS_COMPOSE_SERVICE_STARTED;
        if ((x = cms_ymap_get(b, "condition")) && !x->null) {
                cms_cp_sub(sub, sizeof(sub), "%s.condition", path);
                if ((r = cms_cp_need(c, x, sub, CMS_Y_SCALAR)) < 0)
                        return r;
                size_t i = 0;
                while (i < ELEMENTSOF(conds) && strcmp(x->value, conds[i]))
                        i++;
                if (i == ELEMENTSOF(conds))
                        return cms_cp_fail(c, x, sub,
                                           "'%.64s' is not one of service_started, "
                                           "service_healthy, service_completed_successfully",
                                           x->value);
                cond = (enum cms_compose_condition)i;
        }
        if ((r = cms_cp_add_dep(c, s, name, cond, false, b->line)) < 0)
                return r;
        struct cms_compose_dep *d = NULL;
        for (size_t i = 0; i < s->n_depends_on; i++)
                if (!strcmp(s->depends_on[i].service, name))
                        d = &s->depends_on[i];
        cms_cp_sub(sub, sizeof(sub), "%s.restart", path);
        r = cms_cp_bool(c, cms_ymap_get(b, "restart"), sub, &d->restart);
        cms_cp_sub(sub, sizeof(sub), "%s.required", path);
        if (r == 0)
                r = cms_cp_bool(c, cms_ymap_get(b, "required"), sub, &d->required);
        return r;
}

int cms_cp_depends_on(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                      struct cms_compose_service *s)
{
        char sub[320];
        int r = 0;
        if (v->null)
                return 0;
        if (v->kind == CMS_Y_SEQ) {
                for (size_t i = 0; r == 0 && i < v->n; i++) {
                        cms_cp_sub(sub, sizeof(sub), "%s[%zu]", path, i);
                        r = cms_cp_need(c, v->kids[i], sub, CMS_Y_SCALAR);
                        if (r == 0)
                                r = cms_cp_add_dep(c, s, v->kids[i]->value,
                                                   CMS_COMPOSE_SERVICE_STARTED, false,
                                                   v->kids[i]->line);
                }
                return r;
        }
        if (v->kind != CMS_Y_MAP)
                return cms_cp_fail(c, v, path, "expected a list or a mapping, got %s",
                                   cms_ykind_name(v));
        for (size_t i = 0; r == 0 && i + 1 < v->n; i += 2) {
                cms_cp_sub(sub, sizeof(sub), "%s.%.64s", path, v->kids[i]->value);
                r = dep_long(c, v->kids[i + 1], sub, s, v->kids[i]->value);
        }
        return r;
}

/* ---- healthcheck ---- */

static int health_test(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                       struct cms_compose_health *h)
{
        if (v->null)
                return 0;
        if (v->kind == CMS_Y_SCALAR) {
                if (!*v->value)
                        return cms_cp_fail(c, v, path, "empty command");
                if (cms_compose_strv_add(&h->test, "CMD-SHELL") < 0 ||
                    cms_compose_strv_add(&h->test, v->value) < 0)
                        return cms_cp_oom(c);
                return 0;
        }
        int r = cms_cp_strv(c, v, path, false, &h->test);
        if (r < 0 || h->test.n == 0)
                return r;
        const char *kind = h->test.v[0];
        if (!strcmp(kind, "NONE"))
                return h->test.n == 1 ? 0
                                      : cms_cp_fail(c, v, path, "[\"NONE\"] takes no arguments");
        if (!strcmp(kind, "CMD"))
                return h->test.n >= 2 ? 0
                                      : cms_cp_fail(c, v, path, "[\"CMD\", ...] needs a command");
        if (!strcmp(kind, "CMD-SHELL"))
                return h->test.n == 2
                           ? 0
                           : cms_cp_fail(c, v, path,
                                         "[\"CMD-SHELL\", \"command\"] takes one string");
        return cms_cp_fail(c, v, path, "must start with \"CMD\", \"CMD-SHELL\" or \"NONE\"");
}

int cms_cp_healthcheck(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                       struct cms_compose_service *s)
{
        static const char *const keys[] = {"test",         "interval",       "timeout", "retries",
                                           "start_period", "start_interval", "disable", NULL};
        struct cms_compose_health *h = &s->healthcheck;
        char sub[320];
        bool disable = false;
        int64_t retries = -1;
        if (v->null)
                return 0;
        int r = cms_cp_need(c, v, path, CMS_Y_MAP);
        if (r < 0)
                return r;
        cms_cp_check_keys(c, v, path, keys, NULL);
        h->set = true;
#define SUB(k) (cms_cp_sub(sub, sizeof(sub), "%.200s.%s", path, k), sub)
        const struct cms_ynode *t = cms_ymap_get(v, "test");
        if (t && (r = health_test(c, t, SUB("test"), h)) < 0)
                return r;
        r = cms_cp_duration(c, cms_ymap_get(v, "interval"), SUB("interval"), &h->interval_ms);
        if (r == 0)
                r = cms_cp_duration(c, cms_ymap_get(v, "timeout"), SUB("timeout"), &h->timeout_ms);
        if (r == 0)
                r = cms_cp_duration(c, cms_ymap_get(v, "start_period"), SUB("start_period"),
                                    &h->start_period_ms);
        if (r == 0)
                r = cms_cp_duration(c, cms_ymap_get(v, "start_interval"), SUB("start_interval"),
                                    &h->start_interval_ms);
        if (r == 0)
                r = cms_cp_int(c, cms_ymap_get(v, "retries"), SUB("retries"), 0, INT32_MAX,
                               &retries);
        h->retries = (int)retries;
        if (r == 0)
                r = cms_cp_bool(c, cms_ymap_get(v, "disable"), SUB("disable"), &disable);
#undef SUB
        bool none = h->test.n == 1 && !strcmp(h->test.v[0], "NONE");
        if (r == 0 && (disable || none)) {
                /* disabled: only ["NONE"] remains, so both spellings hash alike */
                struct cms_compose_health off = {.set = true,
                                                 .interval_ms = -1,
                                                 .timeout_ms = -1,
                                                 .start_period_ms = -1,
                                                 .start_interval_ms = -1,
                                                 .retries = -1};
                cms_compose_strv_done(&h->test);
                *h = off;
                if (cms_compose_strv_add(&h->test, "NONE") < 0)
                        r = cms_cp_oom(c);
        }
        return r;
}

/* ---- deploy ---- */

/* A deploy limit beside the same limit at service level: they must agree (Compose Spec). */
static int merge_limit(struct cms_cp *c, const struct cms_ynode *n, const char *path, int64_t *svc,
                       int64_t val, const char *svc_key)
{
        if (*svc && *svc != val)
                return cms_cp_fail(c, n, path, "differs from %s", svc_key);
        *svc = val;
        return 0;
}

static int deploy_limits(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                         struct cms_compose_service *s, bool reservations)
{
        static const char *const lkeys[] = {"cpus", "memory", "pids", NULL};
        static const char *const rkeys[] = {"cpus", "memory", NULL};
        static const char *const rignored[] = {"devices", "generic_resources", NULL};
        char sub[320];
        const struct cms_ynode *x;
        int64_t mem = 0, pids = 0;
        int r = cms_cp_need(c, v, path, CMS_Y_MAP);
        if (r < 0)
                return r;
        cms_cp_check_keys(c, v, path, reservations ? rkeys : lkeys, reservations ? rignored : NULL);
        cms_cp_sub(sub, sizeof(sub), "%s.memory", path);
        if ((x = cms_ymap_get(v, "memory")) && !x->null) {
                if ((r = cms_cp_size(c, x, sub, &mem)) < 0)
                        return r;
                r = reservations ? merge_limit(c, x, sub, &s->resources.memory_reservation, mem,
                                               "mem_reservation")
                                 : merge_limit(c, x, sub, &s->resources.memory, mem, "mem_limit");
        }
        cms_cp_sub(sub, sizeof(sub), "%s.cpus", path);
        if (r == 0 && (x = cms_ymap_get(v, "cpus")) && !x->null) {
                if (reservations && c->swarm) {
                        /* read by cms_cp_deploy_swarm */
                } else if (reservations) {
                        cms_cp_warn(c, x, sub, "not supported by cmsd, ignored");
                } else {
                        char *end;
                        double d = x->kind == CMS_Y_SCALAR ? strtod(x->value, &end) : NAN;
                        if (!isfinite(d) || d < 0 || d > 1024 || *end || !*x->value)
                                return cms_cp_fail(c, x, sub, "not a number of CPUs");
                        if (s->resources.cpus && s->resources.cpus != d)
                                return cms_cp_fail(c, x, sub, "differs from cpus");
                        s->resources.cpus = d;
                }
        }
        cms_cp_sub(sub, sizeof(sub), "%s.pids", path);
        if (r == 0 && !reservations && (x = cms_ymap_get(v, "pids")) && !x->null) {
                if ((r = cms_cp_int(c, x, sub, -1, INT64_MAX, &pids)) == 0)
                        r = merge_limit(c, x, sub, &s->resources.pids_limit, pids, "pids_limit");
        }
        return r;
}

/* restart_policy {condition: none|on-failure|any, max_attempts} -> a restart value, used when
 * the service has no restart of its own (as Docker Compose does). */
static int deploy_restart(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                          char **restart)
{
        static const char *const keys[] = {"condition", "max_attempts", NULL};
        static const char *const ignored[] = {"delay", "window", NULL};
        static const char *const swarm_keys[] = {"condition", "max_attempts", "delay", "window",
                                                 NULL};
        char sub[320];
        int64_t attempts = 0;
        int r = cms_cp_need(c, v, path, CMS_Y_MAP);
        if (r < 0)
                return r;
        cms_cp_check_keys(c, v, path, c->swarm ? swarm_keys : keys, c->swarm ? NULL : ignored);
        cms_cp_sub(sub, sizeof(sub), "%s.max_attempts", path);
        if ((r = cms_cp_int(c, cms_ymap_get(v, "max_attempts"), sub, 0, INT32_MAX, &attempts)) < 0)
                return r;
        const struct cms_ynode *cond = cms_ymap_get(v, "condition");
        const char *cv = cond && cond->kind == CMS_Y_SCALAR && !cond->null ? cond->value : "any";
        cms_cp_sub(sub, sizeof(sub), "%s.condition", path);
        if (cond && cond->kind != CMS_Y_SCALAR)
                return cms_cp_need(c, cond, sub, CMS_Y_SCALAR);
        if (!strcmp(cv, "none"))
                *restart = strdup("no");
        else if (!strcmp(cv, "any"))
                *restart = strdup("always");
        else if (!strcmp(cv, "on-failure"))
                *restart = attempts ? cms_strdup_printf("on-failure:%" PRId64, attempts)
                                    : strdup("on-failure");
        else
                return cms_cp_fail(c, cond, sub, "'%.64s' is not one of none, on-failure, any", cv);
        return *restart ? 0 : cms_cp_oom(c);
}

int cms_cp_deploy(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                  struct cms_compose_service *s, int64_t *replicas, char **restart)
{
        static const char *const keys[] = {"replicas", "resources", "restart_policy", "mode", NULL};
        static const char *const ignored[] = {"labels",          "placement",     "update_config",
                                              "rollback_config", "endpoint_mode", NULL};
        static const char *const swarm_keys[] = {
            "replicas",        "resources",     "restart_policy", "mode",          "labels",
            "placement",       "update_config", "rollback_config", "endpoint_mode", NULL};
        char sub[320];
        const struct cms_ynode *x, *y;
        int r = cms_cp_need(c, v, path, CMS_Y_MAP);
        if (r < 0)
                return r;
        cms_cp_check_keys(c, v, path, c->swarm ? swarm_keys : keys, c->swarm ? NULL : ignored);
        if (c->swarm && (r = cms_cp_deploy_swarm(c, v, path, s)) < 0)
                return r;
#define SUB(k) (cms_cp_sub(sub, sizeof(sub), "%.200s.%s", path, k), sub)
        r = cms_cp_int(c, cms_ymap_get(v, "replicas"), SUB("replicas"), 0, CMS_COMPOSE_MAX_REPLICAS,
                       replicas);
        if (r == 0 && (x = cms_ymap_get(v, "mode")) && !x->null) {
                if ((r = cms_cp_need(c, x, SUB("mode"), CMS_Y_SCALAR)) < 0)
                        return r;
                if (!strcmp(x->value, "global")) {
                        if (!c->swarm)
                                cms_cp_warn(c, x, sub, "global runs one container on this host");
                } else if (strcmp(x->value, "replicated"))
                        return cms_cp_fail(c, x, sub, "'%.64s' is not replicated or global",
                                           x->value);
        }
        if (r == 0 && (x = cms_ymap_get(v, "resources")) && !x->null) {
                static const char *const rkeys[] = {"limits", "reservations", NULL};
                if ((r = cms_cp_need(c, x, SUB("resources"), CMS_Y_MAP)) < 0)
                        return r;
                cms_cp_check_keys(c, x, sub, rkeys, NULL);
                if ((y = cms_ymap_get(x, "limits")) && !y->null)
                        r = deploy_limits(c, y, SUB("resources.limits"), s, false);
                if (r == 0 && (y = cms_ymap_get(x, "reservations")) && !y->null)
                        r = deploy_limits(c, y, SUB("resources.reservations"), s, true);
        }
        if (r == 0 && (x = cms_ymap_get(v, "restart_policy")) && !x->null)
                r = deploy_restart(c, x, SUB("restart_policy"), restart);
#undef SUB
        return r;
}

/* ---- build ---- */

int cms_cp_build(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                 struct cms_compose_service *s)
{
        static const char *const keys[] = {
            "context", "dockerfile",          "args", "target", "no_cache",
            "labels",  "additional_contexts", NULL};
        static const char *const ignored[] = {"dockerfile_inline",
                                              "cache_from",
                                              "cache_to",
                                              "network",
                                              "shm_size",
                                              "extra_hosts",
                                              "isolation",
                                              "privileged",
                                              "secrets",
                                              "ssh",
                                              "tags",
                                              "platforms",
                                              "pull",
                                              "ulimits",
                                              "entitlements",
                                              NULL};
        char sub[320];
        if (v->null)
                return 0;
        struct cms_compose_build *b = calloc(1, sizeof(*b));
        if (!b)
                return cms_cp_oom(c);
        s->build = b;
        if (v->kind == CMS_Y_SCALAR)
                return cms_cp_str_req(c, v, path, &b->context);
        int r = cms_cp_need(c, v, path, CMS_Y_MAP);
        if (r < 0)
                return r;
        cms_cp_check_keys(c, v, path, keys, ignored);
#define SUB(k) (cms_cp_sub(sub, sizeof(sub), "%.200s.%s", path, k), sub)
        const struct cms_ynode *ctx = cms_ymap_get(v, "context");
        r = ctx                           ? cms_cp_str_req(c, ctx, SUB("context"), &b->context)
            : !(b->context = strdup(".")) ? cms_cp_oom(c)
                                          : 0;
        if (r == 0)
                r = cms_cp_str(c, cms_ymap_get(v, "dockerfile"), SUB("dockerfile"), &b->dockerfile);
        if (r == 0)
                r = cms_cp_str(c, cms_ymap_get(v, "target"), SUB("target"), &b->target);
        if (r == 0)
                r = cms_cp_kvs(c, cms_ymap_get(v, "args"), SUB("args"), &b->args);
        if (r == 0)
                r = cms_cp_bool(c, cms_ymap_get(v, "no_cache"), SUB("no_cache"), &b->no_cache);
        if (r == 0)
                r = cms_cp_kvs(c, cms_ymap_get(v, "labels"), SUB("labels"), &b->labels);
        for (size_t i = 0; r == 0 && i < b->labels.n; i++)
                if (!b->labels.v[i].value && !(b->labels.v[i].value = strdup("")))
                        r = cms_cp_oom(c);
        if (r == 0)
                r = cms_cp_kvs(c, cms_ymap_get(v, "additional_contexts"),
                               SUB("additional_contexts"), &b->additional_contexts);
        for (size_t i = 0; r == 0 && i < b->additional_contexts.n; i++)
                if (!b->additional_contexts.v[i].value)
                        r = cms_cp_fail(c, v, SUB("additional_contexts"), "'%.64s' has no value",
                                        b->additional_contexts.v[i].key);
#undef SUB
        /* args without a value come from the environment, as for environment */
        for (size_t i = 0; r == 0 && i < b->args.n; i++) {
                const char *val =
                    b->args.v[i].value ? NULL : cms_compose_env_get(c->env, b->args.v[i].key);
                if (val && !(b->args.v[i].value = strdup(val)))
                        r = cms_cp_oom(c);
        }
        return r;
}
