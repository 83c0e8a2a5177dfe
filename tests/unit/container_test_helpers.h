/* Helpers of the container model's unit tests (test_container_model.c, test_container_views.c):
 * JSON from text, the saved engine documents in tests/unit/fixtures (beside this file via
 * __FILE__, or $CMS_TEST_FIXTURES), and a JSON-pointer assertion. Include after cmocka.h. */
#pragma once

#include <json-c/json_pointer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ABSENT "<absent>"

static json_object *parse(const char *text)
{
        json_object *o = json_tokener_parse(text);
        if (!o && strcmp(text, "null"))
                fail_msg("bad JSON in test: %s", text);
        return o;
}

static json_object *fixture(const char *name)
{
        char path[1024];
        const char *dir = getenv("CMS_TEST_FIXTURES");
        if (dir) {
                snprintf(path, sizeof(path), "%s/%s", dir, name);
        } else {
                const char *slash = strrchr(__FILE__, '/');
                int n = slash ? (int)(slash - __FILE__) : 1;
                snprintf(path, sizeof(path), "%.*s/fixtures/%s", n, slash ? __FILE__ : ".", name);
        }
        json_object *o = json_object_from_file(path);
        if (!o)
                fail_msg("cannot read fixture %s", path);
        return o;
}

/* Asserts the value at a JSON pointer equals the expected JSON text (or is absent). */
static void expect_at(json_object *doc, const char *ptr, const char *expected, const char *ctx)
{
        json_object *got = NULL;
        int r = json_pointer_get(doc, ptr, &got);
        if (!strcmp(expected, ABSENT)) {
                if (r == 0)
                        fail_msg("%s: %s should be absent, is %s", ctx, ptr,
                                 json_object_to_json_string(got));
                return;
        }
        if (r < 0)
                fail_msg("%s: %s missing in %s", ctx, ptr,
                         json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
        json_object *want = parse(expected);
        if (!json_object_equal(got, want))
                fail_msg("%s: %s is %s, want %s", ctx, ptr, json_object_to_json_string(got),
                         expected);
        json_object_put(want);
}
