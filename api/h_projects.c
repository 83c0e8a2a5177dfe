/* Handlers of the compose project routes (/v1/projects...): request parsing and replies only;
 * the work is in the manager's project_*.c. */
#include <stdlib.h>

#include "api.h"

void h_projects_list(struct cms_request *r)
{
        struct cms_error err = {0};
        json_object *out = NULL;
        int rc = cms_projects_list(r->m, &out, &err);
        cms_reply_result(r, rc, 200, out, &err);
}

/* A raw YAML body: the options come from the query string. */
static json_object *body_from_yaml(struct cms_request *r)
{
        static const char *const bools[] = {"build", "force_recreate", "remove_orphans", "wait"};
        static const char *const strs[] = {"name", "pull", "working_dir", "timeout"};
        json_object *b = json_object_new_object();
        json_object_object_add(
            b, "compose",
            json_object_new_string_len(r->body.data ? r->body.data : "", (int)r->body.len));
        for (size_t i = 0; i < ELEMENTSOF(bools); i++) {
                bool v;
                if (cms_query_bool(r, bools[i], false, &v) < 0) {
                        json_object_put(b);
                        return NULL;
                }
                if (cms_query(r, bools[i]))
                        json_object_object_add(b, bools[i], json_object_new_boolean(v));
        }
        for (size_t i = 0; i < ELEMENTSOF(strs); i++)
                if (cms_query(r, strs[i]))
                        json_object_object_add(b, strs[i],
                                               json_object_new_string(cms_query(r, strs[i])));
        return b;
}

void h_projects_up(struct cms_request *r)
{
        _cleanup_json_ json_object *yaml = NULL;
        json_object *body = r->json;
        if (cms_request_is_yaml(r)) {
                if (r->body.len == 0) {
                        cms_reply_errorf(r, 400, "an empty compose file");
                        return;
                }
                if (!(yaml = body_from_yaml(r)))
                        return; /* replied */
                body = yaml;
        }
        if (!body) {
                cms_reply_errorf(r, 400,
                                 "a body is required: JSON {\"name\",\"compose\",...} or "
                                 "the YAML with Content-Type: application/yaml");
                return;
        }
        struct cms_error err = {0};
        json_object *out = NULL;
        int status = 200;
        struct cms_caller who = cms_request_caller(r);
        int rc = cms_projects_up(r->m, &who, body, &status, &out, &err);
        cms_reply_result(r, rc, status, out, &err);
}

void h_project_ps(struct cms_request *r)
{
        cms_reply_call_id(r, 200, cms_projects_ps);
}

void h_project_config(struct cms_request *r)
{
        cms_reply_call_id(r, 200, cms_projects_config);
}

void h_project_up(struct cms_request *r)
{
        cms_reply_call_who_id_body(r, 200, cms_projects_up_stored);
}

void h_project_down(struct cms_request *r)
{
        cms_reply_call_id_body(r, 200, cms_projects_down);
}

void h_project_action(struct cms_request *r)
{
        static const char *const keys[] = {"timeout", NULL};
        const char *verb = strrchr(r->route->name, '_');
        enum cms_action a;
        if (!verb || cms_action_parse(verb + 1, &a) < 0) {
                cms_reply_errorf(r, 500, "unknown action %s", r->route->name);
                return;
        }
        struct cms_error err = {0};
        int64_t timeout = -1, ms;
        json_object *t = cms_json_get(r->json, "timeout");
        if (r->json && (!json_object_is_type(r->json, json_type_object) ||
                        cms_json_check_keys(r->json, "body", keys, &err) < 0)) {
                if (!err.status)
                        cms_err(&err, 400, "body: expected a JSON object {\"timeout\"}");
                cms_reply_error(r, &err);
                return;
        }
        if (t) {
                if (cms_json_duration_ms(t, &ms) < 0 || ms < 0 || ms > 3600 * 1000) {
                        cms_reply_errorf(r, 400, "body.timeout: expected a duration up to 1h");
                        return;
                }
                timeout = ms / 1000;
        } else if (cms_query_int(r, "timeout", 0, 3600, -1, &timeout) < 0) {
                return;
        }
        json_object *out = NULL;
        int rc = cms_projects_action(r->m, r->params[0], a, (int)timeout, &out, &err);
        cms_reply_result(r, rc, 200, out, &err);
}

void h_project_scale(struct cms_request *r)
{
        cms_reply_call_who_id_body(r, 200, cms_projects_scale);
}

void h_project_images(struct cms_request *r)
{
        struct cms_error err = {0};
        json_object *out = NULL;
        bool build = !strcmp(r->route->name, "project_build");
        struct cms_caller who = cms_request_caller(r);
        int rc = cms_projects_images_op(r->m, &who, r->params[0], build, &out, &err);
        cms_reply_result(r, rc, 200, out, &err);
}

/* ---- logs ---- */

static json_object *line_json(const char *service, const char *container, const char *stream,
                              const char *time, const char *text)
{
        json_object *l = json_object_new_object();
        json_object_object_add(l, "service", json_object_new_string(service));
        json_object_object_add(l, "container", json_object_new_string(container));
        json_object_object_add(l, "stream", json_object_new_string(stream));
        json_object_object_add(l, "time", time ? json_object_new_string(time) : NULL);
        json_object_object_add(l, "text", json_object_new_string(text));
        return l;
}

static int collect_line(const char *service, const char *container, const char *stream,
                        const char *time, const char *text, void *ud)
{
        json_object_array_add(ud, line_json(service, container, stream, time, text));
        return 0;
}

struct follow {
        struct cms_stream *s; /* first: cms_stream_holder_should_stop reads it */
        struct cms_manager *m;
        char *name, *service;
        struct cms_logs_opts o;
};

static void follow_free(void *p)
{
        struct follow *f = p;
        free(f->name);
        free(f->service);
        free(f);
}

static int follow_line(const char *service, const char *container, const char *stream,
                       const char *time, const char *text, void *ud)
{
        struct follow *f = ud;
        return cms_stream_emit(f->s, "log", line_json(service, container, stream, time, text));
}

static void follow_run(struct cms_stream *s, void *ud)
{
        struct follow *f = ud;
        struct cms_error err = {0};
        f->s = s;
        int rc = cms_projects_logs(f->m, f->name, f->service, &f->o, follow_line,
                                   cms_stream_holder_should_stop, f, &err);
        cms_stream_finish(s, rc, &err, "containers stopped");
}

void h_project_logs(struct cms_request *r)
{
        struct cms_logs_opts o = {0};
        const char *service = cms_query(r, "service");
        if (cms_logs_query(r, &o) < 0)
                return;
        struct cms_error err = {0};
        if (o.follow) {
                enum cms_stream_format fmt = cms_follow_begin(r, cms_projects_ps);
                if (fmt == CMS_STREAM_NONE)
                        return;
                struct follow *f = calloc(1, sizeof(*f));
                if (!f || !(f->name = strdup(r->params[0])) ||
                    (service && !(f->service = strdup(service)))) {
                        if (f)
                                follow_free(f);
                        cms_reply_errorf(r, 500, "out of memory");
                        return;
                }
                f->m = r->m;
                f->o = o;
                cms_stream_start(r, fmt, follow_run, f, follow_free);
                return;
        }
        json_object *lines = json_object_new_array();
        int rc =
            cms_projects_logs(r->m, r->params[0], service, &o, collect_line, NULL, lines, &err);
        if (rc < 0) {
                json_object_put(lines);
                cms_reply_error(r, &err);
                return;
        }
        json_object *out = json_object_new_object();
        json_object_object_add(out, "lines", lines);
        cms_reply_json(r, 200, out);
}
