/* ContainerConfig -> engine create body: the top-level fields and the checks that span fields.
 * The typed readers every part uses are in model_read.c (the lowest file here), network and
 * volumes in model_host.c, resources and health in model_limits.c, signals and restart policies
 * in model_parse.c, and the engine -> cmsd direction (summary, list item, health) in summary.c.
 * Names and image references are images/reference.c's. */
#define CMS_CONTAINER_MODEL_INTERNAL
#include "model.h"

#include "../images/model.h"
#include "../security/policy.h"

static int top_capabilities(struct cms_cm *c, json_object *v)
{
        static const char *const keys[] = {"add", "drop", NULL};
        static const char *const engine_keys[] = {"CapAdd", "CapDrop"};
        int r = cms_cm_object_keys(c, v, "capabilities", keys);
        for (size_t k = 0; r == 0 && k < 2; k++) {
                char path[32];
                json_object *list;
                if (!json_object_object_get_ex(v, keys[k], &list) || !list)
                        continue;
                snprintf(path, sizeof(path), "capabilities.%s", keys[k]);
                _cleanup_json_ json_object *in = NULL;
                r = cms_cm_string_array(c, list, path, &in);
                if (r < 0)
                        return r;
                json_object *out = json_object_new_array();
                json_object_object_add(c->hc, engine_keys[k], out);
                for (size_t i = 0; i < json_object_array_length(in); i++) {
                        const char *s = json_object_get_string(json_object_array_get_idx(in, i));
                        char cap[64];
                        /* "net_admin" -> "CAP_NET_ADMIN": both engines accept the prefixed form. */
                        if (!cms_cap_canonical(s, cap, sizeof(cap)))
                                return cms_cm_bad(c, path, "unknown capability '%.64s'", s);
                        json_object_array_add(out, json_object_new_string(cap));
                }
        }
        return r;
}

/* environment: {K: V}; numbers and booleans become their text, as shells would see them. */
static int top_environment(struct cms_cm *c, json_object *v)
{
        int r = cms_cm_object(c, v, "environment");
        if (r < 0)
                return r;
        json_object *env = json_object_new_array();
        json_object_object_add(c->body, "Env", env);
        json_object_object_foreach(v, key, val)
        {
                if (!*key || strchr(key, '='))
                        return cms_cm_bad(c, "environment", "invalid variable name '%.64s'", key);
                if (!json_object_is_type(val, json_type_string) &&
                    !json_object_is_type(val, json_type_int) &&
                    !json_object_is_type(val, json_type_double) &&
                    !json_object_is_type(val, json_type_boolean)) {
                        char path[96];
                        snprintf(path, sizeof(path), "environment.%.64s", key);
                        return cms_cm_bad(c, path, "must be a string");
                }
                const char *s = json_object_is_type(val, json_type_string)
                                    ? json_object_get_string(val)
                                    : json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN);
                char *kv = cms_strdup_printf("%s=%s", key, s);
                if (!kv)
                        return cms_err(c->err, 500, "out of memory");
                json_object_array_add(env, json_object_new_string(kv));
                free(kv);
        }
        return 0;
}

static int top_labels(struct cms_cm *c, json_object *v)
{
        int r = cms_cm_object(c, v, "labels");
        if (r < 0)
                return r;
        json_object *labels = json_object_new_object();
        json_object_object_add(c->body, "Labels", labels);
        json_object_object_foreach(v, key, val)
        {
                char path[96];
                snprintf(path, sizeof(path), "labels.%.64s", key);
                if (!*key)
                        return cms_cm_bad(c, "labels", "empty label name");
                if (!json_object_is_type(val, json_type_string))
                        return cms_cm_bad(c, path, "must be a string");
                json_object_object_add(labels, key,
                                       json_object_new_string(json_object_get_string(val)));
        }
        return 0;
}

static int top_strings(struct cms_cm *c, const char *key, json_object *v)
{
        const char *s = NULL;
        int r = cms_cm_string(c, v, key, &s);
        if (r < 0)
                return r;
        if (!strcmp(key, "name")) {
                if (!cms_object_name_valid(s))
                        return cms_cm_bad(c, key,
                                          "invalid container name '%.64s' (allowed: "
                                          "[a-zA-Z0-9][a-zA-Z0-9_.-]*)",
                                          s);
        } else if (!strcmp(key, "image")) {
                struct cms_error why = {0};
                if (cms_image_path_ref_check(s, &why) < 0)
                        return cms_cm_bad(c, key, "%s", why.message);
                json_object_object_add(c->body, "Image", json_object_new_string(s));
        } else if (!strcmp(key, "user")) {
                if (strlen(s) > 256 || strpbrk(s, " \t\n"))
                        return cms_cm_bad(c, key, "not a valid user: '%.64s'", s);
                json_object_object_add(c->body, "User", json_object_new_string(s));
        } else if (!strcmp(key, "workdir")) {
                if (s[0] != '/')
                        return cms_cm_bad(c, key, "must be an absolute path: '%.64s'", s);
                json_object_object_add(c->body, "WorkingDir", json_object_new_string(s));
        } else if (!strcmp(key, "hostname")) {
                if (!cms_cm_hostname_valid(s))
                        return cms_cm_bad(c, key, "not a valid hostname: '%.64s'", s);
                c->hostname = s;
        } else if (!strcmp(key, "restart_policy")) {
                int retry;
                free(c->restart_name);
                c->restart_name = NULL;
                if (cms_restart_policy_parse(s, &c->restart_name, &retry) < 0)
                        return cms_cm_bad(c, key,
                                          "'%.64s' is not one of no, always, unless-stopped, "
                                          "on-failure, on-failure:N",
                                          s);
                json_object *rp = json_object_new_object();
                json_object_object_add(rp, "Name", json_object_new_string(c->restart_name));
                json_object_object_add(rp, "MaximumRetryCount", json_object_new_int(retry));
                json_object_object_add(c->hc, "RestartPolicy", rp);
        }
        return 0;
}

int cms_pull_policy_parse(const char *s, enum cms_pull_policy *out)
{
        static const char *const names[] = {"missing", "always", "never"};
        for (size_t i = 0; s && i < ELEMENTSOF(names); i++)
                if (!strcmp(s, names[i])) {
                        *out = (enum cms_pull_policy)i;
                        return 0;
                }
        return -EINVAL;
}

bool cms_container_image_is_id(const char *image)
{
        return cms_image_id_like(image) && (strchr(image, ':') || strlen(image) == 64);
}

/* "pull" and "registry_auth": how the create route gets an absent image, not in the body. */
static int top_pull(struct cms_cm *c, const char *key, json_object *v)
{
        if (!strcmp(key, "registry_auth")) {
                static const char *const keys[] = {"username",      "password", "serveraddress",
                                                   "identitytoken", "email",    NULL};
                _cleanup_free_ char *header = NULL;
                int r = cms_cm_object_keys(c, v, key, keys);
                if (r == 0 && (r = cms_registry_auth_header(v, key, &header, c->err)) == 0)
                        c->registry_auth = v;
                return r;
        }
        const char *s = NULL;
        int r = cms_cm_string(c, v, key, &s);
        if (r == 0 && cms_pull_policy_parse(s, &c->pull) < 0)
                return cms_cm_bad(c, key, "'%.64s' is not one of missing, always, never", s);
        return r;
}

static int top_field(struct cms_cm *c, const char *key, json_object *v)
{
        static const struct {
                const char *key, *engine;
        } bools[] = {{"privileged", "Privileged"},
                     {"read_only", "ReadonlyRootfs"},
                     {"auto_remove", "AutoRemove"}};
        static const char *const strings[] = {"name",    "image",    "user",
                                              "workdir", "hostname", "restart_policy"};
        for (size_t i = 0; i < ELEMENTSOF(strings); i++)
                if (!strcmp(key, strings[i]))
                        return top_strings(c, key, v);
        for (size_t i = 0; i < ELEMENTSOF(bools); i++)
                if (!strcmp(key, bools[i].key)) {
                        bool b = false;
                        int r = cms_cm_bool(c, v, key, &b);
                        if (r == 0)
                                json_object_object_add(c->hc, bools[i].engine,
                                                       json_object_new_boolean(b));
                        if (r == 0 && !strcmp(key, "auto_remove"))
                                c->auto_remove = b;
                        return r;
                }
        if (!strcmp(key, "command") || !strcmp(key, "entrypoint")) {
                json_object *a = NULL;
                int r = cms_cm_string_array(c, v, key, &a);
                if (r == 0)
                        json_object_object_add(c->body, key[0] == 'c' ? "Cmd" : "Entrypoint", a);
                return r;
        }
        if (!strcmp(key, "environment"))
                return top_environment(c, v);
        if (!strcmp(key, "labels"))
                return top_labels(c, v);
        if (!strcmp(key, "capabilities"))
                return top_capabilities(c, v);
        if (!strcmp(key, "volumes"))
                return cms_cm_volumes(c, v);
        if (!strcmp(key, "network"))
                return cms_cm_network(c, v);
        if (!strcmp(key, "resources"))
                return cms_cm_resources(c, v);
        if (!strcmp(key, "health_check"))
                return cms_cm_health(c, v);
        if (!strcmp(key, "pull") || !strcmp(key, "registry_auth"))
                return top_pull(c, key, v);
        return cms_cm_bad(c, key, "unknown field");
}

static bool key_listed(const char *key, const char *const *list)
{
        for (size_t i = 0; list && list[i]; i++)
                if (!strcmp(key, list[i]))
                        return true;
        return false;
}

/* Checks spanning several fields, once every field was read. */
static int cross_checks(struct cms_cm *c)
{
        if (c->hostname && c->net_hostname && strcmp(c->hostname, c->net_hostname))
                return cms_cm_bad(c, "network.hostname",
                                  "conflicts with hostname ('%.64s' vs '%.64s')", c->net_hostname,
                                  c->hostname);
        const char *hn = c->hostname ? c->hostname : c->net_hostname;
        if (hn)
                json_object_object_add(c->body, "Hostname", json_object_new_string(hn));
        /* Docker refuses AutoRemove with any restart policy; refuse it here for both runtimes. */
        if (c->auto_remove && c->restart_name && strcmp(c->restart_name, "no"))
                return cms_cm_bad(c, "restart_policy",
                                  "'%s' conflicts with auto_remove (a removed container cannot "
                                  "be restarted)",
                                  c->restart_name);
        if (c->registry_auth && c->pull == CMS_IMAGE_PULL_NEVER)
                return cms_cm_bad(c, "registry_auth", "has no use with \"pull\": \"never\"");
        return cms_cm_network_finish(c);
}

int cms_container_spec_from_config_ex(json_object *cfg, enum cms_runtime rt,
                                      const char *const *extra_keys, struct cms_create_spec *out,
                                      struct cms_error *err)
{
        memset(out, 0, sizeof(*out));
        if (!json_object_is_type(cfg, json_type_object))
                return cms_err(err, 400, "container config must be a JSON object");
        struct cms_cm c = {
            .rt = rt,
            .err = err,
            .body = json_object_new_object(),
            .hc = json_object_new_object(),
            .warnings = json_object_new_array(),
        };
        int r = 0;
        if (!c.body || !c.hc || !c.warnings)
                r = cms_err(err, 500, "out of memory");
        json_object *image = NULL;
        if (r == 0 && (!json_object_object_get_ex(cfg, "image", &image) || !image))
                r = cms_err(err, 400, "image: required");
        json_object_object_foreach(cfg, key, val)
        {
                if (r < 0)
                        break;
                if (!val || key_listed(key, extra_keys))
                        continue;
                r = top_field(&c, key, val);
        }
        if (r == 0)
                r = cross_checks(&c);
        if (r == 0 && c.pull == CMS_IMAGE_PULL_ALWAYS &&
            cms_container_image_is_id(json_object_get_string(image)))
                r = cms_cm_bad(&c, "pull", "\"always\" needs an image reference, not an image id");
        json_object *name = json_object_object_get(cfg, "name");
        if (r == 0) {
                out->image = strdup(json_object_get_string(image));
                out->name = name ? strdup(json_object_get_string(name)) : NULL;
                out->pull = c.pull;
                out->registry_auth = json_object_get(c.registry_auth);
                if (!out->image || (name && !out->name))
                        r = cms_err(err, 500, "out of memory");
        }
        if (r == 0) {
                json_object_object_add(c.body, "HostConfig", TAKE_PTR(c.hc));
                out->body = TAKE_PTR(c.body);
                out->warnings = TAKE_PTR(c.warnings);
        }
        json_object_put(c.body);
        json_object_put(c.hc);
        json_object_put(c.warnings);
        json_object_put(c.aliases);
        free(c.restart_name);
        if (r < 0)
                cms_create_spec_done(out);
        return r;
}

int cms_container_spec_from_config(json_object *cfg, enum cms_runtime rt,
                                   struct cms_create_spec *out, struct cms_error *err)
{
        return cms_container_spec_from_config_ex(cfg, rt, NULL, out, err);
}

void cms_create_spec_done(struct cms_create_spec *s)
{
        if (!s)
                return;
        free(s->name);
        free(s->image);
        json_object_put(s->body);
        json_object_put(s->warnings);
        json_object_put(s->registry_auth);
        memset(s, 0, sizeof(*s));
}
