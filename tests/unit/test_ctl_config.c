/* Unit tests for cmsctl's config file (client/config.c): a good file filling what the options
 * and the env left unset (and only that), the context named or the current one, an unknown
 * context, the modes rule, malformed YAML and unknown keys reported with their line, the size
 * bound, and `context add|use|rm` writing a file the reader reads back, atomically (no temporary
 * file left, mode 0600, directories 0700). Each test works in its own temporary directory, the
 * file named by CMSCTL_CONFIG. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "client/cmd.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256], path[300];

static int setup(void **state)
{
        snprintf(dir, sizeof(dir), "/tmp/cmsctl-config-test.XXXXXX");
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/cfg/config.yaml", dir);
        setenv("CMSCTL_CONFIG", path, 1);
        return 0;
}

static int teardown(void **state)
{
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *p, const char *text, mode_t mode)
{
        char d[300];
        snprintf(d, sizeof(d), "%s/cfg", dir);
        mkdir(d, 0700);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
        assert_int_equal(chmod(p, mode), 0);
}

/* fn's stderr, as a string (malloc'd); *rc its result. */
static char *stderr_of(int (*fn)(void *), void *arg, int *rc)
{
        char tmp[300];
        snprintf(tmp, sizeof(tmp), "%s/stderr", dir);
        fflush(stderr);
        int saved = dup(2), fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 2);
        close(fd);
        *rc = fn(arg);
        fflush(stderr);
        dup2(saved, 2);
        close(saved);
        FILE *f = fopen(tmp, "r");
        char *s = calloc(1, 4096);
        fread(s, 1, 4095, f);
        fclose(f);
        unlink(tmp);
        return s;
}

static int apply(void *c)
{
        return ctl_config_apply(c);
}

/* cmsctl context ARGS... (argv NULL-terminated); stdout goes to a file in dir. */
static int context(void *argv)
{
        char **v = argv, out[300];
        int n = 0;
        while (v[n])
                n++;
        snprintf(out, sizeof(out), "%s/stdout", dir);
        struct ctl c = {0};
        fflush(stdout);
        int saved = dup(1), fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 1);
        close(fd);
        int r = ctl_dispatch(&c, ctl_context_cmds, "context", n, v);
        fflush(stdout);
        dup2(saved, 1);
        close(saved);
        return r;
}

static const char good[] = "# a comment\n"
                           "current-context: prod\n"
                           "contexts:\n"
                           "  - name: prod\n"
                           "    url: https://cms.example:8443\n"
                           "    token: tok-prod\n"
                           "    cacert: /etc/ca.pem\n"
                           "    cert: /etc/c.pem\n"
                           "    key: /etc/k.pem\n"
                           "  - name: local\n"
                           "    url: unix:/run/cmsd/cmsd.sock\n";

static void test_good_file_fills_what_is_unset(void **state)
{
        write_file(path, good, 0600);
        struct ctl c = {0};
        assert_int_equal(ctl_config_apply(&c), CTL_OK);
        assert_string_equal(c.url, "https://cms.example:8443");
        assert_string_equal(c.token, "tok-prod");
        assert_string_equal(c.cacert, "/etc/ca.pem");
        assert_string_equal(c.cert, "/etc/c.pem");
        assert_string_equal(c.key, "/etc/k.pem");
        free(c.token);
        /* a flag or the env already set: kept */
        struct ctl d = {.url = "https://cms.example:8443/", .cacert = "/mine.pem"};
        d.token = strdup("from-env");
        assert_int_equal(ctl_config_apply(&d), CTL_OK);
        assert_string_equal(d.url, "https://cms.example:8443/");
        assert_string_equal(d.token, "from-env");
        assert_string_equal(d.cacert, "/mine.pem");
        assert_string_equal(d.key, "/etc/k.pem");
        free(d.token);
        /* another server named: the context's token and TLS files are not sent there */
        struct ctl e = {.url = "http://elsewhere:8080"};
        assert_int_equal(ctl_config_apply(&e), CTL_OK);
        assert_string_equal(e.url, "http://elsewhere:8080");
        assert_null(e.token);
        assert_null(e.cacert);
        /* the context named explicitly wins over the current one */
        struct ctl l = {.context = "local"};
        assert_int_equal(ctl_config_apply(&l), CTL_OK);
        assert_string_equal(l.url, "unix:/run/cmsd/cmsd.sock");
        assert_null(l.token);
        assert_null(l.cacert);
}

static void test_no_file_and_unknown_context(void **state)
{
        struct ctl c = {0};
        assert_int_equal(ctl_config_apply(&c), CTL_OK); /* no file: nothing filled */
        assert_null(c.url);
        int rc;
        struct ctl n = {.context = "nope"};
        char *err = stderr_of(apply, &n, &rc); /* named explicitly: an error, no file or not */
        assert_int_equal(rc, CTL_USAGE);
        assert_non_null(strstr(err, "'nope'"));
        free(err);
        write_file(path, good, 0600);
        err = stderr_of(apply, &n, &rc);
        assert_int_equal(rc, CTL_USAGE);
        assert_non_null(strstr(err, path));
        free(err);
        /* a current-context naming nothing: an error with its line */
        write_file(path, "contexts: []\ncurrent-context: gone\n", 0600);
        struct ctl g = {0};
        err = stderr_of(apply, &g, &rc);
        assert_int_equal(rc, CTL_USAGE);
        char want[400];
        snprintf(want, sizeof(want), "%s:2:", path);
        assert_non_null(strstr(err, want));
        free(err);
}

/* The error apply prints for text written with mode, or NULL when it passes. */
static char *apply_error(const char *text, mode_t mode)
{
        int rc;
        struct ctl c = {.url = "http://x"}; /* nothing to send anywhere */
        write_file(path, text, mode);
        char *err = stderr_of(apply, &c, &rc);
        if (rc == CTL_OK) {
                assert_string_equal(err, "");
                free(err);
                return NULL;
        }
        assert_int_equal(rc, CTL_USAGE);
        assert_non_null(strstr(err, path)); /* every error names the file */
        return err;
}

static void test_modes(void **state)
{
        static const char no_token[] = "contexts:\n  - name: a\n    url: http://a:1\n";
        char *err = apply_error(good, 0640); /* an inline token, group-readable */
        assert_non_null(err);
        assert_non_null(strstr(err, "chmod 600"));
        assert_non_null(strstr(err, "0640"));
        free(err);
        assert_non_null((err = apply_error(good, 0604)));
        free(err);
        assert_null(apply_error(good, 0600));
        assert_null(apply_error(good, 0400));
        assert_null(apply_error(no_token, 0644));             /* no token: readable is fine */
        assert_non_null((err = apply_error(no_token, 0664))); /* writable by the group: never */
        assert_non_null(strstr(err, "chmod 600"));
        free(err);
        assert_non_null((err = apply_error(no_token, 0602)));
        free(err);
}

static void test_malformed_and_unknown_keys(void **state)
{
        char want[400], *err;
        err = apply_error("contexts:\n  - name: a\n    url: [http://a\n  - name: b\n", 0600);
        assert_non_null(err);
        assert_non_null(strstr(err, "malformed YAML"));
        snprintf(want, sizeof(want), "%s:4:", path); /* where libyaml saw the flow unclosed */
        assert_non_null(strstr(err, want));
        free(err);
        err = apply_error("contexts:\n  - name: a\n    url: http://a:1\n    cacrt: /x\n", 0600);
        assert_non_null(err);
        snprintf(want, sizeof(want), "%s:4: unknown key 'cacrt'", path);
        assert_non_null(strstr(err, want));
        free(err);
        err = apply_error("current-context: a\ncontext:\n  - name: a\n", 0600);
        snprintf(want, sizeof(want), "%s:2: unknown key 'context'", path);
        assert_non_null(strstr(err, want));
        free(err);
        err = apply_error("contexts:\n  - name: a\n    url: ftp://a\n", 0600);
        snprintf(want, sizeof(want), "%s:3: url:", path);
        assert_non_null(strstr(err, want));
        free(err);
        err = apply_error("contexts:\n  - {name: a, url: 'http://a'}\n  - {name: a, url: "
                          "'http://b'}\n",
                          0600);
        assert_non_null(strstr(err, "given twice"));
        free(err);
        err =
            apply_error("contexts:\n  - name: a\n    url: http://a\n    token: \"x\\ny\"\n", 0600);
        assert_non_null(strstr(err, "token:")); /* a newline would split the HTTP header */
        free(err);
        /* over 1 MiB: refused before parsing */
        char *big = malloc(1024 * 1024 + 100);
        memset(big, '#', 1024 * 1024 + 99);
        big[1024 * 1024 + 99] = 0;
        assert_non_null((err = apply_error(big, 0600)));
        assert_non_null(strstr(err, "1 MiB"));
        free(err);
        free(big);
}

static void test_writes_read_back(void **state)
{
        char tokf[300], text[4096], *err;
        int rc;
        snprintf(tokf, sizeof(tokf), "%s/prod.token", dir);
        write_file(tokf, "tok-from-file\n", 0600);
        char *add1[] = {"add",      "prod", "--url", "https://p:8443", "--token-file", tokf,
                        "--cacert", tokf,   NULL};
        assert_int_equal(context(add1), CTL_OK);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        snprintf(text, sizeof(text), "%s/cfg", dir);
        assert_int_equal(stat(text, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700); /* made for the file */
        /* a token from stdin, with characters YAML would take otherwise, kept inline */
        snprintf(text, sizeof(text), "%s/stdin", dir);
        write_file(text, "a\"b\\c:#d'e\n", 0600);
        int saved = dup(0), fd = open(text, O_RDONLY);
        dup2(fd, 0);
        close(fd);
        char *add2[] = {"add", "odd", "--url", "unix:/run/x y.sock", "--token-stdin", NULL};
        assert_int_equal(context(add2), CTL_OK);
        dup2(saved, 0);
        close(saved);
        char *use[] = {"use", "odd", NULL};
        assert_int_equal(context(use), CTL_OK);
        struct ctl c = {0};
        assert_int_equal(ctl_config_apply(&c), CTL_OK);
        assert_string_equal(c.url, "unix:/run/x y.sock");
        assert_string_equal(c.token, "a\"b\\c:#d'e");
        free(c.token);
        struct ctl p = {.context = "prod"};
        assert_int_equal(ctl_config_apply(&p), CTL_OK); /* the other context is still there */
        assert_string_equal(p.url, "https://p:8443");
        assert_string_equal(p.token, "tok-from-file");
        assert_string_equal(p.cacert, tokf);
        free(p.token);
        /* no temporary file left beside it */
        snprintf(text, sizeof(text), "%s/cfg", dir);
        DIR *d = opendir(text);
        int n = 0;
        for (struct dirent *e; (e = readdir(d));)
                if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                        assert_string_equal(e->d_name, "config.yaml"), n++;
        closedir(d);
        assert_int_equal(n, 1);
        /* adding a name twice, or a token as an argument: refused, the file unchanged */
        err = stderr_of(context, add1, &rc);
        assert_int_equal(rc, CTL_USAGE);
        assert_non_null(strstr(err, "exists"));
        free(err);
        char *tok[] = {"add", "x", "--url", "http://x", "--token", "secret", NULL};
        err = stderr_of(context, tok, &rc);
        assert_int_equal(rc, CTL_USAGE);
        free(err);
        FILE *f = fopen(path, "r");
        text[fread(text, 1, sizeof(text) - 1, f)] = 0;
        fclose(f);
        assert_null(strstr(text, "secret"));
        assert_null(strstr(text, "name: \"x\""));
}

static void test_rm_current_context(void **state)
{
        write_file(path, good, 0600);
        char *rm[] = {"rm", "prod", NULL}, *rm_again[] = {"rm", "prod", NULL};
        assert_int_equal(context(rm), CTL_OK);
        struct ctl c = {0};
        assert_int_equal(ctl_config_apply(&c), CTL_OK); /* no current context: nothing */
        assert_null(c.url);
        struct ctl l = {.context = "local"}; /* the other one kept */
        assert_int_equal(ctl_config_apply(&l), CTL_OK);
        assert_string_equal(l.url, "unix:/run/cmsd/cmsd.sock");
        int rc;
        char *err = stderr_of(context, rm_again, &rc);
        assert_int_equal(rc, CTL_USAGE);
        assert_non_null(strstr(err, "'prod'"));
        free(err);
        char *use[] = {"use", "prod", NULL};
        err = stderr_of(context, use, &rc);
        assert_int_equal(rc, CTL_USAGE);
        free(err);
}

static void test_ls_and_show_mask_the_token(void **state)
{
        char out[300], text[2048];
        write_file(path, good, 0600);
        char *ls[] = {"ls", NULL}, *show[] = {"show", NULL};
        snprintf(out, sizeof(out), "%s/stdout", dir);
        assert_int_equal(context(ls), CTL_OK);
        FILE *f = fopen(out, "r");
        text[fread(text, 1, sizeof(text) - 1, f)] = 0;
        fclose(f);
        assert_non_null(strstr(text, "NAME"));
        assert_non_null(strstr(text, "prod   https://cms.example:8443  *"));
        assert_int_equal(context(show), CTL_OK);
        f = fopen(out, "r");
        text[fread(text, 1, sizeof(text) - 1, f)] = 0;
        fclose(f);
        assert_non_null(strstr(text, "name: prod\n"));
        assert_non_null(strstr(text, "token: ********"));
        assert_null(strstr(text, "tok-prod"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_good_file_fills_what_is_unset, setup, teardown),
            cmocka_unit_test_setup_teardown(test_no_file_and_unknown_context, setup, teardown),
            cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
            cmocka_unit_test_setup_teardown(test_malformed_and_unknown_keys, setup, teardown),
            cmocka_unit_test_setup_teardown(test_writes_read_back, setup, teardown),
            cmocka_unit_test_setup_teardown(test_rm_current_context, setup, teardown),
            cmocka_unit_test_setup_teardown(test_ls_and_show_mask_the_token, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
