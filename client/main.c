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

static void help(FILE *out)
{
        fputs("usage: cmsctl [--context NAME] [--url URL] [--token-file FILE] [--engine NAME|*]\n"
              "              [--cacert F --cert F --key F] [--format table|json|TEMPLATE]\n"
              "              COMMAND [ARGS]\n\n"
              "Commands:\n",
              out);
        for (const struct ctl_command *e = ctl_commands; e->name; e++)
                if (e->help)
                        fprintf(out, "  %-10s %s\n", e->name, e->help);
        fputs("\n`cmsctl COMMAND --help` shows a command's options.\n\n"
              "Where and who, first found wins: --url, --token-file, --cacert/--cert/--key;\n"
              "then CMSD_URL, CMSD_TOKEN; then the context named by --context or CMSD_CONTEXT,\n"
              "else the current one, in $XDG_CONFIG_HOME/cmsctl/config.yaml (mode 0600);\n"
              "then http://127.0.0.1:8080 without a token. unix:/path reaches a unix socket.\n"
              "A token is never taken as an argument: ps shows arguments to every user.\n"
              "--engine (or CMSD_ENGINE) names one of cmsd's engines (engine ls lists them);\n"
              "'*' makes ps, images, network ls, volume ls and compose ls ask all of them.\n\n"
              "--format json prints the API's data; --format '{{.name}} {{.state}}' prints\n"
              "one line per item with its fields filled in ({{json .labels}} for JSON).\n"
              "Colour only on a terminal, never with NO_COLOR set.\n\n"
              "Exit codes: 0 done; 1 the server refused or failed; 2 usage; 3 not found;\n"
              "4 denied (token, role or policy); 5 cmsd or its engine unreachable;\n"
              "run and exec exit with the container's or the command's own code.\n",
              out);
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
                if (!strcmp(o, "--token") || !strncmp(o, "--token=", 8)) {
                        fprintf(stderr, "cmsctl: a token is never an argument (ps shows arguments "
                                        "to every user): use --token-file FILE or CMSD_TOKEN\n");
                        exit(CTL_USAGE);
                }
                if (!v)
                        return -1;
                if (!strcmp(o, "--url"))
                        c->url = v;
                else if (!strcmp(o, "--token-file") && !(c->token = read_token(v)))
                        exit(CTL_USAGE);
                else if (!strcmp(o, "--context"))
                        c->context = v;
                else if (!strcmp(o, "--engine"))
                        c->engine = v;
                else if (!strcmp(o, "--cacert"))
                        c->cacert = v;
                else if (!strcmp(o, "--cert"))
                        c->cert = v;
                else if (!strcmp(o, "--key"))
                        c->key = v;
                else if (!strcmp(o, "--format"))
                        ctl_set_format(c, v);
                else if (strcmp(o, "--token-file")) {
                        fprintf(stderr, "cmsctl: unknown option '%s' (cmsctl --help lists them)\n",
                                o);
                        exit(CTL_USAGE);
                }
                i++;
        }
        return i < argc ? i : -1;
}

static void on_sigint(int sig)
{
        ctl_interrupted = 1;
}

int main(int argc, char **argv)
{
        struct ctl c = {.context = getenv("CMSD_CONTEXT")};
        struct winsize ws;
        setlocale(LC_CTYPE, "");
        c.tty = isatty(STDOUT_FILENO);
        c.color = c.tty && !getenv("NO_COLOR");
        if (c.tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col)
                c.width = ws.ws_col;
        else if (c.tty && getenv("COLUMNS"))
                c.width = atoi(getenv("COLUMNS"));
        int k = globals(&c, argc, argv);
        if (k < 0) {
                help(stderr);
                return CTL_USAGE;
        }
        if (!c.url && getenv("CMSD_URL") && *getenv("CMSD_URL"))
                c.url = getenv("CMSD_URL");
        if (!c.engine && getenv("CMSD_ENGINE") && *getenv("CMSD_ENGINE"))
                c.engine = getenv("CMSD_ENGINE");
        if (!c.token && getenv("CMSD_TOKEN") && *getenv("CMSD_TOKEN"))
                c.token = strdup(getenv("CMSD_TOKEN"));
        /* Completion stays silent whatever happens; the commands that manage the config file
         * or need no server run even when the current context is broken (to repair it). */
        const char *cmd = argv[k];
        if (!strcmp(cmd, "__complete"))
                freopen("/dev/null", "w", stderr);
        bool local = !strcmp(cmd, "context") || !strcmp(cmd, "completion") || !strcmp(cmd, "__man");
        int r = local ? CTL_OK : ctl_config_apply(&c);
        if (r != CTL_OK && strcmp(cmd, "__complete"))
                return r;
        if (!c.url)
                c.url = "http://127.0.0.1:8080";
        /* TLS set-up (OpenSSL reads its configuration) only for an https URL. */
        /* Ctrl-C ends a stream cleanly (exit 130) instead of killing cmsctl mid-line; run
         * forwards it to its container first. No SA_RESTART: a read or a sleep ends too. */
        struct sigaction sa = {.sa_handler = on_sigint};
        sigaction(SIGINT, &sa, NULL);
        curl_global_init(strncmp(c.url, "https:", 6) ? CURL_GLOBAL_NOTHING : CURL_GLOBAL_DEFAULT);
        r = ctl_dispatch(&c, ctl_commands, NULL, argc - k, argv + k);
        curl_global_cleanup();
        free(c.token);
        return r;
}
