/* PEP 440 version order (PyPI): [N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local], read with the
 * PEP's normalization rules: case-insensitive, surrounding blanks and a leading 'v' dropped,
 * alpha/beta/c/pre/preview spell a/b/rc, rev/r and "-N" spell post, '-', '_' or '.' (or
 * nothing) may separate the parts, a missing number is 0, local segments split on -_. alike.
 * Order: epoch, release (trailing zeros ignored), then a dev release of the final version
 * (1.0.dev1) before its pre-releases, pre-releases before the final, post-releases after it,
 * each dev release before what it leads to; a local version after its public one, segments
 * numeric > alphanumeric. Pure. */
#include <string.h>

#include "daemon/scan/version.h"

#define PEP_MAX_RELEASE 32

struct span {
        const char *p;
        size_t n;
};

struct pep {
        struct span epoch, release[PEP_MAX_RELEASE];
        size_t nrel;
        int pre;           /* 0 none, 1 a, 2 b, 3 rc */
        struct span pre_n; /* empty: 0 */
        bool post, dev;
        struct span post_n, dev_n;
        const char *local; /* after '+', NULL when none */
        size_t localn;
};

static bool dig(char c)
{
        return c >= '0' && c <= '9';
}

static char low(char c)
{
        return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool alnum(char c)
{
        return dig(c) || (low(c) >= 'a' && low(c) <= 'z');
}

static bool sep(char c)
{
        return c == '-' || c == '_' || c == '.';
}

/* Case-insensitive match of word at s (not followed by a letter); its length or 0. */
static size_t word(const char *s, const char *end, const char *w)
{
        size_t n = strlen(w);
        if ((size_t)(end - s) < n)
                return 0;
        for (size_t i = 0; i < n; i++)
                if (low(s[i]) != w[i])
                        return 0;
        if (s + n < end && low(s[n]) >= 'a' && low(s[n]) <= 'z')
                return 0;
        return n;
}

static struct span digits(const char **s, const char *end)
{
        const char *p = *s;
        while (*s < end && dig(**s))
                (*s)++;
        return (struct span){p, (size_t)(*s - p)};
}

/* [sep] label [sep] [N], label one of words (each mapped to value); 0 when absent. */
static int labelled(const char **s, const char *end, const char *const *words, const int *vals,
                    struct span *num)
{
        const char *p = *s;
        if (p < end && sep(*p))
                p++;
        for (size_t i = 0; words[i]; i++) {
                size_t n = word(p, end, words[i]);
                if (!n)
                        continue;
                p += n;
                const char *q = p < end && sep(*p) && p + 1 < end && dig(p[1]) ? p + 1 : p;
                *num = digits(&q, end);
                *s = q;
                return vals[i];
        }
        return 0;
}

static bool parse_local(struct pep *v, const char *s, const char *end)
{
        v->local = s;
        v->localn = (size_t)(end - s);
        bool need = true; /* a segment must follow the start and each separator */
        for (; s < end; s++) {
                if (alnum(*s))
                        need = false;
                else if (sep(*s) && !need)
                        need = true;
                else
                        return false;
        }
        return !need;
}

static bool parse(const char *s, struct pep *v)
{
        static const char *const pre_w[] = {"alpha", "a",  "beta", "b", "preview",
                                            "pre",   "rc", "c",    NULL};
        static const int pre_v[] = {1, 1, 2, 2, 3, 3, 3, 3};
        static const char *const post_w[] = {"post", "rev", "r", NULL};
        static const char *const dev_w[] = {"dev", NULL};
        static const int one[] = {1, 1, 1};
        memset(v, 0, sizeof(*v));
        while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f' || *s == '\v')
                s++;
        const char *end = s + strlen(s);
        while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
                end--;
        if (s < end && low(*s) == 'v')
                s++;
        const char *q = s;
        struct span first = digits(&q, end);
        if (first.n && q < end && *q == '!') {
                v->epoch = first;
                s = q + 1;
        }
        do {
                if (v->nrel == PEP_MAX_RELEASE)
                        return false;
                v->release[v->nrel] = digits(&s, end);
                if (!v->release[v->nrel++].n)
                        return false;
        } while (s + 1 < end && *s == '.' && dig(s[1]) && s++);
        v->pre = labelled(&s, end, pre_w, pre_v, &v->pre_n);
        if (s + 1 < end && *s == '-' && dig(s[1])) {
                s++;
                v->post = true;
                v->post_n = digits(&s, end);
        } else {
                v->post = labelled(&s, end, post_w, one, &v->post_n);
        }
        v->dev = labelled(&s, end, dev_w, one, &v->dev_n);
        if (s < end && *s == '+')
                return parse_local(v, s + 1, end);
        return s == end;
}

static int num_cmp(struct span a, struct span b)
{
        while (a.n > 0 && *a.p == '0')
                a.p++, a.n--;
        while (b.n > 0 && *b.p == '0')
                b.p++, b.n--;
        if (a.n != b.n)
                return a.n < b.n ? -1 : 1;
        int c = a.n ? memcmp(a.p, b.p, a.n) : 0; /* an empty span may have no pointer */
        return c < 0 ? -1 : c > 0;
}

static int release_cmp(const struct pep *x, const struct pep *y)
{
        static const struct span zero = {"0", 1};
        size_t n = x->nrel > y->nrel ? x->nrel : y->nrel;
        for (size_t i = 0; i < n; i++) {
                int c =
                    num_cmp(i < x->nrel ? x->release[i] : zero, i < y->nrel ? y->release[i] : zero);
                if (c)
                        return c;
        }
        return 0;
}

/* The pre-release key: a dev-only release of a final version sorts before its pre-releases
 * (-1), a final or post release after them (4); else the letter's rank then its number. */
static int pre_cmp(const struct pep *x, const struct pep *y)
{
        int kx = x->pre ? x->pre : (x->dev && !x->post ? -1 : 4);
        int ky = y->pre ? y->pre : (y->dev && !y->post ? -1 : 4);
        if (kx != ky)
                return kx < ky ? -1 : 1;
        return x->pre ? num_cmp(x->pre_n, y->pre_n) : 0;
}

/* Local segments: numeric ones compare as numbers and sort after alphanumeric ones, which
 * compare case-insensitively; more segments win when all before are equal. */
static int local_cmp(const struct pep *x, const struct pep *y)
{
        if (!x->local || !y->local)
                return x->local == y->local ? 0 : x->local ? 1 : -1;
        size_t i = 0, j = 0;
        while (i < x->localn && j < y->localn) {
                size_t ei = i, ej = j;
                while (ei < x->localn && !sep(x->local[ei]))
                        ei++;
                while (ej < y->localn && !sep(y->local[ej]))
                        ej++;
                struct span a = {x->local + i, ei - i}, b = {y->local + j, ej - j};
                bool na = true, nb = true;
                for (size_t k = 0; k < a.n; k++)
                        na = na && dig(a.p[k]);
                for (size_t k = 0; k < b.n; k++)
                        nb = nb && dig(b.p[k]);
                int c = 0;
                if (na != nb)
                        return na ? 1 : -1;
                if (na) {
                        c = num_cmp(a, b);
                } else {
                        for (size_t k = 0; !c && k < a.n && k < b.n; k++)
                                c = low(a.p[k]) < low(b.p[k]) ? -1 : low(a.p[k]) > low(b.p[k]);
                        if (!c && a.n != b.n)
                                c = a.n < b.n ? -1 : 1;
                }
                if (c)
                        return c;
                i = ei + 1;
                j = ej + 1;
        }
        bool xm = i < x->localn, ym = j < y->localn;
        return xm == ym ? 0 : xm ? 1 : -1;
}

static int pep_cmp(const struct pep *x, const struct pep *y)
{
        int c = num_cmp(x->epoch, y->epoch);
        if (!c)
                c = release_cmp(x, y);
        if (!c)
                c = pre_cmp(x, y);
        if (!c && x->post != y->post)
                c = x->post ? 1 : -1;
        if (!c && x->post)
                c = num_cmp(x->post_n, y->post_n);
        if (!c && x->dev != y->dev)
                c = x->dev ? -1 : 1;
        if (!c && x->dev)
                c = num_cmp(x->dev_n, y->dev_n);
        return c ? c : local_cmp(x, y);
}

bool cms_ver_valid_pep440(const char *v)
{
        struct pep p;
        return parse(v, &p);
}

int cms_ver_cmp_pep440(const char *a, const char *b)
{
        struct pep x, y;
        bool vx = parse(a, &x), vy = parse(b, &y);
        if (!vx || !vy)
                return cms_ver_cmp_invalid(vx, vy, a, b);
        return pep_cmp(&x, &y);
}
