/* Debian version order (Debian Policy 5.6.12, as dpkg implements it): [epoch:]upstream[-revision].
 * Epochs compare as integers; upstream and revision each compare as alternating runs of
 * non-digits (byte by byte: '~' lowest, then the end of the run, then letters, then everything
 * else) and digits (numerically, any length). Pure; tested against dpkg itself. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/scan/version.h"

struct span {
        const char *p;
        size_t n;
};

struct debver {
        long epoch;
        struct span upstream, revision;
};

static bool is_digit(unsigned char c)
{
        return c >= '0' && c <= '9';
}

static bool is_alpha(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_blank(unsigned char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* The weight of a byte inside a non-digit run; 0 stands for "the run ended here". */
static int weight(const struct span *s, size_t i)
{
        if (i >= s->n || is_digit((unsigned char)s->p[i]))
                return 0;
        unsigned char c = (unsigned char)s->p[i];
        if (c == '~')
                return -1;
        if (is_alpha(c))
                return c;
        return c + 256;
}

static int digits_cmp(const struct span *a, size_t *i, const struct span *b, size_t *j)
{
        while (*i < a->n && a->p[*i] == '0')
                (*i)++;
        while (*j < b->n && b->p[*j] == '0')
                (*j)++;
        size_t si = *i, sj = *j;
        while (*i < a->n && is_digit((unsigned char)a->p[*i]))
                (*i)++;
        while (*j < b->n && is_digit((unsigned char)b->p[*j]))
                (*j)++;
        size_t la = *i - si, lb = *j - sj;
        if (la != lb)
                return la < lb ? -1 : 1;
        int c = memcmp(a->p + si, b->p + sj, la);
        return c < 0 ? -1 : c > 0;
}

static int span_cmp(const struct span *a, const struct span *b)
{
        size_t i = 0, j = 0;
        while (i < a->n || j < b->n) {
                for (;;) {
                        int wa = weight(a, i), wb = weight(b, j);
                        if (wa != wb)
                                return wa < wb ? -1 : 1;
                        if (wa == 0)
                                break; /* both runs ended together */
                        i++;
                        j++;
                }
                int c = digits_cmp(a, &i, b, &j);
                if (c)
                        return c;
        }
        return 0;
}

/* Splits v as dpkg does; returns the reason dpkg refuses it, or NULL. */
static const char *deb_parse(const char *v, struct debver *out)
{
        while (is_blank((unsigned char)*v))
                v++;
        size_t n = strlen(v);
        while (n > 0 && is_blank((unsigned char)v[n - 1]))
                n--;
        if (n == 0)
                return "version string is empty";
        for (size_t k = 0; k < n; k++)
                if (is_blank((unsigned char)v[k]))
                        return "version string has embedded spaces";
        const char *end = v + n;
        const char *colon = memchr(v, ':', n);
        out->epoch = 0;
        if (colon) {
                char *eend;
                errno = 0;
                long e = strtol(v, &eend, 10); /* dpkg's own reading: sign allowed */
                if (eend == v)
                        return "epoch in version is empty";
                if (eend != colon)
                        return "epoch in version is not number";
                if (e < 0)
                        return "epoch in version is negative";
                if (e > INT_MAX || errno == ERANGE)
                        return "epoch in version is too big";
                if (colon + 1 == end)
                        return "nothing after colon in version number";
                out->epoch = e;
                v = colon + 1;
        }
        const char *hyphen = NULL;
        for (const char *p = v; p < end; p++)
                if (*p == '-')
                        hyphen = p;
        out->upstream = (struct span){v, (size_t)((hyphen ? hyphen : end) - v)};
        out->revision.p = hyphen ? hyphen + 1 : end;
        out->revision.n = hyphen ? (size_t)(end - hyphen - 1) : 0;
        if (hyphen && out->revision.n == 0)
                return "revision number is empty";
        if (out->upstream.n == 0)
                return "version number is empty";
        return NULL;
}

const char *cms_ver_check_deb(const char *v)
{
        struct debver d;
        return deb_parse(v, &d);
}

/* A version dpkg refuses still orders deterministically: as one upstream part. */
static void deb_split(const char *v, struct debver *d)
{
        if (deb_parse(v, d)) {
                d->epoch = 0;
                d->upstream = (struct span){v, strlen(v)};
                d->revision = (struct span){v, 0};
        }
}

int cms_ver_cmp_deb(const char *a, const char *b)
{
        /* As dpkg --compare-versions: "" is no version, before every version. */
        if (!*a || !*b)
                return !*a && !*b ? 0 : *a ? 1 : -1;
        struct debver x, y;
        deb_split(a, &x);
        deb_split(b, &y);
        if (x.epoch != y.epoch)
                return x.epoch < y.epoch ? -1 : 1;
        int c = span_cmp(&x.upstream, &y.upstream);
        return c ? c : span_cmp(&x.revision, &y.revision);
}
