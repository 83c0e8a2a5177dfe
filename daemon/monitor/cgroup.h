/* Reading a container's stats straight from the kernel: its cgroup files (v1 or v2, found from
 * /proc/<pid>/cgroup of the container's init) and /proc/<pid>/net/dev for its network namespace.
 * Files read every sample stay open and are re-read with pread, so a sample is a handful of
 * syscalls and no path lookups. No locks and no logging: the sampler thread owns each handle. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ring.h"

/* Resource limits as the cgroup states them. */
struct cms_cgroup_spec {
        int64_t cpu_quota_us; /* -1: no quota */
        int64_t cpu_period_us;
        int64_t cpu_shares;  /* v2: converted from cpu.weight */
        uint64_t mem_limit;  /* 0: unlimited */
        uint64_t pids_limit; /* 0: unlimited */
        uint64_t mem_swap_limit;  /* v1 memory+swap (memsw), v2 memory.max + swap.max; 0: none */
        uint64_t mem_reservation; /* v1 soft_limit_in_bytes, v2 memory.low; 0: none */
};

/* What /metrics shows beyond the ring's fields: latest values only, read every few rounds.
 * The has_ flags say which parts were read (a series is left out rather than shown as 0). */
enum cms_task_state {
        CMS_TASK_SLEEPING,
        CMS_TASK_RUNNING,
        CMS_TASK_STOPPED,
        CMS_TASK_UNINTERRUPTIBLE,
        CMS_TASK_STATES
};
struct cms_ctr_extra {
        bool has_mem, has_max_usage, has_swap;
        uint64_t mem_swap, mem_mapped_file, mem_max_usage;
        uint64_t pgfault, pgmajfault;             /* the cgroup itself ("container" scope) */
        uint64_t total_pgfault, total_pgmajfault; /* with its descendants ("hierarchy") */
        bool has_proc;
        uint64_t processes, threads, fds, sockets;
        uint64_t tasks[CMS_TASK_STATES];
        bool has_fs; /* the writable layer's size, asked of the engine in the background */
        uint64_t fs_usage;
};

/* One interface of /proc/<pid>/net/dev; v[] in the order of CMS_F_NET_RX_BYTES.. (rx bytes,
 * packets, errors, dropped, then the same for tx). */
#define CMS_NET_MAX_IFACES 8
struct cms_netdev {
        char name[16];
        uint64_t v[8];
};

struct cms_cgroup;

/* Finds pid's cgroup from <proc_root>/<pid>/cgroup and opens its files under sys_root
 * ("/sys/fs/cgroup", "/proc" on a real host; a fixture tree in tests). -ENOENT when the process
 * or its cgroup is gone, -EACCES when not readable, -ENOTSUP for a layout it cannot read. */
int cms_cgroup_open(const char *sys_root, const char *proc_root, int pid, struct cms_cgroup **out);
void cms_cgroup_close(struct cms_cgroup *cg);
int cms_cgroup_version(const struct cms_cgroup *cg); /* 1 or 2 */
/* The cgroup path as the kernel names it ("/docker/<id>"): cAdvisor's "id" label. */
const char *cms_cgroup_path(const struct cms_cgroup *cg);

/* Fills the CPU, memory (but the limit), block I/O and pids fields of s. -ENOENT (or -ESRCH,
 * -ENODEV) when the cgroup went away meanwhile. */
int cms_cgroup_read(struct cms_cgroup *cg, struct cms_sample *s);
/* Network counters of the container's namespace: per interface (loopback left out) into ifs
 * (up to max, count in *n) and summed into the CMS_F_NET_* fields of s. */
int cms_cgroup_read_net(struct cms_cgroup *cg, struct cms_netdev *ifs, size_t max, size_t *n,
                        struct cms_sample *s);
/* Memory extras and the processes, threads, open files and sockets, task states of the
 * cgroup's tasks (from /proc under proc_root): a few syscalls per task, so the sampler reads
 * them every few rounds; at most 4096 tasks are looked at. fs fields are left alone. */
int cms_cgroup_read_extra(struct cms_cgroup *cg, const char *proc_root, struct cms_ctr_extra *x);
/* Limits; read when asked (at attach and after an update), not every sample. */
int cms_cgroup_read_spec(struct cms_cgroup *cg, struct cms_cgroup_spec *spec);

/* The parsers, for the unit tests and the engine fallback. */
int cms_netdev_parse(const char *text, struct cms_netdev *ifs, size_t max, size_t *n,
                     struct cms_sample *s);
