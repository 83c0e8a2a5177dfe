/* cmsctl's commands: the one table that dispatch, --help, bash/zsh completion and the man page's
 * check read. Each (sub)command runs with c->group and c->cmd set to its names. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

#define CREATE_ARGS                                                                                \
        "[--name NAME] [-p PORTS] [-v VOLUME] [--tmpfs PATH] [-e K=V] [--env-file FILE] "          \
        "[-l K=V] [-m SIZE] [--memory-swap SIZE] [--cpus N] [--cpu-shares N] "                     \
        "[--cpuset-cpus CPUS] [--pids-limit N] [--restart POLICY] [--health-cmd CMD] "             \
        "[--health-interval D] [--health-retries N] [--health-timeout D] "                         \
        "[--health-start-period D] [--no-healthcheck] [--network NET] [--ip IP] "                  \
        "[--network-alias NAME] [--dns IP] [--add-host HOST:IP] [--hostname NAME] [-u USER] "      \
        "[-w DIR] [--entrypoint CMD] [--cap-add CAP] [--cap-drop CAP] [--privileged] "             \
        "[--read-only] [--pull MODE] IMAGE [CMD...]"
#define RUN_ARGS "[-d] [--rm] " CREATE_ARGS

static const struct ctl_command vulndb_cmds[] = {
    {"import", "FILE|-|--path DIR", "import OSV records: a zip or tar, or --path on cmsd's host",
     cmd_vulndb_import, NULL},
    {"show", "", "what vulnerability data is loaded: records, ecosystems, dates", cmd_vulndb_show,
     NULL},
    {0},
};

static const struct ctl_command network_cmds[] = {
    {"ls", "[-q] [--format FORMAT] [--filter label=K=V|name=N]", "list networks", cmd_network_ls,
     NULL},
    {"create", "[--driver D] [--subnet CIDR] [--gateway IP] [--internal] [--label K=V] NAME",
     "create a network", cmd_obj_create, NULL},
    {"inspect", "NETWORK...", "networks' documents, as JSON", cmd_obj_each, NULL},
    {"rm", "NETWORK...", "remove networks", cmd_obj_each, NULL},
    {"connect", "[--ip IP] [--alias NAME]... NETWORK CONTAINER", "connect a container",
     cmd_network_connect, NULL},
    {"disconnect", "[-f] NETWORK CONTAINER", "disconnect a container", cmd_network_connect, NULL},
    {"prune", "[-f] [--filter label=K=V]...", "remove unused networks", cmd_prune, NULL},
    {0},
};

static const struct ctl_command volume_cmds[] = {
    {"ls", "[-q] [--format FORMAT] [--filter label=K=V|name=N]", "list volumes", cmd_volume_ls,
     NULL},
    {"create", "[--driver D] [--label K=V] NAME", "create a volume", cmd_obj_create, NULL},
    {"inspect", "VOLUME...", "volumes' documents, as JSON", cmd_obj_each, NULL},
    {"rm", "[-f] VOLUME...", "remove volumes", cmd_obj_each, NULL},
    {"prune", "[-f] [--filter label=K=V]...", "remove unused local volumes", cmd_prune, NULL},
    {0},
};

static const struct ctl_command system_cmds[] = {
    {"info", "", "the engine, the host, counts, cmsd and its sampler", cmd_system_info, NULL},
    {"df", "", "disk used by images, containers, volumes and the build cache", cmd_system_df, NULL},
    {"prune", "[-a] [--volumes] [-f]",
     "remove stopped containers, unused networks, dangling (-a: unused) images", cmd_prune, NULL},
    {0},
};

static const struct ctl_command engine_cmds[] = {
    {"ls", "", "the engines cmsd drives: runtime, version, state, containers", cmd_engine_ls, NULL},
    {0},
};

static const struct ctl_command policy_cmds[] = {
    {"ls", "", "the policies and which token has which (admin)", cmd_policy_ls, NULL},
    {"check", "[--compose FILE] | [run's options] IMAGE [CMD...]",
     "what your policy would refuse; nothing is created", cmd_policy_check, NULL},
    {0},
};

const struct ctl_command ctl_commands[] = {
    {"ps", "[-a] [-q] [--format FORMAT] [--filter label=K=V|name=N]", "list containers", cmd_ps,
     NULL},
    {"run", RUN_ARGS, "create and start a container; without -d, follow it to its end", cmd_run,
     NULL},
    {"create", CREATE_ARGS, "create a container", cmd_run, NULL},
    {"deploy", "[--replace] [--wait-healthy DURATION] [--scan-fail-on SEVERITY] " CREATE_ARGS,
     "pull if absent, replace a same-named container, start, wait for health", cmd_run, NULL},
    {"inspect", "[-f FORMAT] CONTAINER...", "a container's full document, as JSON", cmd_inspect,
     NULL},
    {"start", "CONTAINER...", "start containers", NULL, NULL},
    {"stop", "[-t SECONDS] CONTAINER...", "stop containers", NULL, NULL},
    {"restart", "[-t SECONDS] CONTAINER...", "restart containers", NULL, NULL},
    {"pause", "CONTAINER...", "pause containers", NULL, NULL},
    {"unpause", "CONTAINER...", "unpause containers", NULL, NULL},
    {"kill", "[-s SIGNAL] CONTAINER...", "send a signal (default KILL)", NULL, NULL},
    {"rm", "[-f] [-v] CONTAINER...", "remove containers", cmd_rm, NULL},
    {"logs", "[-f] [-t] [--tail N] [--since T] CONTAINER", "print (or follow) the logs", cmd_logs,
     NULL},
    {"exec", "[-i] [-e K=V]... [-w DIR] [-u USER] CONTAINER CMD...",
     "run a command in a container; exits with its code", cmd_exec, NULL},
    {"health", "CONTAINER", "a container's health and its last checks", cmd_health, NULL},
    {"stats", "[--no-stream] [--format FORMAT] [CONTAINER...]",
     "live CPU, memory, network and disk use from cmsd's samples, busiest first", cmd_stats, NULL},
    {"events", "[--since TIME] [--until TIME] [--filter type=|container=|event=|label=K=V]...",
     "the engine's events as they happen", cmd_events, NULL},
    {"images", "[-a] [-q] [--format FORMAT] [--filter label=K=V]", "list images", cmd_images, NULL},
    {"pull", "[-q] [--username USER --password-stdin] IMAGE[:TAG]", "pull an image, with progress",
     cmd_pull, NULL},
    {"push", "[-q] [--username USER --password-stdin] IMAGE[:TAG]", "push an image, with progress",
     cmd_push, NULL},
    {"build",
     "[-t NAME:TAG]... [--build-arg K=V]... [-f DOCKERFILE] [--no-cache] [--pull] "
     "[--label K=V]... [-q] DIR|-",
     "build an image from a local directory (.dockerignore honoured) or a tar on stdin", cmd_build,
     NULL},
    {"sbom", "IMAGE", "the image's packages (CycloneDX 1.5 with --format json)", cmd_sbom, NULL},
    {"scan", "[--severity LIST] [--scanner builtin|trivy|grype] [--ignore-unfixed] [-q] IMAGE",
     "the image's known vulnerabilities, with progress; a summary by severity", cmd_scan, NULL},
    {"vulndb", "COMMAND", "the vulnerability data the builtin scanner matches against", NULL,
     vulndb_cmds},
    {"tag", "SOURCE TARGET", "give an image another name", cmd_tag, NULL},
    {"rmi", "[-f] IMAGE...", "remove images", cmd_rmi, NULL},
    {"history", "IMAGE", "an image's layers", cmd_history, NULL},
    {"network", "COMMAND", "manage networks", NULL, network_cmds},
    {"volume", "COMMAND", "manage volumes", NULL, volume_cmds},
    {"system", "COMMAND", "engine and host facts, disk use, prune", NULL, system_cmds},
    {"engine", "COMMAND", "the engines behind cmsd (--engine NAME picks one)", NULL, engine_cmds},
    {"stack", "COMMAND", "compose files deployed as Docker Swarm stacks", NULL, ctl_stack_cmds},
    {"node", "COMMAND", "the swarm's nodes", NULL, ctl_node_cmds},
    {"audit", "[--since T] [--until T] [--token NAME] [--route R] [--status N] [--limit N]",
     "the audit trail, newest first (admin)", cmd_audit, NULL},
    {"policy", "COMMAND", "policies: list them, check a container or compose file", NULL,
     policy_cmds},
    {"compose", "[-f FILE]... [-p NAME] [--env-file FILE] COMMAND", "compose projects", cmd_compose,
     ctl_compose_cmds},
    {"context", "COMMAND", "named cmsd endpoints in the config file", NULL, ctl_context_cmds},
    {"version", "", "client and server versions", cmd_version, NULL},
    {"whoami", "", "the token's name, role and policy", cmd_whoami, NULL},
    {"completion", "bash|zsh", "print the shell completion script", cmd_completion, NULL},
    {"__complete", "WORDS...", NULL, cmd_complete, NULL}, /* hidden: the scripts' helper */
    {"__man", "", NULL, cmd_man, NULL}, /* hidden: prints cmsctl(1), made at build time */
    {0},
};

const struct ctl_command *ctl_command_find(const struct ctl_command *table, const char *name)
{
        for (const struct ctl_command *e = table; e && e->name; e++)
                if (!strcmp(e->name, name))
                        return e;
        return NULL;
}

/* "usage: cmsctl NAME ARGS", the args wrapped before a '[' to stay within 80 columns. */
static void usage_line(const struct ctl_command *e, const char *group, FILE *out)
{
        int col =
            fprintf(out, "usage: cmsctl %s%s%s", group ? group : "", group ? " " : "", e->name);
        int indent = col + 1;
        for (const char *p = e->args; *p;) {
                const char *end = *p == '[' ? strchr(p, ']') : NULL;
                size_t n = end ? (size_t)(end - p + 1) : strcspn(p, " ");
                if (col + 1 + (int)n > 80 && col > indent)
                        col = fprintf(out, "\n%*s", indent - 1, "") - 1;
                col += fprintf(out, " %.*s", (int)n, p);
                p += n;
                p += strspn(p, " ");
        }
        fputc('\n', out);
}

static void usage_of(const struct ctl_command *e, const char *group, FILE *out)
{
        usage_line(e, group, out);
        if (e->help)
                fprintf(out, "  %s\n", e->help);
        for (const struct ctl_command *s = e->subs; s && s->name; s++)
                fprintf(out, "    %-10s %s\n", s->name, s->help ? s->help : "");
}

int ctl_dispatch(struct ctl *c, const struct ctl_command *table, const char *group, int argc,
                 char **argv)
{
        const struct ctl_command *e = argc > 0 ? ctl_command_find(table, argv[0]) : NULL;
        if (!e) {
                if (argc > 0)
                        fprintf(stderr, "cmsctl: unknown command '%s%s%s' (cmsctl %s%s--help)\n",
                                group ? group : "", group ? " " : "", argv[0], group ? group : "",
                                group ? " " : "");
                return CTL_USAGE;
        }
        bool help = argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
        bool is_group = e->subs && !e->run; /* run and subs: run reads its options first */
        if (help || (is_group && argc == 1)) {
                usage_of(e, group, help ? stdout : stderr);
                return help ? CTL_OK : CTL_USAGE;
        }
        if (is_group) {
                int r = ctl_dispatch(c, e->subs, e->name, argc - 1, argv + 1);
                if (r == CTL_USAGE && !ctl_command_find(e->subs, argv[1]))
                        usage_of(e, group, stderr);
                return r;
        }
        c->group = group;
        c->cmd = e->name;
        /* --format anywhere after the command, as docker takes it; not where the words after
         * IMAGE or CONTAINER are a command line of their own. */
        if (e->help && !strstr(e->args, "CMD...")) /* hidden ones (__complete) take words as is */
                for (int i = 1; i + 1 < argc; i++)
                        if (!strcmp(argv[i], "--format")) {
                                ctl_set_format(c, argv[i + 1]);
                                memmove(argv + i, argv + i + 2,
                                        (size_t)(argc - i - 2) * sizeof(*argv));
                                argc -= 2;
                                i--;
                        }
        return e->run ? e->run(c, argc - 1, argv + 1) : cmd_lifecycle(c, argc - 1, argv + 1);
}

int ctl_usage(const char *fmt, ...)
{
        va_list ap;
        fputs("usage: cmsctl ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return CTL_USAGE;
}

int ctl_list_path(struct ctl *c, const char *base, int argc, char **argv, char *out, size_t n)
{
        char q[900] = "";
        size_t len = 0;
        bool all = false;
        for (int i = 0; i < argc; i++) {
                if (!strcmp(argv[i], "-a") || !strcmp(argv[i], "--all")) {
                        all = true;
                } else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
                        c->format = CTL_QUIET;
                } else if (!strcmp(argv[i], "--format") && i + 1 < argc) {
                        ctl_set_format(c, argv[++i]);
                } else if (!strcmp(argv[i], "--filter") && i + 1 < argc &&
                           (!strncmp(argv[i + 1], "label=", 6) ||
                            !strncmp(argv[i + 1], "name=", 5))) {
                        const char *f = argv[++i];
                        bool label = f[0] == 'l';
                        char *v = ctl_escape(f + (label ? 6 : 5));
                        len += (size_t)snprintf(q + len, len < sizeof(q) ? sizeof(q) - len : 0,
                                                "&%s=%s", label ? "label" : "name", v ? v : "");
                        free(v);
                } else {
                        return ctl_usage("%s: unknown option '%s'", base + 4, argv[i]);
                }
        }
        if (len >= sizeof(q) ||
            (size_t)snprintf(out, n, "%s?all=%s%s", base, all ? "true" : "false", q) >= n)
                return ctl_usage("%s: options too long", base + 4);
        return CTL_OK;
}
