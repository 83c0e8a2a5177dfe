/* Unit tests for daemon/images/dockerignore.c: Go filepath.Match syntax with "**" and UTF-8, the
 * cleaning and trimming of lines, "!" and parent directories as a walk feeds them, the look inside
 * ignored directories, the refusals and caps, and cms_path_clean against Go's path.Clean. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "daemon/images/dockerignore.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Loads text (len bytes) as a .dockerignore; NULL and err filled when it is refused. */
static struct cms_dockerignore *load_n(const char *text, size_t len, struct cms_error *err)
{
        char dir[] = "/tmp/test_dockerignore.XXXXXX", path[64];
        struct cms_dockerignore *ig = (struct cms_dockerignore *)1;
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/.dockerignore", dir);
        if (text) {
                int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
                assert_true(fd >= 0);
                assert_int_equal(write(fd, text, len), (ssize_t)len);
                close(fd);
        }
        int dfd = open(dir, O_RDONLY | O_DIRECTORY);
        assert_true(dfd >= 0);
        int r = cms_dockerignore_load(dfd, &ig, err);
        close(dfd);
        if (text)
                assert_int_equal(unlink(path), 0);
        assert_int_equal(rmdir(dir), 0);
        assert_true(r == 0 ? ig != NULL : ig == NULL);
        return ig;
}

static struct cms_dockerignore *load(const char *text)
{
        struct cms_error err = {0};
        struct cms_dockerignore *ig = load_n(text, text ? strlen(text) : 0, &err);
        if (!ig)
                fail_msg("load '%s': %s", text, err.message);
        return ig;
}

/* Whether path is ignored, its parent directories matched first as a walk does; *last: the
 * deciding pattern. */
static bool walk_to(struct cms_dockerignore *ig, const char *path, size_t *last)
{
        size_t n = cms_dockerignore_count(ig);
        bool *parents = calloc(n + 1, 1), *self = calloc(n + 1, 1);
        char *p = strdup(path);
        for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
                *s = 0;
                cms_dockerignore_match(ig, p, parents, self, last);
                memcpy(parents, self, n);
                *s = '/';
        }
        bool r = cms_dockerignore_match(ig, p, parents, NULL, last);
        free(p);
        free(parents);
        free(self);
        return r;
}

static bool ignored(struct cms_dockerignore *ig, const char *path)
{
        size_t last;
        return walk_to(ig, path, &last);
}

struct mcase {
        const char *ignore, *path;
        bool want;
};

static void check_cases(const struct mcase *c, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                struct cms_dockerignore *ig = load(c[i].ignore);
                if (ignored(ig, c[i].path) != c[i].want)
                        fail_msg("case %zu: '%s' on '%s': want %s", i, c[i].ignore, c[i].path,
                                 c[i].want ? "ignored" : "kept");
                cms_dockerignore_free(ig);
        }
}

static void test_syntax(void **state)
{
        static const struct mcase c[] = {
            {"*.go", "a.go", true},
            {"*.go", ".go", true},
            {"*.go", "x/a.go", false},
            {"*.go", "a.goo", false},
            {"?b", "ab", true},
            {"?b", "b", false},
            {"?b", "abb", false},
            {"a?c", "a/c", false},
            {"a*c", "a/c", false},
            {"[a-c]x", "bx", true},
            {"[a-c]x", "dx", false},
            {"[^a-c]x", "dx", true},
            {"[^a-c]x", "bx", false},
            {"[!a]", "!", true}, /* only '^' negates, as in Go */
            {"[\\]]", "]", true},
            {"[\\-]", "-", true},
            {"\\*", "*", true},
            {"\\*", "a", false},
            {"\\a\\b", "ab", true},
            {"?t?", "\xc3\xa9t\xc3\xa9", true}, /* one rune, not one byte */
            {"?", "\xc3\xa9", true},
            {"??", "\xc3\xa9", false},
            {"[\xc3\xa0-\xc3\xbf]", "\xc3\xa9", true},
            {"[\xc3\xa0-\xc3\xbf]", "e", false},
            {"?", "\xff", true}, /* a stray byte is one character... */
            {"\xff", "\xff", true},
            {"[\xc3\xa0-\xc3\xbf]", "\xff", false}, /* ...that is no code point */
            {"?", "\xc3", true},
            {"*", "a/b", true}, /* through its parent */
            {"*/b", "a/b/c", true},
            {"*/b", "a/c", false},
        };
        check_cases(c, ELEMENTSOF(c));
}

static void test_double_star(void **state)
{
        static const struct mcase c[] = {
            {"**", "a", true},
            {"**", "a/b/c", true},
            {"**/y", "y", true},
            {"**/y", "x/y", true},
            {"**/y", "x/z/y", true},
            {"**/y", "xy", false},
            {"**/y", "x/y/z", true},
            {"x/**/a.go", "x/a.go", true},
            {"x/**/a.go", "x/y/z/a.go", true},
            {"x/**/a.go", "xa.go", false},
            {"x/**/a.go", "x/b.go", false},
            {"x/**", "x/a", true},
            {"x/**", "x", false},
            {"**b", "b", true},
            {"**b", "x/b", true},
            {"**b", "ab", false},
            {"x/**.txt", "x/y/b.txt", false},
            {"x/**.txt", "x/.txt", true},
            {"**/*.tmp", "a.tmp", true},
            {"**/*.tmp", "a/b/c.tmp", true},
        };
        check_cases(c, ELEMENTSOF(c));
}

/* Lines are trimmed and cleaned as Docker reads them. */
static void test_lines(void **state)
{
        static const struct mcase c[] = {
            {"  a  \n", "a", true},
            {"a\r\n", "a", true},
            {"\xef\xbb\xbf"
             "a",
             "a", true},
            {"#a\n", "#a", false},
            {" #a\n", "#a", true}, /* a comment only when '#' comes first */
            {"/secret/", "secret", true},
            {"/secret/", "secret/k", true},
            {"x/./y/../y", "x/y", true},
            {"./a//b/", "a/b", true},
            {"../a", "a", false},
            {"/", "a", false},
            {"a\n\n\nb", "b", true},
            {"! a", "a", false},
        };
        check_cases(c, ELEMENTSOF(c));
        struct cms_dockerignore *ig = load("# c\n\n  \na\n!b\n\r\n");
        assert_int_equal(cms_dockerignore_count(ig), 2);
        cms_dockerignore_free(ig);
}

/* The last pattern matching a path or a parent decides; *last names it. */
static void test_last_wins(void **state)
{
        struct cms_dockerignore *ig = load("x\n!x/keep\n*.log\n!**/ok.log\n");
        size_t last;
        assert_true(walk_to(ig, "x", &last));
        assert_int_equal(last, 0);
        assert_true(walk_to(ig, "x/other", &last));
        assert_int_equal(last, 0);
        assert_false(walk_to(ig, "x/keep", &last));
        assert_int_equal(last, 1);
        assert_false(walk_to(ig, "x/keep/deeper", &last)); /* "!x/keep" matches its parent */
        assert_int_equal(last, 1);
        assert_true(walk_to(ig, "a.log", &last));
        assert_int_equal(last, 2);
        assert_false(walk_to(ig, "ok.log", &last));
        assert_int_equal(last, 3);
        assert_false(walk_to(ig, "src/a.log", &last));
        assert_int_equal(last, SIZE_MAX);
        assert_false(walk_to(ig, "x/ok.log", &last)); /* the "!" line comes after "x" */
        assert_int_equal(last, 3);
        cms_dockerignore_free(ig);
        ig = load("x\n!x/keep\nx\n");
        assert_true(walk_to(ig, "x/keep", &last));
        assert_int_equal(last, 2);
        cms_dockerignore_free(ig);
        ig = load("*\n!x");
        assert_false(ignored(ig, "x/a"));
        assert_true(ignored(ig, "y/a"));
        cms_dockerignore_free(ig);
}

/* self[] carries down what matched a directory or its parents. */
static void test_self(void **state)
{
        struct cms_dockerignore *ig = load("a\nb\n!a/c\n");
        bool none[3] = {false, false, false}, self[3], sub[3];
        size_t last;
        assert_true(cms_dockerignore_match(ig, "a", none, self, &last));
        assert_true(self[0] && !self[1] && !self[2]);
        assert_int_equal(last, 0);
        assert_false(cms_dockerignore_match(ig, "a/c", self, sub, &last));
        assert_true(sub[0] && !sub[1] && sub[2]);
        assert_int_equal(last, 2);
        assert_false(cms_dockerignore_match(ig, "c", none, self, &last));
        assert_true(!self[0] && !self[1] && !self[2]);
        assert_int_equal(last, SIZE_MAX);
        bool parents[3] = {false, true, false}; /* what the caller says is what counts */
        assert_true(cms_dockerignore_match(ig, "z", parents, NULL, &last));
        assert_int_equal(last, 1);
        cms_dockerignore_free(ig);
}

static void test_may_reinclude(void **state)
{
        static const struct {
                const char *ignore, *dir;
                bool want;
        } c[] = {
            {"x\n!x/y/b.txt", "x/", true},
            {"x\n!x/y/b.txt", "x/z/", false},
            {"x\n!x/y/b.txt", "x/y/", true},
            {"x\n!z", "x/", false},
            {"x\n!*/keep", "x/", true},
            {"x\n!**/keep", "x/", true},
            {"x\n!**/keep", "x/a/b/", true},
            {"x\n!y*", "x/", false},
            {"x\n!x[/]", "x/", false}, /* matches "x/" itself, nothing longer */
            {"x\n![a-z]/k", "x/", true},
            {"x\n!x/y/b.txt\nx", "x/", false}, /* the "!" comes before the deciding pattern */
            {"x\nx/y\n", "x/", false},         /* only "!" patterns count */
        };
        for (size_t i = 0; i < ELEMENTSOF(c); i++) {
                struct cms_dockerignore *ig = load(c[i].ignore);
                size_t dlen = strlen(c[i].dir), last;
                char *dir = strndup(c[i].dir, dlen - 1);
                assert_true(walk_to(ig, dir, &last));
                if (cms_dockerignore_may_reinclude(ig, c[i].dir, last) != c[i].want)
                        fail_msg("case %zu: '%s' on '%s': want %d", i, c[i].ignore, c[i].dir,
                                 c[i].want);
                free(dir);
                cms_dockerignore_free(ig);
        }
}

static void test_no_file(void **state)
{
        static const bool none[1];
        size_t last = 0;
        struct cms_dockerignore *ig = load(NULL);
        assert_int_equal(cms_dockerignore_count(ig), 0);
        assert_false(cms_dockerignore_match(ig, "a", none, NULL, &last));
        assert_int_equal(last, SIZE_MAX);
        cms_dockerignore_free(ig);
        ig = load("");
        assert_int_equal(cms_dockerignore_count(ig), 0);
        cms_dockerignore_free(ig);
        cms_dockerignore_free(NULL);
}

static void expect_refused(const char *text, size_t len, int status, const char *needle)
{
        struct cms_error err = {0};
        assert_null(load_n(text, len, &err));
        assert_int_equal(err.status, status);
        if (!strstr(err.message, needle))
                fail_msg("'%s' does not say '%s'", err.message, needle);
}

/* Lines of n patterns, each of plen bytes. */
static char *patterns(size_t n, size_t plen, size_t *len)
{
        char *s = malloc(n * (plen + 1) + 1);
        for (size_t i = 0; i < n; i++) {
                memset(s + i * (plen + 1), 'p', plen);
                s[i * (plen + 1) + plen] = '\n';
        }
        *len = n * (plen + 1);
        s[*len] = 0;
        return s;
}

static void test_refused(void **state)
{
        static const char *bad[] = {"a[",   "[]a]",  "trailing\\", "[a-",
                                    "[a-]", "[ab-]", "[^]",        "x[\\"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                expect_refused(bad[i], strlen(bad[i]), 400, "syntax error");
        expect_refused("ok\n  !  \n", 9, 400, "illegal exclusion");
        expect_refused("!", 1, 400, "illegal exclusion");
        size_t len;
        char *s = patterns(1, 4096, &len);
        cms_dockerignore_free(load(s));
        free(s);
        s = patterns(1, 4097, &len);
        expect_refused(s, len, 400, "longer than 4096");
        free(s);
        s = patterns(10000, 1, &len);
        struct cms_dockerignore *ig = load(s);
        assert_int_equal(cms_dockerignore_count(ig), 10000);
        cms_dockerignore_free(ig);
        free(s);
        s = patterns(10001, 1, &len);
        expect_refused(s, len, 400, "more than 10000");
        free(s);
        s = calloc(1024 * 1024 + 1, 1);
        memset(s, '\n', 1024 * 1024 + 1);
        cms_dockerignore_free(load_n(s, 1024 * 1024, &(struct cms_error){0}));
        expect_refused(s, 1024 * 1024 + 1, 400, "larger than 1 MiB");
        free(s);

        char dir[] = "/tmp/test_dockerignore.XXXXXX", path[64];
        struct cms_error err = {0};
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/.dockerignore", dir);
        assert_int_equal(mkdir(path, 0755), 0);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY);
        ig = (struct cms_dockerignore *)1;
        assert_true(cms_dockerignore_load(dfd, &ig, &err) < 0);
        assert_null(ig);
        assert_int_equal(err.status, 400);
        assert_non_null(strstr(err.message, "not a regular file"));
        close(dfd);
        assert_int_equal(rmdir(path), 0);
        assert_int_equal(rmdir(dir), 0);
}

static void test_path_clean(void **state)
{
        static const char *c[][2] = {
            {"", "."},
            {".", "."},
            {"a", "a"},
            {"a//b", "a/b"},
            {"./a/", "a"},
            {"a/.", "a"},
            {"a/..", "."},
            {"a/../..", ".."},
            {"../../a", "../../a"},
            {"a/b/../../c", "c"},
            {"/", "/"},
            {"//a//", "/a"},
            {"/..", "/"},
            {"/../a", "/a"},
            {"..a/b.", "..a/b."},
            {".a/...", ".a/..."},
            {"a/../../b/./c/", "../b/c"},
        };
        for (size_t i = 0; i < ELEMENTSOF(c); i++) {
                char *got = cms_path_clean(c[i][0]);
                assert_non_null(got);
                if (strcmp(got, c[i][1]))
                        fail_msg("'%s': got '%s', want '%s'", c[i][0], got, c[i][1]);
                free(got);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_syntax),     cmocka_unit_test(test_double_star),
            cmocka_unit_test(test_lines),      cmocka_unit_test(test_last_wins),
            cmocka_unit_test(test_self),       cmocka_unit_test(test_may_reinclude),
            cmocka_unit_test(test_no_file),    cmocka_unit_test(test_refused),
            cmocka_unit_test(test_path_clean),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
