/* The project operations the handlers call beyond those declared in manager.h: an `up` in two
 * halves (so that everything that can be refused is refused before a stream starts, and the
 * rest reports each step), the dry run behind POST /v1/projects?dry_run=true, and the build and
 * pull routes with their body. Implemented in ops.c and up.c. */
#pragma once

#include "../manager.h"

/* One step of an up, for progress: what it is about (one of service+container, service+image,
 * network, volume) and what happened ("pulling", "pulled", "building", "built", "creating",
 * "recreating", "starting", "started", "recreated", "running", "waiting", "healthy",
 * "exited", "ready", "removing", "removed", "created"). Unset members are NULL. */
struct cms_up_event {
        const char *service, *container, *image, *network, *volume, *status;
};
/* Called from the up's worker threads, possibly at the same time: it must be thread-safe. */
typedef void (*cms_up_progress_cb)(const struct cms_up_event *e, void *userdata);

/* An up that was checked and not yet run. */
struct cms_up_prepared;

/* POST /v1/projects (name NULL) or POST /v1/projects/{name}/up (the stored file, body the
 * options, may be NULL): the body read, the files merged and parsed, env_file read and the
 * caller's policy asked, without touching the engine. The caller is copied. */
int cms_projects_up_prepare(struct cms_manager *m, const struct cms_caller *who, const char *name,
                            json_object *body, struct cms_up_prepared **out, struct cms_error *err);
/* The rest: the per-project lock, the store, images, networks, volumes, containers. cb (may be
 * NULL) hears each step. *status (may be NULL): 201 when the project had no containers before,
 * else 200. The reply is cms_projects_up's. */
int cms_projects_up_run(struct cms_up_prepared *u, cms_up_progress_cb cb, void *userdata,
                        int *status, json_object **out, struct cms_error *err);
void cms_up_prepared_free(struct cms_up_prepared *u);

/* POST /v1/projects?dry_run=true: the body as for an up; the normalized model (GET
 * /v1/projects/{name}/config's) of what it would bring up, nothing stored or created. env_file
 * is read under the caller's policy. */
int cms_projects_config_dry(struct cms_manager *m, const struct cms_caller *who, json_object *body,
                            json_object **out, struct cms_error *err);

/* Runs fn(i, ud) for i in [0, n) on up to `width` threads; returns when all are done. */
void cms_project_parallel(size_t n, unsigned width, void (*fn)(size_t i, void *ud), void *ud);

/* Logs of several sources merged (logs.c; GET /v1/projects/{name}/logs' machinery): each
 * source a container, or a swarm service (swarm_service: its tasks' lines); service and name tag
 * its lines for cb. Without o->follow, the lines come merged in time order. */
struct cms_log_source {
        const char *id, *name, *service;
        bool swarm_service;
};
int cms_logs_merged(struct cms_manager *m, const struct cms_log_source *src, size_t n,
                    const struct cms_logs_opts *o, cms_project_log_cb cb,
                    cms_engine_stop_cb should_stop, void *ud, struct cms_error *err);

/* POST /v1/stacks: the body as for an up ("name" required, "compose", "env", "dotenv",
 * "working_dir", "profiles") parsed for a swarm (deploy's swarm keys read into each service's
 * deploy), env_file and file: sources read under the caller's policy, and the policy asked over
 * the whole file, as for a project; nothing touched on the engine. */
struct cms_compose_project;
int cms_projects_parse_stack(struct cms_manager *m, const struct cms_caller *who,
                             json_object *body, struct cms_compose_project **out,
                             json_object *warnings, struct cms_error *err);

/* POST /v1/projects/{name}/build (build true) or /pull: body (may be NULL) {"services": [names]
 * (default: all), "no_cache": bool (build only)}, and optionally the files as an up takes them
 * ("compose", "env", "dotenv", "working_dir", "profiles"): then those are built or pulled, for
 * a project not up yet too, and nothing is stored. -> {"name","images","warnings"} */
int cms_projects_images_body(struct cms_manager *m, const struct cms_caller *who, const char *name,
                             bool build, json_object *body, json_object **out,
                             struct cms_error *err);
