/* Rendering what the sampler holds: Prometheus text exposition (cAdvisor's metric names and
 * labels, plus cmsd's own metrics) and the JSON documents of /v1/metrics, /v1/monitor and
 * /v1/containers/{id}/stats. Pure functions over copies taken by the sampler: no locks, no I/O. */
#pragma once

#include "../util.h"
#include "cgroup.h"
#include "ring.h"

enum cms_ctr_state { CMS_CTR_RUNNING, CMS_CTR_PAUSED, CMS_CTR_STOPPED };
enum cms_ctr_health {
        CMS_HEALTH_NONE,
        CMS_HEALTH_STARTING,
        CMS_HEALTH_HEALTHY,
        CMS_HEALTH_UNHEALTHY
};
const char *cms_ctr_state_name(int state);
const char *cms_ctr_health_name(int health);

/* One container as the exports see it: a copy made under the sampler's lock. */
struct cms_ctr_info {
        char id[65];
        char name[256];
        char image[512];
        char project[128], service[128]; /* compose labels, "" when absent */
        char cg_path[256];               /* cgroup path, cAdvisor's "id" label; "" when unknown */
        int state, health;
        int64_t started_at; /* unix seconds, 0 when unknown */
        bool engine_mode;   /* sampled through the engine's stats API, not the cgroup files */
        struct cms_cgroup_spec spec;
        bool has_latest, has_prev;
        struct cms_sample latest, prev;
        struct cms_netdev ifs[CMS_NET_MAX_IFACES];
        size_t n_ifs;
        struct cms_ctr_extra extra;
        /* The engine's labels as Prometheus labels (",container_label_x=\"v\"..."), set once
         * (a container's labels never change) and freed with the container's record: valid
         * while a reference to the record is held. NULL: none, or left out by the config. */
        const char *prom_labels;
        const char *engine; /* its engine's name when cmsd has several (an engine label); NULL */
};

/* cmsd's own metrics. */
struct cms_http_count {
        const char *route;
        int code;
        uint64_t n;
};
struct cms_self_metrics {
        /* The host: machine_cpu_cores, machine_memory_bytes; the writable layers' filesystem
         * (its device and size, 0 when unknown: container_fs_limit_bytes). */
        int64_t cpu_cores; /* 0: unknown, no series */
        uint64_t memory_bytes;
        const char *boot_id, *machine_id;
        const char *fs_device;
        uint64_t fs_limit;
        uint64_t samples_total;
        double cpu_seconds;
        size_t containers;
        const char *mode;
        uint64_t ring_bytes, ring_data_bytes, ring_samples;
        double round_seconds;
        bool engine_up;
        const struct cms_http_count *http;
        size_t n_http;
        /* With several engines: this one's name (an engine label on its series), and the other
         * engines' sampler figures and engine_up, written as more series of the same families
         * (their host, fs and http members are not read). */
        const char *engine;
        const struct cms_self_metrics *more;
        size_t n_more;
};

/* Rates between two samples of the same container. Counters that went down (a restart) count
 * from zero, as Prometheus' rate() does. */
struct cms_rates {
        double cpu_percent; /* of one CPU: 200 = two CPUs busy */
        double rx_bps, tx_bps, read_bps, write_bps;
};
void cms_sample_rates(const struct cms_sample *prev, const struct cms_sample *cur,
                      struct cms_rates *out);

/* Prometheus text format 0.0.4. Containers that are not running or paused, or have no sample
 * yet, are left out. -E2BIG when out's cap is reached. */
int cms_export_prometheus(const struct cms_ctr_info *c, size_t n,
                          const struct cms_self_metrics *self, struct cms_buf *out);

/* A label value escaped for the text format (\\, \", \n), appended to out. */
int cms_prom_escape(struct cms_buf *out, const char *s);

/* JSON pieces. A container's series: {"id",...,"points":[...]} with the points newer than
 * since_ms (0: all), the newest max_points of them (0: no limit). Each point carries the rates
 * from the sample before it, so the ring's oldest sample gives no point. *newest_ms is raised to
 * the time of the last point written (unchanged when none). */
int cms_export_json_series(struct cms_buf *out, const struct cms_ctr_info *c,
                           const struct cms_ring_snap *snap, int64_t since_ms, size_t max_points,
                           int64_t *newest_ms);
/* Just the points array of the above: "[...]". */
int cms_export_json_points(struct cms_buf *out, const struct cms_ring_snap *snap, int64_t since_ms,
                           size_t max_points, int64_t *newest_ms);
/* The latest sample in full (absolute counters, rates, interfaces, limits) as a JSON object,
 * or null when there is none. */
int cms_export_json_latest(struct cms_buf *out, const struct cms_ctr_info *c);
/* The container's description fields without braces: "id":..,"name":..,... */
int cms_export_json_meta(struct cms_buf *out, const struct cms_ctr_info *c);
/* One compact point (time + rates + gauges) from two samples, as a JSON object. */
int cms_export_json_point(struct cms_buf *out, const struct cms_sample *prev,
                          const struct cms_sample *cur);
/* A JSON string literal. */
int cms_json_quote(struct cms_buf *out, const char *s);
