/* Unit tests for daemon/images/model*.c: base64url and the
 * X-Registry-Auth header, CIDR parsing and containment, network create/connect bodies (subnet,
 * gateway inside it, ip_range inside it, static IPs against the network's subnets), volume
 * bodies, label matching and the image/network/volume summaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "daemon/images/model.h"

static json_object *parse(const char *text)
{
        json_object *o = json_tokener_parse(text);
        if (!o)
                fail_msg("bad JSON in test: %s", text);
        return o;
}

static void test_base64url(void **state)
{
        static const struct {
                const char *in, *out;
        } cases[] = {{"", ""},           {"f", "Zg=="},         {"fo", "Zm8="},
                     {"foo", "Zm9v"},    {"foob", "Zm9vYg=="}, {"\xfb\xff", "-_8="},
                     {"foobar", "Zm9vYmFy"}};
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *b = cms_base64url_encode(cases[i].in, strlen(cases[i].in));
                assert_string_equal(b, cases[i].out);
                free(b);
        }
        char *h = NULL;
        json_object *a = parse("{\"username\":\"u\",\"password\":\"p\"}");
        assert_int_equal(cms_registry_auth_header(a, "body.auth", &h, NULL), 0);
        /* {"username":"u","password":"p"} */
        assert_string_equal(h, "X-Registry-Auth: eyJ1c2VybmFtZSI6InUiLCJwYXNzd29yZCI6InAifQ==");
        free(h);
        json_object_put(a);
        assert_int_equal(cms_registry_auth_header(NULL, "body.auth", &h, NULL), 0);
        assert_string_equal(h, "X-Registry-Auth: e30="); /* {} */
        free(h);
        struct cms_error err = {0};
        a = parse("{\"user\":\"u\"}");
        assert_true(cms_registry_auth_header(a, "body.auth", &h, &err) < 0);
        assert_int_equal(err.status, 400);
        json_object_put(a);
        a = parse("{\"username\":5}");
        assert_true(cms_registry_auth_header(a, "body.auth", &h, &err) < 0);
        json_object_put(a);
}

static void test_cidr(void **state)
{
        struct cms_cidr c, in;
        int fam;
        unsigned char a[16];
        assert_int_equal(cms_cidr_parse("10.1.0.0/24", &c), 0);
        assert_int_equal(c.family, AF_INET);
        assert_int_equal(c.prefix, 24);
        assert_int_equal(cms_cidr_parse("10.1.0.5/24", &in), -EDOM);
        assert_int_equal(cms_cidr_parse("10.1.0.0", &in), -EINVAL);
        assert_int_equal(cms_cidr_parse("10.1.0.0/33", &in), -EINVAL);
        assert_int_equal(cms_cidr_parse("10.1.0/24", &in), -EINVAL);
        assert_int_equal(cms_cidr_parse("/24", &in), -EINVAL);
        assert_int_equal(cms_cidr_parse("0.0.0.0/0", &in), 0);
        assert_int_equal(cms_cidr_parse("fd00:1::/64", &in), 0);
        assert_int_equal(in.family, AF_INET6);
        assert_int_equal(cms_cidr_parse("fd00:1::1/64", &in), -EDOM);

        assert_int_equal(cms_ip_parse("10.1.0.200", &fam, a), 0);
        assert_true(cms_cidr_contains(&c, fam, a));
        assert_int_equal(cms_ip_parse("10.1.1.1", &fam, a), 0);
        assert_false(cms_cidr_contains(&c, fam, a));
        assert_int_equal(cms_ip_parse("fd00:1::5", &fam, a), 0);
        assert_false(cms_cidr_contains(&c, fam, a)); /* other family */
        assert_true(cms_ip_parse("10.1.0.256", &fam, a) < 0);

        assert_int_equal(cms_cidr_parse("10.1.0.128/25", &in), 0);
        assert_true(cms_cidr_within(&c, &in));
        assert_int_equal(cms_cidr_parse("10.1.0.0/23", &in), 0);
        assert_false(cms_cidr_within(&c, &in)); /* wider than the subnet */
        assert_int_equal(cms_cidr_parse("10.2.0.0/25", &in), 0);
        assert_false(cms_cidr_within(&c, &in));
        /* A prefix that is not a multiple of 8. */
        assert_int_equal(cms_cidr_parse("172.20.16.0/20", &c), 0);
        assert_int_equal(cms_ip_parse("172.20.31.255", &fam, a), 0);
        assert_true(cms_cidr_contains(&c, fam, a));
        assert_int_equal(cms_ip_parse("172.20.32.0", &fam, a), 0);
        assert_false(cms_cidr_contains(&c, fam, a));
}

static void expect_bad_network(const char *body, const char *needle)
{
        json_object *b = parse(body), *out = NULL;
        struct cms_error err = {0};
        if (cms_network_create_body(b, &out, &err) == 0)
                fail_msg("accepted: %s", body);
        assert_int_equal(err.status, 400);
        if (!strstr(err.message, needle))
                fail_msg("%s: message '%s' lacks '%s'", body, err.message, needle);
        assert_null(out);
        json_object_put(b);
}

static void test_network_create(void **state)
{
        json_object *b = parse("{\"name\":\"net1\",\"subnet\":\"10.5.0.0/24\",\"gateway\":\"10.5.0.1\","
                               "\"ip_range\":\"10.5.0.128/25\",\"internal\":true,"
                               "\"labels\":{\"a\":\"b\"},\"options\":{\"mtu\":\"1400\"}}");
        json_object *out = NULL;
        struct cms_error err = {0};
        assert_int_equal(cms_network_create_body(b, &out, &err), 0);
        assert_string_equal(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                            "{\"Name\":\"net1\",\"CheckDuplicate\":true,\"Driver\":\"bridge\","
                            "\"Internal\":true,\"EnableIPv6\":false,\"Labels\":{\"a\":\"b\"},"
                            "\"Options\":{\"mtu\":\"1400\"},\"IPAM\":{\"Driver\":\"default\","
                            "\"Config\":[{\"Subnet\":\"10.5.0.0/24\",\"Gateway\":\"10.5.0.1\","
                            "\"IPRange\":\"10.5.0.128/25\"}]}}");
        json_object_put(out);
        json_object_put(b);
        b = parse("{\"name\":\"plain\"}");
        assert_int_equal(cms_network_create_body(b, &out, &err), 0);
        assert_null(json_object_object_get(out, "IPAM"));
        json_object_put(out);
        json_object_put(b);

        expect_bad_network("{\"name\":\"n\",\"subnet\":\"10.5.0.0\"}", "CIDR");
        expect_bad_network("{\"name\":\"n\",\"subnet\":\"banana\"}", "CIDR");
        expect_bad_network("{\"name\":\"n\",\"subnet\":\"10.5.0.9/24\"}", "host bits");
        expect_bad_network("{\"name\":\"n\",\"subnet\":\"10.5.0.0/24\",\"gateway\":\"10.6.0.1\"}", "outside");
        expect_bad_network("{\"name\":\"n\",\"subnet\":\"10.5.0.0/24\",\"gateway\":\"fd00::1\"}", "outside");
        expect_bad_network("{\"name\":\"n\",\"subnet\":\"10.5.0.0/24\",\"gateway\":\"x\"}", "not an IP");
        expect_bad_network("{\"name\":\"n\",\"gateway\":\"10.5.0.1\"}", "needs body.subnet");
        expect_bad_network("{\"name\":\"n\",\"subnet\":\"10.5.0.0/24\",\"ip_range\":\"10.5.0.0/23\"}", "not inside");
        expect_bad_network("{\"name\":\"n\",\"subnet\":\"10.5.0.0/24\",\"ip_range\":\"10.5.0.1/25\"}", "host bits");
        expect_bad_network("{\"subnet\":\"10.5.0.0/24\"}", "body.name");
        expect_bad_network("{\"name\":\"-x\"}", "body.name");
        expect_bad_network("{\"name\":\"n\",\"internal\":\"yes\"}", "internal");
        expect_bad_network("{\"name\":\"n\",\"labels\":{\"a\":1}}", "labels");
        expect_bad_network("{\"name\":\"n\",\"options\":[]}", "options");
        expect_bad_network("{\"name\":\"n\",\"driver\":\"Bad Driver\"}", "driver");
        expect_bad_network("{\"name\":\"n\",\"other\":1}", "unknown field 'other'");
}

static void test_network_connect(void **state)
{
        json_object *net = parse("{\"Name\":\"n\",\"IPAM\":{\"Config\":[{\"Subnet\":\"10.5.0.0/24\"}]}}");
        json_object *none = parse("{\"Name\":\"auto\",\"IPAM\":{\"Config\":[]}}");
        json_object *b = parse("{\"container\":\"web\",\"ip_address\":\"10.5.0.10\",\"aliases\":[\"db\"]}");
        json_object *out = NULL;
        struct cms_error err = {0};
        assert_int_equal(cms_network_connect_body(b, net, &out, &err), 0);
        assert_string_equal(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                            "{\"Container\":\"web\",\"EndpointConfig\":{\"IPAMConfig\":{"
                            "\"IPv4Address\":\"10.5.0.10\"},\"Aliases\":[\"db\"]}}");
        json_object_put(out);
        assert_true(cms_network_connect_body(b, none, &out, &err) < 0);
        assert_non_null(strstr(err.message, "has no subnet"));
        json_object_put(b);
        static const char *const bad[] = {
            "{\"container\":\"web\",\"ip_address\":\"10.6.0.10\"}",
            "{\"container\":\"web\",\"ip_address\":\"nope\"}",
            "{\"ip_address\":\"10.5.0.10\"}",
            "{\"container\":\"../x\"}",
            "{\"container\":\"web\",\"aliases\":\"db\"}",
            "{\"container\":\"web\",\"aliases\":[5]}",
            "{\"container\":\"web\",\"extra\":1}",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                b = parse(bad[i]);
                if (cms_network_connect_body(b, net, &out, &err) == 0)
                        fail_msg("accepted: %s", bad[i]);
                assert_int_equal(err.status, 400);
                json_object_put(b);
        }
        json_object_put(net);
        json_object_put(none);
}

static void test_volume_body(void **state)
{
        json_object *b = parse("{\"name\":\"data\",\"labels\":{\"a\":\"b\"},\"options\":{\"type\":\"tmpfs\"}}");
        json_object *out = NULL;
        struct cms_error err = {0};
        assert_int_equal(cms_volume_create_body(b, &out, &err), 0);
        assert_string_equal(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                            "{\"Name\":\"data\",\"Driver\":\"local\",\"DriverOpts\":{\"type\":\"tmpfs\"},"
                            "\"Labels\":{\"a\":\"b\"}}");
        json_object_put(out);
        json_object_put(b);
        assert_int_equal(cms_volume_create_body(NULL, &out, &err), 0); /* an anonymous volume */
        json_object_put(out);
        static const char *const bad[] = {"{\"name\":\"a\"}", "{\"name\":\"-a\"}", "{\"name\":\"a/b\"}",
                                          "{\"driver\":\"a/b\"}", "{\"labels\":[]}", "{\"x\":1}", "[]"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                b = parse(bad[i]);
                if (cms_volume_create_body(b, &out, &err) == 0)
                        fail_msg("accepted: %s", bad[i]);
                assert_int_equal(err.status, 400);
                json_object_put(b);
        }
}

static void test_labels_and_kv(void **state)
{
        json_object *l = parse("{\"a\":\"1\",\"b\":\"\",\"c\":\"x=y\"}");
        const char *all[] = {"a=1", "b", "c=x=y", NULL};
        const char *miss[] = {"a=1", "d", NULL};
        const char *wrong[] = {"a=2", NULL};
        assert_true(cms_labels_match(l, all));
        assert_true(cms_labels_match(l, NULL));
        assert_false(cms_labels_match(l, miss));
        assert_false(cms_labels_match(l, wrong));
        assert_false(cms_labels_match(NULL, all));
        json_object_put(l);

        json_object *o = json_object_new_object();
        const char *kv[] = {"A=1", "B=", "C=x=y", NULL};
        assert_int_equal(cms_kv_into(kv, "buildarg", o, NULL), 0);
        assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                            "{\"A\":\"1\",\"B\":\"\",\"C\":\"x=y\"}");
        const char *badkv[] = {"novalue", NULL}, *badkv2[] = {"=v", NULL};
        assert_true(cms_kv_into(badkv, "buildarg", o, NULL) < 0);
        assert_true(cms_kv_into(badkv2, "buildarg", o, NULL) < 0);
        json_object_put(o);

        char *f = NULL;
        const char *labels[] = {"a=1", NULL}, *badl[] = {"=1", NULL};
        assert_int_equal(cms_label_filters(labels, NULL, &f, NULL), 0);
        assert_string_equal(f, "%7B%22label%22%3A%5B%22a%3D1%22%5D%7D"); /* {"label":["a=1"]} */
        free(f);
        assert_true(cms_label_filters(badl, NULL, &f, NULL) < 0);
        char t[40];
        cms_rfc3339(0, t, sizeof(t));
        assert_string_equal(t, "1970-01-01T00:00:00Z");
}

static void test_summaries(void **state)
{
        json_object *img = parse("{\"Id\":\"sha256:aa\",\"RepoTags\":[\"<none>:<none>\"],\"RepoDigests\":null,"
                                 "\"Size\":10,\"Created\":86400,\"Labels\":null}");
        json_object *o = cms_image_list_item(img);
        assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                            "{\"id\":\"sha256:aa\",\"tags\":[],\"digests\":[],\"size\":10,"
                            "\"created\":\"1970-01-02T00:00:00Z\",\"dangling\":true,\"labels\":{}}");
        json_object_put(o);
        json_object_put(img);
        json_object *net = parse("{\"Id\":\"n1\",\"Name\":\"net\",\"Driver\":\"bridge\",\"Scope\":\"local\","
                                 "\"Internal\":false,\"IPAM\":{\"Config\":[{\"Subnet\":\"10.5.0.0/24\","
                                 "\"Gateway\":\"10.5.0.1\"}]},\"Containers\":{\"c1\":{\"Name\":\"web\","
                                 "\"IPv4Address\":\"10.5.0.10/24\",\"IPv6Address\":\"\",\"MacAddress\":\"m\"}}}");
        o = cms_network_summary(net, true);
        json_object *c = json_object_array_get_idx(json_object_object_get(o, "containers"), 0);
        assert_string_equal(json_object_get_string(json_object_object_get(c, "ipv4_address")), "10.5.0.10");
        assert_string_equal(json_object_get_string(json_object_object_get(c, "name")), "web");
        json_object *s = json_object_array_get_idx(json_object_object_get(o, "subnets"), 0);
        assert_string_equal(json_object_get_string(json_object_object_get(s, "gateway")), "10.5.0.1");
        json_object_put(o);
        json_object_put(net);
        json_object *v = parse("{\"Name\":\"d\",\"Driver\":\"local\",\"Mountpoint\":\"/m\",\"CreatedAt\":\"t\"}");
        o = cms_volume_summary(v);
        assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                            "{\"name\":\"d\",\"driver\":\"local\",\"mountpoint\":\"\\/m\",\"labels\":{},"
                            "\"options\":{},\"scope\":\"\",\"created\":\"t\"}");
        json_object_put(o);
        json_object_put(v);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_base64url),
            cmocka_unit_test(test_cidr),         cmocka_unit_test(test_network_create),
            cmocka_unit_test(test_network_connect), cmocka_unit_test(test_volume_body),
            cmocka_unit_test(test_labels_and_kv), cmocka_unit_test(test_summaries),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
