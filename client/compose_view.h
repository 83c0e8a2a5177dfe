/* cmsctl compose's subcommands that need only the project's name (compose_view.c), and the
 * helpers cmd_compose.c shares with them. */
#pragma once

#include "compose_opts.h"

/* The project of this run (compose's options as cmd_compose read them); need_files: a missing
 * compose file is an error. CTL_OK or the exit code of what it printed (p is then empty). */
int ctl_compose_project(struct ctl_compose_project *p, bool need_files);
/* "/v1/projects/<name, escaped><suffix>", malloc'd. */
char *ctl_compose_path(const char *name, const char *suffix);
/* "SERVICE=N" (N from 0 to 1000) into scale[SERVICE] = N; false when arg is not that
 * (compose scale and up --scale, stack scale). */
bool ctl_put_scale(json_object *scale, const char *arg);
/* A count of seconds in [0, 3600], or -1. */
int ctl_compose_seconds(const char *s);
/* POST /v1/projects/<name><suffix> with body; the reply as --format asks, else through print. */
int ctl_compose_post(struct ctl *c, const char *suffix, json_object *body,
                     void (*print)(json_object *data));
/* "Container p-web-1  Stopped" for each of data.containers. */
void ctl_compose_print_actions(json_object *data);
/* Follows the project's logs until its containers stop (up without -d). */
int ctl_compose_attach(struct ctl *c, const char *name);

int ctl_compose_ps(struct ctl *c, int argc, char **argv);
int ctl_compose_logs(struct ctl *c, int argc, char **argv);
/* start, stop, restart (c->cmd says which). */
int ctl_compose_verb(struct ctl *c, int argc, char **argv);
int ctl_compose_scale(struct ctl *c, int argc, char **argv);
int ctl_compose_ls(struct ctl *c, int argc, char **argv);
/* stack logs [-f] [-t] [--tail N] STACK [SERVICE...]: GET /v1/stacks/STACK/logs, shown as compose
 * logs shows a project's. */
int ctl_stack_logs(struct ctl *c, int argc, char **argv);
