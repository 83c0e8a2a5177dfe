/* The command functions of cmsctl (one file per group) and the helpers they share. */
#pragma once

#include "cmsctl.h"

/* Prints "usage: cmsctl <fmt>" to stderr; returns CTL_USAGE. */
int ctl_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* base + the list options of argv (-a/--all, --filter label=K=V, --filter name=N) as a path;
 * anything else is a usage error. */
int ctl_list_path(struct ctl *c, const char *base, int argc, char **argv, char *out, size_t n);

/* cmd_containers.c */
int cmd_ps(struct ctl *c, int argc, char **argv);
int cmd_inspect(struct ctl *c, int argc, char **argv);
/* start/stop/restart/pause/unpause/kill, as c->cmd says. */
int cmd_lifecycle(struct ctl *c, int argc, char **argv);
int cmd_rm(struct ctl *c, int argc, char **argv);
int cmd_logs(struct ctl *c, int argc, char **argv);
/* A log line of a followed stream, printed to stdout or stderr (ud: struct ctl_logs); the
 * stream's own end on an error ({"reason":"error","message"}) goes to stderr and sets rc. */
struct ctl_logs {
        bool timestamps;
        int rc;
};
int ctl_log_line(json_object *o, void *ud);

/* run_opts.c: run/create/deploy's options into a ContainerConfig (deploy: set deploy first,
 * to allow --replace and --wait-healthy). CTL_OK and *config, or CTL_USAGE (printed). */
struct ctl_run_flags {
        bool deploy;     /* in: the options are deploy's */
        bool detach, rm; /* out: -d, --rm */
};
int ctl_run_config(int argc, char **argv, struct ctl_run_flags *f, json_object **config);

/* cmd_run.c */
int cmd_run(struct ctl *c, int argc, char **argv); /* run, create and deploy (c->cmd) */
int cmd_exec(struct ctl *c, int argc, char **argv);
int cmd_health(struct ctl *c, int argc, char **argv);

/* cmd_admin.c */
int cmd_system_info(struct ctl *c, int argc, char **argv);
int cmd_system_df(struct ctl *c, int argc, char **argv);
/* system, network or volume prune (c->group) */
int cmd_prune(struct ctl *c, int argc, char **argv);
/* network connect or disconnect (c->cmd) */
int cmd_network_connect(struct ctl *c, int argc, char **argv);
int cmd_audit(struct ctl *c, int argc, char **argv);
int cmd_policy_ls(struct ctl *c, int argc, char **argv);
int cmd_policy_check(struct ctl *c, int argc, char **argv);
/* A directory's name made a compose project name as docker compose makes it: lower case, only
 * [a-z0-9_-], starting with a letter or digit. False when nothing is left. */
bool ctl_project_name(const char *s, char *out, size_t n);

/* cmd_watch.c */
int cmd_stats(struct ctl *c, int argc, char **argv);
int cmd_events(struct ctl *c, int argc, char **argv);

/* cmd_images.c */
int cmd_pull(struct ctl *c, int argc, char **argv);
int cmd_push(struct ctl *c, int argc, char **argv);
int cmd_build(struct ctl *c, int argc, char **argv);
int cmd_sbom(struct ctl *c, int argc, char **argv);
int cmd_scan(struct ctl *c, int argc, char **argv);
int cmd_vulndb_import(struct ctl *c, int argc, char **argv);
int cmd_vulndb_show(struct ctl *c, int argc, char **argv);

/* cmd_objects.c */
/* An image reference for a path: '/', ':' and '@' stay, anything outside the reference
 * alphabet is %-escaped. malloc'd. */
char *ctl_ref_path(const char *ref);
int cmd_tag(struct ctl *c, int argc, char **argv);
int cmd_rmi(struct ctl *c, int argc, char **argv);
int cmd_history(struct ctl *c, int argc, char **argv);
/* network|volume create, and inspect|rm (c->group, c->cmd say which). */
int cmd_obj_create(struct ctl *c, int argc, char **argv);
int cmd_obj_each(struct ctl *c, int argc, char **argv);

/* cmd_system.c */
int cmd_images(struct ctl *c, int argc, char **argv);
int cmd_network_ls(struct ctl *c, int argc, char **argv);
int cmd_volume_ls(struct ctl *c, int argc, char **argv);
int cmd_version(struct ctl *c, int argc, char **argv);
int cmd_engine_ls(struct ctl *c, int argc, char **argv);
extern const struct ctl_command ctl_stack_cmds[], ctl_node_cmds[];
int cmd_whoami(struct ctl *c, int argc, char **argv);

/* cmd_compose.c: compose's own options, then its subcommands (ctl_compose_cmds) */
int cmd_compose(struct ctl *c, int argc, char **argv);
extern const struct ctl_command ctl_compose_cmds[];

/* config.c: the config file (contexts) */
extern const struct ctl_command ctl_context_cmds[];
/* Fills what c still lacks (url, token, cacert, cert, key) from the context named c->context,
 * else the file's current context; no file is not an error. Returns CTL_OK or the exit code of
 * a problem it printed (a file with a group- or world-readable mode, a bad file, an unknown
 * context). */
int ctl_config_apply(struct ctl *c);

/* The names of the config file's contexts starting with prefix, one a line. */
void ctl_config_names(const char *prefix, FILE *out);

/* complete.c: shell completion */
int cmd_completion(struct ctl *c, int argc, char **argv);
int cmd_complete(struct ctl *c, int argc, char **argv);
/* The static candidates for the words of a line (the last one being completed) printed to out;
 * returns the kind of name the server should complete (CONTAINER, IMAGE, ...) or NULL. */
const char *ctl_complete_static(int n, char **words, FILE *out);

/* man.c: cmsctl(1), made from the commands table */
int cmd_man(struct ctl *c, int argc, char **argv);
void ctl_man_write(FILE *out);
