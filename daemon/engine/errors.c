/* Engine replies -> cmsd errors, and reply bodies -> JSON (with a depth cap). The engine's own
 * message is what a user can act on ("No such container: x"), so it is kept verbatim; only the
 * status is translated into the API's set. The lowest file of the engine client. */
#include "internal.h"

#include <ctype.h>
#include <limits.h>

#define JSON_MAX_DEPTH 64

static const char *status_text(long status)
{
        static const struct {
                long status;
                const char *text;
        } texts[] = {
            {400, "Bad Request"},
            {401, "Unauthorized"},
            {403, "Forbidden"},
            {404, "Not Found"},
            {405, "Method Not Allowed"},
            {406, "Not Acceptable"},
            {409, "Conflict"},
            {413, "Payload Too Large"},
            {415, "Unsupported Media Type"},
            {500, "Internal Server Error"},
            {501, "Not Implemented"},
            {502, "Bad Gateway"},
            {503, "Service Unavailable"},
            {504, "Gateway Timeout"},
        };
        for (size_t i = 0; i < ELEMENTSOF(texts); i++)
                if (texts[i].status == status)
                        return texts[i].text;
        return "engine error";
}

/* The "message" of a JSON error body, else the body itself when it is short readable text. */
static void engine_message(const char *body, size_t len, long status, char *out, size_t outlen)
{
        if (body && len) {
                json_object *j = NULL;
                if (cms_eng_parse_json(body, len, &j, NULL) == 0 && j) {
                        json_object *m;
                        if (json_object_object_get_ex(j, "message", &m) &&
                            json_object_is_type(m, json_type_string) &&
                            json_object_get_string_len(m) > 0) {
                                snprintf(out, outlen, "%s", json_object_get_string(m));
                                json_object_put(j);
                                return;
                        }
                        json_object_put(j);
                }
                size_t a = 0, b = len;
                while (a < b && isspace((unsigned char)body[a]))
                        a++;
                while (b > a && isspace((unsigned char)body[b - 1]))
                        b--;
                bool printable = b > a;
                for (size_t i = a; i < b && printable; i++)
                        if (body[i] == 0 || ((unsigned char)body[i] < 0x20 && body[i] != '\t' &&
                                             body[i] != '\n' && body[i] != '\r'))
                                printable = false;
                if (printable) {
                        size_t n = b - a < outlen - 1 ? b - a : outlen - 1;
                        memcpy(out, body + a, n);
                        out[n] = 0;
                        return;
                }
        }
        snprintf(out, outlen, "%s", status_text(status));
}

/* Podman answers 500 for conditions Docker reports as 409, naming them in "cause". */
static bool podman_conflict(const char *body, size_t len)
{
        static const char *const causes[] = {"container state improper", "that name is already in use",
                                             "volume is being used", "container already exists",
                                             "pod already exists", "network is being used", NULL};
        json_object *j = NULL;
        if (!body || !len || cms_eng_parse_json(body, len, &j, NULL) < 0 || !j)
                return false;
        json_object *c = NULL;
        bool hit = false;
        if (json_object_object_get_ex(j, "cause", &c) && json_object_is_type(c, json_type_string))
                for (size_t i = 0; causes[i] && !hit; i++)
                        hit = !strcmp(json_object_get_string(c), causes[i]);
        json_object_put(j);
        return hit;
}

int cms_eng_map_status(long status, const char *body, size_t len, struct cms_error *err)
{
        if (status >= 100 && status < 400)
                return 0;
        if (status == 500 && podman_conflict(body, len))
                status = 409;
        int ours;
        /* The engine's own 401/403 (a registry's, a proxy's) are not about the caller's token:
         * they stay engine errors, so 401/403 keep meaning "your token". */
        switch (status) {
        case 400:
        case 404:
        case 409:
                ours = (int)status;
                break;
        default:
                ours = 502;
                break;
        }
        char msg[sizeof(err->message)];
        engine_message(body, len, status, msg, sizeof(msg));
        if (err)
                err->retry_after = 0;
        return cms_err(err, ours, "%s", msg);
}

int cms_eng_unavailable(struct cms_error *err, const char *fmt, ...)
{
        char msg[sizeof(err->message)];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (err)
                err->retry_after = 0; /* cms_err fills in its default */
        return cms_err(err, 503, "%s", msg);
}

int cms_eng_parse_json(const char *body, size_t len, json_object **out, struct cms_error *err)
{
        *out = NULL;
        size_t i = 0;
        while (i < len && isspace((unsigned char)body[i]))
                i++;
        if (i == len)
                return 0;
        if (len > INT_MAX)
                return cms_err(err, 502, "engine reply too large to parse");
        struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
        if (!tok)
                return cms_err(err, 500, "out of memory");
        json_object *j = json_tokener_parse_ex(tok, body, (int)len);
        enum json_tokener_error jerr = json_tokener_get_error(tok);
        size_t end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        while (j && end < len && isspace((unsigned char)body[end]))
                end++;
        if (!j || jerr != json_tokener_success || end != len) {
                json_object_put(j);
                return cms_err(err, 502, "engine reply is not valid JSON");
        }
        *out = j;
        return 0;
}
