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
int cmd_lifecycle(struct ctl *c, const char *what, int argc, char **argv);
int cmd_rm(struct ctl *c, int argc, char **argv);
int cmd_logs(struct ctl *c, int argc, char **argv);

/* cmd_objects.c */
int cmd_tag(struct ctl *c, int argc, char **argv);
int cmd_rmi(struct ctl *c, int argc, char **argv);
int cmd_history(struct ctl *c, int argc, char **argv);
/* create / inspect / rm of a network or volume (what) under base ("/v1/networks"). */
int ctl_objects(struct ctl *c, const char *what, const char *base, int argc, char **argv);

/* cmd_system.c */
int cmd_images(struct ctl *c, int argc, char **argv);
int cmd_network(struct ctl *c, int argc, char **argv);
int cmd_volume(struct ctl *c, int argc, char **argv);
int cmd_version(struct ctl *c, int argc, char **argv);
int cmd_whoami(struct ctl *c, int argc, char **argv);
