/* daemon/compose/: pure compose work; it may call daemon/util.c and images/reference.c,
 * nothing that does I/O, and only projects/ calls it.
 *
 * The compose model: a compose file (Compose Specification, as Docker Compose v2 reads it) parsed
 * with libyaml, interpolated and normalized into typed structures, plus the pure planning
 * functions on it (dependency levels, container names, Docker Compose's labels and config hash)
 * and the service -> ContainerConfig translation. Nothing here does I/O or logs, so the apply,
 * store and route code build on it and the unit tests run without an engine.
 *
 * Flow: text -> cms_compose_parse() (YAML tree with caps, interpolation of every scalar value,
 * typed model, reference checks) -> cms_compose_plan_new() (order; cycles refused) ->
 * per service and replica: cms_compose_container_name(), cms_compose_config_hash(),
 * cms_compose_service_labels(), cms_compose_translate(). */
#pragma once

#include "../util.h"

/* Caps on what a compose document may cost (each over-the-cap case is a 400, never a crash). */
#define CMS_COMPOSE_MAX_BYTES    (1024 * 1024)     /* the YAML text */
#define CMS_COMPOSE_MAX_DEPTH    32                /* nesting, aliases included */
#define CMS_COMPOSE_MAX_NODES    100000            /* nodes after alias and merge expansion */
#define CMS_COMPOSE_MAX_ALIASES  10000             /* alias references */
#define CMS_COMPOSE_MAX_ANCHORS  1000              /* anchor definitions */
#define CMS_COMPOSE_MAX_VALUE    (256 * 1024)      /* one scalar after interpolation */
#define CMS_COMPOSE_MAX_EXPANDED (8 * 1024 * 1024) /* all interpolated scalars together */
#define CMS_COMPOSE_MAX_FILES    16                /* files merged into one project (-f a -f b) */
#define CMS_COMPOSE_MAX_SERVICES 1000
#define CMS_COMPOSE_MAX_REPLICAS 1000
#define CMS_COMPOSE_MAX_PORTS    4096 /* per service, after range expansion */
#define CMS_COMPOSE_MAX_PORTS_ALL 65536 /* ports and exposed ports summed over the services */
#define CMS_COMPOSE_MAX_MODEL    (16 * 1024 * 1024) /* scalar bytes with every alias expanded */
#define CMS_COMPOSE_HASH_LEN     64   /* hex sha256 */

/* A list of strings. */
struct cms_compose_strv {
        char **v;
        size_t n;
        size_t cap; /* slots allocated by strv_take (0: unknown, the next take reallocates) */
};

/* A string map kept sorted by key, keys unique. value NULL: the key was given without a value
 * (a label "k" or an extra_hosts entry cannot be; an environment entry can, see below). */
struct cms_compose_kv {
        char *key;
        char *value;
};
struct cms_compose_kvs {
        struct cms_compose_kv *v;
        size_t n;
        size_t cap; /* as strv's */
};

enum cms_compose_condition {
        CMS_COMPOSE_SERVICE_STARTED = 0,
        CMS_COMPOSE_SERVICE_HEALTHY,
        CMS_COMPOSE_SERVICE_COMPLETED_SUCCESSFULLY,
};

struct cms_compose_dep {
        char *service;
        enum cms_compose_condition condition;
        bool restart;  /* restart this service when the dependency is updated */
        bool required; /* false: a missing/failed dependency only warns */
        bool implicit; /* from links or network_mode service:x, not depends_on */
        int line;
};

struct cms_compose_build {
        char *context;    /* required */
        char *dockerfile; /* NULL: "Dockerfile" */
        char *target;
        struct cms_compose_kvs args;   /* value NULL: taken from the environment, else unset */
        bool no_cache;                 /* build without the engine's layer cache */
        struct cms_compose_kvs labels; /* image labels */
        struct cms_compose_kvs additional_contexts; /* name -> path or URL (BuildKit only) */
};

/* One published or exposed port; short-syntax ranges are expanded to one entry per port. */
struct cms_compose_port {
        int target;
        char *published; /* "8080", a range "8000-8010" (the engine picks one), NULL: any port */
        char *host_ip;   /* NULL: all interfaces */
        char *protocol;  /* "tcp" (default), "udp", "sctp" */
        char *mode;      /* "ingress" (default) or "host" */
        char *name, *app_protocol;
};

enum cms_compose_mount_type {
        CMS_COMPOSE_MOUNT_VOLUME = 0,
        CMS_COMPOSE_MOUNT_BIND,
        CMS_COMPOSE_MOUNT_TMPFS,
};

struct cms_compose_mount {
        enum cms_compose_mount_type type;
        char *source; /* volume key in the file (NULL: anonymous), or host path; NULL for tmpfs */
        char *target;
        bool read_only;
        char *propagation;     /* bind: rprivate, shared, ... (NULL: engine default) */
        bool create_host_path; /* bind; true by default */
        char *selinux;         /* bind: "z" or "Z" */
        bool nocopy;           /* volume */
        char *subpath;         /* volume */
        int64_t tmpfs_size;    /* bytes, 0: unset */
        int tmpfs_mode;        /* -1: unset */
        char *consistency;
};

struct cms_compose_service_network {
        char *name; /* the key of the top-level network ("default" included) */
        struct cms_compose_strv aliases;
        char *ipv4_address, *ipv6_address;
        int priority;
};

struct cms_compose_health {
        bool set;                     /* a healthcheck section was given */
        struct cms_compose_strv test; /* ["CMD", ...], ["CMD-SHELL", "..."], ["NONE"]; empty:
                                       * keep the image's test */
        int64_t interval_ms, timeout_ms, start_period_ms, start_interval_ms; /* -1: unset */
        int retries;                                                         /* -1: unset */
};

/* Limits from the service (mem_limit, cpus, ...) and deploy.resources, reconciled. 0: unset. */
struct cms_compose_resources {
        int64_t memory, memory_swap, memory_reservation, shm_size;
        double cpus;
        int64_t cpu_shares, cpu_quota, cpu_period, pids_limit;
        char *cpuset;
};

/* ulimits: nofile: 1024 (soft = hard) or {soft, hard}; sorted by name. */
struct cms_compose_ulimit {
        char *name;
        int64_t soft, hard;
};

/* blkio_config: a device path and a weight (weight_device) or a rate (bytes or ops/s). */
struct cms_compose_blkio_dev {
        char *path;
        int64_t value;
};
enum {
        CMS_COMPOSE_BLKIO_WEIGHT_DEVICE = 0,
        CMS_COMPOSE_BLKIO_READ_BPS,
        CMS_COMPOSE_BLKIO_WRITE_BPS,
        CMS_COMPOSE_BLKIO_READ_IOPS,
        CMS_COMPOSE_BLKIO_WRITE_IOPS,
        CMS_COMPOSE_BLKIO_N,
};
struct cms_compose_blkio {
        int64_t weight; /* 0: unset, else 10..1000 */
        struct cms_compose_blkio_dev *devs[CMS_COMPOSE_BLKIO_N];
        size_t n[CMS_COMPOSE_BLKIO_N];
};

/* The runtime keys that reach the kernel or the engine's host side (parse_host.c); each goes
 * through the policy once translated (security/policy.c). */
struct cms_compose_host {
        struct cms_compose_ulimit *ulimits;
        size_t n_ulimits;
        struct cms_compose_kvs sysctls, storage_opt, annotations;
        struct cms_compose_strv devices; /* "host:container:perms", perms default "rwm" */
        struct cms_compose_strv device_cgroup_rules, security_opt, group_add;
        struct cms_compose_strv volumes_from;   /* "service:x[:ro|rw]" or "container:x[:ro|rw]" */
        struct cms_compose_strv external_links; /* "container:alias" */
        char *pid, *ipc, *uts, *userns_mode, *cgroup, *cgroup_parent;
        char *mac_address, *runtime, *isolation;
        /* The profile a "seccomp=<file>" entry names (compact JSON), read on the daemon's host by
         * the projects layer under the caller's policy; not in the normalized JSON, its sha256 in
         * the config hash. Docker wants it in place of the path, Podman reads the path itself. */
        char *seccomp_profile;
        int64_t mem_swappiness; /* -1: unset */
        bool oom_kill_disable;
        bool oom_score_adj_set;
        int64_t oom_score_adj;
        int64_t cpu_count, cpu_percent;        /* 0: unset (Windows-only in the engines) */
        int64_t cpu_rt_period, cpu_rt_runtime; /* microseconds, 0: unset */
        struct cms_compose_blkio blkio;
        bool no_attach; /* attach: false */
        char *log_driver;
        struct cms_compose_kvs log_options;
};

struct cms_compose_env_file {
        char *path;
        bool required;
};

/* A top-level secret or config (parse_secrets.c). Its content is never written into the
 * normalized JSON: only where it comes from (file path, variable name, "content"). */
enum cms_compose_file_from {
        CMS_COMPOSE_FROM_FILE = 0,
        CMS_COMPOSE_FROM_ENVIRONMENT,
        CMS_COMPOSE_FROM_CONTENT,
};
struct cms_compose_filedef {
        char *key;  /* the name in the file */
        char *name; /* `name:`, else "<project>_<key>" */
        enum cms_compose_file_from from;
        char *file;        /* FROM_FILE: absolute when working_dir was given, else as written */
        char *environment; /* FROM_ENVIRONMENT: the variable */
        /* The content, once known: environment/content at parse time, a file by projects/
         * (cms_compose_filedef_resolve) on the daemon's host under the caller's policy. */
        char *data;
        size_t len;
        bool resolved;
        char digest[CMS_COMPOSE_HASH_LEN + 1]; /* sha256 of data; "" until resolved */
};

/* A service's use of a secret or config: short ("name") or long syntax. */
struct cms_compose_fileref {
        char *source;
        char *target;    /* absolute: secrets default /run/secrets/<source>, configs /<source> */
        char *uid, *gid; /* numeric strings, "0" by default */
        int mode;        /* 0444 by default, as Compose */
        /* the definition's digest, copied when it is resolved: the config hash covers the
         * content without the content being in the JSON it is computed from */
        char digest[CMS_COMPOSE_HASH_LEN + 1];
};

/* update_config / rollback_config of a swarm service. */
struct cms_compose_update {
        bool set;
        int64_t parallelism;          /* -1: unset (0: all at once) */
        int64_t delay_ms, monitor_ms; /* -1: unset */
        char *failure_action;         /* continue, rollback (update only), pause; NULL: unset */
        double max_failure_ratio;     /* -1: unset */
        char *order;                  /* stop-first, start-first; NULL: unset */
};
/* The deploy keys only a swarm honours (a stack deploy parses them; a project ignores them with
 * a warning, as before). Not in the normalized JSON nor in the config hash. */
struct cms_compose_deploy {
        bool global;                         /* mode: global */
        struct cms_compose_kvs labels;       /* deploy.labels: the service's labels */
        struct cms_compose_strv constraints; /* placement.constraints */
        struct cms_compose_strv spread;      /* placement.preferences[].spread */
        int64_t max_replicas_per_node;       /* 0: unset */
        struct cms_compose_update update, rollback;
        bool restart_given;      /* deploy.restart_policy was written; then: */
        char *restart_condition; /* restart_policy.condition: none, on-failure, any; NULL: unset */
        int64_t restart_delay_ms, restart_window_ms, restart_max_attempts; /* -1: unset */
        char *endpoint_mode;                                               /* vip, dnsrr */
        double reserve_cpus; /* resources.reservations.cpus; 0: unset */
        bool restart_set;    /* the service's own `restart:` was written (a swarm's default:
                              * any, not the "no" a container gets) */
};

/* post_start / pre_stop: run through the engine's exec. */
struct cms_compose_hook {
        struct cms_compose_strv command;
        char *user, *working_dir;
        bool privileged;
        struct cms_compose_kvs environment;
};

struct cms_compose_service {
        char *name;
        int line;
        char *image; /* "<project>-<service>" when only build is given */
        struct cms_compose_build *build;
        /* command/entrypoint: NULL-vs-empty matters (NULL: the image's; empty: none). The string
         * form is split like a shell would, so both spellings normalize to the same list. */
        struct cms_compose_strv *command, *entrypoint;
        struct cms_compose_kvs environment; /* resolved; keys without a value that the
                                             * environment does not set are dropped */
        struct cms_compose_env_file *env_files;
        size_t n_env_files;
        struct cms_compose_kvs labels;
        struct cms_compose_port *ports;
        size_t n_ports;
        struct cms_compose_strv expose; /* "80/tcp" */
        struct cms_compose_mount *volumes;
        size_t n_volumes;
        struct cms_compose_strv tmpfs;                /* "path" or "path:options" */
        struct cms_compose_service_network *networks; /* sorted by name */
        size_t n_networks;
        char *network_mode; /* NULL unless given: host, none, bridge, service:x, container:x */
        struct cms_compose_dep *depends_on; /* sorted by service name */
        size_t n_depends_on;
        struct cms_compose_health healthcheck;
        char *restart; /* "no" (default), "always", "unless-stopped", "on-failure[:N]" */
        int replicas;  /* scale / deploy.replicas; 1 by default */
        struct cms_compose_resources resources;
        char *user, *working_dir, *hostname, *domainname, *container_name, *platform;
        char *pull_policy; /* NULL: missing */
        struct cms_compose_strv dns, dns_search, dns_opt;
        struct cms_compose_strv extra_hosts; /* "host=ip", sorted */
        struct cms_compose_strv cap_add, cap_drop, profiles;
        bool privileged, read_only, init, tty, stdin_open;
        int64_t stop_grace_period_ms; /* -1: unset (engine default, 10s) */
        char *stop_signal;
        struct cms_compose_host host;
        struct cms_compose_fileref *secrets, *configs; /* sorted by target */
        size_t n_secrets, n_configs;
        struct cms_compose_hook *post_start, *pre_stop;
        size_t n_post_start, n_pre_stop;
        struct cms_compose_deploy deploy; /* filled when parsed for a swarm stack */
};

struct cms_compose_ipam_pool {
        char *subnet, *ip_range, *gateway;
};

struct cms_compose_network {
        char *key;  /* the name in the file */
        char *name; /* the engine's name: `name:`, or "<project>_<key>"; external: name or key */
        bool external, internal, attachable, enable_ipv6;
        bool implicit; /* "default", added because a service uses it without declaring it */
        char *driver;
        struct cms_compose_kvs driver_opts, labels;
        char *ipam_driver;
        struct cms_compose_ipam_pool *ipam;
        size_t n_ipam;
};

struct cms_compose_volume {
        char *key;
        char *name; /* as for networks */
        bool external;
        char *driver;
        struct cms_compose_kvs driver_opts, labels;
};

struct cms_compose_project {
        char *name;
        char *working_dir;                    /* as given in the options; may be NULL */
        struct cms_compose_service *services; /* sorted by name; only the enabled ones */
        size_t n_services;
        struct cms_compose_network *networks; /* sorted by key */
        size_t n_networks;
        struct cms_compose_volume *volumes; /* sorted by key */
        size_t n_volumes;
        struct cms_compose_filedef *secrets, *configs; /* sorted by key */
        size_t n_secrets, n_configs;
};

/* Gives def i of p's secrets (config false) or configs its content (data is taken, also on
 * failure) and its digest, and copies the digest into every service reference to it. */
int cms_compose_filedef_resolve(struct cms_compose_project *p, bool config, size_t i, char *data,
                                size_t len);

/* ---- interpolation (interpolate.c) ---- */

/* The variables a compose file is interpolated from: the request's env first, then the
 * project's .env content. Opaque. */
struct cms_compose_env;

/* env: a JSON object {NAME: string|number|bool} (may be NULL); dotenv: the text of a .env file
 * (may be NULL): NAME=VALUE lines, # comments, optional "export ", single quotes literal, double
 * quotes with \n \t \\ \" escapes and interpolation, unquoted values interpolated and cut at
 * " #". A bad line is a 400 naming its line. */
int cms_compose_env_new(json_object *env, const char *dotenv, struct cms_compose_env **out,
                        json_object *warnings, struct cms_error *err);
void cms_compose_env_free(struct cms_compose_env *e);
/* The variables the dotenv text set, sorted by name (for env_file contents). */
const struct cms_compose_kvs *cms_compose_env_dotenv(const struct cms_compose_env *e);
/* Sets key to a copy of value in a sorted map (replacing); -ENOMEM. */
int cms_compose_kvs_set(struct cms_compose_kvs *m, const char *key, const char *value);
/* Many at once, n log n: push appends copies unsorted, then sort makes the map again, the last
 * pushed of equal keys kept (what set one by one gives); -ENOMEM, the entries kept. */
int cms_compose_kvs_push(struct cms_compose_kvs *m, const char *key, const char *value);
int cms_compose_kvs_sort(struct cms_compose_kvs *m);
const struct cms_compose_kv *cms_compose_kvs_get(const struct cms_compose_kvs *m, const char *key);
/* The value, or NULL when unset (an empty value is set). */
const char *cms_compose_env_get(const struct cms_compose_env *e, const char *name);

/* Adds a warning string to a JSON array unless the same one is there already; past 100 one
 * last says so. warnings NULL: nothing. */
void cms_compose_warn(json_object *warnings, const char *msg);

/* Interpolates one string: $VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:?msg}, ${VAR?msg},
 * ${VAR:+x}, ${VAR+x} (d, msg and x themselves interpolated, lazily), $$ -> $. A $ not followed by
 * a name or "{" stays as is. An unset variable without a default is empty and adds the warning
 * 'The "VAR" variable is not set. Defaulting to a blank string.' (once per variable). A required
 * variable that is missing is a 400 "required variable VAR is missing a value: msg"; a bad
 * template ("${VAR", "${VAR/a/b}") is a 400 "invalid interpolation format". where (may be NULL)
 * is appended to messages, e.g. "services.web.image, line 3". Result: *out, owned. */
int cms_compose_interpolate(const struct cms_compose_env *e, const char *in, const char *where,
                            char **out, json_object *warnings, struct cms_error *err);

/* ---- parsing (parse*.c) ---- */

struct cms_compose_parse_opts {
        const char *name;        /* project name; overrides the file's `name:` (may be NULL) */
        json_object *env;        /* the request's env (may be NULL) */
        const char *dotenv;      /* .env content (may be NULL) */
        const char *working_dir; /* for relative bind sources and the working_dir label */
        /* Active profiles, NULL-terminated (may be NULL: then COMPOSE_PROFILES from the env,
         * comma-separated, "*" for all). Services with profiles none of which is active are
         * left out of the model. */
        const char *const *profiles;
        /* Later files (docker compose -f base -f over...), merged over the first in order by the
         * compose specification's rules (see cms_ytree_merge); NULL-terminated, may be NULL. With
         * them, messages name the file: "(file 2, line 3)". */
        const char *const *overrides;
        /* Reads a file the compose file names (what: "extends.file", "include",
         * "include.env_file"): path is absolute (relative ones are joined to working_dir, or to
         * the directory of the file that names them first). The text is malloc'd; -ENOENT with
         * err untouched when there is no such file. NULL: such files are refused with a 400. */
        int (*load)(void *ud, const char *what, const char *path, char **text,
                    struct cms_error *err);
        void *load_ud;
        /* For a swarm stack: deploy's swarm keys (mode global, labels, placement, update_config,
         * rollback_config, restart_policy's delay and window, endpoint_mode, reservations.cpus)
         * are read into service.deploy instead of being ignored with a warning. */
        bool swarm;
};

/* Parses, interpolates, normalizes and checks a compose document. Errors are 400s naming the
 * key path and the line ("services.web.ports[1]: invalid port '80:x' (line 9)"); unknown keys
 * and features cmsd ignores add a warning (strings appended to warnings, which may be NULL);
 * keys starting with "x-" are allowed silently. References are checked: depends_on / links /
 * network_mode service:x name enabled services, service networks and named volumes are declared
 * at the top level. Cycles are found by cms_compose_plan_new(), which this calls too. */
int cms_compose_parse(const char *yaml, size_t len, const struct cms_compose_parse_opts *opts,
                      struct cms_compose_project **out, json_object *warnings,
                      struct cms_error *err);
void cms_compose_project_free(struct cms_compose_project *p);

const struct cms_compose_service *cms_compose_service_find(const struct cms_compose_project *p,
                                                           const char *name);
const struct cms_compose_network *cms_compose_network_find(const struct cms_compose_project *p,
                                                           const char *key);
const struct cms_compose_volume *cms_compose_volume_find(const struct cms_compose_project *p,
                                                         const char *key);
/* "^[a-z0-9][a-z0-9_-]*$", at most 63 characters (Docker Compose's project-name rule). */
bool cms_compose_project_name_valid(const char *name);

/* ---- the normalized model as JSON (model_json.c) ---- */

/* {"name", "services": {name: {...}}, "networks": {...}, "volumes": {...}}: what GET
 * /v1/projects/{name}/config returns. Fixed key order, maps sorted, defaults written out. */
json_object *cms_compose_project_to_json(const struct cms_compose_project *p);
json_object *cms_compose_service_to_json(const struct cms_compose_service *s);

/* ---- planning (plan.c) ---- */

/* Start order in levels: level 0 has the services without dependencies, level k the services
 * whose dependencies are all in levels < k. Services of one level can be created and started in
 * parallel (each still waiting for its own dependencies' conditions); stop/down walks the levels
 * backwards. */
struct cms_compose_level {
        size_t *services; /* indexes into project->services, ascending */
        size_t n;
};
struct cms_compose_plan {
        struct cms_compose_level *levels;
        size_t n_levels;
        size_t *level_of; /* per service index */
};

/* A dependency on an unknown service -> 400 'service "web" depends on undefined service "db"';
 * a cycle -> 400 "dependency cycle between services: a -> b -> a". */
int cms_compose_plan_new(const struct cms_compose_project *p, struct cms_compose_plan **out,
                         struct cms_error *err);
void cms_compose_plan_free(struct cms_compose_plan *pl);

/* The config hash (com.docker.compose.config-hash): lower-case hex sha256 of the service's
 * normalized JSON (cms_compose_service_to_json) without the members that do not change a
 * container: build, pull_policy, replicas (scale, deploy.replicas), depends_on and profiles, the
 * same exclusions Docker Compose v2 makes. Because the JSON comes from the typed model, the hash
 * does not change with key order, short vs long syntax, list vs map forms, or defaults written
 * out (restart: "no", protocol: tcp, privileged: false, ...). out: 65 bytes. */
int cms_compose_config_hash(const struct cms_compose_service *s,
                            char out[CMS_COMPOSE_HASH_LEN + 1]);

/* "<project>-<service>-<number>" (Docker Compose v2), or container_name when set. NULL on OOM. */
char *cms_compose_container_name(const struct cms_compose_project *p,
                                 const struct cms_compose_service *s, int number);
/* "db:service_healthy:false,redis:service_started:true": dependency:condition:restart, sorted,
 * the format of com.docker.compose.depends_on. Owned; "" without dependencies. */
char *cms_compose_depends_on_label(const struct cms_compose_service *s);
/* The service's labels plus com.docker.compose.{project, service, container-number, oneoff
 * ("False"), config-hash, project.working_dir, depends_on}. NULL on OOM. */
json_object *cms_compose_service_labels(const struct cms_compose_project *p,
                                        const struct cms_compose_service *s, int number);
/* A network's / volume's own labels plus com.docker.compose.project and
 * com.docker.compose.network / com.docker.compose.volume (its key), as Docker Compose sets. */
json_object *cms_compose_network_labels(const struct cms_compose_project *p,
                                        const struct cms_compose_network *n);
json_object *cms_compose_volume_labels(const struct cms_compose_project *p,
                                       const struct cms_compose_volume *v);

/* The label keys, for filters and for reading projects made elsewhere. */
#define CMS_COMPOSE_LABEL_PROJECT     "com.docker.compose.project"
#define CMS_COMPOSE_LABEL_SERVICE     "com.docker.compose.service"
#define CMS_COMPOSE_LABEL_NUMBER      "com.docker.compose.container-number"
#define CMS_COMPOSE_LABEL_ONEOFF      "com.docker.compose.oneoff"
#define CMS_COMPOSE_LABEL_HASH        "com.docker.compose.config-hash"
#define CMS_COMPOSE_LABEL_WORKING_DIR "com.docker.compose.project.working_dir"
#define CMS_COMPOSE_LABEL_DEPENDS_ON  "com.docker.compose.depends_on"
#define CMS_COMPOSE_LABEL_NETWORK     "com.docker.compose.network"
#define CMS_COMPOSE_LABEL_VOLUME      "com.docker.compose.volume"

/* ---- convergence (plan_diff.c) ---- */

/* A container of the project as the engine lists it (from its labels). */
struct cms_compose_existing {
        const char *id;
        const char *service; /* com.docker.compose.service */
        int number;          /* com.docker.compose.container-number (0: missing) */
        const char *hash;    /* com.docker.compose.config-hash (may be NULL) */
        bool running;
};

enum cms_compose_action_kind {
        CMS_COMPOSE_ACTION_CREATE,   /* service, number: create + start */
        CMS_COMPOSE_ACTION_RECREATE, /* id -> service, number: config changed (or forced) */
        CMS_COMPOSE_ACTION_START,    /* id: up to date but not running */
        CMS_COMPOSE_ACTION_KEEP,     /* id: up to date and running */
        CMS_COMPOSE_ACTION_REMOVE,   /* id: scaled down, duplicate number, or orphan */
};

struct cms_compose_action {
        enum cms_compose_action_kind kind;
        size_t service; /* index into project->services; SIZE_MAX for an orphan */
        int number;
        const char *id; /* borrowed from the existing entry; NULL for CREATE */
};

struct cms_compose_diff_opts {
        bool force_recreate;
        bool remove_orphans; /* else orphans are left alone (and not listed) */
        json_object *scale;  /* {"web": 3} overrides replicas (may be NULL) */
};

/* A scale object {"web": 3}: every key a service of p, every value a count in
 * [0, MAX_REPLICAS], at most 1 for a service with container_name; NULL passes. Else 400. */
int cms_compose_scale_check(const struct cms_compose_project *p, json_object *scale,
                            struct cms_error *err);

/* What `up` must do so the engine matches the model: per service, numbers 1..replicas are kept
 * (hash equal), recreated (hash differs) or created; higher numbers are removed. Actions are
 * listed in plan order (level by level, service by service, number ascending), removals of
 * orphans last. A scale entry naming an unknown service or not a count in [0, MAX_REPLICAS] is
 * a 400. *out is owned (free()), *n its length. */
int cms_compose_diff(const struct cms_compose_project *p, const struct cms_compose_plan *pl,
                     const struct cms_compose_existing *existing, size_t n_existing,
                     const struct cms_compose_diff_opts *o, struct cms_compose_action **out,
                     size_t *n, struct cms_error *err);

/* ---- translation (translate.c) ---- */

/* One container of a service, in cmsd's terms. */
struct cms_compose_container {
        /* A ContainerConfig (API.md) for cms_container_spec_from_config(): the same validation and
         * policy as POST /v1/containers apply to it. Carries the name, the compose labels and the
         * first network (highest priority, then name) with the service name as an alias. */
        json_object *config;
        /* The further networks to connect after create, in order:
         * [{"network": engine name, "aliases": [...], "ip_address": "..."?}]. */
        json_object *networks;
        /* Engine create-body members ContainerConfig has no field for, to merge into the body
         * after validation: {"StopSignal", "StopTimeout", "Tty", "OpenStdin", "Domainname",
         * "HostConfig": {"Init", "Tmpfs", "DnsSearch", "DnsOptions", "ShmSize",
         * "MemoryReservation"}}; only what the service sets. */
        json_object *create_extras;
        json_object *warnings; /* strings: what the service asks that cmsd ignores */
};

/* Service + replica number -> container. 400 for what ContainerConfig cannot express and must
 * not be silently dropped (a relative bind source without working_dir, a port range to publish,
 * sources outside ContainerConfig such as env_file). */
int cms_compose_translate(const struct cms_compose_project *p, const struct cms_compose_service *s,
                          int number, struct cms_compose_container *out, struct cms_error *err);
void cms_compose_container_done(struct cms_compose_container *c);
/* Adds to warnings what the service asks that the engine (podman: Podman's compat API, else
 * Docker's API 1.41) does not apply: "services.web.cpu_count: docker: Windows-only: ...". */
void cms_compose_engine_notes(const struct cms_compose_service *s, bool podman, const char *engine,
                              json_object *warnings);
