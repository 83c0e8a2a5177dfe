/* cmsctl context ls|show|use|rm|add: the config file's named contexts (config.c reads and
 * writes the file; tokens are never taken as arguments: --token-file or --token-stdin). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_internal.h"

static json_object *ctx_json(const struct ctx *x, bool current)
{
        json_object *o = json_object_new_object();
        for (int k = 0; k < K_N; k++) {
                char key[16];
                if (!x->v[k])
                        continue;
                snprintf(key, sizeof(key), "%s", ctl_ctx_keys[k]);
                for (char *d = strchr(key, '-'); d; d = strchr(d, '-'))
                        *d = '_'; /* token_file, as the API names fields */
                json_object_object_add(o, key,
                                       json_object_new_string(k == K_TOKEN ? "********" : x->v[k]));
        }
        json_object_object_add(o, "current", json_object_new_boolean(current));
        return o;
}

static int ctx_ls(struct ctl *c, int argc, char **argv)
{
        static const char *const h[] = {"NAME", "URL", "CURRENT"};
        struct cfg f;
        if (argc > 0)
                return ctl_usage("context ls");
        int r = cfg_load(&f);
        if (r != CTL_OK)
                return r;
        const char *cur = c->context ? c->context : f.current; /* in use */
        json_object *all = json_object_new_array();
        struct ctl_table *t = ctl_table_new(h, 3);
        for (size_t i = 0; i < f.n; i++) {
                bool on = cur && !strcmp(cur, f.ctx[i].v[K_NAME]);
                const char *row[] = {f.ctx[i].v[K_NAME], f.ctx[i].v[K_URL], on ? "*" : ""};
                ctl_table_add(t, row);
                json_object_array_add(all, ctx_json(&f.ctx[i], on));
        }
        if (!ctl_structured(c, all))
                ctl_table_print(t, c->width, stdout);
        ctl_table_free(t);
        json_object_put(all);
        cfg_free(&f);
        return CTL_OK;
}

/* name in the loaded f (printing why not). */
static struct ctx *find_named(struct cfg *f, const char *name)
{
        struct ctx *x = name ? cfg_find(f, name) : NULL;
        if (!name)
                fprintf(stderr, "cmsctl: no current context in %s (cmsctl context use NAME)\n",
                        f->path);
        else if (!x)
                fprintf(stderr, "cmsctl: no context named '%s' in %s (cmsctl context ls)\n", name,
                        f->path);
        return x;
}

static int ctx_show(struct ctl *c, int argc, char **argv)
{
        struct cfg f;
        if (argc > 1)
                return ctl_usage("context show [CONTEXT]");
        int r = cfg_load(&f);
        if (r != CTL_OK)
                return r;
        const char *cur = c->context ? c->context : f.current; /* in use */
        struct ctx *x = find_named(&f, argc ? argv[0] : cur);
        if (x) {
                bool on = cur && !strcmp(cur, x->v[K_NAME]);
                json_object *o = ctx_json(x, on);
                if (!ctl_structured(c, o)) {
                        for (int k = 0; k < K_N; k++)
                                if (x->v[k])
                                        printf("%s: %s\n", ctl_ctx_keys[k],
                                               k == K_TOKEN ? "******** (inline)" : x->v[k]);
                        printf("current: %s\n", on ? "yes" : "no");
                }
                json_object_put(o);
        }
        cfg_free(&f);
        return x ? CTL_OK : CTL_USAGE;
}

/* context use NAME, context rm NAME (c->cmd). */
static int ctx_change(struct ctl *c, int argc, char **argv)
{
        struct cfg f;
        struct ctx *x;
        bool use = !strcmp(c->cmd, "use");
        if (argc != 1)
                return ctl_usage("context %s CONTEXT", c->cmd);
        int r = cfg_load(&f);
        if (r != CTL_OK)
                return r;
        bool was_current = f.current && !strcmp(f.current, argv[0]);
        if (!(x = find_named(&f, argv[0]))) {
                r = CTL_USAGE;
        } else if (use) {
                free(f.current);
                r = (f.current = strdup(argv[0])) ? cfg_write(&f) : CTL_ERR;
        } else {
                for (int k = 0; k < K_N; k++)
                        free(x->v[k]);
                memmove(x, x + 1, (size_t)(f.ctx + f.n - (x + 1)) * sizeof(*x));
                f.n--;
                if (was_current) {
                        free(f.current);
                        f.current = NULL;
                }
                r = cfg_write(&f);
        }
        if (r == CTL_OK && use && c->context && strcmp(c->context, argv[0]))
                fprintf(stderr, "cmsctl: --context or CMSD_CONTEXT names '%s' for now\n",
                        c->context);
        if (r == CTL_OK && !use && was_current)
                fprintf(stderr, "cmsctl: '%s' was the current context: there is none now\n",
                        argv[0]);
        cfg_free(&f);
        return r;
}

/* An absolute path for a file given on the command line (not resolved: a symlink swapped by a
 * secret store keeps working), after checking it can be read now. */
static char *file_arg(const char *opt, const char *v)
{
        char cwd[PATH_MAX], *out = NULL;
        if (access(v, R_OK) != 0) {
                fprintf(stderr, "cmsctl: %s %s: %s\n", opt, v, strerror(errno));
                return NULL;
        }
        if (v[0] == '/')
                return strdup(v);
        if (!getcwd(cwd, sizeof(cwd)) || asprintf(&out, "%s/%s", cwd, v) < 0) {
                fprintf(stderr, "cmsctl: %s %s: %s\n", opt, v, strerror(errno));
                return NULL;
        }
        return out;
}

static const char *const add_usage =
    "context add NAME --url URL [--token-file FILE|--token-stdin] [--cacert FILE] [--cert FILE] "
    "[--key FILE]";

/* The options of context add into x; returns CTL_OK or a usage error printed. */
static int add_options(int argc, char **argv, struct ctx *x, bool *from_stdin)
{
        for (int i = 0; i < argc; i++) {
                const char *a = argv[i];
                int k = -1;
                for (int j = K_URL; j < K_N; j++)
                        if (j != K_TOKEN && a[0] == '-' && a[1] == '-' &&
                            !strcmp(a + 2, ctl_ctx_keys[j]))
                                k = j;
                if (!strcmp(a, "--token-stdin")) {
                        *from_stdin = true;
                } else if (!strcmp(a, "--token")) {
                        fputs("cmsctl: a token is never an argument (ps shows arguments to "
                              "everyone): use --token-file FILE or --token-stdin\n",
                              stderr);
                        return CTL_USAGE;
                } else if (k >= 0 && i + 1 < argc && !x->v[k]) {
                        const char *v = argv[++i];
                        if (cfg_value_problem(k, v))
                                return ctl_usage("%s\n  (%s: %s)", add_usage, a,
                                                 cfg_value_problem(k, v));
                        if (!(x->v[k] = k == K_URL ? strdup(v) : file_arg(a, v)))
                                return CTL_USAGE;
                } else if (a[0] != '-' && !x->v[K_NAME] && cfg_name_ok(a)) {
                        x->v[K_NAME] = strdup(a);
                } else {
                        return ctl_usage("%s%s", add_usage,
                                         a[0] != '-' && !x->v[K_NAME]
                                             ? "\n  (a name is 1 to 64 of A-Z a-z 0-9 . _ -)"
                                             : "");
                }
        }
        if (!x->v[K_NAME] || !x->v[K_URL] || (*from_stdin && x->v[K_TOKEN_FILE]))
                return ctl_usage("%s", add_usage);
        return CTL_OK;
}

static int ctx_add(struct ctl *c, int argc, char **argv)
{
        struct ctx x = {0};
        struct cfg f = {0};
        bool from_stdin = false;
        int r = add_options(argc, argv, &x, &from_stdin);
        if (r == CTL_OK && from_stdin && !(x.v[K_TOKEN] = cfg_read_token(STDIN_FILENO))) {
                fputs("cmsctl: --token-stdin: no token on stdin (1 to 1024 visible ASCII "
                      "characters on the first line)\n",
                      stderr);
                r = CTL_USAGE;
        }
        if (r == CTL_OK && (r = cfg_load(&f)) == CTL_OK && cfg_find(&f, x.v[K_NAME])) {
                fprintf(stderr, "cmsctl: context '%s' exists in %s (cmsctl context rm %s first)\n",
                        x.v[K_NAME], f.path, x.v[K_NAME]);
                r = CTL_USAGE;
        }
        struct ctx *more = r == CTL_OK ? realloc(f.ctx, (f.n + 1) * sizeof(*more)) : NULL;
        if (r == CTL_OK && !more)
                r = CTL_ERR;
        if (more) {
                f.ctx = more;
                f.ctx[f.n++] = x; /* f owns x's strings now */
                memset(&x, 0, sizeof(x));
                if ((r = cfg_write(&f)) == CTL_OK && !f.current)
                        fprintf(stderr,
                                "cmsctl: context '%s' added (cmsctl context use %s makes it "
                                "current)\n",
                                f.ctx[f.n - 1].v[K_NAME], f.ctx[f.n - 1].v[K_NAME]);
        }
        for (int k = 0; k < K_N; k++)
                free(x.v[k]);
        cfg_free(&f);
        return r;
}

const struct ctl_command ctl_context_cmds[] = {
    {"ls", "", "list the contexts (* marks the one in use)", ctx_ls, NULL},
    {"show", "[CONTEXT]", "the context in use (or CONTEXT), its token masked", ctx_show, NULL},
    {"use", "CONTEXT", "make CONTEXT the current context", ctx_change, NULL},
    {"add",
     "NAME --url URL [--token-file FILE] [--token-stdin] [--cacert FILE] [--cert FILE] "
     "[--key FILE]",
     "add a context (a token from a file, or read from stdin and kept in the config file)", ctx_add,
     NULL},
    {"rm", "CONTEXT", "remove a context", ctx_change, NULL},
    {0},
};
