/* Prometheus and JSON rendering (see export.h). The Prometheus side is table-driven and avoids
 * printf in its inner loop: a scrape of 300 containers is ~8000 lines, and /metrics must stay in
 * the low milliseconds. Metric names, help texts and labels follow cAdvisor, so that dashboards
 * and alerts written for cAdvisor work unchanged. */
#include "export.h"

#include <time.h>

const char *cms_ctr_state_name(int state)
{
        switch (state) {
        case CMS_CTR_RUNNING:
                return "running";
        case CMS_CTR_PAUSED:
                return "paused";
        default:
                return "exited";
        }
}

const char *cms_ctr_health_name(int health)
{
        static const char *const names[] = {"none", "starting", "healthy", "unhealthy"};
        return health >= 0 && health <= CMS_HEALTH_UNHEALTHY ? names[health] : "none";
}

static uint64_t cdelta(uint64_t prev, uint64_t cur)
{
        return cur >= prev ? cur - prev : cur;
}

void cms_sample_rates(const struct cms_sample *prev, const struct cms_sample *cur,
                      struct cms_rates *out)
{
        memset(out, 0, sizeof(*out));
        int64_t dt_ms = cur->t_ms - prev->t_ms;
        if (dt_ms <= 0)
                return;
        double dt = (double)dt_ms / 1000.0;
        const uint64_t *a = prev->v, *b = cur->v;
        /* us of CPU per second of wall time / 10^6 * 100 */
        out->cpu_percent = (double)cdelta(a[CMS_F_CPU_USAGE_US], b[CMS_F_CPU_USAGE_US]) / dt / 1e4;
        out->rx_bps = (double)cdelta(a[CMS_F_NET_RX_BYTES], b[CMS_F_NET_RX_BYTES]) / dt;
        out->tx_bps = (double)cdelta(a[CMS_F_NET_TX_BYTES], b[CMS_F_NET_TX_BYTES]) / dt;
        out->read_bps = (double)cdelta(a[CMS_F_BLK_READ_BYTES], b[CMS_F_BLK_READ_BYTES]) / dt;
        out->write_bps = (double)cdelta(a[CMS_F_BLK_WRITE_BYTES], b[CMS_F_BLK_WRITE_BYTES]) / dt;
}

/* ---- Prometheus ---- */

static int put(struct cms_buf *b, const char *s)
{
        return cms_buf_append(b, s, strlen(s));
}

/* The decimal text of v into out (at least 24 bytes); returns its length. */
static size_t u64_text(char *out, uint64_t v)
{
        char tmp[24];
        size_t i = sizeof(tmp);
        do {
                tmp[--i] = (char)('0' + v % 10);
                v /= 10;
        } while (v);
        memcpy(out, tmp + i, sizeof(tmp) - i);
        return sizeof(tmp) - i;
}

static size_t i64_text(char *out, int64_t v)
{
        if (v >= 0)
                return u64_text(out, (uint64_t)v);
        out[0] = '-';
        return 1 + u64_text(out + 1, (uint64_t)(-(v + 1)) + 1);
}

/* Microseconds as seconds with six decimals, exactly (at most 27 bytes). */
static size_t secs_text(char *out, uint64_t us)
{
        size_t n = u64_text(out, us / 1000000);
        uint64_t f = us % 1000000;
        out[n] = '.';
        for (size_t i = 6; i >= 1; i--) {
                out[n + i] = (char)('0' + f % 10);
                f /= 10;
        }
        return n + 7;
}

int cms_prom_escape(struct cms_buf *out, const char *s)
{
        int r = 0;
        const char *run = s;
        for (; *s && r == 0; s++) {
                const char *rep = *s == '\\'   ? "\\\\"
                                  : *s == '"'  ? "\\\""
                                  : *s == '\n' ? "\\n"
                                               : NULL;
                if (!rep)
                        continue;
                r = cms_buf_append(out, run, (size_t)(s - run));
                if (r == 0)
                        r = put(out, rep);
                run = s + 1;
        }
        return r < 0 ? r : cms_buf_append(out, run, (size_t)(s - run));
}

enum vkind {
        V_SECS,
        V_INT,
        V_NET,
        V_QUOTA,
        V_PERIOD,
        V_SHARES,
        V_MEMLIMIT,
        V_START,
        V_HEALTH,
        V_X,        /* a uint64_t of struct cms_ctr_extra at offset field */
        V_SPEC,     /* a uint64_t of struct cms_cgroup_spec at offset field */
        V_PROCS,    /* processes: cgroup.procs when read, else the pids counter */
        V_FAIL,     /* memory failures by type and scope */
        V_TASKS,    /* tasks by state */
        V_SEEN,     /* the latest sample's time */
        V_FS_LIMIT, /* the writable layers' filesystem size */
};
/* When a family has a series: a CPU quota, or the extras it is made of were read. */
enum { ONLY_QUOTA = 1, NEED_MEM = 2, NEED_PROC = 4, NEED_FS = 8, NEED_MAXU = 16, NEED_SWAP = 32 };
#define XF(m) ((int)offsetof(struct cms_ctr_extra, m))
#define SF(m) ((int)offsetof(struct cms_cgroup_spec, m))

struct fam {
        const char *name, *type, *help;
        int kind, field;
        unsigned flags;
        const char *extra; /* an extra label pair */
};

#define F(n, t, h, k, f, fl, x)                                                                    \
        {                                                                                          \
                n, t, h, k, f, fl, x                                                               \
        }
static const struct fam fams[] = {
    F("container_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed in seconds.",
      V_SECS, CMS_F_CPU_USAGE_US, 0, "cpu=\"total\""),
    F("container_cpu_user_seconds_total", "counter",
      "Cumulative user cpu time consumed in seconds.", V_SECS, CMS_F_CPU_USER_US, 0, NULL),
    F("container_cpu_system_seconds_total", "counter",
      "Cumulative system cpu time consumed in seconds.", V_SECS, CMS_F_CPU_SYSTEM_US, 0, NULL),
    F("container_cpu_cfs_periods_total", "counter",
      "Number of elapsed enforcement period intervals.", V_INT, CMS_F_CPU_PERIODS, ONLY_QUOTA,
      NULL),
    F("container_cpu_cfs_throttled_periods_total", "counter",
      "Number of throttled period intervals.", V_INT, CMS_F_CPU_THROTTLED_PERIODS, ONLY_QUOTA,
      NULL),
    F("container_cpu_cfs_throttled_seconds_total", "counter",
      "Total time duration the container has been throttled.", V_SECS, CMS_F_CPU_THROTTLED_US,
      ONLY_QUOTA, NULL),
    F("container_memory_usage_bytes", "gauge",
      "Current memory usage in bytes, including all memory regardless of when it was accessed.",
      V_INT, CMS_F_MEM_USAGE, 0, NULL),
    F("container_memory_working_set_bytes", "gauge", "Current working set in bytes.", V_INT,
      CMS_F_MEM_WORKING_SET, 0, NULL),
    F("container_memory_rss", "gauge", "Size of RSS in bytes.", V_INT, CMS_F_MEM_RSS, 0, NULL),
    F("container_memory_cache", "gauge", "Number of bytes of page cache memory.", V_INT,
      CMS_F_MEM_CACHE, 0, NULL),
    /* A counter in cAdvisor too; typed gauge here because the text format's lint wants
     * counters to end in _total and cAdvisor's name must stay as it is. */
    F("container_memory_failcnt", "gauge", "Number of memory usage hits limits.", V_INT,
      CMS_F_MEM_FAILCNT, 0, NULL),
    F("container_oom_events_total", "counter",
      "Count of out of memory events observed for the container.", V_INT, CMS_F_MEM_OOM_KILLS, 0,
      NULL),
    F("container_network_receive_bytes_total", "counter", "Cumulative count of bytes received.",
      V_NET, 0, 0, NULL),
    F("container_network_receive_packets_total", "counter", "Cumulative count of packets received.",
      V_NET, 1, 0, NULL),
    F("container_network_receive_errors_total", "counter",
      "Cumulative count of errors encountered while receiving.", V_NET, 2, 0, NULL),
    F("container_network_receive_packets_dropped_total", "counter",
      "Cumulative count of packets dropped while receiving.", V_NET, 3, 0, NULL),
    F("container_network_transmit_bytes_total", "counter", "Cumulative count of bytes transmitted.",
      V_NET, 4, 0, NULL),
    F("container_network_transmit_packets_total", "counter",
      "Cumulative count of packets transmitted.", V_NET, 5, 0, NULL),
    F("container_network_transmit_errors_total", "counter",
      "Cumulative count of errors encountered while transmitting.", V_NET, 6, 0, NULL),
    F("container_network_transmit_packets_dropped_total", "counter",
      "Cumulative count of packets dropped while transmitting.", V_NET, 7, 0, NULL),
    F("container_fs_reads_bytes_total", "counter", "Cumulative count of bytes read.", V_INT,
      CMS_F_BLK_READ_BYTES, 0, NULL),
    F("container_fs_writes_bytes_total", "counter", "Cumulative count of bytes written.", V_INT,
      CMS_F_BLK_WRITE_BYTES, 0, NULL),
    F("container_fs_reads_total", "counter", "Cumulative count of reads completed.", V_INT,
      CMS_F_BLK_READS, 0, NULL),
    F("container_fs_writes_total", "counter", "Cumulative count of writes completed.", V_INT,
      CMS_F_BLK_WRITES, 0, NULL),
    F("container_fs_usage_bytes", "gauge",
      "Number of bytes that are consumed by the container on this filesystem.", V_X, XF(fs_usage),
      NEED_FS, NULL),
    F("container_fs_limit_bytes", "gauge",
      "Number of bytes that can be consumed by the container on this filesystem.", V_FS_LIMIT, 0,
      NEED_FS, NULL),
    F("container_processes", "gauge", "Number of processes running inside the container.", V_PROCS,
      CMS_F_PIDS, 0, NULL),
    F("container_threads", "gauge", "Number of threads running inside the container", V_X,
      XF(threads), NEED_PROC, NULL),
    F("container_threads_max", "gauge",
      "Maximum number of threads allowed inside the container, infinity if value is zero", V_SPEC,
      SF(pids_limit), 0, NULL),
    F("container_file_descriptors", "gauge", "Number of open file descriptors for the container.",
      V_X, XF(fds), NEED_PROC, NULL),
    F("container_sockets", "gauge", "Number of open sockets for the container.", V_X, XF(sockets),
      NEED_PROC, NULL),
    F("container_tasks_state", "gauge", "Number of tasks in given state", V_TASKS, 0, NEED_PROC,
      NULL),
    F("container_memory_swap", "gauge", "Container swap usage in bytes.", V_X, XF(mem_swap),
      NEED_SWAP, NULL),
    F("container_memory_mapped_file", "gauge", "Size of memory mapped files in bytes.", V_X,
      XF(mem_mapped_file), NEED_MEM, NULL),
    F("container_memory_max_usage_bytes", "gauge", "Maximum memory usage recorded in bytes.", V_X,
      XF(mem_max_usage), NEED_MAXU, NULL),
    F("container_memory_failures_total", "counter",
      "Cumulative count of memory allocation failures.", V_FAIL, 0, NEED_MEM, NULL),
    F("container_last_seen", "gauge", "Last time a container was seen by the exporter", V_SEEN, 0,
      0, NULL),
    F("container_spec_cpu_quota", "gauge", "CPU quota of the container.", V_QUOTA, 0, ONLY_QUOTA,
      NULL),
    F("container_spec_cpu_period", "gauge", "CPU period of the container.", V_PERIOD, 0, ONLY_QUOTA,
      NULL),
    F("container_spec_cpu_shares", "gauge", "CPU share of the container.", V_SHARES, 0, 0, NULL),
    F("container_spec_memory_limit_bytes", "gauge", "Memory limit for the container.", V_MEMLIMIT,
      0, 0, NULL),
    F("container_spec_memory_swap_limit_bytes", "gauge", "Memory swap limit for the container.",
      V_SPEC, SF(mem_swap_limit), 0, NULL),
    F("container_spec_memory_reservation_limit_bytes", "gauge",
      "Memory reservation limit for the container.", V_SPEC, SF(mem_reservation), 0, NULL),
    F("container_start_time_seconds", "gauge",
      "Start time of the container since unix epoch in seconds.", V_START, 0, 0, NULL),
    F("container_health_status", "gauge",
      "Health check state of the container: 1 for its current state; containers without a "
      "health check have no series.",
      V_HEALTH, 0, 0, NULL),
};
#undef F

static bool exported(const struct cms_ctr_info *c)
{
        return c->has_latest && (c->state == CMS_CTR_RUNNING || c->state == CMS_CTR_PAUSED);
}

static int labels_of(struct cms_buf *b, const struct cms_ctr_info *c)
{
        int r = 0;
        if (c->engine && !(r = put(b, "engine=\"")) && !(r = cms_prom_escape(b, c->engine)))
                r = put(b, "\",");
        if (r == 0)
                r = put(b, "id=\"");
        if (r == 0 && c->cg_path[0])
                r = cms_prom_escape(b, c->cg_path);
        else if (r == 0)
                r = cms_buf_printf(b, "/%s", c->id);
        if (r == 0)
                r = put(b, "\",image=\"");
        if (r == 0)
                r = cms_prom_escape(b, c->image);
        if (r == 0)
                r = put(b, "\",name=\"");
        if (r == 0)
                r = cms_prom_escape(b, c->name);
        if (r == 0 && c->project[0] && !(r = put(b, "\",project=\"")))
                r = cms_prom_escape(b, c->project);
        if (r == 0 && c->service[0] && !(r = put(b, "\",service=\"")))
                r = cms_prom_escape(b, c->service);
        if (r == 0)
                r = put(b, "\"");
        return r < 0 || !c->prom_labels ? r : put(b, c->prom_labels);
}

/* What a render computes once and every line reuses. */
struct prom_ctx {
        size_t nlen[ELEMENTSOF(fams)]; /* strlen of each family's name */
        const char *devl;              /* device="..." of the writable layers, or NULL */
        size_t devl_len;
        uint64_t fs_limit;
};

/* name{labels[,extra]} value\n, reserved once and copied in. */
static int series_line(struct cms_buf *b, const char *name, size_t nlen, const char *labels,
                       size_t llen, const char *extra, size_t elen, const char *val, size_t vlen)
{
        size_t total = nlen + 1 + llen + (extra ? 1 + elen : 0) + 2 + vlen + 1;
        int r = cms_buf_reserve(b, total);
        if (r < 0)
                return r;
        char *p = b->data + b->len;
        memcpy(p, name, nlen);
        p += nlen;
        *p++ = '{';
        memcpy(p, labels, llen);
        p += llen;
        if (extra) {
                *p++ = ',';
                memcpy(p, extra, elen);
                p += elen;
        }
        *p++ = '}';
        *p++ = ' ';
        memcpy(p, val, vlen);
        p[vlen] = '\n';
        b->len += total;
        b->data[b->len] = 0;
        return 0;
}

/* Whether c has a series of family f. */
static bool has_series(const struct fam *f, const struct cms_ctr_info *c, bool fs_limit)
{
        const struct cms_ctr_extra *x = &c->extra;
        unsigned fl = f->flags;
        return !((fl & ONLY_QUOTA) && c->spec.cpu_quota_us <= 0) &&
               !((fl & NEED_MEM) && !x->has_mem) && !((fl & NEED_PROC) && !x->has_proc) &&
               !((fl & NEED_FS) && !x->has_fs) && !((fl & NEED_MAXU) && !x->has_max_usage) &&
               !((fl & NEED_SWAP) && !x->has_swap) && !(f->kind == V_START && c->started_at <= 0) &&
               !(f->kind == V_HEALTH && c->health == CMS_HEALTH_NONE) &&
               !(f->kind == V_FS_LIMIT && !fs_limit);
}

/* name{labels,extra} v\n */
static int series(struct cms_buf *b, const char *name, size_t nlen, const char *labels, size_t llen,
                  const char *extra, uint64_t v)
{
        char num[24];
        size_t vlen = u64_text(num, v);
        return series_line(b, name, nlen, labels, llen, extra, strlen(extra), num, vlen);
}

/* The families with several series per container, one per interface, state or type. */
static int multi(struct cms_buf *b, const struct fam *f, size_t nlen, const struct cms_ctr_info *c,
                 const char *labels, size_t llen)
{
        static const char *const tasks[CMS_TASK_STATES] = {"state=\"sleeping\"",
                                                           "state=\"running\"", "state=\"stopped\"",
                                                           "state=\"uninterruptible\""};
        static const char *const health[] = {NULL, "status=\"starting\"", "status=\"healthy\"",
                                             "status=\"unhealthy\""};
        static const char *const fail[] = {"failure_type=\"pgfault\",scope=\"container\"",
                                           "failure_type=\"pgfault\",scope=\"hierarchy\"",
                                           "failure_type=\"pgmajfault\",scope=\"container\"",
                                           "failure_type=\"pgmajfault\",scope=\"hierarchy\""};
        const struct cms_ctr_extra *x = &c->extra;
        const char *name = f->name;
        int r = 0;
        switch (f->kind) {
        case V_NET:
                for (size_t i = 0; i < c->n_ifs && r == 0; i++) {
                        char l[64] = "interface=\"";
                        size_t k = strnlen(c->ifs[i].name, sizeof(c->ifs[i].name));
                        memcpy(l + 11, c->ifs[i].name, k);
                        l[11 + k] = '"';
                        l[12 + k] = 0;
                        r = series(b, name, nlen, labels, llen, l, c->ifs[i].v[f->field]);
                }
                return r;
        case V_HEALTH:
                for (int h = CMS_HEALTH_STARTING; h <= CMS_HEALTH_UNHEALTHY && r == 0; h++)
                        r = series(b, name, nlen, labels, llen, health[h], c->health == h);
                return r;
        case V_FAIL: {
                const uint64_t v[] = {x->pgfault, x->total_pgfault, x->pgmajfault,
                                      x->total_pgmajfault};
                for (size_t i = 0; i < ELEMENTSOF(fail) && r == 0; i++)
                        r = series(b, name, nlen, labels, llen, fail[i], v[i]);
                return r;
        }
        default: /* V_TASKS */
                for (int t = 0; t < CMS_TASK_STATES && r == 0; t++)
                        r = series(b, name, nlen, labels, llen, tasks[t], x->tasks[t]);
                return r;
        }
}

/* The value of a single-series family, as text into out (at least 32 bytes); its length. */
static size_t value_text(char *out, const struct fam *f, const struct cms_ctr_info *c,
                         uint64_t fs_limit)
{
        const uint64_t *v = c->latest.v;
        switch (f->kind) {
        case V_SECS:
                return secs_text(out, v[f->field]);
        case V_INT:
                return u64_text(out, v[f->field]);
        case V_QUOTA:
                return i64_text(out, c->spec.cpu_quota_us);
        case V_PERIOD:
                return i64_text(out, c->spec.cpu_period_us);
        case V_SHARES:
                return i64_text(out, c->spec.cpu_shares);
        case V_MEMLIMIT:
                return u64_text(out, v[CMS_F_MEM_LIMIT]);
        case V_START:
                return i64_text(out, c->started_at);
        case V_X:
                return u64_text(out, *(const uint64_t *)((const char *)&c->extra + f->field));
        case V_SPEC:
                return u64_text(out, *(const uint64_t *)((const char *)&c->spec + f->field));
        case V_PROCS:
                return u64_text(out, c->extra.has_proc ? c->extra.processes : v[CMS_F_PIDS]);
        case V_SEEN: /* seconds, as cAdvisor writes it */
                return u64_text(out, (uint64_t)(c->latest.t_ms / 1000));
        default: /* V_FS_LIMIT */
                return u64_text(out, fs_limit);
        }
}

static int family_line(struct cms_buf *b, size_t fi, const struct cms_ctr_info *c,
                       const char *labels, size_t llen, const struct prom_ctx *x)
{
        const struct fam *f = &fams[fi];
        if (!has_series(f, c, x->fs_limit))
                return 0;
        if (f->kind == V_NET || f->kind == V_HEALTH || f->kind == V_FAIL || f->kind == V_TASKS)
                return multi(b, f, x->nlen[fi], c, labels, llen);
        const char *extra = f->extra;
        size_t elen = extra ? strlen(extra) : 0;
        if ((f->flags & NEED_FS) && x->devl) {
                extra = x->devl;
                elen = x->devl_len;
        }
        char num[32];
        size_t vlen = value_text(num, f, c, x->fs_limit);
        return series_line(b, f->name, x->nlen[fi], labels, llen, extra, elen, num, vlen);
}

/* device="..." of the writable layers' filesystem, escaped, at most 159 bytes (as it was). */
static size_t device_label(char *devl, size_t size, const char *dev)
{
        size_t n = (size_t)snprintf(devl, size, "device=\"");
        for (const char *p = dev; *p && n + 4 < size; p++) {
                if (*p == '"' || *p == '\\')
                        devl[n++] = '\\';
                devl[n++] = *p;
        }
        devl[n++] = '"';
        devl[n] = 0;
        return n;
}

static int header(struct cms_buf *b, const char *name, const char *type, const char *help)
{
        return cms_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* machine_cpu_cores and machine_memory_bytes, with cAdvisor's host labels where known. */
static int machine_metrics(struct cms_buf *b, const struct cms_self_metrics *s)
{
        char l[200] = "";
        if (s->cpu_cores <= 0)
                return 0;
        if (s->boot_id && s->boot_id[0] && s->machine_id && s->machine_id[0])
                snprintf(l, sizeof(l), "{boot_id=\"%.64s\",machine_id=\"%.64s\"}", s->boot_id,
                         s->machine_id);
        int r = cms_buf_printf(b,
                               "# HELP machine_cpu_cores Number of logical CPU cores.\n"
                               "# TYPE machine_cpu_cores gauge\nmachine_cpu_cores%s %" PRId64 "\n",
                               l, s->cpu_cores);
        return r
                   ?: cms_buf_printf(
                          b,
                          "# HELP machine_memory_bytes Amount of memory installed on the "
                          "machine.\n# TYPE machine_memory_bytes gauge\n"
                          "machine_memory_bytes%s %" PRIu64 "\n",
                          l, s->memory_bytes);
}

/* The families of cmsd's own sampler and engine, in order. */
static const struct {
        const char *name, *type, *help;
} self_fams[] = {
    {"cmsd_sampler_samples_total", "counter", "Container samples taken."},
    {"cmsd_sampler_cpu_seconds_total", "counter", "CPU time used by the sampler threads."},
    {"cmsd_sampler_containers", "gauge", "Containers being sampled."},
    {"cmsd_sampler_ring_bytes", "gauge", "Memory allocated for the sample rings, in bytes."},
    {"cmsd_sampler_ring_data_bytes", "gauge", "Bytes of delta-encoded samples in the rings."},
    {"cmsd_sampler_ring_samples", "gauge", "Samples held in the rings."},
    {"cmsd_sampler_round_duration_seconds", "gauge", "Wall time of the last sampling round."},
    {"cmsd_sampler_mode", "gauge",
     "How containers are sampled: cgroup files, the engine's stats API, or both."},
    {"cmsd_engine_up", "gauge", "Whether the engine answered its last call."},
};

/* One engine's series of family f: its labels (engine when cmsd has several; the sampler's mode)
 * and value. */
static int self_series(struct cms_buf *b, size_t f, const struct cms_self_metrics *s)
{
        char v[48], l[200];
        switch (f) {
        case 0:
                snprintf(v, sizeof(v), "%" PRIu64, s->samples_total);
                break;
        case 1:
                snprintf(v, sizeof(v), "%.6f", s->cpu_seconds);
                break;
        case 2:
                snprintf(v, sizeof(v), "%zu", s->containers);
                break;
        case 3:
                snprintf(v, sizeof(v), "%" PRIu64, s->ring_bytes);
                break;
        case 4:
                snprintf(v, sizeof(v), "%" PRIu64, s->ring_data_bytes);
                break;
        case 5:
                snprintf(v, sizeof(v), "%" PRIu64, s->ring_samples);
                break;
        case 6:
                snprintf(v, sizeof(v), "%.6f", s->round_seconds);
                break;
        case 7:
                snprintf(v, sizeof(v), "1");
                break;
        default:
                snprintf(v, sizeof(v), "%d", s->engine_up ? 1 : 0);
                break;
        }
        const char *e = s->engine;
        if (f == 7)
                snprintf(l, sizeof(l), "{%s%.64s%smode=\"%s\"}", e ? "engine=\"" : "", e ? e : "",
                         e ? "\"," : "", s->mode ? s->mode : "none");
        else if (e)
                snprintf(l, sizeof(l), "{engine=\"%.64s\"}", e);
        else
                l[0] = 0;
        return cms_buf_printf(b, "%s%s %s\n", self_fams[f].name, l, v);
}

static int self_metrics(struct cms_buf *b, const struct cms_self_metrics *s)
{
        int r = 0;
        for (size_t f = 0; f < ELEMENTSOF(self_fams) && r == 0; f++) {
                r = header(b, self_fams[f].name, self_fams[f].type, self_fams[f].help);
                if (r == 0)
                        r = self_series(b, f, s);
                for (size_t i = 0; i < s->n_more && r == 0; i++)
                        r = self_series(b, f, &s->more[i]);
        }
        if (r == 0)
                r = header(b, "cmsd_http_requests_total", "counter",
                           "HTTP requests answered, by route and status code.");
        for (size_t i = 0; i < s->n_http && r == 0; i++)
                r = cms_buf_printf(
                    b, "cmsd_http_requests_total{route=\"%s\",code=\"%d\"} %" PRIu64 "\n",
                    s->http[i].route, s->http[i].code, s->http[i].n);
        return r;
}

int cms_export_prometheus(const struct cms_ctr_info *c, size_t n,
                          const struct cms_self_metrics *self, struct cms_buf *out)
{
        /* Each container's label set is escaped once, then reused by every family. */
        struct cms_buf lb;
        cms_buf_init(&lb, 0);
        size_t *off = calloc(n + 1, sizeof(*off));
        int r = off ? 0 : -ENOMEM;
        for (size_t i = 0; i < n && r == 0; i++) {
                off[i] = lb.len;
                if (exported(&c[i]))
                        r = labels_of(&lb, &c[i]);
        }
        if (off)
                off[n] = lb.len;
        struct prom_ctx x = {.fs_limit = self ? self->fs_limit : 0};
        char devl[160];
        if (self && self->fs_device && self->fs_device[0]) {
                x.devl_len = device_label(devl, sizeof(devl), self->fs_device);
                x.devl = devl;
        }
        for (size_t f = 0; f < ELEMENTSOF(fams); f++)
                x.nlen[f] = strlen(fams[f].name);
        for (size_t f = 0; f < ELEMENTSOF(fams) && r == 0; f++) {
                r = header(out, fams[f].name, fams[f].type, fams[f].help);
                for (size_t i = 0; i < n && r == 0; i++)
                        if (exported(&c[i]))
                                r = family_line(out, f, &c[i], lb.data + off[i],
                                                off[i + 1] - off[i], &x);
        }
        if (r == 0 && self)
                r = machine_metrics(out, self);
        if (r == 0 && self)
                r = self_metrics(out, self);
        free(off);
        cms_buf_free(&lb);
        return r;
}

/* ---- JSON ---- */

int cms_json_quote(struct cms_buf *out, const char *s)
{
        int r = cms_buf_append(out, "\"", 1);
        const char *run = s;
        for (; *s && r == 0; s++) {
                unsigned char ch = (unsigned char)*s;
                if (ch >= 0x20 && ch != '"' && ch != '\\')
                        continue;
                r = cms_buf_append(out, run, (size_t)(s - run));
                if (r == 0)
                        r = ch == '"'    ? put(out, "\\\"")
                            : ch == '\\' ? put(out, "\\\\")
                            : ch == '\n' ? put(out, "\\n")
                            : ch == '\t' ? put(out, "\\t")
                                         : cms_buf_printf(out, "\\u%04x", ch);
                run = s + 1;
        }
        if (r == 0)
                r = cms_buf_append(out, run, (size_t)(s - run));
        return r < 0 ? r : cms_buf_append(out, "\"", 1);
}

int cms_export_json_meta(struct cms_buf *out, const struct cms_ctr_info *c)
{
        int r = put(out, "\"id\":");
        r = r ?: cms_json_quote(out, c->id);
        r = r ?: put(out, ",\"name\":");
        r = r ?: cms_json_quote(out, c->name);
        r = r ?: put(out, ",\"image\":");
        r = r ?: cms_json_quote(out, c->image);
        r = r ?: put(out, ",\"project\":");
        r = r ?: (c->project[0] ? cms_json_quote(out, c->project) : put(out, "null"));
        r = r ?: put(out, ",\"service\":");
        r = r ?: (c->service[0] ? cms_json_quote(out, c->service) : put(out, "null"));
        r = r
                ?: cms_buf_printf(out, ",\"state\":\"%s\",\"health\":\"%s\",\"mode\":\"%s\"",
                                  cms_ctr_state_name(c->state), cms_ctr_health_name(c->health),
                                  c->engine_mode ? "engine" : "cgroup");
        return r;
}

int cms_export_json_point(struct cms_buf *out, const struct cms_sample *prev,
                          const struct cms_sample *cur)
{
        struct cms_rates x;
        char t[32];
        cms_sample_rates(prev, cur, &x);
        cms_format_time_ms(cur->t_ms, t, sizeof(t));
        const uint64_t *v = cur->v;
        char line[512];
        int n = snprintf(line, sizeof(line),
                         "{\"time\":\"%s\",\"cpu_percent\":%.2f,\"memory_bytes\":%" PRIu64
                         ",\"memory_working_set_bytes\":%" PRIu64 ",\"memory_limit_bytes\":%" PRIu64
                         ",\"net_rx_bytes_per_s\":%.1f,\"net_tx_bytes_per_s\":%.1f"
                         ",\"blk_read_bytes_per_s\":%.1f,\"blk_write_bytes_per_s\":%.1f"
                         ",\"pids\":%" PRIu64 "}",
                         t, x.cpu_percent, v[CMS_F_MEM_USAGE], v[CMS_F_MEM_WORKING_SET],
                         v[CMS_F_MEM_LIMIT], x.rx_bps, x.tx_bps, x.read_bps, x.write_bps,
                         v[CMS_F_PIDS]);
        return cms_buf_append(out, line, (size_t)n);
}

int cms_export_json_points(struct cms_buf *out, const struct cms_ring_snap *snap, int64_t since_ms,
                           size_t max_points, int64_t *newest_ms)
{
        struct cms_ring_iter it;
        struct cms_sample prev, cur;
        size_t eligible = 0;
        int r = 0, k;
        /* Two passes: count the points newer than since, then write the newest max_points. */
        cms_ring_iter_init(&it, snap);
        for (size_t i = 0; (k = cms_ring_iter_next(&it, &cur)) > 0; i++)
                if (i > 0 && cur.t_ms > since_ms)
                        eligible++;
        if (k < 0)
                return k;
        size_t skip = max_points && eligible > max_points ? eligible - max_points : 0;
        r = cms_buf_append(out, "[", 1);
        cms_ring_iter_init(&it, snap);
        bool first = true;
        for (size_t i = 0; r == 0 && cms_ring_iter_next(&it, &cur) > 0; i++, prev = cur) {
                if (i == 0 || cur.t_ms <= since_ms)
                        continue;
                if (skip) {
                        skip--;
                        continue;
                }
                if (!first)
                        r = cms_buf_append(out, ",", 1);
                first = false;
                r = r ?: cms_export_json_point(out, &prev, &cur);
                if (newest_ms && cur.t_ms > *newest_ms)
                        *newest_ms = cur.t_ms;
        }
        return r ?: cms_buf_append(out, "]", 1);
}

int cms_export_json_series(struct cms_buf *out, const struct cms_ctr_info *c,
                           const struct cms_ring_snap *snap, int64_t since_ms, size_t max_points,
                           int64_t *newest_ms)
{
        int r = cms_buf_append(out, "{", 1);
        r = r ?: cms_export_json_meta(out, c);
        r = r ?: put(out, ",\"points\":");
        r = r ?: cms_export_json_points(out, snap, since_ms, max_points, newest_ms);
        return r ?: put(out, "}");
}

static int json_net(struct cms_buf *out, const struct cms_ctr_info *c)
{
        const uint64_t *v = c->latest.v;
        int r =
            cms_buf_printf(out,
                           "\"network\":{\"rx_bytes\":%" PRIu64 ",\"rx_packets\":%" PRIu64
                           ",\"rx_errors\":%" PRIu64 ",\"rx_dropped\":%" PRIu64
                           ",\"tx_bytes\":%" PRIu64 ",\"tx_packets\":%" PRIu64
                           ",\"tx_errors\":%" PRIu64 ",\"tx_dropped\":%" PRIu64 ",\"interfaces\":[",
                           v[CMS_F_NET_RX_BYTES], v[CMS_F_NET_RX_PACKETS], v[CMS_F_NET_RX_ERRORS],
                           v[CMS_F_NET_RX_DROPPED], v[CMS_F_NET_TX_BYTES], v[CMS_F_NET_TX_PACKETS],
                           v[CMS_F_NET_TX_ERRORS], v[CMS_F_NET_TX_DROPPED]);
        for (size_t i = 0; i < c->n_ifs && r == 0; i++) {
                const uint64_t *w = c->ifs[i].v;
                r = cms_buf_printf(
                    out,
                    "%s{\"name\":\"%s\",\"rx_bytes\":%" PRIu64 ",\"rx_packets\":%" PRIu64
                    ",\"rx_errors\":%" PRIu64 ",\"rx_dropped\":%" PRIu64 ",\"tx_bytes\":%" PRIu64
                    ",\"tx_packets\":%" PRIu64 ",\"tx_errors\":%" PRIu64 ",\"tx_dropped\":%" PRIu64
                    "}",
                    i ? "," : "", c->ifs[i].name, w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]);
        }
        return r ?: put(out, "]}");
}

int cms_export_json_latest(struct cms_buf *out, const struct cms_ctr_info *c)
{
        if (!c->has_latest)
                return put(out, "null");
        const uint64_t *v = c->latest.v;
        struct cms_rates x = {0};
        if (c->has_prev)
                cms_sample_rates(&c->prev, &c->latest, &x);
        char t[32];
        cms_format_time_ms(c->latest.t_ms, t, sizeof(t));
        int r = cms_buf_printf(
            out,
            "{\"time\":\"%s\",\"cpu_percent\":%.2f,\"cpu\":{\"usage_seconds\":%.6f,"
            "\"user_seconds\":%.6f,\"system_seconds\":%.6f,\"periods\":%" PRIu64
            ",\"throttled_periods\":%" PRIu64 ",\"throttled_seconds\":%.6f,\"quota_us\":%" PRId64
            ",\"period_us\":%" PRId64 ",\"shares\":%" PRId64 "},",
            t, x.cpu_percent, (double)v[CMS_F_CPU_USAGE_US] / 1e6,
            (double)v[CMS_F_CPU_USER_US] / 1e6, (double)v[CMS_F_CPU_SYSTEM_US] / 1e6,
            v[CMS_F_CPU_PERIODS], v[CMS_F_CPU_THROTTLED_PERIODS],
            (double)v[CMS_F_CPU_THROTTLED_US] / 1e6, c->spec.cpu_quota_us, c->spec.cpu_period_us,
            c->spec.cpu_shares);
        r = r
                ?: cms_buf_printf(out,
                                  "\"memory\":{\"usage_bytes\":%" PRIu64
                                  ",\"working_set_bytes\":%" PRIu64 ",\"rss_bytes\":%" PRIu64
                                  ",\"cache_bytes\":%" PRIu64 ",\"limit_bytes\":%" PRIu64
                                  ",\"failcnt\":%" PRIu64 ",\"oom_kills\":%" PRIu64 "},",
                                  v[CMS_F_MEM_USAGE], v[CMS_F_MEM_WORKING_SET], v[CMS_F_MEM_RSS],
                                  v[CMS_F_MEM_CACHE], v[CMS_F_MEM_LIMIT], v[CMS_F_MEM_FAILCNT],
                                  v[CMS_F_MEM_OOM_KILLS]);
        r = r ?: json_net(out, c);
        r = r
                ?: cms_buf_printf(
                       out,
                       ",\"blkio\":{\"read_bytes\":%" PRIu64 ",\"write_bytes\":%" PRIu64
                       ",\"reads\":%" PRIu64 ",\"writes\":%" PRIu64 "}"
                       ",\"pids\":{\"current\":%" PRIu64 ",\"limit\":%" PRIu64 "}"
                       ",\"rates\":{\"net_rx_bytes_per_s\":%.1f,\"net_tx_bytes_per_s\":%.1f"
                       ",\"blk_read_bytes_per_s\":%.1f,\"blk_write_bytes_per_s\":%.1f}}",
                       v[CMS_F_BLK_READ_BYTES], v[CMS_F_BLK_WRITE_BYTES], v[CMS_F_BLK_READS],
                       v[CMS_F_BLK_WRITES], v[CMS_F_PIDS], v[CMS_F_PIDS_LIMIT], x.rx_bps, x.tx_bps,
                       x.read_bps, x.write_bps);
        return r;
}
