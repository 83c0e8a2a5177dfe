/* daemon/: the process (main.c, config*.c, log.c, sdnotify.c, housekeeping.c) and the managers'
 * front. main.c may call anything; manager.c, system.c and housekeeping.c call the domain
 * folders (containers/, images/, projects/, monitor/) and engine/; util.c, log.c, archive.c and
 * config*.c are below every folder and call none of them.
 *
 * This header: the managers, the handlers' one entry point. struct cms_manager owns the engine
 * client and the live configuration; the managers translate between cmsd's model and the
 * engine's documents. Nothing here knows about HTTP servers; replies are json-c objects in
 * cmsd's normalized shapes, failures are struct cms_error. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "config.h"
#include "engine/engine.h"
#include "util.h"

struct cms_housekeeping;
struct cms_sampler;
struct cms_audit;

/* Who asks, as auth found them. The policy is looked up by name at each check, under the config
 * lock, so a reload applies at once; a token removed by a reload has no policy any more and is
 * refused. */
struct cms_caller {
        const char *token; /* the token's name */
        enum cms_role role;
        const char *policy;
};

/* One per engine of the config. The default engine's manager is the root: it holds the live
 * configuration and the list of every engine's manager; the others point to it for the config
 * (cms_manager_config_rdlock) and share its audit trail. The api layer picks the manager a
 * request's `?engine=` names; below it, code sees one engine as before. */
struct cms_manager {
        struct cms_engine *engine;
        const char *name;                      /* the engine's name in the config */
        bool is_default;
        struct cms_manager *root;              /* the default engine's manager (itself there) */
        struct cms_manager *all[CMS_MAX_ENGINES]; /* root only: every engine's, default first */
        size_t n_all;
        struct cms_housekeeping *housekeeping; /* engine re-probes, Podman's health checks */
        struct cms_sampler *sampler;           /* stats rings (monitor/); NULL if it failed */
        struct cms_audit *audit;               /* state_dir/audit.log (the root's); NULL if it failed */
        pthread_rwlock_t cfg_lock;             /* root only */
        struct cms_config *cfg; /* root only: swapped on reload, under cfg_lock */
        int64_t started_ms;     /* monotonic */
        time_t started_at;
        atomic_bool draining;   /* shutting down: long operations and streams end early */
        pthread_mutex_t projects_mu;
        json_object *projects_busy; /* {name: true}: compose projects with an operation running */
};

/* Makes every engine's manager (cfg->engines, the default first) and returns the root, which
 * takes over cfg. */
int cms_manager_new(struct cms_config *cfg, struct cms_manager **out, struct cms_error *err);
void cms_manager_free(struct cms_manager *m);
/* Sets draining on every engine's manager (SIGTERM). */
void cms_manager_drain(struct cms_manager *m);
/* Where this engine's own state lives (compose projects, their materialized files, the metrics
 * snapshot): state_dir for the default engine, state_dir/engines/<name> for the others; to free.
 * NULL on OOM. */
char *cms_manager_state_dir(struct cms_manager *m);

/* The housekeeping thread (housekeeping.c): re-probes a down engine, runs Podman's health
 * checks where systemd does not. */
int cms_housekeeping_start(struct cms_manager *m, struct cms_housekeeping **out);
void cms_housekeeping_stop(struct cms_housekeeping *h);
/* When the housekeeping thread last began a round (monotonic ms; now when h is NULL): the
 * watchdog withholds its ping when this gets old, as the thread is then stuck. */
int64_t cms_housekeeping_last_tick(struct cms_housekeeping *h);

/* Replaces the live config (tokens, limits that apply per request); returns the old one, which
 * the caller frees. Settings that need a restart (listen, engine) are kept from the old config
 * and reported in *note (may be NULL). */
struct cms_config *cms_manager_swap_config(struct cms_manager *m, struct cms_config *cfg,
                                           char *note, size_t note_len);
/* The engine's last known state (never a call, so it answers at once even when the engine
 * hangs). */
bool cms_manager_engine_up(struct cms_manager *m);
/* Borrow the config for a short read (tokens, limits): lock, read, unlock. */
const struct cms_config *cms_manager_config_rdlock(struct cms_manager *m);
void cms_manager_config_unlock(struct cms_manager *m);

/* ---- engines (engines.c) ---- */
/* GET /v1/engines' entry for m's engine: {name, url, default, runtime, version, api_version,
 * state: "up"|"down", last_error, counts (as system info's, null when down)}. Never fails on
 * the engine's account. */
int cms_engine_describe(struct cms_manager *m, json_object **out, struct cms_error *err);

/* ---- swarm (swarm/): on an engine that is a swarm manager, else 409 ---- */
/* GET /v1/nodes: [{id, hostname, role, availability, state, addr, leader, manager_reachability,
 * engine_version, resources {nano_cpus, memory_bytes}, labels}]. */
int cms_nodes_list(struct cms_manager *m, json_object **out, struct cms_error *err);
/* POST /v1/nodes/{id} {"availability": "active"|"pause"|"drain"}: the node after the change. */
int cms_nodes_update(struct cms_manager *m, const char *id, json_object *body, json_object **out,
                     struct cms_error *err);
/* POST /v1/stacks: body as POST /v1/projects's ("name" required) plus "prune" (remove the
 * stack's services the file no longer has). The file is read and the caller's policy asked
 * before anything changes; networks first, then each service created, updated (a rolling
 * update, when its spec changed) or left as it is. *status 201 for a new stack, else 200.
 * -> {name, services: [{name, id, action}], networks: [{name, action}], warnings} */
int cms_stacks_deploy(struct cms_manager *m, const struct cms_caller *who, json_object *body,
                      int *status, json_object **out, struct cms_error *err);
/* GET /v1/stacks: [{name, services, desired, running, orchestrator}] (docker stack deploy's too). */
int cms_stacks_list(struct cms_manager *m, json_object **out, struct cms_error *err);
/* GET /v1/stacks/{name}: {name, services: [{name, service, id, image, mode, replicas {desired,
 * running}, ports, update_state, created, updated}], tasks: [{id, service, slot, node, node_id,
 * state, desired_state, message, error, updated, container_id}]}; 404 when there is none. */
int cms_stacks_inspect(struct cms_manager *m, const char *name, json_object **out,
                       struct cms_error *err);
/* POST /v1/stacks/{name}/scale {"web": 3}: every service checked first (404 unknown, 400
 * global or a bad count). */
int cms_stacks_scale(struct cms_manager *m, const char *name, json_object *body, json_object **out,
                     struct cms_error *err);
/* DELETE /v1/stacks/{name}: its services, then its networks (once their tasks left them). */
int cms_stacks_remove(struct cms_manager *m, const char *name, json_object **out,
                      struct cms_error *err);

/* ---- system ---- */
json_object *cms_system_health(struct cms_manager *m);
int cms_system_info(struct cms_manager *m, json_object **out, struct cms_error *err);
/* Disk use: {"images"|"containers"|"volumes"|"build_cache": {count, active, size, reclaimable}}
 * from the engine's /system/df (sizes in bytes; images counted once per id). */
int cms_system_df(struct cms_manager *m, json_object **out, struct cms_error *err);
/* body: {"all": bool, "volumes": bool} (may be NULL). */
int cms_system_prune(struct cms_manager *m, json_object *body, json_object **out,
                     struct cms_error *err);

/* ---- policy (system.c; what a policy denies: containers/ and projects/) ---- */
/* GET /v1/policy: {"policies": [every policy, built-ins first], "tokens": [{name, role,
 * policy}]}. */
int cms_policy_list(struct cms_manager *m, json_object **out, struct cms_error *err);
/* POST /v1/policy/check: body a ContainerConfig, or {"compose": "<yaml>", env, dotenv, name,
 * working_dir, profiles}: {"policy", "allowed", "denials": [{rule, field, message}]}. Nothing
 * is created; a compose file's env_file is read only where the policy lets cmsd read. */
int cms_policy_check(struct cms_manager *m, const struct cms_caller *who, json_object *body,
                     json_object **out, struct cms_error *err);
/* The parts of the check: each appends the denials and returns their count (or <0 with err). */
int cms_containers_policy_check(struct cms_manager *m, const struct cms_caller *who,
                                json_object *config, json_object *denials, struct cms_error *err);
int cms_projects_policy_check(struct cms_manager *m, const struct cms_caller *who,
                              json_object *body, json_object *denials, struct cms_error *err);

/* ---- the audit trail (system.c; security/audit.c writes it) ---- */
struct cms_audit_filter {
        int64_t since_ms, until_ms; /* 0: none */
        const char *token, *route;  /* NULL: any */
        int status;                 /* 0: any */
        size_t limit;
};
/* Records newest first: {"records": [...]} (across the rotated files). 503 when cmsd has no
 * audit trail (state_dir not writable). */
int cms_audit_list(struct cms_manager *m, const struct cms_audit_filter *f, json_object **out,
                   struct cms_error *err);

/* ---- the engine's events (system.c) ---- */
struct cms_events_opts {
        /* Filters, NULL-terminated lists (NULL: none): type (checked against the engines' event
         * types: 400 otherwise), container, event, label. Borrowed for cms_events_new only. */
        const char **types, **containers, **events, **labels;
        int64_t since_ms, until_ms; /* 0: none */
        /* Follow until stopped. Without, a report that ends: by default the last hour up to
         * now, at most 60 s of waiting. */
        bool stream;
};
struct cms_events;
/* Checks the options and prepares the engine call (knowing the runtime first: 503 when the
 * engine is down). */
int cms_events_new(struct cms_manager *m, const struct cms_events_opts *o,
                   struct cms_events **out, struct cms_error *err);
void cms_events_free(struct cms_events *e);
/* Feeds each event in cmsd's shape {time, type, action, id, name, image, attributes} to cb
 * (which takes it; nonzero stops) until the report ends, until has passed, or should_stop(
 * stop_ud) says so (asked at least every 200 ms; NULL: only when cmsd drains). */
int cms_events_run(struct cms_events *e, int (*cb)(json_object *ev, void *ud),
                   int (*should_stop)(void *stop_ud), void *stop_ud, void *ud,
                   struct cms_error *err);

/* ---- containers ---- */
struct cms_list_opts {
        bool all;
        const char *name;
        const char *const *labels; /* "k=v" or "k", NULL-terminated, may be NULL */
};
int cms_containers_list(struct cms_manager *m, const struct cms_list_opts *o, json_object **out,
                        struct cms_error *err);
int cms_containers_create(struct cms_manager *m, const struct cms_caller *who,
                          json_object *config, bool start,
                          json_object **out, struct cms_error *err);
int cms_containers_inspect(struct cms_manager *m, const char *id, json_object **out,
                           struct cms_error *err);
int cms_containers_remove(struct cms_manager *m, const char *id, bool force, bool volumes,
                          json_object **out, struct cms_error *err);

enum cms_action {
        CMS_ACTION_START,
        CMS_ACTION_STOP,
        CMS_ACTION_RESTART,
        CMS_ACTION_PAUSE,
        CMS_ACTION_UNPAUSE,
        CMS_ACTION_KILL,
};
int cms_action_parse(const char *s, enum cms_action *out);
/* timeout_s < 0: the engine's default; signal may be NULL (kill: SIGKILL). */
int cms_containers_action(struct cms_manager *m, const char *id, enum cms_action a, int timeout_s,
                          const char *signal, json_object **out, struct cms_error *err);

struct cms_logs_opts {
        int64_t tail;   /* < 0: all */
        int64_t since;  /* unix seconds, 0: none */
        int64_t until;  /* unix seconds, 0: none */
        bool timestamps, stdout_, stderr_, follow;
};
/* One log line: stream is "stdout"/"stderr", time is RFC 3339 or NULL, text without newline. */
typedef int (*cms_log_line_cb)(const char *stream, const char *time, const char *text,
                               void *userdata);
/* Delivers lines to cb; with o->follow it runs until the container stops, cb returns nonzero or
 * should_stop says so. Returns 0 when the logs ended normally. */
int cms_containers_logs(struct cms_manager *m, const char *id, const struct cms_logs_opts *o,
                        cms_log_line_cb cb, cms_engine_stop_cb should_stop, void *userdata,
                        struct cms_error *err);
/* The same for a swarm service (its tasks' lines, as GET /services/{id}/logs gives them). */
int cms_service_logs(struct cms_manager *m, const char *id, const struct cms_logs_opts *o,
                     cms_log_line_cb cb, cms_engine_stop_cb should_stop, void *userdata,
                     struct cms_error *err);
/* body: {"command":[..], "env":{}, "workdir", "user", "stdin"} -> {"exit_code","stdout","stderr"} */
int cms_containers_exec(struct cms_manager *m, const char *id, json_object *body,
                        json_object **out, struct cms_error *err);
int cms_containers_health(struct cms_manager *m, const char *id, json_object **out,
                          struct cms_error *err);
/* ContainerConfig + "replace", "wait_healthy", "pull" -> {"id","name","state","health"} */
int cms_deploy(struct cms_manager *m, const struct cms_caller *who, json_object *body,
               json_object **out, struct cms_error *err);

/* ---- compose projects (projects/) ---- */
/* -> [{"name","status","containers","running","services","stored","working_dir"}] */
int cms_projects_list(struct cms_manager *m, json_object **out, struct cms_error *err);
/* POST /v1/projects body (API.md) -> {"name","containers","networks","volumes","images",
 * "warnings"}; *status 201 when the project had no containers before, else 200. */
int cms_projects_up(struct cms_manager *m, const struct cms_caller *who, json_object *body,
                    int *status, json_object **out,
                    struct cms_error *err);
/* up again from the stored file; body: the options (may be NULL). */
int cms_projects_up_stored(struct cms_manager *m, const struct cms_caller *who, const char *name,
                           json_object *body,
                           json_object **out, struct cms_error *err);
/* body {"web": 3}: only those services are touched; the scale is stored. */
int cms_projects_scale(struct cms_manager *m, const struct cms_caller *who, const char *name,
                       json_object *body,
                       json_object **out, struct cms_error *err);
/* build: every service with a build section; else pull every service without one. */
int cms_projects_images_op(struct cms_manager *m, const struct cms_caller *who, const char *name,
                           bool build,
                           json_object **out, struct cms_error *err);
int cms_projects_config(struct cms_manager *m, const char *name, json_object **out,
                        struct cms_error *err);
int cms_projects_ps(struct cms_manager *m, const char *name, json_object **out,
                    struct cms_error *err);
/* body {"volumes","remove_orphans","timeout"} (may be NULL) */
int cms_projects_down(struct cms_manager *m, const char *name, json_object *body,
                      json_object **out, struct cms_error *err);
/* start, stop or restart; timeout_s < 0: 10 s. */
int cms_projects_action(struct cms_manager *m, const char *name, enum cms_action a, int timeout_s,
                        json_object **out, struct cms_error *err);
/* One log line of a project: time NULL unless asked for. Nonzero stops. */
typedef int (*cms_project_log_cb)(const char *service, const char *container, const char *stream,
                                  const char *time, const char *text, void *userdata);
/* service may be NULL (all). Without o->follow, lines come merged in time order. */
int cms_projects_logs(struct cms_manager *m, const char *name, const char *service,
                      const struct cms_logs_opts *o, cms_project_log_cb cb,
                      cms_engine_stop_cb should_stop, void *userdata, struct cms_error *err);
/* GET /v1/stacks/{name}/logs: its services' lines (service may be NULL: all), merged as a
 * project's are; the "container" a line names is the swarm service. */
int cms_stacks_logs(struct cms_manager *m, const char *name, const char *service,
                    const struct cms_logs_opts *o, cms_project_log_cb cb,
                    cms_engine_stop_cb should_stop, void *ud, struct cms_error *err);

/* ---- networks (images/networks.c) ---- */
/* labels: "k" or "k=v" filters, NULL-terminated, may be NULL. */
int cms_networks_list(struct cms_manager *m, const char *const *labels, json_object **out,
                      struct cms_error *err);
/* body: {"name","driver","subnet","gateway","ip_range","internal","labels","options"}
 * -> the new network's summary + "warnings". */
int cms_networks_create(struct cms_manager *m, const struct cms_caller *who, json_object *body,
                        json_object **out,
                        struct cms_error *err);
/* Summary with "containers" + "raw". */
int cms_networks_inspect(struct cms_manager *m, const char *id, json_object **out,
                         struct cms_error *err);
int cms_networks_remove(struct cms_manager *m, const char *id, json_object **out,
                        struct cms_error *err);
/* body: {"container","ip_address"?,"aliases"?} */
int cms_networks_connect(struct cms_manager *m, const char *id, json_object *body,
                         json_object **out, struct cms_error *err);
/* body: {"container","force"?} */
int cms_networks_disconnect(struct cms_manager *m, const char *id, json_object *body,
                            json_object **out, struct cms_error *err);
/* -> {"networks":[names]} */
int cms_networks_prune(struct cms_manager *m, const char *const *labels, json_object **out,
                       struct cms_error *err);

/* ---- volumes (images/volumes.c) ---- */
int cms_volumes_list(struct cms_manager *m, const char *const *labels, bool dangling_only,
                     json_object **out, struct cms_error *err);
/* body: {"name","driver","options","labels"}; a name in use is 409. */
int cms_volumes_create(struct cms_manager *m, const struct cms_caller *who, json_object *body,
                       json_object **out,
                       struct cms_error *err);
int cms_volumes_inspect(struct cms_manager *m, const char *name, json_object **out,
                        struct cms_error *err);
int cms_volumes_remove(struct cms_manager *m, const char *name, bool force, json_object **out,
                       struct cms_error *err);
/* -> {"volumes":[names],"space_reclaimed":n} */
int cms_volumes_prune(struct cms_manager *m, const char *const *labels, json_object **out,
                      struct cms_error *err);

/* ---- images (images/images.c, transfer.c, build.c) ---- */
struct cms_images_list_opts {
        bool all;                  /* intermediate images too */
        int dangling;              /* -1: no filter, 0/1: only (not) dangling */
        const char *const *labels; /* "k" or "k=v", NULL-terminated, may be NULL */
        const char *reference;     /* "repo" or "repo:tag" pattern, may be NULL */
};
/* -> [{"id","tags","digests","size","created","labels","dangling"}] */
int cms_images_list(struct cms_manager *m, const struct cms_images_list_opts *o, json_object **out,
                    struct cms_error *err);
/* 1 when the engine has the image, 0 when not (404), <0 on other failures. */
int cms_image_present(struct cms_manager *m, const char *ref, struct cms_error *err);
/* ref: a reference or an image id. Summary + "raw". */
int cms_images_inspect(struct cms_manager *m, const char *ref, json_object **out,
                       struct cms_error *err);
/* -> [{"id","created","created_by","size","tags","comment"}], newest first */
int cms_images_history(struct cms_manager *m, const char *ref, json_object **out,
                       struct cms_error *err);
/* body {"target":"repo:tag"} -> {"source","target","id"} */
int cms_images_tag(struct cms_manager *m, const char *ref, json_object *body, json_object **out,
                   struct cms_error *err);
/* -> {"untagged":[refs],"deleted":[ids]}; in use without force -> 409 */
int cms_images_remove(struct cms_manager *m, const char *ref, bool force, bool noprune,
                      json_object **out, struct cms_error *err);
/* body {"all": bool} (may be NULL) -> {"images":[ids],"untagged":[refs],"space_reclaimed":n} */
int cms_images_prune(struct cms_manager *m, json_object *body, const char *const *labels,
                     json_object **out, struct cms_error *err);

/* Progress of a pull, push or build, as the engine reports it. */
struct cms_progress {
        const char *id;         /* layer id; NULL when the line has none */
        const char *status;     /* "Downloading", "Pushed"...; a build output line when output */
        int64_t current, total; /* bytes; -1 when not known */
        bool output;            /* a line of build output (status holds the text) */
};
/* Nonzero ends the operation (the client left). */
typedef int (*cms_progress_cb)(const struct cms_progress *p, void *userdata);

/* GET /v1/images/{ref}/sbom (images/sbom.c): the image's CycloneDX 1.5 document, read from the
 * engine's export of it, or from state_dir/sbom/ when made before for the same image id
 * (*cached then true). 404 for an unknown image, 422 for an export that cannot be read. */
int cms_images_sbom(struct cms_manager *m, const char *ref, json_object **out, bool *cached,
                    struct cms_error *err);
/* The same telling cb (may be NULL) how much of the export was read ("id": "sbom"). */
int cms_images_sbom_progress(struct cms_manager *m, const char *ref, cms_progress_cb cb, void *ud,
                             json_object **out, bool *cached, struct cms_error *err);
/* The engine's export of image id (a docker-archive tar) written to fd, cb told the bytes
 * ("id": "export", total: size when > 0); for the external scanners (images/sbom.c). */
int cms_images_save_fd(struct cms_manager *m, const char *id, int64_t size, int fd,
                       cms_progress_cb cb, void *ud, struct cms_error *err);
/* The image scanner (images/scan.c). POST /v1/images/{ref}/scan: body {"severity",
 * "scanner", "ignore_unfixed"}; the builtin scanner matches the SBOM against state_dir/vulndb
 * (409 when nothing was imported), trivy/grype run the tool on the saved image (501 when it is
 * not on PATH, 502 scanner_failed with its message when it fails); the result is cached per
 * image id for cms_images_scan_get (404 when none). cb (may be NULL) hears each step. */
int cms_images_scan(struct cms_manager *m, const char *ref, json_object *body, json_object **out,
                    struct cms_error *err);
int cms_images_scan_progress(struct cms_manager *m, const char *ref, json_object *body,
                             cms_progress_cb cb, void *ud, json_object **out,
                             struct cms_error *err);
/* The body's checks alone (400), before a stream starts. */
int cms_images_scan_check(json_object *body, struct cms_error *err);
/* deploy's and project up's scan.fail_on (scan/match.h): scans ref and refuses with 409
 * vulnerabilities_found (the summary in the message) when it has findings at or above it. */
struct cms_scan_gate;
int cms_images_scan_gate(struct cms_manager *m, const char *ref, const struct cms_scan_gate *g,
                         struct cms_error *err);
/* The cached scan results (state_dir/scan/) for /metrics: calls fn with each result's image
 * (the name it was last scanned as) and summary, under a lock (fn must not call back). */
void cms_images_scan_each(struct cms_manager *m,
                          void (*fn)(const char *image, json_object *summary, void *ud), void *ud);
int cms_images_scan_get(struct cms_manager *m, const char *ref, json_object **out,
                        struct cms_error *err);
/* GET /v1/vulndb; POST /v1/vulndb from an archive read from read(ud), or {"path"} on this host
 * (a directory of OSV JSON files or an archive file). */
int cms_images_vulndb_status(struct cms_manager *m, json_object **out, struct cms_error *err);
int cms_images_vulndb_import_stream(struct cms_manager *m,
                                    ssize_t (*read)(char *buf, size_t max, void *ud), void *ud,
                                    json_object **out, struct cms_error *err);
int cms_images_vulndb_import(struct cms_manager *m, json_object *body, json_object **out,
                             struct cms_error *err);
/* Validates a pull body {"image","tag"?,"auth"?} without touching the engine. */
int cms_images_pull_check(json_object *body, struct cms_error *err);
/* Pulls; failures reported inside the engine's progress stream come back as errors with the
 * registry's reason (404 for an unknown image, 502 otherwise). cb/should_stop may be NULL.
 * -> {"image","id","digests"} */
int cms_images_pull(struct cms_manager *m, json_object *body, cms_progress_cb cb,
                    cms_engine_stop_cb should_stop, void *userdata, json_object **out,
                    struct cms_error *err);
/* The deploy path: pull image (a reference), no credentials. */
int cms_images_pull_ref(struct cms_manager *m, const char *image, struct cms_error *err);
/* The same with credentials as POST /v1/images/pull's "auth" (NULL: none), for a create that
 * pulls its image; errors as cms_images_pull's. Ends early (503) when cmsd shuts down. */
int cms_images_pull_ref_auth(struct cms_manager *m, const char *image, json_object *auth,
                             struct cms_error *err);
/* Validates a push (the body {"tag"?,"auth"?}, the local image exists) before any progress. */
int cms_images_push_check(struct cms_manager *m, const char *ref, json_object *body,
                          struct cms_error *err);
/* -> {"image","digest","size"} */
int cms_images_push(struct cms_manager *m, const char *ref, json_object *body, cms_progress_cb cb,
                    cms_engine_stop_cb should_stop, void *userdata, json_object **out,
                    struct cms_error *err);

struct cms_build_opts {
        const char *const *tags;      /* "repo:tag", NULL-terminated, may be NULL */
        const char *dockerfile;       /* path inside the context, NULL: "Dockerfile" */
        const char *const *buildargs; /* "K=V" */
        const char *const *labels;    /* "K=V" */
        const char *target;           /* multi-stage target, NULL: the last stage */
        bool nocache, pull;
};
/* Validates the options without touching the engine. */
int cms_images_build_check(const struct cms_build_opts *o, struct cms_error *err);
/* Builds from the tar (optionally gzip/bzip2/xz) read through read_cb, streamed to the engine.
 * A body that is no archive -> 400; a failing step -> 400 with the step's output.
 * -> {"id","tags"} */
int cms_images_build(struct cms_manager *m, const struct cms_build_opts *o,
                     cms_engine_read_cb read_cb, void *read_ud, cms_progress_cb cb,
                     cms_engine_stop_cb should_stop, void *userdata, json_object **out,
                     struct cms_error *err);
