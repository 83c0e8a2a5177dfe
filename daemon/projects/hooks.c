/* Compose lifecycle hooks: post_start runs through the engine's exec right after a container of
 * the service starts (up: created, recreated or started), pre_stop right before one is stopped
 * (down, stop, and the old container of a recreate). A failing hook (a non-zero exit, or an exec
 * the engine refuses) does not undo the operation: it is reported in the reply's warnings with
 * its exit code and the tail of its output. Docker Compose v2 fails the command instead; cmsd
 * keeps the started containers and says what went wrong. A privileged hook needs the policy's
 * privileged rule, judged with the rest of the project before anything is made. */
#include "internal.h"

#define OUTPUT_TAIL 200

static json_object *hook_body(const struct cms_compose_hook *h)
{
        json_object *b = json_object_new_object(), *cmd = json_object_new_array(),
                    *env = json_object_new_object();
        for (size_t i = 0; i < h->command.n; i++)
                json_object_array_add(cmd, json_object_new_string(h->command.v[i]));
        for (size_t i = 0; i < h->environment.n; i++)
                json_object_object_add(env, h->environment.v[i].key,
                                       json_object_new_string(h->environment.v[i].value
                                                                  ? h->environment.v[i].value
                                                                  : ""));
        json_object_object_add(b, "command", cmd);
        json_object_object_add(b, "env", env);
        if (h->user)
                json_object_object_add(b, "user", json_object_new_string(h->user));
        if (h->working_dir)
                json_object_object_add(b, "workdir", json_object_new_string(h->working_dir));
        json_object_object_add(b, "timeout", json_object_new_string("5m"));
        return b;
}

/* The last OUTPUT_TAIL bytes of stderr, else of stdout, on one line. */
static void output_tail(json_object *res, char *buf, size_t size)
{
        const char *e = json_object_get_string(cms_json_get(res, "stderr"));
        const char *o = json_object_get_string(cms_json_get(res, "stdout"));
        const char *t = e && *e ? e : o ? o : "";
        size_t l = strlen(t);
        snprintf(buf, size, "%s", l > OUTPUT_TAIL ? t + l - OUTPUT_TAIL : t);
        for (char *p = buf; *p; p++)
                if (*p == '\n' || *p == '\r')
                        *p = ' ';
        for (size_t n = strlen(buf); n && buf[n - 1] == ' ';)
                buf[--n] = 0;
}

static void warn(pthread_mutex_t *mu, json_object *warnings, const char *msg)
{
        if (mu)
                pthread_mutex_lock(mu);
        cms_project_warn(warnings, "%s", msg);
        if (mu)
                pthread_mutex_unlock(mu);
}

void cms_project_hooks_run(struct cms_manager *m, const struct cms_compose_service *s,
                           bool pre_stop, const char *id, pthread_mutex_t *mu,
                           json_object *warnings)
{
        const struct cms_compose_hook *v = pre_stop ? s->pre_stop : s->post_start;
        size_t n = pre_stop ? s->n_pre_stop : s->n_post_start;
        const char *key = pre_stop ? "pre_stop" : "post_start";
        for (size_t i = 0; i < n; i++) {
                _cleanup_json_ json_object *body = hook_body(&v[i]), *res = NULL;
                struct cms_error e = {0};
                char msg[600], tail[OUTPUT_TAIL + 1];
                int r = cms_container_exec_hook(m, id, body, v[i].privileged, &res, &e);
                int code = r == 0 ? json_object_get_int(cms_json_get(res, "exit_code")) : -1;
                if (r == 0 && code == 0)
                        continue;
                if (r < 0)
                        snprintf(msg, sizeof(msg), "services.%s.%s[%zu]: %.12s: %s", s->name, key,
                                 i, id, e.message);
                else {
                        output_tail(res, tail, sizeof(tail));
                        snprintf(msg, sizeof(msg), "services.%s.%s[%zu]: %.12s: exit code %d: %s",
                                 s->name, key, i, id, code, tail);
                }
                warn(mu, warnings, msg);
        }
}

int cms_project_hooks_policy(struct cms_manager *m, const struct cms_caller *who,
                             const struct cms_compose_service *s, json_object *denials,
                             struct cms_error *err)
{
        int n = 0;
        for (int pre = 0; pre < 2; pre++) {
                const struct cms_compose_hook *v = pre ? s->pre_stop : s->post_start;
                size_t nh = pre ? s->n_pre_stop : s->n_post_start;
                for (size_t i = 0; i < nh; i++) {
                        if (!v[i].privileged)
                                continue;
                        char prefix[240];
                        snprintf(prefix, sizeof(prefix), "services.%s.%s[%zu].", s->name,
                                 pre ? "pre_stop" : "post_start", i);
                        _cleanup_json_ json_object *body =
                            json_tokener_parse("{\"HostConfig\":{\"Privileged\":true}}");
                        struct cms_policy_req q = {
                            .kind = CMS_PQ_CREATE, .body = body, .prefix = prefix};
                        int r = cms_policy_collect(m, who, &q, denials, err);
                        if (r < 0)
                                return r;
                        n += r;
                }
        }
        return n;
}
