/* run, create and deploy's options, docker run's names, made into the API's ContainerConfig:
 * a table of plain options (a JSON path and a kind) and the few that need parsing of their own
 * (-p, -v, --tmpfs, -e, --env-file, --add-host, --health-cmd). Options end at IMAGE; the words
 * after it are the command. Pure: no I/O but --env-file's file and -e NAME's environment. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

enum kind { K_STR, K_INT, K_NUM, K_TRUE, K_MAP, K_LIST, K_FN };

typedef int (*opt_fn)(json_object *cfg, const char *v, struct ctl_run_flags *f);

struct ropt {
        const char *lng, *shrt, *path;
        enum kind kind;
        opt_fn fn;
};

/* The object at the dotted path's parent (made as needed); *leaf = the last name. */
static json_object *parent_of(json_object *cfg, const char *path, const char **leaf)
{
        const char *dot;
        while ((dot = strchr(path, '.'))) {
                char k[32];
                json_object *o = NULL;
                snprintf(k, sizeof(k), "%.*s", (int)(dot - path), path);
                if (!json_object_object_get_ex(cfg, k, &o) || !o) {
                        o = json_object_new_object();
                        json_object_object_add(cfg, k, o);
                }
                cfg = o;
                path = dot + 1;
        }
        *leaf = path;
        return cfg;
}

static json_object *child(json_object *cfg, const char *path, json_type t)
{
        const char *leaf;
        json_object *p = parent_of(cfg, path, &leaf), *o = NULL;
        if (!json_object_object_get_ex(p, leaf, &o) || !json_object_is_type(o, t)) {
                o = t == json_type_array ? json_object_new_array() : json_object_new_object();
                json_object_object_add(p, leaf, o);
        }
        return o;
}

static int bad(const char *opt, const char *v, const char *why)
{
        fprintf(stderr, "cmsctl: %s '%s': %s\n", opt, v, why);
        return CTL_USAGE;
}

/* -e NAME=VALUE, or NAME alone: its value here, left out when unset (as docker does). */
static int env_one(json_object *cfg, const char *v, struct ctl_run_flags *f)
{
        const char *eq = strchr(v, '=');
        if (eq == v || !*v)
                return bad("--env", v, "expected NAME=VALUE or NAME");
        char *k = eq ? strndup(v, (size_t)(eq - v)) : strdup(v);
        const char *val = eq ? eq + 1 : getenv(k);
        if (val)
                json_object_object_add(child(cfg, "environment", json_type_object), k,
                                       json_object_new_string(val));
        free(k);
        return CTL_OK;
}

static int env_file(json_object *cfg, const char *v, struct ctl_run_flags *f)
{
        FILE *in = fopen(v, "re");
        char line[8192];
        int r = CTL_OK, n = 0;
        if (!in) {
                fprintf(stderr, "cmsctl: --env-file %s: %s\n", v, strerror(errno));
                return CTL_USAGE;
        }
        while (r == CTL_OK && fgets(line, sizeof(line), in)) {
                n++;
                size_t len = strcspn(line, "\r\n");
                if (line[len] == 0 && !feof(in)) {
                        fprintf(stderr, "cmsctl: --env-file %s:%d: line too long\n", v, n);
                        r = CTL_USAGE;
                        break;
                }
                line[len] = 0;
                const char *p = line + strspn(line, " \t");
                if (*p && *p != '#')
                        r = env_one(cfg, p, f);
        }
        fclose(in);
        return r;
}

static int label(json_object *cfg, const char *v, struct ctl_run_flags *f)
{
        const char *eq = strchr(v, '=');
        if (eq == v || !*v)
                return bad("--label", v, "expected KEY=VALUE");
        char *k = eq ? strndup(v, (size_t)(eq - v)) : strdup(v);
        json_object_object_add(child(cfg, "labels", json_type_object), k,
                               json_object_new_string(eq ? eq + 1 : ""));
        free(k);
        return CTL_OK;
}

/* -p [IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]: ports[CONTAINER_PORT[/PROTO]] = "[IP:]HOST_PORT"
 * ("" for a port the engine picks); a port given twice becomes a list. */
static int publish(json_object *cfg, const char *v, struct ctl_run_flags *f)
{
        char ip[64] = "", host[16] = "", key[32];
        const char *p = v, *cport;
        if (*p == '[') {
                const char *close = strchr(p, ']');
                if (!close || close[1] != ':' || (size_t)(close - p) > sizeof(ip) - 2)
                        return bad("--publish", v, "expected [IPv6]:HOST_PORT:CONTAINER_PORT");
                snprintf(ip, sizeof(ip), "%.*s", (int)(close - p + 1), p);
                p = close + 2;
        }
        const char *last = strrchr(p, ':');
        cport = last ? last + 1 : p;
        if (last) {
                const char *first = memchr(p, ':', (size_t)(last - p));
                if (first && *ip)
                        return bad("--publish", v, "too many ':'");
                if (first) { /* IP:HOST:CONTAINER */
                        snprintf(ip, sizeof(ip), "%.*s", (int)(first - p), p);
                        p = first + 1;
                }
                if ((size_t)(last - p) >= sizeof(host))
                        return bad("--publish", v, "not a host port");
                snprintf(host, sizeof(host), "%.*s", (int)(last - p), p);
        }
        if (host[strspn(host, "0123456789-")])
                return bad("--publish", v, "not a host port");
        if (strchr(host, '-') || strchr(cport, '-'))
                return bad("--publish", v, "port ranges are not supported; publish each port");
        size_t digits = strspn(cport, "0123456789");
        if (!digits || (cport[digits] && strcmp(cport + digits, "/tcp") &&
                        strcmp(cport + digits, "/udp") && strcmp(cport + digits, "/sctp")))
                return bad("--publish", v, "expected [IP:][HOST_PORT:]CONTAINER_PORT[/tcp|udp]");
        snprintf(key, sizeof(key), "%.*s%s", (int)digits, cport,
                 strcmp(cport + digits, "/tcp") ? cport + digits : "");
        char val[96];
        snprintf(val, sizeof(val), "%s%s%s", ip, *ip ? ":" : "", host);
        json_object *ports = child(cfg, "network.ports", json_type_object), *old = NULL;
        if (!json_object_object_get_ex(ports, key, &old)) {
                json_object_object_add(ports, key, json_object_new_string(val));
        } else if (json_object_is_type(old, json_type_array)) {
                json_object_array_add(old, json_object_new_string(val));
        } else {
                json_object *list = json_object_new_array();
                json_object_array_add(list, json_object_get(old));
                json_object_array_add(list, json_object_new_string(val));
                json_object_object_add(ports, key, list);
        }
        return CTL_OK;
}

/* -v SOURCE:TARGET[:ro|rw], or TARGET alone (an anonymous volume). A source with a '/' or
 * starting with '.' is a host path, made absolute against the working directory. */
static int volume(json_object *cfg, const char *v, struct ctl_run_flags *f)
{
        char *copy = strdup(v), *parts[4] = {0}, *save = NULL, abs[PATH_MAX + 2];
        int n = 0;
        for (char *t = strtok_r(copy, ":", &save); t && n < 4; t = strtok_r(NULL, ":", &save))
                parts[n++] = t;
        if (n == 0 || n > 3 || (n == 3 && strcmp(parts[2], "ro") && strcmp(parts[2], "rw"))) {
                free(copy);
                return bad("--volume", v, "expected SOURCE:TARGET[:ro|rw] or TARGET");
        }
        json_object *m = json_object_new_object();
        const char *src = n >= 2 ? parts[0] : NULL, *dst = n >= 2 ? parts[1] : parts[0];
        if (src && (strchr(src, '/') || src[0] == '.')) {
                char cwd[PATH_MAX];
                if (src[0] != '/' && getcwd(cwd, sizeof(cwd)))
                        snprintf(abs, sizeof(abs), "%s/%s", cwd, src);
                else
                        snprintf(abs, sizeof(abs), "%s", src);
                json_object_object_add(m, "type", json_object_new_string("bind"));
                json_object_object_add(m, "source", json_object_new_string(abs));
        } else {
                json_object_object_add(m, "type", json_object_new_string("volume"));
                if (src)
                        json_object_object_add(m, "source", json_object_new_string(src));
        }
        json_object_object_add(m, "target", json_object_new_string(dst));
        if (n == 3 && !strcmp(parts[2], "ro"))
                json_object_object_add(m, "read_only", json_object_new_boolean(1));
        json_object_array_add(child(cfg, "volumes", json_type_array), m);
        free(copy);
        return CTL_OK;
}

/* --tmpfs TARGET[:size=64m,mode=1777] */
static int tmpfs(json_object *cfg, const char *v, struct ctl_run_flags *f)
{
        const char *colon = strchr(v, ':');
        json_object *m = json_object_new_object(), *o = NULL;
        char *target = colon ? strndup(v, (size_t)(colon - v)) : strdup(v);
        json_object_object_add(m, "type", json_object_new_string("tmpfs"));
        json_object_object_add(m, "target", json_object_new_string(target));
        free(target);
        json_object_array_add(child(cfg, "volumes", json_type_array), m);
        if (!colon)
                return CTL_OK;
        char *opts = strdup(colon + 1), *save = NULL;
        int r = CTL_OK;
        for (char *t = strtok_r(opts, ",", &save); t && r == CTL_OK;
             t = strtok_r(NULL, ",", &save)) {
                bool size = !strncmp(t, "size=", 5), mode = !strncmp(t, "mode=", 5);
                if (!size && !mode) {
                        r = bad("--tmpfs", v, "options are size=SIZE and mode=OCTAL");
                        break;
                }
                if (!o) {
                        o = json_object_new_object();
                        json_object_object_add(m, "tmpfs", o);
                }
                json_object_object_add(o, size ? "size" : "mode", json_object_new_string(t + 5));
        }
        free(opts);
        return r;
}

/* --add-host HOST:IP (IP may be an IPv6 address or host-gateway) */
static int add_host(json_object *cfg, const char *v, struct ctl_run_flags *f)
{
        const char *colon = strchr(v, ':');
        if (!colon || colon == v || !colon[1])
                return bad("--add-host", v, "expected HOST:IP");
        char *h = strndup(v, (size_t)(colon - v));
        json_object_object_add(child(cfg, "network.extra_hosts", json_type_object), h,
                               json_object_new_string(colon + 1));
        free(h);
        return CTL_OK;
}

static int health_cmd(json_object *cfg, const char *v, struct ctl_run_flags *f)
{
        json_object *t = json_object_new_array();
        json_object_array_add(t, json_object_new_string("CMD-SHELL"));
        json_object_array_add(t, json_object_new_string(v));
        json_object_object_add(child(cfg, "health_check", json_type_object), "test", t);
        return CTL_OK;
}

static int no_health(json_object *cfg, const char *v, struct ctl_run_flags *f)
{
        json_object *t = json_object_new_array();
        json_object_array_add(t, json_object_new_string("NONE"));
        json_object_object_add(child(cfg, "health_check", json_type_object), "test", t);
        return CTL_OK;
}

static int entrypoint(json_object *cfg, const char *v, struct ctl_run_flags *f)
{
        json_object *t = json_object_new_array();
        if (*v) /* --entrypoint "": no entrypoint at all */
                json_object_array_add(t, json_object_new_string(v));
        json_object_object_add(cfg, "entrypoint", t);
        return CTL_OK;
}

static int flag_d(json_object *cfg, const char *v, struct ctl_run_flags *f)
{
        f->detach = true;
        return CTL_OK;
}

static int flag_rm(json_object *cfg, const char *v, struct ctl_run_flags *f)
{
        f->rm = true;
        return CTL_OK;
}

static int flag_replace(json_object *cfg, const char *v, struct ctl_run_flags *f)
{
        if (!f->deploy)
                return bad("--replace", v, "only for deploy");
        json_object_object_add(cfg, "replace", json_object_new_boolean(1));
        return CTL_OK;
}

static int wait_healthy(json_object *cfg, const char *v, struct ctl_run_flags *f)
{
        if (!f->deploy)
                return bad("--wait-healthy", v, "only for deploy");
        json_object_object_add(cfg, "wait_healthy", json_object_new_string(v));
        return CTL_OK;
}

/* deploy's scan gate: the image is scanned first, refused at or above this severity (409). */
static int scan_fail_on(json_object *cfg, const char *v, struct ctl_run_flags *f)
{
        if (!f->deploy)
                return bad("--scan-fail-on", v, "only for deploy");
        json_object *scan = json_object_new_object();
        json_object_object_add(scan, "fail_on", json_object_new_string(v));
        json_object_object_add(cfg, "scan", scan);
        return CTL_OK;
}

static const struct ropt opts[] = {
    {"--name", NULL, "name", K_STR, NULL},
    {"--hostname", NULL, "hostname", K_STR, NULL},
    {"--user", "-u", "user", K_STR, NULL},
    {"--workdir", "-w", "workdir", K_STR, NULL},
    {"--restart", NULL, "restart_policy", K_STR, NULL},
    {"--pull", NULL, "pull", K_STR, NULL},
    {"--privileged", NULL, "privileged", K_TRUE, NULL},
    {"--read-only", NULL, "read_only", K_TRUE, NULL},
    {"--memory", "-m", "resources.memory", K_STR, NULL},
    {"--memory-swap", NULL, "resources.memory_swap", K_STR, NULL},
    {"--cpus", NULL, "resources.cpus", K_NUM, NULL},
    {"--cpu-shares", "-c", "resources.cpu_shares", K_INT, NULL},
    {"--cpuset-cpus", NULL, "resources.cpuset_cpus", K_STR, NULL},
    {"--pids-limit", NULL, "resources.pids_limit", K_INT, NULL},
    {"--health-interval", NULL, "health_check.interval", K_STR, NULL},
    {"--health-timeout", NULL, "health_check.timeout", K_STR, NULL},
    {"--health-retries", NULL, "health_check.retries", K_INT, NULL},
    {"--health-start-period", NULL, "health_check.start_period", K_STR, NULL},
    {"--network", "--net", "network.network", K_STR, NULL},
    {"--ip", NULL, "network.ip_address", K_STR, NULL},
    {"--dns", NULL, "network.dns", K_LIST, NULL},
    {"--network-alias", NULL, "network.aliases", K_LIST, NULL},
    {"--cap-add", NULL, "capabilities.add", K_LIST, NULL},
    {"--cap-drop", NULL, "capabilities.drop", K_LIST, NULL},
    {"--wait-healthy", NULL, NULL, K_FN, wait_healthy},
    {"--scan-fail-on", NULL, NULL, K_FN, scan_fail_on},
    {"--env", "-e", NULL, K_FN, env_one},
    {"--env-file", NULL, NULL, K_FN, env_file},
    {"--label", "-l", NULL, K_FN, label},
    {"--publish", "-p", NULL, K_FN, publish},
    {"--volume", "-v", NULL, K_FN, volume},
    {"--tmpfs", NULL, NULL, K_FN, tmpfs},
    {"--add-host", NULL, NULL, K_FN, add_host},
    {"--health-cmd", NULL, NULL, K_FN, health_cmd},
    {"--entrypoint", NULL, NULL, K_FN, entrypoint},
    /* flags: K_TRUE with a function, no value */
    {"--no-healthcheck", NULL, NULL, K_TRUE, no_health},
    {"--detach", "-d", NULL, K_TRUE, flag_d},
    {"--rm", NULL, NULL, K_TRUE, flag_rm},
    {"--replace", NULL, NULL, K_TRUE, flag_replace},
};

static const struct ropt *find(const char *a, size_t n)
{
        for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
                if ((!strncmp(a, opts[i].lng, n) && !opts[i].lng[n]) ||
                    (opts[i].shrt && !strncmp(a, opts[i].shrt, n) && !opts[i].shrt[n]))
                        return &opts[i];
        return NULL;
}

static int apply(json_object *cfg, const struct ropt *o, const char *v, struct ctl_run_flags *f)
{
        const char *leaf;
        char *end;
        if (o->fn)
                return o->fn(cfg, v, f);
        json_object *p = o->kind == K_LIST ? NULL : parent_of(cfg, o->path, &leaf), *val = NULL;
        errno = 0;
        switch (o->kind) {
        case K_STR:
                val = json_object_new_string(v);
                break;
        case K_TRUE:
                val = json_object_new_boolean(1);
                break;
        case K_INT: {
                long long n = strtoll(v, &end, 10);
                if (!*v || *end || errno)
                        return bad(o->lng, v, "not an integer");
                val = json_object_new_int64(n);
                break;
        }
        case K_NUM: {
                double d = strtod(v, &end);
                if (!*v || *end || errno)
                        return bad(o->lng, v, "not a number");
                val = json_object_new_double(d);
                break;
        }
        default: /* K_LIST */
                json_object_array_add(child(cfg, o->path, json_type_array),
                                      json_object_new_string(v));
                return CTL_OK;
        }
        json_object_object_add(p, leaf, val);
        return CTL_OK;
}

int ctl_run_config(int argc, char **argv, struct ctl_run_flags *f, json_object **out)
{
        json_object *cfg = json_object_new_object();
        int i = 0, r = CTL_OK;
        *out = NULL;
        for (; i < argc && r == CTL_OK && argv[i][0] == '-'; i++) {
                const char *a = argv[i], *eq = !strncmp(a, "--", 2) ? strchr(a, '=') : NULL;
                if (!strcmp(a, "--")) {
                        i++;
                        break;
                }
                const struct ropt *o = find(a, eq ? (size_t)(eq - a) : strlen(a));
                bool takes = o && o->kind != K_TRUE;
                if (!o || (eq && !takes) || (takes && !eq && i + 1 >= argc))
                        r = o ? bad(a, eq ? eq + 1 : "", takes ? "needs a value" : "takes none")
                              : bad("option", a, "unknown (cmsctl run --help lists them)");
                else
                        r = apply(cfg, o, takes ? (eq ? eq + 1 : argv[++i]) : "", f);
        }
        if (r == CTL_OK && i >= argc)
                r = bad("IMAGE", "", "missing");
        if (r != CTL_OK) {
                json_object_put(cfg);
                return r;
        }
        json_object_object_add(cfg, "image", json_object_new_string(argv[i++]));
        if (i < argc) {
                json_object *cmd = json_object_new_array();
                for (; i < argc; i++)
                        json_object_array_add(cmd, json_object_new_string(argv[i]));
                json_object_object_add(cfg, "command", cmd);
        }
        *out = cfg;
        return CTL_OK;
}
