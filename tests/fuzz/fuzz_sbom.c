/* Fuzzes the SBOM sources: the package-metadata files an image carries (dpkg status, apk
 * installed, Python METADATA/PKG-INFO, package.json, gemspec, os-release, debian_version),
 * parsed as cms_sbom_read parses each one it finds in a layer. The first input byte picks the
 * file's path (and so its kind); the rest is its text. Every package parsed gets a package URL,
 * and the packages with the parsed os-release become a CycloneDX document. */
#include "fuzz.h"

#include "daemon/scan/sbom.h"

static const char *paths[] = {
    "var/lib/dpkg/status",
    "var/lib/dpkg/status.d/base",
    "lib/apk/db/installed",
    "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA",
    "usr/lib/python3/site-packages/six.egg-info/PKG-INFO",
    "usr/lib/node_modules/npm/node_modules/@scope/pkg/package.json",
    "app/node_modules/left-pad/package.json",
    "usr/share/gems/specifications/rake-13.0.gemspec",
    "etc/os-release",
    "etc/debian_version",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        const char *path = paths[data[0] % (sizeof(paths) / sizeof(paths[0]))];
        enum cms_sbom_kind kind = cms_sbom_kind(path);
        FUZZ_CHECK(kind != CMS_SBOM_NONE);
        char *text = fuzz_strndup(data + 1, size - 1);
        json_object *out = NULL;
        struct cms_error err = {0};
        if (cms_sbom_parse(kind, path, text, size - 1, &out, &err) < 0) {
                FUZZ_CHECK(err.status == 422 && err.message[0]);
                json_object_put(out);
                free(text);
                return 0;
        }
        json_object *os = json_object_new_object();
        json_object_object_add(os, "id", json_object_new_string("debian"));
        json_object_object_add(os, "version_id", json_object_new_string("12"));
        if (out && json_object_is_type(out, json_type_array)) {
                size_t n = json_object_array_length(out);
                for (size_t i = 0; i < n; i++)
                        free(cms_sbom_purl(json_object_array_get_idx(out, i), os));
                json_object *inv = json_object_new_object();
                json_object_object_add(inv, "os", json_object_get(os));
                json_object_object_add(inv, "packages", json_object_get(out));
                json_object_object_add(inv, "layers", json_object_new_int(1));
                json_object_object_add(inv, "skipped", json_object_new_array());
                struct cms_sbom_image img = {"fuzz:latest", "sha256:0", NULL};
                json_object *cdx = NULL;
                if (cms_sbom_cyclonedx(inv, &img, &cdx, &err) == 0)
                        json_object_put(cdx);
                json_object_put(inv);
        } else if (out) {
                FUZZ_CHECK(json_object_is_type(out, json_type_object));
                if (kind == CMS_SBOM_OS) {
                        json_object *pkg = json_object_new_object();
                        json_object_object_add(pkg, "type", json_object_new_string("deb"));
                        json_object_object_add(pkg, "name", json_object_new_string("libc6"));
                        json_object_object_add(pkg, "version", json_object_new_string("2.36-9"));
                        free(cms_sbom_purl(pkg, out));
                        json_object_put(pkg);
                }
        }
        char pep[256];
        cms_sbom_pep503(text, pep, sizeof(pep));
        json_object_put(os);
        json_object_put(out);
        free(text);
        return 0;
}
