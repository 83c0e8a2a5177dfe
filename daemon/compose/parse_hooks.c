/* Lifecycle hooks: post_start and pre_stop, lists of {command, user, privileged, working_dir,
 * environment} that projects/ runs through the engine's exec right after a container starts
 * and right before it is stopped. Hooks do not change the container, so the config hash leaves
 * them out (as Docker Compose does); the normalized JSON shows them. */
#include "internal.h"

static int hook_one(struct cms_cp *c, const struct cms_ynode *e, const char *path,
                    struct cms_compose_hook *h)
{
        static const char *const known[] = {"command",     "user",        "privileged",
                                            "working_dir", "environment", NULL};
        int r = cms_cp_need(c, e, path, CMS_Y_MAP);
        if (r < 0)
                return r;
        cms_cp_check_keys(c, e, path, known, NULL);
        char sub[360];
        const struct cms_ynode *x = cms_ymap_get(e, "command");
        cms_cp_sub(sub, sizeof(sub), "%s.command", path);
        if (!x || x->null)
                return cms_cp_fail(c, e, path, "command is required");
        if (x->kind == CMS_Y_SCALAR) {
                r = cms_compose_split_words(x->value, &h->command);
                if (r == -EINVAL)
                        return cms_cp_fail(c, x, sub, "unterminated quote in '%.64s'", x->value);
                if (r < 0)
                        return cms_cp_oom(c);
        } else if ((r = cms_cp_strv(c, x, sub, false, &h->command)) < 0) {
                return r;
        }
        if (h->command.n == 0)
                return cms_cp_fail(c, x, sub, "an empty command");
        if ((x = cms_ymap_get(e, "user"))) {
                cms_cp_sub(sub, sizeof(sub), "%s.user", path);
                r = cms_cp_str(c, x, sub, &h->user);
        }
        if (r == 0 && (x = cms_ymap_get(e, "working_dir"))) {
                cms_cp_sub(sub, sizeof(sub), "%s.working_dir", path);
                r = cms_cp_str(c, x, sub, &h->working_dir);
        }
        if (r == 0 && (x = cms_ymap_get(e, "privileged"))) {
                cms_cp_sub(sub, sizeof(sub), "%s.privileged", path);
                r = cms_cp_bool(c, x, sub, &h->privileged);
        }
        if (r == 0 && (x = cms_ymap_get(e, "environment"))) {
                cms_cp_sub(sub, sizeof(sub), "%s.environment", path);
                r = cms_cp_kvs(c, x, sub, &h->environment);
        }
        return r;
}

int cms_cp_hooks(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                 struct cms_compose_service *s, bool pre_stop)
{
        if (v->null)
                return 0;
        int r = cms_cp_need(c, v, path, CMS_Y_SEQ);
        if (r < 0)
                return r;
        struct cms_compose_hook **out = pre_stop ? &s->pre_stop : &s->post_start;
        size_t *n = pre_stop ? &s->n_pre_stop : &s->n_post_start;
        cms_compose_hooks_done(*out, *n);
        *n = 0;
        if (!(*out = calloc(v->n ? v->n : 1, sizeof(**out))))
                return cms_cp_oom(c);
        for (size_t i = 0; r == 0 && i < v->n; i++) {
                char sub[340];
                cms_cp_sub(sub, sizeof(sub), "%s[%zu]", path, i);
                (*n)++;
                r = hook_one(c, v->kids[i], sub, &(*out)[i]);
        }
        return r;
}

static json_object *hooks_json(const struct cms_compose_hook *v, size_t n)
{
        json_object *a = json_object_new_array();
        for (size_t i = 0; a && i < n; i++) {
                json_object *e = json_object_new_object(), *cmd = json_object_new_array();
                for (size_t k = 0; k < v[i].command.n; k++)
                        json_object_array_add(cmd, json_object_new_string(v[i].command.v[k]));
                json_object_object_add(e, "command", cmd);
                if (v[i].user)
                        json_object_object_add(e, "user", json_object_new_string(v[i].user));
                if (v[i].working_dir)
                        json_object_object_add(e, "working_dir",
                                               json_object_new_string(v[i].working_dir));
                json_object_object_add(e, "privileged", json_object_new_boolean(v[i].privileged));
                if (v[i].environment.n) {
                        json_object *env = json_object_new_object();
                        for (size_t k = 0; k < v[i].environment.n; k++) {
                                const struct cms_compose_kv *kv = &v[i].environment.v[k];
                                json_object_object_add(env, kv->key,
                                                       kv->value ? json_object_new_string(kv->value)
                                                                 : NULL);
                        }
                        json_object_object_add(e, "environment", env);
                }
                json_object_array_add(a, e);
        }
        return a;
}

void cms_compose_hooks_to_json(json_object *o, const struct cms_compose_service *s)
{
        if (s->n_post_start)
                json_object_object_add(o, "post_start", hooks_json(s->post_start, s->n_post_start));
        if (s->n_pre_stop)
                json_object_object_add(o, "pre_stop", hooks_json(s->pre_stop, s->n_pre_stop));
}
