/* Unit tests for the version comparators (daemon/scan/ver_*.c): exact tables per ecosystem,
 * each row checked both ways round (a op b and b op' a), plus validity. Sources: Debian Policy
 * 5.6.12 and dpkg's behaviour (the full random comparison is test_scan_dpkg.c); apk-tools'
 * test/version.data (alpinelinux/apk-tools, the published test vectors, used as data);
 * semver.org 2.0.0 section 11's precedence examples; PEP 440's "Summary of permitted suffixes
 * and relative ordering" example list and its normalization section; RubyGems' Gem::Version
 * documentation (its examples and the rules it states). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/scan/version.h"

#define ELEMENTS(x) (sizeof(x) / sizeof((x)[0]))

struct row {
        const char *a;
        int want; /* sign of cmp(a, b) */
        const char *b;
};

static int sign(int c)
{
        return c < 0 ? -1 : c > 0;
}

static void check_rows(const char *eco, int (*cmp)(const char *, const char *),
                       const struct row *rows, size_t n)
{
        int bad = 0;
        for (size_t i = 0; i < n; i++) {
                int got = sign(cmp(rows[i].a, rows[i].b)), rev = sign(cmp(rows[i].b, rows[i].a));
                if (got != rows[i].want || rev != -rows[i].want) {
                        printf("%s: '%s' vs '%s': want %d, got %d (reversed %d)\n", eco, rows[i].a,
                               rows[i].b, rows[i].want, got, rev);
                        bad++;
                }
        }
        assert_int_equal(bad, 0);
}

/* Every element of a strictly increasing list against every other. */
static void check_chain(const char *eco, int (*cmp)(const char *, const char *),
                        const char *const *v, size_t n)
{
        int bad = 0;
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++) {
                        int want = i < j ? -1 : i > j, got = sign(cmp(v[i], v[j]));
                        if (got != want) {
                                printf("%s: '%s' vs '%s': want %d, got %d\n", eco, v[i], v[j], want,
                                       got);
                                bad++;
                        }
                }
        assert_int_equal(bad, 0);
}

static void deb(void **state)
{
        static const struct row rows[] = {
            {"1.0~rc1", -1, "1.0"},
            {"1.0~~", -1, "1.0~"},
            {"1.0~", -1, "1.0"},
            {"1:0", 1, "9"},
            {"0:1.0", 0, "1.0"},
            {"1.0-1", -1, "1.0-1+b1"},
            {"1.0-1", -1, "1.0-1.1"},
            {"1.0", -1, "1.0-0.1"},
            {"1.0", 0, "1.0-0"},
            {"1.0a", -1, "1.0+"},
            {"1.0a", 1, "1.0"},
            {"1.0", -1, "1.0."},
            {"1.0.", 1, "1.0a"},
            {"1.0", 0, "1.00"},
            {"1.01", 0, "1.1"},
            {"1.10", 1, "1.9"},
            {"2:1.0", -1, "10:0.1"},
            {"1.0+dfsg-1", 1, "1.0-1"},
            {"1.0+dfsg-1", -1, "1.0.1-1"},
            {"7.88.1-10+deb12u5", -1, "7.88.1-10+deb12u6"},
            {"1.2.3-1ubuntu1", 1, "1.2.3-1"},
            {"1.2.3-1~bpo12+1", -1, "1.2.3-1"},
            {"1:2.38.1-5+deb12u1", 1, "2.39"},
            {"a", 1, "Z"},
            {"1-2-3", 1, "1-2"},
            {"3.0.11-1~deb12u2", 1, "3.0.11-1~deb12u1"},
            {"", -1, "~"},
            {"", 0, ""},
            {"99999999999999999999", -1, "100000000000000000000"},
        };
        check_rows("deb", cms_ver_cmp_deb, rows, ELEMENTS(rows));
        assert_null(cms_ver_check_deb("1:2.3-4"));
        assert_null(cms_ver_check_deb("a")); /* dpkg only warns */
        assert_null(cms_ver_check_deb(" 1.0 "));
        assert_string_equal(cms_ver_check_deb(""), "version string is empty");
        assert_string_equal(cms_ver_check_deb("1 0"), "version string has embedded spaces");
        assert_string_equal(cms_ver_check_deb("1a:1"), "epoch in version is not number");
        assert_string_equal(cms_ver_check_deb(":1"), "epoch in version is empty");
        assert_string_equal(cms_ver_check_deb("a:1"), "epoch in version is empty");
        assert_string_equal(cms_ver_check_deb("-1:1"), "epoch in version is negative");
        assert_string_equal(cms_ver_check_deb("3000000000:1"), "epoch in version is too big");
        assert_string_equal(cms_ver_check_deb("1:"), "nothing after colon in version number");
        assert_string_equal(cms_ver_check_deb("1.0-"), "revision number is empty");
        assert_string_equal(cms_ver_check_deb("-1"), "version number is empty");
}

/* apk-tools test/version.data (a selection of its rows, verbatim) then rules of the format. */
static void apk(void **state)
{
        static const struct row rows[] = {
            {"2.34", 1, "0.1.0_alpha"},
            {"23_foo", 1, "4_beta"},
            {"1.0", -1, "1.0bc"},
            {"0.1.0_alpha", 0, "0.1.0_alpha"},
            {"0.1.0_alpha", -1, "0.1.3_alpha"},
            {"0.1.3_alpha", 1, "0.1.0_alpha"},
            {"0.1.0_alpha2", 1, "0.1.0_alpha"},
            {"0.1.0_alpha", -1, "2.2.39-r1"},
            {"2.2.39-r1", 1, "1.0.4-r3"},
            {"1.0.4-r3", -1, "1.0.4-r4"},
            {"1.0.4-r4", -1, "1.6"},
            {"1.6", 1, "1.0.2"},
            {"1.0.2", 1, "0.7-r1"},
            {"0.7-r1", -1, "1.0.0"},
            {"1.0.0", -1, "1.0.1"},
            {"1.0.1", -1, "1.1"},
            {"1.1", 1, "1.1_alpha1"},
            {"1.1_alpha1", -1, "1.2.1"},
            {"1.2.1", 1, "1.2"},
            {"1.2", -1, "1.3_alpha"},
            {"1.3_alpha", -1, "1.3_alpha2"},
            {"1.3_alpha2", -1, "1.3_alpha3"},
            {"1.3_alpha8", 1, "0.6.0"},
            {"0.6.0", -1, "0.6.1"},
            {"0.6.1", -1, "0.7.0"},
            {"0.7.0", -1, "0.8_beta1"},
            {"0.8_beta1", -1, "0.8_beta2"},
            {"0.8_beta4", -1, "4.8-r1"},
            {"4.8-r1", 1, "3.10.18-r1"},
            {"3.10.18-r1", 1, "2.3.0b-r1"},
            {"2.3.0b-r1", -1, "2.3.0b-r2"},
            {"2.3.0b-r4", 1, "0.12.1"},
            {"0.12.3", 1, "0.12"},
            {"0.12", -1, "0.13_beta1"},
            {"0.13_beta5", 1, "0.9.12"},
            {"0.9.13", 1, "0.0.16"},
            {"0.0.16", -1, "0.6"},
            {"2.1.15-r3", 1, "1.2.11"},
            {"1.2.11", -1, "1.2.12.1"},
            {"1.2.12.1", -1, "1.2.13"},
            {"1.2.13", -1, "1.2.14-r1"},
            {"0.2.0-r1", 0, "0.2.0-r1"},
            {"0.2.0-r1", -1, "3.1_p16"},
            {"3.1_p16", -1, "3.1_p17"},
            {"3.1_p17", 1, "1.06-r6"},
            {"1.06-r6", -1, "006"},
            {"006", 1, "1.0.0"},
            {"1.2.2-r1", 1, "1.2.2"},
            {"2.16.1-r3", 0, "2.16.1-r3"},
            {"1.0.3-r6", -1, "1.0.4"},
            {"2.59", -1, "20050718-r1"},
            {"20050718-r1", -1, "20050718-r2"},
            {"20050718-r2", 1, "3.9.8-r5"},
            {"3.9.8-r5", 1, "2.01.01_alpha10"},
            {"2.01.01_alpha10", 1, "0.94"},
            {"1.0", 1, "0.99.3.20040818"},
            {"1.39", 1, "1.00_beta2"},
            {"1.00_beta2", 1, "0.9.2"},
            {"2.8.9-r1", 1, "2.8.9"},
            {"7.15.1-r1", 1, "1.02"},
            {"1.02", -1, "1.03-r1"},
            {"1.12.12-r2", -1, "2.8.0.6-r1"},
            {"0.5.2.7", -1, "4.2.52_p2-r1"},
            {"4.2.52_p2-r1", -1, "4.2.52_p4-r2"},
            {"4.2.52_p4-r2", 1, "1.02.07"},
            {"1.02.07", -1, "1.02.10-r1"},
            {"2.18.3-r10", 1, "1.05-r18"},
            {"1.05-r18", -1, "1.05-r19"},
            {"2.11-r1", 1, "2.11"},
            {"10-r1", 1, "4"},
            {"0.7.3-r2", 1, "0.7.3"},
            {"22.7-r1", -1, "22.7.3-r1"},
            {"22.7.3-r1", 1, "22.7"},
            {"22.7", 1, "2.1_pre20"},
            {"2.1_pre20", -1, "2.1_pre26"},
            {"2.10.1", 1, "02.08.01b"},
            {"02.08.01b", -1, "4.77"},
            {"3.81", 1, "1.6d"},
            {"1.6d", 1, "1.2.07.8"},
            {"1.2.07.8", -1, "1.2.12.04"},
            {"1.2.12.04", -1, "1.2.12.05"},
            {"2.6.1", 1, "2.6"},
            {"1.07-r1", -1, "1.07.5"},
            {"1.07.5", 1, "1.07"},
            {"20061003", 1, "0.1_pre20060810"},
            {"0.1_pre20060810", -1, "0.1_pre20060817"},
            {"3.3.17", 1, "0.59s-r11"},
            {"0.59s-r11", -1, "0.65"},
            {"2.5.1-r8", -1, "2.5.1a-r1"},
            {"1.3.5-r10", 1, "1.3.5-r8"},
            {"20040401", 1, "2.0.0_rc3-r1"},
            {"2.0.0_rc3-r1", 1, "1.5"},
            {"0.9.16-r1", -1, "3.9_pre20060124"},
            {"3.9_pre20060124", 1, "0.01"},
            {"1.1.7", -1, "6b-r7"},
            {"6b-r7", 1, "1.12-r7"},
            {"0.10.0", -1, "0.10.1_rc1"},
            {"0.10.1_rc1", 1, "0.9.11"},
            {"2.0.2", 1, "1.1a"},
            {"1.1a", -1, "1.3a"},
            {"1.0-r1", 1, "0.15.1b"},
            {"0.15.1b-r2", 1, "0.15.1b"},
            {"0.20070118", -1, "0.20070207_rc1"},
            {"0.20070207_rc1", -1, "1.0"},
            {"3.7_p1", 1, "1.3"},
            {"4.3_p2-r1", -1, "4.3_p2-r5"},
            {"4.3_p2-r5", -1, "4.4_p1-r6"},
            {"4.5_p1-r1", 1, "4.5_p1"},
            {"4.5_p1", 1, "0.9.8c-r1"},
            {"0.9.8c-r1", -1, "0.9.8d"},
            {"2.2.3-r2", -1, "013"},
            {"013", -1, "014-r1"},
            {"0.1.23", -1, "5b-r9"},
            {"3.2.7", 1, "0.3.1_rc8"},
            {"5.7-r3", 1, "5.1_p4"},
            {"1.7", -1, "1.7b"},
            {"1.7b", -1, "1.8.4-r3"},
            {"1.8.5", -1, "1.8.5_p2"},
            {"1.4.9-r2", -1, "2.9.11_pre20051101-r2"},
            {"2.9.11_pre20051101-r3", 1, "2.9.11_pre20051101"},
            {"2.9.11_pre20051101", -1, "2.9.11_pre20061021-r1"},
            {"1.3.2-r3", -1, "1.6.8_p12-r1"},
            {"1.6.8_p12-r1", 1, "1.6.8_p9-r2"},
            {"0.40-r1", -1, "2.25b-r5"},
            {"1.0.5", -1, "1.4_p12-r2"},
            {"0.9.28-r2", -1, "0.9.28.1"},
            {"0.9.28.1", 1, "0.9.28"},
            {"0.9.28.1", -1, "087-r1"},
            {"104-r11", 1, "104-r9"},
            {"5.52-r1", 1, "1.2.5_rc2"},
            {"20040406-r1", 1, "2.12r-r4"},
            {"2.12r-r4", -1, "2.12r-r5"},
            {"7.0.17", -1, "7.0.174"},
            {"1.1.1-r3", 1, "0.3.4_pre20061029"},
            {"1.2.9.1-r1", 1, "1.2.9.1"},
            {"1.3-r0", -1, "1.3.1-r0"},
            {"1.3_pre1-r1", -1, "1.3.2"},
            {"1.0_p10-r0", 1, "1.0_p9-r0"},
            {"0.1.0_alpha_pre2", -1, "0.1.0_alpha"},
            {"1.0.0_pre20191002222144-r0", -1, "1.0.0_pre20210530193627-r0"},
            /* The brief's cases and the format's other rules. */
            {"1.0_rc1", -1, "1.0"},
            {"1.0", -1, "1.0_p1"},
            {"1.0-r1", 1, "1.0"},
            {"1.0_rc1", -1, "1.0_rc2"},
            {"1.0_alpha", -1, "1.0_beta"},
            {"1.0_beta", -1, "1.0_pre"},
            {"1.0_pre", -1, "1.0_rc"},
            {"1.0_cvs", -1, "1.0_svn"},
            {"1.0_svn", -1, "1.0_git"},
            {"1.0_git", -1, "1.0_hg"},
            {"1.0_hg", -1, "1.0_p"},
            {"1.0a", 1, "1.0"},
            {"1.0a", -1, "1.0.1"},
            {"1.0a", 1, "1.0_p1"},
            {"1.0_p1", 1, "1.0-r1"},
            {"1.0-r2", -1, "1.0-r10"},
            {"1.0_git20240101", 1, "1.0_git20231231"},
            {"1.0~abc1-r1", 1, "1.0-r1"},
            {"1.2.3", 0, "1.2.3"},
            {"1.02", -1, "1.1"}, /* a leading zero reads as a fraction */
            {"1.10", 1, "1.9"},
        };
        check_rows("apk", cms_ver_cmp_apk, rows, ELEMENTS(rows));
        assert_true(cms_ver_valid_apk("1.2.3_rc1-r0"));
        assert_true(cms_ver_valid_apk("2.12r-r4"));
        assert_true(cms_ver_valid_apk("1.0_alpha_pre2"));
        assert_true(cms_ver_valid_apk("1.0~1a2b-r3"));
        assert_false(cms_ver_valid_apk(""));
        assert_false(cms_ver_valid_apk("1.0bc"));
        assert_false(cms_ver_valid_apk("23_foo"));
        assert_false(cms_ver_valid_apk("1.0-1"));
        assert_false(cms_ver_valid_apk("1.0-r"));
        assert_false(cms_ver_valid_apk("1..0"));
        assert_false(cms_ver_valid_apk("v1.0"));
        assert_false(cms_ver_valid_apk("1.0-r1_p1"));
}

static void semver(void **state)
{
        /* semver.org section 11, in order, and major/minor/patch. */
        static const char *const chain[] = {
            "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
            "1.0.0-beta",  "1.0.0-beta.2",  "1.0.0-beta.11",
            "1.0.0-rc.1",  "1.0.0",         "1.0.1",
            "1.1.0",       "2.0.0",         "2.1.0",
            "2.1.1",       "10.0.0",
        };
        check_chain("semver", cms_ver_cmp_semver, chain, ELEMENTS(chain));
        static const struct row rows[] = {
            {"1.0.0+20130313144700", 0, "1.0.0"},
            {"1.0.0-alpha+001", 0, "1.0.0-alpha"},
            {"1.0.0-beta+exp.sha.5114f85", 0, "1.0.0-beta"},
            {"v1.2.3", 0, "1.2.3"},
            {" 1.2.3 ", 0, "1.2.3"},
            {"1.0.0-2", -1, "1.0.0-10"},
            {"1.0.0-1", -1, "1.0.0-a"},
            {"1.0.0-Z", -1, "1.0.0-a"},
            {"1.0.0-a-b", 1, "1.0.0-a"},
            {"1.0.0-alpha.1", -1, "1.0.0-alpha.1.0"},
            {"9007199254740991.0.0", 1, "9.0.0"},
            {"1.0", 1, "9.9.9"}, /* invalid after */
        };
        check_rows("semver", cms_ver_cmp_semver, rows, ELEMENTS(rows));
        assert_true(cms_ver_valid_semver("0.0.0"));
        assert_true(cms_ver_valid_semver("1.2.3-0.beta.x-y+build.01"));
        static const char *const bad[] = {
            "",          "1",        "1.0",     "01.0.0",     "1.01.0",
            "1.0.0-",    "1.0.0-01", "1.0.0+",  "1.0.0-a..b", "1.0.0+a..b",
            "1.0.0-a_b", "V1.0.0",   "vv1.0.0", "1.0.0.0",    "9007199254740992.0.0",
            "1.2.3 4",
        };
        for (size_t i = 0; i < ELEMENTS(bad); i++)
                if (cms_ver_valid_semver(bad[i]))
                        fail_msg("semver: '%s' accepted", bad[i]);
}

static void pep440(void **state)
{
        /* PEP 440, "Summary of permitted suffixes and relative ordering", its example list. */
        static const char *const chain[] = {
            "1.dev0",
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12.dev456",
            "1.0a12",
            "1.0b1.dev456",
            "1.0b2",
            "1.0b2.post345.dev456",
            "1.0b2.post345",
            "1.0rc1.dev456",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0+abc.7",
            "1.0+5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.0.15",
            "1.1.dev1",
        };
        check_chain("pep440", cms_ver_cmp_pep440, chain, ELEMENTS(chain));
        static const char *const brief[] = {
            "1.0.dev1", "1.0a1", "1.0b1", "1.0rc1", "1.0", "1.0.post1", "2.0", "1!0.1",
        };
        check_chain("pep440", cms_ver_cmp_pep440, brief, ELEMENTS(brief));
        /* Normalization (PEP 440 "Normalization"): each pair is one version. */
        static const struct row rows[] = {
            {"1.0", 0, "1.0.0"},
            {"1.0A1", 0, "1.0a1"},
            {"1.0.a1", 0, "1.0a1"},
            {"1.0-a1", 0, "1.0a1"},
            {"1.0_a_1", 0, "1.0a1"},
            {"1.0alpha1", 0, "1.0a1"},
            {"1.0beta2", 0, "1.0b2"},
            {"1.0c1", 0, "1.0rc1"},
            {"1.0pre1", 0, "1.0rc1"},
            {"1.0preview1", 0, "1.0rc1"},
            {"1.0a", 0, "1.0a0"},
            {"1.0-1", 0, "1.0.post1"},
            {"1.0post1", 0, "1.0.post1"},
            {"1.0rev1", 0, "1.0.post1"},
            {"1.0r1", 0, "1.0.post1"},
            {"1.0.post", 0, "1.0.post0"},
            {"1.0-dev", 0, "1.0.dev0"},
            {"1.0dev1", 0, "1.0.dev1"},
            {"v1.0", 0, "1.0"},
            {" 1.0\n", 0, "1.0"},
            {"1.01", 0, "1.1"},
            {"0!1.0", 0, "1.0"},
            {"1.0+ubuntu-1", 0, "1.0+ubuntu.1"},
            {"1.0+UBUNTU_1", 0, "1.0+ubuntu.1"},
            {"1.0+1", 1, "1.0+abc"},
            {"1.0+abc", -1, "1.0+abc.1"},
            {"1.0+10", 1, "1.0+9"},
            {"1.0", -1, "1.0+0"},
            {"1.0.post1.dev1", -1, "1.0.post1"},
            {"1.0.post1.dev1", 1, "1.0"},
            {"1.0a1.post1", 1, "1.0a1"},
            {"1.0a1.post1", -1, "1.0a2.dev1"},
            {"1.0", 1, "1.0rc99999999999999999999"},
            {"not a version", 1, "99"},
        };
        check_rows("pep440", cms_ver_cmp_pep440, rows, ELEMENTS(rows));
        static const char *const bad[] = {
            "",         "1.0+",        "1.0++1",  "abc", "1.0.",    "1..0",
            "1.0+a..b", "1.0-",        "1!",      "!1",  "1.0a1a1", "1.0.post1.post2",
            "1.0 1",    "1.0-dev-dev", "1.0+a b",
        };
        for (size_t i = 0; i < ELEMENTS(bad); i++)
                if (cms_ver_valid_pep440(bad[i]))
                        fail_msg("pep440: '%s' accepted", bad[i]);
        assert_true(cms_ver_valid_pep440("1!2.3.4rc5.post6.dev7+local.8"));
}

/* Gem::Version's documented rules: trailing zeros, letters as pre-releases (1.0.a10 is
 * 1.0.a.10, above 1.0.a9), "-" as ".pre.", numbers numerically. Every row and validity answer
 * was checked against Ruby 3.1's Gem::Version (Debian bookworm's ruby), except "": Ruby reads
 * it as "0", cmsd refuses it (an installed package always has a version). */
static void gem(void **state)
{
        (void)state;
        static const struct row rows[] = {
            {"1.0", 0, "1"},
            {"1.0.0", 0, "1"},
            {"1.0.a", -1, "1.0"},
            {"1.0.a9", -1, "1.0.a10"},
            {"1.0.a.2", -1, "1.0.b1"},
            {"1.0.b1", -1, "1.0"},
            {"1.0", -1, "1.0.1"},
            {"1.9.3", -1, "1.10"},
            {"2.0.0.rc1", -1, "2.0.0"},
            {"1.0-rc1", 0, "1.0.pre.rc1"},
            {"1.0-1", -1, "1.0"},
            {"13.0.6", -1, "13.0.7"},
            {"1.0.a", 0, "1.a"},
            {"01.2", 0, "1.2"},
            {"1.2.b", -1, "1.2.b.1"},
            {"1.2.b.0", 0, "1.2.b"},
            {"1.2.beta", -1, "1.2.rc"},
            {"1.2.rc", -1, "1.2.0.1"},
            {" 3.1 ", 0, "3.1.0"},
            {"10", 1, "9.99.99"},
            {"1.0.0.0.0.1", 1, "1"},
        };
        check_rows("gem", cms_ver_cmp_gem, rows, ELEMENTS(rows));
        static const char *const valid[] = {"1",        "1.0",     " 1.0 ",     "1.0.a10",
                                            "1.0-rc.1", "1.0-x-y", "2.0.0.pre3"};
        static const char *const invalid[] = {"",     "a1",  "1..0", "1.0-",
                                              "1.0.", "1 0", "-1",   "1.0+build"};
        for (size_t i = 0; i < ELEMENTS(valid); i++)
                if (!cms_ver_valid_gem(valid[i]))
                        fail_msg("gem: '%s' should be valid", valid[i]);
        for (size_t i = 0; i < ELEMENTS(invalid); i++)
                if (cms_ver_valid_gem(invalid[i]))
                        fail_msg("gem: '%s' should be invalid", invalid[i]);
        /* An invalid version sorts after every valid one. */
        assert_true(cms_ver_cmp_gem("1..0", "99") > 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(deb),    cmocka_unit_test(apk), cmocka_unit_test(semver),
            cmocka_unit_test(pep440), cmocka_unit_test(gem),
        };
        return cmocka_run_group_tests_name("scan_version", tests, NULL, NULL);
}
