/* .dockerignore for build contexts, as Docker's dockerignore.ReadAll and patternmatcher read and
 * apply it. Each pattern compiles to a small automaton run over a path, one code point at a time,
 * so that matching costs no allocation and no backtracking whatever the pattern. */
#include <ctype.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dockerignore.h"

#define MAX_IGNORE_BYTES (1024 * 1024)
#define MAX_PATTERNS     10000
#define MAX_PATTERN_LEN  4096
#define NONE             SIZE_MAX

/* As in Docker's regexps: TOK_STAR is "[^/]*", TOK_DSTAR_ALL ".*", TOK_DSTAR_DIR an optional
 * ".*" that ends with a '/' (a "**" followed by more pattern). */
enum tok_kind { TOK_LIT, TOK_ANY, TOK_CLASS, TOK_STAR, TOK_DSTAR_DIR, TOK_DSTAR_ALL };

struct range {
        uint32_t lo, hi;
};

struct token {
        enum tok_kind kind;
        bool negate;
        uint32_t c;
        size_t nranges;
        struct range *ranges;
};

struct pattern {
        bool exclusion; /* a "!" line: re-includes what it matches */
        size_t ntok;
        struct token *tok;
};

struct cms_dockerignore {
        struct pattern *pat;
        size_t n, cap;
        /* automaton states (entry, and inside "**" for each token), sized for the longest */
        uint8_t *cur, *nxt;
        size_t states;
};

/* The next code point of s; a byte that starts no valid sequence stands for itself, mapped past
 * Unicode so that it only ever matches itself. */
static uint32_t next_rune(const char **s)
{
        const unsigned char *p = (const unsigned char *)*s;
        size_t n = p[0] < 0x80             ? 0
                   : (p[0] & 0xe0) == 0xc0 ? 1
                   : (p[0] & 0xf0) == 0xe0 ? 2
                   : (p[0] & 0xf8) == 0xf0 ? 3
                                           : 4;
        uint32_t r = n == 4 ? 0 : p[0] & (n ? 0x7fu >> (n + 1) : 0x7fu);
        size_t i = 1;
        for (; n < 4 && i <= n && (p[i] & 0xc0) == 0x80; i++)
                r = r << 6 | (p[i] & 0x3f);
        if (n == 4 || i <= n) {
                (*s)++;
                return 0x110000u + p[0];
        }
        *s += n + 1;
        return r;
}

/* Exported because tar_dir puts the Dockerfile's path in the patterns' form with it; it is
 * general enough for util.c. */
char *cms_path_clean(const char *p)
{
        size_t n = strlen(p), w = 0, r = 0, dotdot = 0;
        bool rooted = p[0] == '/';
        char *out = malloc(n + 2);
        if (!out)
                return NULL;
        if (rooted)
                out[w++] = '/', r = dotdot = 1;
        while (r < n) {
                if (p[r] == '/' || (p[r] == '.' && (r + 1 == n || p[r + 1] == '/'))) {
                        r++;
                } else if (p[r] == '.' && p[r + 1] == '.' && (r + 2 == n || p[r + 2] == '/')) {
                        r += 2;
                        if (w > dotdot) {
                                w--;
                                while (w > dotdot && out[w] != '/')
                                        w--;
                        } else if (!rooted) {
                                if (w > 0)
                                        out[w++] = '/';
                                out[w++] = '.';
                                out[w++] = '.';
                                dotdot = w;
                        }
                } else {
                        if (w != (rooted ? 1u : 0u))
                                out[w++] = '/';
                        for (; r < n && p[r] != '/'; r++)
                                out[w++] = p[r];
                }
        }
        if (w == 0)
                out[w++] = '.';
        out[w] = 0;
        return out;
}

/* A member of a Go filepath.Match class: a character, or a \-escaped one. */
static bool class_char(const char **c, uint32_t *out)
{
        if (!**c || **c == '-' || **c == ']')
                return false;
        if (**c == '\\' && !*++*c)
                return false;
        *out = next_rune(c);
        return true;
}

/* The class after a '[': Go's syntax ("^" negates, ranges lo-hi, ']' closes a non-empty one). */
static int class_parse(struct token *t, const char **c)
{
        t->kind = TOK_CLASS;
        t->ranges = calloc(strlen(*c) + 1, sizeof(*t->ranges));
        if (!t->ranges)
                return -ENOMEM;
        if (**c == '^')
                t->negate = true, (*c)++;
        for (;;) {
                struct range r;
                if (**c == ']' && t->nranges > 0) {
                        (*c)++;
                        return 0;
                }
                if (!class_char(c, &r.lo))
                        return -EINVAL;
                r.hi = r.lo;
                if (**c == '-') {
                        (*c)++;
                        if (!class_char(c, &r.hi))
                                return -EINVAL;
                }
                t->ranges[t->nranges++] = r;
        }
}

static int pattern_compile(struct pattern *p, const char *s, struct cms_error *err)
{
        p->tok = calloc(strlen(s) + 1, sizeof(*p->tok));
        if (!p->tok)
                return cms_err(err, 500, "out of memory");
        for (const char *c = s; *c;) {
                struct token *t = &p->tok[p->ntok++];
                uint32_t r = next_rune(&c);
                int e = 0;
                if (r == '*' && *c == '*') {
                        c += 1 + (c[1] == '/'); /* "**" eats the '/' after it */
                        t->kind = *c ? TOK_DSTAR_DIR : TOK_DSTAR_ALL;
                } else if (r == '*' || r == '?') {
                        t->kind = r == '*' ? TOK_STAR : TOK_ANY;
                } else if (r == '[') {
                        e = class_parse(t, &c);
                } else if (r == '\\') {
                        e = *c ? 0 : -EINVAL;
                        t->kind = TOK_LIT;
                        t->c = *c ? next_rune(&c) : 0;
                } else {
                        t->kind = TOK_LIT;
                        t->c = r;
                }
                if (e == -ENOMEM)
                        return cms_err(err, 500, "out of memory");
                if (e < 0)
                        return cms_err(err, 400, ".dockerignore: syntax error in pattern '%.200s'",
                                       s);
        }
        return 0;
}

/* Adds the states reachable without input; one forward pass, as every such move goes forward. */
static void closure(const struct pattern *p, uint8_t *st)
{
        for (size_t k = 0; k < p->ntok; k++) {
                enum tok_kind kd = p->tok[k].kind;
                if (!st[2 * k])
                        continue;
                if (kd == TOK_DSTAR_DIR)
                        st[2 * k + 1] = 1;
                if (kd == TOK_STAR || kd == TOK_DSTAR_DIR || kd == TOK_DSTAR_ALL)
                        st[2 * (k + 1)] = 1;
        }
}

static bool class_match(const struct token *t, uint32_t c)
{
        bool in = false;
        for (size_t i = 0; i < t->nranges && !in; i++)
                in = c >= t->ranges[i].lo && c <= t->ranges[i].hi;
        return in != t->negate;
}

static void step(const struct pattern *p, const uint8_t *cur, uint8_t *nxt, uint32_t c)
{
        memset(nxt, 0, 2 * (p->ntok + 1));
        for (size_t k = 0; k < p->ntok; k++) {
                const struct token *t = &p->tok[k];
                bool adv = false;
                if (cur[2 * k + 1]) { /* inside a TOK_DSTAR_DIR: anything; a '/' may end it */
                        nxt[2 * k + 1] = 1;
                        if (c == '/')
                                nxt[2 * (k + 1)] = 1;
                }
                if (!cur[2 * k])
                        continue;
                if (t->kind == TOK_LIT)
                        adv = c == t->c;
                else if (t->kind == TOK_ANY)
                        adv = c != '/';
                else if (t->kind == TOK_CLASS)
                        adv = class_match(t, c);
                else if (t->kind == TOK_DSTAR_ALL || (t->kind == TOK_STAR && c != '/'))
                        nxt[2 * k] = 1;
                if (adv)
                        nxt[2 * (k + 1)] = 1;
        }
        closure(p, nxt);
}

/* Runs pattern i over s: whether s matches it whole or, with prefix, whether a longer path
 * starting with s could still match. */
static bool pattern_run(struct cms_dockerignore *ig, size_t i, const char *s, bool prefix)
{
        const struct pattern *p = &ig->pat[i];
        size_t n = 2 * (p->ntok + 1);
        uint8_t *cur = ig->cur, *nxt = ig->nxt;
        memset(cur, 0, n);
        cur[0] = 1;
        closure(p, cur);
        while (*s) {
                uint8_t *tmp = cur;
                step(p, cur, nxt, next_rune(&s));
                cur = nxt;
                nxt = tmp;
                if (!memchr(cur, 1, n))
                        return false;
        }
        return prefix ? memchr(cur, 1, n - 2) != NULL : cur[2 * p->ntok] != 0;
}

static void trim(char **s)
{
        char *b = *s, *e = b + strlen(b);
        while (*b && isspace((unsigned char)*b))
                b++;
        while (e > b && isspace((unsigned char)e[-1]))
                e--;
        *e = 0;
        *s = b;
}

/* One .dockerignore line, read as Docker's dockerignore.ReadAll and patternmatcher.New do. */
static int ignore_line(struct cms_dockerignore *ig, char *line, struct cms_error *err)
{
        if (line[0] == '#')
                return 0;
        trim(&line);
        if (!*line)
                return 0;
        bool excl = line[0] == '!';
        if (excl) {
                line++;
                trim(&line);
                if (!*line)
                        return cms_err(err, 400, ".dockerignore: illegal exclusion pattern: \"!\"");
        }
        if (strlen(line) > MAX_PATTERN_LEN)
                return cms_err(err, 400, ".dockerignore: a pattern is longer than %d bytes",
                               MAX_PATTERN_LEN);
        if (ig->n == MAX_PATTERNS)
                return cms_err(err, 400, ".dockerignore: more than %d patterns", MAX_PATTERNS);
        if (ig->n == ig->cap) {
                size_t cap = ig->cap ? ig->cap * 2 : 16;
                struct pattern *np = realloc(ig->pat, cap * sizeof(*np));
                if (!np)
                        return cms_err(err, 500, "out of memory");
                ig->pat = np;
                ig->cap = cap;
        }
        _cleanup_free_ char *clean = cms_path_clean(line);
        if (!clean)
                return cms_err(err, 500, "out of memory");
        struct pattern *p = &ig->pat[ig->n++];
        *p = (struct pattern){.exclusion = excl};
        int r = pattern_compile(p, clean[0] == '/' && clean[1] ? clean + 1 : clean, err);
        if (2 * (p->ntok + 1) > ig->states)
                ig->states = 2 * (p->ntok + 1);
        return r;
}

static int ignore_parse(struct cms_dockerignore *ig, char *s, char *end, struct cms_error *err)
{
        int r = 0;
        if (end - s >= 3 && !memcmp(s, "\xef\xbb\xbf", 3))
                s += 3;
        while (r == 0 && s < end) {
                char *nl = memchr(s, '\n', (size_t)(end - s));
                if (!nl)
                        nl = end;
                *nl = 0;
                r = ignore_line(ig, s, err);
                s = nl + 1;
        }
        if (r == 0) {
                ig->cur = calloc(ig->states + 2, 1);
                ig->nxt = calloc(ig->states + 2, 1);
                if (!ig->cur || !ig->nxt)
                        r = cms_err(err, 500, "out of memory");
        }
        return r;
}

static int ignore_read(struct cms_dockerignore *ig, int root, struct cms_error *err)
{
        _cleanup_buf_ struct cms_buf b;
        struct stat st;
        char chunk[4096];
        ssize_t n;
        int r = 0, fd = openat(root, ".dockerignore", O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        cms_buf_init(&b, MAX_IGNORE_BYTES);
        if (fd < 0 && errno == ENOENT)
                return ignore_parse(ig, chunk, chunk, err);
        if (fd < 0)
                return cms_err(err, 400, ".dockerignore: %s", strerror(errno));
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return cms_err(err, 400, ".dockerignore: not a regular file");
        }
        while (r == 0 && (n = read(fd, chunk, sizeof(chunk))) != 0) {
                if (n < 0 && errno != EINTR)
                        r = cms_err(err, 400, ".dockerignore: %s", strerror(errno));
                else if (n > 0 && (r = cms_buf_append(&b, chunk, (size_t)n)) < 0)
                        r = cms_err(err, r == -E2BIG ? 400 : 500, ".dockerignore: %s",
                                    r == -E2BIG ? "larger than 1 MiB" : "out of memory");
        }
        close(fd);
        return r < 0 ? r
                     : ignore_parse(ig, b.data ? b.data : chunk, b.data ? b.data + b.len : chunk,
                                    err);
}

int cms_dockerignore_load(int dirfd, struct cms_dockerignore **out, struct cms_error *err)
{
        struct cms_dockerignore *ig = calloc(1, sizeof(*ig));
        *out = NULL;
        if (!ig)
                return cms_err(err, 500, "out of memory");
        int r = ignore_read(ig, dirfd, err);
        if (r < 0) {
                cms_dockerignore_free(ig);
                return r;
        }
        *out = ig;
        return 0;
}

void cms_dockerignore_free(struct cms_dockerignore *ig)
{
        if (!ig)
                return;
        for (size_t i = 0; i < ig->n; i++) {
                for (size_t k = 0; k < ig->pat[i].ntok; k++)
                        free(ig->pat[i].tok[k].ranges);
                free(ig->pat[i].tok);
        }
        free(ig->pat);
        free(ig->cur);
        free(ig->nxt);
        free(ig);
}

size_t cms_dockerignore_count(const struct cms_dockerignore *ig)
{
        return ig->n;
}

bool cms_dockerignore_match(struct cms_dockerignore *ig, const char *path, const bool *parents,
                            bool *self, size_t *last)
{
        *last = NONE;
        if (self) {
                for (size_t i = 0; i < ig->n; i++)
                        if ((self[i] = parents[i] || pattern_run(ig, i, path, false)))
                                *last = i;
        } else { /* only the last match counts: look from the end */
                for (size_t i = ig->n; i-- > 0 && *last == NONE;)
                        if (parents[i] || pattern_run(ig, i, path, false))
                                *last = i;
        }
        return *last != NONE && !ig->pat[*last].exclusion;
}

bool cms_dockerignore_may_reinclude(struct cms_dockerignore *ig, const char *dirslash, size_t last)
{
        for (size_t i = last + 1; i < ig->n; i++)
                if (ig->pat[i].exclusion && pattern_run(ig, i, dirslash, true))
                        return true;
        return false;
}
