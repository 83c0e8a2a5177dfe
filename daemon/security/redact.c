/* What a viewer may see: environment values, build args and dotenv text are replaced by
 * "<redacted>" wherever they appear in a reply (cmsd's summaries, the engine's raw documents,
 * compose configs), names kept. Applied once, where replies are shaped (api/reply.c), so no
 * handler can forget it. Pure. */
#include "redact.h"

#define REDACTED "<redacted>"

/* {"K": "v"} -> {"K": "<redacted>"}; nulls stay null (unset is not a secret). */
static void redact_map(json_object *o)
{
        json_object_object_foreach(o, k, v)
        {
                if (v)
                        json_object_object_add(o, k, json_object_new_string(REDACTED));
        }
}

/* ["K=v", "K"] -> ["K=<redacted>", "K"] */
static void redact_env_list(json_object *a)
{
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                const char *s = json_object_get_string(json_object_array_get_idx(a, i));
                const char *eq = s ? strchr(s, '=') : NULL;
                if (!eq)
                        continue;
                char *r = cms_strdup_printf("%.*s=" REDACTED, (int)(eq - s), s);
                if (r)
                        json_object_array_put_idx(a, i, json_object_new_string(r));
                free(r);
        }
}

static void walk(json_object *o, int depth)
{
        if (depth > 64)
                return;
        if (json_object_is_type(o, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(o); i++)
                        walk(json_object_array_get_idx(o, i), depth + 1);
                return;
        }
        if (!json_object_is_type(o, json_type_object))
                return;
        json_object_object_foreach(o, k, v)
        {
                bool map = json_object_is_type(v, json_type_object);
                if (map && (!strcmp(k, "environment") || !strcmp(k, "env") || !strcmp(k, "args") ||
                            !strcmp(k, "BuildArgs")))
                        redact_map(v);
                else if (json_object_is_type(v, json_type_array) && !strcmp(k, "Env"))
                        redact_env_list(v);
                else if (json_object_is_type(v, json_type_string) && !strcmp(k, "dotenv"))
                        json_object_object_add(o, k, json_object_new_string(REDACTED));
                else
                        walk(v, depth + 1);
        }
}

void cms_redact_for_viewer(json_object *doc)
{
        walk(doc, 0);
}
