/* Alpine apk version order, from apk-tools' documented format (apk-package(5): Gentoo-style
 * digit{.digit}...{letter}{_suffix{digit}}...{~hash}{-r#}) and its test vectors
 * (apk-tools test/version.data). Tokens compare in order; where two versions continue with
 * different kinds of token, the one whose continuation is more significant (a further .number,
 * then a letter, a suffix, a hash, a revision) is the newer, except that a pre-release suffix
 * (_alpha _beta _pre _rc) makes its side older. A .number with a leading zero compares as a
 * fraction (Gentoo PMS 3.3: trailing zeros dropped, then as strings). Pure. */
#include <string.h>

#include "daemon/scan/version.h"

enum {
        T_INVALID = -1,
        T_DOT, /* also the first number */
        T_LETTER,
        T_SUFFIX,
        T_HASH,
        T_REV,
        T_END,
};

struct tok {
        int type;
        const char *p; /* digits, letter, suffix number, hash or the invalid rest */
        size_t n;
        int suffix; /* T_SUFFIX: -4.._alpha.._rc -1, 0 _cvs .. 4 _p */
        bool zero;  /* T_DOT after a '.', starting with '0' */
};

static const char *const suffixes[] = {"alpha", "beta", "pre", "rc", "cvs",
                                       "svn",   "git",  "hg",  "p"};

static bool dig(char c)
{
        return c >= '0' && c <= '9';
}

static size_t span(const char *s, bool (*ok)(char))
{
        size_t n = 0;
        while (s[n] && ok(s[n]))
                n++;
        return n;
}

static bool hexdig(char c)
{
        return dig(c) || (c >= 'a' && c <= 'f');
}

static int suffix_of(const char *s, size_t *len)
{
        int best = -1;
        size_t bl = 0;
        for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
                size_t l = strlen(suffixes[i]);
                if (strncmp(s, suffixes[i], l) == 0 && l > bl && !(s[l] >= 'a' && s[l] <= 'z'))
                        best = (int)i, bl = l;
        }
        *len = bl;
        return best < 0 ? -100 : best - 4;
}

/* Reads the token at *s given the previous token's type (-2 at the start). */
static void next(const char **s, int prev, struct tok *t)
{
        const char *c = *s;
        *t = (struct tok){.type = T_INVALID, .p = c, .n = strlen(c)};
        if (!*c) {
                t->type = prev == -2 ? T_INVALID : T_END;
                return;
        }
        size_t sl;
        int suf;
        if (prev == -2 && dig(*c)) {
                *t = (struct tok){.type = T_DOT, .p = c, .n = span(c, dig)};
        } else if (prev == T_DOT && *c == '.' && dig(c[1])) {
                *t = (struct tok){
                    .type = T_DOT, .p = c + 1, .n = span(c + 1, dig), .zero = c[1] == '0'};
                c++;
        } else if (prev == T_DOT && *c >= 'a' && *c <= 'z') {
                *t = (struct tok){.type = T_LETTER, .p = c, .n = 1};
        } else if (prev >= T_DOT && prev <= T_SUFFIX && *c == '_' &&
                   (suf = suffix_of(c + 1, &sl)) > -100) {
                c += 1 + sl;
                *t = (struct tok){.type = T_SUFFIX, .p = c, .n = span(c, dig), .suffix = suf};
        } else if (prev >= T_DOT && prev <= T_SUFFIX && *c == '~' && hexdig(c[1])) {
                *t = (struct tok){.type = T_HASH, .p = c + 1, .n = span(c + 1, hexdig)};
                c++;
        } else if (prev >= T_DOT && prev <= T_HASH && c[0] == '-' && c[1] == 'r' && dig(c[2])) {
                *t = (struct tok){.type = T_REV, .p = c + 2, .n = span(c + 2, dig)};
                c += 2;
        } else {
                return;
        }
        *s = c + t->n;
}

static int num_cmp(const char *a, size_t an, const char *b, size_t bn)
{
        while (an > 0 && *a == '0')
                a++, an--;
        while (bn > 0 && *b == '0')
                b++, bn--;
        if (an != bn)
                return an < bn ? -1 : 1;
        int c = memcmp(a, b, an);
        return c < 0 ? -1 : c > 0;
}

static int str_cmp(const char *a, size_t an, const char *b, size_t bn)
{
        int c = memcmp(a, b, an < bn ? an : bn);
        if (c)
                return c < 0 ? -1 : 1;
        return an == bn ? 0 : an < bn ? -1 : 1;
}

static int value_cmp(const struct tok *a, const struct tok *b)
{
        switch (a->type) {
        case T_DOT:
                if (a->zero || b->zero) {
                        size_t an = a->n, bn = b->n;
                        while (an > 0 && a->p[an - 1] == '0')
                                an--;
                        while (bn > 0 && b->p[bn - 1] == '0')
                                bn--;
                        return str_cmp(a->p, an, b->p, bn);
                }
                return num_cmp(a->p, a->n, b->p, b->n);
        case T_SUFFIX:
                if (a->suffix != b->suffix)
                        return a->suffix < b->suffix ? -1 : 1;
                return num_cmp(a->p, a->n, b->p, b->n);
        case T_REV:
                return num_cmp(a->p, a->n, b->p, b->n);
        case T_LETTER:
        case T_HASH:
        case T_INVALID:
                return str_cmp(a->p, a->n, b->p, b->n);
        }
        return 0;
}

int cms_ver_cmp_apk(const char *a, const char *b)
{
        struct tok ta, tb;
        int pa = -2, pb = -2;
        for (;;) {
                next(&a, pa, &ta);
                next(&b, pb, &tb);
                if (ta.type != tb.type)
                        break;
                if (ta.type == T_END)
                        return 0;
                int c = value_cmp(&ta, &tb);
                if (c || ta.type == T_INVALID)
                        return c;
                pa = ta.type, pb = tb.type;
        }
        /* Different continuations: a pre-release suffix is older than anything else... */
        if (ta.type == T_SUFFIX && ta.suffix < 0)
                return -1;
        if (tb.type == T_SUFFIX && tb.suffix < 0)
                return 1;
        /* ...otherwise the more significant continuation is newer (an invalid one first). */
        return ta.type < tb.type ? 1 : -1;
}

bool cms_ver_valid_apk(const char *v)
{
        struct tok t;
        int prev = -2;
        do {
                next(&v, prev, &t);
                prev = t.type;
        } while (t.type != T_END && t.type != T_INVALID);
        return t.type == T_END;
}
