/* Fuzzes the resource model and the image-reference grammar: the input as an image reference,
 * an image path, an object name, an IP or a CIDR (with the containment checks), and as JSON: a
 * network, network-connect or volume create body, and an engine document summarised as a
 * network, volume, image list item, image inspect and history entry, plus registry auth. */
#include "fuzz.h"

#include <sys/socket.h>

#include "daemon/images/model.h"

static void strings(const char *s)
{
        struct cms_image_ref ref;
        struct cms_error err = {0};
        if (cms_image_ref_parse(s, &ref, &err) == 0) {
                char repo[600];
                cms_image_ref_repo(&ref, repo, sizeof(repo));
                FUZZ_CHECK(strlen(repo) <= 600 && repo[0]);
                /* What the grammar accepted, put back together, parses to the same parts. */
                char again[1200];
                snprintf(again, sizeof(again), "%s%s%s%s%s", repo, ref.tag[0] ? ":" : "", ref.tag,
                         ref.digest[0] ? "@" : "", ref.digest);
                struct cms_image_ref ref2;
                FUZZ_CHECK(cms_image_ref_parse(again, &ref2, &err) == 0);
                FUZZ_CHECK(!strcmp(ref.path, ref2.path) && !strcmp(ref.tag, ref2.tag) &&
                           !strcmp(ref.domain, ref2.domain) && !strcmp(ref.digest, ref2.digest));
        } else {
                FUZZ_CHECK(err.status == 400);
        }
        cms_image_path_ref_check(s, &err);
        cms_image_id_like(s);
        cms_object_name_valid(s);
        struct cms_cidr c;
        int fam;
        unsigned char addr[16];
        int rc = cms_cidr_parse(s, &c);
        if (rc == 0) {
                FUZZ_CHECK(c.prefix >= 0 && c.prefix <= (c.family == AF_INET ? 32 : 128));
                FUZZ_CHECK(cms_cidr_within(&c, &c));
                FUZZ_CHECK(cms_cidr_contains(&c, c.family, c.addr));
        }
        if (cms_ip_parse(s, &fam, addr) == 0 && rc == 0)
                cms_cidr_contains(&c, fam, addr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = fuzz_strndup(data, size);
        strings(s);
        json_object *doc = fuzz_json(s, size);
        if (doc) {
                json_object *out = NULL;
                struct cms_error err = {0};
                if (cms_network_create_body(doc, &out, &err) == 0)
                        json_object_put(out);
                out = NULL;
                if (cms_volume_create_body(doc, &out, &err) == 0)
                        json_object_put(out);
                out = NULL;
                json_object *net = NULL;
                json_object_object_get_ex(doc, "network", &net);
                if (cms_network_connect_body(doc, net ? net : doc, &out, &err) == 0)
                        json_object_put(out);
                char *hdr = NULL;
                if (cms_registry_auth_header(doc, "push", &hdr, &err) == 0)
                        free(hdr);
                if (json_object_is_type(doc, json_type_object)) {
                        json_object_put(cms_network_summary(doc, true));
                        json_object_put(cms_volume_summary(doc));
                        json_object_put(cms_image_list_item(doc));
                        json_object_put(cms_image_inspect_summary(doc));
                        json_object_put(cms_image_history_item(doc));
                        json_object *labels = NULL;
                        json_object_object_get_ex(doc, "Labels", &labels);
                        const char *filters[] = {"a", "a=b", "com.example=", NULL};
                        cms_labels_match(labels, filters);
                }
                json_object_put(doc);
        }
        free(s);
        return 0;
}
