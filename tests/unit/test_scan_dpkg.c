/* The Debian comparator (daemon/scan/ver_deb.c) against the real thing: generated pairs of
 * versions from an alphabet rich in '~', '+', '.', '-', ':', digits and letters, each asked of
 * `dpkg --compare-versions` (one process per pair, many at once), and all of them, plus many
 * more, of python3-apt's apt_pkg.version_compare (apt's implementation of the same algorithm,
 * in one process) through tests/scan/apt_cmp.py. Every disagreement is printed and fails.
 *
 * CMS_DPKG_PAIRS (default 3000) pairs go to dpkg, CMS_APT_PAIRS (default 125000, of which over
 * 100,000 are valid) to apt_pkg; the full run against dpkg itself is CMS_DPKG_PAIRS=100000 (about a
 * minute on two cores). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/scan/version.h"

extern char **environ;

#define VMAX 24

struct pair {
        char a[VMAX], b[VMAX];
        int mine; /* sign of cms_ver_cmp_deb */
        bool bad; /* cms_ver_check_deb refuses a or b */
        bool apt_differs;
        int theirs; /* exit status, or the sign apt_pkg gave */
};

static uint64_t rs = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
        rs ^= rs << 13;
        rs ^= rs >> 7;
        rs ^= rs << 17;
        return (uint32_t)(rs % n);
}

static char rchar(void)
{
        static const char pool[] = "~~~~++..--:0001123456789abzAZ~+.-.";
        return pool[rnd(sizeof(pool) - 1)];
}

/* A version: often an epoch, digits first usually, then a mix that stresses every rule. */
static void gen(char *v)
{
        size_t n = 0;
        if (rnd(5) == 0)
                n += (size_t)snprintf(v, VMAX, "%u:", rnd(4) == 0 ? rnd(100) : rnd(3));
        if (rnd(6) != 0)
                v[n++] = (char)('0' + rnd(10));
        size_t len = 1 + rnd(10);
        for (size_t i = 0; i < len && n < VMAX - 1; i++)
                v[n++] = rnd(3) == 0 ? (char)('0' + rnd(10)) : rchar();
        v[n] = 0;
}

/* b close to a (one edit), so that long common prefixes are common. */
static void mutate(const char *a, char *b)
{
        size_t n = strlen(a);
        memcpy(b, a, n + 1);
        size_t at = rnd((uint32_t)n + 1);
        switch (rnd(3)) {
        case 0:
                if (at < n)
                        b[at] = rchar();
                break;
        case 1:
                if (n < VMAX - 1) {
                        memmove(b + at + 1, b + at, n - at + 1);
                        b[at] = rnd(2) ? rchar() : (char)('0' + rnd(10));
                }
                break;
        default:
                if (at < n)
                        memmove(b + at, b + at + 1, n - at);
        }
}

/* dpkg --compare-versions takes "" as "no version" (before every version), not an error. */
static bool refused(const char *v)
{
        return *v && cms_ver_check_deb(v);
}

/* Where apt's reading differs from dpkg's (both outside Debian's syntax): apt takes the epoch
 * as a version fragment ("+1" is not 1) and "" as an ordinary string (dpkg: no version). */
static bool apt_differs(const char *v)
{
        return !*v || ((v[0] == '+' || v[0] == '-') && strchr(v, ':'));
}

static struct pair *make_pairs(size_t n)
{
        struct pair *p = calloc(n, sizeof(*p));
        assert_non_null(p);
        for (size_t i = 0; i < n; i++) {
                /* dpkg would read a first argument "-..." as an option. */
                do {
                        gen(p[i].a);
                        if (rnd(2))
                                mutate(p[i].a, p[i].b);
                        else
                                gen(p[i].b);
                } while (p[i].a[0] == '-');
                int c = cms_ver_cmp_deb(p[i].a, p[i].b);
                p[i].mine = c < 0 ? -1 : c > 0;
                p[i].bad = refused(p[i].a) || refused(p[i].b);
                p[i].apt_differs = apt_differs(p[i].a) || apt_differs(p[i].b);
        }
        return p;
}

static size_t env_count(const char *name, size_t def)
{
        const char *s = getenv(name);
        return s && *s ? (size_t)strtoul(s, NULL, 10) : def;
}

static pid_t spawn_dpkg(const struct pair *p, posix_spawn_file_actions_t *fa)
{
        /* Ask the relation cms predicts: exit 0 confirms it, 1 refutes it, 2 is a refusal. */
        char *op = p->mine < 0 ? "lt" : p->mine > 0 ? "gt" : "eq";
        char *argv[] = {"dpkg", "--compare-versions", (char *)p->a, op, (char *)p->b, NULL};
        pid_t pid;
        int r = posix_spawn(&pid, "/usr/bin/dpkg", fa, NULL, argv, environ);
        assert_int_equal(r, 0);
        return pid;
}

static size_t check_dpkg(struct pair *p, size_t n)
{
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        size_t par = cpus > 0 ? (size_t)cpus * 3 : 4, next = 0, running = 0, bad = 0;
        pid_t *pids = calloc(n, sizeof(*pids));
        assert_non_null(pids);
        while (next < n || running > 0) {
                while (next < n && running < par) {
                        pids[next] = spawn_dpkg(&p[next], &fa);
                        next++;
                        running++;
                }
                int st;
                pid_t pid = wait(&st);
                assert_true(pid > 0);
                running--;
                size_t i = 0;
                for (i = next; i-- > 0;) /* recent ones first: few are in flight */
                        if (pids[i] == pid)
                                break;
                assert_true(WIFEXITED(st));
                int rc = WEXITSTATUS(st);
                bool ok = p[i].bad ? rc == 2 : rc == 0;
                if (!ok) {
                        bad++;
                        printf("dpkg disagrees: '%s' vs '%s': cms %d%s, dpkg exit %d\n", p[i].a,
                               p[i].b, p[i].mine, p[i].bad ? " (refused)" : "", rc);
                }
        }
        free(pids);
        posix_spawn_file_actions_destroy(&fa);
        return bad;
}

static void against_dpkg(void **state)
{
        size_t n = env_count("CMS_DPKG_PAIRS", 3000), refused = 0;
        struct pair *p = make_pairs(n);
        for (size_t i = 0; i < n; i++)
                refused += p[i].bad;
        size_t bad = check_dpkg(p, n);
        printf("dpkg --compare-versions: %zu pairs (%zu with a version dpkg refuses), "
               "%zu disagreements\n",
               n, refused, bad);
        free(p);
        assert_int_equal(bad, 0);
}

/* Writes the valid pairs to a file, lets apt_pkg compare them all, reads the signs back. */
static void against_apt(void **state)
{
        size_t n = env_count("CMS_APT_PAIRS", 125000), asked = 0, bad = 0;
        struct pair *p = make_pairs(n);
        char in[] = "/tmp/cms-apt-in-XXXXXX", out[] = "/tmp/cms-apt-out-XXXXXX";
        int fi = mkstemp(in), fo = mkstemp(out);
        assert_true(fi >= 0 && fo >= 0);
        FILE *f = fdopen(fi, "w");
        for (size_t i = 0; i < n; i++)
                if (!p[i].bad && !p[i].apt_differs) {
                        fprintf(f, "%s\t%s\n", p[i].a, p[i].b);
                        asked++;
                }
        fclose(f);
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "/usr/bin/python3 tests/scan/apt_cmp.py < %s > %s", in, out);
        assert_int_equal(system(cmd), 0);
        FILE *g = fdopen(fo, "r");
        size_t got = 0;
        for (size_t i = 0; i < n; i++) {
                if (p[i].bad || p[i].apt_differs)
                        continue;
                int s;
                assert_int_equal(fscanf(g, "%d", &s), 1);
                got++;
                if (s != p[i].mine) {
                        bad++;
                        printf("apt_pkg disagrees: '%s' vs '%s': cms %d, apt %d\n", p[i].a, p[i].b,
                               p[i].mine, s);
                }
        }
        fclose(g);
        unlink(in);
        unlink(out);
        printf("apt_pkg.version_compare: %zu pairs, %zu disagreements\n", got, bad);
        free(p);
        assert_int_equal(got, asked);
        assert_true(asked > n / 2);
        assert_int_equal(bad, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(against_dpkg),
            cmocka_unit_test(against_apt),
        };
        return cmocka_run_group_tests_name("scan_dpkg", tests, NULL, NULL);
}
