/* Unit tests for the CVSS v3 base score (daemon/scan/cvss.c): the worked examples of FIRST's
 * "CVSS v3.1 Examples" document (vector and base score per CVE), NVD-published v3.x vectors
 * with their scores, v3.0 vectors, Appendix A's round-up, malformed vectors, the severity
 * scale. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "daemon/scan/cvss.h"

struct vec {
        const char *what, *vector;
        int score10;
};

static void scores(void **state)
{
        static const struct vec v[] = {
            /* FIRST, CVSS v3.1 Examples. */
            {"CVE-2013-1937 phpMyAdmin XSS", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 61},
            {"CVE-2013-0375 MySQL", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 64},
            {"CVE-2014-3566 POODLE", "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 31},
            {"CVE-2012-1516 VMware", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 99},
            {"CVE-2009-0783 Tomcat", "CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L", 42},
            {"CVE-2012-0384 Cisco IOS", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 88},
            {"CVE-2015-1098 iWork", "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 78},
            {"CVE-2014-0160 Heartbleed", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 75},
            {"CVE-2014-6271 Shellshock", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 98},
            {"CVE-2008-1447 DNS", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:N/I:H/A:N", 68},
            {"CVE-2014-2005 Sophos", "CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 68},
            {"CVE-2010-0467 Joomla", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N", 58},
            /* NVD-published vectors and scores. */
            {"CVE-2021-44228 Log4Shell", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 100},
            {"CVE-2023-4863 libwebp", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 88},
            {"CVE-2021-3156 sudo", "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 78},
            {"CVE-2022-0778 openssl", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 75},
            {"CVE-2016-5195 Dirty COW (3.0)", "CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 78},
            {"CVE-2017-5638 Struts (3.0)", "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 98},
            {"no impact", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0},
            {"lowest", "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 16},
            {"temporal ignored", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C", 98},
            {"metrics in any order", "CVSS:3.1/S:U/AV:N/AC:L/PR:N/UI:N/C:H/I:H/A:H", 98},
        };
        int bad = 0;
        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
                int s = -1;
                int r = cms_cvss3_base(v[i].vector, &s);
                if (r != 0 || s != v[i].score10) {
                        printf("%s: %s: want %d, got %d (r %d)\n", v[i].what, v[i].vector,
                               v[i].score10, s, r);
                        bad++;
                }
        }
        assert_int_equal(bad, 0);
}

static void malformed(void **state)
{
        static const char *const bad[] = {
            "",
            "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:2.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/A:H",
            "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:HH",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int s = -1;
                if (cms_cvss3_base(bad[i], &s) != -EINVAL)
                        fail_msg("accepted: '%s'", bad[i]);
        }
}

static void severity(void **state)
{
        assert_int_equal(cms_severity_of_score(0), CMS_SEV_LOW);
        assert_int_equal(cms_severity_of_score(1), CMS_SEV_LOW);
        assert_int_equal(cms_severity_of_score(39), CMS_SEV_LOW);
        assert_int_equal(cms_severity_of_score(40), CMS_SEV_MEDIUM);
        assert_int_equal(cms_severity_of_score(69), CMS_SEV_MEDIUM);
        assert_int_equal(cms_severity_of_score(70), CMS_SEV_HIGH);
        assert_int_equal(cms_severity_of_score(89), CMS_SEV_HIGH);
        assert_int_equal(cms_severity_of_score(90), CMS_SEV_CRITICAL);
        assert_int_equal(cms_severity_of_score(100), CMS_SEV_CRITICAL);
        assert_string_equal(cms_severity_name(CMS_SEV_CRITICAL), "CRITICAL");
        assert_string_equal(cms_severity_name(CMS_SEV_UNKNOWN), "UNKNOWN");
        assert_int_equal(cms_severity_parse("high"), CMS_SEV_HIGH);
        assert_int_equal(cms_severity_parse("Moderate"), CMS_SEV_MEDIUM);
        assert_int_equal(cms_severity_parse("unimportant"), CMS_SEV_UNKNOWN);
        assert_int_equal(cms_severity_parse(NULL), CMS_SEV_UNKNOWN);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(scores),
            cmocka_unit_test(malformed),
            cmocka_unit_test(severity),
        };
        return cmocka_run_group_tests_name("scan_cvss", tests, NULL, NULL);
}
