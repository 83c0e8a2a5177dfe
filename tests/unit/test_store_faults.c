/* Unit tests for what a full disk does to cmsd's writers (daemon/security/audit.c,
 * daemon/util.c's atomic file writer). A file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored) stands
 * in for the full disk: write(2) takes part of the data, then fails, as on ENOSPC. After the
 * failure, with room again, the audit chain must still verify and a file written atomically must
 * be the old content or the new, never a part of the new. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/security/audit.h"
#include "daemon/util.h"

static char dir[64], path[128];

static int setup(void **state)
{
        snprintf(dir, sizeof(dir), "/tmp/cmsd-unit-full.XXXXXX");
        assert_non_null(mkdtemp(dir));
        signal(SIGXFSZ, SIG_IGN);
        return 0;
}

static int teardown(void **state)
{
        struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
        setrlimit(RLIMIT_FSIZE, &rl);
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
        return 0;
}

static void fsize_limit(rlim_t n)
{
        struct rlimit rl = {n, RLIM_INFINITY};
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

static int write_rec(struct cms_audit *a, int id)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "request_id", json_object_new_int(id));
        json_object_object_add(o, "route", json_object_new_string("container_create"));
        json_object_object_add(o, "status", json_object_new_int(201));
        return cms_audit_write(a, o);
}

static off_t size_of(const char *p)
{
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        return st.st_size;
}

/* A record the disk took only part of is not left in the file: the next one, written once there
 * is room, follows the last whole record and the chain verifies. */
static void test_audit_partial_write_cut(void **state)
{
        struct cms_audit *a = NULL;
        struct cms_error err = {0};
        assert_int_equal(cms_audit_open(dir, 1 << 20, 2, &a, &err), 0);
        snprintf(path, sizeof(path), "%s/audit.log", dir);
        for (int i = 1; i <= 3; i++)
                assert_int_equal(write_rec(a, i), 0);
        off_t before = size_of(path);
        fsize_limit((rlim_t)before + 40); /* room for part of the next line only */
        assert_true(write_rec(a, 4) < 0);
        assert_true(write_rec(a, 5) < 0);
        fsize_limit(RLIM_INFINITY);
        assert_int_equal(size_of(path), before);
        assert_int_equal(write_rec(a, 6), 0);
        cms_audit_close(a);
        char msg[600];
        int r = cms_audit_verify(path, msg, sizeof(msg));
        if (r != 0 || !strstr(msg, "4 records, chain intact"))
                fail_msg("verify: %d %s", r, msg);
        /* And the next start continues the same chain. */
        assert_int_equal(cms_audit_open(dir, 1 << 20, 2, &a, &err), 0);
        assert_int_equal(write_rec(a, 7), 0);
        cms_audit_close(a);
        r = cms_audit_verify(path, msg, sizeof(msg));
        if (r != 0 || !strstr(msg, "5 records, chain intact"))
                fail_msg("verify after reopen: %d %s", r, msg);
}

/* The atomic writer on a full disk: an error, the old content in place, no temporary left. */
static void test_atomic_write_full(void **state)
{
        snprintf(path, sizeof(path), "%s/state.json", dir);
        const char *old = "{\"v\":1}";
        assert_int_equal(cms_write_file_atomic(path, old, strlen(old), 0600), 0);
        char big[8192];
        memset(big, 'x', sizeof(big));
        fsize_limit(4096);
        int r = cms_write_file_atomic(path, big, sizeof(big), 0600);
        fsize_limit(RLIM_INFINITY);
        assert_true(r < 0);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        char got[64] = "";
        assert_non_null(fgets(got, sizeof(got), f));
        fclose(f);
        assert_string_equal(got, old);
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "ls -a '%s' | grep -q tmp", dir);
        assert_int_not_equal(system(cmd), 0);
        assert_int_equal(cms_write_file_atomic(path, big, sizeof(big), 0600), 0);
        assert_int_equal(size_of(path), (off_t)sizeof(big));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_audit_partial_write_cut, setup, teardown),
            cmocka_unit_test_setup_teardown(test_atomic_write_full, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
