/* The small parsers of the container model that managers and handlers reuse on their own:
 * container names, image references (the distribution reference grammar, loosely), signal names
 * and numbers (for kill), restart policies. */
#define CMS_CONTAINER_MODEL_INTERNAL
#include "model.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <signal.h>

bool cms_container_name_valid(const char *name)
{
        if (!name || !isalnum((unsigned char)name[0]) || strlen(name) > 255)
                return false;
        for (const char *p = name; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
                        return false;
        return true;
}

/* [a-z0-9]+ joined by ".", "_", "__" or runs of "-" (the distribution path-component rule). */
static bool path_component_valid(const char *s, size_t n)
{
        size_t i = 0;
        while (i < n) {
                if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]))
                        return false;
                while (i < n && (islower((unsigned char)s[i]) || isdigit((unsigned char)s[i])))
                        i++;
                if (i == n)
                        return true;
                size_t sep = i;
                while (i < n && (s[i] == '.' || s[i] == '_' || s[i] == '-'))
                        i++;
                size_t sl = i - sep;
                bool dashes = strspn(s + sep, "-") >= sl;
                if (!(sl == 1 || (sl == 2 && !strncmp(s + sep, "__", 2)) || dashes) || i == n)
                        return false;
        }
        return n > 0;
}

/* host[:port], host being dot-separated alphanumeric labels (dashes inside) or [IPv6]. */
static bool domain_valid(const char *s, size_t n)
{
        const char *colon = NULL;
        if (n && s[0] == '[') {
                const char *close = memchr(s, ']', n);
                if (!close || close - s > 46)
                        return false;
                char ip[48];
                memcpy(ip, s + 1, (size_t)(close - s - 1));
                ip[close - s - 1] = 0;
                int fam;
                if (!cms_cm_ip_valid(ip, &fam) || fam != AF_INET6)
                        return false;
                colon = close + 1 < s + n ? close + 1 : NULL;
                if (colon && *colon != ':')
                        return false;
        } else {
                colon = memchr(s, ':', n);
                size_t hl = colon ? (size_t)(colon - s) : n, label = 0;
                if (hl == 0)
                        return false;
                for (size_t i = 0; i <= hl; i++) {
                        if (i == hl || s[i] == '.') {
                                if (label == 0 || s[i - 1] == '-')
                                        return false;
                                label = 0;
                        } else if (isalnum((unsigned char)s[i]) || (s[i] == '-' && label > 0)) {
                                label++;
                        } else {
                                return false;
                        }
                }
        }
        if (colon) {
                size_t pl = (size_t)(s + n - colon - 1);
                if (pl == 0 || pl > 5 || strspn(colon + 1, "0123456789") < pl)
                        return false;
        }
        return true;
}

static bool digest_valid(const char *d)
{
        const char *colon = strchr(d, ':');
        if (!colon || colon == d || strlen(colon + 1) < 32)
                return false;
        for (const char *p = d; p < colon; p++)
                if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
                    !strchr("+._-", *p))
                        return false;
        return strspn(colon + 1, "0123456789abcdefABCDEF") == strlen(colon + 1);
}

bool cms_image_ref_valid(const char *ref)
{
        if (!ref || !*ref || strlen(ref) > 1024)
                return false;
        const char *at = strchr(ref, '@');
        if (at && !digest_valid(at + 1))
                return false;
        size_t n = at ? (size_t)(at - ref) : strlen(ref);
        const char *slash = NULL;
        for (size_t i = 0; i < n; i++)
                if (ref[i] == '/')
                        slash = ref + i;
        const char *colon =
            memchr(slash ? slash : ref, ':', n - (size_t)((slash ? slash : ref) - ref));
        if (colon) {
                size_t tl = n - (size_t)(colon + 1 - ref);
                if (tl == 0 || tl > 128 || colon[1] == '.' || colon[1] == '-')
                        return false;
                for (size_t i = 0; i < tl; i++)
                        if (!isalnum((unsigned char)colon[1 + i]) && !strchr("_.-", colon[1 + i]))
                                return false;
                n = (size_t)(colon - ref);
        }
        if (n == 0 || n > 255)
                return false;
        /* The first component is a registry host when it looks like one (as docker decides). */
        const char *p = ref, *end = ref + n;
        const char *first_end = memchr(p, '/', n);
        if (first_end) {
                size_t fl = (size_t)(first_end - p);
                bool is_domain = memchr(p, '.', fl) || memchr(p, ':', fl) ||
                                 (fl == 9 && !strncmp(p, "localhost", 9)) || p[0] == '[';
                for (size_t i = 0; i < fl && !is_domain; i++)
                        is_domain = isupper((unsigned char)p[i]);
                if (is_domain) {
                        if (!domain_valid(p, fl))
                                return false;
                        p = first_end + 1;
                }
        }
        while (p < end) {
                const char *q = memchr(p, '/', (size_t)(end - p));
                size_t cl = q ? (size_t)(q - p) : (size_t)(end - p);
                if (!path_component_valid(p, cl))
                        return false;
                if (!q)
                        break;
                p = q + 1;
                if (p == end)
                        return false;
        }
        return true;
}

static const struct {
        const char *name; /* without "SIG" */
        int num;
} signals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT},   {"IOT", SIGIOT},   {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL},   {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE},   {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CLD", SIGCHLD},  {"CONT", SIGCONT},
    {"STOP", SIGSTOP},     {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
    {"URG", SIGURG},       {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},     {"WINCH", SIGWINCH}, {"IO", SIGIO},     {"POLL", SIGPOLL},
    {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

/* Real-time signals 34..64 as `kill -l` names them (glibc keeps 32 and 33 for itself). */
#define CMS_SIGRTMIN 34
#define CMS_SIGRTMAX 64
static const char *const rt_names[] = {
    "SIGRTMIN",    "SIGRTMIN+1",  "SIGRTMIN+2",  "SIGRTMIN+3",  "SIGRTMIN+4",  "SIGRTMIN+5",
    "SIGRTMIN+6",  "SIGRTMIN+7",  "SIGRTMIN+8",  "SIGRTMIN+9",  "SIGRTMIN+10", "SIGRTMIN+11",
    "SIGRTMIN+12", "SIGRTMIN+13", "SIGRTMIN+14", "SIGRTMIN+15", "SIGRTMAX-14", "SIGRTMAX-13",
    "SIGRTMAX-12", "SIGRTMAX-11", "SIGRTMAX-10", "SIGRTMAX-9",  "SIGRTMAX-8",  "SIGRTMAX-7",
    "SIGRTMAX-6",  "SIGRTMAX-5",  "SIGRTMAX-4",  "SIGRTMAX-3",  "SIGRTMAX-2",  "SIGRTMAX-1",
    "SIGRTMAX",
};

static const char *signal_canonical(int num)
{
        static const char *const std_names[] = {
            NULL,       "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",  "SIGTRAP",   "SIGABRT",
            "SIGBUS",   "SIGFPE",  "SIGKILL",   "SIGUSR1", "SIGSEGV", "SIGUSR2",   "SIGPIPE",
            "SIGALRM",  "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP",   "SIGTSTP",
            "SIGTTIN",  "SIGTTOU", "SIGURG",    "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF",
            "SIGWINCH", "SIGIO",   "SIGPWR",    "SIGSYS",
        };
        if (num > 0 && num < (int)ELEMENTSOF(std_names))
                return std_names[num];
        if (num >= CMS_SIGRTMIN && num <= CMS_SIGRTMAX)
                return rt_names[num - CMS_SIGRTMIN];
        return NULL;
}

/* "RTMIN", "RTMIN+n", "RTMAX", "RTMAX-n" (already without "SIG") -> number, or 0. */
static int signal_rt(const char *s)
{
        int64_t off = 0;
        if (!strncasecmp(s, "RTMIN", 5)) {
                if (s[5] && (s[5] != '+' || cms_parse_int(s + 6, 0, 30, &off) < 0))
                        return 0;
                return CMS_SIGRTMIN + (int)off;
        }
        if (!strncasecmp(s, "RTMAX", 5)) {
                if (s[5] && (s[5] != '-' || cms_parse_int(s + 6, 0, 30, &off) < 0))
                        return 0;
                return CMS_SIGRTMAX - (int)off;
        }
        return 0;
}

int cms_signal_parse(const char *s, int *signum, const char **name)
{
        int num = 0;
        int64_t v;
        if (!s || !*s || strlen(s) > 32)
                return -EINVAL;
        if (isdigit((unsigned char)s[0])) {
                if (cms_parse_int(s, 1, CMS_SIGRTMAX, &v) < 0)
                        return -EINVAL;
                num = (int)v;
        } else {
                const char *bare = strncasecmp(s, "SIG", 3) ? s : s + 3;
                for (size_t i = 0; i < ELEMENTSOF(signals) && !num; i++)
                        if (!strcasecmp(bare, signals[i].name))
                                num = signals[i].num;
                if (!num)
                        num = signal_rt(bare);
        }
        const char *canon = signal_canonical(num);
        if (!canon)
                return -EINVAL;
        if (signum)
                *signum = num;
        if (name)
                *name = canon;
        return 0;
}

int cms_restart_policy_parse(const char *s, char **name, int *max_retry)
{
        static const char *const plain[] = {"no", "always", "unless-stopped", "on-failure"};
        int64_t retry = 0;
        const char *base = NULL;
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(plain) && !base; i++)
                if (!strcmp(s, plain[i]))
                        base = plain[i];
        if (!base && cms_str_has_prefix(s, "on-failure:")) {
                if (cms_parse_int(s + strlen("on-failure:"), 0, INT_MAX, &retry) < 0)
                        return -EINVAL;
                base = "on-failure";
        }
        if (!base)
                return -EINVAL;
        if (name) {
                *name = strdup(base);
                if (!*name)
                        return -ENOMEM;
        }
        if (max_retry)
                *max_retry = (int)retry;
        return 0;
}
