/* daemon/swarm/: Docker Swarm through the engine's API: nodes, and compose files deployed as
 * stacks by docker stack deploy's conventions. It may call projects/ (reading a compose body
 * under the caller's policy), compose/, util and engine/; the managers' front (manager.h)
 * declares what the handlers call.
 *
 * This header: what the folder's files share. */
#pragma once

#include "../compose/model.h"
#include "../manager.h"

#define CMS_STACK_LABEL        "com.docker.stack.namespace"
#define CMS_STACK_HASH_LABEL   "com.cmsd.stack.hash"   /* the spec cmsd last deployed, hashed */
#define CMS_STACK_DIGEST_LABEL "com.cmsd.stack.digest" /* a secret's or config's content sha256 */

/* spec.c: s as a ServiceSpec (*out, owned) of stack; warnings name what a swarm service cannot
 * do; 400 for what cannot be deployed as written (a port range, a host address). */
int cms_stack_service_spec(const char *stack, const struct cms_compose_project *p,
                           const struct cms_compose_service *s, json_object **out,
                           json_object *warnings, struct cms_error *err);
/* files.c: the secrets and configs the services use, made when missing ({key: id} into the
 * maps); 409 for one whose content changed. */
int cms_stack_files(struct cms_manager *m, const struct cms_compose_project *p, const char *stack,
                    json_object *secret_ids, json_object *config_ids, json_object *warnings,
                    struct cms_error *err);
/* The ids into a spec's secret and config references (spec.c leaves them out). */
void cms_stack_fill_ids(json_object *spec, json_object *secret_ids, json_object *config_ids);
/* DELETE the stack's secrets and configs; their names into the gone arrays. */
int cms_stack_remove_files(struct cms_manager *m, const char *stack, json_object *gone_secrets,
                           json_object *gone_configs, struct cms_error *err);
/* The hex sha256 of spec as sent (without the hash label). */
int cms_stack_spec_hash(json_object *spec, char out[65]);

/* common.c: the services of stack (every stack's when NULL), with their task counts. */
int cms_stack_services(struct cms_manager *m, const char *stack, json_object **out,
                       struct cms_error *err);
/* 409 unless m's engine is a Docker swarm manager. */
int cms_swarm_manager_check(struct cms_manager *m, struct cms_error *err);
/* The services of stack name (with their task counts), after the manager check; 404 when it
 * has none. */
int cms_stack_get(struct cms_manager *m, const char *name, json_object **services,
                  struct cms_error *err);

/* nodes.c: node id -> hostname, for the tasks of a stack ({id: hostname}). */
json_object *cms_swarm_node_names(struct cms_manager *m);
/* common.c: a filters= query value: {"label": ["com.docker.stack.namespace=<stack>"]} URL-encoded,
 * or with stack NULL every stack's; owned. */
char *cms_stack_filter(const char *key, const char *value);
