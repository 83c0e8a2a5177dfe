/* Unit tests for daemon/archive.c: archives made by other tools (GNU tar with every compression,
 * Python's tarfile and zipfile) read back entry by entry; a layer inside an image export read
 * through the outer archive; hostile entries (paths leaving the root, overlong paths), limits on
 * entries and data (a zip bomb), garbage and truncated input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "daemon/archive.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static void run(const char *fmt, ...)
{
        char cmd[8192];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        if (system(cmd) != 0)
                fail_msg("command failed: %s", cmd);
}

static int setup(void **state)
{
        snprintf(dir, sizeof(dir), "/tmp/test_archive.XXXXXX");
        assert_non_null(mkdtemp(dir));
        /* A small layer: a dpkg status file, a directory, a symlink, a hardlink, a whiteout and
         * a UTF-8 name, as GNU tar writes it from "." (so with "./" in front of every name). */
        run("cd %s && mkdir -p l/var/lib/dpkg l/etc && printf 'Package: bash\\nVersion: 5.2\\n' "
            "> l/var/lib/dpkg/status && ln -s ../var/lib/dpkg/status l/etc/st && "
            "ln l/var/lib/dpkg/status l/etc/hard && : > l/etc/.wh.gone && "
            "printf x > \"l/etc/$(printf '\\303\\274')ber\" && chmod 0751 l/etc",
            dir);
        return 0;
}

static int teardown(void **state)
{
        run("rm -rf %s", dir);
        return 0;
}

/* All entries of an archive file as "type path[->link]:size" joined by spaces. */
static char *listing(struct cms_archive *a)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        struct cms_archive_entry e;
        struct cms_error err = {0};
        int r;
        while ((r = cms_archive_next(a, &e, &err)) == 1) {
                static const char types[] = "fdshx";
                fprintf(f, "%s%c %s", len || ftell(f) ? " " : "", types[e.type], e.path);
                if (e.link)
                        fprintf(f, "->%s", e.link);
                if (e.type == CMS_ARCHIVE_FILE)
                        fprintf(f, ":%lld", (long long)e.size);
        }
        fclose(f);
        if (r < 0)
                fail_msg("cms_archive_next: %s", err.message);
        return out;
}

static struct cms_archive *open_file(const char *name, unsigned formats)
{
        char path[256];
        struct cms_archive *a = NULL;
        struct cms_error err = {0};
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        if (cms_archive_open_file(path, formats, NULL, &a, &err) < 0)
                fail_msg("open %s: %s", name, err.message);
        return a;
}

static void test_tar_every_compression(void **state)
{
        static const char *const flags[] = {"", "z", "j", "J", "--zstd "};
        /* GNU tar stores the first name of a hard-linked file in order, the other as a link. */
        const char *want = "d etc f etc/.wh.gone:0 f etc/hard:27 s etc/st->../var/lib/dpkg/status "
                           "f etc/\xc3\xbc"
                           "ber:1 d var d var/lib d var/lib/dpkg h var/lib/dpkg/status->etc/hard";
        for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
                run("cd %s/l && tar --sort=name -c%sf ../layer.%zu . 2>/dev/null || "
                    "tar --sort=name %s-cf ../layer.%zu .",
                    dir, strncmp(flags[i], "--", 2) ? flags[i] : "", i, flags[i], i);
                char name[32];
                snprintf(name, sizeof(name), "layer.%zu", i);
                struct cms_archive *a = open_file(name, CMS_ARCHIVE_TAR);
                char *got = listing(a);
                assert_string_equal(got, want);
                free(got);
                cms_archive_free(a);
        }
        /* The data of one entry, read whole. */
        struct cms_archive *a = open_file("layer.1", CMS_ARCHIVE_TAR);
        struct cms_archive_entry e;
        struct cms_error err = {0};
        char *data;
        size_t len;
        while (cms_archive_next(a, &e, &err) == 1 && strcmp(e.path, "etc/hard"))
                ;
        assert_string_equal(e.path, "etc/hard");
        assert_int_equal(cms_archive_read_all(a, 1024, &data, &len, &err), 0);
        assert_string_equal(data, "Package: bash\nVersion: 5.2\n");
        assert_int_equal(len, 27);
        free(data);
        assert_int_equal(cms_archive_next(a, &e, &err), 1); /* the data need not be read */
        assert_string_equal(e.path, "etc/st");
        cms_archive_free(a);
}

/* An image export holds its layers as tar entries; the scanner reads a layer through the
 * export's stream without unpacking the export. */
static void test_layer_inside_export(void **state)
{
        run("cd %s && mkdir -p x/blobs && cp layer.1 x/blobs/layer.tar.gz && echo '{}' > "
            "x/manifest.json && tar -C x -cf export.tar manifest.json blobs",
            dir);
        struct cms_archive *outer = open_file("export.tar", CMS_ARCHIVE_TAR), *inner = NULL;
        struct cms_archive_entry e;
        struct cms_error err = {0};
        int r;
        while ((r = cms_archive_next(outer, &e, &err)) == 1 && strcmp(e.path, "blobs/layer.tar.gz"))
                ;
        assert_int_equal(r, 1);
        assert_int_equal(cms_archive_open_stream(cms_archive_entry_reader, outer, CMS_ARCHIVE_TAR,
                                                 NULL, &inner, &err),
                         0);
        char *got = listing(inner);
        assert_non_null(strstr(got, "f etc/hard:27"));
        free(got);
        cms_archive_free(inner);
        assert_int_equal(cms_archive_next(outer, &e, &err), 0);
        cms_archive_free(outer);
}

static ssize_t fd_read(char *buf, size_t max, void *userdata)
{
        return read(*(int *)userdata, buf, max);
}

/* An OSV database is a zip of JSON files; a zip is read through its central directory from a
 * file, and front to back from a stream. */
static void test_zip(void **state)
{
        run("cd %s && python3 -c \"import zipfile\n"
            "z = zipfile.ZipFile('osv.zip', 'w', zipfile.ZIP_DEFLATED)\n"
            "z.writestr('GHSA-1.json', '{\\\"id\\\": \\\"GHSA-1\\\"}')\n"
            "z.writestr('sub/DSA-2.json', '{\\\"id\\\": \\\"DSA-2\\\"}' * 1000)\n"
            "z.close()\"",
            dir);
        struct cms_archive *a = open_file("osv.zip", CMS_ARCHIVE_ZIP);
        char *got = listing(a);
        assert_string_equal(got, "f GHSA-1.json:16 f sub/DSA-2.json:15000");
        free(got);
        cms_archive_free(a);
        char path[256];
        snprintf(path, sizeof(path), "%s/osv.zip", dir);
        int fd = open(path, O_RDONLY);
        struct cms_archive_entry e;
        struct cms_error err = {0};
        char *data;
        size_t len;
        assert_true(fd >= 0);
        assert_int_equal(cms_archive_open_stream(fd_read, &fd, CMS_ARCHIVE_ZIP, NULL, &a, &err), 0);
        got = listing(a);
        assert_string_equal(got, "f GHSA-1.json:16 f sub/DSA-2.json:15000");
        free(got);
        cms_archive_free(a);
        close(fd);
        assert_true(cms_archive_open_stream(fd_read, &fd, 0, NULL, &a, &err) < 0);
        assert_non_null(strstr(err.message, "no format"));
        a = open_file("osv.zip", CMS_ARCHIVE_ZIP | CMS_ARCHIVE_TAR);
        assert_int_equal(cms_archive_next(a, &e, &err), 1);
        assert_int_equal(cms_archive_read_all(a, 100, &data, &len, &err), 0);
        assert_string_equal(data, "{\"id\": \"GHSA-1\"}");
        free(data);
        assert_int_equal(cms_archive_next(a, &e, &err), 1);
        assert_true(cms_archive_read_all(a, 100, &data, &len, &err) < 0);
        assert_int_equal(err.status, 413);
        cms_archive_free(a);
}

static struct cms_error expect_error(const char *name, unsigned formats,
                                     const struct cms_archive_limits *l, const char *needle)
{
        char path[256], buf[4096];
        struct cms_archive *a = NULL;
        struct cms_archive_entry e;
        struct cms_error err = {0};
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        int r = cms_archive_open_file(path, formats, l, &a, &err);
        while (r >= 0 && (r = cms_archive_next(a, &e, &err)) == 1) {
                ssize_t n;
                while ((n = cms_archive_read(a, buf, sizeof(buf), &err)) > 0)
                        ;
                if (n < 0)
                        r = -1;
        }
        cms_archive_free(a);
        if (r >= 0)
                fail_msg("%s: read without an error", name);
        if (!strstr(err.message, needle))
                fail_msg("'%s' does not say '%s'", err.message, needle);
        return err;
}

static void test_hostile(void **state)
{
        /* Names that leave the root, however they are spelled. */
        run("cd %s && python3 -c \"import tarfile, io\n"
            "for i, n in enumerate(['../evil', 'a/../../evil', '/abs/../../x']):\n"
            "    t = tarfile.open('bad%%d.tar' %% i, 'w')\n"
            "    ti = tarfile.TarInfo('ok'); t.addfile(ti, io.BytesIO(b''))\n"
            "    ti = tarfile.TarInfo(n); ti.size = 1; t.addfile(ti, io.BytesIO(b'x'))\n"
            "    t.close()\n"
            "t = tarfile.open('hl.tar', 'w')\n"
            "ti = tarfile.TarInfo('h'); ti.type = tarfile.LNKTYPE; ti.linkname = "
            "'../../etc/shadow'\n"
            "t.addfile(ti); t.close()\n"
            "t = tarfile.open('long.tar', 'w', format=tarfile.PAX_FORMAT)\n"
            "ti = tarfile.TarInfo('d/' * 3000 + 'f'); t.addfile(ti, io.BytesIO(b'')); t.close()\n"
            "t = tarfile.open('norm.tar', 'w')\n"
            "for n in ['./', '/', './a//b/./c', '/abs/x']:\n"
            "    ti = tarfile.TarInfo(n); ti.type = tarfile.DIRTYPE if n.endswith('/') else "
            "tarfile.REGTYPE\n"
            "    t.addfile(ti, io.BytesIO(b''))\n"
            "t.close()\"",
            dir);
        for (int i = 0; i < 3; i++) {
                char name[32];
                snprintf(name, sizeof(name), "bad%d.tar", i);
                assert_int_equal(expect_error(name, CMS_ARCHIVE_TAR, NULL, "leads out").status,
                                 400);
        }
        expect_error("hl.tar", CMS_ARCHIVE_TAR, NULL, "leads out");
        expect_error("long.tar", CMS_ARCHIVE_TAR, NULL, "longer than 4096");
        struct cms_archive *a = open_file("norm.tar", CMS_ARCHIVE_TAR);
        char *got = listing(a);
        assert_string_equal(got, "f a/b/c:0 f abs/x:0");
        free(got);
        cms_archive_free(a);
}

static void test_limits_and_garbage(void **state)
{
        /* 64 MiB of zeros zipped to a few KiB: stopped at the data cap. */
        run("cd %s && head -c 8192 /dev/urandom | gzip > junk.gz && mkdir -p z && "
            "head -c 67108864 /dev/zero > z/zeros && tar -C z -czf bomb.tgz zeros && rm -r z",
            dir);
        struct cms_archive_limits l = {.max_total = 1 << 20, .bad_status = 502};
        struct cms_error err =
            expect_error("bomb.tgz", CMS_ARCHIVE_TAR, &l, "more than 1048576 bytes");
        assert_int_equal(err.status, 502);
        l = (struct cms_archive_limits){.max_entries = 3};
        expect_error("layer.0", CMS_ARCHIVE_TAR, &l, "more than 3 entries");
        /* (Zeros are a tar: an empty one.) A gzip stream that is no tar, random bytes, a cut gzip'd
         * tar, an empty file, a zip where only tar is expected, a directory, a file that is not
         * there. */
        expect_error("junk.gz", CMS_ARCHIVE_TAR, NULL, "archive: ");
        run("head -c 3000 /dev/urandom > %s/random && head -c 300 %s/layer.1 > %s/cut.tgz && "
            ": > %s/empty",
            dir, dir, dir, dir);
        expect_error("random", CMS_ARCHIVE_TAR | CMS_ARCHIVE_ZIP, NULL, "archive: ");
        expect_error("cut.tgz", CMS_ARCHIVE_TAR, NULL, "archive: ");
        expect_error("empty", CMS_ARCHIVE_TAR, NULL, "archive: ");
        expect_error("osv.zip", CMS_ARCHIVE_TAR, NULL, "archive: ");
        assert_int_equal(expect_error("z-missing", CMS_ARCHIVE_TAR, NULL, "No such file").status,
                         404);
        expect_error(".", CMS_ARCHIVE_TAR, NULL, "not a regular file");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_tar_every_compression),
            cmocka_unit_test(test_layer_inside_export),
            cmocka_unit_test(test_zip),
            cmocka_unit_test(test_hostile),
            cmocka_unit_test(test_limits_and_garbage),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
