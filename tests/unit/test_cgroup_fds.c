/* Unit tests for the files the cgroup readers keep open (daemon/monitor/cgroup.c): every handle
 * opened for a container is closed with it, whether the container is read many times, exits
 * between two rounds (its /proc entry and cgroup directory removed while the files are open) or
 * was never readable; counted in /proc/self/fd. Runs on copies of the fixture trees under
 * tests/unit/fixtures/cgroup (v1: Docker with cpu,cpuacct mounted together; v2: a systemd scope).
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/monitor/cgroup.h"

static char fixtures[512];

static int open_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        int n = 0;
        assert_non_null(d);
        for (struct dirent *de; (de = readdir(d));)
                n += de->d_name[0] != '.';
        closedir(d);
        return n - 1; /* the directory's own */
}

/* A scratch copy of fixture tree "v1" or "v2" in a temp dir; its path in out. */
static void copy_tree(const char *which, char *out, size_t n)
{
        char tmpl[] = "/tmp/cms-cgfds.XXXXXX", cmd[2048];
        assert_non_null(mkdtemp(tmpl));
        snprintf(out, n, "%s", tmpl);
        snprintf(cmd, sizeof(cmd), "cp -a '%s/%s/.' '%s/'", fixtures, which, out);
        assert_int_equal(system(cmd), 0);
}

static void remove_tree(const char *dir)
{
        char cmd[1024];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

/* One full round as the sampler does it: sample, network, extras. */
static int round_of(struct cms_cgroup *cg, const char *proc)
{
        struct cms_sample s;
        struct cms_netdev ifs[CMS_NET_MAX_IFACES];
        struct cms_ctr_extra x = {0};
        size_t n = 0;
        memset(&s, 0, sizeof(s));
        int r = cms_cgroup_read(cg, &s);
        cms_cgroup_read_net(cg, ifs, CMS_NET_MAX_IFACES, &n, &s);
        cms_cgroup_read_extra(cg, proc, &x);
        return r;
}

static void many_rounds_then_close(const char *which, int pid)
{
        char dir[512], sys[600], proc[600];
        copy_tree(which, dir, sizeof(dir));
        snprintf(sys, sizeof(sys), "%s/sys", dir);
        snprintf(proc, sizeof(proc), "%s/proc", dir);
        int before = open_fds();
        struct cms_cgroup *cg[20];
        for (int i = 0; i < 20; i++)
                assert_int_equal(cms_cgroup_open(sys, proc, pid, &cg[i]), 0);
        int held = open_fds() - before;
        /* The point of keeping files open: at least the hot ones, per container. */
        assert_true(held >= 20 * 6);
        for (int r = 0; r < 7; r++) /* past the slow and the extra rounds */
                for (int i = 0; i < 20; i++)
                        assert_int_equal(round_of(cg[i], proc), 0);
        assert_int_equal(open_fds() - before, held); /* reads open nothing that stays */
        for (int i = 0; i < 20; i++)
                cms_cgroup_close(cg[i]);
        assert_int_equal(open_fds(), before);
        remove_tree(dir);
}

static void v1_rounds(void **state)
{
        many_rounds_then_close("v1", 31137);
}

static void v2_rounds(void **state)
{
        many_rounds_then_close("v2", 4242);
}

/* The container exits between two rounds: its init's /proc entry and its cgroup directories go
 * while the files are open. The next rounds must not fail hard, and closing gives every
 * descriptor back. */
static void exits_between_rounds(void **state)
{
        static const struct {
                const char *tree;
                int pid;
                const char *cgdir;
        } cases[] = {
            {"v1", 31137, "sys/memory/docker"},
            {"v2", 4242, "sys/system.slice"},
        };
        for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
                char dir[512], sys[600], proc[600], gone[700];
                copy_tree(cases[k].tree, dir, sizeof(dir));
                snprintf(sys, sizeof(sys), "%s/sys", dir);
                snprintf(proc, sizeof(proc), "%s/proc", dir);
                int before = open_fds();
                struct cms_cgroup *cg = NULL;
                assert_int_equal(cms_cgroup_open(sys, proc, cases[k].pid, &cg), 0);
                assert_int_equal(round_of(cg, proc), 0);
                snprintf(gone, sizeof(gone), "%s/%d", proc, cases[k].pid);
                remove_tree(gone);
                snprintf(gone, sizeof(gone), "%s/%s", dir, cases[k].cgdir);
                remove_tree(gone);
                round_of(cg, proc); /* whatever it returns: no crash, nothing opened */
                assert_true(open_fds() > before);
                cms_cgroup_close(cg);
                assert_int_equal(open_fds(), before);
                /* And the reopen the sampler tries next finds nothing, leaking nothing. */
                assert_int_equal(cms_cgroup_open(sys, proc, cases[k].pid, &cg), -ENOENT);
                assert_int_equal(open_fds(), before);
                remove_tree(dir);
        }
}

int main(void)
{
        const char *slash = strrchr(__FILE__, '/');
        snprintf(fixtures, sizeof(fixtures), "%.*s/fixtures/cgroup",
                 slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(v1_rounds),
            cmocka_unit_test(v2_rounds),
            cmocka_unit_test(exits_between_rounds),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
