/* The JSON scanner of the container list's text path (see list_scan.h): strict JSON as the
 * engines write it; anything json-c would read otherwise (or not at all) marks the scan bad, and
 * the caller takes json-c's way instead. */
#include "list_scan.h"

void cms_jp_ws(struct cms_jp *j)
{
        while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
                j->p++;
}

char cms_jp_peek(struct cms_jp *j)
{
        cms_jp_ws(j);
        return j->p < j->end ? *j->p : 0;
}

bool cms_jp_eat(struct cms_jp *j, char c)
{
        if (cms_jp_peek(j) != c)
                return false;
        j->p++;
        return true;
}

bool cms_jp_fail(struct cms_jp *j)
{
        j->bad = true;
        return false;
}

static int hex4(const char *p)
{
        int v = 0;
        for (int i = 0; i < 4; i++) {
                char c = p[i];
                int d = c >= '0' && c <= '9'   ? c - '0'
                        : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                               : -1;
                if (d < 0)
                        return -1;
                v = v * 16 + d;
        }
        return v;
}

static void put_utf8(struct cms_buf *b, unsigned cp)
{
        char u[4];
        size_t n;
        if (cp < 0x80) {
                u[0] = (char)cp;
                n = 1;
        } else if (cp < 0x800) {
                u[0] = (char)(0xc0 | cp >> 6);
                u[1] = (char)(0x80 | (cp & 0x3f));
                n = 2;
        } else if (cp < 0x10000) {
                u[0] = (char)(0xe0 | cp >> 12);
                u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                u[2] = (char)(0x80 | (cp & 0x3f));
                n = 3;
        } else {
                u[0] = (char)(0xf0 | cp >> 18);
                u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
                u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
                u[3] = (char)(0x80 | (cp & 0x3f));
                n = 4;
        }
        cms_jp_append(b, u, n);
}

/* A \uXXXX escape (pairs joined) at j->p (after the backslash and 'u'). */
static bool unicode_escape(struct cms_jp *j, struct cms_buf *b)
{
        int hi = j->end - j->p >= 4 ? hex4(j->p) : -1;
        if (hi <= 0) /* bad, or \u0000: a C string would end there */
                return cms_jp_fail(j);
        j->p += 4;
        unsigned cp = (unsigned)hi;
        if (hi >= 0xd800 && hi <= 0xdbff) {
                int lo =
                    j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u' ? hex4(j->p + 2) : -1;
                if (lo < 0xdc00 || lo > 0xdfff)
                        return cms_jp_fail(j);
                j->p += 6;
                cp = 0x10000 + (((unsigned)hi - 0xd800) << 10) + ((unsigned)lo - 0xdc00);
        } else if (hi >= 0xdc00 && hi <= 0xdfff) {
                return cms_jp_fail(j);
        }
        if (b)
                put_utf8(b, cp);
        return true;
}

/* A string at j->p, decoded into b with a NUL after it (b NULL: stepped over). */
bool cms_jp_string(struct cms_jp *j, struct cms_buf *b)
{
        if (!cms_jp_eat(j, '"'))
                return cms_jp_fail(j);
        while (j->p < j->end) {
                const char *run = j->p;
                while (j->p < j->end && *j->p != '"' && *j->p != '\\' &&
                       (unsigned char)*j->p >= 0x20)
                        j->p++;
                if (b && j->p > run)
                        cms_jp_append(b, run, (size_t)(j->p - run));
                if (j->p >= j->end || (unsigned char)*j->p < 0x20)
                        return cms_jp_fail(j);
                if (*j->p++ == '"') {
                        if (b)
                                cms_jp_append(b, "", 1);
                        return !b || !cms_jp_oom(b) || cms_jp_fail(j);
                }
                if (j->p >= j->end)
                        return cms_jp_fail(j);
                char c = *j->p++, out;
                switch (c) {
                case '"':
                case '\\':
                case '/':
                        out = c;
                        break;
                case 'b':
                        out = '\b';
                        break;
                case 'f':
                        out = '\f';
                        break;
                case 'n':
                        out = '\n';
                        break;
                case 'r':
                        out = '\r';
                        break;
                case 't':
                        out = '\t';
                        break;
                case 'u':
                        if (!unicode_escape(j, b))
                                return false;
                        continue;
                default:
                        return cms_jp_fail(j);
                }
                if (b)
                        cms_jp_append(b, &out, 1);
        }
        return cms_jp_fail(j);
}

/* A number; *integral false when it has a fraction or exponent (or does not fit int64). */
bool cms_jp_number(struct cms_jp *j, int64_t *out, bool *integral)
{
        cms_jp_ws(j);
        bool neg = j->p < j->end && *j->p == '-';
        j->p += neg;
        uint64_t v = 0;
        bool big = false;
        const char *digits = j->p;
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
                if (v > (UINT64_MAX - 9) / 10)
                        big = true;
                v = v * 10 + (uint64_t)(*j->p++ - '0');
        }
        if (j->p == digits || (*digits == '0' && j->p - digits > 1))
                return cms_jp_fail(j);
        bool frac = false;
        if (j->p < j->end && *j->p == '.') {
                frac = true;
                const char *d = ++j->p;
                while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
                        j->p++;
                if (j->p == d)
                        return cms_jp_fail(j);
        }
        if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
                frac = true;
                j->p++;
                if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
                        j->p++;
                const char *d = j->p;
                while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
                        j->p++;
                if (j->p == d)
                        return cms_jp_fail(j);
        }
        *integral = !frac && !big && v <= (uint64_t)INT64_MAX;
        *out = *integral ? (neg ? -(int64_t)v : (int64_t)v) : 0;
        return true;
}

bool cms_jp_literal(struct cms_jp *j, const char *word)
{
        size_t n = strlen(word);
        if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n))
                return cms_jp_fail(j);
        j->p += n;
        return true;
}

static bool skip_members(struct cms_jp *j, int depth, char close)
{
        if (cms_jp_eat(j, close))
                return true;
        do {
                if (close == '}' && (!cms_jp_string(j, NULL) || !cms_jp_eat(j, ':')))
                        return cms_jp_fail(j);
                if (!cms_jp_skip(j, depth))
                        return false;
        } while (cms_jp_eat(j, ','));
        return cms_jp_eat(j, close) || cms_jp_fail(j);
}

bool cms_jp_skip(struct cms_jp *j, int depth)
{
        int64_t v;
        bool in;
        switch (cms_jp_peek(j)) {
        case '"':
                return cms_jp_string(j, NULL);
        case '{':
        case '[': {
                char close = *j->p == '{' ? '}' : ']';
                j->p++;
                return depth < CMS_JP_MAX_DEPTH ? skip_members(j, depth + 1, close)
                                                : cms_jp_fail(j);
        }
        case 't':
                return cms_jp_literal(j, "true");
        case 'f':
                return cms_jp_literal(j, "false");
        case 'n':
                return cms_jp_literal(j, "null");
        default:
                return cms_jp_number(j, &v, &in);
        }
}

bool cms_jp_members(struct cms_jp *j, int depth, cms_jp_member_fn fn, void *ud)
{
        if (!cms_jp_eat(j, '{'))
                return cms_jp_fail(j);
        if (depth >= CMS_JP_MAX_DEPTH)
                return cms_jp_fail(j);
        if (cms_jp_eat(j, '}'))
                return true;
        struct cms_buf k;
        cms_buf_init(&k, 0);
        bool ok = true;
        do {
                k.len = 0;
                if (!cms_jp_string(j, &k) || !cms_jp_eat(j, ':')) {
                        ok = cms_jp_fail(j);
                        break;
                }
                if (strlen(k.data) != k.len - 1 || !fn(j, k.data, ud, depth + 1) || j->bad) {
                        ok = cms_jp_fail(j);
                        break;
                }
        } while (cms_jp_eat(j, ','));
        cms_buf_free(&k);
        return ok && (cms_jp_eat(j, '}') || cms_jp_fail(j));
}
