/* Convergence for `up`: given the project's containers as the engine lists them (their compose
 * labels), which to keep, start, recreate, create or remove so the engine matches the model.
 * Decided on the config hash alone, as Docker Compose does: an unchanged service is not touched;
 * replicas keep their numbers, scaling down removes the highest numbers. */
#include "internal.h"

struct acts {
        struct cms_compose_action *v;
        size_t n;
};

static int act(struct acts *a, enum cms_compose_action_kind kind, size_t svc, int number,
               const char *id)
{
        struct cms_compose_action *v = realloc(a->v, (a->n + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        a->v = v;
        v[a->n++] = (struct cms_compose_action){kind, svc, number, id};
        return 0;
}

static int scale_of(const struct cms_compose_project *p, json_object *scale, size_t svc, int *out,
                    struct cms_error *err)
{
        json_object *v = NULL;
        *out = p->services[svc].replicas;
        if (!scale || !json_object_object_get_ex(scale, p->services[svc].name, &v))
                return 0;
        int64_t n = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
        if (n < 0 || n > CMS_COMPOSE_MAX_REPLICAS)
                return cms_err(err, 400, "scale.%s: must be an integer in [0, %d]",
                               p->services[svc].name, CMS_COMPOSE_MAX_REPLICAS);
        if (n > 1 && p->services[svc].container_name)
                return cms_err(err, 400, "scale.%s: container_name '%s' allows one container",
                               p->services[svc].name, p->services[svc].container_name);
        *out = (int)n;
        return 0;
}

int cms_compose_scale_check(const struct cms_compose_project *p, json_object *scale,
                            struct cms_error *err)
{
        if (!scale)
                return 0;
        if (!json_object_is_type(scale, json_type_object))
                return cms_err(err, 400, "scale: must be an object {\"service\": count}");
        json_object_object_foreach(scale, key, val)
        {
                (void)val;
                const struct cms_compose_service *s = cms_compose_service_find(p, key);
                int n;
                if (!s)
                        return cms_err(err, 400, "scale: no such service: %.64s", key);
                int r = scale_of(p, scale, (size_t)(s - p->services), &n, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* One service: numbers 1..want, each the first container found with that number. */
static int diff_service(const struct cms_compose_project *p, size_t svc, int want,
                        const struct cms_compose_existing *ex, size_t n_ex, bool force,
                        struct acts *a)
{
        const struct cms_compose_service *s = &p->services[svc];
        char hash[CMS_COMPOSE_HASH_LEN + 1];
        _cleanup_free_ const struct cms_compose_existing **slot =
            calloc((size_t)want + 1, sizeof(*slot));
        if (!slot || cms_compose_config_hash(s, hash) < 0)
                return -ENOMEM;
        int r = 0;
        /* surplus first: scaled down, duplicate numbers, missing numbers */
        for (size_t i = 0; r == 0 && i < n_ex; i++) {
                if (!ex[i].service || strcmp(ex[i].service, s->name))
                        continue;
                int num = ex[i].number;
                bool take = num >= 1 && num <= want && !slot[num];
                if (take && !ex[i].running) /* a running duplicate is the better keeper */
                        for (size_t j = i + 1; j < n_ex && take; j++)
                                take = !(ex[j].running && ex[j].number == num && ex[j].service &&
                                         !strcmp(ex[j].service, s->name));
                if (take)
                        slot[num] = &ex[i];
                else
                        r = act(a, CMS_COMPOSE_ACTION_REMOVE, svc, num, ex[i].id);
        }
        for (int num = 1; r == 0 && num <= want; num++) {
                const struct cms_compose_existing *e = slot[num];
                if (!e)
                        r = act(a, CMS_COMPOSE_ACTION_CREATE, svc, num, NULL);
                else if (force || !e->hash || strcmp(e->hash, hash))
                        r = act(a, CMS_COMPOSE_ACTION_RECREATE, svc, num, e->id);
                else
                        r = act(a, e->running ? CMS_COMPOSE_ACTION_KEEP : CMS_COMPOSE_ACTION_START,
                                svc, num, e->id);
        }
        return r;
}

int cms_compose_diff(const struct cms_compose_project *p, const struct cms_compose_plan *pl,
                     const struct cms_compose_existing *existing, size_t n_existing,
                     const struct cms_compose_diff_opts *o, struct cms_compose_action **out,
                     size_t *n, struct cms_error *err)
{
        static const struct cms_compose_diff_opts none = {0};
        struct acts a = {0};
        *out = NULL;
        *n = 0;
        o = o ? o : &none;
        int r = cms_compose_scale_check(p, o->scale, err);
        for (size_t l = 0; r == 0 && l < pl->n_levels; l++)
                for (size_t k = 0; r == 0 && k < pl->levels[l].n; k++) {
                        size_t svc = pl->levels[l].services[k];
                        int want;
                        if ((r = scale_of(p, o->scale, svc, &want, err)) < 0)
                                break;
                        r = diff_service(p, svc, want, existing, n_existing, o->force_recreate, &a);
                        if (r == -ENOMEM)
                                r = cms_err(err, 500, "out of memory");
                }
        for (size_t i = 0; r == 0 && o->remove_orphans && i < n_existing; i++) {
                const char *svc = existing[i].service;
                if (svc && cms_compose_service_find(p, svc))
                        continue;
                if (act(&a, CMS_COMPOSE_ACTION_REMOVE, SIZE_MAX, existing[i].number,
                        existing[i].id) < 0)
                        r = cms_err(err, 500, "out of memory");
        }
        if (r < 0) {
                free(a.v);
                return r;
        }
        *out = a.v;
        *n = a.n;
        return 0;
}
