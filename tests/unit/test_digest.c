/* Unit tests for the digest helpers of daemon/util.c (nettle underneath): FIPS 180-4 / NIST
 * vectors and the padding edges (checked against coreutils sha256sum), the hex form, and the
 * constant-time digest comparison. base64url is tested with its user (test_resource_model). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "daemon/util.h"

#include <stdlib.h>
#include <string.h>

static void hex_of(const void *data, size_t n, char out[65])
{
        unsigned char d[CMS_SHA256_LEN];
        cms_sha256(data, n, d);
        cms_sha256_hex(d, out);
}

static void test_nist_vectors(void **state)
{
        static const struct {
                const char *in, *hex;
        } v[] = {
            {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
            {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
            {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
            {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
             "klmnopqrlmnopqrsmnopqrstnopqrstu",
             "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
        };
        char hex[65];
        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
                hex_of(v[i].in, strlen(v[i].in), hex);
                assert_string_equal(hex, v[i].hex);
        }
}

static void test_million_a(void **state)
{
        char *a = malloc(1000000), hex[65];
        unsigned char d[CMS_SHA256_LEN];
        assert_non_null(a);
        memset(a, 'a', 1000000);
        cms_sha256(a, 1000000, d);
        free(a);
        cms_sha256_hex(d, hex);
        assert_string_equal(hex,
                            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Lengths around the 55/56/64-byte padding edges; input byte i is '0' + i % 43. */
static void test_padding_edges(void **state)
{
        static const struct {
                size_t n;
                const char *hex;
        } v[] = {
            {55, "5115528ed8d30114d2c26627c045ccc1ed16e95d21a1118df62b39c601cfeb58"},
            {56, "436d4d7a61515716fae1cc93feaf7c658a619a10a96a36fe148693a9d241f317"},
            {63, "439a1bc75f8d2f18917893df1a66be79196e3e17ce07961b1b56c67a7e436918"},
            {64, "5d730a4aedc643aa5f0ddb472d76f5fea8960e273329a3e0b0564c45aa7217f5"},
            {65, "77af5c6d978131f977161f05717a6a09af3bb73a0e479c8a268e5400f03f8e09"},
            {119, "b8db8213013d5455a65a27a5860b8668e7808d71b1c69627032906cd8f0f95d8"},
            {120, "aa9b3be984cd3cd4b96fa1c9da29b7b647c6bf6161fb31a594a1b65f1945cdee"},
            {127, "42932971caf297396447574f71c6af8cb1937a8da5e092176cb354f7edf01518"},
            {128, "c5635a88feef14c30640680e78688f2fe3e7fcd059b165bb593560db8b73f53e"},
            {129, "aa2d12126216843c4c813e79fd70a364a6a889d9bb510bd9adb47e25d87d983f"},
        };
        char buf[129], hex[65];
        for (size_t i = 0; i < sizeof(buf); i++)
                buf[i] = (char)('0' + i % 43);
        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
                hex_of(buf, v[i].n, hex);
                assert_string_equal(hex, v[i].hex);
        }
}

static void test_digest_eq(void **state)
{
        unsigned char a[CMS_SHA256_LEN], b[CMS_SHA256_LEN];
        cms_sha256("abc", 3, a);
        cms_sha256("abc", 3, b);
        assert_true(cms_digest_eq(a, b));
        for (size_t i = 0; i < CMS_SHA256_LEN; i += 31) { /* first and last byte */
                b[i] ^= 1;
                assert_false(cms_digest_eq(a, b));
                b[i] ^= 1;
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_nist_vectors),
            cmocka_unit_test(test_million_a),
            cmocka_unit_test(test_padding_edges),
            cmocka_unit_test(test_digest_eq),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
