/* The managers: the handlers' one entry point. struct cms_manager owns the engine client and the
 * live configuration; the container/system managers translate between cmsd's model and the
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

struct cms_manager {
        struct cms_engine *engine;
        struct cms_housekeeping *housekeeping; /* engine re-probes, Podman's health checks */
        pthread_rwlock_t cfg_lock;
        struct cms_config *cfg; /* swapped on reload, under cfg_lock */
        int64_t started_ms;     /* monotonic */
        time_t started_at;
        atomic_bool draining;   /* shutting down: long operations and streams end early */
};

int cms_manager_new(struct cms_config *cfg, struct cms_manager **out, struct cms_error *err);
void cms_manager_free(struct cms_manager *m);

/* The housekeeping thread (housekeeping.c): re-probes a down engine, runs Podman's health
 * checks where systemd does not. */
int cms_housekeeping_start(struct cms_manager *m, struct cms_housekeeping **out);
void cms_housekeeping_stop(struct cms_housekeeping *h);

/* Replaces the live config (tokens, limits that apply per request); returns the old one, which
 * the caller frees. Settings that need a restart (listen, engine) are kept from the old config
 * and reported in *note (may be NULL). */
struct cms_config *cms_manager_swap_config(struct cms_manager *m, struct cms_config *cfg,
                                           char *note, size_t note_len);
/* Borrow the config for a short read (tokens, limits): lock, read, unlock. */
const struct cms_config *cms_manager_config_rdlock(struct cms_manager *m);
void cms_manager_config_unlock(struct cms_manager *m);

/* ---- system ---- */
json_object *cms_system_health(struct cms_manager *m);
int cms_system_info(struct cms_manager *m, json_object **out, struct cms_error *err);
/* body: {"all": bool, "volumes": bool} (may be NULL). */
int cms_system_prune(struct cms_manager *m, json_object *body, json_object **out,
                     struct cms_error *err);

/* ---- containers ---- */
struct cms_list_opts {
        bool all;
        const char *name;
        const char *const *labels; /* "k=v" or "k", NULL-terminated, may be NULL */
};
int cms_containers_list(struct cms_manager *m, const struct cms_list_opts *o, json_object **out,
                        struct cms_error *err);
int cms_containers_create(struct cms_manager *m, json_object *config, bool start,
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
/* body: {"command":[..], "env":{}, "workdir", "user", "stdin"} -> {"exit_code","stdout","stderr"} */
int cms_containers_exec(struct cms_manager *m, const char *id, json_object *body,
                        json_object **out, struct cms_error *err);
int cms_containers_health(struct cms_manager *m, const char *id, json_object **out,
                          struct cms_error *err);
/* ContainerConfig + "replace", "wait_healthy", "pull" -> {"id","name","state","health"} */
int cms_deploy(struct cms_manager *m, json_object *body, json_object **out, struct cms_error *err);
