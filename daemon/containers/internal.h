/* daemon/containers/: the container manager (lifecycle.c, io.c for logs and exec, deploy.c), the
 * container model (ContainerConfig -> engine create body, model*.c) and the engine -> cmsd views
 * (summary.c). It may call images/ (reference grammar, image presence and pulls for deploy),
 * engine/ and daemon's helpers; projects/ and the handlers call it, it calls neither.
 *
 * This header: the pieces the manager files share. */
#pragma once

#include "model.h"
#include "../manager.h"
#include "../security/enforce.h"

/* "/containers/<escaped id><suffix>"; NULL on OOM. */
char *cms_container_path(const char *id, const char *suffix);
/* POST /containers/<id><suffix> ("/start", "/stop?t=5", "/rename?name=x"); timeout_ms 0: the
 * engine client's default. The reply body is dropped. */
int cms_container_post(struct cms_manager *m, const char *id, const char *suffix, long timeout_ms,
                       struct cms_error *err);
/* The engine's inspect document of a container: an object with a string "Id". 400 for an id
 * that cannot be a container name, id or id prefix. */
int cms_container_inspect_raw(struct cms_manager *m, const char *id, json_object **out,
                              struct cms_error *err);
/* The engine path of a container list (filters from o; label filters checked: a 400 for an empty
 * key), /libpod's native list on Podman: one place for cms_containers_list and list_text.c. */
int cms_containers_list_path(struct cms_manager *m, const struct cms_list_opts *o, char **path,
                             struct cms_error *err);
/* The health status in an inspect document: healthy, unhealthy, starting or "none". */
const char *cms_container_health_status(json_object *raw);
/* Gets spec->image onto the engine as spec->pull says (with spec->registry_auth), after the
 * caller's policy allowed the create (403 before any pull): missing pulls an absent image,
 * always pulls, never leaves an absent image to the create's 404. *pulled (may be NULL) tells
 * whether a pull was made. A failed pull is POST /v1/images/pull's error (404 for an image the
 * registry does not have, 502 for the rest, 503 when cmsd shuts down meanwhile). */
int cms_container_ensure_image(struct cms_manager *m, const struct cms_caller *who,
                               const struct cms_create_spec *spec, bool *pulled,
                               struct cms_error *err);
/* cms_containers_exec with the exec's Privileged flag: for compose's lifecycle hooks, whose
 * privileged ones the caller's policy has already judged (projects/policy.c). */
int cms_container_exec_hook(struct cms_manager *m, const char *id, json_object *body,
                            bool privileged, json_object **out, struct cms_error *err);
/* Creates (and optionally starts) from a validated spec -> {"id","name","warnings"}. A container
 * that fails to start is removed again. Every container cmsd makes passes here, and here the
 * caller's policy sees the create body exactly as the engine will (403 policy_denied). */
int cms_container_create_spec(struct cms_manager *m, const struct cms_caller *who,
                              struct cms_create_spec *spec, bool start, json_object **out,
                              struct cms_error *err);
