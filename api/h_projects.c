/* Handlers of the compose project routes (/v1/projects...): request parsing, replies and the
 * progress stream of an up; the work is in daemon/projects/ (manager.h, projects.h). */
#include <stdatomic.h>
#include <stdlib.h>

#include "api.h"
#include "daemon/projects/projects.h"

static int list_part(struct cms_manager *m, void *ud, json_object **out, struct cms_error *err)
{
        (void)ud;
        return cms_projects_list(m, out, err);
}

void h_projects_list(struct cms_request *r)
{
        if (r->fanout) {
                cms_fanout_reply(r, list_part, NULL, true);
                return;
        }
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

/* ---- up: one envelope, or (Accept: application/x-ndjson or text/event-stream) a stream of
 * progress events {"type":"progress","service","container"|"image","status"} (networks and
 * volumes: {"network"|"volume","status"}), ended by {"type":"done", <the reply's members>} or
 * {"type":"error","error":{"code","message","status"}}. Everything that can refuse the request
 * is asked before the stream starts, so those refusals are plain error envelopes. ---- */

struct up_stream {
        struct cms_stream *s;
        struct cms_up_prepared *u;
        atomic_bool gone;
};

static void up_stream_free(void *p)
{
        struct up_stream *us = p;
        cms_up_prepared_free(us->u);
        free(us);
}

static void put_opt(json_object *o, const char *key, const char *v)
{
        if (v)
                json_object_object_add(o, key, json_object_new_string(v));
}

static void up_event(const struct cms_up_event *e, void *ud)
{
        struct up_stream *us = ud;
        if (atomic_load(&us->gone))
                return;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "type", json_object_new_string("progress"));
        put_opt(o, "service", e->service);
        put_opt(o, "container", e->container);
        put_opt(o, "image", e->image);
        put_opt(o, "network", e->network);
        put_opt(o, "volume", e->volume);
        put_opt(o, "status", e->status);
        /* A client that left does not stop the up: a half-made project is worse. */
        if (cms_stream_emit(us->s, "progress", o))
                atomic_store(&us->gone, true);
}

static json_object *error_event(const struct cms_error *err)
{
        json_object *e = json_object_new_object(), *o = json_object_new_object();
        json_object_object_add(e, "code",
                               json_object_new_string(err->code ? err->code : "internal"));
        json_object_object_add(e, "message", json_object_new_string(err->message));
        json_object_object_add(e, "status", json_object_new_int(err->status ? err->status : 500));
        if (err->rule[0])
                json_object_object_add(e, "rule", json_object_new_string(err->rule));
        if (err->field[0])
                json_object_object_add(e, "field", json_object_new_string(err->field));
        json_object_object_add(o, "type", json_object_new_string("error"));
        json_object_object_add(o, "error", e);
        return o;
}

static void up_stream_run(struct cms_stream *s, void *ud)
{
        struct up_stream *us = ud;
        struct cms_error err = {0};
        json_object *out = NULL;
        us->s = s;
        int rc = cms_projects_up_run(us->u, up_event, us, NULL, &out, &err);
        if (rc < 0) {
                cms_stream_emit(s, "error", error_event(&err));
                return;
        }
        json_object_object_add(out, "type", json_object_new_string("done"));
        cms_stream_emit(s, "done", out);
}

/* Runs a prepared up here (one envelope) or as a stream. Takes u. */
static void up_start(struct cms_request *r, struct cms_up_prepared *u, int ok_status)
{
        enum cms_stream_format fmt = cms_stream_wanted(r);
        if (fmt == CMS_STREAM_NONE) {
                struct cms_error err = {0};
                json_object *out = NULL;
                int status = ok_status;
                int rc = cms_projects_up_run(u, NULL, NULL, ok_status ? NULL : &status, &out, &err);
                cms_up_prepared_free(u);
                cms_reply_result(r, rc, status ? status : 200, out, &err);
                return;
        }
        struct up_stream *us = calloc(1, sizeof(*us));
        if (!us) {
                cms_up_prepared_free(u);
                cms_reply_errorf(r, 500, "out of memory");
                return;
        }
        us->u = u;
        cms_stream_start(r, fmt, up_stream_run, us, up_stream_free);
}

/* The body of an up or a dry run: the JSON one, or a raw YAML file made into {"compose": ...}
 * (held in *yaml). NULL after replying. */
static json_object *up_body(struct cms_request *r, json_object **yaml)
{
        if (cms_request_is_yaml(r)) {
                if (r->body.len == 0) {
                        cms_reply_errorf(r, 400, "an empty compose file");
                        return NULL;
                }
                return *yaml = body_from_yaml(r); /* NULL: replied */
        }
        if (!r->json)
                cms_reply_errorf(r, 400,
                                 "a body is required: JSON {\"name\",\"compose\",...} or "
                                 "the YAML with Content-Type: application/yaml");
        return r->json;
}

static void config_dry(struct cms_request *r, json_object *body)
{
        struct cms_error err = {0};
        struct cms_caller who = cms_request_caller(r);
        json_object *out = NULL;
        int rc = cms_projects_config_dry(r->m, &who, body, &out, &err);
        cms_reply_result(r, rc, 200, out, &err);
}

void h_projects_up(struct cms_request *r)
{
        _cleanup_json_ json_object *yaml = NULL;
        bool dry = false;
        if (cms_query_bool(r, "dry_run", false, &dry) < 0)
                return; /* replied */
        json_object *body = up_body(r, &yaml);
        if (!body)
                return;
        if (dry) {
                config_dry(r, body);
                return;
        }
        struct cms_error err = {0};
        struct cms_caller who = cms_request_caller(r);
        struct cms_up_prepared *u = NULL;
        if (cms_projects_up_prepare(r->m, &who, NULL, body, &u, &err) < 0) {
                cms_reply_error(r, &err);
                return;
        }
        up_start(r, u, 0);
}

/* POST /v1/projects/config: the dry run for any role (docker compose config): nothing is
 * created or stored. */
void h_projects_config_dry(struct cms_request *r)
{
        _cleanup_json_ json_object *yaml = NULL;
        json_object *body = up_body(r, &yaml);
        if (body)
                config_dry(r, body);
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
        struct cms_error err = {0};
        struct cms_caller who = cms_request_caller(r);
        struct cms_up_prepared *u = NULL;
        if (cms_projects_up_prepare(r->m, &who, r->params[0], r->json, &u, &err) < 0) {
                cms_reply_error(r, &err);
                return;
        }
        up_start(r, u, 200);
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
        int rc = cms_projects_images_body(r->m, &who, r->params[0], build, r->json, &out, &err);
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
        cms_logs_fn fn;
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
        int rc = f->fn(f->m, f->name, f->service, &f->o, follow_line,
                       cms_stream_holder_should_stop, f, &err);
        cms_stream_finish(s, rc, &err, "containers stopped");
}

void cms_logs_route(struct cms_request *r, cms_logs_fn fn, cms_call_id check)
{
        struct cms_logs_opts o = {0};
        const char *service = cms_query(r, "service");
        if (cms_logs_query(r, &o) < 0)
                return;
        struct cms_error err = {0};
        if (o.follow) {
                enum cms_stream_format fmt = cms_follow_begin(r, check);
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
                f->fn = fn;
                f->o = o;
                cms_stream_start(r, fmt, follow_run, f, follow_free);
                return;
        }
        json_object *lines = json_object_new_array();
        int rc = fn(r->m, r->params[0], service, &o, collect_line, NULL, lines, &err);
        if (rc < 0) {
                json_object_put(lines);
                cms_reply_error(r, &err);
                return;
        }
        json_object *out = json_object_new_object();
        json_object_object_add(out, "lines", lines);
        cms_reply_json(r, 200, out);
}

void h_project_logs(struct cms_request *r)
{
        cms_logs_route(r, cms_projects_logs, cms_projects_ps);
}
