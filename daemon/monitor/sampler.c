/* The sampler thread (see sampler.h), the top of monitor/: it starts the event watcher and the
 * syncer (watch.c), loads and saves the snapshot (snapshot.c) and samples the container set
 * (table.c) through cgroup.c or the engine. Each round copies the list of live containers, reads
 * each one's cgroup files with no lock held, then takes the container's lock only to push the
 * sample into its ring. Readers copy under the same short lock, so neither side ever waits on the
 * other's I/O. */
#include "sampler_internal.h"

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../log.h"

/* A container whose cgroup was not found this many times in a row is sampled through the
 * engine instead (cmsd in another pid namespace, rootless engines). */
#define MAX_MISSES      3
#define ENGINE_RETRY_MS 60000
#define FANOUT          16
/* The extras (processes, open files, task states, memory details) cost a few syscalls per task:
 * read every EXTRA_EVERY rounds (5 s at the default interval). */
#define EXTRA_EVERY 5
/* Memory freed by requests and reconciles stays in glibc's arenas until trimmed: 3-4 MB here at
 * 300 containers, idle or after a burst of large list replies. The sampler gives it back once
 * in a while (a trim takes well under a millisecond at this size). Idle at 300 containers the
 * arenas held 7.6 MB of which 3.6 MB in use 35 s after a trim (malloc_stats): the rounds' own
 * transient blocks, ~1 MB of them back within 5 s of a trim; every 10 s keeps idle RSS at
 * 16-17 MB instead of up to 18.6 (issue 16). */
#define TRIM_FIRST_MS 10000
#define TRIM_EVERY_MS 10000

static void store(struct cms_sampler *s, struct cms_sampler_ctr *c, const struct cms_sample *smp,
                  const struct cms_netdev *ifs, size_t n_ifs, bool engine);

/* (Re)opens c's cgroup when its pid changed or an earlier try failed. The sampler thread's. */
static void attach(struct cms_sampler *s, struct cms_sampler_ctr *c, int64_t now)
{
        bool again = atomic_exchange(&c->reattach, false);
        if (!again && (c->cg || (c->use_engine && now < c->next_try_ms)))
                return;
        cms_cgroup_close(c->cg);
        c->cg = NULL;
        if (again)
                c->misses = 0;
        pthread_mutex_lock(&c->lock);
        int pid = c->pid;
        pthread_mutex_unlock(&c->lock);
        if (s->remote || s->forced == 2) {
                c->use_engine = true;
                c->next_try_ms = INT64_MAX;
                return;
        }
        int r = cms_cgroup_open(s->sys_root, s->proc_root, pid, &c->cg);
        if (r == 0) {
                struct cms_cgroup_spec spec;
                cms_cgroup_read_spec(c->cg, &spec);
                pthread_mutex_lock(&c->lock);
                c->info.spec = spec;
                snprintf(c->info.cg_path, sizeof(c->info.cg_path), "%s", cms_cgroup_path(c->cg));
                c->info.engine_mode = false;
                pthread_mutex_unlock(&c->lock);
                c->use_engine = false;
                c->misses = 0;
                return;
        }
        /* Not readable, or not there (again and again): the engine will tell instead. */
        if (pid > 0 && s->forced != 1 && (r != -ENOENT || ++c->misses >= MAX_MISSES)) {
                if (!c->use_engine)
                        log_info("sampler: cgroup of %.12s not readable (%s); using the engine's "
                                 "stats API for it",
                                 c->info.id, strerror(-r));
                c->use_engine = true;
                c->next_try_ms = now + ENGINE_RETRY_MS;
        }
}

/* One container's sample, with no lock held. engine: sample through the engine's stats API
 * (a blocking call; the caller runs those on helper threads). */
static int sample_one(struct cms_sampler *s, struct cms_sampler_ctr *c, bool engine,
                      struct cms_sample *smp, struct cms_netdev *ifs, size_t *n_ifs)
{
        memset(smp, 0, sizeof(*smp));
        *n_ifs = 0;
        smp->t_ms = cms_wall_ms();
        int r;
        if (!engine) {
                r = cms_cgroup_read(c->cg, smp);
                if (r < 0) {
                        /* Gone mid-read (stopped, restarted): the syncer will catch up. */
                        cms_cgroup_close(c->cg);
                        c->cg = NULL;
                        return r;
                }
                cms_cgroup_read_net(c->cg, ifs, CMS_NET_MAX_IFACES, n_ifs, smp);
        } else if ((r = cms_sampler_engine_sample(s, c->info.id, smp, ifs, n_ifs)) < 0) {
                return r;
        }
        pthread_mutex_lock(&c->lock);
        smp->v[CMS_F_MEM_LIMIT] = c->info.spec.mem_limit;
        smp->v[CMS_F_PIDS_LIMIT] = c->info.spec.pids_limit;
        pthread_mutex_unlock(&c->lock);
        return 0;
}

static void store(struct cms_sampler *s, struct cms_sampler_ctr *c, const struct cms_sample *smp,
                  const struct cms_netdev *ifs, size_t n_ifs, bool engine)
{
        pthread_mutex_lock(&c->lock);
        int r = cms_ring_push(c->ring, smp);
        struct cms_ring *fresh = NULL;
        if (r == -EINVAL && cms_ring_new(s->capacity, s->interval_ms, &fresh) == 0) {
                /* The wall clock went back: older history cannot take newer-stamped samples
                 * behind it. Start the ring again rather than stop recording. */
                cms_ring_free(c->ring);
                c->ring = fresh;
                c->info.has_latest = false;
                r = cms_ring_push(c->ring, smp);
        }
        if (r == 0) {
                c->info.prev = c->info.latest;
                c->info.has_prev = c->info.has_latest;
                c->info.latest = *smp;
                c->info.has_latest = true;
                memcpy(c->info.ifs, ifs, n_ifs * sizeof(*ifs));
                c->info.n_ifs = n_ifs;
                c->info.engine_mode = engine;
        }
        pthread_mutex_unlock(&c->lock);
}

/* The extras of a cgroup-sampled container, into its info; the fs fields are the syncer's. */
static void read_extra(struct cms_sampler *s, struct cms_sampler_ctr *c)
{
        struct cms_ctr_extra x = {0};
        if (cms_cgroup_read_extra(c->cg, s->proc_root, &x) < 0)
                return;
        pthread_mutex_lock(&c->lock);
        x.has_fs = c->info.extra.has_fs;
        x.fs_usage = c->info.extra.fs_usage;
        c->info.extra = x;
        pthread_mutex_unlock(&c->lock);
}

/* Engine-mode samples of one round, shared by the helper threads. */
struct fanout {
        struct cms_sampler *s;
        struct cms_sampler_ctr **v;
        size_t n;
        atomic_size_t next, done;
};

static void *fanout_main(void *arg)
{
        struct fanout *f = arg;
        size_t i;
        while ((i = atomic_fetch_add(&f->next, 1)) < f->n) {
                struct cms_sample smp;
                struct cms_netdev ifs[CMS_NET_MAX_IFACES];
                size_t n_ifs = 0;
                if (sample_one(f->s, f->v[i], true, &smp, ifs, &n_ifs) == 0) {
                        store(f->s, f->v[i], &smp, ifs, n_ifs, true);
                        atomic_fetch_add(&f->done, 1);
                }
        }
        struct timespec ts;
        if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
                atomic_fetch_add(&f->s->helper_cpu_ns,
                                 (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
        return NULL;
}

/* The engine's stats call blocks up to a second (Docker waits for its next collection tick),
 * so containers sampled that way are done in parallel, FANOUT at a time. */
static size_t engine_round(struct cms_sampler *s, struct cms_sampler_ctr **v, size_t n)
{
        struct fanout f = {.s = s, .v = v, .n = n};
        pthread_t t[FANOUT];
        size_t k = 0;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        for (; k < FANOUT && k < n; k++)
                if (pthread_create(&t[k], &attr, fanout_main, &f) != 0)
                        break;
        pthread_attr_destroy(&attr);
        if (k == 0)
                fanout_main(&f); /* no thread to be had: do them here */
        for (size_t i = 0; i < k; i++)
                pthread_join(t[i], NULL);
        return atomic_load(&f.done);
}

static void round_once(struct cms_sampler *s)
{
        struct cms_sampler_ctr **v = NULL, **eng = NULL;
        size_t n = 0, done = 0, n_eng = 0;
        int n_cg = 0;
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        if (cms_sampler_list(s, false, &v, &n) < 0)
                return;
        eng = calloc(n + 1, sizeof(*eng));
        int64_t now = cms_now_ms();
        for (size_t i = 0; i < n && eng; i++) {
                struct cms_sampler_ctr *c = v[i];
                if (!cms_sampler_ctr_live(c)) {
                        /* Stopped: its cgroup is gone; do not keep its files open. */
                        cms_cgroup_close(c->cg);
                        c->cg = NULL;
                        continue;
                }
                attach(s, c, now);
                if (!c->cg) {
                        if (c->use_engine)
                                eng[n_eng++] = c;
                        continue;
                }
                struct cms_sample smp;
                struct cms_netdev ifs[CMS_NET_MAX_IFACES];
                size_t n_ifs = 0;
                if (sample_one(s, c, false, &smp, ifs, &n_ifs) < 0)
                        continue;
                store(s, c, &smp, ifs, n_ifs, false);
                /* Spread over the rounds by the id's first digit, not all in the same one. */
                if ((c->extra_rounds++ + (unsigned char)c->info.id[0]) % EXTRA_EVERY == 0)
                        read_extra(s, c);
                n_cg++;
                done++;
        }
        if (n_eng)
                done += engine_round(s, eng, n_eng);
        free(eng);
        cms_sampler_list_free(v, n);
        clock_gettime(CLOCK_MONOTONIC, &b);
        atomic_store(&s->round_ns,
                     (uint64_t)((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec)));
        atomic_fetch_add(&s->samples_total, done);
        atomic_store(&s->n_cgroup, n_cg);
        atomic_store(&s->n_engine, (int)n_eng);
        cms_sampler_note_cpu(s, T_SAMPLER);
        pthread_mutex_lock(&s->lock);
        s->generation++;
        pthread_cond_broadcast(&s->tick);
        pthread_mutex_unlock(&s->lock);
}

static void *sampler_main(void *arg)
{
        struct cms_sampler *s = arg;
        /* Rounds start on interval boundaries of the monotonic clock, so a slow round does not
         * shift every later one. */
        int64_t next = cms_now_ms(), next_trim = next + TRIM_FIRST_MS;
        for (;;) {
                round_once(s);
                if (cms_now_ms() >= next_trim) {
                        malloc_trim(0);
                        next_trim = cms_now_ms() + TRIM_EVERY_MS;
                }
                next += s->interval_ms;
                int64_t now = cms_now_ms();
                if (next <= now) /* late (engine-mode calls take ~1 s): go again soon */
                        next = now + s->interval_ms / 10;
                if (cms_sampler_sleep(s, next - now))
                        break;
        }
        return NULL;
}

static void raise_nofile(void)
{
        /* Each sampled container keeps about a dozen files open; 1024 (systemd's default soft
         * limit) would run out near 80 containers. */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
}

static int start_thread(struct cms_sampler *s, int which, void *(*fn)(void *))
{
        static const char *const names[T_COUNT] = {"cmsd-sampler", "cmsd-watch", "cmsd-sync",
                                                   "cmsd-fs"};
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 512 * 1024);
        int r = pthread_create(&s->threads[which], &attr, fn, s);
        pthread_attr_destroy(&attr);
        s->started[which] = r == 0;
        if (r == 0) /* for top -H, perf and /proc/<pid>/task */
                pthread_setname_np(s->threads[which], names[which]);
        return r == 0 ? 0 : -r;
}

static void sampler_free(struct cms_sampler *s)
{
        for (size_t i = 0; i < s->n; i++)
                cms_sampler_ctr_unref(s->v[i]);
        free(s->v);
        free(s->queue);
        free(s->state_dir);
        pthread_cond_destroy(&s->qcond);
        pthread_mutex_destroy(&s->qlock);
        pthread_cond_destroy(&s->tick);
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->lock);
        free(s);
}

static void init_sync(struct cms_sampler *s)
{
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->wake, &ca);
        pthread_cond_init(&s->tick, &ca);
        pthread_mutex_init(&s->qlock, NULL);
        pthread_cond_init(&s->qcond, &ca);
        pthread_condattr_destroy(&ca);
}

int cms_sampler_start(struct cms_engine *e, const struct cms_config *cfg, const char *state_dir,
                      struct cms_sampler **out, struct cms_error *err)
{
        struct cms_sampler *s = calloc(1, sizeof(*s));
        if (!s || !(s->queue = calloc(CMS_SAMPLER_QUEUE, sizeof(*s->queue))) ||
            !(s->state_dir = strdup(state_dir ? state_dir : ""))) {
                if (s)
                        free(s->queue);
                free(s);
                return cms_err(err, 500, "out of memory");
        }
        init_sync(s);
        s->engine = e;
        s->interval_ms = cfg->sampler_interval_ms > 0 ? cfg->sampler_interval_ms : 1000;
        s->history_ms = cfg->sampler_history_ms;
        s->capacity = (size_t)(s->history_ms / s->interval_ms);
        if (s->capacity < 1)
                s->capacity = 1;
        s->remote = !cms_str_has_prefix(cms_engine_url(e), "unix:");
        const char *mode = getenv("CMSD_SAMPLER_MODE");
        s->forced = mode && !strcmp(mode, "cgroup") ? 1 : mode && !strcmp(mode, "engine") ? 2 : 0;
        s->sys_root = getenv("CMSD_CGROUP_ROOT") ? getenv("CMSD_CGROUP_ROOT") : "/sys/fs/cgroup";
        s->proc_root = "/proc";
        s->container_labels = cfg->sampler_container_labels;
        s->max_labels = (size_t)cfg->sampler_max_container_labels;
        s->fs_interval_ms = cfg->sampler_fs_interval_ms;
        s->fs_timeout_ms = (long)cfg->sampler_fs_timeout_ms;
        raise_nofile();

        size_t loaded = 0;
        struct cms_error lerr = {0};
        if (cms_sampler_snapshot_load(s, &loaded, &lerr) < 0)
                log_warn("sampler: metrics snapshot refused: %s", lerr.message);
        else if (loaded)
                log_info("sampler: history of %zu containers restored from %s", loaded,
                         s->state_dir);
        s->reconcile_now = true;
        int r = start_thread(s, T_SAMPLER, sampler_main);
        if (r == 0)
                r = start_thread(s, T_WATCH, cms_sampler_watch_main);
        if (r == 0)
                r = start_thread(s, T_SYNC, cms_sampler_sync_main);
        if (r == 0)
                r = start_thread(s, T_FS, cms_sampler_fs_main);
        if (r < 0) {
                cms_sampler_stop(s);
                return cms_err(err, 500, "cannot start the sampler threads: %s", strerror(-r));
        }
        log_info("sampler: every %" PRId64 " ms, %zu samples per container, %s", s->interval_ms,
                 s->capacity, s->remote || s->forced == 2 ? "engine stats API" : "cgroup files");
        *out = s;
        return 0;
}

void cms_sampler_stop(struct cms_sampler *s)
{
        if (!s)
                return;
        pthread_mutex_lock(&s->lock);
        s->stop = true;
        pthread_cond_broadcast(&s->wake);
        pthread_cond_broadcast(&s->tick);
        pthread_mutex_unlock(&s->lock);
        pthread_mutex_lock(&s->qlock);
        pthread_cond_broadcast(&s->qcond);
        pthread_mutex_unlock(&s->qlock);
        bool all = true;
        for (int i = 0; i < T_COUNT; i++) {
                if (s->started[i])
                        pthread_join(s->threads[i], NULL);
                all = all && s->started[i];
        }
        if (all) {
                struct cms_error err = {0};
                if (cms_sampler_snapshot_save(s, &err) < 0)
                        log_warn("sampler: metrics snapshot not saved: %s", err.message);
        }
        sampler_free(s);
}

void cms_sampler_status(struct cms_sampler *s, struct cms_sampler_status *st)
{
        memset(st, 0, sizeof(*st));
        if (!s) {
                st->mode = "none";
                return;
        }
        int cg = atomic_load(&s->n_cgroup), eng = atomic_load(&s->n_engine);
        st->running = true;
        if (cg + eng == 0)
                st->mode = s->remote || s->forced == 2 ? "engine" : "cgroup";
        else
                st->mode = eng == 0 ? "cgroup" : cg == 0 ? "engine" : "mixed";
        st->interval_ms = s->interval_ms;
        st->history_ms = s->history_ms;
        st->samples_total = atomic_load(&s->samples_total);
        uint64_t ns = 0;
        for (int i = 0; i < T_COUNT; i++)
                ns += atomic_load(&s->cpu_ns[i]);
        ns += atomic_load(&s->helper_cpu_ns);
        st->cpu_seconds = (double)ns / 1e9;
        st->round_seconds = (double)atomic_load(&s->round_ns) / 1e9;
        pthread_mutex_lock(&s->lock);
        st->generation = s->generation;
        snprintf(st->fs_device, sizeof(st->fs_device), "%s", s->fs_device);
        st->fs_limit = s->fs_limit;
        st->machine_cores = s->machine_cores;
        st->machine_memory = s->machine_memory;
        snprintf(st->boot_id, sizeof(st->boot_id), "%s", s->boot_id);
        snprintf(st->machine_id, sizeof(st->machine_id), "%s", s->machine_id);
        for (size_t i = 0; i < s->n; i++) {
                struct cms_sampler_ctr *c = s->v[i];
                pthread_mutex_lock(&c->lock);
                st->ring_bytes += cms_ring_mem_bytes(c->ring);
                st->ring_data_bytes += cms_ring_data_bytes(c->ring);
                st->ring_samples += cms_ring_count(c->ring);
                if (c->info.state == CMS_CTR_RUNNING || c->info.state == CMS_CTR_PAUSED)
                        st->containers++;
                pthread_mutex_unlock(&c->lock);
        }
        pthread_mutex_unlock(&s->lock);
}

uint64_t cms_sampler_wait(struct cms_sampler *s, uint64_t gen, int64_t timeout_ms)
{
        struct timespec ts = cms_deadline(CLOCK_MONOTONIC, timeout_ms);
        pthread_mutex_lock(&s->lock);
        while (!s->stop && s->generation == gen &&
               pthread_cond_timedwait(&s->tick, &s->lock, &ts) == 0)
                ;
        uint64_t g = s->generation;
        pthread_mutex_unlock(&s->lock);
        return g;
}
