/* cmsctl compose: docker compose's commands against cmsd's project routes. The files, .env and
 * project name are found here as docker compose finds them (compose_opts.c) and sent whole;
 * cmsd merges, interpolates and resolves relative paths against the project directory sent as
 * working_dir. up streams its progress (compose_progress.c); ps, logs and the lifecycle verbs
 * need only the name (compose_view.c). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compose_opts.h"
#include "compose_view.h"

extern char **environ;

/* compose's own options of this run, read by cmd_compose before the subcommand. */
static struct ctl_compose g_opts;

int ctl_compose_project(struct ctl_compose_project *p, bool need_files)
{
        int r = ctl_compose_load(&g_opts, need_files, p);
        if (r != CTL_OK)
                ctl_compose_project_done(p);
        return r;
}

char *ctl_compose_path(const char *name, const char *suffix)
{
        char *esc = ctl_escape(name), *out = NULL;
        size_t n = strlen(esc ? esc : "") + strlen(suffix) + 32;
        if (esc && (out = malloc(n)))
                snprintf(out, n, "/v1/projects/%s%s", esc, suffix);
        free(esc);
        return out;
}

bool ctl_put_scale(json_object *scale, const char *arg)
{
        const char *eq = strchr(arg, '=');
        char *end = NULL;
        long n = eq ? strtol(eq + 1, &end, 10) : -1;
        if (!eq || eq == arg || !eq[1] || *end || n < 0 || n > 1000)
                return false;
        char *k = strndup(arg, (size_t)(eq - arg));
        json_object_object_add(scale, k, json_object_new_int((int)n));
        free(k);
        return true;
}

/* ---- up ---- */

struct up_state {
        struct ctl *c;
        struct ctl_progress *prog;
        json_object *done; /* the done event's data */
};

static int up_line(json_object *ev, void *ud)
{
        struct up_state *s = ud;
        if (!strcmp(ctl_str(ev, "type"), "done")) {
                json_object_put(s->done);
                s->done = json_object_get(ev);
                json_object_object_del(s->done, "type");
        } else if (s->prog) {
                ctl_progress_event(s->prog, ev);
        }
        return 0;
}

struct up_flags {
        bool detach;
        json_object *body;
};

static int up_flag(struct up_flags *f, int argc, char **argv, int *i)
{
        static const char *const bools[][2] = {{"--build", "build"},
                                               {"--force-recreate", "force_recreate"},
                                               {"--remove-orphans", "remove_orphans"},
                                               {"--wait", "wait"}};
        const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
        if (!strcmp(a, "-d") || !strcmp(a, "--detach")) {
                f->detach = true;
                return 0;
        }
        for (size_t k = 0; k < sizeof(bools) / sizeof(bools[0]); k++)
                if (!strcmp(a, bools[k][0])) {
                        json_object_object_add(f->body, bools[k][1], json_object_new_boolean(1));
                        return 0;
                }
        if (!strcmp(a, "--pull") && v &&
            (!strcmp(v, "missing") || !strcmp(v, "always") || !strcmp(v, "never"))) {
                json_object_object_add(f->body, "pull", json_object_new_string(v));
                ++*i;
                return 0;
        }
        if (!strcmp(a, "--scan-fail-on") && v) { /* scanned first, refused at or above it */
                json_object *scan = json_object_new_object();
                json_object_object_add(scan, "fail_on", json_object_new_string(v));
                json_object_object_add(f->body, "scan", scan);
                ++*i;
                return 0;
        }
        if (!strcmp(a, "--scale") && v) {
                json_object *scale = NULL;
                if (!json_object_object_get_ex(f->body, "scale", &scale)) {
                        scale = json_object_new_object();
                        json_object_object_add(f->body, "scale", scale);
                }
                ++*i;
                return ctl_put_scale(scale, v) ? 0 : -1;
        }
        return -1;
}

static void print_warnings(json_object *data)
{
        json_object *w = NULL;
        if (!json_object_object_get_ex(data, "warnings", &w) ||
            !json_object_is_type(w, json_type_array))
                return;
        for (size_t i = 0; i < json_object_array_length(w); i++)
                fprintf(stderr, "cmsctl: warning: %s\n",
                        json_object_get_string(json_object_array_get_idx(w, i)));
}

static int cmd_up(struct ctl *c, int argc, char **argv)
{
        static const char usage[] = "compose up [-d] [--build] [--pull missing|always|never] "
                                    "[--scale SERVICE=N]... [--force-recreate] "
                                    "[--remove-orphans] [--wait] [--scan-fail-on SEVERITY]";
        struct ctl_compose_project p;
        struct up_flags f = {0};
        int r = ctl_compose_project(&p, true);
        if (r != CTL_OK)
                return r;
        f.body = ctl_compose_body(&p, environ);
        for (int i = 0; i < argc && r == CTL_OK; i++)
                if (up_flag(&f, argc, argv, &i) < 0)
                        r = ctl_usage("%s", usage);
        struct up_state s = {.c = c};
        if (r == CTL_OK) {
                const char *js = json_object_to_json_string_ext(f.body, JSON_C_TO_STRING_PLAIN);
                struct ctl_req q = {
                    .method = "POST", .path = "/v1/projects", .body = js, .body_len = strlen(js)};
                /* progress on stderr, as docker compose writes it: stdout stays data */
                bool tty = isatty(STDERR_FILENO);
                if (c->format == CTL_TABLE)
                        s.prog = ctl_progress_new(tty, tty && !getenv("NO_COLOR"), stderr);
                r = ctl_ndjson(c, &q, up_line, &s);
        }
        if (r == CTL_OK && !s.done) {
                fprintf(stderr, "cmsctl: the up ended without a result (cmsd went away?)\n");
                r = CTL_UNAVAILABLE;
        }
        if (r == CTL_OK) {
                print_warnings(s.done);
                ctl_structured(c, s.done);
        }
        if (r == CTL_OK && !f.detach && c->format == CTL_TABLE)
                r = ctl_compose_attach(c, p.name);
        ctl_progress_free(s.prog);
        json_object_put(s.done);
        json_object_put(f.body);
        ctl_compose_project_done(&p);
        return r;
}

/* ---- down ---- */

static void print_removed(json_object *data)
{
        static const char *const kinds[][2] = {{"networks", "Network"}, {"volumes", "Volume"}};
        json_object *a = NULL;
        ctl_compose_print_actions(data);
        for (size_t k = 0; k < 2; k++) {
                if (!json_object_object_get_ex(data, kinds[k][0], &a) ||
                    !json_object_is_type(a, json_type_array))
                        continue;
                for (size_t i = 0; i < json_object_array_length(a); i++)
                        printf("%s %s  Removed\n", kinds[k][1],
                               json_object_get_string(json_object_array_get_idx(a, i)));
        }
}

static int cmd_down(struct ctl *c, int argc, char **argv)
{
        json_object *body = json_object_new_object();
        int r = CTL_OK;
        for (int i = 0; i < argc && r == CTL_OK; i++) {
                if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--volumes"))
                        json_object_object_add(body, "volumes", json_object_new_boolean(1));
                else if (!strcmp(argv[i], "--remove-orphans"))
                        json_object_object_add(body, "remove_orphans", json_object_new_boolean(1));
                else if ((!strcmp(argv[i], "-t") || !strcmp(argv[i], "--timeout")) &&
                         i + 1 < argc && ctl_compose_seconds(argv[i + 1]) >= 0)
                        json_object_object_add(body, "timeout",
                                               json_object_new_int(ctl_compose_seconds(argv[++i])));
                else
                        r = ctl_usage("compose down [-v] [--remove-orphans] [-t SECONDS]");
        }
        if (r == CTL_OK)
                r = ctl_compose_post(c, "/down", body, print_removed);
        json_object_put(body);
        return r;
}

/* ---- config, build, pull: the files go with the request ---- */

static int cmd_config(struct ctl *c, int argc, char **argv)
{
        bool services = argc == 1 && !strcmp(argv[0], "--services");
        if (argc && !services)
                return ctl_usage("compose config [--services]");
        struct ctl_compose_project p;
        int r = ctl_compose_project(&p, true);
        if (r != CTL_OK)
                return r;
        json_object *body = ctl_compose_body(&p, environ), *d = NULL, *svcs = NULL;
        r = ctl_call(c, "POST", "/v1/projects/config", body, &d);
        json_object *w = NULL;
        if (r == CTL_OK && c->format == CTL_TABLE && json_object_object_get_ex(d, "warnings", &w)) {
                /* as docker compose config: warnings to stderr, the model alone on stdout */
                size_t n =
                    json_object_is_type(w, json_type_array) ? json_object_array_length(w) : 0;
                for (size_t i = 0; i < n; i++)
                        fprintf(stderr, "WARNING: %s\n",
                                ctl_safe(json_object_get_string(json_object_array_get_idx(w, i))));
                json_object_object_del(d, "warnings");
        }
        if (r == CTL_OK && services && json_object_object_get_ex(d, "services", &svcs) &&
            json_object_is_type(svcs, json_type_object)) {
                json_object_object_foreach(svcs, k, v)
                {
                        (void)v;
                        printf("%s\n", k);
                }
        } else if (r == CTL_OK && !ctl_structured(c, d)) {
                ctl_print_json(d);
        }
        json_object_put(d);
        json_object_put(body);
        ctl_compose_project_done(&p);
        return r;
}

static void print_images(json_object *data)
{
        json_object *a = NULL;
        if (!json_object_object_get_ex(data, "images", &a) ||
            !json_object_is_type(a, json_type_array))
                return;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *it = json_object_array_get_idx(a, i);
                char act[32];
                snprintf(act, sizeof(act), "%s", ctl_str(it, "action"));
                if (*act >= 'a' && *act <= 'z')
                        *act = (char)(*act - 'a' + 'A');
                printf("Image %s  %s (service %s)\n", ctl_str(it, "image"), act,
                       ctl_str(it, "service"));
        }
        print_warnings(data);
}

/* build [--no-cache] [SERVICE...] and pull [SERVICE...] (c->cmd says which). */
static int compose_images(struct ctl *c, int argc, char **argv)
{
        bool build = !strcmp(c->cmd, "build");
        struct ctl_compose_project p;
        int r = ctl_compose_project(&p, true);
        if (r != CTL_OK)
                return r;
        json_object *body = ctl_compose_body(&p, environ), *svcs = json_object_new_array();
        json_object_object_del(body, "name");
        json_object_object_add(body, "services", svcs);
        for (int i = 0; i < argc && r == CTL_OK; i++) {
                if (build && !strcmp(argv[i], "--no-cache"))
                        json_object_object_add(body, "no_cache", json_object_new_boolean(1));
                else if (argv[i][0] != '-')
                        json_object_array_add(svcs, json_object_new_string(argv[i]));
                else
                        r = build ? ctl_usage("compose build [--no-cache] [SERVICE...]")
                                  : ctl_usage("compose pull [SERVICE...]");
        }
        if (!json_object_array_length(svcs))
                json_object_object_del(body, "services");
        char *path = ctl_compose_path(p.name, build ? "/build" : "/pull");
        json_object *d = NULL;
        if (r == CTL_OK)
                r = ctl_call(c, "POST", path, body, &d);
        if (r == CTL_OK && !ctl_structured(c, d))
                print_images(d);
        free(path);
        json_object_put(d);
        json_object_put(body);
        ctl_compose_project_done(&p);
        return r;
}

/* ---- the table ---- */

const struct ctl_command ctl_compose_cmds[] = {
    {"up",
     "[-d] [--build] [--pull missing|always|never] [--scale SERVICE=N]... [--force-recreate] "
     "[--remove-orphans] [--wait] [--scan-fail-on SEVERITY]",
     "create and start the project's containers (without -d, follow their logs; Ctrl-C stops them)",
     cmd_up, NULL},
    {"down", "[-v] [--remove-orphans] [-t SECONDS]",
     "stop and remove the containers and networks (-v: the volumes too)", cmd_down, NULL},
    {"ps", "[-a] [-q]", "the project's containers (-a: stopped ones too)", ctl_compose_ps, NULL},
    {"logs", "[-f] [-t] [--tail N] [SERVICE...]", "the services' logs, merged", ctl_compose_logs,
     NULL},
    {"start", "", "start the project's containers", ctl_compose_verb, NULL},
    {"stop", "[-t SECONDS]", "stop the project's containers", ctl_compose_verb, NULL},
    {"restart", "[-t SECONDS]", "restart the project's containers", ctl_compose_verb, NULL},
    {"scale", "SERVICE=N...", "set the number of a service's containers", ctl_compose_scale, NULL},
    {"config", "[--services]", "the merged, interpolated model of the files, as cmsd reads it",
     cmd_config, NULL},
    {"build", "[--no-cache] [SERVICE...]", "build the services that have a build section",
     compose_images, NULL},
    {"pull", "[SERVICE...]", "pull the services' images", compose_images, NULL},
    {"ls", "[-q]", "list the projects", ctl_compose_ls, NULL},
    {0},
};

int cmd_compose(struct ctl *c, int argc, char **argv)
{
        int k = ctl_compose_parse_opts(&g_opts, argc, argv);
        if (k < 0)
                return -k;
        if (k < argc && (!strcmp(argv[k], "-h") || !strcmp(argv[k], "--help"))) {
                /* compose --help: the group's usage, as `cmsctl compose` alone prints it */
                char *help[] = {"compose", "--help"};
                return ctl_dispatch(c, ctl_commands, NULL, 2, help);
        }
        return ctl_dispatch(c, ctl_compose_cmds, "compose", argc - k, argv + k);
}

int ctl_compose_scale(struct ctl *c, int argc, char **argv)
{
        json_object *body = json_object_new_object();
        int r = argc ? CTL_OK : ctl_usage("compose scale SERVICE=N...");
        for (int i = 0; i < argc && r == CTL_OK; i++)
                if (!ctl_put_scale(body, argv[i]))
                        r = ctl_usage("compose scale SERVICE=N... ('%s' is not SERVICE=N)",
                                      argv[i]);
        if (r == CTL_OK)
                r = ctl_compose_post(c, "/scale", body, ctl_compose_print_actions);
        json_object_put(body);
        return r;
}
