/* cmsctl's container commands: ps, inspect, the lifecycle verbs, rm, logs (-f, --tail, -t). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"

static void ports_text(json_object *ports, char *out, size_t n)
{
        size_t len = 0;
        size_t k =
            json_object_is_type(ports, json_type_array) ? json_object_array_length(ports) : 0;
        out[0] = 0;
        for (size_t i = 0; i < k && len < n; i++) {
                json_object *p = json_object_array_get_idx(ports, i), *hp = NULL, *cp = NULL;
                json_object_object_get_ex(p, "host_port", &hp);
                json_object_object_get_ex(p, "container_port", &cp);
                const char *ip = ctl_str(p, "host_ip"), *proto = ctl_str(p, "protocol");
                if (hp && !json_object_is_type(hp, json_type_null))
                        len +=
                            (size_t)snprintf(out + len, n - len, "%s%s:%d->%d/%s", len ? ", " : "",
                                             *ip ? ip : "0.0.0.0", json_object_get_int(hp),
                                             json_object_get_int(cp), proto);
                else
                        len += (size_t)snprintf(out + len, n - len, "%s%d/%s", len ? ", " : "",
                                                json_object_get_int(cp), proto);
        }
}

/* The status's colour by what it says (on a terminal without NO_COLOR): running and healthy
 * green, unhealthy or exited with an error red, paused or starting yellow; NULL: none. */
static const char *status_colour(const struct ctl *c, json_object *it)
{
        const char *st = ctl_str(it, "status"), *state = ctl_str(it, "state");
        const char *health = ctl_str(it, "health");
        if (!c->color)
                return NULL;
        if (!strcmp(health, "unhealthy") ||
            (!strcmp(state, "exited") && !strstr(st, "(0)") && strstr(st, "(")))
                return "31";
        if (!strcmp(state, "paused") || !strcmp(health, "starting") || !strcmp(state, "restarting"))
                return "33";
        return !strcmp(state, "running") ? "32" : NULL;
}

int cmd_ps(struct ctl *c, int argc, char **argv)
{
        json_object *list = NULL;
        char path[1024];
        int r = ctl_list_path(c, "/v1/containers", argc, argv, path, sizeof(path));
        if (r != CTL_OK)
                return r;
        if ((r = ctl_call(c, "GET", path, NULL, &list)) != CTL_OK)
                return r;
        if (ctl_structured(c, list)) {
                json_object_put(list);
                return CTL_OK;
        }
        static const char *const h[] = {"ENGINE", "CONTAINER ID", "IMAGE", "CREATED",
                                        "STATUS", "PORTS",        "NAMES"};
        /* engine=*: an ENGINE column first */
        bool all = c->engine && !strcmp(c->engine, "*");
        struct ctl_table *t = ctl_table_new(h + !all, 6 + all);
        int64_t now = (int64_t)time(NULL);
        size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *it = json_object_array_get_idx(list, i), *ports = NULL;
                char id[13], age[64], pt[512];
                snprintf(id, sizeof(id), "%.12s", ctl_str(it, "id"));
                if (c->format == CTL_QUIET) {
                        puts(id);
                        continue;
                }
                ctl_human_age(ctl_str(it, "created"), now, age, sizeof(age));
                json_object_object_get_ex(it, "ports", &ports);
                ports_text(ports, pt, sizeof(pt));
                const char *row[] = {ctl_str(it, "engine"), id, ctl_str(it, "image"), age,
                                     ctl_str(it, "status"), pt, ctl_str(it, "name")};
                const char *colours[] = {NULL, NULL, NULL, NULL, status_colour(c, it), NULL, NULL};
                ctl_table_add_coloured(t, row + !all, colours + !all);
        }
        if (c->format != CTL_QUIET)
                ctl_table_print(t, c->width, stdout);
        ctl_table_free(t);
        json_object_put(list);
        return CTL_OK;
}

int cmd_inspect(struct ctl *c, int argc, char **argv)
{
        if (argc >= 2 && (!strcmp(argv[0], "--format") || !strcmp(argv[0], "-f"))) {
                ctl_set_format(c, argv[1]);
                argc -= 2;
                argv += 2;
        }
        if (argc < 1)
                return ctl_usage("inspect [-f FORMAT] CONTAINER...");
        json_object *all = json_object_new_array();
        int worst = CTL_OK;
        for (int i = 0; i < argc; i++) {
                char *id = ctl_escape(argv[i]), path[1024];
                json_object *d = NULL;
                snprintf(path, sizeof(path), "/v1/containers/%s", id ? id : "");
                free(id);
                int r = ctl_call(c, "GET", path, NULL, &d);
                if (r == CTL_OK)
                        json_object_array_add(all, d);
                else
                        worst = r;
        }
        if (!ctl_structured(c, all))
                ctl_print_json(all);
        json_object_put(all);
        return worst;
}

/* METHOD /v1/containers/{id}<suffix> for each container named; the names done are printed, as
 * docker does; the worst exit code is returned. */
static int each(struct ctl *c, const char *method, const char *suffix, int argc, char **argv)
{
        int worst = CTL_OK;
        for (int i = 0; i < argc; i++) {
                char *id = ctl_escape(argv[i]), path[1024];
                snprintf(path, sizeof(path), "/v1/containers/%s%s", id ? id : "", suffix);
                free(id);
                int r = ctl_call(c, method, path, NULL, NULL);
                if (r == CTL_OK)
                        puts(argv[i]);
                else
                        worst = r;
        }
        return worst;
}

int cmd_lifecycle(struct ctl *c, int argc, char **argv)
{
        const char *what = c->cmd;
        char query[128] = "";
        bool kill = !strcmp(what, "kill");
        bool timed = !strcmp(what, "stop") || !strcmp(what, "restart");
        int i = 0;
        for (; i < argc && argv[i][0] == '-' && argv[i][1]; i += 2) {
                bool t = !strcmp(argv[i], "-t") || !strcmp(argv[i], "--time");
                bool s = !strcmp(argv[i], "-s") || !strcmp(argv[i], "--signal");
                if (i + 1 >= argc || !((t && timed) || (s && kill)))
                        return ctl_usage("%s %sCONTAINER...", what,
                                         kill    ? "[-s SIGNAL] "
                                         : timed ? "[-t SECONDS] "
                                                 : "");
                char *v = ctl_escape(argv[i + 1]);
                snprintf(query, sizeof(query), "?%s=%.100s", t ? "timeout" : "signal", v ? v : "");
                free(v);
        }
        if (i == argc)
                return ctl_usage("%s CONTAINER...", what);
        char suffix[160];
        snprintf(suffix, sizeof(suffix), "/%s%s", what, query);
        return each(c, "POST", suffix, argc - i, argv + i);
}

int cmd_rm(struct ctl *c, int argc, char **argv)
{
        bool force = false, volumes = false;
        int i = 0;
        for (; i < argc && argv[i][0] == '-'; i++) {
                if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--force"))
                        force = true;
                else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--volumes"))
                        volumes = true;
                else
                        return ctl_usage("rm [-f] [-v] CONTAINER...");
        }
        if (i == argc)
                return ctl_usage("rm [-f] [-v] CONTAINER...");
        char suffix[64];
        snprintf(suffix, sizeof(suffix), "?force=%s&volumes=%s", force ? "true" : "false",
                 volumes ? "true" : "false");
        return each(c, "DELETE", suffix, argc - i, argv + i);
}

static void print_line(json_object *l, bool ts)
{
        json_object *t = NULL;
        json_object_object_get_ex(l, "text", &t);
        const char *text =
            json_object_is_type(t, json_type_string) ? json_object_get_string(t) : "";
        size_t n =
            json_object_is_type(t, json_type_string) ? (size_t)json_object_get_string_len(t) : 0;
        FILE *out = !strcmp(ctl_str(l, "stream"), "stderr") ? stderr : stdout;
        if (ts)
                fprintf(out, "%s ", ctl_safe(ctl_str(l, "time")));
        fwrite(text, 1, n, out); /* the container's bytes, as they are (NULs too) */
        if (!n || text[n - 1] != '\n')
                fputc('\n', out);
        fflush(out);
}

int ctl_log_line(json_object *o, void *ud)
{
        struct ctl_logs *lg = ud;
        if (!json_object_object_get_ex(o, "text", NULL) && *ctl_str(o, "reason")) {
                fprintf(stderr, "cmsctl: %s\n", ctl_safe(ctl_str(o, "message")));
                lg->rc = CTL_ERR; /* the stream ended on an error, not with the container */
        } else {
                print_line(o, lg->timestamps);
        }
        return 0;
}

int cmd_logs(struct ctl *c, int argc, char **argv)
{
        bool fol = false, ts = false;
        const char *tail = NULL, *since = NULL, *name = NULL;
        for (int i = 0; i < argc; i++) {
                if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--follow"))
                        fol = true;
                else if (!strcmp(argv[i], "-t") || !strcmp(argv[i], "--timestamps"))
                        ts = true;
                else if ((!strcmp(argv[i], "-n") || !strcmp(argv[i], "--tail")) && i + 1 < argc)
                        tail = argv[++i];
                else if (!strcmp(argv[i], "--since") && i + 1 < argc)
                        since = argv[++i];
                else if (argv[i][0] != '-' && !name)
                        name = argv[i];
                else
                        return ctl_usage("logs [-f] [-t] [--tail N] [--since TIME] CONTAINER");
        }
        if (!name)
                return ctl_usage("logs [-f] [-t] [--tail N] [--since TIME] CONTAINER");
        char *id = ctl_escape(name), *tl = tail ? ctl_escape(tail) : NULL;
        char *sn = since ? ctl_escape(since) : NULL, path[2048];
        snprintf(path, sizeof(path), "/v1/containers/%s/logs?follow=%s&timestamps=%s%s%s%s%s",
                 id ? id : "", fol ? "true" : "false", ts ? "true" : "false", tl ? "&tail=" : "",
                 tl ? tl : "", sn ? "&since=" : "", sn ? sn : "");
        free(id);
        free(tl);
        free(sn);
        if (fol) {
                struct ctl_req q = {.path = path};
                struct ctl_logs lg = {.timestamps = ts};
                int r = ctl_ndjson(c, &q, ctl_log_line, &lg);
                return r != CTL_OK ? r : lg.rc;
        }
        json_object *d = NULL, *lines = NULL;
        int r = ctl_call(c, "GET", path, NULL, &d);
        if (r == CTL_OK && json_object_object_get_ex(d, "lines", &lines) &&
            json_object_is_type(lines, json_type_array))
                for (size_t i = 0; i < json_object_array_length(lines); i++)
                        print_line(json_object_array_get_idx(lines, i), ts);
        json_object_put(d);
        return r;
}
