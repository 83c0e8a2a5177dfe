/* RubyGems' version order (Gem::Version, as rubygems documents it): a version is digits, then
 * dot-separated runs of letters and digits, optionally "-" and a pre-release ("1.0-rc1" is
 * "1.0.pre.rc1"). It is read as segments, each a number or a run of letters ("1.0.a10" is 1, 0,
 * "a", 10); any letters make it a pre-release, which sorts before the release. Trailing zero
 * segments do not count, in the release part and in the pre-release part ("1.0" == "1" and
 * "1.0.a" == "1.a"). Segments compare pairwise (a missing one is 0): numbers numerically,
 * letters by bytes, letters below numbers. Pure: no allocation. */
#include <ctype.h>

#include "version.h"

#define MAX_SEGS 64

struct seg {
        const char *p;
        unsigned short len;
        bool str;
};

bool cms_ver_valid_gem(const char *v)
{
        const char *p = v;
        while (*p == ' ' || *p == '\t')
                p++;
        if (!isdigit((unsigned char)*p))
                return false;
        while (isalnum((unsigned char)*p) || (*p == '.' && isalnum((unsigned char)p[1])))
                p++;
        if (*p == '-') { /* the pre-release: [0-9A-Za-z-]+ (\.[0-9A-Za-z-]+)* */
                p++;
                if (!isalnum((unsigned char)*p) && *p != '-')
                        return false;
                while (isalnum((unsigned char)*p) || *p == '-' ||
                       (*p == '.' && (isalnum((unsigned char)p[1]) || p[1] == '-')))
                        p++;
        }
        while (*p == ' ' || *p == '\t')
                p++;
        return *p == 0;
}

static bool is_zero(const struct seg *s)
{
        if (s->str)
                return false;
        for (unsigned i = 0; i < s->len; i++)
                if (s->p[i] != '0')
                        return false;
        return true;
}

/* The canonical segments of v into s (at most MAX_SEGS); returns their count. A "-" is a
 * pre-release mark: it adds the segment "pre" as "1.0.pre.rc1" would. */
static size_t segments(const char *v, struct seg *s)
{
        static const char pre[] = "pre";
        size_t n = 0, first_str = (size_t)-1;
        for (const char *p = v; *p && n < MAX_SEGS;) {
                if (*p == '-') {
                        s[n++] = (struct seg){.p = pre, .len = 3, .str = true};
                        p++;
                } else if (isdigit((unsigned char)*p) || isalpha((unsigned char)*p)) {
                        bool digit = isdigit((unsigned char)*p);
                        const char *q = p;
                        while (*q &&
                               (digit ? isdigit((unsigned char)*q) : isalpha((unsigned char)*q)))
                                q++;
                        s[n++] =
                            (struct seg){.p = p, .len = (unsigned short)(q - p), .str = !digit};
                        p = q;
                } else {
                        p++;
                }
                if (n && s[n - 1].str && first_str == (size_t)-1)
                        first_str = n - 1;
        }
        /* Trailing zeros go from the release part and from the pre-release part. */
        size_t rel = first_str == (size_t)-1 ? n : first_str, keep = rel;
        while (keep > 0 && is_zero(&s[keep - 1]))
                keep--;
        size_t end = n;
        while (end > rel && is_zero(&s[end - 1]))
                end--;
        for (size_t i = rel; i < end; i++)
                s[keep++] = s[i];
        return keep;
}

static int num_cmp(const struct seg *a, const struct seg *b)
{
        const char *x = a->p, *y = b->p;
        size_t lx = a->len, ly = b->len;
        while (lx > 1 && *x == '0')
                x++, lx--;
        while (ly > 1 && *y == '0')
                y++, ly--;
        if (lx != ly)
                return lx < ly ? -1 : 1;
        int c = strncmp(x, y, lx);
        return c < 0 ? -1 : c > 0;
}

static int seg_cmp(const struct seg *a, const struct seg *b)
{
        if (a->str != b->str)
                return a->str ? -1 : 1;
        if (!a->str)
                return num_cmp(a, b);
        size_t n = a->len < b->len ? a->len : b->len;
        int c = strncmp(a->p, b->p, n);
        if (c)
                return c < 0 ? -1 : 1;
        return a->len == b->len ? 0 : a->len < b->len ? -1 : 1;
}

int cms_ver_cmp_gem(const char *a, const char *b)
{
        bool va = cms_ver_valid_gem(a), vb = cms_ver_valid_gem(b);
        if (!va || !vb)
                return cms_ver_cmp_invalid(va, vb, a, b);
        struct seg sa[MAX_SEGS], sb[MAX_SEGS];
        static const struct seg zero = {.p = "0", .len = 1};
        size_t na = segments(a, sa), nb = segments(b, sb);
        for (size_t i = 0; i < na || i < nb; i++) {
                int c = seg_cmp(i < na ? &sa[i] : &zero, i < nb ? &sb[i] : &zero);
                if (c)
                        return c;
        }
        return 0;
}
