/* `up` of a compose project, from a request body or from the stored file, and `scale`: the body
 * read into the record and options, then an up in two halves. prepare does all that can refuse
 * the request (body, files, env_file, the caller's policy, scale) without touching the engine,
 * so that a streamed up is refused with a plain error envelope; run takes the project's lock,
 * stores the record and brings the engine to the model, telling a progress callback each step.
 * The dry run (POST /v1/projects?dry_run=true) shares the first half. */
#include "internal.h"
#include "../scan/match.h"
#include "../security/policy.h"

static const char *const up_keys[] = {
    "name",           "compose", "env",     "dotenv", "working_dir",
    "profiles",       "build",   "pull",    "scale",  "force_recreate",
    "remove_orphans", "wait",    "timeout", "scan",   NULL};
/* /up and /scale take the options but not the file. */
static const char *const again_keys[] = {
    "env",   "dotenv",         "working_dir",    "profiles", "build",   "pull",
    "scale", "force_recreate", "remove_orphans", "wait",     "timeout", "scan",
    NULL};

struct cms_up_prepared {
        struct cms_manager *m;
        struct cms_caller who;
        char token[128], policy[128];
        struct cms_project_record rec;
        json_object *scale; /* the request's {service: n}, or NULL */
        struct cms_up_opts o;
        struct cms_compose_project *p;
        json_object *warnings;
        struct cms_scan_gate gate; /* body.scan */
};

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

/* compose: one YAML text, or a list of them (docker compose -f a -f b), merged in order. */
static int take_compose(json_object *body, struct cms_project_record *rec, struct cms_error *err)
{
        json_object *c = cms_json_get(body, "compose");
        if (!c || json_object_is_type(c, json_type_string))
                return dup_str(body, "compose", &rec->compose, err);
        size_t n = json_object_is_type(c, json_type_array) ? cms_jlen(c) : 0;
        if (n < 1 || n > CMS_COMPOSE_MAX_FILES)
                return cms_err(err, 400,
                               "body.compose: expected the compose file's YAML text, or a list "
                               "of 1 to %d of them (merged in order)",
                               CMS_COMPOSE_MAX_FILES);
        for (size_t i = 0; i < n; i++)
                if (!json_object_is_type(json_object_array_get_idx(c, i), json_type_string))
                        return cms_err(err, 400, "body.compose[%zu]: expected a YAML text", i);
        free(rec->compose);
        json_object_put(rec->overrides);
        rec->overrides = NULL;
        if (!(rec->compose = strdup(json_object_get_string(json_object_array_get_idx(c, 0)))))
                return cms_err(err, 500, "out of memory");
        if (n > 1 && !(rec->overrides = json_object_new_array()))
                return cms_err(err, 500, "out of memory");
        for (size_t i = 1; i < n; i++)
                json_object_array_add(rec->overrides,
                                      json_object_get(json_object_array_get_idx(c, i)));
        return 0;
}

/* An absolute directory on this host, kept with "//", "." and ".." folded, so that what is
 * resolved against it (binds, build contexts, env_file) is what the policy sees and what the
 * engine gets. The policy itself judges those paths (bind_paths, build_paths), each where it
 * is used, as for an absolute path written in the file. */
static int working_dir(struct cms_project_record *rec, struct cms_error *err)
{
        char norm[4096];
        if (!rec->working_dir)
                return 0;
        if (rec->working_dir[0] != '/' || strlen(rec->working_dir) >= sizeof(norm) ||
            !cms_path_normalize(rec->working_dir, norm, sizeof(norm)))
                return cms_err(err, 400,
                               "body.working_dir: expected an absolute path, got '%.100s'",
                               rec->working_dir);
        free(rec->working_dir);
        return (rec->working_dir = strdup(norm)) ? 0 : cms_err(err, 500, "out of memory");
}

int cms_project_record_from(json_object *body, struct cms_project_record *rec,
                            struct cms_error *err)
{
        int r = take_compose(body, rec, err);
        r = r ?: dup_str(body, "dotenv", &rec->dotenv, err);
        r = r ?: dup_str(body, "working_dir", &rec->working_dir, err);
        r = r ?: take_typed(body, "env", json_type_object, "an object of strings", &rec->env, err);
        r = r
                ?: take_typed(body, "profiles", json_type_array, "an array of strings",
                              &rec->profiles, err);
        r = r ?: working_dir(rec, err);
        if (r < 0)
                return r;
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

static json_object *up_reply(const char *name, json_object *warnings)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(name));
        json_object_object_add(o, "containers", json_object_new_array());
        json_object_object_add(o, "networks", json_object_new_array());
        json_object_object_add(o, "volumes", json_object_new_array());
        json_object_object_add(o, "images", json_object_new_array());
        json_object_object_add(o, "warnings", json_object_get(warnings));
        return o;
}

void cms_up_prepared_free(struct cms_up_prepared *u)
{
        if (!u)
                return;
        cms_project_record_done(&u->rec);
        json_object_put(u->scale);
        json_object_put(u->warnings);
        json_object_put(u->o.only);
        cms_compose_project_free(u->p);
        free(u);
}

/* Takes rec (zeroed on return). The checks of up_record before anything is locked or made. */
static int prepare(struct cms_manager *m, const struct cms_caller *who,
                   struct cms_project_record *rec, json_object *scale, const struct cms_up_opts *o,
                   struct cms_up_prepared **out, struct cms_error *err)
{
        struct cms_up_prepared *u = calloc(1, sizeof(*u));
        if (!u)
                return cms_err(err, 500, "out of memory");
        u->m = m;
        u->rec = *rec;
        memset(rec, 0, sizeof(*rec));
        snprintf(u->token, sizeof(u->token), "%s", who && who->token ? who->token : "");
        snprintf(u->policy, sizeof(u->policy), "%s", who && who->policy ? who->policy : "");
        u->who = (struct cms_caller){
            .token = u->token, .role = who ? who->role : CMS_ROLE_VIEWER, .policy = u->policy};
        u->o = *o;
        u->o.who = &u->who;
        json_object_get(u->o.only);
        u->scale = json_object_get(scale);
        u->warnings = json_object_new_array();
        int r = cms_project_parse(m, &u->who, &u->rec, &u->p, u->warnings, err);
        r = r ?: cms_compose_scale_check(u->p, scale, err);
        r = r ?: cms_project_policy_enforce(m, &u->who, u->p, err);
        if (r < 0) {
                cms_up_prepared_free(u);
                return r;
        }
        *out = u;
        return 0;
}

/* scan.fail_on: each image the up would start (once per image), after the pulls and builds,
 * before any container is made. */
static int scan_gate(struct cms_up_prepared *u, struct cms_error *err)
{
        _cleanup_json_ json_object *done = json_object_new_object();
        for (size_t i = 0; u->gate.fail_on && i < u->p->n_services; i++) {
                const struct cms_compose_service *s = &u->p->services[i];
                if ((u->o.only && !json_object_object_get_ex(u->o.only, s->name, NULL)) ||
                    json_object_object_get_ex(done, s->image, NULL))
                        continue;
                json_object_object_add(done, s->image, NULL);
                cms_up_note(&u->o, &(struct cms_up_event){.service = s->name,
                                                          .image = s->image,
                                                          .status = "Scanning"});
                int r = cms_images_scan_gate(u->m, s->image, &u->gate, err);
                if (r < 0)
                        return r;
                cms_up_note(&u->o, &(struct cms_up_event){
                                       .service = s->name, .image = s->image, .status = "Scanned"});
        }
        return 0;
}

int cms_projects_up_run(struct cms_up_prepared *u, cms_up_progress_cb cb, void *userdata,
                        int *status, json_object **out, struct cms_error *err)
{
        struct cms_project_record *rec = &u->rec;
        u->o.progress = cb;
        u->o.progress_ud = userdata;
        merge_scale(u->p, rec, u->scale);
        if (!rec->name || strcmp(rec->name, u->p->name)) {
                free(rec->name);
                rec->name = strdup(u->p->name);
        }
        bool had = true;
        json_object *reply = up_reply(u->p->name, u->warnings);
        int r = rec->name ? 0 : cms_err(err, 500, "out of memory");
        r = r ?: cms_project_lock(u->m, u->p->name, err);
        if (r == 0) {
                r = cms_project_store_save(u->m, rec, err);
                r = r ?: cms_project_images(u->m, u->p, &u->o, cms_json_get(reply, "images"), err);
                r = r ?: scan_gate(u, err);
                r = r ?: cms_project_apply(u->m, u->p, &u->o, rec->scale, reply, &had, err);
                cms_project_unlock(u->m, u->p->name);
        }
        if (status)
                *status = had ? 200 : 201;
        if (r < 0) {
                json_object_put(reply);
                return r;
        }
        *out = reply;
        return 0;
}

/* The body of POST /v1/projects: a new file (name may come from the file). */
static int read_new(json_object *body, struct cms_project_record *rec, struct cms_up_opts *o,
                    struct cms_error *err)
{
        if (!json_object_is_type(body, json_type_object))
                return cms_err(err, 400, "body: expected a JSON object with \"compose\"");
        int r = cms_json_check_keys(body, "body", up_keys, err);
        r = r ?: up_opts(body, o, err);
        r = r ?: dup_str(body, "name", &rec->name, err);
        r = r ?: cms_project_record_from(body, rec, err);
        if (r == 0 && !rec->compose)
                r = cms_err(err, 400, "body.compose: required (the compose file's YAML text)");
        if (r == 0 && rec->name && !cms_compose_project_name_valid(rec->name))
                r = cms_err(err, 400,
                            "body.name: invalid project name '%.64s': lowercase letters, "
                            "digits, '-' and '_', starting with a letter or digit",
                            rec->name);
        return r;
}

int cms_projects_up_prepare(struct cms_manager *m, const struct cms_caller *who, const char *name,
                            json_object *body, struct cms_up_prepared **out, struct cms_error *err)
{
        struct cms_project_record rec = {0};
        struct cms_up_opts o;
        struct cms_scan_gate gate;
        int r = cms_scan_gate_parse(cms_json_get(body, "scan"), "body.scan", &gate, err);
        if (r < 0)
                return r;
        if (!name) {
                r = read_new(body, &rec, &o, err);
        } else {
                r = body && !json_object_is_type(body, json_type_object)
                        ? cms_err(err, 400, "body: expected a JSON object")
                        : 0;
                r = r ?: cms_json_check_keys(body, "body", again_keys, err);
                r = r ?: up_opts(body, &o, err);
                r = r ?: cms_project_store_load(m, name, &rec, err);
                r = r ?: cms_project_record_from(body, &rec, err);
        }
        r = r ?: prepare(m, who, &rec, cms_json_get(body, "scale"), &o, out, err);
        if (r == 0)
                (*out)->gate = gate;
        cms_project_record_done(&rec);
        return r;
}

static int prepare_and_run(struct cms_manager *m, const struct cms_caller *who, const char *name,
                           json_object *body, int *status, json_object **out, struct cms_error *err)
{
        struct cms_up_prepared *u = NULL;
        int r = cms_projects_up_prepare(m, who, name, body, &u, err);
        r = r ?: cms_projects_up_run(u, NULL, NULL, status, out, err);
        cms_up_prepared_free(u);
        return r;
}

int cms_projects_up(struct cms_manager *m, const struct cms_caller *who, json_object *body,
                    int *status, json_object **out, struct cms_error *err)
{
        return prepare_and_run(m, who, NULL, body, status, out, err);
}

int cms_projects_up_stored(struct cms_manager *m, const struct cms_caller *who, const char *name,
                           json_object *body, json_object **out, struct cms_error *err)
{
        return prepare_and_run(m, who, name, body, NULL, out, err);
}

int cms_projects_scale(struct cms_manager *m, const struct cms_caller *who, const char *name,
                       json_object *body, json_object **out, struct cms_error *err)
{
        struct cms_project_record rec = {0};
        struct cms_up_prepared *u = NULL;
        struct cms_up_opts o = {.timeout_ms = 120000, .only = body};
        if (!json_object_is_type(body, json_type_object) || !json_object_object_length(body))
                return cms_err(err, 400, "body: expected {\"service\": count, ...}");
        int r = cms_project_store_load(m, name, &rec, err);
        r = r ?: prepare(m, who, &rec, body, &o, &u, err);
        r = r ?: cms_projects_up_run(u, NULL, NULL, NULL, out, err);
        cms_up_prepared_free(u);
        cms_project_record_done(&rec);
        return r;
}

int cms_projects_config_dry(struct cms_manager *m, const struct cms_caller *who, json_object *body,
                            json_object **out, struct cms_error *err)
{
        struct cms_project_record rec = {0};
        struct cms_compose_project *p = NULL;
        struct cms_up_opts o;
        _cleanup_json_ json_object *warnings = json_object_new_array();
        struct cms_scan_gate gate;
        int r = read_new(body, &rec, &o, err);
        r = r ?: cms_scan_gate_parse(cms_json_get(body, "scan"), "body.scan", &gate, err);
        r = r ?: cms_project_parse(m, who, &rec, &p, warnings, err);
        r = r ?: cms_compose_scale_check(p, cms_json_get(body, "scale"), err);
        if (r == 0 && !(*out = cms_compose_project_to_json(p)))
                r = cms_err(err, 500, "out of memory");
        if (r == 0) /* what docker compose config would warn about: unknown keys, ignored ones */
                json_object_object_add(*out, "warnings", json_object_get(warnings));
        cms_compose_project_free(p);
        cms_project_record_done(&rec);
        return r;
}

int cms_projects_parse_stack(struct cms_manager *m, const struct cms_caller *who,
                             json_object *body, struct cms_compose_project **out,
                             json_object *warnings, struct cms_error *err)
{
        struct cms_project_record rec = {.swarm = true};
        const char *name = NULL;
        *out = NULL;
        int r = cms_json_get_string(body, "body", "name", &name, err);
        if (r == 0 && (!name || !cms_compose_project_name_valid(name)))
                r = cms_err(err, 400,
                            "body.name: a stack needs a name of lower-case letters, digits, _ "
                            "and - (at most 63, starting with a letter or digit)");
        if (r == 0 && !(rec.name = strdup(name)))
                r = cms_err(err, 500, "out of memory");
        r = r ?: cms_project_record_from(body, &rec, err);
        if (r == 0 && !rec.compose)
                r = cms_err(err, 400, "body.compose: the compose file is required");
        r = r ?: cms_project_parse(m, who, &rec, out, warnings, err);
        r = r ?: cms_project_policy_enforce(m, who, *out, err);
        if (r < 0) {
                cms_compose_project_free(*out);
                *out = NULL;
        }
        cms_project_record_done(&rec);
        return r;
}
