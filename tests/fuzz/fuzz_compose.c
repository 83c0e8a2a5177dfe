/* Fuzzes the compose pipeline as POST /v1/projects runs it: parse (YAML, interpolation from an
 * env and a .env text, profiles, include/extends through a load callback), plan, the normalized
 * JSON, the config hash and labels, the up convergence against no containers, and the translation
 * of every service to a ContainerConfig that the container model and the restricted policy then
 * judge. A file that names "deploy" is also parsed as POST /v1/stacks parses it (deploy's swarm
 * keys read, the expansion caps the same) and each service made the ServiceSpec a stack deploy
 * sends, then hashed. Input: the compose file, then optionally "\n#@env\n" and a .env text, then
 * optionally "\n#@file\n" and the text every included or extended file reads as. */
#include "fuzz.h"

#include "daemon/compose/model.h"
#include "daemon/containers/model.h"
#include "daemon/security/policy.h"
#include "daemon/swarm/swarm.h"

static char *other_file;

static int load(void *ud, const char *what, const char *path, char **text, struct cms_error *err)
{
        if (!other_file)
                return -ENOENT;
        *text = strdup(other_file);
        return *text ? 0 : -ENOMEM;
}

static void judge(const struct cms_compose_project *p, const struct cms_compose_service *s)
{
        struct cms_compose_container c = {0};
        struct cms_error err = {0};
        if (cms_compose_translate(p, s, 1, &c, &err) < 0) {
                FUZZ_CHECK(err.status >= 400 && err.status < 500);
                cms_compose_container_done(&c);
                return;
        }
        FUZZ_CHECK(c.config);
        struct cms_create_spec spec = {0};
        const char *extra[] = {NULL};
        if (cms_container_spec_from_config_ex(c.config, CMS_RUNTIME_PODMAN, extra, &spec, &err) ==
            0) {
                json_object *denials = json_object_new_array();
                cms_policy_check_create(cms_policy_restricted(), NULL, spec.body, "services.x.",
                                        denials);
                json_object_put(denials);
                cms_create_spec_done(&spec);
        }
        cms_compose_container_done(&c);
}

/* The file as a stack: a parse refused is a 4xx (a swarm parse may refuse what a project's
 * allows, never crash); each service's spec is an object carrying the stack's namespace label
 * and a 64-hex hash, or a 400. */
static void as_stack(const char *yaml, size_t ylen, struct cms_compose_parse_opts o)
{
        struct cms_compose_project *p = NULL;
        struct cms_error err = {0};
        json_object *warnings = json_object_new_array();
        o.swarm = true;
        if (cms_compose_parse(yaml, ylen, &o, &p, warnings, &err) < 0) {
                FUZZ_CHECK(err.status >= 400 && err.status < 600 && err.message[0]);
                json_object_put(warnings);
                return;
        }
        for (size_t i = 0; i < p->n_services && i < 8; i++) {
                json_object *spec = NULL;
                struct cms_error e = {0};
                if (cms_stack_service_spec("fz", p, &p->services[i], &spec, warnings, &e) < 0) {
                        FUZZ_CHECK(e.status == 400 && e.message[0] && !spec);
                        continue;
                }
                FUZZ_CHECK(json_object_is_type(spec, json_type_object));
                json_object *labels = NULL;
                FUZZ_CHECK(json_object_object_get_ex(spec, "Labels", &labels));
                json_object *ns = NULL;
                FUZZ_CHECK(json_object_object_get_ex(labels, CMS_STACK_LABEL, &ns));
                FUZZ_CHECK(!strcmp(json_object_get_string(ns), "fz"));
                char h[65];
                FUZZ_CHECK(cms_stack_spec_hash(spec, h) == 0 && strlen(h) == 64);
                json_object_put(spec);
        }
        cms_compose_project_free(p);
        json_object_put(warnings);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        size_t ylen, rlen, elen, flen;
        const uint8_t *rest, *file;
        fuzz_split(data, size, "\n#@env\n", &ylen, &rest, &rlen);
        const uint8_t *env = rest;
        fuzz_split(rest, rlen, "\n#@file\n", &elen, &file, &flen);
        if (!rlen) /* no .env part: the file part may still follow the compose file */
                fuzz_split(data, ylen, "\n#@file\n", &ylen, &file, &flen);
        char *yaml = fuzz_strndup(data, ylen);
        char *dotenv = rlen ? fuzz_strndup(env, elen) : NULL;
        other_file = flen ? fuzz_strndup(file, flen) : NULL;

        json_object *vars = json_object_new_object();
        json_object_object_add(vars, "TAG", json_object_new_string("1.25"));
        json_object_object_add(vars, "EMPTY", json_object_new_string(""));
        json_object_object_add(vars, "PORT", json_object_new_int(8080));
        json_object_object_add(vars, "COMPOSE_PROFILES", json_object_new_string("debug,*"));
        /* The project name comes from the file when it names one, as the API allows. */
        struct cms_compose_parse_opts o = {.name = strstr(yaml, "name:") ? NULL : "fuzz",
                                           .env = vars,
                                           .dotenv = dotenv,
                                           .working_dir = "/srv/proj",
                                           .load = load};
        struct cms_compose_project *p = NULL;
        struct cms_error err = {0};
        json_object *warnings = json_object_new_array();
        if (cms_compose_parse(yaml, ylen, &o, &p, warnings, &err) == 0) {
                struct cms_compose_plan *pl = NULL;
                FUZZ_CHECK(cms_compose_plan_new(p, &pl, &err) == 0);
                json_object_put(cms_compose_project_to_json(p));
                struct cms_compose_action *acts = NULL;
                size_t n = 0;
                struct cms_compose_diff_opts dopts = {.remove_orphans = true};
                if (cms_compose_diff(p, pl, NULL, 0, &dopts, &acts, &n, &err) == 0)
                        free(acts);
                for (size_t i = 0; i < p->n_services && i < 8; i++) {
                        const struct cms_compose_service *s = &p->services[i];
                        char hash[CMS_COMPOSE_HASH_LEN + 1];
                        FUZZ_CHECK(cms_compose_config_hash(s, hash) == 0);
                        FUZZ_CHECK(strlen(hash) == CMS_COMPOSE_HASH_LEN);
                        json_object_put(cms_compose_service_labels(p, s, 1));
                        free(cms_compose_depends_on_label(s));
                        cms_compose_engine_notes(s, true, "podman", warnings);
                        judge(p, s);
                }
                for (size_t i = 0; i < p->n_networks; i++)
                        json_object_put(cms_compose_network_labels(p, &p->networks[i]));
                for (size_t i = 0; i < p->n_volumes; i++)
                        json_object_put(cms_compose_volume_labels(p, &p->volumes[i]));
                cms_compose_plan_free(pl);
                cms_compose_project_free(p);
                if (strstr(yaml, "deploy"))
                        as_stack(yaml, ylen, o);
        } else {
                FUZZ_CHECK(err.status >= 400 && err.status < 600);
                FUZZ_CHECK(err.message[0]);
        }
        json_object_put(warnings);
        json_object_put(vars);
        free(other_file);
        free(dotenv);
        free(yaml);
        return 0;
}
