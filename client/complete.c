/* Shell completion. `cmsctl completion bash|zsh` prints a script; the script runs the hidden
 * `cmsctl __complete WORD...` (the words after "cmsctl" so far, the last one the word being
 * completed, possibly empty), which prints the candidates that start with that word, one a line.
 * The static part reads the commands table only: command names (hidden ones, whose help is NULL,
 * left out), subcommands, flags parsed out of an entry's args ("[-f] [--tail N] CONTAINER": -f
 * and --tail, the latter taking a value) and literal values ("bash|zsh", "[--pull
 * missing|always|never]"). What a positional word or a flag's value is (CONTAINER, IMAGE, NETWORK,
 * VOLUME, a compose project, a context, a FILE) is then filled in: names from the server
 * (ctl_call, silent and bounded by a short alarm), context names from the config file, and for a
 * file the single line ":files", which tells the script to complete file names itself. */
#include <ctype.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

#define MAX_TOKENS 128

/* The options main.c reads before the command, with what their value is. */
static const struct {
        const char *flag, *value;
} globals[] = {
    {"--url", "URL"},           {"--context", "CONTEXT"}, {"--token-file", "FILE"},
    {"--format", "table|json"}, {"--cacert", "FILE"},     {"--cert", "FILE"},
    {"--key", "FILE"},
};

/* An entry's args read as a command line's shape: its flags (each with the placeholder of its
 * value, or NULL) and its positional placeholders. */
struct spec {
        char *buf;
        const char *flag[MAX_TOKENS], *value[MAX_TOKENS], *pos[MAX_TOKENS];
        size_t nflag, npos;
        bool repeat; /* the last positional repeats (CONTAINER...) */
};

struct token {
        char *text;
        bool opens, closes, repeat;
};

static size_t split_tokens(char *buf, struct token *t)
{
        size_t n = 0;
        for (char *save = NULL, *w = strtok_r(buf, " ", &save); w && n < MAX_TOKENS;
             w = strtok_r(NULL, " ", &save)) {
                struct token k = {.opens = *w == '['};
                while (*w == '[')
                        w++;
                for (size_t len = strlen(w); len;) {
                        if (w[len - 1] == ']') {
                                k.closes = true;
                                w[--len] = 0;
                        } else if (len >= 3 && !strcmp(w + len - 3, "...")) {
                                k.repeat = true;
                                w[len -= 3] = 0;
                        } else if (len >= 3 && !strcmp(w + len - 3, "\xe2\x80\xa6")) { /* … */
                                k.repeat = true;
                                w[len -= 3] = 0;
                        } else {
                                break;
                        }
                }
                k.text = w;
                if (*w)
                        t[n++] = k;
        }
        return n;
}

/* "-a|--all" and "--health-cmd/--health-interval" name several flags. */
static void add_flags(struct spec *s, char *text, const char *value)
{
        for (char *save = NULL, *f = strtok_r(text, "|/", &save); f;
             f = strtok_r(NULL, "|/", &save))
                if (f[0] == '-' && s->nflag < MAX_TOKENS) {
                        s->flag[s->nflag] = f;
                        s->value[s->nflag++] = value;
                }
}

static void spec_parse(const char *args, struct spec *s)
{
        struct token t[MAX_TOKENS];
        memset(s, 0, sizeof(*s));
        s->buf = strdup(args ? args : "");
        size_t n = s->buf ? split_tokens(s->buf, t) : 0;
        for (size_t i = 0; i < n; i++) {
                if (t[i].text[0] == '-') {
                        /* a flag takes a value when a word follows it in the same brackets */
                        bool takes =
                            !t[i].closes && i + 1 < n && t[i + 1].text[0] != '-' && !t[i + 1].opens;
                        add_flags(s, t[i].text, takes ? t[i + 1].text : NULL);
                        i += takes;
                } else if (isupper((unsigned char)t[i].text[0]) ||
                           (strchr(t[i].text, '|') && t[i].text[1])) {
                        s->pos[s->npos++] = t[i].text; /* not "|" nor prose ("run's options") */
                        s->repeat = t[i].repeat;
                }
        }
}

static const char *spec_value(const struct spec *s, const char *flag, bool *known)
{
        for (size_t i = 0; i < s->nflag; i++)
                if (!strcmp(s->flag[i], flag)) {
                        *known = true;
                        return s->value[i];
                }
        *known = false;
        return NULL;
}

static void put(FILE *out, const char *cand, const char *prefix)
{
        if (!strncmp(cand, prefix, strlen(prefix)))
                fprintf(out, "%s\n", cand);
}

static void put_names(FILE *out, const struct ctl_command *t, const char *prefix)
{
        for (; t && t->name; t++)
                if (t->help)
                        put(out, t->name, prefix);
}

/* The kind of name an upper-case placeholder stands for, or NULL. */
static const char *kind_of(const char *p, size_t len)
{
        static const char *const kinds[][2] = {
            {"CONTAINER", "CONTAINER"},
            {"IMAGE", "IMAGE"},
            {"SOURCE", "IMAGE"},
            {"NETWORK", "NETWORK"},
            {"NET", "NETWORK"},
            {"VOLUME", "VOLUME"},
            {"PROJECT", "PROJECT"},
            {"CONTEXT", "CONTEXT"},
            {"FILE", "FILE"},
            {"F", "FILE"},
            {"DIR", "FILE"},
            {"PATH", "FILE"},
            {"DOCKERFILE", "FILE"},
        };
        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
                if (strlen(kinds[i][0]) == len && !strncmp(p, kinds[i][0], len))
                        return kinds[i][1];
        return NULL;
}

/* A placeholder's candidates: its alternatives ("|") are kinds of names, returned for the
 * dynamic part (IMAGE[:TAG] is an IMAGE, DIR|- a FILE), or literals, printed: "missing|always"
 * gives missing and always, "label=K=V|name=N" gives label= and name=, FORMAT table and json. */
static const char *placeholder(const char *p, FILE *out, const char *prefix)
{
        if (p && !strcmp(p, "FORMAT"))
                p = "table|json";
        for (const char *a = p; a && *a;) {
                size_t len = strcspn(a, "|");
                const char *kind = kind_of(a, strcspn(a, "|[:"));
                if (kind)
                        return kind;
                a += len + (a[len] == '|');
        }
        char lit[256];
        for (const char *a = p; a && *a;) {
                size_t len = strcspn(a, "|"), k = 0;
                while (k < len && k + 1 < sizeof(lit) && !isupper((unsigned char)a[k]))
                        lit[k] = a[k], k++;
                lit[k] = 0;
                if (k)
                        put(out, lit, prefix);
                a += len + (a[len] == '|');
        }
        return NULL;
}

/* Where the walk over the words is. */
struct walk {
        const struct ctl_command *top, *e; /* the command; the entry whose args apply */
        const struct ctl_command *subs;    /* a group still to pick a subcommand from */
        struct spec spec;                  /* e's args */
        size_t npos;                       /* positional words seen for e */
        bool dashdash;
};

static void walk_enter(struct walk *w, const struct ctl_command *e, bool top)
{
        free(w->spec.buf);
        if (top)
                w->top = e;
        w->e = e;
        w->subs = e->subs;
        w->npos = 0;
        spec_parse(e->subs && !e->run ? "" : e->args, &w->spec);
}

/* The value placeholder of flag f where the walk is (NULL: it takes none; *known false: f is
 * not a flag there). */
static const char *flag_value(const struct walk *w, const char *f, bool *known)
{
        if (!w->e) {
                for (size_t i = 0; i < sizeof(globals) / sizeof(globals[0]); i++)
                        if (!strcmp(globals[i].flag, f)) {
                                *known = true;
                                return globals[i].value;
                        }
                *known = false;
                return NULL;
        }
        const char *v = spec_value(&w->spec, f, known);
        if (!*known && !strcmp(f, "--format")) { /* taken after any command too */
                *known = true;
                return "FORMAT";
        }
        if (v && w->top == w->e && w->subs && (!strcmp(f, "-p") || !strcmp(f, "--project-name")))
                return "PROJECT"; /* compose -p NAME */
        return v;
}

/* One word before the one being completed; *value_next: the next word is a flag's value. Returns
 * false when the line cannot be followed (an unknown command). */
static bool walk_word(struct walk *w, const char *word, bool *value_next)
{
        bool known;
        *value_next = false;
        if (!w->dashdash && word[0] == '-' && word[1]) {
                if (!strcmp(word, "--") && w->e && !w->subs) {
                        w->dashdash = true;
                        return true;
                }
                *value_next = !strchr(word, '=') && flag_value(w, word, &known);
                return true;
        }
        const struct ctl_command *t = !w->e ? ctl_commands : w->subs;
        if (t) {
                const struct ctl_command *e = ctl_command_find(t, word);
                if (!e || !e->help)
                        return false;
                walk_enter(w, e, !w->e);
                return true;
        }
        w->npos++;
        return true;
}

const char *ctl_complete_static(int n, char **words, FILE *out)
{
        struct walk w = {0};
        const char *cur = n > 0 ? words[n - 1] : "", *value_of = NULL, *kind = NULL;
        bool value_next = false, alive = true, known;
        for (int i = 0; alive && i < n - 1; i++) {
                alive = walk_word(&w, words[i], &value_next);
                if (value_next && i + 1 == n - 1)
                        value_of = words[i];
                else
                        i += value_next;
        }
        if (!alive) {
                free(w.spec.buf);
                return NULL;
        }
        if (value_of) {
                kind = placeholder(flag_value(&w, value_of, &known), out, cur);
        } else if (cur[0] == '-' && !w.dashdash) {
                if (!w.e)
                        for (size_t i = 0; i < sizeof(globals) / sizeof(globals[0]); i++)
                                put(out, globals[i].flag, cur);
                for (size_t i = 0; w.e && i < w.spec.nflag; i++)
                        put(out, w.spec.flag[i], cur);
        } else if (!w.e || w.subs) {
                put_names(out, w.e ? w.subs : ctl_commands, cur);
        } else {
                const char *p = NULL;
                if (w.npos < w.spec.npos)
                        p = w.spec.pos[w.npos];
                else if (w.spec.npos && w.spec.repeat)
                        p = w.spec.pos[w.spec.npos - 1];
                kind = placeholder(p, out, cur);
        }
        free(w.spec.buf);
        return kind;
}

/* ---- the dynamic part ---- */

static void give_up(int sig)
{
        (void)sig;
        _exit(CTL_OK); /* nothing printed: completion stays silent */
}

/* Where to ask: the globals among the words (--url, --context, ...) over the env and the config
 * file, as main.c resolves them for a command. */
static int target(int n, char **words, struct ctl *t)
{
        const char *tf = NULL;
        *t = (struct ctl){.context = getenv("CMSD_CONTEXT")};
        for (int i = 0; i + 2 < n && words[i][0] == '-'; i += 2) {
                const char *o = words[i], *v = words[i + 1];
                if (!strcmp(o, "--url"))
                        t->url = v;
                else if (!strcmp(o, "--context"))
                        t->context = v;
                else if (!strcmp(o, "--token-file"))
                        tf = v;
                else if (!strcmp(o, "--cacert"))
                        t->cacert = v;
                else if (!strcmp(o, "--cert"))
                        t->cert = v;
                else if (!strcmp(o, "--key"))
                        t->key = v;
        }
        if (!t->url && getenv("CMSD_URL") && *getenv("CMSD_URL"))
                t->url = getenv("CMSD_URL");
        if (tf) {
                FILE *f = fopen(tf, "re");
                char buf[1100] = "";
                if (f && fgets(buf, sizeof(buf), f))
                        buf[strcspn(buf, "\r\n")] = 0;
                if (f)
                        fclose(f);
                t->token = strdup(buf);
        } else if (getenv("CMSD_TOKEN")) {
                t->token = strdup(getenv("CMSD_TOKEN"));
        }
        int r = ctl_config_apply(t);
        if (!t->url)
                t->url = "http://127.0.0.1:8080"; /* main.c's default */
        return r;
}

/* The names of kind from the server, those starting with prefix. */
static void server_names(struct ctl *c, const char *kind, const char *prefix)
{
        static const struct {
                const char *kind, *path, *field;
        } routes[] = {
            {"CONTAINER", "/v1/containers?all=true", "name"},
            {"IMAGE", "/v1/images", "tags"},
            {"NETWORK", "/v1/networks", "name"},
            {"VOLUME", "/v1/volumes", "name"},
            {"PROJECT", "/v1/projects", "name"},
        };
        for (size_t r = 0; r < sizeof(routes) / sizeof(routes[0]); r++) {
                json_object *d = NULL, *v = NULL;
                if (strcmp(kind, routes[r].kind) || ctl_call(c, "GET", routes[r].path, NULL, &d))
                        continue;
                size_t n =
                    json_object_is_type(d, json_type_array) ? json_object_array_length(d) : 0;
                for (size_t i = 0; i < n; i++) {
                        if (!json_object_object_get_ex(json_object_array_get_idx(d, i),
                                                       routes[r].field, &v))
                                continue;
                        bool list = json_object_is_type(v, json_type_array);
                        size_t m = list ? json_object_array_length(v) : 1;
                        for (size_t j = 0; j < m; j++) {
                                json_object *s = list ? json_object_array_get_idx(v, j) : v;
                                if (json_object_is_type(s, json_type_string))
                                        put(stdout, json_object_get_string(s), prefix);
                        }
                }
                json_object_put(d);
        }
}

int cmd_complete(struct ctl *c, int argc, char **argv)
{
        const char *cur = argc > 0 ? argv[argc - 1] : "";
        const char *kind = ctl_complete_static(argc, argv, stdout);
        fflush(stdout);
        if (!kind)
                return CTL_OK;
        if (!strcmp(kind, "FILE")) {
                puts(":files");
                return CTL_OK;
        }
        int err = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null >= 0) { /* a server down or a token denied: no candidates, no message */
                dup2(null, STDERR_FILENO);
                close(null);
        }
        if (!strcmp(kind, "CONTEXT")) {
                ctl_config_names(cur, stdout);
        } else {
                struct ctl t;
                struct sigaction sa = {.sa_handler = give_up};
                sigaction(SIGALRM, &sa, NULL);
                alarm(2); /* a completion that hangs is worse than none */
                if (target(argc, argv, &t) == CTL_OK)
                        server_names(&t, kind, cur);
                alarm(0);
                free(t.token);
        }
        fflush(stdout);
        if (err >= 0) {
                dup2(err, STDERR_FILENO);
                close(err);
        }
        return CTL_OK;
}

/* ---- the scripts ---- */

static const char bash_script[] =
    "# bash completion for cmsctl. Load it with: source <(cmsctl completion bash), or install it\n"
    "# as /usr/share/bash-completion/completions/cmsctl. The candidates come from\n"
    "# `cmsctl __complete WORD...` (\":files\" asks for file names).\n"
    "_cmsctl() {\n"
    "        local cur words cword out\n"
    "        if declare -F _get_comp_words_by_ref >/dev/null 2>&1; then\n"
    "                _get_comp_words_by_ref -n =: cur words cword\n"
    "        else\n"
    "                cur=${COMP_WORDS[COMP_CWORD]} cword=$COMP_CWORD\n"
    "                words=(\"${COMP_WORDS[@]}\")\n"
    "        fi\n"
    "        COMPREPLY=()\n"
    "        out=$(\"${words[0]}\" __complete \"${words[@]:1:cword}\" 2>/dev/null) || return 0\n"
    "        if [ \"$out\" = :files ]; then\n"
    "                compopt -o filenames 2>/dev/null\n"
    "                mapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n"
    "        elif [ -n \"$out\" ]; then\n"
    "                mapfile -t COMPREPLY <<<\"$out\"\n"
    "        fi\n"
    "        if [ \"${#COMPREPLY[@]}\" = 1 ] && [[ ${COMPREPLY[0]} == *= ]]; then\n"
    "                compopt -o nospace 2>/dev/null\n"
    "        fi\n"
    "        if declare -F __ltrim_colon_completions >/dev/null 2>&1; then\n"
    "                __ltrim_colon_completions \"$cur\"\n"
    "        fi\n"
    "        return 0\n"
    "}\n"
    "complete -F _cmsctl cmsctl\n";

static const char zsh_script[] =
    "#compdef cmsctl\n"
    "# zsh completion for cmsctl. Install it as _cmsctl in a directory of $fpath, or load it\n"
    "# after compinit with: source <(cmsctl completion zsh). The candidates come from\n"
    "# `cmsctl __complete WORD...` (\":files\" asks for file names).\n"
    "_cmsctl() {\n"
    "        local out\n"
    "        local -a cands\n"
    "        out=$(\"${words[1]}\" __complete \"${(@)words[2,CURRENT]}\" 2>/dev/null) || return 1\n"
    "        if [[ $out == :files ]]; then\n"
    "                _files\n"
    "                return\n"
    "        fi\n"
    "        [[ -n $out ]] || return 1\n"
    "        cands=(\"${(@f)out}\")\n"
    "        compadd -- \"${cands[@]}\"\n"
    "}\n"
    "if [[ ${funcstack[1]} == _cmsctl ]]; then\n"
    "        _cmsctl \"$@\"\n"
    "elif (( $+functions[compdef] )); then\n"
    "        compdef _cmsctl cmsctl\n"
    "fi\n";

int cmd_completion(struct ctl *c, int argc, char **argv)
{
        if (argc == 1 && !strcmp(argv[0], "bash"))
                fputs(bash_script, stdout);
        else if (argc == 1 && !strcmp(argv[0], "zsh"))
                fputs(zsh_script, stdout);
        else
                return ctl_usage("completion bash|zsh");
        return CTL_OK;
}
