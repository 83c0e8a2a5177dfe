/* Compose variable interpolation (Compose Specification, "Interpolation"): the variable set (the
 * request's env, then the project's .env content) and the template evaluator. The operand of
 * :- - :? ? :+ + is itself a template and is evaluated only when chosen, so a required variable
 * inside an unused default does not fail, as in Docker Compose. */
#include "internal.h"

#include <ctype.h>

#define MAX_NESTING 16 /* ${A:-${B:-${C...}}} */

struct cms_compose_env {
        struct cms_compose_kvs req; /* the request's env: wins */
        struct cms_compose_kvs dot; /* .env */
};

const struct cms_compose_kvs *cms_compose_env_dotenv(const struct cms_compose_env *e)
{
        return &e->dot;
}

const char *cms_compose_env_get(const struct cms_compose_env *e, const char *name)
{
        if (!e)
                return NULL;
        const struct cms_compose_kv *kv = cms_compose_kvs_get(&e->req, name);
        if (!kv)
                kv = cms_compose_kvs_get(&e->dot, name);
        return kv ? kv->value : NULL;
}

void cms_compose_env_free(struct cms_compose_env *e)
{
        if (!e)
                return;
        cms_compose_kvs_done(&e->req);
        cms_compose_kvs_done(&e->dot);
        free(e);
}

/* ---- the evaluator ---- */

struct ip {
        const struct cms_compose_env *env;
        const char *where;
        const char *whole; /* the template, for messages */
        json_object *warnings;
        struct cms_error *err;
};

static bool name_start(char ch)
{
        return ch == '_' || isalpha((unsigned char)ch);
}

static bool name_char(char ch)
{
        return ch == '_' || isalnum((unsigned char)ch);
}

static int invalid(struct ip *x)
{
        return cms_err(x->err, 400,
                       "invalid interpolation format%s%s: \"%.200s\"; you may need to escape any $ "
                       "with another $",
                       x->where ? " for " : "", x->where ? x->where : "", x->whole);
}

static int too_long(struct ip *x)
{
        return cms_err(x->err, 400, "%s%svalue longer than %d bytes after interpolation",
                       x->where ? x->where : "", x->where ? ": " : "", CMS_COMPOSE_MAX_VALUE);
}

static int put(struct ip *x, struct cms_buf *out, const char *s, size_t n)
{
        int r = cms_buf_append(out, s, n);
        if (r == -E2BIG)
                return too_long(x);
        return r < 0 ? cms_err(x->err, 500, "out of memory") : 0;
}

static void unset_warning(struct ip *x, const char *name, size_t len)
{
        char msg[200];
        snprintf(msg, sizeof(msg),
                 "The \"%.*s\" variable is not set. Defaulting to a blank string.",
                 (int)(len > 100 ? 100 : len), name);
        cms_compose_warn(x->warnings, msg);
}

static const char *lookup(struct ip *x, const char *name, size_t len)
{
        char buf[256];
        if (len >= sizeof(buf))
                return NULL;
        memcpy(buf, name, len);
        buf[len] = 0;
        return cms_compose_env_get(x->env, buf);
}

static int eval(struct ip *x, const char *s, size_t len, int depth, struct cms_buf *out);

/* The index of the "}" closing the "${" whose body starts at from, or -1. */
static long closing_brace(const char *s, size_t len, size_t from)
{
        int open = 1;
        for (size_t k = from; k < len; k++) {
                if (s[k] == '$' && k + 1 < len && (s[k + 1] == '$' || s[k + 1] == '{')) {
                        open += s[k + 1] == '{';
                        k++;
                } else if (s[k] == '}' && --open == 0) {
                        return (long)k;
                }
        }
        return -1;
}

static int required_missing(struct ip *x, const char *name, size_t nl, const char *msg, size_t ml,
                            int depth)
{
        struct cms_buf m;
        cms_buf_init(&m, CMS_COMPOSE_MAX_VALUE);
        int r = eval(x, msg, ml, depth + 1, &m);
        if (r == 0)
                r = cms_err(x->err, 400, "required variable %.*s is missing a value%s%.*s%s%s%s",
                            (int)(nl > 100 ? 100 : nl), name, m.len ? ": " : "",
                            (int)(m.len > 300 ? 300 : m.len), m.data ? m.data : "",
                            x->where ? " (" : "", x->where ? x->where : "", x->where ? ")" : "");
        cms_buf_free(&m);
        return r;
}

/* The body of ${...}: NAME, or NAME followed by an operator and its operand. */
static int braced(struct ip *x, const char *b, size_t len, int depth, struct cms_buf *out)
{
        size_t nl = 0;
        if (!len || !name_start(b[0]))
                return invalid(x);
        while (nl < len && name_char(b[nl]))
                nl++;
        const char *val = lookup(x, b, nl);
        if (nl == len) {
                if (!val) {
                        unset_warning(x, b, nl);
                        return 0;
                }
                return put(x, out, val, strlen(val));
        }
        bool colon = b[nl] == ':';
        size_t op = nl + colon;
        if (op >= len || !strchr("-?+", b[op]))
                return invalid(x);
        const char *rest = b + op + 1;
        size_t rl = len - op - 1;
        bool usable = val && (!colon || *val);
        switch (b[op]) {
        case '-':
                return usable ? put(x, out, val, strlen(val)) : eval(x, rest, rl, depth + 1, out);
        case '?':
                return usable ? put(x, out, val, strlen(val))
                              : required_missing(x, b, nl, rest, rl, depth);
        default: /* '+' */
                return usable ? eval(x, rest, rl, depth + 1, out) : 0;
        }
}

static int eval(struct ip *x, const char *s, size_t len, int depth, struct cms_buf *out)
{
        if (depth > MAX_NESTING)
                return cms_err(x->err, 400, "%s%sinterpolation nested more than %d levels deep",
                               x->where ? x->where : "", x->where ? ": " : "", MAX_NESTING);
        size_t i = 0;
        while (i < len) {
                const char *dollar = memchr(s + i, '$', len - i);
                size_t plain = dollar ? (size_t)(dollar - (s + i)) : len - i;
                int r = put(x, out, s + i, plain);
                if (r < 0)
                        return r;
                i += plain;
                if (i >= len)
                        break;
                char next = i + 1 < len ? s[i + 1] : 0;
                if (next == '$') {
                        r = put(x, out, "$", 1);
                        i += 2;
                } else if (next == '{') {
                        long close = closing_brace(s, len, i + 2);
                        if (close < 0)
                                return invalid(x);
                        r = braced(x, s + i + 2, (size_t)close - i - 2, depth, out);
                        i = (size_t)close + 1;
                } else if (name_start(next)) {
                        size_t nl = 1;
                        while (i + 1 + nl < len && name_char(s[i + 1 + nl]))
                                nl++;
                        const char *val = lookup(x, s + i + 1, nl);
                        if (val)
                                r = put(x, out, val, strlen(val));
                        else
                                unset_warning(x, s + i + 1, nl);
                        i += 1 + nl;
                } else {
                        r = put(x, out, "$", 1); /* not a reference: kept */
                        i++;
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

int cms_compose_interpolate(const struct cms_compose_env *e, const char *in, const char *where,
                            char **out, json_object *warnings, struct cms_error *err)
{
        struct ip x = {.env = e, .where = where, .whole = in, .warnings = warnings, .err = err};
        struct cms_buf b;
        cms_buf_init(&b, CMS_COMPOSE_MAX_VALUE + 1);
        int r = eval(&x, in, strlen(in), 0, &b);
        if (r == 0 && cms_buf_append(&b, "", 0) < 0)
                r = cms_err(err, 500, "out of memory");
        if (r < 0) {
                cms_buf_free(&b);
                return r;
        }
        *out = cms_buf_take(&b);
        return *out ? 0 : cms_err(err, 500, "out of memory");
}

/* ---- .env ---- */

struct dotenv {
        const char *s;
        size_t i, len;
        int line;
        struct cms_compose_env *env;
        json_object *warnings;
        struct cms_error *err;
};

static int dot_fail(struct dotenv *d, const char *what)
{
        return cms_err(d->err, 400, ".env line %d: %s", d->line, what);
}

static void skip_blanks(struct dotenv *d)
{
        while (d->i < d->len && (d->s[d->i] == ' ' || d->s[d->i] == '\t'))
                d->i++;
}

static void skip_line(struct dotenv *d)
{
        while (d->i < d->len && d->s[d->i] != '\n')
                d->i++;
}

/* After a closing quote: only blanks and a comment may follow on the line. */
static int line_end(struct dotenv *d)
{
        skip_blanks(d);
        if (d->i < d->len && d->s[d->i] == '#')
                skip_line(d);
        if (d->i < d->len && d->s[d->i] == '\r')
                d->i++;
        if (d->i < d->len && d->s[d->i] != '\n')
                return dot_fail(d, "unexpected text after the closing quote");
        return 0;
}

/* A quoted value; double quotes take \n \r \t \\ \" escapes, single quotes only \'. */
static int quoted(struct dotenv *d, struct cms_buf *v)
{
        char q = d->s[d->i++];
        int start_line = d->line;
        while (d->i < d->len && d->s[d->i] != q) {
                char ch = d->s[d->i++];
                if (ch == '\n')
                        d->line++;
                if (ch == '\\' && d->i < d->len) {
                        char e = d->s[d->i];
                        const char *map = q == '"' ? "n\nr\rt\t\\\\\"\"" : "''";
                        const char *hit = NULL;
                        for (const char *m = map; *m && !hit; m += 2)
                                if (*m == e)
                                        hit = m + 1;
                        if (hit) {
                                ch = *hit;
                                d->i++;
                        }
                }
                if (cms_buf_append(v, &ch, 1) < 0)
                        return dot_fail(d, "value too long");
        }
        if (d->i >= d->len) {
                d->line = start_line;
                return dot_fail(d, "unterminated quoted value");
        }
        d->i++;
        return line_end(d);
}

static int unquoted(struct dotenv *d, struct cms_buf *v)
{
        size_t start = d->i;
        skip_line(d);
        size_t end = d->i;
        /* " #" starts a comment; "a#b" is a value */
        for (size_t k = start; k < end; k++)
                if (d->s[k] == '#' && (k == start || d->s[k - 1] == ' ' || d->s[k - 1] == '\t')) {
                        end = k;
                        break;
                }
        while (end > start && isspace((unsigned char)d->s[end - 1]))
                end--;
        return cms_buf_append(v, d->s + start, end - start) < 0 ? dot_fail(d, "value too long") : 0;
}

static int dot_value(struct dotenv *d, const char *key)
{
        struct cms_buf v;
        cms_buf_init(&v, CMS_COMPOSE_MAX_VALUE);
        skip_blanks(d);
        char q = d->i < d->len ? d->s[d->i] : 0;
        int r = q == '"' || q == '\'' ? quoted(d, &v) : unquoted(d, &v);
        if (r == 0 && cms_buf_append(&v, "", 0) < 0)
                r = dot_fail(d, "value too long");
        char *val = NULL;
        if (r == 0 && q != '\'') {
                char where[96];
                snprintf(where, sizeof(where), ".env line %d", d->line);
                r = cms_compose_interpolate(d->env, v.data, where, &val, d->warnings, d->err);
        }
        if (r == 0)
                r = cms_compose_kvs_set(&d->env->dot, key, val ? val : v.data) < 0
                        ? cms_err(d->err, 500, "out of memory")
                        : 0;
        free(val);
        cms_buf_free(&v);
        return r;
}

static int dot_line(struct dotenv *d)
{
        skip_blanks(d);
        if (d->i >= d->len || strchr("#\r\n", d->s[d->i])) {
                skip_line(d);
                return 0;
        }
        if (d->len - d->i > 7 && !strncmp(d->s + d->i, "export ", 7)) {
                d->i += 7;
                skip_blanks(d);
        }
        size_t k = d->i;
        while (d->i < d->len && (name_char(d->s[d->i]) || strchr(".-", d->s[d->i])))
                d->i++;
        size_t kl = d->i - k;
        skip_blanks(d);
        bool eq = d->i < d->len && d->s[d->i] == '=';
        if (!kl || !name_start(d->s[k]) || kl > 200 ||
            (!eq && d->i < d->len && !strchr("\r\n", d->s[d->i])))
                return dot_fail(d, "expected NAME=VALUE");
        if (!eq) /* a bare NAME leaves it unset */
                return 0;
        d->i++;
        char key[256];
        memcpy(key, d->s + k, kl);
        key[kl] = 0;
        return dot_value(d, key);
}

static int env_from_json(struct cms_compose_env *e, json_object *env, struct cms_error *err)
{
        if (!env)
                return 0;
        if (!json_object_is_type(env, json_type_object))
                return cms_err(err, 400, "env: must be an object of strings");
        json_object_object_foreach(env, key, val)
        {
                if (!val)
                        continue;
                json_type t = json_object_get_type(val);
                if (t != json_type_string && t != json_type_int && t != json_type_double &&
                    t != json_type_boolean)
                        return cms_err(err, 400, "env.%.64s: must be a string", key);
                if (!*key || strchr(key, '='))
                        return cms_err(err, 400, "env: invalid variable name '%.64s'", key);
                if (cms_compose_kvs_set(&e->req, key, json_object_get_string(val)) < 0)
                        return cms_err(err, 500, "out of memory");
        }
        return 0;
}

int cms_compose_env_new(json_object *env, const char *dotenv, struct cms_compose_env **out,
                        json_object *warnings, struct cms_error *err)
{
        struct cms_compose_env *e = calloc(1, sizeof(*e));
        if (!e)
                return cms_err(err, 500, "out of memory");
        int r = env_from_json(e, env, err);
        struct dotenv d = {.s = dotenv,
                           .len = dotenv ? strlen(dotenv) : 0,
                           .line = 1,
                           .env = e,
                           .warnings = warnings,
                           .err = err};
        if (d.len > CMS_COMPOSE_MAX_BYTES)
                r = cms_err(err, 400, ".env: larger than %d bytes", CMS_COMPOSE_MAX_BYTES);
        while (r == 0 && d.i < d.len) {
                r = dot_line(&d);
                if (r == 0 && d.i < d.len && d.s[d.i] == '\n') {
                        d.i++;
                        d.line++;
                }
        }
        if (r < 0) {
                cms_compose_env_free(e);
                return r;
        }
        *out = e;
        return 0;
}
