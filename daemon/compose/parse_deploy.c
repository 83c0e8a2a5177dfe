/* deploy's keys that only a swarm honours, read for a stack (cms_compose_parse_opts.swarm):
 * mode, labels, placement (constraints, preferences, max_replicas_per_node), update_config and
 * rollback_config, restart_policy (condition, delay, max_attempts, window), endpoint_mode and
 * resources.reservations.cpus, into service.deploy. Values are checked as the engine would:
 * a stack the engine would refuse is a 400 naming the key before anything is created. */
#include <math.h>

#include "internal.h"

static int one_of(struct cms_cp *c, const struct cms_ynode *n, const char *path,
                  const char *const *allowed, char **out)
{
        if (!n || n->null)
                return 0;
        int r = cms_cp_need(c, n, path, CMS_Y_SCALAR);
        if (r < 0)
                return r;
        for (size_t i = 0; allowed[i]; i++)
                if (!strcmp(n->value, allowed[i])) {
                        free(*out);
                        return (*out = strdup(n->value)) ? 0 : cms_cp_oom(c);
                }
        char list[160] = "";
        for (size_t i = 0; allowed[i]; i++)
                cms_cp_sub(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
                           allowed[i]);
        return cms_cp_fail(c, n, path, "'%.64s' is not one of %s", n->value, list);
}

static int ratio(struct cms_cp *c, const struct cms_ynode *n, const char *path, double *out)
{
        if (!n || n->null)
                return 0;
        char *end = NULL;
        double d = n->kind == CMS_Y_SCALAR ? strtod(n->value, &end) : NAN;
        if (!isfinite(d) || d < 0 || d > 1 || !end || *end || !*n->value)
                return cms_cp_fail(c, n, path, "not a ratio between 0 and 1");
        *out = d;
        return 0;
}

#define SUB(k) (cms_cp_sub(sub, sizeof(sub), "%.200s.%s", path, k), sub)

static int update_config(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                         bool rollback, struct cms_compose_update *u)
{
        static const char *const keys[] = {
            "parallelism", "delay", "failure_action", "monitor", "max_failure_ratio",
            "order",       NULL};
        static const char *const actions[] = {"continue", "rollback", "pause", NULL};
        static const char *const actions_rb[] = {"continue", "pause", NULL};
        static const char *const orders[] = {"stop-first", "start-first", NULL};
        char sub[320];
        *u = (struct cms_compose_update){.set = true,
                                         .parallelism = -1,
                                         .delay_ms = -1,
                                         .monitor_ms = -1,
                                         .max_failure_ratio = -1};
        int r = cms_cp_need(c, v, path, CMS_Y_MAP);
        if (r < 0)
                return r;
        cms_cp_check_keys(c, v, path, keys, NULL);
        if ((r = cms_cp_int(c, cms_ymap_get(v, "parallelism"), SUB("parallelism"), 0, 1000000,
                            &u->parallelism)) < 0 ||
            (r = cms_cp_duration(c, cms_ymap_get(v, "delay"), SUB("delay"), &u->delay_ms)) < 0 ||
            (r = cms_cp_duration(c, cms_ymap_get(v, "monitor"), SUB("monitor"), &u->monitor_ms)) <
                0 ||
            (r = ratio(c, cms_ymap_get(v, "max_failure_ratio"), SUB("max_failure_ratio"),
                       &u->max_failure_ratio)) < 0 ||
            (r = one_of(c, cms_ymap_get(v, "failure_action"), SUB("failure_action"),
                        rollback ? actions_rb : actions, &u->failure_action)) < 0)
                return r;
        return one_of(c, cms_ymap_get(v, "order"), SUB("order"), orders, &u->order);
}

/* placement: {constraints: ["node.role==manager"], preferences: [{spread: node.labels.zone}],
 * max_replicas_per_node}. */
static int placement(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                     struct cms_compose_deploy *d)
{
        static const char *const keys[] = {"constraints", "preferences", "max_replicas_per_node",
                                           NULL};
        char sub[320];
        int r = cms_cp_need(c, v, path, CMS_Y_MAP);
        if (r < 0)
                return r;
        cms_cp_check_keys(c, v, path, keys, NULL);
        if ((r = cms_cp_strv(c, cms_ymap_get(v, "constraints"), SUB("constraints"), false,
                             &d->constraints)) < 0 ||
            (r = cms_cp_int(c, cms_ymap_get(v, "max_replicas_per_node"),
                            SUB("max_replicas_per_node"), 0, 1000000, &d->max_replicas_per_node)) <
                0)
                return r;
        for (size_t i = 0; i < d->constraints.n; i++)
                if (!strstr(d->constraints.v[i], "==") && !strstr(d->constraints.v[i], "!=")) {
                        cms_cp_sub(sub, sizeof(sub), "%.200s.constraints[%zu]", path, i);
                        return cms_cp_fail(c, cms_ymap_get(v, "constraints"), sub,
                                           "'%.64s' is not KEY==VALUE or KEY!=VALUE",
                                           d->constraints.v[i]);
                }
        const struct cms_ynode *pr = cms_ymap_get(v, "preferences");
        if (!pr || pr->null)
                return 0;
        if ((r = cms_cp_need(c, pr, SUB("preferences"), CMS_Y_SEQ)) < 0)
                return r;
        for (size_t i = 0; i < pr->n; i++) {
                static const char *const pkeys[] = {"spread", NULL};
                char *spread = NULL;
                cms_cp_sub(sub, sizeof(sub), "%.200s.preferences[%zu]", path, i);
                if ((r = cms_cp_need(c, pr->kids[i], sub, CMS_Y_MAP)) < 0)
                        return r;
                cms_cp_check_keys(c, pr->kids[i], sub, pkeys, NULL);
                cms_cp_sub(sub, sizeof(sub), "%.200s.preferences[%zu].spread", path, i);
                if ((r = cms_cp_str_req(c, cms_ymap_get(pr->kids[i], "spread"), sub, &spread)) < 0)
                        return r;
                if (cms_compose_strv_take(&d->spread, spread) < 0)
                        return cms_cp_oom(c);
        }
        return 0;
}

static int restart_policy(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                          struct cms_compose_deploy *d)
{
        static const char *const conds[] = {"none", "on-failure", "any", NULL};
        char sub[320];
        if (!v || v->null || v->kind != CMS_Y_MAP) /* the project reader refused other shapes */
                return 0;
        d->restart_given = true;
        d->restart_delay_ms = d->restart_window_ms = d->restart_max_attempts = -1;
        int r =
            one_of(c, cms_ymap_get(v, "condition"), SUB("condition"), conds, &d->restart_condition);
        if (r == 0)
                r = cms_cp_duration(c, cms_ymap_get(v, "delay"), SUB("delay"),
                                    &d->restart_delay_ms);
        if (r == 0)
                r = cms_cp_duration(c, cms_ymap_get(v, "window"), SUB("window"),
                                    &d->restart_window_ms);
        if (r == 0)
                r = cms_cp_int(c, cms_ymap_get(v, "max_attempts"), SUB("max_attempts"), 0,
                               INT32_MAX, &d->restart_max_attempts);
        return r;
}

static int reserve_cpus(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                        struct cms_compose_deploy *d)
{
        const struct cms_ynode *res = cms_ymap_get(v, "resources"), *rv, *x;
        if (!res || res->kind != CMS_Y_MAP || !(rv = cms_ymap_get(res, "reservations")) ||
            rv->kind != CMS_Y_MAP || !(x = cms_ymap_get(rv, "cpus")) || x->null)
                return 0;
        char sub[320], *end = NULL;
        double cpus = x->kind == CMS_Y_SCALAR ? strtod(x->value, &end) : NAN;
        if (!isfinite(cpus) || cpus < 0 || cpus > 1024 || !end || *end || !*x->value)
                return cms_cp_fail(c, x, SUB("resources.reservations.cpus"),
                                   "not a number of CPUs");
        d->reserve_cpus = cpus;
        return 0;
}

int cms_cp_deploy_swarm(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                        struct cms_compose_service *s)
{
        static const char *const modes[] = {"replicated", "global", NULL};
        static const char *const endpoints[] = {"vip", "dnsrr", NULL};
        struct cms_compose_deploy *d = &s->deploy;
        char sub[320], *mode = NULL;
        const struct cms_ynode *x;
        int r = one_of(c, cms_ymap_get(v, "mode"), SUB("mode"), modes, &mode);
        d->global = mode && !strcmp(mode, "global");
        free(mode);
        if (r == 0)
                r = cms_cp_kvs(c, cms_ymap_get(v, "labels"), SUB("labels"), &d->labels);
        if (r == 0 && (x = cms_ymap_get(v, "placement")) && !x->null)
                r = placement(c, x, SUB("placement"), d);
        if (r == 0 && (x = cms_ymap_get(v, "update_config")) && !x->null)
                r = update_config(c, x, SUB("update_config"), false, &d->update);
        if (r == 0 && (x = cms_ymap_get(v, "rollback_config")) && !x->null)
                r = update_config(c, x, SUB("rollback_config"), true, &d->rollback);
        if (r == 0)
                r = restart_policy(c, cms_ymap_get(v, "restart_policy"), SUB("restart_policy"), d);
        if (r == 0)
                r = one_of(c, cms_ymap_get(v, "endpoint_mode"), SUB("endpoint_mode"), endpoints,
                           &d->endpoint_mode);
        if (r == 0)
                r = reserve_cpus(c, v, path, d);
        return r;
}
#undef SUB
