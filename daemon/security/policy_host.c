/* The policy over the compose runtime keys that reach the kernel or the engine's host side
 * (see policy.h). What stays inside the container's own limits passes (ulimits, group_add,
 * swappiness, blkio throttles, real-time CPU budgets, storage_opt, isolation, external links);
 * what reaches past them needs the policy's `privileged` (devices, device cgroup rules,
 * security_opt other than no-new-privileges, cgroup_parent, runtime, oom_kill_disable, a
 * negative oom_score_adj, volumes_from a container the project does not own, annotations the
 * OCI runtime reads); log drivers that write or send elsewhere than the engine's own per-
 * container files need `driver_options`; sysctls the kernel does not namespace per container
 * set the host's value and are refused to every policy but the unrestricted one. */
#include "policy.h"

#include <strings.h>

void cms_policy_deny(json_object *denials, const char *rule, const char *prefix, const char *field,
                     const char *fmt, ...)
{
        char msg[400], path[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        snprintf(path, sizeof(path), "%s%s", prefix, field);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "rule", json_object_new_string(rule));
        json_object_object_add(o, "field", json_object_new_string(path));
        json_object_object_add(o, "message", json_object_new_string(msg));
        json_object_array_add(denials, o);
}

#define deny cms_policy_deny

static const char *const safe[] = {"Ulimits",
                                   "GroupAdd",
                                   "MemorySwappiness",
                                   "BlkioWeight",
                                   "BlkioWeightDevice",
                                   "BlkioDeviceReadBps",
                                   "BlkioDeviceWriteBps",
                                   "BlkioDeviceReadIOps",
                                   "BlkioDeviceWriteIOps",
                                   "CpuCount",
                                   "CpuPercent",
                                   "CpuRealtimePeriod",
                                   "CpuRealtimeRuntime",
                                   "Isolation",
                                   "StorageOpt",
                                   "Links",
                                   NULL};

static bool in(const char *const *list, const char *k)
{
        for (size_t i = 0; list[i]; i++)
                if (!strcmp(list[i], k))
                        return true;
        return false;
}

static const char *jstr(json_object *o, const char *k)
{
        json_object *v = cms_json_get(o, k);
        return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* A member of the wrong JSON type (the container model and compose never write one, but the
 * evaluator must not walk an object that is not one): refused as a whole, named by its compose
 * key. JSON null and absence are nothing to judge. */
static int wrong_type(json_object *v, const char *what, const char *field, const char *prefix,
                      json_object *denials)
{
        if (!v || json_object_is_type(v, json_type_null))
                return 0;
        deny(denials, "unknown_field", prefix, field,
             "%s is not %s: the policy cannot judge it, so it is refused", field, what);
        return 1;
}

static bool is_obj(json_object *v)
{
        return json_object_is_type(v, json_type_object);
}

/* One denial per entry of a list member, each named key[i]. */
static int each_entry(const struct cms_policy *p, json_object *v, const char *key,
                      bool (*ok)(const struct cms_policy_env *, const char *),
                      const struct cms_policy_env *env, const char *prefix, json_object *denials)
{
        if (!json_object_is_type(v, json_type_array))
                return wrong_type(v, "a list", key, prefix, denials);
        int n = 0;
        for (size_t i = 0; i < cms_jlen(v); i++) {
                json_object *e = json_object_array_get_idx(v, i);
                const char *s = json_object_is_type(e, json_type_string) ? json_object_get_string(e)
                                                                         : jstr(e, "PathOnHost");
                if (p->privileged || (s && ok && ok(env, s)))
                        continue;
                char field[64];
                snprintf(field, sizeof(field), "%s[%zu]", key, i);
                deny(denials, "privileged", prefix, field,
                     "%s '%.100s' reaches the host: needs a privileged policy", key, s ? s : "?");
                n++;
        }
        return n;
}

static bool sec_ok(const struct cms_policy_env *env, const char *s)
{
        (void)env;
        return !strcmp(s, "no-new-privileges") || !strcmp(s, "no-new-privileges=true") ||
               !strcmp(s, "no-new-privileges:true");
}

/* "name[:ro|rw]" naming one of the project's own containers. */
static bool own_ok(const struct cms_policy_env *env, const char *s)
{
        size_t l = strcspn(s, ":");
        for (size_t i = 0; env && env->own_containers && env->own_containers[i]; i++)
                if (strlen(env->own_containers[i]) == l && !strncmp(s, env->own_containers[i], l))
                        return true;
        return false;
}

/* The sysctls a container's own namespaces hold (what runc and the engines accept): the IPC
 * ones unless the IPC namespace is the host's, net.* unless the network namespace is. */
static bool sysctl_namespaced(json_object *hc, const char *k)
{
        static const char *const ipc[] = {
            "kernel.msgmax", "kernel.msgmnb",          "kernel.msgmni",
            "kernel.sem",    "kernel.shmall",          "kernel.shmmax",
            "kernel.shmmni", "kernel.shm_rmid_forced", NULL};
        const char *net = jstr(hc, "NetworkMode"), *ipcm = jstr(hc, "IpcMode");
        if (in(ipc, k) || cms_str_has_prefix(k, "fs.mqueue."))
                return !ipcm || strcmp(ipcm, "host");
        if (cms_str_has_prefix(k, "net."))
                return !net || strcmp(net, "host");
        return false;
}

static int check_sysctls(json_object *hc, json_object *v, const char *prefix, json_object *denials)
{
        int n = 0;
        json_object_object_foreach(v, k, val)
        {
                (void)val;
                if (sysctl_namespaced(hc, k))
                        continue;
                char field[200];
                snprintf(field, sizeof(field), "sysctls.%.150s", k);
                deny(denials, "sysctls", prefix, field,
                     "%.100s is not namespaced per container: it would set the host's value "
                     "(only the unrestricted policy may)",
                     k);
                n++;
        }
        return n;
}

/* Annotations the OCI runtime or the engine acts on (crun's run.oci.*, Podman's own). */
static int check_annotations(const struct cms_policy *p, json_object *v, const char *prefix,
                             json_object *denials)
{
        static const char *const reserved[] = {
            "run.oci.",     "io.podman.", "io.containers.", "org.opencontainers.", "io.kubernetes.",
            "org.systemd.", NULL};
        int n = 0;
        json_object_object_foreach(v, k, val)
        {
                (void)val;
                bool hit = false;
                for (size_t i = 0; reserved[i] && !hit; i++)
                        hit = !strncasecmp(k, reserved[i], strlen(reserved[i]));
                if (!hit || p->privileged)
                        continue;
                char field[200];
                snprintf(field, sizeof(field), "annotations.%.150s", k);
                deny(denials, "privileged", prefix, field,
                     "annotation %.100s is read by the container runtime: needs a privileged "
                     "policy",
                     k);
                n++;
        }
        return n;
}

/* The engines' own log files (rotated by them) pass; drivers that write to the host's journal
 * or files elsewhere, or send over the network from the host, need driver_options. */
static int check_log(const struct cms_policy *p, json_object *v, const char *prefix,
                     json_object *denials)
{
        static const char *const drivers[] = {"", "json-file", "local", "none", "k8s-file", NULL};
        static const char *const opts[] = {
            "max-size", "max-file", "compress", "mode", "max-buffer-size",
            "tag",      "labels",   "env",      NULL};
        const char *type = jstr(v, "Type");
        int n = 0;
        if (p->driver_options)
                return 0;
        if (type && !in(drivers, type)) {
                deny(denials, "driver_options", prefix, "logging.driver",
                     "log driver %.64s writes outside the engine's container logs: needs "
                     "driver_options",
                     type);
                n++;
        }
        json_object *cfg = cms_json_get(v, "Config");
        if (!is_obj(cfg))
                return n + wrong_type(cfg, "an object", "logging.options", prefix, denials);
        json_object_object_foreach(cfg, k, val)
        {
                (void)val;
                if (in(opts, k))
                        continue;
                char field[200];
                snprintf(field, sizeof(field), "logging.options.%.100s", k);
                deny(denials, "driver_options", prefix, field,
                     "log option %.64s needs driver_options", k);
                n++;
        }
        return n;
}

static int one(const struct cms_policy *p, const char *field, bool bad, const char *msg,
               const char *prefix, json_object *denials)
{
        if (!bad || p->privileged)
                return 0;
        deny(denials, "privileged", prefix, field, "%s: needs a privileged policy", msg);
        return 1;
}

int cms_policy_check_host_key(const struct cms_policy *p, const struct cms_policy_env *env,
                              json_object *hc, const char *k, json_object *v, const char *prefix,
                              json_object *denials)
{
        if (in(safe, k))
                return 0;
        if (!strcmp(k, "Sysctls"))
                return is_obj(v) ? check_sysctls(hc, v, prefix, denials)
                                 : wrong_type(v, "an object", "sysctls", prefix, denials);
        if (!strcmp(k, "Annotations"))
                return is_obj(v) ? check_annotations(p, v, prefix, denials)
                                 : wrong_type(v, "an object", "annotations", prefix, denials);
        if (!strcmp(k, "LogConfig"))
                return is_obj(v) ? check_log(p, v, prefix, denials)
                                 : wrong_type(v, "an object", "logging", prefix, denials);
        if (!strcmp(k, "Devices"))
                return each_entry(p, v, "devices", NULL, env, prefix, denials);
        if (!strcmp(k, "DeviceCgroupRules"))
                return each_entry(p, v, "device_cgroup_rules", NULL, env, prefix, denials);
        if (!strcmp(k, "SecurityOpt"))
                return each_entry(p, v, "security_opt", sec_ok, env, prefix, denials);
        if (!strcmp(k, "VolumesFrom"))
                return each_entry(p, v, "volumes_from", own_ok, env, prefix, denials);
        if (!strcmp(k, "CgroupParent"))
                return one(p, "cgroup_parent", true, "a cgroup outside the engine's", prefix,
                           denials);
        if (!strcmp(k, "Runtime"))
                return one(p, "runtime", true, "another OCI runtime", prefix, denials);
        if (!strcmp(k, "OomKillDisable"))
                return one(p, "oom_kill_disable",
                           json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v),
                           "a container the OOM killer may not stop", prefix, denials);
        if (!strcmp(k, "OomScoreAdj"))
                return one(p, "oom_score_adj", json_object_get_int64(v) < 0,
                           "a negative OOM score puts the host's processes first in line", prefix,
                           denials);
        return -1;
}
