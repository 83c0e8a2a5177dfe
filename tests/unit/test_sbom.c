/* Unit tests for daemon/scan/sbom*.c: image exports built here with libarchive (the docker
 * layout "<id>/layer.tar", Podman's links to "<digest>.tar", a gzip layer, manifest.json last)
 * read into an inventory; layers applied in the manifest's order, not the tar's; whiteouts,
 * opaque directories, overwrites and a link hiding a metadata file; dpkg stanzas (Source forms,
 * Status, status.d), apk, os-release, PyPI, npm (a fixture's package.json is no package), gem;
 * package URLs; and hostile exports (a huge status file, a path over 4096 bytes, more data
 * than allowed, a missing layer, no manifest, garbage) ending in a clear 422. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "daemon/scan/sbom.h"

struct mem {
        char *p;
        size_t len, off;
};

static la_ssize_t mem_write(struct archive *a, void *ud, const void *buf, size_t n)
{
        (void)a;
        struct mem *m = ud;
        m->p = realloc(m->p, m->len + n);
        assert_non_null(m->p);
        memcpy(m->p + m->len, buf, n);
        m->len += n;
        return (la_ssize_t)n;
}

/* An entry: type 'f' file (data), 'l' symlink (data = target), 'd' directory. */
struct ent {
        char type;
        const char *path;
        const char *data;
        size_t size; /* 0: strlen(data) */
};

static struct mem make_tar(const struct ent *e, bool gzip)
{
        struct mem m = {0};
        struct archive *a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        if (gzip)
                archive_write_add_filter_gzip(a);
        archive_write_set_bytes_in_last_block(a, 1);
        assert_int_equal(archive_write_open(a, &m, NULL, mem_write, NULL), ARCHIVE_OK);
        for (; e->path; e++) {
                struct archive_entry *ae = archive_entry_new();
                archive_entry_set_pathname(ae, e->path);
                size_t n = e->type == 'f' ? (e->size ? e->size : strlen(e->data)) : 0;
                archive_entry_set_filetype(ae, e->type == 'f'   ? AE_IFREG
                                               : e->type == 'l' ? AE_IFLNK
                                                                : AE_IFDIR);
                if (e->type == 'l')
                        archive_entry_set_symlink(ae, e->data);
                archive_entry_set_perm(ae, 0644);
                archive_entry_set_size(ae, (la_int64_t)n);
                assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
                if (n)
                        assert_int_equal(archive_write_data(a, e->data, n), (la_ssize_t)n);
                archive_entry_free(ae);
        }
        archive_write_close(a);
        archive_write_free(a);
        return m;
}

static ssize_t mem_read(char *buf, size_t max, void *ud)
{
        struct mem *m = ud;
        size_t n = m->len - m->off < max ? m->len - m->off : max;
        memcpy(buf, m->p + m->off, n);
        m->off += n;
        return (ssize_t)n;
}

static const char status_text[] =
    "Package: bsdutils\nEssential: yes\nStatus: install ok installed\nPriority: required\n"
    "Architecture: amd64\nSource: util-linux (2.38.1-5+deb12u3)\n"
    "Version: 1:2.38.1-5+deb12u3\nDescription: basic utilities\n long text\n .\n more\n\n"
    "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\n"
    "Version: 2.36-9+deb12u13\n\n"
    "Package: gone\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1.0\n\n"
    "Package: held\nStatus: hold ok installed\nArchitecture: all\nVersion: 3\n\n"
    "Package: libstdc++6\nStatus: install ok installed\nArchitecture: amd64\n"
    "Source: gcc-12 (12.2.0-14+deb12u1)\nVersion: 12.2.0-14+deb12u1\n";
static const char os_release[] = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian "
                                 "GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n"
                                 "ID=debian\n";

static json_object *read_export(struct mem *exp, const struct cms_sbom_limits *l,
                                struct cms_error *err)
{
        json_object *inv = NULL;
        exp->off = 0;
        int r = cms_sbom_read(mem_read, exp, l, &inv, err);
        assert_true(r == 0 ? inv != NULL : inv == NULL);
        return inv;
}

static json_object *find(json_object *inv, const char *type, const char *name)
{
        json_object *pkgs = cms_json_get(inv, "packages");
        for (size_t i = 0; i < json_object_array_length(pkgs); i++) {
                json_object *p = json_object_array_get_idx(pkgs, i);
                if (!strcmp(json_object_get_string(cms_json_get(p, "type")), type) &&
                    !strcmp(json_object_get_string(cms_json_get(p, "name")), name))
                        return p;
        }
        return NULL;
}

static const char *field(json_object *p, const char *k)
{
        return json_object_get_string(cms_json_get(p, k));
}

static const char gemspec[] = "# stub: rake 13.0.6 ruby lib\nGem::Specification.new do |s|\n"
                              "  s.name = \"rake\".freeze\n  s.version = \"13.0.6\"\n"
                              "  s.rubygems_version = \"3.3.15\".freeze\nend\n";

static const struct ent layer_a[] = {
    {'d', "etc", NULL, 0},
    {'l', "etc/os-release", "../usr/lib/os-release", 0},
    {'f', "usr/lib/os-release", os_release, 0},
    {'f', "etc/debian_version", "12.15\n", 0},
    {'f', "var/lib/dpkg/status", status_text, 0},
    {'f', "var/lib/dpkg/status.d/base", "Package: base-files\nVersion: 12.4\nArchitecture: amd64\n",
     0},
    {'f', "var/lib/dpkg/status.d/base.md5sums", "d41d8cd9  etc/issue\n", 0},
    {'f', "usr/lib/node_modules/left-pad/package.json",
     "{\"name\":\"left-pad\",\"version\":\"1.3.0\"}", 0},
    {'f', "usr/lib/node_modules/left-pad/test/fixtures/package.json",
     "{\"name\":\"fixture\",\"version\":\"0.0.1\"}", 0},
    {'f', "usr/lib/node_modules/left-pad/node_modules/ms/package.json",
     "{\"name\":\"ms\",\"version\":\"2.1.3\"}", 0},
    {'f', "usr/lib/node_modules/@types/node/package.json",
     "{\"name\":\"@types/node\",\"version\":\"20.11.5\"}", 0},
    {'f', "usr/lib/node_modules/broken/package.json", "{\"name\":", 0},
    {'f', "usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA",
     "Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0\n\nName: not-this\n", 0},
    {'f', "usr/lib/python3/dist-packages/charset_normalizer-3.0.1.dist-info/METADATA",
     "Name: charset_normalizer\nVersion: 3.0.1\n", 0},
    {'f', "usr/share/rubygems-integration/all/specifications/rake-13.0.6.gemspec", gemspec, 0},
    {0, NULL, NULL, 0}};
static const struct ent layer_b[] = {
    {'f', "usr/lib/node_modules/.wh.@types", "", 0},
    {'f', "usr/lib/python3/dist-packages/.wh..wh..opq", "", 0},
    {'f', "usr/lib/python3/dist-packages/new_pkg-1.0.dist-info/METADATA",
     "Name: New.Pkg\nVersion: 1.0\n", 0},
    {'f', "var/lib/dpkg/status.d/.wh.base", "", 0},
    {'f', "lib/apk/db/installed",
     "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\nP:busybox-binsh\nV:1.36.1-r15\n"
     "A:x86_64\no:busybox\n",
     0},
    {0, NULL, NULL, 0}};
static const struct ent layer_c[] = {
    {'f', "var/lib/dpkg/status",
     "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\n"
     "Version: 2.36-9+deb12u13\n",
     0},
    {'l', "lib/apk/db/installed", "/dev/null", 0},
    {0, NULL, NULL, 0}};

/* The export: the layers in the order c, b (Podman's link first), a; the manifest last. */
static struct mem make_export(const char *manifest)
{
        struct mem a = make_tar(layer_a, false), b = make_tar(layer_b, true);
        struct mem c = make_tar(layer_c, false);
        const struct ent outer[] = {{'d', "ccc", NULL, 0},
                                    {'f', "ccc/layer.tar", c.p, c.len},
                                    {'l', "bbbid/layer.tar", "../bbb.tar", 0},
                                    {'f', "bbb.tar", b.p, b.len},
                                    {'f', "aaa/VERSION", "1.0", 0},
                                    {'f', "aaa/json", "{}", 0},
                                    {'f', "aaa/layer.tar", a.p, a.len},
                                    {'f', "0123abcd.json", "{\"config\":{}}", 0},
                                    {'f', "manifest.json", manifest, 0},
                                    {0, NULL, NULL, 0}};
        struct mem exp = make_tar(outer, false);
        free(a.p), free(b.p), free(c.p);
        return exp;
}

static void test_one_layer(void **state)
{
        (void)state;
        struct mem exp =
            make_export("[{\"Config\":\"0123abcd.json\",\"Layers\":[\"aaa/layer.tar\"]}]");
        struct cms_error err = {0};
        json_object *inv = read_export(&exp, NULL, &err);
        assert_non_null(inv);
        json_object *os = cms_json_get(inv, "os");
        assert_string_equal(field(os, "id"), "debian");
        assert_string_equal(field(os, "version_id"), "12");
        assert_string_equal(field(os, "codename"), "bookworm");
        assert_string_equal(field(os, "debian_version"), "12.15");
        json_object *p = find(inv, "deb", "bsdutils");
        assert_non_null(p);
        assert_string_equal(field(p, "version"), "1:2.38.1-5+deb12u3");
        assert_string_equal(field(p, "source"), "util-linux");
        assert_string_equal(field(p, "source_version"), "2.38.1-5+deb12u3");
        assert_string_equal(field(p, "arch"), "amd64");
        p = find(inv, "deb", "libc6");
        assert_string_equal(field(p, "source"), "glibc");
        assert_string_equal(field(p, "source_version"), "2.36-9+deb12u13");
        assert_null(find(inv, "deb", "gone"));
        assert_non_null(find(inv, "deb", "held"));
        p = find(inv, "deb", "base-files"); /* status.d: no Status, installed */
        assert_non_null(p);
        assert_string_equal(field(p, "path"), "var/lib/dpkg/status.d/base");
        assert_non_null(find(inv, "npm", "@types/node"));
        assert_non_null(find(inv, "npm", "ms"));
        assert_null(find(inv, "npm", "fixture"));
        assert_string_equal(field(find(inv, "pypi", "PyYAML"), "version"), "6.0");
        assert_string_equal(field(find(inv, "gem", "rake"), "version"), "13.0.6");
        assert_int_equal(json_object_array_length(cms_json_get(inv, "packages")), 11);
        _cleanup_free_ char *purl = cms_sbom_purl(find(inv, "deb", "bsdutils"), os);
        assert_string_equal(
            purl, "pkg:deb/debian/bsdutils@2.38.1-5+deb12u3?arch=amd64&distro=debian-12.15"
                  "&epoch=1");
        _cleanup_free_ char *p2 = cms_sbom_purl(find(inv, "deb", "libstdc++6"), os);
        assert_string_equal(
            p2, "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14+deb12u1?arch=amd64&distro=debian-12.15");
        _cleanup_free_ char *p3 = cms_sbom_purl(find(inv, "npm", "@types/node"), os);
        assert_string_equal(p3, "pkg:npm/%40types/node@20.11.5");
        _cleanup_free_ char *p4 = cms_sbom_purl(find(inv, "pypi", "charset_normalizer"), os);
        assert_string_equal(p4, "pkg:pypi/charset-normalizer@3.0.1");
        json_object_put(inv);
        free(exp.p);
}

static void test_layers_applied(void **state)
{
        (void)state;
        struct mem exp = make_export("[{\"Config\":\"0123abcd.json\",\"Layers\":[\"aaa/layer.tar\","
                                     "\"bbbid/layer.tar\",\"ccc/layer.tar\"]}]");
        struct cms_error err = {0};
        json_object *inv = read_export(&exp, NULL, &err);
        assert_non_null(inv);
        assert_int_equal(json_object_get_int(cms_json_get(inv, "layers")), 3);
        assert_null(find(inv, "deb", "bsdutils")); /* status replaced by the last layer */
        assert_non_null(find(inv, "deb", "libc6"));
        assert_null(find(inv, "deb", "base-files"));  /* status.d/.wh.base */
        assert_null(find(inv, "npm", "@types/node")); /* node_modules/.wh.@types */
        assert_non_null(find(inv, "npm", "left-pad"));
        assert_null(find(inv, "pypi", "PyYAML"));      /* dist-packages opaque ... */
        assert_non_null(find(inv, "pypi", "New.Pkg")); /* ... but its own layer's files stay */
        assert_null(find(inv, "apk", "musl"));         /* a link now stands there */
        assert_non_null(find(inv, "gem", "rake"));
        _cleanup_free_ char *purl = cms_sbom_purl(find(inv, "pypi", "New.Pkg"), NULL);
        assert_string_equal(purl, "pkg:pypi/new-pkg@1.0");
        json_object_put(inv);
        free(exp.p);

        /* Without the last layer: apk's database is there (a gzip layer, read through a link). */
        exp = make_export("[{\"Layers\":[\"aaa/layer.tar\",\"bbbid/layer.tar\"]}]");
        inv = read_export(&exp, NULL, &err);
        json_object *musl = find(inv, "apk", "musl");
        assert_non_null(musl);
        json_object *os = json_object_new_object();
        json_object_object_add(os, "id", json_object_new_string("alpine"));
        json_object_object_add(os, "version_id", json_object_new_string("3.19.1"));
        _cleanup_free_ char *apurl = cms_sbom_purl(musl, os);
        assert_string_equal(apurl, "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=3.19.1");
        assert_string_equal(field(find(inv, "apk", "busybox-binsh"), "source"), "busybox");
        json_object_put(os);
        json_object_put(inv);
        free(exp.p);
}

/* Docker 25's export: the OCI layout (blobs/sha256/..., index.json, oci-layout) with a
 * manifest.json naming blobs; the config and manifest blobs are no tars and are passed over. */
static void test_oci_layout(void **state)
{
        (void)state;
        struct mem a = make_tar(layer_a, true), c = make_tar(layer_c, false);
        const struct ent outer[] = {
            {'d', "blobs", NULL, 0},
            {'d', "blobs/sha256", NULL, 0},
            {'f', "blobs/sha256/11", a.p, a.len},
            {'f', "blobs/sha256/22", "{\"architecture\":\"amd64\",\"rootfs\":{}}", 0},
            {'f', "blobs/sha256/33", c.p, c.len},
            {'f', "blobs/sha256/44", "", 0},
            {'f', "index.json", "{\"schemaVersion\":2}", 0},
            {'f', "manifest.json",
             "[{\"Config\":\"blobs/sha256/22\",\"Layers\":[\"blobs/sha256/11\",\"blobs/sha256/"
             "33\"]}]",
             0},
            {'f', "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 0},
            {0, NULL, NULL, 0}};
        struct mem exp = make_tar(outer, false);
        struct cms_error err = {0};
        json_object *inv = read_export(&exp, NULL, &err);
        if (!inv)
                fail_msg("%d %s", err.status, err.message);
        assert_null(find(inv, "deb", "bsdutils"));
        assert_non_null(find(inv, "deb", "libc6"));
        assert_non_null(find(inv, "npm", "@types/node"));
        json_object_put(inv);
        free(exp.p), free(a.p), free(c.p);
}

static void expect_422(struct mem *exp, const struct cms_sbom_limits *l, const char *words)
{
        struct cms_error err = {0};
        json_object *inv = read_export(exp, l, &err);
        assert_null(inv);
        if (err.status != 422 || !strstr(err.message, words))
                fail_msg("want 422 '%s', got %d '%s'", words, err.status, err.message);
}

static void test_hostile(void **state)
{
        (void)state;
        struct mem exp = make_export("[{\"Layers\":[\"aaa/layer.tar\"]}]");
        expect_422(&exp, &(struct cms_sbom_limits){.max_os_db = 100}, "larger than 100 bytes");
        expect_422(&exp, &(struct cms_sbom_limits){.max_total = 500}, "more than 500 bytes");
        expect_422(&exp, &(struct cms_sbom_limits){.max_files = 3}, "more than 3 package");
        expect_422(&exp, &(struct cms_sbom_limits){.max_packages = 4}, "more than 4 packages");
        /* A language file over its cap is skipped and said, not an error. */
        struct cms_error err = {0};
        json_object *inv = read_export(&exp, &(struct cms_sbom_limits){.max_lang_file = 40}, &err);
        assert_non_null(inv);
        assert_null(find(inv, "pypi", "PyYAML"));
        assert_true(json_object_array_length(cms_json_get(inv, "skipped")) >= 1);
        json_object_put(inv);
        free(exp.p);

        exp = make_export("[{\"Layers\":[\"aaa/layer.tar\",\"zzz/layer.tar\"]}]");
        expect_422(&exp, NULL, "lacks its layer 'zzz/layer.tar'");
        free(exp.p);
        exp = make_export("[{\"Layers\":[\"aaa/layer.tar\",\"bbbid/layer.tar\"]}]");
        expect_422(&exp, &(struct cms_sbom_limits){.max_whiteouts = 40}, "whiteouts exceed");
        free(exp.p);

        char deep[5001];
        memset(deep, 'a', sizeof(deep) - 1);
        for (size_t i = 100; i < sizeof(deep) - 1; i += 100)
                deep[i] = '/';
        deep[sizeof(deep) - 1] = 0;
        const struct ent deep_layer[] = {{'f', deep, "x", 0}, {0, NULL, NULL, 0}};
        struct mem l = make_tar(deep_layer, false);
        const struct ent outer[] = {{'f', "l.tar", l.p, l.len},
                                    {'f', "manifest.json", "[{\"Layers\":[\"l.tar\"]}]", 0},
                                    {0, NULL, NULL, 0}};
        exp = make_tar(outer, false);
        expect_422(&exp, NULL, "longer than 4096");
        free(exp.p), free(l.p);

        const struct ent none[] = {{'f', "x.tar", "abc", 0}, {0, NULL, NULL, 0}};
        exp = make_tar(none, false);
        expect_422(&exp, NULL, "no manifest.json");
        free(exp.p);
        exp = (struct mem){.p = strdup("this is no tar at all, not even close to one"), .len = 44};
        expect_422(&exp, NULL, "archive");
        free(exp.p);
}

static void test_kinds(void **state)
{
        (void)state;
        assert_int_equal(cms_sbom_kind("var/lib/dpkg/status"), CMS_SBOM_DPKG);
        assert_int_equal(cms_sbom_kind("var/lib/dpkg/status.d/x"), CMS_SBOM_DPKG);
        assert_int_equal(cms_sbom_kind("var/lib/dpkg/status.d/x.md5sums"), CMS_SBOM_NONE);
        assert_int_equal(cms_sbom_kind("var/lib/dpkg/status-old"), CMS_SBOM_NONE);
        assert_int_equal(cms_sbom_kind("node_modules/a/package.json"), CMS_SBOM_NPM);
        assert_int_equal(cms_sbom_kind("node_modules/@s/a/package.json"), CMS_SBOM_NPM);
        assert_int_equal(cms_sbom_kind("node_modules/@s/package.json"), CMS_SBOM_NONE);
        assert_int_equal(cms_sbom_kind("package.json"), CMS_SBOM_NONE);
        assert_int_equal(cms_sbom_kind("x/foo-1.egg-info"), CMS_SBOM_PYPI);
        assert_int_equal(cms_sbom_kind("x/foo.egg-info/PKG-INFO"), CMS_SBOM_PYPI);
        assert_int_equal(cms_sbom_kind("x/METADATA"), CMS_SBOM_NONE);
        assert_int_equal(cms_sbom_kind("gems/specifications/a-1.gemspec"), CMS_SBOM_GEM);
        assert_int_equal(cms_sbom_kind("gems/a-1.gemspec"), CMS_SBOM_NONE);
        char out[64];
        cms_sbom_pep503("Foo__Bar.-baz", out, sizeof(out));
        assert_string_equal(out, "foo-bar-baz");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_one_layer),  cmocka_unit_test(test_layers_applied),
            cmocka_unit_test(test_oci_layout), cmocka_unit_test(test_hostile),
            cmocka_unit_test(test_kinds),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
