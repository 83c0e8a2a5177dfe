/* The host facts of machine_* and the writable layers' sizes (container_fs_usage_bytes): the
 * one figure that needs walking a directory tree, which the engine does when its list is asked
 * with size=1. Asked on a thread of its own, every sampler.fs_interval, with sampler.fs_timeout
 * as the cap on one call and the stop request polled while it runs: never on the scrape path,
 * never in the way of the syncer. The filesystem those layers live on (the engine's root
 * directory) gives container_fs_limit_bytes and the device label, when the engine is on this
 * host. */
#include "sampler_internal.h"

#include <sys/statvfs.h>

#include "../log.h"

#define LIST_MAX (16 * 1024 * 1024)

struct gather {
        struct cms_sampler *s;
        struct cms_buf body;
};

static int on_data(const char *data, size_t len, void *ud)
{
        struct gather *g = ud;
        return cms_buf_append(&g->body, data, len) < 0 ? 1 : 0;
}

static int should_stop(void *ud)
{
        struct gather *g = ud;
        pthread_mutex_lock(&g->s->lock);
        bool st = g->s->stop;
        pthread_mutex_unlock(&g->s->lock);
        return st;
}

/* The mount that holds path, from /proc/self/mountinfo: the longest mount point prefix. */
static void device_of(const char *path, char *dev, size_t cap)
{
        FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096];
        size_t best = 0;
        while (f && fgets(line, sizeof(line), f)) {
                /* id parent maj:min root mountpoint opts... - fstype source superopts */
                char mp[1024], src[512];
                const char *sep = strstr(line, " - ");
                if (!sep || sscanf(line, "%*s %*s %*s %*s %1023s", mp) != 1 ||
                    sscanf(sep + 3, "%*s %511s", src) != 1)
                        continue;
                size_t n = strlen(mp);
                bool under =
                    !strcmp(mp, "/") || (!strncmp(path, mp, n) && (path[n] == '/' || path[n] == 0));
                if (under && n >= best && strlen(src) < cap) {
                        best = n;
                        memcpy(dev, src, strlen(src) + 1);
                }
        }
        if (f)
                fclose(f);
}

/* The first line of a small file, without its newline; "" when not readable. */
static void first_line(const char *path, char *out, size_t cap)
{
        FILE *f = fopen(path, "re");
        out[0] = 0;
        if (f && fgets(out, (int)cap, f))
                out[strcspn(out, "\n")] = 0;
        if (f)
                fclose(f);
}

/* Once: the engine host's CPUs and memory (machine_*: the engine's /info, right for a remote
 * engine too), its ids when it is this host, and the engine's root directory with its
 * filesystem's size and device. */
static void host_facts(struct cms_sampler *s)
{
        _cleanup_json_ json_object *info = NULL;
        struct cms_error err = {0};
        if (cms_engine_json(s->engine, "GET", "/info", NULL, &info, &err) < 0)
                return;
        const char *root = json_object_get_string(cms_json_get(info, "DockerRootDir"));
        char dev[128] = "", boot[64] = "", machine[64] = "";
        struct statvfs vfs;
        uint64_t limit = 0;
        if (root && *root == '/' && !s->remote && statvfs(root, &vfs) == 0) {
                limit = (uint64_t)vfs.f_blocks * vfs.f_frsize;
                device_of(root, dev, sizeof(dev));
        }
        if (!s->remote) {
                first_line("/proc/sys/kernel/random/boot_id", boot, sizeof(boot));
                first_line("/etc/machine-id", machine, sizeof(machine));
        }
        pthread_mutex_lock(&s->lock);
        snprintf(s->fs_device, sizeof(s->fs_device), "%s", dev);
        s->fs_limit = limit;
        s->machine_cores = json_object_get_int64(cms_json_get(info, "NCPU"));
        s->machine_memory = (uint64_t)json_object_get_int64(cms_json_get(info, "MemTotal"));
        snprintf(s->boot_id, sizeof(s->boot_id), "%s", boot);
        snprintf(s->machine_id, sizeof(s->machine_id), "%s", machine);
        s->host_known = true;
        pthread_mutex_unlock(&s->lock);
}

static void apply(struct cms_sampler *s, json_object *list)
{
        size_t n = json_object_array_length(list);
        for (size_t i = 0; i < n; i++) {
                json_object *it = json_object_array_get_idx(list, i);
                const char *id = json_object_get_string(cms_json_get(it, "Id"));
                if (!id || strlen(id) != 64)
                        continue;
                struct cms_sampler_ctr *c = cms_sampler_find(s, id);
                if (!c)
                        continue;
                /* Docker leaves SizeRw out when it is 0. */
                int64_t rw = json_object_get_int64(cms_json_get(it, "SizeRw"));
                pthread_mutex_lock(&c->lock);
                c->info.extra.has_fs = true;
                c->info.extra.fs_usage = rw > 0 ? (uint64_t)rw : 0;
                pthread_mutex_unlock(&c->lock);
                cms_sampler_ctr_unref(c);
        }
}

static void fs_round(struct cms_sampler *s)
{
        struct gather g = {.s = s};
        struct cms_error err = {0};
        struct cms_engine_req req = {
            .method = "GET", .path = "/containers/json?size=1", .timeout_ms = s->fs_timeout_ms};
        cms_buf_init(&g.body, LIST_MAX);
        int r = cms_engine_stream(s->engine, &req, on_data, should_stop, &g, &err);
        json_object *list = NULL;
        if (r == 0 && !should_stop(&g) && cms_buf_append(&g.body, "", 1) == 0)
                list = json_tokener_parse(g.body.data);
        if (json_object_is_type(list, json_type_array))
                apply(s, list);
        else if (!should_stop(&g))
                log_debug("sampler: writable layer sizes not read: %s",
                          r < 0 ? err.message : "no list in the reply");
        json_object_put(list);
        cms_buf_free(&g.body);
}

void *cms_sampler_fs_main(void *arg)
{
        struct cms_sampler *s = arg;
        /* The host facts until the engine answers, then the first round soon after start, so a
         * scrape has the figures within seconds. */
        do
                host_facts(s);
        while (!s->host_known && !cms_sampler_sleep(s, 2000));
        if (s->fs_interval_ms <= 0 || cms_sampler_sleep(s, 2000))
                return NULL;
        do {
                fs_round(s);
                cms_sampler_note_cpu(s, T_FS);
        } while (!cms_sampler_sleep(s, s->fs_interval_ms));
        return NULL;
}
