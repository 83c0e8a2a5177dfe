/* cmsctl stack and node: Docker Swarm through cmsd. stack deploy reads the compose files on this
 * side as compose does (-c FILE, relative paths against the first file's directory, its .env)
 * and sends them to POST /v1/stacks; ls, ps, services, scale, rm and logs are the other stack
 * routes; node ls and node update the swarm's nodes. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compose_view.h"

extern char **environ;

/* A member as text whatever its type (numbers too); "" when absent or null. */
static const char *sv(json_object *o, const char *key)
{
        json_object *v = NULL;
        if (!o || !json_object_object_get_ex(o, key, &v) || !v)
                return "";
        return json_object_get_string(v);
}

static char *stack_path(const char *name, const char *suffix)
{
        char *esc = ctl_escape(name), *out = NULL;
        if (!esc || asprintf(&out, "/v1/stacks/%s%s", esc, suffix) < 0)
                out = NULL;
        free(esc);
        return out;
}

static void print_deployed(json_object *d)
{
        json_object *a = NULL;
        const char *verbs[][2] = {{"created", "Creating"},
                                  {"updated", "Updating"},
                                  {"unchanged", "Unchanged"},
                                  {"removed", "Removing"}};
        if (json_object_object_get_ex(d, "networks", &a))
                for (size_t i = 0; i < json_object_array_length(a); i++)
                        printf("Creating network %s\n",
                               ctl_safe(ctl_str(json_object_array_get_idx(a, i), "name")));
        if (json_object_object_get_ex(d, "services", &a))
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *s = json_object_array_get_idx(a, i);
                        const char *act = ctl_str(s, "action"), *verb = act;
                        for (size_t k = 0; k < sizeof(verbs) / sizeof(*verbs); k++)
                                if (!strcmp(act, verbs[k][0]))
                                        verb = verbs[k][1];
                        printf("%s service %s\n", verb, ctl_safe(ctl_str(s, "name")));
                }
        if (json_object_object_get_ex(d, "warnings", &a))
                for (size_t i = 0; i < json_object_array_length(a); i++)
                        fprintf(stderr, "cmsctl: warning: %s\n",
                                ctl_safe(json_object_get_string(json_object_array_get_idx(a, i))));
}

static int stack_deploy(struct ctl *c, int argc, char **argv)
{
        static const char *usage = "stack deploy -c FILE [-c FILE]... [--prune] STACK";
        struct ctl_compose o = {0};
        bool prune = false;
        int i = 0;
        for (; i < argc && argv[i][0] == '-'; i++) {
                if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--compose-file")) &&
                    i + 1 < argc && o.n_files < CTL_COMPOSE_MAX_FILES)
                        o.files[o.n_files++] = argv[++i];
                else if (!strcmp(argv[i], "--prune"))
                        prune = true;
                else
                        return ctl_usage("%s", usage);
        }
        if (i + 1 != argc || !o.n_files)
                return ctl_usage("%s", usage);
        o.project = argv[i];
        struct ctl_compose_project p;
        int r = ctl_compose_load(&o, true, &p);
        if (r != CTL_OK)
                return r;
        json_object *body = ctl_compose_body(&p, environ), *d = NULL;
        json_object_object_add(body, "prune", json_object_new_boolean(prune));
        r = ctl_call(c, "POST", "/v1/stacks", body, &d);
        if (r == CTL_OK && !ctl_structured(c, d))
                print_deployed(d);
        json_object_put(body);
        json_object_put(d);
        ctl_compose_project_done(&p);
        return r;
}

static int stack_ls(struct ctl *c, int argc, char **argv)
{
        (void)argv;
        if (argc)
                return ctl_usage("stack ls");
        json_object *d = NULL;
        int r = ctl_call(c, "GET", "/v1/stacks", NULL, &d);
        if (r != CTL_OK || ctl_structured(c, d)) {
                json_object_put(d);
                return r;
        }
        bool all = c->engine && !strcmp(c->engine, "*");
        static const char *const h[] = {"ENGINE", "NAME", "SERVICES", "TASKS"};
        struct ctl_table *t = ctl_table_new(h + !all, 3 + all);
        for (size_t i = 0; i < json_object_array_length(d); i++) {
                json_object *s = json_object_array_get_idx(d, i);
                char tasks[64];
                snprintf(tasks, sizeof(tasks), "%s/%s", sv(s, "running"), sv(s, "desired"));
                const char *row[] = {ctl_str(s, "engine"), ctl_str(s, "name"), sv(s, "services"),
                                     tasks};
                ctl_table_add(t, row + !all);
        }
        ctl_table_print(t, c->width, stdout);
        ctl_table_free(t);
        json_object_put(d);
        return CTL_OK;
}

/* GET /v1/stacks/NAME, printed by show unless --format asks for the data. */
static int stack_get(struct ctl *c, int argc, char **argv, const char *usage,
                     void (*show)(struct ctl *c, json_object *d))
{
        if (argc != 1)
                return ctl_usage("%s", usage);
        char *path = stack_path(argv[0], "");
        json_object *d = NULL;
        int r = path ? ctl_call(c, "GET", path, NULL, &d) : CTL_ERR;
        if (r == CTL_OK && !ctl_structured(c, d))
                show(c, d);
        json_object_put(d);
        free(path);
        return r;
}

static void show_tasks(struct ctl *c, json_object *d)
{
        static const char *const h[] = {"ID", "NAME", "NODE", "DESIRED STATE", "STATE", "ERROR"};
        struct ctl_table *t = ctl_table_new(h, 6);
        json_object *tasks = NULL;
        json_object_object_get_ex(d, "tasks", &tasks);
        const char *stack = ctl_str(d, "name");
        for (size_t i = 0; tasks && i < json_object_array_length(tasks); i++) {
                json_object *k = json_object_array_get_idx(tasks, i);
                char id[16], name[256];
                snprintf(id, sizeof(id), "%.12s", ctl_str(k, "id"));
                /* a global service's tasks have no slot: docker names them by node */
                snprintf(name, sizeof(name), "%s_%s.%.12s", stack, ctl_str(k, "service"),
                         *sv(k, "slot") ? sv(k, "slot") : ctl_str(k, "node_id"));
                const char *node = *ctl_str(k, "node") ? ctl_str(k, "node") : ctl_str(k, "node_id");
                const char *row[] = {id,
                                     name,
                                     node,
                                     ctl_str(k, "desired_state"),
                                     ctl_str(k, "state"),
                                     ctl_str(k, "error")};
                const char *col[] = {NULL,
                                     NULL,
                                     NULL,
                                     NULL,
                                     c->color && !strcmp(ctl_str(k, "state"), "running") ? "32"
                                     : c->color && *ctl_str(k, "error")                  ? "31"
                                                                                         : NULL,
                                     NULL};
                ctl_table_add_coloured(t, row, col);
        }
        ctl_table_print(t, c->width, stdout);
        ctl_table_free(t);
}

static void show_services(struct ctl *c, json_object *d)
{
        static const char *const h[] = {"ID", "NAME", "MODE", "REPLICAS", "IMAGE", "PORTS"};
        struct ctl_table *t = ctl_table_new(h, 6);
        json_object *svcs = NULL;
        json_object_object_get_ex(d, "services", &svcs);
        for (size_t i = 0; svcs && i < json_object_array_length(svcs); i++) {
                json_object *s = json_object_array_get_idx(svcs, i), *rep = NULL, *ports = NULL;
                char id[16], replicas[64], pt[256] = "";
                snprintf(id, sizeof(id), "%.12s", ctl_str(s, "id"));
                json_object_object_get_ex(s, "replicas", &rep);
                snprintf(replicas, sizeof(replicas), "%s/%s", sv(rep, "running"),
                         sv(rep, "desired"));
                json_object_object_get_ex(s, "ports", &ports);
                for (size_t k = 0; ports && k < json_object_array_length(ports); k++) {
                        json_object *p = json_object_array_get_idx(ports, k);
                        size_t n = strlen(pt);
                        snprintf(pt + n, sizeof(pt) - n, "%s*:%s->%s/%s", n ? ", " : "",
                                 sv(p, "published"), sv(p, "target"), ctl_str(p, "protocol"));
                }
                const char *row[] = {id,       ctl_str(s, "name"),  ctl_str(s, "mode"),
                                     replicas, ctl_str(s, "image"), pt};
                ctl_table_add(t, row);
        }
        ctl_table_print(t, c->width, stdout);
        ctl_table_free(t);
}

static int stack_ps(struct ctl *c, int argc, char **argv)
{
        return stack_get(c, argc, argv, "stack ps STACK", show_tasks);
}

static int stack_services(struct ctl *c, int argc, char **argv)
{
        return stack_get(c, argc, argv, "stack services STACK", show_services);
}

static int stack_rm(struct ctl *c, int argc, char **argv)
{
        if (argc < 1)
                return ctl_usage("stack rm STACK...");
        int worst = CTL_OK;
        for (int i = 0; i < argc; i++) {
                char *path = stack_path(argv[i], "");
                json_object *d = NULL, *a = NULL;
                int r = path ? ctl_call(c, "DELETE", path, NULL, &d) : CTL_ERR;
                if (r == CTL_OK && !ctl_structured(c, d)) {
                        const char *what[] = {"services", "networks"};
                        for (size_t k = 0; k < 2; k++)
                                if (json_object_object_get_ex(d, what[k], &a))
                                        for (size_t j = 0; j < json_object_array_length(a); j++)
                                                printf("Removing %.7s %s\n", what[k],
                                                       ctl_safe(json_object_get_string(
                                                           json_object_array_get_idx(a, j))));
                }
                if (r != CTL_OK)
                        worst = r;
                json_object_put(d);
                free(path);
        }
        return worst;
}

static int stack_scale(struct ctl *c, int argc, char **argv)
{
        if (argc < 2)
                return ctl_usage("stack scale STACK SERVICE=N...");
        json_object *body = json_object_new_object(), *d = NULL;
        for (int i = 1; i < argc; i++)
                if (!ctl_put_scale(body, argv[i])) {
                        json_object_put(body);
                        return ctl_usage("stack scale STACK SERVICE=N... ('%s' is not SERVICE=N)",
                                         argv[i]);
                }
        char *path = stack_path(argv[0], "/scale");
        int r = path ? ctl_call(c, "POST", path, body, &d) : CTL_ERR;
        if (r == CTL_OK && !ctl_structured(c, d)) {
                json_object *rep = NULL;
                json_object_object_get_ex(d, "replicas", &rep);
                json_object_object_foreach(rep, k, v)
                    printf("%s_%s scaled to %s\n", ctl_safe(argv[0]), ctl_safe(k),
                           json_object_get_string(v));
        }
        json_object_put(body);
        json_object_put(d);
        free(path);
        return r;
}

const struct ctl_command ctl_stack_cmds[] = {
    {"deploy", "-c FILE [-c FILE]... [--prune] STACK",
     "deploy compose files as a swarm stack (a re-deploy updates what changed)", stack_deploy,
     NULL},
    {"ls", "", "the stacks on the swarm", stack_ls, NULL},
    {"ps", "STACK", "a stack's tasks: node, state, error", stack_ps, NULL},
    {"services", "STACK", "a stack's services with their replicas", stack_services, NULL},
    {"scale", "STACK SERVICE=N...", "set a stack's services' replicas", stack_scale, NULL},
    {"logs", "[-f] [-t] [--tail N] STACK [SERVICE...]", "a stack's services' logs, merged",
     ctl_stack_logs, NULL},
    {"rm", "STACK...", "remove stacks (services, then networks)", stack_rm, NULL},
    {0},
};

static int node_ls(struct ctl *c, int argc, char **argv)
{
        (void)argv;
        if (argc)
                return ctl_usage("node ls");
        json_object *d = NULL;
        int r = ctl_call(c, "GET", "/v1/nodes", NULL, &d);
        if (r != CTL_OK || ctl_structured(c, d)) {
                json_object_put(d);
                return r;
        }
        static const char *const h[] = {"ID",           "HOSTNAME",       "STATUS",
                                        "AVAILABILITY", "MANAGER STATUS", "ENGINE VERSION"};
        struct ctl_table *t = ctl_table_new(h, 6);
        for (size_t i = 0; i < json_object_array_length(d); i++) {
                json_object *n = json_object_array_get_idx(d, i), *leader = NULL;
                json_object_object_get_ex(n, "leader", &leader);
                const char *ms =
                    json_object_get_boolean(leader) ? "Leader" : ctl_str(n, "manager_reachability");
                const char *row[] = {ctl_str(n, "id"),
                                     ctl_str(n, "hostname"),
                                     ctl_str(n, "state"),
                                     ctl_str(n, "availability"),
                                     ms,
                                     ctl_str(n, "engine_version")};
                ctl_table_add(t, row);
        }
        ctl_table_print(t, c->width, stdout);
        ctl_table_free(t);
        json_object_put(d);
        return CTL_OK;
}

static int node_update(struct ctl *c, int argc, char **argv)
{
        if (argc != 3 || strcmp(argv[0], "--availability"))
                return ctl_usage("node update --availability active|pause|drain NODE");
        json_object *body = json_object_new_object(), *d = NULL;
        json_object_object_add(body, "availability", json_object_new_string(argv[1]));
        char *esc = ctl_escape(argv[2]), *path = NULL;
        if (esc && asprintf(&path, "/v1/nodes/%s", esc) < 0)
                path = NULL;
        int r = path ? ctl_call(c, "POST", path, body, &d) : CTL_ERR;
        if (r == CTL_OK && !ctl_structured(c, d))
                printf("%s %s\n", ctl_safe(ctl_str(d, "id")), ctl_safe(ctl_str(d, "availability")));
        json_object_put(body);
        json_object_put(d);
        free(esc);
        free(path);
        return r;
}

const struct ctl_command ctl_node_cmds[] = {
    {"ls", "", "the swarm's nodes", node_ls, NULL},
    {"update", "--availability active|pause|drain NODE", "drain, pause or activate a node (admin)",
     node_update, NULL},
    {0},
};
