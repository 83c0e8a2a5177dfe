/* The compose project operations the handlers call: up (from a body or from the stored file),
 * scale, build, pull and config, which need the compose file; and list, ps, down, start, stop
 * and restart, which work from the containers' labels alone, so projects made by docker compose
 * (or whose file cmsd never saw) can be managed too. */
#include "internal.h"

static const char *const up_keys[] = {
    "name",           "compose", "env",     "dotenv", "working_dir",
    "profiles",       "build",   "pull",    "scale",  "force_recreate",
    "remove_orphans", "wait",    "timeout", NULL};
/* /up and /scale take the options but not the file. */
static const char *const again_keys[] = {
    "env",   "dotenv",         "working_dir",    "profiles", "build",   "pull",
    "scale", "force_recreate", "remove_orphans", "wait",     "timeout", NULL};

static int dup_str(json_object *body, const char *key, char **out, struct cms_error *err)
{
        const char *v = NULL;
        int r = cms_json_get_string(body, "body", key, &v, err);
        if (r < 0)
                return r;
        if (!v)
                return 0;
        free(*out);
        return (*out = strdup(v)) ? 0 : cms_err(err, 500, "out of memory");
}

static int take_typed(json_object *body, const char *key, enum json_type t, const char *what,
                      json_object **out, struct cms_error *err)
{
        json_object *v = cms_json_get(body, key);
        if (!v)
                return 0;
        if (!json_object_is_type(v, t))
                return cms_err(err, 400, "body.%s: expected %s", key, what);
        json_object_put(*out);
        *out = json_object_get(v);
        return 0;
}

/* The record's parts the body gives (a new file, or options for the stored one). */
static int record_from(json_object *body, struct cms_project_record *rec, struct cms_error *err)
{
        int r = dup_str(body, "compose", &rec->compose, err);
        r = r ?: dup_str(body, "dotenv", &rec->dotenv, err);
        r = r ?: dup_str(body, "working_dir", &rec->working_dir, err);
        r = r ?: take_typed(body, "env", json_type_object, "an object of strings", &rec->env, err);
        r = r
                ?: take_typed(body, "profiles", json_type_array, "an array of strings",
                              &rec->profiles, err);
        if (r < 0)
                return r;
        if (rec->working_dir && rec->working_dir[0] != '/')
                return cms_err(err, 400,
                               "body.working_dir: expected an absolute path, got '%.100s'",
                               rec->working_dir);
        for (size_t i = 0; rec->profiles && i < cms_jlen(rec->profiles); i++)
                if (!json_object_is_type(json_object_array_get_idx(rec->profiles, i),
                                         json_type_string))
                        return cms_err(err, 400, "body.profiles[%zu]: expected a string", i);
        return 0;
}

static int up_opts(json_object *body, struct cms_up_opts *o, struct cms_error *err)
{
        *o = (struct cms_up_opts){.timeout_ms = 120000};
        const char *pull = NULL;
        int r = cms_json_get_bool(body, "body", "build", false, &o->build, err);
        r = r ?: cms_json_get_bool(body, "body", "force_recreate", false, &o->force_recreate, err);
        r = r ?: cms_json_get_bool(body, "body", "remove_orphans", false, &o->remove_orphans, err);
        r = r ?: cms_json_get_bool(body, "body", "wait", false, &o->wait, err);
        r = r ?: cms_json_get_string(body, "body", "pull", &pull, err);
        if (r < 0)
                return r;
        if (!pull || !strcmp(pull, "missing"))
                o->pull = CMS_PULL_MISSING;
        else if (!strcmp(pull, "always"))
                o->pull = CMS_PULL_ALWAYS;
        else if (!strcmp(pull, "never"))
                o->pull = CMS_PULL_NEVER;
        else
                return cms_err(err, 400,
                               "body.pull: expected missing, always or never, got '%.64s'", pull);
        json_object *t = cms_json_get(body, "timeout");
        if (t && (cms_json_duration_ms(t, &o->timeout_ms) < 0 || o->timeout_ms <= 0 ||
                  o->timeout_ms > 3600 * 1000))
                return cms_err(err, 400, "body.timeout: expected a duration up to 1h");
        return 0;
}

/* Scale entries are merged into the stored ones, so a service scaled stays scaled on the next
 * up; stored entries of services the file no longer has (or a profile now hides) are dropped. */
static void merge_scale(const struct cms_compose_project *p, struct cms_project_record *rec,
                        json_object *scale)
{
        if (rec->scale) {
                json_object *keep = json_object_new_object();
                json_object_object_foreach(rec->scale, k, v) if (cms_compose_service_find(p, k))
                    json_object_object_add(keep, k, json_object_get(v));
                json_object_put(rec->scale);
                rec->scale = keep;
        }
        if (!scale)
                return;
        if (!rec->scale)
                rec->scale = json_object_new_object();
        json_object_object_foreach(scale, k, v)
            json_object_object_add(rec->scale, k, json_object_get(v));
}

static json_object *up_reply(const char *name)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(name));
        json_object_object_add(o, "containers", json_object_new_array());
        json_object_object_add(o, "networks", json_object_new_array());
        json_object_object_add(o, "volumes", json_object_new_array());
        json_object_object_add(o, "images", json_object_new_array());
        json_object_object_add(o, "warnings", json_object_new_array());
        return o;
}

/* Parse, store, images, apply: the common tail of every up. */
static int up_record(struct cms_manager *m, struct cms_project_record *rec, json_object *scale,
                     const struct cms_up_opts *o, int *status, json_object **out,
                     struct cms_error *err)
{
        _cleanup_json_ json_object *warnings = json_object_new_array();
        struct cms_compose_project *p = NULL;
        int r = cms_project_parse(m, o->who, rec, &p, warnings, err);
        if (r == 0 && ((r = cms_compose_scale_check(p, scale, err)) < 0 ||
                       (r = cms_project_policy_enforce(m, o->who, p, err)) < 0))
                cms_compose_project_free(p);
        if (r < 0)
                return r;
        merge_scale(p, rec, scale);
        if (!rec->name || strcmp(rec->name, p->name)) {
                free(rec->name);
                rec->name = strdup(p->name);
        }
        bool had = true;
        json_object *reply = up_reply(p->name);
        json_object_object_add(reply, "warnings", json_object_get(warnings));
        if (!rec->name)
                r = cms_err(err, 500, "out of memory");
        r = r ?: cms_project_lock(m, p->name, err);
        if (r == 0) {
                r = cms_project_store_save(m, rec, err);
                r = r ?: cms_project_images(m, p, o, cms_json_get(reply, "images"), err);
                r = r ?: cms_project_apply(m, p, o, rec->scale, reply, &had, err);
                cms_project_unlock(m, p->name);
        }
        if (status)
                *status = had ? 200 : 201;
        cms_compose_project_free(p);
        if (r < 0) {
                json_object_put(reply);
                return r;
        }
        *out = reply;
        return 0;
}

int cms_projects_up(struct cms_manager *m, const struct cms_caller *who, json_object *body,
                    int *status, json_object **out, struct cms_error *err)
{
        struct cms_project_record rec = {0};
        struct cms_up_opts o;
        if (!json_object_is_type(body, json_type_object))
                return cms_err(err, 400, "body: expected a JSON object with \"compose\"");
        int r = cms_json_check_keys(body, "body", up_keys, err);
        r = r ?: up_opts(body, &o, err);
        o.who = who;
        r = r ?: dup_str(body, "name", &rec.name, err);
        r = r ?: record_from(body, &rec, err);
        if (r == 0 && !rec.compose)
                r = cms_err(err, 400, "body.compose: required (the compose file's YAML text)");
        if (r == 0 && rec.name && !cms_compose_project_name_valid(rec.name))
                r = cms_err(err, 400,
                            "body.name: invalid project name '%.64s': lowercase letters, "
                            "digits, '-' and '_', starting with a letter or digit",
                            rec.name);
        r = r ?: up_record(m, &rec, cms_json_get(body, "scale"), &o, status, out, err);
        cms_project_record_done(&rec);
        return r;
}

int cms_projects_up_stored(struct cms_manager *m, const struct cms_caller *who, const char *name,
                           json_object *body, json_object **out, struct cms_error *err)
{
        struct cms_project_record rec = {0};
        struct cms_up_opts o;
        if (body && !json_object_is_type(body, json_type_object))
                return cms_err(err, 400, "body: expected a JSON object");
        int r = cms_json_check_keys(body, "body", again_keys, err);
        r = r ?: up_opts(body, &o, err);
        o.who = who;
        r = r ?: cms_project_store_load(m, name, &rec, err);
        r = r ?: record_from(body, &rec, err);
        r = r ?: up_record(m, &rec, cms_json_get(body, "scale"), &o, NULL, out, err);
        cms_project_record_done(&rec);
        return r;
}

int cms_projects_scale(struct cms_manager *m, const struct cms_caller *who, const char *name,
                       json_object *body, json_object **out, struct cms_error *err)
{
        struct cms_project_record rec = {0};
        struct cms_up_opts o = {.timeout_ms = 120000, .only = body, .who = who};
        if (!json_object_is_type(body, json_type_object) || !json_object_object_length(body))
                return cms_err(err, 400, "body: expected {\"service\": count, ...}");
        int r = cms_project_store_load(m, name, &rec, err);
        r = r ?: up_record(m, &rec, body, &o, NULL, out, err);
        cms_project_record_done(&rec);
        return r;
}

int cms_projects_images_op(struct cms_manager *m, const struct cms_caller *who, const char *name,
                           bool build, json_object **out, struct cms_error *err)
{
        struct cms_project_record rec = {0};
        struct cms_compose_project *p = NULL;
        struct cms_up_opts o = {
            .build = true, .pull = CMS_PULL_ALWAYS, .images = build ? 1 : 2, .who = who};
        _cleanup_json_ json_object *reply = json_object_new_object(),
                                   *images = json_object_new_array();
        _cleanup_json_ json_object *warnings = json_object_new_array();
        int r = cms_project_store_load(m, name, &rec, err);
        r = r ?: cms_project_parse(m, who, &rec, &p, warnings, err);
        r = r ?: cms_project_policy_enforce(m, who, p, err);
        r = r ?: cms_project_lock(m, name, err);
        if (r == 0) {
                r = cms_project_images(m, p, &o, images, err);
                cms_project_unlock(m, name);
        }
        cms_compose_project_free(p);
        cms_project_record_done(&rec);
        if (r < 0)
                return r;
        json_object_object_add(reply, "name", json_object_new_string(name));
        json_object_object_add(reply, "images", json_object_get(images));
        json_object_object_add(reply, "warnings", json_object_get(warnings));
        *out = json_object_get(reply);
        return 0;
}

/* GET config shows a project that was already accepted, under its creator's policy, with the
 * env_file it named: the files are read as the stored project says (viewers get the values
 * redacted; operators see them, as they would in a container's environment). */
static const struct cms_caller stored_project = {
    .token = "(stored project)", .role = CMS_ROLE_ADMIN, .policy = CMS_POLICY_UNRESTRICTED};

int cms_projects_config(struct cms_manager *m, const char *name, json_object **out,
                        struct cms_error *err)
{
        struct cms_project_record rec = {0};
        struct cms_compose_project *p = NULL;
        _cleanup_json_ json_object *warnings = json_object_new_array();
        int r = cms_project_store_load(m, name, &rec, err);
        r = r ?: cms_project_parse(m, &stored_project, &rec, &p, warnings, err);
        if (r == 0 && !(*out = cms_compose_project_to_json(p)))
                r = cms_err(err, 500, "out of memory");
        cms_compose_project_free(p);
        cms_project_record_done(&rec);
        return r;
}

int cms_projects_policy_check(struct cms_manager *m, const struct cms_caller *who,
                              json_object *body, json_object *denials, struct cms_error *err)
{
        static const char *const keys[] = {"compose",     "env",      "dotenv", "name",
                                           "working_dir", "profiles", NULL};
        struct cms_project_record rec = {0};
        struct cms_compose_project *p = NULL;
        int r = cms_json_check_keys(body, "body", keys, err);
        r = r ?: dup_str(body, "name", &rec.name, err);
        r = r ?: record_from(body, &rec, err);
        if (r == 0 && !rec.compose)
                r = cms_err(err, 400, "body.compose: expected the compose file's YAML text");
        r = r ?: cms_project_parse(m, who, &rec, &p, NULL, err);
        if (r == -EPERM && err && err->rule[0]) {
                /* An env_file the policy does not let cmsd read: that is the answer. */
                json_object *d = json_object_new_object();
                json_object_object_add(d, "rule", json_object_new_string(err->rule));
                json_object_object_add(d, "field", json_object_new_string(err->field));
                json_object_object_add(d, "message", json_object_new_string(err->message));
                json_object_array_add(denials, d);
                r = 1;
        } else if (r == 0) {
                r = cms_project_policy(m, who, p, denials, err);
        }
        cms_compose_project_free(p);
        cms_project_record_done(&rec);
        return r;
}
