/* The compose project operations the handlers call that need the compose file besides up and
 * scale (up.c): build, pull, config and the policy check. list, ps, down, start, stop and
 * restart (ctl.c) work from the containers' labels alone, so projects made by docker compose
 * (or whose file cmsd never saw) can be managed too. */
#include "internal.h"

/* build: every service with a build section (or those named); pull: every service without one.
 * From the stored file, or from the files the body gives (nothing is stored then). */
static int images_op(struct cms_manager *m, const struct cms_caller *who, const char *name,
                     bool build, bool no_cache, json_object *only, json_object *body,
                     json_object **out, struct cms_error *err)
{
        struct cms_project_record rec = {0};
        struct cms_compose_project *p = NULL;
        struct cms_up_opts o = {.build = true,
                                .pull = CMS_PULL_ALWAYS,
                                .images = build ? 1 : 2,
                                .who = who,
                                .only = only,
                                .no_cache = no_cache};
        _cleanup_json_ json_object *reply = json_object_new_object(),
                                   *images = json_object_new_array();
        _cleanup_json_ json_object *warnings = json_object_new_array();
        int r = 0;
        if (cms_json_get(body, "compose")) {
                if (!cms_compose_project_name_valid(name))
                        r = cms_err(err, 400, "invalid project name '%.64s'", name);
                else if (!(rec.name = strdup(name)))
                        r = cms_err(err, 500, "out of memory");
                r = r ?: cms_project_record_from(body, &rec, err);
        } else {
                r = cms_project_store_load(m, name, &rec, err);
        }
        r = r ?: cms_project_parse(m, who, &rec, &p, warnings, err);
        r = r ?: cms_compose_scale_check(p, only, err);
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

int cms_projects_images_op(struct cms_manager *m, const struct cms_caller *who, const char *name,
                           bool build, json_object **out, struct cms_error *err)
{
        return images_op(m, who, name, build, false, NULL, NULL, out, err);
}

/* services: ["web"] -> {"web": 1} (cms_up_opts.only's form; the count is not used). */
static int services_only(json_object *body, json_object **only, struct cms_error *err)
{
        json_object *sv = cms_json_get(body, "services");
        if (!sv)
                return 0;
        if (!json_object_is_type(sv, json_type_array))
                return cms_err(err, 400, "body.services: expected a list of service names");
        *only = json_object_new_object();
        for (size_t i = 0; i < cms_jlen(sv); i++) {
                json_object *e = json_object_array_get_idx(sv, i);
                if (!json_object_is_type(e, json_type_string))
                        return cms_err(err, 400, "body.services[%zu]: expected a name", i);
                json_object_object_add(*only, json_object_get_string(e), json_object_new_int(1));
        }
        return 0;
}

int cms_projects_images_body(struct cms_manager *m, const struct cms_caller *who, const char *name,
                             bool build, json_object *body, json_object **out,
                             struct cms_error *err)
{
        static const char *const build_keys[] = {"services", "no_cache",    "compose",  "env",
                                                 "dotenv",   "working_dir", "profiles", NULL};
        static const char *const pull_keys[] = {"services",    "compose",  "env", "dotenv",
                                                "working_dir", "profiles", NULL};
        _cleanup_json_ json_object *only = NULL;
        bool no_cache = false;
        if (body && !json_object_is_type(body, json_type_object))
                return cms_err(err, 400, "body: expected a JSON object");
        int r = cms_json_check_keys(body, "body", build ? build_keys : pull_keys, err);
        r = r ?: cms_json_get_bool(body, "body", "no_cache", false, &no_cache, err);
        r = r ?: services_only(body, &only, err);
        return r ?: images_op(m, who, name, build, no_cache, only, body, out, err);
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
        const char *name = NULL;
        int r = cms_json_check_keys(body, "body", keys, err);
        r = r ?: cms_json_get_string(body, "body", "name", &name, err);
        if (r == 0 && name && !(rec.name = strdup(name)))
                r = cms_err(err, 500, "out of memory");
        r = r ?: cms_project_record_from(body, &rec, err);
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
