/* The sampler's engine side: the watcher thread follows the engine's /events stream and turns
 * container events into work for the syncer thread, which inspects those containers (pid,
 * state, health, names, limits) and every 30 s reconciles the whole set against the engine's
 * list, so a lost event or an engine restart heals by itself. Also the fallback that samples a
 * container through the engine's stats API when its cgroup cannot be read. */
#include "sampler_internal.h"

#include <strings.h>

#include "../log.h"
#include "labels.h"

#define RECONCILE_MS     30000
#define EVENT_LINE_MAX   (1024 * 1024)
#define STATS_TIMEOUT_MS 5000

#define get cms_json_get

static const char *str(json_object *o, const char *key)
{
        json_object *v = get(o, key);
        return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int64_t i64(json_object *o, const char *key)
{
        return json_object_get_int64(get(o, key));
}

static bool stopping(struct cms_sampler *s)
{
        pthread_mutex_lock(&s->lock);
        bool st = s->stop;
        pthread_mutex_unlock(&s->lock);
        return st;
}

/* ---- the syncer's queue ---- */

static void request_reconcile(struct cms_sampler *s)
{
        pthread_mutex_lock(&s->qlock);
        s->reconcile_now = true;
        pthread_cond_signal(&s->qcond);
        pthread_mutex_unlock(&s->qlock);
}

void cms_sampler_enqueue(struct cms_sampler *s, const char *id)
{
        pthread_mutex_lock(&s->qlock);
        bool have = false;
        for (size_t i = 0; i < s->qn && !have; i++)
                have = !strcmp(s->queue[i], id);
        if (!have && s->qn < CMS_SAMPLER_QUEUE)
                snprintf(s->queue[s->qn++], sizeof(s->queue[0]), "%s", id);
        else if (!have)
                s->reconcile_now = true; /* a flood: the list call covers it all */
        pthread_cond_signal(&s->qcond);
        pthread_mutex_unlock(&s->qlock);
}

/* ---- the watcher ---- */

struct watch {
        struct cms_sampler *s;
        struct cms_buf line;
};

static void handle_event(struct cms_sampler *s, json_object *ev)
{
        static const char *const watched[] = {"start",  "restart", "die",     "died",
                                              "stop",   "pause",   "unpause", "rename",
                                              "update", "oom",     NULL};
        const char *type = str(ev, "Type");
        if (type && strcmp(type, "container"))
                return;
        const char *action = str(ev, "Action");
        const char *id = str(get(ev, "Actor"), "ID");
        if (!action)
                action = str(ev, "status");
        if (!id)
                id = str(ev, "id");
        if (!action || !id || strlen(id) != 64)
                return;
        if (!strcmp(action, "destroy") || !strcmp(action, "remove")) {
                cms_sampler_remove(s, id);
                return;
        }
        bool want = cms_str_has_prefix(action, "health_status");
        for (size_t i = 0; watched[i] && !want; i++)
                want = !strcmp(action, watched[i]);
        if (want)
                cms_sampler_enqueue(s, id);
}

static int on_events(const char *data, size_t len, void *ud)
{
        struct watch *w = ud;
        for (size_t i = 0; i < len; i++) {
                if (data[i] != '\n') {
                        if (cms_buf_append(&w->line, &data[i], 1) < 0)
                                w->line.len = 0; /* an absurd line: drop it */
                        continue;
                }
                if (!w->line.len)
                        continue;
                json_object *ev = json_tokener_parse(w->line.data);
                if (ev)
                        handle_event(w->s, ev);
                json_object_put(ev);
                w->line.len = 0;
        }
        return 0;
}

static int watch_should_stop(void *ud)
{
        struct watch *w = ud;
        return stopping(w->s);
}

void *cms_sampler_watch_main(void *arg)
{
        struct cms_sampler *s = arg;
        struct watch w = {.s = s};
        cms_buf_init(&w.line, EVENT_LINE_MAX);
        static const char path[] = "/events?filters=%7B%22type%22%3A%5B%22container%22%5D%7D";
        bool was_down = false;
        while (!stopping(s)) {
                struct cms_engine_req req = {.method = "GET", .path = path, .timeout_ms = -1};
                struct cms_error err = {0};
                w.line.len = 0;
                /* Anything may have happened while no stream was open: list it all again. */
                request_reconcile(s);
                int r = cms_engine_stream(s->engine, &req, on_events, watch_should_stop, &w, &err);
                cms_sampler_note_cpu(s, T_WATCH);
                if (stopping(s))
                        break;
                if (r < 0 && !was_down)
                        log_info("sampler: engine events stream lost (%s); reconnecting",
                                 err.message);
                was_down = r < 0;
                cms_sampler_sleep(s, r < 0 ? 2000 : 500);
        }
        cms_buf_free(&w.line);
        return NULL;
}

/* ---- the syncer ---- */

static int64_t parse_started(const char *s)
{
        struct tm tm = {0};
        if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
                return 0;
        int64_t t = (int64_t)timegm(&tm);
        return t > 0 ? t : 0; /* "0001-01-01T00:00:00Z": never started */
}

static int health_of(const char *h)
{
        if (!h)
                return CMS_HEALTH_NONE;
        if (!strcmp(h, "healthy"))
                return CMS_HEALTH_HEALTHY;
        if (!strcmp(h, "unhealthy"))
                return CMS_HEALTH_UNHEALTHY;
        if (!strcmp(h, "starting"))
                return CMS_HEALTH_STARTING;
        return CMS_HEALTH_NONE;
}

static int state_of(const char *st)
{
        if (st && !strcmp(st, "running"))
                return CMS_CTR_RUNNING;
        if (st && !strcmp(st, "paused"))
                return CMS_CTR_PAUSED;
        return CMS_CTR_STOPPED;
}

/* The limits as the engine states them; used when the cgroup cannot be read. */
static void spec_of(json_object *hc, struct cms_cgroup_spec *sp)
{
        memset(sp, 0, sizeof(*sp));
        sp->cpu_period_us = i64(hc, "CpuPeriod") > 0 ? i64(hc, "CpuPeriod") : 100000;
        sp->cpu_quota_us = i64(hc, "CpuQuota") > 0 ? i64(hc, "CpuQuota") : -1;
        if (i64(hc, "NanoCpus") > 0)
                sp->cpu_quota_us = i64(hc, "NanoCpus") * sp->cpu_period_us / 1000000000;
        sp->cpu_shares = i64(hc, "CpuShares") > 0 ? i64(hc, "CpuShares") : 1024;
        sp->mem_limit = i64(hc, "Memory") > 0 ? (uint64_t)i64(hc, "Memory") : 0;
        sp->pids_limit = i64(hc, "PidsLimit") > 0 ? (uint64_t)i64(hc, "PidsLimit") : 0;
}

static const char *label(json_object *labels, const char *a, const char *b)
{
        const char *v = str(labels, a);
        return v ? v : str(labels, b);
}

static void apply_inspect(struct cms_sampler *s, struct cms_sampler_ctr *c, json_object *doc,
                          int state)
{
        json_object *st = get(doc, "State"), *cfg = get(doc, "Config");
        json_object *labels = get(cfg, "Labels");
        const char *name = str(doc, "Name"), *image = str(cfg, "Image");
        const char *project =
            label(labels, "com.docker.compose.project", "io.podman.compose.project");
        const char *service =
            label(labels, "com.docker.compose.service", "io.podman.compose.service");
        int pid = state == CMS_CTR_STOPPED ? 0 : (int)i64(st, "Pid");
        struct cms_cgroup_spec espec;
        spec_of(get(doc, "HostConfig"), &espec);
        struct cms_ctr_info *in = &c->info;
        /* A container's labels never change: made once, kept until the record goes. */
        char *pl = s->container_labels && !in->prom_labels
                       ? cms_prom_container_labels(labels, s->max_labels)
                       : NULL;
        pthread_mutex_lock(&c->lock);
        if (!in->prom_labels) {
                in->prom_labels = pl;
                pl = NULL;
        }
        snprintf(in->name, sizeof(in->name), "%s", name ? name + (name[0] == '/') : "");
        snprintf(in->image, sizeof(in->image), "%s", image ? image : "");
        snprintf(in->project, sizeof(in->project), "%s", project ? project : "");
        snprintf(in->service, sizeof(in->service), "%s", service ? service : "");
        in->state = state;
        in->health = health_of(str(get(st, "Health"), "Status"));
        in->started_at = parse_started(str(st, "StartedAt"));
        if (!in->cg_path[0])
                in->spec = espec; /* the cgroup's own values replace these once read */
        /* A new pid (a restart) or new limits (an update): the sampler opens the cgroup again. */
        if (pid != c->pid || memcmp(&espec, &c->espec, sizeof(espec)) != 0)
                atomic_store(&c->reattach, true);
        c->espec = espec;
        c->pid = pid;
        pthread_mutex_unlock(&c->lock);
        free(pl);
}

static void inspect_one(struct cms_sampler *s, const char *id)
{
        _cleanup_free_ char *path = cms_strdup_printf("/containers/%s/json", id);
        _cleanup_json_ json_object *doc = NULL;
        struct cms_error err = {0};
        if (!path)
                return;
        if (cms_engine_json(s->engine, "GET", path, NULL, &doc, &err) < 0) {
                if (err.status == 404)
                        cms_sampler_remove(s, id);
                return;
        }
        int state = state_of(str(get(doc, "State"), "Status"));
        struct cms_sampler_ctr *c =
            state == CMS_CTR_STOPPED ? cms_sampler_find(s, id) : cms_sampler_get_or_add(s, id);
        if (!c)
                return;
        if (!strcmp(c->info.id, id))
                apply_inspect(s, c, doc, state);
        cms_sampler_ctr_unref(c);
}

/* Lists every container: drops the ones gone, inspects the ones whose state is new. */
static int reconcile(struct cms_sampler *s)
{
        _cleanup_json_ json_object *list = NULL;
        struct cms_error err = {0};
        int r = cms_engine_json(s->engine, "GET", "/containers/json?all=1", NULL, &list, &err);
        if (r < 0 || !json_object_is_type(list, json_type_array))
                return r < 0 ? r : -EBADMSG;
        size_t n = json_object_array_length(list), nids = 0;
        char(*ids)[65] = cms_sampler_ids(s, &nids);
        for (size_t k = 0; ids && k < nids; k++) {
                bool found = false;
                for (size_t i = 0; i < n && !found; i++)
                        found =
                            !strcmp(ids[k], str(json_object_array_get_idx(list, i), "Id") ?: "");
                if (!found)
                        cms_sampler_remove(s, ids[k]);
        }
        free(ids);
        for (size_t i = 0; i < n; i++) {
                json_object *it = json_object_array_get_idx(list, i);
                const char *id = str(it, "Id");
                if (!id || strlen(id) != 64)
                        continue;
                int want = state_of(str(it, "State"));
                struct cms_sampler_ctr *c = cms_sampler_find(s, id);
                int have = CMS_CTR_STOPPED, pid = 0;
                if (c) {
                        pthread_mutex_lock(&c->lock);
                        have = c->info.state;
                        pid = c->pid;
                        pthread_mutex_unlock(&c->lock);
                        cms_sampler_ctr_unref(c);
                }
                if ((c && have != want) || (want != CMS_CTR_STOPPED && (!c || pid == 0)))
                        inspect_one(s, id);
        }
        return 0;
}

void *cms_sampler_sync_main(void *arg)
{
        struct cms_sampler *s = arg;
        int64_t next = 0;
        char(*work)[65] = calloc(CMS_SAMPLER_QUEUE, sizeof(*work));
        if (!work)
                return NULL;
        for (;;) {
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                ts.tv_sec += 1;
                pthread_mutex_lock(&s->qlock);
                if (!s->qn && !s->reconcile_now && cms_now_ms() < next && !stopping(s))
                        pthread_cond_timedwait(&s->qcond, &s->qlock, &ts);
                bool rec = s->reconcile_now || cms_now_ms() >= next;
                size_t n = s->qn;
                memcpy(work, s->queue, n * sizeof(*work));
                s->qn = 0;
                s->reconcile_now = false;
                pthread_mutex_unlock(&s->qlock);
                if (stopping(s))
                        break;
                if (rec) {
                        next = cms_now_ms() + RECONCILE_MS;
                        if (reconcile(s) < 0) {
                                /* Engine down: retry soon; the events stream reconnects too. */
                                next = cms_now_ms() + 2000;
                        }
                }
                for (size_t i = 0; i < n && !stopping(s); i++)
                        inspect_one(s, work[i]);
                cms_sampler_note_cpu(s, T_SYNC);
        }
        free(work);
        return NULL;
}

/* ---- fallback: the engine's stats API ---- */

static uint64_t u64(json_object *o, const char *key)
{
        int64_t v = json_object_get_int64(get(o, key));
        return v > 0 ? (uint64_t)v : 0;
}

static void blkio_sum(json_object *arr, uint64_t *rd, uint64_t *wr)
{
        *rd = *wr = 0;
        size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(arr, i);
                const char *op = str(e, "op");
                if (op && !strcasecmp(op, "read"))
                        *rd += u64(e, "value");
                else if (op && !strcasecmp(op, "write"))
                        *wr += u64(e, "value");
        }
}

void cms_stats_from_engine(json_object *st, struct cms_sample *out, struct cms_netdev *ifs,
                           size_t max, size_t *n_ifs)
{
        uint64_t *v = out->v;
        json_object *cpu = get(st, "cpu_stats"), *use = get(cpu, "cpu_usage");
        json_object *thr = get(cpu, "throttling_data");
        v[CMS_F_CPU_USAGE_US] = u64(use, "total_usage") / 1000;
        v[CMS_F_CPU_USER_US] = u64(use, "usage_in_usermode") / 1000;
        v[CMS_F_CPU_SYSTEM_US] = u64(use, "usage_in_kernelmode") / 1000;
        v[CMS_F_CPU_PERIODS] = u64(thr, "periods");
        v[CMS_F_CPU_THROTTLED_PERIODS] = u64(thr, "throttled_periods");
        v[CMS_F_CPU_THROTTLED_US] = u64(thr, "throttled_time") / 1000;
        json_object *mem = get(st, "memory_stats"), *ms = get(mem, "stats");
        v[CMS_F_MEM_USAGE] = u64(mem, "usage");
        /* cgroup v1 engines give total_* (hierarchical), v2 ones anon/file. */
        uint64_t inactive = get(ms, "total_inactive_file") ? u64(ms, "total_inactive_file")
                                                           : u64(ms, "inactive_file");
        v[CMS_F_MEM_WORKING_SET] =
            v[CMS_F_MEM_USAGE] > inactive ? v[CMS_F_MEM_USAGE] - inactive : 0;
        v[CMS_F_MEM_RSS] = get(ms, "total_rss") ? u64(ms, "total_rss")
                           : get(ms, "rss")     ? u64(ms, "rss")
                                                : u64(ms, "anon");
        v[CMS_F_MEM_CACHE] = get(ms, "total_cache") ? u64(ms, "total_cache")
                             : get(ms, "cache")     ? u64(ms, "cache")
                                                    : u64(ms, "file");
        v[CMS_F_MEM_FAILCNT] = u64(mem, "failcnt");
        json_object *blk = get(st, "blkio_stats");
        blkio_sum(get(blk, "io_service_bytes_recursive"), &v[CMS_F_BLK_READ_BYTES],
                  &v[CMS_F_BLK_WRITE_BYTES]);
        blkio_sum(get(blk, "io_serviced_recursive"), &v[CMS_F_BLK_READS], &v[CMS_F_BLK_WRITES]);
        v[CMS_F_PIDS] = u64(get(st, "pids_stats"), "current");
        *n_ifs = 0;
        static const char *const nk[8] = {"rx_bytes", "rx_packets", "rx_errors", "rx_dropped",
                                          "tx_bytes", "tx_packets", "tx_errors", "tx_dropped"};
        json_object *nets = get(st, "networks"); /* absent with network none, or too early */
        if (!json_object_is_type(nets, json_type_object))
                return;
        json_object_object_foreach(nets, name, nv)
        {
                if (!strcmp(name, "lo") || !json_object_is_type(nv, json_type_object))
                        continue;
                for (int f = 0; f < 8; f++)
                        v[CMS_F_NET_RX_BYTES + f] += u64(nv, nk[f]);
                if (*n_ifs >= max)
                        continue;
                snprintf(ifs[*n_ifs].name, sizeof(ifs[0].name), "%s", name);
                for (int f = 0; f < 8; f++)
                        ifs[*n_ifs].v[f] = u64(nv, nk[f]);
                (*n_ifs)++;
        }
}

int cms_sampler_engine_sample(struct cms_sampler *s, const char *id, struct cms_sample *out,
                              struct cms_netdev *ifs, size_t *n_ifs)
{
        _cleanup_free_ char *path =
            cms_strdup_printf("/containers/%s/stats?stream=false&one-shot=true", id);
        if (!path)
                return -ENOMEM;
        struct cms_engine_req req = {.method = "GET",
                                     .path = path,
                                     .timeout_ms = STATS_TIMEOUT_MS,
                                     .max_reply = 1024 * 1024};
        struct cms_engine_reply rep = {0};
        int r = cms_engine_call(s->engine, &req, &rep, NULL);
        if (r < 0) {
                cms_engine_reply_free(&rep);
                return r;
        }
        json_object *st = rep.body ? json_tokener_parse(rep.body) : NULL;
        cms_engine_reply_free(&rep);
        if (!json_object_is_type(st, json_type_object)) {
                json_object_put(st);
                return -EBADMSG;
        }
        cms_stats_from_engine(st, out, ifs, CMS_NET_MAX_IFACES, n_ifs);
        json_object_put(st);
        return 0;
}
