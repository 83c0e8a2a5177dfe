/* cmsctl: global options, the commands[] table and the dispatch. Where and who: --url or
 * CMSD_URL (default http://127.0.0.1:8080; unix:/path for a socket), the token from
 * --token-file or CMSD_TOKEN (never an argument: argv shows in ps). */
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cmd.h"

static const struct command {
        const char *name, *args, *help;
        int (*run)(struct ctl *c, int argc, char **argv); /* NULL: a lifecycle verb, by name */
} commands[] = {
    {"ps", "[-a] [-q] [--filter label=K=V|name=N]", "list containers", cmd_ps},
    {"inspect", "CONTAINER...", "a container's full document, as JSON", cmd_inspect},
    {"start", "CONTAINER...", "start containers", NULL},
    {"stop", "[-t SECONDS] CONTAINER...", "stop containers", NULL},
    {"restart", "[-t SECONDS] CONTAINER...", "restart containers", NULL},
    {"pause", "CONTAINER...", "pause containers", NULL},
    {"unpause", "CONTAINER...", "unpause containers", NULL},
    {"kill", "[-s SIGNAL] CONTAINER...", "send a signal (default KILL)", NULL},
    {"rm", "[-f] [-v] CONTAINER...", "remove containers", cmd_rm},
    {"logs", "[-f] [-t] [--tail N] [--since T] CONTAINER", "print (or follow) the logs", cmd_logs},
    {"images", "[-q] [--filter label=K=V]", "list images", cmd_images},
    {"tag", "SOURCE TARGET", "give an image another name", cmd_tag},
    {"rmi", "[-f] IMAGE...", "remove images", cmd_rmi},
    {"history", "IMAGE", "an image's layers", cmd_history},
    {"network", "ls|create|inspect|rm ...", "list, create, inspect, remove networks", cmd_network},
    {"volume", "ls|create|inspect|rm ...", "list, create, inspect, remove volumes", cmd_volume},
    {"version", "", "client and server versions", cmd_version},
    {"whoami", "", "the token's name, role and policy", cmd_whoami},
};

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

static void help(FILE *out)
{
        fputs("usage: cmsctl [--url URL] [--token-file FILE] [--cacert F --cert F --key F]\n"
              "              [--format table|json] COMMAND [ARGS]\n\n"
              "Commands:\n",
              out);
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                fprintf(out, "  %-9s %-44s %s\n", commands[i].name, commands[i].args,
                        commands[i].help);
        fputs("\nWhere and who: --url or CMSD_URL (default http://127.0.0.1:8080; unix:/path for\n"
              "a unix socket, https://... with --cacert, --cert, --key); the token from\n"
              "--token-file or CMSD_TOKEN (a token is never taken as an argument: ps shows\n"
              "arguments to every user).\n\n"
              "Exit codes: 0 done; 1 the server refused or failed; 2 usage; 3 not found;\n"
              "4 denied (token, role or policy); 5 cmsd or its engine unreachable.\n",
              out);
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

static char *read_token(const char *file)
{
        FILE *f = fopen(file, "re");
        char buf[1100];
        if (!f) {
                fprintf(stderr, "cmsctl: --token-file %s: %m\n", file);
                return NULL;
        }
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = 0;
        buf[strcspn(buf, "\r\n")] = 0;
        return strdup(buf);
}

/* Global options before the command; returns the index of the command or -1. */
static int globals(struct ctl *c, int argc, char **argv)
{
        int i = 1;
        for (; i < argc && argv[i][0] == '-'; i++) {
                const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
                if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
                        help(stdout);
                        exit(CTL_OK);
                }
                if (!v)
                        return -1;
                if (!strcmp(o, "--url"))
                        c->url = v;
                else if (!strcmp(o, "--token-file") && !(c->token = read_token(v)))
                        exit(CTL_USAGE);
                else if (!strcmp(o, "--cacert"))
                        c->cacert = v;
                else if (!strcmp(o, "--cert"))
                        c->cert = v;
                else if (!strcmp(o, "--key"))
                        c->key = v;
                else if (!strcmp(o, "--format") && (!strcmp(v, "json") || !strcmp(v, "table")))
                        c->format = !strcmp(v, "json") ? CTL_JSON : CTL_TABLE;
                else if (strcmp(o, "--token-file"))
                        return -1;
                i++;
        }
        return i < argc ? i : -1;
}

int main(int argc, char **argv)
{
        struct ctl c = {.url = getenv("CMSD_URL") ? getenv("CMSD_URL") : "http://127.0.0.1:8080"};
        struct winsize ws;
        setlocale(LC_CTYPE, "");
        if (getenv("CMSD_TOKEN"))
                c.token = strdup(getenv("CMSD_TOKEN"));
        if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col)
                c.width = ws.ws_col;
        else if (isatty(STDOUT_FILENO) && getenv("COLUMNS"))
                c.width = atoi(getenv("COLUMNS"));
        int k = globals(&c, argc, argv);
        if (k < 0) {
                help(stderr);
                return CTL_USAGE;
        }
        curl_global_init(CURL_GLOBAL_DEFAULT);
        int r = -1;
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]) && r < 0; i++)
                if (!strcmp(argv[k], commands[i].name)) {
                        bool h = argc > k + 1 &&
                                 (!strcmp(argv[k + 1], "--help") || !strcmp(argv[k + 1], "-h"));
                        if (h)
                                printf("usage: cmsctl %s %s\n  %s\n", commands[i].name,
                                       commands[i].args, commands[i].help);
                        const struct command *cm = &commands[i];
                        r = h         ? CTL_OK
                            : cm->run ? cm->run(&c, argc - k - 1, argv + k + 1)
                                      : cmd_lifecycle(&c, cm->name, argc - k - 1, argv + k + 1);
                }
        if (r < 0) {
                fprintf(stderr, "cmsctl: unknown command '%s' (cmsctl --help lists them)\n",
                        argv[k]);
                r = CTL_USAGE;
        }
        curl_global_cleanup();
        free(c.token);
        return r;
}
