/* cmsctl compose ps, logs, start/stop/restart and ls: what needs the project's name only (from
 * -p, COMPOSE_PROJECT_NAME, the files' name: or the directory), so they work for projects made
 * by docker compose, or whose files are elsewhere, too. */
#include <stdlib.h>
#include <string.h>

#include "compose_view.h"

int ctl_compose_seconds(const char *s)
{
        char *end = NULL;
        long v = strtol(s, &end, 10);
        return *s && !*end && v >= 0 && v <= 3600 ? (int)v : -1;
}

static json_object *array_of(json_object *o, const char *key)
{
        json_object *a = NULL;
        return json_object_object_get_ex(o, key, &a) && json_object_is_type(a, json_type_array)
                   ? a
                   : NULL;
}

void ctl_compose_print_actions(json_object *data)
{
        json_object *a = array_of(data, "containers");
        for (size_t i = 0; a && i < json_object_array_length(a); i++) {
                json_object *it = json_object_array_get_idx(a, i);
                char act[32];
                snprintf(act, sizeof(act), "%s", ctl_str(it, "action"));
                if (*act >= 'a' && *act <= 'z')
                        *act = (char)(*act - 'a' + 'A');
                printf("Container %s  %s\n", ctl_str(it, "name"), act);
        }
}

int ctl_compose_post(struct ctl *c, const char *suffix, json_object *body,
                     void (*print)(json_object *data))
{
        struct ctl_compose_project p;
        int r = ctl_compose_project(&p, false);
        if (r != CTL_OK)
                return r;
        char *path = ctl_compose_path(p.name, suffix);
        json_object *d = NULL;
        r = path ? ctl_call(c, "POST", path, body, &d) : CTL_ERR;
        if (r == CTL_OK && !ctl_structured(c, d))
                print(d);
        json_object_put(d);
        free(path);
        ctl_compose_project_done(&p);
        return r;
}

int ctl_compose_verb(struct ctl *c, int argc, char **argv)
{
        bool start = !strcmp(c->cmd, "start");
        int t = -1;
        if (argc == 2 && !start && (!strcmp(argv[0], "-t") || !strcmp(argv[0], "--timeout")))
                t = ctl_compose_seconds(argv[1]);
        if (argc && t < 0)
                return start ? ctl_usage("compose start")
                             : ctl_usage("compose %s [-t SECONDS]", c->cmd);
        json_object *body = json_object_new_object();
        if (t >= 0)
                json_object_object_add(body, "timeout", json_object_new_int(t));
        char suffix[16];
        snprintf(suffix, sizeof(suffix), "/%s", c->cmd);
        int r = ctl_compose_post(c, suffix, body, ctl_compose_print_actions);
        json_object_put(body);
        return r;
}

/* "127.0.0.1:8080->80/tcp, 53/udp" */
static void ports_text(json_object *ports, char *out, size_t n)
{
        size_t len = 0;
        out[0] = 0;
        for (size_t i = 0; ports && i < json_object_array_length(ports) && len < n; i++) {
                json_object *p = json_object_array_get_idx(ports, i), *hp = NULL;
                const char *ip = ctl_str(p, "host_ip");
                const char *sep = len ? ", " : "";
                int k;
                if (json_object_object_get_ex(p, "host_port", &hp) && hp)
                        k = snprintf(
                            out + len, n - len, "%s%s%s%d->%d/%s", sep, ip, *ip ? ":" : "",
                            json_object_get_int(hp),
                            json_object_get_int(json_object_object_get(p, "container_port")),
                            ctl_str(p, "protocol"));
                else
                        k = snprintf(
                            out + len, n - len, "%s%d/%s", sep,
                            json_object_get_int(json_object_object_get(p, "container_port")),
                            ctl_str(p, "protocol"));
                len += k > 0 ? (size_t)k : 0;
        }
}

int ctl_compose_ps(struct ctl *c, int argc, char **argv)
{
        bool all = false, quiet = false;
        for (int i = 0; i < argc; i++) {
                if (!strcmp(argv[i], "-a") || !strcmp(argv[i], "--all"))
                        all = true;
                else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
                        quiet = true;
                else
                        return ctl_usage("compose ps [-a] [-q]");
        }
        struct ctl_compose_project p;
        int r = ctl_compose_project(&p, false);
        if (r != CTL_OK)
                return r;
        char *path = ctl_compose_path(p.name, "");
        json_object *d = NULL;
        r = path ? ctl_call(c, "GET", path, NULL, &d) : CTL_ERR;
        free(path);
        ctl_compose_project_done(&p);
        if (r != CTL_OK || ctl_structured(c, d)) {
                json_object_put(d);
                return r;
        }
        static const char *const h[] = {"NAME", "SERVICE", "STATUS", "PORTS"};
        struct ctl_table *t = quiet ? NULL : ctl_table_new(h, 4);
        json_object *svcs = array_of(d, "services");
        for (size_t i = 0; svcs && i < json_object_array_length(svcs); i++) {
                json_object *cs = array_of(json_object_array_get_idx(svcs, i), "containers");
                for (size_t k = 0; cs && k < json_object_array_length(cs); k++) {
                        json_object *ct = json_object_array_get_idx(cs, k);
                        if (!all && strcmp(ctl_str(ct, "state"), "running"))
                                continue;
                        if (quiet) {
                                printf("%s\n", ctl_str(ct, "id"));
                                continue;
                        }
                        char ports[512];
                        ports_text(array_of(ct, "ports"), ports, sizeof(ports));
                        const char *row[] = {ctl_str(ct, "name"), ctl_str(ct, "service"),
                                             ctl_str(ct, "status"), ports};
                        ctl_table_add(t, row);
                }
        }
        if (t) {
                ctl_table_print(t, c->width, stdout);
                ctl_table_free(t);
        }
        json_object_put(d);
        return CTL_OK;
}

/* ---- logs ---- */

struct log_view {
        struct ctl *c;
        bool ts;
        int argc; /* services asked for (none: all) */
        char **argv;
        size_t pad;
        int rc; /* the stream ended on an error */
};

static bool wanted(const struct log_view *v, const char *service)
{
        for (int i = 0; i < v->argc; i++)
                if (!strcmp(v->argv[i], service))
                        return true;
        return v->argc == 0;
}

static int log_line(json_object *l, void *ud)
{
        struct log_view *v = ud;
        if (!json_object_object_get_ex(l, "text", NULL)) {
                if (*ctl_str(l, "message"))
                        fprintf(stderr, "cmsctl: %s\n", ctl_safe(ctl_str(l, "message")));
                if (!strcmp(ctl_str(l, "reason"), "error"))
                        v->rc = CTL_ERR;
                return 0;
        }
        if (!wanted(v, ctl_str(l, "service")))
                return 0;
        const char *name = ctl_str(l, "container"), *text = ctl_str(l, "text");
        if (ctl_display_width(name) > v->pad)
                v->pad = ctl_display_width(name);
        unsigned h = 0;
        for (const char *s = ctl_str(l, "service"); *s; s++)
                h = h * 31 + (unsigned char)*s;
        if (v->c->color)
                printf("\033[%um%-*s |\033[0m ", 31 + h % 6, (int)v->pad, ctl_safe(name));
        else
                printf("%-*s | ", (int)v->pad, ctl_safe(name));
        if (v->ts)
                printf("%s ", ctl_safe(ctl_str(l, "time")));
        size_t n = strlen(text);
        printf("%s%s", text, n && text[n - 1] == '\n' ? "" : "\n");
        fflush(stdout);
        return 0;
}

/* base: "/v1/projects" or "/v1/stacks". */
static int logs_run(struct ctl *c, const char *base, const char *name, bool follow,
                    const char *tail, struct log_view *v)
{
        char *tl = tail ? ctl_escape(tail) : NULL;
        char *svc = v->argc == 1 ? ctl_escape(v->argv[0]) : NULL, q[600];
        snprintf(q, sizeof(q), "/logs?follow=%s&timestamps=%s%s%s%s%s", follow ? "true" : "false",
                 v->ts ? "true" : "false", tl ? "&tail=" : "", tl ? tl : "", svc ? "&service=" : "",
                 svc ? svc : "");
        free(tl);
        free(svc);
        char *esc = ctl_escape(name), *path = NULL;
        if (!esc || asprintf(&path, "%s/%s%s", base, esc, q) < 0)
                path = NULL;
        free(esc);
        if (!path)
                return CTL_ERR;
        int r;
        if (follow) {
                r = ctl_ndjson(c, &(struct ctl_req){.path = path}, log_line, v);
                if (r == CTL_OK)
                        r = v->rc;
        } else {
                json_object *d = NULL;
                r = ctl_call(c, "GET", path, NULL, &d);
                json_object *lines = array_of(d, "lines");
                if (r == CTL_OK && !ctl_structured(c, d)) {
                        for (size_t i = 0; lines && i < json_object_array_length(lines); i++)
                                if (wanted(v, ctl_str(json_object_array_get_idx(lines, i),
                                                      "service")) &&
                                    ctl_display_width(ctl_str(json_object_array_get_idx(lines, i),
                                                              "container")) > v->pad)
                                        v->pad = ctl_display_width(ctl_str(
                                            json_object_array_get_idx(lines, i), "container"));
                        for (size_t i = 0; lines && i < json_object_array_length(lines); i++)
                                log_line(json_object_array_get_idx(lines, i), v);
                }
                json_object_put(d);
        }
        free(path);
        return r;
}

/* -f, -t, --tail N before the names: the index of the first name, or -1 for anything else. */
static int logs_flags(int argc, char **argv, bool *follow, const char **tail, bool *ts)
{
        int i = 0;
        for (; i < argc && argv[i][0] == '-'; i++) {
                if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--follow"))
                        *follow = true;
                else if (!strcmp(argv[i], "-t") || !strcmp(argv[i], "--timestamps"))
                        *ts = true;
                else if ((!strcmp(argv[i], "-n") || !strcmp(argv[i], "--tail")) && i + 1 < argc)
                        *tail = argv[++i];
                else
                        return -1;
        }
        return i;
}

int ctl_compose_logs(struct ctl *c, int argc, char **argv)
{
        bool follow = false;
        const char *tail = NULL;
        struct log_view v = {.c = c};
        int i = logs_flags(argc, argv, &follow, &tail, &v.ts);
        if (i < 0)
                return ctl_usage("compose logs [-f] [-t] [--tail N] [SERVICE...]");
        v.argc = argc - i;
        v.argv = argv + i;
        struct ctl_compose_project p;
        int r = ctl_compose_project(&p, false);
        if (r == CTL_OK)
                r = logs_run(c, "/v1/projects", p.name, follow, tail, &v);
        ctl_compose_project_done(&p);
        return r;
}

/* As docker compose's attached up: the logs followed until Ctrl-C, which then stops the project
 * (a second Ctrl-C during the stop leaves the rest running). Ends with 130 after a Ctrl-C. */
int ctl_compose_attach(struct ctl *c, const char *name)
{
        struct log_view v = {.c = c};
        printf("Attaching to project %s (Ctrl-C stops it)\n", name);
        fflush(stdout);
        int r = logs_run(c, "/v1/projects", name, true, NULL, &v);
        if (r != CTL_INTERRUPTED)
                return r;
        fprintf(stderr, "Gracefully stopping... (press Ctrl-C again to leave the containers "
                        "running)\n");
        ctl_interrupted = 0;
        char *path = ctl_compose_path(name, "/stop");
        json_object *d = NULL, *body = json_object_new_object();
        r = path && body ? ctl_call(c, "POST", path, body, &d) : CTL_ERR;
        if (r == CTL_OK)
                ctl_compose_print_actions(d);
        json_object_put(d);
        json_object_put(body);
        free(path);
        return r == CTL_OK ? CTL_INTERRUPTED : r;
}

int ctl_stack_logs(struct ctl *c, int argc, char **argv)
{
        bool follow = false;
        const char *tail = NULL;
        struct log_view v = {.c = c};
        int i = logs_flags(argc, argv, &follow, &tail, &v.ts);
        if (i < 0 || i >= argc)
                return ctl_usage("stack logs [-f] [-t] [--tail N] STACK [SERVICE...]");
        v.argc = argc - i - 1;
        v.argv = argv + i + 1;
        return logs_run(c, "/v1/stacks", argv[i], follow, tail, &v);
}

int ctl_compose_ls(struct ctl *c, int argc, char **argv)
{
        bool quiet = argc == 1 && (!strcmp(argv[0], "-q") || !strcmp(argv[0], "--quiet"));
        if (argc && !quiet)
                return ctl_usage("compose ls [-q]");
        json_object *d = NULL;
        int r = ctl_call(c, "GET", "/v1/projects", NULL, &d);
        if (r != CTL_OK || ctl_structured(c, d)) {
                json_object_put(d);
                return r;
        }
        static const char *const h[] = {"NAME", "STATUS", "SERVICES", "WORKING DIR"};
        struct ctl_table *t = quiet ? NULL : ctl_table_new(h, 4);
        size_t n = json_object_is_type(d, json_type_array) ? json_object_array_length(d) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *it = json_object_array_get_idx(d, i), *cnt = NULL, *run = NULL;
                if (quiet) {
                        printf("%s\n", ctl_str(it, "name"));
                        continue;
                }
                json_object_object_get_ex(it, "containers", &cnt);
                json_object_object_get_ex(it, "running", &run);
                char status[96], svcs[16];
                snprintf(status, sizeof(status), "%s(%d/%d)", ctl_str(it, "status"),
                         json_object_get_int(run), json_object_get_int(cnt));
                json_object *sa = array_of(it, "services");
                snprintf(svcs, sizeof(svcs), "%zu", sa ? json_object_array_length(sa) : 0);
                const char *row[] = {ctl_str(it, "name"), status, svcs, ctl_str(it, "working_dir")};
                ctl_table_add(t, row);
        }
        if (t) {
                ctl_table_print(t, c->width, stdout);
                ctl_table_free(t);
        }
        json_object_put(d);
        return CTL_OK;
}
