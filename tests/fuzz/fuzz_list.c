/* Fuzzes GET /v1/containers's two ways of answering against each other: the input is the
 * engine's list reply (Docker's /containers/json, Podman's compat list or its native /libpod
 * list), answered by the text path (list_scan.c + list_text.c: scanned, never built as trees)
 * and by the tree path the handler falls back to (the engine client's JSON parse,
 * cms_container_list_item(_libpod), the viewer redaction, the reply document). Each input is read
 * as Docker's and as libpod's list, by a viewer and by an operator. Whenever the text path
 * answers, the tree path must answer too and with JSON-equal text (json_object_equal on both
 * parsed); a refusal (-EAGAIN) is always allowed, since the handler then takes the tree path.
 * CMSD_FUZZ_LIST_BYTES=1 in the environment asks for byte-equal text as well. The label filters
 * and "all" only change the engine's request, not how its reply is read, so they are not varied.
 * Status texts count from time(NULL): a difference is checked again with a fresh tree answer, so
 * a second ticking over between the two ways is not reported. */
#include "fuzz.h"

#include "daemon/containers/list_text.h"
#include "daemon/containers/model.h"
#include "daemon/engine/internal.h"
#include "daemon/security/redact.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

static bool bytes_too;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        const char *b = getenv("CMSD_FUZZ_LIST_BYTES");
        bytes_too = b && !strcmp(b, "1");
        return 0;
}

/* The tree path's reply document for the parsed engine reply (cms_containers_list, then
 * cms_reply_json's shaping and printing); NULL where that path answers with an error. */
static char *tree_reply(json_object *list, bool libpod, bool viewer)
{
        if (!json_object_is_type(list, json_type_array))
                return NULL; /* 502 "not an array", or 502 "not valid JSON" */
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
        if (!s)
                abort();
        return s;
}

/* A reply document parsed whole (json-c as the tests' clients read it); NULL when it is not. */
static json_object *parse_all(const char *s, size_t len)
{
        json_tokener *tok = json_tokener_new_ex(64);
        if (!tok)
                abort();
        json_object *o = json_tokener_parse_ex(tok, s, (int)len);
        bool ok = json_tokener_get_error(tok) == json_tokener_success &&
                  json_tokener_get_parse_end(tok) == len;
        json_tokener_free(tok);
        if (!ok) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

static bool same_answer(const char *want, json_object *got, const struct cms_buf *text)
{
        json_object *w = parse_all(want, strlen(want));
        FUZZ_CHECK(w); /* json-c reads back what it printed */
        bool eq = json_object_equal(w, got);
        json_object_put(w);
        if (eq && bytes_too)
                eq = text->len == strlen(want) && !memcmp(text->data, want, text->len);
        return eq;
}

/* Aborts, showing both answers (the one place a harness prints: the report of a mismatch). */
static void mismatch(const char *why, const char *want, const struct cms_buf *got, bool libpod,
                     bool viewer)
{
        fprintf(stderr, "fuzz_list: %s (libpod %d, viewer %d)\ntree: %.4000s\ntext: %.*s\n", why,
                libpod, viewer, want ? want : "(error reply)",
                got->len > 4000 ? 4000 : (int)got->len, got->data ? got->data : "");
        abort();
}

static void one_way(const char *body, size_t len, json_object *list, bool libpod, bool viewer)
{
        char *want = tree_reply(list, libpod, viewer);
        struct cms_buf b;
        cms_buf_init(&b, 0);
        int rc = cms_container_list_text(body, len, libpod, viewer, &b);
        FUZZ_CHECK(rc == 0 || rc == -EAGAIN);
        if (rc == 0) {
                if (!want)
                        mismatch("the text path answers where the tree path refuses the reply",
                                 want, &b, libpod, viewer);
                json_object *got = parse_all(b.data, b.len);
                if (!got)
                        mismatch("the text path's answer is not JSON", want, &b, libpod, viewer);
                if (!same_answer(want, got, &b)) {
                        /* A status text may have counted one second more: ask the tree again. */
                        free(want);
                        want = tree_reply(list, libpod, viewer);
                        if (!same_answer(want, got, &b))
                                mismatch("the answers differ", want, &b, libpod, viewer);
                }
                json_object_put(got);
        }
        cms_buf_free(&b);
        free(want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        /* The engine client hands the reply on as bytes with a length, not as a C string: the
         * input itself (exactly its size) is what both ways read. */
        const char *body = size ? (const char *)data : ""; /* as list_text.c's caller passes */
        json_object *list = NULL;
        struct cms_error err = {0};
        if (cms_eng_parse_json(body, size, &list, &err) < 0)
                FUZZ_CHECK(!list && err.status >= 500);
        for (int libpod = 0; libpod < 2; libpod++)
                for (int viewer = 0; viewer < 2; viewer++)
                        one_way(body, size, list, libpod, viewer);
        json_object_put(list);
        return 0;
}
