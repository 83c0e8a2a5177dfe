/* A JSON scanner that builds nothing (list_scan.c): it steps over values, decodes the strings
 * it is asked for into a buffer, and refuses what json-c's tokener would read differently. */
#pragma once

#include "../util.h"

#define CMS_JP_MAX_DEPTH 30 /* json-c's tokener refuses more than 32 levels */

/* Appends to b; a failure (out of memory) is sticky: b refuses every later append and
 * cms_jp_oom(b) tells, so a caller checks once at the end. */
static inline void cms_jp_append(struct cms_buf *b, const void *p, size_t n)
{
        if (cms_buf_append(b, p, n) < 0)
                b->max = 0;
}
static inline bool cms_jp_oom(const struct cms_buf *b)
{
        return b->max == 0;
}

struct cms_jp {
        const char *p, *end;
        bool bad; /* set by any refusal: the caller gives up on the text */
};

void cms_jp_ws(struct cms_jp *j);
char cms_jp_peek(struct cms_jp *j); /* the next non-blank byte, 0 at the end */
bool cms_jp_eat(struct cms_jp *j, char c);
bool cms_jp_fail(struct cms_jp *j); /* marks j bad; false */
/* A string, decoded into b followed by a NUL (b NULL: stepped over). \u0000, lone surrogates
 * and raw control characters are refused. */
bool cms_jp_string(struct cms_jp *j, struct cms_buf *b);
/* A number; *integral false when it has a fraction or an exponent or does not fit int64. */
bool cms_jp_number(struct cms_jp *j, int64_t *out, bool *integral);
bool cms_jp_literal(struct cms_jp *j, const char *word);
bool cms_jp_skip(struct cms_jp *j, int depth); /* any value */
/* An object's members: fn gets each key (decoded) and must consume its value. */
typedef bool (*cms_jp_member_fn)(struct cms_jp *j, const char *key, void *ud, int depth);
bool cms_jp_members(struct cms_jp *j, int depth, cms_jp_member_fn fn, void *ud);
