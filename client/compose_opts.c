/* cmsctl compose, the client side of a project, with docker compose's habits: compose's own
 * options; the file found when no -f is given (and its compose.override.* companion); the
 * project directory (--project-directory, else the first file's directory); the .env there (or
 * --env-file); the project name (-p, COMPOSE_PROJECT_NAME, the files' name:, the directory's
 * name, normalized); and the body part that sends all that to cmsd, which resolves relative
 * paths against the directory and parses, merges and interpolates the files itself. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "compose_opts.h"

/* As ctl_usage (main.c, which the unit tests do not link). */
static int usage(const char *fmt, const char *arg)
{
        fputs("usage: cmsctl ", stderr);
        fprintf(stderr, fmt, arg);
        fputc('\n', stderr);
        return CTL_USAGE;
}

int ctl_compose_parse_opts(struct ctl_compose *o, int argc, char **argv)
{
        int i = 0;
        memset(o, 0, sizeof(*o));
        for (; i < argc && argv[i][0] == '-'; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL, **slot = NULL;
                bool file = !strcmp(a, "-f") || !strcmp(a, "--file");
                if (!strcmp(a, "-p") || !strcmp(a, "--project-name"))
                        slot = &o->project;
                else if (!strcmp(a, "--env-file"))
                        slot = &o->env_file;
                else if (!strcmp(a, "--project-directory"))
                        slot = &o->project_dir;
                else if (!file && (!strcmp(a, "-h") || !strcmp(a, "--help")))
                        return i; /* the dispatcher prints the usage */
                else if (!file)
                        return -usage("compose: unknown option '%s'", a);
                if (!v || !*v)
                        return -usage("compose: %s needs a value", a);
                if (file && o->n_files == CTL_COMPOSE_MAX_FILES)
                        return -usage("compose: at most %s -f files", "16");
                if (file)
                        o->files[o->n_files++] = v;
                else
                        *slot = v;
                i++;
        }
        if (i == argc)
                return -usage("compose [-f FILE]... [-p NAME] [--env-file FILE] %s", "COMMAND");
        return i;
}

char *ctl_compose_find_file(const char *dir, bool override)
{
        static const char *const base[] = {"compose.yaml", "compose.yml", "docker-compose.yml",
                                           "docker-compose.yaml"};
        static const char *const over[] = {"compose.override.yaml", "compose.override.yml",
                                           "docker-compose.override.yml",
                                           "docker-compose.override.yaml"};
        for (size_t i = 0; i < 4; i++) {
                char path[PATH_MAX];
                snprintf(path, sizeof(path), "%s/%s", dir, override ? over[i] : base[i]);
                if (access(path, F_OK) == 0)
                        return strdup(path);
        }
        return NULL;
}

char *ctl_compose_normalize(const char *s)
{
        char *out = malloc(strlen(s) + 1), *o = out;
        for (const char *p = s; out && *p; p++) {
                char ch = (char)tolower((unsigned char)*p);
                bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
                if (alnum || ((ch == '-' || ch == '_') && o > out))
                        *o++ = ch;
        }
        if (out)
                *o = 0;
        return out;
}

bool ctl_word_in(const char *text, const char *word)
{
        size_t l = strlen(word);
        if (!l)
                return false;
        for (const char *p = text; (p = strstr(p, word)); p++) {
                bool before = p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_');
                bool after = isalnum((unsigned char)p[l]) || p[l] == '_';
                if (!before && !after)
                        return true;
        }
        return false;
}

/* $VAR, ${VAR}, ${VAR:-d}, ${VAR-d} and $$ in a name: (what a name needs; cmsd interpolates the
 * whole file itself). */
static char *fill(const char *v, const char *(*lookup)(const char *, void *), void *ud)
{
        char out[512];
        size_t n = 0;
        for (const char *p = v; *p && n + 1 < sizeof(out); p++) {
                if (*p != '$' || !p[1]) {
                        out[n++] = *p;
                        continue;
                }
                if (p[1] == '$') {
                        out[n++] = *++p;
                        continue;
                }
                bool brace = p[1] == '{';
                const char *s = p + 1 + brace, *e = s;
                while (isalnum((unsigned char)*e) || *e == '_')
                        e++;
                char var[128];
                snprintf(var, sizeof(var), "%.*s", (int)(e - s), s);
                const char *val = lookup ? lookup(var, ud) : NULL, *dflt = NULL, *end = e;
                if (brace) {
                        end = strchr(e, '}');
                        if (!end)
                                return NULL;
                        bool colon = *e == ':';
                        if (e[colon] == '-') {
                                dflt = e + colon + 1;
                                if (!val || (colon && !*val))
                                        val = NULL;
                        }
                }
                int k = val    ? snprintf(out + n, sizeof(out) - n, "%s", val)
                        : dflt ? snprintf(out + n, sizeof(out) - n, "%.*s", (int)(end - dflt), dflt)
                               : 0;
                n += k > 0 ? (size_t)k : 0;
                if (n >= sizeof(out))
                        return NULL;
                p = brace ? end : end - 1;
        }
        out[n < sizeof(out) ? n : sizeof(out) - 1] = 0;
        return strdup(out);
}

char *ctl_compose_file_name(const char *yaml, size_t len,
                            const char *(*lookup)(const char *name, void *ud), void *ud)
{
        yaml_parser_t p;
        yaml_event_t ev;
        int depth = 0;
        size_t pos = 0; /* items seen in the top-level mapping: keys at even positions */
        bool want = false, done = false;
        char *name = NULL;
        if (!yaml_parser_initialize(&p))
                return NULL;
        yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
        while (!done && yaml_parser_parse(&p, &ev)) {
                if (ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_SEQUENCE_START_EVENT) {
                        depth++;
                } else if (ev.type == YAML_MAPPING_END_EVENT ||
                           ev.type == YAML_SEQUENCE_END_EVENT) {
                        if (--depth == 1)
                                pos++, want = false;
                } else if ((ev.type == YAML_SCALAR_EVENT || ev.type == YAML_ALIAS_EVENT) &&
                           depth == 1) {
                        const char *v =
                            ev.type == YAML_SCALAR_EVENT ? (const char *)ev.data.scalar.value : "";
                        if (pos % 2 == 0) {
                                want = !strcmp(v, "name");
                        } else if (want && ev.type == YAML_SCALAR_EVENT) {
                                free(name);
                                name = fill(v, lookup, ud);
                                want = false;
                        }
                        pos++;
                } else if (ev.type == YAML_STREAM_END_EVENT) {
                        done = true;
                }
                yaml_event_delete(&ev);
        }
        yaml_parser_delete(&p);
        return name;
}

char *ctl_dotenv_get(const char *text, const char *key)
{
        size_t kl = strlen(key);
        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                while (*l == ' ' || *l == '\t')
                        l++;
                if (!strncmp(l, "export ", 7))
                        l += 7;
                if (strncmp(l, key, kl) || (l[kl] != '=' && l[kl] != ' '))
                        continue;
                const char *v = l + kl;
                while (*v == ' ')
                        v++;
                if (*v++ != '=')
                        continue;
                while (*v == ' ')
                        v++;
                size_t n = strcspn(v, "\r\n");
                if (n && (*v == '"' || *v == '\'') && memchr(v + 1, *v, n - 1)) {
                        const char *q = memchr(v + 1, *v, n - 1);
                        return strndup(v + 1, (size_t)(q - v - 1));
                }
                const char *hash = NULL;
                for (size_t i = 1; i < n && !hash; i++)
                        if (v[i] == '#' && (v[i - 1] == ' ' || v[i - 1] == '\t'))
                                hash = v + i;
                n = hash ? (size_t)(hash - v) : n;
                while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
                        n--;
                return strndup(v, n);
        }
        return NULL;
}

static char *absolute(const char *path)
{
        char *r = realpath(path, NULL);
        if (!r)
                fprintf(stderr, "cmsctl: %s: %s\n", path, strerror(errno));
        return r;
}

static char *dir_of(const char *file)
{
        char *d = strdup(file), *slash = d ? strrchr(d, '/') : NULL;
        if (slash)
                *(slash == d ? slash + 1 : slash) = 0;
        return d;
}

/* The files: -f ones (relative to here), else the default one (and its override) in dir. */
static int find_files(const struct ctl_compose *o, bool need, struct ctl_compose_project *p,
                      const char *here)
{
        const char *look = o->project_dir ? p->dir : here;
        for (size_t i = 0; i < o->n_files; i++)
                if (!(p->files[p->n_files++] = absolute(o->files[i])))
                        return CTL_USAGE;
        if (!o->n_files && (p->files[0] = ctl_compose_find_file(look, false))) {
                p->n_files = 1;
                if ((p->files[1] = ctl_compose_find_file(look, true)))
                        p->n_files = 2;
        }
        if (!p->n_files && need) {
                fprintf(stderr,
                        "cmsctl: no configuration file provided: not found (compose.yaml, "
                        "compose.yml, docker-compose.yml or docker-compose.yaml in %s)\n",
                        look);
                return CTL_USAGE;
        }
        for (size_t i = 0; i < p->n_files; i++)
                if (!(p->texts[i] = ctl_read_file(p->files[i], CTL_COMPOSE_MAX_BYTES, false)))
                        return CTL_USAGE;
        return CTL_OK;
}

static const char *lookup_env(const char *name, void *ud)
{
        const struct ctl_compose_project *p = ud;
        static __thread char *kept; /* the .env's value outlives the call */
        const char *v = getenv(name);
        if (v)
                return v;
        free(kept);
        kept = p->dotenv ? ctl_dotenv_get(p->dotenv, name) : NULL;
        return kept;
}

static int pick_name(const struct ctl_compose *o, struct ctl_compose_project *p)
{
        char *n = NULL;
        const char *env = getenv("COMPOSE_PROJECT_NAME");
        if (o->project)
                n = strdup(o->project);
        else if (env && *env)
                n = strdup(env);
        else if (p->dotenv && (n = ctl_dotenv_get(p->dotenv, "COMPOSE_PROJECT_NAME")) && !*n) {
                free(n);
                n = NULL;
        }
        for (size_t i = p->n_files; !n && i-- > 0;)
                n = ctl_compose_file_name(p->texts[i], strlen(p->texts[i]), lookup_env, p);
        if (!n) {
                const char *base = strrchr(p->dir, '/');
                n = ctl_compose_normalize(base && base[1] ? base + 1 : p->dir);
        }
        if (!n || !*n) {
                free(n);
                fprintf(stderr, "cmsctl: no project name: give -p NAME\n");
                return CTL_USAGE;
        }
        p->name = n;
        return CTL_OK;
}

int ctl_compose_load(const struct ctl_compose *o, bool need_files, struct ctl_compose_project *p)
{
        char here[PATH_MAX];
        memset(p, 0, sizeof(*p));
        if (!getcwd(here, sizeof(here))) {
                fprintf(stderr, "cmsctl: the current directory: %s\n", strerror(errno));
                return CTL_ERR;
        }
        if (o->project_dir && !(p->dir = absolute(o->project_dir)))
                return CTL_USAGE;
        int r = find_files(o, need_files, p, here);
        if (r != CTL_OK)
                return r;
        if (!p->dir)
                p->dir = p->n_files ? dir_of(p->files[0]) : strdup(here);
        if (!p->dir)
                return CTL_ERR;
        if (o->env_file) {
                if (!(p->dotenv = ctl_read_file(o->env_file, CTL_COMPOSE_MAX_BYTES, false)))
                        return CTL_USAGE;
        } else {
                char path[PATH_MAX];
                snprintf(path, sizeof(path), "%s/.env", p->dir);
                p->dotenv = ctl_read_file(path, CTL_COMPOSE_MAX_BYTES, true);
        }
        return pick_name(o, p);
}

void ctl_compose_project_done(struct ctl_compose_project *p)
{
        for (size_t i = 0; i < CTL_COMPOSE_MAX_FILES; i++) {
                free(p->files[i]);
                free(p->texts[i]);
        }
        free(p->dir);
        free(p->dotenv);
        free(p->name);
        memset(p, 0, sizeof(*p));
}

static bool referenced(const struct ctl_compose_project *p, const char *name)
{
        if (!strcmp(name, "COMPOSE_PROFILES"))
                return true;
        for (size_t i = 0; i < p->n_files; i++)
                if (ctl_word_in(p->texts[i], name))
                        return true;
        return p->dotenv && ctl_word_in(p->dotenv, name);
}

json_object *ctl_compose_body(const struct ctl_compose_project *p, char *const *envp)
{
        json_object *b = json_object_new_object(), *env = json_object_new_object();
        json_object_object_add(b, "name", json_object_new_string(p->name));
        if (p->n_files == 1) {
                json_object_object_add(b, "compose", json_object_new_string(p->texts[0]));
        } else if (p->n_files > 1) {
                json_object *a = json_object_new_array();
                for (size_t i = 0; i < p->n_files; i++)
                        json_object_array_add(a, json_object_new_string(p->texts[i]));
                json_object_object_add(b, "compose", a);
        }
        json_object_object_add(b, "working_dir", json_object_new_string(p->dir));
        if (p->dotenv)
                json_object_object_add(b, "dotenv", json_object_new_string(p->dotenv));
        for (size_t i = 0; envp && envp[i]; i++) {
                const char *eq = strchr(envp[i], '=');
                if (!eq || eq == envp[i])
                        continue;
                char *k = strndup(envp[i], (size_t)(eq - envp[i]));
                if (k && referenced(p, k))
                        json_object_object_add(env, k, json_object_new_string(eq + 1));
                free(k);
        }
        json_object_object_add(b, "env", env);
        return b;
}
