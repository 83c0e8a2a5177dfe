/* What sampler.c, table.c, watch.c and snapshot.c share and nothing else may use: the sampler
 * object, the per-container record and the operations on the container set.
 * Lock order: s->lock before c->lock; neither is ever held across engine or file I/O. */
#pragma once

#include <pthread.h>
#include <time.h>

#include "sampler.h"

struct cms_sampler_ctr {
        atomic_int refs;
        pthread_mutex_t lock;
        /* Under lock: */
        struct cms_ctr_info info;
        struct cms_ring *ring;
        int pid;                      /* the container's init; 0 when not running */
        struct cms_cgroup_spec espec; /* the limits as the engine last stated them */
        /* Set by the syncer when pid or limits changed; the sampler reopens the cgroup. */
        atomic_bool reattach;
        /* The sampler thread's own: */
        struct cms_cgroup *cg;
        int misses;      /* cgroup opens that found nothing, in a row */
        unsigned extra_rounds;
        bool use_engine; /* cgroups not readable: the engine's stats API */
        int64_t next_try_ms;
};

enum { T_SAMPLER, T_WATCH, T_SYNC, T_FS, T_COUNT };

#define CMS_SAMPLER_MAX_CONTAINERS 65536
#define CMS_SAMPLER_QUEUE          4096

struct cms_sampler {
        struct cms_engine *engine;
        int64_t interval_ms, history_ms;
        size_t capacity; /* samples per ring */
        char *state_dir;
        bool remote; /* the engine is not on this host: its cgroups are not ours to read */
        int forced;  /* CMSD_SAMPLER_MODE: 0 auto, 1 cgroup only, 2 engine only */
        const char *sys_root, *proc_root;
        bool container_labels;  /* the engine's labels as container_label_* */
        size_t max_labels;      /* at most this many of them per container */
        int64_t fs_interval_ms; /* writable layer sizes: how often (0: never) */
        long fs_timeout_ms;     /* and the cap on one engine call */

        pthread_mutex_t lock; /* v, n, stop, generation, fs_* */
        pthread_cond_t wake;  /* stop requests */
        pthread_cond_t tick;  /* a round finished */
        struct cms_sampler_ctr **v;
        size_t n, cap;
        bool stop;
        uint64_t generation;
        bool host_known;     /* the next four, once the engine answered /info */
        char fs_device[128]; /* the engine root's filesystem: container_fs_* device label */
        uint64_t fs_limit;   /* and its size; 0: unknown (a remote engine) */
        int64_t machine_cores;
        uint64_t machine_memory;
        char boot_id[64], machine_id[64]; /* "" for a remote engine */

        pthread_t threads[T_COUNT];
        bool started[T_COUNT];
        atomic_uint_fast64_t cpu_ns[T_COUNT];
        atomic_uint_fast64_t helper_cpu_ns; /* engine-mode helpers, summed when they end */

        /* Ids the syncer must inspect, and whether it must list everything again. */
        pthread_mutex_t qlock;
        pthread_cond_t qcond;
        char (*queue)[65];
        size_t qn;
        bool reconcile_now;

        atomic_uint_fast64_t samples_total;
        atomic_uint_fast64_t round_ns;
        atomic_int n_cgroup, n_engine;
};

/* The files' order, lowest first; a file calls only those before it:
 *   table.c  watch.c  fsusage.c  snapshot.c  sampler.c (labels.c and tasks.c are leaves) */

/* table.c */
struct cms_sampler_ctr *cms_sampler_get_or_add(struct cms_sampler *s, const char *id);
void cms_sampler_remove(struct cms_sampler *s, const char *id);
/* Running or paused (what a live-only list keeps). */
bool cms_sampler_ctr_live(struct cms_sampler_ctr *c);
/* The ids held, for the reconcile; free the array. */
char (*cms_sampler_ids(struct cms_sampler *s, size_t *n))[65];
void cms_sampler_note_cpu(struct cms_sampler *s, int which);
/* Sleeps up to ms unless stopping; returns true when stopping. */
bool cms_sampler_sleep(struct cms_sampler *s, int64_t ms);

/* watch.c */
void *cms_sampler_watch_main(void *arg);
void *cms_sampler_sync_main(void *arg);
void cms_sampler_enqueue(struct cms_sampler *s, const char *id);
/* One sample through the engine's stats API (fallback mode). */
int cms_sampler_engine_sample(struct cms_sampler *s, const char *id, struct cms_sample *out,
                              struct cms_netdev *ifs, size_t *n_ifs);
/* Parses an engine stats document (Docker or Podman) into a sample; exposed for tests. */
void cms_stats_from_engine(json_object *st, struct cms_sample *out, struct cms_netdev *ifs,
                           size_t max, size_t *n_ifs);

/* fsusage.c: the thread that learns the host facts and asks the engine for the writable
 * layers' sizes. */
void *cms_sampler_fs_main(void *arg);

/* snapshot.c */
int cms_sampler_snapshot_save(struct cms_sampler *s, struct cms_error *err);
/* Loads state_dir's snapshot into the set. 0 (also when there is none), or negative with err
 * saying why it was refused. *loaded: containers restored. */
int cms_sampler_snapshot_load(struct cms_sampler *s, size_t *loaded, struct cms_error *err);
