/* The policy evaluator (see policy.h): pure checks over engine create bodies and cmsd's volume
 * and network bodies, each denial a {rule, field, message} object. */
#include "policy.h"

#include <fnmatch.h>
#include <limits.h>
#include <strings.h>

/* Linux capabilities up to 5.9 (CHECKPOINT_RESTORE); "ALL" is the engines' wildcard. */
static const char *const capabilities[] = {
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
};

/* Sockets that hand out the host: Docker's, Podman's rootful one, containerd's. */
static const char *const default_sockets[] = {
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/podman/podman.sock",
    "/var/run/podman/podman.sock",
    "/run/containerd/containerd.sock",
    "/var/run/containerd/containerd.sock",
    NULL,
};

static struct cms_policy restricted = {.name = CMS_POLICY_RESTRICTED, .images_any = true};
static struct cms_policy unrestricted = {.name = CMS_POLICY_UNRESTRICTED,
                                         .unrestricted = true,
                                         .privileged = true,
                                         .host_namespaces = true,
                                         .driver_options = true,
                                         .images_any = true};

const struct cms_policy *cms_policy_restricted(void)
{
        return &restricted;
}

const struct cms_policy *cms_policy_unrestricted(void)
{
        return &unrestricted;
}

static void strv_free(char **v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}

static char **strv_dup(char *const *v, size_t n, bool *oom)
{
        char **d = calloc(n + 1, sizeof(char *));
        for (size_t i = 0; d && i < n; i++)
                if (!(d[i] = strdup(v[i])))
                        *oom = true;
        *oom = *oom || !d;
        return d;
}

struct cms_policy *cms_policy_dup(const struct cms_policy *p)
{
        struct cms_policy *d = calloc(1, sizeof(*d));
        bool oom = !d;
        if (!d)
                return NULL;
        *d = *p;
        d->name = strdup(p->name);
        d->cap_add = strv_dup(p->cap_add, p->n_cap_add, &oom);
        d->bind_paths = strv_dup(p->bind_paths, p->n_bind_paths, &oom);
        d->images = strv_dup(p->images, p->n_images, &oom);
        d->build_paths = strv_dup(p->build_paths, p->n_build_paths, &oom);
        if (oom || !d->name) {
                cms_policy_free(d);
                return NULL;
        }
        return d;
}

void cms_policy_free(struct cms_policy *p)
{
        if (!p || p == &restricted || p == &unrestricted)
                return;
        free(p->name);
        strv_free(p->cap_add, p->n_cap_add);
        strv_free(p->bind_paths, p->n_bind_paths);
        strv_free(p->images, p->n_images);
        strv_free(p->build_paths, p->n_build_paths);
        free(p);
}

bool cms_cap_canonical(const char *s, char *buf, size_t n)
{
        const char *bare = strncasecmp(s, "CAP_", 4) ? s : s + 4;
        if (!strcasecmp(bare, "ALL")) {
                snprintf(buf, n, "ALL");
                return true;
        }
        for (size_t i = 0; i < ELEMENTSOF(capabilities); i++)
                if (!strcasecmp(bare, capabilities[i])) {
                        snprintf(buf, n, "CAP_%s", capabilities[i]);
                        return true;
                }
        return false;
}

bool cms_path_normalize(const char *in, char *out, size_t n)
{
        if (!in || in[0] != '/' || n < 2)
                return false;
        size_t len = 0;
        out[len++] = '/';
        for (const char *p = in; *p;) {
                while (*p == '/')
                        p++;
                const char *e = p;
                while (*e && *e != '/')
                        e++;
                size_t cl = (size_t)(e - p);
                if (cl == 0 || (cl == 1 && p[0] == '.')) {
                        /* nothing */
                } else if (cl == 2 && p[0] == '.' && p[1] == '.') {
                        while (len > 1 && out[len - 1] != '/')
                                len--;
                        if (len > 1)
                                len--; /* the '/' before the dropped component */
                } else {
                        if (len > 1)
                                out[len++] = '/';
                        if (len + cl + 1 > n)
                                return false;
                        memcpy(out + len, p, cl);
                        len += cl;
                }
                p = e;
                if (len + 2 > n)
                        return false;
        }
        out[len] = 0;
        return true;
}

#define deny cms_policy_deny

/* path equals prefix or lies below it (both normalized). */
static bool under(const char *path, const char *prefix)
{
        size_t l = strlen(prefix);
        if (!strcmp(prefix, "/"))
                return true;
        return !strncmp(path, prefix, l) && (path[l] == 0 || path[l] == '/');
}

static bool listed(char *const *v, size_t n, const char *s)
{
        for (size_t i = 0; i < n; i++)
                if (!strcmp(v[i], s))
                        return true;
        return false;
}

static bool under_any(char *const *v, size_t n, const char *path)
{
        for (size_t i = 0; i < n; i++)
                if (under(path, v[i]))
                        return true;
        return false;
}

/* One spelling of a bind source (as written, or resolved): sockets, then the allowed prefixes. */
static int bind_one(const struct cms_policy *p, const struct cms_policy_env *env, const char *path,
                    const char *prefix, const char *field, json_object *denials)
{
        const char *const *extra = env && env->sockets ? env->sockets : NULL;
        size_t nd = ELEMENTSOF(default_sockets) - 1;
        for (size_t i = 0; i < nd || (extra && extra[i - nd]); i++) {
                const char *sock = i < nd ? default_sockets[i] : extra[i - nd];
                char s[PATH_MAX];
                if (!cms_path_normalize(sock, s, sizeof(s)) || !under(s, path) ||
                    listed(p->bind_paths, p->n_bind_paths, s))
                        continue;
                deny(denials, "engine_socket", prefix, field,
                     "'%.200s' %s the engine socket %s, which is root on the host", path,
                     strcmp(s, path) ? "holds" : "is", s);
                return 1;
        }
        if (under_any(p->bind_paths, p->n_bind_paths, path))
                return 0;
        deny(denials, "bind_paths", prefix, field,
             "host path '%.200s' is outside the policy's bind_paths", path);
        return 1;
}

/* A host path bound into a container: as written and, when it exists, as the kernel will see it
 * (a symlink inside an allowed directory must not lead out of it). */
static int check_path(const struct cms_policy *p, const struct cms_policy_env *env, const char *src,
                      const char *prefix, const char *field, json_object *denials, bool bind)
{
        char norm[PATH_MAX];
        if (!cms_path_normalize(src, norm, sizeof(norm))) {
                deny(denials, bind ? "bind_paths" : "build_paths", prefix, field,
                     "'%.200s' is not an absolute host path", src);
                return 1;
        }
        _cleanup_free_ char *real = env && env->resolve ? env->resolve(norm) : NULL;
        char rnorm[PATH_MAX];
        bool other = real && cms_path_normalize(real, rnorm, sizeof(rnorm)) && strcmp(rnorm, norm);
        if (bind) {
                int n = bind_one(p, env, norm, prefix, field, denials);
                return n ? n : other ? bind_one(p, env, rnorm, prefix, field, denials) : 0;
        }
        if (under_any(p->build_paths, p->n_build_paths, norm) &&
            (!other || under_any(p->build_paths, p->n_build_paths, rnorm)))
                return 0;
        deny(denials, "build_paths", prefix, field,
             "host path '%.200s'%s is outside the policy's build_paths", norm,
             other ? " (or where its links lead)" : "");
        return 1;
}

int cms_policy_check_host_read(const struct cms_policy *p, const struct cms_policy_env *env,
                               const char *path, const char *field, json_object *denials)
{
        if (p->unrestricted)
                return 0;
        return check_path(p, env, path, "", field, denials, false);
}

int cms_policy_check_image(const struct cms_policy *p, const char *image, const char *field,
                           json_object *denials)
{
        if (p->unrestricted || p->images_any)
                return 0;
        if (!image || !*image) {
                deny(denials, "images", "", field, "no image named");
                return 1;
        }
        /* "busybox" is "busybox:latest" to the engine, and so to the patterns. */
        const char *slash = strrchr(image, '/');
        bool tagged = strchr(image, '@') || strchr(slash ? slash : image, ':');
        char ref[1100];
        snprintf(ref, sizeof(ref), "%s%s", image, tagged ? "" : ":latest");
        for (size_t i = 0; i < p->n_images; i++)
                if (fnmatch(p->images[i], ref, 0) == 0)
                        return 0;
        deny(denials, "images", "", field, "image '%.200s' matches none of the policy's images",
             ref);
        return 1;
}

static bool is_true(json_object *v)
{
        return json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

static const char *jstr(json_object *o, const char *k)
{
        json_object *v = cms_json_get(o, k);
        return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int check_caps(const struct cms_policy *p, json_object *caps, const char *prefix,
                      json_object *denials)
{
        int n = 0;
        size_t len = cms_jlen(caps);
        for (size_t i = 0; i < len; i++) {
                const char *s = json_object_get_string(json_object_array_get_idx(caps, i));
                char canon[64], field[48];
                snprintf(field, sizeof(field), "capabilities.add[%zu]", i);
                if (!s || !cms_cap_canonical(s, canon, sizeof(canon)) ||
                    !listed(p->cap_add, p->n_cap_add, canon)) {
                        deny(denials, "cap_add", prefix, field,
                             "adding capability %.64s is not in the policy's cap_add", s ? s : "?");
                        n++;
                }
        }
        return n;
}

/* "host", "container:<id>" (unless one of the caller's own), and for pid/ipc/uts/userns "host". */
static int check_mode(const struct cms_policy *p, const struct cms_policy_env *env, const char *key,
                      const char *mode, const char *prefix, const char *field, json_object *denials)
{
        if (!mode || p->host_namespaces)
                return 0;
        bool joined = cms_str_has_prefix(mode, "container:");
        if (joined && env && env->own_containers)
                for (size_t i = 0; env->own_containers[i]; i++)
                        if (!strcmp(mode + 10, env->own_containers[i]))
                                return 0;
        if (strcmp(mode, "host") && !joined)
                return 0;
        deny(denials, "host_namespaces", prefix, field, "%s '%.100s' shares the %s's namespace",
             key, mode, joined ? "other container" : "host");
        return 1;
}

/* A read-only bind of a file cmsd materialized for this service (a secret or config). */
static bool own_file(const struct cms_policy_env *env, json_object *m)
{
        const char *src = jstr(m, "Source");
        char norm[PATH_MAX];
        if (!env || !env->own_files || !src || !is_true(cms_json_get(m, "ReadOnly")) ||
            !cms_path_normalize(src, norm, sizeof(norm)))
                return false;
        size_t l = strlen(env->own_files);
        return !strncmp(norm, env->own_files, l) && norm[l] == '/' && norm[l + 1] &&
               !strchr(norm + l + 1, '/');
}

static int check_mounts(const struct cms_policy *p, const struct cms_policy_env *env,
                        json_object *mounts, const char *prefix, json_object *denials)
{
        int n = 0;
        size_t len = cms_jlen(mounts);
        for (size_t i = 0; i < len; i++) {
                json_object *m = json_object_array_get_idx(mounts, i);
                const char *type = jstr(m, "Type");
                char field[48];
                snprintf(field, sizeof(field), "volumes[%zu].source", i);
                if (type && !strcmp(type, "bind") && own_file(env, m)) {
                        continue;
                } else if (type && !strcmp(type, "bind")) {
                        n += check_path(p, env, jstr(m, "Source") ? jstr(m, "Source") : "", prefix,
                                        field, denials, true);
                } else if (type && !strcmp(type, "volume")) {
                        json_object *vo = cms_json_get(m, "VolumeOptions");
                        if (cms_json_get(vo, "DriverConfig") && !p->driver_options) {
                                deny(denials, "driver_options", prefix, field,
                                     "volume driver options need driver_options");
                                n++;
                        }
                } else if (!type || strcmp(type, "tmpfs")) {
                        deny(denials, "unknown_field", prefix, field, "mount type '%.32s'",
                             type ? type : "(none)");
                        n++;
                }
        }
        return n;
}

/* "src:dst[:opts]" strings; a src without '/' is a named volume. */
static int check_binds(const struct cms_policy *p, const struct cms_policy_env *env,
                       json_object *binds, const char *prefix, json_object *denials)
{
        int n = 0;
        size_t len = cms_jlen(binds);
        for (size_t i = 0; i < len; i++) {
                const char *b = json_object_get_string(json_object_array_get_idx(binds, i));
                char src[PATH_MAX], field[48];
                snprintf(field, sizeof(field), "HostConfig.Binds[%zu]", i);
                const char *colon = b ? strchr(b, ':') : NULL;
                size_t sl = colon ? (size_t)(colon - b) : (b ? strlen(b) : 0);
                if (!b || sl >= sizeof(src)) {
                        deny(denials, "bind_paths", prefix, field, "unreadable bind");
                        n++;
                        continue;
                }
                memcpy(src, b, sl);
                src[sl] = 0;
                if (src[0] == '/')
                        n += check_path(p, env, src, prefix, field, denials, true);
        }
        return n;
}

/* HostConfig members that do not reach past the container's own limits. */
static const char *const host_safe[] = {
    "Memory",
    "MemorySwap",
    "MemoryReservation",
    "NanoCpus",
    "CpuShares",
    "CpuQuota",
    "CpuPeriod",
    "CpusetCpus",
    "PidsLimit",
    "KernelMemory",
    "ShmSize",
    "RestartPolicy",
    "AutoRemove",
    "ReadonlyRootfs",
    "PortBindings",
    "Dns",
    "DnsSearch",
    "DnsOptions",
    "ExtraHosts",
    "Init",
    "CapDrop",
    "Tmpfs",
    NULL,
};
/* Namespace modes: the field is the compose key (ContainerConfig has only network). */
static const char *const modes[][2] = {
    {"NetworkMode", "network.network"},
    {"PidMode", "pid"},
    {"IpcMode", "ipc"},
    {"UTSMode", "uts"},
    {"UsernsMode", "userns_mode"},
    {"CgroupnsMode", "cgroup"},
};

static bool in_list(const char *const *list, const char *k)
{
        for (size_t i = 0; list[i]; i++)
                if (!strcmp(list[i], k))
                        return true;
        return false;
}

static int check_host_member(const struct cms_policy *p, const struct cms_policy_env *env,
                             json_object *hc, const char *k, json_object *v, const char *prefix,
                             json_object *denials)
{
        char field[96];
        if (in_list(host_safe, k))
                return 0;
        if (!strcmp(k, "Privileged")) {
                if (!is_true(v) || p->privileged)
                        return 0;
                deny(denials, "privileged", prefix, "privileged",
                     "privileged containers are not allowed by the policy");
                return 1;
        }
        if (!strcmp(k, "CapAdd"))
                return check_caps(p, v, prefix, denials);
        if (!strcmp(k, "Mounts"))
                return check_mounts(p, env, v, prefix, denials);
        if (!strcmp(k, "Binds"))
                return check_binds(p, env, v, prefix, denials);
        for (size_t i = 0; i < ELEMENTSOF(modes); i++)
                if (!strcmp(k, modes[i][0]))
                        return check_mode(p, env, k, json_object_get_string(v), prefix, modes[i][1],
                                          denials);
        int n = cms_policy_check_host_key(p, env, hc, k, v, prefix, denials);
        if (n >= 0)
                return n;
        snprintf(field, sizeof(field), "HostConfig.%s", k);
        deny(denials, "unknown_field", prefix, field,
             "%s is not a member the policy knows, so it is refused", k);
        return 1;
}

/* Create-body members outside HostConfig that stay inside the container. */
static const char *const body_safe[] = {
    "Cmd",          "Entrypoint",   "Env",        "Labels",       "User",
    "WorkingDir",   "Hostname",     "Domainname", "ExposedPorts", "Healthcheck",
    "StopSignal",   "StopTimeout",  "Tty",        "OpenStdin",    "AttachStdin",
    "AttachStdout", "AttachStderr", "StdinOnce",  "MacAddress",   NULL,
};

int cms_policy_check_create(const struct cms_policy *p, const struct cms_policy_env *env,
                            json_object *body, const char *prefix, json_object *denials)
{
        if (p->unrestricted)
                return 0;
        int n = 0;
        if (!json_object_is_type(body, json_type_object)) {
                deny(denials, "unknown_field", prefix, "", "the create body is not an object");
                return 1;
        }
        json_object_object_foreach(body, k, v)
        {
                if (in_list(body_safe, k))
                        continue;
                /* The members walked below must be objects; the model never writes another type,
                 * and what the evaluator cannot walk it refuses. */
                bool walked = !strcmp(k, "HostConfig") || !strcmp(k, "NetworkingConfig");
                if (walked && !json_object_is_type(v, json_type_object)) {
                        if (v) {
                                deny(denials, "unknown_field", prefix, k,
                                     "%s is not an object, so it is refused", k);
                                n++;
                        }
                        continue;
                }
                if (!strcmp(k, "Image")) {
                        char field[256];
                        snprintf(field, sizeof(field), "%simage", prefix);
                        n += cms_policy_check_image(p, json_object_get_string(v), field, denials);
                } else if (!strcmp(k, "HostConfig")) {
                        json_object_object_foreach(v, hk, hv) n +=
                            check_host_member(p, env, v, hk, hv, prefix, denials);
                } else if (!strcmp(k, "NetworkingConfig")) {
                        json_object *eps = cms_json_get(v, "EndpointsConfig");
                        if (eps && !json_object_is_type(eps, json_type_object)) {
                                deny(denials, "unknown_field", prefix, "network",
                                     "NetworkingConfig.EndpointsConfig is not an object");
                                n++;
                                continue;
                        }
                        if (!eps)
                                continue;
                        json_object_object_foreach(eps, net, ep)
                        {
                                (void)ep;
                                n += check_mode(p, env, "network", net, prefix, "network.network",
                                                denials);
                        }
                } else {
                        deny(denials, "unknown_field", prefix, k,
                             "%s is not a member the policy knows, so it is refused", k);
                        n++;
                }
        }
        return n;
}

/* The local driver's options that make a bind ({type: none, o: bind, device: /path}). */
static bool is_bind_options(json_object *opts)
{
        const char *type = jstr(opts, "type"), *o = jstr(opts, "o");
        bool bind = type && !strcmp(type, "none");
        for (const char *s = o; s && *s && !bind;) {
                size_t l = strcspn(s, ",");
                bind = (l == 4 && !strncmp(s, "bind", 4)) || (l == 5 && !strncmp(s, "rbind", 5));
                s += l + (s[l] == ',');
        }
        return bind;
}

/* {type: tmpfs[, device: tmpfs][, o: size=..,mode=..]}: a memory-backed volume. */
static bool is_tmpfs_options(json_object *opts)
{
        const char *type = jstr(opts, "type"), *dev = jstr(opts, "device");
        if (!type || strcmp(type, "tmpfs") || (dev && strcmp(dev, "tmpfs")))
                return false;
        json_object_object_foreach(opts, k, v)
        {
                (void)v;
                if (strcmp(k, "type") && strcmp(k, "device") && strcmp(k, "o"))
                        return false;
        }
        return true;
}

int cms_policy_check_volume(const struct cms_policy *p, const struct cms_policy_env *env,
                            json_object *body, const char *prefix, json_object *denials)
{
        if (p->unrestricted)
                return 0;
        json_object *opts = cms_json_get(body, "options");
        if (!json_object_is_type(opts, json_type_object) || !json_object_object_length(opts))
                return 0;
        const char *driver = jstr(body, "driver");
        bool local = !driver || !strcmp(driver, "local");
        if (local && is_tmpfs_options(opts))
                return 0; /* memory, not the host's files */
        if (local && is_bind_options(opts)) {
                int n = check_path(p, env, jstr(opts, "device") ? jstr(opts, "device") : "", prefix,
                                   "options.device", denials, true);
                json_object_object_foreach(opts, k, v)
                {
                        (void)v;
                        if (strcmp(k, "type") && strcmp(k, "o") && strcmp(k, "device") &&
                            !p->driver_options) {
                                char field[96];
                                snprintf(field, sizeof(field), "options.%s", k);
                                deny(denials, "driver_options", prefix, field,
                                     "volume option %.64s needs driver_options", k);
                                n++;
                        }
                }
                return n;
        }
        if (p->driver_options)
                return 0;
        deny(denials, "driver_options", prefix, "options",
             "volume driver options (other than a bind) need driver_options");
        return 1;
}

int cms_policy_check_network(const struct cms_policy *p, const struct cms_policy_env *env,
                             json_object *body, const char *prefix, json_object *denials)
{
        (void)env;
        if (p->unrestricted || p->driver_options)
                return 0;
        int n = 0;
        const char *driver = jstr(body, "driver");
        if (driver && (!strcmp(driver, "macvlan") || !strcmp(driver, "ipvlan"))) {
                deny(denials, "driver_options", prefix, "driver",
                     "a %s network attaches to the host's interfaces: needs driver_options",
                     driver);
                n++;
        }
        json_object *opts = cms_json_get(body, "options");
        if (json_object_is_type(opts, json_type_object) && json_object_object_length(opts)) {
                deny(denials, "driver_options", prefix, "options",
                     "network driver options need driver_options");
                n++;
        }
        return n;
}

static json_object *strv_json(char *const *v, size_t n)
{
        json_object *a = json_object_new_array();
        for (size_t i = 0; i < n; i++)
                json_object_array_add(a, json_object_new_string(v[i]));
        return a;
}

json_object *cms_policy_json(const struct cms_policy *p)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(p->name));
        json_object_object_add(o, "builtin",
                               json_object_new_boolean(p == &restricted || p == &unrestricted));
        json_object_object_add(o, "unrestricted", json_object_new_boolean(p->unrestricted));
        json_object_object_add(o, "privileged", json_object_new_boolean(p->privileged));
        json_object_object_add(o, "host_namespaces", json_object_new_boolean(p->host_namespaces));
        json_object_object_add(o, "driver_options", json_object_new_boolean(p->driver_options));
        json_object_object_add(o, "cap_add", strv_json(p->cap_add, p->n_cap_add));
        json_object_object_add(o, "bind_paths", strv_json(p->bind_paths, p->n_bind_paths));
        json_object_object_add(o, "images",
                               p->images_any ? NULL : strv_json(p->images, p->n_images));
        json_object_object_add(o, "build_paths", strv_json(p->build_paths, p->n_build_paths));
        return o;
}
