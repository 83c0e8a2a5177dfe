/* GET /v1/engines: what cmsd knows of each engine it drives (the managers' front, beside
 * system.c). One engine's entry comes from its system info; a failing engine is "down" with
 * the reason, never an error of the whole list. */
#include "manager.h"

static json_object *str_or_null(const char *s)
{
        return s && *s ? json_object_new_string(s) : NULL;
}

int cms_engine_describe(struct cms_manager *m, json_object **out, struct cms_error *err)
{
        (void)err;
        _cleanup_json_ json_object *info = NULL;
        struct cms_error ierr = {0};
        int r = cms_system_info(m, &info, &ierr);
        char version[64] = "", api[16] = "";
        cms_engine_versions(m->engine, version, sizeof(version), api, sizeof(api));
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(m->name));
        json_object_object_add(o, "url", json_object_new_string(cms_engine_url(m->engine)));
        json_object_object_add(o, "default", json_object_new_boolean(m->is_default));
        json_object_object_add(
            o, "runtime", json_object_new_string(cms_runtime_name(cms_engine_runtime(m->engine))));
        json_object_object_add(o, "version", str_or_null(version));
        json_object_object_add(o, "api_version", str_or_null(api));
        json_object_object_add(o, "state", json_object_new_string(r == 0 ? "up" : "down"));
        json_object_object_add(o, "last_error",
                               r == 0 ? NULL : json_object_new_string(ierr.message));
        json_object_object_add(o, "counts",
                               json_object_get(r == 0 ? cms_json_get(info, "counts") : NULL));
        *out = o;
        return 0;
}
