/* A container's engine labels as Prometheus labels, the way cAdvisor exports them:
 * "container_label_" + the key with every character outside [a-zA-Z0-9_] replaced by '_'
 * ("com.docker.compose.service" -> container_label_com_docker_compose_service; one '_' per
 * UTF-8 character). Keys are taken
 * in byte order; a key that sanitizes to a name already taken is left out (a series cannot carry
 * one label twice), and so is every key past the cap (high cardinality is cAdvisor's best-known
 * cost). Pure: no I/O, no locks. */
#include "labels.h"

#include <stdlib.h>
#include <string.h>

#include "export.h"

static int cmp_keys(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void cms_prom_label_name(const char *key, char *out, size_t cap)
{
        static const char prefix[] = "container_label_";
        size_t n = sizeof(prefix) - 1;
        if (cap <= n) {
                if (cap)
                        out[0] = 0;
                return;
        }
        memcpy(out, prefix, n);
        for (; *key && n + 1 < cap; key++) {
                char ch = *key;
                bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                          (ch >= '0' && ch <= '9') || ch == '_';
                out[n++] = ok ? ch : '_';
                /* One '_' per character, as cAdvisor's regexp replaces runes: a UTF-8 lead
                 * byte takes its continuation bytes with it. */
                if ((unsigned char)ch >= 0xC0)
                        for (int i = 0; i < 3 && ((unsigned char)key[1] & 0xC0) == 0x80; i++)
                                key++;
        }
        out[n] = 0;
}

char *cms_prom_container_labels(json_object *labels, size_t max_keys)
{
        if (!json_object_is_type(labels, json_type_object) || max_keys == 0)
                return NULL;
        size_t n = (size_t)json_object_object_length(labels), k = 0;
        const char **keys = calloc(n + 1, sizeof(*keys));
        if (!keys)
                return NULL;
        json_object_object_foreach(labels, key, val)
        {
                if (json_object_is_type(val, json_type_string))
                        keys[k++] = key;
        }
        qsort(keys, k, sizeof(*keys), cmp_keys);
        struct cms_buf b;
        cms_buf_init(&b, 0);
        char(*taken)[256] = calloc(max_keys, sizeof(*taken));
        size_t used = 0;
        int r = taken ? 0 : -ENOMEM;
        for (size_t i = 0; i < k && used < max_keys && r == 0; i++) {
                char name[256];
                cms_prom_label_name(keys[i], name, sizeof(name));
                bool dup = false;
                for (size_t j = 0; j < used && !dup; j++)
                        dup = !strcmp(taken[j], name);
                if (dup)
                        continue;
                memcpy(taken[used++], name, sizeof(name));
                json_object *v = json_object_object_get(labels, keys[i]);
                r = cms_buf_printf(&b, ",%s=\"", name);
                if (r == 0)
                        r = cms_prom_escape(&b, json_object_get_string(v));
                if (r == 0)
                        r = cms_buf_append(&b, "\"", 1);
        }
        free(taken);
        free(keys);
        if (r < 0 || b.len == 0) {
                cms_buf_free(&b);
                return NULL;
        }
        return cms_buf_take(&b);
}
