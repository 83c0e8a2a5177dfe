/* cmsctl's config file: named contexts, each a cmsd URL and how to authenticate to it, in
 * $XDG_CONFIG_HOME/cmsctl/config.yaml (~/.config/cmsctl/config.yaml; CMSCTL_CONFIG names another
 * file). Read with libyaml, bounded (1 MiB, a fixed set of keys: an unknown one is an error with
 * its line, so a typo never drops a TLS setting silently). The modes rule, ssh-like:
 *   - the file is a regular file owned by the user running cmsctl;
 *   - group and others may never write it (mode & 022 == 0; 0644 is fine without a token);
 *   - a file holding a token inline (token:) gives group and others nothing (mode & 077 == 0).
 * A file breaking it is refused (exit 2) with a message naming the file and `chmod 600`.
 * A context's token and TLS files go to its own URL only: with --url or CMSD_URL naming another
 * server, the context fills nothing (a token is never sent to a server it was not given for).
 * `context add|use|rm` rewrite the file atomically (a temporary file in the same directory,
 * mode 0600, then rename; directories made 0700); comments are not kept. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "config_internal.h"

#define CFG_MAX   (1024 * 1024)
#define TOKEN_MAX 1024

const char *const ctl_ctx_keys[K_N] = {"name",   "url",  "token", "token-file",
                                       "cacert", "cert", "key"};

void cfg_free(struct cfg *f)
{
        for (size_t i = 0; i < f->n; i++)
                for (int k = 0; k < K_N; k++)
                        free(f->ctx[i].v[k]);
        free(f->ctx);
        free(f->current);
        f->ctx = NULL;
        f->current = NULL;
        f->n = 0;
}

struct ctx *cfg_find(struct cfg *f, const char *name)
{
        for (size_t i = 0; i < f->n; i++)
                if (!strcmp(f->ctx[i].v[K_NAME], name))
                        return &f->ctx[i];
        return NULL;
}

static int cfg_path(char *out, size_t n)
{
        const char *p = getenv("CMSCTL_CONFIG"), *x = getenv("XDG_CONFIG_HOME");
        const char *h = getenv("HOME");
        struct passwd *pw = NULL;
        int k = -1;
        if (p && *p)
                k = snprintf(out, n, "%s", p);
        else if (x && *x == '/') /* a relative XDG_CONFIG_HOME is ignored, as the spec says */
                k = snprintf(out, n, "%s/cmsctl/config.yaml", x);
        else if ((h && *h) || ((pw = getpwuid(geteuid())) && (h = pw->pw_dir)))
                k = snprintf(out, n, "%s/.config/cmsctl/config.yaml", h);
        if (k < 0 || (size_t)k >= n) {
                fputs("cmsctl: no path for the config file (set CMSCTL_CONFIG)\n", stderr);
                return CTL_USAGE;
        }
        return CTL_OK;
}

/* Reads the file after the type, owner, write-mode and size checks: *buf is NULL when there is
 * no file. */
static int cfg_read(const char *path, char **buf, size_t *len, mode_t *mode)
{
        *buf = NULL;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                if (errno == ENOENT)
                        return CTL_OK;
                fprintf(stderr, "cmsctl: %s: %s\n", path, strerror(errno));
                return CTL_USAGE;
        }
        struct stat st = {0};
        size_t cap = 0;
        int r = CTL_USAGE;
        if (fstat(fd, &st) != 0)
                fprintf(stderr, "cmsctl: %s: %s\n", path, strerror(errno));
        else if (!S_ISREG(st.st_mode))
                fprintf(stderr, "cmsctl: %s is not a regular file\n", path);
        else if (st.st_uid != geteuid())
                fprintf(stderr, "cmsctl: %s belongs to uid %u, not to you (uid %u): refused\n",
                        path, (unsigned)st.st_uid, (unsigned)geteuid());
        else if (st.st_mode & 022)
                fprintf(stderr,
                        "cmsctl: %s may be written by group or others (mode %04o): refused; "
                        "run chmod 600 %s\n",
                        path, (unsigned)(st.st_mode & 07777), path);
        else if (st.st_size > CFG_MAX)
                fprintf(stderr, "cmsctl: %s is larger than 1 MiB: refused\n", path);
        else if (!(*buf =
                       malloc(cap = st.st_size + 4096 > CFG_MAX ? CFG_MAX + 1 : st.st_size + 4096)))
                fputs("cmsctl: out of memory\n", stderr);
        else
                r = CTL_OK;
        FILE *in = r == CTL_OK ? fdopen(fd, "r") : NULL;
        if (r == CTL_OK && !in) {
                fprintf(stderr, "cmsctl: %s: %s\n", path, strerror(errno));
                r = CTL_USAGE;
        }
        if (in) {
                *len = fread(*buf, 1, cap, in);
                if (ferror(in) || *len > CFG_MAX) {
                        fprintf(stderr, "cmsctl: %s: %s\n", path,
                                ferror(in) ? strerror(errno) : "larger than 1 MiB: refused");
                        r = CTL_USAGE;
                }
                fclose(in);
        } else {
                close(fd);
        }
        if (r != CTL_OK) {
                free(*buf);
                *buf = NULL;
        }
        *mode = st.st_mode;
        return r;
}

/* ---- parsing ---- */

struct parse {
        const char *path;
        yaml_document_t doc;
        struct cfg *f;
};

__attribute__((format(printf, 3, 4))) static int bad(struct parse *p, const yaml_node_t *n,
                                                     const char *fmt, ...)
{
        va_list ap;
        fprintf(stderr, "cmsctl: %s:%zu: ", p->path, n ? n->start_mark.line + 1 : 1);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return CTL_USAGE;
}

/* A scalar's text, or NULL for another node or one with a NUL byte inside. */
static const char *scalar(const yaml_node_t *n)
{
        if (!n || n->type != YAML_SCALAR_NODE)
                return NULL;
        const char *s = (const char *)n->data.scalar.value;
        return strlen(s) == n->data.scalar.length ? s : NULL;
}

/* Valid UTF-8 (what libyaml reads back: a byte that is not would lock the file for good). */
static bool utf8_ok(const char *s)
{
        const unsigned char *p = (const unsigned char *)s;
        while (*p) {
                size_t n = *p < 0x80             ? 0
                           : (*p & 0xe0) == 0xc0 ? 1
                           : (*p & 0xf0) == 0xe0 ? 2
                           : (*p & 0xf8) == 0xf0 ? 3
                                                 : 9;
                if (n == 9 || (n == 1 && *p < 0xc2))
                        return false;
                for (size_t i = 1; i <= n; i++)
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                p += n + 1;
        }
        return true;
}

static bool printable(const char *s, bool space)
{
        if (!utf8_ok(s))
                return false;
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f || (!space && *s == ' '))
                        return false;
        return true;
}

bool cfg_name_ok(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > 64 || s[0] == '-' || s[0] == '.')
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static bool url_ok(const char *s)
{
        for (const char *p = s; *p && strncmp(s, "unix:", 5); p++)
                if ((unsigned char)*p >= 0x80) /* an http(s) URL: ASCII (IDN hosts as punycode) */
                        return false;
        return printable(s, !strncmp(s, "unix:", 5)) &&
               (!strncmp(s, "http://", 7) || !strncmp(s, "https://", 8) ||
                (!strncmp(s, "unix:", 5) && s[5]));
}

/* A token goes into an HTTP header: visible ASCII only. */
static bool token_ok(const char *s)
{
        size_t n = 0;
        for (; s[n]; n++)
                if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f)
                        return false;
        return n > 0 && n <= TOKEN_MAX;
}

/* The problem with value v of key k, or NULL. */
const char *cfg_value_problem(int k, const char *v)
{
        if (k == K_NAME && !cfg_name_ok(v))
                return "a name is 1 to 64 of A-Z a-z 0-9 . _ - (not starting with - or .)";
        if (k == K_URL && !url_ok(v))
                return "a url is http://HOST:PORT, https://HOST:PORT or unix:/PATH";
        if (k == K_TOKEN && !token_ok(v))
                return "a token is 1 to 1024 visible ASCII characters";
        if (!printable(v, true))
                return "control characters in a value";
        return NULL;
}

static int parse_ctx(struct parse *p, yaml_node_t *m, struct ctx *x)
{
        if (m->type != YAML_MAPPING_NODE)
                return bad(p, m, "a context is a mapping (name: NAME, url: URL, ...)");
        x->line = (int)m->start_mark.line + 1;
        for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top;
             pr++) {
                yaml_node_t *kn = yaml_document_get_node(&p->doc, pr->key);
                yaml_node_t *vn = yaml_document_get_node(&p->doc, pr->value);
                const char *ks = scalar(kn), *vs = scalar(vn), *why;
                int k = 0;
                while (ks && k < K_N && strcmp(ks, ctl_ctx_keys[k]))
                        k++;
                if (!ks || k == K_N)
                        return bad(p, kn,
                                   "unknown key '%s' in a context (name, url, token, token-file, "
                                   "cacert, cert, key)",
                                   ks ? ks : "?");
                if (x->v[k])
                        return bad(p, kn, "'%s' given twice in a context", ks);
                if (!vs || !*vs)
                        return bad(p, vn ? vn : kn, "'%s' needs a string value", ks);
                if ((why = cfg_value_problem(k, vs)))
                        return bad(p, vn, "%s: %s", ks, why);
                if (!(x->v[k] = strdup(vs)))
                        return bad(p, vn, "out of memory");
        }
        if (!x->v[K_NAME])
                return bad(p, m, "a context without a name");
        if (!x->v[K_URL])
                return bad(p, m, "context '%s' has no url", x->v[K_NAME]);
        if (x->v[K_TOKEN] && x->v[K_TOKEN_FILE])
                return bad(p, m, "context '%s' has both token and token-file: keep one",
                           x->v[K_NAME]);
        return CTL_OK;
}

static int parse_contexts(struct parse *p, yaml_node_t *seq)
{
        struct cfg *f = p->f;
        if (scalar(seq) && !*scalar(seq))
                return CTL_OK; /* "contexts:" with nothing */
        if (seq->type != YAML_SEQUENCE_NODE)
                return bad(p, seq, "contexts is a list (- name: NAME ...)");
        size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
        if (!(f->ctx = calloc(n ? n : 1, sizeof(*f->ctx))))
                return bad(p, seq, "out of memory");
        for (size_t i = 0; i < n; i++) {
                yaml_node_t *m = yaml_document_get_node(&p->doc, seq->data.sequence.items.start[i]);
                struct ctx *x = &f->ctx[f->n++];
                int r = parse_ctx(p, m, x);
                if (r != CTL_OK)
                        return r;
                for (size_t j = 0; j + 1 < f->n; j++)
                        if (!strcmp(f->ctx[j].v[K_NAME], x->v[K_NAME]))
                                return bad(p, m, "context '%s' given twice (line %d too)",
                                           x->v[K_NAME], f->ctx[j].line);
        }
        return CTL_OK;
}

static int parse_root(struct parse *p)
{
        yaml_node_t *root = yaml_document_get_root_node(&p->doc);
        bool seen_current = false, seen_contexts = false;
        if (!root)
                return CTL_OK; /* an empty file */
        if (root->type != YAML_MAPPING_NODE)
                return bad(p, root, "the top level is a mapping (current-context:, contexts:)");
        for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
             pr < root->data.mapping.pairs.top; pr++) {
                yaml_node_t *kn = yaml_document_get_node(&p->doc, pr->key);
                yaml_node_t *vn = yaml_document_get_node(&p->doc, pr->value);
                const char *ks = scalar(kn);
                int r;
                if (ks && !strcmp(ks, "current-context")) {
                        const char *vs = scalar(vn);
                        if (seen_current)
                                return bad(p, kn, "current-context given twice");
                        if (!vs || (*vs && !cfg_name_ok(vs)))
                                return bad(p, vn, "current-context is a context's name");
                        seen_current = true;
                        p->f->current_line = (int)vn->start_mark.line + 1;
                        if (*vs && !(p->f->current = strdup(vs)))
                                return bad(p, vn, "out of memory");
                } else if (ks && !strcmp(ks, "contexts")) {
                        if (seen_contexts)
                                return bad(p, kn, "contexts given twice");
                        seen_contexts = true;
                        if ((r = parse_contexts(p, vn)) != CTL_OK)
                                return r;
                } else {
                        return bad(p, kn, "unknown key '%s' (current-context, contexts)",
                                   ks ? ks : "?");
                }
        }
        return CTL_OK;
}

static size_t line_of(const char *buf, size_t len, size_t offset)
{
        size_t line = 1;
        for (size_t i = 0; i < offset && i < len; i++)
                line += buf[i] == '\n';
        return line;
}

static int cfg_parse(struct cfg *f, const char *buf, size_t len)
{
        yaml_parser_t ps;
        struct parse p = {.path = f->path, .f = f};
        yaml_document_t more;
        int r = CTL_USAGE;
        if (!yaml_parser_initialize(&ps)) {
                fputs("cmsctl: out of memory\n", stderr);
                return CTL_ERR;
        }
        yaml_parser_set_input_string(&ps, (const unsigned char *)buf, len);
        if (yaml_parser_load(&ps, &p.doc)) {
                r = parse_root(&p);
                yaml_document_delete(&p.doc);
                if (r == CTL_OK && yaml_parser_load(&ps, &more)) {
                        if (yaml_document_get_root_node(&more))
                                r = bad(&p, yaml_document_get_root_node(&more),
                                        "a second YAML document: one is expected");
                        yaml_document_delete(&more);
                }
        }
        if (ps.error != YAML_NO_ERROR) {
                size_t line = ps.error == YAML_READER_ERROR ? line_of(buf, len, ps.problem_offset)
                                                            : ps.problem_mark.line + 1;
                fprintf(stderr, "cmsctl: %s:%zu: malformed YAML: %s\n", f->path, line,
                        ps.problem ? ps.problem : "unreadable");
                r = CTL_USAGE;
        }
        yaml_parser_delete(&ps);
        return r;
}

/* Loads the config file (none: no contexts). Returns CTL_OK or the code of a problem printed. */
int cfg_load(struct cfg *f)
{
        char *buf;
        size_t len;
        mode_t mode;
        memset(f, 0, sizeof(*f));
        int r = cfg_path(f->path, sizeof(f->path));
        if (r != CTL_OK || (r = cfg_read(f->path, &buf, &len, &mode)) != CTL_OK || !buf)
                return r;
        r = cfg_parse(f, buf, len);
        free(buf);
        for (size_t i = 0; r == CTL_OK && i < f->n; i++)
                if (f->ctx[i].v[K_TOKEN] && (mode & 077)) {
                        fprintf(stderr,
                                "cmsctl: %s holds a token (context '%s') and group or others have "
                                "access to it (mode %04o): refused; run chmod 600 %s\n",
                                f->path, f->ctx[i].v[K_NAME], (unsigned)(mode & 07777), f->path);
                        r = CTL_USAGE;
                }
        if (r != CTL_OK)
                cfg_free(f);
        return r;
}

/* ---- writing ---- */

/* A double-quoted YAML scalar: values are checked for control characters, so escaping the quote
 * and the backslash is all it takes for the reader to get the same string back. */
static void put_str(FILE *m, const char *key, const char *s, const char *indent)
{
        fprintf(m, "%s%s: \"", indent, key);
        for (; *s; s++) {
                if (*s == '"' || *s == '\\')
                        fputc('\\', m);
                fputc(*s, m);
        }
        fputs("\"\n", m);
}

static void cfg_render(const struct cfg *f, FILE *m)
{
        fputs("# cmsctl's contexts: `cmsctl context add|use|rm` rewrite this file (comments are "
              "not kept).\n",
              m);
        if (f->current)
                put_str(m, "current-context", f->current, "");
        fputs(f->n ? "contexts:\n" : "contexts: []\n", m);
        for (size_t i = 0; i < f->n; i++)
                for (int k = 0, first = 1; k < K_N; k++)
                        if (f->ctx[i].v[k]) {
                                put_str(m, ctl_ctx_keys[k], f->ctx[i].v[k],
                                        first ? "  - " : "    ");
                                first = 0;
                        }
}

/* mkdir -p dir, each directory made 0700. */
static int mkdirs(char *dir)
{
        for (char *s = dir + 1;; s++) {
                if (*s && *s != '/')
                        continue;
                char c = *s;
                *s = 0;
                int r = mkdir(dir, 0700);
                *s = c;
                if (r != 0 && errno != EEXIST)
                        return -1;
                if (!c)
                        return 0;
        }
}

/* Replaces the file: a temporary file in the same directory, mode 0600, synced, renamed over it
 * (a symlinked config file is replaced where it points). */
int cfg_write(const struct cfg *f)
{
        char target[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX + 32];
        if (!realpath(f->path, target))
                snprintf(target, sizeof(target), "%s", f->path);
        snprintf(dir, sizeof(dir), "%s", target);
        char *slash = strrchr(dir, '/');
        if (slash)
                *(slash == dir ? slash + 1 : slash) = 0;
        else
                snprintf(dir, sizeof(dir), ".");
        snprintf(tmp, sizeof(tmp), "%s/.cmsctl-config.XXXXXX", dir);
        int fd = -1, err = 0;
        FILE *out = NULL;
        if (mkdirs(dir) != 0 || (fd = mkostemp(tmp, O_CLOEXEC)) < 0 || fchmod(fd, 0600) != 0 ||
            !(out = fdopen(fd, "w")))
                err = errno;
        if (out) {
                cfg_render(f, out);
                if (fflush(out) != 0 || ferror(out) || fsync(fd) != 0)
                        err = errno ? errno : EIO;
                if (fclose(out) != 0 && !err)
                        err = errno;
                if (!err && rename(tmp, target) != 0)
                        err = errno;
        } else if (fd >= 0) {
                close(fd);
        }
        if (err) {
                if (fd >= 0)
                        unlink(tmp);
                fprintf(stderr, "cmsctl: cannot write %s: %s\n", target, strerror(err));
                return CTL_ERR;
        }
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) { /* the rename itself made durable */
                fsync(dfd);
                close(dfd);
        }
        return CTL_OK;
}

/* ---- using a context ---- */

static bool same_url(const char *a, const char *b)
{
        size_t na = strlen(a), nb = strlen(b);
        na -= na && a[na - 1] == '/';
        nb -= nb && b[nb - 1] == '/';
        return na == nb && !strncmp(a, b, na);
}

/* The first line of what fd holds when it is a token; NULL otherwise. */
char *cfg_read_token(int fd)
{
        char buf[TOKEN_MAX + 2];
        size_t n = 0;
        for (ssize_t k = 1; k && n < sizeof(buf) - 1;) {
                if ((k = read(fd, buf + n, sizeof(buf) - 1 - n)) < 0 && errno != EINTR)
                        return NULL;
                n += k > 0 ? (size_t)k : 0;
        }
        buf[n] = 0;
        buf[strcspn(buf, "\r\n")] = 0;
        return token_ok(buf) ? strdup(buf) : NULL;
}

static char *read_token_file(const struct ctx *x)
{
        int fd = open(x->v[K_TOKEN_FILE], O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd >= 0) /* open's errno is kept for the message when it failed */
                errno = 0;
        char *t = fd >= 0 ? cfg_read_token(fd) : NULL;
        if (!t)
                fprintf(stderr, "cmsctl: context '%s': token-file %s: %s\n", x->v[K_NAME],
                        x->v[K_TOKEN_FILE], errno ? strerror(errno) : "holds no token");
        if (fd >= 0)
                close(fd);
        return t;
}

int ctl_config_apply(struct ctl *c)
{
        static struct cfg *kept;
        if (c->url && c->token && c->cacert && c->cert && c->key)
                return CTL_OK; /* nothing to fill */
        struct cfg *f = malloc(sizeof(*f));
        if (!f) {
                fputs("cmsctl: out of memory\n", stderr);
                return CTL_ERR;
        }
        int r = cfg_load(f);
        const char *want = r == CTL_OK ? (c->context ? c->context : f->current) : NULL;
        struct ctx *x = want ? cfg_find(f, want) : NULL;
        if (want && !x && c->context)
                fprintf(stderr, "cmsctl: no context named '%s' in %s (cmsctl context ls)\n", want,
                        f->path);
        else if (want && !x)
                fprintf(stderr,
                        "cmsctl: %s:%d: current-context '%s' names no context (cmsctl context "
                        "use NAME)\n",
                        f->path, f->current_line, want);
        if (want && !x)
                r = CTL_USAGE;
        if (x && (!c->url || same_url(c->url, x->v[K_URL]))) {
                if (!c->url)
                        c->url = x->v[K_URL];
                c->cacert = c->cacert ? c->cacert : x->v[K_CACERT];
                c->cert = c->cert ? c->cert : x->v[K_CERT];
                c->key = c->key ? c->key : x->v[K_KEY];
                if (!c->token && x->v[K_TOKEN])
                        c->token = strdup(x->v[K_TOKEN]);
                else if (!c->token && x->v[K_TOKEN_FILE] && !(c->token = read_token_file(x)))
                        r = CTL_USAGE;
                f->kept = kept; /* c now points into f */
                kept = f;
                return r;
        }
        cfg_free(f);
        free(f);
        return r;
}

void ctl_config_names(const char *prefix, FILE *out)
{
        struct cfg f;
        if (cfg_load(&f) != CTL_OK)
                return;
        for (size_t i = 0; i < f.n; i++)
                if (!strncmp(f.ctx[i].v[K_NAME], prefix, strlen(prefix)))
                        fprintf(out, "%s\n", f.ctx[i].v[K_NAME]);
        cfg_free(&f);
}
