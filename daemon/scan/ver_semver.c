/* SemVer 2.0 precedence (semver.org section 11), the order npm ranges use. Accepted forms are
 * npm's semver.parse without `loose`: surrounding blanks and one leading 'v' are allowed,
 * MAJOR.MINOR.PATCH without leading zeros and at most 2^53-1 each, a pre-release after '-'
 * (numeric identifiers without leading zeros, alphanumerics of [0-9A-Za-z-]) and build metadata
 * after '+' (ignored for order); 256 characters at most. Pure. */
#include <stdint.h>
#include <string.h>

#include "daemon/scan/version.h"

#define SEMVER_MAX_LEN  256
#define SEMVER_MAX_PART 9007199254740991ull /* Number.MAX_SAFE_INTEGER */

struct semver {
        uint64_t part[3];
        const char *pre; /* NULL when there is none */
        size_t pren;
};

static bool dig(char c)
{
        return c >= '0' && c <= '9';
}

static bool ident_char(char c)
{
        return dig(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

static bool all_digits(const char *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!dig(p[i]))
                        return false;
        return true;
}

/* Dot-separated identifiers in p[0..n); numeric ones without leading zeros when strict. */
static bool idents_ok(const char *p, size_t n, bool strict)
{
        size_t start = 0;
        for (size_t i = 0; i <= n; i++) {
                if (i < n && p[i] != '.') {
                        if (!ident_char(p[i]))
                                return false;
                        continue;
                }
                size_t len = i - start;
                if (len == 0)
                        return false;
                if (strict && len > 1 && p[start] == '0' && all_digits(p + start, len))
                        return false;
                start = i + 1;
        }
        return true;
}

static bool parse(const char *s, struct semver *v)
{
        while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
                s++;
        size_t n = strlen(s);
        while (n > 0 &&
               (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
                n--;
        if (n > SEMVER_MAX_LEN)
                return false;
        const char *end = s + n;
        if (s < end && *s == 'v')
                s++;
        for (int k = 0; k < 3; k++) {
                if (s >= end || !dig(*s) || (*s == '0' && s + 1 < end && dig(s[1])))
                        return false;
                uint64_t x = 0;
                for (; s < end && dig(*s); s++) {
                        x = x * 10 + (uint64_t)(*s - '0');
                        if (x > SEMVER_MAX_PART)
                                return false;
                }
                v->part[k] = x;
                if (k < 2 && (s >= end || *s++ != '.'))
                        return false;
        }
        v->pre = NULL;
        v->pren = 0;
        const char *plus = memchr(s, '+', (size_t)(end - s));
        const char *pend = plus ? plus : end;
        if (s < pend) {
                if (*s != '-' || !idents_ok(s + 1, (size_t)(pend - s - 1), true))
                        return false;
                v->pre = s + 1;
                v->pren = (size_t)(pend - s - 1);
        }
        return !plus || idents_ok(plus + 1, (size_t)(end - plus - 1), false);
}

static int ident_cmp(const char *a, size_t an, const char *b, size_t bn)
{
        bool na = all_digits(a, an), nb = all_digits(b, bn);
        if (na != nb)
                return na ? -1 : 1; /* numeric identifiers sort before alphanumeric ones */
        if (na && an != bn)
                return an < bn ? -1 : 1; /* no leading zeros: longer is larger */
        int c = memcmp(a, b, an < bn ? an : bn);
        if (c)
                return c < 0 ? -1 : 1;
        return an == bn ? 0 : an < bn ? -1 : 1;
}

static int pre_cmp(const struct semver *x, const struct semver *y)
{
        if (!x->pre || !y->pre)
                return x->pre == y->pre ? 0 : x->pre ? -1 : 1;
        size_t i = 0, j = 0;
        while (i < x->pren && j < y->pren) {
                size_t ei = i, ej = j;
                while (ei < x->pren && x->pre[ei] != '.')
                        ei++;
                while (ej < y->pren && y->pre[ej] != '.')
                        ej++;
                int c = ident_cmp(x->pre + i, ei - i, y->pre + j, ej - j);
                if (c)
                        return c;
                i = ei + 1;
                j = ej + 1;
        }
        /* A larger set of identifiers wins when all before are equal. */
        bool xm = i < x->pren, ym = j < y->pren;
        return xm == ym ? 0 : xm ? 1 : -1;
}

bool cms_ver_valid_semver(const char *v)
{
        struct semver s;
        return parse(v, &s);
}

int cms_ver_cmp_semver(const char *a, const char *b)
{
        struct semver x, y;
        bool vx = parse(a, &x), vy = parse(b, &y);
        if (!vx || !vy)
                return cms_ver_cmp_invalid(vx, vy, a, b);
        for (int k = 0; k < 3; k++)
                if (x.part[k] != y.part[k])
                        return x.part[k] < y.part[k] ? -1 : 1;
        return pre_cmp(&x, &y);
}
