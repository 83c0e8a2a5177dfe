/* --format templates, a small subset of Go's text/template as the docker CLI uses it:
 * "{{.name}}", nested "{{.host.memory}}", "{{json .labels}}", "{{json .}}", "{{.}}", and the
 * escapes \t and \n in the text between. Keys match exactly, else without regard to case, so
 * "{{.Name}}" finds "name". A missing key prints "<no value>", as Go's does. A list prints one
 * line per item; anything else prints once. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmsctl.h"

/* The member of o named key (len bytes), exact first, then case-insensitive: true when found
 * (*v may then be NULL: a null member). */
static bool member(json_object *o, const char *key, size_t len, json_object **v)
{
        bool hit = false;
        if (!json_object_is_type(o, json_type_object))
                return false;
        json_object_object_foreach(o, k, val)
        {
                if (strlen(k) != len)
                        continue;
                if (!strncmp(k, key, len)) {
                        *v = val;
                        return true;
                }
                if (!hit && !strncasecmp(k, key, len)) {
                        *v = val;
                        hit = true;
                }
        }
        return hit;
}

/* Walks ".a.b" (path of n bytes) from o; *found says whether every step existed. */
static json_object *walk(json_object *o, const char *path, size_t n, bool *found)
{
        *found = true;
        if (n == 1) /* "." */
                return o;
        const char *p = path + 1, *end = path + n;
        while (p < end) {
                const char *dot = memchr(p, '.', (size_t)(end - p));
                size_t k = dot ? (size_t)(dot - p) : (size_t)(end - p);
                if (!member(o, p, k, &o)) {
                        *found = false;
                        return NULL;
                }
                p += k + 1;
        }
        return o;
}

static void value_out(json_object *v, bool as_json, FILE *out)
{
        if (v && (as_json || json_object_is_type(v, json_type_object) ||
                  json_object_is_type(v, json_type_array))) {
                fputs(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE),
                      out);
                return;
        }
        if (!v)
                fputs(as_json ? "null" : "<nil>", out);
        else
                fputs(json_object_get_string(v), out);
}

/* One action "{{ ... }}" (its inner text, trimmed): 0, or -1 when it is not one we know. */
static int action(const char *a, size_t n, json_object *item, FILE *out)
{
        bool as_json = n > 5 && !strncmp(a, "json ", 5);
        if (as_json) {
                a += 5;
                n -= 5;
                while (n && *a == ' ')
                        a++, n--;
        }
        if (!n || a[0] != '.' || (n > 1 && (a[n - 1] == '.' || memmem(a, n, "..", 2))))
                return -1;
        for (size_t i = 0; i < n; i++)
                if (a[i] == ' ' || a[i] == '{' || a[i] == '}')
                        return -1;
        bool found;
        json_object *v = walk(item, a, n, &found);
        if (!found)
                fputs(as_json ? "null" : "<no value>", out);
        else
                value_out(v, as_json, out);
        return 0;
}

/* Renders t for one item; out may be NULL to check t only. Returns 0 or -1 (bad template). */
static int render(const char *t, json_object *item, FILE *out)
{
        FILE *sink = out ? out : fopen("/dev/null", "we");
        int r = 0;
        if (!sink)
                return -1;
        for (const char *p = t; *p && r == 0;) {
                if (p[0] == '{' && p[1] == '{') {
                        const char *e = strstr(p + 2, "}}");
                        if (!e) {
                                r = -1;
                                break;
                        }
                        const char *a = p + 2;
                        while (a < e && (*a == ' ' || *a == '-'))
                                a++;
                        const char *z = e;
                        while (z > a && (z[-1] == ' ' || z[-1] == '-'))
                                z--;
                        r = action(a, (size_t)(z - a), item, sink);
                        p = e + 2;
                } else if (p[0] == '\\' && (p[1] == 't' || p[1] == 'n')) {
                        fputc(p[1] == 't' ? '\t' : '\n', sink);
                        p += 2;
                } else {
                        fputc(*p++, sink);
                }
        }
        if (!out)
                fclose(sink);
        return r;
}

int ctl_template_check(const char *t)
{
        return render(t, NULL, NULL);
}

int ctl_template_print(const char *t, json_object *data, FILE *out)
{
        bool list = json_object_is_type(data, json_type_array);
        size_t n = list ? json_object_array_length(data) : 1;
        for (size_t i = 0; i < n; i++) {
                if (render(t, list ? json_object_array_get_idx(data, i) : data, out) < 0)
                        return -1;
                fputc('\n', out);
        }
        return 0;
}
