/* daemon/monitor/: the stats sampler and what it is built of: ring.c (pure), cgroup.c, export.c
 * (Prometheus and JSON renderings), table.c < watch.c, snapshot.c < sampler.c. It may call
 * engine/ and daemon's helpers; the manager starts it and the metrics handlers read it.
 *
 * The stats sampler: keeps the set of running containers current from the engine's event stream
 * (plus a periodic reconcile), samples each one every interval from its cgroup files (or, where
 * those are not readable, from the engine's stats API) into a ring per container, and hands
 * readers consistent copies. Threads: the sampler (file reads only), the watcher (the engine's
 * /events stream) and the syncer (inspect/list calls). Rings are saved to state_dir when the
 * sampler stops and loaded when it starts. */
#pragma once

#include <stdatomic.h>

#include "../config.h"
#include "../engine/engine.h"
#include "export.h"

struct cms_sampler;
struct cms_sampler_ctr; /* a counted reference to one container's record */

/* Starts the threads (they do the engine calls; this does none). A snapshot in state_dir (the
 * engine's: cms_manager_state_dir) is loaded first; a refused one is named in the log. */
int cms_sampler_start(struct cms_engine *e, const struct cms_config *cfg, const char *state_dir,
                      struct cms_sampler **out, struct cms_error *err);
/* Stops and joins the threads, then writes the snapshot (temp file, fsync, rename). */
void cms_sampler_stop(struct cms_sampler *s);
/* Writes the snapshot now, with the threads still running: for an exit that cannot stop them. */
int cms_sampler_save(struct cms_sampler *s, struct cms_error *err);

struct cms_sampler_status {
        bool running;
        const char *mode;  /* "cgroup", "engine", "mixed" */
        size_t containers; /* being sampled (running or paused) */
        int64_t interval_ms, history_ms;
        uint64_t samples_total;
        double cpu_seconds;
        uint64_t ring_bytes;      /* allocated */
        uint64_t ring_data_bytes; /* encoded records held */
        uint64_t ring_samples;    /* samples held */
        double round_seconds;
        uint64_t generation; /* rounds done; changes whenever new data is there */
        char fs_device[128]; /* the writable layers' filesystem; "" when unknown */
        uint64_t fs_limit;   /* its size in bytes; 0 when unknown */
        int64_t machine_cores; /* the engine host's; 0 until the engine answered */
        uint64_t machine_memory;
        char boot_id[64], machine_id[64]; /* "" when unknown or remote */
};
void cms_sampler_status(struct cms_sampler *s, struct cms_sampler_status *st);

/* References to the containers held (live_only: running or paused), in a stable order. */
int cms_sampler_list(struct cms_sampler *s, bool live_only, struct cms_sampler_ctr ***out,
                     size_t *n);
void cms_sampler_list_free(struct cms_sampler_ctr **v, size_t n);
/* By full id, name or unique id prefix; NULL when not held (or ambiguous). */
struct cms_sampler_ctr *cms_sampler_find(struct cms_sampler *s, const char *key);
void cms_sampler_ctr_unref(struct cms_sampler_ctr *c);
/* Copies the container's description and latest samples, and with snap (may be NULL) its ring,
 * under the container's lock (a few microseconds). info->prom_labels stays valid as long as the
 * reference c is held. */
int cms_sampler_ctr_read(struct cms_sampler_ctr *c, struct cms_ctr_info *info,
                         struct cms_ring_snap *snap);

/* Waits until a sampling round newer than gen has finished, at most timeout_ms; returns the
 * current generation. */
uint64_t cms_sampler_wait(struct cms_sampler *s, uint64_t gen, int64_t timeout_ms);
