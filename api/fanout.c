/* engine=* on the lists: every engine the token may use is asked at once, a thread each, and
 * the reply carries what came back. An engine that is down or fails adds a warning instead of
 * failing the list; a hung one is bounded by its calls' timeout (limits.request_timeout). */
#include "api.h"

struct part {
        void *ud;
        struct cms_manager *m;
        cms_fanout_fn fn;
        json_object *out;
        struct cms_error err;
        int rc;
        pthread_t thread;
        bool started;
};

static void *run(void *arg)
{
        struct part *p = arg;
        p->rc = p->fn(p->m, p->ud, &p->out, &p->err);
        return NULL;
}

static json_object *warning(const struct part *p)
{
        json_object *w = json_object_new_object();
        int status = p->err.status >= 400 ? p->err.status : 500;
        json_object_object_add(w, "engine", json_object_new_string(p->m->name));
        json_object_object_add(w, "status", json_object_new_int(status));
        json_object_object_add(
            w, "code", json_object_new_string(p->err.code ? p->err.code : cms_status_code(status)));
        json_object_object_add(
            w, "message", json_object_new_string(p->err.message[0] ? p->err.message : "failed"));
        return w;
}

/* Appends p's items to items, each marked with its engine when mark. */
static int merge(const struct part *p, json_object *items, bool mark)
{
        size_t n =
            json_object_is_type(p->out, json_type_array) ? json_object_array_length(p->out) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *it = json_object_array_get_idx(p->out, i);
                if (mark && json_object_is_type(it, json_type_object))
                        json_object_object_add(it, "engine", json_object_new_string(p->m->name));
                if (json_object_array_add(items, json_object_get(it)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

void cms_fanout_reply(struct cms_request *r, cms_fanout_fn fn, void *ud, bool mark)
{
        struct cms_manager *root = r->m->root;
        struct part parts[CMS_MAX_ENGINES] = {0};
        size_t n = 0;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 1024 * 1024);
        for (size_t i = 0; i < root->n_all; i++) {
                if (!(r->engines_ok & (1u << i)))
                        continue;
                struct part *p = &parts[n++];
                *p = (struct part){.ud = ud, .m = root->all[i], .fn = fn};
                p->started = pthread_create(&p->thread, &attr, run, p) == 0;
        }
        pthread_attr_destroy(&attr);
        for (size_t i = 0; i < n; i++) {
                if (parts[i].started)
                        pthread_join(parts[i].thread, NULL);
                else /* no thread to be had: this one in line */
                        run(&parts[i]);
        }
        json_object *items = json_object_new_array(), *warnings = json_object_new_array();
        int rc = items && warnings ? 0 : -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (rc == 0 && parts[i].rc < 0)
                        rc = json_object_array_add(warnings, warning(&parts[i]));
                else if (rc == 0)
                        rc = merge(&parts[i], items, mark);
                json_object_put(parts[i].out);
        }
        if (rc < 0) {
                json_object_put(items);
                json_object_put(warnings);
                cms_reply_errorf(r, 500, "out of memory");
                return;
        }
        cms_reply_json_warnings(r, 200, items, warnings);
}
