/* cgroup v1 and v2 readers (see cgroup.h). v1 keeps one directory per controller (cpuacct, cpu,
 * memory, blkio, pids; combined mounts such as "cpu,cpuacct" too); v2 has one directory. The
 * numbers follow cAdvisor so that its dashboards read them the same way: working set = usage
 * minus inactive file pages, rss/cache from memory.stat, throttling from cpu.stat. */
#include "cgroup.h"
#include "tasks.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_BUF 8192
#define DIR_MAX  512 /* a longer cgroup path is not read (the engine's stats API is used) */
#define ELEMS(a) (sizeof(a) / sizeof((a)[0]))

enum v1_ctl { C_CPUACCT, C_CPU, C_MEMORY, C_BLKIO, C_PIDS, C_COUNT };
static const char *const v1_names[C_COUNT] = {"cpuacct", "cpu", "memory", "blkio", "pids"};

/* Files read every sample. v1 and v2 use different subsets. */
enum hot {
        H_CPU_USAGE,  /* v1 cpuacct.usage */
        H_CPU_ACCT,   /* v1 cpuacct.stat */
        H_CPU_STAT,   /* cpu.stat (both) */
        H_MEM_USAGE,  /* v1 memory.usage_in_bytes, v2 memory.current */
        H_MEM_STAT,   /* memory.stat */
        H_MEM_FAIL,   /* v1 memory.failcnt */
        H_MEM_EVENTS, /* v1 memory.oom_control, v2 memory.events */
        H_IO_BYTES,   /* v1 blkio...io_service_bytes_recursive, v2 io.stat */
        H_IO_OPS,     /* v1 blkio...io_serviced_recursive */
        H_PIDS,       /* pids.current */
        H_NET,        /* /proc/<pid>/net/dev */
        /* Read with the extras, every few rounds (kept open too: an open is 3-5 us here). */
        H_MEMSW,     /* v1 memory.memsw.usage_in_bytes, v2 memory.swap.current */
        H_MEM_PEAK,  /* v1 memory.max_usage_in_bytes, v2 memory.peak */
        H_PROCS,     /* cgroup.procs */
        H_TASKS,     /* v1 tasks, v2 cgroup.threads */
        H_INIT_STAT, /* /proc/<pid>/stat of the container's init */
        H_INIT_FDS,  /* /proc/<pid>/fd of the container's init (a directory) */
        H_COUNT
};

/* The memory.stat keys read: the first M_HOT every sample, the others for the extras, all in
 * the same pass over the file (v1 and v2 names differ; absent keys are flagged, not zeroed). */
enum mkey {
        M_INACTIVE_FILE,
        M_RSS,
        M_CACHE,
        M_TOTAL_INACTIVE_FILE,
        M_TOTAL_RSS,
        M_TOTAL_CACHE,
        M_MAPPED_FILE,
        M_TOTAL_MAPPED_FILE,
        M_SWAP,
        M_TOTAL_SWAP,
        M_PGFAULT,
        M_PGMAJFAULT,
        M_TOTAL_PGFAULT,
        M_TOTAL_PGMAJFAULT,
        M_COUNT
};

/* Counters that change rarely (and the process count) or only matter with a limit are re-read every
 * SLOW_EVERY rounds and carried over in between: each file read is a syscall that finds the
 * kernel's data cold after a second's sleep (3-10 us each here), and they are most of a sample's
 * cost. Throttling is read every round when the container has a CPU quota. */
#define SLOW_EVERY 5

struct cms_cgroup {
        int version;
        char path[512];
        char dir[C_COUNT][DIR_MAX]; /* v1: per controller; v2: dir[0] only; "": none */
        int fd[H_COUNT];
        long hz;
        unsigned rounds;
        bool quota;                 /* a CPU quota is set: throttling counters move */
        uint64_t kept[CMS_F_COUNT]; /* the slow fields' last values */
        int pid;                    /* the init whose stat and fd directory are open */
        /* memory.stat as last read by cms_cgroup_read: the extras reuse it in the same round. */
        uint64_t mstat[M_COUNT];
        unsigned mstat_has; /* bit per enum mkey */
        bool mstat_ok;
        uint64_t mem_usage; /* memory usage as last read */
};

/* Fields f[0..n) of s: from the files just read (fresh) or the values kept from the last read. */
static void carry(struct cms_cgroup *cg, struct cms_sample *s, const int *f, size_t n, bool fresh)
{
        for (size_t i = 0; i < n; i++) {
                if (fresh)
                        cg->kept[f[i]] = s->v[f[i]];
                else
                        s->v[f[i]] = cg->kept[f[i]];
        }
}

static const int cpu_throttle[] = {CMS_F_CPU_PERIODS, CMS_F_CPU_THROTTLED_PERIODS,
                                   CMS_F_CPU_THROTTLED_US};
static const int mem_events[] = {CMS_F_MEM_FAILCNT, CMS_F_MEM_OOM_KILLS};
static const int blk_ops[] = {CMS_F_BLK_READS, CMS_F_BLK_WRITES};
static const int pids[] = {CMS_F_PIDS};

static int errno_neg(void)
{
        return errno ? -errno : -EIO;
}

/* Re-reads an open cgroup/proc file from its start. */
static int read_fd(int fd, char *buf, size_t cap)
{
        size_t len = 0;
        while (len + 1 < cap) {
                ssize_t n = pread(fd, buf + len, cap - 1 - len, (off_t)len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno_neg();
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                /* seq_file hands out all it has at once: a short read is the end, and saves a
                 * second syscall per file. */
                if ((size_t)n < cap - 1 - (len - (size_t)n))
                        break;
        }
        buf[len] = 0;
        return (int)len;
}

static int open_in(const char *dir, const char *name)
{
        char p[PATH_MAX];
        if (!dir[0] || snprintf(p, sizeof(p), "%s/%s", dir, name) >= (int)sizeof(p))
                return -1;
        return open(p, O_RDONLY | O_CLOEXEC);
}

static bool is_dir(const char *p)
{
        struct stat st;
        return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The v1 directory of controller c for a /proc/<pid>/cgroup line "N:ctl1,ctl2:/path". */
static void v1_dir(const char *sys_root, const char *ctls, const char *path, char *out)
{
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/%s%s", sys_root, ctls, path);
        if (strlen(p) < DIR_MAX && is_dir(p)) {
                strcpy(out, p);
                return;
        }
        /* "cpu,cpuacct" may be mounted under either name alone (symlinks on most distros). */
        char list[256];
        snprintf(list, sizeof(list), "%s", ctls);
        for (char *save = NULL, *t = strtok_r(list, ",", &save); t;
             t = strtok_r(NULL, ",", &save)) {
                snprintf(p, sizeof(p), "%s/%s%s", sys_root, t, path);
                if (strlen(p) < DIR_MAX && is_dir(p)) {
                        strcpy(out, p);
                        return;
                }
        }
}

static bool has_ctl(const char *ctls, const char *name)
{
        size_t n = strlen(name);
        for (const char *p = ctls; (p = strstr(p, name)); p += n)
                if ((p == ctls || p[-1] == ',') && (p[n] == 0 || p[n] == ','))
                        return true;
        return false;
}

/* Parses /proc/<pid>/cgroup into cg (version, dirs, path). */
static int locate(struct cms_cgroup *cg, const char *sys_root, const char *text)
{
        char v2path[512] = "";
        bool v2 = false;
        char buf[4096];
        snprintf(buf, sizeof(buf), "%s", text);
        for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                char *c1 = strchr(line, ':');
                char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2)
                        continue;
                *c1 = *c2 = 0;
                const char *ctls = c1 + 1, *path = c2 + 1;
                if (!strcmp(line, "0") && !*ctls) {
                        v2 = true;
                        snprintf(v2path, sizeof(v2path), "%s", path);
                        continue;
                }
                for (int c = 0; c < C_COUNT; c++)
                        if (has_ctl(ctls, v1_names[c]))
                                v1_dir(sys_root, ctls, path, cg->dir[c]);
                if (has_ctl(ctls, "memory"))
                        snprintf(cg->path, sizeof(cg->path), "%s", path);
        }
        if (cg->dir[C_MEMORY][0] || cg->dir[C_CPUACCT][0]) {
                cg->version = 1;
                return 0;
        }
        if (cg->path[0]) /* a v1 memory line whose directory is not there */
                return -ENOENT;
        if (!v2)
                return -ENOTSUP;
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/cgroup.controllers", sys_root);
        bool pure = access(p, F_OK) == 0;
        if (snprintf(cg->dir[0], DIR_MAX, "%s%s%s", sys_root, pure ? "" : "/unified", v2path) >=
            DIR_MAX)
                return -ENOTSUP;
        snprintf(cg->path, sizeof(cg->path), "%s", v2path);
        if (!is_dir(cg->dir[0]))
                return -ENOENT;
        cg->version = 2;
        return 0;
}

static void open_hot(struct cms_cgroup *cg)
{
        if (cg->version == 1) {
                const char *blk = cg->dir[C_BLKIO];
                cg->fd[H_CPU_USAGE] = open_in(cg->dir[C_CPUACCT], "cpuacct.usage");
                cg->fd[H_CPU_ACCT] = open_in(cg->dir[C_CPUACCT], "cpuacct.stat");
                cg->fd[H_CPU_STAT] = open_in(cg->dir[C_CPU], "cpu.stat");
                cg->fd[H_MEM_USAGE] = open_in(cg->dir[C_MEMORY], "memory.usage_in_bytes");
                cg->fd[H_MEM_STAT] = open_in(cg->dir[C_MEMORY], "memory.stat");
                cg->fd[H_MEM_FAIL] = open_in(cg->dir[C_MEMORY], "memory.failcnt");
                cg->fd[H_MEM_EVENTS] = open_in(cg->dir[C_MEMORY], "memory.oom_control");
                cg->fd[H_IO_BYTES] = open_in(blk, "blkio.throttle.io_service_bytes_recursive");
                if (cg->fd[H_IO_BYTES] < 0)
                        cg->fd[H_IO_BYTES] = open_in(blk, "blkio.io_service_bytes_recursive");
                cg->fd[H_IO_OPS] = open_in(blk, "blkio.throttle.io_serviced_recursive");
                if (cg->fd[H_IO_OPS] < 0)
                        cg->fd[H_IO_OPS] = open_in(blk, "blkio.io_serviced_recursive");
                cg->fd[H_PIDS] = open_in(cg->dir[C_PIDS], "pids.current");
                cg->fd[H_MEMSW] = open_in(cg->dir[C_MEMORY], "memory.memsw.usage_in_bytes");
                cg->fd[H_MEM_PEAK] = open_in(cg->dir[C_MEMORY], "memory.max_usage_in_bytes");
                /* Any controller's directory lists the same tasks; pids is where runc puts them. */
                const char *t = cg->dir[C_PIDS][0] ? cg->dir[C_PIDS] : cg->dir[C_MEMORY];
                cg->fd[H_PROCS] = open_in(t, "cgroup.procs");
                cg->fd[H_TASKS] = open_in(t, "tasks");
                return;
        }
        const char *d = cg->dir[0];
        cg->fd[H_CPU_STAT] = open_in(d, "cpu.stat");
        cg->fd[H_MEM_USAGE] = open_in(d, "memory.current");
        cg->fd[H_MEM_STAT] = open_in(d, "memory.stat");
        cg->fd[H_MEM_EVENTS] = open_in(d, "memory.events");
        cg->fd[H_IO_BYTES] = open_in(d, "io.stat");
        cg->fd[H_PIDS] = open_in(d, "pids.current");
        cg->fd[H_MEMSW] = open_in(d, "memory.swap.current");
        cg->fd[H_MEM_PEAK] = open_in(d, "memory.peak"); /* Linux 5.19 and later */
        cg->fd[H_PROCS] = open_in(d, "cgroup.procs");
        cg->fd[H_TASKS] = open_in(d, "cgroup.threads");
}

/* The init's /proc entries the extras read: its state and its open files. */
static void open_init(struct cms_cgroup *cg, const char *proc_root, int pid)
{
        char p[PATH_MAX];
        cg->pid = pid;
        snprintf(p, sizeof(p), "%s/%d/stat", proc_root, pid);
        cg->fd[H_INIT_STAT] = open(p, O_RDONLY | O_CLOEXEC);
        snprintf(p, sizeof(p), "%s/%d/fd", proc_root, pid);
        cg->fd[H_INIT_FDS] = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int cms_cgroup_open(const char *sys_root, const char *proc_root, int pid, struct cms_cgroup **out)
{
        char p[PATH_MAX], text[4096];
        if (pid <= 0)
                return -ENOENT;
        snprintf(p, sizeof(p), "%s/%d/cgroup", proc_root, pid);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT || errno == ESRCH ? -ENOENT : errno_neg();
        int n = read_fd(fd, text, sizeof(text));
        close(fd);
        if (n <= 0)
                return n < 0 ? n : -ENOENT;
        struct cms_cgroup *cg = calloc(1, sizeof(*cg));
        if (!cg)
                return -ENOMEM;
        for (int i = 0; i < H_COUNT; i++)
                cg->fd[i] = -1;
        cg->hz = sysconf(_SC_CLK_TCK);
        if (cg->hz <= 0)
                cg->hz = 100;
        int r = locate(cg, sys_root, text);
        if (r < 0) {
                free(cg);
                return r;
        }
        open_hot(cg);
        /* Without the usage file nothing useful can be read: refuse, so the caller falls back. */
        int must = cg->version == 1 ? H_CPU_USAGE : H_CPU_STAT;
        if (cg->fd[must] < 0 && cg->fd[H_MEM_USAGE] < 0) {
                r = errno == EACCES || errno == EPERM ? -EACCES : -ENOENT;
                cms_cgroup_close(cg);
                return r;
        }
        snprintf(p, sizeof(p), "%s/%d/net/dev", proc_root, pid);
        cg->fd[H_NET] = open(p, O_RDONLY | O_CLOEXEC);
        open_init(cg, proc_root, pid);
        *out = cg;
        return 0;
}

void cms_cgroup_close(struct cms_cgroup *cg)
{
        if (!cg)
                return;
        for (int i = 0; i < H_COUNT; i++)
                if (cg->fd[i] >= 0)
                        close(cg->fd[i]);
        free(cg);
}

int cms_cgroup_version(const struct cms_cgroup *cg)
{
        return cg->version;
}

const char *cms_cgroup_path(const struct cms_cgroup *cg)
{
        return cg->path;
}

/* Decimal digits to a number, saturating (strtoull's result for these files, without its
 * locale and base handling). */
static uint64_t dec(const char *s)
{
        uint64_t v = 0;
        for (; *s >= '0' && *s <= '9'; s++) {
                unsigned d = (unsigned)(*s - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return UINT64_MAX;
                v = v * 10 + d;
        }
        return v;
}

static uint64_t to_u64(const char *s)
{
        while (*s == ' ' || *s == '\t')
                s++;
        if (!strncmp(s, "max", 3))
                return UINT64_MAX;
        if (*s == '-')
                return 0;
        return dec(s);
}

/* One pass over "key value" lines: vals[i] gets the value of keys[i] (untouched when absent);
 * bit i of the result says keys[i] was there. Each line's key is measured once and compared
 * only with keys of its length. */
static unsigned parse_kv(const char *text, const char *const *keys, uint64_t *vals, size_t n)
{
        size_t kl[32];
        unsigned seen = 0;
        n = n < ELEMS(kl) ? n : ELEMS(kl);
        for (size_t i = 0; i < n; i++)
                kl[i] = strlen(keys[i]);
        for (const char *l = text; *l;) {
                size_t len = strcspn(l, " \t\n");
                if (len && (l[len] == ' ' || l[len] == '\t')) {
                        for (size_t i = 0; i < n; i++) {
                                if (kl[i] == len && !memcmp(l, keys[i], len)) {
                                        vals[i] = to_u64(l + len + 1);
                                        seen |= 1u << i;
                                        break;
                                }
                        }
                }
                const char *nl = strchr(l + len, '\n');
                if (!nl)
                        break;
                l = nl + 1;
        }
        return seen;
}

/* memory.stat's keys in enum mkey order, as v1 and v2 name them ("" where a version has none). */
static const char *const mkeys_v1[M_COUNT] = {"inactive_file", "rss",
                                              "cache",         "total_inactive_file",
                                              "total_rss",     "total_cache",
                                              "mapped_file",   "total_mapped_file",
                                              "swap",          "total_swap",
                                              "pgfault",       "pgmajfault",
                                              "total_pgfault", "total_pgmajfault"};
static const char *const mkeys_v2[M_COUNT] = {
    "inactive_file", "anon",       "file", "", "", "", "file_mapped", "", "", "",
    "pgfault",       "pgmajfault", "",     ""};

/* Parses memory.stat text into cg->mstat (what the hot fields and the extras use). */
static void parse_mstat(struct cms_cgroup *cg, const char *text)
{
        memset(cg->mstat, 0, sizeof(cg->mstat));
        cg->mstat_has = parse_kv(text, cg->version == 1 ? mkeys_v1 : mkeys_v2, cg->mstat, M_COUNT);
        cg->mstat_ok = true;
}

static bool mhas(const struct cms_cgroup *cg, enum mkey k)
{
        return cg->mstat_has & (1u << k);
}

/* The hierarchical (total_) value when the kernel gives it, else the cgroup's own. */
static uint64_t mtotal(const struct cms_cgroup *cg, enum mkey total, enum mkey own)
{
        return mhas(cg, total) ? cg->mstat[total] : cg->mstat[own];
}

static int read_text(struct cms_cgroup *cg, int h, char *buf)
{
        if (cg->fd[h] < 0)
                return -ENOENT;
        return read_fd(cg->fd[h], buf, READ_BUF);
}

/* Reads file h as a single number into *out; a missing file leaves *out alone. */
static int read_one(struct cms_cgroup *cg, int h, uint64_t *out)
{
        char buf[64];
        if (cg->fd[h] < 0)
                return 0;
        int n = read_fd(cg->fd[h], buf, sizeof(buf));
        if (n < 0)
                return n;
        if (n == 0)
                return -ENOENT;
        *out = to_u64(buf);
        return 0;
}

/* v1 blkio: "8:0 Read 4096" lines (and a "Total" line) summed over devices. */
static void parse_blkio_v1(const char *text, uint64_t *rd, uint64_t *wr)
{
        *rd = *wr = 0;
        for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
                const char *sp = strchr(l, ' ');
                if (!sp || !strchr("0123456789", l[0]))
                        continue;
                if (!strncmp(sp + 1, "Read ", 5))
                        *rd += to_u64(sp + 6);
                else if (!strncmp(sp + 1, "Write ", 6))
                        *wr += to_u64(sp + 7);
        }
}

/* v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 ..." summed over devices. */
static void parse_io_v2(const char *text, struct cms_sample *s)
{
        static const char *const keys[] = {"rbytes=", "wbytes=", "rios=", "wios="};
        static const int fields[] = {CMS_F_BLK_READ_BYTES, CMS_F_BLK_WRITE_BYTES, CMS_F_BLK_READS,
                                     CMS_F_BLK_WRITES};
        for (int i = 0; i < 4; i++)
                s->v[fields[i]] = 0;
        for (const char *p = text; *p; p++) {
                if (p != text && p[-1] != ' ')
                        continue;
                for (int i = 0; i < 4; i++) {
                        size_t kl = strlen(keys[i]);
                        if (!strncmp(p, keys[i], kl))
                                s->v[fields[i]] += strtoull(p + kl, NULL, 10);
                }
        }
}

static void working_set(struct cms_sample *s, uint64_t inactive_file)
{
        uint64_t u = s->v[CMS_F_MEM_USAGE];
        s->v[CMS_F_MEM_WORKING_SET] = u > inactive_file ? u - inactive_file : 0;
}

static int read_v1(struct cms_cgroup *cg, struct cms_sample *s, char *buf, bool slow)
{
        int r;
        uint64_t ns = 0;
        if ((r = read_one(cg, H_CPU_USAGE, &ns)) < 0)
                return r;
        s->v[CMS_F_CPU_USAGE_US] = ns / 1000;
        if (read_text(cg, H_CPU_ACCT, buf) >= 0) {
                static const char *const k[] = {"user", "system"};
                uint64_t v[2] = {0, 0};
                parse_kv(buf, k, v, 2);
                s->v[CMS_F_CPU_USER_US] = v[0] * 1000000 / (uint64_t)cg->hz;
                s->v[CMS_F_CPU_SYSTEM_US] = v[1] * 1000000 / (uint64_t)cg->hz;
        }
        bool thr = slow || cg->quota;
        if (thr && read_text(cg, H_CPU_STAT, buf) >= 0) {
                static const char *const k[] = {"nr_periods", "nr_throttled", "throttled_time"};
                uint64_t v[3] = {0, 0, 0};
                parse_kv(buf, k, v, 3);
                s->v[CMS_F_CPU_PERIODS] = v[0];
                s->v[CMS_F_CPU_THROTTLED_PERIODS] = v[1];
                s->v[CMS_F_CPU_THROTTLED_US] = v[2] / 1000;
        }
        carry(cg, s, cpu_throttle, ELEMS(cpu_throttle), thr);
        if ((r = read_one(cg, H_MEM_USAGE, &s->v[CMS_F_MEM_USAGE])) < 0)
                return r;
        cg->mem_usage = s->v[CMS_F_MEM_USAGE];
        cg->mstat_ok = false;
        if (read_text(cg, H_MEM_STAT, buf) >= 0) {
                /* The total_ (hierarchical) values when the kernel gives them. */
                parse_mstat(cg, buf);
                working_set(s, mtotal(cg, M_TOTAL_INACTIVE_FILE, M_INACTIVE_FILE));
                s->v[CMS_F_MEM_RSS] = mtotal(cg, M_TOTAL_RSS, M_RSS);
                s->v[CMS_F_MEM_CACHE] = mtotal(cg, M_TOTAL_CACHE, M_CACHE);
        }
        if (slow) {
                read_one(cg, H_MEM_FAIL, &s->v[CMS_F_MEM_FAILCNT]);
                if (read_text(cg, H_MEM_EVENTS, buf) >= 0) {
                        static const char *const k[] = {"oom_kill"};
                        parse_kv(buf, k, &s->v[CMS_F_MEM_OOM_KILLS], 1);
                }
                if (read_text(cg, H_IO_OPS, buf) >= 0)
                        parse_blkio_v1(buf, &s->v[CMS_F_BLK_READS], &s->v[CMS_F_BLK_WRITES]);
        }
        carry(cg, s, mem_events, ELEMS(mem_events), slow);
        carry(cg, s, blk_ops, ELEMS(blk_ops), slow);
        if (read_text(cg, H_IO_BYTES, buf) >= 0)
                parse_blkio_v1(buf, &s->v[CMS_F_BLK_READ_BYTES], &s->v[CMS_F_BLK_WRITE_BYTES]);
        if (slow)
                read_one(cg, H_PIDS, &s->v[CMS_F_PIDS]);
        carry(cg, s, pids, ELEMS(pids), slow);
        return 0;
}

static int read_v2(struct cms_cgroup *cg, struct cms_sample *s, char *buf, bool slow)
{
        int r;
        if ((r = read_text(cg, H_CPU_STAT, buf)) < 0)
                return r;
        static const char *const ck[] = {"usage_usec", "user_usec",    "system_usec",
                                         "nr_periods", "nr_throttled", "throttled_usec"};
        uint64_t cv[6] = {0, 0, 0, 0, 0, 0};
        parse_kv(buf, ck, cv, 6);
        s->v[CMS_F_CPU_USAGE_US] = cv[0];
        s->v[CMS_F_CPU_USER_US] = cv[1];
        s->v[CMS_F_CPU_SYSTEM_US] = cv[2];
        s->v[CMS_F_CPU_PERIODS] = cv[3];
        s->v[CMS_F_CPU_THROTTLED_PERIODS] = cv[4];
        s->v[CMS_F_CPU_THROTTLED_US] = cv[5];
        if ((r = read_one(cg, H_MEM_USAGE, &s->v[CMS_F_MEM_USAGE])) < 0)
                return r;
        cg->mem_usage = s->v[CMS_F_MEM_USAGE];
        cg->mstat_ok = false;
        if (read_text(cg, H_MEM_STAT, buf) >= 0) {
                parse_mstat(cg, buf); /* v2 names: anon and file */
                working_set(s, cg->mstat[M_INACTIVE_FILE]);
                s->v[CMS_F_MEM_RSS] = cg->mstat[M_RSS];
                s->v[CMS_F_MEM_CACHE] = cg->mstat[M_CACHE];
        }
        if (slow && read_text(cg, H_MEM_EVENTS, buf) >= 0) {
                /* "max": times usage hit the limit, v2's closest to v1's failcnt. */
                static const char *const k[] = {"max", "oom_kill"};
                uint64_t v[2] = {0, 0};
                parse_kv(buf, k, v, 2);
                s->v[CMS_F_MEM_FAILCNT] = v[0];
                s->v[CMS_F_MEM_OOM_KILLS] = v[1];
        }
        carry(cg, s, mem_events, ELEMS(mem_events), slow);
        if (read_text(cg, H_IO_BYTES, buf) >= 0)
                parse_io_v2(buf, s);
        if (slow)
                read_one(cg, H_PIDS, &s->v[CMS_F_PIDS]);
        carry(cg, s, pids, ELEMS(pids), slow);
        return 0;
}

int cms_cgroup_read(struct cms_cgroup *cg, struct cms_sample *s)
{
        char buf[READ_BUF];
        bool slow = cg->rounds++ % SLOW_EVERY == 0;
        int r = cg->version == 1 ? read_v1(cg, s, buf, slow) : read_v2(cg, s, buf, slow);
        if (r == -ENODEV || r == -ESRCH)
                r = -ENOENT;
        return r;
}

int cms_netdev_parse(const char *text, struct cms_netdev *ifs, size_t max, size_t *n,
                     struct cms_sample *s)
{
        *n = 0;
        for (int f = CMS_F_NET_RX_BYTES; f <= CMS_F_NET_TX_DROPPED; f++)
                s->v[f] = 0;
        for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
                const char *colon = strchr(l, ':');
                const char *eol = strchr(l, '\n');
                if (!colon || (eol && colon > eol))
                        continue;
                const char *nm = l;
                while (*nm == ' ')
                        nm++;
                size_t nl = (size_t)(colon - nm);
                if (nl == 0 || nl >= sizeof(ifs[0].name) || (nl == 2 && !strncmp(nm, "lo", 2)))
                        continue;
                /* 16 columns: rx bytes packets errs drop fifo frame compressed multicast, then tx
                 * bytes packets errs drop fifo colls carrier compressed. */
                uint64_t col[16] = {0};
                char *p = (char *)colon + 1;
                int k;
                for (k = 0; k < 16; k++) {
                        char *end;
                        col[k] = strtoull(p, &end, 10);
                        if (end == p)
                                break;
                        p = end;
                }
                if (k < 16)
                        continue;
                uint64_t v[8] = {col[0], col[1], col[2], col[3], col[8], col[9], col[10], col[11]};
                for (int f = 0; f < 8; f++)
                        s->v[CMS_F_NET_RX_BYTES + f] += v[f];
                if (*n < max) {
                        memcpy(ifs[*n].name, nm, nl);
                        ifs[*n].name[nl] = 0;
                        memcpy(ifs[*n].v, v, sizeof(v));
                        (*n)++;
                }
        }
        return 0;
}

int cms_cgroup_read_net(struct cms_cgroup *cg, struct cms_netdev *ifs, size_t max, size_t *n,
                        struct cms_sample *s)
{
        char buf[READ_BUF];
        int r = read_text(cg, H_NET, buf);
        if (r < 0) {
                *n = 0;
                return r == -ESRCH ? -ENOENT : r;
        }
        return cms_netdev_parse(buf, ifs, max, n, s);
}

/* Reads a small file of dir fully (spec files, opened only when needed). */
static int slurp(const char *dir, const char *name, char *buf, size_t cap)
{
        int fd = open_in(dir, name);
        if (fd < 0)
                return -ENOENT;
        int n = read_fd(fd, buf, cap);
        close(fd);
        return n;
}

/* A single number from an open file; false when the file is not there or empty. */
static bool fd_u64(struct cms_cgroup *cg, int h, uint64_t *out)
{
        char buf[64];
        if (cg->fd[h] < 0 || read_fd(cg->fd[h], buf, sizeof(buf)) <= 0)
                return false;
        *out = to_u64(buf);
        return true;
}

static void mem_extra(struct cms_cgroup *cg, struct cms_ctr_extra *x, char *buf)
{
        bool v1 = cg->version == 1;
        /* memory.stat as the sample of this round read it; read here only without one. */
        if (!cg->mstat_ok && read_text(cg, H_MEM_STAT, buf) >= 0)
                parse_mstat(cg, buf);
        x->has_mem = cg->mstat_ok;
        if (x->has_mem && v1) {
                /* The hierarchical (total_) values when the kernel gives them. */
                x->mem_mapped_file = mtotal(cg, M_TOTAL_MAPPED_FILE, M_MAPPED_FILE);
                x->has_swap = mhas(cg, M_TOTAL_SWAP) || mhas(cg, M_SWAP);
                x->mem_swap = mtotal(cg, M_TOTAL_SWAP, M_SWAP);
                x->pgfault = cg->mstat[M_PGFAULT];
                x->pgmajfault = cg->mstat[M_PGMAJFAULT];
                x->total_pgfault = mtotal(cg, M_TOTAL_PGFAULT, M_PGFAULT);
                x->total_pgmajfault = mtotal(cg, M_TOTAL_PGMAJFAULT, M_PGMAJFAULT);
        } else if (x->has_mem) {
                x->mem_mapped_file = cg->mstat[M_MAPPED_FILE];
                x->pgfault = x->total_pgfault = cg->mstat[M_PGFAULT];
                x->pgmajfault = x->total_pgmajfault = cg->mstat[M_PGMAJFAULT];
        }
        /* Swap in use: v1 memory+swap minus memory (as cAdvisor), v2 its own file. */
        uint64_t memsw = 0;
        if (v1 && fd_u64(cg, H_MEMSW, &memsw)) {
                if (!cg->mstat_ok) /* no sample this round: the usage now */
                        fd_u64(cg, H_MEM_USAGE, &cg->mem_usage);
                x->mem_swap = memsw > cg->mem_usage ? memsw - cg->mem_usage : 0;
                x->has_swap = true;
        } else if (!v1) {
                x->has_swap = fd_u64(cg, H_MEMSW, &x->mem_swap);
        }
        /* v2 has a peak only from Linux 5.19 (memory.peak). */
        x->has_max_usage = fd_u64(cg, H_MEM_PEAK, &x->mem_max_usage);
}

/* The task lists' buffer: one, for the one thread that reads extras at a time (the sampler). */
static pthread_mutex_t lists_lock = PTHREAD_MUTEX_INITIALIZER;
static char lists[2][CMS_TASKS_MAX * 8 + 1];

int cms_cgroup_read_extra(struct cms_cgroup *cg, const char *proc_root, struct cms_ctr_extra *x)
{
        char buf[READ_BUF];
        mem_extra(cg, x, buf);
        x->has_proc = false;
        pthread_mutex_lock(&lists_lock);
        char *procs = lists[0], *tasks = lists[1];
        if (cg->fd[H_PROCS] >= 0 && read_fd(cg->fd[H_PROCS], procs, sizeof(lists[0])) >= 0) {
                if (cg->fd[H_TASKS] < 0 || read_fd(cg->fd[H_TASKS], tasks, sizeof(lists[1])) < 0)
                        tasks = NULL;
                struct cms_proc_init init = {
                    .pid = cg->pid, .stat_fd = cg->fd[H_INIT_STAT], .fd_dir = cg->fd[H_INIT_FDS]};
                cms_proc_scan(proc_root, procs, tasks, &init, x);
                /* Threads: pids.current counts every task of the cgroup, as cAdvisor's
                 * container_threads does; without the pids controller, the tasks listed. */
                uint64_t n = 0;
                if (read_one(cg, H_PIDS, &n) == 0 && cg->fd[H_PIDS] >= 0)
                        x->threads = n;
                else
                        for (const char *p = tasks; p && *p; p++)
                                x->threads += *p == '\n';
        }
        pthread_mutex_unlock(&lists_lock);
        return x->has_mem || x->has_proc ? 0 : -ENOENT;
}

static uint64_t limit_of(const char *s)
{
        uint64_t v = to_u64(s);
        /* "max", or v1's page-rounded 2^63: no limit (reported as 0, as cAdvisor does). */
        return v >= (1ull << 62) ? 0 : v;
}

int cms_cgroup_read_spec(struct cms_cgroup *cg, struct cms_cgroup_spec *spec)
{
        char buf[128];
        memset(spec, 0, sizeof(*spec));
        spec->cpu_quota_us = -1;
        spec->cpu_period_us = 100000;
        spec->cpu_shares = 1024;
        if (cg->version == 1) {
                if (slurp(cg->dir[C_CPU], "cpu.cfs_quota_us", buf, sizeof(buf)) > 0)
                        spec->cpu_quota_us = strtoll(buf, NULL, 10);
                if (slurp(cg->dir[C_CPU], "cpu.cfs_period_us", buf, sizeof(buf)) > 0)
                        spec->cpu_period_us = strtoll(buf, NULL, 10);
                if (slurp(cg->dir[C_CPU], "cpu.shares", buf, sizeof(buf)) > 0)
                        spec->cpu_shares = strtoll(buf, NULL, 10);
                if (slurp(cg->dir[C_MEMORY], "memory.limit_in_bytes", buf, sizeof(buf)) > 0)
                        spec->mem_limit = limit_of(buf);
                if (slurp(cg->dir[C_PIDS], "pids.max", buf, sizeof(buf)) > 0)
                        spec->pids_limit = limit_of(buf);
                if (slurp(cg->dir[C_MEMORY], "memory.memsw.limit_in_bytes", buf, sizeof(buf)) > 0)
                        spec->mem_swap_limit = limit_of(buf);
                if (slurp(cg->dir[C_MEMORY], "memory.soft_limit_in_bytes", buf, sizeof(buf)) > 0)
                        spec->mem_reservation = limit_of(buf);
                cg->quota = spec->cpu_quota_us > 0;
                return 0;
        }
        const char *d = cg->dir[0];
        if (slurp(d, "cpu.max", buf, sizeof(buf)) > 0) {
                char *sp = strchr(buf, ' ');
                spec->cpu_quota_us = strncmp(buf, "max", 3) ? strtoll(buf, NULL, 10) : -1;
                if (sp)
                        spec->cpu_period_us = strtoll(sp + 1, NULL, 10);
        }
        if (slurp(d, "cpu.weight", buf, sizeof(buf)) > 0) {
                /* runc maps shares to weight as 1 + (shares - 2) * 9999 / 262142; invert it. */
                int64_t w = strtoll(buf, NULL, 10);
                if (w >= 1 && w <= 10000)
                        spec->cpu_shares = 2 + (w - 1) * 262142 / 9999;
        }
        if (slurp(d, "memory.max", buf, sizeof(buf)) > 0)
                spec->mem_limit = limit_of(buf);
        if (slurp(d, "pids.max", buf, sizeof(buf)) > 0)
                spec->pids_limit = limit_of(buf);
        /* cgroup v2 limits swap on its own; memory+swap, v1's (and cAdvisor's) meaning, is
         * the sum, and only when both are limited. */
        if (slurp(d, "memory.swap.max", buf, sizeof(buf)) > 0 && strncmp(buf, "max", 3) &&
            spec->mem_limit)
                spec->mem_swap_limit = spec->mem_limit + to_u64(buf);
        if (slurp(d, "memory.low", buf, sizeof(buf)) > 0)
                spec->mem_reservation = limit_of(buf);
        return 0;
}
