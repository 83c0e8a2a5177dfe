/* cmsctl compose: its own options and the project they describe, found and read on the client
 * side as docker compose does (compose_opts.c), and the progress display of an up
 * (compose_progress.c). cmd_compose.c runs the subcommands. */
#pragma once

#include "cmd.h"

#define CTL_COMPOSE_MAX_FILES 16
#define CTL_COMPOSE_MAX_BYTES (1024 * 1024) /* one file, as cmsd's own cap */

/* compose [-f FILE]... [-p NAME] [--env-file FILE] [--project-directory DIR] */
struct ctl_compose {
        const char *files[CTL_COMPOSE_MAX_FILES];
        size_t n_files;
        const char *project, *env_file, *project_dir;
};

/* Reads compose's own options from argv (argv[0] is the first word after "compose"): the index
 * of the subcommand, or -CTL_USAGE after printing why. */
int ctl_compose_parse_opts(struct ctl_compose *o, int argc, char **argv);

/* The project as docker compose would see it from here. */
struct ctl_compose_project {
        char *dir;                          /* absolute project directory */
        char *files[CTL_COMPOSE_MAX_FILES]; /* the compose files, merged in this order */
        char *texts[CTL_COMPOSE_MAX_FILES]; /* their contents */
        size_t n_files;                     /* 0: none found (only a name was needed) */
        char *dotenv;                       /* the .env (or --env-file) text, or NULL */
        char *name;                         /* the project name */
};

/* The file docker compose uses without -f: compose.yaml, compose.yml, docker-compose.yml or
 * docker-compose.yaml in dir (first found); override: its compose.override.* companion.
 * malloc'd paths, NULL when there is none. */
char *ctl_compose_find_file(const char *dir, bool override);
/* docker compose's normalization of a name: lower case, only [a-z0-9_-] kept, leading
 * characters other than [a-z0-9] dropped. malloc'd (may be ""). */
char *ctl_compose_normalize(const char *s);
/* The value of the top-level `name:` of a compose text ($VAR, ${VAR}, ${VAR:-d} and ${VAR-d}
 * filled in by lookup), or NULL when it has none or is not YAML. malloc'd. */
char *ctl_compose_file_name(const char *yaml, size_t len,
                            const char *(*lookup)(const char *name, void *ud), void *ud);
/* The value a .env text gives key (NAME=VALUE lines, "export " allowed, quotes removed, # comments
 * skipped), or NULL. malloc'd. */
char *ctl_dotenv_get(const char *text, const char *key);
/* true when word occurs in text as a whole identifier ([A-Za-z0-9_] on neither side). */
bool ctl_word_in(const char *text, const char *word);
/* Finds the directory, the files (need_files: none found is a usage error), .env and the name:
 * -p, else COMPOSE_PROJECT_NAME (environment, then .env), else the files' name: (the last one
 * that has it), else the directory's name, normalized. CTL_OK or the exit code of what it
 * printed. */
int ctl_compose_load(const struct ctl_compose *o, bool need_files, struct ctl_compose_project *p);
void ctl_compose_project_done(struct ctl_compose_project *p);
/* The part of a request body that carries the project: name, compose (the texts), working_dir
 * (the project directory), dotenv, and env: the variables of envp that the files or the .env
 * name (a whole word), plus COMPOSE_PROFILES; not the whole environment, which holds secrets
 * (CMSD_TOKEN among them) that have no business in the project's stored record. */
json_object *ctl_compose_body(const struct ctl_compose_project *p, char *const *envp);

/* compose_progress.c: an up's progress events, one line per service/container, image, network
 * or volume: redrawn in place on a terminal (tty), else one plain line per event. */
struct ctl_progress;
struct ctl_progress *ctl_progress_new(bool tty, bool color, FILE *out);
/* One event ({"type":"progress",...}); other types are ignored. */
void ctl_progress_event(struct ctl_progress *p, json_object *ev);
void ctl_progress_free(struct ctl_progress *p);
/* The line an event shows: "Container p-web-1  Started" (malloc'd; NULL for non-progress). */
char *ctl_progress_text(json_object *ev);
