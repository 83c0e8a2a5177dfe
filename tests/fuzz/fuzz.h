/* What the fuzzing harnesses share: a NUL-terminated copy of the input, the API server's JSON
 * reading (strict, depth 64, valid UTF-8), input split at a separator, and a private scratch
 * directory for the parsers that read files. Each harness defines LLVMFuzzerTestOneInput; built
 * with clang -fsanitize=fuzzer it is a libFuzzer target, linked with replay_main.c it replays a
 * corpus with any compiler (make test). Harnesses never print: a failed expectation aborts. */
#pragma once

#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the code under test that does not hold: a crash the fuzzer reports. */
#define FUZZ_CHECK(cond)                                                                           \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
                        abort();                                                                   \
                }                                                                                  \
        } while (0)

static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
        char *s = malloc(size + 1);
        if (!s)
                abort();
        if (size)
                memcpy(s, data, size);
        s[size] = 0;
        return s;
}

/* As the API server reads a request body (api/server.c): NULL when it is not strict JSON. */
static inline json_object *fuzz_json(const char *s, size_t len)
{
        json_tokener *tok = json_tokener_new_ex(64);
        if (!tok)
                abort();
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        json_object *o = json_tokener_parse_ex(tok, s, (int)len);
        if (json_tokener_get_error(tok) != json_tokener_success) {
                json_object_put(o);
                o = NULL;
        }
        json_tokener_free(tok);
        return o;
}

/* Splits data at the first occurrence of sep (a byte string): *a the part before, *b the part
 * after (empty when sep is absent). */
static inline void fuzz_split(const uint8_t *data, size_t size, const char *sep, size_t *alen,
                              const uint8_t **b, size_t *blen)
{
        size_t sl = strlen(sep);
        const uint8_t *p = sl && size >= sl ? memmem(data, size, sep, sl) : NULL;
        *alen = p ? (size_t)(p - data) : size;
        *b = p ? p + sl : data + size;
        *blen = p ? size - *alen - sl : 0;
}

static char fuzz_scratch_dir[256];

static inline int fuzz_rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
        return remove(p);
}

static inline void fuzz_scratch_remove(void)
{
        nftw(fuzz_scratch_dir, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A scratch directory of this process, made once under $TMPDIR (tests/fuzz/run.sh points it at
 * a tmpfs) and removed when the process exits: the harnesses that need files rewrite the same
 * few names in it. */
static inline const char *fuzz_scratch(void)
{
        if (!fuzz_scratch_dir[0]) {
                const char *t = getenv("TMPDIR");
                snprintf(fuzz_scratch_dir, sizeof(fuzz_scratch_dir), "%.200s/cmsd-fuzz-XXXXXX",
                         t && *t ? t : "/tmp");
                if (!mkdtemp(fuzz_scratch_dir))
                        abort();
                atexit(fuzz_scratch_remove);
        }
        return fuzz_scratch_dir;
}

/* Writes data to path whole (truncating); aborts when the scratch directory fails us. */
static inline void fuzz_write_file(const char *path, const void *data, size_t size)
{
        FILE *f = fopen(path, "wb");
        if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
                abort();
}
