/* daemon/security/: what a caller may do to the host through cmsd. policy.c is the pure
 * evaluator (no I/O, no locks: it calls only daemon/util.c, so the config reader and every
 * domain folder may use it and the unit tests run it alone); enforce.c looks the caller's policy
 * up in the live config and turns denials into 403 policy_denied for the domain managers, which
 * call it right before anything is sent to the engine.
 *
 * A policy answers, for everything that reaches the host: privileged containers, added
 * capabilities, bind mounts and volume options that bind (host path prefixes; the engine sockets
 * never, unless named exactly), host namespaces and container: networking, images, compose build
 * contexts and env_file (host directories), and other volume or network driver options. Create
 * bodies are checked as the engine will receive them, against a list of the members the
 * evaluator knows: a member it does not know is refused, so a field added to the model later
 * cannot slip past it. */
#pragma once

#include "../util.h"

#define CMS_POLICY_RESTRICTED   "restricted"
#define CMS_POLICY_UNRESTRICTED "unrestricted"
#define CMS_POLICY_MAX_LIST     64

struct cms_policy {
        char *name;
        bool unrestricted;    /* the built-in for admins: nothing is checked */
        bool privileged;      /* may run privileged containers */
        bool host_namespaces; /* network host / container:<id>, pid, ipc, uts, userns host */
        bool driver_options;  /* volume and network driver options (binds are path-checked) */
        char **cap_add;       /* canonical "CAP_X" names (or "ALL") that may be added */
        size_t n_cap_add;
        char **bind_paths; /* normalized absolute host path prefixes */
        size_t n_bind_paths;
        char **images; /* fnmatch patterns over the reference (":latest" when untagged) */
        size_t n_images;
        bool images_any;    /* no images key: any image */
        char **build_paths; /* normalized host directories for build contexts and env_file */
        size_t n_build_paths;
};

/* What the evaluator needs besides the policy. */
struct cms_policy_env {
        /* Engine sockets besides the well-known ones (Docker's, Podman's rootful one,
         * containerd's): a bind of one of them, or of a directory above one, is refused unless
         * the socket itself is in bind_paths. NULL-terminated; may be NULL. */
        const char *const *sockets;
        /* Containers a container: network may join (compose's own services). NULL-terminated. */
        const char *const *own_containers;
        /* The real host path of an existing path (symlinks resolved, malloc'd), or NULL; a bind
         * is allowed only when both the path as written and the real one are. NULL: lexical. */
        char *(*resolve)(const char *path);
        /* cmsd's own files for this container: the secrets and configs projects/ materialized
         * for the service after reading them under the caller's policy (CMS_PQ_READ). A
         * read-only bind of a file directly in this directory is not judged again. NULL: none. */
        const char *own_files;
};

/* The built-ins, static. */
const struct cms_policy *cms_policy_restricted(void);
const struct cms_policy *cms_policy_unrestricted(void);
void cms_policy_free(struct cms_policy *p);
/* A deep copy (of a built-in too: then freed like any other); NULL on OOM. */
struct cms_policy *cms_policy_dup(const struct cms_policy *p);

/* "net_admin", "CAP_NET_ADMIN", "cap_net_admin" -> "CAP_NET_ADMIN"; "all" -> "ALL"; into buf
 * (64 bytes is enough). False for a name the kernel does not have. */
bool cms_cap_canonical(const char *s, char *buf, size_t n);
/* An absolute path with "//", "." and ".." folded ("/a/../b/" -> "/b"); false when not absolute
 * or longer than n. */
bool cms_path_normalize(const char *in, char *out, size_t n);

/* Each check appends {rule, field, message} objects to denials for what p forbids and returns
 * how many it added (0: allowed). prefix starts every field path ("" or "services.web."). */

/* An engine create body (POST /containers/create), as the container model built it: field
 * paths are the ContainerConfig's (volumes[i].source, capabilities.add[i], network.network). */
int cms_policy_check_create(const struct cms_policy *p, const struct cms_policy_env *env,
                            json_object *body, const char *prefix, json_object *denials);
/* cmsd's volume body {name, driver, options, labels}. */
int cms_policy_check_volume(const struct cms_policy *p, const struct cms_policy_env *env,
                            json_object *body, const char *prefix, json_object *denials);
/* cmsd's network body {name, driver, options, ...}. */
int cms_policy_check_network(const struct cms_policy *p, const struct cms_policy_env *env,
                             json_object *body, const char *prefix, json_object *denials);
/* A host path the daemon itself will read (a compose build context or env_file). */
int cms_policy_check_host_read(const struct cms_policy *p, const struct cms_policy_env *env,
                               const char *path, const char *field, json_object *denials);
/* An image reference the caller wants run. */
int cms_policy_check_image(const struct cms_policy *p, const char *image, const char *field,
                           json_object *denials);

/* Shared by policy.c and policy_host.c: appends {rule, field: prefix+field, message}. */
void cms_policy_deny(json_object *denials, const char *rule, const char *prefix, const char *field,
                     const char *fmt, ...) CMS_PRINTF(5, 6);
/* policy_host.c: the HostConfig members of the compose runtime keys (Ulimits, Sysctls, Devices,
 * SecurityOpt, VolumesFrom, LogConfig, ...): the denials' count, or -1 for a member it does not
 * know. Fields are the compose keys (devices[0], sysctls.kernel.msgmax, security_opt[1]). */
int cms_policy_check_host_key(const struct cms_policy *p, const struct cms_policy_env *env,
                              json_object *hc, const char *k, json_object *v, const char *prefix,
                              json_object *denials);

/* The policy as JSON, for GET /v1/policy. */
json_object *cms_policy_json(const struct cms_policy *p);
