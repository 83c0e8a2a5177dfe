/* cmsctl system info|df|prune, network connect|disconnect|prune, volume prune, audit and
 * policy ls|check. Prunes ask before removing anything unless -f (and refuse without -f when
 * there is no terminal to ask on). */
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"

static int64_t inum(json_object *o, const char *k)
{
        json_object *v = NULL;
        return json_object_object_get_ex(o, k, &v) && v ? json_object_get_int64(v) : 0;
}

static json_object *sub(json_object *o, const char *k)
{
        json_object *v = NULL;
        json_object_object_get_ex(o, k, &v);
        return v;
}

int cmd_system_info(struct ctl *c, int argc, char **argv)
{
        json_object *d = NULL;
        if (argc)
                return ctl_usage("system info");
        int r = ctl_call(c, "GET", "/v1/system/info", NULL, &d);
        if (r != CTL_OK || ctl_structured(c, d)) {
                json_object_put(d);
                return r;
        }
        json_object *e = sub(d, "engine"), *h = sub(d, "host"), *n = sub(d, "counts");
        json_object *ct = sub(n, "containers"), *cm = sub(d, "cmsd"), *s = sub(d, "sampler");
        char mem[16];
        ctl_human_size((uint64_t)inum(h, "memory"), mem, sizeof(mem));
        printf("Engine:      %s %s (API %s) at %s\n", ctl_safe(ctl_str(d, "runtime")),
               ctl_safe(ctl_str(e, "version")), ctl_safe(ctl_str(e, "api_version")),
               ctl_safe(ctl_str(e, "url")));
        printf("Host:        %s, kernel %s, %lld CPUs, %s memory\n", ctl_safe(ctl_str(h, "os")),
               ctl_safe(ctl_str(h, "kernel")), (long long)inum(h, "cpus"), mem);
        printf("Containers:  %lld running, %lld paused, %lld stopped\n",
               (long long)inum(ct, "running"), (long long)inum(ct, "paused"),
               (long long)inum(ct, "stopped"));
        printf("Images:      %lld\nNetworks:    %lld\nVolumes:     %lld\n",
               (long long)inum(n, "images"), (long long)inum(n, "networks"),
               (long long)inum(n, "volumes"));
        printf("cmsd:        %s, up %llds\n", ctl_safe(ctl_str(cm, "version")),
               (long long)inum(cm, "uptime_s"));
        json_object *run = sub(s, "running");
        printf("Sampler:     %s, %s, %lld containers every %s\n",
               run && json_object_get_boolean(run) ? "running" : "stopped",
               ctl_safe(ctl_str(s, "mode")), (long long)inum(s, "containers"),
               ctl_safe(ctl_str(s, "interval")));
        json_object_put(d);
        return CTL_OK;
}

int cmd_system_df(struct ctl *c, int argc, char **argv)
{
        json_object *d = NULL;
        if (argc)
                return ctl_usage("system df");
        int r = ctl_call(c, "GET", "/v1/system/df", NULL, &d);
        if (r != CTL_OK || ctl_structured(c, d)) {
                json_object_put(d);
                return r;
        }
        static const char *const h[] = {"TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"};
        static const char *const kinds[][2] = {{"images", "Images"},
                                               {"containers", "Containers"},
                                               {"volumes", "Local Volumes"},
                                               {"build_cache", "Build Cache"}};
        struct ctl_table *t = ctl_table_new(h, 5);
        for (size_t i = 0; i < 4; i++) {
                json_object *k = sub(d, kinds[i][0]);
                if (!k)
                        continue;
                char total[24], active[24], size[16], rec[48];
                snprintf(total, sizeof(total), "%lld", (long long)inum(k, "count"));
                snprintf(active, sizeof(active), "%lld", (long long)inum(k, "active"));
                ctl_human_size((uint64_t)inum(k, "size"), size, sizeof(size));
                int64_t rb = inum(k, "reclaimable"), sz = inum(k, "size");
                ctl_human_size((uint64_t)rb, rec, 16);
                if (sz > 0)
                        snprintf(rec + strlen(rec), sizeof(rec) - strlen(rec), " (%lld%%)",
                                 (long long)(rb * 100 / sz));
                const char *row[] = {kinds[i][1], total, active, size, rec};
                ctl_table_add(t, row);
        }
        ctl_table_print(t, c->width, stdout);
        ctl_table_free(t);
        json_object_put(d);
        return CTL_OK;
}

/* -f given, or a yes on the terminal; without a terminal, no (and say why). */
static bool confirmed(bool force, const char *what)
{
        char answer[16];
        if (force)
                return true;
        if (!isatty(STDIN_FILENO)) {
                fprintf(stderr, "cmsctl: this removes %s; give -f to confirm without a terminal\n",
                        what);
                return false;
        }
        fprintf(stderr, "WARNING! This will remove %s.\nAre you sure you want to continue? [y/N] ",
                what);
        return fgets(answer, sizeof(answer), stdin) && (answer[0] == 'y' || answer[0] == 'Y');
}

static void print_removed(json_object *d, const char *key, const char *title)
{
        json_object *l = sub(d, key);
        size_t n = json_object_is_type(l, json_type_array) ? json_object_array_length(l) : 0;
        if (!n)
                return;
        printf("%s:\n", title);
        for (size_t i = 0; i < n; i++)
                printf("%s\n", ctl_safe(json_object_get_string(json_object_array_get_idx(l, i))));
}

/* system prune [-a] [--volumes] [-f]; network prune [-f]; volume prune [-f] */
int cmd_prune(struct ctl *c, int argc, char **argv)
{
        bool sys = !strcmp(c->group, "system"), force = false, all = false, vols = false;
        char query[1024] = "";
        size_t qlen = 0;
        for (int i = 0; i < argc; i++) {
                if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--force")) {
                        force = true;
                } else if (!sys && !strcmp(argv[i], "--filter") && i + 1 < argc &&
                           !strncmp(argv[i + 1], "label=", 6) && qlen < sizeof(query)) {
                        char *e = ctl_escape(argv[++i] + 6);
                        qlen += (size_t)snprintf(query + qlen, sizeof(query) - qlen, "%slabel=%s",
                                                 qlen ? "&" : "?", e ? e : "");
                        free(e);
                } else if (sys && (!strcmp(argv[i], "-a") || !strcmp(argv[i], "--all")))
                        all = true;
                else if (sys && !strcmp(argv[i], "--volumes"))
                        vols = true;
                else
                        return ctl_usage("%s prune %s[-f]", c->group,
                                         sys ? "[-a] [--volumes] " : "[--filter label=K=V]... ");
        }
        if (qlen >= sizeof(query))
                return ctl_usage("%s prune: filters too long", c->group);
        const char *what = !sys  ? (!strcmp(c->group, "network") ? "all unused networks"
                                                                 : "all unused local volumes")
                           : all ? "all stopped containers, unused networks, all unused images "
                                   "and build cache"
                                 : "all stopped containers, unused networks, dangling images "
                                   "and build cache";
        char w[256];
        snprintf(w, sizeof(w), "%s%s%s", what, sys && vols ? ", and unused volumes" : "",
                 qlen ? " with the labels given" : "");
        if (!confirmed(force, w))
                return CTL_ERR;
        json_object *body = json_object_new_object(), *d = NULL;
        if (sys) {
                json_object_object_add(body, "all", json_object_new_boolean(all));
                json_object_object_add(body, "volumes", json_object_new_boolean(vols));
        }
        char path[1100];
        snprintf(path, sizeof(path), "/v1/%s/prune%s",
                 sys                            ? "system"
                 : !strcmp(c->group, "network") ? "networks"
                                                : "volumes",
                 query);
        int r = ctl_call(c, "POST", path, body, &d);
        json_object_put(body);
        if (r == CTL_OK && !ctl_structured(c, d)) {
                print_removed(d, "containers", "Deleted Containers");
                print_removed(d, "networks", "Deleted Networks");
                print_removed(d, "volumes", "Deleted Volumes");
                print_removed(d, "images", "Deleted Images");
                char sz[16];
                ctl_human_size((uint64_t)inum(d, "space_reclaimed"), sz, sizeof(sz));
                if (strcmp(c->group, "network"))
                        printf("Total reclaimed space: %s\n", sz);
        }
        json_object_put(d);
        return r;
}

/* network connect [--ip IP] [--alias A]... NETWORK CONTAINER; disconnect [-f] NETWORK CONTAINER */
int cmd_network_connect(struct ctl *c, int argc, char **argv)
{
        bool conn = !strcmp(c->cmd, "connect");
        json_object *body = json_object_new_object(), *aliases = NULL;
        const char *pos[2] = {0};
        int np = 0, r = CTL_OK;
        for (int i = 0; i < argc && r == CTL_OK; i++) {
                const char *v = i + 1 < argc ? argv[i + 1] : NULL;
                if (conn && !strcmp(argv[i], "--ip") && v) {
                        json_object_object_add(body, "ip_address", json_object_new_string(v));
                        i++;
                } else if (conn && !strcmp(argv[i], "--alias") && v) {
                        if (!aliases) {
                                aliases = json_object_new_array();
                                json_object_object_add(body, "aliases", aliases);
                        }
                        json_object_array_add(aliases, json_object_new_string(v));
                        i++;
                } else if (!conn && (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--force"))) {
                        json_object_object_add(body, "force", json_object_new_boolean(1));
                } else if (argv[i][0] != '-' && np < 2) {
                        pos[np++] = argv[i];
                } else {
                        r = CTL_USAGE;
                }
        }
        if (r != CTL_OK || np != 2) {
                json_object_put(body);
                return ctl_usage("network %s",
                                 conn ? "connect [--ip IP] [--alias NAME]... NETWORK CONTAINER"
                                      : "disconnect [-f] NETWORK CONTAINER");
        }
        json_object_object_add(body, "container", json_object_new_string(pos[1]));
        char *e = ctl_escape(pos[0]), path[1024];
        snprintf(path, sizeof(path), "/v1/networks/%s/%s", e ? e : "", c->cmd);
        free(e);
        r = ctl_call(c, "POST", path, body, NULL);
        json_object_put(body);
        return r;
}

int cmd_audit(struct ctl *c, int argc, char **argv)
{
        static const char *const keys[] = {"--since", "--until",  "--token",
                                           "--route", "--status", "--limit"};
        char path[2048] = "/v1/audit";
        size_t len = strlen(path);
        for (int i = 0; i < argc; i++) {
                size_t k = 0;
                while (k < 6 && strcmp(argv[i], keys[k]))
                        k++;
                if (i + 1 < argc && !strcmp(argv[i], "--format")) {
                        ctl_set_format(c, argv[++i]);
                        continue;
                }
                if (k == 6 || i + 1 >= argc)
                        return ctl_usage("audit [--since T] [--until T] [--token NAME] [--route R] "
                                         "[--status N] [--limit N] [--format F]");
                char *e = ctl_escape(argv[++i]);
                len += (size_t)snprintf(path + len, len < sizeof(path) ? sizeof(path) - len : 0,
                                        "%s%s=%s", len > 9 ? "&" : "?", keys[k] + 2, e ? e : "");
                free(e);
        }
        if (len >= sizeof(path))
                return ctl_usage("audit: options too long");
        json_object *d = NULL;
        int r = ctl_call(c, "GET", path, NULL, &d);
        json_object *recs = sub(d, "records");
        if (r != CTL_OK || ctl_structured(c, c->format == CTL_TEMPLATE ? recs : d)) {
                json_object_put(d);
                return r;
        }
        static const char *const h[] = {"TIME",  "TOKEN",  "ROLE",   "METHOD",
                                        "ROUTE", "TARGET", "STATUS", "POLICY"};
        struct ctl_table *t = ctl_table_new(h, 8);
        size_t n = json_object_is_type(recs, json_type_array) ? json_object_array_length(recs) : 0;
        for (size_t i = 0; i < n; i++) {
                json_object *it = json_object_array_get_idx(recs, i), *p = sub(it, "policy");
                char st[16], pol[96];
                snprintf(st, sizeof(st), "%lld", (long long)inum(it, "status"));
                snprintf(pol, sizeof(pol), "%s%s%s", ctl_str(p, "name"), p ? " " : "",
                         ctl_str(p, "decision"));
                const char *row[] = {ctl_str(it, "time"),
                                     ctl_str(it, "token"),
                                     ctl_str(it, "role"),
                                     ctl_str(it, "method"),
                                     ctl_str(it, "route"),
                                     ctl_str(it, "target"),
                                     st,
                                     pol};
                ctl_table_add(t, row);
        }
        ctl_table_print(t, c->width, stdout);
        ctl_table_free(t);
        json_object_put(d);
        return CTL_OK;
}

bool ctl_project_name(const char *s, char *out, size_t n)
{
        size_t k = 0;
        for (; *s && k + 1 < n; s++) {
                char ch = (char)(*s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s);
                bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
                if (alnum || (k && (ch == '_' || ch == '-')))
                        out[k++] = ch;
        }
        out[k] = 0;
        return k > 0;
}

int cmd_policy_ls(struct ctl *c, int argc, char **argv)
{
        json_object *d = NULL;
        if (argc)
                return ctl_usage("policy ls");
        int r = ctl_call(c, "GET", "/v1/policy", NULL, &d);
        if (r == CTL_OK && !ctl_structured(c, d))
                ctl_print_json(d);
        json_object_put(d);
        return r;
}

/* policy check [run's options] IMAGE [CMD...], or policy check --compose FILE: what the
 * caller's policy would refuse, nothing created. Exit 0 allowed, 4 denied. */
int cmd_policy_check(struct ctl *c, int argc, char **argv)
{
        json_object *body = NULL, *d = NULL;
        int r;
        if (argc == 2 && !strcmp(argv[0], "--compose")) {
                char *text = ctl_read_file(argv[1], 4u << 20, false);
                if (!text)
                        return CTL_USAGE;
                char dir[PATH_MAX];
                bool named = !strncmp(text, "name:", 5) || strstr(text, "\nname:");
                body = json_object_new_object();
                json_object_object_add(body, "compose", json_object_new_string(text));
                free(text);
                if (realpath(argv[1], dir)) { /* relative binds resolve against the file's dir */
                        char *d = dirname(dir), name[128];
                        json_object_object_add(body, "working_dir", json_object_new_string(d));
                        /* A file without name: gets its directory's, as docker compose names it */
                        if (!named && ctl_project_name(basename(d), name, sizeof(name)))
                                json_object_object_add(body, "name", json_object_new_string(name));
                }
        } else {
                struct ctl_run_flags f = {0};
                if ((r = ctl_run_config(argc, argv, &f, &body)) != CTL_OK)
                        return r;
        }
        r = ctl_call(c, "POST", "/v1/policy/check", body, &d);
        json_object_put(body);
        if (r != CTL_OK)
                return r;
        json_object *allowed = sub(d, "allowed"), *den = sub(d, "denials");
        bool ok = allowed && json_object_get_boolean(allowed);
        if (!ctl_structured(c, d)) {
                printf("policy %s: %s\n", ctl_safe(ctl_str(d, "policy")),
                       ok ? "allowed" : "denied");
                size_t n =
                    json_object_is_type(den, json_type_array) ? json_object_array_length(den) : 0;
                for (size_t i = 0; i < n; i++) {
                        json_object *it = json_object_array_get_idx(den, i);
                        printf("  %s: %s (rule %s)\n", ctl_safe(ctl_str(it, "field")),
                               ctl_safe(ctl_str(it, "message")), ctl_safe(ctl_str(it, "rule")));
                }
        }
        json_object_put(d);
        return ok ? CTL_OK : CTL_DENIED;
}
