/* Unit tests for daemon/images/tar_dir.c (libarchive writes the archive): archives of temporary
 * trees read in odd chunk sizes, checked by a parser written here and by GNU tar extracting
 * them; .dockerignore semantics; refusals; the depth and path-length caps (deep trees of long
 * names); symlink loops, fifos and sockets in the context; files that shrink or vanish while
 * being sent; PAX for long names and sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "daemon/images/tar_dir.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct entry {
        char name[8192];
        char link[8192];
        char type;
        unsigned mode;
        uint64_t size;
        long long mtime;
        const char *data;
};

static char *tmpdir(void)
{
        char tmpl[] = "/tmp/test_tar_dir.XXXXXX";
        assert_non_null(mkdtemp(tmpl));
        return strdup(tmpl);
}

static void run(const char *fmt, ...)
{
        char cmd[4096];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        assert_int_equal(system(cmd), 0);
}

static void rm_rf(char *dir)
{
        run("rm -rf '%s'", dir);
        free(dir);
}

/* Creates root/rel with data, making its parent directories. */
static void put_mode(const char *root, const char *rel, const char *data, size_t len, mode_t mode)
{
        char path[8192];
        snprintf(path, sizeof(path), "%s/%s", root, rel);
        for (char *s = strchr(path + strlen(root) + 1, '/'); s; s = strchr(s + 1, '/')) {
                *s = 0;
                mkdir(path, 0755);
                *s = '/';
        }
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, len), (ssize_t)len);
        close(fd);
        assert_int_equal(chmod(path, mode), 0);
}

static void put(const char *root, const char *rel, const char *data)
{
        put_mode(root, rel, data, strlen(data), 0644);
}

static void put_link(const char *root, const char *rel, const char *target)
{
        char path[8192];
        snprintf(path, sizeof(path), "%s/%s", root, rel);
        assert_int_equal(symlink(target, path), 0);
}

static uint64_t octal(const char *f, size_t n)
{
        uint64_t v = 0;
        for (size_t i = 0; i < n && f[i] >= '0' && f[i] <= '7'; i++)
                v = v * 8 + (uint64_t)(f[i] - '0');
        return v;
}

/* The PAX records of one extended header, applied to e. */
static void pax_apply(const char *d, size_t n, struct entry *e, uint64_t *size, bool *has_size)
{
        size_t off = 0;
        while (off < n) {
                char *sp;
                size_t len = strtoul(d + off, &sp, 10);
                assert_true(len > 0 && off + len <= n && *sp == ' ' && d[off + len - 1] == '\n');
                const char *kv = sp + 1, *eq = memchr(kv, '=', (size_t)(d + off + len - kv));
                assert_non_null(eq);
                size_t vlen = (size_t)(d + off + len - 1 - (eq + 1));
                if (!strncmp(kv, "path=", 5))
                        memcpy(e->name, eq + 1, vlen), e->name[vlen] = 0;
                else if (!strncmp(kv, "linkpath=", 9))
                        memcpy(e->link, eq + 1, vlen), e->link[vlen] = 0;
                else if (!strncmp(kv, "size=", 5))
                        *size = strtoull(eq + 1, NULL, 10), *has_size = true;
                else if (!strncmp(kv, "mtime=", 6))
                        e->mtime = strtoll(eq + 1, NULL, 10);
                off += len;
        }
}

/* Parses a whole archive into out[]: checksums, magic, PAX, padding and the two end blocks. */
static size_t parse(const char *a, size_t len, struct entry *out, size_t max)
{
        static const char zero[1024];
        size_t off = 0, n = 0;
        struct entry pend = {0};
        uint64_t psize = 0;
        bool has_psize = false;
        assert_int_equal(len % 512, 0);
        for (;;) {
                assert_true(off + 512 <= len);
                const char *h = a + off;
                if (!memcmp(h, zero, 512)) {
                        assert_int_equal(off + 1024, len);
                        assert_memory_equal(h + 512, zero, 512);
                        return n;
                }
                unsigned sum = 0;
                for (size_t i = 0; i < 512; i++)
                        sum += (i >= 148 && i < 156) ? ' ' : (unsigned char)h[i];
                assert_int_equal(sum, octal(h + 148, 8));
                assert_memory_equal(h + 257,
                                    "ustar\0"
                                    "00",
                                    8);
                uint64_t size = octal(h + 124, 12);
                char type = h[156];
                if (type != 'x' && has_psize)
                        size = psize;
                off += 512;
                assert_true(off + size <= len);
                if (type == 'x') {
                        pax_apply(a + off, size, &pend, &psize, &has_psize);
                        off += (size + 511) / 512 * 512;
                        continue;
                }
                assert_true(n < max);
                struct entry *e = &out[n++];
                *e = pend;
                if (!e->name[0] && h[345]) /* ustar: prefix '/' name */
                        snprintf(e->name, sizeof(e->name), "%.155s/%.100s", h + 345, h);
                else if (!e->name[0])
                        memcpy(e->name, h, 100), e->name[100] = 0;
                if (!e->link[0])
                        memcpy(e->link, h + 157, 100), e->link[100] = 0;
                if (!e->mtime)
                        e->mtime = (long long)octal(h + 136, 12);
                e->type = type;
                e->mode = (unsigned)octal(h + 100, 8);
                e->size = size;
                e->data = a + off;
                off += (size + 511) / 512 * 512;
                for (const char *p = a + off - (size + 511) / 512 * 512 + size; p < a + off; p++)
                        assert_int_equal(*p, 0);
                memset(&pend, 0, sizeof(pend));
                has_psize = false;
        }
}

/* The whole archive of dir, read step bytes at a time. */
static char *stream(const char *dir, const char *dockerfile, size_t step, size_t *len)
{
        struct cms_tar_dir *t = NULL;
        struct cms_error err = {0};
        int r = cms_tar_dir_new(dir, dockerfile, &t, &err);
        if (r < 0)
                fail_msg("cms_tar_dir_new: %s", err.message);
        size_t cap = 1 << 16, n = 0;
        char *buf = malloc(cap);
        for (;;) {
                while (n + step > cap)
                        buf = realloc(buf, cap *= 2);
                ssize_t got = cms_tar_dir_read(buf + n, step, t);
                if (got < 0)
                        fail_msg("read: %s", cms_tar_dir_error(t)->message);
                assert_true((size_t)got <= step);
                if (got == 0)
                        break;
                n += (size_t)got;
        }
        assert_int_equal(cms_tar_dir_read(buf, step, t), 0);
        cms_tar_dir_free(t);
        *len = n;
        return buf;
}

static char *join(const struct entry *e, size_t n)
{
        char *out = NULL;
        size_t len;
        FILE *f = open_memstream(&out, &len);
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%s%s", i ? " " : "", e[i].name);
        fclose(f);
        return out;
}

/* The entry names of dir's archive, joined by spaces. */
static char *names_of(const char *dir, const char *dockerfile)
{
        static struct entry e[256];
        size_t len;
        char *a = stream(dir, dockerfile, 4096, &len);
        char *out = join(e, parse(a, len, e, 256));
        free(a);
        return out;
}

static const struct entry *find(const struct entry *e, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (!strcmp(e[i].name, name))
                        return &e[i];
        fail_msg("no entry '%s'", name);
        return NULL;
}

/* A tree with every kind of entry, names around the ustar limits and a byte-order listing. */
static void make_tree(const char *d, char *long_name, char *long_target)
{
        static char big[300 * 1024 + 7], exact[512], odd[513];
        for (size_t i = 0; i < sizeof(big); i++)
                big[i] = (char)(i * 2654435761u >> 13);
        memset(exact, 'e', sizeof(exact));
        memset(odd, 'o', sizeof(odd));
        put(d, "Dockerfile", "FROM scratch\nCOPY . /\n");
        put(d, "empty", "");
        put(d, "B", "upper");
        put(d, "a/b/c/file.txt", "deep\n");
        put(d, "a-b", "dash");
        put(d, "a.txt", "dot");
        put_mode(d, "big.bin", big, sizeof(big), 0644);
        put_mode(d, "exact512", exact, sizeof(exact), 0644);
        put_mode(d, "odd513", odd, sizeof(odd), 0644);
        put_mode(d, "run.sh", "#!/bin/sh\n", 10, 0755);
        put_mode(d, "secret.key", "k", 1, 0600);
        put(d,
            "\xc3\xbcnic\xc3\xb6"
            "de.txt",
            "utf-8");
        memset(long_name, 'n', 250);
        long_name[250] = 0;
        put(d, long_name, "long name");
        put(d,
            "p/0123456789012345678901234567890123456789/0123456789012345678901234567890123456789"
            "/0123456789/deep-enough.txt",
            "over 100 with its directories");
        put_link(d, "link", "a/b/c/file.txt");
        put_link(d, "dangling", "nowhere/at/all");
        put_link(d, "dirlink", "a");
        memset(long_target, 't', 150);
        long_target[150] = 0;
        put_link(d, "longlink", long_target);
        char fifo[4096];
        snprintf(fifo, sizeof(fifo), "%s/a/fifo", d);
        assert_int_equal(mkfifo(fifo, 0644), 0);
        run("chmod 0750 '%s/a/b'", d);
}

/* GNU tar reads the archive back into the same tree as d (the fifo is not sent), modes and
 * mtimes included. */
static void extract_and_compare(const char *d, const char *archive, size_t len)
{
        char *out = tmpdir();
        const char *list =
            "find . -mindepth 1 ! -type p ! -type l -exec stat -c '%n %a %Y %s' {} +";
        FILE *f = fopen("/tmp/test_tar_dir.tar", "w");
        assert_non_null(f);
        assert_int_equal(fwrite(archive, 1, len, f), len);
        fclose(f);
        run("tar -xf /tmp/test_tar_dir.tar -C '%s' && rm /tmp/test_tar_dir.tar", out);
        run("diff -r --no-dereference -x fifo '%s' '%s'", d, out);
        run("cd '%s' && %s | sort > /tmp/test_tar_dir.a", d, list);
        run("cd '%s' && %s | sort > /tmp/test_tar_dir.b", out, list);
        run("cmp /tmp/test_tar_dir.a /tmp/test_tar_dir.b && rm /tmp/test_tar_dir.a "
            "/tmp/test_tar_dir.b");
        rm_rf(out);
}

static void test_tree_roundtrip(void **state)
{
        char *d = tmpdir(), long_name[251], long_target[151];
        make_tree(d, long_name, long_target);
        static const size_t steps[] = {1, 7, 512, 513, 65536};
        static struct entry e[64];
        size_t len0 = 0;
        char *first = NULL;
        for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
                size_t len;
                char *a = stream(d, NULL, steps[s], &len);
                if (!first) {
                        first = a, len0 = len;
                        continue;
                }
                assert_int_equal(len, len0); /* deterministic, whatever the read size */
                assert_memory_equal(a, first, len);
                free(a);
        }
        size_t n = parse(first, len0, e, 64);
        char want[4096];
        snprintf(
            want, sizeof(want),
            "B Dockerfile a/ a/b/ a/b/c/ a/b/c/file.txt a-b a.txt big.bin dangling dirlink "
            "empty exact512 link longlink %s odd513 p/ "
            "p/0123456789012345678901234567890123456789/ "
            "p/0123456789012345678901234567890123456789/0123456789012345678901234567890123456789/ "
            "p/0123456789012345678901234567890123456789/0123456789012345678901234567890123456789"
            "/0123456789/ "
            "p/0123456789012345678901234567890123456789/0123456789012345678901234567890123456789"
            "/0123456789/deep-enough.txt run.sh secret.key \xc3\xbcnic\xc3\xb6"
            "de.txt",
            long_name);
        char *got = join(e, n);
        assert_string_equal(got, want);
        free(got);

        const struct entry *x = find(e, n, "big.bin");
        assert_int_equal(x->type, '0');
        assert_int_equal(x->size, 300 * 1024 + 7);
        assert_int_equal((unsigned char)x->data[1000],
                         (unsigned char)(char)(1000 * 2654435761u >> 13));
        assert_int_equal(find(e, n, "empty")->size, 0);
        assert_int_equal(find(e, n, "run.sh")->mode, 0755);
        assert_int_equal(find(e, n, "secret.key")->mode, 0600);
        assert_int_equal(find(e, n, "a/b/")->mode, 0750);
        assert_int_equal(find(e, n, "a/b/")->type, '5');
        x = find(e, n, "dirlink");
        assert_int_equal(x->type, '2'); /* stored as a link, never followed */
        assert_string_equal(x->link, "a");
        assert_string_equal(find(e, n, "longlink")->link, long_target);
        assert_int_equal(find(e, n, long_name)->size, 9);
        struct stat st;
        char p[4096];
        snprintf(p, sizeof(p), "%s/odd513", d);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(find(e, n, "odd513")->mtime, (long long)st.st_mtime);

        extract_and_compare(d, first, len0);
        free(first);
        rm_rf(d);
}

/* Makes a chain of depth directories under root/rel. */
static void deep_dirs(const char *root, const char *rel, int depth)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", root, rel);
        run("mkdir -p '%s'", path);
        int fd = open(path, O_RDONLY | O_DIRECTORY);
        for (int i = 0; i < depth; i++) {
                assert_int_equal(mkdirat(fd, "d", 0755), 0);
                int sub = openat(fd, "d", O_RDONLY | O_DIRECTORY);
                close(fd);
                fd = sub;
        }
        close(fd);
}

static void test_dockerignore(void **state)
{
        char *d = tmpdir();
        put(d, ".dockerignore",
            "# a comment line\n"
            "*.log\n"
            "build\n"
            "!build/keep\n"
            "**/*.tmp\n"
            "  /secret/  \n"
            "node_modules\n"
            "!node_modules/pkg/index.js\n"
            "Dockerfile\n"
            ".dockerignore\n"
            "docs/**\r\n"
            "!docs/a.md\n"
            "\n"
            "x/./y/../y\n");
        put(d, "Dockerfile", "FROM scratch\n");
        put(d, "a.log", "");
        put(d, "b.txt", "");
        put(d, "build/x", "");
        put(d, "build/keep/y", "");
        put(d, "build/keep2", "");
        put(d, "src/x.tmp", "");
        put(d, "src/deep/z.tmp", "");
        put(d, "src/main.c", "");
        put(d, "src/log/a.log", "");
        put(d, "secret/k", "");
        put(d, "node_modules/pkg/index.js", "");
        put(d, "node_modules/pkg/other.js", "");
        put(d, "node_modules/other/a.js", "");
        put(d, "docs/a.md", "");
        put(d, "docs/b.md", "");
        put(d, "x/y/z", "");
        put(d, "x/w", "");
        /* Too deep to send: that it is not an error shows the ignored directory is not walked. */
        deep_dirs(d, "node_modules/other", 300);
        char *names = names_of(d, NULL);
        assert_string_equal(names, ".dockerignore Dockerfile b.txt build/keep/ build/keep/y docs/ "
                                   "docs/a.md node_modules/pkg/index.js src/ src/deep/ src/log/ "
                                   "src/log/a.log src/main.c x/ x/w");
        free(names);
        rm_rf(d);
}

/* One .dockerignore against a fixed tree: the names sent. */
static char *ignore_case(const char *ignore)
{
        char *d = tmpdir(), *names;
        put(d, "Dockerfile", "FROM scratch\n");
        put(d, "a.go", "");
        put(d, "ab", "");
        put(d, "x/a.go", "");
        put(d, "x/y/a.go", "");
        put(d, "x/y/b.txt", "");
        put(d, "\xc3\xa9t\xc3\xa9", "");
        put(d, ".dockerignore", ignore);
        names = names_of(d, NULL);
        rm_rf(d);
        return names;
}

static void test_ignore_patterns(void **state)
{
        static const struct {
                const char *ignore, *names;
        } c[] = {
            {"", ".dockerignore Dockerfile a.go ab x/ x/a.go x/y/ x/y/a.go x/y/b.txt "
                 "\xc3\xa9t\xc3\xa9"},
            {"**/*.go", ".dockerignore Dockerfile ab x/ x/y/ x/y/b.txt \xc3\xa9t\xc3\xa9"},
            {"x/**/a.go", ".dockerignore Dockerfile a.go ab x/ x/y/ x/y/b.txt \xc3\xa9t\xc3\xa9"},
            {"x/**", ".dockerignore Dockerfile a.go ab x/ \xc3\xa9t\xc3\xa9"},
            {"*.go\n?b\n",
             ".dockerignore Dockerfile x/ x/a.go x/y/ x/y/a.go x/y/b.txt \xc3\xa9t\xc3\xa9"},
            {"[a-b]b\n[^x]/\n?t?",
             ".dockerignore Dockerfile a.go x/ x/a.go x/y/ x/y/a.go x/y/b.txt"},
            {"x\n!x/y/b.txt", ".dockerignore Dockerfile a.go ab x/y/b.txt \xc3\xa9t\xc3\xa9"},
            {"x\n!x/y/b.txt\nx", ".dockerignore Dockerfile a.go ab \xc3\xa9t\xc3\xa9"},
            {"x/y\n!x/y\n", ".dockerignore Dockerfile a.go ab x/ x/a.go x/y/ x/y/a.go x/y/b.txt "
                            "\xc3\xa9t\xc3\xa9"},
            {"  x/y/  \n # not a comment\n#x\n/a.go/\n",
             ".dockerignore Dockerfile ab x/ x/a.go \xc3\xa9t\xc3\xa9"},
            {"**", ".dockerignore Dockerfile"},
            {"*\n!x/*/*.txt", ".dockerignore Dockerfile x/y/b.txt"},
            {"*/a.go\n\\a\\b",
             ".dockerignore Dockerfile a.go x/ x/y/ x/y/a.go x/y/b.txt \xc3\xa9t\xc3\xa9"},
            {"**b\nx/**.txt\n", ".dockerignore Dockerfile a.go ab x/ x/a.go x/y/ x/y/a.go "
                                "x/y/b.txt \xc3\xa9t\xc3\xa9"},
            {"**/y\n", ".dockerignore Dockerfile a.go ab x/ x/a.go \xc3\xa9t\xc3\xa9"},
        };
        for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
                char *names = ignore_case(c[i].ignore);
                if (strcmp(names, c[i].names))
                        fail_msg("case %zu (%s): got '%s', want '%s'", i, c[i].ignore, names,
                                 c[i].names);
                free(names);
        }
}

static void test_dockerfile_in_ignored_dir(void **state)
{
        char *d = tmpdir();
        put(d, ".dockerignore", "docker\n*.md\n");
        put(d, "docker/Dockerfile.dev", "FROM scratch\n");
        put(d, "docker/other", "");
        put(d, "README.md", "");
        put(d, "src/x.c", "");
        char *names = names_of(d, "./docker//Dockerfile.dev");
        assert_string_equal(names, ".dockerignore docker/Dockerfile.dev src/ src/x.c");
        free(names);
        rm_rf(d);
}

static void expect_refused(const char *dir, const char *dockerfile, const char *needle)
{
        struct cms_tar_dir *t = (struct cms_tar_dir *)1;
        struct cms_error err = {0};
        assert_true(cms_tar_dir_new(dir, dockerfile, &t, &err) < 0);
        assert_null(t);
        assert_int_equal(err.status, 400);
        if (!strstr(err.message, needle))
                fail_msg("'%s' does not say '%s'", err.message, needle);
}

static void test_refused(void **state)
{
        char *d = tmpdir(), path[4096];
        put(d, "Dockerfile", "FROM scratch\n");
        put(d, "sub/Dockerfile", "FROM scratch\n");
        snprintf(path, sizeof(path), "%s/missing", d);
        expect_refused(path, NULL, "No such file");
        snprintf(path, sizeof(path), "%s/Dockerfile", d);
        expect_refused(path, NULL, "not a directory");
        expect_refused("", NULL, "no directory");
        expect_refused(d, "../Dockerfile", "inside the context");
        expect_refused(d, "sub/../../Dockerfile", "inside the context");
        expect_refused(d, "sub/../Dockerfile", "inside the context");
        expect_refused(d, "/etc/passwd", "inside the context");
        expect_refused(d, ".", "inside the context");
        expect_refused(d, "nope", "No such file");
        expect_refused(d, "sub", "not a regular file");
        put_link(d, "outside", "/etc/passwd");
        expect_refused(d, "outside", "leads out");
        put_link(d, "inside", "sub/Dockerfile");
        char *names = names_of(d, "inside");
        assert_string_equal(names, "Dockerfile inside outside sub/ sub/Dockerfile");
        free(names);
        put(d, ".dockerignore", "a[\n");
        expect_refused(d, NULL, "syntax error");
        put(d, ".dockerignore", "ok\n  !  \n");
        expect_refused(d, NULL, "illegal exclusion");
        put(d, ".dockerignore", "trailing\\");
        expect_refused(d, NULL, "syntax error");
        put(d, ".dockerignore", "[]a]");
        expect_refused(d, NULL, "syntax error");
        rm_rf(d);
}

static void expect_read_error(struct cms_tar_dir *t, size_t step, const char *needle)
{
        char buf[65536];
        ssize_t r;
        while ((r = cms_tar_dir_read(buf, step, t)) > 0)
                ;
        assert_int_equal(r, -1);
        if (!strstr(cms_tar_dir_error(t)->message, needle))
                fail_msg("'%s' does not say '%s'", cms_tar_dir_error(t)->message, needle);
        assert_int_equal(cms_tar_dir_read(buf, step, t), -1); /* and stays failed */
}

/* A chain of n directories named name under root, with a file "f" in the last one. */
static void chain(const char *root, const char *name, int n)
{
        int fd = open(root, O_RDONLY | O_DIRECTORY);
        for (int i = 0; i < n; i++) {
                assert_int_equal(mkdirat(fd, name, 0755), 0);
                int sub = openat(fd, name, O_RDONLY | O_DIRECTORY);
                close(fd);
                fd = sub;
        }
        int f = openat(fd, "f", O_WRONLY | O_CREAT, 0644);
        assert_true(f >= 0);
        close(f);
        close(fd);
}

static void expect_stream_error(const char *d, const char *needle)
{
        struct cms_tar_dir *t;
        struct cms_error err = {0};
        assert_int_equal(cms_tar_dir_new(d, NULL, &t, &err), 0);
        expect_read_error(t, 65536, needle);
        assert_int_equal(cms_tar_dir_error(t)->status, 400);
        cms_tar_dir_free(t);
}

static void test_depth_cap(void **state)
{
        /* 256 levels below the root, a file in the last: sent, and GNU tar extracts it. */
        char *d = tmpdir();
        put(d, "Dockerfile", "FROM scratch\n");
        chain(d, "d", 256);
        size_t len;
        char *a = stream(d, NULL, 4093, &len);
        extract_and_compare(d, a, len);
        free(a);
        rm_rf(d);
        /* One more level: refused before the walk's stack can overflow. */
        d = tmpdir();
        put(d, "Dockerfile", "FROM scratch\n");
        chain(d, "d", 257);
        expect_stream_error(d, "nested deeper than 256");
        rm_rf(d);
        /* 256 levels of 255-byte names (a 65 KiB path): refused with a clear error once the path
         * passes what the engine can extract, before the name is copied anywhere. */
        d = tmpdir();
        put(d, "Dockerfile", "FROM scratch\n");
        char name[256];
        memset(name, 'n', 255);
        name[255] = 0;
        chain(d, name, 256);
        expect_stream_error(d, "longer than 4095 bytes");
        rm_rf(d);
        /* The longest path that fits (4095 bytes with the directory's '/') is sent whole. */
        d = tmpdir();
        put(d, "Dockerfile", "FROM scratch\n");
        chain(d, name, 15); /* 15 * 256 = 3840 bytes, then "f" */
        char *names = names_of(d, NULL);
        assert_non_null(strstr(names, "/f"));
        free(names);
        rm_rf(d);
}

/* Links that loop are stored as links (never followed), so they cost one entry each; fifos and
 * sockets have no place in an image and are left out. */
static void test_loops_fifos_sockets(void **state)
{
        char *d = tmpdir(), path[4096];
        put(d, "Dockerfile", "FROM scratch\n");
        put(d, "sub/file", "x");
        put_link(d, "a", "b");
        put_link(d, "b", "a");
        put_link(d, "self", "self");
        put_link(d, "sub/up", "..");
        put_link(d, "sub/here", ".");
        snprintf(path, sizeof(path), "%s/fifo", d);
        assert_int_equal(mkfifo(path, 0644), 0);
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", d);
        assert_true(s >= 0);
        assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
        char *names = names_of(d, NULL);
        assert_string_equal(names, "Dockerfile a b self sub/ sub/file sub/here sub/up");
        free(names);
        size_t len;
        char *a = stream(d, NULL, 100, &len);
        static struct entry e[16];
        size_t n = parse(a, len, e, 16);
        assert_string_equal(find(e, n, "sub/up")->link, "..");
        assert_int_equal(find(e, n, "self")->type, '2');
        free(a);
        close(s);
        rm_rf(d);
}

static void test_file_changes(void **state)
{
        static char big[1 << 20];
        char *d = tmpdir(), path[4096], buf[4096];
        struct cms_tar_dir *t;
        struct cms_error err = {0};
        put(d, "Dockerfile", "FROM scratch\n");
        put_mode(d, "big", big, sizeof(big), 0644);
        put(d, "later", "x");
        /* Shrinks after its header went out: an error, not a short entry. */
        assert_int_equal(cms_tar_dir_new(d, NULL, &t, &err), 0);
        assert_int_equal(cms_tar_dir_read(buf, sizeof(buf), t), (ssize_t)sizeof(buf));
        snprintf(path, sizeof(path), "%s/big", d);
        assert_int_equal(truncate(path, 10), 0);
        expect_read_error(t, 777, "shrank");
        cms_tar_dir_free(t);
        /* Listed, then gone before its turn. */
        assert_int_equal(cms_tar_dir_new(d, NULL, &t, &err), 0);
        snprintf(path, sizeof(path), "%s/later", d);
        assert_int_equal(unlink(path), 0);
        expect_read_error(t, 1, "'later' vanished");
        cms_tar_dir_free(t);
        /* Gone while the file before it is being sent (the walk has listed it already). */
        put_mode(d, "big", big, sizeof(big), 0644);
        put(d, "later", "x");
        assert_int_equal(cms_tar_dir_new(d, NULL, &t, &err), 0);
        assert_int_equal(cms_tar_dir_read(buf, sizeof(buf), t), (ssize_t)sizeof(buf));
        assert_int_equal(unlink(path), 0);
        expect_read_error(t, 4096, "'later' vanished");
        cms_tar_dir_free(t);
        /* Replaced by a fifo after the listing: at its turn it is a fifo, left out like any
         * other, and never opened (a blocking open would hang the build). */
        put(d, "later", "x");
        assert_int_equal(cms_tar_dir_new(d, NULL, &t, &err), 0);
        assert_int_equal(cms_tar_dir_read(buf, sizeof(buf), t), (ssize_t)sizeof(buf));
        assert_int_equal(unlink(path), 0);
        assert_int_equal(mkfifo(path, 0644), 0);
        ssize_t got;
        while ((got = cms_tar_dir_read(buf, sizeof(buf), t)) > 0)
                assert_null(memmem(buf, (size_t)got, "later", 6));
        assert_int_equal(got, 0);
        cms_tar_dir_free(t);
        assert_int_equal(unlink(path), 0);
        put(d, "later", "x");
        /* Unreadable (not as root: permissions do not stop root). */
        if (geteuid() != 0) {
                put_mode(d, "later", "x", 1, 0);
                assert_int_equal(cms_tar_dir_new(d, NULL, &t, &err), 0);
                expect_read_error(t, 512, "Permission denied");
                cms_tar_dir_free(t);
        }
        rm_rf(d);
}

/* A sparse file past ustar's 8 GiB: its size goes in a PAX record. */
static void test_huge_size(void **state)
{
        char *d = tmpdir(), path[4096], buf[4096];
        struct cms_tar_dir *t;
        struct cms_error err = {0};
        put(d, "Dockerfile", "FROM scratch\n");
        snprintf(path, sizeof(path), "%s/huge", d);
        int fd = open(path, O_WRONLY | O_CREAT, 0644);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, 8589934592LL + 5), 0);
        close(fd);
        assert_int_equal(cms_tar_dir_new(d, NULL, &t, &err), 0);
        assert_int_equal(cms_tar_dir_read(buf, sizeof(buf), t), (ssize_t)sizeof(buf));
        /* Dockerfile header + data, then the PAX header, its records, the ustar header. */
        assert_int_equal(buf[1024 + 156], 'x');
        assert_non_null(strstr(buf + 1536, " size=8589934597\n"));
        assert_int_equal(buf[2048 + 156], '0');
        assert_string_equal(buf + 2048, "huge");
        /* Freed with 8 GiB of the entry unsent: nothing pads it out into memory. */
        cms_tar_dir_free(t);
        rm_rf(d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_tree_roundtrip),
            cmocka_unit_test(test_dockerignore),
            cmocka_unit_test(test_ignore_patterns),
            cmocka_unit_test(test_dockerfile_in_ignored_dir),
            cmocka_unit_test(test_refused),
            cmocka_unit_test(test_depth_cap),
            cmocka_unit_test(test_loops_fifos_sockets),
            cmocka_unit_test(test_file_changes),
            cmocka_unit_test(test_huge_size),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
