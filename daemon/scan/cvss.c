/* CVSS v3 base score, per the CVSS v3.1 specification section 7 (equations and metric values)
 * and Appendix A (Roundup defined on integers so that floating-point error cannot push a score
 * up a tenth); v3.0 vectors use v3.0's plain round-up to one decimal. The severity scale is
 * the specification's, except that a base score of 0.0 ("None") is reported as LOW: the record
 * still names the package as affected, and UNKNOWN is kept for "no usable severity". Pure. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "daemon/scan/cvss.h"

enum { M_AV, M_AC, M_PR, M_UI, M_S, M_C, M_I, M_A, M_BASE };

struct metric {
        const char *name, *values;
};

/* The base metrics and their values, in the order of the weights below. */
static const struct metric base[M_BASE] = {
    {"AV", "NALP"}, {"AC", "LH"}, {"PR", "NLH"}, {"UI", "NR"},
    {"S", "UC"},    {"C", "HLN"}, {"I", "HLN"},  {"A", "HLN"},
};

/* Temporal and environmental metrics: accepted, not part of the base score. */
static const struct metric other[] = {
    {"E", "XUPFH"}, {"RL", "XOTWU"},  {"RC", "XURC"}, {"CR", "XLMH"},  {"IR", "XLMH"},
    {"AR", "XLMH"}, {"MAV", "XNALP"}, {"MAC", "XLH"}, {"MPR", "XNLH"}, {"MUI", "XNR"},
    {"MS", "XUC"},  {"MC", "XNLH"},   {"MI", "XNLH"}, {"MA", "XNLH"},
};

static const double w_av[] = {0.85, 0.62, 0.55, 0.2}, w_ac[] = {0.77, 0.44},
                    w_pr_u[] = {0.85, 0.62, 0.27}, w_pr_c[] = {0.85, 0.68, 0.5},
                    w_ui[] = {0.85, 0.62}, w_cia[] = {0.56, 0.22, 0};

/* Appendix A: the smallest number of one decimal >= x, computed on integers. */
static int roundup31(double x)
{
        long i = lround(x * 100000.0);
        return i % 10000 == 0 ? (int)(i / 10000) : (int)(i / 10000) + 1;
}

static int roundup30(double x)
{
        return (int)ceil(x * 10.0 - 1e-9);
}

/* Reads one "K:V" into idx[] (base) or checks it against the other metrics. */
static int metric_read(const char *m, size_t n, int idx[M_BASE])
{
        const char *colon = memchr(m, ':', n);
        if (!colon || colon == m || (size_t)(m + n - colon) != 2)
                return -EINVAL;
        size_t kl = (size_t)(colon - m);
        char v = colon[1];
        for (int k = 0; k < M_BASE; k++)
                if (strlen(base[k].name) == kl && !memcmp(base[k].name, m, kl)) {
                        const char *at = strchr(base[k].values, v);
                        if (!v || !at || idx[k] >= 0)
                                return -EINVAL;
                        idx[k] = (int)(at - base[k].values);
                        return 0;
                }
        for (size_t k = 0; k < sizeof(other) / sizeof(other[0]); k++)
                if (strlen(other[k].name) == kl && !memcmp(other[k].name, m, kl))
                        return v && strchr(other[k].values, v) ? 0 : -EINVAL;
        return -EINVAL;
}

int cms_cvss3_base(const char *vector, int *score10)
{
        bool v31;
        if (!strncmp(vector, "CVSS:3.1/", 9))
                v31 = true;
        else if (!strncmp(vector, "CVSS:3.0/", 9))
                v31 = false;
        else
                return -EINVAL;
        int idx[M_BASE];
        for (int k = 0; k < M_BASE; k++)
                idx[k] = -1;
        for (const char *p = vector + 9;;) {
                const char *slash = strchr(p, '/');
                size_t n = slash ? (size_t)(slash - p) : strlen(p);
                if (metric_read(p, n, idx) < 0)
                        return -EINVAL;
                if (!slash)
                        break;
                p = slash + 1;
        }
        for (int k = 0; k < M_BASE; k++)
                if (idx[k] < 0)
                        return -EINVAL;
        bool changed = idx[M_S] == 1;
        double iss = 1 - (1 - w_cia[idx[M_C]]) * (1 - w_cia[idx[M_I]]) * (1 - w_cia[idx[M_A]]);
        double impact = changed ? 7.52 * (iss - 0.029) - 3.25 * pow(iss - 0.02, 15) : 6.42 * iss;
        double expl = 8.22 * w_av[idx[M_AV]] * w_ac[idx[M_AC]] *
                      (changed ? w_pr_c : w_pr_u)[idx[M_PR]] * w_ui[idx[M_UI]];
        if (impact <= 0) {
                *score10 = 0;
                return 0;
        }
        double raw = changed ? 1.08 * (impact + expl) : impact + expl;
        if (raw > 10)
                raw = 10;
        *score10 = v31 ? roundup31(raw) : roundup30(raw);
        return 0;
}

enum cms_severity cms_severity_of_score(int score10)
{
        if (score10 >= 90)
                return CMS_SEV_CRITICAL;
        if (score10 >= 70)
                return CMS_SEV_HIGH;
        if (score10 >= 40)
                return CMS_SEV_MEDIUM;
        return CMS_SEV_LOW;
}

static const char *const sev_names[] = {"UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"};

const char *cms_severity_name(enum cms_severity s)
{
        return (unsigned)s < sizeof(sev_names) / sizeof(sev_names[0]) ? sev_names[s] : "UNKNOWN";
}

enum cms_severity cms_severity_parse(const char *s)
{
        if (!s)
                return CMS_SEV_UNKNOWN;
        if (!strcasecmp(s, "MODERATE"))
                return CMS_SEV_MEDIUM;
        for (size_t i = 1; i < sizeof(sev_names) / sizeof(sev_names[0]); i++)
                if (!strcasecmp(s, sev_names[i]))
                        return (enum cms_severity)i;
        return CMS_SEV_UNKNOWN;
}
