/* Unit tests for the container list written as text (daemon/containers/list_text.c): on the
 * engines' recorded list replies (Docker 20.10's /containers/json, Podman 4.3's compat and
 * native /libpod lists, tests/unit/fixtures) and on edited copies of them (escapes, unicode,
 * odd types, ports), the text is byte for byte the reply the tree path writes
 * (cms_container_list_item(_libpod), the viewer redaction, json-c PLAIN without slash escapes);
 * replies it must not take (duplicate keys, fractions, \u0000, lone surrogates, nesting deeper
 * than json-c allows, bad JSON) give -EAGAIN, so the handler falls back to the tree path. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/containers/list_text.h"
#include "daemon/containers/model.h"
#include "daemon/security/redact.h"

/* What the handler's tree path sends for an engine reply text. */
static char *tree_reply(const char *text, bool libpod, bool viewer)
{
        json_object *list = json_tokener_parse(text);
        assert_true(json_object_is_type(list, json_type_array));
        json_object *arr = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *it = json_object_array_get_idx(list, i);
                json_object_array_add(arr, libpod ? cms_container_list_item_libpod(it)
                                                  : cms_container_list_item(it));
        }
        if (viewer)
                cms_redact_for_viewer(arr);
        json_object *doc = json_object_new_object();
        json_object_object_add(doc, "success", json_object_new_boolean(1));
        json_object_object_add(doc, "data", arr);
        char *s = strdup(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
                                                                 JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(doc);
        json_object_put(list);
        return s;
}

static void same(const char *text, bool libpod)
{
        for (int viewer = 0; viewer < 2; viewer++) {
                char *want = tree_reply(text, libpod, viewer);
                struct cms_buf b;
                cms_buf_init(&b, 0);
                int r = cms_container_list_text(text, strlen(text), libpod, viewer, &b);
                if (r != 0)
                        fail_msg("text path refused: %.200s", text);
                assert_int_equal(b.len, strlen(want));
                assert_memory_equal(b.data, want, b.len);
                cms_buf_free(&b);
                free(want);
        }
}

static void refused(const char *text, bool libpod)
{
        struct cms_buf b;
        cms_buf_init(&b, 0);
        int r = cms_container_list_text(text, strlen(text), libpod, false, &b);
        if (r != -EAGAIN)
                fail_msg("text path took: %.200s", text);
        cms_buf_free(&b);
}

static char *read_fixture(const char *name)
{
        char path[1024];
        const char *slash = strrchr(__FILE__, '/');
        snprintf(path, sizeof(path), "%.*s/fixtures/%s", slash ? (int)(slash - __FILE__) : 1,
                 slash ? __FILE__ : ".", name);
        FILE *f = fopen(path, "rb");
        if (!f)
                fail_msg("cannot read fixture %s", path);
        char *buf = calloc(1, 1 << 20);
        size_t n = fread(buf, 1, (1 << 20) - 1, f);
        buf[n] = 0;
        fclose(f);
        return buf;
}

static void recorded_replies(void **state)
{
        static const struct {
                const char *file;
                bool libpod;
        } fx[] = {
            {"docker_list.json", false},
            {"podman_list.json", false}, /* Podman's compat list, read as Docker's */
            {"docker_list_escapes.json", false},
            {"libpod_list.json", true},
        };
        for (size_t i = 0; i < sizeof(fx) / sizeof(fx[0]); i++) {
                char *t = read_fixture(fx[i].file);
                same(t, fx[i].libpod);
                free(t);
        }
        same("[]", false);
        same(" [ ] ", true);
}

static void edited_docker_items(void **state)
{
        static const char *const items[] = {
            /* escapes and unicode, in every string that is shown */
            "{\"Id\":\"a\\u00e9\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\\\"\\\\\",\"Names\":[\"/"
            "x\\u0001y\"],"
            "\"Image\":\"localhost/img\",\"State\":\"Running\",\"Status\":\"Up 1 (healthy)\","
            "\"Created\":1795915704,\"Labels\":{\"dotenv\":\"SECRET=1\",\"k\\u2028\":\"v\\u007f\"}"
            "}",
            /* odd types where strings, arrays and numbers are expected */
            "{\"Id\":5,\"Names\":null,\"Image\":\"localhost/\",\"State\":null,\"Status\":[1],"
            "\"Created\":-5,\"Ports\":null,\"Labels\":null}",
            "{\"Names\":[],\"Created\":0,\"Ports\":{},\"Labels\":[]}",
            "{\"Names\":[null,\"/"
            "b\"],\"Labels\":{\"n\":1,\"o\":{\"p\":[true,false,null]},\"s\":\"t\"}}",
            "{}",
            /* ports: unsorted, missing fields, non-objects, zero and negative ports */
            "{\"Ports\":[{\"PrivatePort\":90,\"Type\":\"udp\"},5,{\"PrivatePort\":80,"
            "\"PublicPort\":8080,\"IP\":\"\"},{\"PrivatePort\":80,\"PublicPort\":8080,"
            "\"IP\":\"::1\",\"Type\":\"tcp\"},{\"PrivatePort\":80,\"PublicPort\":-1},"
            "{\"PrivatePort\":80,\"PublicPort\":79,\"IP\":\"0.0.0.0\"},{\"Type\":\"\"}]}",
            /* keys it steps over: deep nesting, numbers of every form, whitespace */
            "{ \"HostConfig\" : {\"a\":[[[[{\"b\":[1.5e-3,-0,2E+10,true]}]]]]},\n\t\"Id\":\"z\","
            "\"SizeRw\":12.25, \"Mounts\":[] }",
            /* states: every engine word, and none */
            "{\"State\":\"configured\"}",
            "{\"State\":\"stopping\"}",
            "{\"State\":\"weird\"}",
            "{\"Status\":\"Up 2 hours (unhealthy)\"}",
            "{\"Status\":\"Up (health: starting)\"}",
            /* found by fuzz_list: ports at the ends of int64 (the sort subtracted them) */
            "{\"Ports\":[{\"PrivatePort\":9223372036854775807},{\"PrivatePort\":"
            "-9223372036854775807},{\"PrivatePort\":1,\"PublicPort\":3000000000},"
            "{\"PrivatePort\":1,\"PublicPort\":1}]}",
        };
        for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
                char text[2048];
                snprintf(text, sizeof(text), "[%s,%s]", items[i], items[i]);
                same(text, false);
        }
}

static void edited_libpod_items(void **state)
{
        static const char *const items[] = {
            "{\"Id\":\"p\",\"Names\":[\"web\"],\"Image\":\"localhost/busybox:latest\","
            "\"State\":\"running\",\"Status\":\"healthy\",\"Created\":"
            "\"2026-11-01T10:00:00.123456789+02:00\",\"StartedAt\":1700000000,\"ExitedAt\":0,"
            "\"ExitCode\":0,\"Ports\":[{\"host_ip\":\"\",\"container_port\":8000,\"host_port\":"
            "9000,"
            "\"range\":3,\"protocol\":\"\"},{\"container_port\":53,\"host_port\":0,\"range\":0,"
            "\"protocol\":\"udp\"},7],\"Labels\":{\"a\":\"b\"}}",
            "{\"State\":\"exited\",\"ExitedAt\":1700000000,\"ExitCode\":137,\"Created\":\"bad\"}",
            "{\"State\":\"exited\",\"ExitCode\":1}",
            "{\"State\":\"paused\",\"StartedAt\":1}",
            "{\"State\":\"dead\"}",
            "{\"State\":\"created\",\"Status\":\"starting\"}",
            "{\"Names\":null,\"Labels\":null,\"Ports\":null,\"Created\":5}",
            /* found by fuzz_list: a range from a port past 65535 is not expanded (overflow) */
            "{\"Ports\":[{\"container_port\":9223372036854775807,\"host_port\":1,"
            "\"range\":2},{\"container_port\":1,\"host_port\":70000,\"range\":2}]}",
        };
        for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
                char text[2048];
                snprintf(text, sizeof(text), "[%s]", items[i]);
                same(text, true);
        }
}

static void shapes_left_to_the_tree_path(void **state)
{
        static const char *const bad[] = {
            "[{\"Id\":\"a\",\"Id\":\"b\"}]",            /* duplicate key */
            "[{\"Labels\":{\"k\":\"1\",\"k\":\"2\"}}]", /* duplicate label */
            "[{\"Labels\":{\"k\":\"v\",\"k\":1}}]",     /* json-c keeps the 1 (fuzz_list) */
            "[{\"Names\":[5]}]",                        /* json-c would print 5 */
            "[{\"Created\":1.5}]",                      /* a fraction where a number is used */
            "[{\"Created\":99999999999999999999}]",     /* past int64 */
            "[{\"Id\":\"a\\u0000b\"}]",                 /* a C string ends there */
            "[{\"Id\":\"\\ud800\"}]",                   /* lone surrogate */
            "[{\"Id\":\"\\udc00x\"}]",
            "[{\"Id\":\"a\tb\"}]", /* raw control character */
            "[{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}]",
            "[{}] x",
            "[{},]",
            "[{\"a\" 1}]",
            "[{\"a\":tru}]",
            "[{\"a\":01}]",
            "[{\"a\":\"\\x\"}]",
            "{}",
            "",
            "[null]",
            "[{\"Id\":\"a\"}",
            "[{\"Ports\":[{\"PrivatePort\":1.0}]}]",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                refused(bad[i], false);
        refused("[{\"ExitCode\":0.5}]", true);
        refused("[{\"Ports\":[{\"range\":2,\"range\":3}]}]", true);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(recorded_replies),
            cmocka_unit_test(edited_docker_items),
            cmocka_unit_test(edited_libpod_items),
            cmocka_unit_test(shapes_left_to_the_tree_path),
        };
        return cmocka_run_group_tests_name("list_text", tests, NULL, NULL);
}
