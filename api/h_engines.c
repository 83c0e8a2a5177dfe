/* GET /v1/engines: the engines the caller's token may use, asked at once. */
#include "api.h"

static int describe(struct cms_manager *m, void *ud, json_object **out, struct cms_error *err)
{
        (void)ud;
        json_object *one = NULL;
        int r = cms_engine_describe(m, &one, err);
        if (r < 0)
                return r;
        *out = json_object_new_array();
        json_object_array_add(*out, one);
        return 0;
}

void h_engines(struct cms_request *r)
{
        cms_fanout_reply(r, describe, NULL, false);
}
