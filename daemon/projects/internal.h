/* daemon/projects/: compose projects against the engine. It may call compose/ (pure),
 * containers/, images/, engine/ and daemon's helpers; only the handlers call it. Inside:
 * store.c < engine.c < converge.c < apply.c < up.c < ops.c, with images.c (builds, pulls)
 * beside apply.c, and ctl.c and logs.c, which need only store.c and engine.c. projects.h is
 * what the handlers call beyond manager.h.
 *
 * This header: the pieces the project files share: the options of an `up`, the
 * stored record of a project, the per-project operation lock, and the project's containers as
 * the engine lists them. The pure compose work (parse, plan, diff, translate) is in compose/;
 * these files do the engine calls and the storage around it. */
#pragma once

#include "../compose/model.h"
#include "../containers/internal.h"
#include "projects.h"

/* What POST /v1/projects (and /up, /scale) asks for, validated. Strings are borrowed from the
 * body they were read from. */
enum cms_pull_mode { CMS_PULL_MISSING = 0, CMS_PULL_ALWAYS, CMS_PULL_NEVER };
struct cms_up_opts {
        bool build, force_recreate, remove_orphans, wait;
        enum cms_pull_mode pull;
        int64_t timeout_ms;
        /* Only these services are touched (scale); NULL: all. */
        json_object *only;
        /* Images: 0 what up needs; 1 build every service with a build section (build route);
         * 2 pull every service without one (pull route). */
        int images;
        /* Who asks: their policy sees every container, network, volume, build context and
         * env_file of the project before anything is made. */
        const struct cms_caller *who;
        bool no_cache; /* builds without the engine's cache (the build route's no_cache) */
        /* Progress of each step (may be NULL), from any of the up's threads. */
        cms_up_progress_cb progress;
        void *progress_ud;
};
/* Tells o's progress callback, if any, about e. */
static inline void cms_up_note(const struct cms_up_opts *o, const struct cms_up_event *e)
{
        if (o && o->progress)
                o->progress(e, o->progress_ud);
}

/* A project as stored in <state_dir>/projects/<name>.json (mode 0600: env may hold secrets). */
struct cms_project_record {
        char *name;
        char *compose;          /* the YAML text */
        json_object *overrides; /* later files merged over it: array of YAML texts, or NULL */
        char *dotenv;           /* may be NULL */
        char *working_dir;      /* may be NULL */
        json_object *env;       /* object, may be NULL */
        json_object *profiles;  /* array of strings, may be NULL */
        json_object *scale;     /* object {service: n}, may be NULL */
        bool swarm;             /* parsed for a swarm stack (not stored) */
};
void cms_project_record_done(struct cms_project_record *r);

/* Reads the record; 404 "project X has no stored compose file" when there is none. */
int cms_project_store_load(struct cms_manager *m, const char *name, struct cms_project_record *out,
                           struct cms_error *err);
/* Writes it atomically (temp file, fsync, rename, fsync of the directory). */
int cms_project_store_save(struct cms_manager *m, const struct cms_project_record *r,
                           struct cms_error *err);
/* The names of the stored projects (a JSON array of strings, sorted). */
json_object *cms_project_store_names(struct cms_manager *m);

/* One mutating operation per project at a time: 409 when another one is running. */
int cms_project_lock(struct cms_manager *m, const char *name, struct cms_error *err);
void cms_project_unlock(struct cms_manager *m, const char *name);

/* The record's parts a request body gives: compose (a YAML text, or a list of them merged in
 * order), dotenv, working_dir (absolute; stored normalized), env, profiles. */
int cms_project_record_from(json_object *body, struct cms_project_record *rec,
                            struct cms_error *err);

/* A 400 from a manager names the file's key it came from: "<what><key>: <message>". */
void cms_project_prefix_error(struct cms_error *err, const char *what, const char *key);

/* Parses the stored (or given) record into a model; warnings may be NULL. */
int cms_project_parse(struct cms_manager *m, const struct cms_caller *who,
                      const struct cms_project_record *rec, struct cms_compose_project **out,
                      json_object *warnings, struct cms_error *err);

/* secrets.c: the `file:` secrets and configs the services use, read on the daemon's host under
 * the caller's policy (field "secrets.<name>.file"); their content and digest into p. Likewise
 * each "seccomp=<file>" profile (field "services.<s>.security_opt[i]"), into host.seccomp_profile. */
int cms_project_read_files(struct cms_manager *m, const struct cms_caller *who,
                           struct cms_compose_project *p, struct cms_error *err);
/* Materializes s's secrets and configs (owner, mode) and adds their read-only binds to the
 * create body's HostConfig.Mounts. */
int cms_project_files_mount(struct cms_manager *m, const struct cms_compose_project *p,
                            const struct cms_compose_service *s, json_object *body,
                            struct cms_error *err);
/* down: the project's materialized files go. */
void cms_project_files_remove(struct cms_manager *m, const char *project);

/* hooks.c: runs s's post_start (pre_stop true: pre_stop) hooks in container id through the
 * engine's exec; failures go to warnings (under mu when given) with exit code and output tail. */
void cms_project_hooks_run(struct cms_manager *m, const struct cms_compose_service *s,
                           bool pre_stop, const char *id, pthread_mutex_t *mu,
                           json_object *warnings);
/* The policy over s's privileged hooks (field services.<s>.post_start[i].privileged). */
int cms_project_hooks_policy(struct cms_manager *m, const struct cms_caller *who,
                             const struct cms_compose_service *s, json_object *denials,
                             struct cms_error *err);

/* A container of a project, from the engine's list. */
struct cms_pctr {
        char *id, *name, *service, *hash, *state;
        int number;
        bool running;
        json_object *depends_on; /* [{"service","condition"}] from the depends_on label */
};
struct cms_pctrs {
        struct cms_pctr *v;
        size_t n;
};
/* The project's containers (one-off ones left out), sorted by service then number. */
int cms_project_containers(struct cms_manager *m, const char *project, struct cms_pctrs *out,
                           struct cms_error *err);
void cms_pctrs_done(struct cms_pctrs *c);

/* Start levels of the services in cs from their depends_on labels: *levels[i] for cs->v[i];
 * a cycle or an unknown service puts the rest on one level. Returns the number of levels. */
size_t cms_pctrs_levels(const struct cms_pctrs *cs, int **levels);

/* Waits until every container of `service` meets the condition ("service_started",
 * "service_healthy", "service_completed_successfully") or deadline (monotonic ms) passes:
 * 409 when it cannot (unhealthy, exited non-zero, no health check), 504 at the deadline. */
int cms_project_gate(struct cms_manager *m, const char *service, const char *const *ids, size_t n,
                     const char *condition, int64_t deadline, struct cms_error *err);

/* Removes a container (force); one already gone is fine. */
int cms_project_ctr_remove(struct cms_manager *m, const char *id, bool volumes,
                           struct cms_error *err);

/* Builds or pulls what the services need (up: mode missing/always/never, force_build). Appends
 * {"service","image","action"} to images. */
int cms_project_images(struct cms_manager *m, const struct cms_compose_project *p,
                       const struct cms_up_opts *o, json_object *images, struct cms_error *err);
/* One `up` under way (apply.c sets it up, converge.c runs the containers). */
struct cms_up_job {
        char *id;     /* CREATE/RECREATE: the new container, made in the create phase */
        bool started; /* the start phase is done for it */
        bool aside;   /* RECREATE: the old container is stopped and renamed aside */
        bool old_running;
        char *old_name;
};
struct cms_up_run {
        struct cms_manager *m;
        const struct cms_compose_project *p;
        const struct cms_compose_plan *pl;
        const struct cms_up_opts *o;
        const struct cms_pctrs *existing;
        struct cms_compose_action *acts;
        struct cms_up_job *jobs; /* one per action */
        size_t n_acts;
        int64_t deadline;
        enum cms_runtime rt;
        pthread_mutex_t mu; /* reply, warnings, ids */
        json_object *reply, *warnings;
        json_object **ids; /* per service: the ids of its containers after up */
        bool *failed;      /* per service */
        int *rc;           /* per service */
        struct cms_error *errs;
        const size_t *level; /* the services being worked, in level order */
        bool *done;          /* per service: its start phase is over (start phase) */
        pthread_cond_t cv;   /* signalled when a service is done */
        char **own;          /* the project's first containers: what container: may join */
};
/* Appends a formatted warning unless it is there already. */
void cms_project_warn(json_object *warnings, const char *fmt, ...) CMS_PRINTF(2, 3);
/* Translates and validates one container: the same checks as POST /v1/containers. */
int cms_project_prepare(const struct cms_compose_project *p, enum cms_runtime rt,
                        const struct cms_compose_service *s, int number,
                        struct cms_compose_container *c, struct cms_create_spec *spec,
                        struct cms_error *err);
/* The engine-facing bodies of a project network and volume (apply.c). */
json_object *cms_project_network_body(const struct cms_compose_project *p,
                                      const struct cms_compose_network *n, json_object *warnings);
json_object *cms_project_volume_body(const struct cms_compose_project *p,
                                     const struct cms_compose_volume *v);
/* A service's build context directory on this host (images.c). */
int cms_project_context_dir(const struct cms_compose_project *p,
                            const struct cms_compose_service *s, char **out, struct cms_error *err);
/* policy.c: the caller's policy over the whole project (every service's first container as it
 * would be created, its build context, the networks and volumes it would make); denials are
 * appended, their count returned. */
int cms_project_policy(struct cms_manager *m, const struct cms_caller *who,
                       const struct cms_compose_project *p, json_object *denials,
                       struct cms_error *err);
/* The name of each service's first container (what container: may join); NULL-terminated,
 * cms_strv_free; NULL on OOM. */
char **cms_project_own_containers(const struct cms_compose_project *p);
/* The same as a gate: 403 policy_denied for the first denial. */
int cms_project_policy_enforce(struct cms_manager *m, const struct cms_caller *who,
                               const struct cms_compose_project *p, struct cms_error *err);
/* The containers: created (and old ones set aside) level by level, then started level by level
 * once each service's dependencies' conditions hold; a failure undoes what was not started.
 * Then orphans, then the wait. */
int cms_project_converge(struct cms_up_run *u, struct cms_error *err);

/* up / scale: brings the engine to the model. */
int cms_project_apply(struct cms_manager *m, const struct cms_compose_project *p,
                      const struct cms_up_opts *o, json_object *scale, json_object *reply,
                      bool *had_containers, struct cms_error *err);

