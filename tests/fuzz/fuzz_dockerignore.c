/* Fuzzes .dockerignore as a build reads it: the input (up to "\n#@paths\n") is the file, read by
 * cms_dockerignore_load from a scratch directory; the paths after the marker (one a line, plus a
 * few fixed ones) are cleaned and matched as a walk of the tree matches them, parents first,
 * with the re-include question asked of every ignored directory. Matching the same path twice
 * must answer the same. */
#include "fuzz.h"

#include <fcntl.h>
#include <unistd.h>

#include "daemon/images/dockerignore.h"

static int dirfd_ = -1;

/* Walks path's directories down to it; returns whether path is ignored. */
static bool walk(struct cms_dockerignore *ig, const char *path, size_t n)
{
        bool *parents = calloc(n + 1, 1), *self = calloc(n + 1, 1);
        char *p = strdup(path);
        FUZZ_CHECK(parents && self && p);
        size_t last = SIZE_MAX;
        for (char *slash = strchr(p, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = 0;
                if (cms_dockerignore_match(ig, p, parents, self, &last)) {
                        FUZZ_CHECK(last < n);
                        char dirslash[4200];
                        snprintf(dirslash, sizeof(dirslash), "%s/", p);
                        cms_dockerignore_may_reinclude(ig, dirslash, last);
                }
                memcpy(parents, self, n);
                *slash = '/';
        }
        bool r = cms_dockerignore_match(ig, p, parents, NULL, &last);
        FUZZ_CHECK(r ? last < n : 1);
        free(p);
        free(self);
        free(parents);
        return r;
}

static void match(struct cms_dockerignore *ig, const char *raw)
{
        char *clean = cms_path_clean(raw);
        FUZZ_CHECK(clean);
        /* Go's path.Clean is idempotent. */
        char *twice = cms_path_clean(clean);
        FUZZ_CHECK(twice && !strcmp(clean, twice));
        free(twice);
        if (clean[0] != '/' && strcmp(clean, ".") && strncmp(clean, "../", 3) &&
            strcmp(clean, "..")) {
                size_t n = cms_dockerignore_count(ig);
                bool a = walk(ig, clean, n);
                FUZZ_CHECK(a == walk(ig, clean, n));
        }
        free(clean);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (dirfd_ < 0)
                dirfd_ = open(fuzz_scratch(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        FUZZ_CHECK(dirfd_ >= 0);
        size_t plen, rlen;
        const uint8_t *rest;
        fuzz_split(data, size, "\n#@paths\n", &plen, &rest, &rlen);
        char path[300];
        snprintf(path, sizeof(path), "%s/.dockerignore", fuzz_scratch());
        fuzz_write_file(path, data, plen);
        struct cms_dockerignore *ig = NULL;
        struct cms_error err = {0};
        if (cms_dockerignore_load(dirfd_, &ig, &err) < 0) {
                FUZZ_CHECK(err.status == 400 && !ig);
                return 0;
        }
        static const char *fixed[] = {
            "Dockerfile",   "a/b/c.txt", "src/main.go", ".git/HEAD", "node_modules/x/index.js",
            "docs/a b/ü.md"};
        for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
                match(ig, fixed[i]);
        char *paths = fuzz_strndup(rest, rlen);
        int k = 0;
        for (char *save = NULL, *t = strtok_r(paths, "\n", &save); t && k < 16;
             t = strtok_r(NULL, "\n", &save), k++)
                match(ig, t);
        free(paths);
        cms_dockerignore_free(ig);
        return 0;
}
