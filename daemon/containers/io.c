/* Container I/O through the engine: logs (tail and follow, split into lines per stream) and
 * exec (stdout/stderr separated, optional stdin through a hijacked connection). */
#include <time.h>

#include "internal.h"

#define MAX_LINE       (64 * 1024)        /* a longer line is delivered in pieces */
#define MAX_LOGS_BYTES (64L * 1024 * 1024) /* non-follow reply cap */
#define MAX_EXEC_OUT   (16L * 1024 * 1024) /* per stream */

struct lines {
        struct cms_buf pending[3];
        bool timestamps, capped;
        cms_log_line_cb cb;
        cms_engine_stop_cb should_stop;
        void *ud;
        int stop;
        size_t total, max_total;
        struct cms_demux dx;
};

/* Replaces bytes that are not UTF-8 with '?', so the JSON we emit stays valid text. */
static void sanitize_utf8(char *s, size_t len)
{
        for (size_t i = 0; i < len;) {
                unsigned char c = (unsigned char)s[i];
                size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
                bool ok = n > 0 && i + n <= len;
                for (size_t k = 1; ok && k < n; k++)
                        ok = ((unsigned char)s[i + k] >> 6) == 2;
                if (!ok) {
                        s[i++] = '?';
                        continue;
                }
                i += n;
        }
}

static int emit_line(struct lines *L, int stream, char *line, size_t len)
{
        if (len && line[len - 1] == '\r')
                len--;
        line[len] = 0;
        sanitize_utf8(line, len);
        const char *time = NULL, *text = line;
        if (L->timestamps) {
                char *sp = memchr(line, ' ', len);
                if (sp) {
                        *sp = 0;
                        time = line;
                        text = sp + 1;
                }
        }
        /* Each line costs its text plus a JSON object: count both, so a flood of empty lines
         * is capped like a flood of long ones. */
        L->total += len + 96;
        if (L->max_total && L->total > L->max_total) {
                L->capped = true;
                return 1;
        }
        return L->cb(stream == CMS_STREAM_STDERR ? "stderr" : "stdout", time, text, L->ud);
}

static int on_frame(int stream, const char *data, size_t len, void *ud)
{
        struct lines *L = ud;
        if (stream != CMS_STREAM_STDERR)
                stream = CMS_STREAM_STDOUT;
        struct cms_buf *p = &L->pending[stream];
        while (len) {
                const char *nl = memchr(data, '\n', len);
                size_t take = nl ? (size_t)(nl - data) : len;
                if (p->len + take > MAX_LINE)
                        take = MAX_LINE - p->len;
                if (cms_buf_append(p, data, take) < 0)
                        return -ENOMEM;
                data += take;
                len -= take;
                bool full = p->len >= MAX_LINE;
                if (len && (*data == '\n' || full)) {
                        if (*data == '\n') {
                                data++;
                                len--;
                        }
                        int r = emit_line(L, stream, p->data, p->len);
                        p->len = 0;
                        if (r)
                                return r;
                }
        }
        return 0;
}

static int on_data(const char *data, size_t len, void *ud)
{
        struct lines *L = ud;
        int r = cms_demux_feed(&L->dx, data, len, on_frame, L);
        if (r)
                L->stop = r;
        return r;
}

static int lines_should_stop(void *ud)
{
        struct lines *L = ud;
        return L->should_stop ? L->should_stop(L->ud) : 0;
}

static int flush_lines(struct lines *L)
{
        for (int s = 1; s <= 2; s++) {
                if (L->pending[s].len && !L->stop) {
                        int r = emit_line(L, s, L->pending[s].data, L->pending[s].len);
                        if (r)
                                L->stop = r;
                }
                cms_buf_free(&L->pending[s]);
        }
        return L->stop;
}

static bool is_tty(json_object *raw)
{
        return json_object_get_boolean(cms_json_get(cms_json_get(raw, "Config"), "Tty"));
}

/* Streams the logs at <what>/logs (a container's, a swarm service's) to cb. */
static int logs_stream(struct cms_manager *m, const char *what, bool tty,
                       const struct cms_logs_opts *o, cms_log_line_cb cb,
                       cms_engine_stop_cb should_stop, void *userdata, struct cms_error *err)
{
        struct cms_buf q;
        cms_buf_init(&q, 0);
        cms_buf_printf(&q, "%s/logs?stdout=%d&stderr=%d&timestamps=%d&follow=%d", what,
                       o->stdout_, o->stderr_, o->timestamps, o->follow);
        if (o->tail >= 0)
                cms_buf_printf(&q, "&tail=%" PRId64, o->tail);
        if (o->since > 0)
                cms_buf_printf(&q, "&since=%" PRId64, o->since);
        if (o->until > 0)
                cms_buf_printf(&q, "&until=%" PRId64, o->until);
        struct lines L = {.timestamps = o->timestamps, .cb = cb, .should_stop = should_stop,
                          .ud = userdata,
                          .max_total = o->follow ? 0 : MAX_LOGS_BYTES};
        for (int s = 0; s < 3; s++)
                cms_buf_init(&L.pending[s], MAX_LINE + 1);
        cms_demux_init(&L.dx, tty);
        struct cms_engine_req req = {.path = q.data, .timeout_ms = o->follow ? -1 : 60000};
        int r = cms_engine_stream(m->engine, &req, on_data, lines_should_stop, &L, err);
        cms_buf_free(&q);
        int fr = flush_lines(&L);
        if (r < 0)
                return r;
        if (L.capped)
                return cms_err(err, 413, "logs exceed %ld MiB: ask for fewer with tail, since or until",
                               MAX_LOGS_BYTES >> 20);
        if (fr < 0 || L.stop < 0)
                return cms_err(err, 502, "malformed log stream from the engine");
        return 0;
}

int cms_containers_logs(struct cms_manager *m, const char *id, const struct cms_logs_opts *o,
                        cms_log_line_cb cb, cms_engine_stop_cb should_stop, void *userdata,
                        struct cms_error *err)
{
        _cleanup_json_ json_object *raw = NULL;
        int r = cms_container_inspect_raw(m, id, &raw, err);
        if (r < 0)
                return r;
        const char *full = json_object_get_string(cms_json_get(raw, "Id"));
        _cleanup_free_ char *what = cms_strdup_printf("/containers/%s", full);
        if (!what)
                return cms_err(err, 500, "out of memory");
        return logs_stream(m, what, is_tty(raw), o, cb, should_stop, userdata, err);
}

int cms_service_logs(struct cms_manager *m, const char *id, const struct cms_logs_opts *o,
                     cms_log_line_cb cb, cms_engine_stop_cb should_stop, void *userdata,
                     struct cms_error *err)
{
        _cleanup_free_ char *esc = cms_url_escape(id);
        _cleanup_free_ char *what = cms_strdup_printf("/services/%s", esc ? esc : "");
        _cleanup_json_ json_object *svc = NULL;
        if (!what)
                return cms_err(err, 500, "out of memory");
        int r = cms_engine_json(m->engine, "GET", what, NULL, &svc, err);
        if (r < 0)
                return r;
        bool tty = json_object_get_boolean(cms_json_get(
            cms_json_get(cms_json_get(cms_json_get(svc, "Spec"), "TaskTemplate"), "ContainerSpec"),
            "TTY"));
        return logs_stream(m, what, tty, o, cb, should_stop, userdata, err);
}

/* ---- exec ---- */

struct exec_out {
        struct cms_buf out[3];
        struct cms_demux dx;
        bool too_big;
};

static int exec_frame(int stream, const char *data, size_t len, void *ud)
{
        struct exec_out *x = ud;
        if (stream != CMS_STREAM_STDERR)
                stream = CMS_STREAM_STDOUT;
        if (cms_buf_append(&x->out[stream], data, len) < 0) {
                x->too_big = true;
                return 1;
        }
        return 0;
}

static int exec_data(const char *data, size_t len, void *ud)
{
        struct exec_out *x = ud;
        return cms_demux_feed(&x->dx, data, len, exec_frame, x);
}

static int exec_body(json_object *body, json_object **create, const char **stdin_text,
                     int64_t *timeout_ms, struct cms_error *err)
{
        static const char *const keys[] = {"command", "env", "workdir", "user", "stdin", "timeout", NULL};
        int r = cms_json_check_keys(body, "body", keys, err);
        if (r < 0)
                return r;
        json_object *cmd = cms_json_get(body, "command");
        if (!json_object_is_type(cmd, json_type_array) || json_object_array_length(cmd) == 0)
                return cms_err(err, 400, "body.command: expected a non-empty array of strings");
        for (size_t i = 0; i < json_object_array_length(cmd); i++)
                if (!json_object_is_type(json_object_array_get_idx(cmd, i), json_type_string))
                        return cms_err(err, 400, "body.command[%zu]: expected a string", i);
        const char *workdir, *user;
        if ((r = cms_json_get_string(body, "body", "workdir", &workdir, err)) < 0 ||
            (r = cms_json_get_string(body, "body", "user", &user, err)) < 0 ||
            (r = cms_json_get_string(body, "body", "stdin", stdin_text, err)) < 0)
                return r;
        if (workdir && workdir[0] != '/')
                return cms_err(err, 400, "body.workdir: expected an absolute path");
        *timeout_ms = 300000;
        json_object *t = cms_json_get(body, "timeout");
        if (t && (cms_json_duration_ms(t, timeout_ms) < 0 || *timeout_ms <= 0 ||
                  *timeout_ms > 24 * 3600 * 1000L))
                return cms_err(err, 400, "body.timeout: expected a duration between 1ms and 24h");
        json_object *env = cms_json_get(body, "env");
        if (env && !json_object_is_type(env, json_type_object))
                return cms_err(err, 400, "body.env: expected an object of strings");
        json_object *envs = json_object_new_array();
        if (env) {
                json_object_object_foreach(env, k, v)
                {
                        if (!json_object_is_type(v, json_type_string) || !*k || strchr(k, '=')) {
                                json_object_put(envs);
                                return cms_err(err, 400,
                                               "body.env.%s: expected a string value and a name without '='",
                                               k);
                        }
                        _cleanup_free_ char *kv = cms_strdup_printf("%s=%s", k, json_object_get_string(v));
                        json_object_array_add(envs, json_object_new_string(kv ? kv : ""));
                }
        }
        json_object *c = json_object_new_object();
        json_object_object_add(c, "AttachStdin", json_object_new_boolean(*stdin_text != NULL));
        json_object_object_add(c, "AttachStdout", json_object_new_boolean(1));
        json_object_object_add(c, "AttachStderr", json_object_new_boolean(1));
        json_object_object_add(c, "Tty", json_object_new_boolean(0));
        json_object_object_add(c, "Cmd", json_object_get(cmd));
        json_object_object_add(c, "Env", envs);
        if (workdir)
                json_object_object_add(c, "WorkingDir", json_object_new_string(workdir));
        if (user)
                json_object_object_add(c, "User", json_object_new_string(user));
        *create = c;
        return 0;
}

/* Waits (briefly) for the exec to be reported finished and reads its exit code. */
static int exec_exit_code(struct cms_manager *m, const char *eid, int *code, struct cms_error *err)
{
        _cleanup_free_ char *p = cms_strdup_printf("/exec/%s/json", eid);
        for (int tries = 0; tries < 50; tries++) {
                _cleanup_json_ json_object *st = NULL;
                int r = cms_engine_json(m->engine, "GET", p, NULL, &st, err);
                if (r < 0)
                        return r;
                json_object *ec = cms_json_get(st, "ExitCode");
                if (!json_object_get_boolean(cms_json_get(st, "Running")) && ec &&
                    json_object_is_type(ec, json_type_int)) {
                        *code = json_object_get_int(ec);
                        return 0;
                }
                struct timespec ts = {0, 100 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
        return cms_err(err, 502, "the engine did not report the exec's exit code");
}

/* privileged: only for compose's privileged hooks, which the caller's policy has passed
 * (projects/policy.c); the public exec route never sets it. */
static int exec_with(struct cms_manager *m, const char *id, json_object *body, bool privileged,
                     json_object **out, struct cms_error *err)
{
        _cleanup_json_ json_object *create = NULL;
        const char *stdin_text = NULL;
        int64_t timeout_ms;
        int r = exec_body(body, &create, &stdin_text, &timeout_ms, err);
        if (r < 0)
                return r;
        if (privileged)
                json_object_object_add(create, "Privileged", json_object_new_boolean(1));
        _cleanup_json_ json_object *raw = NULL;
        if ((r = cms_container_inspect_raw(m, id, &raw, err)) < 0)
                return r;
        json_object *state = cms_json_get(raw, "State");
        const char *full = json_object_get_string(cms_json_get(raw, "Id"));
        if (!json_object_get_boolean(cms_json_get(state, "Running")) ||
            json_object_get_boolean(cms_json_get(state, "Paused")))
                return cms_err(err, 409, "container %s is not running", id);
        _cleanup_free_ char *cp = cms_container_path(full, "/exec");
        _cleanup_json_ json_object *created = NULL;
        if ((r = cms_engine_json(m->engine, "POST", cp, create, &created, err)) < 0)
                return r;
        const char *eid = json_object_get_string(cms_json_get(created, "Id"));
        if (!eid || !*eid)
                return cms_err(err, 502, "the engine created an exec but returned no id");
        _cleanup_free_ char *sp = cms_strdup_printf("/exec/%s/start", eid);
        static const char start_body[] = "{\"Detach\":false,\"Tty\":false}";
        struct cms_engine_req req = {.method = "POST", .path = sp, .body = start_body,
                                     .body_len = sizeof(start_body) - 1,
                                     .timeout_ms = (long)timeout_ms};
        struct exec_out x = {0};
        for (int s = 0; s < 3; s++)
                cms_buf_init(&x.out[s], MAX_EXEC_OUT);
        cms_demux_init(&x.dx, false);
        if (stdin_text)
                r = cms_engine_hijack(m->engine, &req, stdin_text, strlen(stdin_text), exec_data,
                                      &x, err);
        else
                r = cms_engine_stream(m->engine, &req, exec_data, NULL, &x, err);
        int code = -1;
        if (r == 0 && x.too_big)
                r = cms_err(err, 413, "exec output exceeds %ld MiB per stream", MAX_EXEC_OUT >> 20);
        if (r == 0)
                r = exec_exit_code(m, eid, &code, err);
        if (r == 0) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "exit_code", json_object_new_int(code));
                for (int s = 1; s <= 2; s++) {
                        sanitize_utf8(x.out[s].data ? x.out[s].data : "", x.out[s].len);
                        json_object_object_add(o, s == 1 ? "stdout" : "stderr",
                                               json_object_new_string_len(x.out[s].data ? x.out[s].data : "",
                                                                          (int)x.out[s].len));
                }
                *out = o;
        }
        for (int s = 0; s < 3; s++)
                cms_buf_free(&x.out[s]);
        return r;
}

int cms_containers_exec(struct cms_manager *m, const char *id, json_object *body,
                        json_object **out, struct cms_error *err)
{
        return exec_with(m, id, body, false, out, err);
}

int cms_container_exec_hook(struct cms_manager *m, const char *id, json_object *body,
                            bool privileged, json_object **out, struct cms_error *err)
{
        return exec_with(m, id, body, privileged, out, err);
}
