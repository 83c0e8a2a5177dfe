/* The container model: translation between cmsd's ContainerConfig (API.md) and the engine API
 * documents (Docker Engine API v1.41, also served by Podman's compat endpoints), in both
 * directions. Pure functions: no I/O, no logging, so the managers and the compose code share one
 * validated mapping and the unit tests run without an engine. */
#pragma once

#include "../engine/engine.h"
#include "../images/reference.h"
#include "../util.h"

/* When a create pulls its image, as `docker run --pull`: "missing" (the default) pulls an
 * image the engine does not have, "always" pulls before every create, "never" does not pull
 * (an absent image is the engine's 404). */
enum cms_pull_policy {
        CMS_IMAGE_PULL_MISSING,
        CMS_IMAGE_PULL_ALWAYS,
        CMS_IMAGE_PULL_NEVER,
};
/* "missing", "always", "never" -> *out; -EINVAL otherwise. */
int cms_pull_policy_parse(const char *s, enum cms_pull_policy *out);
/* A container's "image" that is an image id ("sha256:<hex>" or 64 hex digits): it names what
 * is local, no registry has it under that name, so it is never pulled. */
bool cms_container_image_is_id(const char *image);

/* What POST /containers/create needs: name goes in the query string (?name=), body is the
 * request body (Config fields at top level plus HostConfig and NetworkingConfig). */
struct cms_create_spec {
        char *name;                 /* NULL when the config has no name (the engine picks one) */
        char *image;                /* the reference as given, for pulling */
        enum cms_pull_policy pull;  /* the config's "pull" (CMS_IMAGE_PULL_MISSING when absent) */
        json_object *registry_auth; /* the config's "registry_auth" for that pull, or NULL */
        json_object *body;          /* engine POST /containers/create body */
        json_object *warnings;      /* array of strings: config fields the runtime cannot honour */
        /* For the policy check at create (borrowed): the start of its field paths ("" when
         * NULL) and the containers a container: network may join. */
        const char *policy_prefix;
        const char *const *own_containers;
};

/* Validates a ContainerConfig fully and builds the engine create body. A bad config -> 400 with
 * a message naming the field path ("resources.memory: not a size: '-5g'"). JSON null stands for
 * an absent optional field. On failure *out is left empty (nothing to free).
 * Accepted beyond API.md's example (for openapi.yaml): a port value may also be a number (8080),
 * an array of bindings, or null (expose only); a volume may carry "tmpfs": {"size", "mode"}
 * (mode: octal digits, "1777" or 1777) and without "type" an absolute source means bind;
 * resources.cpus may be a numeric string ("1.5"); memory_swap -1 means unlimited swap.
 * The top-level "pull" and "registry_auth" do not reach the body: they say how the create route
 * gets an absent image (spec->pull, spec->registry_auth). */
int cms_container_spec_from_config(json_object *cfg, enum cms_runtime rt,
                                   struct cms_create_spec *out, struct cms_error *err);
/* Same, but the top-level keys listed in extra_keys (NULL-terminated, may be NULL) are skipped
 * instead of refused: POST /v1/deploy carries "replace", "wait_healthy", "pull" beside the config.
 */
int cms_container_spec_from_config_ex(json_object *cfg, enum cms_runtime rt,
                                      const char *const *extra_keys, struct cms_create_spec *out,
                                      struct cms_error *err);
void cms_create_spec_done(struct cms_create_spec *s);

/* Engine inspect document (Docker or Podman compat) -> the normalized summary of the contract,
 * with "raw" holding a new reference to inspect. Missing keys give null/0/""; never fails except
 * on allocation (NULL). Podman's "localhost/" prefix of local images is dropped from "image". */
json_object *cms_container_summary(json_object *inspect);
/* One item of GET /containers/json -> the 9-key list item. Podman's compat list carries no health
 * in its status text, so "health" is "none" there; callers wanting it take it from inspect. */
json_object *cms_container_list_item(json_object *engine_list_item);
/* One item of Podman's native list (GET /libpod/containers/json) -> the same 9-key list item,
 * health included (the compat list lacks it, and the native list is faster). */
json_object *cms_container_list_item_libpod(json_object *libpod_list_item);
/* An engine state word ("running", Podman's "stopped", Docker's "removing") -> one of the
 * contract's six: created, running, paused, restarting, exited, dead. */
const char *cms_container_state_name(const char *engine_state);
/* Inspect -> {"status","failing_streak","log":[{"start","end","exit_code","output"}]}. */
json_object *cms_container_health(json_object *inspect);

/* "SIGTERM", "TERM", "term", "15", "SIGRTMIN+3" -> the number and the canonical name
 * ("SIGTERM"), a static string. Unknown -> -EINVAL. Either output may be NULL. */
int cms_signal_parse(const char *s, int *signum, const char **name);

/* "no", "always", "unless-stopped", "on-failure", "on-failure:N" -> engine RestartPolicy Name
 * (owned copy, e.g. "on-failure") and MaximumRetryCount (0 unless on-failure:N). -EINVAL
 * otherwise. Either output may be NULL. */
int cms_restart_policy_parse(const char *s, char **name, int *max_retry);

#ifdef CMS_CONTAINER_MODEL_INTERNAL
/* Shared by model*.c and summary.c only: the state of one config translation. */
struct cms_cm {
        enum cms_runtime rt;
        struct cms_error *err;
        json_object *body;     /* the create body being built (Config fields) */
        json_object *hc;       /* its HostConfig */
        json_object *warnings; /* array of strings */
        /* remembered for the checks that span fields */
        const char *hostname, *net_hostname, *network, *ip_address;
        json_object *aliases; /* owned until moved into the endpoint */
        bool has_ports, auto_remove;
        char *restart_name;
        enum cms_pull_policy pull;
        json_object *registry_auth; /* borrowed from the config */
};

/* 400 "<path>: <message>". */
int cms_cm_bad(struct cms_cm *c, const char *path, const char *fmt, ...) CMS_PRINTF(3, 4);
void cms_cm_warn(struct cms_cm *c, const char *fmt, ...) CMS_PRINTF(2, 3);
/* The value as a short text for messages ('abc', 12, true): into buf, returned. */
const char *cms_cm_show(json_object *v, char *buf, size_t n);
int cms_cm_check_keys(struct cms_cm *c, json_object *obj, const char *path,
                      const char *const *allowed);
int cms_cm_object(struct cms_cm *c, json_object *v, const char *path);
/* An object with only the allowed keys (NULL-terminated). */
int cms_cm_object_keys(struct cms_cm *c, json_object *v, const char *path,
                       const char *const *allowed);
int cms_cm_string(struct cms_cm *c, json_object *v, const char *path, const char **out);
int cms_cm_bool(struct cms_cm *c, json_object *v, const char *path, bool *out);
int cms_cm_int(struct cms_cm *c, json_object *v, const char *path, int64_t min, int64_t max,
               int64_t *out);
/* A JSON array of strings -> a new array of copies in *out. */
int cms_cm_string_array(struct cms_cm *c, json_object *v, const char *path, json_object **out);
bool cms_cm_ip_valid(const char *s, int *family);
bool cms_cm_hostname_valid(const char *s);
/* The parts of the config that fill HostConfig / NetworkingConfig. */
int cms_cm_network(struct cms_cm *c, json_object *v);
int cms_cm_network_finish(struct cms_cm *c);
int cms_cm_volumes(struct cms_cm *c, json_object *v);
int cms_cm_resources(struct cms_cm *c, json_object *v);
int cms_cm_health(struct cms_cm *c, json_object *v);
#endif
