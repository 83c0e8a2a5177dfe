/* Fuzzes the container model both ways: a ContainerConfig as POST /v1/containers and /v1/deploy
 * receive it (JSON, for Docker and for Podman) through validation to the engine create body,
 * which the restricted policy then judges; and an engine document (inspect, list item, Podman's
 * native list item) through the summaries cmsd builds from what the engine says. The signal,
 * restart and pull-policy grammars take the input as a string too. */
#include "fuzz.h"

#include "daemon/containers/model.h"
#include "daemon/security/policy.h"

static void config(json_object *cfg, enum cms_runtime rt)
{
        struct cms_create_spec spec = {0};
        struct cms_error err = {0};
        const char *extra[] = {"replace", "wait_healthy", NULL};
        if (cms_container_spec_from_config_ex(cfg, rt, extra, &spec, &err) < 0) {
                FUZZ_CHECK(err.status >= 400 && err.status < 500 && err.message[0]);
                FUZZ_CHECK(!spec.body);
                return;
        }
        FUZZ_CHECK(spec.body && json_object_is_type(spec.body, json_type_object));
        json_object *denials = json_object_new_array();
        int n = cms_policy_check_create(cms_policy_restricted(), NULL, spec.body, "", denials);
        FUZZ_CHECK(n == -1 || (size_t)n == json_object_array_length(denials));
        json_object_put(denials);
        cms_create_spec_done(&spec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = fuzz_strndup(data, size);
        int sig;
        const char *name;
        if (cms_signal_parse(s, &sig, &name) == 0)
                FUZZ_CHECK(sig > 0 && name && !strncmp(name, "SIG", 3));
        char *rname = NULL;
        int retries;
        if (cms_restart_policy_parse(s, &rname, &retries) == 0)
                FUZZ_CHECK(rname && retries >= 0);
        free(rname);
        enum cms_pull_policy pp;
        cms_pull_policy_parse(s, &pp);
        cms_container_image_is_id(s);

        json_object *doc = fuzz_json(s, size);
        if (doc) {
                config(doc, CMS_RUNTIME_DOCKER);
                config(doc, CMS_RUNTIME_PODMAN);
                if (json_object_is_type(doc, json_type_object)) {
                        json_object_put(cms_container_summary(doc));
                        json_object_put(cms_container_health(doc));
                        json_object_put(cms_container_list_item(doc));
                        json_object_put(cms_container_list_item_libpod(doc));
                }
                json_object *state = NULL;
                if (json_object_object_get_ex(doc, "State", &state) &&
                    json_object_is_type(state, json_type_string))
                        FUZZ_CHECK(cms_container_state_name(json_object_get_string(state)));
                json_object_put(doc);
        }
        free(s);
        return 0;
}
