/* cmsctl run, create, deploy, exec and health. run without -d follows the container's output and
 * exits with its exit code, as docker run does; exec exits with the command's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"

#define MAX_STDIN (8u * 1024 * 1024)

static void warnings(json_object *d)
{
        json_object *w = NULL;
        if (json_object_object_get_ex(d, "warnings", &w) && json_object_is_type(w, json_type_array))
                for (size_t i = 0; i < json_object_array_length(w); i++)
                        fprintf(stderr, "WARNING: %s\n",
                                ctl_safe(json_object_get_string(json_object_array_get_idx(w, i))));
}

/* After the output ended: the container's exit code, once the engine says it stopped. */
static int exit_code_of(struct ctl *c, const char *path)
{
        for (int tries = 0; tries < 300; tries++) {
                json_object *d = NULL, *ec = NULL;
                int r = ctl_call(c, "GET", path, NULL, &d);
                if (r != CTL_OK)
                        return r;
                const char *st = ctl_str(d, "state");
                if (strcmp(st, "running") && strcmp(st, "restarting") && strcmp(st, "paused")) {
                        json_object_object_get_ex(d, "exit_code", &ec);
                        int code = ec ? json_object_get_int(ec) : CTL_ERR;
                        json_object_put(d);
                        return code;
                }
                json_object_put(d);
                nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
        }
        fprintf(stderr, "cmsctl: the output ended but the container still runs\n");
        return CTL_ERR;
}

/* run (attached): follow the output, then the exit code; --rm removes it afterwards. Ctrl-C is
 * forwarded to the container as SIGINT (docker run's signal proxy) and the output followed on;
 * a second Ctrl-C leaves it running and ends cmsctl (130). */
static int attached(struct ctl *c, const char *id, bool rm)
{
        char *e = ctl_escape(id), path[512], logs[640], kill[640];
        snprintf(path, sizeof(path), "/v1/containers/%s", e ? e : "");
        free(e);
        snprintf(logs, sizeof(logs), "%s/logs?follow=true&stdout=true&stderr=true", path);
        snprintf(kill, sizeof(kill), "%s/kill?signal=SIGINT", path);
        struct ctl_logs lg = {0};
        int r = ctl_ndjson(c, &(struct ctl_req){.path = logs}, ctl_log_line, &lg);
        if (r == CTL_INTERRUPTED) {
                ctl_interrupted = 0;
                ctl_call(c, "POST", kill, NULL, NULL);
                /* on from now: the lines already shown are not asked for again */
                snprintf(logs + strlen(logs), sizeof(logs) - strlen(logs), "&tail=0");
                r = ctl_ndjson(c, &(struct ctl_req){.path = logs}, ctl_log_line, &lg);
        }
        if (r == CTL_INTERRUPTED) {
                fprintf(stderr, "cmsctl: left %.12s running (cmsctl stop, cmsctl rm)\n", id);
                return r;
        }
        if (r == CTL_OK)
                r = lg.rc != CTL_OK ? lg.rc : exit_code_of(c, path);
        if (rm) {
                char del[640];
                snprintf(del, sizeof(del), "%s?force=true", path);
                int d = ctl_call(c, "DELETE", del, NULL, NULL);
                if (r == CTL_OK)
                        r = d;
        }
        return r;
}

int cmd_run(struct ctl *c, int argc, char **argv)
{
        bool run = !strcmp(c->cmd, "run"), deploy = !strcmp(c->cmd, "deploy");
        struct ctl_run_flags f = {.deploy = deploy};
        json_object *cfg = NULL, *d = NULL;
        int r = ctl_run_config(argc, argv, &f, &cfg);
        if (r != CTL_OK)
                return r;
        if (!run && (f.detach || f.rm)) {
                json_object_put(cfg);
                return ctl_usage("%s: -d and --rm are run's options", c->cmd);
        }
        if (run && f.detach && f.rm)
                json_object_object_add(cfg, "auto_remove", json_object_new_boolean(1));
        r = ctl_call(c, "POST",
                     deploy ? "/v1/deploy"
                     : run  ? "/v1/containers?start=true"
                            : "/v1/containers",
                     cfg, &d);
        json_object_put(cfg);
        if (r != CTL_OK)
                return r;
        warnings(d);
        char id[80];
        snprintf(id, sizeof(id), "%s", ctl_str(d, "id"));
        if (!*id || strspn(id, "0123456789abcdef") != strlen(id)) {
                fprintf(stderr, "cmsctl: the reply has no container id\n");
                json_object_put(d);
                return CTL_ERR;
        }
        if (ctl_structured(c, d))
                ;
        else if (deploy)
                printf("%s %.12s %s%s%s\n", ctl_safe(ctl_str(d, "name")), id,
                       ctl_safe(ctl_str(d, "state")), *ctl_str(d, "health") ? " " : "",
                       ctl_safe(ctl_str(d, "health")));
        else if (!run || f.detach)
                puts(id);
        json_object_put(d);
        return run && !f.detach ? attached(c, id, f.rm) : CTL_OK;
}

/* stdin, whole (exec -i): at most MAX_STDIN bytes; NULL after printing why. */
static char *read_stdin(size_t *n)
{
        size_t cap = 65536, len = 0;
        char *b = malloc(cap + 1);
        ssize_t k;
        while (b && (k = read(STDIN_FILENO, b + len, cap - len)) != 0) {
                if (k < 0 && errno == EINTR && !ctl_interrupted)
                        continue;
                if (k < 0) { /* never a part of stdin sent as if it were all */
                        if (!ctl_interrupted)
                                fprintf(stderr, "cmsctl: exec -i: reading stdin: %s\n",
                                        strerror(errno));
                        free(b);
                        return NULL;
                }
                len += (size_t)k;
                if (len == cap) {
                        char *nb = cap >= MAX_STDIN ? NULL : realloc(b, cap * 2 + 1);
                        if (!nb) {
                                fprintf(stderr, "cmsctl: exec -i: stdin is larger than %u bytes\n",
                                        MAX_STDIN);
                                free(b);
                                return NULL;
                        }
                        b = nb;
                        cap *= 2;
                }
        }
        if (b)
                b[len] = 0;
        *n = len;
        return b;
}

static int exec_opts(int argc, char **argv, json_object *body, bool *in, int *i)
{
        json_object *env = json_object_new_object();
        json_object_object_add(body, "env", env);
        for (*i = 0; *i < argc && argv[*i][0] == '-'; ++*i) {
                const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
                const char *eq = v ? strchr(v, '=') : NULL;
                if (!strcmp(a, "-i") || !strcmp(a, "--interactive")) {
                        *in = true;
                        continue;
                }
                if (!v)
                        return CTL_USAGE;
                if ((!strcmp(a, "-e") || !strcmp(a, "--env")) && eq && eq != v) {
                        char *k = strndup(v, (size_t)(eq - v));
                        json_object_object_add(env, k, json_object_new_string(eq + 1));
                        free(k);
                } else if (!strcmp(a, "-w") || !strcmp(a, "--workdir")) {
                        json_object_object_add(body, "workdir", json_object_new_string(v));
                } else if (!strcmp(a, "-u") || !strcmp(a, "--user")) {
                        json_object_object_add(body, "user", json_object_new_string(v));
                } else {
                        return CTL_USAGE;
                }
                ++*i;
        }
        return *i + 2 <= argc ? CTL_OK : CTL_USAGE;
}

int cmd_exec(struct ctl *c, int argc, char **argv)
{
        json_object *body = json_object_new_object(), *d = NULL, *ec = NULL;
        bool in = false;
        int i = 0, r = exec_opts(argc, argv, body, &in, &i);
        if (r != CTL_OK) {
                json_object_put(body);
                return ctl_usage("exec [-i] [-e K=V]... [-w DIR] [-u USER] CONTAINER CMD...");
        }
        json_object *cmd = json_object_new_array();
        for (int k = i + 1; k < argc; k++)
                json_object_array_add(cmd, json_object_new_string(argv[k]));
        json_object_object_add(body, "command", cmd);
        if (in) {
                size_t n = 0;
                char *text = read_stdin(&n);
                if (!text) {
                        json_object_put(body);
                        return ctl_interrupted ? CTL_INTERRUPTED : CTL_ERR;
                }
                json_object_object_add(body, "stdin", json_object_new_string_len(text, (int)n));
                free(text);
        }
        char *e = ctl_escape(argv[i]), path[512];
        snprintf(path, sizeof(path), "/v1/containers/%s/exec", e ? e : "");
        free(e);
        r = ctl_call(c, "POST", path, body, &d);
        json_object_put(body);
        if (r != CTL_OK)
                return r;
        if (!ctl_structured(c, d)) { /* the command's bytes as they are, NULs too */
                json_object *o = NULL, *e = NULL;
                json_object_object_get_ex(d, "stdout", &o);
                json_object_object_get_ex(d, "stderr", &e);
                if (json_object_is_type(o, json_type_string))
                        fwrite(json_object_get_string(o), 1, (size_t)json_object_get_string_len(o),
                               stdout);
                if (json_object_is_type(e, json_type_string))
                        fwrite(json_object_get_string(e), 1, (size_t)json_object_get_string_len(e),
                               stderr);
        }
        json_object_object_get_ex(d, "exit_code", &ec);
        r = ec ? json_object_get_int(ec) : CTL_ERR;
        json_object_put(d);
        return r;
}

int cmd_health(struct ctl *c, int argc, char **argv)
{
        if (argc != 1)
                return ctl_usage("health CONTAINER");
        char *e = ctl_escape(argv[0]), path[512];
        json_object *d = NULL, *log = NULL, *streak = NULL;
        snprintf(path, sizeof(path), "/v1/containers/%s/health", e ? e : "");
        free(e);
        int r = ctl_call(c, "GET", path, NULL, &d);
        if (r != CTL_OK || ctl_structured(c, d)) {
                json_object_put(d);
                return r;
        }
        json_object_object_get_ex(d, "failing_streak", &streak);
        printf("Status: %s\nFailing streak: %d\n", ctl_safe(ctl_str(d, "status")),
               streak ? json_object_get_int(streak) : 0);
        json_object_object_get_ex(d, "log", &log);
        size_t n = json_object_is_type(log, json_type_array) ? json_object_array_length(log) : 0;
        if (n) {
                static const char *const h[] = {"START", "EXIT", "OUTPUT"};
                struct ctl_table *t = ctl_table_new(h, 3);
                for (size_t k = 0; k < n; k++) {
                        json_object *it = json_object_array_get_idx(log, k), *x = NULL;
                        char code[16], out[512];
                        json_object_object_get_ex(it, "exit_code", &x);
                        snprintf(code, sizeof(code), "%d", x ? json_object_get_int(x) : -1);
                        snprintf(out, sizeof(out), "%s", ctl_str(it, "output"));
                        for (char *p = out; *p; p++)
                                if (*p == '\n' || *p == '\r' || *p == '\t')
                                        *p = ' ';
                        const char *row[] = {ctl_str(it, "start"), code, out};
                        ctl_table_add(t, row);
                }
                ctl_table_print(t, c->width, stdout);
                ctl_table_free(t);
        }
        json_object_put(d);
        return CTL_OK;
}
