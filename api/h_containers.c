/* Handlers for the container routes: query parsing and reply shaping only; the work is the
 * container manager's. */
#include <ctype.h>

#include "api.h"
#include "daemon/containers/list_text.h"
#include "daemon/log.h"

static int list_part(struct cms_manager *m, void *ud, json_object **out, struct cms_error *err)
{
        return cms_containers_list(m, ud, out, err);
}

void h_containers_list(struct cms_request *r)
{
        struct cms_list_opts o = {0};
        if (cms_query_bool(r, "all", false, &o.all) < 0)
                return;
        o.name = cms_query(r, "name");
        const char **labels = cms_query_all(r, "label");
        o.labels = labels;
        struct cms_error err = {0};
        if (r->fanout) {
                cms_fanout_reply(r, list_part, &o, true);
                free(labels);
                return;
        }
        /* The list written as text from the engine's text (the same bytes as the tree path, at a
         * fraction of its CPU). While draining the reply carries Connection: close, which only
         * the tree path's reply adds; a reply shape the text path does not take goes that way
         * too. */
        if (!atomic_load(&r->m->draining)) {
                struct cms_buf b;
                cms_buf_init(&b, 0);
                int rc = cms_containers_list_text(r->m, &o, r->role < CMS_ROLE_OPERATOR, &b, &err);
                if (rc == 0)
                        cms_reply_raw(r, 200, "application/json", b.data, b.len, true);
                else if (rc != -EAGAIN)
                        cms_reply_error(r, &err);
                cms_buf_free(&b);
                if (rc != -EAGAIN) {
                        free(labels);
                        return;
                }
        }
        json_object *out = NULL;
        int rc = cms_containers_list(r->m, &o, &out, &err);
        free(labels);
        cms_reply_result(r, rc, 200, out, &err);
}

void h_containers_create(struct cms_request *r)
{
        bool start;
        if (cms_query_bool(r, "start", false, &start) < 0)
                return;
        if (!r->json) {
                cms_reply_errorf(r, 400, "a ContainerConfig JSON body is required");
                return;
        }
        struct cms_error err = {0};
        json_object *out = NULL;
        struct cms_caller who = cms_request_caller(r);
        int rc = cms_containers_create(r->m, &who, r->json, start, &out, &err);
        cms_reply_result(r, rc, 201, out, &err);
}

void h_deploy(struct cms_request *r)
{
        if (!r->json) {
                cms_reply_errorf(r, 400, "a deploy JSON body is required");
                return;
        }
        cms_reply_call_who_body(r, 200, cms_deploy);
}

void h_container_inspect(struct cms_request *r)
{
        cms_reply_call_id(r, 200, cms_containers_inspect);
}

void h_container_remove(struct cms_request *r)
{
        bool force, volumes;
        if (cms_query_bool(r, "force", false, &force) < 0 ||
            cms_query_bool(r, "volumes", false, &volumes) < 0)
                return;
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = cms_containers_remove(r->m, r->params[0], force, volumes, &out, &err);
        cms_reply_result(r, rc, 200, out, &err);
}

void h_container_action(struct cms_request *r)
{
        enum cms_action a;
        if (cms_action_parse(r->route->name, &a) < 0) {
                cms_reply_errorf(r, 500, "unknown action %s", r->route->name);
                return;
        }
        int64_t timeout = -1;
        if ((a == CMS_ACTION_STOP || a == CMS_ACTION_RESTART) &&
            cms_query_int(r, "timeout", 0, 3600, -1, &timeout) < 0)
                return;
        const char *sig = a == CMS_ACTION_KILL ? cms_query(r, "signal") : NULL;
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = cms_containers_action(r->m, r->params[0], a, (int)timeout, sig, &out, &err);
        cms_reply_result(r, rc, 200, out, &err);
}

void h_container_exec(struct cms_request *r)
{
        if (!r->json) {
                cms_reply_errorf(r, 400, "an exec JSON body is required");
                return;
        }
        cms_reply_call_id_body(r, 200, cms_containers_exec);
}

void h_container_health(struct cms_request *r)
{
        cms_reply_call_id(r, 200, cms_containers_health);
}

/* ---- logs ---- */

static json_object *line_json(const char *stream, const char *time, const char *text)
{
        json_object *l = json_object_new_object();
        json_object_object_add(l, "stream", json_object_new_string(stream));
        json_object_object_add(l, "time", time ? json_object_new_string(time) : NULL);
        json_object_object_add(l, "text", json_object_new_string(text));
        return l;
}

static int collect_line(const char *stream, const char *time, const char *text, void *ud)
{
        json_object_array_add(ud, line_json(stream, time, text));
        return 0;
}

struct follow {
        struct cms_stream *s; /* first: cms_stream_holder_should_stop reads it */
        struct cms_manager *m;
        char *id;
        struct cms_logs_opts o;
};

static void follow_free(void *p)
{
        struct follow *f = p;
        free(f->id);
        free(f);
}

static int follow_line(const char *stream, const char *time, const char *text, void *ud)
{
        struct follow *f = ud;
        return cms_stream_emit(f->s, "log", line_json(stream, time, text));
}

static void follow_run(struct cms_stream *s, void *ud)
{
        struct follow *f = ud;
        struct cms_error err = {0};
        f->s = s;
        int rc = cms_containers_logs(f->m, f->id, &f->o, follow_line, cms_stream_holder_should_stop,
                                     f, &err);
        cms_stream_finish(s, rc, &err, "container stopped");
}

void h_container_logs(struct cms_request *r)
{
        struct cms_logs_opts o = {0};
        if (cms_logs_query(r, &o) < 0)
                return;
        struct cms_error err = {0};
        if (o.follow) {
                enum cms_stream_format fmt = cms_follow_begin(r, cms_containers_inspect);
                if (fmt == CMS_STREAM_NONE)
                        return;
                struct follow *f = calloc(1, sizeof(*f));
                if (!f || !(f->id = strdup(r->params[0]))) {
                        free(f);
                        cms_reply_errorf(r, 500, "out of memory");
                        return;
                }
                f->m = r->m;
                f->o = o;
                cms_stream_start(r, fmt, follow_run, f, follow_free);
                return;
        }
        json_object *lines = json_object_new_array();
        int rc = cms_containers_logs(r->m, r->params[0], &o, collect_line, NULL, lines, &err);
        if (rc < 0) {
                json_object_put(lines);
                cms_reply_error(r, &err);
                return;
        }
        json_object *out = json_object_new_object();
        json_object_object_add(out, "lines", lines);
        cms_reply_json(r, 200, out);
}
