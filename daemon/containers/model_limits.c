/* ContainerConfig -> engine create body: resources (cgroup limits in HostConfig) and the health
 * check (Config.Healthcheck, durations in nanoseconds). Limits follow what Docker 20.10 enforces,
 * so a bad value is refused with its field path before the engine refuses it in its own words. */
#define CMS_CONTAINER_MODEL_INTERNAL
#include "model.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>

#define MIN_MEMORY (6 * 1024 * 1024) /* Docker's linuxMinMemory */
#define MAX_CPUS   1024
#define MAX_CPUSET 8192 /* highest CPU number accepted in cpuset_cpus */

/* What was given, for the checks that span fields. */
struct limits {
        bool memory, swap, cpus, quota, period;
        int64_t memory_v, swap_v;
};

static int size_field(struct cms_cm *c, json_object *v, const char *path, int64_t *out)
{
        char shown[80];
        if (cms_json_size(v, out) < 0)
                return cms_cm_bad(c, path, "not a size: %s", cms_cm_show(v, shown, sizeof(shown)));
        return 0;
}

/* "0-2,4,7" : comma-separated CPU numbers or ascending ranges. */
static bool cpuset_valid(const char *s)
{
        if (!*s)
                return false;
        while (*s) {
                char *end;
                if (!isdigit((unsigned char)*s))
                        return false;
                long a = strtol(s, &end, 10), b = a;
                if (*end == '-') {
                        if (!isdigit((unsigned char)end[1]))
                                return false;
                        b = strtol(end + 1, &end, 10);
                }
                if (a > MAX_CPUSET || b > MAX_CPUSET || b < a)
                        return false;
                if (*end == ',' && end[1])
                        end++;
                else if (*end)
                        return false;
                s = end;
        }
        return true;
}

static int res_cpus(struct cms_cm *c, json_object *v, const char *path)
{
        char shown[80];
        double cpus;
        if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
                cpus = json_object_get_double(v);
        } else if (json_object_is_type(v, json_type_string)) {
                /* "1.5" as compose files and the docker CLI write it */
                const char *s = json_object_get_string(v);
                char *end;
                cpus = isdigit((unsigned char)*s) || *s == '.' ? strtod(s, &end) : NAN;
                if (isnan(cpus) || *end)
                        return cms_cm_bad(c, path, "not a number: %s",
                                          cms_cm_show(v, shown, sizeof(shown)));
        } else {
                return cms_cm_bad(c, path, "must be a number, not %s",
                                  cms_cm_show(v, shown, sizeof(shown)));
        }
        /* Docker refuses below 0.01 CPU (NanoCpus < 1e7). */
        if (!isfinite(cpus) || cpus < 0.01 || cpus > MAX_CPUS)
                return cms_cm_bad(c, path, "must be between 0.01 and %d, not %s", MAX_CPUS,
                                  cms_cm_show(v, shown, sizeof(shown)));
        json_object_object_add(c->hc, "NanoCpus", json_object_new_int64(llround(cpus * 1e9)));
        return 0;
}

static int res_memory_swap(struct cms_cm *c, json_object *v, const char *path, struct limits *l)
{
        const char *s = json_object_get_string(v);
        bool unlimited =
            (json_object_is_type(v, json_type_int) && json_object_get_int64(v) == -1) ||
            (json_object_is_type(v, json_type_string) && !strcmp(s, "-1"));
        int r = unlimited ? 0 : size_field(c, v, path, &l->swap_v);
        if (r < 0)
                return r;
        if (unlimited)
                l->swap_v = -1;
        /* Seen with Podman 4.3's compat API: MemorySwap -1 is turned into twice Memory. */
        if (unlimited && c->rt == CMS_RUNTIME_PODMAN)
                cms_cm_warn(c, "resources.memory_swap: unlimited swap (-1) is not supported by "
                               "podman, which limits swap to twice resources.memory");
        l->swap = true;
        json_object_object_add(c->hc, "MemorySwap", json_object_new_int64(l->swap_v));
        return 0;
}

static int res_field(struct cms_cm *c, const char *key, json_object *v, struct limits *l)
{
        static const struct {
                const char *key, *engine;
                int64_t min, max;
        } ints[] = {
            {"cpu_shares", "CpuShares", 2, 262144},
            {"cpu_quota", "CpuQuota", 1000, INT64_MAX},
            {"cpu_period", "CpuPeriod", 1000, 1000000},
            {"pids_limit", "PidsLimit", -1, INT64_MAX},
        };
        char path[64];
        int64_t n;
        int r;
        snprintf(path, sizeof(path), "resources.%s", key);
        for (size_t i = 0; i < ELEMENTSOF(ints); i++) {
                if (strcmp(key, ints[i].key))
                        continue;
                if ((r = cms_cm_int(c, v, path, ints[i].min, ints[i].max, &n)) < 0)
                        return r;
                json_object_object_add(c->hc, ints[i].engine, json_object_new_int64(n));
                l->quota |= !strcmp(key, "cpu_quota");
                l->period |= !strcmp(key, "cpu_period");
                return 0;
        }
        if (!strcmp(key, "memory")) {
                if ((r = size_field(c, v, path, &l->memory_v)) < 0)
                        return r;
                if (l->memory_v < MIN_MEMORY)
                        return cms_cm_bad(c, path, "minimum is 6MiB (%d bytes)", MIN_MEMORY);
                l->memory = true;
                json_object_object_add(c->hc, "Memory", json_object_new_int64(l->memory_v));
        } else if (!strcmp(key, "memory_swap")) {
                return res_memory_swap(c, v, path, l);
        } else if (!strcmp(key, "cpus")) {
                l->cpus = true;
                return res_cpus(c, v, path);
        } else if (!strcmp(key, "cpuset_cpus")) {
                const char *s;
                if ((r = cms_cm_string(c, v, path, &s)) < 0)
                        return r;
                if (!cpuset_valid(s))
                        return cms_cm_bad(c, path, "not a CPU list like \"0-2,4\": '%.64s'", s);
                json_object_object_add(c->hc, "CpusetCpus", json_object_new_string(s));
        } else if (!strcmp(key, "kernel_memory")) {
                /* Validated so a typo still fails, but never sent: Docker 20.10 deprecated it,
                 * cgroup v2 has no such limit and kernels >= 6.1 dropped it from v1. (The runtime
                 * is named here without cms_runtime_name() so this file needs no engine.c.) */
                if ((r = size_field(c, v, path, &n)) < 0)
                        return r;
                cms_cm_warn(c, "resources.kernel_memory is not supported by %s and was ignored",
                            c->rt == CMS_RUNTIME_PODMAN   ? "podman"
                            : c->rt == CMS_RUNTIME_DOCKER ? "docker"
                                                          : "the engine");
        }
        return 0;
}

int cms_cm_resources(struct cms_cm *c, json_object *v)
{
        static const char *const keys[] = {
            "memory", "memory_swap", "cpu_shares", "cpu_quota",     "cpu_period",
            "cpus",   "cpuset_cpus", "pids_limit", "kernel_memory", NULL};
        struct limits l = {0};
        int r = cms_cm_object_keys(c, v, "resources", keys);
        if (r < 0)
                return r;
        json_object_object_foreach(v, key, val)
        {
                if (r < 0)
                        return r;
                if (val)
                        r = res_field(c, key, val, &l);
        }
        if (r < 0)
                return r;
        if (l.cpus && (l.quota || l.period))
                return cms_cm_bad(c, "resources.cpus", "conflicts with %s (use one or the other)",
                                  l.quota ? "resources.cpu_quota" : "resources.cpu_period");
        if (l.swap && !l.memory)
                return cms_cm_bad(c, "resources.memory_swap", "needs resources.memory");
        if (l.swap && l.swap_v != -1 && l.swap_v < l.memory_v)
                return cms_cm_bad(c, "resources.memory_swap",
                                  "must be at least resources.memory (or -1 for unlimited swap)");
        return 0;
}

/* ---- health check ---- */

static int health_test(struct cms_cm *c, json_object *v, json_object *hc)
{
        const char *path = "health_check.test";
        json_object *test = NULL;
        if (json_object_is_type(v, json_type_string)) {
                if (!*json_object_get_string(v))
                        return cms_cm_bad(c, path, "empty command");
                test = json_object_new_array();
                json_object_array_add(test, json_object_new_string("CMD-SHELL"));
                json_object_array_add(test, json_object_new_string(json_object_get_string(v)));
                json_object_object_add(hc, "Test", test);
                return 0;
        }
        int r = cms_cm_string_array(c, v, path, &test);
        if (r < 0)
                return cms_cm_bad(c, path, "must be a string or an array of strings");
        json_object_object_add(hc, "Test", test);
        size_t n = json_object_array_length(test);
        if (n == 0) /* [] inherits the image's check */
                return 0;
        const char *kind = json_object_get_string(json_object_array_get_idx(test, 0));
        if (!strcmp(kind, "NONE")) {
                if (n != 1)
                        return cms_cm_bad(c, path, "[\"NONE\"] takes no arguments");
        } else if (!strcmp(kind, "CMD")) {
                if (n < 2)
                        return cms_cm_bad(c, path, "[\"CMD\", ...] needs a command");
        } else if (!strcmp(kind, "CMD-SHELL")) {
                if (n != 2 || !*json_object_get_string(json_object_array_get_idx(test, 1)))
                        return cms_cm_bad(c, path, "[\"CMD-SHELL\", \"command\"] takes one string");
        } else {
                return cms_cm_bad(c, path, "must start with \"CMD\", \"CMD-SHELL\" or \"NONE\"");
        }
        return 0;
}

/* "0", "0s", "0.0ms", "0h0m": zero as written, unlike "100us", which only rounds to 0 ms. */
static bool written_zero(json_object *v)
{
        if (json_object_is_type(v, json_type_int))
                return json_object_get_int64(v) == 0;
        const char *s = json_object_get_string(v);
        return s && !strpbrk(s, "123456789");
}

/* interval, timeout, start_period: as Docker's API has them, 0 is the engine's default (the
 * image's, else the engine's own: 30s, 30s, 0s), and anything else is at least 1ms. */
static int health_duration(struct cms_cm *c, json_object *v, const char *key, int64_t *ns)
{
        char path[64], shown[80];
        int64_t ms;
        snprintf(path, sizeof(path), "health_check.%s", key);
        bool negative =
            json_object_is_type(v, json_type_int)
                ? json_object_get_int64(v) < 0
                : json_object_is_type(v, json_type_string) && json_object_get_string(v)[0] == '-';
        if (negative)
                return cms_cm_bad(c, path, "must not be negative (0 is the engine's default): %s",
                                  cms_cm_show(v, shown, sizeof(shown)));
        if (cms_json_duration_ms(v, &ms) < 0 || ms > INT64_MAX / 1000000)
                return cms_cm_bad(c, path, "not a duration: %s",
                                  cms_cm_show(v, shown, sizeof(shown)));
        if (ms < 1 && !written_zero(v))
                return cms_cm_bad(c, path, "must be 0 (the engine's default) or at least 1ms");
        *ns = ms * 1000000;
        return 0;
}

int cms_cm_health(struct cms_cm *c, json_object *v)
{
        static const char *const keys[] = {"test",    "interval",     "timeout",
                                           "retries", "start_period", NULL};
        static const struct {
                const char *key, *engine;
        } durations[] = {
            {"interval", "Interval"}, {"timeout", "Timeout"}, {"start_period", "StartPeriod"}};
        int r = cms_cm_object_keys(c, v, "health_check", keys);
        if (r < 0)
                return r;
        json_object *hc = json_object_new_object(), *val;
        json_object_object_add(c->body, "Healthcheck", hc);
        if ((val = json_object_object_get(v, "test")) && (r = health_test(c, val, hc)) < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(durations); i++) {
                int64_t ns = 0;
                if (!(val = json_object_object_get(v, durations[i].key)))
                        continue;
                if ((r = health_duration(c, val, durations[i].key, &ns)) < 0)
                        return r;
                json_object_object_add(hc, durations[i].engine, json_object_new_int64(ns));
        }
        if ((val = json_object_object_get(v, "retries"))) {
                int64_t n;
                if ((r = cms_cm_int(c, val, "health_check.retries", 0, INT_MAX, &n)) < 0)
                        return r;
                json_object_object_add(hc, "Retries", json_object_new_int64(n));
        }
        return 0;
}
