/* Shared by the daemon/compose sources only: the YAML tree the parser builds (with line numbers,
 * shared alias nodes and expansion accounting), the parse context with its error/warning helpers,
 * and the small model helpers (string lists, sorted maps). */
#pragma once

#include "../images/reference.h"
#include "model.h"

/* ---- YAML tree (parse_tree.c) ---- */

enum cms_ykind { CMS_Y_SCALAR, CMS_Y_SEQ, CMS_Y_MAP };

/* A node. Alias references share the anchored node (refs counts the holders), so expansion costs
 * no memory; size (nodes after expansion) and height are kept to enforce the caps without ever
 * walking an expanded tree. Mappings hold key, value, key, value... with merge keys (<<)
 * already applied and keys unique. */
struct cms_ynode {
        enum cms_ykind kind;
        int line;
        unsigned refs;
        bool null;          /* a plain scalar spelled as YAML null: "", ~, null */
        bool merge;         /* the plain key "<<" (only seen while building) */
        bool interpolated;  /* value already interpolated (shared nodes are visited once) */
        bool reset;         /* tagged !reset: a later file removes what earlier ones set */
        bool override;      /* tagged !override: a later file replaces instead of merging */
        bool has_reset;     /* reset is set on this node or below it */
        unsigned char file; /* 1-based index of the file it came from; 0: the only file */
        char *value;        /* scalars */
        size_t size;
        int height;
        struct cms_ynode **kids;
        size_t n, cap;
};

/* Builds the tree of a single YAML document, or fails with a 400 naming the line. *out is NULL
 * for an empty document. */
int cms_ytree_parse(const char *yaml, size_t len, struct cms_ynode **out, struct cms_error *err);
/* The same for the file-th of several files (1-based): its nodes and messages carry the index. */
int cms_ytree_parse_file(const char *yaml, size_t len, int file, struct cms_ynode **out,
                         struct cms_error *err);
/* merge.c: the compose specification's merge of a later file (over) into what earlier ones gave
 * (base, NULL for the first file): mappings merged key by key, scalars replaced, sequences
 * appended, with the spec's per-key rules (command, entrypoint and healthcheck.test replaced;
 * environment, labels and the other KEY=VALUE lists merged by key; ports, volumes, expose,
 * secrets, configs, devices and the like kept unique by their key, the later entry winning;
 * depends_on and networks lists read as mappings; build: a string read as {context}) and the
 * !reset and !override tags. Nodes of the inputs are shared, never changed. *out is a new
 * reference; a kind mismatch ("a list in one file, a mapping in the other") is a 400 naming the
 * key path, as is a result above CMS_COMPOSE_MAX_NODES nodes. */
int cms_ytree_merge(struct cms_ynode *base, struct cms_ynode *over, struct cms_ynode **out,
                    struct cms_error *err);
/* extends: the service mapping over (its extends key left out) merged over base, as a later
 * file's services.<name> over an earlier one's. *out is a new reference. */
int cms_ytree_merge_service(struct cms_ynode *base, struct cms_ynode *over, const char *name,
                            struct cms_ynode **out, struct cms_error *err);
void cms_ynode_unref(struct cms_ynode *n);
/* The value of key in a mapping, or NULL. */
struct cms_ynode *cms_ymap_get(const struct cms_ynode *map, const char *key);
const char *cms_ykind_name(const struct cms_ynode *n);

/* ---- parse context (parse_util.c) ---- */

struct cms_cp {
        struct cms_error *err;
        json_object *warnings; /* may be NULL */
        const struct cms_compose_env *env;
        const char *project;
        const char *working_dir;
        size_t expanded; /* bytes produced by interpolation so far */
        size_t ports;    /* ports and exposed ports of all services so far */
        bool swarm;      /* parse_opts.swarm */
};
/* Counts n more ports against CMS_COMPOSE_MAX_PORTS_ALL; over it, a 400 at node n. */
int cms_cp_count_ports(struct cms_cp *c, const struct cms_ynode *n, const char *path, size_t k);
/* " (line N)" or " (file F, line N)" for messages about n; "" for NULL. */
void cms_cp_at(const struct cms_ynode *n, char *buf, size_t size);

/* 400 "<path>: <message> (line N)". */
int cms_cp_fail(struct cms_cp *c, const struct cms_ynode *n, const char *path, const char *fmt, ...)
    CMS_PRINTF(4, 5);
void cms_cp_warn(struct cms_cp *c, const struct cms_ynode *n, const char *path, const char *fmt,
                 ...) CMS_PRINTF(4, 5);
int cms_cp_oom(struct cms_cp *c);
/* snprintf for key paths in messages: a path cut short is fine, so no truncation warnings. */
void cms_cp_sub(char *buf, size_t n, const char *fmt, ...) CMS_PRINTF(3, 4);

/* Scalars. A YAML null leaves *out untouched (the caller's default) unless said otherwise. */
int cms_cp_str(struct cms_cp *c, const struct cms_ynode *n, const char *path, char **out);
/* Same but a null or an empty string is an error. */
int cms_cp_str_req(struct cms_cp *c, const struct cms_ynode *n, const char *path, char **out);
int cms_cp_bool(struct cms_cp *c, const struct cms_ynode *n, const char *path, bool *out);
int cms_cp_int(struct cms_cp *c, const struct cms_ynode *n, const char *path, int64_t min,
               int64_t max, int64_t *out);
int cms_cp_duration(struct cms_cp *c, const struct cms_ynode *n, const char *path, int64_t *out_ms);
int cms_cp_size(struct cms_cp *c, const struct cms_ynode *n, const char *path, int64_t *out);
/* A list of scalars; with single, one scalar is a list of one. Null leaves *out empty. */
int cms_cp_strv(struct cms_cp *c, const struct cms_ynode *n, const char *path, bool single,
                struct cms_compose_strv *out);
/* A mapping {k: v} or a list ["k=v", "k"]; values may be null (kept as NULL). Duplicates: the
 * later wins. */
int cms_cp_kvs(struct cms_cp *c, const struct cms_ynode *n, const char *path,
               struct cms_compose_kvs *out);
int cms_cp_need(struct cms_cp *c, const struct cms_ynode *n, const char *path, enum cms_ykind kind);
/* A list whose entries come in a short (scalar) or a long (map) syntax, as ports and volumes
 * do: each entry goes to the reader of its form, with its path "<path>[i]". null: nothing. */
typedef int (*cms_cp_entry_fn)(struct cms_cp *c, const struct cms_ynode *e, const char *path,
                               struct cms_compose_service *s);
int cms_cp_short_or_long(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                         struct cms_compose_service *s, cms_cp_entry_fn short_fn,
                         cms_cp_entry_fn long_fn);

/* parse_deploy.c: deploy's swarm keys into s->deploy (c->swarm only). */
int cms_cp_deploy_swarm(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                        struct cms_compose_service *s);

/* Warns about keys of map that are neither in known nor "x-" extensions; ignored lists keys
 * Compose knows that cmsd does not honour (warned as such). Both NULL-terminated. */
void cms_cp_check_keys(struct cms_cp *c, const struct cms_ynode *map, const char *path,
                       const char *const *known, const char *const *ignored);

/* Interpolates every scalar value under n (keys are left as written). */
int cms_cp_interpolate_tree(struct cms_cp *c, struct cms_ynode *n, const char *path);

/* ---- model helpers (model.c) ---- */

int cms_compose_strv_add(struct cms_compose_strv *v, const char *s);
int cms_compose_strv_take(struct cms_compose_strv *v, char *s); /* consumes s, also on failure */
void cms_compose_strv_done(struct cms_compose_strv *v);
void cms_compose_strv_sort(struct cms_compose_strv *v);
bool cms_compose_strv_has(const struct cms_compose_strv *v, const char *s);
/* Sets key (replacing), values copied; value may be NULL. */
int cms_compose_kvs_set(struct cms_compose_kvs *m, const char *key, const char *value);
const struct cms_compose_kv *cms_compose_kvs_get(const struct cms_compose_kvs *m, const char *key);
void cms_compose_kvs_done(struct cms_compose_kvs *m);
void cms_compose_service_done(struct cms_compose_service *s);
void cms_compose_network_done(struct cms_compose_network *n);
void cms_compose_volume_done(struct cms_compose_volume *v);

/* ---- parse pieces ---- */

/* parse_service.c: one service mapping -> s (s->name already set). */
int cms_cp_service(struct cms_cp *c, const struct cms_ynode *v, struct cms_compose_service *s);
/* parse_ports.c: ports, expose, volumes, tmpfs. */
int cms_cp_ports(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                 struct cms_compose_service *s);
int cms_cp_expose(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                  struct cms_compose_service *s);
int cms_cp_volumes(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                   struct cms_compose_service *s);
int cms_cp_tmpfs(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                 struct cms_compose_service *s);
/* parse_service2.c: networks, depends_on, healthcheck, deploy, build. */
int cms_cp_service_networks(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                            struct cms_compose_service *s);
int cms_cp_depends_on(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                      struct cms_compose_service *s);
int cms_cp_add_dep(struct cms_cp *c, struct cms_compose_service *s, const char *name,
                   enum cms_compose_condition cond, bool implicit, int line);
int cms_cp_healthcheck(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                       struct cms_compose_service *s);
int cms_cp_deploy(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                  struct cms_compose_service *s, int64_t *replicas, char **restart);
int cms_cp_build(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                 struct cms_compose_service *s);
/* extends.c: every service's `extends` (same file, or another file through the parse options'
 * loader) resolved on the tree, merged by the specification's rules; cycles refused. */
int cms_cp_extends(struct cms_cp *c, const struct cms_compose_parse_opts *o,
                   struct cms_ynode *root);
/* include.c: the top-level `include` entries loaded through the parse options' loader, each with
 * its own project directory and env files, their resources copied into root (conflicts refused). */
int cms_cp_include(struct cms_cp *c, const struct cms_compose_parse_opts *o,
                   struct cms_ynode *root);
/* The relative paths of a service mapping (bind sources, build context, env_file, extends.file)
 * made absolute against dir, for a service that comes from another file. */
int cms_cp_rebase_service(struct cms_cp *c, struct cms_ynode *svc, const char *dir);
/* parse_host.c: the runtime keys that reach the host (ulimits, sysctls, devices, security_opt,
 * namespaces, cgroup, blkio_config, logging, volumes_from, ...): field functions for the key
 * table of parse_service.c, looked up by name (NULL: not one of them). */
cms_cp_entry_fn cms_cp_host_field(const char *key);
void cms_compose_host_done(struct cms_compose_host *h);
/* translate_host.c: the members of h for the engine's create body, into extras (the
 * create_extras of cms_compose_translate: HostConfig members and MacAddress). */
int cms_compose_translate_host(const struct cms_compose_project *p,
                               const struct cms_compose_service *s, json_object *extras,
                               struct cms_error *err);
/* model_json_host.c: adds the keys h sets to a service's normalized JSON. */
void cms_compose_host_to_json(json_object *o, const struct cms_compose_host *h);
/* "weight_device", "device_read_bps", ... for CMS_COMPOSE_BLKIO_* */
const char *cms_compose_blkio_key(int which);
/* parse_secrets.c: top-level secrets/configs (config true), the services' references, and the
 * check that each reference names a definition (after the services are read). */
int cms_cp_top_files(struct cms_cp *c, const struct cms_ynode *v, bool config,
                     struct cms_compose_project *p);
int cms_cp_service_secrets(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                           struct cms_compose_service *s);
int cms_cp_service_configs(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                           struct cms_compose_service *s);
int cms_cp_files_finish(struct cms_cp *c, struct cms_compose_project *p);
void cms_compose_filedefs_done(struct cms_compose_filedef *v, size_t n);
void cms_compose_filerefs_done(struct cms_compose_fileref *v, size_t n);
void cms_compose_filerefs_to_json(json_object *o, const struct cms_compose_service *s);
void cms_compose_filedefs_to_json(json_object *o, const struct cms_compose_project *p);
json_object *cms_compose_filerefs_digests(const struct cms_compose_service *s);
/* parse_hooks.c: post_start / pre_stop. */
int cms_cp_hooks(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                 struct cms_compose_service *s, bool pre_stop);
void cms_compose_hooks_done(struct cms_compose_hook *v, size_t n);
void cms_compose_hooks_to_json(json_object *o, const struct cms_compose_service *s);
/* Splits a command line the way a POSIX shell splits words (quotes, backslashes; no expansion).
 * -EINVAL on an unterminated quote. */
int cms_compose_split_words(const char *s, struct cms_compose_strv *out);
