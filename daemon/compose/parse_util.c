/* The typed readers of the compose parser: YAML node -> string, bool, integer, duration, size,
 * string list, string map, each failing with a 400 that names the key path and the line; the
 * unknown-key warnings; and the pass that interpolates every scalar value of the tree. Values
 * are read leniently where Compose files differ in practice (a quoted "true", a port written as
 * a number or a string), because interpolation produces text anyway. */
#include "internal.h"

void cms_cp_at(const struct cms_ynode *n, char *buf, size_t size)
{
        if (!n)
                snprintf(buf, size, "%s", "");
        else if (n->file)
                snprintf(buf, size, " (file %d, line %d)", n->file, n->line);
        else
                snprintf(buf, size, " (line %d)", n->line);
}

int cms_cp_fail(struct cms_cp *c, const struct cms_ynode *n, const char *path, const char *fmt, ...)
{
        char msg[400], at[48];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        cms_cp_at(n, at, sizeof(at));
        return cms_err(c->err, 400, "%s: %s%s", path, msg, at);
}

void cms_cp_warn(struct cms_cp *c, const struct cms_ynode *n, const char *path, const char *fmt,
                 ...)
{
        char msg[400], full[600], at[48];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        cms_cp_at(n, at, sizeof(at));
        snprintf(full, sizeof(full), "%s: %s%s", path, msg, at);
        cms_compose_warn(c->warnings, full);
}

void cms_cp_sub(char *buf, size_t n, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, n, fmt, ap);
        va_end(ap);
}

int cms_cp_oom(struct cms_cp *c)
{
        return cms_err(c->err, 500, "out of memory");
}

int cms_cp_need(struct cms_cp *c, const struct cms_ynode *n, const char *path, enum cms_ykind kind)
{
        if (n && n->kind == kind && !(kind == CMS_Y_SCALAR && n->null))
                return 0;
        if (!n)
                return cms_cp_fail(c, NULL, path, "required");
        static const char *const names[] = {"a string", "a list", "a mapping"};
        return cms_cp_fail(c, n, path, "expected %s, got %s", names[kind], cms_ykind_name(n));
}

int cms_cp_count_ports(struct cms_cp *c, const struct cms_ynode *n, const char *path, size_t k)
{
        if (k > CMS_COMPOSE_MAX_PORTS_ALL - c->ports)
                return cms_cp_fail(c, n, path,
                                   "the project has more than %d ports once ranges and aliases "
                                   "are expanded (summed over its services)",
                                   CMS_COMPOSE_MAX_PORTS_ALL);
        c->ports += k;
        return 0;
}

int cms_cp_str(struct cms_cp *c, const struct cms_ynode *n, const char *path, char **out)
{
        if (!n || (n->kind == CMS_Y_SCALAR && n->null))
                return 0;
        int r = cms_cp_need(c, n, path, CMS_Y_SCALAR);
        if (r < 0)
                return r;
        char *s = strdup(n->value);
        if (!s)
                return cms_cp_oom(c);
        free(*out);
        *out = s;
        return 0;
}

int cms_cp_str_req(struct cms_cp *c, const struct cms_ynode *n, const char *path, char **out)
{
        int r = cms_cp_need(c, n, path, CMS_Y_SCALAR);
        if (r == 0 && !*n->value)
                r = cms_cp_fail(c, n, path, "must not be empty");
        return r < 0 ? r : cms_cp_str(c, n, path, out);
}

int cms_cp_bool(struct cms_cp *c, const struct cms_ynode *n, const char *path, bool *out)
{
        static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no",
                                                                               "off"};
        if (!n || (n->kind == CMS_Y_SCALAR && n->null))
                return 0;
        int r = cms_cp_need(c, n, path, CMS_Y_SCALAR);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (!strcasecmp(n->value, yes[i])) {
                        *out = true;
                        return 0;
                }
                if (!strcasecmp(n->value, no[i])) {
                        *out = false;
                        return 0;
                }
        }
        return cms_cp_fail(c, n, path, "expected a boolean, got '%.64s'", n->value);
}

int cms_cp_int(struct cms_cp *c, const struct cms_ynode *n, const char *path, int64_t min,
               int64_t max, int64_t *out)
{
        if (!n || (n->kind == CMS_Y_SCALAR && n->null))
                return 0;
        int r = cms_cp_need(c, n, path, CMS_Y_SCALAR);
        if (r < 0)
                return r;
        int64_t v;
        const char *s = n->value[0] == '+' ? n->value + 1 : n->value;
        if (cms_parse_int(s, INT64_MIN, INT64_MAX, &v) < 0)
                return cms_cp_fail(c, n, path, "expected an integer, got '%.64s'", n->value);
        if (v < min || v > max)
                return cms_cp_fail(c, n, path,
                                   "%" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]", v, min,
                                   max);
        *out = v;
        return 0;
}

int cms_cp_duration(struct cms_cp *c, const struct cms_ynode *n, const char *path, int64_t *out_ms)
{
        if (!n || (n->kind == CMS_Y_SCALAR && n->null))
                return 0;
        int r = cms_cp_need(c, n, path, CMS_Y_SCALAR);
        if (r < 0)
                return r;
        if (cms_parse_duration_ms(n->value, out_ms) < 0)
                return cms_cp_fail(c, n, path, "not a duration (like 1m30s): '%.64s'", n->value);
        return 0;
}

int cms_cp_size(struct cms_cp *c, const struct cms_ynode *n, const char *path, int64_t *out)
{
        if (!n || (n->kind == CMS_Y_SCALAR && n->null))
                return 0;
        int r = cms_cp_need(c, n, path, CMS_Y_SCALAR);
        if (r < 0)
                return r;
        if (cms_parse_size(n->value, out) < 0)
                return cms_cp_fail(c, n, path, "not a byte value (like 512m): '%.64s'", n->value);
        return 0;
}

int cms_cp_strv(struct cms_cp *c, const struct cms_ynode *n, const char *path, bool single,
                struct cms_compose_strv *out)
{
        if (!n || (n->kind == CMS_Y_SCALAR && n->null))
                return 0;
        if (n->kind == CMS_Y_SCALAR && single)
                return cms_compose_strv_add(out, n->value) < 0 ? cms_cp_oom(c) : 0;
        if (n->kind != CMS_Y_SEQ)
                return cms_cp_fail(c, n, path, "expected %s, got %s",
                                   single ? "a string or a list of strings" : "a list of strings",
                                   cms_ykind_name(n));
        for (size_t i = 0; i < n->n; i++) {
                char sub[256];
                cms_cp_sub(sub, sizeof(sub), "%s[%zu]", path, i);
                int r = cms_cp_need(c, n->kids[i], sub, CMS_Y_SCALAR);
                if (r < 0)
                        return r;
                if (cms_compose_strv_add(out, n->kids[i]->value) < 0)
                        return cms_cp_oom(c);
        }
        return 0;
}

static int kvs_fill(struct cms_cp *c, const struct cms_ynode *n, const char *path,
                    struct cms_compose_kvs *out)
{
        char sub[256];
        if (!n || (n->kind == CMS_Y_SCALAR && n->null))
                return 0;
        if (n->kind == CMS_Y_MAP) {
                for (size_t i = 0; i + 1 < n->n; i += 2) {
                        const struct cms_ynode *k = n->kids[i], *v = n->kids[i + 1];
                        cms_cp_sub(sub, sizeof(sub), "%s.%.64s", path, k->value);
                        if (!*k->value)
                                return cms_cp_fail(c, k, path, "empty key");
                        if (v->kind != CMS_Y_SCALAR)
                                return cms_cp_fail(c, v, sub, "expected a string, got %s",
                                                   cms_ykind_name(v));
                        if (cms_compose_kvs_push(out, k->value, v->null ? NULL : v->value) < 0)
                                return cms_cp_oom(c);
                }
                return 0;
        }
        if (n->kind != CMS_Y_SEQ)
                return cms_cp_fail(c, n, path,
                                   "expected a mapping or a list of \"key=value\", got %s",
                                   cms_ykind_name(n));
        for (size_t i = 0; i < n->n; i++) {
                const struct cms_ynode *e = n->kids[i];
                cms_cp_sub(sub, sizeof(sub), "%s[%zu]", path, i);
                int r = cms_cp_need(c, e, sub, CMS_Y_SCALAR);
                if (r < 0)
                        return r;
                const char *eq = strchr(e->value, '=');
                size_t kl = eq ? (size_t)(eq - e->value) : strlen(e->value);
                if (kl == 0)
                        return cms_cp_fail(c, e, sub, "empty key in '%.64s'", e->value);
                _cleanup_free_ char *key = strndup(e->value, kl);
                if (!key || cms_compose_kvs_push(out, key, eq ? eq + 1 : NULL) < 0)
                        return cms_cp_oom(c);
        }
        return 0;
}

/* Pushed then sorted once: a map of n keys in any order costs n log n (set one by one, a
 * reversed 40,000-key environment spent 60 % of its parse moving the array). */
int cms_cp_kvs(struct cms_cp *c, const struct cms_ynode *n, const char *path,
               struct cms_compose_kvs *out)
{
        int r = kvs_fill(c, n, path, out);
        if (cms_compose_kvs_sort(out) < 0 && r == 0)
                r = cms_cp_oom(c);
        return r;
}

static bool listed(const char *key, const char *const *list)
{
        for (size_t i = 0; list && list[i]; i++)
                if (!strcmp(key, list[i]))
                        return true;
        return false;
}

void cms_cp_check_keys(struct cms_cp *c, const struct cms_ynode *map, const char *path,
                       const char *const *known, const char *const *ignored)
{
        if (!map || map->kind != CMS_Y_MAP)
                return;
        for (size_t i = 0; i + 1 < map->n; i += 2) {
                const struct cms_ynode *k = map->kids[i];
                char sub[256];
                if (listed(k->value, known) || cms_str_has_prefix(k->value, "x-"))
                        continue;
                cms_cp_sub(sub, sizeof(sub), "%s%s%.64s", path, *path ? "." : "", k->value);
                if (listed(k->value, ignored))
                        cms_cp_warn(c, k, sub, "not supported by cmsd, ignored");
                else
                        cms_cp_warn(c, k, sub, "unknown key, ignored");
        }
}

static int interpolate_scalar(struct cms_cp *c, struct cms_ynode *n, const char *path)
{
        if (n->interpolated || !strchr(n->value, '$')) {
                n->interpolated = true;
                return 0;
        }
        char where[320];
        if (n->file)
                cms_cp_sub(where, sizeof(where), "%s, file %d, line %d", path, n->file, n->line);
        else
                cms_cp_sub(where, sizeof(where), "%s, line %d", path, n->line);
        char *v = NULL;
        int r = cms_compose_interpolate(c->env, n->value, where, &v, c->warnings, c->err);
        if (r < 0)
                return r;
        size_t len = strlen(v);
        if (len > CMS_COMPOSE_MAX_VALUE || (c->expanded += len) > CMS_COMPOSE_MAX_EXPANDED) {
                free(v);
                return cms_cp_fail(c, n, path, "value longer than %d bytes after interpolation",
                                   len > CMS_COMPOSE_MAX_VALUE ? CMS_COMPOSE_MAX_VALUE
                                                               : CMS_COMPOSE_MAX_EXPANDED);
        }
        free(n->value);
        n->value = v;
        n->interpolated = true;
        return 0;
}

int cms_cp_interpolate_tree(struct cms_cp *c, struct cms_ynode *n, const char *path)
{
        char sub[256];
        if (!n)
                return 0;
        if (n->kind == CMS_Y_SCALAR)
                return n->null ? 0 : interpolate_scalar(c, n, path);
        if (n->interpolated)
                return 0;
        n->interpolated = true; /* a shared subtree is visited once */
        for (size_t i = 0; i < n->n; i++) {
                int r;
                if (n->kind == CMS_Y_MAP) {
                        if (i % 2 == 0)
                                continue;
                        cms_cp_sub(sub, sizeof(sub), "%s%s%.64s", path, *path ? "." : "",
                                   n->kids[i - 1]->value);
                } else {
                        cms_cp_sub(sub, sizeof(sub), "%s[%zu]", path, i);
                }
                if ((r = cms_cp_interpolate_tree(c, n->kids[i], sub)) < 0)
                        return r;
        }
        return 0;
}

int cms_cp_short_or_long(struct cms_cp *c, const struct cms_ynode *v, const char *path,
                         struct cms_compose_service *s, cms_cp_entry_fn short_fn,
                         cms_cp_entry_fn long_fn)
{
        if (v->null)
                return 0;
        int r = cms_cp_need(c, v, path, CMS_Y_SEQ);
        for (size_t i = 0; r == 0 && i < v->n; i++) {
                const struct cms_ynode *e = v->kids[i];
                char sub[320];
                cms_cp_sub(sub, sizeof(sub), "%s[%zu]", path, i);
                if (e->kind == CMS_Y_MAP)
                        r = long_fn(c, e, sub, s);
                else if ((r = cms_cp_need(c, e, sub, CMS_Y_SCALAR)) == 0)
                        r = short_fn(c, e, sub, s);
        }
        return r;
}
