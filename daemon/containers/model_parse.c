/* The small parsers of the container model that managers and handlers reuse on their own: signal
 * names and numbers (for kill), restart policies. Names and image references are
 * images/reference.c's. */
#define CMS_CONTAINER_MODEL_INTERNAL
#include "model.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <signal.h>

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
